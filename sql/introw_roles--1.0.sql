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
    tenant_id bigint NOT NULL,
    scope     bigint NOT NULL,     -- 0: the whole tenant; else a contact_id
    epoch     bigint NOT NULL,
    PRIMARY KEY (tenant_id, scope)
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
    -- the submitter is a contact of the tenant (also when org_id is NULL) ...
    FOREIGN KEY (tenant_id, submitted_by_contact_id)
        REFERENCES introw.partner_contacts (tenant_id, contact_id)
        ON DELETE SET NULL (submitted_by_contact_id),
    -- ... and of the object's organisation
    FOREIGN KEY (tenant_id, org_id, submitted_by_contact_id)
        REFERENCES introw.partner_contacts (tenant_id, org_id, contact_id)
        ON DELETE SET NULL (submitted_by_contact_id)
);
CREATE INDEX crm_objects_org_idx ON introw.crm_objects (tenant_id, org_id, object_type, created_at DESC);
CREATE INDEX crm_objects_newest_idx ON introw.crm_objects (tenant_id, object_type, created_at DESC);
CREATE INDEX crm_objects_submitter_idx ON introw.crm_objects (tenant_id, submitted_by_contact_id);

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
    -- the assignee is a contact of the task's organisation
    FOREIGN KEY (tenant_id, org_id, assignee_contact_id)
        REFERENCES introw.partner_contacts (tenant_id, org_id, contact_id)
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
    watermark     timestamptz,             -- newest lastmodifieddate applied
    sync_requested_at timestamptz,         -- introw.crm_sync_now() asked for a run
    auth_failed_at    timestamptz,         -- the CRM refused the token (401/403)
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

-- the whole-tenant arm as an id range: all ids for admin and member, the
-- empty range 1..0 otherwise (src/visibility.c says why a range)
CREATE FUNCTION introw.whole_tenant_from()
RETURNS bigint AS 'MODULE_PATHNAME', 'introw_whole_tenant_from'
LANGUAGE C STABLE PARALLEL RESTRICTED;
CREATE FUNCTION introw.whole_tenant_to()
RETURNS bigint AS 'MODULE_PATHNAME', 'introw_whole_tenant_to'
LANGUAGE C STABLE PARALLEL RESTRICTED;

-- organisations whose CRM objects the principal reads: a contact with a
-- role that is not collaboration restricted its own, a crm_user every
-- organisation, a partner manager those it manages
CREATE FUNCTION introw.object_org_ids()
RETURNS bigint[] AS 'MODULE_PATHNAME', 'introw_object_org_ids'
LANGUAGE C STABLE PARALLEL RESTRICTED;

-- the objects a contact principal collaborates on
CREATE FUNCTION introw.collab_object_ids()
RETURNS bigint[] AS 'MODULE_PATHNAME', 'introw_collab_object_ids'
LANGUAGE C STABLE PARALLEL RESTRICTED;

-- organisations whose tasks the principal reads (besides the whole-tenant range)
CREATE FUNCTION introw.task_org_ids()
RETURNS bigint[] AS 'MODULE_PATHNAME', 'introw_task_org_ids'
LANGUAGE C STABLE PARALLEL RESTRICTED;

-- the contact principal's organisation
CREATE FUNCTION introw.current_org_id()
RETURNS bigint AS 'MODULE_PATHNAME', 'introw_current_org_id'
LANGUAGE C STABLE PARALLEL RESTRICTED;

CREATE FUNCTION introw.can_see_object(object_id bigint)
RETURNS boolean AS 'MODULE_PATHNAME', 'introw_can_see_object'
LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;

-- a superuser or a BYPASSRLS role
CREATE FUNCTION introw.bypasses_row_security()
RETURNS boolean AS 'MODULE_PATHNAME', 'introw_bypasses_row_security'
LANGUAGE C STABLE PARALLEL SAFE;

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

-- Statement-level, before: marks the backend's visibility writes pending and
-- stamps a writing principal's tenant before any row lock.
CREATE FUNCTION introw.visibility_changing()
RETURNS trigger AS 'MODULE_PATHNAME', 'introw_visibility_changing'
LANGUAGE C;

DO $$
DECLARE
    t text;
    ev text;
BEGIN
    FOREACH t IN ARRAY ARRAY['tenants', 'internal_users', 'partner_roles', 'partner_organizations',
                             'partner_contacts', 'rooms', 'tabs', 'tab_roles', 'collaborators']
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
                           CASE WHEN t = 'partner_contacts' AND ev = 'update' THEN '''role_or_org'''
                                WHEN t = 'collaborators' THEN '''collaborators''' ELSE '' END);
            EXECUTE format('CREATE TRIGGER %I BEFORE %s ON introw.%I FOR EACH STATEMENT '
                           'EXECUTE FUNCTION introw.visibility_changing(%s)',
                           'visibility_changing_' || ev, upper(ev), t,
                           CASE WHEN t = 'collaborators' THEN '''contact_scope''' ELSE '' END);
            -- also when session_replication_role = replica (a restore)
            EXECUTE format('ALTER TABLE introw.%I ENABLE ALWAYS TRIGGER %I', t, 'visibility_changed_' || ev);
            EXECUTE format('ALTER TABLE introw.%I ENABLE ALWAYS TRIGGER %I', t, 'visibility_changing_' || ev);
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
-- updated_at of a CRM connection moves when its configuration changes (a
-- connection refused by the CRM resumes then), not with the worker's state.
CREATE FUNCTION introw.crm_connections_touch() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF (NEW.base_url, NEW.access_token, NEW.role_property, NEW.enabled, NEW.poll_interval)
       IS DISTINCT FROM (OLD.base_url, OLD.access_token, OLD.role_property, OLD.enabled, OLD.poll_interval) THEN
        NEW.updated_at := clock_timestamp();
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER touch_updated_at BEFORE UPDATE ON introw.crm_connections
    FOR EACH ROW EXECUTE FUNCTION introw.crm_connections_touch();

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

-- Task progress: also for the crm_user, who may not read tasks themselves
-- ("overview on task progress").  The view runs as its owner, so it filters
-- explicitly; security_barrier keeps callers' functions out of that filter.
CREATE VIEW introw.task_progress WITH (security_barrier = true) AS
SELECT t.tenant_id, t.org_id,
       count(*) AS total,
       count(*) FILTER (WHERE t.status = 'done') AS done,
       count(*) FILTER (WHERE t.status = 'open') AS open,
       count(*) FILTER (WHERE t.status = 'in_progress') AS in_progress
FROM introw.tasks t
WHERE (SELECT introw.bypasses_row_security())
   OR (t.tenant_id = (SELECT introw.current_tenant_id())
       AND (t.task_id BETWEEN (SELECT introw.whole_tenant_from()) AND (SELECT introw.whole_tenant_to())
            OR t.org_id = ANY ((SELECT CASE introw.current_principal_kind()
                                       WHEN 'crm_user' THEN introw.readable_org_ids()
                                       ELSE introw.task_org_ids() END)::bigint[])))
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
-- CRM objects and collaborators (PRODUCT.md section 4)
-- ---------------------------------------------------------------------------

-- Read: the whole tenant (admin, member); the organisations of
-- object_org_ids() (an unrestricted contact its own, a crm_user every
-- partner, a partner manager those it manages); a contact's collaborations.
-- The submitter arm adds nothing to the collaborations (a submitter is
-- always a collaborator, see below) but lets a contact read back the object
-- it is registering (INSERT ... RETURNING) before the statement ends.
-- Every arm is indexable: the planner serves them with a BitmapOr.
CREATE POLICY read ON introw.crm_objects FOR SELECT
    USING (tenant_id = (SELECT introw.current_tenant_id())
           AND (object_id BETWEEN (SELECT introw.whole_tenant_from()) AND (SELECT introw.whole_tenant_to())
                OR org_id = ANY ((SELECT introw.object_org_ids())::bigint[])
                OR object_id = ANY ((SELECT introw.collab_object_ids())::bigint[])
                OR submitted_by_contact_id = (SELECT introw.current_contact_id())));

-- Collaborator rows of the objects the principal sees (the subquery is
-- itself filtered by the policy above).
CREATE POLICY read ON introw.collaborators FOR SELECT
    USING (tenant_id = (SELECT introw.current_tenant_id())
           AND EXISTS (SELECT 1 FROM introw.crm_objects o
                       WHERE o.tenant_id = collaborators.tenant_id
                         AND o.object_id = collaborators.object_id));

SELECT introw.create_write_policies('admin', t, '{admin}', '{INSERT,UPDATE,DELETE}')
FROM unnest(ARRAY['crm_objects', 'collaborators', 'tasks', 'portal_settings', 'crm_connections',
                  'crm_sync_runs', 'crm_sync_rejects']) AS t;
SELECT introw.create_write_policies('member', t, '{member}', '{INSERT,UPDATE,DELETE}')
FROM unnest(ARRAY['crm_objects', 'collaborators', 'tasks']) AS t;

-- Deal registration: a contact for its own organisation, a crm_user for any
-- partner organisation, a partner manager for those it manages.
SELECT introw.create_write_policies('contact', 'crm_objects', '{contact}', '{INSERT}',
                                    'org_id = ANY ((SELECT introw.readable_org_ids())::bigint[])');
SELECT introw.create_write_policies('crm_user', 'crm_objects', '{crm_user}', '{INSERT,UPDATE}',
                                    'org_id = ANY ((SELECT introw.object_org_ids())::bigint[])');
SELECT introw.create_write_policies('manager', 'crm_objects', '{partner_manager}', '{INSERT,UPDATE,DELETE}',
                                    'org_id = ANY ((SELECT introw.managed_org_ids())::bigint[])');
-- A contact updates the objects it collaborates on.
SELECT introw.create_write_policies('collaborator', 'crm_objects', '{contact}', '{UPDATE}',
                                    'object_id = ANY ((SELECT introw.collab_object_ids())::bigint[])');

-- Collaborators: a contact adds contacts of its own organisation to objects
-- of its organisation it collaborates on; a crm_user adds anyone of the tenant to objects it
-- sees; a partner manager manages those of its organisations' objects.
SELECT introw.create_write_policies('collaborator', 'collaborators', '{contact}', '{INSERT}',
    'object_id = ANY ((SELECT introw.collab_object_ids())::bigint[]) AND user_id IS NULL '
    'AND EXISTS (SELECT 1 FROM introw.crm_objects o WHERE o.tenant_id = collaborators.tenant_id '
    'AND o.object_id = collaborators.object_id AND o.org_id = (SELECT introw.current_org_id())) '
    'AND contact_id IN (SELECT c.contact_id FROM introw.partner_contacts c '
    'WHERE c.tenant_id = collaborators.tenant_id AND c.org_id = (SELECT introw.current_org_id()))');
SELECT introw.create_write_policies('crm_user', 'collaborators', '{crm_user}', '{INSERT}',
    'EXISTS (SELECT 1 FROM introw.crm_objects o WHERE o.tenant_id = collaborators.tenant_id '
    'AND o.object_id = collaborators.object_id)');
SELECT introw.create_write_policies('manager', 'collaborators', '{partner_manager}', '{INSERT,UPDATE,DELETE}',
    'EXISTS (SELECT 1 FROM introw.crm_objects o WHERE o.tenant_id = collaborators.tenant_id '
    'AND o.object_id = collaborators.object_id '
    'AND o.org_id = ANY ((SELECT introw.managed_org_ids())::bigint[]))');

-- Registration rules no policy can express with a clear message.
CREATE FUNCTION introw.crm_objects_rules() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    kind text := introw.current_principal_kind();
    me   bigint := introw.current_contact_id();
    mine bigint := introw.current_org_id();
BEGIN
    IF kind = 'contact' THEN
        IF TG_OP = 'INSERT' THEN
            NEW.org_id := coalesce(NEW.org_id, mine);
            IF NEW.org_id <> mine OR NEW.tenant_id <> introw.current_tenant_id() THEN
                RAISE EXCEPTION 'partner contacts register objects for their own organisation only'
                    USING ERRCODE = 'insufficient_privilege',
                          DETAIL = format('Contact %s belongs to organisation %s, not %s.', me, mine, NEW.org_id);
            END IF;
            IF NEW.submitted_by_contact_id IS DISTINCT FROM me AND NEW.submitted_by_contact_id IS NOT NULL THEN
                RAISE EXCEPTION 'a partner contact registers objects in its own name'
                    USING ERRCODE = 'insufficient_privilege',
                          DETAIL = format('submitted_by_contact_id must be %s or NULL.', me);
            END IF;
            NEW.submitted_by_contact_id := me;
        ELSIF NEW.org_id IS DISTINCT FROM OLD.org_id
              OR NEW.submitted_by_contact_id IS DISTINCT FROM OLD.submitted_by_contact_id THEN
            RAISE EXCEPTION 'partner contacts cannot move objects to another organisation or submitter'
                USING ERRCODE = 'insufficient_privilege';
        ELSIF NEW.object_type IS DISTINCT FROM OLD.object_type
              OR NEW.created_at IS DISTINCT FROM OLD.created_at
              OR NEW.crm_object_id IS DISTINCT FROM OLD.crm_object_id THEN
            RAISE EXCEPTION 'partner contacts edit the name, stage and amount of an object only'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    ELSIF kind = 'crm_user' THEN
        IF NEW.org_id IS NULL THEN
            RAISE EXCEPTION 'a CRM user registers and edits objects of a partner organisation'
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'Set org_id to the partner organisation.';
        END IF;
        IF (TG_OP = 'INSERT' AND NEW.submitted_by_contact_id IS NOT NULL)
           OR (TG_OP = 'UPDATE' AND NEW.submitted_by_contact_id IS DISTINCT FROM OLD.submitted_by_contact_id) THEN
            RAISE EXCEPTION 'a CRM user does not name the submitting partner contact'
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = 'submitted_by_contact_id is set when a partner contact registers the object.';
        END IF;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER crm_objects_rules BEFORE INSERT OR UPDATE ON introw.crm_objects
    FOR EACH ROW EXECUTE FUNCTION introw.crm_objects_rules();

-- The submitting contact is always a collaborator; on registration by a
-- contact or crm_user, the registrant and the organisation's partner
-- manager become collaborators too.  SECURITY DEFINER: the registrant may
-- not write collaborator rows for others itself.
CREATE FUNCTION introw.crm_objects_register() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    kind text := introw.current_principal_kind();
BEGIN
    IF NEW.submitted_by_contact_id IS NOT NULL THEN
        INSERT INTO introw.collaborators (tenant_id, object_id, contact_id)
        VALUES (NEW.tenant_id, NEW.object_id, NEW.submitted_by_contact_id) ON CONFLICT DO NOTHING;
    END IF;
    IF TG_OP <> 'INSERT' OR kind NOT IN ('contact', 'crm_user') THEN
        RETURN NULL;
    END IF;
    IF kind = 'crm_user' THEN
        INSERT INTO introw.collaborators (tenant_id, object_id, user_id)
        VALUES (NEW.tenant_id, NEW.object_id, introw.current_user_id()) ON CONFLICT DO NOTHING;
    END IF;
    INSERT INTO introw.collaborators (tenant_id, object_id, user_id)
    SELECT o.tenant_id, NEW.object_id, o.partner_manager_id
    FROM introw.partner_organizations o
    WHERE o.tenant_id = NEW.tenant_id AND o.org_id = NEW.org_id AND o.partner_manager_id IS NOT NULL
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER crm_objects_register AFTER INSERT OR UPDATE OF submitted_by_contact_id ON introw.crm_objects
    FOR EACH ROW EXECUTE FUNCTION introw.crm_objects_register();

-- The submitter's collaborator row stays while it is the submitter (unless
-- the object or the contact itself is being deleted).
CREATE FUNCTION introw.collaborators_keep_submitter() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF OLD.contact_id IS NOT NULL
       AND (TG_OP = 'DELETE' OR NEW.contact_id IS DISTINCT FROM OLD.contact_id
            OR NEW.object_id <> OLD.object_id)
       AND EXISTS (SELECT 1 FROM introw.crm_objects o
                   WHERE o.tenant_id = OLD.tenant_id AND o.object_id = OLD.object_id
                     AND o.submitted_by_contact_id = OLD.contact_id)
       AND EXISTS (SELECT 1 FROM introw.partner_contacts c
                   WHERE c.tenant_id = OLD.tenant_id AND c.contact_id = OLD.contact_id) THEN
        RAISE EXCEPTION 'contact % submitted object % and stays one of its collaborators',
                        OLD.contact_id, OLD.object_id
            USING ERRCODE = 'restrict_violation',
                  HINT = 'Change the object''s submitted_by_contact_id first.';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE TRIGGER collaborators_keep_submitter BEFORE DELETE OR UPDATE ON introw.collaborators
    FOR EACH ROW EXECUTE FUNCTION introw.collaborators_keep_submitter();

-- ---------------------------------------------------------------------------
-- Tasks, settings, CRM connection and sync data
-- ---------------------------------------------------------------------------
CREATE POLICY read ON introw.tasks FOR SELECT
    USING (tenant_id = (SELECT introw.current_tenant_id())
           AND (task_id BETWEEN (SELECT introw.whole_tenant_from()) AND (SELECT introw.whole_tenant_to())
                OR org_id = ANY ((SELECT introw.task_org_ids())::bigint[])));
-- a contact updates its organisation's tasks (and cannot move them)
SELECT introw.create_write_policies('contact', 'tasks', '{contact}', '{UPDATE}',
                                    'org_id = ANY ((SELECT introw.readable_org_ids())::bigint[])');
SELECT introw.create_write_policies('manager', 'tasks', '{partner_manager}', '{INSERT,UPDATE,DELETE}',
                                    'org_id = ANY ((SELECT introw.managed_org_ids())::bigint[])');

CREATE POLICY read ON introw.portal_settings FOR SELECT
    USING (tenant_id = (SELECT introw.current_tenant_id())
           AND (SELECT introw.current_principal_kind()) = 'admin');
CREATE POLICY read ON introw.crm_connections FOR SELECT
    USING (tenant_id = (SELECT introw.current_tenant_id())
           AND (SELECT introw.current_principal_kind()) = 'admin');
CREATE POLICY read ON introw.crm_sync_runs FOR SELECT
    USING (tenant_id = (SELECT introw.current_tenant_id())
           AND (SELECT introw.current_principal_kind()) IN ('admin', 'member', 'partner_manager'));
CREATE POLICY read ON introw.crm_sync_rejects FOR SELECT
    USING (tenant_id = (SELECT introw.current_tenant_id())
           AND (SELECT introw.current_principal_kind()) IN ('admin', 'member', 'partner_manager'));

-- ---------------------------------------------------------------------------
-- Login routing and the HubSpot card (the CRM User role).  They answer
-- before anyone is logged in, so they read as their owner; they reveal one
-- word (or one card the principal may read) and nothing else.
-- ---------------------------------------------------------------------------
CREATE FUNCTION introw.portal_login_route(tenant_id bigint, email text) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    who  text := lower(btrim(portal_login_route.email));
    role text;
BEGIN
    IF portal_login_route.tenant_id IS NULL OR who IS NULL OR who = '' THEN
        RETURN 'unknown';
    END IF;
    SELECT u.user_role INTO role FROM introw.internal_users u
    WHERE u.tenant_id = portal_login_route.tenant_id AND lower(u.email) = who AND u.active;
    IF FOUND THEN
        -- CRM users reach the portal only through the HubSpot card
        RETURN CASE WHEN role = 'crm_user' THEN 'hubspot' ELSE 'portal' END;
    END IF;
    IF EXISTS (SELECT 1 FROM introw.partner_contacts c
               WHERE c.tenant_id = portal_login_route.tenant_id AND lower(c.email) = who) THEN
        RETURN 'portal';
    END IF;
    RETURN 'unknown';
END $$;

CREATE FUNCTION introw.hubspot_card_entry(tenant_id bigint, hubspot_user_id text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN EXISTS (
        SELECT 1 FROM introw.internal_users u
        WHERE u.tenant_id = hubspot_card_entry.tenant_id
          AND u.hubspot_user_id = hubspot_card_entry.hubspot_user_id
          AND u.user_role = 'crm_user' AND u.active)
    THEN 'portal' ELSE 'login' END
$$;

-- Raises unless the current principal may read that organisation (also when
-- it does not exist: the two are not told apart).
CREATE FUNCTION introw.assert_org_readable(org_id bigint) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF assert_org_readable.org_id IS NULL THEN
        RAISE EXCEPTION 'org_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM introw.partner_organizations o
                   WHERE o.org_id = assert_org_readable.org_id
                     AND (introw.bypasses_row_security()
                          OR (o.tenant_id = introw.current_tenant_id()
                              AND o.org_id = ANY (introw.readable_org_ids())))) THEN
        RAISE EXCEPTION 'partner organization % does not exist', assert_org_readable.org_id
            USING ERRCODE = 'undefined_object';
    END IF;
    RETURN true;
END $$;

CREATE FUNCTION introw.partner_card(org_id bigint)
RETURNS TABLE (org_id bigint, organization text, tier text,
               partner_manager_name text, partner_manager_email text,
               partner_champion_name text, partner_champion_email text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT o.org_id, o.name, t.name, m.full_name, m.email, c.full_name, c.email
    FROM introw.partner_organizations o
    LEFT JOIN introw.tiers t ON t.tenant_id = o.tenant_id AND t.tier_id = o.tier_id
    LEFT JOIN introw.internal_users m ON m.tenant_id = o.tenant_id AND m.user_id = o.partner_manager_id
    LEFT JOIN introw.partner_contacts c ON c.tenant_id = o.tenant_id AND c.contact_id = o.partner_champion_id
    WHERE o.org_id = $1 AND introw.assert_org_readable($1)
$$;

-- ---------------------------------------------------------------------------
-- explain_access: why a contact sees, or does not see, a tab, an item or a
-- CRM object, rule by rule.  For an admin principal of the contact's tenant,
-- superusers and BYPASSRLS roles.
-- ---------------------------------------------------------------------------
CREATE FUNCTION introw.explain_access(contact_id bigint, kind text, id bigint)
RETURNS TABLE (step int, rule text, outcome text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    c       record;
    t       record;
    o       record;
    tab     bigint;
    limits  text[];
    n       int := 0;
    room_ok boolean;
    role_ok boolean;
    collab  boolean;
BEGIN
    IF explain_access.contact_id IS NULL OR explain_access.kind IS NULL OR explain_access.id IS NULL THEN
        RAISE EXCEPTION 'contact_id, kind and id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF explain_access.kind NOT IN ('tab', 'item', 'object') THEN
        RAISE EXCEPTION 'unknown kind "%"', left(explain_access.kind, 100)
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Use tab, item or object.';
    END IF;
    IF NOT introw.bypasses_row_security() AND introw.current_principal_kind() <> 'admin' THEN
        RAISE EXCEPTION 'permission denied for function %', 'explain_access'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Only an admin principal, a superuser or a BYPASSRLS role may explain access.';
    END IF;
    SELECT pc.contact_id, pc.tenant_id, pc.org_id, pc.email, pc.role_id, pc.role_source,
           po.name AS org_name, pr.name AS role_name, pr.collaboration_restricted
    INTO c
    FROM introw.partner_contacts pc
    JOIN introw.partner_organizations po ON po.tenant_id = pc.tenant_id AND po.org_id = pc.org_id
    LEFT JOIN introw.partner_roles pr ON pr.tenant_id = pc.tenant_id AND pr.role_id = pc.role_id
    WHERE pc.contact_id = explain_access.contact_id
      AND (introw.bypasses_row_security() OR pc.tenant_id = introw.current_tenant_id());
    IF NOT FOUND THEN
        RAISE EXCEPTION 'partner contact % does not exist', explain_access.contact_id
            USING ERRCODE = 'undefined_object';
    END IF;
    n := n + 1;
    RETURN QUERY SELECT n, format('contact %s <%s> of organisation "%s"', c.contact_id, c.email, c.org_name),
        CASE WHEN c.role_id IS NULL THEN 'no role (treated as collaboration restricted)'
             ELSE format('role "%s" (%s)%s', c.role_name, c.role_source,
                         CASE WHEN c.collaboration_restricted THEN ', collaboration restricted' ELSE '' END) END;

    IF explain_access.kind IN ('tab', 'item') THEN
        tab := explain_access.id;
        IF explain_access.kind = 'item' THEN
            SELECT i.tab_id INTO tab FROM introw.content_items i
            WHERE i.item_id = explain_access.id AND i.tenant_id = c.tenant_id;
            n := n + 1;
            IF tab IS NULL THEN
                RETURN QUERY SELECT n, format('item %s exists in the tenant', explain_access.id), 'fail';
                RETURN QUERY SELECT n + 1, 'verdict', 'not visible';
                RETURN;
            END IF;
            RETURN QUERY SELECT n, format('item %s is visible exactly when its tab %s is', explain_access.id, tab), 'info';
        END IF;
        SELECT tb.tab_id, tb.name, r.name AS room_name, r.org_id AS room_org INTO t
        FROM introw.tabs tb JOIN introw.rooms r ON r.tenant_id = tb.tenant_id AND r.room_id = tb.room_id
        WHERE tb.tab_id = tab AND tb.tenant_id = c.tenant_id;
        n := n + 1;
        IF NOT FOUND THEN
            RETURN QUERY SELECT n, format('tab %s exists in the tenant', tab), 'fail';
            RETURN QUERY SELECT n + 1, 'verdict', 'not visible';
            RETURN;
        END IF;
        room_ok := t.room_org IS NULL OR t.room_org = c.org_id;
        RETURN QUERY SELECT n,
            CASE WHEN t.room_org IS NULL THEN format('tab "%s" is in room "%s", which is portal-wide', t.name, t.room_name)
                 ELSE format('tab "%s" is in room "%s" of organisation %s', t.name, t.room_name, t.room_org) END,
            CASE WHEN room_ok THEN 'pass' ELSE 'fail' END;
        SELECT array_agg(pr.name ORDER BY pr.name) INTO limits
        FROM introw.tab_roles tr JOIN introw.partner_roles pr ON pr.tenant_id = tr.tenant_id AND pr.role_id = tr.role_id
        WHERE tr.tenant_id = c.tenant_id AND tr.tab_id = t.tab_id;
        role_ok := limits IS NULL OR EXISTS (SELECT 1 FROM introw.tab_roles tr
                                             WHERE tr.tenant_id = c.tenant_id AND tr.tab_id = t.tab_id
                                               AND tr.role_id = c.role_id);
        n := n + 1;
        RETURN QUERY SELECT n,
            CASE WHEN limits IS NULL THEN 'the tab is not limited to any role'
                 ELSE format('the tab is limited to the roles %s', array_to_string(limits, ', ')) END,
            CASE WHEN role_ok THEN 'pass' ELSE 'fail' END;
        RETURN QUERY SELECT n + 1, 'verdict', CASE WHEN room_ok AND role_ok THEN 'visible' ELSE 'not visible' END;
        RETURN;
    END IF;

    SELECT x.object_id, x.object_type, x.name, x.org_id INTO o
    FROM introw.crm_objects x WHERE x.object_id = explain_access.id AND x.tenant_id = c.tenant_id;
    n := n + 1;
    IF NOT FOUND THEN
        RETURN QUERY SELECT n, format('object %s exists in the tenant', explain_access.id), 'fail';
        RETURN QUERY SELECT n + 1, 'verdict', 'not visible';
        RETURN;
    END IF;
    collab := EXISTS (SELECT 1 FROM introw.collaborators k
                      WHERE k.tenant_id = c.tenant_id AND k.object_id = o.object_id
                        AND k.contact_id = c.contact_id);
    RETURN QUERY SELECT n, format('the contact is listed as a collaborator on %s "%s"', o.object_type, o.name),
        CASE WHEN collab THEN 'pass' ELSE 'fail' END;
    n := n + 1;
    room_ok := o.org_id IS NOT DISTINCT FROM c.org_id;
    RETURN QUERY SELECT n,
        CASE WHEN o.org_id IS NULL THEN 'the object is not attributed to a partner organisation'
             ELSE format('the object belongs to organisation %s; the contact''s is %s', o.org_id, c.org_id) END,
        CASE WHEN room_ok THEN 'pass' ELSE 'fail' END;
    n := n + 1;
    role_ok := c.role_id IS NOT NULL AND NOT c.collaboration_restricted;
    RETURN QUERY SELECT n, 'the contact has a role that is not collaboration restricted (needed to see its organisation''s objects)',
        CASE WHEN role_ok THEN 'pass' ELSE 'fail' END;
    RETURN QUERY SELECT n + 1, 'verdict',
        CASE WHEN collab OR (room_ok AND role_ok) THEN 'visible' ELSE 'not visible' END;
END $$;

-- ---------------------------------------------------------------------------
-- CRM role sync: applying one HubSpot search-response page (PRODUCT.md
-- section 6).  The worker calls it; so can a webhook receiver or a test.
-- ---------------------------------------------------------------------------
CREATE FUNCTION introw.crm_apply_contacts(tenant_id bigint, page jsonb, run_id bigint DEFAULT NULL)
RETURNS TABLE (fetched int, applied int, unchanged int, rejected int, last_modified timestamptz)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t        bigint := crm_apply_contacts.tenant_id;
    run      bigint := crm_apply_contacts.run_id;
    prop     text;
    results  jsonb;
    n_fetch  int;
    n_apply  int;
    n_same   int;
    n_reject int;
    newest   timestamptz;
BEGIN
    IF t IS NULL OR page IS NULL THEN
        RAISE EXCEPTION 'tenant_id and page must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT introw.bypasses_row_security()
       AND NOT (introw.current_principal_kind() = 'admin' AND introw.current_tenant_id() = t) THEN
        RAISE EXCEPTION 'permission denied for function %', 'crm_apply_contacts'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Only the tenant''s admin principal, a superuser or a BYPASSRLS role may apply CRM pages.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM introw.tenants x WHERE x.tenant_id = t) THEN
        RAISE EXCEPTION 'tenant % does not exist', t USING ERRCODE = 'undefined_object';
    END IF;
    -- the page must look like a search response
    results := page -> 'results';
    IF jsonb_typeof(page) <> 'object' OR results IS NULL OR jsonb_typeof(results) <> 'array' THEN
        RAISE EXCEPTION 'malformed CRM page: expected an object with a "results" array'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT 1 FROM jsonb_array_elements(results) r
               WHERE jsonb_typeof(r) <> 'object'
                  OR coalesce(jsonb_typeof(r -> 'id'), 'missing') NOT IN ('string', 'number')
                  OR coalesce(jsonb_typeof(r -> 'properties'), 'null') NOT IN ('object', 'null')
                  OR length(r ->> 'id') NOT BETWEEN 1 AND 100) THEN
        RAISE EXCEPTION 'malformed CRM page: every result needs an "id" and a "properties" object'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT c.role_property INTO prop FROM introw.crm_connections c WHERE c.tenant_id = t;
    prop := coalesce(prop, 'partner_role');
    IF run IS NULL THEN
        INSERT INTO introw.crm_sync_runs (tenant_id, status) VALUES (t, 'running') RETURNING crm_sync_runs.run_id INTO run;
    END IF;

    -- one row per CRM contact (the last one of the page wins), matched by
    -- CRM id, else by email; the role value mapped by crm_value
    IF to_regclass('pg_temp.introw_crm_page') IS NULL THEN
        CREATE TEMP TABLE introw_crm_page (
            pos bigint, crm_id text, email text, value text, has_value boolean, modified timestamptz,
            contact_id bigint, linked_id text, role_id bigint, outcome text) ON COMMIT DROP;
    END IF;
    TRUNCATE introw_crm_page;
    INSERT INTO introw_crm_page (pos, crm_id, email, value, has_value, modified)
    SELECT DISTINCT ON (r ->> 'id') o, r ->> 'id', r -> 'properties' ->> 'email',
           btrim(r -> 'properties' ->> prop), coalesce(btrim(r -> 'properties' ->> prop), '') <> '',
           CASE WHEN (r -> 'properties' ->> 'lastmodifieddate') ~ '^\d{4}-\d{2}-\d{2}T'
                THEN (r -> 'properties' ->> 'lastmodifieddate')::timestamptz END
    FROM jsonb_array_elements(results) WITH ORDINALITY AS e(r, o)
    ORDER BY r ->> 'id', o DESC;
    GET DIAGNOSTICS n_fetch = ROW_COUNT;
    SELECT max(p.modified) INTO newest FROM introw_crm_page p;

    UPDATE introw_crm_page p SET contact_id = c.contact_id, linked_id = c.crm_contact_id
    FROM introw.partner_contacts c WHERE c.tenant_id = t AND c.crm_contact_id = p.crm_id;
    UPDATE introw_crm_page p SET contact_id = c.contact_id, linked_id = c.crm_contact_id
    FROM introw.partner_contacts c
    WHERE p.contact_id IS NULL AND c.tenant_id = t AND p.email IS NOT NULL
      AND lower(c.email) = lower(btrim(p.email));
    UPDATE introw_crm_page p SET role_id = r.role_id
    FROM introw.partner_roles r WHERE p.has_value AND r.tenant_id = t AND lower(btrim(r.crm_value)) = lower(p.value);
    UPDATE introw_crm_page p SET role_id = r.role_id
    FROM introw.partner_roles r WHERE NOT p.has_value AND r.tenant_id = t AND r.is_default;
    UPDATE introw_crm_page p SET outcome = CASE
        WHEN p.contact_id IS NULL THEN 'unknown contact'
        WHEN p.linked_id IS NOT NULL AND p.linked_id <> p.crm_id THEN 'email belongs to a contact linked to CRM id ' || p.linked_id
        WHEN p.has_value AND p.role_id IS NULL THEN 'unknown role value'
        ELSE 'apply' END;
    -- two CRM contacts for one partner contact: neither is applied
    UPDATE introw_crm_page p SET outcome = 'several CRM contacts match this contact'
    WHERE p.outcome = 'apply'
      AND EXISTS (SELECT 1 FROM introw_crm_page q
                  WHERE q.contact_id = p.contact_id AND q.crm_id <> p.crm_id AND q.outcome = 'apply');

    INSERT INTO introw.crm_sync_rejects (run_id, tenant_id, crm_contact_id, email, value, reason)
    SELECT run, t, left(p.crm_id, 100), left(p.email, 320), left(p.value, 200), p.outcome
    FROM introw_crm_page p WHERE p.outcome <> 'apply' ORDER BY p.pos;
    GET DIAGNOSTICS n_reject = ROW_COUNT;

    WITH changed AS (
        UPDATE introw.partner_contacts c
           SET role_id = p.role_id,
               role_source = CASE WHEN p.role_id IS NULL THEN NULL ELSE 'crm' END,
               crm_contact_id = p.crm_id
          FROM introw_crm_page p
         WHERE p.outcome = 'apply' AND c.tenant_id = t AND c.contact_id = p.contact_id
           AND (c.role_id IS DISTINCT FROM p.role_id
                OR c.role_source IS DISTINCT FROM CASE WHEN p.role_id IS NULL THEN NULL ELSE 'crm' END
                OR c.crm_contact_id IS DISTINCT FROM p.crm_id)
        RETURNING 1)
    SELECT count(*) INTO n_apply FROM changed;
    n_same := n_fetch - n_reject - n_apply;

    IF crm_apply_contacts.run_id IS NULL THEN
        UPDATE introw.crm_sync_runs x
           SET status = 'succeeded', finished_at = clock_timestamp(), pages = 1,
               fetched = n_fetch, applied = n_apply, unchanged = n_same, rejected = n_reject
         WHERE x.run_id = run;
    END IF;
    RETURN QUERY SELECT n_fetch, n_apply, n_same, n_reject, newest;
END $$;

CREATE FUNCTION introw.crm_worker_wake_at_commit() RETURNS boolean
AS 'MODULE_PATHNAME', 'introw_crm_wake_at_commit'
LANGUAGE C VOLATILE PARALLEL UNSAFE;

-- Ask for a sync of that tenant now: the worker is woken when the calling
-- transaction commits.  For the tenant's admin, superusers, BYPASSRLS roles.
CREATE FUNCTION introw.crm_sync_now(tenant_id bigint) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF crm_sync_now.tenant_id IS NULL THEN
        RAISE EXCEPTION 'tenant_id must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT introw.bypasses_row_security()
       AND NOT (introw.current_principal_kind() = 'admin' AND introw.current_tenant_id() = crm_sync_now.tenant_id) THEN
        RAISE EXCEPTION 'permission denied for function %', 'crm_sync_now'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    UPDATE introw.crm_connections c SET sync_requested_at = now() WHERE c.tenant_id = crm_sync_now.tenant_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'tenant % has no CRM connection', crm_sync_now.tenant_id
            USING ERRCODE = 'undefined_object';
    END IF;
    IF NOT introw.crm_worker_wake_at_commit() THEN
        RAISE WARNING 'the CRM sync worker is not running'
            USING HINT = 'Add introw_roles to shared_preload_libraries and restart; the request is kept for it.';
    END IF;
END $$;

-- ---------------------------------------------------------------------------
-- Granting an application role exactly what it needs: every table, but no
-- identity column may be written (ids come from their sequences only: no
-- one chooses, squats or probes an id of another tenant), and the CRM
-- access token is never readable; EXECUTE on the principal setters, login
-- routing, the card, the reports and the CRM sync requests.  Row-level
-- security then decides row by row.
-- ---------------------------------------------------------------------------
CREATE FUNCTION introw.grant_application(role regrole) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t    record;
    cols text;
    sel  text;
BEGIN
    IF role IS NULL THEN
        RAISE EXCEPTION 'role must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA introw TO %s', role);
    FOR t IN SELECT c.oid, c.relname, c.relkind FROM pg_class c
             WHERE c.relnamespace = 'introw'::regnamespace AND c.relkind IN ('r', 'v')
               AND c.relname <> 'visibility_epochs' ORDER BY c.relname
    LOOP
        EXECUTE format('REVOKE ALL ON introw.%I FROM %s', t.relname, role);
        IF t.relkind = 'v' THEN
            EXECUTE format('GRANT SELECT ON introw.%I TO %s', t.relname, role);
            CONTINUE;
        END IF;
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FILTER (WHERE a.attidentity = ''),
               string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
                   FILTER (WHERE NOT (t.relname = 'crm_connections' AND a.attname = 'access_token'))
          INTO cols, sel
          FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped;
        EXECUTE format('GRANT SELECT (%s) ON introw.%I TO %s', sel, t.relname, role);
        EXECUTE format('GRANT INSERT (%s), UPDATE (%s) ON introw.%I TO %s', cols, cols, t.relname, role);
        EXECUTE format('GRANT DELETE ON introw.%I TO %s', t.relname, role);
    END LOOP;
    EXECUTE format('GRANT EXECUTE ON FUNCTION introw.set_contact(bigint, boolean), introw.set_user(bigint, boolean), '
                   'introw.reset_principal(), introw.portal_login_route(bigint, text), '
                   'introw.hubspot_card_entry(bigint, text), introw.partner_card(bigint), '
                   'introw.contact_visible_tab_ids(bigint), introw.explain_access(bigint, text, bigint), '
                   'introw.crm_sync_now(bigint), introw.crm_apply_contacts(bigint, jsonb, bigint) TO %s', role);
END $$;

-- ---------------------------------------------------------------------------
-- Privileges
-- ---------------------------------------------------------------------------
REVOKE ALL ON FUNCTION introw.set_contact(bigint, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION introw.set_user(bigint, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION introw.reset_principal() FROM PUBLIC;
REVOKE ALL ON FUNCTION introw.contact_visible_tab_ids(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION introw.visibility_changed() FROM PUBLIC;
REVOKE ALL ON FUNCTION introw.visibility_changing() FROM PUBLIC;
REVOKE ALL ON FUNCTION introw.partner_contacts_role() FROM PUBLIC;
REVOKE ALL ON FUNCTION introw.create_write_policies(text, text, text[], text[], text) FROM PUBLIC;
REVOKE ALL ON FUNCTION introw.portal_login_route(bigint, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION introw.hubspot_card_entry(bigint, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION introw.partner_card(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION introw.explain_access(bigint, text, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION introw.crm_objects_register() FROM PUBLIC;
REVOKE ALL ON FUNCTION introw.collaborators_keep_submitter() FROM PUBLIC;
REVOKE ALL ON FUNCTION introw.assert_org_readable(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION introw.crm_apply_contacts(bigint, jsonb, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION introw.crm_sync_now(bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION introw.grant_application(regrole) FROM PUBLIC;
REVOKE ALL ON FUNCTION introw.crm_worker_wake_at_commit() FROM PUBLIC;
-- the CRM access token is readable by the extension's owner and superusers
-- only: applications get every other column of crm_connections
REVOKE ALL ON TABLE introw.crm_connections FROM PUBLIC;
