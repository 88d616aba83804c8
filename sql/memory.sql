-- Memory: a long-lived pooled backend that switches principals, reads
-- through row-level security, checks objects, authenticates good and bad
-- tokens, takes principals from JWT claims and fails on hostile input, one
-- transaction after another, keeps its memory contexts where they were.
-- The growth of the bytes in use in every memory context is measured across
-- many transactions (a leak into a long-lived context would show;
-- transaction memory is freed at each commit).  Memory outside PostgreSQL's
-- contexts (OpenSSL's, libcurl's) is the sanitizer run's (test/sanitize).
SELECT introw.create_token_key() AS memory_key \gset
CREATE TEMP TABLE memory_tokens AS
SELECT introw.issue_token('contact', fx('rep')) AS rep, introw.issue_token('user', fx('admin')) AS admin;
GRANT SELECT ON memory_tokens TO regress_introw_app;
SET introw.trust_jwt_claims = on;

-- one unit of work; errors are expected and caught
CREATE FUNCTION pg_temp.memory_unit(i int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t memory_tokens;
    n bigint;
    b boolean;
BEGIN
    SELECT * INTO t FROM memory_tokens;
    PERFORM introw.set_contact(fx(CASE i % 4 WHEN 0 THEN 'rep' WHEN 1 THEN 'se' WHEN 2 THEN 'mgr' ELSE 'restricted' END));
    SELECT count(*) INTO n FROM introw.tabs;
    SELECT count(*) INTO n FROM introw.content_items;
    SELECT count(*) INTO n FROM introw.deals;
    b := introw.can_see_object(fx('a2'));
    b := introw.can_see_tab(i);
    PERFORM introw.set_user(fx(CASE i % 2 WHEN 0 THEN 'admin' ELSE 'crm' END));
    SELECT count(*) INTO n FROM introw.crm_objects;
    PERFORM introw.authenticate(t.rep);
    SELECT count(*) INTO n FROM introw.partner_contacts;
    PERFORM introw.authenticate(t.admin, true);
    PERFORM introw.reset_principal();
    PERFORM set_config('request.jwt.claims',
        format('{"introw_tenant_id": %s, "introw_contact_id": "%s"}', fx('acme'), fx('rep')), true);
    SELECT count(*) INTO n FROM introw.tabs;
    PERFORM set_config('request.jwt.claims', '', true);
    BEGIN
        PERFORM introw.authenticate(t.rep || 'x');
    EXCEPTION WHEN invalid_authorization_specification THEN NULL;
    END;
    BEGIN
        PERFORM introw.authenticate(repeat('v1.', 200));
    EXCEPTION WHEN invalid_authorization_specification THEN NULL;
    END;
    BEGIN
        PERFORM introw.set_contact(-i);
    EXCEPTION WHEN OTHERS THEN NULL;
    END;
    BEGIN
        PERFORM set_config('request.jwt.claims', '{"introw_tenant_id": "x' || i || '"}', true);
        SELECT count(*) INTO n FROM introw.tabs;
    EXCEPTION WHEN OTHERS THEN NULL;
    END;
    PERFORM introw.reset_principal();
END $$;

-- units of work, each in a transaction of its own
CREATE PROCEDURE pg_temp.memory_work(units int) LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..units LOOP
        PERFORM pg_temp.memory_unit(i);
        COMMIT;
    END LOOP;
END $$;
CREATE TEMP TABLE memory_samples (label text, bytes bigint);
CREATE FUNCTION pg_temp.sample(label text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO memory_samples SELECT label, sum(used_bytes) FROM pg_backend_memory_contexts $$;

-- warm up (caches of plans, principals and catalogs fill), then 1,000 units
SET ROLE regress_introw_app;
CALL pg_temp.memory_work(100);
RESET ROLE;
SELECT pg_temp.sample('after 100');
SET ROLE regress_introw_app;
CALL pg_temp.memory_work(1000);
RESET ROLE;
SELECT pg_temp.sample('after 1,100');
SET ROLE regress_introw_app;
CALL pg_temp.memory_work(1000);
RESET ROLE;
SELECT pg_temp.sample('after 2,100');
-- neither the 2,000 units (40,000 calls) nor their last 1,000 may grow the
-- bytes in use by 16 kB: a leak of one 16-byte chunk per unit (32 kB and
-- more with chunk headers) would
SELECT bool_and(last.bytes - s.bytes < 16384) AS memory_flat,
       CASE WHEN bool_and(last.bytes - s.bytes < 16384) THEN NULL
            ELSE string_agg(s.label || ': ' || s.bytes, ', ') || ', after 2,100: ' || min(last.bytes) END AS samples
FROM memory_samples s, memory_samples last
WHERE last.label = 'after 2,100' AND s.label <> 'after 2,100';

RESET introw.trust_jwt_claims;
DELETE FROM introw.token_keys WHERE key_id = :memory_key;
