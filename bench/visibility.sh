#!/usr/bin/env bash
# bench/visibility.sh -- what a principal sees, through row-level security,
# beside the best hand-written query (the visible ids precomputed, run as a
# superuser), measured in one run, alternating, on one large tenant of the
# performance issue's scale (SCALE=1: 1,000 organisations, 20,000 contacts,
# 5,100 tabs, 105,000 items, 500,000 CRM objects, 1,000,000 collaborator
# rows; SCALE=10 ten times that).  Prints a table: microseconds per query
# (median of ROUNDS rounds of N queries each -- fewer for the slow cases),
# the ratio, identical rows.
#
# Same set-up as test/run; its own throwaway cluster on INTROW_PORT (54332).
set -euo pipefail
cd "$(dirname "$0")/.."
export INTROW_PORT=${INTROW_PORT:-54332}
SCALE=${SCALE:-1}
N=${N:-200}
ROUNDS=${ROUNDS:-5}
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
SQL

psql_pg -q -d introw_bench -v n="$N" -v rounds="$ROUNDS" <<'SQL'
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

SET ROLE bench_app;
SELECT introw.set_contact(3) \gset
RESET ROLE;
SELECT bench.measure('contact: newest 50 items', format('bench.items_rls(%s)', :n),
    format('bench.items_hand(%s, %L)', :n, :'tabs'),
    'SELECT md5(string_agg(item_id::text, '','')) FROM (SELECT item_id FROM introw.content_items ORDER BY created_at DESC LIMIT 50) s',
    format('SELECT md5(string_agg(item_id::text, '','')) FROM (SELECT item_id FROM introw.content_items WHERE tenant_id = 1 AND tab_id = ANY (%L) ORDER BY created_at DESC LIMIT 50) s', :'tabs'),
    :rounds);
SELECT bench.measure('contact: its tabs', format('bench.tabs_rls(%s)', :n),
    format('bench.tabs_hand(%s, %L)', :n, :'tabs'),
    'SELECT md5(string_agg(tab_id::text, '','' ORDER BY tab_id)) FROM introw.tabs',
    format('SELECT md5(string_agg(tab_id::text, '','' ORDER BY tab_id)) FROM introw.tabs WHERE tenant_id = 1 AND tab_id = ANY (%L)', :'tabs'),
    :rounds);
SELECT bench.measure('contact: newest 50 deals', format('bench.deals_rls(%s)', greatest(:n / 20, 3)),
    format('bench.deals_hand(%s, %L, %L)', greatest(:n / 20, 3), '{1}', :'objs3'),
    'SELECT md5(string_agg(object_id::text, '','')) FROM (SELECT object_id FROM introw.deals ORDER BY created_at DESC LIMIT 50) s',
    format('SELECT md5(string_agg(object_id::text, '','')) FROM (SELECT object_id FROM introw.crm_objects WHERE tenant_id = 1 AND object_type = ''deal'' AND (org_id = 1 OR object_id = ANY (%L)) ORDER BY created_at DESC LIMIT 50) s', :'objs3'),
    :rounds);
SELECT bench.measure('contact: pipeline count, sum', format('bench.pipeline_rls(%s)', greatest(:n / 20, 3)),
    format('bench.pipeline_hand(%s, false, %L, %L)', greatest(:n / 20, 3), '{1}', :'objs3'),
    'SELECT count(*) || '' '' || sum(amount) FROM introw.deals',
    format('SELECT count(*) || '' '' || sum(amount) FROM introw.crm_objects WHERE tenant_id = 1 AND object_type = ''deal'' AND (org_id = 1 OR object_id = ANY (%L))', :'objs3'),
    :rounds);
SELECT bench.measure('contact: can_see_object', format('bench.can_see_rls(%s)', :n * 10),
    format('bench.can_see_hand(%s, 1, %L)', :n * 10, :'objs3'),
    'SELECT count(*) FROM generate_series(1, 2000) i WHERE introw.can_see_object(1 + (i * 7919) % 500000)',
    format('SELECT count(*) FROM generate_series(1, 2000) i WHERE EXISTS (SELECT 1 FROM introw.crm_objects o WHERE o.object_id = 1 + (i * 7919) %% 500000 AND o.tenant_id = 1 AND (o.org_id = 1 OR o.object_id = ANY (%L)))', :'objs3'),
    :rounds);

SET ROLE bench_app;
SELECT introw.set_contact(1) \gset
RESET ROLE;
SELECT bench.measure('restricted contact: newest 50 deals', format('bench.deals_rls(%s)', 3),
    format('bench.deals_hand(%s, %L, %L)', 3, '{}', :'objs1'),
    'SELECT md5(string_agg(object_id::text, '','')) FROM (SELECT object_id FROM introw.deals ORDER BY created_at DESC LIMIT 50) s',
    format('SELECT md5(string_agg(object_id::text, '','')) FROM (SELECT object_id FROM introw.crm_objects WHERE tenant_id = 1 AND object_type = ''deal'' AND object_id = ANY (%L) ORDER BY created_at DESC LIMIT 50) s', :'objs1'),
    :rounds);

SET ROLE bench_app;
SELECT introw.set_user(1) \gset
RESET ROLE;
SELECT bench.measure('admin: pipeline count, sum', format('bench.pipeline_rls(%s)', greatest(:n / 20, 3)),
    format('bench.pipeline_hand(%s, true, %L, %L)', greatest(:n / 20, 3), '{}', '{}'),
    'SELECT count(*) || '' '' || sum(amount) FROM introw.deals',
    'SELECT count(*) || '' '' || sum(amount) FROM introw.crm_objects WHERE tenant_id = 1 AND object_type = ''deal''',
    :rounds);
SET ROLE bench_app;
SELECT introw.set_user(2) \gset
RESET ROLE;
SELECT bench.measure('crm_user: pipeline count, sum', format('bench.pipeline_rls(%s)', greatest(:n / 20, 3)),
    format('bench.pipeline_hand(%s, false, %L, %L)', greatest(:n / 20, 3), :'all_orgs', '{}'),
    'SELECT count(*) || '' '' || sum(amount) FROM introw.deals',
    format('SELECT count(*) || '' '' || sum(amount) FROM introw.crm_objects WHERE tenant_id = 1 AND object_type = ''deal'' AND org_id = ANY (%L)', :'all_orgs'),
    :rounds);
SELECT bench.measure('principal switch, then tabs', format('bench.switch_rls(%s)', greatest(:n / 4, 3)),
    format('bench.switch_hand(%s)', greatest(:n / 4, 3)), 'SELECT 1', 'SELECT 1', :rounds);

\echo
SELECT case_name AS "query", round(rls_us::numeric, 1) AS "RLS µs", round(hand_us::numeric, 1) AS "hand-written µs",
       round(ratio::numeric, 2) AS "ratio", same_rows AS "same rows"
FROM bench.results;
SQL
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; $(date -u +%Y-%m-%d); SCALE=$SCALE N=$N ROUNDS=$ROUNDS"
