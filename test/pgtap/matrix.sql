-- test/pgtap/matrix.sql -- the permission matrix of PRODUCT.md section 4 for
-- tenants, tiers, partner_roles, partner_organizations, partner_contacts,
-- internal_users, rooms, tabs, tab_roles and content_items, principal by
-- principal: what each reads (exactly), which writes it may make, and that
-- every refused write changed nothing (checked as the superuser).  Also the
-- views access_matrix and unassigned_contacts and the point checks
-- visible_tab_ids(), can_see_tab() and contact_visible_tab_ids().
--
-- Expected sets are written out by hand from the comments of
-- test/fixture.sql.  Tabs (limits):
--   Portal:     welcome (-), decks (SR, SE, PM), leadforms (SR, PM),
--               techdocs (SE), dashboards (PM), agreements (PM)
--   Alpha Room: alphaplan (-), alphaprice (SR, Restricted Rep)
--   Beta Room:  betaplan (-)
-- so a contact of Alpha sees welcome + alphaplan + the limited tabs its role
-- is listed on, a contact of Beta the same with betaplan instead.
BEGIN;
SELECT plan(561);

-- ---------------------------------------------------------------------------
-- Set-up, as the superuser
-- ---------------------------------------------------------------------------
-- names the fixture does not register (rolled back with the rest)
INSERT INTO public.fx SELECT lower(name), tier_id FROM introw.tiers WHERE tenant_id = fx('acme');
INSERT INTO public.fx SELECT CASE name WHEN 'Solutions Engineer' THEN 'globex_se'
                                       ELSE 'globex_pm' END, role_id
    FROM introw.partner_roles WHERE tenant_id = fx('globex') AND name <> 'Sales Rep';

-- contact_visible_tab_ids() is not PUBLIC; the application needs a grant to
-- use it for reports (the function itself then checks the principal)
GRANT EXECUTE ON FUNCTION introw.contact_visible_tab_ids(bigint) TO regress_introw_app;

-- fx keys -> sorted ids
CREATE FUNCTION pg_temp.ids(keys text[]) RETURNS bigint[] LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(public.fx(k) ORDER BY public.fx(k)), '{}') FROM unnest(keys) AS k
$$;

\ir helpers.psql

-- exactly the rows of tbl the current principal reads, by fx keys
CREATE FUNCTION pg_temp.reads(who text, tbl text, keys text[]) RETURNS text LANGUAGE sql AS $$
    SELECT set_eq(format('SELECT %s FROM introw.%I',
                         CASE tbl WHEN 'tenants' THEN 'tenant_id' WHEN 'tiers' THEN 'tier_id'
                                  WHEN 'partner_roles' THEN 'role_id'
                                  WHEN 'partner_organizations' THEN 'org_id'
                                  WHEN 'partner_contacts' THEN 'contact_id'
                                  WHEN 'internal_users' THEN 'user_id'
                                  WHEN 'rooms' THEN 'room_id' WHEN 'tabs' THEN 'tab_id'
                                  WHEN 'content_items' THEN 'item_id' END, tbl),
                  pg_temp.ids(keys),
                  format('%s reads %s: %s', who, tbl,
                         CASE WHEN keys = '{}' THEN 'nothing' ELSE array_to_string(keys, ', ') END))
$$;

-- the tab limits of Acme, from the fixture's comment
CREATE TEMP TABLE acme_tab_roles ON COMMIT DROP AS
SELECT fx(t) AS tab_id, fx(r) AS role_id
FROM (VALUES ('decks', 'sales_rep'), ('decks', 'solutions_engineer'), ('decks', 'partner_manager_role'),
             ('leadforms', 'sales_rep'), ('leadforms', 'partner_manager_role'),
             ('techdocs', 'solutions_engineer'), ('dashboards', 'partner_manager_role'),
             ('agreements', 'partner_manager_role'),
             ('alphaprice', 'sales_rep'), ('alphaprice', 'restricted_rep')) AS v(t, r);
GRANT SELECT ON acme_tab_roles TO PUBLIC;

-- which (role, tab) pairs access_matrix marks visible in Acme: a tab without
-- limits is visible to every role, a limited one to the roles listed
CREATE TEMP TABLE acme_matrix_visible ON COMMIT DROP AS
SELECT fx(r) AS role_id, fx(t) AS tab_id
FROM (VALUES ('sales_rep', 'welcome'), ('sales_rep', 'decks'), ('sales_rep', 'leadforms'),
             ('sales_rep', 'alphaplan'), ('sales_rep', 'alphaprice'), ('sales_rep', 'betaplan'),
             ('solutions_engineer', 'welcome'), ('solutions_engineer', 'decks'),
             ('solutions_engineer', 'techdocs'), ('solutions_engineer', 'alphaplan'),
             ('solutions_engineer', 'betaplan'),
             ('partner_manager_role', 'welcome'), ('partner_manager_role', 'decks'),
             ('partner_manager_role', 'leadforms'), ('partner_manager_role', 'dashboards'),
             ('partner_manager_role', 'agreements'), ('partner_manager_role', 'alphaplan'),
             ('partner_manager_role', 'betaplan'),
             ('restricted_rep', 'welcome'), ('restricted_rep', 'alphaplan'),
             ('restricted_rep', 'alphaprice'), ('restricted_rep', 'betaplan')) AS v(r, t);
GRANT SELECT ON acme_matrix_visible TO PUBLIC;

-- one write of each kind per table, aimed at tenant tkey ('acme' or
-- 'globex'); each one would change visibility or privileges if let through
CREATE FUNCTION pg_temp.write_sql(cmd text, tbl text, tkey text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    t    bigint := fx(tkey);
    org  bigint := fx(CASE tkey WHEN 'acme' THEN 'alpha' ELSE 'gamma' END);
    room bigint := fx(CASE tkey WHEN 'acme' THEN 'portal' ELSE 'globex_room' END);
    tab  bigint := fx(CASE tkey WHEN 'acme' THEN 'welcome' ELSE 'globexnews' END);
    role bigint := fx(CASE tkey WHEN 'acme' THEN 'partner_manager_role' ELSE 'globex_pm' END);
BEGIN
    IF cmd = 'DELETE' THEN
        RETURN format('DELETE FROM introw.%I WHERE tenant_id = %s', tbl, t);
    END IF;
    IF cmd = 'INSERT' THEN
        RETURN CASE tbl
            WHEN 'tenants' THEN $q$INSERT INTO introw.tenants (name) VALUES ('Evil Corp')$q$
            WHEN 'tiers' THEN format($q$INSERT INTO introw.tiers (tenant_id, name) VALUES (%s, 'Evil Tier')$q$, t)
            WHEN 'partner_roles' THEN
                format($q$INSERT INTO introw.partner_roles (tenant_id, name) VALUES (%s, 'Evil Role')$q$, t)
            WHEN 'partner_organizations' THEN
                format($q$INSERT INTO introw.partner_organizations (tenant_id, name) VALUES (%s, 'Evil Org')$q$, t)
            WHEN 'partner_contacts' THEN
                format($q$INSERT INTO introw.partner_contacts (tenant_id, org_id, email, role_id)
                          VALUES (%s, %s, 'evil@evil.test', %s)$q$, t, org, role)
            WHEN 'internal_users' THEN
                format($q$INSERT INTO introw.internal_users (tenant_id, email, user_role)
                          VALUES (%s, 'evil@evil.test', 'admin')$q$, t)
            WHEN 'rooms' THEN
                format($q$INSERT INTO introw.rooms (tenant_id, org_id, name) VALUES (%s, %s, 'Evil Room')$q$, t, org)
            WHEN 'tabs' THEN
                format($q$INSERT INTO introw.tabs (tenant_id, room_id, name) VALUES (%s, %s, 'Evil Tab')$q$, t, room)
            WHEN 'tab_roles' THEN
                format($q$INSERT INTO introw.tab_roles (tenant_id, tab_id, role_id) VALUES (%s, %s, %s)$q$, t, tab, role)
            WHEN 'content_items' THEN
                format($q$INSERT INTO introw.content_items (tenant_id, tab_id, kind, title)
                          VALUES (%s, %s, 'file', 'Evil Item')$q$, t, tab)
        END;
    END IF;
    RETURN format('UPDATE introw.%I SET %s WHERE tenant_id = %s', tbl, CASE tbl
        WHEN 'tenants' THEN $q$name = 'Hacked'$q$
        WHEN 'tiers' THEN 'rank = rank + 100'
        WHEN 'partner_roles' THEN 'collaboration_restricted = NOT collaboration_restricted'
        WHEN 'partner_organizations' THEN 'partner_manager_id = NULL'
        WHEN 'partner_contacts' THEN format('role_id = %s', role)
        WHEN 'internal_users' THEN $q$user_role = 'admin', active = true$q$
        WHEN 'rooms' THEN 'org_id = NULL'
        WHEN 'tabs' THEN 'position = position + 100'
        WHEN 'tab_roles' THEN format('role_id = %s', role)
        WHEN 'content_items' THEN $q$url = 'https://evil.test/'$q$
    END, t);
END $$;

-- INSERT refused by row-level security, UPDATE and DELETE find no row
CREATE FUNCTION pg_temp.denied(who text, tbl text, tkey text DEFAULT 'acme')
RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
    RETURN NEXT throws_ok(pg_temp.write_sql('INSERT', tbl, tkey), '42501',
                          format('new row violates row-level security policy for table "%s"', tbl),
                          format('%s: INSERT into %s (%s) is refused', who, tbl, tkey));
    RETURN NEXT is(pg_temp.changes(pg_temp.write_sql('UPDATE', tbl, tkey)), 0::bigint,
                   format('%s: UPDATE of %s (%s) changes no row', who, tbl, tkey));
    RETURN NEXT is(pg_temp.changes(pg_temp.write_sql('DELETE', tbl, tkey)), 0::bigint,
                   format('%s: DELETE from %s (%s) changes no row', who, tbl, tkey));
END $$;

-- insert, update and delete one new Acme row of tbl
CREATE FUNCTION pg_temp.allowed(who text, tbl text, org_key text DEFAULT 'alpha')
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    acme bigint := fx('acme');
    ins text; upd text; del text;
BEGIN
    CASE tbl
    WHEN 'tiers' THEN
        ins := format($q$INSERT INTO introw.tiers (tenant_id, name) VALUES (%s, 'Tmp Tier')$q$, acme);
        upd := $q$UPDATE introw.tiers SET rank = 7 WHERE name = 'Tmp Tier'$q$;
        del := $q$DELETE FROM introw.tiers WHERE name = 'Tmp Tier'$q$;
    WHEN 'partner_roles' THEN
        ins := format($q$INSERT INTO introw.partner_roles (tenant_id, name) VALUES (%s, 'Tmp Role')$q$, acme);
        upd := $q$UPDATE introw.partner_roles SET collaboration_restricted = true WHERE name = 'Tmp Role'$q$;
        del := $q$DELETE FROM introw.partner_roles WHERE name = 'Tmp Role'$q$;
    WHEN 'partner_organizations' THEN
        ins := format($q$INSERT INTO introw.partner_organizations (tenant_id, name, tier_id)
                         VALUES (%s, 'Tmp Org', %s)$q$, acme, fx('silver'));
        upd := $q$UPDATE introw.partner_organizations SET crm_company_id = 'c-1' WHERE name = 'Tmp Org'$q$;
        del := $q$DELETE FROM introw.partner_organizations WHERE name = 'Tmp Org'$q$;
    WHEN 'partner_contacts' THEN
        ins := format($q$INSERT INTO introw.partner_contacts (tenant_id, org_id, email, full_name)
                         VALUES (%s, %s, 'tmp@partner.test', 'Tim Tmp')$q$, acme, fx(org_key));
        upd := format($q$UPDATE introw.partner_contacts SET role_id = %s WHERE email = 'tmp@partner.test'$q$,
                      fx('solutions_engineer'));
        del := $q$DELETE FROM introw.partner_contacts WHERE email = 'tmp@partner.test'$q$;
    WHEN 'internal_users' THEN
        ins := format($q$INSERT INTO introw.internal_users (tenant_id, email, user_role)
                         VALUES (%s, 'tmp@acme.test', 'member')$q$, acme);
        upd := $q$UPDATE introw.internal_users SET user_role = 'partner_manager' WHERE email = 'tmp@acme.test'$q$;
        del := $q$DELETE FROM introw.internal_users WHERE email = 'tmp@acme.test'$q$;
    WHEN 'rooms' THEN
        ins := format($q$INSERT INTO introw.rooms (tenant_id, org_id, name) VALUES (%s, %s, 'Tmp Room')$q$,
                      acme, fx('beta'));
        upd := $q$UPDATE introw.rooms SET org_id = NULL WHERE name = 'Tmp Room'$q$;
        del := $q$DELETE FROM introw.rooms WHERE name = 'Tmp Room'$q$;
    WHEN 'tabs' THEN
        ins := format($q$INSERT INTO introw.tabs (tenant_id, room_id, name) VALUES (%s, %s, 'Tmp Tab')$q$,
                      acme, fx('portal'));
        upd := $q$UPDATE introw.tabs SET position = 42 WHERE name = 'Tmp Tab'$q$;
        del := $q$DELETE FROM introw.tabs WHERE name = 'Tmp Tab'$q$;
    WHEN 'tab_roles' THEN
        ins := format($q$INSERT INTO introw.tab_roles (tenant_id, tab_id, role_id) VALUES (%s, %s, %s)$q$,
                      acme, fx('welcome'), fx('restricted_rep'));
        upd := format($q$UPDATE introw.tab_roles SET role_id = %s WHERE tab_id = %s$q$,
                      fx('solutions_engineer'), fx('welcome'));
        del := format($q$DELETE FROM introw.tab_roles WHERE tab_id = %s$q$, fx('welcome'));
    WHEN 'content_items' THEN
        ins := format($q$INSERT INTO introw.content_items (tenant_id, tab_id, kind, title)
                         VALUES (%s, %s, 'link', 'Tmp Item')$q$, acme, fx('techdocs'));
        upd := $q$UPDATE introw.content_items SET kind = 'document' WHERE title = 'Tmp Item'$q$;
        del := $q$DELETE FROM introw.content_items WHERE title = 'Tmp Item'$q$;
    END CASE;
    RETURN NEXT lives_ok(ins, format('%s: INSERT into %s is allowed', who, tbl));
    RETURN NEXT is(pg_temp.changes(upd), 1::bigint, format('%s: UPDATE of its new %s row changes it', who, tbl));
    RETURN NEXT is(pg_temp.changes(del), 1::bigint, format('%s: DELETE of its new %s row removes it', who, tbl));
END $$;


SELECT pg_temp.fingerprint() AS fp \gset

-- ===========================================================================
-- No principal: every table reads as empty, every write is refused
-- ===========================================================================
SET LOCAL ROLE regress_introw_app;
SELECT introw.reset_principal();
SELECT is(introw.current_principal_kind(), 'none', 'none: no principal after reset_principal()');
SELECT is(introw.current_tenant_id(), NULL, 'none: current_tenant_id() is NULL');
SELECT pg_temp.reads('none', t, '{}')
FROM unnest(ARRAY['tenants', 'tiers', 'partner_roles', 'partner_organizations', 'partner_contacts',
                  'internal_users', 'rooms', 'tabs', 'content_items']) AS t;
SELECT is_empty('SELECT * FROM introw.tab_roles', 'none reads tab_roles: nothing');
SELECT is(introw.visible_tab_ids(), '{}'::bigint[], 'none: visible_tab_ids() is empty');
SELECT is(introw.can_see_tab(fx('welcome')), false, 'none: cannot see even an unlimited tab');
SELECT is_empty('SELECT * FROM introw.access_matrix', 'none: access_matrix is empty');
SELECT is_empty('SELECT * FROM introw.unassigned_contacts', 'none: unassigned_contacts is empty');
SELECT throws_ok($$SELECT introw.contact_visible_tab_ids(fx('rep'))$$, '42501',
                 'permission denied for function contact_visible_tab_ids',
                 'none: contact_visible_tab_ids() is refused');
SELECT pg_temp.denied('none', t)
FROM unnest(ARRAY['tenants', 'tiers', 'partner_roles', 'partner_organizations', 'partner_contacts',
                  'internal_users', 'rooms', 'tabs', 'tab_roles', 'content_items']) AS t;
RESET ROLE;
SELECT is(pg_temp.fingerprint(), :'fp', 'none: the refused writes changed nothing');

-- ===========================================================================
-- A role without EXECUTE on the setters: cannot become anyone, reads
-- nothing, writes nothing (it has table privileges)
-- ===========================================================================
SET LOCAL ROLE regress_introw_nobody;
SELECT throws_ok($$SELECT introw.set_contact(fx('rep'))$$, '42501',
                 'permission denied for function set_contact', 'nobody: set_contact() is refused');
SELECT throws_ok($$SELECT introw.set_user(fx('admin'))$$, '42501',
                 'permission denied for function set_user', 'nobody: set_user() is refused');
SELECT throws_ok($$SELECT introw.contact_visible_tab_ids(fx('rep'))$$, '42501',
                 'permission denied for function contact_visible_tab_ids',
                 'nobody: contact_visible_tab_ids() is refused');
SELECT is(introw.current_principal_kind(), 'none', 'nobody: no principal');
SELECT pg_temp.reads('nobody', t, '{}')
FROM unnest(ARRAY['tenants', 'tiers', 'partner_roles', 'partner_organizations', 'partner_contacts',
                  'internal_users', 'rooms', 'tabs', 'content_items']) AS t;
SELECT is_empty('SELECT * FROM introw.tab_roles', 'nobody reads tab_roles: nothing');
SELECT is(introw.visible_tab_ids(), '{}'::bigint[], 'nobody: visible_tab_ids() is empty');
SELECT pg_temp.denied('nobody', t)
FROM unnest(ARRAY['tenants', 'tiers', 'partner_roles', 'partner_organizations', 'partner_contacts',
                  'internal_users', 'rooms', 'tabs', 'tab_roles', 'content_items']) AS t;
RESET ROLE;
SELECT is(pg_temp.fingerprint(), :'fp', 'nobody: the refused writes changed nothing');

-- ===========================================================================
-- Contacts: read tenants, tiers, roles; their own organisation and its
-- contacts; the rooms they may enter; visible tabs and their items.  Never
-- internal users or tab_roles.  No writes.
-- ===========================================================================
SET LOCAL ROLE regress_introw_app;

-- rep: Alpha, Sales Rep
SELECT introw.set_contact(fx('rep'));
SELECT is(introw.current_principal_kind(), 'contact', 'rep: principal kind is contact');
SELECT is(introw.current_contact_id(), fx('rep'), 'rep: current_contact_id()');
SELECT is(introw.current_tenant_id(), fx('acme'), 'rep: current_tenant_id() is Acme');
SELECT is(introw.current_user_id(), NULL, 'rep: current_user_id() is NULL');
SELECT pg_temp.reads('rep', 'tenants', '{acme}');
SELECT pg_temp.reads('rep', 'tiers', '{gold,silver}');
SELECT pg_temp.reads('rep', 'partner_roles', '{sales_rep,solutions_engineer,partner_manager_role,restricted_rep}');
SELECT pg_temp.reads('rep', 'partner_organizations', '{alpha}');
SELECT pg_temp.reads('rep', 'partner_contacts', '{rep,se,mgr,restricted,norole}');
SELECT pg_temp.reads('rep', 'internal_users', '{}');
SELECT pg_temp.reads('rep', 'rooms', '{portal,alpha_room}');
SELECT pg_temp.reads('rep', 'tabs', '{welcome,decks,leadforms,alphaplan,alphaprice}');
SELECT is_empty('SELECT * FROM introw.tab_roles', 'rep reads tab_roles: nothing');
SELECT pg_temp.reads('rep', 'content_items',
                     '{item_welcome,item_decks,item_leadforms,item_alphaplan,item_alphaprice}');
SELECT is(introw.visible_tab_ids(), pg_temp.ids('{welcome,decks,leadforms,alphaplan,alphaprice}'),
          'rep: visible_tab_ids() is the sorted list of its tabs');
SELECT is(introw.can_see_tab(fx('alphaprice')), true, 'rep: can_see_tab(Alpha Pricing)');
SELECT is(introw.can_see_tab(fx('techdocs')), false, 'rep: cannot see Technical Docs (SE only)');
SELECT is(introw.can_see_tab(fx('betaplan')), false, 'rep: cannot see a tab of the Beta room');
SELECT is(introw.can_see_tab(fx('globexnews')), false, 'rep: cannot see a Globex tab');
SELECT is(introw.can_see_tab(NULL), NULL, 'rep: can_see_tab(NULL) is NULL');
SELECT is_empty('SELECT * FROM introw.access_matrix', 'rep: access_matrix is empty for a contact');
SELECT set_eq('SELECT contact_id FROM introw.unassigned_contacts', pg_temp.ids('{norole}'),
              'rep: unassigned_contacts shows the role-less contact of its own organisation');
SELECT throws_ok($$SELECT introw.contact_visible_tab_ids(fx('se'))$$, '42501',
                 'permission denied for function contact_visible_tab_ids',
                 'rep: contact_visible_tab_ids() is refused to a contact');
SELECT throws_ok($$SELECT introw.contact_visible_tab_ids(fx('rep'))$$, '42501',
                 'permission denied for function contact_visible_tab_ids',
                 'rep: contact_visible_tab_ids() is refused to a contact, also for itself');
SELECT pg_temp.denied('rep', t)
FROM unnest(ARRAY['tenants', 'tiers', 'partner_roles', 'partner_organizations', 'partner_contacts',
                  'internal_users', 'rooms', 'tabs', 'tab_roles', 'content_items']) AS t;
SELECT is(pg_temp.changes(format('UPDATE introw.partner_contacts SET role_id = %s WHERE contact_id = %s',
                                 fx('partner_manager_role'), fx('rep'))), 0::bigint,
          'rep: cannot give itself another role');
SELECT is(pg_temp.changes(format('UPDATE introw.partner_organizations SET name = %L WHERE org_id = %s',
                                 'Alpha!', fx('alpha'))), 0::bigint,
          'rep: cannot rename its own organisation');

-- se: Alpha, Solutions Engineer
SELECT introw.set_contact(fx('se'));
SELECT is(introw.current_contact_id(), fx('se'), 'se: current_contact_id()');
SELECT pg_temp.reads('se', 'tenants', '{acme}');
SELECT pg_temp.reads('se', 'tiers', '{gold,silver}');
SELECT pg_temp.reads('se', 'partner_roles', '{sales_rep,solutions_engineer,partner_manager_role,restricted_rep}');
SELECT pg_temp.reads('se', 'partner_organizations', '{alpha}');
SELECT pg_temp.reads('se', 'partner_contacts', '{rep,se,mgr,restricted,norole}');
SELECT pg_temp.reads('se', 'internal_users', '{}');
SELECT pg_temp.reads('se', 'rooms', '{portal,alpha_room}');
SELECT pg_temp.reads('se', 'tabs', '{welcome,decks,techdocs,alphaplan}');
SELECT is_empty('SELECT * FROM introw.tab_roles', 'se reads tab_roles: nothing');
SELECT pg_temp.reads('se', 'content_items', '{item_welcome,item_decks,item_techdocs,item_alphaplan}');
SELECT is(introw.visible_tab_ids(), pg_temp.ids('{welcome,decks,techdocs,alphaplan}'), 'se: visible_tab_ids()');
SELECT is(introw.can_see_tab(fx('alphaprice')), false, 'se: cannot see Alpha Pricing');
SELECT pg_temp.denied('se', t)
FROM unnest(ARRAY['partner_contacts', 'tab_roles', 'content_items']) AS t;

-- mgr: Alpha, Partner Manager (the role, not the internal user kind)
SELECT introw.set_contact(fx('mgr'));
SELECT is(introw.current_principal_kind(), 'contact', 'mgr: principal kind is contact');
SELECT pg_temp.reads('mgr', 'tenants', '{acme}');
SELECT pg_temp.reads('mgr', 'tiers', '{gold,silver}');
SELECT pg_temp.reads('mgr', 'partner_roles', '{sales_rep,solutions_engineer,partner_manager_role,restricted_rep}');
SELECT pg_temp.reads('mgr', 'partner_organizations', '{alpha}');
SELECT pg_temp.reads('mgr', 'partner_contacts', '{rep,se,mgr,restricted,norole}');
SELECT pg_temp.reads('mgr', 'internal_users', '{}');
SELECT pg_temp.reads('mgr', 'rooms', '{portal,alpha_room}');
SELECT pg_temp.reads('mgr', 'tabs', '{welcome,decks,leadforms,dashboards,agreements,alphaplan}');
SELECT is_empty('SELECT * FROM introw.tab_roles', 'mgr reads tab_roles: nothing');
SELECT pg_temp.reads('mgr', 'content_items',
                     '{item_welcome,item_decks,item_leadforms,item_dashboards,item_agreements,item_alphaplan}');
SELECT is(introw.visible_tab_ids(), pg_temp.ids('{welcome,decks,leadforms,dashboards,agreements,alphaplan}'),
          'mgr: visible_tab_ids()');
SELECT is_empty('SELECT * FROM introw.access_matrix', 'mgr: access_matrix is empty for a contact');
SELECT pg_temp.denied('mgr', t)
FROM unnest(ARRAY['partner_organizations', 'partner_contacts', 'tab_roles']) AS t;

-- restricted: Alpha, Restricted Rep (collaboration restricted)
SELECT introw.set_contact(fx('restricted'));
SELECT pg_temp.reads('restricted', 'tenants', '{acme}');
SELECT pg_temp.reads('restricted', 'tiers', '{gold,silver}');
SELECT pg_temp.reads('restricted', 'partner_roles',
                     '{sales_rep,solutions_engineer,partner_manager_role,restricted_rep}');
SELECT pg_temp.reads('restricted', 'partner_organizations', '{alpha}');
SELECT pg_temp.reads('restricted', 'partner_contacts', '{rep,se,mgr,restricted,norole}');
SELECT pg_temp.reads('restricted', 'internal_users', '{}');
SELECT pg_temp.reads('restricted', 'rooms', '{portal,alpha_room}');
SELECT pg_temp.reads('restricted', 'tabs', '{welcome,alphaplan,alphaprice}');
SELECT is_empty('SELECT * FROM introw.tab_roles', 'restricted reads tab_roles: nothing');
SELECT pg_temp.reads('restricted', 'content_items', '{item_welcome,item_alphaplan,item_alphaprice}');
SELECT is(introw.visible_tab_ids(), pg_temp.ids('{welcome,alphaplan,alphaprice}'), 'restricted: visible_tab_ids()');
SELECT pg_temp.denied('restricted', t)
FROM unnest(ARRAY['partner_roles', 'partner_contacts', 'tab_roles']) AS t;

-- norole: Alpha, no role -> only the tabs no role limits
SELECT introw.set_contact(fx('norole'));
SELECT is(introw.current_contact_id(), fx('norole'), 'norole: a role-less contact is a principal');
SELECT pg_temp.reads('norole', 'tenants', '{acme}');
SELECT pg_temp.reads('norole', 'tiers', '{gold,silver}');
SELECT pg_temp.reads('norole', 'partner_roles',
                     '{sales_rep,solutions_engineer,partner_manager_role,restricted_rep}');
SELECT pg_temp.reads('norole', 'partner_organizations', '{alpha}');
SELECT pg_temp.reads('norole', 'partner_contacts', '{rep,se,mgr,restricted,norole}');
SELECT pg_temp.reads('norole', 'internal_users', '{}');
SELECT pg_temp.reads('norole', 'rooms', '{portal,alpha_room}');
SELECT pg_temp.reads('norole', 'tabs', '{welcome,alphaplan}');
SELECT is_empty('SELECT * FROM introw.tab_roles', 'norole reads tab_roles: nothing');
SELECT pg_temp.reads('norole', 'content_items', '{item_welcome,item_alphaplan}');
SELECT is(introw.visible_tab_ids(), pg_temp.ids('{welcome,alphaplan}'), 'norole: visible_tab_ids()');
SELECT is(pg_temp.changes(format('UPDATE introw.partner_contacts SET role_id = %s WHERE contact_id = %s',
                                 fx('sales_rep'), fx('norole'))), 0::bigint,
          'norole: cannot give itself a role');
SELECT pg_temp.denied('norole', t)
FROM unnest(ARRAY['partner_contacts', 'content_items']) AS t;

-- beta_rep: Beta, Sales Rep
SELECT introw.set_contact(fx('beta_rep'));
SELECT pg_temp.reads('beta_rep', 'tenants', '{acme}');
SELECT pg_temp.reads('beta_rep', 'tiers', '{gold,silver}');
SELECT pg_temp.reads('beta_rep', 'partner_roles',
                     '{sales_rep,solutions_engineer,partner_manager_role,restricted_rep}');
SELECT pg_temp.reads('beta_rep', 'partner_organizations', '{beta}');
SELECT pg_temp.reads('beta_rep', 'partner_contacts', '{beta_rep}');
SELECT pg_temp.reads('beta_rep', 'internal_users', '{}');
SELECT pg_temp.reads('beta_rep', 'rooms', '{portal,beta_room}');
SELECT pg_temp.reads('beta_rep', 'tabs', '{welcome,decks,leadforms,betaplan}');
SELECT is_empty('SELECT * FROM introw.tab_roles', 'beta_rep reads tab_roles: nothing');
SELECT pg_temp.reads('beta_rep', 'content_items', '{item_welcome,item_decks,item_leadforms,item_betaplan}');
SELECT is(introw.visible_tab_ids(), pg_temp.ids('{welcome,decks,leadforms,betaplan}'), 'beta_rep: visible_tab_ids()');
SELECT is(introw.can_see_tab(fx('alphaprice')), false, 'beta_rep: cannot see Alpha Pricing (other org)');
SELECT is_empty('SELECT * FROM introw.unassigned_contacts',
                'beta_rep: unassigned_contacts is empty (norole is of another organisation)');
SELECT pg_temp.denied('beta_rep', t)
FROM unnest(ARRAY['partner_organizations', 'partner_contacts', 'rooms']) AS t;

RESET ROLE;
SELECT is(pg_temp.fingerprint(), :'fp', 'contacts: the refused writes changed nothing');

-- ===========================================================================
-- crm_user: reads configuration-free data of the tenant and its own user
-- row; no tab_roles; no writes
-- ===========================================================================
SET LOCAL ROLE regress_introw_app;
SELECT introw.set_user(fx('crm'));
SELECT is(introw.current_principal_kind(), 'crm_user', 'crm: principal kind is crm_user');
SELECT is(introw.current_user_id(), fx('crm'), 'crm: current_user_id()');
SELECT is(introw.current_contact_id(), NULL, 'crm: current_contact_id() is NULL');
SELECT pg_temp.reads('crm', 'tenants', '{acme}');
SELECT pg_temp.reads('crm', 'tiers', '{gold,silver}');
SELECT pg_temp.reads('crm', 'partner_roles', '{sales_rep,solutions_engineer,partner_manager_role,restricted_rep}');
SELECT pg_temp.reads('crm', 'partner_organizations', '{alpha,beta}');
SELECT pg_temp.reads('crm', 'partner_contacts', '{rep,se,mgr,restricted,norole,beta_rep}');
SELECT pg_temp.reads('crm', 'internal_users', '{crm}');
SELECT pg_temp.reads('crm', 'rooms', '{portal,alpha_room,beta_room}');
SELECT pg_temp.reads('crm', 'tabs',
                     '{welcome,decks,leadforms,techdocs,dashboards,agreements,alphaplan,alphaprice,betaplan}');
SELECT is_empty('SELECT * FROM introw.tab_roles', 'crm reads tab_roles: nothing');
SELECT pg_temp.reads('crm', 'content_items',
                     '{item_welcome,item_decks,item_leadforms,item_techdocs,item_dashboards,item_agreements,item_alphaplan,item_alphaprice,item_betaplan}');
SELECT is(introw.visible_tab_ids(),
          pg_temp.ids('{welcome,decks,leadforms,techdocs,dashboards,agreements,alphaplan,alphaprice,betaplan}'),
          'crm: visible_tab_ids() is every Acme tab');
SELECT is(introw.can_see_tab(fx('globexnews')), false, 'crm: cannot see a Globex tab');
SELECT is_empty('SELECT * FROM introw.access_matrix', 'crm: access_matrix is empty for a crm_user');
SELECT set_eq('SELECT contact_id FROM introw.unassigned_contacts', pg_temp.ids('{norole}'),
              'crm: unassigned_contacts shows norole');
SELECT throws_ok($$SELECT introw.contact_visible_tab_ids(fx('rep'))$$, '42501',
                 'permission denied for function contact_visible_tab_ids',
                 'crm: contact_visible_tab_ids() is refused');
SELECT pg_temp.denied('crm', t)
FROM unnest(ARRAY['tenants', 'tiers', 'partner_roles', 'partner_organizations', 'partner_contacts',
                  'internal_users', 'rooms', 'tabs', 'tab_roles', 'content_items']) AS t;
RESET ROLE;
SELECT is(pg_temp.fingerprint(), :'fp', 'crm: the refused writes changed nothing');

-- ===========================================================================
-- partner_manager (pm manages Alpha; pm2 manages Beta): reads everything of
-- the tenant; updates the organisations it manages and writes their contacts
-- ===========================================================================
SET LOCAL ROLE regress_introw_app;
SELECT introw.set_user(fx('pm'));
SELECT is(introw.current_principal_kind(), 'partner_manager', 'pm: principal kind is partner_manager');
SELECT pg_temp.reads('pm', 'tenants', '{acme}');
SELECT pg_temp.reads('pm', 'tiers', '{gold,silver}');
SELECT pg_temp.reads('pm', 'partner_roles', '{sales_rep,solutions_engineer,partner_manager_role,restricted_rep}');
SELECT pg_temp.reads('pm', 'partner_organizations', '{alpha,beta}');
SELECT pg_temp.reads('pm', 'partner_contacts', '{rep,se,mgr,restricted,norole,beta_rep}');
SELECT pg_temp.reads('pm', 'internal_users', '{admin,member,pm,pm2,crm,off}');
SELECT pg_temp.reads('pm', 'rooms', '{portal,alpha_room,beta_room}');
SELECT pg_temp.reads('pm', 'tabs',
                     '{welcome,decks,leadforms,techdocs,dashboards,agreements,alphaplan,alphaprice,betaplan}');
SELECT set_eq('SELECT tab_id, role_id FROM introw.tab_roles', 'SELECT tab_id, role_id FROM acme_tab_roles',
              'pm reads tab_roles: every limit of Acme');
SELECT pg_temp.reads('pm', 'content_items',
                     '{item_welcome,item_decks,item_leadforms,item_techdocs,item_dashboards,item_agreements,item_alphaplan,item_alphaprice,item_betaplan}');
SELECT is((SELECT count(*) FROM introw.access_matrix), 36::bigint,
          'pm: access_matrix has 4 roles x 9 tabs');
SELECT set_eq('SELECT role_id, tab_id FROM introw.access_matrix WHERE visible',
              'SELECT role_id, tab_id FROM acme_matrix_visible',
              'pm: access_matrix marks exactly the expected (role, tab) pairs visible');
SELECT set_eq('SELECT contact_id FROM introw.unassigned_contacts', pg_temp.ids('{norole}'),
              'pm: unassigned_contacts shows norole');
SELECT throws_ok($$SELECT introw.contact_visible_tab_ids(fx('rep'))$$, '42501',
                 'permission denied for function contact_visible_tab_ids',
                 'pm: contact_visible_tab_ids() is for admins only');

-- organisations: update the managed one only; no insert, no delete
SELECT is(pg_temp.changes(format($q$UPDATE introw.partner_organizations SET crm_company_id = 'hs-alpha'
                                    WHERE org_id = %s$q$, fx('alpha'))), 1::bigint,
          'pm: UPDATE of Alpha (managed) changes it');
SELECT is(pg_temp.changes(format($q$UPDATE introw.partner_organizations SET crm_company_id = 'hs-beta'
                                    WHERE org_id = %s$q$, fx('beta'))), 0::bigint,
          'pm: UPDATE of Beta (not managed) changes no row');
SELECT throws_ok(pg_temp.write_sql('INSERT', 'partner_organizations', 'acme'), '42501',
                 'new row violates row-level security policy for table "partner_organizations"',
                 'pm: INSERT of an organisation is refused');
SELECT is(pg_temp.changes(format('DELETE FROM introw.partner_organizations WHERE org_id = %s', fx('alpha'))),
          0::bigint, 'pm: DELETE of Alpha (managed) changes no row');
-- contacts: write in Alpha, not in Beta
SELECT pg_temp.allowed('pm', 'partner_contacts', 'alpha');
SELECT throws_ok(format($q$INSERT INTO introw.partner_contacts (tenant_id, org_id, email)
                           VALUES (%s, %s, 'new@beta.test')$q$, fx('acme'), fx('beta')), '42501',
                 'new row violates row-level security policy for table "partner_contacts"',
                 'pm: INSERT of a contact into Beta (not managed) is refused');
SELECT is(pg_temp.changes(format($q$UPDATE introw.partner_contacts SET full_name = 'Renamed'
                                    WHERE contact_id = %s$q$, fx('se'))), 1::bigint,
          'pm: UPDATE of a contact of Alpha changes it');
SELECT is(pg_temp.changes(format($q$UPDATE introw.partner_contacts SET full_name = 'Renamed'
                                    WHERE contact_id = %s$q$, fx('beta_rep'))), 0::bigint,
          'pm: UPDATE of a contact of Beta changes no row');
SELECT throws_ok(format('UPDATE introw.partner_contacts SET org_id = %s WHERE contact_id = %s',
                        fx('beta'), fx('se')), '42501',
                 'new row violates row-level security policy for table "partner_contacts"',
                 'pm: moving a contact of Alpha into Beta is refused');
SELECT is(pg_temp.changes(format('DELETE FROM introw.partner_contacts WHERE contact_id = %s', fx('beta_rep'))),
          0::bigint, 'pm: DELETE of a contact of Beta changes no row');
RESET ROLE;
SELECT results_eq(format('SELECT org_id, crm_company_id FROM introw.partner_organizations WHERE tenant_id = %s ORDER BY org_id', fx('acme')),
                  format($q$VALUES (%s::bigint, 'hs-alpha'::text), (%s, NULL)$q$, fx('alpha'), fx('beta')),
                  'pm: as the superuser, Alpha was updated and Beta was not');
SELECT results_eq(format('SELECT full_name, org_id FROM introw.partner_contacts WHERE contact_id IN (%s, %s) ORDER BY contact_id',
                         fx('se'), fx('beta_rep')),
                  format($q$VALUES ('Renamed'::text, %s::bigint), ('Ben Beta', %s)$q$, fx('alpha'), fx('beta')),
                  'pm: as the superuser, the Alpha contact was renamed, the Beta contact was not');
SELECT pg_temp.fingerprint() AS fp \gset
SET LOCAL ROLE regress_introw_app;
SELECT pg_temp.denied('pm', t)
FROM unnest(ARRAY['tenants', 'tiers', 'partner_roles', 'internal_users', 'rooms', 'tabs',
                  'tab_roles', 'content_items']) AS t;
RESET ROLE;
SELECT is(pg_temp.fingerprint(), :'fp', 'pm: the refused writes changed nothing');

-- pm2 manages Beta: the mirror image
SET LOCAL ROLE regress_introw_app;
SELECT introw.set_user(fx('pm2'));
SELECT is(pg_temp.changes(format($q$UPDATE introw.partner_organizations SET crm_company_id = 'x'
                                    WHERE org_id = %s$q$, fx('alpha'))), 0::bigint,
          'pm2: UPDATE of Alpha (not managed) changes no row');
SELECT is(pg_temp.changes(format($q$UPDATE introw.partner_contacts SET full_name = 'Ben B.'
                                    WHERE contact_id = %s$q$, fx('beta_rep'))), 1::bigint,
          'pm2: UPDATE of a contact of Beta (managed) changes it');
SELECT throws_ok(format($q$INSERT INTO introw.partner_contacts (tenant_id, org_id, email)
                           VALUES (%s, %s, 'new2@alpha.test')$q$, fx('acme'), fx('alpha')), '42501',
                 'new row violates row-level security policy for table "partner_contacts"',
                 'pm2: INSERT of a contact into Alpha (not managed) is refused');
RESET ROLE;

-- ===========================================================================
-- member: reads everything of the tenant; writes organisations, contacts
-- and content items; not the configuration
-- ===========================================================================
SET LOCAL ROLE regress_introw_app;
SELECT introw.set_user(fx('member'));
SELECT is(introw.current_principal_kind(), 'member', 'member: principal kind is member');
SELECT pg_temp.reads('member', 'tenants', '{acme}');
SELECT pg_temp.reads('member', 'tiers', '{gold,silver}');
SELECT pg_temp.reads('member', 'partner_roles', '{sales_rep,solutions_engineer,partner_manager_role,restricted_rep}');
SELECT pg_temp.reads('member', 'partner_organizations', '{alpha,beta}');
SELECT pg_temp.reads('member', 'partner_contacts', '{rep,se,mgr,restricted,norole,beta_rep}');
SELECT pg_temp.reads('member', 'internal_users', '{admin,member,pm,pm2,crm,off}');
SELECT pg_temp.reads('member', 'rooms', '{portal,alpha_room,beta_room}');
SELECT pg_temp.reads('member', 'tabs',
                     '{welcome,decks,leadforms,techdocs,dashboards,agreements,alphaplan,alphaprice,betaplan}');
SELECT set_eq('SELECT tab_id, role_id FROM introw.tab_roles', 'SELECT tab_id, role_id FROM acme_tab_roles',
              'member reads tab_roles: every limit of Acme');
SELECT pg_temp.reads('member', 'content_items',
                     '{item_welcome,item_decks,item_leadforms,item_techdocs,item_dashboards,item_agreements,item_alphaplan,item_alphaprice,item_betaplan}');
SELECT set_eq('SELECT role_id, tab_id FROM introw.access_matrix WHERE visible',
              'SELECT role_id, tab_id FROM acme_matrix_visible',
              'member: access_matrix marks exactly the expected (role, tab) pairs visible');
SELECT set_eq('SELECT contact_id FROM introw.unassigned_contacts', pg_temp.ids('{norole}'),
              'member: unassigned_contacts shows norole');
SELECT throws_ok($$SELECT introw.contact_visible_tab_ids(fx('rep'))$$, '42501',
                 'permission denied for function contact_visible_tab_ids',
                 'member: contact_visible_tab_ids() is for admins only');
SELECT pg_temp.allowed('member', t)
FROM unnest(ARRAY['partner_organizations', 'partner_contacts', 'content_items']) AS t;
SELECT is(pg_temp.changes(format($q$UPDATE introw.partner_contacts SET full_name = 'Bennet Beta'
                                    WHERE contact_id = %s$q$, fx('beta_rep'))), 1::bigint,
          'member: UPDATE of a contact of any organisation changes it');
SELECT throws_ok(pg_temp.write_sql('INSERT', 'partner_organizations', 'globex'), '42501',
                 'new row violates row-level security policy for table "partner_organizations"',
                 'member: INSERT of an organisation into Globex is refused');
RESET ROLE;
SELECT is((SELECT full_name FROM introw.partner_contacts WHERE contact_id = fx('beta_rep')), 'Bennet Beta',
          'member: as the superuser, the update is there');
SELECT is((SELECT count(*) FROM introw.partner_contacts WHERE email = 'tmp@partner.test'), 0::bigint,
          'member: as the superuser, the contact it deleted is gone');
SELECT pg_temp.fingerprint() AS fp \gset
SET LOCAL ROLE regress_introw_app;
SELECT pg_temp.denied('member', t)
FROM unnest(ARRAY['tenants', 'tiers', 'partner_roles', 'internal_users', 'rooms', 'tabs', 'tab_roles']) AS t;
RESET ROLE;
SELECT is(pg_temp.fingerprint(), :'fp', 'member: the refused writes changed nothing');

-- ===========================================================================
-- admin: reads and writes everything of its own tenant, nothing of another
-- ===========================================================================
SET LOCAL ROLE regress_introw_app;
SELECT introw.set_user(fx('admin'));
SELECT is(introw.current_principal_kind(), 'admin', 'admin: principal kind is admin');
SELECT is(introw.current_user_id(), fx('admin'), 'admin: current_user_id()');
SELECT pg_temp.reads('admin', 'tenants', '{acme}');
SELECT pg_temp.reads('admin', 'tiers', '{gold,silver}');
SELECT pg_temp.reads('admin', 'partner_roles', '{sales_rep,solutions_engineer,partner_manager_role,restricted_rep}');
SELECT pg_temp.reads('admin', 'partner_organizations', '{alpha,beta}');
SELECT pg_temp.reads('admin', 'partner_contacts', '{rep,se,mgr,restricted,norole,beta_rep}');
SELECT pg_temp.reads('admin', 'internal_users', '{admin,member,pm,pm2,crm,off}');
SELECT pg_temp.reads('admin', 'rooms', '{portal,alpha_room,beta_room}');
SELECT pg_temp.reads('admin', 'tabs',
                     '{welcome,decks,leadforms,techdocs,dashboards,agreements,alphaplan,alphaprice,betaplan}');
SELECT set_eq('SELECT tab_id, role_id FROM introw.tab_roles', 'SELECT tab_id, role_id FROM acme_tab_roles',
              'admin reads tab_roles: every limit of Acme');
SELECT pg_temp.reads('admin', 'content_items',
                     '{item_welcome,item_decks,item_leadforms,item_techdocs,item_dashboards,item_agreements,item_alphaplan,item_alphaprice,item_betaplan}');
SELECT is(introw.visible_tab_ids(),
          pg_temp.ids('{welcome,decks,leadforms,techdocs,dashboards,agreements,alphaplan,alphaprice,betaplan}'),
          'admin: visible_tab_ids() is every Acme tab');
SELECT is(introw.can_see_tab(fx('techdocs')), true, 'admin: can_see_tab(Technical Docs)');
SELECT is(introw.can_see_tab(fx('globexnews')), false, 'admin: cannot see a Globex tab');

-- access_matrix: 4 roles x 9 tabs, visible as the tab limits say
SELECT is((SELECT count(*) FROM introw.access_matrix), 36::bigint, 'admin: access_matrix has 4 roles x 9 tabs');
SELECT set_eq('SELECT role_id, tab_id FROM introw.access_matrix WHERE visible',
              'SELECT role_id, tab_id FROM acme_matrix_visible',
              'admin: access_matrix marks exactly the expected (role, tab) pairs visible');
SELECT is((SELECT visible FROM introw.access_matrix WHERE role_id = fx('sales_rep') AND tab_id = fx('decks')),
          true, 'admin: access_matrix Sales Rep x Sales Decks is visible');
SELECT is((SELECT visible FROM introw.access_matrix WHERE role_id = fx('sales_rep') AND tab_id = fx('techdocs')),
          false, 'admin: access_matrix Sales Rep x Technical Docs is not visible');
SELECT is((SELECT visible FROM introw.access_matrix WHERE role_id = fx('restricted_rep') AND tab_id = fx('alphaprice')),
          true, 'admin: access_matrix Restricted Rep x Alpha Pricing is visible');
SELECT is((SELECT visible FROM introw.access_matrix WHERE role_id = fx('solutions_engineer') AND tab_id = fx('alphaprice')),
          false, 'admin: access_matrix Solutions Engineer x Alpha Pricing is not visible');
SELECT results_eq($$SELECT DISTINCT role_name, tab_name FROM introw.access_matrix
                    WHERE role_id = fx('partner_manager_role') AND tab_id = fx('agreements')$$,
                  $$VALUES ('Partner Manager', 'Agreements')$$,
                  'admin: access_matrix carries role and tab names');
SELECT set_eq('SELECT contact_id FROM introw.unassigned_contacts', pg_temp.ids('{norole}'),
              'admin: unassigned_contacts is exactly norole');

-- contact_visible_tab_ids() for contacts of its own tenant only
SELECT is(introw.contact_visible_tab_ids(fx('se')), pg_temp.ids('{welcome,decks,techdocs,alphaplan}'),
          'admin: contact_visible_tab_ids(se)');
SELECT is(introw.contact_visible_tab_ids(fx('beta_rep')), pg_temp.ids('{welcome,decks,leadforms,betaplan}'),
          'admin: contact_visible_tab_ids(beta_rep)');
SELECT is(introw.contact_visible_tab_ids(fx('norole')), pg_temp.ids('{welcome,alphaplan}'),
          'admin: contact_visible_tab_ids(norole)');
SELECT is(introw.contact_visible_tab_ids(NULL), NULL, 'admin: contact_visible_tab_ids(NULL) is NULL');
SELECT throws_ok($$SELECT introw.contact_visible_tab_ids(fx('gamma_rep'))$$, '42704',
                 format('partner contact %s does not exist', fx('gamma_rep')),
                 'admin: a Globex contact does not exist for contact_visible_tab_ids()');

-- writes in its own tenant
SELECT is(pg_temp.changes(format($q$UPDATE introw.tenants SET name = 'Acme Inc' WHERE tenant_id = %s$q$,
                                 fx('acme'))), 1::bigint, 'admin: UPDATE of its own tenant changes it');
SELECT throws_ok(pg_temp.write_sql('INSERT', 'tenants', 'acme'), '42501',
                 'new row violates row-level security policy for table "tenants"',
                 'admin: INSERT of a new tenant (not its own) is refused');
SELECT pg_temp.allowed('admin', t)
FROM unnest(ARRAY['tiers', 'partner_roles', 'partner_organizations', 'partner_contacts',
                  'internal_users', 'rooms', 'tabs', 'tab_roles', 'content_items']) AS t;
SELECT is(pg_temp.changes(format($q$UPDATE introw.internal_users SET active = false WHERE user_id = %s$q$,
                                 fx('crm'))), 1::bigint, 'admin: can deactivate a user');
RESET ROLE;
SELECT is((SELECT name FROM introw.tenants WHERE tenant_id = fx('acme')), 'Acme Inc',
          'admin: as the superuser, the tenant was renamed');
SELECT is((SELECT active FROM introw.internal_users WHERE user_id = fx('crm')), false,
          'admin: as the superuser, crm is inactive');
SELECT is_empty($$SELECT 1 FROM introw.tiers WHERE name = 'Tmp Tier'
                  UNION ALL SELECT 1 FROM introw.tab_roles WHERE tab_id = fx('welcome')
                  UNION ALL SELECT 1 FROM introw.tabs WHERE name = 'Tmp Tab'$$,
                'admin: as the superuser, the rows it deleted are gone');

-- nothing of Globex: invisible and not writable
SELECT pg_temp.fingerprint() AS fp \gset
SET LOCAL ROLE regress_introw_app;
SELECT pg_temp.denied('admin', t, 'globex')
FROM unnest(ARRAY['tiers', 'partner_roles', 'partner_organizations', 'partner_contacts',
                  'internal_users', 'rooms', 'tabs', 'tab_roles', 'content_items']) AS t;
SELECT is(pg_temp.changes(format($q$UPDATE introw.tenants SET name = 'Hacked' WHERE tenant_id = %s$q$,
                                 fx('globex'))), 0::bigint, 'admin: UPDATE of Globex changes no row');
SELECT is(pg_temp.changes(format('DELETE FROM introw.tenants WHERE tenant_id = %s', fx('globex'))),
          0::bigint, 'admin: DELETE of Globex changes no row');
SELECT throws_ok(format('UPDATE introw.tiers SET tenant_id = %s WHERE tier_id = %s', fx('globex'), fx('gold')),
                 '42501', 'new row violates row-level security policy for table "tiers"',
                 'admin: moving an Acme row into Globex is refused');
RESET ROLE;
SELECT is(pg_temp.fingerprint(), :'fp', 'admin: the refused cross-tenant writes changed nothing');

-- ===========================================================================
-- Globex admin: sees only Globex, cannot write into Acme
-- ===========================================================================
SET LOCAL ROLE regress_introw_app;
SELECT introw.set_user(fx('globex_admin'));
SELECT is(introw.current_tenant_id(), fx('globex'), 'globex_admin: current_tenant_id() is Globex');
SELECT pg_temp.reads('globex_admin', 'tenants', '{globex}');
SELECT pg_temp.reads('globex_admin', 'tiers', '{}');
SELECT pg_temp.reads('globex_admin', 'partner_roles', '{globex_sales_rep,globex_se,globex_pm}');
SELECT pg_temp.reads('globex_admin', 'partner_organizations', '{gamma}');
SELECT pg_temp.reads('globex_admin', 'partner_contacts', '{gamma_rep}');
SELECT pg_temp.reads('globex_admin', 'internal_users', '{globex_admin}');
SELECT pg_temp.reads('globex_admin', 'rooms', '{globex_room}');
SELECT pg_temp.reads('globex_admin', 'tabs', '{globexnews}');
SELECT is_empty('SELECT * FROM introw.tab_roles', 'globex_admin reads tab_roles: nothing (Globex has no limits)');
SELECT pg_temp.reads('globex_admin', 'content_items', '{item_globexnews}');
SELECT is(introw.visible_tab_ids(), pg_temp.ids('{globexnews}'), 'globex_admin: visible_tab_ids()');
SELECT is(introw.can_see_tab(fx('welcome')), false, 'globex_admin: cannot see an Acme tab');
SELECT set_eq('SELECT role_id, tab_id, visible FROM introw.access_matrix',
              format('VALUES (%1$s::bigint, %4$s::bigint, true), (%2$s, %4$s, true), (%3$s, %4$s, true)',
                     fx('globex_sales_rep'), fx('globex_se'), fx('globex_pm'), fx('globexnews')),
              'globex_admin: access_matrix is Globex only');
SELECT is_empty('SELECT * FROM introw.unassigned_contacts', 'globex_admin: unassigned_contacts is empty');
SELECT throws_ok($$SELECT introw.contact_visible_tab_ids(fx('rep'))$$, '42704',
                 format('partner contact %s does not exist', fx('rep')),
                 'globex_admin: an Acme contact does not exist for contact_visible_tab_ids()');
SELECT is(introw.contact_visible_tab_ids(fx('gamma_rep')), pg_temp.ids('{globexnews}'),
          'globex_admin: contact_visible_tab_ids(gamma_rep)');
SELECT pg_temp.denied('globex_admin', t, 'acme')
FROM unnest(ARRAY['tiers', 'partner_roles', 'partner_organizations', 'partner_contacts',
                  'internal_users', 'rooms', 'tabs', 'tab_roles', 'content_items']) AS t;
SELECT is(pg_temp.changes(format($q$UPDATE introw.tenants SET name = 'Hacked' WHERE tenant_id = %s$q$,
                                 fx('acme'))), 0::bigint, 'globex_admin: UPDATE of Acme changes no row');
SELECT is(pg_temp.changes(format('DELETE FROM introw.tenants WHERE tenant_id = %s', fx('acme'))),
          0::bigint, 'globex_admin: DELETE of Acme changes no row');
SELECT throws_ok(format($q$INSERT INTO introw.tenants (tenant_id, name) OVERRIDING SYSTEM VALUE
                           VALUES (%s, 'Acme again')$q$, fx('acme')), '42501',
                 'permission denied for table tenants',
                 'globex_admin: INSERT with the tenant_id of Acme is refused (applications never write ids)');
SELECT is(pg_temp.changes(format('UPDATE introw.partner_roles SET is_default = false WHERE role_id = %s',
                                 fx('sales_rep'))), 0::bigint,
          'globex_admin: cannot unset the default role of Acme');
RESET ROLE;
SELECT is(pg_temp.fingerprint(), :'fp', 'globex_admin: the refused writes into Acme changed nothing');

-- ===========================================================================
-- The superuser bypasses row-level security and gets report answers
-- ===========================================================================
SELECT is(introw.contact_visible_tab_ids(fx('rep')), pg_temp.ids('{welcome,decks,leadforms,alphaplan,alphaprice}'),
          'superuser: contact_visible_tab_ids(rep)');
SELECT is(introw.contact_visible_tab_ids(fx('gamma_rep')), pg_temp.ids('{globexnews}'),
          'superuser: contact_visible_tab_ids(gamma_rep) of another tenant');
SELECT is((SELECT count(*) FROM introw.access_matrix), 39::bigint,
          'superuser: access_matrix has every tenant (4 x 9 + 3 x 1)');
SELECT set_eq('SELECT contact_id FROM introw.unassigned_contacts', pg_temp.ids('{norole}'),
              'superuser: unassigned_contacts is exactly norole');

-- ===========================================================================
-- An admin may delete its own tenant (and only it); its principal then
-- reads as none
-- ===========================================================================
INSERT INTO introw.tenants (name) VALUES ('Scratch');
INSERT INTO public.fx SELECT 'scratch', tenant_id FROM introw.tenants WHERE name = 'Scratch';
INSERT INTO introw.internal_users (tenant_id, email, user_role) VALUES (fx('scratch'), 'admin@scratch.test', 'admin');
INSERT INTO public.fx SELECT 'scratch_admin', user_id FROM introw.internal_users WHERE email = 'admin@scratch.test';
SET LOCAL ROLE regress_introw_app;
SELECT introw.set_user(fx('scratch_admin'));
SELECT is(pg_temp.changes('DELETE FROM introw.tenants'), 1::bigint,
          'scratch admin: DELETE FROM tenants without WHERE deletes its own tenant only');
SELECT is(introw.current_principal_kind(), 'none', 'scratch admin: a principal whose tenant is gone reads as none');
SELECT is_empty('SELECT * FROM introw.partner_roles', 'scratch admin: then reads nothing');
RESET ROLE;
SELECT results_eq($$SELECT name FROM introw.tenants ORDER BY name$$,
                  $$VALUES ('Acme Inc'::text), ('Globex')$$,
                  'scratch admin: as the superuser, only Scratch is gone');
SELECT is((SELECT count(*) FROM introw.partner_roles WHERE tenant_id = fx('scratch')), 0::bigint,
          'scratch admin: its preconfigured roles went with it');

SELECT * FROM finish();
ROLLBACK;
