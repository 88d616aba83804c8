-- introw_roles 1.5 -> 1.6
\echo Use "ALTER EXTENSION introw_roles UPDATE TO '1.6'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Reading a whole table is one privilege, not one per column.  Until 1.5,
-- grant_reading() granted SELECT column by column on every table, to keep
-- crm_connections.access_token out; PostgreSQL then checks the role's
-- privilege on each column a statement reads, at every execution (about
-- 2 % of a contact's 60 µs listing).  A table whose every column is
-- readable now gets SELECT on the table: one check.  Only tables with a
-- hidden column keep the per-column grant.  A version that adds a column
-- no granted role may read lists it in hidden_column().
-- ---------------------------------------------------------------------------

-- is this column of this table of introw kept from every granted role?
CREATE FUNCTION introw.hidden_column(relname name, attname name)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT (relname, attname) IN (('crm_connections', 'access_token'))
$$;
REVOKE ALL ON FUNCTION introw.hidden_column(name, name) FROM PUBLIC;

-- grant_reading(): as in 1.3, SELECT on the table when no column is hidden
CREATE OR REPLACE FUNCTION introw.grant_reading(role regrole)
RETURNS TABLE (rel oid, relname name, writable text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t      record;
    sel    text;
    hidden boolean;
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA introw TO %s', role);
    FOR t IN SELECT * FROM introw.readable_relations()
    LOOP
        EXECUTE format('REVOKE ALL ON introw.%I FROM %s', t.relname, role);
        IF t.relkind = 'v' THEN
            EXECUTE format('GRANT SELECT ON introw.%I TO %s', t.relname, role);
            CONTINUE;
        END IF;
        SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FILTER (WHERE a.attidentity = ''),
               string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
                   FILTER (WHERE NOT introw.hidden_column(t.relname, a.attname)),
               bool_or(introw.hidden_column(t.relname, a.attname))
          INTO writable, sel, hidden
          FROM pg_attribute a WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped;
        IF hidden THEN
            EXECUTE format('GRANT SELECT (%s) ON introw.%I TO %s', sel, t.relname, role);
        ELSE
            EXECUTE format('GRANT SELECT ON introw.%I TO %s', t.relname, role);
        END IF;
        rel := t.oid;
        relname := t.relname;
        RETURN NEXT;
    END LOOP;
END $$;
REVOKE ALL ON FUNCTION introw.grant_reading(regrole) FROM PUBLIC;

-- The roles granted before: a role that reads every column of a table
-- without a hidden column, column by column, now reads the table.  It
-- reads exactly what it read; its INSERT, UPDATE and DELETE are kept.
DO $$
DECLARE
    g record;
BEGIN
    FOR g IN
        SELECT c.relname, x.grantee::regrole::text AS grantee
        FROM introw.readable_relations() c
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        CROSS JOIN LATERAL aclexplode(a.attacl) x
        WHERE c.relkind = 'r' AND x.privilege_type = 'SELECT' AND x.grantee <> 0
          AND NOT EXISTS (SELECT 1 FROM pg_attribute h
                          WHERE h.attrelid = c.oid AND h.attnum > 0 AND NOT h.attisdropped
                            AND introw.hidden_column(c.relname, h.attname))
        GROUP BY c.oid, c.relname, x.grantee
        HAVING count(DISTINCT a.attnum) = (SELECT count(*) FROM pg_attribute n
                                           WHERE n.attrelid = c.oid AND n.attnum > 0 AND NOT n.attisdropped)
        ORDER BY 1, 2
    LOOP
        EXECUTE format('GRANT SELECT ON introw.%I TO %s', g.relname, g.grantee);
        EXECUTE format('REVOKE SELECT (%s) ON introw.%I FROM %s',
                       (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
                        FROM pg_attribute a
                        WHERE a.attrelid = format('introw.%I', g.relname)::regclass
                          AND a.attnum > 0 AND NOT a.attisdropped),
                       g.relname, g.grantee);
    END LOOP;
END $$;
