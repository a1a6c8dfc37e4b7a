#!/bin/sh
# Runs every suite against the throwaway cluster pg_virtualenv made (PG*
# variables point at it): pg_regress and isolation specs (installcheck),
# pgTAP files (pg_prove), then the lints.  Prints one closing line with the
# counts and exits non-zero if anything failed.
set -u
cd "$(dirname "$0")/.."

passed=0
failed=0
log=$(mktemp)

count() {	# count LABEL PASSED FAILED
	echo "$1: $2 passed, $3 failed"
	passed=$((passed + $2))
	failed=$((failed + $3))
}

# pg_regress and pg_isolation_regress print one line per test: up to 15
# "name ... ok" / "name ... FAILED", from 16 on TAP ("ok 1 - name",
# "not ok 2 - name"); both formats are counted
{ make -s installcheck ISOLATION= ; make -s installcheck REGRESS= ; } >"$log" 2>&1
cat "$log"
ok=$(grep -cE '\.\.\. ok|^ok [0-9]+ ' "$log")
bad=$(grep -cE '\.\.\. (FAILED|failed)|^not ok [0-9]+ ' "$log")
[ "$ok" -gt 0 ] || bad=$((bad + 1))	# no test ran: a failure too
count "pg_regress and isolation" "$ok" "$bad"
[ -f regression.diffs ] && head -200 regression.diffs
[ -f output_iso/regression.diffs ] && head -200 output_iso/regression.diffs

# pgTAP: one database, each file brings its own org and rolls back
psql -X -q -c 'DROP DATABASE IF EXISTS leadflow_tap' -c 'CREATE DATABASE leadflow_tap' postgres
psql -X -q -d leadflow_tap -c 'CREATE EXTENSION pgtap' -c 'CREATE EXTENSION leadflow CASCADE'
pg_prove -d leadflow_tap --ext .sql -r test/pgtap >"$log" 2>&1
cat "$log"
total=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$log")
bad=$(sed -n 's/^Failed \([0-9]*\)\/[0-9]* subtests.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
grep -q '^Result: PASS' "$log" || bad=$((bad > 0 ? bad : 1))
count "pgTAP" "$(( ${total:-0} - bad ))" "$bad"

# TAP tests (test/t, PostgreSQL::Test::Cluster): crash recovery under load,
# streaming standby.  They start clusters of their own, loading the same
# module as this cluster: the settings that point this cluster at a private
# install (extension_destdir below 18, extension_control_path from 18 on,
# dynamic_library_path) are passed on.  initdb does not run as root, so root
# runs them as postgres, from a copy of test/t and data/ (the checkout may
# be where postgres cannot read).
module_conf=$(psql -X -A -t -q -d postgres -c "SELECT string_agg(name || ' = ' || quote_literal(setting), E'\n')
  FROM pg_settings WHERE name IN ('extension_destdir', 'extension_control_path', 'dynamic_library_path')
   AND source <> 'default'" 2>/dev/null)
pgxs_dir=$(dirname "$(dirname "$(pg_config --pgxs)")")
tapdir=$(mktemp -d /tmp/leadflow_tap.XXXXXX)
mkdir -p "$tapdir/src/test" && cp -R test/t "$tapdir/src/test/" && cp -R data "$tapdir/src/"
asuser=""
if [ "$(id -u)" -eq 0 ]; then chown -R postgres "$tapdir"; asuser="runuser -u postgres --"; fi
(cd "$tapdir/src" && $asuser env TESTDIR="$tapdir" PATH="$(pg_config --bindir):$PATH" \
	PERL5LIB="$pgxs_dir/test/perl:$tapdir/src/test/t" PG_REGRESS="$pgxs_dir/test/regress/pg_regress" \
	LEADFLOW_MODULE_CONF="${LEADFLOW_MODULE_CONF:-$module_conf}" \
	prove ${PROVE_FLAGS:-} ${TAP_TESTS:-test/t/*.pl}) >"$log" 2>&1
cat "$log"
total=$(sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\),.*/\1/p' "$log")
bad=$(sed -n 's/^Failed \([0-9]*\)\/[0-9]* subtests.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
grep -q '^Result: PASS' "$log" || { bad=$((bad > 0 ? bad : 1)); find "$tapdir" -name '*.log' -path '*log*' | head -20 | xargs tail -n 30; }
count "TAP (crash, standby)" "$(( ${total:-0} - bad ))" "$bad"
[ -n "${KEEP_TAP:-}" ] || rm -rf "$tapdir"

# every SQL example of the README runs
if sh test/readme.sh; then count "README examples" 1 0; else count "README examples" 0 1; fi

# make demo's load of the sample data through the real entry points
# (it must get to its last report: every journey chain intact)
if sh data/demo.sh > "$log" 2>&1 && grep -A2 'broken_links' "$log" | grep -qE '\| +0$'; then count "demo" 1 0; else cat "$log"; count "demo" 0 1; fi

# backup and restore of that database, the documented way
if sh test/dump_restore.sh; then count "dump and restore" 1 0; else count "dump and restore" 0 1; fi

# sqlsmith: a few thousand random queries as an application role against
# the demo's data (a copy of it); no crash, no XX000
if sh test/sqlsmith.sh 3000; then count "sqlsmith" 1 0; else count "sqlsmith" 0 1; fi

# the benchmark's smoke run: every figure is produced (no targets asserted)
if sh bench/run.sh quick > "$log" 2>&1; then count "bench smoke" 1 0; else cat "$log"; count "bench smoke" 0 1; fi

# phone.cpp's compact form of a plain number parses as the number as typed
if sh test/phone.sh; then count "phone compact form" 1 0; else count "phone compact form" 0 1; fi

# lints over the install script
if sh test/lint.sh; then count "lint" 1 0; else count "lint" 0 1; fi

# the layers of src/: every include points down
if sh test/layers.sh; then count "layers" 1 0; else count "layers" 0 1; fi

rm -f "$log"
echo "leadflow tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
