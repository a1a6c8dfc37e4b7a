#!/bin/sh
# Instructions per row of process_import (issue 18): callgrind on the
# backend of one `SELECT * FROM leadflow.process_import(1, batch)` of
# IMPORT_N staged rows of the bench lead stream (bench/setup.sql, 12%
# repeating an earlier email) into an org of IMPORT_EXIST leads, bench
# set-up.  Instruction counts do not move with the load of a shared
# machine, as times do; run it at two sizes to see whether the cost per
# row stays flat.  Works on the module of the cluster it runs in, 0.1.0
# or now (the staged columns are those 0.1.0's lead_imports has too):
#
#   make profile-import IMPORT_N=20000             # this tree
#   make profile-import IMPORT_N=20000 IMPORT_VERSION=0.1.0
#
# Runs inside a throwaway cluster (PG* variables point at it, as a
# superuser): sets the database up through the server, stops it, runs the
# call in a single-user backend under valgrind --tool=callgrind
# (collecting from PortalRun and CommitTransactionCommand, as profile.sh
# does), starts the server again and checks the counts the call returned.
# The result line and the raw callgrind.out go to bench/out/profile/.
set -eu
cd "$(dirname "$0")/.."

N=${IMPORT_N:-20000}
EXIST=${IMPORT_EXIST:-20000}
OUT=bench/out/profile
DB=lf_import_prof
BATCH=42
# jit = off as in the bench databases: a single-user backend does not apply
# the database's setting
JIT=${IMPORT_JIT:-off}
# the lead_imports columns 0.1.0 has, filled from the stream
COLS="first_name, last_name, email, phone, company, job_title, industry, company_size, annual_revenue, country, city, source, campaign"
LCOLS="first_name, last_name, email, phone, company, job_title, industry, company_size, annual_revenue, country, city, source, campaign, attributes"

note() { echo "import_profile: $(date +%H:%M:%S) $*" >&2; }
run() { psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c 'SET client_min_messages = warning' -c "$2" >/dev/null; }
val() { psql -X -qAt -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

command -v valgrind >/dev/null || { echo "import_profile: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
mkdir -p "$OUT"
TMP=$(mktemp -d /tmp/leadflow-import-profile.XXXXXX)
chmod 777 "$TMP"
trap 'rm -rf "$TMP"' EXIT

note "setting up: org 1 of the bench, $EXIST leads, $N rows staged in lead_imports"
run postgres "DROP DATABASE IF EXISTS $DB"
run postgres "CREATE DATABASE $DB"
run $DB "ALTER DATABASE $DB SET jit = off"
run $DB 'CREATE EXTENSION leadflow CASCADE'
psql -X -q -v ON_ERROR_STOP=1 -d $DB -f bench/setup.sql >/dev/null
run $DB "SELECT bench.setup_org(1, 4, 100, 500, 40)"
run $DB "CREATE UNLOGGED TABLE bench.src AS SELECT * FROM bench.gen_leads(1, $((EXIST + N)))"
run $DB "ALTER TABLE bench.src ADD PRIMARY KEY (i)"
run $DB "INSERT INTO leadflow.leads (org_id, $LCOLS) SELECT 1, $LCOLS FROM bench.src WHERE i <= $EXIST ORDER BY i"
run $DB "INSERT INTO leadflow.lead_imports (org_id, batch_id, $COLS)
         SELECT 1, $BATCH, $COLS FROM bench.src WHERE i > $EXIST ORDER BY i"
run $DB 'VACUUM ANALYZE'
run $DB CHECKPOINT
version=$(val $DB "SELECT extversion FROM pg_extension WHERE extname = 'leadflow'")
datadir=$(val postgres 'SHOW data_directory')
conf=$(val postgres 'SHOW config_file')
bindir=$(pg_config --bindir)
asuser=
[ "$(id -u)" != 0 ] || asuser="runuser -u postgres --"

note "stopping the server; process_import in a single-user backend under callgrind"
$asuser "$bindir/pg_ctl" -D "$datadir" -w stop -m fast >/dev/null
restart() { $asuser "$bindir/pg_ctl" -D "$datadir" -w -l "$TMP/server.log" -o "-c config_file=$conf" start >/dev/null; }
trap 'restart || true; rm -rf "$TMP"' EXIT
echo "SELECT * FROM leadflow.process_import(1, $BATCH);" >"$TMP/q.sql"
out=$TMP/callgrind.out
$asuser valgrind --tool=callgrind --callgrind-out-file="$out" --dump-instr=no \
	--collect-atstart=no --toggle-collect=PortalRun --toggle-collect=CommitTransactionCommand \
	"$bindir/postgres" --single -j -D "$datadir" -c config_file="$conf" -c jit=$JIT $DB <"$TMP/q.sql" >"$TMP/single.out" 2>"$TMP/valgrind.log" ||
	{ cat "$TMP/valgrind.log" "$TMP/single.out" >&2; exit 1; }
if grep -q 'ERROR' "$TMP/single.out"; then cat "$TMP/single.out" >&2; exit 1; fi
# what the call returned, from the single-user backend's output (the server
# may not start again: on a shared machine another cluster can take its
# port meanwhile)
count() { sed -n "s/^[[:space:]]*[0-9]*: $1 = \"\([0-9]*\)\".*/\1/p" "$TMP/single.out"; }
created=$(count created)
merged=$(count merged)
rejected=$(count rejected)
# a row repeating an earlier one exactly is unchanged since issue 18 (3 of
# rows 50,001-100,000 of the stream); 0.1.0 has no such count
unchanged=$(count unchanged)
[ -n "$created" ] && [ $((created + merged + ${unchanged:-0})) = "$N" ] ||
	{ cat "$TMP/single.out" >&2; echo "import_profile: process_import did not store the $N rows (rejected: ${rejected:-?})" >&2; exit 1; }
total=$(callgrind_annotate "$out" 2>/dev/null | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
[ -n "$total" ] || { echo "import_profile: no totals from callgrind_annotate" >&2; exit 1; }
commit=$(git rev-parse --short HEAD 2>/dev/null || echo tree)
cp "$out" "$OUT/callgrind.out.import-$version-$N.$commit"
line="process_import leadflow $version ($commit$(git diff --quiet HEAD -- src sql 2>/dev/null || echo ', uncommitted changes')): $N rows into an org of $EXIST, $merged merged, ${unchanged:-0} unchanged; $(awk -v t="$total" -v n="$N" 'BEGIN { printf "%.0f instructions/row (%.0f in all)", t / n, t }')"
echo "$line" | tee -a "$OUT/import.txt"
