#!/usr/bin/env bash
# bench/crm_sync.sh -- sync 50,000 contacts from the fake HubSpot with the
# real worker, and print contacts applied per second and, per page, the
# worker's time beside the server's own time.
#
# Same set-up as test/run (packages, build, install, a throwaway cluster on
# port INTROW_PORT, default 54331).  CONTACTS (default 50000) and PAGE
# (default 200) can be set.  The fake's rate limit and the worker's pacing
# are off, so the figures measure processing, not HubSpot's 5 requests a
# second (at which 50,000 contacts take at least 50 s of waiting).
set -euo pipefail
cd "$(dirname "$0")/.."
export INTROW_PORT=${INTROW_PORT:-54331}
CONTACTS=${CONTACTS:-50000}
PAGE=${PAGE:-200}
FAKE_PORT=${FAKE_PORT:-18931}
source test/lib.sh

ensure_packages
build_install
start_cluster
configure_cluster <<CONF
introw.database = 'introw_bench'
introw.crm_naptime = 1
introw.crm_min_interval = 0
introw.crm_page_size = $PAGE
CONF
python3 test/fake_hubspot.py --port "$FAKE_PORT" --token bench-token --rate-limit 0 &
FAKE=$!
trap 'kill $FAKE 2>/dev/null; stop_cluster' EXIT

psql_pg -q -c "CREATE DATABASE introw_bench"
psql_pg -q -d introw_bench <<SQL
CREATE EXTENSION introw_roles;
INSERT INTO introw.tenants (name) VALUES ('Bench');
SELECT introw.set_default_role(role_id) FROM introw.partner_roles WHERE name = 'Sales Rep';
INSERT INTO introw.partner_organizations (tenant_id, name)
SELECT 1, 'Org ' || g FROM generate_series(1, 100) g;
INSERT INTO introw.partner_contacts (tenant_id, org_id, email)
SELECT 1, 1 + g % 100, 'bulk' || g || '@bulk.test' FROM generate_series(0, $CONTACTS - 1) g;
INSERT INTO introw.crm_connections (tenant_id, base_url, access_token)
VALUES (1, 'http://127.0.0.1:$FAKE_PORT', 'bench-token');
SQL
for i in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$FAKE_PORT/_control/log" && break
    sleep 0.1
done
# every contact gets a new role in the CRM: all of them are applied
curl -s -X POST "http://127.0.0.1:$FAKE_PORT/_control/generate" \
     -d "{\"count\": $CONTACTS, \"role\": \"Solutions Engineer\", \"start\": 1763700000000}" >/dev/null
curl -s -X POST "http://127.0.0.1:$FAKE_PORT/_control/reset-log" -d '{}' >/dev/null

psql_pg -q -d introw_bench -c "SELECT introw.crm_sync_now(1)"
until [ "$(psql_pg -d introw_bench -Atc "SELECT count(*) FROM introw.crm_sync_runs WHERE status <> 'running'")" = 1 ]; do
    sleep 0.5
done
server=$(curl -s "http://127.0.0.1:$FAKE_PORT/_control/log" |
         python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["searches"], round(d.get("server_seconds", 0), 3))')
read -r searches server_s <<<"$server"
psql_pg -d introw_bench -P footer=off <<SQL
SELECT status, pages, fetched, applied, unchanged, rejected,
       round(extract(epoch FROM finished_at - started_at)::numeric, 2) AS wall_s,
       round(applied / extract(epoch FROM finished_at - started_at))::int AS applied_per_s,
       round((extract(epoch FROM finished_at - started_at) * 1000 / pages)::numeric, 1) AS ms_per_page,
       round(($server_s * 1000 / $searches)::numeric, 1) AS server_ms_per_page,
       round(((extract(epoch FROM finished_at - started_at) - $server_s) * 1000 / pages)::numeric, 1) AS ours_ms_per_page,
       round((100 * (1 - $server_s / extract(epoch FROM finished_at - started_at)))::numeric, 1) AS ours_pct_of_wall
FROM introw.crm_sync_runs;
SELECT count(*) AS contacts_now_solutions_engineer FROM introw.partner_contacts c
JOIN introw.partner_roles r USING (tenant_id, role_id) WHERE r.name = 'Solutions Engineer' AND c.role_source = 'crm';
SQL
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(date -u +%Y-%m-%d); searches: $searches"
