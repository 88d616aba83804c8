-- Signed tokens (introw.authenticate) and trusted JWT claims
-- (introw.trust_jwt_claims), against the shared fixture.
-- Tokens carry an expiry, so they are never printed; only outcomes are.
CREATE ROLE regress_introw_tokens;
SELECT introw.grant_application('regress_introw_tokens', tokens_only => true);
SELECT fx('rep') AS rep, fx('beta_rep') AS rep_beta, fx('admin') AS admin,
       fx('acme') AS acme, fx('globex') AS globex \gset

-- no key yet
SELECT introw.issue_token('contact', :rep);
SELECT introw.create_token_key() AS first_key \gset
SELECT octet_length(secret) AS secret_bytes, active FROM introw.token_keys;
SELECT introw.issue_token('contact', :rep) AS rep_token \gset
SELECT introw.issue_token('user', :admin, '10 minutes') AS admin_token \gset
SELECT :'rep_token' ~ '^v1\.[0-9]+\.[0-9]+\.contact\.[0-9]+\.[0-9]+\.[A-Za-z0-9_-]{43}$' AS token_shape;

-- bad requests for a token
SELECT introw.issue_token('robot', 1);
SELECT introw.issue_token('contact', -1);
SELECT introw.issue_token('user', fx('pm2'), '0 seconds');
SELECT introw.issue_token('user', fx('pm2'), '1 month');
SELECT introw.issue_token('user', fx('pm2'), '400 days');
SELECT introw.issue_token('contact', NULL);

-- a role granted tokens_only becomes whom the token names, and no one else
SET ROLE regress_introw_tokens;
SELECT introw.current_principal_kind();
SELECT introw.authenticate(:'rep_token');
SELECT introw.current_principal_kind(), introw.current_contact_id() = :rep AS is_rep,
       (SELECT count(*) FROM introw.tabs) AS tabs;
SELECT introw.authenticate(:'admin_token');
SELECT introw.current_principal_kind(), introw.current_user_id() = :admin AS is_admin;
SELECT introw.set_contact(:rep);
SELECT introw.set_user(:admin);
SELECT introw.issue_token('user', :admin);
SELECT introw.create_token_key();
SELECT * FROM introw.token_keys;
SELECT access_token FROM introw.crm_connections;

-- tampered, malformed and hostile tokens: an error, and no principal after it
CREATE FUNCTION pg_temp.try(token text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM introw.authenticate(token);
    RETURN 'accepted as ' || introw.current_principal_kind();
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM || ' / now: ' || introw.current_principal_kind();
END $$;
SELECT introw.authenticate(:'rep_token');
SELECT pg_temp.try(regexp_replace(:'rep_token', '\.contact\.[0-9]+\.', '.contact.' || :rep_beta || '.'))
    AS other_contact;
SELECT introw.authenticate(:'rep_token');
SELECT pg_temp.try(regexp_replace(:'rep_token', '\.contact\.', '.user.')) AS other_kind;
SELECT pg_temp.try(regexp_replace(:'rep_token', '\.[0-9]+(\.[A-Za-z0-9_-]+)$', '.9999999999\1')) AS later_expiry;
SELECT pg_temp.try(regexp_replace(:'rep_token', '^v1\.[0-9]+\.[0-9]+\.', 'v1.' || :first_key || '.' || :globex || '.'))
    AS other_tenant;
SELECT pg_temp.try(left(:'rep_token', -1) || CASE WHEN right(:'rep_token', 1) = 'A' THEN 'B' ELSE 'A' END)
    AS flipped_signature;
SELECT pg_temp.try(left(:'rep_token', -1)) AS short_signature;
SELECT pg_temp.try(:'rep_token' || 'A') AS long_signature;
SELECT pg_temp.try(:'rep_token' || '.x') AS extra_field;
SELECT pg_temp.try(regexp_replace(:'rep_token', '\.[A-Za-z0-9_-]+$', '')) AS no_signature;
SELECT pg_temp.try(regexp_replace(:'rep_token', '^v1', 'v2')) AS other_version;
SELECT pg_temp.try(regexp_replace(:'rep_token', '^v1\.[0-9]+', 'v1.999')) AS unknown_key;
SELECT pg_temp.try(regexp_replace(:'rep_token', '^v1\.[0-9]+', 'v1.99999999999')) AS big_key;
SELECT pg_temp.try(regexp_replace(:'rep_token', '^v1\.[0-9]+', 'v1.99999999999999999999')) AS overflowing_key;
SELECT pg_temp.try(regexp_replace(:'rep_token', '\.contact\.[0-9]+', '.contact.-1')) AS negative_id;
SELECT pg_temp.try(regexp_replace(:'rep_token', '\.contact\.[0-9]+', '.contact. 1')) AS spaced_id;
SELECT pg_temp.try('') AS empty, pg_temp.try('.......') AS dots, pg_temp.try('v1') AS bare;
SELECT pg_temp.try(repeat('v1.', 100000)) AS huge;
SELECT pg_temp.try(E'v1.1.1.contact.1.1.\u00e9\u00e9') AS non_ascii;
SELECT pg_temp.try(NULL) AS null_token;
SELECT introw.authenticate(:'rep_token', NULL);
SELECT introw.current_principal_kind();

-- a retired key's tokens are refused; a new key signs new tokens
RESET ROLE;
UPDATE introw.token_keys SET active = false WHERE key_id = :first_key;
SELECT introw.issue_token('contact', :rep);
SELECT introw.create_token_key() > :first_key AS second_key;
SELECT introw.issue_token('contact', :rep) AS rep_token2 \gset
SELECT introw.issue_token('user', :admin) AS admin_token2 \gset
SET ROLE regress_introw_tokens;
SELECT pg_temp.try(:'rep_token') AS retired_key;
SELECT pg_temp.try(:'rep_token2') AS new_key;

-- an expired token, and the token of a principal that is gone
RESET ROLE;
SELECT introw.issue_token('contact', :rep, '1 second') AS short_token \gset
SELECT introw.issue_token('user', fx('pm2')) AS pm2_token \gset
SELECT pg_sleep(2.1);
UPDATE introw.internal_users SET active = false WHERE user_id = fx('pm2');
SET ROLE regress_introw_tokens;
SELECT pg_temp.try(:'short_token') AS expired;
SELECT pg_temp.try(:'pm2_token') AS deactivated;
RESET ROLE;
UPDATE introw.internal_users SET active = true WHERE user_id = fx('pm2');
SET ROLE regress_introw_tokens;
SELECT pg_temp.try(:'pm2_token') AS active_again;
-- is_local: the token's principal lasts until the end of the transaction
SELECT introw.reset_principal();
BEGIN;
SELECT introw.authenticate(:'rep_token2', true);
SELECT introw.current_principal_kind();
COMMIT;
SELECT introw.current_principal_kind();

-- ---------------------------------------------------------------------------
-- request.jwt.claims: ignored unless a superuser turned trust on
-- ---------------------------------------------------------------------------
SELECT introw.reset_principal();
SET introw.trust_jwt_claims = on;
SELECT set_config('introw.trust_jwt_claims', 'on', false);
SELECT format('{"role": "web", "introw_tenant_id": %s, "introw_contact_id": %s}', :acme, :rep) AS rep_claims \gset
SET request.jwt.claims = :'rep_claims';
SELECT introw.current_principal_kind(), (SELECT count(*) FROM introw.tabs) AS tabs;

RESET ROLE;
SET introw.trust_jwt_claims = on;
SET ROLE regress_introw_tokens;
SELECT introw.current_principal_kind(), introw.current_contact_id() = :rep AS is_rep,
       (SELECT count(*) FROM introw.tabs) AS tabs;
-- as PostgREST does it: claims local to the request's transaction
RESET request.jwt.claims;
SELECT introw.current_principal_kind();
BEGIN;
SELECT set_config('request.jwt.claims',
                  format('{"introw_tenant_id": "%s", "introw_user_id": "%s"}', :acme, :admin), true);
SELECT introw.current_principal_kind(), introw.current_user_id() = :admin AS is_admin;
COMMIT;
SELECT introw.current_principal_kind();
-- a principal set by a token takes precedence over the claims
SET request.jwt.claims = :'rep_claims';
SELECT introw.authenticate(:'admin_token2');
SELECT introw.current_principal_kind();
SELECT introw.reset_principal();
SELECT introw.current_principal_kind();
-- claims of another tenant's contact, or of no one: no principal
SELECT set_config('request.jwt.claims', format('{"introw_tenant_id": %s, "introw_contact_id": %s}', :globex, :rep), false);
SELECT introw.current_principal_kind(), (SELECT count(*) FROM introw.tabs) AS tabs;
SET request.jwt.claims = '{"role": "anon"}';
SELECT introw.current_principal_kind();
SET request.jwt.claims = '';
SELECT introw.current_principal_kind();
-- malformed claims are errors, never a principal
SET request.jwt.claims = 'not json';
SELECT introw.current_principal_kind();
SET request.jwt.claims = '[1, 2]';
SELECT introw.current_principal_kind();
SET request.jwt.claims = '{"introw_tenant_id": 1}';
SELECT introw.current_principal_kind();
SET request.jwt.claims = '{"introw_tenant_id": 1, "introw_contact_id": 2, "introw_user_id": 3}';
SELECT introw.current_principal_kind();
SET request.jwt.claims = '{"introw_tenant_id": 1.5, "introw_contact_id": 2}';
SELECT introw.current_principal_kind();
SET request.jwt.claims = '{"introw_tenant_id": -1, "introw_contact_id": 2}';
SELECT introw.current_principal_kind();
SET request.jwt.claims = '{"introw_tenant_id": "1; DROP TABLE x", "introw_contact_id": 2}';
SELECT introw.current_principal_kind();
SET request.jwt.claims = '{"introw_tenant_id": 99999999999999999999, "introw_contact_id": 2}';
SELECT introw.current_principal_kind();
-- the claims again, then trust turned off: the same claims are ignored
SET request.jwt.claims = :'rep_claims';
SELECT introw.current_principal_kind();
RESET ROLE;
RESET introw.trust_jwt_claims;
SET ROLE regress_introw_tokens;
SELECT introw.current_principal_kind(), (SELECT count(*) FROM introw.tabs) AS tabs;
RESET request.jwt.claims;

-- The claims setting is looked up by name without regard to case, found
-- when it first appears, and followed when new settings re-sort the table
-- of settings: a fresh session, trust on, no claims setting yet.
RESET ROLE;
\c
SET introw.trust_jwt_claims = on;
SET ROLE regress_introw_tokens;
SELECT introw.current_principal_kind();
SET request.method = 'GET';
SELECT introw.current_principal_kind(), (SELECT count(*) FROM introw.tabs) AS tabs;
-- first defined under another case, as a GUC name may be
SELECT set_config('Request.JWT.Claims', :'rep_claims', false) IS NOT NULL AS set;
SELECT introw.current_principal_kind(), introw.current_contact_id() = :rep AS is_rep,
       (SELECT count(*) FROM introw.tabs) AS tabs;
-- settings created before and after it in the table, then other claims
SET request.aaa = '1';
SET request.zzz = '1';
SET aaa.bbb = '1';
SELECT set_config('request.jwt.claims', format('{"introw_tenant_id": %s, "introw_user_id": %s}', :acme, :admin), false) IS NOT NULL AS set;
SELECT introw.current_principal_kind(), introw.current_user_id() = :admin AS is_admin;
-- claims local to a transaction: gone after it
BEGIN;
SELECT set_config('request.jwt.claims', :'rep_claims', true) IS NOT NULL AS set;
SELECT introw.current_principal_kind(), (SELECT count(*) FROM introw.tabs) AS tabs;
ROLLBACK;
SELECT introw.current_principal_kind();
RESET request.jwt.claims;
SELECT introw.current_principal_kind();

RESET ROLE;
DELETE FROM introw.token_keys;
DROP OWNED BY regress_introw_tokens;
DROP ROLE regress_introw_tokens;
