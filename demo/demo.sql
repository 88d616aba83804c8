-- demo/demo.sql -- a sample tenant built from the two help pages in
-- shared/seeds: the three preconfigured roles, a "Collaboration Restricted"
-- role, two partner organisations, rooms and tabs for sales decks, lead
-- forms, technical docs, dashboards and agreements.  Run as a superuser.
CREATE EXTENSION IF NOT EXISTS introw_roles;

DO $$
DECLARE
    t bigint; gold bigint; silver bigint; pm bigint;
    acme bigint; byte bigint; portal bigint; acme_room bigint;
    rep bigint; se bigint; mgr bigint; restricted bigint;
    tab bigint; r record;
BEGIN
    INSERT INTO introw.tenants (name) VALUES ('Northwind Software') RETURNING tenant_id INTO t;
    -- the preconfigured roles exist already; look them up
    SELECT role_id INTO rep FROM introw.partner_roles WHERE tenant_id = t AND name = 'Sales Rep';
    SELECT role_id INTO se  FROM introw.partner_roles WHERE tenant_id = t AND name = 'Solutions Engineer';
    SELECT role_id INTO mgr FROM introw.partner_roles WHERE tenant_id = t AND name = 'Partner Manager';
    INSERT INTO introw.partner_roles (tenant_id, name, collaboration_restricted)
        VALUES (t, 'Deal Desk (restricted)', true) RETURNING role_id INTO restricted;
    -- "It is essential to set a default role for partner contacts."
    PERFORM introw.set_default_role(rep);

    INSERT INTO introw.tiers (tenant_id, name, rank) VALUES (t, 'Gold', 1) RETURNING tier_id INTO gold;
    INSERT INTO introw.tiers (tenant_id, name, rank) VALUES (t, 'Silver', 2) RETURNING tier_id INTO silver;
    INSERT INTO introw.internal_users (tenant_id, email, full_name, user_role)
        VALUES (t, 'alex@northwind.example', 'Alex Admin', 'admin');
    INSERT INTO introw.internal_users (tenant_id, email, full_name, user_role)
        VALUES (t, 'morgan@northwind.example', 'Morgan Partnerships', 'partner_manager') RETURNING user_id INTO pm;
    INSERT INTO introw.internal_users (tenant_id, email, full_name, user_role, hubspot_user_id)
        VALUES (t, 'casey@northwind.example', 'Casey Seller', 'crm_user', '9001');

    INSERT INTO introw.partner_organizations (tenant_id, name, tier_id, partner_manager_id)
        VALUES (t, 'Acme Resellers', gold, pm) RETURNING org_id INTO acme;
    INSERT INTO introw.partner_organizations (tenant_id, name, tier_id, partner_manager_id)
        VALUES (t, 'ByteWorks Consulting', silver, pm) RETURNING org_id INTO byte;

    INSERT INTO introw.partner_contacts (tenant_id, org_id, email, full_name, role_id) VALUES
        (t, acme, 'sara@acme.example',  'Sara (Sales Rep)',          rep),
        (t, acme, 'sean@acme.example',  'Sean (Solutions Engineer)', se),
        (t, acme, 'paula@acme.example', 'Paula (Partner Manager)',   mgr),
        (t, acme, 'dana@acme.example',  'Dana (Deal Desk)',          restricted),
        (t, byte, 'bob@byteworks.example', 'Bob (Sales Rep)',        rep);
    -- a new portal visitor: no role given, the default-role trigger assigns one
    INSERT INTO introw.partner_contacts (tenant_id, org_id, email, full_name)
        VALUES (t, byte, 'nora@byteworks.example', 'Nora (new visitor)');
    UPDATE introw.partner_organizations SET partner_champion_id =
        (SELECT contact_id FROM introw.partner_contacts WHERE email = 'paula@acme.example')
    WHERE org_id = acme;

    INSERT INTO introw.rooms (tenant_id, name) VALUES (t, 'Partner Portal') RETURNING room_id INTO portal;
    INSERT INTO introw.rooms (tenant_id, org_id, name) VALUES (t, acme, 'Acme Resellers room') RETURNING room_id INTO acme_room;

    FOR r IN SELECT * FROM (VALUES
        (portal,    1, 'Getting Started', ARRAY[]::bigint[],       'document', 'Portal handbook'),
        (portal,    2, 'Sales Decks',     ARRAY[rep, se, mgr],      'file',     'Q4 pitch deck'),
        (portal,    3, 'Lead Forms',      ARRAY[rep, se, mgr],      'form',     'Submit a lead'),
        (portal,    4, 'Technical Docs',  ARRAY[se],                'link',     'API integration guide'),
        (portal,    5, 'Dashboards',      ARRAY[mgr],               'asset',    'Partner performance dashboard'),
        (portal,    6, 'Agreements',      ARRAY[mgr],               'document', 'Reseller agreement 2026'),
        (acme_room, 1, 'Joint Plan',      ARRAY[]::bigint[],        'document', 'Acme x Northwind plan'),
        (acme_room, 2, 'Pricing',         ARRAY[rep, mgr, restricted], 'file',  'Acme price list')
    ) AS v(room, pos, name, roles, kind, title)
    LOOP
        INSERT INTO introw.tabs (tenant_id, room_id, name, position)
            VALUES (t, r.room, r.name, r.pos) RETURNING tab_id INTO tab;
        INSERT INTO introw.tab_roles (tenant_id, tab_id, role_id) SELECT t, tab, unnest(r.roles);
        INSERT INTO introw.content_items (tenant_id, tab_id, kind, title, url)
            VALUES (t, tab, r.kind, r.title, 'https://portal.example/' || tab);
    END LOOP;

    -- the pipeline: partner-submitted and attributed deals, and one of the
    -- vendor's own; the submitter is made a collaborator by the extension
    INSERT INTO introw.crm_objects (tenant_id, object_type, org_id, submitted_by_contact_id, name, stage, amount)
    SELECT t, 'deal', c.org_id, c.contact_id, d.name, d.stage, d.amount
    FROM (VALUES ('sara@acme.example',  'Globex renewal',       'Proposal',    42000),
                 ('sean@acme.example',  'Initech integration',  'Qualified',   18000),
                 ('bob@byteworks.example', 'Umbrella rollout',  'Negotiation', 65000)) AS d(email, name, stage, amount)
    JOIN introw.partner_contacts c ON c.tenant_id = t AND c.email = d.email;
    INSERT INTO introw.crm_objects (tenant_id, object_type, org_id, name, stage, amount)
    VALUES (t, 'deal', acme, 'Hooli expansion (attributed)', 'Qualified', 30000),
           (t, 'deal', NULL, 'Direct enterprise deal (vendor)', 'Closed won', 120000);
    -- Dana (collaboration restricted) works on one Acme deal only
    INSERT INTO introw.collaborators (tenant_id, object_id, contact_id)
    SELECT t, o.object_id, c.contact_id FROM introw.crm_objects o, introw.partner_contacts c
    WHERE o.tenant_id = t AND o.name = 'Hooli expansion (attributed)' AND c.email = 'dana@acme.example';

    INSERT INTO introw.tasks (tenant_id, org_id, title, status) VALUES
        (t, acme, 'Complete sales certification', 'done'),
        (t, acme, 'Submit Q1 forecast', 'in_progress'),
        (t, byte, 'Sign reseller agreement', 'open');
END $$;

-- The application's database role: no superuser, no BYPASSRLS.
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'portal_app') THEN
        CREATE ROLE portal_app LOGIN NOBYPASSRLS;
    END IF;
END $$;
SELECT introw.grant_application('portal_app');
