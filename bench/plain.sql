-- bench/plain.sql -- the comparison without this extension: copies of the
-- tables the benchmark reads, in schema plain, under plain-SQL policies
-- tuned the way Supabase's row-level security guide teaches: the identity
-- in a setting (plain.contact_id or plain.user_id, set with set_config),
-- helper functions wrapped in (SELECT ...) so each runs once per
-- statement, visible ids gathered into arrays, one OR chain of indexed
-- columns.  The helpers are SECURITY DEFINER (they read the tables the
-- policies protect) and recompute the visible set on every statement.
\set ON_ERROR_STOP 1
CREATE SCHEMA plain;
GRANT USAGE ON SCHEMA plain TO bench_app;

CREATE TABLE plain.partner_roles AS SELECT tenant_id, role_id, collaboration_restricted FROM introw.partner_roles;
CREATE TABLE plain.internal_users AS SELECT tenant_id, user_id, user_role FROM introw.internal_users;
CREATE TABLE plain.partner_organizations AS SELECT tenant_id, org_id FROM introw.partner_organizations;
CREATE TABLE plain.partner_contacts AS SELECT tenant_id, contact_id, org_id, role_id FROM introw.partner_contacts;
CREATE TABLE plain.rooms AS SELECT tenant_id, room_id, org_id FROM introw.rooms;
CREATE TABLE plain.tabs AS SELECT * FROM introw.tabs;
CREATE TABLE plain.tab_roles AS SELECT * FROM introw.tab_roles;
CREATE TABLE plain.content_items AS SELECT * FROM introw.content_items;
CREATE TABLE plain.crm_objects AS SELECT * FROM introw.crm_objects;
CREATE TABLE plain.collaborators AS SELECT * FROM introw.collaborators;
ALTER TABLE plain.partner_roles ADD PRIMARY KEY (tenant_id, role_id);
ALTER TABLE plain.internal_users ADD PRIMARY KEY (user_id);
ALTER TABLE plain.partner_contacts ADD PRIMARY KEY (contact_id);
ALTER TABLE plain.rooms ADD PRIMARY KEY (tenant_id, room_id);
ALTER TABLE plain.tabs ADD PRIMARY KEY (tenant_id, tab_id);
CREATE INDEX ON plain.tabs (tenant_id, room_id);
ALTER TABLE plain.tab_roles ADD PRIMARY KEY (tenant_id, tab_id, role_id);
ALTER TABLE plain.content_items ADD PRIMARY KEY (tenant_id, item_id);
CREATE INDEX ON plain.content_items (tenant_id, created_at DESC);
CREATE INDEX ON plain.content_items (tenant_id, tab_id, created_at DESC);
ALTER TABLE plain.crm_objects ADD PRIMARY KEY (tenant_id, object_id);
CREATE UNIQUE INDEX ON plain.crm_objects (object_id);
CREATE INDEX ON plain.crm_objects (tenant_id, object_type, created_at DESC);
CREATE INDEX ON plain.crm_objects (tenant_id, org_id, object_type, created_at DESC);
CREATE INDEX ON plain.crm_objects (tenant_id, submitted_by_contact_id);
CREATE INDEX ON plain.collaborators (tenant_id, contact_id, object_id);
CREATE INDEX ON plain.collaborators (tenant_id, object_id);
CREATE VIEW plain.deals WITH (security_invoker = true) AS
SELECT * FROM plain.crm_objects WHERE object_type = 'deal';

CREATE FUNCTION plain.contact_id() RETURNS bigint LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('plain.contact_id', true), '')::bigint $$;
CREATE FUNCTION plain.user_id() RETURNS bigint LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('plain.user_id', true), '')::bigint $$;

CREATE FUNCTION plain.tenant_id() RETURNS bigint LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog AS $$
    SELECT tenant_id FROM plain.partner_contacts WHERE contact_id = plain.contact_id()
    UNION ALL
    SELECT tenant_id FROM plain.internal_users WHERE user_id = plain.user_id()
    LIMIT 1
$$;

CREATE FUNCTION plain.visible_tab_ids() RETURNS bigint[] LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog AS $$
    SELECT coalesce(array_agg(t.tab_id), '{}')
    FROM plain.partner_contacts c
    JOIN plain.rooms r ON r.tenant_id = c.tenant_id AND (r.org_id IS NULL OR r.org_id = c.org_id)
    JOIN plain.tabs t ON t.tenant_id = r.tenant_id AND t.room_id = r.room_id
    WHERE c.contact_id = plain.contact_id()
      AND (NOT EXISTS (SELECT 1 FROM plain.tab_roles x WHERE x.tenant_id = t.tenant_id AND x.tab_id = t.tab_id)
           OR EXISTS (SELECT 1 FROM plain.tab_roles x WHERE x.tenant_id = t.tenant_id AND x.tab_id = t.tab_id
                      AND x.role_id = c.role_id))
$$;

CREATE FUNCTION plain.reads_whole_tenant() RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog AS $$
    SELECT EXISTS (SELECT 1 FROM plain.internal_users
                   WHERE user_id = plain.user_id() AND user_role IN ('admin', 'member'))
$$;

-- a contact whose role is not restricted: its organisation; a crm_user:
-- every organisation
CREATE FUNCTION plain.object_org_ids() RETURNS bigint[] LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog AS $$
    SELECT coalesce(array_agg(id), '{}') FROM (
        SELECT c.org_id AS id
        FROM plain.partner_contacts c JOIN plain.partner_roles r ON r.tenant_id = c.tenant_id AND r.role_id = c.role_id
        WHERE c.contact_id = plain.contact_id() AND NOT r.collaboration_restricted
        UNION ALL
        SELECT o.org_id
        FROM plain.internal_users u JOIN plain.partner_organizations o ON o.tenant_id = u.tenant_id
        WHERE u.user_id = plain.user_id() AND u.user_role = 'crm_user') s
$$;

CREATE FUNCTION plain.collab_object_ids() RETURNS bigint[] LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog AS $$
    SELECT coalesce(array_agg(x.object_id), '{}')
    FROM plain.collaborators x JOIN plain.partner_contacts c ON c.tenant_id = x.tenant_id AND c.contact_id = x.contact_id
    WHERE x.contact_id = plain.contact_id()
$$;

ALTER TABLE plain.tabs ENABLE ROW LEVEL SECURITY;
ALTER TABLE plain.content_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE plain.crm_objects ENABLE ROW LEVEL SECURITY;
CREATE POLICY read ON plain.tabs FOR SELECT TO bench_app
    USING (tenant_id = (SELECT plain.tenant_id()) AND tab_id = ANY ((SELECT plain.visible_tab_ids())::bigint[]));
CREATE POLICY read ON plain.content_items FOR SELECT TO bench_app
    USING (tenant_id = (SELECT plain.tenant_id()) AND tab_id = ANY ((SELECT plain.visible_tab_ids())::bigint[]));
CREATE POLICY read ON plain.crm_objects FOR SELECT TO bench_app
    USING (tenant_id = (SELECT plain.tenant_id())
           AND ((SELECT plain.reads_whole_tenant())
                OR org_id = ANY ((SELECT plain.object_org_ids())::bigint[])
                OR object_id = ANY ((SELECT plain.collab_object_ids())::bigint[])
                OR submitted_by_contact_id = (SELECT plain.contact_id())));
GRANT SELECT ON plain.tabs, plain.content_items, plain.crm_objects, plain.deals TO bench_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA plain TO bench_app;
VACUUM ANALYZE plain.partner_roles, plain.internal_users, plain.partner_organizations, plain.partner_contacts,
    plain.rooms, plain.tabs, plain.tab_roles, plain.content_items, plain.crm_objects, plain.collaborators;
