-- Restore mode (src/restore.c, sql/introw_roles--1.4--1.5.sql): a session
-- with row_security = off, as pg_restore and a dump's script set, whose
-- user bypasses row-level security, takes the rows it writes as they come.
-- Everything here rolls back.
BEGIN;
CREATE ROLE regress_introw_restorer NOLOGIN BYPASSRLS;
GRANT USAGE ON SCHEMA introw TO regress_introw_restorer;
GRANT INSERT, SELECT ON introw.tenants TO regress_introw_restorer;
-- a SECURITY DEFINER function of a superuser, as an application might call
CREATE FUNCTION public.restore_probe() RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$ SELECT introw.restoring() $$;
GRANT EXECUTE ON FUNCTION public.restore_probe() TO regress_introw_app;

-- who is restoring
SELECT introw.restoring() AS superuser_row_security_on;
SET LOCAL row_security = off;
SELECT introw.restoring() AS superuser_row_security_off;
SET LOCAL ROLE regress_introw_restorer;
SELECT introw.restoring() AS bypassrls_row_security_off;
RESET ROLE;
SET LOCAL ROLE regress_introw_app;
SELECT introw.restoring() AS app_row_security_off;
-- not through a superuser's SECURITY DEFINER function either
SELECT public.restore_probe() AS app_through_security_definer;
-- and the application role's writes are refused, not taken as they come
SAVEPOINT app_write;
SELECT introw.set_contact(fx('rep'));
INSERT INTO introw.crm_objects (tenant_id, object_type, org_id, name) VALUES (fx('acme'), 'deal', fx('alpha'), 'x');
ROLLBACK TO app_write;
RESET ROLE;

-- a tenant loaded from a dump gets no preconfigured roles: the dump has them
INSERT INTO introw.tenants (tenant_id, name) OVERRIDING SYSTEM VALUE VALUES (900001, 'Restored');
SELECT count(*) AS restored_tenant_roles FROM introw.partner_roles WHERE tenant_id = 900001;
INSERT INTO introw.partner_roles (tenant_id, role_id, name, is_default, crm_value, preconfigured)
OVERRIDING SYSTEM VALUE VALUES (900001, 900011, 'Sales Rep', true, 'sales_rep', true),
                               (900001, 900012, 'Partner Manager', false, 'Partner Manager', true);
-- an organisation whose champion is not loaded yet: stored without it
INSERT INTO introw.partner_organizations (tenant_id, org_id, name, partner_champion_id)
OVERRIDING SYSTEM VALUE VALUES (900001, 900021, 'Restored Org', 900031),
                               (900001, 900022, 'Other Org', 900039);
SELECT org_id, partner_champion_id FROM introw.partner_organizations WHERE tenant_id = 900001 ORDER BY org_id;
SELECT * FROM introw.pending_champions ORDER BY org_id;
-- contacts keep their role and role_source; one without a role stays so
INSERT INTO introw.partner_contacts (tenant_id, contact_id, org_id, email, role_id, role_source)
OVERRIDING SYSTEM VALUE VALUES (900001, 900031, 900021, 'champ@restored.test', 900011, 'default'),
                               (900001, 900032, 900021, 'crm@restored.test', 900012, 'crm'),
                               (900001, 900033, 900021, 'none@restored.test', NULL, NULL);
SELECT contact_id, role_id, role_source FROM introw.partner_contacts WHERE tenant_id = 900001 ORDER BY contact_id;
-- the champion that arrived is set; the other one waits
SELECT org_id, partner_champion_id FROM introw.partner_organizations WHERE tenant_id = 900001 ORDER BY org_id;
SELECT * FROM introw.pending_champions ORDER BY org_id;
-- a CRM object loaded with its submitter adds no collaborator: the dump has them
INSERT INTO introw.crm_objects (tenant_id, object_id, object_type, org_id, submitted_by_contact_id, name)
OVERRIDING SYSTEM VALUE VALUES (900001, 900041, 'deal', 900021, 900031, 'Restored deal');
SELECT count(*) AS restored_object_collaborators FROM introw.collaborators WHERE object_id = 900041;
-- an organisation deleted while its champion waits takes the wait along
DELETE FROM introw.partner_organizations WHERE org_id = 900022;
SELECT count(*) AS still_waiting FROM introw.pending_champions;

-- out of restore mode, the triggers are back
SET LOCAL row_security = on;
SELECT introw.restoring() AS restoring_again;
INSERT INTO introw.tenants (tenant_id, name) OVERRIDING SYSTEM VALUE VALUES (900002, 'Created');
SELECT name, preconfigured FROM introw.partner_roles WHERE tenant_id = 900002 ORDER BY name;
INSERT INTO introw.partner_contacts (tenant_id, org_id, email)
VALUES (900001, 900021, 'later@restored.test') RETURNING role_id, role_source;
INSERT INTO introw.crm_objects (tenant_id, object_type, org_id, submitted_by_contact_id, name)
VALUES (900001, 'deal', 900021, 900032, 'Later deal');
SELECT c.contact_id AS later_deal_collaborator FROM introw.collaborators c JOIN introw.crm_objects o USING (tenant_id, object_id)
WHERE o.name = 'Later deal';
-- an organisation naming a champion that does not exist is refused again
SAVEPOINT missing;
\set VERBOSITY terse
INSERT INTO introw.partner_organizations (tenant_id, name, partner_champion_id) VALUES (900001, 'Bad Org', 900099);
ROLLBACK TO missing;
\set VERBOSITY default
ROLLBACK;
