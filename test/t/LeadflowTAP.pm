# Shared set-up of the TAP tests in test/t (PostgreSQL::Test::Cluster).
#
# The nodes load the leadflow module the other suites use: the installed
# one, or a private install when the environment names it, as test/run.sh
# does from the cluster it runs in (Debian's extension_destdir):
#   LEADFLOW_EXTENSION_DESTDIR, LEADFLOW_DYNAMIC_LIBRARY_PATH
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
	$conf .= "extension_destdir = '$ENV{LEADFLOW_EXTENSION_DESTDIR}'\n"
	  if $ENV{LEADFLOW_EXTENSION_DESTDIR};
	$conf .= "dynamic_library_path = '$ENV{LEADFLOW_DYNAMIC_LIBRARY_PATH}'\n"
	  if $ENV{LEADFLOW_DYNAMIC_LIBRARY_PATH};
	$node->append_conf('postgresql.conf', $conf);
	return $node;
}

1;
