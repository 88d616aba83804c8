-- test/pgtap/bad_input.sql -- bad input gets a clear error and changes
-- nothing (PRODUCT.md sections 3, 5 and 7): unknown, NULL and inactive
-- principals; hostile, empty and oversized strings; the default-role
-- functions with bad arguments; deleting roles that must not go.
BEGIN;
SELECT plan(155);

\ir helpers.psql

-- the outcome of one statement returning one value: 'ok <value>' or 'error <SQLSTATE>'
CREATE FUNCTION pg_temp.attempt(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE v text;
BEGIN
    EXECUTE sql INTO v;
    RETURN 'ok ' || coalesce(v, 'NULL');
EXCEPTION WHEN OTHERS THEN
    RETURN 'error ' || SQLSTATE;
END $$;


-- "no principal is set": every getter NULL, kind none, tables empty
CREATE FUNCTION pg_temp.no_principal(after text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
    RETURN NEXT is(introw.current_tenant_id(), NULL, after || ': current_tenant_id() is NULL');
    RETURN NEXT is(introw.current_contact_id(), NULL, after || ': current_contact_id() is NULL');
    RETURN NEXT is(introw.current_user_id(), NULL, after || ': current_user_id() is NULL');
    RETURN NEXT is(introw.current_principal_kind(), 'none', after || ': principal kind is none');
    RETURN NEXT is_empty('SELECT * FROM introw.tenants', after || ': tenants reads empty');
    RETURN NEXT is_empty('SELECT * FROM introw.partner_contacts', after || ': partner_contacts reads empty');
    RETURN NEXT is_empty('SELECT * FROM introw.tabs', after || ': tabs reads empty');
END $$;

-- a Globex role that is not its default (rolled back with the rest)
INSERT INTO public.fx SELECT 'globex_se', role_id FROM introw.partner_roles
    WHERE tenant_id = fx('globex') AND name = 'Solutions Engineer';

SELECT pg_temp.fingerprint() AS fp \gset

-- ===========================================================================
-- Principal setters: unknown, NULL and inactive ids
-- ===========================================================================
SET LOCAL ROLE regress_introw_app;

SELECT introw.set_contact(fx('rep'));
SELECT is(introw.current_contact_id(), fx('rep'), 'set-up: rep is the principal');
SELECT throws_ok('SELECT introw.set_contact(-1)', '42704', 'partner contact -1 does not exist',
                 'set_contact(unknown id) is an error');
SELECT pg_temp.no_principal('after set_contact(unknown)');

SELECT introw.set_contact(fx('rep'));
SELECT throws_ok('SELECT introw.set_contact(9223372036854775807)', '42704',
                 'partner contact 9223372036854775807 does not exist',
                 'set_contact(max bigint) is an error');
SELECT is(introw.current_principal_kind(), 'none', 'after set_contact(max bigint): no principal');

SELECT introw.set_user(fx('admin'));
SELECT throws_ok('SELECT introw.set_contact(NULL)', '22004', 'contact_id and is_local must not be NULL',
                 'set_contact(NULL) is an error');
SELECT pg_temp.no_principal('after set_contact(NULL)');

SELECT introw.set_contact(fx('rep'));
SELECT throws_ok($$SELECT introw.set_contact(fx('se'), NULL)$$, '22004',
                 'contact_id and is_local must not be NULL', 'set_contact(id, is_local => NULL) is an error');
SELECT is(introw.current_principal_kind(), 'none', 'after set_contact(id, NULL): no principal');

SELECT introw.set_user(fx('admin'));
SELECT is(introw.current_user_id(), fx('admin'), 'set-up: admin is the principal');
SELECT throws_ok('SELECT introw.set_user(-1)', '42704', 'internal user -1 does not exist',
                 'set_user(unknown id) is an error');
SELECT pg_temp.no_principal('after set_user(unknown)');

SELECT introw.set_user(fx('admin'));
SELECT throws_ok('SELECT introw.set_user(NULL)', '22004', 'user_id and is_local must not be NULL',
                 'set_user(NULL) is an error');
SELECT pg_temp.no_principal('after set_user(NULL)');

SELECT introw.set_contact(fx('rep'));
SELECT throws_ok($$SELECT introw.set_user(fx('off'))$$, '28000',
                 format('internal user %s is not active', fx('off')),
                 'set_user(inactive user) is an error');
SELECT pg_temp.no_principal('after set_user(inactive)');

-- also when the good principal was transaction-local
SELECT introw.set_user(fx('admin'), true);
SELECT is(introw.current_principal_kind(), 'admin', 'set-up: admin is the local principal');
SELECT throws_ok($$SELECT introw.set_user(fx('off'), true)$$, '28000', NULL,
                 'set_user(inactive, is_local => true) is an error');
SELECT is(introw.current_principal_kind(), 'none', 'after a failed local set_user(): no principal');

-- ids are bigint: a hostile string never reaches the setter
SELECT introw.set_contact(fx('rep'));
SELECT throws_ok($$SELECT introw.set_contact('1 OR 1=1')$$, '22P02', NULL,
                 'set_contact(''1 OR 1=1'') is a type error');
SELECT throws_ok($$SELECT introw.set_user('1; SELECT 1')$$, '22P02', NULL,
                 'set_user(''1; SELECT 1'') is a type error');

-- a contact id is not a user id (ids are unique per table only)
SELECT throws_ok(format('SELECT introw.set_user(%s)', (SELECT max(id) + 1000 FROM public.fx)), '42704', NULL,
                 'set_user(id of nobody) is an error');
SELECT is(introw.current_principal_kind(), 'none', 'after set_user(id of nobody): no principal');
RESET ROLE;

SELECT is(pg_temp.fingerprint(), :'fp', 'the failed setters changed no table');

-- ===========================================================================
-- Strings: empty, oversized, malformed -> 23514; nothing is written
-- (as the admin of Acme, the way an application writes)
-- ===========================================================================
SET LOCAL ROLE regress_introw_app;
SELECT introw.set_user(fx('admin'));

-- empty and blank names (spaces, tabs, line breaks)
SELECT throws_ok(format($q$INSERT INTO introw.%I (tenant_id, name) VALUES (%s, %L)$q$, t, fx('acme'), v), '23514',
                 NULL, format('%s: name %L is refused', t, v))
FROM unnest(ARRAY['tiers', 'partner_roles', 'partner_organizations']) AS t,
     unnest(ARRAY['', '   ', E'\t\r\n ']) AS v;
SELECT throws_ok(format($q$INSERT INTO introw.rooms (tenant_id, name) VALUES (%s, %L)$q$, fx('acme'), v), '23514',
                 NULL, format('rooms: name %L is refused', v))
FROM unnest(ARRAY['', '   ', E'\t\r\n ']) AS v;
SELECT throws_ok(format($q$INSERT INTO introw.tabs (tenant_id, room_id, name) VALUES (%s, %s, %L)$q$,
                        fx('acme'), fx('portal'), v), '23514', NULL, format('tabs: name %L is refused', v))
FROM unnest(ARRAY['', '   ', E'\t\r\n ']) AS v;
SELECT throws_ok(format($q$INSERT INTO introw.content_items (tenant_id, tab_id, kind, title)
                           VALUES (%s, %s, 'file', %L)$q$, fx('acme'), fx('welcome'), v), '23514', NULL,
                 format('content_items: title %L is refused', v))
FROM unnest(ARRAY['', '   ', E'\t\r\n ']) AS v;
SELECT throws_ok(format($q$UPDATE introw.partner_organizations SET name = '' WHERE org_id = %s$q$, fx('alpha')),
                 '23514', NULL, 'partner_organizations: renaming to an empty name is refused');
SELECT throws_ok(format($q$UPDATE introw.partner_roles SET crm_value = ' ' WHERE role_id = %s$q$, fx('sales_rep')),
                 '23514', NULL, 'partner_roles: a blank crm_value is refused');

-- names over 200 characters (exactly 200 is fine, checked below)
SELECT throws_ok(format($q$INSERT INTO introw.%I (tenant_id, name) VALUES (%s, repeat('n', 201))$q$, t, fx('acme')),
                 '23514', NULL, format('%s: a 201-character name is refused', t))
FROM unnest(ARRAY['tiers', 'partner_roles', 'partner_organizations', 'rooms']) AS t;
SELECT throws_ok(format($q$INSERT INTO introw.tabs (tenant_id, room_id, name) VALUES (%s, %s, repeat('n', 201))$q$,
                        fx('acme'), fx('portal')), '23514', NULL, 'tabs: a 201-character name is refused');
SELECT throws_ok(format($q$UPDATE introw.tenants SET name = repeat('n', 201) WHERE tenant_id = %s$q$, fx('acme')),
                 '23514', NULL, 'tenants: a 201-character name is refused');
SELECT throws_ok(format($q$INSERT INTO introw.partner_contacts (tenant_id, org_id, email, full_name)
                           VALUES (%s, %s, 'long@alpha.test', repeat('n', 201))$q$, fx('acme'), fx('alpha')),
                 '23514', NULL, 'partner_contacts: a 201-character full_name is refused');
SELECT throws_ok(format($q$INSERT INTO introw.internal_users (tenant_id, email, full_name, user_role)
                           VALUES (%s, 'long@acme.test', repeat('n', 201), 'member')$q$, fx('acme')),
                 '23514', NULL, 'internal_users: a 201-character full_name is refused');
SELECT throws_ok(format($q$INSERT INTO introw.content_items (tenant_id, tab_id, kind, title)
                           VALUES (%s, %s, 'file', repeat('t', 501))$q$, fx('acme'), fx('welcome')),
                 '23514', NULL, 'content_items: a 501-character title is refused');
SELECT throws_ok(format($q$INSERT INTO introw.content_items (tenant_id, tab_id, kind, title, url)
                           VALUES (%s, %s, 'link', 't', 'https://x.test/' || repeat('u', 2034))$q$,
                        fx('acme'), fx('welcome')),
                 '23514', NULL, 'content_items: a 2049-character url is refused');
SELECT throws_ok(format($q$INSERT INTO introw.partner_roles (tenant_id, name, crm_value)
                           VALUES (%s, 'Long CRM', repeat('v', 201))$q$, fx('acme')),
                 '23514', NULL, 'partner_roles: a 201-character crm_value is refused');
SELECT throws_ok(format($q$UPDATE introw.internal_users SET hubspot_user_id = repeat('h', 101) WHERE user_id = %s$q$,
                        fx('member')), '23514', NULL, 'internal_users: a 101-character hubspot_user_id is refused');
SELECT throws_ok(format($q$UPDATE introw.partner_contacts SET crm_contact_id = repeat('c', 101) WHERE contact_id = %s$q$,
                        fx('rep')), '23514', NULL, 'partner_contacts: a 101-character crm_contact_id is refused');
SELECT throws_ok(format($q$UPDATE introw.partner_organizations SET crm_company_id = repeat('c', 101) WHERE org_id = %s$q$,
                        fx('alpha')), '23514', NULL, 'partner_organizations: a 101-character crm_company_id is refused');
SELECT throws_ok(format($q$INSERT INTO introw.partner_organizations (tenant_id, name)
                           VALUES (%s, repeat('x', 1000000))$q$, fx('acme')),
                 '23514', NULL, 'partner_organizations: a one-megabyte name is refused');

-- malformed and oversized emails
SELECT throws_ok(format($q$INSERT INTO introw.partner_contacts (tenant_id, org_id, email) VALUES (%s, %s, %L)$q$,
                        fx('acme'), fx('alpha'), e), '23514', NULL, format('partner_contacts: email %L is refused', e))
FROM unnest(ARRAY['', 'no-at-sign', 'two@@alpha.test', 'a b@alpha.test', '@alpha.test', 'x@',
                  repeat('a', 310) || '@alpha.test']) AS e;
SELECT throws_ok(format($q$INSERT INTO introw.internal_users (tenant_id, email, user_role) VALUES (%s, %L, 'member')$q$,
                        fx('acme'), e), '23514', NULL, format('internal_users: email %L is refused', e))
FROM unnest(ARRAY['', 'no-at-sign', E'tab\t@acme.test', repeat('a', 312) || '@acme.test']) AS e;

-- an unknown role_source is an error on INSERT as on UPDATE (schema.sql
-- covers UPDATE); it must not be silently rewritten
SELECT throws_ok(format($q$INSERT INTO introw.partner_contacts (tenant_id, org_id, email, role_id, role_source)
                           VALUES (%s, %s, 'src@alpha.test', %s, 'hacked')$q$,
                        fx('acme'), fx('alpha'), fx('sales_rep')),
                 '23514', NULL, 'partner_contacts: INSERT with role_source ''hacked'' is refused');
RESET ROLE;
SELECT is((SELECT count(*) FROM introw.partner_contacts WHERE email = 'src@alpha.test'), 0::bigint,
          'no contact was stored with a rewritten role_source');
SELECT pg_temp.fingerprint() AS fp \gset

-- ===========================================================================
-- Hostile but valid strings are data: stored and read back verbatim
-- ===========================================================================
SET LOCAL ROLE regress_introw_app;
SELECT introw.set_user(fx('admin'));
SELECT lives_ok(format($q$INSERT INTO introw.partner_organizations (tenant_id, name, crm_company_id)
                          VALUES (%s, %L, %L)$q$, fx('acme'),
                       $s$Robert'); DROP TABLE introw.tenants; --$s$, $s$1' OR '1'='1$s$),
                'an organisation name with quotes and a semicolon is stored');
SELECT results_eq($$SELECT name, crm_company_id FROM introw.partner_organizations WHERE name LIKE 'Robert%'$$,
                  $$VALUES ($s$Robert'); DROP TABLE introw.tenants; --$s$, $s$1' OR '1'='1$s$)$$,
                  'it reads back verbatim');
SELECT lives_ok(format($q$INSERT INTO introw.partner_contacts (tenant_id, org_id, email, full_name)
                          VALUES (%s, %s, %L, %L)$q$, fx('acme'), fx('alpha'),
                       $s$o'brien;--@alpha.test$s$, $s$Miles O'Brien"; SELECT pg_sleep(10);$s$),
                'a contact with a quote and semicolons in email and name is stored');
SELECT results_eq($$SELECT email, full_name, role_source FROM introw.partner_contacts WHERE email LIKE 'o''brien%'$$,
                  $$VALUES ($s$o'brien;--@alpha.test$s$, $s$Miles O'Brien"; SELECT pg_sleep(10);$s$, 'default')$$,
                  'it reads back verbatim, with the default role');
SELECT throws_ok(format($q$INSERT INTO introw.partner_contacts (tenant_id, org_id, email) VALUES (%s, %s, %L)$q$,
                        fx('acme'), fx('beta'), $s$O'BRIEN;--@Alpha.Test$s$), '23505', NULL,
                 'the hostile email is unique case-insensitively like any other');
SELECT lives_ok(format($q$INSERT INTO introw.partner_roles (tenant_id, name) VALUES (%s, %L)$q$, fx('acme'),
                       $s$Rep' OR is_default OR '$s$),
                'a role name that looks like SQL is stored');
SELECT results_eq($$SELECT name, crm_value, is_default FROM introw.partner_roles WHERE name LIKE 'Rep''%'$$,
                  $$VALUES ($s$Rep' OR is_default OR '$s$, $s$Rep' OR is_default OR '$s$, false)$$,
                  'its crm_value defaults to the same string, and it is not the default');
SELECT lives_ok(format($q$INSERT INTO introw.tabs (tenant_id, room_id, name) VALUES (%s, %s, %L)$q$,
                       fx('acme'), fx('portal'), E'Ünïcødé ✓ \\ %s %I $1 \u2028'),
                'a tab name with unicode, backslashes and format directives is stored');
SELECT is((SELECT name FROM introw.tabs WHERE name LIKE 'Ünïcødé%'), E'Ünïcødé ✓ \\ %s %I $1 \u2028',
          'it reads back verbatim');
SELECT lives_ok(format($q$INSERT INTO introw.tiers (tenant_id, name) VALUES (%s, repeat('p', 200))$q$, fx('acme')),
                'a name of exactly 200 characters is fine');
SELECT lives_ok(format($q$INSERT INTO introw.internal_users (tenant_id, email, user_role)
                          VALUES (%s, repeat('a', 310) || '@acme.test', 'member')$q$, fx('acme')),
                'an email of exactly 320 characters is fine');
SELECT is(pg_temp.changes(format($q$UPDATE introw.partner_organizations SET name = 'x' WHERE name = %L$q$,
                                 $s$' OR '1'='1$s$)), 0::bigint,
          'a WHERE value that looks like SQL matches nothing');
RESET ROLE;
SELECT has_table('introw', 'tenants', 'introw.tenants is still there');
SELECT is((SELECT count(*) FROM introw.tenants), 2::bigint, 'both tenants are still there');

-- ===========================================================================
-- set_default_role(): NULL, unknown, another tenant's role, not allowed
-- ===========================================================================
SELECT pg_temp.fingerprint() AS fp \gset
SET LOCAL ROLE regress_introw_app;
SELECT introw.set_user(fx('admin'));
SELECT throws_ok('SELECT introw.set_default_role(NULL)', '22004', 'role_id must not be NULL',
                 'set_default_role(NULL) is an error');
SELECT throws_ok('SELECT introw.set_default_role(-1)', '42704', 'partner role -1 does not exist',
                 'set_default_role(unknown id) is an error');
SELECT throws_ok($$SELECT introw.set_default_role(fx('globex_sales_rep'))$$, '42704',
                 format('partner role %s does not exist', fx('globex_sales_rep')),
                 'set_default_role(a Globex role) as the Acme admin: the role does not exist for it');
SELECT throws_ok($$SELECT introw.set_default_role(fx('globex_se'))$$, '42704',
                 format('partner role %s does not exist', fx('globex_se')),
                 'set_default_role(a non-default Globex role) as the Acme admin does not exist either');
SELECT throws_ok($$SELECT introw.set_default_role('7; DROP TABLE introw.tabs')$$, '22P02', NULL,
                 'set_default_role(hostile string) is a type error');

SELECT introw.set_user(fx('member'));
SELECT throws_ok($$SELECT introw.set_default_role(fx('solutions_engineer'))$$, '42501', NULL,
                 'set_default_role() as a member is refused');
SELECT introw.set_contact(fx('rep'));
SELECT throws_ok($$SELECT introw.set_default_role(fx('solutions_engineer'))$$, '42501', NULL,
                 'set_default_role() as a contact is refused');
SELECT introw.set_user(fx('pm'));
SELECT throws_ok($$SELECT introw.set_default_role(fx('partner_manager_role'))$$, '42501', NULL,
                 'set_default_role() as a partner manager is refused');
SELECT introw.reset_principal();
SELECT throws_ok($$SELECT introw.set_default_role(fx('solutions_engineer'))$$, '42704', NULL,
                 'set_default_role() without a principal: no role exists');
RESET ROLE;
SELECT is(pg_temp.fingerprint(), :'fp', 'the refused set_default_role() calls changed nothing');
SELECT results_eq($$SELECT tenant_id, role_id FROM introw.partner_roles WHERE is_default ORDER BY tenant_id$$,
                  format('VALUES (%s::bigint, %s::bigint), (%s, %s)',
                         fx('acme'), fx('sales_rep'), fx('globex'), fx('globex_sales_rep')),
                  'each tenant still has its one default');

-- the admin may change its own default; still exactly one
SET LOCAL ROLE regress_introw_app;
SELECT introw.set_user(fx('admin'));
SELECT lives_ok($$SELECT introw.set_default_role(fx('solutions_engineer'))$$,
                'set_default_role() of an Acme role as the Acme admin works');
SELECT lives_ok($$SELECT introw.set_default_role(fx('solutions_engineer'))$$,
                'setting the same default again works');
SELECT results_eq($$SELECT role_id FROM introw.partner_roles WHERE is_default$$,
                  ARRAY[fx('solutions_engineer')], 'Acme has exactly one default, the new one');
SELECT lives_ok($$SELECT introw.set_default_role(fx('sales_rep'))$$, 'and back to Sales Rep');
RESET ROLE;
SELECT results_eq($$SELECT tenant_id, role_id FROM introw.partner_roles WHERE is_default ORDER BY tenant_id$$,
                  format('VALUES (%s::bigint, %s::bigint), (%s, %s)',
                         fx('acme'), fx('sales_rep'), fx('globex'), fx('globex_sales_rep')),
                  'as the superuser: one default per tenant, Globex untouched');

-- ===========================================================================
-- assign_default_role(): unknown, NULL, invisible tenant, tenant without
-- a default
-- ===========================================================================
INSERT INTO introw.tenants (name) VALUES ('No Default Inc');
INSERT INTO public.fx SELECT 'nodefault', tenant_id FROM introw.tenants WHERE name = 'No Default Inc';
SELECT throws_ok('SELECT introw.assign_default_role(-1)', '42704', 'tenant -1 does not exist',
                 'assign_default_role(unknown tenant) is an error');
SELECT throws_ok('SELECT introw.assign_default_role(NULL)', '22004', 'tenant_id must not be NULL',
                 'assign_default_role(NULL) is an error');
SELECT throws_ok($$SELECT introw.assign_default_role(fx('nodefault'))$$, '42704',
                 format('tenant %s has no default partner role', fx('nodefault')),
                 'assign_default_role() of a tenant without a default is an error');

SELECT pg_temp.fingerprint() AS fp \gset
SET LOCAL ROLE regress_introw_app;
SELECT introw.set_user(fx('admin'));
SELECT throws_ok($$SELECT introw.assign_default_role(fx('globex'))$$, '42704',
                 format('tenant %s does not exist', fx('globex')),
                 'assign_default_role(Globex) as the Acme admin: the tenant does not exist for it');
SELECT introw.set_contact(fx('rep'));
SELECT throws_ok($$SELECT introw.assign_default_role(fx('acme'))$$, '42501',
                 'permission denied to assign partner roles',
                 'assign_default_role() as a contact is refused');
SELECT introw.reset_principal();
SELECT throws_ok($$SELECT introw.assign_default_role(fx('acme'))$$, '42501',
                 'permission denied to assign partner roles',
                 'assign_default_role() without a principal is refused');
RESET ROLE;
SELECT is(pg_temp.fingerprint(), :'fp', 'the refused assign_default_role() calls changed nothing');
SELECT is((SELECT role_id FROM introw.partner_contacts WHERE contact_id = fx('norole')), NULL,
          'norole is still without a role');

-- ===========================================================================
-- Deleting roles that must not go: the default (23001), the only role
-- limiting a tab (23001)
-- ===========================================================================
SELECT throws_ok($$DELETE FROM introw.partner_roles WHERE role_id = fx('sales_rep')$$, '23001',
                 format('cannot delete partner role "Sales Rep": it is the default role of tenant %s', fx('acme')),
                 'the superuser cannot delete the default role either');
SET LOCAL ROLE regress_introw_app;
SELECT introw.set_user(fx('admin'));
SELECT throws_ok($$DELETE FROM introw.partner_roles WHERE role_id = fx('sales_rep')$$, '23001',
                 format('cannot delete partner role "Sales Rep": it is the default role of tenant %s', fx('acme')),
                 'the admin cannot delete the default role');
SELECT throws_ok($$DELETE FROM introw.partner_roles WHERE role_id = fx('solutions_engineer')$$, '23001',
                 'cannot delete partner role "Solutions Engineer": it is the only role limiting 1 tab(s)',
                 'Solutions Engineer alone limits Technical Docs: refused');
SELECT throws_ok($$DELETE FROM introw.partner_roles WHERE role_id = fx('partner_manager_role')$$, '23001',
                 'cannot delete partner role "Partner Manager": it is the only role limiting 2 tab(s)',
                 'Partner Manager alone limits Dashboards and Agreements: refused');
SELECT throws_ok($$DELETE FROM introw.partner_roles WHERE tenant_id = fx('acme')$$, '23001', NULL,
                 'deleting every role of the tenant at once is refused');
SELECT is(pg_temp.changes($$DELETE FROM introw.partner_roles WHERE role_id = fx('globex_sales_rep')$$), 0::bigint,
          'the Acme admin deleting a Globex role deletes nothing');
RESET ROLE;
SELECT is(pg_temp.fingerprint(), :'fp', 'the refused deletions changed nothing');
SELECT set_eq($$SELECT name FROM introw.partner_roles WHERE tenant_id = fx('acme')$$,
              ARRAY['Sales Rep', 'Solutions Engineer', 'Partner Manager', 'Restricted Rep',
                    $s$Rep' OR is_default OR '$s$],
              'every Acme role is still there');
SELECT is((SELECT count(*) FROM introw.tab_roles WHERE tenant_id = fx('acme')), 10::bigint,
          'all ten Acme tab limits are still there');

-- a role that is not alone on any tab may go; its contacts move to the default
SET LOCAL ROLE regress_introw_app;
SELECT introw.set_user(fx('admin'));
SELECT is(pg_temp.changes($$DELETE FROM introw.partner_roles WHERE role_id = fx('restricted_rep')$$), 1::bigint,
          'Restricted Rep (Alpha Pricing is also limited to Sales Rep) may be deleted');
SELECT results_eq($$SELECT role_id, role_source FROM introw.partner_contacts WHERE contact_id = fx('restricted')$$,
                  format($q$VALUES (%s::bigint, 'default'::text)$q$, fx('sales_rep')),
                  'its contact moved to the default role');
SELECT set_eq($$SELECT role_id FROM introw.tab_roles WHERE tab_id = fx('alphaprice')$$, ARRAY[fx('sales_rep')],
              'Alpha Pricing stays limited, to Sales Rep');
-- and the role-less contact gets the default when asked
SELECT is(introw.assign_default_role(fx('acme')), 1::bigint, 'assign_default_role(Acme) assigns norole');
SELECT is(introw.assign_default_role(fx('acme')), 0::bigint, 'a second call assigns nobody');
SELECT results_eq($$SELECT role_id, role_source FROM introw.partner_contacts WHERE contact_id = fx('norole')$$,
                  format($q$VALUES (%s::bigint, 'default'::text)$q$, fx('sales_rep')),
                  'norole now has the default role');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
