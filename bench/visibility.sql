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
SELECT bench.define('lookup_rls', $$SELECT visible_tab_ids() INTO visible$$);
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


-- bench.as_app(path, setup, query): query's one value, run as bench_app
-- with that search_path (introw: this extension, the principal already
-- set; plain: the plain-SQL policies) after setup (NULL: none).
CREATE FUNCTION bench.as_app(path text, setup text, query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE v text;
BEGIN
    EXECUTE 'SET ROLE bench_app';
    PERFORM set_config('search_path', path, false);
    IF setup IS NOT NULL THEN
        EXECUTE setup;
    END IF;
    EXECUTE query INTO v;
    EXECUTE 'RESET ROLE';
    RETURN v;
END $$;

-- Running one loop, microseconds per query: the extension's, the
-- plain-SQL policies' (after its set-up), the hand-written one (as the
-- superuser).
CREATE FUNCTION bench.run_rls(fn text, n int) RETURNS float8 LANGUAGE sql AS
$$ SELECT bench.as_app('introw', NULL, format('SELECT %s(%s)', fn, n))::float8 $$;
CREATE FUNCTION bench.run_plain(setup text, fn text, n int) RETURNS float8 LANGUAGE sql AS
$$ SELECT bench.as_app('plain', setup, format('SELECT %s(%s)', fn, n))::float8 $$;
CREATE FUNCTION bench.run_hand(fn text, n int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t float8;
BEGIN
    PERFORM set_config('search_path', 'public', false);
    EXECUTE format('SELECT %s(%s)', fn, n) INTO t;
    RETURN t;
END $$;

CREATE FUNCTION bench.median(v float8[]) RETURNS float8 LANGUAGE sql IMMUTABLE AS
$$ SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(v) x $$;

-- One benchmark row.  The extension's loop (rls_fn) and the hand-written
-- one (hand_fn) are timed in pairs, back to back, each first in every
-- other pair; a loop of the slower side lasts about bench.target_ms (the
-- number of queries a loop, the same for both, is found from untimed loops
-- of each).  bench.rounds
-- rounds of bench.pairs pairs; each round starts with the plain-SQL
-- policies' loop (plain_fn, its twin of rls_fn when NULL), at most
-- bench.n queries and about bench.plain_ms (one query the first round),
-- then one untimed query of each of the two, whose data the plain loop may
-- have pushed out of the caches.  The row: the median times, the median of
-- the pairs' ratios, and whether all three return the same rows (rls_rows
-- and hand_rows, one query's md5 of its rows).
CREATE TABLE bench.results (case_name text, rls_us float8, hand_us float8, plain_us float8,
                            ratio float8, same_rows boolean, queries int);
CREATE FUNCTION bench.measure(case_name text, rls_fn text, hand_fn text,
                              rls_rows text, hand_rows text,
                              plain_setup text, plain_fn text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    rounds int := current_setting('bench.rounds')::int;
    pairs int := current_setting('bench.pairs')::int;
    target float8 := current_setting('bench.target_ms')::float8 * 1e3;
    plain_target float8 := current_setting('bench.plain_ms')::float8 * 1e3;
    plain_most int := current_setting('bench.n')::int;
    plain_loop text := coalesce(plain_fn, rls_fn || '_in_plain');
    m int;
    np int := 1;
    a float8[] := '{}';
    b float8[] := '{}';
    c float8[] := '{}';
    q float8[] := '{}';
    ta float8;
    tb float8;
    x text;
    y text;
    z text;
BEGIN
    -- untimed: one query of each (planning, a cold cache), then loops of
    -- 1, 2, 4, ... queries until one lasts a quarter of the target; the
    -- faster of that loop and one more of its size sizes the timed loops
    -- (a pause of the machine in one loop would make them too short)
    PERFORM bench.run_rls(rls_fn, 1), bench.run_hand(hand_fn, 1);
    m := 1;
    LOOP
        ta := greatest(bench.run_rls(rls_fn, m), bench.run_hand(hand_fn, m)) * m;
        EXIT WHEN ta >= target / 4;
        m := m * 2;
    END LOOP;
    ta := least(ta, greatest(bench.run_rls(rls_fn, m), bench.run_hand(hand_fn, m)) * m);
    m := ceil(greatest(target, 1) * m / greatest(ta, 1e-3));
    FOR r IN 1..rounds LOOP
        ta := bench.run_plain(plain_setup, plain_loop, np);
        c := c || ta;
        np := least(plain_most, greatest(1, ceil(plain_target / greatest(ta, 1))))::int;
        PERFORM bench.run_rls(rls_fn, 1), bench.run_hand(hand_fn, 1);
        FOR p IN 1..pairs LOOP
            IF (r * pairs + p) % 2 = 0 THEN
                ta := bench.run_rls(rls_fn, m);
                tb := bench.run_hand(hand_fn, m);
            ELSE
                tb := bench.run_hand(hand_fn, m);
                ta := bench.run_rls(rls_fn, m);
            END IF;
            a := a || ta;
            b := b || tb;
            q := q || ta / greatest(tb, 1e-3);
        END LOOP;
    END LOOP;
    x := bench.as_app('introw', NULL, rls_rows);
    z := bench.as_app('plain', plain_setup, rls_rows);
    PERFORM set_config('search_path', 'public', false);
    EXECUTE hand_rows INTO y;
    INSERT INTO bench.results
    VALUES (case_name, bench.median(a), bench.median(b), bench.median(c), bench.median(q),
            x IS NOT DISTINCT FROM y AND (plain_fn IS NOT NULL OR z IS NOT DISTINCT FROM y), m);
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
