-- The principal: set_contact, set_user, reset_principal, the getters,
-- is_local, transactions, bad ids, and who may call what.
SET ROLE regress_introw_app;

-- no principal: nothing set, every table reads empty, writes refused
SELECT introw.current_tenant_id(), introw.current_contact_id(), introw.current_user_id(),
       introw.current_principal_kind();
SELECT count(*) FROM introw.tenants;
SELECT count(*) FROM introw.partner_contacts;
INSERT INTO introw.tiers (tenant_id, name) VALUES (fx('acme'), 'Platinum');

-- a contact
SELECT introw.set_contact(fx('rep'));
SELECT introw.current_tenant_id() = fx('acme') AS tenant_ok,
       introw.current_contact_id() = fx('rep') AS contact_ok,
       introw.current_user_id() IS NULL AS no_user,
       introw.current_principal_kind();
-- an internal user
SELECT introw.set_user(fx('admin'));
SELECT introw.current_tenant_id() = fx('acme') AS tenant_ok,
       introw.current_contact_id() IS NULL AS no_contact,
       introw.current_user_id() = fx('admin') AS user_ok,
       introw.current_principal_kind();
SELECT introw.set_user(fx('crm'));
SELECT introw.current_principal_kind();
SELECT introw.reset_principal();
SELECT introw.current_tenant_id(), introw.current_principal_kind();

-- unknown, NULL and inactive ids are errors that leave no principal
SELECT introw.set_contact(fx('rep'));
SELECT introw.set_contact(-1);
SELECT introw.current_tenant_id(), introw.current_principal_kind();
SELECT introw.set_contact(fx('rep'));
SELECT introw.set_contact(NULL);
SELECT introw.current_principal_kind();
SELECT introw.set_contact(fx('rep'));
SELECT introw.set_contact(fx('rep'), NULL);
SELECT introw.current_principal_kind();
SELECT introw.set_user(fx('admin'));
SELECT introw.set_user(fx('off'));
SELECT introw.current_principal_kind();
SELECT introw.set_user(fx('admin'));
SELECT introw.set_user(fx('rep') + 1000000);
SELECT introw.current_principal_kind();
-- a contact id is not a user id
SELECT introw.set_user(fx('gamma_rep') + 1000);
-- also inside a transaction block: the error aborts it, and no principal survives
SELECT introw.set_contact(fx('rep'));
BEGIN;
SELECT introw.set_user(fx('admin'));
SELECT introw.set_contact(-42);
ROLLBACK;
SELECT introw.current_principal_kind();

-- is_local lasts until the end of the transaction, commit or abort
SELECT introw.set_contact(fx('rep'));
BEGIN;
SELECT introw.set_user(fx('admin'), true);
SELECT introw.current_principal_kind();
COMMIT;
SELECT introw.current_principal_kind(), introw.current_contact_id() = fx('rep') AS back_to_rep;
BEGIN;
SELECT introw.set_user(fx('admin'), is_local => true);
SELECT introw.current_principal_kind();
ROLLBACK;
SELECT introw.current_principal_kind();
-- a pooler in transaction mode: set locally, the next transaction has none
SELECT introw.reset_principal();
BEGIN;
SELECT introw.set_contact(fx('se'), true);
SELECT count(*) AS se_tabs FROM introw.tabs;
COMMIT;
SELECT introw.current_principal_kind(), count(*) AS tabs_after FROM introw.tabs;

-- a session-level set inside an aborted transaction is undone, as SET is
SELECT introw.set_contact(fx('rep'));
BEGIN;
SELECT introw.set_user(fx('member'));
ROLLBACK;
SELECT introw.current_principal_kind();
BEGIN;
SELECT introw.set_user(fx('member'));
COMMIT;
SELECT introw.current_principal_kind();

-- subtransactions: ROLLBACK TO undoes, RELEASE keeps
SELECT introw.set_contact(fx('rep'));
BEGIN;
SAVEPOINT a;
SELECT introw.set_user(fx('admin'));
ROLLBACK TO SAVEPOINT a;
SELECT introw.current_principal_kind();
SAVEPOINT b;
SELECT introw.set_user(fx('pm'));
SAVEPOINT c;
SELECT introw.set_user(fx('crm'));
RELEASE SAVEPOINT c;
SELECT introw.current_principal_kind();
ROLLBACK TO SAVEPOINT b;
SELECT introw.current_principal_kind();
SAVEPOINT d;
SELECT introw.set_user(fx('member'));
RELEASE SAVEPOINT d;
COMMIT;
SELECT introw.current_principal_kind();

-- DISCARD ALL and RESET ALL (a pooler's reset query) clear the principal
-- (set and read as the same role, so that only the reset explains 'none')
SET ROLE regress_introw_app;
SELECT introw.set_contact(fx('rep'));
SELECT introw.current_principal_kind();
DISCARD ALL;
SET ROLE regress_introw_app;
SELECT introw.current_principal_kind(), count(*) AS tabs FROM introw.tabs;
SELECT introw.set_contact(fx('rep'));
RESET ALL;
SET ROLE regress_introw_app;
SELECT introw.current_principal_kind(), count(*) AS tabs FROM introw.tabs;
-- RESET ALL inside a transaction that rolls back is undone, like the settings it resets
SELECT introw.set_contact(fx('rep'));
BEGIN;
RESET ALL;
SET LOCAL ROLE regress_introw_app;
SELECT introw.current_principal_kind();
ROLLBACK;
SET ROLE regress_introw_app;
SELECT introw.current_principal_kind();

-- the principal is bound to the database role that set it
SELECT introw.set_contact(fx('rep'));
SET ROLE regress_introw_nobody;
SELECT introw.current_principal_kind(), count(*) AS nobody_sees FROM introw.tabs;
RESET ROLE;
SET ROLE regress_introw_app;
SELECT introw.current_principal_kind(), count(*) AS app_sees_again FROM introw.tabs;
SELECT introw.reset_principal();

-- a principal whose row goes away, or who is deactivated, reads as none
RESET ROLE;
SELECT introw.set_user(fx('pm2'));
SELECT introw.current_principal_kind();
UPDATE introw.internal_users SET active = false WHERE user_id = fx('pm2');
SELECT introw.current_principal_kind(), introw.current_tenant_id();
UPDATE introw.internal_users SET active = true WHERE user_id = fx('pm2');
SELECT introw.current_principal_kind();
UPDATE introw.internal_users SET user_role = 'member' WHERE user_id = fx('pm2');
SELECT introw.current_principal_kind();
UPDATE introw.internal_users SET user_role = 'partner_manager' WHERE user_id = fx('pm2');
SELECT introw.reset_principal();

-- Setting a principal whose cache entry (built by current_principal_kind
-- here) still holds needs no lookup: a committed delete or deactivation
-- stamps the tenant.  A committed change to the principal is honoured by
-- the next set_contact or set_user.
SELECT introw.set_user(fx('pm2'));
SELECT introw.current_principal_kind();
SELECT introw.set_contact(fx('rep'));
SELECT introw.current_principal_kind();
UPDATE introw.internal_users SET active = false WHERE user_id = fx('pm2');
SELECT introw.set_user(fx('pm2'));
SELECT introw.current_principal_kind();
UPDATE introw.internal_users SET active = true WHERE user_id = fx('pm2');
SELECT introw.set_user(fx('pm2'));
SELECT introw.current_principal_kind();
INSERT INTO introw.partner_contacts (tenant_id, org_id, email, full_name)
VALUES (fx('acme'), fx('alpha'), 'passing@alpha.test', 'Passing Through') RETURNING contact_id AS passing \gset
SELECT introw.set_contact(:passing);
SELECT introw.current_principal_kind();
SELECT introw.set_contact(fx('rep'));
DELETE FROM introw.partner_contacts WHERE contact_id = :passing;
SELECT introw.set_contact(:passing);
SELECT introw.current_principal_kind();
SELECT introw.reset_principal();
-- A contact whose insert is rolled back was never there, though a new
-- contact stamps nothing: what a transaction that has written builds holds
-- only in that transaction, and not past a savepoint rolled back.
BEGIN;
INSERT INTO introw.partner_contacts (tenant_id, org_id, email, full_name)
VALUES (fx('acme'), fx('alpha'), 'phantom@alpha.test', 'Phantom') RETURNING contact_id AS phantom \gset
SELECT introw.set_contact(:phantom);
SELECT introw.current_principal_kind();
ROLLBACK;
SELECT introw.set_contact(:phantom);
SELECT introw.current_principal_kind();
BEGIN;
SAVEPOINT before_insert;
INSERT INTO introw.partner_contacts (tenant_id, org_id, email, full_name)
VALUES (fx('acme'), fx('alpha'), 'phantom2@alpha.test', 'Phantom') RETURNING contact_id AS phantom2 \gset
SELECT introw.set_contact(:phantom2);
SELECT introw.current_principal_kind();
ROLLBACK TO SAVEPOINT before_insert;
SELECT introw.set_contact(:phantom2);
ROLLBACK;
-- nor through trusted claims, which name the contact without a lookup
SET introw.trust_jwt_claims = on;
SELECT set_config('request.jwt.claims',
                  format('{"introw_tenant_id": %s, "introw_contact_id": %s}', fx('acme'), :phantom), false) IS NOT NULL AS claims_set;
SELECT introw.current_principal_kind();
RESET request.jwt.claims;
RESET introw.trust_jwt_claims;

-- the principal cannot be forged with SET or set_config
SET ROLE regress_introw_app;
SET introw.contact_id = '1';
SELECT set_config('introw.tenant_id', '1', false);
SET introw_contact_id = '1';
SELECT introw.current_principal_kind(), count(*) AS contacts FROM introw.partner_contacts;
-- the size of the per-backend cache is a superuser's setting
SET introw.principal_cache_size = 5;
SELECT set_config('introw.principal_cache_size', '5', false);
RESET ROLE;
SET introw.principal_cache_size = 0;
SET introw.principal_cache_size = 5;
SHOW introw.principal_cache_size;
RESET introw.principal_cache_size;
SHOW introw.principal_cache_size;
-- each cached principal has a memory context of its own; a lowered size
-- holds from the next switch, to a principal cached or not
CREATE FUNCTION pg_temp.see_as(kind text, keys text[]) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE k text; n bigint;
BEGIN
    FOREACH k IN ARRAY keys LOOP
        IF kind = 'contact' THEN PERFORM introw.set_contact(fx(k)); ELSE PERFORM introw.set_user(fx(k)); END IF;
        SELECT count(*) INTO n FROM introw.tabs;
    END LOOP;
    RETURN n;
END $$;
CREATE TEMP VIEW principal_contexts AS
SELECT count(*) AS cached FROM pg_backend_memory_contexts WHERE name = 'introw principal';
SET introw.principal_cache_size = 1;
SET ROLE regress_introw_app;
SELECT pg_temp.see_as('contact', '{rep}') > 0 AS sees;
RESET ROLE;
SELECT cached FROM principal_contexts;
RESET introw.principal_cache_size;
SET ROLE regress_introw_app;
SELECT pg_temp.see_as('contact', '{rep,se,mgr}') > 0 AS sees, pg_temp.see_as('user', '{admin,crm}') > 0 AS sees;
RESET ROLE;
SELECT cached FROM principal_contexts;
SET introw.principal_cache_size = 2;
SET ROLE regress_introw_app;
SELECT pg_temp.see_as('contact', '{rep}') > 0 AS sees;
RESET ROLE;
SELECT cached FROM principal_contexts;
SET ROLE regress_introw_app;
SELECT pg_temp.see_as('contact', '{se,mgr,rep}') > 0 AS sees;
RESET ROLE;
SELECT cached FROM principal_contexts;
RESET introw.principal_cache_size;
SET ROLE regress_introw_app;

-- a role without EXECUTE cannot become anyone
SET ROLE regress_introw_nobody;
SELECT introw.set_contact(fx('rep'));
SELECT introw.set_user(fx('admin'));
SELECT introw.reset_principal();
SELECT introw.contact_visible_tab_ids(fx('rep'));
SELECT count(*) FROM introw.tabs;
RESET ROLE;
SELECT has_function_privilege('public', 'introw.set_contact(bigint, boolean)', 'EXECUTE') AS public_set_contact,
       has_function_privilege('public', 'introw.set_user(bigint, boolean)', 'EXECUTE') AS public_set_user;
