-- Plan shapes (the performance issue): every listing is served from
-- indexes -- Index Cond, BitmapOr -- never a sequential scan of a large
-- table for a contact; an admin's whole-tenant aggregate may scan.  Then
-- the same statements in parallel workers return the same rows.
--
-- Its own database and one tenant of moderate size: 300 organisations,
-- 6,000 contacts, 1,600 tabs, 30,000 items, 30,000 CRM objects (80 %
-- deals), 60,000 collaborator rows.  Tables of at most 30,000 rows are
-- analysed in full, so the statistics, and the plans, are the same on
-- every run.
CREATE DATABASE introw_plans;
\c introw_plans
SET client_min_messages = warning;
CREATE EXTENSION introw_roles;
RESET client_min_messages;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_introw_plans') THEN
        CREATE ROLE regress_introw_plans NOLOGIN NOBYPASSRLS;
    END IF;
END $$;
SELECT introw.grant_application('regress_introw_plans');

SET session_replication_role = replica;
INSERT INTO introw.tenants (tenant_id, name) OVERRIDING SYSTEM VALUE VALUES (1, 'Plans');
INSERT INTO introw.partner_roles (tenant_id, role_id, name, crm_value, preconfigured, is_default, collaboration_restricted)
OVERRIDING SYSTEM VALUE VALUES
    (1, 1, 'Sales Rep', 'Sales Rep', true, true, false),
    (1, 2, 'Solutions Engineer', 'Solutions Engineer', true, false, false),
    (1, 3, 'Partner Manager', 'Partner Manager', true, false, false),
    (1, 4, 'Restricted', 'Restricted', false, false, true);
INSERT INTO introw.internal_users (tenant_id, user_id, email, full_name, user_role, hubspot_user_id)
OVERRIDING SYSTEM VALUE VALUES
    (1, 1, 'admin@plans.test', 'Admin', 'admin', NULL),
    (1, 2, 'crm@plans.test', 'CRM', 'crm_user', 'hs-1');
INSERT INTO introw.partner_organizations (tenant_id, org_id, name) OVERRIDING SYSTEM VALUE
SELECT 1, o, 'Org ' || o FROM generate_series(1, 300) o;
-- contact 20k+1 of each organisation is restricted
INSERT INTO introw.partner_contacts (tenant_id, contact_id, org_id, email, role_id, role_source)
OVERRIDING SYSTEM VALUE
SELECT 1, c, 1 + (c - 1) / 20, 'c' || c || '@plans.test',
       CASE (c - 1) % 20 WHEN 0 THEN 4 ELSE 1 + (c % 3) END, 'explicit'
FROM generate_series(1, 6000) c;
INSERT INTO introw.rooms (tenant_id, room_id, org_id, name) OVERRIDING SYSTEM VALUE
SELECT 1, r, CASE WHEN r = 1 THEN NULL ELSE r - 1 END, 'Room ' || r FROM generate_series(1, 301) r;
INSERT INTO introw.tabs (tenant_id, tab_id, room_id, name, position) OVERRIDING SYSTEM VALUE
SELECT 1, t, CASE WHEN t <= 100 THEN 1 ELSE 2 + (t - 101) / 5 END, 'Tab ' || t, t % 7
FROM generate_series(1, 1600) t;
INSERT INTO introw.tab_roles (tenant_id, tab_id, role_id)
SELECT 1, t, 1 + t % 3 FROM generate_series(1, 1600) t WHERE t % 3 = 0;
INSERT INTO introw.content_items (tenant_id, item_id, tab_id, kind, title, created_at) OVERRIDING SYSTEM VALUE
SELECT 1, i, 1 + (i * 7919) % 1600, 'file', 'Item ' || i, timestamptz '2026-01-01' + i * interval '1 minute'
FROM generate_series(1, 30000) i;
INSERT INTO introw.crm_objects (tenant_id, object_id, object_type, org_id, submitted_by_contact_id, name, amount, created_at)
OVERRIDING SYSTEM VALUE
SELECT 1, x, CASE WHEN x % 5 = 0 THEN 'lead' ELSE 'deal' END, 1 + (x - 1) % 300,
       20 * ((x - 1) % 300) + 1 + (x / 300) % 20, 'Deal ' || x, (x % 1000) * 100,
       timestamptz '2026-01-01' + x * interval '10 seconds'
FROM generate_series(1, 30000) x;
INSERT INTO introw.collaborators (tenant_id, object_id, contact_id)
SELECT 1, x, 20 * ((x - 1) % 300) + 1 + (x / 300) % 20 FROM generate_series(1, 30000) x
UNION ALL
SELECT 1, x, 20 * ((x - 1) % 300) + 1 + (x / 300 + 7) % 20 FROM generate_series(1, 30000) x;
RESET session_replication_role;
ANALYZE;

SET ROLE regress_introw_plans;
-- contact 3: Sales Rep of organisation 1
SELECT introw.set_contact(3);
EXPLAIN (COSTS OFF) SELECT item_id FROM introw.content_items ORDER BY created_at DESC LIMIT 50;
EXPLAIN (COSTS OFF) SELECT tab_id FROM introw.tabs ORDER BY tab_id;
EXPLAIN (COSTS OFF) SELECT object_id FROM introw.deals ORDER BY created_at DESC LIMIT 50;
EXPLAIN (COSTS OFF) SELECT count(*), sum(amount) FROM introw.deals;
-- contact 1: collaboration restricted
SELECT introw.set_contact(1);
EXPLAIN (COSTS OFF) SELECT object_id FROM introw.deals ORDER BY created_at DESC LIMIT 50;
-- the admin: the newest deals straight from the index; the whole pipeline
SELECT introw.set_user(1);
EXPLAIN (COSTS OFF) SELECT object_id FROM introw.deals ORDER BY created_at DESC LIMIT 50;
EXPLAIN (COSTS OFF) SELECT count(*), sum(amount) FROM introw.deals;
-- the CRM user: every partner organisation
SELECT introw.set_user(2);
EXPLAIN (COSTS OFF) SELECT object_id FROM introw.deals ORDER BY created_at DESC LIMIT 50;

-- A plan made for one kind of principal is not reused for another: the
-- same prepared statement, planned for the admin, then for a contact.
PREPARE newest AS SELECT object_id FROM introw.deals ORDER BY created_at DESC LIMIT 50;
SELECT introw.set_user(1);
EXPLAIN (COSTS OFF) EXECUTE newest;
SELECT introw.set_contact(1);
EXPLAIN (COSTS OFF) EXECUTE newest;
CREATE TEMP TABLE newest_rows AS EXECUTE newest;
SELECT count(*) AS restricted_newest FROM newest_rows;
DEALLOCATE newest;

-- Parallel workers receive the principal: the same counts with every
-- statement run in a worker (force_parallel_mode) as in the leader.
CREATE TEMP TABLE counts (who text, what text, leader bigint, worker bigint);
CREATE FUNCTION pg_temp.count_all(who text, in_worker boolean) RETURNS void LANGUAGE plpgsql AS $$
DECLARE n bigint[];
BEGIN
    PERFORM set_config('force_parallel_mode', CASE WHEN in_worker THEN 'on' ELSE 'off' END, true);
    -- EXECUTE: planned afresh, under the force_parallel_mode just set
    EXECUTE 'SELECT ARRAY[(SELECT count(*) FROM introw.content_items), (SELECT count(*) FROM introw.tabs),
                          (SELECT count(*) FROM introw.deals), (SELECT count(*) FROM introw.collaborators),
                          (SELECT count(*) FROM introw.partner_contacts)]' INTO n;
    IF NOT in_worker THEN
        INSERT INTO counts SELECT who, w, c, NULL
        FROM unnest(ARRAY['items', 'tabs', 'deals', 'collaborators', 'contacts'], n) AS u(w, c);
    ELSE
        UPDATE counts SET worker = u.c
        FROM unnest(ARRAY['items', 'tabs', 'deals', 'collaborators', 'contacts'], n) AS u(w, c)
        WHERE counts.who = count_all.who AND counts.what = u.w;
    END IF;
END $$;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET force_parallel_mode = on;
EXPLAIN (COSTS OFF) SELECT ARRAY[(SELECT count(*) FROM introw.content_items), (SELECT count(*) FROM introw.tabs),
                                 (SELECT count(*) FROM introw.deals), (SELECT count(*) FROM introw.collaborators),
                                 (SELECT count(*) FROM introw.partner_contacts)];
RESET force_parallel_mode;
SELECT introw.set_contact(3);
SELECT pg_temp.count_all('contact 3', false), pg_temp.count_all('contact 3', true);
SELECT introw.set_contact(1);
SELECT pg_temp.count_all('restricted contact 1', false), pg_temp.count_all('restricted contact 1', true);
SELECT introw.set_user(1);
SELECT pg_temp.count_all('admin 1', false), pg_temp.count_all('admin 1', true);
SELECT introw.set_user(2);
SELECT pg_temp.count_all('crm_user 2', false), pg_temp.count_all('crm_user 2', true);
SELECT introw.reset_principal();
SELECT pg_temp.count_all('no principal', false), pg_temp.count_all('no principal', true);
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SELECT who, what, leader, worker, leader = worker AS same FROM counts ORDER BY who, what;

-- nobody writes the setting that carries the principal to the workers
SET introw.parallel_principal = '1:1:3:10';
SELECT set_config('introw.parallel_principal', '2:1:1:10', false);
BEGIN;
SET LOCAL introw.parallel_principal = '2:1:1:10';
ROLLBACK;
RESET ROLE;
CREATE FUNCTION pg_temp.forged() RETURNS int LANGUAGE sql SET introw.parallel_principal = '2:1:1:10' AS 'SELECT 1';
ALTER ROLE regress_introw_plans SET introw.parallel_principal = '2:1:1:10';
ALTER DATABASE introw_plans SET introw.parallel_principal = '2:1:1:10';

-- ---------------------------------------------------------------------------
-- A contact's newest CRM objects: the ordered scan (src/ordered_scan.c)
-- walks its organisation's index in created_at order and merges its
-- collaborations and submissions into it, each row once.  It returns what
-- the planner's own plans return (introw.ordered_scan = off), in the same
-- order, for every contact and every ordered listing below.
-- ---------------------------------------------------------------------------
-- Organisation 1 grows to a large partner (3,000 more deals: its contacts'
-- listings are read from the tenant's newest deals), and more arms than
-- the load above gives: contacts 45 and 41 (restricted) of organisation 3
-- submit objects of no organisation (loaded as a restore would, without
-- the trigger that makes the submitter a collaborator, so they are seen
-- as submissions only), collaborate on some of them (seen twice over) and
-- on deals of other organisations; created_at has ties.
INSERT INTO introw.crm_objects (tenant_id, object_id, object_type, org_id, submitted_by_contact_id, name, amount, created_at)
OVERRIDING SYSTEM VALUE
SELECT 1, 30000 + x, 'deal', 1, 1 + x % 20, 'Large deal ' || x, (x % 1000) * 100,
       timestamptz '2026-01-01' + (x * 7 % 30000) * interval '10 seconds'
FROM generate_series(1, 3000) x;
SET session_replication_role = replica;
INSERT INTO introw.crm_objects (tenant_id, object_id, object_type, org_id, submitted_by_contact_id, name, amount, created_at)
OVERRIDING SYSTEM VALUE
SELECT 1, 33000 + x, CASE WHEN x % 4 = 0 THEN 'lead' ELSE 'deal' END, NULL, CASE WHEN x % 2 = 0 THEN 45 ELSE 41 END,
       'Vendor deal ' || x, x * 10, timestamptz '2026-01-01' + (x * 97 % 30000) * interval '10 seconds'
FROM generate_series(1, 200) x;
RESET session_replication_role;
INSERT INTO introw.collaborators (tenant_id, object_id, contact_id)
SELECT 1, x, c FROM generate_series(2, 30000, 601) x, (VALUES (41), (45)) AS v(c)
UNION ALL
SELECT 1, 33000 + x, CASE WHEN x % 2 = 0 THEN 45 ELSE 41 END FROM generate_series(1, 200, 5) x;
ANALYZE introw.crm_objects, introw.collaborators;

SET ROLE regress_introw_plans;
SELECT introw.set_contact(46);
EXPLAIN (COSTS OFF) SELECT object_id FROM introw.deals ORDER BY created_at DESC LIMIT 50;
-- oldest first (the organisation's index read backwards), ties broken by id
EXPLAIN (COSTS OFF) SELECT object_id FROM introw.deals ORDER BY created_at, object_id LIMIT 7;
SELECT introw.set_contact(41);
EXPLAIN (COSTS OFF) SELECT object_id FROM introw.deals ORDER BY created_at DESC LIMIT 50;
-- a contact of the large organisation: the tenant's newest deals
SELECT introw.set_contact(3);
EXPLAIN (COSTS OFF) SELECT object_id FROM introw.deals ORDER BY created_at DESC LIMIT 50;
RESET ROLE;

-- query = an ordered listing of r (text); the rows, in order, as one text.
-- With the ordered scan, the planner's other scans of a table are disabled,
-- so that it is chosen wherever it may be; without it, the planner's own,
-- and every filter the policy's OR (introw.implied_quals, below).
CREATE FUNCTION pg_temp.listing(contact bigint, query text, ordered_scan boolean, OUT rows text, OUT used boolean)
LANGUAGE plpgsql AS $$
DECLARE plan text;
BEGIN
    PERFORM set_config('introw.ordered_scan', ordered_scan::text, true);
    PERFORM set_config('introw.implied_quals', ordered_scan::text, true);
    PERFORM set_config(s, (NOT ordered_scan)::text, true)
    FROM unnest(ARRAY['enable_seqscan', 'enable_indexscan', 'enable_indexonlyscan', 'enable_bitmapscan']) AS s;
    SET LOCAL ROLE regress_introw_plans;
    PERFORM introw.set_contact(contact, true);
    EXECUTE format('SELECT string_agg(r, '','') FROM (%s) q', query) INTO rows;
    used := false;
    FOR plan IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        used := used OR plan LIKE '%Custom Scan (introw_%';
    END LOOP;
    RESET ROLE;
END $$;
-- for the rest of the transaction: the application role, the contact, and
-- the planner's other scans off (the application may do this itself: plans
-- choose only how rows are read)
CREATE FUNCTION pg_temp.forced_scans_as(contact bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config(s, 'off', true)
    FROM unnest(ARRAY['enable_seqscan', 'enable_indexscan', 'enable_bitmapscan']) AS s;
    SET LOCAL ROLE regress_introw_plans;
    PERFORM introw.set_contact(contact, true);
END $$;
CREATE TEMP TABLE listings (contact bigint, query text, on_rows text, off_rows text, used boolean);
-- each query for 22 contacts (restricted, large organisation, submitters,
-- every kind of role), with the scans forced and without them
CREATE FUNCTION pg_temp.compare_listings(queries text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    c bigint;
    q text;
    r_on record;
    r_off record;
BEGIN
    FOR c IN SELECT unnest(ARRAY[1, 3, 41, 45, 46, 60]) UNION SELECT g FROM generate_series(7, 6000, 397) g LOOP
        FOREACH q IN ARRAY queries LOOP
            r_on := pg_temp.listing(c, q, true);
            r_off := pg_temp.listing(c, q, false);
            INSERT INTO listings VALUES (c, q, r_on.rows, r_off.rows, r_on.used);
        END LOOP;
    END LOOP;
END $$;
CREATE TEMP VIEW listings_compared AS
SELECT count(*) AS listings,
       count(*) FILTER (WHERE on_rows IS DISTINCT FROM off_rows) AS different,
       count(*) FILTER (WHERE used) AS by_custom_scan,
       count(*) FILTER (WHERE on_rows IS NOT NULL) AS not_empty
FROM listings;
SELECT pg_temp.compare_listings(ARRAY[
    'SELECT object_id::text AS r FROM introw.deals ORDER BY created_at DESC, object_id LIMIT 50',
    'SELECT object_id::text AS r FROM introw.deals ORDER BY created_at, object_id LIMIT 7',
    'SELECT object_id::text AS r FROM introw.deals ORDER BY created_at DESC, object_id',
    'SELECT object_id::text AS r FROM introw.deals WHERE amount >= 50000 ORDER BY created_at DESC, object_id LIMIT 20 OFFSET 5',
    'SELECT object_id::text AS r FROM introw.crm_objects WHERE object_type = ''lead'' ORDER BY created_at DESC, object_id LIMIT 10',
    'SELECT object_id::text AS r FROM introw.crm_objects WHERE object_type = ''deal'' ORDER BY created_at DESC, object_id LIMIT 30 FOR SHARE',
    'SELECT (SELECT d.object_id::text FROM introw.deals d WHERE d.amount >= g * 1000 ORDER BY d.created_at DESC, d.object_id LIMIT 1) AS r FROM generate_series(0, 99, 9) g',
    'SELECT object_id::text AS r FROM introw.deals WHERE created_at < ''2026-01-02 12:00'' ORDER BY created_at DESC, object_id LIMIT 30',
    'SELECT object_id::text AS r FROM introw.deals WHERE created_at > ''2026-01-02'' AND created_at <= ''2026-01-02 02:40:30'' ORDER BY created_at, object_id LIMIT 25',
    'SELECT object_id::text AS r FROM introw.deals WHERE (created_at, object_id) < (''2026-01-02 09:20:30'', 99999) ORDER BY created_at DESC, object_id DESC LIMIT 30',
    'SELECT (SELECT d.object_id::text FROM introw.deals d WHERE d.created_at <= timestamptz ''2026-01-02 09:20:30'' - g * interval ''50 minutes'' ORDER BY d.created_at DESC, d.object_id LIMIT 1) AS r FROM generate_series(0, 11) g'
]);
SELECT * FROM listings_compared;
SELECT contact, count(*) FILTER (WHERE used) AS by_ordered_scan FROM listings
WHERE contact IN (41, 45, 46) GROUP BY contact ORDER BY contact;
-- a page (keyset pagination): the query's created_at bounds are where the
-- organisation's index is read from and to (Bounds)
BEGIN;
SELECT pg_temp.forced_scans_as(45);
EXPLAIN (COSTS OFF) SELECT object_id FROM introw.deals
WHERE created_at > '2026-01-02' AND created_at <= '2026-01-02 02:40:30' ORDER BY created_at LIMIT 25;
COMMIT;
-- contact 45's listing holds its organisation's deals, its submissions of
-- no organisation and its collaborations on other organisations' deals
SELECT count(*) FILTER (WHERE o.org_id IS NULL) AS submitted, count(*) FILTER (WHERE o.org_id <> 3) AS collaborated,
       count(*) FILTER (WHERE o.org_id = 3) AS organisation
FROM listings l, unnest(string_to_array(l.on_rows, ',')::bigint[]) AS r(id)
JOIN introw.crm_objects o ON o.object_id = r.id
WHERE l.contact = 45 AND l.query LIKE '%introw.deals ORDER BY created_at DESC, object_id';
-- A submitter is made a collaborator (crm_objects_register): the
-- submissions read among the collaborations are not fetched again.  Only
-- contact 45's submissions loaded without that trigger and not
-- collaborated on are (Submissions Fetched); each is held once.
SELECT count(*) AS submissions_not_collaborated FROM introw.crm_objects o
WHERE o.submitted_by_contact_id = 45
  AND NOT EXISTS (SELECT 1 FROM introw.collaborators c WHERE c.object_id = o.object_id AND c.contact_id = 45);
BEGIN;
SELECT pg_temp.forced_scans_as(45);
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT object_id FROM introw.deals ORDER BY created_at DESC LIMIT 5;
-- the restricted contact 1 collaborates on all it submitted: none fetched
SELECT introw.set_contact(1, true);
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT object_id FROM introw.deals ORDER BY created_at DESC LIMIT 5;
COMMIT;

-- A generic plan made for one contact reads the arms of the contact in
-- force when it runs: contact 46's plan, run for contact 45, returns 45's
-- listing above.
SET ROLE regress_introw_plans;
SET plan_cache_mode = force_generic_plan;
SELECT introw.set_contact(46);
PREPARE newest_50 AS SELECT string_agg(object_id::text, ',') FROM (
    SELECT object_id FROM introw.deals ORDER BY created_at DESC, object_id LIMIT 50) q;
EXPLAIN (COSTS OFF) EXECUTE newest_50;
CREATE TEMP TABLE generic_46 AS EXECUTE newest_50;
SELECT introw.set_contact(45);
CREATE TEMP TABLE generic_45 AS EXECUTE newest_50;
DEALLOCATE newest_50;
RESET plan_cache_mode;
RESET ROLE;
SELECT l.contact, g.string_agg = l.on_rows AS same_as_listing
FROM listings l
JOIN (SELECT 46 AS contact, string_agg FROM generic_46 UNION ALL SELECT 45, string_agg FROM generic_45) g USING (contact)
WHERE l.query LIKE '%introw.deals ORDER BY created_at DESC, object_id LIMIT 50'
ORDER BY l.contact;

-- A leaky function in WHERE sees only rows the policy allows: the scan's
-- quals run the policy first.
CREATE FUNCTION pg_temp.leak(name text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS $$
BEGIN
    RAISE NOTICE 'leak: %', name;
    RETURN true;
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.leak(text) TO regress_introw_plans;
SET ROLE regress_introw_plans;
SELECT introw.set_contact(46);
EXPLAIN (COSTS OFF) SELECT name FROM introw.deals WHERE pg_temp.leak(name) ORDER BY created_at DESC LIMIT 3;
SELECT name FROM introw.deals WHERE pg_temp.leak(name) ORDER BY created_at DESC LIMIT 3;

-- The arms are the principal's when the scan starts.  A plan made for a
-- contact may first run after a switch to an internal user (before the
-- backend's plans are made again): it then reads the tenant's newest
-- deals in order, and returns what the admin's own plan returns.  After
-- reset_principal it reads nothing.
SET plan_cache_mode = force_generic_plan;
PREPARE newest_5 AS SELECT object_id FROM introw.deals ORDER BY created_at DESC, object_id LIMIT 5;
EXPLAIN (COSTS OFF) EXECUTE newest_5;
-- the contact's plan runs once for the admin (its rows: the cursor below)
SELECT introw.set_user(1);
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE newest_5;
SELECT introw.set_contact(46);
EXECUTE newest_5;
SELECT introw.reset_principal();
EXECUTE newest_5;
DEALLOCATE newest_5;
RESET plan_cache_mode;
-- a cursor planned for the contact (as the statement above: all of it is
-- to be read), first read after the switch: the admin's newest deals
SET cursor_tuple_fraction = 1.0;
SELECT introw.set_contact(46);
BEGIN;
DECLARE newest_deals CURSOR FOR SELECT object_id FROM introw.deals ORDER BY created_at DESC, object_id LIMIT 5;
SELECT introw.set_user(1, true);
FETCH ALL newest_deals;
SELECT object_id FROM introw.deals ORDER BY created_at DESC, object_id LIMIT 5;
ROLLBACK;
RESET cursor_tuple_fraction;
-- an admin's cursor over every deal, read in part, then read on after a
-- switch to a contact: the whole-tenant answer is an initplan's, taken
-- when the cursor first ran, so the rest are the admin's rows too (as the
-- tenant test's initplan would keep them)
DO $$
DECLARE
    c refcursor;
    r record;
    total bigint;
    before_switch int := 0;
    after_switch int := 0;
BEGIN
    PERFORM introw.set_user(1);
    SELECT count(*) INTO total FROM introw.deals;
    OPEN c FOR SELECT object_id FROM introw.deals;
    FOR i IN 1..2 LOOP
        FETCH c INTO r;
        before_switch := before_switch + 1;
    END LOOP;
    PERFORM introw.set_contact(46);
    LOOP
        FETCH c INTO r;
        EXIT WHEN NOT FOUND;
        after_switch := after_switch + 1;
    END LOOP;
    RAISE NOTICE 'the admin''s deals: %; read before the switch: %, after it: %',
        total, before_switch, after_switch;
    PERFORM introw.reset_principal();
END $$;
-- Not offered: for a sample (TABLESAMPLE returns a sample, not the
-- newest rows), and where row-level security does not apply (a superuser
-- with a contact principal writing the policy's OR by hand).
EXPLAIN (COSTS OFF) SELECT object_id FROM introw.crm_objects TABLESAMPLE SYSTEM (50) REPEATABLE (1)
WHERE object_type = 'deal' ORDER BY created_at DESC LIMIT 5;
RESET ROLE;
SELECT introw.set_contact(46);
EXPLAIN (COSTS OFF) SELECT object_id FROM introw.deals
WHERE tenant_id = 1 AND (introw.reads_whole_tenant(object_id, false) OR introw.reads_org_objects(org_id)
                         OR introw.collaborates_on(object_id) OR submitted_by_contact_id = 999)
ORDER BY created_at DESC LIMIT 5;
-- reads_whole_tenant(id, reads) answers its argument, whoever the
-- principal: an index serves it by the principal's range only for the
-- policy's own argument, (SELECT introw.current_reads_whole_tenant()), a
-- constant by its own range, anything else not at all.  The admin's
-- principal widens no false answer; a contact's narrows no true one.
SET enable_seqscan = off;
SELECT introw.set_user(1);
EXPLAIN (COSTS OFF) SELECT count(*) FROM introw.crm_objects
WHERE introw.reads_whole_tenant(object_id, false);
EXPLAIN (COSTS OFF) SELECT count(*) FROM introw.crm_objects
WHERE introw.reads_whole_tenant(object_id, (SELECT false));
SELECT (SELECT count(*) FROM introw.crm_objects WHERE introw.reads_whole_tenant(object_id, false)) AS const_false,
       (SELECT count(*) FROM introw.crm_objects WHERE introw.reads_whole_tenant(object_id, (SELECT false))) AS initplan_false,
       (SELECT count(*) FROM introw.crm_objects
        WHERE introw.reads_whole_tenant(object_id, (SELECT introw.current_reads_whole_tenant())))
       = (SELECT count(*) FROM introw.crm_objects) AS policy_answer_all;
SELECT introw.set_contact(46);
SELECT (SELECT count(*) FROM introw.crm_objects WHERE introw.reads_whole_tenant(object_id, (SELECT true)))
       = (SELECT count(*) FROM introw.crm_objects) AS initplan_true_all,
       (SELECT count(*) FROM introw.crm_objects
        WHERE introw.reads_whole_tenant(object_id, (SELECT introw.current_reads_whole_tenant()))) AS policy_answer;
RESET enable_seqscan;
SELECT introw.reset_principal();
-- A role reading the table through a view, without the right to look
-- names up in schema introw, gets its plan (the support function finds
-- its functions in the catalog) and, having no principal, no row.
CREATE ROLE regress_introw_view_owner;
CREATE ROLE regress_introw_view_reader;
SELECT introw.grant_application('regress_introw_view_owner');
GRANT CREATE ON SCHEMA public TO regress_introw_view_owner;
SET ROLE regress_introw_view_owner;
CREATE VIEW public.regress_deals AS
SELECT object_id, created_at FROM introw.crm_objects WHERE object_type = 'deal';
GRANT SELECT ON public.regress_deals TO regress_introw_view_reader;
SET ROLE regress_introw_view_reader;
SELECT count(*) AS deals_read FROM public.regress_deals;
SELECT object_id FROM public.regress_deals ORDER BY created_at DESC LIMIT 3;
RESET ROLE;
DROP VIEW public.regress_deals;
DROP OWNED BY regress_introw_view_owner, regress_introw_view_reader;
DROP ROLE regress_introw_view_owner, regress_introw_view_reader;
SET ROLE regress_introw_plans;
-- the application cannot turn the scan off (a superuser's setting)
SET introw.ordered_scan = off;
RESET ROLE;

-- ---------------------------------------------------------------------------
-- Policy arms an index served are not tested again (src/implied_quals.c).
-- A bitmap heap scan whose every arm serves an arm of the read policy's OR
-- exactly filters on its other quals only, as a scan of one arm does; the
-- ordered scan tests the OR only on rows it reads instead of its arms
-- (Filter If Read Instead).  introw.implied_quals = off (a superuser's
-- setting) keeps the OR in every filter; rows are the same either way.
-- ---------------------------------------------------------------------------
SET ROLE regress_introw_plans;
SET introw.implied_quals = off;
RESET ROLE;
SET introw.implied_quals = off;
SET ROLE regress_introw_plans;
SELECT introw.set_contact(46);
EXPLAIN (COSTS OFF) SELECT count(*), sum(amount) FROM introw.deals;
EXPLAIN (COSTS OFF) SELECT object_id FROM introw.deals ORDER BY created_at DESC LIMIT 50;
RESET ROLE;
RESET introw.implied_quals;
-- who: 'contact N', 'user N' or 'nobody', the principal until the end of
-- the transaction
CREATE FUNCTION pg_temp.become(who text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF who LIKE 'contact %' THEN
        PERFORM introw.set_contact(split_part(who, ' ', 2)::bigint, true);
    ELSIF who LIKE 'user %' THEN
        PERFORM introw.set_user(split_part(who, ' ', 2)::bigint, true);
    ELSE
        PERFORM introw.reset_principal();
    END IF;
END $$;
-- the pipeline's count, sums and whether its plan tests the policy's OR
-- on every row
CREATE FUNCTION pg_temp.pipeline(who text, implied boolean, OUT total text, OUT tests_or boolean)
LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
    PERFORM set_config('introw.implied_quals', implied::text, true);
    PERFORM set_config('enable_seqscan', 'off', true);
    SET LOCAL ROLE regress_introw_plans;
    PERFORM pg_temp.become(who);
    EXECUTE 'SELECT count(*) || '' '' || coalesce(sum(amount), 0) || '' '' || coalesce(sum(object_id), 0)
             FROM introw.deals' INTO total;
    tests_or := false;
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) SELECT count(*), sum(amount) FROM introw.deals' LOOP
        tests_or := tests_or OR line ~ 'Filter: .*reads_org_objects';
    END LOOP;
    RESET ROLE;
END $$;
-- the contacts of the listings above (restricted, submitters, every role)
-- and the internal users
BEGIN;
CREATE TEMP TABLE pipelines AS
SELECT who, a.total AS implied_total, a.tests_or AS implied_tests_or, b.total AS full_total, b.tests_or AS full_tests_or
FROM (SELECT 'contact ' || c AS who FROM (SELECT unnest(ARRAY[1, 3, 41, 45, 46, 60]) UNION
                                          SELECT g FROM generate_series(7, 6000, 397) g) q(c)
      UNION ALL VALUES ('user 1'), ('user 2')) w,
     LATERAL pg_temp.pipeline(who, true) a, LATERAL pg_temp.pipeline(who, false) b;
COMMIT;
-- (the internal users' plans read no arms: their filter keeps the OR)
SELECT who LIKE 'user %' AS internal, count(*) AS pipelines,
       count(*) FILTER (WHERE implied_total IS DISTINCT FROM full_total) AS different,
       count(*) FILTER (WHERE implied_tests_or) AS implied_tests_or, count(*) FILTER (WHERE full_tests_or) AS full_tests_or,
       count(DISTINCT implied_total) AS distinct_totals
FROM pipelines GROUP BY 1 ORDER BY 1;
-- A cursor planned for contact 46, first read after a switch to the CRM
-- user, returns the CRM user's own deals: 150 deals of no organisation
-- left out.  Planned as a bitmap heap scan, its arms are the CRM user's,
-- evaluated when it starts; planned as the ordered scan (the planner's
-- other scans off), it reads the tenant's deals instead of the arms, and
-- the OR decides (Filter If Read Instead), calling the principal's
-- functions once, when it first tests a row.  who: the principal switched
-- to; same: the deals read are those a query of its own returns.
CREATE FUNCTION pg_temp.read_after_switch(forced boolean, who text DEFAULT 'user 2', OUT plan text,
                                          OUT read bigint, OUT of_no_organisation bigint,
                                          OUT own bigint, OUT same boolean)
LANGUAGE plpgsql AS $$
DECLARE
    c refcursor := 'every_deal';
    r record;
    line text;
    ids bigint[] := '{}';
BEGIN
    PERFORM set_config(s, (NOT forced)::text, true)
    FROM unnest(ARRAY['enable_seqscan', 'enable_indexscan', 'enable_bitmapscan']) AS s;
    PERFORM set_config('cursor_tuple_fraction', '1.0', true);
    SET LOCAL ROLE regress_introw_plans;
    PERFORM introw.set_contact(46, true);
    plan := 'other';
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) SELECT object_id, org_id FROM introw.deals ORDER BY created_at DESC' LOOP
        IF line LIKE '%Custom Scan (introw_ordered)%' THEN
            plan := 'ordered scan';
        ELSIF line LIKE '%Bitmap Heap Scan%' THEN
            plan := 'bitmap heap scan';
        END IF;
    END LOOP;
    OPEN c FOR SELECT object_id, org_id FROM introw.deals ORDER BY created_at DESC;
    PERFORM pg_temp.become(who);
    read := 0;
    of_no_organisation := 0;
    LOOP
        FETCH c INTO r;
        EXIT WHEN NOT FOUND;
        read := read + 1;
        of_no_organisation := of_no_organisation + (r.org_id IS NULL)::int;
        ids := ids || r.object_id;
    END LOOP;
    CLOSE c;
    SELECT count(*), coalesce(array_agg(object_id ORDER BY object_id), '{}') = (SELECT coalesce(array_agg(x ORDER BY x), '{}') FROM unnest(ids) x)
      INTO own, same FROM introw.deals;
    RESET ROLE;
END $$;
BEGIN;
SELECT * FROM pg_temp.read_after_switch(false);
ROLLBACK;
BEGIN;
SELECT * FROM pg_temp.read_after_switch(true);
ROLLBACK;
-- the same cursor read after a switch to the admin (the tenant's deals),
-- to a restricted contact (whose arms the scan reads) and to no principal
-- (nothing)
BEGIN;
SELECT w AS who, r.* FROM unnest(ARRAY['user 1', 'contact 1', 'nobody']) w,
     LATERAL pg_temp.read_after_switch(true, w) r;
ROLLBACK;
-- An initplan of the query's own, (SELECT introw.current_contact_id()),
-- stays in the plan (src/unread_initplans.c), also where PostgreSQL does
-- not count its parameter among those a node reads: a WindowAgg's run
-- condition.  Only the initplans the ordered scan calls leave it.  Contact
-- 46 reads 100 deals: the first 46 rows.
SET ROLE regress_introw_plans;
SELECT introw.set_contact(46);
EXPLAIN (COSTS OFF) SELECT count(*) FROM (SELECT row_number() OVER (ORDER BY object_id) AS rn FROM introw.deals) s
WHERE rn <= (SELECT introw.current_contact_id());
SELECT count(*) AS first_rows, (SELECT count(*) FROM introw.deals) AS deals
FROM (SELECT row_number() OVER (ORDER BY object_id) AS rn FROM introw.deals) s
WHERE rn <= (SELECT introw.current_contact_id());
SELECT introw.reset_principal();
RESET ROLE;
-- Not dropped: an OR with an arm whose index condition is not exact (a
-- pattern's prefix range), read by a superuser with a contact principal;
-- dropped: the same OR with a bigint equality.  Counts equal a
-- sequential scan's.
SELECT introw.set_contact(46);
BEGIN;
CREATE INDEX regress_crm_objects_name ON introw.crm_objects (name text_pattern_ops);
SET LOCAL enable_seqscan = off;
SET LOCAL enable_indexscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM introw.crm_objects
WHERE introw.collaborates_on(object_id) OR name LIKE 'Deal 12_5%';
EXPLAIN (COSTS OFF) SELECT count(*) FROM introw.crm_objects
WHERE introw.collaborates_on(object_id) OR object_id = 12345::bigint;
CREATE TEMP TABLE by_index AS
SELECT (SELECT count(*) FROM introw.crm_objects WHERE introw.collaborates_on(object_id) OR name LIKE 'Deal 12_5%') AS pattern,
       (SELECT count(*) FROM introw.crm_objects WHERE introw.collaborates_on(object_id) OR object_id = 12345::bigint) AS equality;
SET LOCAL enable_seqscan = on;
SET LOCAL enable_bitmapscan = off;
SELECT b.pattern, b.equality,
       b.pattern = (SELECT count(*) FROM introw.crm_objects WHERE introw.collaborates_on(object_id) OR name LIKE 'Deal 12_5%') AS pattern_same,
       b.equality = (SELECT count(*) FROM introw.crm_objects WHERE introw.collaborates_on(object_id) OR object_id = 12345::bigint) AS equality_same
FROM by_index b;
ROLLBACK;
SELECT introw.reset_principal();
-- The whole-tenant arm in a scan's filter.  reads_whole_tenant(id, reads)
-- returns reads, and null where id is null (it is strict): of a NOT NULL
-- column of the scanned table the call becomes reads (the admin's and the
-- CRM user's pipelines above: $1 OR ...); of a column that may be null it
-- stays a call.  Counts, with NOT and OR, equal those of the calls
-- (introw.implied_quals = off); rows of no organisation are left out of
-- both readings of the org_id arm, as a null answer is.
BEGIN;
SET LOCAL enable_indexscan = off;
SET LOCAL enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM introw.crm_objects
WHERE introw.reads_whole_tenant(object_id, (SELECT false)) OR amount > 5000;
EXPLAIN (COSTS OFF) SELECT count(*) FROM introw.crm_objects
WHERE NOT introw.reads_whole_tenant(org_id, (SELECT false));
CREATE FUNCTION pg_temp.whole_tenant_counts(implied boolean) RETURNS bigint[]
LANGUAGE plpgsql AS $$
DECLARE
    counts bigint[] := '{}';
    n bigint;
    q text;
BEGIN
    PERFORM set_config('introw.implied_quals', implied::text, true);
    FOR q IN SELECT format('SELECT count(*) FROM introw.crm_objects WHERE %s', w) FROM unnest(ARRAY[
        'introw.reads_whole_tenant(object_id, (SELECT true))',
        'NOT introw.reads_whole_tenant(object_id, (SELECT false))',
        'introw.reads_whole_tenant(object_id, (SELECT false)) OR amount > 5000',
        'introw.reads_whole_tenant(org_id, (SELECT true))',
        'NOT introw.reads_whole_tenant(org_id, (SELECT false))',
        'introw.reads_whole_tenant(org_id, (SELECT NULL::boolean)) IS NULL',
        'introw.reads_whole_tenant(object_id, (SELECT NULL::boolean)) IS NULL']) AS w LOOP
        EXECUTE q INTO n;
        counts := counts || n;
    END LOOP;
    RETURN counts;
END $$;
SELECT a.counts = b.counts AS same, a.counts[1] = (SELECT count(*) FROM introw.crm_objects) AS every_row,
       a.counts[4] = (SELECT count(org_id) FROM introw.crm_objects) AS of_an_organisation,
       a.counts[4] = a.counts[5] AS not_false_same,
       a.counts[6] = (SELECT count(*) FROM introw.crm_objects) AS null_answers,
       a.counts[7] = (SELECT count(*) FROM introw.crm_objects) AS null_answers_of_ids
FROM pg_temp.whole_tenant_counts(true) a(counts), pg_temp.whole_tenant_counts(false) b(counts);
ROLLBACK;
-- A plan that answered the arm is made again when the column's NOT NULL
-- is dropped: the call comes back, and a null id leaves its row out.
BEGIN;
CREATE TEMP TABLE whole_tenant_ids (id bigint NOT NULL);
INSERT INTO whole_tenant_ids SELECT generate_series(1, 10);
SET LOCAL plan_cache_mode = force_generic_plan;
PREPARE not_false AS SELECT count(*) FROM whole_tenant_ids WHERE NOT introw.reads_whole_tenant(id, (SELECT false));
EXPLAIN (COSTS OFF) EXECUTE not_false;
ALTER TABLE whole_tenant_ids ALTER id DROP NOT NULL;
INSERT INTO whole_tenant_ids VALUES (NULL);
EXPLAIN (COSTS OFF) EXECUTE not_false;
EXECUTE not_false;
DEALLOCATE not_false;
-- Only the extension's own arm, STRICT, is answered.
ALTER FUNCTION introw.reads_whole_tenant(bigint, boolean) CALLED ON NULL INPUT;
DELETE FROM whole_tenant_ids WHERE id IS NULL;
ALTER TABLE whole_tenant_ids ALTER id SET NOT NULL;
EXPLAIN (COSTS OFF) SELECT count(*) FROM whole_tenant_ids WHERE NOT introw.reads_whole_tenant(id, (SELECT false));
ROLLBACK;

-- ---------------------------------------------------------------------------
-- The principal's values as constants in scans compiled by JIT
-- (src/principal_constants.c): a scan whose filter reads the policy's
-- initplans of the principal compiles it again on its first call with
-- their values, and a Gather sends its workers that filter.  Every
-- statement here is compiled (jit_above_cost = 0) and scans its table.
-- ---------------------------------------------------------------------------
-- (optimised: LLVM's optimisation passes too; never inlining, which would
-- read the bitcode of whichever build installed it last)
CREATE FUNCTION pg_temp.jit_settings(constants boolean, parallel boolean, optimised boolean DEFAULT false)
RETURNS void LANGUAGE sql AS $$
    SELECT count(set_config(s, v, true)) FROM (VALUES
        ('introw.principal_constants', constants::text), ('jit', 'on'), ('jit_above_cost', '0'),
        ('jit_inline_above_cost', '-1'), ('jit_optimize_above_cost', CASE WHEN optimised THEN '0' ELSE '-1' END),
        ('enable_indexscan', 'off'), ('enable_indexonlyscan', 'off'), ('enable_bitmapscan', 'off'),
        ('max_parallel_workers_per_gather', CASE WHEN parallel THEN '2' ELSE '0' END),
        ('parallel_leader_participation', (NOT parallel)::text),
        ('parallel_setup_cost', '0'), ('parallel_tuple_cost', '0'),
        ('min_parallel_table_scan_size', '0')) AS v(s, v);
$$;
-- The admin's filter, "$1 OR ...", never reads the contact's id (InitPlan
-- 3): that initplan runs only when the filter is compiled again, which
-- introw.principal_constants = off does not do.  (EXPLAIN prints JIT's
-- own lines only with COSTS.)
BEGIN;
SELECT pg_temp.jit_settings(true, false);
SET LOCAL ROLE regress_introw_plans;
SELECT introw.set_user(1, true);
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT count(*), sum(amount) FROM introw.deals;
RESET ROLE;
SET LOCAL introw.principal_constants = off;
SET LOCAL ROLE regress_introw_plans;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT count(*), sum(amount) FROM introw.deals;
ROLLBACK;
-- the application cannot turn it off
SET ROLE regress_introw_plans;
SET introw.principal_constants = off;
RESET ROLE;

-- The same rows with and without, in the leader, in two workers (the
-- leader not scanning: a table this small it would scan alone), and
-- optimised, for every kind of principal: the deals' pipeline, a filter
-- of the query's own around the policy's, the content items, the
-- contacts, a scan run again for each row of a correlated subquery (its
-- filter reads the outer row too), and a Gather Merge.
CREATE FUNCTION pg_temp.jit_totals(who text, constants boolean, mode text,
                                   OUT totals text, OUT gathered boolean)
LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
    PERFORM pg_temp.jit_settings(constants, mode = 'workers', mode = 'optimised');
    SET LOCAL ROLE regress_introw_plans;
    PERFORM pg_temp.become(who);
    EXECUTE $q$SELECT concat_ws(' ',
        (SELECT count(*) || '/' || coalesce(sum(amount), 0) || '/' || coalesce(sum(object_id), 0) FROM introw.deals),
        (SELECT count(*) FROM introw.crm_objects WHERE org_id IS NULL OR amount > 50000 OR NOT (object_id > 100)),
        (SELECT count(*) FROM introw.content_items),
        (SELECT count(*) FROM introw.partner_contacts),
        (SELECT string_agg(n::text, '/') FROM (SELECT (SELECT count(*) FROM introw.deals d WHERE d.amount > g * 25000) AS n
                                             FROM generate_series(1, 3) g) q),
        (SELECT md5(string_agg(object_id::text, ',')) FROM (SELECT object_id FROM introw.deals
                                                            ORDER BY amount DESC, object_id LIMIT 40) q))$q$ INTO totals;
    gathered := false;
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) SELECT count(*) FROM introw.deals' LOOP
        gathered := gathered OR line LIKE '%Gather%';
    END LOOP;
    RESET ROLE;
END $$;
BEGIN;
CREATE TEMP TABLE jit_totals AS
SELECT who, m.mode, m.mode = 'workers' AS parallel, a.totals AS constants, b.totals AS parameters, a.gathered
FROM unnest(ARRAY['contact 3', 'contact 1', 'contact 46', 'user 1', 'user 2', 'nobody']) AS who,
     unnest(ARRAY['leader', 'workers', 'optimised']) AS m(mode),
     LATERAL pg_temp.jit_totals(who, true, m.mode) a, LATERAL pg_temp.jit_totals(who, false, m.mode) b;
COMMIT;
SELECT who, bool_and(constants = parameters) AS same,
       count(DISTINCT constants) = 1 AS same_in_every_mode,
       bool_or(gathered) FILTER (WHERE parallel) AS workers, bool_or(gathered) FILTER (WHERE NOT parallel) AS leader_only,
       min(regexp_replace(constants, ' [0-9a-f]{32}$', '')) AS totals
FROM jit_totals GROUP BY who ORDER BY who;
-- the plans of the last two, in workers
BEGIN;
SELECT pg_temp.jit_settings(true, true);
SET LOCAL ROLE regress_introw_plans;
SELECT introw.set_contact(3, true);
EXPLAIN (COSTS OFF) SELECT (SELECT count(*) FROM introw.deals d WHERE d.amount > g * 25000) FROM generate_series(1, 3) g;
EXPLAIN (COSTS OFF) SELECT object_id FROM introw.deals ORDER BY amount DESC, object_id LIMIT 40;
ROLLBACK;

-- One cached plan run for several principals in turn: each run compiles
-- its own filter, with the principal of that run; the plan keeps its
-- parameters.
CREATE FUNCTION pg_temp.jit_cached() RETURNS text LANGUAGE plpgsql AS $$
DECLARE t text;
BEGIN
    SELECT count(*) || '/' || coalesce(sum(amount), 0) INTO t FROM introw.deals;
    RETURN t;
END $$;
CREATE FUNCTION pg_temp.jit_in_turn(constants boolean) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    who text;
    totals text[] := '{}';
BEGIN
    PERFORM pg_temp.jit_settings(constants, true);
    PERFORM set_config('plan_cache_mode', 'force_generic_plan', true);
    SET LOCAL ROLE regress_introw_plans;
    FOREACH who IN ARRAY ARRAY['user 1', 'contact 3', 'user 2', 'contact 1', 'user 1'] LOOP
        PERFORM pg_temp.become(who);
        totals := totals || pg_temp.jit_cached();
    END LOOP;
    RESET ROLE;
    RETURN array_to_string(totals, ' ');
END $$;
BEGIN;
SELECT pg_temp.jit_in_turn(true) AS in_turn, pg_temp.jit_in_turn(true) = pg_temp.jit_in_turn(false) AS same,
       pg_temp.jit_in_turn(true) = (SELECT string_agg(substring(j.constants FROM '^[0-9]+/[0-9]+'), ' ' ORDER BY o)
                                    FROM unnest(ARRAY['user 1', 'contact 3', 'user 2', 'contact 1', 'user 1'])
                                         WITH ORDINALITY AS w(who, o)
                                    JOIN jit_totals j ON j.who = w.who AND j.parallel) AS each_its_own;
ROLLBACK;

-- A cursor opened as the admin: first read after a switch to contact 46,
-- it returns the contact's deals (the initplans run at its first row);
-- read on after the switch, it keeps the admin's answers, as an initplan
-- does.  The same with and without.
CREATE FUNCTION pg_temp.jit_cursor(constants boolean, switch_after int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    c refcursor := 'jit_deals';
    r record;
    n bigint := 0;
BEGIN
    PERFORM pg_temp.jit_settings(constants, false);
    SET LOCAL ROLE regress_introw_plans;
    PERFORM introw.set_user(1, true);
    OPEN c FOR SELECT object_id FROM introw.deals;
    LOOP
        IF n = switch_after THEN
            PERFORM introw.set_contact(46, true);
        END IF;
        FETCH c INTO r;
        EXIT WHEN NOT FOUND;
        n := n + 1;
    END LOOP;
    CLOSE c;
    RESET ROLE;
    RETURN n;
END $$;
BEGIN;
SELECT pg_temp.jit_cursor(true, 0) AS first_read_after, pg_temp.jit_cursor(false, 0) AS without,
       pg_temp.jit_cursor(true, 1) AS read_on_after, pg_temp.jit_cursor(false, 1) AS without,
       (SELECT split_part(split_part(constants, ' ', 1), '/', 1) FROM jit_totals WHERE who = 'contact 46' AND mode = 'leader') AS contacts_own;
ROLLBACK;
SELECT introw.reset_principal();

-- ---------------------------------------------------------------------------
-- A principal's newest content items: the item merge (src/item_merge.c)
-- reads each visible tab's items in created_at order from the (tenant_id,
-- tab_id, created_at) index and merges them, fetching from the heap only
-- the rows it returns.  It returns what the planner's own plans return.
-- ---------------------------------------------------------------------------
-- Above, contact 3 sees 105 of the 1,600 tabs and the tenant's newest
-- items are read in order (about 740 rows filtered for 50): cheaper than
-- 105 descents, and chosen.  20,000 more tabs in the other organisations'
-- rooms, with 60,000 newer items, make the walk long (a contact of
-- organisation 1 sees none of them): the merge is chosen.  Tabs 2 and 4
-- (seen by every role) get 140 items of one created_at, ties that cross
-- the merge's batches.
INSERT INTO introw.tabs (tenant_id, tab_id, room_id, name, position) OVERRIDING SYSTEM VALUE
SELECT 1, t, 3 + t % 299, 'Tab ' || t, t % 7 FROM generate_series(1601, 21600) t;
INSERT INTO introw.content_items (tenant_id, item_id, tab_id, kind, title, created_at) OVERRIDING SYSTEM VALUE
SELECT 1, 30000 + i, 1601 + (i * 7919) % 20000, CASE WHEN i % 4 = 0 THEN 'link' ELSE 'file' END, 'Item ' || i,
       timestamptz '2026-03-01' + i * interval '10 seconds'
FROM generate_series(1, 60000) i
UNION ALL
SELECT 1, 90000 + i, CASE WHEN i <= 100 THEN 2 ELSE 4 END, 'asset', 'Tie ' || i, timestamptz '2026-01-10 12:00'
FROM generate_series(1, 140) i;
-- (90,140 items: a statistics target that samples every row keeps the
-- estimates, and the plans, the same on every run)
ALTER TABLE introw.content_items ALTER COLUMN created_at SET STATISTICS 400;
ANALYZE introw.tabs;
ANALYZE introw.content_items;

-- Contact 3's tab ids, in no order, from 21,600 tabs: each id probes
-- tab_id's own index.  Not the (tenant_id, tab_id) key, which an
-- index-only scan (the tabs all visible, vacuumed) would read comparing two
-- columns at every level of every descent: the planner, counting ten ids
-- in a function's array where there are 105, would prefer it.
VACUUM introw.tabs;
SET ROLE regress_introw_plans;
SELECT introw.set_contact(3);
SELECT cardinality(introw.visible_tab_ids()) AS tabs_seen;
EXPLAIN (COSTS OFF) SELECT count(*), max(tab_id) FROM introw.tabs;
EXPLAIN (COSTS OFF) SELECT item_id FROM introw.content_items ORDER BY created_at DESC LIMIT 50;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT item_id FROM introw.content_items ORDER BY created_at DESC LIMIT 50;
-- oldest first (the tabs' index read backwards)
EXPLAIN (COSTS OFF) SELECT item_id FROM introw.content_items ORDER BY created_at, item_id LIMIT 10;
-- every visible item, in order: merged as well (nothing to sort)
EXPLAIN (COSTS OFF) SELECT item_id FROM introw.content_items ORDER BY created_at DESC;
-- the admin sees every tab (more than introw.item_merge_max_tabs): not offered
SELECT introw.set_user(1);
EXPLAIN (COSTS OFF) SELECT item_id FROM introw.content_items ORDER BY created_at DESC LIMIT 50;
RESET ROLE;

-- Listings forced through the merge (the planner's other scans off) equal
-- the planner's own, for contacts of every kind, ties, filters, a LIMIT
-- with OFFSET, FOR SHARE and a correlated subquery (rescans).
TRUNCATE listings;
SELECT pg_temp.compare_listings(ARRAY[
    'SELECT item_id::text AS r FROM introw.content_items ORDER BY created_at DESC, item_id LIMIT 50',
    'SELECT item_id::text AS r FROM introw.content_items ORDER BY created_at, item_id LIMIT 7',
    'SELECT item_id::text AS r FROM introw.content_items ORDER BY created_at DESC, item_id',
    'SELECT item_id::text AS r FROM introw.content_items WHERE kind = ''link'' ORDER BY created_at DESC, item_id LIMIT 20 OFFSET 5',
    'SELECT item_id::text AS r FROM introw.content_items WHERE created_at <= ''2026-01-10 12:00'' ORDER BY created_at DESC, item_id LIMIT 130',
    'SELECT item_id::text AS r FROM introw.content_items ORDER BY created_at DESC, item_id LIMIT 30 FOR SHARE',
    'SELECT (SELECT i.item_id::text FROM introw.content_items i WHERE i.title LIKE ''%'' || g || ''%'' ORDER BY i.created_at DESC, i.item_id LIMIT 1) AS r FROM generate_series(0, 99, 9) g',
    'SELECT item_id::text AS r FROM introw.content_items WHERE created_at < ''2026-03-01 00:10'' ORDER BY created_at DESC, item_id LIMIT 60',
    'SELECT item_id::text AS r FROM introw.content_items WHERE ''2026-01-10 12:00'' <= created_at ORDER BY created_at, item_id LIMIT 40',
    'SELECT item_id::text AS r FROM introw.content_items WHERE created_at BETWEEN ''2026-01-05'' AND ''2026-03-01 01:00'' ORDER BY created_at DESC, item_id',
    'SELECT item_id::text AS r FROM introw.content_items WHERE (created_at, item_id) < (''2026-01-10 12:00'', 90070) ORDER BY created_at DESC, item_id DESC LIMIT 40',
    'SELECT item_id::text AS r FROM introw.content_items WHERE created_at = ''2026-01-10 12:00'' AND created_at > ''2026-01-01'' ORDER BY created_at, item_id',
    'SELECT (SELECT i.item_id::text FROM introw.content_items i WHERE i.created_at < timestamptz ''2026-01-11'' - g * interval ''1 day'' ORDER BY i.created_at DESC, i.item_id LIMIT 1) AS r FROM generate_series(0, 9) g'
]);
SELECT * FROM listings_compared;
-- the ties: contact 3's 130 items up to their created_at hold all 140
SELECT count(*) FILTER (WHERE r.id > 90000) AS ties, count(*) AS items
FROM listings l, unnest(string_to_array(l.on_rows, ',')::bigint[]) AS r(id)
WHERE l.contact = 3 AND l.query LIKE '%<= ''2026-01-10 12:00''%';

-- The ties read again: a tab's batch that ends inside them is followed by
-- one from their created_at on, without the entries already read.
BEGIN;
SELECT pg_temp.forced_scans_as(3);
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT item_id FROM introw.content_items WHERE created_at <= '2026-01-10 12:00' ORDER BY created_at DESC LIMIT 130;
COMMIT;

-- A page of a listing (keyset pagination): the query's created_at bounds
-- are where each tab's read starts and stops (Bounds), so a later page
-- costs what the first does.  A generic plan evaluates them when it
-- starts; above introw.item_merge_max_tabs the tenant's newest items are
-- read from the bound on; a NULL bound: no row.  Two pages per statement:
-- one among the 60,000 newer items, one inside the ties.
BEGIN;
SELECT pg_temp.forced_scans_as(3);
SET LOCAL plan_cache_mode = force_generic_plan;
PREPARE items_pages(timestamptz, timestamptz) AS SELECT
    (SELECT string_agg(item_id::text, ',') FROM (
        SELECT item_id FROM introw.content_items WHERE created_at < $1
        ORDER BY created_at DESC, item_id LIMIT 20) q) AS page_1,
    (SELECT string_agg(item_id::text, ',') FROM (
        SELECT item_id FROM introw.content_items WHERE created_at < $2
        ORDER BY created_at DESC, item_id LIMIT 20) q) AS page_2;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE items_pages('2026-03-07', '2026-01-10 12:00:01');
CREATE TEMP TABLE pages_merged AS EXECUTE items_pages('2026-03-07', '2026-01-10 12:00:01');
-- a stable value is a bound; a volatile one, a date (another type) or an
-- expression of created_at stay conditions only
EXPLAIN (COSTS OFF) SELECT item_id FROM introw.content_items WHERE created_at < now() ORDER BY created_at DESC LIMIT 5;
EXPLAIN (COSTS OFF) SELECT item_id FROM introw.content_items WHERE created_at < clock_timestamp() ORDER BY created_at DESC LIMIT 5;
EXPLAIN (COSTS OFF) SELECT item_id FROM introw.content_items WHERE created_at < date '2026-03-07' ORDER BY created_at DESC LIMIT 5;
EXPLAIN (COSTS OFF) SELECT item_id FROM introw.content_items WHERE created_at + interval '1 day' < '2026-03-07' ORDER BY created_at DESC LIMIT 5;
RESET ROLE;
SET LOCAL introw.item_merge_max_tabs = 10;
SET LOCAL ROLE regress_introw_plans;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE items_pages('2026-03-07', '2026-01-10 12:00:01');
CREATE TEMP TABLE pages_walked AS EXECUTE items_pages('2026-03-07', '2026-01-10 12:00:01');
EXECUTE items_pages(NULL, '2026-01-10 12:00:01');
DEALLOCATE items_pages;
COMMIT;
SET introw.ordered_scan = off;
SET ROLE regress_introw_plans;
SELECT introw.set_contact(3);
CREATE TEMP TABLE pages_planner AS SELECT
    (SELECT string_agg(item_id::text, ',') FROM (
        SELECT item_id FROM introw.content_items WHERE created_at < '2026-03-07'
        ORDER BY created_at DESC, item_id LIMIT 20) q) AS page_1,
    (SELECT string_agg(item_id::text, ',') FROM (
        SELECT item_id FROM introw.content_items WHERE created_at < '2026-01-10 12:00:01'
        ORDER BY created_at DESC, item_id LIMIT 20) q) AS page_2;
RESET ROLE;
RESET introw.ordered_scan;
SELECT m.page_1 = p.page_1 AND m.page_2 = p.page_2 AS merged_same,
       w.page_1 = p.page_1 AND w.page_2 = p.page_2 AS walked_same,
       p.page_2 LIKE '900%' AS page_2_ties
FROM pages_merged m, pages_walked w, pages_planner p;

-- Rows changed in the statement's own transaction: an item moved into a
-- tab contact 3 sees (a new index entry; the old one leads to no visible
-- row), one moved and made the newest, the newest deleted; each visible
-- row once, as the planner's own plans return them.
BEGIN;
CREATE TEMP TABLE newest_3 AS
SELECT split_part(on_rows, ',', 1)::bigint AS item_id FROM listings
WHERE contact = 3 AND query LIKE '%content_items ORDER BY created_at DESC, item_id LIMIT 50';
UPDATE introw.content_items SET tab_id = 102 WHERE item_id = 89999 AND tab_id > 1600;
UPDATE introw.content_items SET tab_id = 103, created_at = created_at + interval '1 year' WHERE item_id = 89998;
DELETE FROM introw.content_items WHERE item_id = (SELECT item_id FROM newest_3);
SELECT l_on.rows = l_off.rows AS same, l_on.used, l_on.rows LIKE '89998,%' AS newest_first,
       l_on.rows LIKE '%,89999,%' AS moved_seen,
       l_on.rows LIKE '%' || (SELECT item_id FROM newest_3) || '%' AS deleted_seen
FROM pg_temp.listing(3, 'SELECT item_id::text AS r FROM introw.content_items ORDER BY created_at DESC, item_id LIMIT 50', true) l_on,
     pg_temp.listing(3, 'SELECT item_id::text AS r FROM introw.content_items ORDER BY created_at DESC, item_id LIMIT 50', false) l_off;
ROLLBACK;

-- A generic plan made for one contact merges the tabs of the contact in
-- force when it runs; with more tabs than introw.item_merge_max_tabs when
-- it runs, it reads the tenant's newest items in order instead; with no
-- principal it reads nothing.
SET ROLE regress_introw_plans;
SET plan_cache_mode = force_generic_plan;
SELECT introw.set_contact(3);
PREPARE newest_items AS SELECT string_agg(item_id::text, ',') FROM (
    SELECT item_id FROM introw.content_items ORDER BY created_at DESC, item_id LIMIT 50) q;
EXPLAIN (COSTS OFF) EXECUTE newest_items;
SELECT introw.set_contact(46);
CREATE TEMP TABLE generic_items_46 AS EXECUTE newest_items;
RESET ROLE;
SET introw.item_merge_max_tabs = 10;
SET ROLE regress_introw_plans;
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE newest_items;
CREATE TEMP TABLE walked_items_46 AS EXECUTE newest_items;
SELECT introw.reset_principal();
EXECUTE newest_items;
DEALLOCATE newest_items;
RESET plan_cache_mode;
RESET ROLE;
RESET introw.item_merge_max_tabs;
SELECT g.string_agg = l.on_rows AS merged_same, w.string_agg = l.on_rows AS walked_same
FROM listings l, generic_items_46 g, walked_items_46 w
WHERE l.contact = 46 AND l.query LIKE '%content_items ORDER BY created_at DESC, item_id LIMIT 50';

-- A leaky function in WHERE sees only rows the policy allows.
BEGIN;
SELECT pg_temp.forced_scans_as(3);
EXPLAIN (COSTS OFF) SELECT title FROM introw.content_items WHERE pg_temp.leak(title) ORDER BY created_at DESC LIMIT 2;
SELECT title FROM introw.content_items WHERE pg_temp.leak(title) ORDER BY created_at DESC LIMIT 2;
COMMIT;
-- the application cannot change how many tabs are merged
SET ROLE regress_introw_plans;
SET introw.item_merge_max_tabs = 100000;
RESET ROLE;

-- A long run of ties (20,000 items of one transaction's now() in one tab):
-- the batches inside it keep doubling, so the run is read in 12 batches,
-- and every item once.  (Last: the index keeps the rolled-back entries
-- until a vacuum, which would change the batches counted above.)
BEGIN;
INSERT INTO introw.content_items (tenant_id, item_id, tab_id, kind, title, created_at) OVERRIDING SYSTEM VALUE
SELECT 1, 100000 + i, 103, 'file', 'Run ' || i, timestamptz '2026-12-01' FROM generate_series(1, 20000) i;
SELECT pg_temp.forced_scans_as(3);
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT item_id FROM introw.content_items ORDER BY created_at DESC LIMIT 20010;
SELECT count(*) AS items, count(DISTINCT item_id) AS distinct_items, count(*) FILTER (WHERE item_id > 100000) AS run
FROM (SELECT item_id FROM introw.content_items ORDER BY created_at DESC LIMIT 20010) q;
ROLLBACK;

-- The planner hook of the policy arms (src/implied_quals.c) runs in every
-- database the library is loaded in: where the extension is not
-- installed, a bitmap heap scan of an OR of functions plans and runs as
-- PostgreSQL makes it.
CREATE DATABASE introw_no_extension;
\c introw_no_extension
CREATE TABLE words (word text, n bigint);
INSERT INTO words SELECT 'w' || g, g FROM generate_series(1, 2000) g;
CREATE INDEX ON words (word text_pattern_ops);
CREATE INDEX ON words (n);
ANALYZE words;
SET enable_seqscan = off;
SET enable_indexscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM words WHERE textlike(word, 'w19%') OR n = 5;
SELECT count(*) FROM words WHERE textlike(word, 'w19%') OR n = 5;
\c introw_plans
DROP DATABASE introw_no_extension;
