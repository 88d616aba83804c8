-- introw_roles 1.1 -> 1.2
\echo Use "ALTER EXTENSION introw_roles UPDATE TO '1.2'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Signed tokens (src/token.c).  The keys are readable by superusers and the
-- extension's owner only; a restore keeps them, so tokens stay valid.
-- ---------------------------------------------------------------------------
CREATE TABLE introw.token_keys (
    key_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    secret     bytea NOT NULL CHECK (octet_length(secret) BETWEEN 32 AND 1024),
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON TABLE introw.token_keys FROM PUBLIC;
-- row level security as on every table: the owner (and superusers) only
ALTER TABLE introw.token_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE introw.token_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY owner_only ON introw.token_keys
    USING ((SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = 'introw.token_keys'::regclass)
           = (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = current_user));
SELECT pg_catalog.pg_extension_config_dump('introw.token_keys', '');
SELECT pg_catalog.pg_extension_config_dump(
    pg_catalog.pg_get_serial_sequence('introw.token_keys', 'key_id')::regclass, '');

-- the principal named by a signed token
CREATE FUNCTION introw.authenticate(token text, is_local boolean DEFAULT false)
RETURNS void AS 'MODULE_PATHNAME', 'introw_authenticate'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

-- a token for a contact or an internal user, signed with the newest key
CREATE FUNCTION introw.issue_token(kind text, id bigint, valid_for interval DEFAULT '1 hour')
RETURNS text AS 'MODULE_PATHNAME', 'introw_issue_token'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

-- a new key of 32 random bytes, inserted as the caller; returns its id
CREATE FUNCTION introw.create_token_key()
RETURNS bigint AS 'MODULE_PATHNAME', 'introw_create_token_key'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

REVOKE ALL ON FUNCTION introw.authenticate(text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION introw.issue_token(text, bigint, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION introw.create_token_key() FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- Grants.  grant_application() learns tokens_only: such a role may become
-- only whom a signed token names.  grant_analyst() gives read access to
-- every row of every tenant, except the CRM access token and the token keys.
-- ---------------------------------------------------------------------------
DROP FUNCTION introw.grant_application(regrole);

-- What every granted role reads: USAGE on the schema, SELECT on every view
-- and on every table's columns but the CRM access token; the token keys
-- and the stamps are never granted.  Returns the tables, each with its
-- columns that are not identity columns, for the caller's further grants.
CREATE FUNCTION introw.grant_reading(role regrole)
RETURNS TABLE (rel oid, relname name, writable text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t   record;
    sel text;
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA introw TO %s', role);
    FOR t IN SELECT c.oid, c.relname, c.relkind FROM pg_class c
             WHERE c.relnamespace = 'introw'::regnamespace AND c.relkind IN ('r', 'v')
               AND c.relname NOT IN ('visibility_epochs', 'token_keys') ORDER BY c.relname
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

CREATE FUNCTION introw.grant_application(role regrole, tokens_only boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t record;
BEGIN
    IF role IS NULL OR tokens_only IS NULL THEN
        RAISE EXCEPTION 'role and tokens_only must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    FOR t IN SELECT * FROM introw.grant_reading(role) LOOP
        EXECUTE format('GRANT INSERT (%s), UPDATE (%s) ON introw.%I TO %s', t.writable, t.writable, t.relname, role);
        EXECUTE format('GRANT DELETE ON introw.%I TO %s', t.relname, role);
    END LOOP;
    EXECUTE format('GRANT EXECUTE ON FUNCTION introw.authenticate(text, boolean), introw.reset_principal(), '
                   'introw.portal_login_route(bigint, text), '
                   'introw.hubspot_card_entry(bigint, text), introw.partner_card(bigint), '
                   'introw.contact_visible_tab_ids(bigint), introw.explain_access(bigint, text, bigint), '
                   'introw.crm_sync_now(bigint), introw.crm_apply_contacts(bigint, jsonb, bigint) TO %s', role);
    IF tokens_only THEN
        EXECUTE format('REVOKE EXECUTE ON FUNCTION introw.set_contact(bigint, boolean), '
                       'introw.set_user(bigint, boolean) FROM %s', role);
    ELSE
        EXECUTE format('GRANT EXECUTE ON FUNCTION introw.set_contact(bigint, boolean), '
                       'introw.set_user(bigint, boolean) TO %s', role);
    END IF;
END $$;
REVOKE ALL ON FUNCTION introw.grant_application(regrole, boolean) FROM PUBLIC;

CREATE FUNCTION introw.grant_analyst(role regrole)
RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t     record;
    roles text;
BEGIN
    IF role IS NULL THEN
        RAISE EXCEPTION 'role must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    FOR t IN SELECT * FROM introw.grant_reading(role) LOOP
        -- every row, for the analysts only: other roles never evaluate it
        SELECT string_agg(quote_ident(r.rolname), ', ' ORDER BY r.rolname) INTO roles
          FROM pg_policy p, unnest(p.polroles) AS pr(oid) JOIN pg_roles r ON r.oid = pr.oid
         WHERE p.polrelid = t.rel AND p.polname = 'analyst_read' AND pr.oid <> role;
        IF roles IS NULL THEN
            IF EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = t.rel AND polname = 'analyst_read') THEN
                EXECUTE format('ALTER POLICY analyst_read ON introw.%I TO %s', t.relname, role);
            ELSE
                EXECUTE format('CREATE POLICY analyst_read ON introw.%I FOR SELECT TO %s USING (true)',
                               t.relname, role);
            END IF;
        ELSE
            EXECUTE format('ALTER POLICY analyst_read ON introw.%I TO %s, %s', t.relname, roles, role);
        END IF;
    END LOOP;
END $$;
REVOKE ALL ON FUNCTION introw.grant_analyst(regrole) FROM PUBLIC;
