/*
 * introw_roles 1.0 -- install script.
 *
 * Tables of the partner portal (PRODUCT.md section 2), the principal
 * functions (section 3), visibility functions and row-level security
 * policies (section 4), and the default-role rules (section 5).
 *
 * Every table has row-level security ENABLED and FORCED; a table without a
 * policy for a command refuses that command to everyone but superusers and
 * BYPASSRLS roles (fail closed).
 */

\echo Use "CREATE EXTENSION introw_roles" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Visibility stamps (src/visibility_epoch.c).  Each statement that changes
-- data visibility depends on writes, for every tenant it touched, a fresh
-- value of the sequence into visibility_epochs, in its own transaction;
-- caches compare the stamp read under a statement's snapshot with the one
-- they were built at.  The trigger also sends a relcache invalidation of the
-- sequence so that other backends drop stale caches promptly.
-- ---------------------------------------------------------------------------
CREATE SEQUENCE introw.visibility_epoch;
REVOKE ALL ON SEQUENCE introw.visibility_epoch FROM PUBLIC;

CREATE TABLE introw.visibility_epochs (
    tenant_id bigint PRIMARY KEY,
    epoch     bigint NOT NULL
);
REVOKE ALL ON TABLE introw.visibility_epochs FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------

CREATE TABLE introw.tenants (
    tenant_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CHECK (name ~ '[^[:space:][:cntrl:]]' AND length(name) <= 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE introw.tiers (
    tenant_id   bigint NOT NULL REFERENCES introw.tenants ON DELETE CASCADE,
    tier_id     bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    name        text NOT NULL CHECK (name ~ '[^[:space:][:cntrl:]]' AND length(name) <= 200),
    rank        int NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, tier_id)
);
CREATE UNIQUE INDEX tiers_name_key ON introw.tiers (tenant_id, lower(name));

CREATE TABLE introw.internal_users (
    tenant_id       bigint NOT NULL REFERENCES introw.tenants ON DELETE CASCADE,
    user_id         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    email           text NOT NULL CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$' AND length(email) <= 320),
    full_name       text NOT NULL DEFAULT '' CHECK (length(full_name) <= 200),
    user_role       text NOT NULL CHECK (user_role IN ('admin', 'member', 'partner_manager', 'crm_user')),
    hubspot_user_id text CHECK (length(hubspot_user_id) <= 100),
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id)
);
CREATE UNIQUE INDEX internal_users_email_key ON introw.internal_users (tenant_id, lower(email));
CREATE UNIQUE INDEX internal_users_hubspot_key ON introw.internal_users (tenant_id, hubspot_user_id)
    WHERE hubspot_user_id IS NOT NULL;

CREATE TABLE introw.partner_roles (
    tenant_id                bigint NOT NULL REFERENCES introw.tenants ON DELETE CASCADE,
    role_id                  bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    name                     text NOT NULL CHECK (name ~ '[^[:space:][:cntrl:]]' AND length(name) <= 200),
    collaboration_restricted boolean NOT NULL DEFAULT false,
    is_default               boolean NOT NULL DEFAULT false,
    crm_value                text NOT NULL CHECK (crm_value ~ '[^[:space:][:cntrl:]]' AND length(crm_value) <= 200),
    preconfigured            boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tenant_id, role_id)
);
CREATE UNIQUE INDEX partner_roles_name_key ON introw.partner_roles (tenant_id, lower(name));
CREATE UNIQUE INDEX partner_roles_crm_value_key ON introw.partner_roles (tenant_id, lower(btrim(crm_value)));
CREATE UNIQUE INDEX partner_roles_one_default ON introw.partner_roles (tenant_id) WHERE is_default;

CREATE TABLE introw.partner_organizations (
    tenant_id           bigint NOT NULL REFERENCES introw.tenants ON DELETE CASCADE,
    org_id              bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    name                text NOT NULL CHECK (name ~ '[^[:space:][:cntrl:]]' AND length(name) <= 200),
    tier_id             bigint,
    partner_manager_id  bigint,
    partner_champion_id bigint,
    crm_company_id      text CHECK (length(crm_company_id) <= 100),
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, org_id),
    FOREIGN KEY (tenant_id, tier_id) REFERENCES introw.tiers (tenant_id, tier_id)
        ON DELETE SET NULL (tier_id),
    FOREIGN KEY (tenant_id, partner_manager_id) REFERENCES introw.internal_users (tenant_id, user_id)
        ON DELETE SET NULL (partner_manager_id)
);
CREATE INDEX partner_organizations_manager_idx
    ON introw.partner_organizations (tenant_id, partner_manager_id);
CREATE UNIQUE INDEX partner_organizations_crm_key
    ON introw.partner_organizations (tenant_id, crm_company_id) WHERE crm_company_id IS NOT NULL;

CREATE TABLE introw.partner_contacts (
    tenant_id      bigint NOT NULL REFERENCES introw.tenants ON DELETE CASCADE,
    contact_id     bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    org_id         bigint NOT NULL,
    email          text NOT NULL CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$' AND length(email) <= 320),
    full_name      text NOT NULL DEFAULT '' CHECK (length(full_name) <= 200),
    role_id        bigint,
    role_source    text CHECK (role_source IN ('explicit', 'default', 'crm')),
    crm_contact_id text CHECK (length(crm_contact_id) <= 100),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, contact_id),
    UNIQUE (tenant_id, org_id, contact_id),
    CHECK ((role_id IS NULL) = (role_source IS NULL)),
    FOREIGN KEY (tenant_id, org_id) REFERENCES introw.partner_organizations (tenant_id, org_id)
        ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, role_id) REFERENCES introw.partner_roles (tenant_id, role_id)
        ON DELETE SET NULL (role_id)
);
CREATE UNIQUE INDEX partner_contacts_email_key ON introw.partner_contacts (tenant_id, lower(email));
CREATE INDEX partner_contacts_role_idx ON introw.partner_contacts (tenant_id, role_id);
CREATE UNIQUE INDEX partner_contacts_crm_key
    ON introw.partner_contacts (tenant_id, crm_contact_id) WHERE crm_contact_id IS NOT NULL;

-- The champion is a contact of the same organisation.
ALTER TABLE introw.partner_organizations
    ADD FOREIGN KEY (tenant_id, org_id, partner_champion_id)
        REFERENCES introw.partner_contacts (tenant_id, org_id, contact_id)
        ON DELETE SET NULL (partner_champion_id);

CREATE TABLE introw.rooms (
    tenant_id  bigint NOT NULL REFERENCES introw.tenants ON DELETE CASCADE,
    room_id    bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    org_id     bigint,
    name       text NOT NULL CHECK (name ~ '[^[:space:][:cntrl:]]' AND length(name) <= 200),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, room_id),
    FOREIGN KEY (tenant_id, org_id) REFERENCES introw.partner_organizations (tenant_id, org_id)
        ON DELETE CASCADE
);
CREATE INDEX rooms_org_idx ON introw.rooms (tenant_id, org_id);

CREATE TABLE introw.tabs (
    tenant_id bigint NOT NULL REFERENCES introw.tenants ON DELETE CASCADE,
    tab_id    bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    room_id   bigint NOT NULL,
    name      text NOT NULL CHECK (name ~ '[^[:space:][:cntrl:]]' AND length(name) <= 200),
    position  int NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, tab_id),
    FOREIGN KEY (tenant_id, room_id) REFERENCES introw.rooms (tenant_id, room_id) ON DELETE CASCADE
);
CREATE INDEX tabs_room_idx ON introw.tabs (tenant_id, room_id, position);

CREATE TABLE introw.tab_roles (
    tenant_id bigint NOT NULL REFERENCES introw.tenants ON DELETE CASCADE,
    tab_id    bigint NOT NULL,
    role_id   bigint NOT NULL,
    PRIMARY KEY (tenant_id, tab_id, role_id),
    FOREIGN KEY (tenant_id, tab_id) REFERENCES introw.tabs (tenant_id, tab_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, role_id) REFERENCES introw.partner_roles (tenant_id, role_id) ON DELETE CASCADE
);
CREATE INDEX tab_roles_role_idx ON introw.tab_roles (tenant_id, role_id);

CREATE TABLE introw.content_items (
    tenant_id  bigint NOT NULL REFERENCES introw.tenants ON DELETE CASCADE,
    item_id    bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    tab_id     bigint NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('file', 'link', 'asset', 'form', 'document')),
    title      text NOT NULL CHECK (title ~ '[^[:space:][:cntrl:]]' AND length(title) <= 500),
    url        text CHECK (length(url) <= 2048),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, item_id),
    FOREIGN KEY (tenant_id, tab_id) REFERENCES introw.tabs (tenant_id, tab_id) ON DELETE CASCADE
);
CREATE INDEX content_items_tab_idx ON introw.content_items (tenant_id, tab_id, created_at DESC);
CREATE INDEX content_items_newest_idx ON introw.content_items (tenant_id, created_at DESC);

CREATE TABLE introw.crm_objects (
    tenant_id               bigint NOT NULL REFERENCES introw.tenants ON DELETE CASCADE,
    object_id               bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    object_type             text NOT NULL CHECK (object_type IN ('deal', 'lead', 'ticket', 'contact', 'company')),
    org_id                  bigint,
    submitted_by_contact_id bigint,
    name                    text NOT NULL CHECK (name ~ '[^[:space:][:cntrl:]]' AND length(name) <= 500),
    stage                   text CHECK (length(stage) <= 100),
    amount                  numeric CHECK (amount >= 0),
    crm_object_id           text CHECK (length(crm_object_id) <= 100),
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, object_id),
    FOREIGN KEY (tenant_id, org_id) REFERENCES introw.partner_organizations (tenant_id, org_id)
        ON DELETE SET NULL (org_id),
    FOREIGN KEY (tenant_id, submitted_by_contact_id) REFERENCES introw.partner_contacts (tenant_id, contact_id)
        ON DELETE SET NULL (submitted_by_contact_id)
);
CREATE INDEX crm_objects_org_idx ON introw.crm_objects (tenant_id, org_id, object_type, created_at DESC);
CREATE INDEX crm_objects_newest_idx ON introw.crm_objects (tenant_id, object_type, created_at DESC);

CREATE TABLE introw.collaborators (
    tenant_id  bigint NOT NULL REFERENCES introw.tenants ON DELETE CASCADE,
    object_id  bigint NOT NULL,
    contact_id bigint,
    user_id    bigint,
    CHECK ((contact_id IS NULL) <> (user_id IS NULL)),
    FOREIGN KEY (tenant_id, object_id) REFERENCES introw.crm_objects (tenant_id, object_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, contact_id) REFERENCES introw.partner_contacts (tenant_id, contact_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES introw.internal_users (tenant_id, user_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX collaborators_contact_key ON introw.collaborators (tenant_id, object_id, contact_id)
    WHERE contact_id IS NOT NULL;
CREATE UNIQUE INDEX collaborators_user_key ON introw.collaborators (tenant_id, object_id, user_id)
    WHERE user_id IS NOT NULL;
CREATE INDEX collaborators_contact_idx ON introw.collaborators (tenant_id, contact_id, object_id);
CREATE INDEX collaborators_user_idx ON introw.collaborators (tenant_id, user_id, object_id);

CREATE TABLE introw.tasks (
    tenant_id           bigint NOT NULL REFERENCES introw.tenants ON DELETE CASCADE,
    task_id             bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    org_id              bigint NOT NULL,
    title               text NOT NULL CHECK (title ~ '[^[:space:][:cntrl:]]' AND length(title) <= 500),
    status              text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in_progress', 'done')),
    due_date            date,
    assignee_contact_id bigint,
    PRIMARY KEY (tenant_id, task_id),
    FOREIGN KEY (tenant_id, org_id) REFERENCES introw.partner_organizations (tenant_id, org_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, assignee_contact_id) REFERENCES introw.partner_contacts (tenant_id, contact_id)
        ON DELETE SET NULL (assignee_contact_id)
);
CREATE INDEX tasks_org_idx ON introw.tasks (tenant_id, org_id, status);

CREATE TABLE introw.portal_settings (
    tenant_id  bigint PRIMARY KEY REFERENCES introw.tenants ON DELETE CASCADE,
    settings   jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE introw.crm_connections (
    tenant_id     bigint PRIMARY KEY REFERENCES introw.tenants ON DELETE CASCADE,
    base_url      text NOT NULL DEFAULT 'https://api.hubapi.com'
                  CHECK (base_url ~ '^https?://[^[:space:]]+$' AND length(base_url) <= 2048),
    access_token  text NOT NULL CHECK (length(access_token) BETWEEN 1 AND 4096),
    role_property text NOT NULL DEFAULT 'partner_role'
                  CHECK (role_property ~ '^[A-Za-z0-9_]{1,100}$'),
    enabled       boolean NOT NULL DEFAULT true,
    poll_interval interval NOT NULL DEFAULT '5 minutes' CHECK (poll_interval >= '1 second'),
    watermark     timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE introw.crm_sync_runs (
    run_id      bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    tenant_id   bigint NOT NULL REFERENCES introw.tenants ON DELETE CASCADE,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    status      text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
    pages       int NOT NULL DEFAULT 0,
    fetched     int NOT NULL DEFAULT 0,
    applied     int NOT NULL DEFAULT 0,
    unchanged   int NOT NULL DEFAULT 0,
    rejected    int NOT NULL DEFAULT 0,
    http_status int,
    error       text,
    PRIMARY KEY (tenant_id, run_id)
);

CREATE TABLE introw.crm_sync_rejects (
    run_id         bigint NOT NULL,
    tenant_id      bigint NOT NULL,
    crm_contact_id text,
    email          text,
    value          text,
    reason         text NOT NULL,
    FOREIGN KEY (tenant_id, run_id) REFERENCES introw.crm_sync_runs (tenant_id, run_id) ON DELETE CASCADE
);
CREATE INDEX crm_sync_rejects_run_idx ON introw.crm_sync_rejects (tenant_id, run_id);

-- ---------------------------------------------------------------------------
-- Principal (C, src/principal.c).  EXECUTE on the setters is revoked from
-- PUBLIC below; the getters are harmless.
-- ---------------------------------------------------------------------------

CREATE FUNCTION introw.set_contact(contact_id bigint, is_local boolean DEFAULT false)
RETURNS void AS 'MODULE_PATHNAME', 'introw_set_contact'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION introw.set_user(user_id bigint, is_local boolean DEFAULT false)
RETURNS void AS 'MODULE_PATHNAME', 'introw_set_user'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION introw.reset_principal()
RETURNS void AS 'MODULE_PATHNAME', 'introw_reset_principal'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

CREATE FUNCTION introw.current_tenant_id()
RETURNS bigint AS 'MODULE_PATHNAME', 'introw_current_tenant_id'
LANGUAGE C STABLE PARALLEL RESTRICTED;

CREATE FUNCTION introw.current_contact_id()
RETURNS bigint AS 'MODULE_PATHNAME', 'introw_current_contact_id'
LANGUAGE C STABLE PARALLEL RESTRICTED;

CREATE FUNCTION introw.current_user_id()
RETURNS bigint AS 'MODULE_PATHNAME', 'introw_current_user_id'
LANGUAGE C STABLE PARALLEL RESTRICTED;

-- 'contact', 'admin', 'member', 'partner_manager', 'crm_user' or 'none'
CREATE FUNCTION introw.current_principal_kind()
RETURNS text AS 'MODULE_PATHNAME', 'introw_current_principal_kind'
LANGUAGE C STABLE PARALLEL RESTRICTED;

-- ---------------------------------------------------------------------------
-- Visibility (C, src/visibility.c over the cache of src/visibility_cache.c).
-- STABLE, never IMMUTABLE: they depend on the principal.  PARALLEL
-- RESTRICTED: the principal lives in the leader's memory only.
-- ---------------------------------------------------------------------------

CREATE FUNCTION introw.visible_tab_ids()
RETURNS bigint[] AS 'MODULE_PATHNAME', 'introw_visible_tab_ids'
LANGUAGE C STABLE PARALLEL RESTRICTED;

CREATE FUNCTION introw.can_see_tab(tab_id bigint)
RETURNS boolean AS 'MODULE_PATHNAME', 'introw_can_see_tab'
LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;

CREATE FUNCTION introw.contact_visible_tab_ids(contact_id bigint)
RETURNS bigint[] AS 'MODULE_PATHNAME', 'introw_contact_visible_tab_ids'
LANGUAGE C STABLE PARALLEL RESTRICTED;

CREATE FUNCTION introw.visible_room_ids()
RETURNS bigint[] AS 'MODULE_PATHNAME', 'introw_visible_room_ids'
LANGUAGE C STABLE PARALLEL RESTRICTED;

CREATE FUNCTION introw.readable_org_ids()
RETURNS bigint[] AS 'MODULE_PATHNAME', 'introw_readable_org_ids'
LANGUAGE C STABLE PARALLEL RESTRICTED;

CREATE FUNCTION introw.managed_org_ids()
RETURNS bigint[] AS 'MODULE_PATHNAME', 'introw_managed_org_ids'
LANGUAGE C STABLE PARALLEL RESTRICTED;

CREATE FUNCTION introw.readable_user_ids()
RETURNS bigint[] AS 'MODULE_PATHNAME', 'introw_readable_user_ids'
LANGUAGE C STABLE PARALLEL RESTRICTED;

-- true for a superuser or BYPASSRLS role, and for the internal kinds that
-- may read the portal configuration (admin, member, partner_manager)
CREATE FUNCTION introw.reads_configuration()
RETURNS boolean AS 'MODULE_PATHNAME', 'introw_reads_configuration'
LANGUAGE C STABLE PARALLEL RESTRICTED;

-- ---------------------------------------------------------------------------
-- Triggers
-- ---------------------------------------------------------------------------

-- Statement-level: stamps the tenants whose visibility data changed.
CREATE FUNCTION introw.visibility_changed()
RETURNS trigger AS 'MODULE_PATHNAME', 'introw_visibility_changed'
LANGUAGE C;

DO $$
DECLARE
    t text;
    ev text;
BEGIN
    FOREACH t IN ARRAY ARRAY['tenants', 'internal_users', 'partner_roles', 'partner_organizations',
                             'partner_contacts', 'rooms', 'tabs', 'tab_roles']
    LOOP
        FOREACH ev IN ARRAY ARRAY['insert', 'update', 'delete', 'truncate']
        LOOP
            -- a new contact changes nobody's visibility; a contact's update
            -- only when its role or organisation changes
            CONTINUE WHEN t = 'partner_contacts' AND ev = 'insert';
            EXECUTE format('CREATE TRIGGER %I AFTER %s ON introw.%I %s FOR EACH STATEMENT '
                           'EXECUTE FUNCTION introw.visibility_changed(%s)',
                           'visibility_changed_' || ev, upper(ev), t,
                           CASE ev WHEN 'insert' THEN 'REFERENCING NEW TABLE AS changed_new'
                                   WHEN 'update' THEN 'REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new'
                                   WHEN 'delete' THEN 'REFERENCING OLD TABLE AS changed_old'
                                   ELSE '' END,
                           CASE WHEN t = 'partner_contacts' AND ev = 'update' THEN '''role_or_org''' ELSE '' END);
            -- also when changes arrive by logical replication
            EXECUTE format('ALTER TABLE introw.%I ENABLE ALWAYS TRIGGER %I', t, 'visibility_changed_' || ev);
        END LOOP;
    END LOOP;
END $$;

-- BEFORE INSERT OR UPDATE on partner_contacts (C, src/default_role.c).
CREATE FUNCTION introw.partner_contacts_role()
RETURNS trigger AS 'MODULE_PATHNAME', 'introw_partner_contacts_role'
LANGUAGE C;

CREATE TRIGGER partner_contacts_role BEFORE INSERT OR UPDATE ON introw.partner_contacts
    FOR EACH ROW EXECUTE FUNCTION introw.partner_contacts_role();

-- A new tenant gets the three preconfigured roles (none of them default).
CREATE FUNCTION introw.tenants_preconfigure() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    INSERT INTO introw.partner_roles (tenant_id, name, crm_value, preconfigured)
    SELECT NEW.tenant_id, r, r, true
    FROM unnest(ARRAY['Sales Rep', 'Solutions Engineer', 'Partner Manager']) AS r;
    RETURN NULL;
END $$;

CREATE TRIGGER tenants_preconfigure AFTER INSERT ON introw.tenants
    FOR EACH ROW EXECUTE FUNCTION introw.tenants_preconfigure();

-- crm_value defaults to the role's name.
CREATE FUNCTION introw.partner_roles_defaults() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    NEW.crm_value := coalesce(NEW.crm_value, NEW.name);
    RETURN NEW;
END $$;

CREATE TRIGGER partner_roles_defaults BEFORE INSERT OR UPDATE ON introw.partner_roles
    FOR EACH ROW EXECUTE FUNCTION introw.partner_roles_defaults();

-- Deleting a role: refused for the default role; refused when the role is
-- the only one limiting a tab (that tab would open to everyone); otherwise
-- its contacts move to the default role.  A whole tenant being deleted
-- (cascade) passes.
CREATE FUNCTION introw.partner_roles_delete() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    default_role bigint;
    lonely_tabs  bigint[];
BEGIN
    IF NOT EXISTS (SELECT 1 FROM introw.tenants WHERE tenant_id = OLD.tenant_id) THEN
        RETURN OLD;
    END IF;
    IF OLD.is_default THEN
        RAISE EXCEPTION 'cannot delete partner role "%": it is the default role of tenant %',
                        OLD.name, OLD.tenant_id
            USING ERRCODE = 'restrict_violation',
                  HINT = 'Make another role the default with introw.set_default_role() first.';
    END IF;
    SELECT array_agg(tr.tab_id ORDER BY tr.tab_id) INTO lonely_tabs
    FROM introw.tab_roles tr
    WHERE tr.tenant_id = OLD.tenant_id AND tr.role_id = OLD.role_id
      AND NOT EXISTS (SELECT 1 FROM introw.tab_roles o
                      WHERE o.tenant_id = tr.tenant_id AND o.tab_id = tr.tab_id
                        AND o.role_id <> OLD.role_id);
    IF lonely_tabs IS NOT NULL THEN
        RAISE EXCEPTION 'cannot delete partner role "%": it is the only role limiting % tab(s)',
                        OLD.name, cardinality(lonely_tabs)
            USING ERRCODE = 'restrict_violation',
                  DETAIL = format('Tabs %s would become visible to every contact.', lonely_tabs),
                  HINT = 'Limit those tabs to another role, or remove their limits explicitly, first.';
    END IF;
    SELECT role_id INTO default_role
    FROM introw.partner_roles WHERE tenant_id = OLD.tenant_id AND is_default;
    IF default_role IS NOT NULL THEN
        UPDATE introw.partner_contacts
           SET role_id = default_role, role_source = 'default'
         WHERE tenant_id = OLD.tenant_id AND role_id = OLD.role_id;
    ELSIF EXISTS (SELECT 1 FROM introw.partner_contacts
                  WHERE tenant_id = OLD.tenant_id AND role_id = OLD.role_id) THEN
        RAISE WARNING 'tenant % has no default partner role: contacts of role "%" are left without a role',
                          OLD.tenant_id, OLD.name
            USING HINT = 'Set a default role with introw.set_default_role(), then run introw.assign_default_role().';
    END IF;
    RETURN OLD;
END $$;

CREATE TRIGGER partner_roles_delete BEFORE DELETE ON introw.partner_roles
    FOR EACH ROW EXECUTE FUNCTION introw.partner_roles_delete();

CREATE FUNCTION introw.touch_updated_at() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END $$;

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON introw.crm_objects
    FOR EACH ROW EXECUTE FUNCTION introw.touch_updated_at();
CREATE TRIGGER touch_updated_at BEFORE UPDATE ON introw.portal_settings
    FOR EACH ROW EXECUTE FUNCTION introw.touch_updated_at();
CREATE TRIGGER touch_updated_at BEFORE UPDATE ON introw.crm_connections
    FOR EACH ROW EXECUTE FUNCTION introw.touch_updated_at();

-- ---------------------------------------------------------------------------
-- Default-role functions (section 5).  SECURITY INVOKER: row-level security
-- decides who may change roles and contacts.
-- ---------------------------------------------------------------------------

CREATE FUNCTION introw.set_default_role(role_id bigint) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t bigint;
    n bigint;
BEGIN
    IF set_default_role.role_id IS NULL THEN
        RAISE EXCEPTION 'role_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT r.tenant_id INTO t FROM introw.partner_roles r WHERE r.role_id = set_default_role.role_id;
    IF t IS NULL THEN
        RAISE EXCEPTION 'partner role % does not exist', set_default_role.role_id
            USING ERRCODE = 'undefined_object';
    END IF;
    -- serialise concurrent changes of this tenant's default
    PERFORM 1 FROM introw.partner_roles r WHERE r.tenant_id = t ORDER BY r.role_id FOR UPDATE;
    UPDATE introw.partner_roles r SET is_default = false
     WHERE r.tenant_id = t AND r.is_default AND r.role_id <> set_default_role.role_id;
    UPDATE introw.partner_roles r SET is_default = true
     WHERE r.tenant_id = t AND r.role_id = set_default_role.role_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> 1 THEN
        RAISE EXCEPTION 'permission denied to change the default partner role of tenant %', t
            USING ERRCODE = 'insufficient_privilege';
    END IF;
END $$;

CREATE FUNCTION introw.assign_default_role(tenant_id bigint) RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d bigint;
    n bigint;
BEGIN
    IF assign_default_role.tenant_id IS NULL THEN
        RAISE EXCEPTION 'tenant_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    -- the principals that may write contacts: superuser/BYPASSRLS, admin,
    -- member, partner_manager (row-level security narrows the latter)
    IF NOT introw.reads_configuration() THEN
        RAISE EXCEPTION 'permission denied to assign partner roles'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM introw.tenants x WHERE x.tenant_id = assign_default_role.tenant_id) THEN
        RAISE EXCEPTION 'tenant % does not exist', assign_default_role.tenant_id
            USING ERRCODE = 'undefined_object';
    END IF;
    SELECT r.role_id INTO d FROM introw.partner_roles r
     WHERE r.tenant_id = assign_default_role.tenant_id AND r.is_default;
    IF d IS NULL THEN
        RAISE EXCEPTION 'tenant % has no default partner role', assign_default_role.tenant_id
            USING ERRCODE = 'undefined_object',
                  HINT = 'Set one with introw.set_default_role(role_id).';
    END IF;
    UPDATE introw.partner_contacts c SET role_id = d, role_source = 'default'
     WHERE c.tenant_id = assign_default_role.tenant_id AND c.role_id IS NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

-- ---------------------------------------------------------------------------
-- Views (security_invoker: the caller's row-level security applies)
-- ---------------------------------------------------------------------------

CREATE VIEW introw.access_matrix WITH (security_invoker = true) AS
SELECT r.tenant_id, r.role_id, r.name AS role_name, t.tab_id, t.name AS tab_name,
       (NOT EXISTS (SELECT 1 FROM introw.tab_roles x
                    WHERE x.tenant_id = t.tenant_id AND x.tab_id = t.tab_id)
        OR EXISTS (SELECT 1 FROM introw.tab_roles x
                   WHERE x.tenant_id = t.tenant_id AND x.tab_id = t.tab_id
                     AND x.role_id = r.role_id)) AS visible
FROM introw.partner_roles r
JOIN introw.tabs t ON t.tenant_id = r.tenant_id
WHERE (SELECT introw.reads_configuration());

CREATE VIEW introw.unassigned_contacts WITH (security_invoker = true) AS
SELECT c.tenant_id, c.contact_id, c.org_id, c.email, c.full_name, c.created_at
FROM introw.partner_contacts c
WHERE c.role_id IS NULL;

CREATE VIEW introw.deals WITH (security_invoker = true) AS
SELECT * FROM introw.crm_objects WHERE object_type = 'deal';

CREATE VIEW introw.task_progress WITH (security_invoker = true) AS
SELECT t.tenant_id, t.org_id,
       count(*) AS total,
       count(*) FILTER (WHERE t.status = 'done') AS done,
       count(*) FILTER (WHERE t.status = 'open') AS open,
       count(*) FILTER (WHERE t.status = 'in_progress') AS in_progress
FROM introw.tasks t
GROUP BY t.tenant_id, t.org_id;

-- ---------------------------------------------------------------------------
-- Row-level security.  Every table: ENABLE + FORCE.  Each read policy is an
-- AND-chain of indexed columns compared with values computed once per
-- statement ((SELECT f()) becomes an InitPlan).
-- ---------------------------------------------------------------------------

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['tenants', 'tiers', 'internal_users', 'partner_roles',
                             'partner_organizations', 'partner_contacts', 'rooms', 'tabs',
                             'tab_roles', 'content_items', 'crm_objects', 'collaborators',
                             'tasks', 'portal_settings', 'crm_connections', 'crm_sync_runs',
                             'crm_sync_rejects', 'visibility_epochs']
    LOOP
        EXECUTE format('ALTER TABLE introw.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE introw.%I FORCE ROW LEVEL SECURITY', t);
        -- the stamps are derived state: a restore writes new ones
        CONTINUE WHEN t = 'visibility_epochs';
        EXECUTE format('SELECT pg_catalog.pg_extension_config_dump(%L, %L)', 'introw.' || t, '');
    END LOOP;
END $$;

-- identity sequences keep their position across dump and restore
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT * FROM (VALUES ('tenants', 'tenant_id'), ('tiers', 'tier_id'),
            ('internal_users', 'user_id'), ('partner_roles', 'role_id'),
            ('partner_organizations', 'org_id'), ('partner_contacts', 'contact_id'),
            ('rooms', 'room_id'), ('tabs', 'tab_id'), ('content_items', 'item_id'),
            ('crm_objects', 'object_id'), ('tasks', 'task_id'), ('crm_sync_runs', 'run_id')) AS s(t, c)
    LOOP
        PERFORM pg_catalog.pg_extension_config_dump(
            pg_catalog.pg_get_serial_sequence('introw.' || r.t, r.c)::regclass, '');
    END LOOP;
END $$;

-- Read: every principal of the tenant.
CREATE POLICY read ON introw.tenants FOR SELECT
    USING (tenant_id = (SELECT introw.current_tenant_id()));
CREATE POLICY read ON introw.tiers FOR SELECT
    USING (tenant_id = (SELECT introw.current_tenant_id()));
CREATE POLICY read ON introw.partner_roles FOR SELECT
    USING (tenant_id = (SELECT introw.current_tenant_id()));

-- Read: a contact its own organisation; internal users every organisation.
CREATE POLICY read ON introw.partner_organizations FOR SELECT
    USING (tenant_id = (SELECT introw.current_tenant_id())
           AND org_id = ANY ((SELECT introw.readable_org_ids())::bigint[]));
CREATE POLICY read ON introw.partner_contacts FOR SELECT
    USING (tenant_id = (SELECT introw.current_tenant_id())
           AND org_id = ANY ((SELECT introw.readable_org_ids())::bigint[]));

-- Read: contacts none; a crm_user its own row; other internal users all.
CREATE POLICY read ON introw.internal_users FOR SELECT
    USING (tenant_id = (SELECT introw.current_tenant_id())
           AND user_id = ANY ((SELECT introw.readable_user_ids())::bigint[]));

-- Read: what the principal may see.
CREATE POLICY read ON introw.rooms FOR SELECT
    USING (tenant_id = (SELECT introw.current_tenant_id())
           AND room_id = ANY ((SELECT introw.visible_room_ids())::bigint[]));
CREATE POLICY read ON introw.tabs FOR SELECT
    USING (tenant_id = (SELECT introw.current_tenant_id())
           AND tab_id = ANY ((SELECT introw.visible_tab_ids())::bigint[]));
CREATE POLICY read ON introw.content_items FOR SELECT
    USING (tenant_id = (SELECT introw.current_tenant_id())
           AND tab_id = ANY ((SELECT introw.visible_tab_ids())::bigint[]));

-- Read: configuration readers only (admin, member, partner_manager).
CREATE POLICY read ON introw.tab_roles FOR SELECT
    USING (tenant_id = (SELECT introw.current_tenant_id())
           AND (SELECT introw.current_principal_kind()) IN ('admin', 'member', 'partner_manager'));

-- Write policies are per command (never FOR ALL), so that reads are governed
-- by the single read policy of each table and keep their index-friendly shape.
CREATE FUNCTION introw.create_write_policies(name text, tbl text, kinds text[],
                                             commands text[], extra text DEFAULT NULL)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    cmd  text;
    cond text := format('tenant_id = (SELECT introw.current_tenant_id()) AND '
                        '(SELECT introw.current_principal_kind()) = ANY (%L::text[])', kinds)
                 || coalesce(' AND ' || extra, '');
BEGIN
    FOREACH cmd IN ARRAY commands LOOP
        EXECUTE format('CREATE POLICY %I ON introw.%I FOR %s %s %s',
                       name || '_' || lower(cmd), tbl, cmd,
                       CASE WHEN cmd = 'INSERT' THEN '' ELSE format('USING (%s)', cond) END,
                       CASE WHEN cmd = 'DELETE' THEN '' ELSE format('WITH CHECK (%s)', cond) END);
    END LOOP;
END $$;

-- The tenant's admin writes everything of this issue's tables.
SELECT introw.create_write_policies('admin', t, '{admin}', '{INSERT,UPDATE,DELETE}')
FROM unnest(ARRAY['tenants', 'tiers', 'internal_users', 'partner_roles', 'partner_organizations',
                  'partner_contacts', 'rooms', 'tabs', 'tab_roles', 'content_items']) AS t;

-- Members write partner data and content.
SELECT introw.create_write_policies('member', t, '{member}', '{INSERT,UPDATE,DELETE}')
FROM unnest(ARRAY['partner_organizations', 'partner_contacts', 'content_items']) AS t;

-- A partner manager updates the organisations it manages and writes their
-- contacts.
SELECT introw.create_write_policies('manager', 'partner_organizations', '{partner_manager}', '{UPDATE}',
                                    'org_id = ANY ((SELECT introw.managed_org_ids())::bigint[])');
SELECT introw.create_write_policies('manager', 'partner_contacts', '{partner_manager}',
                                    '{INSERT,UPDATE,DELETE}',
                                    'org_id = ANY ((SELECT introw.managed_org_ids())::bigint[])');

-- ---------------------------------------------------------------------------
-- Privileges
-- ---------------------------------------------------------------------------
REVOKE ALL ON FUNCTION introw.set_contact(bigint, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION introw.set_user(bigint, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION introw.reset_principal() FROM PUBLIC;
REVOKE ALL ON FUNCTION introw.contact_visible_tab_ids(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION introw.visibility_changed() FROM PUBLIC;
REVOKE ALL ON FUNCTION introw.partner_contacts_role() FROM PUBLIC;
REVOKE ALL ON FUNCTION introw.create_write_policies(text, text, text[], text[], text) FROM PUBLIC;
