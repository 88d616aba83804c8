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
-- Tenant "Globex": admin, one org Gamma with contact rep@gamma, a portal
--   room with tab "Globex News" and an item.

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
GRANT USAGE ON SCHEMA introw TO regress_introw_app, regress_introw_nobody;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA introw TO regress_introw_app, regress_introw_nobody;
GRANT EXECUTE ON FUNCTION introw.set_contact(bigint, boolean), introw.set_user(bigint, boolean),
                          introw.reset_principal(), introw.contact_visible_tab_ids(bigint)
    TO regress_introw_app;
GRANT SELECT ON public.fx TO regress_introw_app, regress_introw_nobody;
