-- ALTER EXTENSION introw_roles UPDATE from 1.0 to the default version (sql/introw_roles--1.0--1.1.sql, sql/introw_roles--1.1--1.2.sql, sql/introw_roles--1.2--1.3.sql, sql/introw_roles--1.3--1.4.sql, sql/introw_roles--1.4--1.5.sql, sql/introw_roles--1.5--1.6.sql):
-- every row is kept, and every principal sees exactly what it saw before.
CREATE DATABASE introw_upgrade;
\c introw_upgrade
SET client_min_messages = warning;
CREATE EXTENSION introw_roles VERSION '1.0';
RESET client_min_messages;
\set ECHO none
\set QUIET on
\i test/fixture.sql
\set QUIET off
\set ECHO all
SELECT extversion FROM pg_extension WHERE extname = 'introw_roles';

-- What each principal of the fixture reads, table by table, as the
-- application role: a digest of the rows.
CREATE TABLE public.principals AS
SELECT 'contact' AS kind, contact_id AS id FROM introw.partner_contacts
UNION ALL
SELECT 'user', user_id FROM introw.internal_users WHERE active;
-- the columns the application role may read, table by table
CREATE TABLE public.readable AS
SELECT c.relname AS tbl, string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) AS cols
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relnamespace = 'introw'::regnamespace AND c.relkind IN ('r', 'v')
  AND has_column_privilege('regress_introw_app', c.oid, a.attnum, 'SELECT')
GROUP BY c.relname;
-- and what it may write, column by column
CREATE TABLE public.writable AS
SELECT c.relname AS tbl, a.attname AS col,
       has_column_privilege('regress_introw_app', c.oid, a.attnum, 'INSERT') AS ins,
       has_column_privilege('regress_introw_app', c.oid, a.attnum, 'UPDATE') AS upd,
       has_table_privilege('regress_introw_app', c.oid, 'DELETE') AS del
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relnamespace = 'introw'::regnamespace AND c.relkind = 'r';
GRANT SELECT ON public.principals, public.readable TO regress_introw_app;
CREATE FUNCTION public.seen() RETURNS TABLE (kind text, id bigint, tbl name, digest text)
LANGUAGE plpgsql AS $$
DECLARE p record; t record; d text;
BEGIN
    FOR p IN SELECT * FROM public.principals ORDER BY 1, 2 LOOP
        IF p.kind = 'contact' THEN
            PERFORM introw.set_contact(p.id);
        ELSE
            PERFORM introw.set_user(p.id);
        END IF;
        FOR t IN SELECT * FROM public.readable ORDER BY 1 LOOP
            EXECUTE format('SELECT md5(coalesce(string_agg(x::text, %L ORDER BY x::text), %L)) FROM (SELECT %s FROM introw.%I) x',
                           ',', '', t.cols, t.tbl) INTO d;
            kind := p.kind; id := p.id; tbl := t.tbl; digest := d;
            RETURN NEXT;
        END LOOP;
    END LOOP;
    PERFORM introw.reset_principal();
END $$;
CREATE TABLE public.rows_before AS
SELECT c.relname, (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM introw.%I', c.relname), false, true, '')))[1]::text::bigint AS n
FROM pg_class c WHERE c.relnamespace = 'introw'::regnamespace AND c.relkind = 'r';
SET ROLE regress_introw_app;
CREATE TEMP TABLE seen_before AS SELECT * FROM public.seen();
RESET ROLE;
SELECT count(DISTINCT (kind, id)) AS principals, count(DISTINCT tbl) AS tables FROM seen_before;

-- by way of 1.3: this library serves 1.3's one-argument arms (a database
-- not yet updated) as it serves the other versions' policies
ALTER EXTENSION introw_roles UPDATE TO '1.3';
SET ROLE regress_introw_app;
CREATE TEMP TABLE seen_13 AS SELECT * FROM public.seen();
RESET ROLE;
SELECT count(*) AS compared, count(*) FILTER (WHERE a.digest IS DISTINCT FROM b.digest) AS different
FROM seen_before b FULL JOIN seen_13 a USING (kind, id, tbl);
ALTER EXTENSION introw_roles UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'introw_roles';
-- the policies now call the membership tests
SELECT tablename, qual LIKE '%can_see_tab(tab_id)%' OR qual LIKE '%reads_org_objects(org_id)%' AS membership_calls
FROM pg_policies WHERE schemaname = 'introw' AND policyname = 'read'
  AND tablename IN ('tabs', 'content_items', 'crm_objects') ORDER BY tablename;
-- 1.4: the whole-tenant arm takes its answer from an initplan; the
-- one-argument arm is gone
SELECT qual LIKE '%reads_whole_tenant(object_id, ( SELECT introw.current_reads_whole_tenant()%' AS whole_tenant_initplan
FROM pg_policies WHERE schemaname = 'introw' AND policyname = 'read' AND tablename = 'crm_objects';
SELECT oid::regprocedure AS reads_whole_tenant FROM pg_proc
WHERE pronamespace = 'introw'::regnamespace AND proname = 'reads_whole_tenant';
-- 1.5: restore mode; the triggers that derive rows on INSERT stand aside
-- while a dump loads (partner_contacts_role decides in C), and a champion
-- waits for its contact
SELECT tgrelid::regclass AS tbl, tgname, pg_get_triggerdef(oid) LIKE '%introw.restoring()%' AS when_restoring
FROM pg_trigger
WHERE NOT tgisinternal AND tgname NOT LIKE 'visibility_%'
  AND tgrelid IN ('introw.tenants'::regclass, 'introw.partner_organizations'::regclass,
                  'introw.partner_contacts'::regclass, 'introw.crm_objects'::regclass)
ORDER BY 1, 2;
-- 1.6: the application role reads a table with SELECT on the table, but
-- crm_connections (its access token hidden) column by column; it reads and
-- writes the same columns as before
SELECT string_agg(c.relname, ', ') FILTER (WHERE NOT has_table_privilege('regress_introw_app', c.oid, 'SELECT')) AS per_column,
       count(*) FILTER (WHERE has_table_privilege('regress_introw_app', c.oid, 'SELECT')) AS whole_tables,
       count(*) FILTER (WHERE has_table_privilege('regress_introw_app', c.oid, 'SELECT') AND EXISTS (
           SELECT 1 FROM pg_attribute a, aclexplode(a.attacl) x
           WHERE a.attrelid = c.oid AND x.grantee = 'regress_introw_app'::regrole AND x.privilege_type = 'SELECT')) AS column_grants_left
FROM introw.readable_relations() c WHERE c.relkind = 'r';
SELECT count(*) AS tables, count(*) FILTER (WHERE n.cols = r.cols) AS same_columns
FROM public.readable r LEFT JOIN (
    SELECT c.relname AS tbl, string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) AS cols
    FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE c.relnamespace = 'introw'::regnamespace AND c.relkind IN ('r', 'v')
      AND has_column_privilege('regress_introw_app', c.oid, a.attnum, 'SELECT')
    GROUP BY c.relname) n USING (tbl);
SELECT count(*) AS columns, count(*) FILTER (WHERE w.ins) AS insertable,
       count(*) FILTER (WHERE (w.ins, w.upd, w.del) IS NOT DISTINCT FROM
                              (has_column_privilege('regress_introw_app', format('introw.%I', w.tbl)::regclass, w.col, 'INSERT'),
                               has_column_privilege('regress_introw_app', format('introw.%I', w.tbl)::regclass, w.col, 'UPDATE'),
                               has_table_privilege('regress_introw_app', format('introw.%I', w.tbl)::regclass, 'DELETE'))) AS same_writes
FROM public.writable w;
-- every row kept
SELECT relname, b.n AS before,
       (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM introw.%I', relname), false, true, '')))[1]::text::bigint AS after
FROM public.rows_before b ORDER BY relname;
-- the same rows for every principal
SET ROLE regress_introw_app;
CREATE TEMP TABLE seen_after AS SELECT * FROM public.seen();
RESET ROLE;
SELECT count(*) AS compared, count(*) FILTER (WHERE a.digest IS DISTINCT FROM b.digest) AS different
FROM seen_before b FULL JOIN seen_after a USING (kind, id, tbl);
-- and a visibility change after the upgrade is honoured
SET ROLE regress_introw_app;
SELECT introw.set_contact(fx('rep'));
SELECT count(*) AS rep_tabs_before FROM introw.tabs;
RESET ROLE;
INSERT INTO introw.tab_roles (tenant_id, tab_id, role_id)
SELECT t.tenant_id, t.tab_id, fx('solutions_engineer') FROM introw.tabs t
WHERE t.tenant_id = fx('acme') AND NOT EXISTS (SELECT 1 FROM introw.tab_roles x WHERE x.tab_id = t.tab_id);
SET ROLE regress_introw_app;
SELECT count(*) AS rep_tabs_after FROM introw.tabs;
RESET ROLE;

-- An analyst granted under 1.2 (policies TO the role) is an analyst after
-- the update to 1.3: a row of introw.analysts, the same policies, the same
-- reads.
\c postgres
CREATE DATABASE introw_upgrade_analyst;
\c introw_upgrade_analyst
SET client_min_messages = warning;
CREATE EXTENSION introw_roles VERSION '1.2';
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_introw_upgrade_analyst') THEN
        CREATE ROLE regress_introw_upgrade_analyst NOLOGIN NOBYPASSRLS;
    END IF;
END $$;
RESET client_min_messages;
\set ECHO none
\set QUIET on
\i test/fixture.sql
\set QUIET off
\set ECHO all
SELECT introw.grant_analyst('regress_introw_upgrade_analyst');
CREATE TABLE public.policies_before AS
SELECT tablename, roles::text FROM pg_policies WHERE schemaname = 'introw' AND policyname = 'analyst_read';
SET ROLE regress_introw_upgrade_analyst;
CREATE TEMP TABLE analyst_before AS
SELECT (SELECT count(*) FROM introw.partner_contacts) AS contacts, (SELECT count(*) FROM introw.crm_objects) AS objects;
RESET ROLE;
ALTER EXTENSION introw_roles UPDATE TO '1.3';
SELECT role_name FROM introw.analysts;
SELECT count(*) AS tables, count(*) FILTER (WHERE p.roles::text = b.roles) AS same_roles
FROM public.policies_before b LEFT JOIN pg_policies p
  ON p.schemaname = 'introw' AND p.policyname = 'analyst_read' AND p.tablename = b.tablename;
SET ROLE regress_introw_upgrade_analyst;
SELECT (SELECT count(*) FROM introw.partner_contacts) = contacts AS same_contacts,
       (SELECT count(*) FROM introw.crm_objects) = objects AS same_objects, contacts > 0 AS some
FROM analyst_before;
RESET ROLE;
\c postgres
DROP DATABASE introw_upgrade_analyst;
DROP ROLE regress_introw_upgrade_analyst;
