# Read replicas (spec §9, §10): with the sample data set loaded on a
# primary, every report view returns the same rows on a streaming standby
# as on the primary.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use LeadflowTAP;

my $primary = leadflow_node('primary', allows_streaming => 1);
$primary->start;
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

# the sample data through the real entry points (make demo's script, run
# from the top of the repository for its \copy paths)
my ($stdout, $stderr);
my $ok = $primary->psql('postgres', undef, extra_params => [ '-v', 'ON_ERROR_STOP=1', '-f', 'data/demo.sql' ],
	stdout => \$stdout, stderr => \$stderr, on_error_die => 0);
is($ok, 0, 'sample data loaded on the primary') or diag($stderr);
$primary->wait_for_catchup($standby, 'replay');

is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is a standby');

my @views = split /\n/, $primary->safe_psql('postgres', q{
SELECT c.relname FROM pg_class c
 WHERE c.relnamespace = 'leadflow'::regnamespace AND c.relkind = 'v'
   AND (c.relname LIKE 'report\_%' OR c.relname IN ('unassigned_queue', 'manager_queue', 'possible_duplicates'))
 ORDER BY 1});

# Columns that move with the clock (hours since ...) differ between two
# reads a moment apart on any two sessions; they are left out.
my %clock = map { $_ => 1 } qw(hours_in_stage hours_since_touch);
my %contract = map { $_ => 1 } qw(report_lead_volume report_source_performance report_funnel
  report_rep_performance report_lead_aging report_response_times report_routing
  report_shadow_routing report_score_distribution report_duplicates
  report_enrichment_coverage report_rep_load unassigned_queue manager_queue possible_duplicates);
is(scalar(grep { $contract{$_} } @views), scalar(keys %contract),
	'all ' . scalar(keys %contract) . ' report views of the contract are there (' . scalar(@views) . ' in all)');
for my $view (@views)
{
	my @cols = grep { !$clock{$_} } split /\n/, $primary->safe_psql('postgres', qq{
SELECT a.attname FROM pg_attribute a
 WHERE a.attrelid = 'leadflow.$view'::regclass AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum});
	my $list = join(', ', map { qq{"$_"} } @cols);
	my $query = "SELECT ROW($list)::text AS r FROM leadflow.$view ORDER BY 1";
	my $on_primary = $primary->safe_psql('postgres', $query);
	my $on_standby = $standby->safe_psql('postgres', $query);
	my $rows = $on_primary eq '' ? 0 : scalar(split /\n/, $on_primary);
	# the views of the contract all have rows with the sample data (so
	# the comparison is not of two empty sets); newer ones may be empty
	if ($contract{$view}) { cmp_ok($rows, '>', 0, "$view has rows on the primary ($rows)"); }
	else { note "$view: $rows rows on the primary"; }
	is($on_standby, $on_primary, "$view: the same $rows rows on the standby");
}

$standby->stop;
$primary->stop;
done_testing();
