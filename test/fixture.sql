-- test/fixture.sql -- a small, deterministic portal used by the tests.
-- Run as a superuser.  Objects are looked up by name through fx(), never by
-- literal id, so the file works in any database and transaction.
--
-- Tenant "Acme":
--   internal users: admin, member, pm (manages Alpha), pm2 (manages Beta),
--                   crm (crm_user, HubSpot id hs-crm-1), off (inactive member)
--   roles: Sales Rep (default), Solutions Engineer, Partner Manager
--          (preconfigured), Restricted Rep (collaboration restricted)
--   orgs:  Alpha (Gold, pm), Beta (Silver, pm2)
--   contacts: rep, se, mgr, restricted, norole @alpha; rep @beta
--   rooms: Portal (portal-wide), Alpha Room, Beta Room
--   tabs (limits):  Portal/Welcome (none), Portal/Sales Decks (Sales Rep,
--     Solutions Engineer, Partner Manager), Portal/Lead Forms (Sales Rep,
--     Partner Manager), Portal/Technical Docs (Solutions Engineer),
--     Portal/Dashboards (Partner Manager), Portal/Agreements (Partner
--     Manager), Alpha Room/Alpha Plan (none), Alpha Room/Alpha Pricing
--     (Sales Rep, Restricted Rep), Beta Room/Beta Plan (none)
--   one content item per tab, titled after it
--   CRM objects (collaborators):
--     a1  deal Alpha, submitted by rep, 10000 (rep, user pm)
--     a2  deal Alpha, submitted by se, 20000 (se)
--     a3  deal Alpha, no submitter, 5000 (restricted)
--     al  lead Alpha, 1000 (none)
--     b1  deal Beta, submitted by beta_rep, 7000 (beta_rep, norole@alpha)
--     bt  ticket Beta (none)
--     v1  deal of the vendor itself (org NULL), 50000 (user admin)
--   tasks: Alpha onboarding (open), Alpha training (done), Beta kickoff
--     (in_progress); portal settings; a CRM connection with a secret token;
--     one sync run with one reject.
-- Tenant "Globex": admin, one org Gamma with contact rep@gamma, a portal
--   room with tab "Globex News" and an item, deal g1 of Gamma (rep@gamma),
--   a task and portal settings.

CREATE TABLE IF NOT EXISTS public.fx (name text PRIMARY KEY, id bigint NOT NULL);
CREATE OR REPLACE FUNCTION public.fx(text) RETURNS bigint LANGUAGE sql STABLE
    AS $$ SELECT id FROM public.fx WHERE name = $1 $$;

DO $$
DECLARE
    acme bigint; globex bigint;
    gold bigint; silver bigint;
    alpha bigint; beta bigint; gamma bigint;
    portal bigint; alpha_room bigint; beta_room bigint; globex_room bigint;
    t record;
    new_id bigint;
BEGIN
    INSERT INTO introw.tenants (name) VALUES ('Acme') RETURNING tenant_id INTO acme;
    INSERT INTO introw.tenants (name) VALUES ('Globex') RETURNING tenant_id INTO globex;
    INSERT INTO public.fx VALUES ('acme', acme), ('globex', globex);

    INSERT INTO introw.tiers (tenant_id, name, rank) VALUES (acme, 'Gold', 1) RETURNING tier_id INTO gold;
    INSERT INTO introw.tiers (tenant_id, name, rank) VALUES (acme, 'Silver', 2) RETURNING tier_id INTO silver;

    FOR t IN SELECT * FROM (VALUES
        ('admin',  'admin@acme.test',   'Ada Admin',    'admin',           NULL,       true),
        ('member', 'member@acme.test',  'Max Member',   'member',          NULL,       true),
        ('pm',     'pm@acme.test',      'Pat Manager',  'partner_manager', NULL,       true),
        ('pm2',    'pm2@acme.test',     'Pia Manager',  'partner_manager', NULL,       true),
        ('crm',    'crm@acme.test',     'Cory CRM',     'crm_user',        'hs-crm-1', true),
        ('off',    'off@acme.test',     'Olga Offline', 'member',          NULL,       false)
    ) AS u(key, email, full_name, user_role, hs, active)
    LOOP
        INSERT INTO introw.internal_users (tenant_id, email, full_name, user_role, hubspot_user_id, active)
        VALUES (acme, t.email, t.full_name, t.user_role, t.hs, t.active) RETURNING user_id INTO new_id;
        INSERT INTO public.fx VALUES (t.key, new_id);
    END LOOP;
    INSERT INTO introw.internal_users (tenant_id, email, full_name, user_role)
        VALUES (globex, 'admin@globex.test', 'Gil Globex', 'admin');
    INSERT INTO public.fx SELECT 'globex_admin', user_id FROM introw.internal_users
        WHERE email = 'admin@globex.test';

    INSERT INTO introw.partner_roles (tenant_id, name, collaboration_restricted)
        VALUES (acme, 'Restricted Rep', true);
    INSERT INTO public.fx SELECT CASE name WHEN 'Sales Rep' THEN 'sales_rep'
                                           WHEN 'Solutions Engineer' THEN 'solutions_engineer'
                                           WHEN 'Partner Manager' THEN 'partner_manager_role'
                                           ELSE 'restricted_rep' END, role_id
        FROM introw.partner_roles WHERE tenant_id = acme;
    INSERT INTO public.fx SELECT 'globex_sales_rep', role_id FROM introw.partner_roles
        WHERE tenant_id = globex AND name = 'Sales Rep';
    PERFORM introw.set_default_role(public.fx('sales_rep'));
    PERFORM introw.set_default_role(public.fx('globex_sales_rep'));

    INSERT INTO introw.partner_organizations (tenant_id, name, tier_id, partner_manager_id)
        VALUES (acme, 'Alpha', gold, public.fx('pm')) RETURNING org_id INTO alpha;
    INSERT INTO introw.partner_organizations (tenant_id, name, tier_id, partner_manager_id)
        VALUES (acme, 'Beta', silver, public.fx('pm2')) RETURNING org_id INTO beta;
    INSERT INTO introw.partner_organizations (tenant_id, name)
        VALUES (globex, 'Gamma') RETURNING org_id INTO gamma;
    INSERT INTO public.fx VALUES ('alpha', alpha), ('beta', beta), ('gamma', gamma);

    FOR t IN SELECT * FROM (VALUES
        ('rep',        acme,   alpha, 'rep@alpha.test',        'Rita Rep',        public.fx('sales_rep')),
        ('se',         acme,   alpha, 'se@alpha.test',         'Sam Engineer',    public.fx('solutions_engineer')),
        ('mgr',        acme,   alpha, 'mgr@alpha.test',        'Mia Manager',     public.fx('partner_manager_role')),
        ('restricted', acme,   alpha, 'restricted@alpha.test', 'Rob Restricted',  public.fx('restricted_rep')),
        ('norole',     acme,   alpha, 'norole@alpha.test',     'Nina Norole',     NULL),
        ('beta_rep',   acme,   beta,  'rep@beta.test',         'Ben Beta',        public.fx('sales_rep')),
        ('gamma_rep',  globex, gamma, 'rep@gamma.test',        'Gus Gamma',       NULL)
    ) AS c(key, tenant, org, email, full_name, role)
    LOOP
        INSERT INTO introw.partner_contacts (tenant_id, org_id, email, full_name, role_id)
        VALUES (t.tenant, t.org, t.email, t.full_name, t.role) RETURNING contact_id INTO new_id;
        INSERT INTO public.fx VALUES (t.key, new_id);
    END LOOP;
    -- the role-less contact: its default role taken away afterwards
    UPDATE introw.partner_contacts SET role_id = NULL WHERE contact_id = public.fx('norole');
    UPDATE introw.partner_organizations SET partner_champion_id = public.fx('mgr') WHERE org_id = alpha;

    INSERT INTO introw.rooms (tenant_id, org_id, name) VALUES (acme, NULL, 'Portal') RETURNING room_id INTO portal;
    INSERT INTO introw.rooms (tenant_id, org_id, name) VALUES (acme, alpha, 'Alpha Room') RETURNING room_id INTO alpha_room;
    INSERT INTO introw.rooms (tenant_id, org_id, name) VALUES (acme, beta, 'Beta Room') RETURNING room_id INTO beta_room;
    INSERT INTO introw.rooms (tenant_id, org_id, name) VALUES (globex, NULL, 'Globex Portal') RETURNING room_id INTO globex_room;
    INSERT INTO public.fx VALUES ('portal', portal), ('alpha_room', alpha_room), ('beta_room', beta_room),
                                 ('globex_room', globex_room);

    FOR t IN SELECT * FROM (VALUES
        ('welcome',    acme,   portal,      'Welcome',        1, ARRAY[]::text[]),
        ('decks',      acme,   portal,      'Sales Decks',    2, ARRAY['sales_rep', 'solutions_engineer', 'partner_manager_role']),
        ('leadforms',  acme,   portal,      'Lead Forms',     3, ARRAY['sales_rep', 'partner_manager_role']),
        ('techdocs',   acme,   portal,      'Technical Docs', 4, ARRAY['solutions_engineer']),
        ('dashboards', acme,   portal,      'Dashboards',     5, ARRAY['partner_manager_role']),
        ('agreements', acme,   portal,      'Agreements',     6, ARRAY['partner_manager_role']),
        ('alphaplan',  acme,   alpha_room,  'Alpha Plan',     1, ARRAY[]::text[]),
        ('alphaprice', acme,   alpha_room,  'Alpha Pricing',  2, ARRAY['sales_rep', 'restricted_rep']),
        ('betaplan',   acme,   beta_room,   'Beta Plan',      1, ARRAY[]::text[]),
        ('globexnews', globex, globex_room, 'Globex News',    1, ARRAY[]::text[])
    ) AS v(key, tenant, room, name, pos, roles)
    LOOP
        INSERT INTO introw.tabs (tenant_id, room_id, name, position)
        VALUES (t.tenant, t.room, t.name, t.pos) RETURNING tab_id INTO new_id;
        INSERT INTO public.fx VALUES (t.key, new_id);
        INSERT INTO introw.tab_roles (tenant_id, tab_id, role_id)
        SELECT t.tenant, public.fx(t.key), public.fx(r) FROM unnest(t.roles) AS r;
        INSERT INTO introw.content_items (tenant_id, tab_id, kind, title, url)
        VALUES (t.tenant, public.fx(t.key),
                (ARRAY['file', 'link', 'asset', 'form', 'document'])[1 + t.pos % 5],
                t.name || ' item', 'https://example.test/' || t.key) RETURNING item_id INTO new_id;
        INSERT INTO public.fx VALUES ('item_' || t.key, new_id);
    END LOOP;

    FOR t IN SELECT * FROM (VALUES
        ('a1', acme,   'deal',   alpha, public.fx('rep'),      'Alpha deal one',   'Qualified',   10000),
        ('a2', acme,   'deal',   alpha, public.fx('se'),       'Alpha deal two',   'Proposal',    20000),
        ('a3', acme,   'deal',   alpha, NULL,                  'Alpha deal three', 'Negotiation',  5000),
        ('al', acme,   'lead',   alpha, NULL,                  'Alpha lead',       'New',          1000),
        ('b1', acme,   'deal',   beta,  public.fx('beta_rep'), 'Beta deal one',    'Qualified',    7000),
        ('bt', acme,   'ticket', beta,  NULL,                  'Beta ticket',      'Open',         NULL),
        ('v1', acme,   'deal',   NULL,  NULL,                  'Vendor deal',      'Closed won',  50000),
        ('g1', globex, 'deal',   gamma, public.fx('gamma_rep'), 'Gamma deal',      'Qualified',    3000)
    ) AS v(key, tenant, kind, org, submitter, name, stage, amount)
    LOOP
        INSERT INTO introw.crm_objects (tenant_id, object_type, org_id, submitted_by_contact_id, name, stage, amount)
        VALUES (t.tenant, t.kind, t.org, t.submitter, t.name, t.stage, t.amount) RETURNING object_id INTO new_id;
        INSERT INTO public.fx VALUES (t.key, new_id);
    END LOOP;
    INSERT INTO introw.collaborators (tenant_id, object_id, contact_id, user_id) VALUES
        (acme, public.fx('a1'), public.fx('rep'), NULL),
        (acme, public.fx('a1'), NULL, public.fx('pm')),
        (acme, public.fx('a2'), public.fx('se'), NULL),
        (acme, public.fx('a3'), public.fx('restricted'), NULL),
        (acme, public.fx('b1'), public.fx('beta_rep'), NULL),
        (acme, public.fx('b1'), public.fx('norole'), NULL),
        (acme, public.fx('v1'), NULL, public.fx('admin')),
        (globex, public.fx('g1'), public.fx('gamma_rep'), NULL)
    ON CONFLICT DO NOTHING;     -- submitters are collaborators already

    FOR t IN SELECT * FROM (VALUES
        ('task_onboarding', acme,   alpha, 'Alpha onboarding', 'open',        public.fx('rep')),
        ('task_training',   acme,   alpha, 'Alpha training',   'done',        NULL),
        ('task_kickoff',    acme,   beta,  'Beta kickoff',     'in_progress', public.fx('beta_rep')),
        ('task_gamma',      globex, gamma, 'Gamma task',       'open',        NULL)
    ) AS v(key, tenant, org, title, status, assignee)
    LOOP
        INSERT INTO introw.tasks (tenant_id, org_id, title, status, assignee_contact_id)
        VALUES (t.tenant, t.org, t.title, t.status, t.assignee) RETURNING task_id INTO new_id;
        INSERT INTO public.fx VALUES (t.key, new_id);
    END LOOP;
    INSERT INTO introw.portal_settings (tenant_id, settings) VALUES
        (acme, '{"theme": "dark", "welcome": "Hello partners"}'), (globex, '{"theme": "light"}');
    INSERT INTO introw.crm_connections (tenant_id, base_url, access_token, role_property)
        VALUES (acme, 'http://127.0.0.1:9', 'secret-token-acme', 'partner_role');
    INSERT INTO introw.crm_sync_runs (tenant_id, status, pages, fetched, applied, unchanged, rejected, http_status)
        VALUES (acme, 'succeeded', 1, 2, 1, 0, 1, 200) RETURNING run_id INTO new_id;
    INSERT INTO public.fx VALUES ('run1', new_id);
    INSERT INTO introw.crm_sync_rejects (run_id, tenant_id, crm_contact_id, email, value, reason)
        VALUES (new_id, acme, '901', 'ghost@nowhere.test', 'Sales Rep', 'unknown contact');
END $$;

-- The application role every test connects as: no superuser, no BYPASSRLS.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_introw_app') THEN
        CREATE ROLE regress_introw_app NOLOGIN NOBYPASSRLS;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regress_introw_nobody') THEN
        CREATE ROLE regress_introw_nobody NOLOGIN NOBYPASSRLS;
    END IF;
END $$;
DO $$ BEGIN PERFORM introw.grant_application('regress_introw_app'); END $$;
-- "nobody" may read and write tables, but may not become anyone
GRANT USAGE ON SCHEMA introw TO regress_introw_nobody;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA introw TO regress_introw_nobody;
REVOKE ALL ON introw.crm_connections FROM regress_introw_nobody;
DO $$ BEGIN  -- version 1.2 and later (the upgrade suite installs 1.0)
    IF to_regclass('introw.token_keys') IS NOT NULL THEN
        REVOKE ALL ON introw.token_keys FROM regress_introw_nobody;
    END IF;
END $$;
GRANT SELECT ON public.fx TO regress_introw_app, regress_introw_nobody;
