-- Applying a HubSpot search-response page: introw.crm_apply_contacts
-- (PRODUCT.md section 6), without any network.
CREATE TEMP VIEW roles_of AS
SELECT c.email, c.crm_contact_id, r.name AS role, c.role_source
FROM introw.partner_contacts c LEFT JOIN introw.partner_roles r USING (tenant_id, role_id)
WHERE c.tenant_id = fx('acme');

-- a page in the real API's shape: CRM id / email matching, values by
-- crm_value (case and surrounding spaces ignored), empty and null values
-- give the default role, unknown contacts and values are rejected
SELECT * FROM introw.crm_apply_contacts(fx('acme'), $${"total": 6, "results": [
 {"id": "101", "properties": {"email": "REP@alpha.test", "lastmodifieddate": "2026-11-20T10:00:00.000Z", "partner_role": " solutions engineer "}, "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-11-20T10:00:00Z", "archived": false},
 {"id": "102", "properties": {"email": "se@alpha.test", "lastmodifieddate": "2026-11-20T10:00:01.000Z", "partner_role": ""}},
 {"id": "103", "properties": {"email": "ghost@alpha.test", "lastmodifieddate": "2026-11-20T10:00:02.000Z", "partner_role": "Sales Rep"}},
 {"id": "104", "properties": {"email": "mgr@alpha.test", "lastmodifieddate": "2026-11-20T10:00:03.000Z", "partner_role": "Astronaut"}},
 {"id": "105", "properties": {"email": "norole@alpha.test", "lastmodifieddate": "2026-11-20T10:00:04.000Z", "partner_role": null}},
 {"id": "106", "properties": {"email": "rep@gamma.test", "lastmodifieddate": "2026-11-20T10:00:05.000Z", "partner_role": "Sales Rep"}}
], "paging": {"next": {"after": "6"}}}$$);
SELECT * FROM roles_of WHERE email IN ('rep@alpha.test', 'se@alpha.test', 'mgr@alpha.test', 'norole@alpha.test')
ORDER BY email;
SELECT crm_contact_id, email, value, reason FROM introw.crm_sync_rejects
WHERE run_id = (SELECT max(run_id) FROM introw.crm_sync_runs) ORDER BY crm_contact_id;
SELECT status, pages, fetched, applied, unchanged, rejected, finished_at IS NOT NULL AS finished
FROM introw.crm_sync_runs WHERE run_id = (SELECT max(run_id) FROM introw.crm_sync_runs);

-- re-applying is harmless; a stored CRM id now matches even with another email
SELECT * FROM introw.crm_apply_contacts(fx('acme'), $${"results": [
 {"id": "101", "properties": {"email": "renamed@elsewhere.test", "partner_role": "SOLUTIONS ENGINEER"}},
 {"id": "102", "properties": {"email": "se@alpha.test", "partner_role": null}}]}$$);
SELECT * FROM roles_of WHERE crm_contact_id IN ('101', '102') ORDER BY crm_contact_id;
-- the same CRM id twice in a page: the last one wins
SELECT * FROM introw.crm_apply_contacts(fx('acme'), $${"results": [
 {"id": "101", "properties": {"partner_role": "Partner Manager"}},
 {"id": "101", "properties": {"partner_role": "Sales Rep"}}]}$$);
SELECT * FROM roles_of WHERE crm_contact_id = '101';
-- an email already linked to another CRM id, two CRM contacts for one contact
SELECT * FROM introw.crm_apply_contacts(fx('acme'), $${"results": [
 {"id": "201", "properties": {"email": "rep@alpha.test", "partner_role": "Sales Rep"}},
 {"id": "301", "properties": {"email": "mgr@alpha.test", "partner_role": "Sales Rep"}},
 {"id": "302", "properties": {"email": "MGR@alpha.test", "partner_role": "Solutions Engineer"}}]}$$);
SELECT crm_contact_id, reason FROM introw.crm_sync_rejects
WHERE run_id = (SELECT max(run_id) FROM introw.crm_sync_runs) ORDER BY crm_contact_id;
SELECT * FROM roles_of WHERE email = 'mgr@alpha.test';
-- without a default role an empty value leaves the contact role-less
UPDATE introw.partner_roles SET is_default = false WHERE tenant_id = fx('acme');
SELECT * FROM introw.crm_apply_contacts(fx('acme'), $${"results": [{"id": "102", "properties": {"partner_role": " "}}]}$$);
SELECT * FROM roles_of WHERE crm_contact_id = '102';
SELECT introw.set_default_role(fx('sales_rep'));
-- an empty page, a page with no paging
SELECT * FROM introw.crm_apply_contacts(fx('acme'), '{"total": 0, "results": []}');

-- malformed pages are refused and change nothing
SELECT count(*) AS runs_before FROM introw.crm_sync_runs \gset
SELECT * FROM introw.crm_apply_contacts(fx('acme'), '[]');
SELECT * FROM introw.crm_apply_contacts(fx('acme'), '{"results": {}}');
SELECT * FROM introw.crm_apply_contacts(fx('acme'), '{"results": [1]}');
SELECT * FROM introw.crm_apply_contacts(fx('acme'), '{"results": [{"properties": {}}]}');
SELECT * FROM introw.crm_apply_contacts(fx('acme'), '{"results": [{"id": "1", "properties": []}]}');
SELECT * FROM introw.crm_apply_contacts(fx('acme'), NULL);
SELECT * FROM introw.crm_apply_contacts(-1, '{"results": []}');
SELECT count(*) = :runs_before AS nothing_written FROM introw.crm_sync_runs;
-- hostile and huge values are data, never code
SELECT * FROM introw.crm_apply_contacts(fx('acme'), jsonb_build_object('results', jsonb_build_array(
    jsonb_build_object('id', '''; DROP TABLE introw.tabs; --', 'properties',
                       jsonb_build_object('email', 'x@y.z', 'partner_role', repeat('R', 100000))))));
SELECT length(crm_contact_id) AS id_len, length(value) AS value_len, reason FROM introw.crm_sync_rejects
WHERE run_id = (SELECT max(run_id) FROM introw.crm_sync_runs);
SELECT count(*) > 0 AS tabs_still_there FROM introw.tabs;
-- a page of 2,000 results in one call
SELECT fetched, applied, unchanged, rejected FROM introw.crm_apply_contacts(fx('acme'),
    jsonb_build_object('results', (SELECT jsonb_agg(jsonb_build_object('id', 'bulk' || g,
        'properties', jsonb_build_object('email', 'bulk' || g || '@nowhere.test', 'partner_role', 'Sales Rep')))
        FROM generate_series(1, 2000) g)));

-- who may apply pages: superusers, BYPASSRLS roles, the tenant's admin
SET ROLE regress_introw_app;
SELECT introw.crm_apply_contacts(fx('acme'), '{"results": []}');
SET ROLE regress_introw_nobody;
SELECT introw.crm_apply_contacts(fx('acme'), '{"results": []}');
SET ROLE regress_introw_app;
SELECT introw.set_user(fx('member'));
SELECT * FROM introw.crm_apply_contacts(fx('acme'), '{"results": []}');
SELECT introw.set_user(fx('globex_admin'));
SELECT * FROM introw.crm_apply_contacts(fx('acme'), '{"results": []}');
SELECT introw.set_user(fx('admin'));
SELECT fetched, applied, unchanged, rejected FROM introw.crm_apply_contacts(fx('acme'),
    $${"results": [{"id": "101", "properties": {"partner_role": "Solutions Engineer"}}]}$$);
SELECT introw.reset_principal();
RESET ROLE;
