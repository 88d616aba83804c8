-- Restore mode (src/restore.c, sql/introw_roles--1.4--1.5.sql): a session
-- that SETs row_security = off, as pg_restore and a dump's script do, and
-- whose user bypasses row-level security, takes the rows it inserts as
-- they come.  Everything here is rolled back or reset.
BEGIN;
-- a BYPASSRLS role that is no superuser restores (the grants it needs)
CREATE ROLE regress_introw_restorer NOLOGIN BYPASSRLS;
GRANT USAGE ON SCHEMA introw TO regress_introw_restorer;
GRANT SELECT, INSERT, UPDATE ON introw.tenants, introw.partner_roles, introw.partner_organizations,
    introw.partner_contacts, introw.crm_objects, introw.collaborators TO regress_introw_restorer;
-- SECURITY DEFINER functions of a superuser, as an application might call
CREATE FUNCTION public.restore_probe() RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$ SELECT introw.restoring() $$;
CREATE FUNCTION public.create_tenant_probe(name text) RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog
AS $$ INSERT INTO introw.tenants (name) VALUES (name) RETURNING tenant_id $$;
GRANT EXECUTE ON FUNCTION public.restore_probe(), public.create_tenant_probe(text) TO regress_introw_app;

-- who is restoring
SELECT introw.restoring() AS superuser_row_security_on;
SET LOCAL row_security = off;
SELECT introw.restoring() AS superuser_row_security_off;
SET LOCAL ROLE regress_introw_restorer;
SELECT introw.restoring() AS bypassrls_row_security_off;
RESET ROLE;
SET LOCAL ROLE regress_introw_app;
SELECT introw.restoring() AS app_row_security_off;
-- not through a superuser's SECURITY DEFINER function either: a tenant
-- it creates gets its preconfigured roles
SELECT public.restore_probe() AS app_through_security_definer;
SELECT public.create_tenant_probe('Through a function') AS probe_tenant \gset
RESET ROLE;
SELECT count(*) AS probe_tenant_roles FROM introw.partner_roles WHERE tenant_id = :probe_tenant;

-- the restore, as the BYPASSRLS role
SET LOCAL ROLE regress_introw_restorer;
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
RESET ROLE;
SELECT * FROM introw.pending_champions ORDER BY org_id;
SET LOCAL ROLE regress_introw_restorer;
-- contacts keep their role and role_source; one without a role stays so
-- (the tenant has a default role)
INSERT INTO introw.partner_contacts (tenant_id, contact_id, org_id, email, role_id, role_source)
OVERRIDING SYSTEM VALUE VALUES (900001, 900032, 900021, 'crm@restored.test', 900012, 'crm'),
                               (900001, 900033, 900021, 'none@restored.test', NULL, NULL);
-- the champion arrives in a statement of its own
INSERT INTO introw.partner_contacts (tenant_id, contact_id, org_id, email, role_id, role_source)
OVERRIDING SYSTEM VALUE VALUES (900001, 900031, 900021, 'champ@restored.test', 900011, 'default');
SELECT contact_id, role_id, role_source FROM introw.partner_contacts WHERE tenant_id = 900001 ORDER BY contact_id;
-- the champion that arrived is set; the other one waits
SELECT org_id, partner_champion_id FROM introw.partner_organizations WHERE tenant_id = 900001 ORDER BY org_id;
RESET ROLE;
SELECT * FROM introw.pending_champions ORDER BY org_id;
SET LOCAL ROLE regress_introw_restorer;
-- an organisation that exists already is left to ON CONFLICT: no wait
INSERT INTO introw.partner_organizations (tenant_id, org_id, name, partner_champion_id)
OVERRIDING SYSTEM VALUE VALUES (900001, 900021, 'Restored Org', 900033) ON CONFLICT DO NOTHING;
-- a CRM object loaded with its submitter adds no collaborator: the dump has them
INSERT INTO introw.crm_objects (tenant_id, object_id, object_type, org_id, submitted_by_contact_id, name)
OVERRIDING SYSTEM VALUE VALUES (900001, 900041, 'deal', 900021, 900031, 'Restored deal');
SELECT count(*) AS restored_object_collaborators FROM introw.collaborators WHERE object_id = 900041;
-- updates are no restore: the triggers act on them
UPDATE introw.crm_objects SET submitted_by_contact_id = 900032 WHERE object_id = 900041;
SELECT contact_id AS new_submitter_collaborator FROM introw.collaborators WHERE object_id = 900041;
UPDATE introw.partner_contacts SET role_id = 900011 WHERE contact_id = 900032
RETURNING role_source, updated_at = now() AS updated_now;
RESET ROLE;
SELECT org_id, partner_champion_id FROM introw.partner_organizations WHERE org_id = 900021;
SELECT * FROM introw.pending_champions ORDER BY org_id;
-- the champion of a deleted organisation never applies: its contact
-- cannot be inserted any more
DELETE FROM introw.partner_organizations WHERE org_id = 900022;
SAVEPOINT gone;
\set VERBOSITY terse
INSERT INTO introw.partner_contacts (tenant_id, contact_id, org_id, email)
OVERRIDING SYSTEM VALUE VALUES (900001, 900039, 900022, 'gone@restored.test');
\set VERBOSITY default
ROLLBACK TO gone;

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
\set VERBOSITY default
ROLLBACK TO missing;
ROLLBACK;

-- row_security off by default (a database's or a role's setting, which a
-- database owner or a CREATEROLE role may make) is no restore: only a SET
-- in the session counts
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET row_security = off', current_database()); END $$;
\c
SELECT current_setting('row_security') AS session_default, introw.restoring() AS restoring_by_default;
SET row_security = off;
SELECT introw.restoring() AS restoring_after_set;
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET row_security', current_database()); END $$;
\c
SET row_security = off;
SELECT introw.restoring() AS restoring_after_reset;
RESET row_security;
