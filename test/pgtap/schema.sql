-- test/pgtap/schema.sql -- the data model's contract (PRODUCT.md sections 2-3):
-- row-level security on every table, dump registration, function privileges
-- and volatility, the listed tables and columns, uniqueness, CHECKs,
-- tenant-bound foreign keys and the preconfigured roles of a new tenant.
-- Runs as the superuser (constraints hold for everyone); rolls back.
BEGIN;
SELECT plan(291);

-- ---------------------------------------------------------------------------
-- 17 tables, each with row-level security ENABLED and FORCED
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE spec_tables (t text PRIMARY KEY) ON COMMIT DROP;
INSERT INTO spec_tables VALUES
    ('tenants'), ('tiers'), ('internal_users'), ('partner_organizations'), ('partner_roles'),
    ('partner_contacts'), ('rooms'), ('tabs'), ('tab_roles'), ('content_items'), ('crm_objects'),
    ('collaborators'), ('tasks'), ('portal_settings'), ('crm_connections'), ('crm_sync_runs'),
    ('crm_sync_rejects');

SELECT has_table('introw', t, format('table introw.%s exists', t)) FROM spec_tables ORDER BY t;

SELECT is((SELECT count(*) FROM pg_class
           WHERE relnamespace = 'introw'::regnamespace AND relkind IN ('r', 'p')),
          21::bigint, 'schema introw has exactly the 17 tables of section 2, visibility_epochs, token_keys, analysts and pending_champions');

SELECT ok(coalesce((SELECT c.relrowsecurity
                    FROM pg_class c
                    WHERE c.relnamespace = 'introw'::regnamespace AND c.relname = s.t), false),
          format('introw.%s has row level security enabled', s.t))
FROM spec_tables s ORDER BY s.t;

SELECT ok(coalesce((SELECT c.relforcerowsecurity
                    FROM pg_class c
                    WHERE c.relnamespace = 'introw'::regnamespace AND c.relname = s.t), false),
          format('introw.%s has row level security forced (owner does not bypass)', s.t))
FROM spec_tables s ORDER BY s.t;

SELECT is_empty($$
    SELECT relname FROM pg_class
    WHERE relnamespace = 'introw'::regnamespace AND relkind IN ('r', 'p')
      AND NOT (relrowsecurity AND relforcerowsecurity)$$,
    'no table of schema introw lacks ENABLE + FORCE row level security');

-- the visibility stamps: private, derived state, not dumped
SELECT is_empty($$SELECT 1 FROM pg_policy WHERE polrelid = 'introw.visibility_epochs'::regclass$$,
                'introw.visibility_epochs has no policy: nobody but superusers reads it');
SELECT ok(NOT (SELECT 'introw.visibility_epochs'::regclass = ANY (extconfig)
                FROM pg_extension WHERE extname = 'introw_roles'),
          'introw.visibility_epochs is not dumped (a restore stamps anew)');

-- the champions waiting for their contacts during a restore: private, transient
SELECT is_empty($$SELECT 1 FROM pg_policy WHERE polrelid = 'introw.pending_champions'::regclass$$,
                'introw.pending_champions has no policy: nobody but superusers reads it');
SELECT ok(NOT (SELECT 'introw.pending_champions'::regclass = ANY (extconfig)
                FROM pg_extension WHERE extname = 'introw_roles'),
          'introw.pending_champions is not dumped');
SELECT ok(NOT has_table_privilege('regress_introw_app', 'introw.pending_champions', 'SELECT, INSERT, UPDATE, DELETE'),
          'grant_application() grants nothing on introw.pending_champions');
-- reading a table is one privilege: SELECT on the table, but where a column
-- is hidden (the CRM access token), where it is per column
SELECT is_empty($$
    SELECT c.relname FROM introw.readable_relations() c
    WHERE c.relkind = 'r' AND c.relname <> 'crm_connections'
      AND NOT has_table_privilege('regress_introw_app', c.oid, 'SELECT')$$,
    'grant_application() grants SELECT on every readable table without a hidden column');
SELECT ok(NOT has_table_privilege('regress_introw_app', 'introw.crm_connections', 'SELECT')
          AND has_column_privilege('regress_introw_app', 'introw.crm_connections', 'base_url', 'SELECT'),
          'grant_application() grants SELECT on introw.crm_connections column by column');
SELECT is((SELECT provolatile::text FROM pg_proc WHERE oid = 'introw.restoring()'::regprocedure), 's',
          'introw.restoring() is STABLE');

-- ---------------------------------------------------------------------------
-- pg_dump: every table and every identity sequence is extension config
-- ---------------------------------------------------------------------------
SELECT ok(coalesce((SELECT to_regclass('introw.' || s.t) = ANY (e.extconfig)
                    FROM pg_extension e WHERE e.extname = 'introw_roles'), false),
          format('introw.%s is registered in pg_extension.extconfig', s.t))
FROM spec_tables s ORDER BY s.t;

SELECT is((SELECT count(*) FROM pg_attribute a
           JOIN pg_class c ON c.oid = a.attrelid
           WHERE c.relnamespace = 'introw'::regnamespace AND c.relkind = 'r'
             AND a.attidentity <> '' AND NOT a.attisdropped),
          13::bigint, '13 identity columns (one per table with a generated id)');

SELECT is_empty($$
    SELECT c.relname, a.attname
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    WHERE c.relnamespace = 'introw'::regnamespace AND c.relkind = 'r'
      AND a.attidentity <> '' AND NOT a.attisdropped
      AND NOT pg_get_serial_sequence(c.oid::regclass::text, a.attname)::regclass::oid
              = ANY ((SELECT extconfig FROM pg_extension WHERE extname = 'introw_roles')::oid[])$$,
    'every identity sequence is registered in pg_extension.extconfig');

SELECT is_empty($$
    SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    WHERE c.relnamespace = 'introw'::regnamespace AND c.relkind = 'r'
      AND a.attidentity <> '' AND a.atttypid <> 'bigint'::regtype$$,
    'every identity column is bigint');

-- ---------------------------------------------------------------------------
-- Tenant layout: tenant_id bigint NOT NULL everywhere, leading every primary
-- key, part of every foreign key
-- ---------------------------------------------------------------------------
SELECT is_empty($$
    SELECT s.t FROM spec_tables s
    WHERE NOT EXISTS (
        SELECT 1 FROM pg_attribute a
        WHERE a.attrelid = to_regclass('introw.' || s.t) AND a.attname = 'tenant_id'
          AND a.atttypid = 'bigint'::regtype AND a.attnotnull)$$,
    'every table has tenant_id bigint NOT NULL');

SELECT is_empty($$
    SELECT conrelid::regclass FROM pg_constraint
    WHERE connamespace = 'introw'::regnamespace AND contype = 'p'
      AND conkey[1] <> (SELECT attnum FROM pg_attribute
                        WHERE attrelid = conrelid AND attname = 'tenant_id')$$,
    'every primary key starts with tenant_id');

SELECT is_empty($$
    SELECT conname FROM pg_constraint
    WHERE connamespace = 'introw'::regnamespace AND contype = 'f'
      AND NOT (SELECT attnum FROM pg_attribute
               WHERE attrelid = conrelid AND attname = 'tenant_id') = ANY (conkey)$$,
    'every foreign key includes tenant_id');

-- ---------------------------------------------------------------------------
-- Functions: the principal setters and the report function are not PUBLIC
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE private_functions (f text PRIMARY KEY) ON COMMIT DROP;
INSERT INTO private_functions VALUES
    ('introw.set_contact(bigint, boolean)'), ('introw.set_user(bigint, boolean)'),
    ('introw.reset_principal()'), ('introw.contact_visible_tab_ids(bigint)');

SELECT ok(NOT has_function_privilege('regress_introw_nobody', f, 'EXECUTE'),
          format('a role without grants may not EXECUTE %s', f))
FROM private_functions ORDER BY f;

SELECT ok((SELECT p.proacl IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM aclexplode(p.proacl) a
                                  WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')
           FROM pg_proc p WHERE p.oid = f::regprocedure),
          format('EXECUTE on %s is revoked from PUBLIC', f))
FROM private_functions ORDER BY f;

SELECT ok(has_function_privilege('regress_introw_app', f, 'EXECUTE'),
          format('the application role was granted EXECUTE on %s', f))
FROM private_functions WHERE f <> 'introw.contact_visible_tab_ids(bigint)' ORDER BY f;

SET LOCAL ROLE regress_introw_nobody;
SELECT throws_ok($$SELECT introw.set_contact(fx('rep'))$$, '42501', NULL,
                 'a role without EXECUTE cannot become a contact');
SELECT throws_ok($$SELECT introw.set_user(fx('admin'))$$, '42501', NULL,
                 'a role without EXECUTE cannot become an internal user');
SELECT throws_ok($$SELECT set_config('introw.contact_id', '1', false)$$, '42602', NULL,
                 'the introw. GUC prefix is reserved: no SET forges a principal');
SELECT is(introw.current_tenant_id(), NULL, 'still no principal for the role without EXECUTE');
RESET ROLE;

-- Visibility functions: STABLE, never IMMUTABLE (they depend on the principal)
SELECT is((SELECT provolatile::text FROM pg_proc WHERE oid = f::regprocedure), 's',
          format('%s is STABLE', f))
FROM unnest(ARRAY['introw.visible_tab_ids()', 'introw.can_see_tab(bigint)',
                  'introw.contact_visible_tab_ids(bigint)', 'introw.visible_room_ids()',
                  'introw.readable_org_ids()', 'introw.managed_org_ids()',
                  'introw.readable_user_ids()', 'introw.reads_configuration()',
                  'introw.current_tenant_id()', 'introw.current_contact_id()',
                  'introw.current_user_id()', 'introw.current_principal_kind()',
                  'introw.current_reads_whole_tenant()', 'introw.reads_whole_tenant(bigint, boolean)']) AS f
ORDER BY f;

SELECT is_empty($$
    SELECT proname FROM pg_proc
    WHERE pronamespace = 'introw'::regnamespace AND provolatile = 'i'$$,
    'no function of schema introw is IMMUTABLE');

-- ---------------------------------------------------------------------------
-- The listed columns of section 2
-- ---------------------------------------------------------------------------
SELECT has_column('introw', t, c, format('introw.%s has column %s', t, c))
FROM (VALUES
    ('tenants', 'tenant_id'), ('tenants', 'name'), ('tenants', 'created_at'),
    ('tiers', 'tenant_id'), ('tiers', 'tier_id'), ('tiers', 'name'), ('tiers', 'rank'),
    ('internal_users', 'tenant_id'), ('internal_users', 'user_id'), ('internal_users', 'email'),
    ('internal_users', 'full_name'), ('internal_users', 'user_role'),
    ('internal_users', 'hubspot_user_id'), ('internal_users', 'active'),
    ('partner_organizations', 'tenant_id'), ('partner_organizations', 'org_id'),
    ('partner_organizations', 'name'), ('partner_organizations', 'tier_id'),
    ('partner_organizations', 'partner_manager_id'), ('partner_organizations', 'partner_champion_id'),
    ('partner_organizations', 'crm_company_id'), ('partner_organizations', 'created_at'),
    ('partner_roles', 'tenant_id'), ('partner_roles', 'role_id'), ('partner_roles', 'name'),
    ('partner_roles', 'collaboration_restricted'), ('partner_roles', 'is_default'),
    ('partner_roles', 'crm_value'), ('partner_roles', 'preconfigured'),
    ('partner_contacts', 'tenant_id'), ('partner_contacts', 'contact_id'),
    ('partner_contacts', 'org_id'), ('partner_contacts', 'email'), ('partner_contacts', 'full_name'),
    ('partner_contacts', 'role_id'), ('partner_contacts', 'role_source'),
    ('partner_contacts', 'crm_contact_id'), ('partner_contacts', 'created_at'),
    ('partner_contacts', 'updated_at'),
    ('rooms', 'tenant_id'), ('rooms', 'room_id'), ('rooms', 'org_id'), ('rooms', 'name'),
    ('tabs', 'tenant_id'), ('tabs', 'tab_id'), ('tabs', 'room_id'), ('tabs', 'name'), ('tabs', 'position'),
    ('tab_roles', 'tenant_id'), ('tab_roles', 'tab_id'), ('tab_roles', 'role_id'),
    ('content_items', 'tenant_id'), ('content_items', 'item_id'), ('content_items', 'tab_id'),
    ('content_items', 'kind'), ('content_items', 'title'), ('content_items', 'url'),
    ('content_items', 'created_at'),
    ('crm_objects', 'tenant_id'), ('crm_objects', 'object_id'), ('crm_objects', 'object_type'),
    ('crm_objects', 'org_id'), ('crm_objects', 'submitted_by_contact_id'), ('crm_objects', 'name'),
    ('crm_objects', 'stage'), ('crm_objects', 'amount'), ('crm_objects', 'crm_object_id'),
    ('crm_objects', 'created_at'), ('crm_objects', 'updated_at'),
    ('collaborators', 'tenant_id'), ('collaborators', 'object_id'), ('collaborators', 'contact_id'),
    ('collaborators', 'user_id'),
    ('tasks', 'tenant_id'), ('tasks', 'task_id'), ('tasks', 'org_id'), ('tasks', 'title'),
    ('tasks', 'status'), ('tasks', 'due_date'), ('tasks', 'assignee_contact_id'),
    ('portal_settings', 'tenant_id'), ('portal_settings', 'settings'), ('portal_settings', 'updated_at'),
    ('crm_connections', 'tenant_id'), ('crm_connections', 'base_url'),
    ('crm_connections', 'access_token'), ('crm_connections', 'role_property'),
    ('crm_connections', 'enabled'), ('crm_connections', 'poll_interval'),
    ('crm_sync_runs', 'run_id'), ('crm_sync_runs', 'tenant_id'), ('crm_sync_runs', 'started_at'),
    ('crm_sync_runs', 'finished_at'), ('crm_sync_runs', 'status'), ('crm_sync_runs', 'pages'),
    ('crm_sync_runs', 'fetched'), ('crm_sync_runs', 'applied'), ('crm_sync_runs', 'unchanged'),
    ('crm_sync_runs', 'rejected'), ('crm_sync_runs', 'http_status'), ('crm_sync_runs', 'error'),
    ('crm_sync_rejects', 'run_id'), ('crm_sync_rejects', 'tenant_id'),
    ('crm_sync_rejects', 'crm_contact_id'), ('crm_sync_rejects', 'email'),
    ('crm_sync_rejects', 'value'), ('crm_sync_rejects', 'reason')
) AS v(t, c);

SELECT col_type_is('introw', t, c, ty, format('introw.%s.%s is %s', t, c, ty))
FROM (VALUES
    ('tiers', 'rank', 'integer'), ('internal_users', 'hubspot_user_id', 'text'),
    ('internal_users', 'active', 'boolean'), ('partner_organizations', 'crm_company_id', 'text'),
    ('partner_roles', 'collaboration_restricted', 'boolean'), ('partner_roles', 'is_default', 'boolean'),
    ('partner_roles', 'crm_value', 'text'), ('partner_roles', 'preconfigured', 'boolean'),
    ('partner_contacts', 'crm_contact_id', 'text'), ('tabs', 'position', 'integer'),
    ('crm_objects', 'amount', 'numeric'), ('crm_objects', 'crm_object_id', 'text'),
    ('portal_settings', 'settings', 'jsonb'), ('crm_connections', 'poll_interval', 'interval')
) AS v(t, c, ty);

SELECT col_is_null('introw', t, c, format('introw.%s.%s is nullable', t, c))
FROM (VALUES ('partner_contacts', 'role_id'), ('partner_contacts', 'role_source'),
             ('rooms', 'org_id'), ('crm_objects', 'org_id'),
             ('crm_objects', 'submitted_by_contact_id'),
             ('collaborators', 'contact_id'), ('collaborators', 'user_id')) AS v(t, c);

SELECT has_view('introw', v, format('view introw.%s exists', v))
FROM unnest(ARRAY['deals', 'task_progress', 'access_matrix', 'unassigned_contacts']) AS v;

SELECT has_column('introw', v, c, format('view introw.%s has column %s', v, c))
FROM (VALUES ('access_matrix', 'tenant_id'), ('access_matrix', 'role_id'),
             ('access_matrix', 'role_name'), ('access_matrix', 'tab_id'),
             ('access_matrix', 'tab_name'), ('access_matrix', 'visible'),
             ('task_progress', 'tenant_id'), ('task_progress', 'org_id'),
             ('task_progress', 'total'), ('task_progress', 'done'),
             ('task_progress', 'open'), ('task_progress', 'in_progress')) AS x(v, c);

-- ---------------------------------------------------------------------------
-- Uniqueness, case-insensitive, per tenant
-- ---------------------------------------------------------------------------
SELECT throws_ok(format($$INSERT INTO introw.partner_contacts (tenant_id, org_id, email)
                          VALUES (%s, %s, 'REP@Alpha.TEST')$$, fx('acme'), fx('alpha')),
                 '23505', NULL, 'contact email is unique per tenant, case-insensitively');
SELECT throws_ok(format($$INSERT INTO introw.partner_contacts (tenant_id, org_id, email)
                          VALUES (%s, %s, 'rep@alpha.test')$$, fx('acme'), fx('beta')),
                 '23505', NULL, 'contact email is unique per tenant, also across organisations');
SELECT lives_ok(format($$INSERT INTO introw.partner_contacts (tenant_id, org_id, email)
                         VALUES (%s, %s, 'rep@alpha.test')$$, fx('globex'), fx('gamma')),
                'the same contact email is fine in another tenant');
SELECT throws_ok(format($$INSERT INTO introw.internal_users (tenant_id, email, user_role)
                          VALUES (%s, 'Admin@ACME.test', 'member')$$, fx('acme')),
                 '23505', NULL, 'internal user email is unique per tenant, case-insensitively');
SELECT lives_ok(format($$INSERT INTO introw.internal_users (tenant_id, email, user_role)
                         VALUES (%s, 'admin@acme.test', 'member')$$, fx('globex')),
                'the same internal user email is fine in another tenant');
SELECT throws_ok(format($$INSERT INTO introw.partner_roles (tenant_id, name)
                          VALUES (%s, 'sales REP')$$, fx('acme')),
                 '23505', NULL, 'role name is unique per tenant, case-insensitively');
SELECT throws_ok(format($$INSERT INTO introw.partner_roles (tenant_id, name)
                          VALUES (%s, 'RESTRICTED rep')$$, fx('acme')),
                 '23505', NULL, 'a custom role name is unique per tenant, case-insensitively');
SELECT lives_ok(format($$INSERT INTO introw.partner_roles (tenant_id, name)
                         VALUES (%s, 'Restricted Rep')$$, fx('globex')),
                'the same role name is fine in another tenant');
SELECT throws_ok(format($$INSERT INTO introw.tiers (tenant_id, name) VALUES (%s, 'GOLD')$$, fx('acme')),
                 '23505', NULL, 'tier name is unique per tenant, case-insensitively');

-- at most one default per tenant
SELECT throws_ok($$UPDATE introw.partner_roles SET is_default = true
                   WHERE role_id = fx('solutions_engineer')$$,
                 '23505', NULL, 'a second default role in one tenant is refused (UPDATE)');
SELECT throws_ok(format($$INSERT INTO introw.partner_roles (tenant_id, name, is_default)
                          VALUES (%s, 'Another Default', true)$$, fx('acme')),
                 '23505', NULL, 'a second default role in one tenant is refused (INSERT)');
SELECT results_eq($$SELECT role_id FROM introw.partner_roles
                    WHERE tenant_id = fx('acme') AND is_default$$,
                  ARRAY[fx('sales_rep')], 'Acme still has exactly its one default, Sales Rep');

-- ---------------------------------------------------------------------------
-- CHECK constraints on enumerations
-- ---------------------------------------------------------------------------
SELECT throws_ok(format($$INSERT INTO introw.internal_users (tenant_id, email, user_role)
                          VALUES (%s, 'x1@acme.test', 'owner')$$, fx('acme')),
                 '23514', NULL, 'user_role outside admin/member/partner_manager/crm_user is refused');
SELECT throws_ok(format($$INSERT INTO introw.internal_users (tenant_id, email, user_role)
                          VALUES (%s, 'x2@acme.test', 'Admin')$$, fx('acme')),
                 '23514', NULL, 'user_role is case-sensitive (Admin is refused)');
SELECT throws_ok($$UPDATE introw.partner_contacts SET role_source = 'manual'
                   WHERE contact_id = fx('rep')$$,
                 '23514', NULL, 'role_source outside explicit/default/crm is refused');
SELECT throws_ok(format($$INSERT INTO introw.content_items (tenant_id, tab_id, kind, title)
                          VALUES (%s, %s, 'video', 'x')$$, fx('acme'), fx('welcome')),
                 '23514', NULL, 'content kind outside file/link/asset/form/document is refused');
SELECT throws_ok(format($$INSERT INTO introw.crm_objects (tenant_id, object_type, name)
                          VALUES (%s, 'opportunity', 'x')$$, fx('acme')),
                 '23514', NULL, 'object_type outside deal/lead/ticket/contact/company is refused');
SELECT throws_ok(format($$INSERT INTO introw.tasks (tenant_id, org_id, title, status)
                          VALUES (%s, %s, 'x', 'closed')$$, fx('acme'), fx('alpha')),
                 '23514', NULL, 'task status outside open/in_progress/done is refused');
SELECT throws_ok(format($$INSERT INTO introw.crm_sync_runs (tenant_id, status)
                          VALUES (%s, 'aborted')$$, fx('acme')),
                 '23514', NULL, 'sync run status outside running/succeeded/failed is refused');
SELECT throws_ok(format($$WITH o AS (INSERT INTO introw.crm_objects (tenant_id, object_type, name)
                                     VALUES (%1$s, 'deal', 'd') RETURNING tenant_id, object_id)
                          INSERT INTO introw.collaborators (tenant_id, object_id)
                          SELECT tenant_id, object_id FROM o$$, fx('acme')),
                 '23514', NULL, 'a collaborator with neither contact nor user is refused');
SELECT lives_ok(format($$INSERT INTO introw.tasks (tenant_id, org_id, title, status)
                         VALUES (%1$s, %2$s, 'a', 'open'), (%1$s, %2$s, 'b', 'in_progress'),
                                (%1$s, %2$s, 'c', 'done')$$, fx('acme'), fx('alpha')),
                'the three listed task statuses are accepted');

-- ---------------------------------------------------------------------------
-- Foreign keys never cross tenants
-- ---------------------------------------------------------------------------
SELECT throws_ok(format($$INSERT INTO introw.partner_contacts (tenant_id, org_id, email, role_id)
                          VALUES (%s, %s, 'x3@alpha.test', %s)$$,
                        fx('acme'), fx('alpha'), fx('globex_sales_rep')),
                 '23503', NULL, 'an Acme contact cannot have a Globex role');
SELECT throws_ok(format($$INSERT INTO introw.partner_contacts (tenant_id, org_id, email)
                          VALUES (%s, %s, 'x4@alpha.test')$$, fx('acme'), fx('gamma')),
                 '23503', NULL, 'an Acme contact cannot belong to a Globex organisation');
SELECT throws_ok($$UPDATE introw.partner_contacts SET role_id = fx('globex_sales_rep')
                   WHERE contact_id = fx('rep')$$,
                 '23503', NULL, 'an Acme contact cannot be moved to a Globex role');
SELECT throws_ok(format($$INSERT INTO introw.tab_roles (tenant_id, tab_id, role_id)
                          VALUES (%s, %s, %s)$$, fx('acme'), fx('globexnews'), fx('sales_rep')),
                 '23503', NULL, 'tab_roles cannot link a Globex tab to an Acme role (Acme row)');
SELECT throws_ok(format($$INSERT INTO introw.tab_roles (tenant_id, tab_id, role_id)
                          VALUES (%s, %s, %s)$$, fx('globex'), fx('globexnews'), fx('sales_rep')),
                 '23503', NULL, 'tab_roles cannot link a Globex tab to an Acme role (Globex row)');
SELECT throws_ok(format($$INSERT INTO introw.tabs (tenant_id, room_id, name)
                          VALUES (%s, %s, 'x')$$, fx('acme'), fx('globex_room')),
                 '23503', NULL, 'an Acme tab cannot live in a Globex room');
SELECT throws_ok(format($$INSERT INTO introw.content_items (tenant_id, tab_id, kind, title)
                          VALUES (%s, %s, 'file', 'x')$$, fx('acme'), fx('globexnews')),
                 '23503', NULL, 'an Acme item cannot live in a Globex tab');
SELECT throws_ok(format($$INSERT INTO introw.rooms (tenant_id, org_id, name)
                          VALUES (%s, %s, 'x')$$, fx('globex'), fx('alpha')),
                 '23503', NULL, 'a Globex room cannot belong to an Acme organisation');
SELECT throws_ok(format($$INSERT INTO introw.partner_organizations (tenant_id, name, partner_manager_id)
                          VALUES (%s, 'x', %s)$$, fx('acme'), fx('globex_admin')),
                 '23503', NULL, 'an Acme organisation cannot be managed by a Globex user');
SELECT throws_ok($$UPDATE introw.partner_organizations SET partner_champion_id = fx('beta_rep')
                   WHERE org_id = fx('alpha')$$,
                 '23503', NULL, 'the champion of Alpha must be a contact of Alpha');

-- ---------------------------------------------------------------------------
-- A new tenant gets exactly the three preconfigured roles, none default
-- ---------------------------------------------------------------------------
INSERT INTO introw.tenants (name) VALUES ('Initech');
SELECT results_eq($$SELECT r.name, r.preconfigured, r.is_default, r.crm_value,
                           r.collaboration_restricted
                    FROM introw.partner_roles r JOIN introw.tenants t USING (tenant_id)
                    WHERE t.name = 'Initech' ORDER BY r.name$$,
                  $$VALUES ('Partner Manager', true, false, 'Partner Manager', false),
                           ('Sales Rep', true, false, 'Sales Rep', false),
                           ('Solutions Engineer', true, false, 'Solutions Engineer', false)$$,
                  'a new tenant gets Sales Rep, Solutions Engineer, Partner Manager: preconfigured, not default');
SELECT is((SELECT count(*) FROM introw.partner_roles r JOIN introw.tenants t USING (tenant_id)
           WHERE t.name = 'Initech' AND r.is_default), 0::bigint,
          'the new tenant has no default role');

SELECT * FROM finish();
ROLLBACK;
