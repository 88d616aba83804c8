# CRM role sync with a real cluster, the real worker and the project's fake
# HubSpot server (test/fake_hubspot.py) on 127.0.0.1.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(time sleep);
use File::Basename qw(dirname);
use Cwd qw(abs_path);

my $root = abs_path(dirname(__FILE__) . '/../..');
my $token = 'tok-very-secret-4711';
my $port = PostgreSQL::Test::Cluster::get_free_port();

# the fake CRM
my ($fake_out, $fake_err) = ('', '');
my $fake = IPC::Run::start([ 'python3', "$root/test/fake_hubspot.py", '--port', $port, '--token', $token ],
	'>', \$fake_out, '2>', \$fake_err);
sub fake
{
	my ($path, $json) = @_;
	my @cmd = ('python3', '-c', 'import sys,urllib.request as u; r=u.urlopen(u.Request(sys.argv[1], data=sys.argv[2].encode() if len(sys.argv)>2 else None, method="POST" if len(sys.argv)>2 else "GET")); print(r.read().decode())',
		"http://127.0.0.1:$port/_control/$path", defined $json ? ($json) : ());
	my ($out, $err);
	for my $try (1 .. 50)
	{
		return $out if IPC::Run::run(\@cmd, '>', \$out, '2>', \$err);
		sleep 0.1;
	}
	die "fake CRM unreachable: $err";
}
fake('reset-log', '{}');

my $node = PostgreSQL::Test::Cluster->new('primary');
$node->init(allows_streaming => 1);
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'introw_roles'
introw.database = 'postgres'
introw.crm_naptime = 1
introw.crm_min_interval = 50
introw.crm_timeout = 20000
introw.crm_page_size = 2
log_min_messages = debug1
restart_after_crash = on
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION introw_roles');
$node->safe_psql('postgres', "\\i $root/test/fixture.sql");
$node->safe_psql('postgres', qq{
	DELETE FROM introw.crm_sync_runs;
	UPDATE introw.crm_connections SET base_url = 'http://127.0.0.1:$port', access_token = '$token';
});

sub runs { $node->safe_psql('postgres', 'SELECT count(*) FROM introw.crm_sync_runs') }
sub sync_and_wait
{
	my $before = runs();
	$node->safe_psql('postgres', "SELECT introw.crm_sync_now(fx('acme'))");
	$node->poll_query_until('postgres',
		"SELECT count(*) > $before AND bool_and(status <> 'running') FROM introw.crm_sync_runs")
	  or die 'no sync run finished';
	return $node->safe_psql('postgres',
		"SELECT status || '|' || pages || '|' || fetched || '|' || applied || '|' || unchanged || '|' || rejected"
		  . " || '|' || coalesce(http_status::text, '') || '|' || coalesce(error, '')"
		  . ' FROM introw.crm_sync_runs ORDER BY run_id DESC LIMIT 1');
}
sub role_of
{
	my ($email) = @_;
	return $node->safe_psql('postgres',
		"SELECT coalesce(r.name, '-') || '|' || coalesce(c.role_source, '-') || '|' || coalesce(c.crm_contact_id, '-')"
		  . " FROM introw.partner_contacts c LEFT JOIN introw.partner_roles r USING (tenant_id, role_id)"
		  . " WHERE c.email = '$email'");
}

# the launcher shows itself
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'introw crm sync launcher'"),
	'the launcher is in pg_stat_activity');

# full sync: 5 CRM contacts, 2 per page
fake('contacts', '{"contacts": [
 {"id": "501", "email": "rep@alpha.test", "role": "partner manager", "modified": 1763632800000},
 {"id": "502", "email": "SE@alpha.test", "role": "", "modified": 1763632801000},
 {"id": "503", "email": "nobody@alpha.test", "role": "Sales Rep", "modified": 1763632802000},
 {"id": "504", "email": "mgr@alpha.test", "role": "Astronaut", "modified": 1763632803000},
 {"id": "505", "email": "norole@alpha.test", "role": " Sales Rep ", "modified": 1763632804000}]}');
is(sync_and_wait(), 'succeeded|3|5|3|0|2|200|', 'full sync: 3 pages, 3 applied, 2 rejected');
is(role_of('rep@alpha.test'), 'Partner Manager|crm|501', 'a role value, any case, applied as crm');
is(role_of('se@alpha.test'), 'Sales Rep|crm|502', 'an empty value gives the default role');
is(role_of('mgr@alpha.test'), 'Partner Manager|explicit|-', 'an unknown value leaves the contact unchanged');
is($node->safe_psql('postgres', 'SELECT string_agg(reason, \',\' ORDER BY crm_contact_id) FROM introw.crm_sync_rejects'
	  . ' WHERE run_id = (SELECT max(run_id) FROM introw.crm_sync_runs)'), 'unknown contact,unknown role value',
	'the rejects say why');
is($node->safe_psql('postgres', 'SELECT watermark FROM introw.crm_connections WHERE tenant_id = fx(\'acme\')'),
	'2025-11-20 10:00:04+00', 'the watermark is the newest lastmodifieddate applied');
my $log = fake('log');
like($log, qr/"limit": 2/, 'limit is sent');
like($log, qr/"value": "0"/, 'the first sync reads from the beginning');
like($log, qr/"propertyName": "lastmodifieddate", "direction": "ASCENDING"/, 'sorted by lastmodifieddate ascending');
like($log, qr/"properties": \["email", "lastmodifieddate", "partner_role"\]/, 'asks for email, lastmodifieddate and the role property');
like($log, qr/"after": "2"/, 'paging follows after');
like($log, qr/"auth": \["Bearer \Q$token\E"/, 'the bearer token is sent');

# incremental: one edit, read from the watermark minus the overlap window
fake('reset-log', '{}');
fake('contacts', '{"contacts": [
 {"id": "501", "email": "rep@alpha.test", "role": "partner manager", "modified": 1763632800000},
 {"id": "502", "email": "se@alpha.test", "role": "Solutions Engineer", "modified": 1763640000000}]}');
is(sync_and_wait(), 'succeeded|1|2|1|1|0|200|', 'incremental sync: the change, and 501 again from the overlap window');
like(fake('log'), qr/"value": "1763632744000"/, 'from the watermark minus 60 s');
is(role_of('se@alpha.test'), 'Solutions Engineer|crm|502', 'the change is applied');
is(sync_and_wait(), 'succeeded|1|1|0|1|0|200|', 're-reading the overlap is harmless (only 502 is recent enough now)');

# 429 with and without Retry-After, 5xx, then success
fake('failures', '{"queue": [{"status": 429, "retry_after": 1}, {"status": 429}, {"status": 503}, {"status": 502}]}');
my $t0 = time;
is(sync_and_wait(), 'succeeded|1|1|0|1|0|200|', '429 and 5xx are retried until success');
cmp_ok(time - $t0, '>=', 1, 'Retry-After was honoured');

# retries run out
$node->safe_psql('postgres', "ALTER SYSTEM SET introw.crm_max_retries = 1; SELECT pg_reload_conf()");
sleep 1.5;
fake('failures', '{"queue": [{"status": 500}, {"status": 500}]}');
like(sync_and_wait(), qr/^failed\|0\|0\|0\|0\|0\|500\|HTTP 500 after 1 retries$/, 'a 5xx that persists fails the run');
$node->safe_psql('postgres', "ALTER SYSTEM RESET introw.crm_max_retries; SELECT pg_reload_conf()");
sleep 1.5;

# malformed and truncated JSON, oversized bodies: the run fails, nothing applied
fake('failures', '{"queue": [{"truncate": true}]}');
like(sync_and_wait(), qr/^failed\|0\|.*CRM page not applied: invalid input syntax for type json/, 'truncated JSON fails the run');
$node->safe_psql('postgres', "ALTER SYSTEM SET introw.crm_max_response = '64kB'; SELECT pg_reload_conf()");
sleep 1.5;
fake('failures', '{"queue": [{"huge": 200000}]}');
like(sync_and_wait(), qr/^failed\|.*response body larger than 65536 bytes/, 'an oversized body fails the run');
$node->safe_psql('postgres', "ALTER SYSTEM RESET introw.crm_max_response; SELECT pg_reload_conf()");
sleep 1.5;

# 401: stop until the connection changes
fake('failures', '{"queue": [{"status": 401}]}');
like(sync_and_wait(), qr/^failed\|.*\|401\|HTTP 401: the CRM refused the access token/, '401 fails the run');
my $n = runs();
$node->safe_psql('postgres', "SELECT introw.crm_sync_now(fx('acme'))");
sleep 3;
is(runs(), $n, 'no retry while the connection is unchanged');
$node->safe_psql('postgres', "UPDATE introw.crm_connections SET access_token = '$token' || '' WHERE tenant_id = fx('acme')");
is(runs(), $n, 'rewriting the same token is no change');
$node->safe_psql('postgres', "UPDATE introw.crm_connections SET poll_interval = '1 hour' WHERE tenant_id = fx('acme')");
is(sync_and_wait(), 'succeeded|1|1|0|1|0|200|', 'a changed connection resumes');

# more than 10,000 results: the query restarts from the last lastmodifieddate
# seen; requests are paced under HubSpot's 5 per second (the fake answers
# 429 above that), so no request is refused
$node->safe_psql('postgres', "ALTER SYSTEM SET introw.crm_page_size = 200; ALTER SYSTEM SET introw.crm_min_interval = 250; SELECT pg_reload_conf()");
sleep 1.5;
$node->safe_psql('postgres', "UPDATE introw.crm_connections SET watermark = NULL WHERE tenant_id = fx('acme')");
fake('generate', '{"count": 10050, "start": 1763700000000}');
fake('reset-log', '{}');
$t0 = time;
is(sync_and_wait(), 'succeeded|51|10051|0|0|10051|200|', '10,050 contacts: 50 pages, a restart, 1 more page');
my $secs = time - $t0;
$log = fake('log');
my ($searches) = $log =~ /"searches": (\d+)/;
is($searches, 51, 'no request was refused or repeated');
like($log, qr/"value": "1763700009999"/, 'the restart reads from the last lastmodifieddate seen');
cmp_ok($secs, '>=', 50 * 0.25, 'paced at no more than 4 requests a second');
$node->safe_psql('postgres', "ALTER SYSTEM RESET introw.crm_page_size; ALTER SYSTEM RESET introw.crm_min_interval; SELECT pg_reload_conf()");
sleep 1.5;
$node->safe_psql('postgres', "DELETE FROM introw.crm_sync_rejects");
fake('contacts', '{"contacts": [
 {"id": "501", "email": "rep@alpha.test", "role": "partner manager", "modified": 1763632800000},
 {"id": "502", "email": "se@alpha.test", "role": "Solutions Engineer", "modified": 1763640000000}]}');
$node->safe_psql('postgres', "UPDATE introw.crm_connections SET watermark = '2025-11-20 12:00:00+00' WHERE tenant_id = fx('acme')");

# crm_sync_now wakes the sleeping launcher at commit (naptime 10 minutes)
$node->safe_psql('postgres', "ALTER SYSTEM SET introw.crm_naptime = '10min'; SELECT pg_reload_conf()");
sleep 2;    # the launcher is asleep for 10 minutes now
$t0 = time;
is(sync_and_wait(), 'succeeded|1|1|0|1|0|200|', 'a requested run happens while the launcher naps');
cmp_ok(time - $t0, '<', 10, 'crm_sync_now woke the launcher at commit');
$node->safe_psql('postgres', "BEGIN; SELECT introw.crm_sync_now(fx('acme')); ROLLBACK;");
$n = runs();
sleep 3;
is(runs(), $n, 'a rolled-back request wakes nobody');
$node->safe_psql('postgres', "ALTER SYSTEM RESET introw.crm_naptime; SELECT pg_reload_conf()");
sleep 1.5;

# a request slower than introw.crm_timeout is abandoned and counted as failed
$node->safe_psql('postgres', "ALTER SYSTEM SET introw.crm_timeout = '1s'; ALTER SYSTEM SET introw.crm_max_retries = 0; SELECT pg_reload_conf()");
sleep 1.5;
fake('failures', '{"queue": [{"delay": 4}]}');
$t0 = time;
like(sync_and_wait(), qr/^failed\|0\|0\|.*HTTP request failed: Timeout was reached/, 'a timeout fails the run');
cmp_ok(time - $t0, '<', 4, 'after introw.crm_timeout, not after the slow answer');
$node->safe_psql('postgres', "ALTER SYSTEM RESET introw.crm_timeout; ALTER SYSTEM RESET introw.crm_max_retries; SELECT pg_reload_conf()");
sleep 1.5;

# SIGTERM in the middle of a slow request: the run worker ends within a second
fake('failures', '{"queue": [{"delay": 30}]}');
$node->safe_psql('postgres', "SELECT introw.crm_sync_now(fx('acme'))");
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'introw crm sync' AND query LIKE 'introw: syncing tenant%'"),
	'the run shows what it does in pg_stat_activity');
sleep 0.5;
my $pid = $node->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE backend_type = 'introw crm sync'");
$t0 = time;
$node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)");
$node->poll_query_until('postgres', "SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = $pid");
cmp_ok(time - $t0, '<', 2, 'SIGTERM ends a run stuck in a slow request at once');

# kill -9: the postmaster restarts, the next run closes the interrupted one
# and resumes from the watermark; nothing half-applied
fake('contacts', '{"contacts": [
 {"id": "501", "email": "rep@alpha.test", "role": "Sales Rep", "modified": 1763650000000},
 {"id": "502", "email": "se@alpha.test", "role": "Sales Rep", "modified": 1763650001000}]}');
fake('failures', '{"queue": [{"delay": 30}]}');
$node->safe_psql('postgres', "SELECT introw.crm_sync_now(fx('acme'))");
$node->poll_query_until('postgres', "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'introw crm sync'");
$pid = $node->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE backend_type = 'introw crm sync'");
kill 'KILL', $pid;
ok($node->poll_query_until('postgres', "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'introw crm sync launcher'"),
	'the launcher is back after the crash');
is(sync_and_wait(), 'succeeded|1|2|2|0|0|200|', 'the next run applies the page whole');
is($node->safe_psql('postgres', "SELECT count(*) FROM introw.crm_sync_runs WHERE status = 'running'"), '0', 'no run is left running');
like($node->safe_psql('postgres', "SELECT error FROM introw.crm_sync_runs WHERE error LIKE 'interrupted%' LIMIT 1"),
	qr/interrupted/, 'the killed run is recorded as interrupted');

is($node->safe_psql('postgres', "SELECT count(*) FROM introw.crm_sync_runs WHERE error LIKE '%$token%'"), '0',
	'the access token is in no run row');
cmp_ok($node->safe_psql('postgres', "SELECT count(*) FROM introw.crm_sync_runs WHERE error IS NOT NULL"), '>', 5,
	'(several failed runs were recorded)');

# DROP DATABASE is never blocked by the worker, also in a slow request
$node->safe_psql('postgres', 'CREATE DATABASE syncdb');
$node->safe_psql('syncdb', 'CREATE EXTENSION introw_roles');
$node->safe_psql('syncdb', "\\i $root/test/fixture.sql");
$node->safe_psql('syncdb', "UPDATE introw.crm_connections SET base_url = 'http://127.0.0.1:$port', access_token = '$token'");
$node->safe_psql('postgres', "ALTER SYSTEM SET introw.database = 'syncdb'; SELECT pg_reload_conf()");
sleep 1.5;
fake('failures', '{"queue": [{"delay": 30}]}');
$node->safe_psql('syncdb', "SELECT introw.crm_sync_now(fx('acme'))");
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'introw crm sync' AND datname = 'syncdb'"),
	'a run is connected to syncdb');
$t0 = time;
$node->safe_psql('postgres', 'DROP DATABASE syncdb');
cmp_ok(time - $t0, '<', 3, 'DROP DATABASE went through while the run waited on the CRM');
$node->safe_psql('postgres', "ALTER SYSTEM RESET introw.database; SELECT pg_reload_conf()");

# DROP EXTENSION while a run waits on the CRM: not blocked; the run ends
# when its answer comes, with no error and no crash; the launcher goes on
fake('reset-log', '{}');
fake('failures', '{"queue": [{"delay": 3}]}');
$node->safe_psql('postgres', "SELECT introw.crm_sync_now(fx('acme'))");
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'introw crm sync' AND datname = 'postgres'"
	  . " AND query LIKE 'introw: syncing tenant%'"),
	'a run is syncing in postgres');
my $log_at = -s $node->logfile;
$t0 = time;
$node->safe_psql('postgres', 'DROP EXTENSION introw_roles CASCADE');
cmp_ok(time - $t0, '<', 2, 'DROP EXTENSION went through while the run waited on the CRM');
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'introw crm sync'"), 'the run ended');
like(fake('log'), qr/"searches": 1\b/, 'the run made its (slow) search');
$log = slurp_file($node->logfile, $log_at);
unlike($log, qr/ERROR|terminated by signal|exited with exit code [1-9]/, 'the run ended without an error or a crash');
like($log, qr/is not installed in database "postgres", the CRM sync run ends/, 'the run saw the extension gone');
$node->safe_psql('postgres', 'CREATE EXTENSION introw_roles');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'introw crm sync launcher'"),
	'1', 'the launcher runs on after DROP and CREATE EXTENSION');

# a hot standby: the launcher idles, no run starts
$node->backup('b1');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($node, 'b1', has_streaming => 1);
$standby->start;
ok($standby->poll_query_until('postgres',
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'introw crm sync launcher' AND query = 'standby: idle'"),
	'the launcher idles on the standby');
sleep 2;
is($standby->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'introw crm sync'"),
	'0', 'no sync run on the standby');
$standby->stop;

# the token is in no log, no run row and no error
$node->stop;
my $server_log = slurp_file($node->logfile);
# (the test's own statements are logged with log_statement = all; nothing
# else -- no worker, error or debug line -- may carry the token)
my @leaks = grep { /\Q$token\E/ && !/001_crm_sync\.pl LOG:  statement: / } split /\n/, $server_log;
is(scalar(@leaks), 0, 'the access token is in no server log line but the test client\'s own statements')
  or diag(join("\n", @leaks));
like($server_log, qr/introw crm sync/, '(the log does hold the worker\'s lines)');

$fake->kill_kill;
done_testing();
