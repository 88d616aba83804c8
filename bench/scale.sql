-- bench/scale.sql -- one large tenant, at the scale of the performance issue,
-- times :scale: 1,000 organisations, 20,000 contacts, 5,100 tabs, 105,000
-- items, 500,000 CRM objects, 1,000,000 collaborator rows.  Loaded as a
-- superuser with session_replication_role = replica (row triggers and
-- foreign-key checks off; the statement-level stamping triggers still run),
-- then ANALYZEd.
\set ON_ERROR_STOP 1
SET session_replication_role = replica;
SET synchronous_commit = off;

INSERT INTO introw.tenants (tenant_id, name) OVERRIDING SYSTEM VALUE VALUES (1, 'Big');
INSERT INTO introw.partner_roles (tenant_id, role_id, name, crm_value, preconfigured, is_default, collaboration_restricted)
OVERRIDING SYSTEM VALUE VALUES
    (1, 1, 'Sales Rep', 'Sales Rep', true, true, false),
    (1, 2, 'Solutions Engineer', 'Solutions Engineer', true, false, false),
    (1, 3, 'Partner Manager', 'Partner Manager', true, false, false),
    (1, 4, 'Restricted', 'Restricted', false, false, true);
INSERT INTO introw.internal_users (tenant_id, user_id, email, full_name, user_role, hubspot_user_id)
OVERRIDING SYSTEM VALUE VALUES
    (1, 1, 'admin@big.test', 'Admin', 'admin', NULL),
    (1, 2, 'crm@big.test', 'CRM', 'crm_user', 'hs-1'),
    (1, 3, 'pm@big.test', 'PM', 'partner_manager', NULL);

-- organisations 1..N, contacts 20 per organisation (ids 1..20N); contact
-- 20k+1 of each organisation is restricted, 20k+2 has no role
INSERT INTO introw.partner_organizations (tenant_id, org_id, name, partner_manager_id)
OVERRIDING SYSTEM VALUE
SELECT 1, o, 'Org ' || o, CASE WHEN o % 10 = 0 THEN 3 END FROM generate_series(1, 1000 * :scale) o;
INSERT INTO introw.partner_contacts (tenant_id, contact_id, org_id, email, role_id, role_source)
OVERRIDING SYSTEM VALUE
SELECT 1, c, 1 + (c - 1) / 20, 'c' || c || '@big.test',
       CASE (c - 1) % 20 WHEN 0 THEN 4 WHEN 1 THEN NULL ELSE 1 + (c % 3) END,
       CASE (c - 1) % 20 WHEN 1 THEN NULL ELSE 'explicit' END
FROM generate_series(1, 20000 * :scale) c;

-- rooms: one portal-wide room with 100 tabs, one room per organisation with
-- 5 tabs; a third of the tabs are limited to one or two roles
INSERT INTO introw.rooms (tenant_id, room_id, org_id, name) OVERRIDING SYSTEM VALUE
SELECT 1, r, CASE WHEN r = 1 THEN NULL ELSE r - 1 END, 'Room ' || r FROM generate_series(1, 1000 * :scale + 1) r;
INSERT INTO introw.tabs (tenant_id, tab_id, room_id, name, position) OVERRIDING SYSTEM VALUE
SELECT 1, t, CASE WHEN t <= 100 THEN 1 ELSE 2 + (t - 101) / 5 END, 'Tab ' || t, t % 7
FROM generate_series(1, 100 + 5000 * :scale) t;
INSERT INTO introw.tab_roles (tenant_id, tab_id, role_id)
SELECT 1, t, 1 + t % 3 FROM generate_series(1, 100 + 5000 * :scale) t WHERE t % 3 = 0
UNION ALL
SELECT 1, t, 1 + (t + 1) % 3 FROM generate_series(1, 100 + 5000 * :scale) t WHERE t % 6 = 0;

-- items: about 20.6 per tab
INSERT INTO introw.content_items (tenant_id, item_id, tab_id, kind, title, url, created_at) OVERRIDING SYSTEM VALUE
SELECT 1, i, 1 + (i::bigint * 7919) % (100 + 5000 * :scale),
       (ARRAY['file', 'link', 'asset', 'form', 'document'])[1 + i % 5], 'Item ' || i, 'https://x.test/' || i,
       timestamptz '2026-01-01' + i * interval '1 minute'
FROM generate_series(1, 105000 * :scale) i;

-- CRM objects: 500 per organisation, 80 % deals; collaborators: the
-- submitter and one more contact of the organisation
INSERT INTO introw.crm_objects (tenant_id, object_id, object_type, org_id, submitted_by_contact_id, name, stage, amount, created_at)
OVERRIDING SYSTEM VALUE
SELECT 1, x, CASE WHEN x % 5 = 0 THEN 'lead' ELSE 'deal' END, 1 + (x - 1) % (1000 * :scale),
       20 * ((x - 1) % (1000 * :scale)) + 1 + (x / (1000 * :scale)) % 20,
       'Deal ' || x, (ARRAY['New', 'Qualified', 'Proposal', 'Won'])[1 + x % 4], (x % 1000) * 100,
       timestamptz '2026-01-01' + x * interval '10 seconds'
FROM generate_series(1, 500000 * :scale) x;
INSERT INTO introw.collaborators (tenant_id, object_id, contact_id)
SELECT 1, x, 20 * ((x - 1) % (1000 * :scale)) + 1 + (x / (1000 * :scale)) % 20 FROM generate_series(1, 500000 * :scale) x
UNION ALL
SELECT 1, x, 20 * ((x - 1) % (1000 * :scale)) + 1 + (x / (1000 * :scale) + 7) % 20 FROM generate_series(1, 500000 * :scale) x;

-- identity sequences continue after the generated ids
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT * FROM (VALUES ('tenants', 'tenant_id'), ('partner_roles', 'role_id'),
            ('internal_users', 'user_id'), ('partner_organizations', 'org_id'),
            ('partner_contacts', 'contact_id'), ('rooms', 'room_id'), ('tabs', 'tab_id'),
            ('content_items', 'item_id'), ('crm_objects', 'object_id')) AS v(t, c)
    LOOP
        EXECUTE format('SELECT setval(pg_get_serial_sequence(%L, %L), (SELECT max(%I) FROM introw.%I))',
                       'introw.' || r.t, r.c, r.c, r.t);
    END LOOP;
END $$;
RESET session_replication_role;
VACUUM ANALYZE;
