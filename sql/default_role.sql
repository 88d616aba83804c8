-- Default roles (PRODUCT.md section 5): the C trigger on partner_contacts,
-- set_default_role, assign_default_role, deleting roles.
CREATE TEMP VIEW roles_of AS
SELECT c.email, r.name AS role, c.role_source
FROM introw.partner_contacts c LEFT JOIN introw.partner_roles r USING (tenant_id, role_id);

-- INSERT without a role: the default (Sales Rep); with a role: kept, explicit
INSERT INTO introw.partner_contacts (tenant_id, org_id, email)
VALUES (fx('acme'), fx('alpha'), 'd1@alpha.test');
INSERT INTO introw.partner_contacts (tenant_id, org_id, email, role_id)
VALUES (fx('acme'), fx('alpha'), 'd2@alpha.test', fx('solutions_engineer'));
-- the writer said crm: kept; said default with a role: explicit
INSERT INTO introw.partner_contacts (tenant_id, org_id, email, role_id, role_source)
VALUES (fx('acme'), fx('alpha'), 'd3@alpha.test', fx('solutions_engineer'), 'crm'),
       (fx('acme'), fx('alpha'), 'd4@alpha.test', fx('solutions_engineer'), 'default');
-- multi-row
INSERT INTO introw.partner_contacts (tenant_id, org_id, email)
SELECT fx('acme'), fx('beta'), 'm' || g || '@beta.test' FROM generate_series(1, 3) g;
-- COPY (its data names tenant Acme and org Alpha by id)
SELECT fx('acme') = 1 AND fx('alpha') = 1 AS copy_ids_match;
COPY introw.partner_contacts (tenant_id, org_id, email, full_name) FROM stdin;
1	1	copy1@alpha.test	Copy One
1	1	copy2@alpha.test	Copy Two
\.
-- ON CONFLICT: DO NOTHING, DO UPDATE (case-insensitive email)
INSERT INTO introw.partner_contacts (tenant_id, org_id, email)
VALUES (fx('acme'), fx('alpha'), 'D1@ALPHA.TEST') ON CONFLICT DO NOTHING;
INSERT INTO introw.partner_contacts (tenant_id, org_id, email, full_name)
VALUES (fx('acme'), fx('alpha'), 'new@alpha.test', 'New'), (fx('acme'), fx('alpha'), 'D2@Alpha.Test', 'Dee Two')
ON CONFLICT (tenant_id, lower(email)) DO UPDATE SET full_name = EXCLUDED.full_name;
SELECT * FROM roles_of WHERE email ~ '^(d[0-9]|m[0-9]|copy|new)' ORDER BY email;

-- UPDATE: role_source follows the role
UPDATE introw.partner_contacts SET role_id = fx('partner_manager_role') WHERE email = 'd1@alpha.test';
UPDATE introw.partner_contacts SET role_id = NULL WHERE email = 'd3@alpha.test';
BEGIN;
UPDATE introw.partner_contacts SET full_name = 'Renamed' WHERE email = 'd4@alpha.test';
SELECT updated_at = now() AS updated_now, updated_at > created_at AS after_creation
FROM introw.partner_contacts WHERE email = 'd4@alpha.test';
COMMIT;
UPDATE introw.partner_contacts SET role_id = fx('sales_rep'), role_source = 'crm' WHERE email = 'm1@beta.test';
SELECT * FROM roles_of WHERE email IN ('d1@alpha.test', 'd3@alpha.test', 'd4@alpha.test', 'm1@beta.test')
ORDER BY email;
SELECT full_name FROM introw.partner_contacts WHERE email = 'd2@alpha.test';

-- contact ids do not change (principals and stamps name contacts by id)
UPDATE introw.partner_contacts SET contact_id = DEFAULT WHERE email = 'd1@alpha.test';

-- a tenant without a default: role-less contacts and one WARNING per statement
INSERT INTO introw.tenants (name) VALUES ('Initech');
INSERT INTO public.fx SELECT 'initech', tenant_id FROM introw.tenants WHERE name = 'Initech';
INSERT INTO introw.partner_organizations (tenant_id, name) VALUES (fx('initech'), 'Omega');
INSERT INTO introw.partner_contacts (tenant_id, org_id, email)
SELECT fx('initech'), (SELECT org_id FROM introw.partner_organizations WHERE name = 'Omega'),
       'o' || g || '@omega.test' FROM generate_series(1, 3) g;
SELECT count(*) AS roleless FROM introw.unassigned_contacts WHERE tenant_id = fx('initech');
SELECT introw.assign_default_role(fx('initech'));

-- set_default_role: one default, atomically; bad input
SELECT introw.set_default_role(r.role_id) FROM introw.partner_roles r
WHERE r.tenant_id = fx('initech') AND r.name = 'Solutions Engineer';
SELECT name FROM introw.partner_roles WHERE tenant_id = fx('initech') AND is_default;
SELECT introw.set_default_role(r.role_id) FROM introw.partner_roles r
WHERE r.tenant_id = fx('initech') AND r.name = 'Sales Rep';
SELECT name FROM introw.partner_roles WHERE tenant_id = fx('initech') AND is_default;
SELECT introw.set_default_role(NULL);
SELECT introw.set_default_role(-1);
UPDATE introw.partner_roles SET is_default = true WHERE tenant_id = fx('initech') AND name = 'Partner Manager';
-- changing the default does not touch existing contacts; assign_default_role does
SELECT count(*) AS still_roleless FROM introw.partner_contacts WHERE tenant_id = fx('initech') AND role_id IS NULL;
SELECT introw.assign_default_role(fx('initech'));
SELECT introw.assign_default_role(fx('initech'));
SELECT * FROM roles_of WHERE email LIKE 'o%@omega.test' ORDER BY email;
SELECT introw.assign_default_role(NULL);
SELECT introw.assign_default_role(-7);

-- deleting a role moves its contacts to the default, as 'default'
INSERT INTO introw.partner_roles (tenant_id, name) VALUES (fx('initech'), 'Temp Role');
UPDATE introw.partner_contacts SET role_id = (SELECT role_id FROM introw.partner_roles WHERE tenant_id = fx('initech') AND name = 'Temp Role')
WHERE email = 'o1@omega.test';
UPDATE introw.partner_contacts SET role_id = (SELECT role_id FROM introw.partner_roles WHERE tenant_id = fx('initech') AND name = 'Temp Role'),
       role_source = 'crm'
WHERE email = 'o2@omega.test';
SELECT * FROM roles_of WHERE email IN ('o1@omega.test', 'o2@omega.test') ORDER BY email;
DELETE FROM introw.partner_roles WHERE tenant_id = fx('initech') AND name = 'Temp Role';
SELECT * FROM roles_of WHERE email IN ('o1@omega.test', 'o2@omega.test') ORDER BY email;
-- a writer that names the source keeps it; a bad source is refused
UPDATE introw.partner_contacts SET role_id = fx('solutions_engineer'), role_source = 'crm' WHERE email = 'd2@alpha.test';
UPDATE introw.partner_contacts SET role_source = 'default' WHERE email = 'd2@alpha.test';
SELECT * FROM roles_of WHERE email = 'd2@alpha.test';
\set VERBOSITY terse
UPDATE introw.partner_contacts SET role_source = 'bogus' WHERE email = 'd2@alpha.test';
INSERT INTO introw.partner_contacts (tenant_id, org_id, email, role_id, role_source)
VALUES (fx('acme'), fx('alpha'), 'd9@alpha.test', fx('sales_rep'), 'hacked');
INSERT INTO introw.partner_contacts (tenant_id, org_id, email, role_source)
VALUES (fx('acme'), fx('alpha'), 'd9@alpha.test', 'bogus');
UPDATE introw.partner_contacts SET role_id = NULL, role_source = 'crm' WHERE email = 'd2@alpha.test';
\set VERBOSITY default
-- the default itself cannot be deleted
DELETE FROM introw.partner_roles WHERE tenant_id = fx('initech') AND is_default;
-- nor the only role limiting a tab (it would open to everyone)
DELETE FROM introw.partner_roles WHERE role_id = fx('solutions_engineer');
-- a role that shares its tabs with others goes; its limits go with it
INSERT INTO introw.partner_roles (tenant_id, name) VALUES (fx('acme'), 'Extra');
INSERT INTO introw.tab_roles (tenant_id, tab_id, role_id)
SELECT fx('acme'), fx('decks'), role_id FROM introw.partner_roles WHERE tenant_id = fx('acme') AND name = 'Extra';
DELETE FROM introw.partner_roles WHERE tenant_id = fx('acme') AND name = 'Extra';
SELECT count(*) AS decks_limits FROM introw.tab_roles WHERE tab_id = fx('decks');

-- through row-level security: an admin may set the default, a member may not
SET ROLE regress_introw_app;
SELECT introw.set_user(fx('member'));
SELECT introw.set_default_role(fx('solutions_engineer'));
SELECT introw.set_user(fx('admin'));
SELECT introw.set_default_role(fx('solutions_engineer'));
SELECT name FROM introw.partner_roles WHERE is_default;
SELECT introw.set_default_role(fx('sales_rep'));
-- an admin of another tenant cannot see, let alone set, Acme's roles
SELECT introw.set_user(fx('globex_admin'));
SELECT introw.set_default_role(fx('solutions_engineer'));
-- a contact inserting contacts is refused, and nothing is written
SELECT introw.set_contact(fx('rep'));
INSERT INTO introw.partner_contacts (tenant_id, org_id, email) VALUES (fx('acme'), fx('alpha'), 'sneaky@alpha.test');
SELECT introw.reset_principal();
RESET ROLE;
SELECT count(*) AS sneaky FROM introw.partner_contacts WHERE email = 'sneaky@alpha.test';

-- deleting a tenant takes everything with it, its default role included
DELETE FROM introw.tenants WHERE tenant_id = fx('initech');
SELECT count(*) AS initech_rows FROM introw.partner_roles WHERE tenant_id = fx('initech');

-- clean up what this file added to the shared fixture
DELETE FROM introw.partner_contacts WHERE email ~ '^(d[0-9]|m[0-9]|copy|new)';
DELETE FROM public.fx WHERE name = 'initech';
