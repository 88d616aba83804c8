-- introw_roles 1.3 -> 1.4
\echo Use "ALTER EXTENSION introw_roles UPDATE TO '1.4'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- The whole-tenant arm of the CRM objects' read policy takes its answer
-- once per statement.  reads_whole_tenant(object_id) checked, for every row
-- it was asked about, that the statement and the principal were still the
-- ones its answer was taken for; that check was most of what an admin's
-- or a member's scan of the whole tenant cost beyond the scan itself.  The
-- arm now receives the answer from an initplan,
-- (SELECT introw.current_reads_whole_tenant()), and returns it; the row's
-- id still lets the planner serve the arm from the id's index, with the
-- estimate of the principal planning the statement (src/policy_support.c).
-- ---------------------------------------------------------------------------

-- does the principal read every row of its tenant (admin, member)?
CREATE FUNCTION introw.current_reads_whole_tenant()
RETURNS boolean AS 'MODULE_PATHNAME', 'introw_current_reads_whole_tenant'
LANGUAGE C STABLE PARALLEL SAFE;

-- the policy's arm: returns reads; id serves the planner only
CREATE FUNCTION introw.reads_whole_tenant(id bigint, reads boolean)
RETURNS boolean AS 'MODULE_PATHNAME', 'introw_whole_tenant_arm'
LANGUAGE C STABLE STRICT PARALLEL SAFE COST 1 SUPPORT introw.policy_support;

ALTER POLICY read ON introw.crm_objects
    USING (tenant_id = (SELECT introw.current_tenant_id())
           AND (introw.reads_whole_tenant(object_id, (SELECT introw.current_reads_whole_tenant()))
                OR introw.reads_org_objects(org_id)
                OR introw.collaborates_on(object_id)
                OR submitted_by_contact_id = (SELECT introw.current_contact_id())));

DROP FUNCTION introw.reads_whole_tenant(bigint);
