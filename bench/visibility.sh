#!/usr/bin/env bash
# bench/visibility.sh -- what a principal sees, through row-level security,
# beside the best hand-written query (the visible ids precomputed, run as a
# superuser), measured in one run, alternating, on one large tenant of the
# performance issue's scale (SCALE=1: 1,000 organisations, 20,000 contacts,
# 5,100 tabs, 105,000 items, 500,000 CRM objects, 1,000,000 collaborator
# rows; SCALE=10 ten times that).  Prints a table: microseconds per query,
# the ratio and whether the rows are identical; beside them the same
# queries under plain-SQL policies tuned as the usual guides teach
# (bench/plain.sql).  Then the default-role trigger on a bulk insert, and
# pgbench TPS at 1 and 8 clients.
#
# Each row (bench.measure in bench/visibility.sql): ROUNDS rounds; a round
# is one loop of the plain-SQL policies (about PLAIN_MS, at most N
# queries), then PAIRS pairs of the extension's loop and the hand-written
# one back to back, each loop about TARGET_MS.  Times are medians; the
# ratio is the median of the pairs' ratios.  pgbench: PGBENCH_ROUNDS pairs
# of runs of PGBENCH_SECONDS, each side first in every other pair.
#
# Same set-up as test/run; its own throwaway cluster on INTROW_PORT (54332).
set -euo pipefail
cd "$(dirname "$0")/.."
export INTROW_PORT=${INTROW_PORT:-54332}
SCALE=${SCALE:-1}
N=${N:-100}
ROUNDS=${ROUNDS:-5}
PAIRS=${PAIRS:-4}
TARGET_MS=${TARGET_MS:-200}
PLAIN_MS=${PLAIN_MS:-2000}
source test/lib.sh

ensure_packages
build_install
start_cluster
configure_cluster <<CONF
shared_buffers = 2GB
work_mem = 64MB
maintenance_work_mem = 1GB
max_wal_size = 8GB
checkpoint_timeout = 30min
CONF
[ "${KEEP_CLUSTER:-0}" = 1 ] || trap stop_cluster EXIT

psql_pg -q -c "CREATE DATABASE introw_bench"
psql_pg -q -d introw_bench -c "CREATE EXTENSION introw_roles"
echo "== generating SCALE=$SCALE"
start=$(date +%s)
psql_pg -q -d introw_bench -v scale="$SCALE" -f bench/scale.sql
echo "   $(( $(date +%s) - start )) s"
psql_pg -q -d introw_bench <<SQL
CREATE ROLE bench_app LOGIN;
SELECT introw.grant_application('bench_app');
\i bench/visibility.sql
\i bench/plain.sql
SQL

settings="-c bench.scale=$SCALE -c bench.n=$N -c bench.rounds=$ROUNDS -c bench.pairs=$PAIRS"
settings+=" -c bench.target_ms=$TARGET_MS -c bench.plain_ms=$PLAIN_MS"
PGOPTIONS="$settings" psql_pg -q -d introw_bench <<'SQL'
-- contact 3: Sales Rep of organisation 1; contact 1: collaboration restricted
SELECT array_agg(t.tab_id ORDER BY t.tab_id)::text AS tabs FROM introw.tabs t
JOIN introw.rooms r ON r.tenant_id = t.tenant_id AND r.room_id = t.room_id
WHERE t.tenant_id = 1 AND (r.org_id IS NULL OR r.org_id = 1)
  AND (NOT EXISTS (SELECT 1 FROM introw.tab_roles x WHERE x.tenant_id = 1 AND x.tab_id = t.tab_id)
       OR EXISTS (SELECT 1 FROM introw.tab_roles x WHERE x.tenant_id = 1 AND x.tab_id = t.tab_id AND x.role_id = 1)) \gset
SELECT coalesce(array_agg(object_id ORDER BY object_id), '{}')::text AS objs3
FROM introw.collaborators WHERE tenant_id = 1 AND contact_id = 3 \gset
SELECT coalesce(array_agg(object_id ORDER BY object_id), '{}')::text AS objs1
FROM introw.collaborators WHERE tenant_id = 1 AND contact_id = 1 \gset
SELECT array_agg(org_id)::text AS all_orgs FROM introw.partner_organizations \gset
-- a later page of contact 3's items: after its 1,000th newest (keyset pagination)
SELECT created_at AS page_at FROM introw.content_items WHERE tenant_id = 1 AND tab_id = ANY (:'tabs'::bigint[])
ORDER BY created_at DESC OFFSET 999 LIMIT 1 \gset

-- the hand-written loops, the visible ids written in
SELECT bench.define('items_hand', format($$SELECT md5(string_agg(item_id::text, ',')) INTO x FROM (
    SELECT item_id FROM introw.content_items WHERE tenant_id = 1 AND tab_id = ANY (%L::bigint[])
    ORDER BY created_at DESC LIMIT 50) q$$, :'tabs'));
SELECT bench.define('items_page_rls', format($$SELECT md5(string_agg(item_id::text, ',')) INTO x FROM (
    SELECT item_id FROM content_items WHERE created_at < %L::timestamptz ORDER BY created_at DESC LIMIT 50) q$$, :'page_at'));
SELECT bench.define('items_page_hand', format($$SELECT md5(string_agg(item_id::text, ',')) INTO x FROM (
    SELECT item_id FROM introw.content_items WHERE tenant_id = 1 AND tab_id = ANY (%L::bigint[])
      AND created_at < %L::timestamptz ORDER BY created_at DESC LIMIT 50) q$$, :'tabs', :'page_at'));
SELECT bench.define('tabs_hand', format($$SELECT md5(string_agg(tab_id::text, ',' ORDER BY tab_id)) INTO x
    FROM introw.tabs WHERE tenant_id = 1 AND tab_id = ANY (%L::bigint[])$$, :'tabs'));
SELECT bench.define('deals_hand_3', format($$SELECT md5(string_agg(object_id::text, ',')) INTO x FROM (
    SELECT object_id FROM (
        (SELECT object_id, created_at FROM introw.crm_objects
         WHERE tenant_id = 1 AND org_id = 1 AND object_type = 'deal' ORDER BY created_at DESC LIMIT 50)
        UNION
        (SELECT object_id, created_at FROM introw.crm_objects
         WHERE tenant_id = 1 AND object_id = ANY (%L::bigint[]) AND object_type = 'deal')) u
    ORDER BY created_at DESC LIMIT 50) q$$, :'objs3'));
SELECT bench.define('deals_hand_1', format($$SELECT md5(string_agg(object_id::text, ',')) INTO x FROM (
    SELECT object_id FROM introw.crm_objects
    WHERE tenant_id = 1 AND object_id = ANY (%L::bigint[]) AND object_type = 'deal'
    ORDER BY created_at DESC LIMIT 50) q$$, :'objs1'));
SELECT bench.define('pipeline_hand_3', format($$SELECT count(*), sum(amount) INTO c, s FROM introw.crm_objects
    WHERE tenant_id = 1 AND object_type = 'deal' AND (org_id = 1 OR object_id = ANY (%L::bigint[]))$$, :'objs3'));
SELECT bench.define('pipeline_hand_admin', $$SELECT count(*), sum(amount) INTO c, s FROM introw.crm_objects
    WHERE tenant_id = 1 AND object_type = 'deal'$$);
SELECT bench.define('pipeline_hand_crm', format($$SELECT count(*), sum(amount) INTO c, s FROM introw.crm_objects
    WHERE tenant_id = 1 AND object_type = 'deal' AND org_id = ANY (%L::bigint[])$$, :'all_orgs'));
SELECT bench.define('lookup_hand', format($$SELECT %L::bigint[] INTO visible$$, :'tabs'));
SELECT bench.define('can_see_hand', format($$b := EXISTS (SELECT 1 FROM introw.crm_objects o
    WHERE o.object_id = 1 + (i * 7919) %% 500000 AND o.tenant_id = 1
      AND (o.org_id = 1 OR o.object_id = ANY (%L::bigint[])))$$, :'objs3'));

\set c3 '$$SELECT set_config(''plain.contact_id'', ''3'', false), set_config(''plain.user_id'', '''', false)$$'
\set c1 '$$SELECT set_config(''plain.contact_id'', ''1'', false), set_config(''plain.user_id'', '''', false)$$'
\set u1 '$$SELECT set_config(''plain.contact_id'', '''', false), set_config(''plain.user_id'', ''1'', false)$$'
\set u2 '$$SELECT set_config(''plain.contact_id'', '''', false), set_config(''plain.user_id'', ''2'', false)$$'
\set items 'SELECT md5(string_agg(item_id::text, '','')) FROM (SELECT item_id FROM content_items ORDER BY created_at DESC LIMIT 50) s'
\set tabs_q 'SELECT md5(string_agg(tab_id::text, '','' ORDER BY tab_id)) FROM tabs'
\set deals 'SELECT md5(string_agg(object_id::text, '','')) FROM (SELECT object_id FROM deals ORDER BY created_at DESC LIMIT 50) s'
\set pipeline 'SELECT count(*) || '' '' || sum(amount) FROM deals'
-- the hand-written items' rows, for the items and the JWT-claims rows
SELECT format('SELECT md5(string_agg(item_id::text, '','')) FROM (SELECT item_id FROM introw.content_items WHERE tenant_id = 1 AND tab_id = ANY (%L) ORDER BY created_at DESC LIMIT 50) s', :'tabs') AS items_hand_rows \gset

SET ROLE bench_app;
SELECT introw.set_contact(3) \gset
RESET ROLE;
SELECT bench.measure('contact: newest 50 items', 'bench.items_rls', 'bench.items_hand',
    :'items', :'items_hand_rows',
    :c3);
SELECT bench.measure('contact: a later page of 50 items', 'bench.items_page_rls', 'bench.items_page_hand',
    format('SELECT md5(string_agg(item_id::text, '','')) FROM (SELECT item_id FROM content_items WHERE created_at < %L::timestamptz ORDER BY created_at DESC LIMIT 50) s', :'page_at'),
    format('SELECT md5(string_agg(item_id::text, '','')) FROM (SELECT item_id FROM introw.content_items WHERE tenant_id = 1 AND tab_id = ANY (%L) AND created_at < %L::timestamptz ORDER BY created_at DESC LIMIT 50) s', :'tabs', :'page_at'),
    :c3);
SELECT bench.measure('contact: its tabs', 'bench.tabs_rls', 'bench.tabs_hand',
    :'tabs_q', format('SELECT md5(string_agg(tab_id::text, '','' ORDER BY tab_id)) FROM introw.tabs WHERE tenant_id = 1 AND tab_id = ANY (%L)', :'tabs'),
    :c3);
SELECT bench.measure('contact: newest 50 deals', 'bench.deals_rls', 'bench.deals_hand_3',
    :'deals', format('SELECT md5(string_agg(object_id::text, '','')) FROM (SELECT object_id FROM introw.crm_objects WHERE tenant_id = 1 AND object_type = ''deal'' AND (org_id = 1 OR object_id = ANY (%L)) ORDER BY created_at DESC LIMIT 50) s', :'objs3'),
    :c3);
SELECT bench.measure('contact: pipeline count, sum', 'bench.pipeline_rls', 'bench.pipeline_hand_3',
    :'pipeline', format('SELECT count(*) || '' '' || sum(amount) FROM introw.crm_objects WHERE tenant_id = 1 AND object_type = ''deal'' AND (org_id = 1 OR object_id = ANY (%L))', :'objs3'),
    :c3);
SELECT bench.measure('contact: can_see_object', 'bench.can_see_rls', 'bench.can_see_hand',
    'SELECT count(*) FROM generate_series(1, 2000) i WHERE introw.can_see_object(1 + (i * 7919) % 500000)',
    format('SELECT count(*) FROM generate_series(1, 2000) i WHERE EXISTS (SELECT 1 FROM introw.crm_objects o WHERE o.object_id = 1 + (i * 7919) %% 500000 AND o.tenant_id = 1 AND (o.org_id = 1 OR o.object_id = ANY (%L)))', :'objs3'),
    :c3, 'bench.can_see_plain');
-- the warm lookup: the principal's visible tab ids (from its cache,
-- checked against a snapshot of its own: plpgsql evaluates the SELECT as
-- a simple expression, without the executor) against the same ids as a
-- constant; the difference is its cost
SELECT bench.measure('contact: warm lookup, a statement of its visible tab ids', 'bench.lookup_rls', 'bench.lookup_hand',
    'SELECT array(SELECT unnest(visible_tab_ids()) ORDER BY 1)::text', format('SELECT %L::bigint[]::text', :'tabs'),
    :c3);

-- the same contact through trusted JWT claims (PostgREST): no principal
-- set, introw.trust_jwt_claims on, the claims in request.jwt.claims
SET ROLE bench_app;
SELECT introw.reset_principal() \gset
RESET ROLE;
SET introw.trust_jwt_claims = on;
SELECT set_config('request.jwt.claims', '{"role": "bench_app", "introw_tenant_id": 1, "introw_contact_id": 3}', false) \gset
SELECT bench.measure('contact via JWT claims: newest 50 items', 'bench.items_rls', 'bench.items_hand',
    :'items', :'items_hand_rows',
    :c3);
RESET request.jwt.claims;
RESET introw.trust_jwt_claims;

SET ROLE bench_app;
SELECT introw.set_contact(1) \gset
RESET ROLE;
SELECT bench.measure('restricted contact: newest 50 deals', 'bench.deals_rls', 'bench.deals_hand_1',
    :'deals', format('SELECT md5(string_agg(object_id::text, '','')) FROM (SELECT object_id FROM introw.crm_objects WHERE tenant_id = 1 AND object_type = ''deal'' AND object_id = ANY (%L) ORDER BY created_at DESC LIMIT 50) s', :'objs1'),
    :c1);

SET ROLE bench_app;
SELECT introw.set_user(1) \gset
RESET ROLE;
SELECT bench.measure('admin: pipeline count, sum', 'bench.pipeline_rls', 'bench.pipeline_hand_admin',
    :'pipeline', 'SELECT count(*) || '' '' || sum(amount) FROM introw.crm_objects WHERE tenant_id = 1 AND object_type = ''deal''',
    :u1);
SET ROLE bench_app;
SELECT introw.set_user(2) \gset
RESET ROLE;
SELECT bench.measure('crm_user: pipeline count, sum', 'bench.pipeline_rls', 'bench.pipeline_hand_crm',
    :'pipeline', format('SELECT count(*) || '' '' || sum(amount) FROM introw.crm_objects WHERE tenant_id = 1 AND object_type = ''deal'' AND org_id = ANY (%L)', :'all_orgs'),
    :u2);
-- switching among principals this backend has served (its cache keeps
-- them), then with a cache of one principal (every switch rebuilds)
SELECT bench.measure('principal switch (cached), then tabs', 'bench.switch_rls',
    'bench.switch_hand', 'SELECT 1', 'SELECT 1',
    :c3, 'bench.switch_plain');
SET introw.principal_cache_size = 1;
SELECT bench.measure('principal switch (cold), then tabs', 'bench.switch_rls',
    'bench.switch_hand', 'SELECT 1', 'SELECT 1',
    :c3, 'bench.switch_plain');
RESET introw.principal_cache_size;

-- bulk insert of 100,000 contacts (times SCALE): the default-role trigger against none
DO $$
DECLARE a float8[] := '{}'; b float8[] := '{}'; n int := 100000 * current_setting('bench.scale')::int;
BEGIN
    PERFORM bench.bulk_insert(1000, true);
    FOR r IN 1..3 LOOP
        a := a || bench.bulk_insert(n, true);
        b := b || bench.bulk_insert(n, false);
    END LOOP;
    INSERT INTO bench.results
    SELECT format('bulk insert %s contacts (ms): trigger / none', n), ra, hb, NULL, ra / hb, true
    FROM bench.median(a) ra, bench.median(b) hb;
END $$;
SQL

# pgbench: a page of the portal per transaction (set the contact, its newest
# items, its tabs, its pipeline), a random contact of 1,000 each time; RLS as
# bench_app against the hand-written queries with the contact's ids looked up
# from a precomputed table (as an application's own cache would hold them).
psql_pg -q -d introw_bench <<'SQL'
CREATE TABLE bench.precomputed AS
SELECT c.contact_id, introw.contact_visible_tab_ids(c.contact_id)::text AS tabs, c.org_id,
       (SELECT coalesce(array_agg(x.object_id), '{}') FROM introw.collaborators x
        WHERE x.tenant_id = 1 AND x.contact_id = c.contact_id)::text AS objs
FROM introw.partner_contacts c WHERE c.contact_id % 20 = 3 AND c.contact_id <= 20000;
ALTER TABLE bench.precomputed ADD PRIMARY KEY (contact_id);
SQL
BENCH_DIR=$INTROW_WORK/pgbench
as_root mkdir -p "$BENCH_DIR"
as_root tee "$BENCH_DIR/rls.sql" >/dev/null <<'PGB'
\set c 3 + 20 * random(0, 999)
SELECT introw.set_contact(:c);
SELECT item_id FROM introw.content_items ORDER BY created_at DESC LIMIT 50;
SELECT tab_id, name FROM introw.tabs ORDER BY position, tab_id;
SELECT count(*), sum(amount) FROM introw.deals;
PGB
as_root tee "$BENCH_DIR/hand.sql" >/dev/null <<'PGB'
\set c 3 + 20 * random(0, 999)
SELECT tabs, org_id, objs FROM bench.precomputed WHERE contact_id = :c \gset
SELECT item_id FROM introw.content_items WHERE tenant_id = 1 AND tab_id = ANY (:tabs::bigint[]) ORDER BY created_at DESC LIMIT 50;
SELECT tab_id, name FROM introw.tabs WHERE tenant_id = 1 AND tab_id = ANY (:tabs::bigint[]) ORDER BY position, tab_id;
SELECT count(*), sum(amount) FROM introw.crm_objects WHERE tenant_id = 1 AND object_type = 'deal' AND (org_id = :org_id OR object_id = ANY (:objs::bigint[]));
PGB
tps() {  # role clients script
    $PGBIN/pgbench -n -M prepared -T "${PGBENCH_SECONDS:-10}" -c "$2" -j "$2" -U "$1" \
        -f "$BENCH_DIR/$3" introw_bench 2>&1 | awk '/^tps/ {print $3}'
}
# PGBENCH_ROUNDS pairs a number of clients, each side first in every other
# pair; the medians, and the median of the pairs' ratios
psql_pg -q -d introw_bench -c "CREATE TABLE bench.pgbench (clients int, rls float8, hand float8)"
for clients in 1 8; do
    for round in $(seq "${PGBENCH_ROUNDS:-4}"); do
        if [ $((round % 2)) = 1 ]; then
            rls=$(tps bench_app $clients rls.sql)
            hand=$(tps postgres $clients hand.sql)
        else
            hand=$(tps postgres $clients hand.sql)
            rls=$(tps bench_app $clients rls.sql)
        fi
        psql_pg -q -d introw_bench -c "INSERT INTO bench.pgbench VALUES ($clients, $rls, $hand)"
    done
done
psql_pg -q -d introw_bench <<'SQL'
INSERT INTO bench.results (case_name, rls_us, hand_us, ratio)
SELECT format('pgbench TPS, %s client(s): RLS / hand', clients), bench.median(array_agg(rls)),
       bench.median(array_agg(hand)), bench.median(array_agg(rls / hand))
FROM bench.pgbench GROUP BY clients ORDER BY clients;
SQL

psql_pg -q -d introw_bench <<'SQL'
\echo
SELECT case_name AS "case", round(rls_us::numeric, 1) AS "RLS", round(hand_us::numeric, 1) AS "hand-written",
       round(ratio::numeric, 2) AS "RLS / hand", round(plain_us::numeric, 1) AS "plain-SQL policies",
       round((plain_us / rls_us)::numeric, 1) AS "plain / RLS", same_rows AS "same rows",
       queries AS "queries a loop"
FROM bench.results;
SQL
echo "µs per query unless stated; $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB," \
     "PostgreSQL $($PGBIN/postgres -V | awk '{print $3}'); $(date -u +%Y-%m-%d); SCALE=$SCALE N=$N ROUNDS=$ROUNDS PAIRS=$PAIRS TARGET_MS=$TARGET_MS PLAIN_MS=$PLAIN_MS" \
     "PGBENCH_SECONDS=${PGBENCH_SECONDS:-10} PGBENCH_ROUNDS=${PGBENCH_ROUNDS:-4}"
