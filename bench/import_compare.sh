#!/bin/sh
# process_import and figure 1 against 0.1.0 in the same run (issue 18):
# backend CPU seconds (/proc utime + stime of the measured session) and
# wall seconds of `process_import` of IMPORT_N staged rows, and of one
# `INSERT ... SELECT` of the same IMPORT_N leads (figure 1), each into an
# org of IMPORT_EXIST leads, bench set-up (bench/setup.sql).  0.1.0 runs in
# a throwaway cluster of its own (as compare.sh does); the runs alternate
# (now, 0.1.0; 0.1.0, now; ...) on fresh copies of one template database
# per side, and each version counts by its median, so a load on the shared
# machine that comes and goes weighs on both alike.  The backend's private
# memory (RssAnon) is sampled every 0.5 s during each import.
#
#   make bench-import IMPORT_N=100000 IMPORT_ROUNDS=3
#
# Runs inside the throwaway cluster of `make bench-import` (PG* variables,
# the module of this tree from a private install); BENCH_BASELINE is the
# private install of 0.1.0 (bench/baseline.sh).  Result lines on stdout and
# appended to bench/out/import.txt.
set -eu
cd "$(dirname "$0")/.."

N=${IMPORT_N:-100000}
EXIST=${IMPORT_EXIST:-$N}
ROUNDS=${IMPORT_ROUNDS:-3}
: "${BENCH_BASELINE:?BENCH_BASELINE: the private install of 0.1.0 (bench/baseline.sh)}"
COLS="first_name, last_name, email, phone, company, job_title, industry, company_size, annual_revenue, country, city, source, campaign"
LCOLS="$COLS, attributes"
TMP=$(mktemp -d /tmp/leadflow-import-compare.XXXXXX)
chmod 777 "$TMP"

note() { echo "import_compare: $(date +%H:%M:%S) $*" >&2; }
run() { db=$1; shift; for q in "$@"; do psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c 'SET client_min_messages = warning' -c "$q" >/dev/null; done; }
val() { psql -X -qAt -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
side() { eval "export PGHOST=\$PGHOST_$1 PGPORT=\$PGPORT_$1 PGUSER=\$PGUSER_$1 PGPASSWORD=\$PGPASSWORD_$1"; }
median_of() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (a[int((NR + 1) / 2)] + a[int(NR / 2) + 1]) / 2 }'; }

# cluster B (0.1.0), held until $TMP/b/stop appears
mkdir -m 777 "$TMP/b"
cat >"$TMP/b/hold.sh" <<'EOF'
for v in PGHOST PGPORT PGUSER PGPASSWORD; do eval "echo ${v}_B=\$$v"; done >"$1/env.tmp" && mv "$1/env.tmp" "$1/env"
while [ ! -e "$1/stop" ]; do sleep 1; done
EOF
env -u PGPORT -u PGHOST -u PGUSER -u PGPASSWORD -u PGDATABASE \
	pg_virtualenv -t -i '--encoding=UTF8 --locale=C.UTF-8' \
	-o "shared_buffers=$(val postgres 'SHOW shared_buffers')" -o "max_wal_size=$(val postgres 'SHOW max_wal_size')" \
	-o "checkpoint_timeout=$(val postgres 'SHOW checkpoint_timeout')" \
	-o "extension_destdir=$BENCH_BASELINE" -o "dynamic_library_path=$BENCH_BASELINE$(pg_config --pkglibdir):\$libdir" \
	sh "$TMP/b/hold.sh" "$TMP/b" >"$TMP/b/log" 2>&1 &
holder=$!
trap 'touch "$TMP/b/stop"; wait $holder 2>/dev/null; rm -rf "$TMP"' EXIT
while [ ! -s "$TMP/b/env" ]; do
	kill -0 $holder 2>/dev/null || { cat "$TMP/b/log" >&2; echo "import_compare: the cluster of 0.1.0 did not start" >&2; exit 1; }
	sleep 0.2
done
PGHOST_A=${PGHOST:-} PGPORT_A=${PGPORT:-} PGUSER_A=${PGUSER:-} PGPASSWORD_A=${PGPASSWORD:-}
. "$TMP/b/env"

# template database of a side: org 1, EXIST leads loaded as figure 1's
# prefill is (statements of at most 100,000 rows), N rows staged as batch 42
template() {
	side "$1"
	note "side $1: template, $EXIST leads, $N rows staged"
	run postgres "DROP DATABASE IF EXISTS lf_itmpl" "CREATE DATABASE lf_itmpl"
	run lf_itmpl 'CREATE EXTENSION leadflow CASCADE'
	psql -X -q -v ON_ERROR_STOP=1 -d lf_itmpl -f bench/setup.sql >/dev/null
	run lf_itmpl "SET jit = off; SELECT bench.setup_org(1, 4, 100, 500, 40)" \
		"CREATE UNLOGGED TABLE bench.src AS SELECT * FROM bench.gen_leads(1, $((EXIST + N)))" \
		"ALTER TABLE bench.src ADD PRIMARY KEY (i)"
	i=0
	while [ $i -lt "$EXIST" ]; do
		s=$((EXIST - i)); [ $s -le 100000 ] || s=100000
		run lf_itmpl "SET jit = off; INSERT INTO leadflow.leads (org_id, $LCOLS) SELECT 1, $LCOLS FROM bench.src WHERE i > $i AND i <= $((i + s)) ORDER BY i"
		i=$((i + s))
	done
	run lf_itmpl "INSERT INTO leadflow.lead_imports (org_id, batch_id, $COLS) SELECT 1, 42, $COLS FROM bench.src WHERE i > $EXIST ORDER BY i" \
		'VACUUM ANALYZE'
	eval "version_$1=\$(val lf_itmpl \"SELECT extversion FROM pg_extension WHERE extname = 'leadflow'\")"
}

# measure SIDE KIND: one run on a fresh copy; appends "cpu wall" to cpu_KIND_SIDE, wall_KIND_SIDE
measure() {
	side "$1"
	note "side $1: $2"
	run postgres "DROP DATABASE IF EXISTS lf_irun" "CREATE DATABASE lf_irun TEMPLATE lf_itmpl STRATEGY FILE_COPY"
	run lf_irun "ALTER DATABASE lf_irun SET jit = off" 'VACUUM ANALYZE' CHECKPOINT
	if [ "$2" = import ]; then
		q="SELECT * FROM leadflow.process_import(1, 42)"
	else
		q="INSERT INTO leadflow.leads (org_id, $LCOLS) SELECT 1, $LCOLS FROM bench.src WHERE i > $EXIST ORDER BY i"
	fi
	ticks="SELECT split_part(split_part(pg_read_file('/proc/' || pg_backend_pid() || '/stat'), ') ', 2), ' ', 12)::bigint
	            + split_part(split_part(pg_read_file('/proc/' || pg_backend_pid() || '/stat'), ') ', 2), ' ', 13)::bigint"
	: >"$TMP/rss"
	(
		while :; do
			pid=$(val lf_irun "SELECT pid FROM pg_stat_activity WHERE application_name = 'lf_measured'" 2>/dev/null || true)
			[ -z "$pid" ] || break
			sleep 0.2
		done
		while [ -e "/proc/$pid/status" ]; do
			awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status" >>"$TMP/rss" 2>/dev/null || true
			sleep 0.5
		done
	) &
	sampler=$!
	PGAPPNAME=lf_measured psql -X -qAt -v ON_ERROR_STOP=1 -d lf_irun >"$TMP/out" <<EOF
$ticks;
SELECT extract(epoch FROM clock_timestamp());
$q;
SELECT extract(epoch FROM clock_timestamp());
$ticks;
EOF
	kill $sampler 2>/dev/null || true
	wait $sampler 2>/dev/null || true
	# every row stored (a row of the stream repeating an earlier one
	# exactly is unchanged since issue 18: its import row names the lead)
	if [ "$2" = import ]; then
		stored=$(val lf_irun "SELECT count(*) FROM leadflow.lead_imports WHERE batch_id = 42 AND lead_id IS NOT NULL")
	else
		stored=$(val lf_irun "SELECT count(*) - $EXIST FROM leadflow.leads WHERE org_id = 1")
	fi
	[ "$stored" = "$N" ] || { cat "$TMP/out" >&2; echo "import_compare: $2 on side $1 stored $stored of $N rows" >&2; exit 1; }
	hz=$(getconf CLK_TCK)
	set -- "$1" "$2" $(grep -v '|' "$TMP/out")
	cpu=$(awk -v a="$3" -v b="$6" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz }')
	wall=$(awk -v a="$4" -v b="$5" 'BEGIN { printf "%.2f", b - a }')
	eval "cpu_$2_$1=\"\$cpu_$2_$1 $cpu\" wall_$2_$1=\"\$wall_$2_$1 $wall\""
	if [ "$2" = import ]; then
		eval "rss_$1=\"\$rss_$1 $(awk 'NR == 1 { s = $1 } $1 > p { p = $1 } END { printf "%d-%d", s / 1024, p / 1024 }' "$TMP/rss")\""
	fi
	note "side $1: $2 cpu ${cpu}s wall ${wall}s"
	run postgres "DROP DATABASE lf_irun"
}

template A
template B
cpu_import_A= cpu_import_B= wall_import_A= wall_import_B= rss_A= rss_B=
cpu_insert_A= cpu_insert_B= wall_insert_A= wall_insert_B=
k=1
while [ $k -le "$ROUNDS" ]; do
	if [ $((k % 2)) = 1 ]; then o="A B"; else o="B A"; fi
	for kind in import insert; do for s in $o; do measure $s $kind; done; done
	k=$((k + 1))
done
side B; run postgres "DROP DATABASE lf_itmpl"
side A; run postgres "DROP DATABASE lf_itmpl"

mkdir -p bench/out
commit=$(git rev-parse --short HEAD 2>/dev/null || echo tree)$(git diff --quiet HEAD -- src sql 2>/dev/null || echo '+changes')
for kind in import insert; do
	eval "ca=\$cpu_${kind}_A cb=\$cpu_${kind}_B wa=\$wall_${kind}_A wb=\$wall_${kind}_B"
	mca=$(median_of $ca) mcb=$(median_of $cb) mwa=$(median_of $wa) mwb=$(median_of $wb)
	what=$([ $kind = import ] && echo "process_import of $N rows" || echo "figure 1, INSERT ... SELECT of $N leads")
	echo "$what into an org of $EXIST, $ROUNDS alternating runs per version, medians: backend CPU now $mca s (s:$ca), 0.1.0 $mcb s (s:$cb), $(awk -v a="$mca" -v b="$mcb" 'BEGIN { printf "%+.1f%%", 100 * (a / b - 1) }'); wall now $mwa s (s:$wa), 0.1.0 $mwb s (s:$wb), $(awk -v a="$mwa" -v b="$mwb" 'BEGIN { printf "%+.1f%%", 100 * (a / b - 1) }') [leadflow $version_A ($commit) vs $version_B]"
done | tee -a bench/out/import.txt
echo "process_import backend private memory (RssAnon MB, start-peak per run): now$rss_A, 0.1.0$rss_B" | tee -a bench/out/import.txt
