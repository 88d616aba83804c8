-- Visibility (PRODUCT.md section 4) through row-level security, as an
-- application sees it: what each contact and internal user reads.
SET ROLE regress_introw_app;

-- What each contact sees: tabs, items, rooms, organisations, contacts.
CREATE FUNCTION pg_temp.contact_view(who text) RETURNS TABLE (what text, names text)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM introw.set_contact(fx(who));
    RETURN QUERY
        SELECT 'tabs', string_agg(t.name, ', ' ORDER BY t.tab_id) FROM introw.tabs t
        UNION ALL
        SELECT 'items', string_agg(i.title, ', ' ORDER BY i.item_id) FROM introw.content_items i
        UNION ALL
        SELECT 'rooms', string_agg(r.name, ', ' ORDER BY r.room_id) FROM introw.rooms r
        UNION ALL
        SELECT 'orgs', string_agg(o.name, ', ' ORDER BY o.org_id) FROM introw.partner_organizations o
        UNION ALL
        SELECT 'contacts', count(*)::text FROM introw.partner_contacts
        UNION ALL
        SELECT 'users', count(*)::text FROM introw.internal_users
        UNION ALL
        SELECT 'tab_roles', count(*)::text FROM introw.tab_roles
        UNION ALL
        SELECT 'roles', string_agg(p.name, ', ' ORDER BY p.role_id) FROM introw.partner_roles p
        UNION ALL
        SELECT 'tenants', string_agg(x.name, ', ') FROM introw.tenants x;
END $$;

SELECT * FROM pg_temp.contact_view('rep');
SELECT * FROM pg_temp.contact_view('se');
SELECT * FROM pg_temp.contact_view('mgr');
SELECT * FROM pg_temp.contact_view('restricted');
SELECT * FROM pg_temp.contact_view('norole');
SELECT * FROM pg_temp.contact_view('beta_rep');
SELECT * FROM pg_temp.contact_view('gamma_rep');

-- Internal users: counts per table.
CREATE FUNCTION pg_temp.user_view(who text) RETURNS TABLE (tbl text, n bigint)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM introw.set_user(fx(who));
    RETURN QUERY
        SELECT 'tenants', count(*) FROM introw.tenants UNION ALL
        SELECT 'tiers', count(*) FROM introw.tiers UNION ALL
        SELECT 'partner_roles', count(*) FROM introw.partner_roles UNION ALL
        SELECT 'partner_organizations', count(*) FROM introw.partner_organizations UNION ALL
        SELECT 'partner_contacts', count(*) FROM introw.partner_contacts UNION ALL
        SELECT 'internal_users', count(*) FROM introw.internal_users UNION ALL
        SELECT 'rooms', count(*) FROM introw.rooms UNION ALL
        SELECT 'tabs', count(*) FROM introw.tabs UNION ALL
        SELECT 'tab_roles', count(*) FROM introw.tab_roles UNION ALL
        SELECT 'content_items', count(*) FROM introw.content_items UNION ALL
        SELECT 'crm_objects', count(*) FROM introw.crm_objects UNION ALL
        SELECT 'tasks', count(*) FROM introw.tasks UNION ALL
        SELECT 'portal_settings', count(*) FROM introw.portal_settings UNION ALL
        SELECT 'crm_connections', count(*) FROM introw.crm_connections;
END $$;

SELECT a.tbl, a.n AS admin, m.n AS member, p.n AS partner_manager, c.n AS crm_user, g.n AS globex_admin
FROM pg_temp.user_view('admin') a
JOIN pg_temp.user_view('member') m USING (tbl)
JOIN pg_temp.user_view('pm') p USING (tbl)
JOIN pg_temp.user_view('crm') c USING (tbl)
JOIN pg_temp.user_view('globex_admin') g USING (tbl);

-- the crm_user reads only its own internal_users row
SELECT introw.set_user(fx('crm'));
SELECT email FROM introw.internal_users;

-- point checks and arrays, for the current principal
SELECT introw.set_contact(fx('se'));
SELECT introw.can_see_tab(fx('techdocs')) AS techdocs, introw.can_see_tab(fx('leadforms')) AS leadforms,
       introw.can_see_tab(fx('globexnews')) AS other_tenant, introw.can_see_tab(NULL) AS null_tab,
       cardinality(introw.visible_tab_ids()) AS n_tabs;
SELECT introw.reset_principal();
SELECT introw.visible_tab_ids(), introw.can_see_tab(fx('welcome'));

-- A call site looks ids up in a bitmap over their range when they are
-- dense, else by binary search (src/policy_support.c): both answer as
-- = ANY (visible_tab_ids()) does, below, inside and past the range, and
-- for the extreme ids.  The admin with 60 more tabs of which every third
-- is gone again (dense), then with 2,000 more of which every 300th is kept
-- (sparse).
RESET ROLE;
CREATE FUNCTION pg_temp.tab_lookups(OUT n_tabs int, OUT seen bigint, OUT differ bigint)
LANGUAGE sql AS $$
    SELECT cardinality(introw.visible_tab_ids()),
           count(*) FILTER (WHERE introw.can_see_tab(t)),
           count(*) FILTER (WHERE introw.can_see_tab(t) IS DISTINCT FROM (t = ANY (introw.visible_tab_ids())))
    FROM (SELECT generate_series(min(x) - 70, max(x) + 70) FROM unnest(introw.visible_tab_ids()) x
          UNION ALL VALUES (-9223372036854775808), (9223372036854775807)) s(t)
$$;
BEGIN;
INSERT INTO introw.tabs (tenant_id, room_id, name, position)
SELECT fx('acme'), fx('portal'), 'Bulk ' || i, 100 + i FROM generate_series(1, 60) i;
DELETE FROM introw.tabs WHERE name LIKE 'Bulk %' AND tab_id % 3 = 0;
SELECT introw.set_user(fx('admin'));
SELECT * FROM pg_temp.tab_lookups();
ROLLBACK;
BEGIN;
INSERT INTO introw.tabs (tenant_id, room_id, name, position)
SELECT fx('acme'), fx('portal'), 'Bulk ' || i, 100 + i FROM generate_series(1, 2000) i;
DELETE FROM introw.tabs WHERE name LIKE 'Bulk %' AND tab_id % 300 <> 0;
SELECT introw.set_user(fx('admin'));
SELECT * FROM pg_temp.tab_lookups();
ROLLBACK;
SELECT introw.reset_principal();
SET ROLE regress_introw_app;

-- contact_visible_tab_ids: admin of the contact's tenant, superuser, BYPASSRLS
SELECT introw.set_user(fx('admin'));
SELECT array(SELECT name FROM introw.tabs WHERE tab_id = ANY (introw.contact_visible_tab_ids(fx('mgr')))
             ORDER BY tab_id) AS mgr_tabs;
SELECT introw.contact_visible_tab_ids(fx('gamma_rep'));
SELECT introw.contact_visible_tab_ids(NULL);
SELECT introw.set_user(fx('member'));
SELECT introw.contact_visible_tab_ids(fx('rep'));
SELECT introw.set_contact(fx('rep'));
SELECT introw.contact_visible_tab_ids(fx('rep'));
RESET ROLE;
SELECT cardinality(introw.contact_visible_tab_ids(fx('gamma_rep'))) AS superuser_sees_globex;
SELECT introw.contact_visible_tab_ids(-5);
SET ROLE regress_introw_app;

-- access_matrix: configuration readers only
SELECT introw.set_user(fx('admin'));
SELECT role_name, tab_name, visible FROM introw.access_matrix
WHERE tab_name IN ('Welcome', 'Technical Docs', 'Alpha Pricing') ORDER BY role_id, tab_id;
SELECT introw.set_user(fx('crm'));
SELECT count(*) AS crm_user_rows FROM introw.access_matrix;
SELECT introw.set_contact(fx('rep'));
SELECT count(*) AS contact_rows FROM introw.access_matrix;
SELECT introw.set_user(fx('pm'));
SELECT count(*) AS partner_manager_rows FROM introw.access_matrix;

-- unassigned_contacts
SELECT introw.set_user(fx('admin'));
SELECT email FROM introw.unassigned_contacts;
SELECT introw.set_user(fx('globex_admin'));
SELECT email FROM introw.unassigned_contacts;

-- a leaky function in WHERE never sees a row the principal may not see
CREATE FUNCTION pg_temp.peek(text) RETURNS boolean LANGUAGE plpgsql COST 0.0001 AS $$
BEGIN
    RAISE NOTICE 'peek: %', $1;
    RETURN true;
END $$;
SELECT introw.set_contact(fx('se'));
SELECT name FROM introw.tabs WHERE pg_temp.peek(name) ORDER BY tab_id;
SELECT title FROM introw.content_items WHERE pg_temp.peek(title) ORDER BY item_id;

-- the plan: the policy's membership call (src/policy_support.c) as a filter
EXPLAIN (COSTS OFF) SELECT * FROM introw.tabs;
EXPLAIN (COSTS OFF) SELECT * FROM introw.content_items WHERE tab_id = 1;

SELECT introw.reset_principal();
RESET ROLE;

-- within one statement that changes visibility data, a later snapshot of
-- that statement (a volatile function) gets rules that include the change
CREATE FUNCTION pg_temp.probe() RETURNS text LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN (SELECT string_agg(name, ', ' ORDER BY tab_id) FROM introw.tabs
            WHERE tab_id = ANY (introw.visible_tab_ids()));
END $$;
SELECT introw.set_contact(fx('se'));
SELECT pg_temp.probe() AS before_limit;
WITH i AS (INSERT INTO introw.tab_roles VALUES (fx('acme'), fx('welcome'), fx('sales_rep')) RETURNING 1)
SELECT (SELECT count(*) FROM i) AS limited, pg_temp.probe() AS in_the_same_statement;
SELECT pg_temp.probe() AS after_limit;
DELETE FROM introw.tab_roles WHERE tab_id = fx('welcome');
SELECT introw.reset_principal();

-- a statement that changes nothing stamps nothing
SELECT epoch AS stamp FROM introw.visibility_epochs WHERE tenant_id = fx('acme') AND scope = 0 \gset
UPDATE introw.tabs SET name = name WHERE false;
DELETE FROM introw.tab_roles WHERE tab_id = -1;
SELECT epoch = :stamp AS unchanged FROM introw.visibility_epochs WHERE tenant_id = fx('acme') AND scope = 0;
UPDATE introw.tabs SET position = position WHERE tab_id = fx('welcome');
SELECT epoch > :stamp AS stamped FROM introw.visibility_epochs WHERE tenant_id = fx('acme') AND scope = 0;

-- the tables' owner, without superuser or BYPASSRLS, is held to the
-- policies too (FORCE ROW LEVEL SECURITY)
CREATE ROLE regress_introw_owner NOBYPASSRLS;
GRANT USAGE ON SCHEMA introw TO regress_introw_owner;
GRANT EXECUTE ON FUNCTION introw.set_contact(bigint, boolean), introw.reset_principal() TO regress_introw_owner;
GRANT SELECT ON public.fx TO regress_introw_owner;
ALTER TABLE introw.tabs OWNER TO regress_introw_owner;
SET ROLE regress_introw_owner;
SELECT count(*) AS owner_without_principal FROM introw.tabs;
SELECT introw.set_contact(fx('norole'));
SELECT name AS owner_as_norole FROM introw.tabs ORDER BY tab_id;
SELECT introw.reset_principal();
RESET ROLE;
ALTER TABLE introw.tabs OWNER TO CURRENT_USER;
REVOKE ALL ON FUNCTION introw.set_contact(bigint, boolean), introw.reset_principal() FROM regress_introw_owner;
REVOKE ALL ON SCHEMA introw FROM regress_introw_owner;
REVOKE ALL ON public.fx FROM regress_introw_owner;
DROP ROLE regress_introw_owner;

-- A contact's newest items merged from its tabs (src/item_merge.c), forced
-- with the planner's other scans off; the same plan, run once
-- introw.item_merge_max_tabs is below the contact's tabs, reads the
-- tenant's newest items instead (this suite also runs under memcheck:
-- test/sanitize); the planner's own plan returns the same items.
SET plan_cache_mode = force_generic_plan;
SET enable_seqscan = off;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SET ROLE regress_introw_app;
SELECT introw.set_contact(fx('rep'));
PREPARE newest_items AS SELECT string_agg(title, ', ') AS items FROM (
    SELECT title FROM introw.content_items ORDER BY created_at DESC, item_id LIMIT 3) q;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE newest_items;
EXECUTE newest_items;
RESET ROLE;
SET introw.item_merge_max_tabs = 0;
SET ROLE regress_introw_app;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE newest_items;
EXECUTE newest_items;
DEALLOCATE newest_items;
RESET ROLE;
RESET introw.item_merge_max_tabs;
RESET plan_cache_mode;
RESET enable_seqscan;
RESET enable_indexscan;
RESET enable_bitmapscan;
SET introw.ordered_scan = off;
SET ROLE regress_introw_app;
SELECT string_agg(title, ', ') AS items FROM (
    SELECT title FROM introw.content_items ORDER BY created_at DESC, item_id LIMIT 3) q;
SELECT introw.reset_principal();
RESET ROLE;
RESET introw.ordered_scan;

-- The tabs of shared rooms, kept per role in the backend (contact_tabs.c),
-- are neither read nor kept by a transaction that writes visibility data:
-- a cursor opened while a statement lifts the Technical Docs limit, read
-- after it (its snapshot sees the lift, not yet the stamp), shows the
-- lift to Rita (Sales Rep); after the rollback Ben, of the same role,
-- does not see it.  One principal cached, so that both are built anew.
CREATE FUNCTION public.regress_open_tabs_cursor() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE c refcursor := 'lifted_tabs';
BEGIN
    SET LOCAL ROLE regress_introw_app;
    PERFORM introw.set_contact(fx('rep'));
    OPEN c FOR SELECT string_agg(name, ', ' ORDER BY tab_id) AS tabs FROM introw.tabs;
    RETURN NULL;
END $$;
-- (named to fire before the stamping trigger, visibility_changed_delete)
CREATE TRIGGER a_open_tabs_cursor AFTER DELETE ON introw.tab_roles
    FOR EACH STATEMENT EXECUTE FUNCTION public.regress_open_tabs_cursor();
SET introw.principal_cache_size = 1;
SET ROLE regress_introw_app;
SELECT introw.set_contact(fx('se'));
SELECT string_agg(name, ', ' ORDER BY tab_id) AS se_tabs FROM introw.tabs;
RESET ROLE;
BEGIN;
DELETE FROM introw.tab_roles WHERE tab_id = fx('techdocs');
FETCH ALL FROM lifted_tabs;
ROLLBACK;
SET ROLE regress_introw_app;
SELECT introw.set_contact(fx('beta_rep'));
SELECT string_agg(name, ', ' ORDER BY tab_id) AS ben_tabs FROM introw.tabs;
SELECT introw.set_contact(fx('rep'));
SELECT string_agg(name, ', ' ORDER BY tab_id) AS rita_tabs FROM introw.tabs;
SELECT introw.reset_principal();
RESET ROLE;
RESET introw.principal_cache_size;
DROP TRIGGER a_open_tabs_cursor ON introw.tab_roles;
DROP FUNCTION public.regress_open_tabs_cursor();
