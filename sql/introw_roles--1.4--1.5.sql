-- introw_roles 1.4 -> 1.5
\echo Use "ALTER EXTENSION introw_roles UPDATE TO '1.5'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Restore mode: a plain pg_restore (or a plain dump run through psql) keeps
-- every row.  Both SET row_security = off, which on these tables (row-level
-- security forced) only a superuser or a BYPASSRLS role can use; such a
-- session is restoring (src/restore.c).  While it restores, on INSERT:
--   - the triggers that derive rows take the rows as they come: a tenant
--     gets no preconfigured roles (the dump holds its roles), a contact
--     keeps its role and role_source (src/default_role.c), a CRM object
--     adds no collaborator (the dump holds them);
--   - a partner organisation loaded before its champion (the data of the
--     two tables, which reference each other, load organisations first)
--     keeps the champion in introw.pending_champions until the contact is
--     inserted.
-- UPDATEs are not affected: a restore makes none.
-- ---------------------------------------------------------------------------

CREATE FUNCTION introw.restoring()
RETURNS boolean AS 'MODULE_PATHNAME', 'introw_restoring'
LANGUAGE C STABLE PARALLEL SAFE;

DROP TRIGGER tenants_preconfigure ON introw.tenants;
CREATE TRIGGER tenants_preconfigure AFTER INSERT ON introw.tenants
    FOR EACH ROW WHEN (NOT introw.restoring())
    EXECUTE FUNCTION introw.tenants_preconfigure();

-- the same function, on INSERT unless restoring, on UPDATE always
DROP TRIGGER crm_objects_register ON introw.crm_objects;
CREATE TRIGGER crm_objects_register AFTER INSERT ON introw.crm_objects
    FOR EACH ROW WHEN (NOT introw.restoring())
    EXECUTE FUNCTION introw.crm_objects_register();
CREATE TRIGGER crm_objects_register_submitter AFTER UPDATE OF submitted_by_contact_id ON introw.crm_objects
    FOR EACH ROW EXECUTE FUNCTION introw.crm_objects_register();

-- The champions waiting for their contacts.  Not dumped, read by nobody
-- but the triggers below (row-level security forced, no policy).  No
-- foreign key: a row is written before its organisation, and one whose
-- organisation is gone is never applied.  Empty after a complete restore.
CREATE TABLE introw.pending_champions (
    tenant_id  bigint NOT NULL,
    org_id     bigint NOT NULL,
    contact_id bigint NOT NULL,
    PRIMARY KEY (tenant_id, org_id)
);
REVOKE ALL ON TABLE introw.pending_champions FROM PUBLIC;
ALTER TABLE introw.pending_champions ENABLE ROW LEVEL SECURITY;
ALTER TABLE introw.pending_champions FORCE ROW LEVEL SECURITY;

-- BEFORE INSERT on partner_organizations, restoring, with a champion: the
-- champion waits, the row is stored without it.  An organisation that
-- exists already (INSERT ... ON CONFLICT of a data-only restore) is left
-- to the conflict clause and the foreign key.
CREATE FUNCTION introw.partner_organizations_defer_champion()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM introw.partner_organizations o
               WHERE o.tenant_id = NEW.tenant_id AND o.org_id = NEW.org_id) THEN
        RETURN NEW;
    END IF;
    INSERT INTO introw.pending_champions (tenant_id, org_id, contact_id)
    VALUES (NEW.tenant_id, NEW.org_id, NEW.partner_champion_id)
    ON CONFLICT (tenant_id, org_id) DO UPDATE SET contact_id = EXCLUDED.contact_id;
    NEW.partner_champion_id := NULL;
    RETURN NEW;
END $$;
REVOKE ALL ON FUNCTION introw.partner_organizations_defer_champion() FROM PUBLIC;

CREATE TRIGGER partner_organizations_defer_champion BEFORE INSERT ON introw.partner_organizations
    FOR EACH ROW WHEN (NEW.partner_champion_id IS NOT NULL AND introw.restoring())
    EXECUTE FUNCTION introw.partner_organizations_defer_champion();

-- AFTER INSERT on partner_contacts, restoring: a contact some organisation
-- waits for becomes its champion (unless the organisation was given
-- another one meanwhile).  One index probe per contact.
CREATE FUNCTION introw.partner_contacts_arrived_champion()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    WITH arrived AS (
        DELETE FROM introw.pending_champions p
        WHERE p.tenant_id = NEW.tenant_id AND p.org_id = NEW.org_id AND p.contact_id = NEW.contact_id
        RETURNING p.tenant_id, p.org_id, p.contact_id)
    UPDATE introw.partner_organizations o
       SET partner_champion_id = a.contact_id
      FROM arrived a
     WHERE o.tenant_id = a.tenant_id AND o.org_id = a.org_id AND o.partner_champion_id IS NULL;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION introw.partner_contacts_arrived_champion() FROM PUBLIC;

CREATE TRIGGER partner_contacts_arrived_champion AFTER INSERT ON introw.partner_contacts
    FOR EACH ROW WHEN (introw.restoring())
    EXECUTE FUNCTION introw.partner_contacts_arrived_champion();

-- The waiting champions are no table a role is granted or an analyst reads.
CREATE OR REPLACE FUNCTION introw.readable_relations()
RETURNS TABLE (oid oid, relname name, relkind "char")
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.oid, c.relname, c.relkind FROM pg_class c
    WHERE c.relnamespace = 'introw'::regnamespace AND c.relkind IN ('r', 'v')
      AND c.relname NOT IN ('visibility_epochs', 'token_keys', 'analysts', 'pending_champions')
    ORDER BY c.relname
$$;
