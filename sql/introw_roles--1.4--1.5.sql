-- introw_roles 1.4 -> 1.5
\echo Use "ALTER EXTENSION introw_roles UPDATE TO '1.5'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Restore mode: a plain pg_restore (or a plain dump run through psql) keeps
-- every row.  Both set row_security = off, which on these tables (row-level
-- security forced) only a superuser or a BYPASSRLS role can use; such a
-- session is restoring (src/restore.c).  While it restores:
--   - the triggers that derive rows take the rows as they come: a tenant
--     gets no preconfigured roles (the dump holds its roles), a contact
--     keeps its role and role_source, a CRM object adds no collaborator
--     (the dump holds them);
--   - a partner organisation loaded before its champion (the data of the
--     two tables, which reference each other, load organisations first)
--     keeps the champion in introw.pending_champions, and each statement
--     that loads contacts sets the champions that have arrived.
-- ---------------------------------------------------------------------------

CREATE FUNCTION introw.restoring()
RETURNS boolean AS 'MODULE_PATHNAME', 'introw_restoring'
LANGUAGE C STABLE PARALLEL SAFE;

DROP TRIGGER tenants_preconfigure ON introw.tenants;
CREATE TRIGGER tenants_preconfigure AFTER INSERT ON introw.tenants
    FOR EACH ROW WHEN (NOT introw.restoring())
    EXECUTE FUNCTION introw.tenants_preconfigure();

DROP TRIGGER partner_contacts_role ON introw.partner_contacts;
CREATE TRIGGER partner_contacts_role BEFORE INSERT OR UPDATE ON introw.partner_contacts
    FOR EACH ROW WHEN (NOT introw.restoring())
    EXECUTE FUNCTION introw.partner_contacts_role();

DROP TRIGGER crm_objects_register ON introw.crm_objects;
CREATE TRIGGER crm_objects_register AFTER INSERT OR UPDATE OF submitted_by_contact_id ON introw.crm_objects
    FOR EACH ROW WHEN (NOT introw.restoring())
    EXECUTE FUNCTION introw.crm_objects_register();

-- The champions waiting for their contacts.  Not dumped, read by nobody
-- but the triggers below (row-level security forced, no policy).
CREATE TABLE introw.pending_champions (
    tenant_id  bigint NOT NULL,
    org_id     bigint NOT NULL,
    contact_id bigint NOT NULL,
    PRIMARY KEY (tenant_id, org_id),
    -- checked at commit: the organisation is inserted after its trigger ran
    FOREIGN KEY (tenant_id, org_id) REFERENCES introw.partner_organizations (tenant_id, org_id)
        ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
REVOKE ALL ON TABLE introw.pending_champions FROM PUBLIC;
ALTER TABLE introw.pending_champions ENABLE ROW LEVEL SECURITY;
ALTER TABLE introw.pending_champions FORCE ROW LEVEL SECURITY;

-- BEFORE INSERT on partner_organizations, restoring, with a champion: the
-- champion waits, the row is stored without it.  (The champion cannot be
-- there yet: it is a contact of this very organisation.)
CREATE FUNCTION introw.partner_organizations_defer_champion()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
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

-- AFTER INSERT (statement) on partner_contacts, restoring: the waiting
-- champions whose contacts have arrived become their organisations'
-- champions (unless the organisation was given another one meanwhile).
CREATE FUNCTION introw.partner_contacts_arrived_champions()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM introw.pending_champions) THEN
        RETURN NULL;
    END IF;
    WITH arrived AS (
        DELETE FROM introw.pending_champions p
        USING introw.partner_contacts c
        WHERE c.tenant_id = p.tenant_id AND c.org_id = p.org_id AND c.contact_id = p.contact_id
        RETURNING p.tenant_id, p.org_id, p.contact_id)
    UPDATE introw.partner_organizations o
       SET partner_champion_id = a.contact_id
      FROM arrived a
     WHERE o.tenant_id = a.tenant_id AND o.org_id = a.org_id AND o.partner_champion_id IS NULL;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION introw.partner_contacts_arrived_champions() FROM PUBLIC;

CREATE TRIGGER partner_contacts_arrived_champions AFTER INSERT ON introw.partner_contacts
    FOR EACH STATEMENT WHEN (introw.restoring())
    EXECUTE FUNCTION introw.partner_contacts_arrived_champions();

-- The waiting champions are no table a role is granted or an analyst reads.
CREATE OR REPLACE FUNCTION introw.readable_relations()
RETURNS TABLE (oid oid, relname name, relkind "char")
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.oid, c.relname, c.relkind FROM pg_class c
    WHERE c.relnamespace = 'introw'::regnamespace AND c.relkind IN ('r', 'v')
      AND c.relname NOT IN ('visibility_epochs', 'token_keys', 'analysts', 'pending_champions')
    ORDER BY c.relname
$$;
