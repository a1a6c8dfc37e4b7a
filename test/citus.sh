#!/bin/sh
# `make test-citus`: a Citus cluster of a coordinator and two workers, plus
# one plain node for comparison, each a pg_ctl cluster on loopback in a temp
# dir; leadflow installed on all of them (CREATE EXTENSION ... CASCADE on
# the coordinator reaches the workers), leadflow.distribute() on the
# coordinator, then the checks of test/citus_checks.sh through the
# coordinator.  Skips with one line when Citus is not installed for this
# PostgreSQL, so `make test` and CI stay as they are without it.
#
# Usage (the Makefile's private_run): sh test/citus.sh [-o 'name=value']...
# sh CHECKS -- every -o setting goes into each node's postgresql.conf (the
# private install of the module).  CITUS_PORT (default 5481) is the
# coordinator's port; the workers and the plain node take the next free
# ones up to CITUS_PORT + 8.
set -u
cd "$(dirname "$0")/.."

sharedir=$(pg_config --sharedir)
if [ ! -f "$sharedir/extension/citus.control" ]; then
	echo "test-citus: skipped, Citus is not installed for PostgreSQL $(pg_config --version | sed 's/[^0-9]*\([0-9]*\).*/\1/') (no $sharedir/extension/citus.control)"
	exit 0
fi

conf=""
while [ $# -gt 0 ] && [ "$1" = "-o" ]; do
	# name=value as pg_virtualenv takes it; the value quoted for the file
	conf="$conf${2%%=*} = '$(printf '%s' "${2#*=}" | sed "s/'/''/g")'
"
	shift 2
done
checks=${2:-test/citus_checks.sh}

bindir=$(pg_config --bindir)
port=${CITUS_PORT:-5481}
base=$(mktemp -d /tmp/leadflow-citus.XXXXXX)
chmod 755 "$base"
asuser=""
if [ "$(id -u)" -eq 0 ]; then chown postgres "$base"; asuser="runuser -u postgres --"; fi
nodes="coord w1 w2 single"

stop_all() {
	for n in $nodes; do
		[ -f "$base/$n/postmaster.pid" ] && $asuser "$bindir/pg_ctl" -D "$base/$n" -m immediate stop >/dev/null 2>&1
	done
	[ -n "${KEEP_CITUS:-}" ] || rm -rf "$base"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

p=$port
for n in $nodes; do
	$asuser "$bindir/initdb" -D "$base/$n" -A trust -U postgres --encoding=UTF8 --locale=C.UTF-8 >"$base/$n.initdb.log" 2>&1 ||
		{ cat "$base/$n.initdb.log"; exit 1; }
	preload="citus"
	[ "$n" = single ] && preload=""
	cat >>"$base/$n/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$base'
shared_preload_libraries = '$preload'
max_connections = 120
max_prepared_transactions = 120
wal_level = logical
fsync = off
$conf
EOF
	# the next free port (other clusters on this machine may hold some)
	until $asuser "$bindir/pg_ctl" -D "$base/$n" -l "$base/$n.log" -o "-p $p" -w start >/dev/null; do
		grep -q 'Address already in use' "$base/$n.log" && [ $p -lt $((port + 8)) ] || { cat "$base/$n.log"; exit 1; }
		p=$((p + 1))
	done
	eval "port_$n=$p"
	p=$((p + 1))
done

export PGHOST=127.0.0.1 PGUSER=postgres PGDATABASE=leadflow
for n in $nodes; do
	eval "psql -X -q -v ON_ERROR_STOP=1 -p \$port_$n -d postgres -c 'CREATE DATABASE leadflow'" || exit 1
done
for n in coord w1 w2; do
	eval "psql -X -q -v ON_ERROR_STOP=1 -p \$port_$n -c 'CREATE EXTENSION citus'" >/dev/null || exit 1
done
# shellcheck disable=SC2154
psql -X -q -v ON_ERROR_STOP=1 -p "$port_coord" >/dev/null <<EOF || exit 1
SELECT citus_set_coordinator_host('127.0.0.1', $port_coord);
SELECT citus_add_node('127.0.0.1', $port_w1);
SELECT citus_add_node('127.0.0.1', $port_w2);
CREATE EXTENSION leadflow CASCADE;
SELECT leadflow.distribute();
EOF
# shellcheck disable=SC2154
psql -X -q -v ON_ERROR_STOP=1 -p "$port_single" -c 'CREATE EXTENSION leadflow CASCADE' >/dev/null || exit 1

export CITUS_COORD=$port_coord CITUS_W1=$port_w1 CITUS_W2=$port_w2 CITUS_SINGLE=$port_single CITUS_BASE=$base
sh "$checks"
rc=$?
if [ $rc -ne 0 ]; then
	for n in $nodes; do echo "--- $n.log (tail)"; tail -n 30 "$base/$n.log"; done
fi
exit $rc
