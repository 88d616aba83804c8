# A hot standby (read replica) of a database with introw_roles:
#  - every principal of the fixture (each partner contact, each active
#    internal user, and nobody) sees on the standby exactly what it sees on
#    the primary, in every table and view of schema introw that the
#    application role may read; the principals do not all see the same;
#  - a role change and a new collaboration committed on the primary are
#    honoured after replay by a standby backend that had already cached the
#    principals' visibility (autocommit, and the next statement of an open
#    READ COMMITTED transaction), while a REPEATABLE READ transaction keeps
#    its snapshot; a new standby session agrees;
#  - the CRM sync worker starts no run on the standby: crm_sync_runs there
#    holds exactly the primary's rows, a sync request is refused, and the
#    standby's postmaster never registers a run worker (the launcher idling in
#    pg_stat_activity and no run backend are asserted by 001_crm_sync.pl).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);
use File::Basename qw(dirname);
use Cwd qw(abs_path);

my $root = abs_path(dirname(__FILE__) . '/../..');

# the primary: worker preloaded, short naptime; a run fails at once
# (the fixture's CRM connection points at a closed port, no retries)
my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'introw_roles'
introw.database = 'postgres'
introw.crm_naptime = 1
introw.crm_max_retries = 0
introw.crm_timeout = 2000
log_min_messages = debug1
});
$primary->start;
$primary->safe_psql('postgres', 'CREATE EXTENSION introw_roles');
$primary->safe_psql('postgres', "\\i $root/test/fixture.sql");
$primary->safe_psql('postgres', q{
	CREATE ROLE app LOGIN;
	SELECT introw.grant_application('app');
});

# the fixture's names, resolved once (the application role cannot read fx)
my %fx = map { split /\|/ } split /\n/,
  $primary->safe_psql('postgres', "SELECT name || '|' || id FROM public.fx");

# the hot standby
$primary->backup('b1');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b1', has_streaming => 1);
$standby->append_conf('postgresql.conf', 'hot_standby_feedback = on');
$standby->start;
my $standby_started = time;
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');

# ---------------------------------------------------------------------------
# 1. Every principal sees the same on both nodes.
# ---------------------------------------------------------------------------

# the relations of schema introw the application role may read, with the
# columns it may read (crm_connections: not the token)
my @relations = map { [ split /\|/ ] } split /\n/, $primary->safe_psql('postgres', q{
	SELECT c.relname || '|' || string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
	FROM pg_class c
	JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'introw'
	JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f')
	  AND has_column_privilege('app', c.oid, a.attnum, 'SELECT')
	GROUP BY c.relname ORDER BY c.relname});
my %rel_names = map { $_->[0] => 1 } @relations;
ok(
	(grep { $rel_names{$_} } qw(tabs content_items partner_contacts crm_objects collaborators
	  tasks deals task_progress access_matrix crm_connections crm_sync_runs)) == 11
	  && !$rel_names{visibility_epochs},
	'the readable relations include the tables and views the policies guard')
  or diag(join(',', sort keys %rel_names));

# every partner contact, every active internal user, and no principal
my @principals = (
	[ 'nobody', 'SELECT introw.reset_principal()' ],
	map {
		my ($kind, $id, $email) = split /\|/;
		[ "$kind:$email", "SELECT introw.set_$kind($id)" ]
	} split /\n/,
	$primary->safe_psql('postgres', q{
		SELECT 'contact|' || contact_id || '|' || email FROM introw.partner_contacts
		UNION ALL
		SELECT 'user|' || user_id || '|' || email FROM introw.internal_users WHERE active
		ORDER BY 1}));
cmp_ok(scalar(@principals), '==', 1 + 7 + 6, 'seven contacts, six active users and nobody');

# one psql call per node: for each principal, set it, then one statement
# that digests every readable relation under one snapshot
my $digest_sql = '';
for my $p (@principals)
{
	my ($label, $set) = @$p;
	$digest_sql .= "$set;\n";
	$digest_sql .= 'SELECT ' . join("\nUNION ALL SELECT ",
		map {
			my ($rel, $cols) = @$_;
			"'$label|$rel|' || (SELECT md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), ''))"
			  . " || ':' || count(*) FROM (SELECT $cols FROM introw.$rel) r)"
		} @relations) . ";\n";
}

sub digests
{
	my ($node) = @_;
	my %d;
	for (split /\n/, $node->safe_psql('postgres', $digest_sql, extra_params => [ '-U', 'app' ]))
	{
		next unless /^([^|]+)\|(\w+)\|([0-9a-f]{32}:\d+)$/;
		$d{$1}{$2} = $3;
	}
	return \%d;
}
my $on_primary = digests($primary);
my $on_standby = digests($standby);

is(scalar(keys %$on_primary), scalar(@principals), 'a digest for every principal on the primary');
for my $p (@principals)
{
	my $label = $p->[0];
	my $a = $on_primary->{$label} // {};
	my $b = $on_standby->{$label} // {};
	is(scalar(keys %$a), scalar(@relations), "$label: every relation digested");
	my @differ = grep { ($a->{$_} // '') ne ($b->{$_} // 'missing') } sort keys %$a;
	is(join(',', @differ), '', "$label: the standby answers like the primary");
}

# the digests tell the principals apart
my %whole = map {
	my $d = $on_primary->{$_};
	($_ => join(',', map { $d->{$_} // '' } sort keys %$d))
} keys %$on_primary;
my %distinct = reverse %whole;
cmp_ok(scalar(keys %distinct), '>', 1, 'the principals do not all see the same');
is(scalar(keys %distinct), scalar(keys %whole), 'no two principals of the fixture see the same');
isnt($on_primary->{'contact:se@alpha.test'}{tabs}, $on_primary->{'contact:rep@alpha.test'}{tabs},
	'a solutions engineer and a sales rep of one organisation see different tabs');
like($on_primary->{nobody}{tabs}, qr/:0$/, 'nobody sees no tab');
like($on_primary->{'user:admin@acme.test'}{crm_connections}, qr/:1$/, 'an admin reads its CRM connection');

# an inactive user is refused on the standby as on the primary
my @refusals = map {
	my ($rc, $out, $err) = $_->psql('postgres',
		"\\set VERBOSITY terse\nSELECT introw.set_user($fx{off})", extra_params => [ '-U', 'app' ]);
	$err =~ s/^psql:[^E]*//;
	$err
} ($primary, $standby);
like($refusals[1], qr/ERROR/, 'an inactive user cannot be set on the standby');
is($refusals[1], $refusals[0], '(with the same error as on the primary)');

# ---------------------------------------------------------------------------
# 2. A change committed on the primary reaches standby backends that cached
#    the old visibility.
# ---------------------------------------------------------------------------

my $tabs_q = "SELECT string_agg(name, ',' ORDER BY name) FROM introw.tabs";
my $deals_q = "SELECT string_agg(name, ',' ORDER BY name) FROM introw.deals";
my $set_se = "SELECT introw.set_contact($fx{se})";
my $set_restricted = "SELECT introw.set_contact($fx{restricted})";
my $tabs_before = 'Alpha Plan,Sales Decks,Technical Docs,Welcome';
my $tabs_after = 'Alpha Plan,Alpha Pricing,Lead Forms,Sales Decks,Welcome';
my $deals_before = 'Alpha deal three';
my $deals_after = 'Alpha deal one,Alpha deal three';

sub as_app
{
	my ($node, $sql) = @_;
	# the last line: the setters before the query print an empty one
	my @lines = split /\n/, $node->safe_psql('postgres', $sql, extra_params => [ '-U', 'app' ]);
	return $lines[-1] // '';
}
is(as_app($primary, "$set_se; $tabs_q"), $tabs_before, 'the solutions engineer\'s tabs on the primary');

my %session;
for my $name (qw(auto rc rr))
{
	$session{$name} = $standby->background_psql('postgres', extra_params => [ '-U', 'app' ]);
}
$session{rc}->query_safe('BEGIN ISOLATION LEVEL READ COMMITTED');
$session{rr}->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
for my $name (qw(auto rc rr))
{
	my $s = $session{$name};
	$s->query_safe($set_restricted);
	is($s->query_safe($deals_q), $deals_before, "standby session ($name): the restricted contact's deals before");
	$s->query_safe($set_se);
	is($s->query_safe($tabs_q), $tabs_before, "standby session ($name): the solutions engineer's tabs before");
}

# on the primary: the solutions engineer becomes a sales rep (same tenant),
# the restricted contact collaborates on deal a1
$primary->safe_psql('postgres', qq{
	BEGIN;
	UPDATE introw.partner_contacts SET role_id = $fx{sales_rep} WHERE contact_id = $fx{se};
	INSERT INTO introw.collaborators (tenant_id, object_id, contact_id)
		SELECT tenant_id, object_id, $fx{restricted} FROM introw.crm_objects WHERE object_id = $fx{a1};
	COMMIT;
});
is(as_app($primary, "$set_se; $tabs_q"), $tabs_after, 'the new tabs on the primary');
is(as_app($primary, "$set_restricted; $deals_q"), $deals_after, 'the new deals on the primary');
$primary->wait_for_catchup($standby);

# the next statement of the same backends (the principal in force is the
# solutions engineer; the restricted contact's entry is set again)
is($session{auto}->query_safe($tabs_q), $tabs_after, 'standby session (autocommit): the next query shows the new tabs');
is($session{rc}->query_safe($tabs_q), $tabs_after,
	'standby session (open READ COMMITTED transaction): the next statement shows the new tabs');
is($session{rr}->query_safe($tabs_q), $tabs_before, 'standby session (REPEATABLE READ): the snapshot keeps the old tabs');
for my $name (qw(auto rc rr))
{
	my $s = $session{$name};
	$s->query_safe($set_restricted);
	is($s->query_safe($deals_q), $name eq 'rr' ? $deals_before : $deals_after,
		"standby session ($name): the restricted contact's deals set again");
	$s->query_safe($set_se);
}
$session{rr}->query_safe('COMMIT');
is($session{rr}->query_safe($tabs_q), $tabs_after, 'standby session (REPEATABLE READ): after its commit, the new tabs');
$session{rc}->query_safe('COMMIT');
$_->quit for values %session;
is(as_app($standby, "$set_se; $tabs_q"), $tabs_after, 'a new standby session shows the new tabs');
is(as_app($standby, "$set_restricted; $deals_q"), $deals_after, 'a new standby session shows the new deals');

# ---------------------------------------------------------------------------
# 3. The CRM worker starts nothing on the standby.
# ---------------------------------------------------------------------------

my $runs_q = q{SELECT count(*) || '|' || md5(coalesce(string_agg(r::text, E'\n' ORDER BY run_id), ''))
	FROM introw.crm_sync_runs r};
my ($runs_before) = split /\|/, $primary->safe_psql('postgres', $runs_q);

# a run on the primary, which replication brings to the standby
$primary->safe_psql('postgres', "SELECT introw.crm_sync_now($fx{acme})");
ok($primary->poll_query_until('postgres',
	"SELECT count(*) > $runs_before AND bool_and(status <> 'running') FROM introw.crm_sync_runs"),
	'a requested run finishes on the primary');
like($primary->safe_psql('postgres', 'SELECT status FROM introw.crm_sync_runs ORDER BY run_id DESC LIMIT 1'),
	qr/^failed$/, '(it failed: the CRM port is closed)');
$primary->wait_for_catchup($standby);
my $runs_primary = $primary->safe_psql('postgres', $runs_q);
is($standby->safe_psql('postgres', $runs_q), $runs_primary, 'crm_sync_runs on the standby: the primary\'s rows, replicated');

my ($rc, $out, $err) = $standby->psql('postgres', "SELECT introw.crm_sync_now($fx{acme})");
like($err, qr/read-only transaction/, 'a sync request is refused on the standby');

# several naptimes of the standby's launcher
my $wait = 4 - (time - $standby_started);
sleep $wait if $wait > 0;
is($standby->safe_psql('postgres', $runs_q), $primary->safe_psql('postgres', $runs_q),
	'crm_sync_runs still holds exactly the primary\'s rows');
my $standby_log = slurp_file($standby->logfile);
my $primary_log = slurp_file($primary->logfile);
like($standby_log, qr/starting background worker process "introw crm sync launcher"/,
	'the launcher was started on the standby');
like($primary_log, qr/registering background worker "introw crm sync"/,
	'(on the primary the launcher registers run workers)');
my @standby_runs = grep { /background worker "introw crm sync"/ } split /\n/, $standby_log;
is(scalar(@standby_runs), 0, 'the standby\'s launcher never asked for a run worker')
  or diag(join("\n", @standby_runs[ 0 .. ($#standby_runs < 4 ? $#standby_runs : 4) ]));

$standby->stop;
$primary->stop;
done_testing();
