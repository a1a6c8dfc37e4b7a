# Crash safety (spec §10): SIGKILL the postmaster (and its children, as a
# machine crash would) in the middle of a concurrent capture load, restart,
# and check that every acknowledged lead is there and none is half-written:
# each has its journey, live leads own their email claims, the reps' open
# lead counts match a recount, verify_journey is clean, amcheck is clean on
# every leadflow index.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use Time::HiRes qw(usleep);
use LeadflowTAP;

my $sessions = 4;
my $statements = 4000;    # per session; the kill comes long before the end

my $node = leadflow_node('crash');
$node->start;
$node->safe_psql('postgres', q{
CREATE EXTENSION leadflow CASCADE;
CREATE EXTENSION amcheck;
INSERT INTO leadflow.orgs (org_id, name) VALUES (1, 'Crash Org');
INSERT INTO leadflow.teams (org_id, team_id, name, strategy)
VALUES (1, 11, 'Rotation', 'round_robin'), (1, 12, 'Balance', 'load_balanced');
INSERT INTO leadflow.reps (org_id, rep_id, team_id, name, max_open_leads)
VALUES (1, 101, 11, 'A', NULL), (1, 102, 11, 'B', NULL), (1, 103, 11, 'C', NULL),
       (1, 201, 12, 'D', 100000), (1, 202, 12, 'E', 100000);
INSERT INTO leadflow.routing_rules (org_id, position, name, predicate, assign_to, team_id)
VALUES (1, 1, 'Germany', '{"field": "country", "op": "eq", "value": "DE"}', 'team', 12),
       (1, 2, 'Everyone', '{"field": "email", "op": "exists"}', 'team', 11);
INSERT INTO leadflow.scoring_rules (org_id, model_id, name, category, predicate, points)
SELECT 1, model_id, 'Germany', 'demographic', '{"field": "country", "op": "eq", "value": "DE"}', 10
  FROM leadflow.scoring_models WHERE org_id = 1;
INSERT INTO leadflow.company_profiles (org_id, domain, provider, industry, company_size)
VALUES (1, 'c1.example', 'vendor', 'Software', 500);
});

# Each session: autocommit INSERTs and capture() calls, each printing the
# id it got.  psql prints a result only after the server's CommandComplete,
# which follows the commit: a printed id is an acknowledged lead.  One email
# in five comes from a pool all sessions share (concurrent duplicates).
my $tmp = PostgreSQL::Test::Utils::tempdir;
my (@harness, @out, @err);
for my $s (1 .. $sessions)
{
	my $sql = '';
	for my $i (1 .. $statements)
	{
		my $email = $i % 5 == 0 ? 'shared' . ($i % 40) . '@c' . ($i % 7) . '.example'
		  : "s$s-$i\@c" . ($i % 7) . '.example';
		my $country = $i % 3 == 0 ? 'DE' : 'US';
		if ($i % 4 == 0)
		{
			$sql .= "SELECT lead_id FROM leadflow.capture(1, 'api', "
			  . "'{\"email\": \"$email\", \"country\": \"$country\", \"company\": \"C$i\"}');\n";
		}
		else
		{
			$sql .= "INSERT INTO leadflow.leads (org_id, email, country, source) "
			  . "VALUES (1, '$email', '$country', 'web') RETURNING lead_id;\n";
		}
	}
	my $file = "$tmp/session$s.sql";
	open(my $fh, '>', $file) or die "$file: $!";
	print $fh $sql;
	close $fh;
	$out[$s] = $err[$s] = '';
	push @harness,
	  IPC::Run::start([ 'psql', '-X', '-A', '-t', '-q', '-d', $node->connstr('postgres'), '-f', $file ],
		'<', \undef, '>', \$out[$s], '2>', \$err[$s]);
}

# let the load run until a good number of leads are in
my $in = 0;
for (1 .. 600)
{
	$in = $node->safe_psql('postgres', 'SELECT count(*) FROM leadflow.leads');
	last if $in >= 1500;
	last unless grep { $_->pumpable } @harness;
	usleep(50_000);
	$_->pump_nb for @harness;
}
cmp_ok($in, '>=', 100, "load running ($in leads committed before the kill)")
  or diag(join("\n", grep { $_ ne '' } @err[ 1 .. $sessions ]));

# SIGKILL the postmaster, then every process it had started
my $postmaster = $node->{_pid};
my @children;
opendir(my $proc, '/proc') or die "no /proc: $!";
for my $pid (grep { /^\d+$/ } readdir $proc)
{
	open(my $st, '<', "/proc/$pid/stat") or next;
	my $stat = <$st>;
	close $st;
	push @children, $pid if defined $stat && $stat =~ /^\d+ \(.*\) \S (\d+)/ && $1 == $postmaster;
}
closedir $proc;
$node->kill9;
kill 'KILL', @children;
note 'killed the postmaster and ' . scalar(@children) . ' children';

# the clients see the connection go and exit; wait for the old processes
$_->finish for @harness;
for (1 .. 100)
{
	last unless grep { kill 0, $_ } $postmaster, @children;
	usleep(100_000);
}

my @acked = map { /^(\d+)$/ ? $1 : () } map { split /\n/ } @out[ 1 .. $sessions ];
cmp_ok(scalar(@acked), '>', 0, scalar(@acked) . ' leads acknowledged before the kill');
cmp_ok(scalar(@acked), '<', $sessions * $statements, 'the kill came in the middle of the load');

$node->start;

$node->safe_psql('postgres',
	'CREATE TABLE acked (lead_id bigint); INSERT INTO acked VALUES ('
	  . join('), (', @acked) . ')');

note 'after recovery: '
  . $node->safe_psql('postgres', 'SELECT count(*) FROM leadflow.leads')
  . ' leads, ' . scalar(@acked) . ' of them acknowledged (the rest committed, the answer lost)';

is($node->safe_psql('postgres', q{
SELECT count(*) FROM acked a
 WHERE NOT EXISTS (SELECT FROM leadflow.leads l WHERE l.org_id = 1 AND l.lead_id = a.lead_id)}),
	'0', 'every acknowledged lead is there');

is($node->safe_psql('postgres', q{
SELECT count(*) FROM leadflow.leads l
 WHERE NOT EXISTS (SELECT FROM leadflow.lead_journey j
                    WHERE j.org_id = l.org_id AND j.lead_id = l.lead_id AND j.seq = 1 AND j.kind = 'created')}),
	'0', 'every lead has its journey from the start');

is($node->safe_psql('postgres', q{
SELECT count(*) FROM leadflow.lead_journey j
 WHERE NOT EXISTS (SELECT FROM leadflow.leads l WHERE l.org_id = j.org_id AND l.lead_id = j.lead_id)}),
	'0', 'no journey rows of a lead that is not there');

is($node->safe_psql('postgres', q{
SELECT count(*) FROM leadflow.leads l
 WHERE l.merged_into IS NULL AND l.email_normalized IS NOT NULL
   AND NOT EXISTS (SELECT FROM leadflow.lead_emails e
                    WHERE e.org_id = l.org_id AND e.email_normalized = l.email_normalized
                      AND e.lead_id = l.lead_id)}),
	'0', 'every live lead owns its email claim');

is($node->safe_psql('postgres', q{
SELECT count(*) FROM leadflow.lead_emails e
 WHERE NOT EXISTS (SELECT FROM leadflow.leads l
                    WHERE l.org_id = e.org_id AND l.lead_id = e.lead_id AND l.merged_into IS NULL)}),
	'0', 'no email claim of a lead that is not live');

is($node->safe_psql('postgres', q{
SELECT count(*) FROM (SELECT email_normalized FROM leadflow.leads
                       WHERE org_id = 1 AND merged_into IS NULL AND erased_at IS NULL
                       GROUP BY 1 HAVING count(*) > 1) d}),
	'0', 'no email has two live leads');

is($node->safe_psql('postgres', q{
SELECT count(*) FROM leadflow.leads m
 WHERE m.merged_into IS NOT NULL
   AND NOT EXISTS (SELECT FROM leadflow.leads s WHERE s.org_id = m.org_id AND s.lead_id = m.merged_into)}),
	'0', 'every merged lead points at a lead that is there');

is($node->safe_psql('postgres', q{
SELECT count(*) FROM leadflow.leads WHERE org_id = 1 AND merged_into IS NULL AND owner_rep_id IS NULL}),
	'0', 'every live lead has an owner');

is($node->safe_psql('postgres', q{
SELECT string_agg(r.rep_id || ': ' || COALESCE(rl.open_leads, 0) || ' <> ' || n.open, ', ')
  FROM leadflow.reps r
  LEFT JOIN leadflow.rep_load rl ON rl.org_id = r.org_id AND rl.rep_id = r.rep_id
  CROSS JOIN LATERAL (SELECT count(*) AS open FROM leadflow.leads l
                       WHERE l.org_id = r.org_id AND l.owner_rep_id = r.rep_id
                         AND l.merged_into IS NULL AND l.erased_at IS NULL
                         AND l.status IN ('new', 'contacted', 'qualified', 'nurture')) n
 WHERE COALESCE(rl.open_leads, 0) <> n.open}),
	'', 'open-lead counts of the reps match a recount');

is($node->safe_psql('postgres', 'SELECT count(*) FROM leadflow.verify_journey(1)'),
	'0', 'verify_journey: every chain intact');

my $indexes = $node->safe_psql('postgres', q{
SELECT count(*) FROM (
  SELECT bt_index_check(c.oid, true)
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
   WHERE am.amname = 'btree' AND c.relnamespace = 'leadflow'::regnamespace) s});
cmp_ok($indexes, '>', 10, "amcheck: $indexes leadflow btree indexes check clean (with heapallindexed)");

is($node->safe_psql('postgres', q{
SELECT outcome FROM leadflow.capture(1, 'web', '{"email": "after@c1.example"}')}),
	'created', 'capture works after recovery');

$node->stop;
done_testing();
