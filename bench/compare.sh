# Figures 1-3 against the 0.1.0 release, in the same run (issue 21).  Sourced
# by bench/run.sh (its helpers and variables); not a script of its own.
#
# One cluster cannot hold both versions: the module is found by name
# (leadflow.so, the leadflow.control of extension_destdir) for the whole
# cluster, and two databases cannot point at two destdirs.  So 0.1.0 gets a
# throwaway cluster of its own ("B", started here by a nested pg_virtualenv
# with the same settings, loading the install of $BENCH_BASELINE), and
# leadflow now keeps the run's cluster ("A").  Each side prepares once a
# template database with the two orgs of figures 1-3 and their N_EXIST
# leads; each run is a fresh copy of it (CREATE DATABASE ... TEMPLATE) with
# figure 1, figure 2 and a pgbench segment of figure 3.  The runs alternate,
# A B, B A, A B, ..., so that a load on the shared machine that comes and
# goes weighs on both versions alike; each version counts by its median.

side() {	# side A|B: the PG* connection variables of that cluster
	eval "export PGHOST=\$PGHOST_$1 PGPORT=\$PGPORT_$1 PGUSER=\$PGUSER_$1 PGPASSWORD=\$PGPASSWORD_$1"
}

# baseline_start: cluster B, holding until $B_DIR/stop appears; its PG*
# variables are read back from the file the holder writes
baseline_start() {
	B_DIR=$TMP/baseline
	mkdir -m 777 "$B_DIR"
	cat >"$B_DIR/hold.sh" <<'EOF'
for v in PGHOST PGPORT PGUSER PGPASSWORD; do eval "echo ${v}_B=\$$v"; done >"$1/env.tmp" && mv "$1/env.tmp" "$1/env"
while [ ! -e "$1/stop" ]; do sleep 1; done
EOF
	major=$(val postgres "SELECT current_setting('server_version_num')::int / 10000")
	libdir="$BENCH_BASELINE$(pg_config --pkglibdir)"
	if [ "$major" -ge 18 ]; then
		module="extension_control_path=$BENCH_BASELINE$(pg_config --sharedir):\$system"
	else
		module="extension_destdir=$BENCH_BASELINE"
	fi
	# PGPORT unset: pg_createcluster takes the next free port
	env -u PGPORT -u PGHOST -u PGUSER -u PGPASSWORD -u PGDATABASE \
		pg_virtualenv -t -i '--encoding=UTF8 --locale=C.UTF-8' \
		-o "shared_buffers=$(val postgres 'SHOW shared_buffers')" -o "max_wal_size=$(val postgres 'SHOW max_wal_size')" \
		-o "checkpoint_timeout=$(val postgres 'SHOW checkpoint_timeout')" \
		-o "$module" -o "dynamic_library_path=$libdir:\$libdir" \
		sh "$B_DIR/hold.sh" "$B_DIR" >"$B_DIR/log" 2>&1 &
	B_HOLDER=$!
	while [ ! -s "$B_DIR/env" ]; do
		kill -0 "$B_HOLDER" 2>/dev/null || { cat "$B_DIR/log" >&2; die "the cluster of 0.1.0 did not start"; }
		sleep 0.2
	done
	PGHOST_A=${PGHOST:-} PGPORT_A=${PGPORT:-} PGUSER_A=${PGUSER:-} PGPASSWORD_A=${PGPASSWORD:-}
	. "$B_DIR/env"
	side B
	run postgres "CREATE DATABASE lf_version"
	run lf_version "CREATE EXTENSION leadflow"
	v=$(val lf_version "SELECT extversion FROM pg_extension WHERE extname = 'leadflow'")
	run postgres "DROP DATABASE lf_version"
	side A
	[ "$v" = 0.1.0 ] || die "the cluster of 0.1.0 installed leadflow $v"
}

median_of() {	# median_of V...: the middle value (the mean of the two middle ones for an even count)
	printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (a[int((NR + 1) / 2)] + a[int(NR / 2) + 1]) / 2 }'
}

# compare_run SIDE: one run of figures 1-3 on a fresh copy of the side's
# template; appends seconds (1, 2) and tps (3) to t1_SIDE, t2_SIDE, tps_SIDE
compare_run() {
	side "$1"
	note "0.1.0 comparison: run of $(test "$1" = A && echo 'leadflow now' || echo 0.1.0)"
	run postgres "DROP DATABASE IF EXISTS lf_run" "CREATE DATABASE lf_run TEMPLATE lf_tmpl STRATEGY FILE_COPY"
	# per-database settings belong to the database, not to its template
	run lf_run "ALTER DATABASE lf_run SET jit = off" "ALTER DATABASE lf_run SET statement_timeout = '${TIMEOUT}s'"
	settle lf_run
	t=$(load lf_run leadflow.leads 1 "i > $N_EXIST")
	must "$t" "figure 1 ($1)"
	eval "t1_$1=\"\$t1_$1 $t\""
	run lf_run CHECKPOINT
	t=$(timed lf_run "COPY leadflow.leads (org_id, $COLS) FROM '$TMP/cmp.csv' WITH (FORMAT csv)")
	must "$t" "figure 2 ($1)"
	eval "t2_$1=\"\$t2_$1 $t\""
	run lf_run CHECKPOINT
	pgb leadflow.leads "$PGB_ROUND" lf_run
	eval "tps_$1=\"\$tps_$1 $tps\""
	run postgres "DROP DATABASE lf_run"
	side A
}

# compare_line FIG WHAT N TIMES_A TIMES_B TARGET_TEXT: the line of a load figure
compare_line() {
	s_a=$(median_of $4)
	s_b=$(median_of $5)
	r_a=$(rate "$3" "$s_a")
	r_b=$(rate "$3" "$s_b")
	q=$(ratio "$r_a" "$r_b")
	say "bench $1 vs_0.1.0: $2, $ROUNDS alternating runs per version, medians: now $r_a leads/s (s:$4), 0.1.0 $r_b leads/s (s:$5); ratio $q $(target "$6" "$q >= 2.0 && $r_a >= 18000")"
}

if [ -z "${BENCH_BASELINE:-}" ]; then
	say "bench 1-3 vs_0.1.0: ${BENCH_BASELINE_SKIP:-not measured: no 0.1.0 install given (make bench and make bench-smoke build one; make test's smoke run does not)}"
else
	note "0.1.0 comparison: starting its cluster"
	baseline_start
	say "bench 0 baseline: leadflow 0.1.0 from $BENCH_BASELINE in a cluster of its own (port $PGPORT_B), the same settings and workload"
	side B
	note "0.1.0 comparison: template database of 0.1.0, $N_EXIST leads into org 1 and org 2"
	newdb lf_tmpl
	run lf_tmpl "SELECT bench.setup_org(1, 4, 100, 500, 40)" "SELECT bench.setup_org(2, 4, 100, 500, 40)"
	mksrc lf_tmpl $((N_EXIST + N_NEW))
	prefill lf_tmpl leadflow.leads 1 1 $N_EXIST >/dev/null
	prefill lf_tmpl leadflow.leads 2 1 $N_EXIST >/dev/null
	settle lf_tmpl
	side A
	run lf_tmpl "COPY (SELECT 2, $COLS FROM bench.src WHERE i > $N_EXIST ORDER BY i) TO '$TMP/cmp.csv' WITH (FORMAT csv)"
	t1_A= t1_B= t2_A= t2_B= tps_A= tps_B=
	k=1
	while [ $k -le "$ROUNDS" ]; do
		if [ $((k % 2)) = 1 ]; then compare_run A; compare_run B; else compare_run B; compare_run A; fi
		k=$((k + 1))
	done
	compare_line 1 "$N_NEW leads by INSERT ... SELECT into an org of $N_EXIST" "$N_NEW" "$t1_A" "$t1_B" '>= 2.0x 0.1.0 and >= 18000/s'
	compare_line 2 "$N_NEW leads by COPY into an org of $N_EXIST" "$N_NEW" "$t2_A" "$t2_B" '>= 2.0x 0.1.0 and >= 18000/s'
	m_a=$(median_of $tps_A)
	m_b=$(median_of $tps_B)
	q=$(ratio "$m_a" "$m_b")
	say "bench 3 vs_0.1.0: pgbench, 2 clients x $PGB_ROUND s per run, $ROUNDS alternating runs per version, medians: now $m_a tps (tps:$tps_A), 0.1.0 $m_b tps (tps:$tps_B); ratio $q $(target '>= 1.6x 0.1.0' "$q >= 1.6")"
	side B
	run postgres "DROP DATABASE lf_tmpl"
	side A
	run postgres "DROP DATABASE lf_tmpl"
	rm -f "$TMP/cmp.csv"
	baseline_stop
fi
