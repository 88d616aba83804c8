-- test/pgtap/matrix_generated.sql -- the permission matrix of PRODUCT.md
-- section 4, generated: every principal x every table of section 2 (all 17)
-- x every command (SELECT, INSERT, UPDATE, DELETE), each tried for real
-- against a real row of test/fixture.sql, plus target-specific cases (other
-- organisation, other row, moving a row, registering in another name).
--
-- How it works:
--   * grid      one line per table, one permission string per principal
--               ('S', 'I', 'U', 'D' = allowed, '-' = refused), written out
--               from the matrix of PRODUCT.md section 4;
--   * targets   the Acme row (in organisation Alpha where it matters) each
--               command of each table is aimed at;
--   * extras    target-specific expectations (rows of another organisation,
--               moves, refusals by a trigger with their SQLSTATE and message);
--   * expect    grid x commands + extras, one row per attempt;
--   * run(who)  for each expect row of a principal, attempt(seq): in a
--               subtransaction that
--               is always rolled back: (setup as the superuser), fingerprint
--               of all 17 tables as the superuser, SET LOCAL ROLE
--               regress_introw_app, become the principal, run the command,
--               RESET ROLE, fingerprint again; the outcome (rows, SQLSTATE,
--               message, fingerprint unchanged?) goes to the table outcome;
--   * report    one assertion per expect row:
--                 SELECT allowed = the target row is returned, refused = not;
--                 INSERT allowed = succeeds and changes the data, refused =
--                   the expected SQLSTATE (42501 unless noted) and nothing
--                   changed;
--                 UPDATE/DELETE allowed = exactly 1 row changed, refused = 0
--                   rows (or the noted SQLSTATE) and nothing changed.
--     After each principal's block, the fingerprint must equal the one taken
--     before the matrix (every attempt was rolled back), and every read of
--     the block, tried again, must answer as the first time (no visibility
--     cache outlives a rolled-back write).
-- Then hand-written checks: no principal reads every table as empty, the
-- Globex admin reads no Acme row, task_progress for the crm_user, and deal
-- registration (submitter, automatic collaborators, INSERT ... RETURNING by a
-- restricted contact).
--
-- Principals (fixture keys): rep (contact, Alpha, Sales Rep), restricted
-- (contact, Alpha, collaboration restricted), norole (contact, Alpha, no
-- role), crm (crm_user), pm (partner_manager of Alpha only), member, admin,
-- none (no principal), globex_admin (admin of Globex, acting on Acme rows).
BEGIN;
SELECT plan(763);

-- ---------------------------------------------------------------------------
-- Set-up, as the superuser
-- ---------------------------------------------------------------------------
-- names the fixture does not register (rolled back with the rest)
INSERT INTO public.fx SELECT lower(name), tier_id FROM introw.tiers WHERE tenant_id = fx('acme');

-- a fixture id that must exist (a typo must not turn into "0 rows: refused")
CREATE FUNCTION pg_temp.id(key text) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
DECLARE v bigint := public.fx(key);
BEGIN
    IF v IS NULL THEN
        RAISE EXCEPTION 'unknown fixture key "%"', key;
    END IF;
    RETURN v;
END $$;

CREATE TEMP TABLE principals (who text PRIMARY KEY, pos int, kind text, tenant text) ON COMMIT DROP;
INSERT INTO principals VALUES
    ('rep', 1, 'contact', 'acme'), ('restricted', 2, 'contact', 'acme'), ('norole', 3, 'contact', 'acme'),
    ('crm', 4, 'crm_user', 'acme'), ('pm', 5, 'partner_manager', 'acme'), ('member', 6, 'member', 'acme'),
    ('admin', 7, 'admin', 'acme'), ('none', 8, 'none', NULL), ('globex_admin', 9, 'admin', 'globex');

CREATE FUNCTION pg_temp.become(who text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    CASE
    WHEN who = 'none' THEN PERFORM introw.reset_principal();
    WHEN who IN ('rep', 'restricted', 'norole') THEN PERFORM introw.set_contact(pg_temp.id(who), true);
    ELSE PERFORM introw.set_user(pg_temp.id(who), true);
    END CASE;
END $$;

-- ---------------------------------------------------------------------------
-- The matrix (PRODUCT.md section 4), own tenant Acme.
--   S = read the target row, I = insert a valid new row, U = update the
--   target row, D = delete it; '-' = refused.
--   Readings of the matrix made here:
--   * admin "all" on tenants: but a new tenant is another tenant, which
--     never exists for it, so its INSERT is refused (as in matrix.sql);
--   * the cell "crm_objects, collaborators" for contacts ("update objects it
--     collaborates on") and crm_user ("update") is read as updating the
--     objects: neither updates nor deletes collaborator rows.
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE grid (tbl text PRIMARY KEY, pos int, rep text, restricted text, norole text, crm text,
                        pm text, member text, admin text, "none" text, globex_admin text) ON COMMIT DROP;
INSERT INTO grid VALUES
--   table                    pos  rep     restr.  norole  crm     pm      member  admin   none    globex
    ('tenants',                1, 'S---', 'S---', 'S---', 'S---', 'S---', 'S---', 'S-UD', '----', '----'),
    ('tiers',                  2, 'S---', 'S---', 'S---', 'S---', 'S---', 'S---', 'SIUD', '----', '----'),
    ('internal_users',         3, '----', '----', '----', '----', 'S---', 'S---', 'SIUD', '----', '----'),
    ('partner_organizations',  4, 'S---', 'S---', 'S---', 'S---', 'S-U-', 'SIUD', 'SIUD', '----', '----'),
    ('partner_roles',          5, 'S---', 'S---', 'S---', 'S---', 'S---', 'S---', 'SIUD', '----', '----'),
    ('partner_contacts',       6, 'S---', 'S---', 'S---', 'S---', 'SIUD', 'SIUD', 'SIUD', '----', '----'),
    ('rooms',                  7, 'S---', 'S---', 'S---', 'S---', 'S---', 'S---', 'SIUD', '----', '----'),
    ('tabs',                   8, 'S---', 'S---', 'S---', 'S---', 'S---', 'S---', 'SIUD', '----', '----'),
    ('tab_roles',              9, '----', '----', '----', '----', 'S---', 'S---', 'SIUD', '----', '----'),
    ('content_items',         10, 'S---', 'S---', 'S---', 'S---', 'S---', 'SIUD', 'SIUD', '----', '----'),
    ('crm_objects',           11, 'SIU-', '-I--', '-I--', 'SIU-', 'SIUD', 'SIUD', 'SIUD', '----', '----'),
    ('collaborators',         12, 'SI--', '----', '----', 'SI--', 'SIUD', 'SIUD', 'SIUD', '----', '----'),
    ('tasks',                 13, 'S-U-', 'S-U-', 'S-U-', '----', 'SIUD', 'SIUD', 'SIUD', '----', '----'),
    ('portal_settings',       14, '----', '----', '----', '----', '----', '----', 'SIUD', '----', '----'),
    ('crm_connections',       15, '----', '----', '----', '----', '----', '----', 'SIUD', '----', '----'),
    ('crm_sync_runs',         16, '----', '----', '----', '----', 'S---', 'S---', 'SIUD', '----', '----'),
    ('crm_sync_rejects',      17, '----', '----', '----', '----', 'S---', 'S---', 'SIUD', '----', '----');

-- The row each command of each table is aimed at.  Keys: fixture names;
-- "a+b" for the two-column keys of tab_roles and collaborators (c: contact,
-- u: user); for INSERT the organisation (or key pair) of the new row.
CREATE TEMP TABLE targets (tbl text, cmd text, target text, what text, PRIMARY KEY (tbl, cmd)) ON COMMIT DROP;
INSERT INTO targets
SELECT tbl, cmd, CASE WHEN cmd = 'INSERT' THEN ins ELSE row_key END,
       CASE WHEN cmd = 'INSERT' THEN ins_what ELSE row_what END
FROM (VALUES
    ('tenants',               'acme',                   'Acme',                     'acme',                 'a new tenant'),
    ('tiers',                 'gold',                   'tier Gold',                'acme',                 'a tier'),
    ('internal_users',        'pm',                     'user pm',                  'acme',                 'a member user'),
    ('partner_organizations', 'alpha',                  'org Alpha',                'acme',                 'an organisation'),
    ('partner_roles',         'restricted_rep',         'role Restricted Rep',      'acme',                 'a role'),
    ('partner_contacts',      'mgr',                    'contact mgr (Alpha)',      'alpha',                'a contact of Alpha'),
    ('rooms',                 'alpha_room',             'Alpha Room',               'acme',                 'a room of Alpha'),
    ('tabs',                  'alphaplan',              'tab Alpha Plan',           'acme',                 'a tab in Alpha Room'),
    ('tab_roles',             'alphaprice+restricted_rep', 'limit Alpha Pricing/Restricted Rep', 'alphaplan+sales_rep', 'limit Alpha Plan/Sales Rep'),
    ('content_items',         'item_alphaplan',         'item of Alpha Plan',       'acme',                 'an item in Alpha Plan'),
    ('crm_objects',           'a1',                     'a1 (Alpha, rep collaborates)', 'alpha',            'a deal of Alpha'),
    ('collaborators',         'a1+u:pm',                'a1/user pm',               'a1+c:se',              'a1 + contact se'),
    ('tasks',                 'task_onboarding',        'Alpha onboarding',         'alpha',                'a task of Alpha'),
    ('portal_settings',       'acme',                   'Acme settings',            'acme',                 'Acme settings (after removing them)'),
    ('crm_connections',       'acme',                   'Acme connection',          'acme',                 'Acme connection (after removing it)'),
    ('crm_sync_runs',         'run1',                   'run1',                     'acme',                 'a run'),
    ('crm_sync_rejects',      'run1',                   'reject of run1',           'run1',                 'a reject of run1')
) AS v(tbl, row_key, row_what, ins, ins_what),
unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) AS cmd;

-- Expectations about particular rows.  target: see targets; for UPDATE,
-- "row>org" moves the row to that organisation; for crm_objects INSERT,
-- "org/contact" names a submitter.  errcode: the SQLSTATE of a refusal
-- (NULL for UPDATE/DELETE: 0 rows); errmsg: the exact message, if given.
CREATE TEMP TABLE extras (who text, tbl text, cmd text, target text, what text, allowed boolean,
                          errcode text, errmsg text, note text) ON COMMIT DROP;
INSERT INTO extras VALUES
    -- organisations, contacts, users, rooms, tabs, items: other rows
    ('rep', 'partner_organizations', 'SELECT', 'beta', 'org Beta', false, NULL, NULL, 'not its organisation'),
    ('rep', 'partner_contacts', 'SELECT', 'beta_rep', 'contact beta_rep', false, NULL, NULL, 'Beta''s contact'),
    ('rep', 'partner_contacts', 'UPDATE', 'rep', 'itself', false, NULL, NULL, 'contacts write no contact, not even themselves'),
    ('rep', 'rooms', 'SELECT', 'beta_room', 'Beta Room', false, NULL, NULL, 'room of another organisation'),
    ('rep', 'rooms', 'SELECT', 'portal', 'Portal', true, NULL, NULL, 'portal-wide room'),
    ('rep', 'tabs', 'SELECT', 'alphaprice', 'tab Alpha Pricing', true, NULL, NULL, 'limited to Sales Rep'),
    ('rep', 'tabs', 'SELECT', 'techdocs', 'tab Technical Docs', false, NULL, NULL, 'limited to Solutions Engineer'),
    ('norole', 'tabs', 'SELECT', 'alphaprice', 'tab Alpha Pricing', false, NULL, NULL, 'a role-less contact sees only unlimited tabs'),
    ('restricted', 'tabs', 'SELECT', 'alphaprice', 'tab Alpha Pricing', true, NULL, NULL, 'limited to Restricted Rep too'),
    ('rep', 'content_items', 'SELECT', 'item_techdocs', 'item of Technical Docs', false, NULL, NULL, 'its tab is not visible'),
    ('rep', 'content_items', 'SELECT', 'item_alphaprice', 'item of Alpha Pricing', true, NULL, NULL, 'its tab is visible'),
    ('norole', 'content_items', 'SELECT', 'item_alphaprice', 'item of Alpha Pricing', false, NULL, NULL, 'its tab is limited'),
    ('crm', 'internal_users', 'SELECT', 'crm', 'its own row', true, NULL, NULL, 'a crm_user reads its own row'),
    ('crm', 'internal_users', 'UPDATE', 'crm', 'its own row', false, NULL, NULL, 'read only'),
    ('crm', 'partner_organizations', 'SELECT', 'beta', 'org Beta', true, NULL, NULL, 'reads every organisation'),
    ('pm', 'partner_organizations', 'SELECT', 'beta', 'org Beta', true, NULL, NULL, 'reads every organisation'),
    ('pm', 'partner_organizations', 'UPDATE', 'beta', 'org Beta', false, NULL, NULL, 'does not manage Beta'),
    ('pm', 'partner_contacts', 'SELECT', 'beta_rep', 'contact beta_rep', true, NULL, NULL, 'reads every contact'),
    ('pm', 'partner_contacts', 'INSERT', 'beta', 'a contact of Beta', false, '42501', NULL, 'does not manage Beta'),
    ('pm', 'partner_contacts', 'UPDATE', 'beta_rep', 'contact beta_rep', false, NULL, NULL, 'does not manage Beta'),
    ('pm', 'partner_contacts', 'UPDATE', 'mgr>beta', 'contact mgr into Beta', false, '42501', NULL, 'cannot move a contact out of its orgs'),
    ('pm', 'partner_contacts', 'DELETE', 'beta_rep', 'contact beta_rep', false, NULL, NULL, 'does not manage Beta'),
    ('member', 'partner_contacts', 'UPDATE', 'beta_rep', 'contact beta_rep', true, NULL, NULL, 'any organisation'),
    -- crm_objects
    ('rep', 'crm_objects', 'SELECT', 'a2', 'a2 (Alpha, se''s)', true, NULL, NULL, 'its organisation, role not restricted'),
    ('rep', 'crm_objects', 'SELECT', 'b1', 'b1 (Beta)', false, NULL, NULL, 'another organisation, no collaboration'),
    ('rep', 'crm_objects', 'SELECT', 'v1', 'v1 (vendor''s own)', false, NULL, NULL, 'not attributed to a partner'),
    ('rep', 'crm_objects', 'INSERT', 'beta', 'a deal of Beta', false, '42501',
     'partner contacts register objects for their own organisation only', 'deal registration: own organisation only'),
    ('rep', 'crm_objects', 'INSERT', 'alpha/se', 'a deal of Alpha in se''s name', false, '42501',
     'a partner contact registers objects in its own name', 'deal registration: own name only'),
    ('rep', 'crm_objects', 'INSERT', 'null', 'a deal without org_id', true, NULL, NULL, 'registered for its own organisation'),
    ('rep', 'crm_objects', 'UPDATE', 'a2', 'a2 (Alpha, se''s)', false, NULL, NULL, 'reads it, but is not a collaborator'),
    ('rep', 'crm_objects', 'UPDATE', 'a1>beta', 'a1 into Beta', false, '42501',
     'partner contacts cannot move objects to another organisation or submitter', 'never moves an object'),
    ('restricted', 'crm_objects', 'SELECT', 'a3', 'a3 (its collaboration)', true, NULL, NULL, 'collaborator'),
    ('restricted', 'crm_objects', 'SELECT', 'a2', 'a2 (Alpha)', false, NULL, NULL, 'restricted: collaborations only, even within its organisation'),
    ('restricted', 'crm_objects', 'UPDATE', 'a3', 'a3 (its collaboration)', true, NULL, NULL, 'updates what it collaborates on'),
    ('norole', 'crm_objects', 'SELECT', 'b1', 'b1 (Beta, its collaboration)', true, NULL, NULL, 'collaborator across organisations'),
    ('norole', 'crm_objects', 'SELECT', 'a2', 'a2 (Alpha)', false, NULL, NULL, 'no role = restricted'),
    ('norole', 'crm_objects', 'UPDATE', 'b1', 'b1 (its collaboration)', true, NULL, NULL, 'updates what it collaborates on'),
    ('norole', 'crm_objects', 'UPDATE', 'b1>alpha', 'b1 into Alpha', false, '42501',
     'partner contacts cannot move objects to another organisation or submitter', 'never moves an object'),
    ('norole', 'crm_objects', 'INSERT', 'beta', 'a deal of Beta', false, '42501',
     'partner contacts register objects for their own organisation only', 'collaborating on a Beta deal gives no Beta registration'),
    ('crm', 'crm_objects', 'SELECT', 'b1', 'b1 (Beta)', true, NULL, NULL, 'org_id NOT NULL'),
    ('crm', 'crm_objects', 'SELECT', 'v1', 'v1 (vendor''s own)', false, NULL, NULL, 'org_id NULL'),
    ('crm', 'crm_objects', 'INSERT', 'beta', 'a deal of Beta', true, NULL, NULL, 'registers for any partner'),
    ('crm', 'crm_objects', 'INSERT', 'null', 'a deal without org', false, '42501',
     'a CRM user registers and edits objects of a partner organisation', 'org_id must be set'),
    ('crm', 'crm_objects', 'UPDATE', 'v1', 'v1 (vendor''s own)', false, NULL, NULL, 'not readable'),
    ('crm', 'crm_objects', 'UPDATE', 'a1>null', 'a1 to the vendor', false, '42501',
     'a CRM user registers and edits objects of a partner organisation', 'org_id must stay set'),
    ('pm', 'crm_objects', 'SELECT', 'b1', 'b1 (Beta)', false, NULL, NULL, 'does not manage Beta'),
    ('pm', 'crm_objects', 'INSERT', 'beta', 'a deal of Beta', false, '42501', NULL, 'does not manage Beta'),
    ('pm', 'crm_objects', 'UPDATE', 'b1', 'b1 (Beta)', false, NULL, NULL, 'does not manage Beta'),
    ('pm', 'crm_objects', 'UPDATE', 'a1>beta', 'a1 into Beta', false, '42501', NULL, 'cannot move out of its orgs'),
    ('pm', 'crm_objects', 'DELETE', 'b1', 'b1 (Beta)', false, NULL, NULL, 'does not manage Beta'),
    ('member', 'crm_objects', 'SELECT', 'v1', 'v1 (vendor''s own)', true, NULL, NULL, 'whole tenant'),
    -- collaborators
    ('rep', 'collaborators', 'INSERT', 'a1+c:beta_rep', 'a1 + contact beta_rep', false, '42501', NULL, 'adds contacts of its own organisation only'),
    ('rep', 'collaborators', 'INSERT', 'a2+c:mgr', 'a2 + contact mgr', false, '42501', NULL, 'not a collaborator on a2'),
    ('rep', 'collaborators', 'INSERT', 'a1+u:member', 'a1 + user member', false, '42501', NULL, 'contacts add contacts only'),
    ('rep', 'collaborators', 'DELETE', 'a1+c:rep', 'a1/contact rep (itself)', false, NULL, NULL, 'contacts cannot delete'),
    ('restricted', 'collaborators', 'SELECT', 'a3+c:restricted', 'a3/contact restricted', true, NULL, NULL, 'its collaboration'),
    ('restricted', 'collaborators', 'INSERT', 'a3+c:se', 'a3 + contact se', true, NULL, NULL, 'collaborates on a3, se is of Alpha'),
    ('restricted', 'collaborators', 'INSERT', 'a3+c:beta_rep', 'a3 + contact beta_rep', false, '42501', NULL, 'beta_rep is not of its organisation'),
    ('norole', 'collaborators', 'SELECT', 'b1+c:beta_rep', 'b1/contact beta_rep', true, NULL, NULL, 'rows of an object it reads'),
    ('norole', 'collaborators', 'INSERT', 'b1+c:se', 'b1 + contact se', false, '42501', NULL, 'b1 is of Beta: a contact shares objects of its own organisation only'),
    ('norole', 'collaborators', 'INSERT', 'b1+c:beta_rep', 'b1 + contact beta_rep', false, '42501', NULL, 'beta_rep is not of its organisation'),
    ('crm', 'collaborators', 'SELECT', 'b1+c:beta_rep', 'b1/contact beta_rep', true, NULL, NULL, 'b1 readable'),
    ('crm', 'collaborators', 'SELECT', 'v1+u:admin', 'v1/user admin', false, NULL, NULL, 'v1 not readable'),
    ('crm', 'collaborators', 'INSERT', 'b1+u:member', 'b1 + user member', true, NULL, NULL, 'adds anyone to an object it reads'),
    ('crm', 'collaborators', 'INSERT', 'v1+c:se', 'v1 + contact se', false, '42501', NULL, 'v1 not readable'),
    ('crm', 'collaborators', 'DELETE', 'a1+c:rep', 'a1/contact rep', false, NULL, NULL, 'crm_user cannot delete'),
    ('pm', 'collaborators', 'SELECT', 'b1+c:beta_rep', 'b1/contact beta_rep', false, NULL, NULL, 'does not manage Beta'),
    ('pm', 'collaborators', 'INSERT', 'b1+c:se', 'b1 + contact se', false, '42501', NULL, 'does not manage Beta'),
    ('pm', 'collaborators', 'DELETE', 'b1+c:norole', 'b1/contact norole', false, NULL, NULL, 'does not manage Beta'),
    ('member', 'collaborators', 'DELETE', 'a1+c:rep', 'a1/contact rep (the submitter)', false, '23001',
     format('contact %s submitted object %s and stays one of its collaborators', pg_temp.id('rep'), pg_temp.id('a1')),
     'trigger collaborators_keep_submitter'),
    -- tasks
    ('rep', 'tasks', 'SELECT', 'task_kickoff', 'Beta kickoff', false, NULL, NULL, 'another organisation'),
    ('rep', 'tasks', 'UPDATE', 'task_kickoff', 'Beta kickoff', false, NULL, NULL, 'another organisation'),
    ('rep', 'tasks', 'UPDATE', 'task_onboarding>beta', 'Alpha onboarding into Beta', false, '42501',
     'new row violates row-level security policy for table "tasks"', 'cannot move a task'),
    ('pm', 'tasks', 'SELECT', 'task_kickoff', 'Beta kickoff', false, NULL, NULL, 'does not manage Beta'),
    ('pm', 'tasks', 'INSERT', 'beta', 'a task of Beta', false, '42501', NULL, 'does not manage Beta'),
    ('pm', 'tasks', 'UPDATE', 'task_kickoff', 'Beta kickoff', false, NULL, NULL, 'does not manage Beta'),
    ('pm', 'tasks', 'DELETE', 'task_kickoff', 'Beta kickoff', false, NULL, NULL, 'does not manage Beta'),
    ('member', 'tasks', 'SELECT', 'task_kickoff', 'Beta kickoff', true, NULL, NULL, 'whole tenant');

-- Every attempt: the grid expanded over the four commands, then the extras.
CREATE TEMP TABLE expect (seq serial, who text, tbl text, cmd text, target text, what text, allowed boolean,
                          errcode text, errmsg text, note text, base boolean) ON COMMIT DROP;
INSERT INTO expect (who, tbl, cmd, target, what, allowed, errcode, errmsg, note, base)
SELECT p.who, g.tbl, c.cmd, t.target, t.what, substr(g.perms, c.pos, 1) <> '-',
       CASE WHEN substr(g.perms, c.pos, 1) = '-' AND c.cmd = 'INSERT' THEN '42501' END, NULL,
       CASE WHEN p.who = 'none' THEN 'no principal'
            WHEN p.who = 'globex_admin' THEN 'another tenant''s row'
            WHEN p.who = 'admin' AND g.tbl = 'tenants' AND c.cmd = 'INSERT'
                THEN 'a new tenant is another tenant, which never exists for an admin (as in matrix.sql)'
            ELSE 'matrix' END, true
FROM principals p
CROSS JOIN LATERAL (SELECT tbl, pos, (to_jsonb(g) ->> p.who) AS perms FROM grid g) g
CROSS JOIN (VALUES (1, 'SELECT'), (2, 'INSERT'), (3, 'UPDATE'), (4, 'DELETE')) AS c(pos, cmd)
JOIN targets t ON t.tbl = g.tbl AND t.cmd = c.cmd
ORDER BY p.pos, g.pos, c.pos;
INSERT INTO expect (who, tbl, cmd, target, what, allowed, errcode, errmsg, note, base)
SELECT e.who, e.tbl, e.cmd, e.target, e.what, e.allowed, e.errcode, e.errmsg, e.note, false
FROM extras e JOIN principals p USING (who) JOIN grid g USING (tbl)
ORDER BY p.pos, g.pos, array_position(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE'], e.cmd);
GRANT SELECT ON principals, grid, targets, extras, expect TO PUBLIC;

-- ---------------------------------------------------------------------------
-- Statement builders
-- ---------------------------------------------------------------------------
-- the WHERE condition that finds one row of tbl by its target key
CREATE FUNCTION pg_temp.key_cond(tbl text, key text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    a text := split_part(key, '+', 1);
    b text := split_part(key, '+', 2);
BEGIN
    RETURN CASE tbl
        WHEN 'tenants' THEN format('tenant_id = %s', pg_temp.id(key))
        WHEN 'portal_settings' THEN format('tenant_id = %s', pg_temp.id(key))
        WHEN 'crm_connections' THEN format('tenant_id = %s', pg_temp.id(key))
        WHEN 'tiers' THEN format('tier_id = %s', pg_temp.id(key))
        WHEN 'internal_users' THEN format('user_id = %s', pg_temp.id(key))
        WHEN 'partner_organizations' THEN format('org_id = %s', pg_temp.id(key))
        WHEN 'partner_roles' THEN format('role_id = %s', pg_temp.id(key))
        WHEN 'partner_contacts' THEN format('contact_id = %s', pg_temp.id(key))
        WHEN 'rooms' THEN format('room_id = %s', pg_temp.id(key))
        WHEN 'tabs' THEN format('tab_id = %s', pg_temp.id(key))
        WHEN 'tab_roles' THEN format('tab_id = %s AND role_id = %s', pg_temp.id(a), pg_temp.id(b))
        WHEN 'content_items' THEN format('item_id = %s', pg_temp.id(key))
        WHEN 'crm_objects' THEN format('object_id = %s', pg_temp.id(key))
        WHEN 'collaborators' THEN format('object_id = %s AND %s = %s', pg_temp.id(a),
                                         CASE left(b, 2) WHEN 'c:' THEN 'contact_id' WHEN 'u:' THEN 'user_id' END,
                                         pg_temp.id(substr(b, 3)))
        WHEN 'tasks' THEN format('task_id = %s', pg_temp.id(key))
        WHEN 'crm_sync_runs' THEN format('run_id = %s', pg_temp.id(key))
        WHEN 'crm_sync_rejects' THEN format('run_id = %s', pg_temp.id(key))
    END;
END $$;

-- the statement of one attempt
CREATE FUNCTION pg_temp.stmt(tbl text, cmd text, target text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    acme bigint := pg_temp.id('acme');
    rowkey text := split_part(target, '>', 1);
    move_to text := nullif(split_part(target, '>', 2), '');
    a text := split_part(target, '+', 1);
    b text := split_part(target, '+', 2);
    org text := split_part(target, '/', 1);
    submitter text := nullif(split_part(target, '/', 2), '');
    set_clause text;
BEGIN
    IF cmd = 'SELECT' THEN
        -- one column the application role may read (crm_connections.access_token is not)
        RETURN format('SELECT tenant_id FROM introw.%I WHERE %s', tbl, pg_temp.key_cond(tbl, target));
    ELSIF cmd = 'DELETE' THEN
        RETURN format('DELETE FROM introw.%I WHERE %s', tbl, pg_temp.key_cond(tbl, target));
    ELSIF cmd = 'UPDATE' THEN
        IF move_to IS NOT NULL THEN
            set_clause := format('org_id = %s', CASE move_to WHEN 'null' THEN 'NULL' ELSE pg_temp.id(move_to)::text END);
        ELSE
            set_clause := CASE tbl
                WHEN 'tenants' THEN $q$name = name || ' (renamed)'$q$
                WHEN 'tiers' THEN 'rank = rank + 10'
                WHEN 'internal_users' THEN $q$full_name = full_name || ' Jr'$q$
                WHEN 'partner_organizations' THEN $q$crm_company_id = 'tmp-company'$q$
                WHEN 'partner_roles' THEN $q$crm_value = crm_value || ' (x)'$q$
                WHEN 'partner_contacts' THEN $q$full_name = full_name || ' Jr'$q$
                WHEN 'rooms' THEN $q$name = name || ' (x)'$q$
                WHEN 'tabs' THEN 'position = position + 10'
                WHEN 'tab_roles' THEN format('role_id = %s', pg_temp.id('solutions_engineer'))
                WHEN 'content_items' THEN $q$title = title || ' (x)'$q$
                WHEN 'crm_objects' THEN $q$stage = 'Won', amount = coalesce(amount, 0) + 1$q$
                WHEN 'collaborators' THEN format('user_id = %s', pg_temp.id('member'))
                WHEN 'tasks' THEN $q$status = 'in_progress'$q$
                WHEN 'portal_settings' THEN $q$settings = settings || '{"tmp": 1}'$q$
                WHEN 'crm_connections' THEN 'enabled = NOT enabled'
                WHEN 'crm_sync_runs' THEN $q$status = 'failed'$q$
                WHEN 'crm_sync_rejects' THEN $q$reason = reason || ' (x)'$q$
            END;
        END IF;
        RETURN format('UPDATE introw.%I SET %s WHERE %s', tbl, set_clause, pg_temp.key_cond(tbl, rowkey));
    END IF;
    -- INSERT: a valid new row
    RETURN CASE tbl
        WHEN 'tenants' THEN $q$INSERT INTO introw.tenants (name) VALUES ('Tmp Tenant')$q$
        WHEN 'tiers' THEN format($q$INSERT INTO introw.tiers (tenant_id, name, rank) VALUES (%s, 'Tmp Tier', 9)$q$, acme)
        WHEN 'internal_users' THEN
            format($q$INSERT INTO introw.internal_users (tenant_id, email, full_name, user_role)
                      VALUES (%s, 'tmp@acme.test', 'Tim Tmp', 'member')$q$, acme)
        WHEN 'partner_organizations' THEN
            format($q$INSERT INTO introw.partner_organizations (tenant_id, name, tier_id) VALUES (%s, 'Tmp Org', %s)$q$,
                   acme, pg_temp.id('silver'))
        WHEN 'partner_roles' THEN format($q$INSERT INTO introw.partner_roles (tenant_id, name) VALUES (%s, 'Tmp Role')$q$, acme)
        WHEN 'partner_contacts' THEN
            format($q$INSERT INTO introw.partner_contacts (tenant_id, org_id, email, full_name)
                      VALUES (%s, %s, 'tmp@partner.test', 'Tim Tmp')$q$, acme, pg_temp.id(target))
        WHEN 'rooms' THEN
            format($q$INSERT INTO introw.rooms (tenant_id, org_id, name) VALUES (%s, %s, 'Tmp Room')$q$, acme, pg_temp.id('alpha'))
        WHEN 'tabs' THEN
            format($q$INSERT INTO introw.tabs (tenant_id, room_id, name, position) VALUES (%s, %s, 'Tmp Tab', 9)$q$,
                   acme, pg_temp.id('alpha_room'))
        WHEN 'tab_roles' THEN
            format('INSERT INTO introw.tab_roles (tenant_id, tab_id, role_id) VALUES (%s, %s, %s)',
                   acme, pg_temp.id(a), pg_temp.id(b))
        WHEN 'content_items' THEN
            format($q$INSERT INTO introw.content_items (tenant_id, tab_id, kind, title, url)
                      VALUES (%s, %s, 'file', 'Tmp Item', 'https://example.test/tmp')$q$, acme, pg_temp.id('alphaplan'))
        WHEN 'crm_objects' THEN
            format($q$INSERT INTO introw.crm_objects (tenant_id, object_type, org_id, submitted_by_contact_id, name, stage, amount)
                      VALUES (%s, 'deal', %s, %s, 'Tmp Deal', 'New', 1234)$q$, acme,
                   CASE org WHEN 'null' THEN 'NULL' ELSE pg_temp.id(org)::text END,
                   CASE WHEN submitter IS NULL THEN 'NULL' ELSE pg_temp.id(submitter)::text END)
        WHEN 'collaborators' THEN
            format('INSERT INTO introw.collaborators (tenant_id, object_id, %s) VALUES (%s, %s, %s)',
                   CASE left(b, 2) WHEN 'c:' THEN 'contact_id' WHEN 'u:' THEN 'user_id' END,
                   acme, pg_temp.id(a), pg_temp.id(substr(b, 3)))
        WHEN 'tasks' THEN
            format($q$INSERT INTO introw.tasks (tenant_id, org_id, title) VALUES (%s, %s, 'Tmp Task')$q$, acme, pg_temp.id(target))
        WHEN 'portal_settings' THEN
            format($q$INSERT INTO introw.portal_settings (tenant_id, settings) VALUES (%s, '{"tmp": true}')$q$, acme)
        WHEN 'crm_connections' THEN
            format($q$INSERT INTO introw.crm_connections (tenant_id, base_url, access_token)
                      VALUES (%s, 'http://127.0.0.1:9', 'tmp-token')$q$, acme)
        WHEN 'crm_sync_runs' THEN
            format($q$INSERT INTO introw.crm_sync_runs (tenant_id, status) VALUES (%s, 'running')$q$, acme)
        WHEN 'crm_sync_rejects' THEN
            format($q$INSERT INTO introw.crm_sync_rejects (run_id, tenant_id, crm_contact_id, reason)
                      VALUES (%s, %s, '902', 'tmp reason')$q$, pg_temp.id(target), acme)
    END;
END $$;

-- what the superuser does first, inside the attempt: a tenant has one row of
-- portal_settings / crm_connections, so a new one needs the old one gone
CREATE FUNCTION pg_temp.setup(tbl text, cmd text) RETURNS text LANGUAGE sql AS $$
    SELECT CASE WHEN cmd = 'INSERT' AND tbl IN ('portal_settings', 'crm_connections')
                THEN format('DELETE FROM introw.%I WHERE tenant_id = %s', tbl, pg_temp.id('acme')) END
$$;

-- all 17 tables as the superuser sees them
CREATE FUNCTION pg_temp.fingerprint() RETURNS text LANGUAGE sql AS $$
    SELECT md5(string_agg(r, E'\n' ORDER BY r)) FROM (
        SELECT 'tenants ' || x::text FROM introw.tenants x UNION ALL
        SELECT 'tiers ' || x::text FROM introw.tiers x UNION ALL
        SELECT 'internal_users ' || x::text FROM introw.internal_users x UNION ALL
        SELECT 'partner_organizations ' || x::text FROM introw.partner_organizations x UNION ALL
        SELECT 'partner_roles ' || x::text FROM introw.partner_roles x UNION ALL
        SELECT 'partner_contacts ' || x::text FROM introw.partner_contacts x UNION ALL
        SELECT 'rooms ' || x::text FROM introw.rooms x UNION ALL
        SELECT 'tabs ' || x::text FROM introw.tabs x UNION ALL
        SELECT 'tab_roles ' || x::text FROM introw.tab_roles x UNION ALL
        SELECT 'content_items ' || x::text FROM introw.content_items x UNION ALL
        SELECT 'crm_objects ' || x::text FROM introw.crm_objects x UNION ALL
        SELECT 'collaborators ' || x::text FROM introw.collaborators x UNION ALL
        SELECT 'tasks ' || x::text FROM introw.tasks x UNION ALL
        SELECT 'portal_settings ' || x::text FROM introw.portal_settings x UNION ALL
        SELECT 'crm_connections ' || x::text FROM introw.crm_connections x UNION ALL
        SELECT 'crm_sync_runs ' || x::text FROM introw.crm_sync_runs x UNION ALL
        SELECT 'crm_sync_rejects ' || x::text FROM introw.crm_sync_rejects x) AS s(r)
$$;

-- ---------------------------------------------------------------------------
-- The driver
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE outcome (seq int PRIMARY KEY, sql text, kind_seen text, tenant_seen bigint, n bigint,
                           state text, msg text, fp_same boolean, driver_error text) ON COMMIT DROP;

-- One attempt (one expect row), in a subtransaction that is always rolled
-- back (QZ001).  Call as the superuser.
CREATE FUNCTION pg_temp.attempt(p_seq int) RETURNS outcome LANGUAGE plpgsql AS $$
DECLARE
    e expect;
    o outcome;
    pre text;
    fp0 text;
    found_n bigint;
BEGIN
    SELECT * INTO STRICT e FROM expect WHERE seq = p_seq;
    o.seq := e.seq;
    BEGIN
        o.sql := pg_temp.stmt(e.tbl, e.cmd, e.target);
        pre := pg_temp.setup(e.tbl, e.cmd);
        IF pre IS NOT NULL THEN
            EXECUTE pre;
        END IF;
        -- the target row exists (as the superuser sees it)
        IF e.cmd <> 'INSERT' THEN
            EXECUTE format('SELECT 1 FROM introw.%I WHERE %s', e.tbl,
                           pg_temp.key_cond(e.tbl, split_part(e.target, '>', 1)));
            GET DIAGNOSTICS found_n = ROW_COUNT;
            IF found_n <> 1 THEN
                RAISE EXCEPTION 'target % of % matches % rows as the superuser', e.target, e.tbl, found_n;
            END IF;
        END IF;
        fp0 := pg_temp.fingerprint();
        SET LOCAL ROLE regress_introw_app;
        PERFORM pg_temp.become(e.who);
        o.kind_seen := introw.current_principal_kind();
        o.tenant_seen := introw.current_tenant_id();
        BEGIN
            EXECUTE o.sql;
            GET DIAGNOSTICS o.n = ROW_COUNT;
        EXCEPTION WHEN OTHERS THEN
            o.state := SQLSTATE;
            o.msg := SQLERRM;
        END;
        RESET ROLE;
        o.fp_same := fp0 = pg_temp.fingerprint();
        RAISE EXCEPTION 'roll the attempt back' USING ERRCODE = 'QZ001';
    EXCEPTION
        WHEN SQLSTATE 'QZ001' THEN NULL;
        WHEN OTHERS THEN o.driver_error := format('%s (SQLSTATE %s)', SQLERRM, SQLSTATE);
    END;
    RETURN o;
END $$;

-- Every expect row of one principal, in order.
CREATE FUNCTION pg_temp.run(p_who text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO outcome
    SELECT a.* FROM (SELECT seq FROM expect WHERE who = p_who ORDER BY seq OFFSET 0) s
    CROSS JOIN LATERAL pg_temp.attempt(s.seq) a
$$;

-- After all of a principal's writes were rolled back, its reads again: the
-- SELECT rows whose answer (rows, error) now differs from the first pass.
CREATE FUNCTION pg_temp.reread(p_who text) RETURNS text[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(format('%s %s %s: first %s, now %s', e.cmd, e.tbl, e.target,
                                     coalesce(o.n::text, o.state), coalesce(a.n::text, a.state))
                              ORDER BY e.seq), '{}')
    FROM expect e JOIN outcome o USING (seq)
    CROSS JOIN LATERAL pg_temp.attempt(e.seq) a
    WHERE e.who = p_who AND e.cmd = 'SELECT'
      AND (a.n IS DISTINCT FROM o.n OR a.state IS DISTINCT FROM o.state OR a.driver_error IS NOT NULL)
$$;

-- One assertion per expect row of a principal.
CREATE FUNCTION pg_temp.report(p_who text) RETURNS SETOF text LANGUAGE sql AS $$
    SELECT ok(r.pass, r.descr)
           || CASE WHEN r.pass THEN '' ELSE E'\n' || diag(format(
                  E'    expected: %s%s%s\n    got: principal kind %s, rows %s, SQLSTATE %s, error %s, data %s%s\n    sql: %s',
                  CASE WHEN r.allowed THEN 'allowed' ELSE 'refused' END,
                  CASE WHEN NOT r.allowed AND r.cmd <> 'SELECT'
                       THEN coalesce(' with SQLSTATE ' || r.errcode, ' as 0 rows') ELSE '' END,
                  CASE WHEN r.errmsg IS NOT NULL THEN format(' (message "%s")', r.errmsg) ELSE '' END,
                  coalesce(r.kind_seen, '?'), coalesce(r.n::text, '-'), coalesce(r.state, '-'),
                  coalesce(r.msg, '-'),
                  CASE WHEN r.fp_same THEN 'unchanged' WHEN NOT r.fp_same THEN 'CHANGED' ELSE '?' END,
                  coalesce(E'\n    driver error: ' || r.driver_error, ''), coalesce(r.sql, '-'))) END
    FROM (
        SELECT e.*, o.*,
               format('%s: %s %s %s -> %s%s (%s)', e.who, e.cmd, e.tbl, e.what,
                      CASE WHEN e.allowed THEN 'allowed' ELSE 'refused' END,
                      CASE WHEN e.errcode IS NOT NULL AND NOT e.allowed THEN ' ' || e.errcode ELSE '' END,
                      e.note) AS descr,
               coalesce(o.driver_error IS NULL
                        AND o.kind_seen = p.kind
                        AND o.tenant_seen IS NOT DISTINCT FROM public.fx(p.tenant)
                        AND CASE
                            WHEN e.allowed THEN o.state IS NULL AND o.n = 1 AND (e.cmd = 'SELECT' OR NOT o.fp_same)
                            WHEN e.cmd = 'SELECT' THEN o.state IS NULL AND o.n = 0
                            WHEN e.errcode IS NULL THEN o.state IS NULL AND o.n = 0 AND o.fp_same
                            ELSE o.state = e.errcode AND o.fp_same AND (e.errmsg IS NULL OR o.msg = e.errmsg)
                            END, false) AS pass
        FROM expect e JOIN outcome o USING (seq) JOIN principals p USING (who)
        WHERE e.who = p_who
        ORDER BY e.seq
    ) r
$$;

-- ---------------------------------------------------------------------------
-- The generated matrix
-- ---------------------------------------------------------------------------
SELECT is((SELECT count(DISTINCT (who, tbl, cmd)) FROM expect WHERE base), (9 * 17 * 4)::bigint,
          'expect covers every principal x table x command (9 x 17 x 4)');
SELECT is((SELECT count(DISTINCT tbl) FROM grid), 17::bigint, 'the grid has all 17 tables of PRODUCT.md section 2');

SELECT pg_temp.fingerprint() AS fp \gset

SELECT pg_temp.run('rep');
SELECT pg_temp.report('rep');
SELECT is(pg_temp.fingerprint(), :'fp', 'rep: after its block all 17 tables are as before');
SELECT is(pg_temp.reread('rep'), '{}'::text[], 'rep: after its rolled-back writes, every read of the block answers as before');

SELECT pg_temp.run('restricted');
SELECT pg_temp.report('restricted');
SELECT is(pg_temp.fingerprint(), :'fp', 'restricted: after its block all 17 tables are as before');
SELECT is(pg_temp.reread('restricted'), '{}'::text[], 'restricted: after its rolled-back writes, every read of the block answers as before');

SELECT pg_temp.run('norole');
SELECT pg_temp.report('norole');
SELECT is(pg_temp.fingerprint(), :'fp', 'norole: after its block all 17 tables are as before');
SELECT is(pg_temp.reread('norole'), '{}'::text[], 'norole: after its rolled-back writes, every read of the block answers as before');

SELECT pg_temp.run('crm');
SELECT pg_temp.report('crm');
SELECT is(pg_temp.fingerprint(), :'fp', 'crm: after its block all 17 tables are as before');
SELECT is(pg_temp.reread('crm'), '{}'::text[], 'crm: after its rolled-back writes, every read of the block answers as before');

SELECT pg_temp.run('pm');
SELECT pg_temp.report('pm');
SELECT is(pg_temp.fingerprint(), :'fp', 'pm: after its block all 17 tables are as before');
SELECT is(pg_temp.reread('pm'), '{}'::text[], 'pm: after its rolled-back writes, every read of the block answers as before');

SELECT pg_temp.run('member');
SELECT pg_temp.report('member');
SELECT is(pg_temp.fingerprint(), :'fp', 'member: after its block all 17 tables are as before');
SELECT is(pg_temp.reread('member'), '{}'::text[], 'member: after its rolled-back writes, every read of the block answers as before');

SELECT pg_temp.run('admin');
SELECT pg_temp.report('admin');
SELECT is(pg_temp.fingerprint(), :'fp', 'admin: after its block all 17 tables are as before');
SELECT is(pg_temp.reread('admin'), '{}'::text[], 'admin: after its rolled-back writes, every read of the block answers as before');

SELECT pg_temp.run('none');
SELECT pg_temp.report('none');
SELECT is(pg_temp.fingerprint(), :'fp', 'none: after its block all 17 tables are as before');
SELECT is(pg_temp.reread('none'), '{}'::text[], 'none: after its rolled-back writes, every read of the block answers as before');

SELECT pg_temp.run('globex_admin');
SELECT pg_temp.report('globex_admin');
SELECT is(pg_temp.fingerprint(), :'fp', 'globex_admin: after its block all 17 tables are as before');
SELECT is(pg_temp.reread('globex_admin'), '{}'::text[], 'globex_admin: after its rolled-back writes, every read of the block answers as before');

SELECT is((SELECT count(*) FROM outcome), (SELECT count(*) FROM expect), 'every expectation was tried');

-- ---------------------------------------------------------------------------
-- No principal: every table reads as empty.  Globex admin: no Acme row.
-- ---------------------------------------------------------------------------
SET LOCAL ROLE regress_introw_app;
SELECT introw.reset_principal();
SELECT is_empty(format('SELECT tenant_id FROM introw.%I', tbl), format('none: %s reads as empty', tbl))
FROM grid ORDER BY pos;

SELECT introw.set_user(fx('globex_admin'));
SELECT is_empty(format('SELECT tenant_id FROM introw.%I WHERE tenant_id <> %s', tbl, fx('globex')),
                format('globex_admin: no row of %s outside Globex', tbl))
FROM grid ORDER BY pos;
SELECT set_eq($$SELECT 'tenants', count(*) FROM introw.tenants UNION ALL
                SELECT 'crm_objects', count(*) FROM introw.crm_objects UNION ALL
                SELECT 'portal_settings', count(*) FROM introw.portal_settings$$,
              $$VALUES ('tenants', 1::bigint), ('crm_objects', 1), ('portal_settings', 1)$$,
              'globex_admin: does read its own tenant''s rows (the principal works)');

-- ---------------------------------------------------------------------------
-- The crm_user reads no task, but task progress per organisation
-- ---------------------------------------------------------------------------
SELECT introw.set_user(fx('crm'));
SELECT is_empty('SELECT * FROM introw.tasks', 'crm: reads no task');
SELECT set_eq('SELECT org_id, total, done, open, in_progress FROM introw.task_progress',
              format('VALUES (%s::bigint, 2::bigint, 1::bigint, 1::bigint, 0::bigint), (%s, 1, 0, 0, 1)',
                     fx('alpha'), fx('beta')),
              'crm: task_progress has Alpha (2: 1 done, 1 open) and Beta (1 in progress)');
SELECT introw.set_contact(fx('rep'));
SELECT set_eq('SELECT org_id, total FROM introw.task_progress', format('VALUES (%s::bigint, 2::bigint)', fx('alpha')),
              'rep: task_progress is its own organisation only');

-- ---------------------------------------------------------------------------
-- Deal registration (kept: these are the last writes of the file)
-- ---------------------------------------------------------------------------
-- INSERT ... RETURNING as the current principal; never raises
CREATE FUNCTION pg_temp.register(name text, org text) RETURNS TABLE (oid bigint, submitter bigint, err text)
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO introw.crm_objects (tenant_id, object_type, org_id, name, amount)
    VALUES (fx('acme'), 'deal', fx(org), name, 500)
    RETURNING object_id, submitted_by_contact_id INTO oid, submitter;
    err := '';
    RETURN NEXT;
EXCEPTION WHEN OTHERS THEN
    err := format('%s (SQLSTATE %s)', SQLERRM, SQLSTATE);
    RETURN NEXT;
END $$;

-- collaborators of an object, as the superuser: 'c:<key>' / 'u:<key>'
CREATE FUNCTION pg_temp.collaborator_keys(oid bigint) RETURNS text[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(k ORDER BY k), '{}') FROM (
        SELECT CASE WHEN c.contact_id IS NOT NULL
                    THEN 'c:' || coalesce((SELECT f.name FROM public.fx f WHERE f.id = c.contact_id
                                             AND f.name IN ('rep', 'se', 'mgr', 'restricted', 'norole', 'beta_rep')), '?')
                    ELSE 'u:' || coalesce((SELECT f.name FROM public.fx f WHERE f.id = c.user_id
                                             AND f.name IN ('admin', 'member', 'pm', 'pm2', 'crm')), '?') END
        FROM introw.collaborators c WHERE c.object_id = oid) AS s(k)
$$;

-- rep registers a deal for Alpha
SELECT introw.set_contact(fx('rep'));
SELECT oid AS rep_deal, coalesce(submitter::text, '') AS rep_submitter, err AS rep_err
FROM pg_temp.register('Deal registered by rep', 'alpha') \gset
SELECT is(:'rep_err'::text, ''::text, 'registration: rep registers a deal for Alpha');
SELECT is(:'rep_submitter'::text, fx('rep')::text, 'registration: submitted_by_contact_id is rep');
SELECT is((SELECT count(*) FROM introw.crm_objects WHERE object_id = nullif(:'rep_deal', '')::bigint), 1::bigint,
          'registration: rep reads its new deal');
RESET ROLE;
SELECT is(pg_temp.collaborator_keys(nullif(:'rep_deal', '')::bigint), ARRAY['c:rep', 'u:pm'],
          'registration: rep and Alpha''s partner manager pm are its collaborators');
SELECT is((SELECT org_id FROM introw.crm_objects WHERE object_id = nullif(:'rep_deal', '')::bigint), fx('alpha'),
          'registration: the deal is Alpha''s');

-- a restricted contact: INSERT ... RETURNING works, then it sees the deal
SET LOCAL ROLE regress_introw_app;
SELECT introw.set_contact(fx('restricted'));
SELECT oid AS r_deal, coalesce(submitter::text, '') AS r_submitter, err AS r_err
FROM pg_temp.register('Deal registered by restricted', 'alpha') \gset
SELECT is(:'r_err'::text, ''::text, 'registration: a restricted contact''s INSERT ... RETURNING succeeds');
SELECT is(:'r_submitter'::text, fx('restricted')::text, 'registration: RETURNING shows restricted as the submitter');
SELECT results_eq(format('SELECT name FROM introw.crm_objects WHERE object_id = %s', coalesce(nullif(:'r_deal', ''), '0')),
                  $$VALUES ('Deal registered by restricted'::text)$$,
                  'registration: the restricted contact then reads its new deal');
SELECT is(introw.can_see_object(nullif(:'r_deal', '')::bigint), true,
          'registration: can_see_object() agrees for the restricted contact');
SELECT is_empty(format('SELECT 1 FROM introw.crm_objects WHERE object_id = %s', fx('a1')),
                'registration: the restricted contact still does not read a1');
RESET ROLE;
SELECT is(pg_temp.collaborator_keys(nullif(:'r_deal', '')::bigint), ARRAY['c:restricted', 'u:pm'],
          'registration: restricted and pm are its collaborators');

-- the crm_user registers for Beta: it and Beta's partner manager collaborate
SET LOCAL ROLE regress_introw_app;
SELECT introw.set_user(fx('crm'));
SELECT oid AS c_deal, err AS c_err FROM pg_temp.register('Deal registered by crm', 'beta') \gset
SELECT is(:'c_err'::text, ''::text, 'registration: the crm_user registers a deal for Beta');
RESET ROLE;
SELECT ok(pg_temp.collaborator_keys(nullif(:'c_deal', '')::bigint) @> ARRAY['u:pm2'],
          'registration: Beta''s partner manager pm2 collaborates on the crm_user''s deal');
SELECT is((SELECT submitted_by_contact_id FROM introw.crm_objects WHERE object_id = nullif(:'c_deal', '')::bigint),
          NULL::bigint, 'registration: a crm_user''s deal has no submitting contact');

SELECT * FROM finish();
ROLLBACK;
