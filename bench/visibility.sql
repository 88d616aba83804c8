-- bench/visibility.sql -- timing loops for bench/visibility.sh.  Each loop
-- runs one query n times as static SQL (a cached plan, as an application's
-- prepared statement would) and returns microseconds per query.
-- *_rls run as the application role with a principal set: row-level
-- security answers.  *_hand run as a superuser with the visible ids
-- precomputed: the best hand-written query.
CREATE SCHEMA bench;
GRANT USAGE ON SCHEMA bench TO bench_app;

CREATE FUNCTION bench.us(t0 timestamptz, n int) RETURNS float8 LANGUAGE sql AS
$$ SELECT extract(epoch FROM clock_timestamp() - t0) * 1e6 / n $$;

-- a contact's newest 50 items
CREATE FUNCTION bench.items_rls(n int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp(); x text;
BEGIN
    FOR i IN 1..n LOOP
        SELECT md5(string_agg(item_id::text, ',')) INTO x FROM (
            SELECT item_id FROM introw.content_items ORDER BY created_at DESC LIMIT 50) s;
    END LOOP;
    RETURN bench.us(t0, n);
END $$;
CREATE FUNCTION bench.items_hand(n int, visible bigint[]) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp(); x text;
BEGIN
    FOR i IN 1..n LOOP
        SELECT md5(string_agg(item_id::text, ',')) INTO x FROM (
            SELECT item_id FROM introw.content_items WHERE tenant_id = 1 AND tab_id = ANY (visible)
            ORDER BY created_at DESC LIMIT 50) s;
    END LOOP;
    RETURN bench.us(t0, n);
END $$;

-- a contact's tabs
CREATE FUNCTION bench.tabs_rls(n int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp(); x text;
BEGIN
    FOR i IN 1..n LOOP
        SELECT md5(string_agg(tab_id::text, ',' ORDER BY tab_id)) INTO x FROM introw.tabs;
    END LOOP;
    RETURN bench.us(t0, n);
END $$;
CREATE FUNCTION bench.tabs_hand(n int, visible bigint[]) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp(); x text;
BEGIN
    FOR i IN 1..n LOOP
        SELECT md5(string_agg(tab_id::text, ',' ORDER BY tab_id)) INTO x FROM introw.tabs
        WHERE tenant_id = 1 AND tab_id = ANY (visible);
    END LOOP;
    RETURN bench.us(t0, n);
END $$;

-- newest 50 deals (the contact's organisation and collaborations)
CREATE FUNCTION bench.deals_rls(n int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp(); x text;
BEGIN
    FOR i IN 1..n LOOP
        SELECT md5(string_agg(object_id::text, ',')) INTO x FROM (
            SELECT object_id FROM introw.deals ORDER BY created_at DESC LIMIT 50) s;
    END LOOP;
    RETURN bench.us(t0, n);
END $$;
CREATE FUNCTION bench.deals_hand(n int, orgs bigint[], objs bigint[]) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp(); x text;
BEGIN
    FOR i IN 1..n LOOP
        SELECT md5(string_agg(object_id::text, ',')) INTO x FROM (
            SELECT object_id FROM introw.crm_objects
            WHERE tenant_id = 1 AND object_type = 'deal' AND (org_id = ANY (orgs) OR object_id = ANY (objs))
            ORDER BY created_at DESC LIMIT 50) s;
    END LOOP;
    RETURN bench.us(t0, n);
END $$;

-- pipeline: count and sum of the deals the principal sees
CREATE FUNCTION bench.pipeline_rls(n int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp(); c bigint; s numeric;
BEGIN
    FOR i IN 1..n LOOP
        SELECT count(*), sum(amount) INTO c, s FROM introw.deals;
    END LOOP;
    RETURN bench.us(t0, n);
END $$;
CREATE FUNCTION bench.pipeline_hand(n int, all_orgs boolean, orgs bigint[], objs bigint[]) RETURNS float8
LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp(); c bigint; s numeric;
BEGIN
    FOR i IN 1..n LOOP
        IF all_orgs THEN
            SELECT count(*), sum(amount) INTO c, s FROM introw.crm_objects
            WHERE tenant_id = 1 AND object_type = 'deal';
        ELSE
            SELECT count(*), sum(amount) INTO c, s FROM introw.crm_objects
            WHERE tenant_id = 1 AND object_type = 'deal' AND (org_id = ANY (orgs) OR object_id = ANY (objs));
        END IF;
    END LOOP;
    RETURN bench.us(t0, n);
END $$;

-- point checks
CREATE FUNCTION bench.can_see_rls(n int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp(); b boolean;
BEGIN
    FOR i IN 1..n LOOP
        b := introw.can_see_object(1 + (i * 7919) % 500000);
    END LOOP;
    RETURN bench.us(t0, n);
END $$;
CREATE FUNCTION bench.can_see_hand(n int, org bigint, objs bigint[]) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp(); b boolean;
BEGIN
    FOR i IN 1..n LOOP
        b := EXISTS (SELECT 1 FROM introw.crm_objects o WHERE o.object_id = 1 + (i * 7919) % 500000
                     AND o.tenant_id = 1 AND (o.org_id = org OR o.object_id = ANY (objs)));
    END LOOP;
    RETURN bench.us(t0, n);
END $$;

-- a principal switch, then the contact's tabs (cold cache every time)
CREATE FUNCTION bench.switch_rls(n int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp(); x text;
BEGIN
    FOR i IN 1..n LOOP
        PERFORM introw.set_contact(3 + 20 * (i % 1000), true);
        SELECT md5(string_agg(tab_id::text, ',' ORDER BY tab_id)) INTO x FROM introw.tabs;
    END LOOP;
    RETURN bench.us(t0, n);
END $$;
CREATE FUNCTION bench.switch_hand(n int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp(); x text; visible bigint[];
BEGIN
    FOR i IN 1..n LOOP
        SELECT array_agg(t.tab_id) INTO visible FROM introw.tabs t
        JOIN introw.rooms r ON r.tenant_id = t.tenant_id AND r.room_id = t.room_id
        JOIN introw.partner_contacts c ON c.contact_id = 3 + 20 * (i % 1000)
        WHERE t.tenant_id = 1 AND (r.org_id IS NULL OR r.org_id = c.org_id)
          AND (NOT EXISTS (SELECT 1 FROM introw.tab_roles x WHERE x.tenant_id = 1 AND x.tab_id = t.tab_id)
               OR EXISTS (SELECT 1 FROM introw.tab_roles x WHERE x.tenant_id = 1 AND x.tab_id = t.tab_id
                          AND x.role_id = c.role_id));
        SELECT md5(string_agg(tab_id::text, ',' ORDER BY tab_id)) INTO x FROM introw.tabs
        WHERE tenant_id = 1 AND tab_id = ANY (visible);
    END LOOP;
    RETURN bench.us(t0, n);
END $$;

GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA bench TO bench_app;

-- One benchmark row: alternate rounds of the RLS loop (as bench_app, with
-- the principal already set) and the hand-written loop (as the superuser),
-- medians in microseconds per query, and whether both return the same rows.
CREATE TABLE bench.results (case_name text, rls_us float8, hand_us float8, ratio float8, same_rows boolean);
CREATE FUNCTION bench.measure(case_name text, rls_loop text, hand_loop text,
                              rls_rows text, hand_rows text, rounds int) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    a float8[] := '{}';
    b float8[] := '{}';
    t float8;
    x text;
    y text;
BEGIN
    FOR r IN 1..rounds LOOP
        EXECUTE 'SET ROLE bench_app';
        EXECUTE 'SELECT ' || rls_loop INTO t;
        a := a || t;
        EXECUTE 'RESET ROLE';
        EXECUTE 'SELECT ' || hand_loop INTO t;
        b := b || t;
    END LOOP;
    EXECUTE 'SET ROLE bench_app';
    EXECUTE rls_rows INTO x;
    EXECUTE 'RESET ROLE';
    EXECUTE hand_rows INTO y;
    INSERT INTO bench.results
    SELECT case_name, ra, hb, ra / hb, x IS NOT DISTINCT FROM y
    FROM (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) FROM unnest(a) v) p(ra),
         (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) FROM unnest(b) v) q(hb);
END $$;
