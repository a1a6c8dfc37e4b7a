# Shared set-up of the TAP tests in test/t (PostgreSQL::Test::Cluster).
#
# The nodes load the leadflow module the other suites use: the installed
# one, or a private install when the environment names it, as test/run.sh
# does from the cluster it runs in: LEADFLOW_MODULE_CONF holds the
# postgresql.conf lines (extension_destdir below 18, extension_control_path
# from 18 on, dynamic_library_path).
package LeadflowTAP;

use strict;
use warnings;
use Exporter 'import';
use PostgreSQL::Test::Cluster;

our @EXPORT = qw(leadflow_node);

# leadflow_node(NAME, INIT_OPTIONS...): an initialized (not started) node
sub leadflow_node
{
	my ($name, %init) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init(%init);
	my $conf = "max_connections = 40\n";
	$conf .= "$ENV{LEADFLOW_MODULE_CONF}\n" if $ENV{LEADFLOW_MODULE_CONF};
	$node->append_conf('postgresql.conf', $conf);
	return $node;
}

1;
