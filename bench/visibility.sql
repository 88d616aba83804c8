-- bench/visibility.sql -- timing loops for bench/visibility.sh.  Each loop
-- runs one query n times as static SQL (a cached plan, as an application's
-- prepared statement would) and returns microseconds per query.
-- *_rls run as the application role with a principal set: row-level
-- security answers.  They name tables without a schema and run twice: with
-- search_path = introw (this extension) and with search_path = plain (the
-- same tables under plain-SQL policies, bench/plain.sql).  *_hand run as a
-- superuser with the visible ids precomputed: the best hand-written query.
CREATE SCHEMA bench;
GRANT USAGE ON SCHEMA bench TO bench_app;

CREATE FUNCTION bench.us(t0 timestamptz, n int) RETURNS float8 LANGUAGE sql AS
$$ SELECT extract(epoch FROM clock_timestamp() - t0) * 1e6 / n $$;

-- bench.define(name, stmt): a timing loop bench.<name>(n) that runs stmt
-- n times (i is the loop counter; x, b, c, s, visible are there to select
-- into) as static SQL, and returns microseconds per run.  The hand-written
-- loops are defined with their visible ids written in as constants, as a
-- query that knows them would be.  A row-level security loop (<name>_rls)
-- gets a twin, <name>_rls_in_plain, that the plain-SQL policies run: a
-- function keeps one cached plan per statement, made again whenever
-- search_path changes, so one loop shared by both sides would be planned
-- again at the start of every round, as an application's prepared
-- statement is not.
CREATE FUNCTION bench.define(name text, stmt text) RETURNS void LANGUAGE plpgsql AS $define$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY CASE WHEN name LIKE '%\_rls' THEN ARRAY[name, name || '_in_plain'] ELSE ARRAY[name] END LOOP
        EXECUTE format($f$
            CREATE OR REPLACE FUNCTION bench.%I(n int) RETURNS float8 LANGUAGE plpgsql AS $body$
            DECLARE t0 timestamptz := clock_timestamp(); x text; b boolean; c bigint; s numeric; visible bigint[];
            BEGIN
                FOR i IN 1..n LOOP
                    %s;
                END LOOP;
                RETURN bench.us(t0, n);
            END $body$
        $f$, f, stmt);
        EXECUTE format('GRANT EXECUTE ON FUNCTION bench.%I(int) TO bench_app', f);
    END LOOP;
END $define$;

-- The row-level security loops name tables without a schema (see above).
SELECT bench.define('items_rls', $$SELECT md5(string_agg(item_id::text, ',')) INTO x FROM (
    SELECT item_id FROM content_items ORDER BY created_at DESC LIMIT 50) q$$);
SELECT bench.define('tabs_rls', $$SELECT md5(string_agg(tab_id::text, ',' ORDER BY tab_id)) INTO x FROM tabs$$);
SELECT bench.define('deals_rls', $$SELECT md5(string_agg(object_id::text, ',')) INTO x FROM (
    SELECT object_id FROM deals ORDER BY created_at DESC LIMIT 50) q$$);
SELECT bench.define('pipeline_rls', $$SELECT count(*), sum(amount) INTO c, s FROM deals$$);
SELECT bench.define('can_see_rls', $$b := introw.can_see_object(1 + (i * 7919) % 500000)$$);
SELECT bench.define('can_see_plain', $$b := EXISTS (SELECT 1 FROM plain.crm_objects o
    WHERE o.object_id = 1 + (i * 7919) % 500000)$$);
-- a principal switch, then the contact's tabs (1,000 contacts in turn)
SELECT bench.define('switch_rls', $$PERFORM introw.set_contact(3 + 20 * (i % 1000), true);
    SELECT md5(string_agg(tab_id::text, ',' ORDER BY tab_id)) INTO x FROM introw.tabs$$);
SELECT bench.define('switch_plain', $$PERFORM set_config('plain.contact_id', (3 + 20 * (i % 1000))::text, true);
    SELECT md5(string_agg(tab_id::text, ',' ORDER BY tab_id)) INTO x FROM plain.tabs$$);
SELECT bench.define('switch_hand', $$SELECT array_agg(t.tab_id) INTO visible FROM introw.tabs t
    JOIN introw.rooms r ON r.tenant_id = t.tenant_id AND r.room_id = t.room_id
    JOIN introw.partner_contacts c ON c.contact_id = 3 + 20 * (i % 1000)
    WHERE t.tenant_id = 1 AND (r.org_id IS NULL OR r.org_id = c.org_id)
      AND (NOT EXISTS (SELECT 1 FROM introw.tab_roles x WHERE x.tenant_id = 1 AND x.tab_id = t.tab_id)
           OR EXISTS (SELECT 1 FROM introw.tab_roles x WHERE x.tenant_id = 1 AND x.tab_id = t.tab_id
                      AND x.role_id = c.role_id));
    SELECT md5(string_agg(tab_id::text, ',' ORDER BY tab_id)) INTO x FROM introw.tabs
    WHERE tenant_id = 1 AND tab_id = ANY (visible)$$);


-- One benchmark row: rounds of the RLS loop (as bench_app, the principal
-- already set, search_path introw) and the hand-written loop (as the
-- superuser) back to back, each first in every other round, after one
-- untimed run of each; then the plain-SQL policies' loop (as bench_app,
-- search_path plain, after plain_setup).  Medians in microseconds per
-- query, and whether all return the same rows.  plain_loop NULL: the twin
-- of rls_loop (bench.define).
CREATE TABLE bench.results (case_name text, rls_us float8, hand_us float8, plain_us float8,
                            ratio float8, same_rows boolean);
CREATE FUNCTION bench.measure(case_name text, rls_loop text, hand_loop text,
                              rls_rows text, hand_rows text, rounds int,
                              plain_setup text, plain_loop text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    a float8[] := '{}';
    b float8[] := '{}';
    c float8[] := '{}';
    t float8;
    x text;
    y text;
    z text;
BEGIN
    FOR r IN 0..rounds LOOP
        FOR side IN 0..1 LOOP
            IF (side + r) % 2 = 0 THEN
                EXECUTE 'SET ROLE bench_app';
                PERFORM set_config('search_path', 'introw', false);
                EXECUTE 'SELECT ' || rls_loop INTO t;
                EXECUTE 'RESET ROLE';
                a := a || t;
            ELSE
                PERFORM set_config('search_path', 'public', false);
                EXECUTE 'SELECT ' || hand_loop INTO t;
                b := b || t;
            END IF;
        END LOOP;
        IF r = 0 THEN       -- the untimed run
            a := '{}';
            b := '{}';
        ELSE
            EXECUTE 'SET ROLE bench_app';
            PERFORM set_config('search_path', 'plain', false);
            EXECUTE plain_setup;
            EXECUTE 'SELECT ' || coalesce(plain_loop, replace(rls_loop, '_rls(', '_rls_in_plain(')) INTO t;
            c := c || t;
            EXECUTE 'RESET ROLE';
        END IF;
    END LOOP;
    EXECUTE 'SET ROLE bench_app';
    PERFORM set_config('search_path', 'introw', false);
    EXECUTE rls_rows INTO x;
    PERFORM set_config('search_path', 'plain', false);
    EXECUTE plain_setup;
    EXECUTE rls_rows INTO z;
    EXECUTE 'RESET ROLE';
    PERFORM set_config('search_path', 'public', false);
    EXECUTE hand_rows INTO y;
    INSERT INTO bench.results
    SELECT case_name, ra, hb, pc, ra / hb, x IS NOT DISTINCT FROM y AND (plain_loop IS NOT NULL OR z IS NOT DISTINCT FROM y)
    FROM (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) FROM unnest(a) v) p(ra),
         (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) FROM unnest(b) v) q(hb),
         (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) FROM unnest(c) v) w(pc);
END $$;

-- Bulk insert of n contacts into organisation 1, with the default-role
-- trigger (role_id NULL, the trigger assigns the default) or without it
-- (the trigger disabled, the same role given explicitly); milliseconds.
-- Rolled back: every round starts from the same table.
CREATE FUNCTION bench.bulk_insert(n int, with_trigger boolean) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; ms float8;
BEGIN
    BEGIN
        IF NOT with_trigger THEN
            ALTER TABLE introw.partner_contacts DISABLE TRIGGER partner_contacts_role;
        END IF;
        t0 := clock_timestamp();
        INSERT INTO introw.partner_contacts (tenant_id, org_id, email, role_id, role_source)
        SELECT 1, 1, 'bulk' || i || '@big.test',
               CASE WHEN with_trigger THEN NULL ELSE 1 END, CASE WHEN with_trigger THEN NULL ELSE 'default' END
        FROM generate_series(1, n) i;
        ms := extract(epoch FROM clock_timestamp() - t0) * 1e3;
        RAISE EXCEPTION 'roll back' USING ERRCODE = 'P0001';
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
    RETURN ms;
END $$;
