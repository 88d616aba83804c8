-- introw_roles 1.2 -> 1.3
\echo Use "ALTER EXTENSION introw_roles UPDATE TO '1.3'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Analysts survive pg_dump and pg_restore.  pg_dump writes no policy of an
-- extension's table, so the analyst_read policies that grant_analyst()
-- made were lost in a restore.  The analysts are now rows of
-- introw.analysts, a table pg_dump includes; a trigger makes the policies
-- (and the grants) from its rows, also while a restore loads them with
-- session_replication_role = replica (ENABLE ALWAYS).
-- ---------------------------------------------------------------------------
CREATE TABLE introw.analysts (
    role_name  name PRIMARY KEY,
    granted_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE introw.analysts IS
    'roles granted with introw.grant_analyst(): each reads every row of every tenant';
SELECT pg_catalog.pg_extension_config_dump('introw.analysts', '');
-- no policy: superusers only (its trigger runs as the superuser granting)
ALTER TABLE introw.analysts ENABLE ROW LEVEL SECURITY;
ALTER TABLE introw.analysts FORCE ROW LEVEL SECURITY;

-- The tables and views a granted role reads (grant_reading) and the
-- analysts' policy covers (analysts_changed): all of schema introw but
-- the stamps, the token keys and the analysts' list, which names roles.
CREATE FUNCTION introw.readable_relations()
RETURNS TABLE (oid oid, relname name, relkind "char")
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT c.oid, c.relname, c.relkind FROM pg_class c
    WHERE c.relnamespace = 'introw'::regnamespace AND c.relkind IN ('r', 'v')
      AND c.relname NOT IN ('visibility_epochs', 'token_keys', 'analysts')
    ORDER BY c.relname
$$;
REVOKE ALL ON FUNCTION introw.readable_relations() FROM PUBLIC;

-- grant_reading(): as in 1.2, over readable_relations()
CREATE OR REPLACE FUNCTION introw.grant_reading(role regrole)
RETURNS TABLE (rel oid, relname name, writable text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t   record;
    sel text;
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA introw TO %s', role);
    FOR t IN SELECT * FROM introw.readable_relations()
    LOOP
        EXECUTE format('REVOKE ALL ON introw.%I FROM %s', t.relname, role);
        IF t.relkind = 'v' THEN
            EXECUTE format('GRANT SELECT ON introw.%I TO %s', t.relname, role);
            CONTINUE;
        END IF;
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FILTER (WHERE a.attidentity = ''),
               string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
                   FILTER (WHERE NOT (t.relname = 'crm_connections' AND a.attname = 'access_token'))
          INTO writable, sel
          FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped;
        EXECUTE format('GRANT SELECT (%s) ON introw.%I TO %s', sel, t.relname, role);
        rel := t.oid;
        relname := t.relname;
        RETURN NEXT;
    END LOOP;
END $$;
REVOKE ALL ON FUNCTION introw.grant_reading(regrole) FROM PUBLIC;

-- The policy analyst_read on every table, TO the analysts that exist (none:
-- no policy); and the reads of the analyst a row names.  A role named but
-- missing (a restore onto a server without it) is skipped with a warning:
-- create it, then run grant_analyst() for it.
CREATE FUNCTION introw.analysts_changed()
RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t     record;
    roles text;
BEGIN
    IF TG_OP <> 'DELETE' THEN
        IF to_regrole(quote_ident(NEW.role_name)) IS NULL THEN
            RAISE WARNING 'analyst role "%" does not exist: it reads nothing', NEW.role_name
                USING HINT = 'Create the role (pg_dumpall --roles-only), then run introw.grant_analyst() for it.';
        ELSE
            PERFORM introw.grant_reading(to_regrole(quote_ident(NEW.role_name)));
        END IF;
    END IF;
    SELECT string_agg(quote_ident(a.role_name), ', ' ORDER BY a.role_name) INTO roles
      FROM introw.analysts a WHERE to_regrole(quote_ident(a.role_name)) IS NOT NULL;
    FOR t IN SELECT * FROM introw.readable_relations() r WHERE r.relkind = 'r'
    LOOP
        IF EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = t.oid AND p.polname = 'analyst_read') THEN
            IF roles IS NULL THEN
                EXECUTE format('DROP POLICY analyst_read ON introw.%I', t.relname);
            ELSE
                EXECUTE format('ALTER POLICY analyst_read ON introw.%I TO %s', t.relname, roles);
            END IF;
        ELSIF roles IS NOT NULL THEN
            -- every row, for the analysts only: other roles never evaluate it
            EXECUTE format('CREATE POLICY analyst_read ON introw.%I FOR SELECT TO %s USING (true)',
                           t.relname, roles);
        END IF;
    END LOOP;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION introw.analysts_changed() FROM PUBLIC;

CREATE TRIGGER analysts_changed AFTER INSERT OR UPDATE OR DELETE ON introw.analysts
    FOR EACH ROW EXECUTE FUNCTION introw.analysts_changed();
ALTER TABLE introw.analysts ENABLE ALWAYS TRIGGER analysts_changed;

-- grant_analyst(): a row of introw.analysts (again: its grants are renewed)
CREATE OR REPLACE FUNCTION introw.grant_analyst(role regrole)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF role IS NULL THEN
        RAISE EXCEPTION 'role must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    INSERT INTO introw.analysts (role_name)
    SELECT r.rolname FROM pg_roles r WHERE r.oid = role
    ON CONFLICT (role_name) DO UPDATE SET granted_at = now();
END $$;
REVOKE ALL ON FUNCTION introw.grant_analyst(regrole) FROM PUBLIC;

-- the analysts granted under 1.2
INSERT INTO introw.analysts (role_name)
SELECT DISTINCT r.rolname
FROM pg_policy p, unnest(p.polroles) AS pr(oid)
JOIN pg_roles r ON r.oid = pr.oid
WHERE p.polname = 'analyst_read'
  AND p.polrelid IN (SELECT c.oid FROM pg_class c WHERE c.relnamespace = 'introw'::regnamespace)
ORDER BY 1;
