# test/lib.sh -- shared set-up for test/run and demo/run (sourced, not run).
#
# Installs what is missing from Debian's packages, builds and installs the
# extension, and starts a throwaway PostgreSQL 15 cluster as the postgres OS
# user on its own port and socket directory, with
# shared_preload_libraries = 'introw_roles'.

set -euo pipefail

PGBIN=/usr/lib/postgresql/15/bin
INTROW_PORT=${INTROW_PORT:-54329}
INTROW_WORK=${INTROW_WORK:-/tmp/introw_roles.$INTROW_PORT}
PACKAGES="make gcc python3 postgresql-15 postgresql-server-dev-15 postgresql-15-pgtap
          libtap-parser-sourcehandler-pgtap-perl libcurl4-openssl-dev libipc-run-perl valgrind"

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_packages() {
    local missing=""
    for p in $PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        echo "== installing:$missing"
        as_root apt-get update -q
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
    fi
}

# Build warning-free (-Werror) and install into the PostgreSQL 15 tree.
build_install() {
    echo "== building"
    make -s COPT=-Werror PG_CONFIG=$PGBIN/pg_config
    as_root make -s install PG_CONFIG=$PGBIN/pg_config
}

pg_user() {
    if [ "$(id -un)" = postgres ]; then "$@"; else as_root runuser -u postgres -- "$@"; fi
}

# Throwaway cluster in $INTROW_WORK/data, socket in $INTROW_WORK.
start_cluster() {
    stop_cluster
    as_root rm -rf "$INTROW_WORK"
    as_root mkdir -p "$INTROW_WORK"
    as_root chown postgres: "$INTROW_WORK"
    echo "== starting a throwaway cluster on port $INTROW_PORT"
    pg_user $PGBIN/initdb -D "$INTROW_WORK/data" -A trust -U postgres --no-sync >"$INTROW_WORK/initdb.log"
    cat <<CONF | pg_user tee -a "$INTROW_WORK/data/postgresql.conf" >/dev/null
port = $INTROW_PORT
listen_addresses = ''
unix_socket_directories = '$INTROW_WORK'
shared_preload_libraries = 'introw_roles'
fsync = off
max_connections = 60
max_prepared_transactions = 10
log_min_messages = warning
autovacuum = off
CONF
    # SERVER_ENV: extra environment of the server (test/sanitize preloads its runtime)
    pg_user env ${SERVER_ENV:-} $PGBIN/pg_ctl -D "$INTROW_WORK/data" -l "$INTROW_WORK/server.log" -w start >/dev/null
    export PGHOST=$INTROW_WORK PGPORT=$INTROW_PORT PGUSER=postgres
}

# Append settings (stdin) to the throwaway cluster's configuration and restart.
configure_cluster() {
    pg_user tee -a "$INTROW_WORK/data/postgresql.conf" >/dev/null
    pg_user env ${SERVER_ENV:-} $PGBIN/pg_ctl -D "$INTROW_WORK/data" -w restart -l "$INTROW_WORK/server.log" >/dev/null
}

stop_cluster() {
    if [ -f "$INTROW_WORK/data/postmaster.pid" ]; then
        pg_user $PGBIN/pg_ctl -D "$INTROW_WORK/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
}

# Clients run as the invoking user (the socket is open to all, auth is
# trust): only the server must run as postgres, and the work tree need not
# be readable by it.
psql_pg() {
    PGHOST=$INTROW_WORK PGPORT=$INTROW_PORT psql -X -v ON_ERROR_STOP=1 -U postgres "$@"
}

# count PATTERN FILE: lines of FILE matching PATTERN (0 when none)
count() {
    grep -cE "$1" "$2" || true
}

# tally_regress LOG: add the tests of a pg_regress or pg_isolation_regress
# run to PASSED and FAILED
tally_regress() {
    PASSED=$((PASSED + $(count '\.\.\. ok' "$1")))
    FAILED=$((FAILED + $(count '\.\.\. FAILED|\.\.\. failed' "$1")))
}

# tally_tap NAME LOG STATUS: add the assertions of a TAP run (pg_prove,
# prove) to PASSED and FAILED; a non-zero STATUS with no failed assertion (a
# plan or harness failure) counts as one.  Leaves the run's failures in
# TAP_FAILED.
tally_tap() {
    local ok
    ok=$(count '^ok ' "$2")
    TAP_FAILED=$(count '^not ok ' "$2")
    if [ "$3" -ne 0 ] && [ "$TAP_FAILED" = 0 ]; then TAP_FAILED=1; fi
    echo "$1: $ok assertions ok, $TAP_FAILED not ok"
    PASSED=$((PASSED + ok))
    FAILED=$((FAILED + TAP_FAILED))
}
