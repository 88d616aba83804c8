-- test/pgtap/attacks.sql -- the attacks people try against row-level
-- security, each asserted so that it fails if its defence is removed:
-- a prepared generic plan reused across a principal switch, a leaky user
-- function in WHERE, the tables' owner without BYPASSRLS, SET and
-- set_config of introw.* and request.* names, SET ROLE games, analysts
-- and the grants, and random calls of every function of the extension.
-- (DISCARD ALL, RESET ALL and transaction-local principals of a pooled
-- connection are in sql/principal.sql; hostile arguments per function in
-- bad_input.sql; tokens and JWT claims in sql/tokens.sql.)
-- Rolls back.
BEGIN;
SELECT plan(49);

CREATE TEMP TABLE seen (principal text, tbl text, val text) ON COMMIT DROP;
GRANT ALL ON seen TO PUBLIC;

-- the single value a prepared statement returns
CREATE FUNCTION pg_temp.exec(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
    EXECUTE 'EXECUTE ' || quote_ident(stmt) INTO r;
    RETURN r;
END $$;

-- how many introw.* settings accept a write from the current role
CREATE FUNCTION pg_temp.refusals() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE s record; accepted bigint := 0;
BEGIN
    FOR s IN SELECT name, CASE vartype WHEN 'bool' THEN 'on' WHEN 'integer' THEN '1' ELSE 'contact:1:1:10' END AS v
             FROM pg_settings WHERE name LIKE 'introw.%' ORDER BY name LOOP
        BEGIN
            PERFORM set_config(s.name, s.v, true);
            accepted := accepted + 1;
            RAISE NOTICE 'accepted: %', s.name;
        EXCEPTION WHEN OTHERS THEN NULL;
        END;
    END LOOP;
    RETURN accepted;
END $$;

-- n random calls of the extension's functions with hostile arguments, as
-- role (NULL: the current one); returns how many failed with an internal
-- error (XX000)
CREATE FUNCTION pg_temp.fuzz(n int, role text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    fns text[];
    f regprocedure;
    args text[];
    t oid;
    pool text[];
    call text;
    internal bigint := 0;
BEGIN
    PERFORM setseed(0.42);
    SELECT array_agg(p.oid::regprocedure::text ORDER BY p.oid::regprocedure::text) INTO fns
      FROM pg_proc p
     WHERE p.pronamespace = 'introw'::regnamespace AND p.prorettype <> 'trigger'::regtype
       AND p.prokind = 'f' AND NOT 'internal'::regtype = ANY (p.proargtypes);
    IF role IS NOT NULL THEN
        EXECUTE format('SET LOCAL ROLE %I', role);
    END IF;
    FOR i IN 1..n LOOP
        f := fns[1 + floor(random() * array_length(fns, 1))::int];
        args := '{}';
        FOREACH t IN ARRAY (SELECT proargtypes::oid[] FROM pg_proc WHERE oid = f) LOOP
            pool := CASE t
                WHEN 'bigint'::regtype THEN ARRAY[NULL, '0', '-1', '1', '2', '3', '7', '42',
                                                  '9223372036854775807', '-9223372036854775808']
                WHEN 'integer'::regtype THEN ARRAY[NULL, '0', '-1', '1', '2147483647', '-2147483648']
                WHEN 'boolean'::regtype THEN ARRAY[NULL, 'true', 'false']
                WHEN 'text'::regtype THEN ARRAY[NULL, '', 'x', 'contact', 'user', 'tab', 'item', 'object',
                                                repeat('é', 100000), E'\x01\x02', $q$';DROP TABLE introw.tabs;--$q$,
                                                'v1.1.1.contact.1.9999999999.AAAA', repeat('.', 5000)]
                WHEN 'jsonb'::regtype THEN ARRAY[NULL, '{}', '[]', 'null', '"x"', '{"results": null}',
                                                 '{"results": [{"id": "1", "properties": {"email": "a@b.c"}}]}',
                                                 '{"results": [{"id": 1, "properties": []}]}',
                                                 repeat('[', 2000) || repeat(']', 2000),
                                                 (SELECT jsonb_build_object('results', jsonb_agg(jsonb_build_object('id', g::text)))::text
                                                  FROM generate_series(1, 5000) g)]
                WHEN 'interval'::regtype THEN ARRAY[NULL, '1 hour', '-1 day', '1000 years', '0']
                WHEN 'regrole'::regtype THEN ARRAY[NULL, 'regress_introw_nobody', 'pg_monitor']
                ELSE ARRAY[NULL::text] END;
            args := args || coalesce(quote_literal(pool[1 + floor(random() * array_length(pool, 1))::int])
                                     || '::' || format_type(t, NULL), 'NULL::' || format_type(t, NULL));
        END LOOP;
        call := format('SELECT %s(%s)', (SELECT p.oid::regproc::text FROM pg_proc p WHERE p.oid = f),
                       array_to_string(args, ', '));
        BEGIN
            EXECUTE call;
        EXCEPTION WHEN OTHERS THEN
            IF SQLSTATE = 'XX000' THEN
                internal := internal + 1;
                RAISE WARNING 'internal error: % -- %', SQLERRM, left(call, 200);
            END IF;
        END;
    END LOOP;
    IF role IS NOT NULL THEN
        RESET ROLE;
    END IF;
    RETURN internal;
END $$;

GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pg_temp TO PUBLIC;

-- ---------------------------------------------------------------------------
-- A generic plan prepared for one principal, executed for another
-- ---------------------------------------------------------------------------
SET LOCAL ROLE regress_introw_app;
SET LOCAL plan_cache_mode = force_generic_plan;
SELECT introw.set_contact(fx('rep'));
PREPARE items AS SELECT string_agg(title, ',' ORDER BY title) FROM introw.content_items;
PREPARE deals AS SELECT string_agg(name, ',' ORDER BY name) FROM introw.crm_objects;
CREATE TEMP TABLE answers AS SELECT 'rep' AS who, (SELECT string_agg(title, ',' ORDER BY title) FROM introw.content_items) AS items,
    (SELECT string_agg(name, ',' ORDER BY name) FROM introw.crm_objects) AS deals;
EXECUTE items;
SELECT introw.set_contact(fx('gamma_rep'));
INSERT INTO answers SELECT 'globex_rep', (SELECT string_agg(title, ',' ORDER BY title) FROM introw.content_items),
    (SELECT string_agg(name, ',' ORDER BY name) FROM introw.crm_objects);
SELECT introw.set_user(fx('admin'));
INSERT INTO answers SELECT 'admin', (SELECT string_agg(title, ',' ORDER BY title) FROM introw.content_items),
    (SELECT string_agg(name, ',' ORDER BY name) FROM introw.crm_objects);
SELECT isnt((SELECT items FROM answers WHERE who = 'rep'), (SELECT items FROM answers WHERE who = 'admin'),
            'the principals compared see different items');
SELECT introw.set_contact(fx('rep'));
EXECUTE items;
SELECT is((SELECT * FROM pg_temp.exec('items')), (SELECT items FROM answers WHERE who = 'rep'), 'generic plan: the rep''s items');
SELECT introw.set_contact(fx('gamma_rep'));
SELECT is((SELECT * FROM pg_temp.exec('items')), (SELECT items FROM answers WHERE who = 'globex_rep'),
          'the same generic plan after a switch to another tenant''s contact: its items');
SELECT is((SELECT * FROM pg_temp.exec('deals')), (SELECT deals FROM answers WHERE who = 'globex_rep'),
          'the same generic plan: its CRM objects');
SELECT introw.set_user(fx('admin'));
SELECT is((SELECT * FROM pg_temp.exec('items')), (SELECT items FROM answers WHERE who = 'admin'),
          'the same generic plan after a switch to an admin: the admin''s items');
SELECT introw.reset_principal();
SELECT is((SELECT * FROM pg_temp.exec('items')), NULL, 'the same generic plan with no principal: nothing');
DEALLOCATE items;
DEALLOCATE deals;
RESET ROLE;

-- ---------------------------------------------------------------------------
-- A leaky function in WHERE: cheap, not LEAKPROOF, records what it is shown
-- ---------------------------------------------------------------------------
CREATE FUNCTION pg_temp.peek(tbl text, val text) RETURNS boolean
LANGUAGE plpgsql COST 0.0000001 AS $$
BEGIN
    INSERT INTO seen VALUES (coalesce(introw.current_principal_kind(), '?'), tbl, val);
    RAISE NOTICE 'peek % %', tbl, val;
    RETURN true;
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.peek(text, text) TO PUBLIC;
SET LOCAL client_min_messages = warning;
SET LOCAL ROLE regress_introw_app;
SELECT introw.set_contact(fx('rep'));
SELECT count(*) FROM introw.content_items WHERE pg_temp.peek('content_items', title);
SELECT count(*) FROM introw.tabs WHERE pg_temp.peek('tabs', name);
SELECT count(*) FROM introw.crm_objects WHERE pg_temp.peek('crm_objects', name);
SELECT count(*) FROM introw.partner_contacts WHERE pg_temp.peek('partner_contacts', email);
SELECT count(*) FROM introw.deals WHERE pg_temp.peek('deals', name);
CREATE TEMP TABLE visible_to_rep AS
    SELECT 'content_items' AS tbl, title AS val FROM introw.content_items UNION ALL
    SELECT 'tabs', name FROM introw.tabs UNION ALL
    SELECT 'crm_objects', name FROM introw.crm_objects UNION ALL
    SELECT 'partner_contacts', email FROM introw.partner_contacts UNION ALL
    SELECT 'deals', name FROM introw.deals;
RESET ROLE;
RESET client_min_messages;
SELECT ok((SELECT count(*) FROM seen) > 0, 'the leaky function was called');
SELECT is_empty($$SELECT tbl, val FROM seen EXCEPT SELECT tbl, val FROM visible_to_rep$$,
                'a leaky function in WHERE is shown only rows the contact may see');
SELECT ok((SELECT count(*) FROM introw.content_items) > (SELECT count(*) FROM visible_to_rep WHERE tbl = 'content_items'),
          'there were items it must not see');

-- ---------------------------------------------------------------------------
-- The tables' owner, without superuser or BYPASSRLS
-- ---------------------------------------------------------------------------
CREATE ROLE regress_introw_owner NOLOGIN NOSUPERUSER NOBYPASSRLS;
GRANT USAGE ON SCHEMA introw TO regress_introw_owner;
ALTER TABLE introw.tabs OWNER TO regress_introw_owner;
ALTER TABLE introw.crm_connections OWNER TO regress_introw_owner;
ALTER TABLE introw.token_keys OWNER TO regress_introw_owner;
INSERT INTO introw.token_keys (secret) VALUES (decode(repeat('ab', 32), 'hex'));
SET LOCAL ROLE regress_introw_owner;
SELECT is((SELECT count(*) FROM introw.tabs), 0::bigint, 'the owner of tabs sees no tab without a principal (FORCE)');
SELECT is((SELECT count(*) FROM introw.crm_connections), 0::bigint, 'the owner of crm_connections sees no row without a principal');
SELECT is((SELECT count(*) FROM introw.token_keys), 1::bigint, 'the owner of token_keys reads the keys');
RESET ROLE;
SET LOCAL ROLE regress_introw_app;
SELECT throws_ok('SELECT count(*) FROM introw.token_keys', '42501', NULL, 'the application cannot read the token keys');
SELECT throws_ok('SELECT access_token FROM introw.crm_connections', '42501', NULL,
                 'the application cannot read the CRM access token');
RESET ROLE;

-- ---------------------------------------------------------------------------
-- SET and set_config of introw.* and request.* names
-- ---------------------------------------------------------------------------
SET LOCAL ROLE regress_introw_app;
SELECT introw.reset_principal();
SELECT is(pg_temp.refusals(), 0::bigint, 'every introw.* setting refuses the application (count of accepted writes)');
SELECT throws_ok($$SET introw.contact_id = '1'$$, '42602', NULL, 'no new introw.* name can be made up');
SELECT throws_ok($$SELECT set_config('introw.tenant_id', '1', true)$$, '42602', NULL, 'not with set_config either');
SELECT set_config('request.jwt.claims', format('{"introw_tenant_id": %s, "introw_user_id": %s}', fx('acme'), fx('admin')), true);
SELECT set_config('request.jwt.claim.introw_user_id', fx('admin')::text, true);
SELECT is(introw.current_principal_kind(), 'none', 'request.jwt.claims names no one while trust_jwt_claims is off');
SELECT is((SELECT count(*) FROM introw.tabs), 0::bigint, 'and no tab is shown');
RESET ROLE;

-- ---------------------------------------------------------------------------
-- SET ROLE games: a principal belongs to the database role that set it
-- ---------------------------------------------------------------------------
SET LOCAL ROLE regress_introw_app;
SELECT introw.set_user(fx('admin'));
SELECT ok((SELECT count(*) FROM introw.tabs) > 0, 'the admin principal sees tabs');
RESET ROLE;
SET LOCAL ROLE regress_introw_nobody;
SELECT is((SELECT count(*) FROM introw.tabs), 0::bigint, 'another role after SET ROLE inherits no principal');
SELECT is(introw.current_principal_kind(), 'none', 'it reads as no principal');
RESET ROLE;
SET LOCAL SESSION AUTHORIZATION regress_introw_nobody;
SELECT is((SELECT count(*) FROM introw.tabs), 0::bigint, 'nor after SET SESSION AUTHORIZATION');
RESET SESSION AUTHORIZATION;
SET LOCAL ROLE regress_introw_app;
SELECT ok((SELECT count(*) FROM introw.tabs) > 0, 'back on the role that set it, the principal is in force again');
RESET ROLE;
CREATE FUNCTION pg_temp.as_owner_count() RETURNS bigint LANGUAGE sql SECURITY DEFINER
    AS 'SELECT count(*) FROM introw.tabs';
ALTER FUNCTION pg_temp.as_owner_count() OWNER TO regress_introw_nobody;
GRANT EXECUTE ON FUNCTION pg_temp.as_owner_count() TO PUBLIC;
SET LOCAL ROLE regress_introw_app;
SELECT ok(pg_temp.as_owner_count() > 0,
          'a SECURITY DEFINER function of another role runs with the caller''s principal, under row-level security');
SELECT introw.reset_principal();
SELECT is(pg_temp.as_owner_count(), 0::bigint, 'and with none when the caller has none');
RESET ROLE;

-- ---------------------------------------------------------------------------
-- Grants: nothing that reveals data is PUBLIC; SECURITY DEFINER pins
-- search_path; an analyst reads every tenant but no secret, and writes nothing
-- ---------------------------------------------------------------------------
SELECT is_empty($$
    SELECT c.relname FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
    WHERE c.relnamespace = 'introw'::regnamespace AND a.grantee = 0 AND a.privilege_type = 'SELECT'$$,
    'no table or view of introw is readable by PUBLIC');
SELECT is_empty($$
    SELECT p.oid::regprocedure FROM pg_proc p
    WHERE p.pronamespace = 'introw'::regnamespace AND p.prosecdef
      AND NOT EXISTS (SELECT 1 FROM unnest(p.proconfig) s WHERE s LIKE 'search_path=%')$$,
    'every SECURITY DEFINER function of introw pins search_path');
SELECT is_empty($$
    SELECT p.oid::regprocedure FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
    WHERE p.pronamespace = 'introw'::regnamespace AND a.grantee = 0
      AND p.proname IN ('set_contact', 'set_user', 'authenticate', 'issue_token', 'create_token_key',
                        'contact_visible_tab_ids', 'explain_access', 'grant_application', 'grant_analyst', 'grant_reading',
                        'crm_apply_contacts', 'crm_sync_now')$$,
    'no function that sets a principal, issues tokens, grants or reports is PUBLIC');

CREATE ROLE regress_introw_analyst NOLOGIN NOBYPASSRLS;
SELECT introw.grant_analyst('regress_introw_analyst');
SELECT introw.grant_analyst('regress_introw_analyst');
CREATE ROLE regress_introw_analyst2 NOLOGIN NOBYPASSRLS;
SELECT introw.grant_analyst('regress_introw_analyst2');
CREATE TEMP TABLE everything AS
    SELECT (SELECT count(*) FROM introw.tenants) AS tenants, (SELECT count(*) FROM introw.partner_contacts) AS contacts,
           (SELECT count(*) FROM introw.crm_objects) AS objects, (SELECT count(*) FROM introw.crm_sync_runs) AS runs;
GRANT SELECT ON everything TO PUBLIC;
SET LOCAL ROLE regress_introw_analyst;
SELECT is((SELECT ROW((SELECT count(*) FROM introw.tenants), (SELECT count(*) FROM introw.partner_contacts),
                      (SELECT count(*) FROM introw.crm_objects), (SELECT count(*) FROM introw.crm_sync_runs))::text),
          (SELECT ROW(tenants, contacts, objects, runs)::text FROM everything),
          'an analyst reads every row of every tenant without a principal');
SELECT throws_ok('SELECT access_token FROM introw.crm_connections', '42501', NULL, 'an analyst cannot read the CRM access token');
SELECT throws_ok('SELECT * FROM introw.token_keys', '42501', NULL, 'an analyst cannot read the token keys');
SELECT throws_ok($$UPDATE introw.tabs SET name = 'x'$$, '42501', NULL, 'an analyst cannot write');
SELECT throws_ok($$SELECT introw.set_user(1)$$, '42501', NULL, 'an analyst cannot become anyone');
RESET ROLE;
SET LOCAL ROLE regress_introw_analyst2;
SELECT is((SELECT count(*) FROM introw.partner_contacts), (SELECT contacts FROM everything),
          'a second analyst reads every row too');
RESET ROLE;
SET LOCAL ROLE regress_introw_app;
SELECT is((SELECT count(*) FROM introw.partner_contacts), 0::bigint,
          'the analysts'' policy does not apply to the application');
SELECT throws_ok('SELECT * FROM introw.analysts', '42501', NULL, 'the application cannot read the list of analysts');
RESET ROLE;
SET LOCAL ROLE regress_introw_analyst;
SELECT throws_ok('SELECT * FROM introw.analysts', '42501', NULL, 'an analyst cannot read the list of analysts');
RESET ROLE;
SELECT is((SELECT array_agg(role_name::text ORDER BY role_name) FROM introw.analysts),
          ARRAY['regress_introw_analyst', 'regress_introw_analyst2'],
          'grant_analyst records each analyst once (the first was granted twice)');
-- a row deleted: out of every policy, reads nothing
DELETE FROM introw.analysts WHERE role_name = 'regress_introw_analyst2';
SELECT is((SELECT count(*) FROM pg_policies WHERE schemaname = 'introw' AND policyname = 'analyst_read'
           AND 'regress_introw_analyst2' = ANY (roles)), 0::bigint,
          'a deleted analyst is in no analyst_read policy');
SET LOCAL ROLE regress_introw_analyst2;
SELECT is((SELECT count(*) FROM introw.partner_contacts), 0::bigint, 'a deleted analyst reads no row');
RESET ROLE;
-- a role that does not exist (a restore onto a server without it): a
-- warning, the other analysts keep their policies
SELECT lives_ok($$INSERT INTO introw.analysts (role_name) VALUES ('regress_introw_no_such_role')$$,
                'an analyst row naming a missing role is accepted (with a warning)');
SELECT is((SELECT count(*) FROM pg_policies WHERE schemaname = 'introw' AND policyname = 'analyst_read'
           AND roles = ARRAY['regress_introw_analyst']::name[]), 17::bigint,
          'every analyst_read policy names the remaining analyst only');

-- ---------------------------------------------------------------------------
-- The ordered scans (src/ordered_scan.c, src/item_merge.c), forced with the
-- planner's other scans off: every contact's newest deals, CRM objects and
-- content items, in order, are those of the planner's own plans (here also
-- under Valgrind memcheck: test/sanitize)
-- ---------------------------------------------------------------------------
CREATE FUNCTION pg_temp.ordered_listing(contact bigint, query text, ordered boolean,
                                        OUT rows text, OUT used boolean)
LANGUAGE plpgsql AS $$
DECLARE
    plan text;
    knobs text[] := ARRAY['enable_seqscan', 'enable_indexscan', 'enable_indexonlyscan', 'enable_bitmapscan'];
BEGIN
    PERFORM set_config('introw.ordered_scan', ordered::text, true);
    PERFORM set_config(k, (NOT ordered)::text, true) FROM unnest(knobs) AS k;
    SET LOCAL ROLE regress_introw_app;
    PERFORM introw.set_contact(contact, true);
    EXECUTE format('SELECT string_agg(id::text, '','') FROM (%s) q', query) INTO rows;
    used := false;
    FOR plan IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        used := used OR plan LIKE '%Custom Scan (introw_%';
    END LOOP;
    PERFORM introw.reset_principal();
    RESET ROLE;
    PERFORM set_config(k, 'on', true) FROM unnest(knobs || 'introw.ordered_scan'::text) AS k;
END $$;
CREATE TEMP TABLE ordered_listings AS
SELECT c.contact_id, q.query, (pg_temp.ordered_listing(c.contact_id, q.query, true)).*,
       (pg_temp.ordered_listing(c.contact_id, q.query, false)).rows AS own_rows
FROM introw.partner_contacts c,
     unnest(ARRAY['SELECT object_id AS id FROM introw.deals ORDER BY created_at DESC, object_id LIMIT 3',
                  'SELECT object_id AS id FROM introw.deals ORDER BY created_at, object_id',
                  'SELECT object_id AS id FROM introw.crm_objects WHERE object_type = ''lead'' ORDER BY created_at DESC, object_id',
                  'SELECT item_id AS id FROM introw.content_items ORDER BY created_at DESC, item_id LIMIT 2',
                  'SELECT item_id AS id FROM introw.content_items ORDER BY created_at, item_id',
                  'SELECT item_id AS id FROM introw.content_items WHERE kind <> ''link'' ORDER BY created_at DESC, item_id']) AS q(query);
SELECT ok((SELECT count(*) FILTER (WHERE used) > 0 AND count(*) FILTER (WHERE rows IS NOT NULL) > 0
           FROM ordered_listings WHERE query LIKE '%crm_objects%' OR query LIKE '%deals%'),
          'the ordered scan read some contacts'' CRM objects');
SELECT is((SELECT count(*) FROM ordered_listings WHERE (query LIKE '%crm_objects%' OR query LIKE '%deals%')
           AND rows IS DISTINCT FROM own_rows), 0::bigint,
          'every contact''s ordered CRM objects are those of the planner''s own plans');
SELECT ok((SELECT count(*) FILTER (WHERE used) > 0 AND count(*) FILTER (WHERE rows IS NOT NULL) > 0
           FROM ordered_listings WHERE query LIKE '%content_items%'),
          'the item merge read some contacts'' content items');
SELECT is((SELECT count(*) FROM ordered_listings WHERE query LIKE '%content_items%'
           AND rows IS DISTINCT FROM own_rows), 0::bigint,
          'every contact''s ordered content items are those of the planner''s own plans');

-- ---------------------------------------------------------------------------
-- Random calls of every function of the extension, hostile arguments
-- ---------------------------------------------------------------------------
SELECT is(pg_temp.fuzz(400, 'regress_introw_app'), 0::bigint,
          'random calls as the application: no internal error (XX000) and no crash');
SELECT is(pg_temp.fuzz(400, NULL), 0::bigint,
          'random calls as the superuser: no internal error (XX000) and no crash');

SELECT * FROM finish();
ROLLBACK;
