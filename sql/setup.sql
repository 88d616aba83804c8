-- Install the extension and load the shared fixture (test/fixture.sql).
CREATE EXTENSION introw_roles;
\set ECHO none
\set QUIET on
\i test/fixture.sql
\set QUIET off
\set ECHO all
SELECT count(*) AS tenants FROM introw.tenants;
SELECT name, preconfigured, is_default FROM introw.partner_roles
WHERE tenant_id = fx('acme') ORDER BY role_id;
