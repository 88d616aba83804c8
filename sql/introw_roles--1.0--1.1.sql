-- introw_roles 1.0 -> 1.1
\echo Use "ALTER EXTENSION introw_roles UPDATE TO '1.1'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Read policies as membership calls with planner support
-- (src/policy_support.c).  A run-time array in "col = ANY (array)" is
-- searched element by element for every row a filter looks at; the calls
-- binary-search a sorted copy instead, and their support function gives the
-- planner the equivalent index condition and an estimate made from the
-- principal planning the statement.
-- ---------------------------------------------------------------------------

CREATE FUNCTION introw.policy_support(internal)
RETURNS internal AS 'MODULE_PATHNAME', 'introw_policy_support'
LANGUAGE C STRICT;

ALTER FUNCTION introw.can_see_tab(bigint) COST 1 SUPPORT introw.policy_support;

-- does the principal read the CRM objects of this organisation?
CREATE FUNCTION introw.reads_org_objects(org_id bigint)
RETURNS boolean AS 'MODULE_PATHNAME', 'introw_reads_org_objects'
LANGUAGE C STABLE STRICT PARALLEL RESTRICTED COST 1 SUPPORT introw.policy_support;

-- does the contact principal collaborate on this CRM object?
CREATE FUNCTION introw.collaborates_on(object_id bigint)
RETURNS boolean AS 'MODULE_PATHNAME', 'introw_collaborates_on'
LANGUAGE C STABLE STRICT PARALLEL RESTRICTED COST 1 SUPPORT introw.policy_support;

-- does the principal read its whole tenant (admin, member)?  The argument,
-- the row's id, lets the planner use the id's index.
CREATE FUNCTION introw.reads_whole_tenant(id bigint)
RETURNS boolean AS 'MODULE_PATHNAME', 'introw_reads_whole_tenant'
LANGUAGE C STABLE STRICT PARALLEL RESTRICTED COST 1 SUPPORT introw.policy_support;

ALTER POLICY read ON introw.tabs
    USING (tenant_id = (SELECT introw.current_tenant_id()) AND introw.can_see_tab(tab_id));
ALTER POLICY read ON introw.content_items
    USING (tenant_id = (SELECT introw.current_tenant_id()) AND introw.can_see_tab(tab_id));
ALTER POLICY read ON introw.crm_objects
    USING (tenant_id = (SELECT introw.current_tenant_id())
           AND (introw.reads_whole_tenant(object_id)
                OR introw.reads_org_objects(org_id)
                OR introw.collaborates_on(object_id)
                OR submitted_by_contact_id = (SELECT introw.current_contact_id())));

-- ---------------------------------------------------------------------------
-- The visibility functions are PARALLEL SAFE: parallel workers receive the
-- leader's principal (src/parallel.c) and build their own cache.
-- ---------------------------------------------------------------------------
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid FROM pg_proc p
             WHERE p.pronamespace = 'introw'::regnamespace AND p.proparallel = 'r'
               AND p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'c')
    LOOP
        EXECUTE format('ALTER FUNCTION %s PARALLEL SAFE', f);
    END LOOP;
END $$;
