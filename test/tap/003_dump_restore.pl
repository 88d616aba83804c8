# pg_dump / pg_restore of a database using introw_roles keeps every row and
# every setting, restored by a superuser in any of these ways:
#
#   pg_dump -Fc -f db.dump src
#   pg_restore -d dst db.dump                              (plain)
#   pg_restore --single-transaction --exit-on-error -d dst db.dump
#   pg_dump -f db.sql src; psql -v ON_ERROR_STOP=1 -f db.sql dst
#   pg_dump --inserts -f db.sql src; psql -v ON_ERROR_STOP=1 -f db.sql dst
#   PGOPTIONS='-c session_replication_role=replica' \
#       pg_restore --exit-on-error --single-transaction -d dst db.dump
#   PGOPTIONS='-c session_replication_role=replica' \
#       pg_restore -j 2 --exit-on-error -d dst db.dump  (parallel: replica mode)
#
# and onto a new server, roles first and the database's own settings
# through --create:
#
#   pg_dumpall --roles-only -f roles.sql       (old server)
#   psql -f roles.sql postgres                 (new server)
#   pg_restore --create --exit-on-error -d postgres db.dump
#
# The plain restores work because both pg_restore and a dump's script set
# row_security = off: the extension then takes the rows as they come (no
# preconfigured roles made again, no default role or collaborator added)
# and holds a champion back until its contact is loaded (the data of
# partner_organizations and partner_contacts, which reference each other,
# load organisations first; pg_dump warns of the cycle).
#
# Compared between the original and each restored database: every row of
# every table of schemas introw and public (count and digest, as
# superuser), the extension version, the identity sequences (new rows get
# the next ids), what the application role sees as every principal of the
# fixture (and an analyst role, where the extension has one: its policies
# come back from the rows of introw.analysts with no step after the
# restore), the grants on
# schema introw and the effective privileges of the application role,
# triggers, constraints, row-level security and policies, the database- and
# role-level settings, and signed tokens (where the extension issues them).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use File::Basename qw(dirname);
use Cwd qw(abs_path);

my $root = abs_path(dirname(__FILE__) . '/../..');
my $dir = PostgreSQL::Test::Utils::tempdir();
my $replica = '-c session_replication_role=replica';

sub new_node
{
	my ($name) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'introw_roles'
TimeZone = 'UTC'
});
	$node->start;
	return $node;
}

# run a client program, PGOPTIONS as given; returns (exit status, stdout, stderr)
sub run_client
{
	my ($pgoptions, @cmd) = @_;
	local $ENV{PGOPTIONS} = $pgoptions // '';
	my ($out, $err) = ('', '');
	IPC::Run::run(\@cmd, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

# --- the original database ----------------------------------------------
my $old = new_node('old');
$old->safe_psql('postgres', 'CREATE DATABASE src');
$old->safe_psql('src', 'CREATE EXTENSION introw_roles');
$old->safe_psql('src', "\\i $root/test/fixture.sql");
$old->safe_psql('src', q{
CREATE ROLE app LOGIN NOSUPERUSER NOBYPASSRLS;
SELECT introw.grant_application('app');
-- settings of the database, of a role in the database, of a role
ALTER DATABASE src SET introw.principal_cache_size = 64;
ALTER ROLE app IN DATABASE src SET introw.principal_cache_size = 16;
ALTER ROLE app SET introw.principal_cache_size = 32;
-- a second tenant's default role, CRM connection and failed run
SELECT introw.set_default_role(role_id) FROM introw.partner_roles
 WHERE tenant_id = fx('globex') AND name = 'Partner Manager';
INSERT INTO introw.crm_connections (tenant_id, base_url, access_token, role_property, enabled,
                                    poll_interval, watermark, sync_requested_at, auth_failed_at)
VALUES (fx('globex'), 'https://api.hubapi.com', 'pat-na1-globex-secret', 'globex_role', false,
        '1 hour', '2026-01-02 03:04:05.678+00', '2026-01-03 00:00:00+00', '2026-01-03 00:00:01+00');
INSERT INTO introw.crm_sync_runs (tenant_id, status, finished_at, pages, fetched, http_status, error)
VALUES (fx('globex'), 'failed', '2026-01-03 00:00:01+00', 0, 0, 401,
        'HTTP 401: the CRM refused the access token');
UPDATE introw.portal_settings SET settings = settings || '{"motd": "Grüße\tand \\\\ a backslash\nnew line"}'
 WHERE tenant_id = fx('globex');
-- ids handed out and deleted again: the sequences are ahead of every id
INSERT INTO introw.tenants (name) VALUES ('Scratch');
INSERT INTO introw.partner_organizations (tenant_id, name)
SELECT tenant_id, 'Scratch org' FROM introw.tenants WHERE name = 'Scratch';
INSERT INTO introw.partner_contacts (tenant_id, org_id, email, role_id)
SELECT o.tenant_id, o.org_id, 'gone@scratch.test', r.role_id
FROM introw.partner_organizations o JOIN introw.partner_roles r ON r.tenant_id = o.tenant_id AND r.name = 'Sales Rep'
WHERE o.name = 'Scratch org';
DELETE FROM introw.tenants WHERE name = 'Scratch';
});

# what this build of the extension offers besides the above
my $has_analyst = $old->safe_psql('src', "SELECT to_regprocedure('introw.grant_analyst(regrole)') IS NOT NULL") eq 't';
my $has_tokens = $old->safe_psql('src', "SELECT to_regprocedure('introw.issue_token(text, bigint, interval)') IS NOT NULL") eq 't';
my $has_jwt = $old->safe_psql('src', "SELECT count(*) FROM pg_settings WHERE name = 'introw.trust_jwt_claims'") eq '1';
$old->safe_psql('src', q{
CREATE ROLE analyst LOGIN NOSUPERUSER NOBYPASSRLS;
SELECT introw.grant_analyst('analyst');
}) if $has_analyst;
my $token;
if ($has_tokens)
{
	$old->safe_psql('src', 'SELECT introw.create_token_key()');
	$token = $old->safe_psql('src', "SELECT introw.issue_token('contact', fx('rep'), '1 day')");
}
# PostgREST's connection role takes principals from verified JWT claims
$old->safe_psql('src', q{
CREATE ROLE authenticator LOGIN NOINHERIT;
ALTER ROLE authenticator IN DATABASE src SET introw.trust_jwt_claims = on;
}) if $has_jwt;
note("this build: analyst role " . ($has_analyst ? 'yes' : 'no') . ", signed tokens "
	  . ($has_tokens ? 'yes' : 'no') . ", introw.trust_jwt_claims " . ($has_jwt ? 'yes' : 'no'));

# --- reports compared between databases ----------------------------------
my $session = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 1;";
my $digest = "count(*) || ' ' || md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), ''))";

# every table of schemas introw and public (the fixture's fx), as superuser:
# one line "schema.table count md5" per table.  introw.visibility_epochs
# is derived state, left out of dumps; a restore stamps anew.
sub table_report
{
	my ($node, $db) = @_;
	my @tables = split /\n/, $node->safe_psql($db, q{
		SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname IN ('introw', 'public') AND c.relkind = 'r' AND c.relname <> 'visibility_epochs'
		ORDER BY 1});
	my $sql = join("\nUNION ALL\n", map { "SELECT '$_ ' || $digest FROM $_ t" } @tables);
	return $node->safe_psql($db, "$session SELECT x FROM ($sql) s(x) ORDER BY x");
}

sub table_lines { my %h = map { (split / /)[0] => $_ } split /\n/, $_[0]; return \%h; }

# the grants on schema introw (ACL entries by role name), and the
# application role's effective privileges
sub grant_report
{
	my ($node, $db) = @_;
	return $node->safe_psql($db, q{
	WITH objs AS (
		SELECT 'schema introw' AS obj, n.nspacl AS acl FROM pg_namespace n WHERE n.nspname = 'introw'
		UNION ALL
		SELECT 'relation ' || c.relname, c.relacl FROM pg_class c WHERE c.relnamespace = 'introw'::regnamespace
		UNION ALL
		SELECT 'column ' || c.relname || '.' || a.attname, a.attacl
		FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
		WHERE c.relnamespace = 'introw'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
		UNION ALL
		SELECT 'function ' || p.oid::regprocedure::text, p.proacl FROM pg_proc p
		WHERE p.pronamespace = 'introw'::regnamespace),
	lines AS (
		SELECT format('acl %s: %s %s%s by %s', o.obj, coalesce(g.rolname, 'PUBLIC'), e.privilege_type,
		              CASE WHEN e.is_grantable THEN ' with grant option' ELSE '' END, gr.rolname) AS l
		FROM objs o CROSS JOIN LATERAL aclexplode(o.acl) e
		LEFT JOIN pg_roles g ON g.oid = e.grantee LEFT JOIN pg_roles gr ON gr.oid = e.grantor
		UNION ALL
		SELECT format('app %s %s %s', c.relname, p.priv, has_table_privilege('app', c.oid, p.priv))
		FROM pg_class c CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) p(priv)
		WHERE c.relnamespace = 'introw'::regnamespace AND c.relkind IN ('r', 'v')
		UNION ALL
		SELECT format('app column %s.%s %s %s', c.relname, a.attname, p.priv,
		              has_column_privilege('app', c.oid, a.attnum, p.priv))
		FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE']) p(priv)
		WHERE c.relnamespace = 'introw'::regnamespace AND c.relkind = 'r'
		UNION ALL
		SELECT format('app function %s %s', p.oid::regprocedure, has_function_privilege('app', p.oid, 'EXECUTE'))
		FROM pg_proc p WHERE p.pronamespace = 'introw'::regnamespace
		UNION ALL
		SELECT format('app schema introw USAGE %s', has_schema_privilege('app', 'introw', 'USAGE')))
	SELECT string_agg(l, E'\n' ORDER BY l) FROM lines});
}

# triggers (and whether they fire), constraints, row-level security flags
sub catalog_report
{
	my ($node, $db) = @_;
	return $node->safe_psql($db, q{
	SELECT string_agg(l, E'\n' ORDER BY l) FROM (
		SELECT format('trigger %s.%s %s', c.relname, t.tgname, t.tgenabled) AS l
		FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
		WHERE c.relnamespace = 'introw'::regnamespace AND NOT t.tgisinternal
		UNION ALL
		SELECT format('constraint %s.%s %s %s', c.relname, k.conname, pg_get_constraintdef(k.oid), k.convalidated)
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
		WHERE c.relnamespace = 'introw'::regnamespace
		UNION ALL
		SELECT format('rls %s %s %s', c.relname, c.relrowsecurity, c.relforcerowsecurity)
		FROM pg_class c WHERE c.relnamespace = 'introw'::regnamespace AND c.relkind = 'r') s});
}

# the policies of schema introw, with their roles
sub policy_report
{
	my ($node, $db) = @_;
	return $node->safe_psql($db, q{
	SELECT string_agg(format('%s.%s %s %s %s %s', tablename, policyname, cmd, roles, qual, with_check),
	                  E'\n' ORDER BY tablename, policyname)
	FROM pg_policies WHERE schemaname = 'introw'});
}

# settings of database $db (for every role and for roles in it), and of the
# role app everywhere
sub settings_report
{
	my ($node, $db) = @_;
	return $node->safe_psql('postgres', qq{
	SELECT string_agg(l, E'\\n' ORDER BY l) FROM (
		SELECT format('%s %s %s', coalesce(d.datname, '(every database)'),
		              coalesce(r.rolname, '(every role)'), s.setconfig) AS l
		FROM pg_db_role_setting s
		LEFT JOIN pg_database d ON d.oid = s.setdatabase LEFT JOIN pg_roles r ON r.oid = s.setrole
		WHERE d.datname = '$db' OR (s.setdatabase = 0 AND r.rolname = 'app')) s});
}

sub sequence_report
{
	my ($node, $db) = @_;
	return $node->safe_psql($db, q{
	SELECT string_agg(format('%s %s %s', sequencename, last_value, increment_by), E'\n' ORDER BY sequencename)
	FROM pg_sequences WHERE schemaname = 'introw' AND sequencename <> 'visibility_epoch'});
}

# What a role sees, as a principal: every relation of introw it may read,
# over the columns it may read, plus the principal's kind and tabs.
sub view_query
{
	my ($role) = @_;
	my %columns = map { split /\t/ } split /\n/, $old->safe_psql('src', qq{
		SELECT c.relname || E'\\t' || string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
		FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE c.relnamespace = 'introw'::regnamespace AND c.relkind IN ('r', 'v')
		  AND has_column_privilege('$role', c.oid, a.attnum, 'SELECT')
		GROUP BY c.relname});
	return join("\nUNION ALL\n",
		"SELECT 'kind ' || introw.current_principal_kind()",
		"SELECT 'tabs ' || introw.visible_tab_ids()::text",
		map { "SELECT '$_ ' || $digest FROM (SELECT $columns{$_} FROM introw.$_) t" } sort keys %columns);
}
my %view_query = (app => view_query('app'));
$view_query{analyst} = view_query('analyst') if $has_analyst;

sub view_report
{
	my ($node, $db, $role, $principal) = @_;
	my ($kind, $id) = split / /, $principal;
	my $set = $kind eq 'none' ? '' : "DO \$\$ BEGIN PERFORM introw.set_$kind($id); END \$\$;";
	return $node->safe_psql($db, "$session SET ROLE $role; $set SELECT x FROM ($view_query{$role}) s(x) ORDER BY x");
}

# every contact and every active internal user of the fixture, and nobody
my @principals = ('none', split /\n/, $old->safe_psql('src', q{
	SELECT x FROM (SELECT 'contact ' || contact_id FROM introw.partner_contacts
	               UNION ALL SELECT 'user ' || user_id FROM introw.internal_users WHERE active) s(x)
	ORDER BY x}));

# stamps: every tenant, and every contact with a collaboration, has its own
my $missing_stamps = q{
	SELECT (SELECT count(*) FROM introw.tenants t
	        WHERE NOT EXISTS (SELECT 1 FROM introw.visibility_epochs e
	                          WHERE e.tenant_id = t.tenant_id AND e.scope = 0))
	    || ' ' ||
	       (SELECT count(*) FROM (SELECT DISTINCT tenant_id, contact_id FROM introw.collaborators
	                              WHERE contact_id IS NOT NULL) k
	        WHERE NOT EXISTS (SELECT 1 FROM introw.visibility_epochs e
	                          WHERE e.tenant_id = k.tenant_id AND e.scope = k.contact_id))};

sub token_report
{
	my ($node, $db) = @_;
	return $node->safe_psql($db, "SET ROLE app; DO \$\$ BEGIN PERFORM introw.authenticate('$token'); END \$\$;"
		  . " SELECT introw.current_principal_kind() || ' ' || introw.current_contact_id()");
}

my %src = (
	tables => table_report($old, 'src'),
	grants => grant_report($old, 'src'),
	catalog => catalog_report($old, 'src'),
	policies => policy_report($old, 'src'),
	settings => settings_report($old, 'src'),
	sequences => sequence_report($old, 'src'),
	version => $old->safe_psql('src', "SELECT extversion FROM pg_extension WHERE extname = 'introw_roles'"),
	next_ids => $old->safe_psql('src', q{
		SELECT (SELECT last_value + 1 FROM pg_sequences WHERE sequencename = 'tenants_tenant_id_seq')
		    || ' ' || (SELECT last_value + 1 FROM pg_sequences WHERE sequencename = 'partner_contacts_contact_id_seq')}),
	max_ids => $old->safe_psql('src', q{
		SELECT (SELECT max(tenant_id) FROM introw.tenants) || ' ' || (SELECT max(contact_id) FROM introw.partner_contacts)}),
);
my %src_view = map { ("app $_" => view_report($old, 'src', 'app', $_)) } @principals;
$src_view{'analyst none'} = view_report($old, 'src', 'analyst', 'none') if $has_analyst;

cmp_ok(scalar(@principals), '>=', 12, 'the fixture has contacts and internal users to compare as');
like($src{settings}, qr/^src app \{introw.principal_cache_size=16\}$/m, '(src has a setting of app in the database)');
isnt($src{next_ids}, join(' ', map { $_ + 1 } split / /, $src{max_ids}), '(src: the sequences are ahead of the ids)');
is($old->safe_psql('src', $missing_stamps), '0 0', '(src: every tenant and collaborating contact is stamped)');
is(token_report($old, 'src'), 'contact ' . $old->safe_psql('src', "SELECT fx('rep')"), '(src: the token names rep)')
  if $has_tokens;

# one restored database against the original
sub compare_restored
{
	my ($node, $db, $label, %opt) = @_;
	my $got = table_lines(table_report($node, $db));
	my $want = table_lines($src{tables});
	is_deeply([ sort keys %$got ], [ sort keys %$want ], "$label: the same tables");
	is($got->{$_}, $want->{$_}, "$label: $_ has every row") for sort keys %$want;
	is($node->safe_psql($db, "SELECT extversion FROM pg_extension WHERE extname = 'introw_roles'"),
		$src{version}, "$label: the extension version");
	is(sequence_report($node, $db), $src{sequences}, "$label: the identity sequences keep their position");
	is(grant_report($node, $db), $src{grants}, "$label: the grants on schema introw");
	is(catalog_report($node, $db), $src{catalog},
		"$label: triggers (enabled as before), constraints, row-level security");
	# the analysts are rows of introw.analysts, which the dump holds: the
	# restore makes their policies again (no grant_analyst() afterwards)
	is(policy_report($node, $db), $src{policies}, "$label: the row-level security policies, with their roles");
	is($node->safe_psql($db, $missing_stamps), '0 0',
		"$label: the restore stamped every tenant and collaborating contact");
	is(view_report($node, $db, 'app', $_), $src_view{"app $_"}, "$label: the application role sees the same as $_")
	  for @principals;
	is(view_report($node, $db, 'analyst', 'none'), $src_view{'analyst none'}, "$label: the analyst role sees the same")
	  if $has_analyst;
	is(token_report($node, $db), token_report($old, 'src'), "$label: a token issued before the dump still names its contact")
	  if $has_tokens;
	is(settings_report($node, $db), $src{settings}, "$label: the database and role settings")
	  if $opt{settings};

	# new rows get fresh ids, and the triggers work again
	my $new = $node->safe_psql($db, q{
		WITH t AS (INSERT INTO introw.tenants (name) VALUES ('After restore') RETURNING tenant_id),
		     o AS (INSERT INTO introw.partner_organizations (tenant_id, name)
		           SELECT tenant_id, 'After restore org' FROM t RETURNING tenant_id, org_id)
		INSERT INTO introw.partner_contacts (tenant_id, org_id, email)
		SELECT tenant_id, org_id, 'new@after.test' FROM o RETURNING tenant_id || ' ' || contact_id});
	is($new, $src{next_ids}, "$label: a new tenant and contact get the next ids of the original");
	my ($max_tenant, $max_contact) = split / /, $src{max_ids};
	my ($new_tenant, $new_contact) = split / /, $new;
	ok($new_tenant > $max_tenant && $new_contact > $max_contact, "$label: ... which no restored row has");
	is($node->safe_psql($db, "SELECT string_agg(name || ':' || preconfigured, ',' ORDER BY name)"
		  . " FROM introw.partner_roles WHERE tenant_id = $new_tenant"),
		'Partner Manager:true,Sales Rep:true,Solutions Engineer:true',
		"$label: the new tenant gets the preconfigured roles (tenants_preconfigure fires again)");
	return;
}

# --- dumps --------------------------------------------------------------
my ($rc, $out, $err) = run_client(undef, 'pg_dump', '-Fc', '-f', "$dir/src.dump", '-d', $old->connstr('src'));
is($rc, 0, 'pg_dump -Fc succeeds') or diag($err);
like($err, qr/circular foreign-key constraints among these tables:.*partner_organizations.*partner_contacts/s,
	'pg_dump warns of the circular foreign keys between organisations and contacts');
($rc, $out, $err) = run_client(undef, 'pg_restore', '-l', "$dir/src.dump");
my @data_order = map { /TABLE DATA introw (\S+)/ ? $1 : () } split /\n/, $out;
my %data_pos;
@data_pos{@data_order} = (0 .. $#data_order);
ok(defined $data_pos{partner_contacts} && $data_pos{partner_organizations} < $data_pos{partner_contacts},
	'the dump loads organisations before contacts (their champions wait for them)')
  or diag("data order: @data_order");
($rc, $out, $err) = run_client(undef, 'pg_dump', '-f', "$dir/src.sql", '-d', $old->connstr('src'));
is($rc, 0, 'pg_dump (plain) succeeds') or diag($err);
($rc, $out, $err) = run_client(undef, 'pg_dumpall', '--roles-only', '-f', "$dir/roles.sql", '-d', $old->connstr('postgres'));
is($rc, 0, 'pg_dumpall --roles-only succeeds') or diag($err);

# --- plain pg_restore: restore mode, no option needed ---------------------
$old->safe_psql('postgres', 'CREATE DATABASE plain');
($rc, $out, $err) = run_client(undef, 'pg_restore', '-d', $old->connstr('plain'), "$dir/src.dump");
is($rc, 0, 'plain pg_restore succeeds');
is($err, '', 'plain pg_restore reports nothing') or diag($err);
compare_restored($old, 'plain', 'plain pg_restore');
is($old->safe_psql('plain', q{
	SELECT (SELECT count(*) FROM introw.partner_organizations WHERE partner_champion_id IS NOT NULL)
	    || ' ' || (SELECT count(*) FROM introw.pending_champions)}),
	$old->safe_psql('src', 'SELECT count(*) FROM introw.partner_organizations WHERE partner_champion_id IS NOT NULL')
	  . ' 0',
	'plain pg_restore: every champion came back with its contact, none is left waiting');

# A new database of the old server, restored by one client run (its
# options in PGOPTIONS, if any): it succeeds and has every row.
sub restore_rows
{
	my ($db, $pgoptions, $label, $program, @args) = @_;
	$old->safe_psql('postgres', "CREATE DATABASE $db");
	my ($rc, $out, $err) = run_client($pgoptions, $program, '-d', $old->connstr($db), @args);
	is($rc, 0, "$label succeeds") or diag($err);
	is(table_report($old, $db), $src{tables}, "$label: every row of every table");
	return;
}

# --- plain pg_restore in one transaction; the plain dumps through psql -----
restore_rows('plain_single', undef, 'plain pg_restore --single-transaction',
	'pg_restore', '--single-transaction', '--exit-on-error', "$dir/src.dump");
restore_rows('plain_sql', undef, 'psql with the plain dump',
	'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', "$dir/src.sql");
($rc, $out, $err) = run_client(undef, 'pg_dump', '--inserts', '-f', "$dir/src_inserts.sql", '-d', $old->connstr('src'));
is($rc, 0, 'pg_dump --inserts succeeds') or diag($err);
restore_rows('plain_inserts', undef, 'psql with a dump of INSERTs',
	'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', "$dir/src_inserts.sql");

# --- parallel pg_restore: replica mode ------------------------------------
# Parallel workers load the tables' data at once, not in the order of
# their foreign keys: the keys' checks must be off.
restore_rows('parallel', $replica, 'replica mode: pg_restore -j 2',
	'pg_restore', '-j', '2', '--exit-on-error', "$dir/src.dump");

# --- into a new database of the same server: pg_restore in replica mode --
$old->safe_psql('postgres', 'CREATE DATABASE dst');
($rc, $out, $err) = run_client($replica, 'pg_restore', '--exit-on-error', '--single-transaction',
	'-d', $old->connstr('dst'), "$dir/src.dump");
is($rc, 0, 'replica mode: pg_restore --exit-on-error --single-transaction succeeds');
is($err, '', 'replica mode: pg_restore reports nothing');
compare_restored($old, 'dst', 'pg_restore into dst');
is($old->safe_psql('postgres',
	"SELECT count(*) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = 'dst'"),
	'0', 'pg_restore without --create carries no ALTER DATABASE / ALTER ROLE IN DATABASE setting');

# --- the plain dump through psql, in replica mode ------------------------
$old->safe_psql('postgres', 'CREATE DATABASE dst_plain');
($rc, $out, $err) = run_client($replica, 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction',
	'-d', $old->connstr('dst_plain'), '-f', "$dir/src.sql");
is($rc, 0, 'replica mode: psql restores the plain dump without error') or diag($err);
is(table_report($old, 'dst_plain'), $src{tables}, 'plain dump through psql: every row of every table');

# --- onto a new server: roles, then pg_restore --create ------------------
my $new = new_node('new');
($rc, $out, $err) = run_client(undef, 'psql', '-X', '-q', '-d', $new->connstr('postgres'), '-f', "$dir/roles.sql");
# the bootstrap superuser exists already: that one error is expected
my @errors = grep { /ERROR/ && !/role "[^"]+" already exists/ } split /\n/, $err;
is(scalar(@errors), 0, 'new server: the roles are created') or diag($err);
($rc, $out, $err) = run_client(undef, 'pg_restore', '--create', '--exit-on-error',
	'-d', $new->connstr('postgres'), "$dir/src.dump");
is($rc, 0, 'new server: pg_restore --create succeeds') or diag($err);
compare_restored($new, 'src', 'new server', settings => 1);

$new->stop;
$old->stop;
done_testing();
