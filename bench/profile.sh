#!/bin/sh
# Instruction counts per lead, by pipeline stage (issue 21): callgrind on
# the backend of one INSERT ... SELECT of PROFILE_N leads (12% repeat an
# earlier email) into an org of PROFILE_EXIST, bench set-up (bench/setup.sql:
# 100 reps, 500 accounts, 20 scoring and 40 routing rules).  Instruction
# counts do not move with the load of a shared machine, as times do.
#
#   make profile                       # PROFILE_N=10000 PROFILE_EXIST=10000
#   make profile PROFILE_N=30000 PROFILE_EXIST=20000
#   make profile PROFILE_SETUP='ALTER TABLE leadflow.leads DROP COLUMN search_words'
#                                      # SQL run before any lead is loaded: the
#                                      # same build without an object (the
#                                      # share of a lead the lead search costs)
#
# Runs inside the throwaway cluster of `make profile` (PG* variables point
# at it, as a superuser, the module from a private install): sets the
# database up through the server, stops it, runs the measured statement in
# a single-user backend under valgrind --tool=callgrind, starts the server
# again.  Collects from PortalRun (the statement, its statement-end flush
# included) and CommitTransactionCommand (the commit).  Each stage is the
# inclusive cost of the calls the INSERT side of the trigger
# (pipeline.c) makes into it, so a survivor's update -- the stages it runs
# again at depth 2 -- counts once, in its own row; a function not listed
# counts in "other pipeline work".  The output and the raw
# callgrind.out.* go to bench/out/profile/.
set -eu
cd "$(dirname "$0")/.."

N=${PROFILE_N:-10000}
EXIST=${PROFILE_EXIST:-10000}
OUT=bench/out/profile
DB=lf_prof
COLS="first_name, last_name, email, phone, company, job_title, industry, company_size, annual_revenue, country, city, source, campaign, attributes"

note() { echo "profile: $(date +%H:%M:%S) $*" >&2; }
run() { psql -X -q -v ON_ERROR_STOP=1 -d "$1" -c 'SET client_min_messages = warning' -c "$2" >/dev/null; }
val() { psql -X -qAt -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

# annotate CALLGRIND_OUT: the stage table of that profile of N leads into $TMP/table.txt
annotate() {
# callgrind_annotate --tree=caller prints each function ("*") below the
# calls into it ("<"), each with its inclusive cost: the arcs, one line each
# as "cost caller callee" (function names without file and object)
callgrind_annotate --inclusive=yes --tree=caller --threshold=100 "$1" >"$TMP/tree.txt"
awk '
	function name(s) { sub(/ \[.*$/, "", s); sub(/ \([0-9,]+x\)$/, "", s); sub(/^.*:/, "", s); sub(/\..*$/, "", s); return s }
	/^ *[0-9,]+ .*< / {
		c = $1; gsub(/,/, "", c)
		s = $0; sub(/^.*< /, "", s)
		callers[++n] = c " " name(s)
		next
	}
	/^ *[0-9,]+ .*\* / {
		s = $0; sub(/^.*\* +/, "", s)
		f = name(s)
		for (i = 1; i <= n; i++) print callers[i], f
		n = 0
		next
	}
	{ n = 0 }
' "$TMP/tree.txt" >"$TMP/arcs.txt"
total=$(sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' "$TMP/tree.txt" | tr -d ,)
[ -n "$total" ] || { head -40 "$TMP/tree.txt" >&2; echo "profile: no totals from callgrind_annotate" >&2; exit 1; }
# the functions of leadflow.so: a heap or index insert they make is not the lead's own
sed -n 's/^.*[<*]  *[^ ]*:\([^ ]*\).*leadflow\.so\]$/\1/p' "$TMP/tree.txt" | sed 's/\..*$//' | sort -u >"$TMP/own.txt"
[ -s "$TMP/own.txt" ] || { echo "profile: no function of leadflow.so in the profile" >&2; exit 1; }

# stage table: label, callee pattern (extended regex over function names);
# a stage is the arcs from the INSERT side of the trigger into functions
# matching the pattern.  Order matters: the first matching stage takes the arc.
cat >"$TMP/stages.txt" <<'EOF'
validation and normalization|^(LeadflowLeadFromTuple|LeadflowTrimLead|LeadflowValidate|LeadflowAlreadyCaptured|LeadflowPipelineCheckReferences|LeadflowPipelineRefuseNullKeys|LeadflowGetOrg|LeadflowWorkflow|LeadflowNormalize|place_in_workflow|LeadflowLeadSet|LeadflowLeadText|LeadflowLeadIsNull)
dedup claim (email, phone)|^LeadflowDedup(Phone)?Claim|^LeadflowDedupReleaseEmail
duplicate: survivor update|^LeadflowDedupTouchSurvivor|^LeadflowPipelineTouchSurvivor|^LeadflowDuplicate|^LeadflowSurvivor
enrichment|^LeadflowEnrich
scoring and prediction|^LeadflowScore|^LeadflowPredict
routing|^LeadflowRoute|^keep_given_owner|^LeadflowPipelineCountedOwner
journey and events (per row)|^LeadflowJourney|^journal_|^created_event|^LeadflowEvent|^LeadflowJson|^LeadflowNotify
EOF
# across the stages: what the rows above hold of these (every caller, so
# the survivor's update and the statement end too; they overlap the rows)
cat >"$TMP/across.txt" <<'EOF'
journey rows, all stages (build, hash, write)|^LeadflowJourney(Append|AppendDetail|Hold|Write)[A-Za-z]*$
  of which SHA-256 of the rows|^LeadflowJourneyRowHash$
  of which the heap multi-insert and indexes|^LeadflowJourneyFlush$
libphonenumber (phone parsing and formatting)|^leadflow_phone_e164(_region)?$
SPI statements (plans executed)|^SPI_execute_plan[A-Za-z_]*$
EOF
# the INSERT side of the trigger: pipeline.c's functions that are not the
# UPDATE side.  run_row also calls the UPDATE side for a survivor's update at
# depth 2, which is inside the survivor's row already: those arcs are skipped.
INSERT_SIDE='^(lead_insert|run_row|journal_created|journal_normalized|created_event|place_in_workflow|keep_given_owner)$'
UPDATE_SIDE='^(LeadflowPipelineUpdate|lead_update)$'

# The lead rows themselves: the postgres binary has no symbols for its
# static functions (ExecInsert, heapam_tuple_insert show as addresses), so
# ExecInsert is found as the caller of ExecBRInsertTriggers (the leads
# trigger) and its arcs into the heap insert (the callee that calls
# heap_insert), the index inserts and the CHECKs are the leads' storage.
# The few SPI INSERTs of the statement end go through ExecInsert too.
awk -v n="$N" -v total="$total" -v side="$INSERT_SIDE" -v upd="$UPDATE_SIDE" -v stagesf="$TMP/stages.txt" -v acrossf="$TMP/across.txt" -v ownf="$TMP/own.txt" '
	BEGIN {
		while ((getline l < ownf) > 0) own[l] = 1
		k = 0
		while ((getline l < stagesf) > 0) { split(l, p, "|"); k++; label[k] = p[1]; pat[k] = substr(l, length(p[1]) + 2) }
		m = 0
		while ((getline l < acrossf) > 0) { split(l, p, "|"); m++; xlabel[m] = p[1]; xpat[m] = substr(l, length(p[1]) + 2) }
	}
	{
		c = $1; caller = $2; callee = $3
		a++; ac[a] = c; ar[a] = caller; ae[a] = callee
		if (callee == "ExecBRInsertTriggers" && c > xc) { xc = c; x = caller }
		if (callee == "heap_insert" && !(caller in own)) heapins[caller] = 1
		if (callee == "leadflow_statement_end") flush += c
		for (i = 1; i <= m; i++) if (callee ~ xpat[i] && !(caller ~ xpat[i])) xcost[i] += c
		if (caller ~ side && !(callee ~ side) && !(callee ~ upd)) {
			for (i = 1; i <= k; i++) if (callee ~ pat[i]) { cost[i] += c; break }
			if (i > k) { other += c; oc[callee] += c }
		}
	}
	function row(l, c) { printf "| %s | %.0f | %.1f%% |\n", l, c / n, 100 * c / total; sum += c }
	END {
		for (i = 1; i <= a; i++)
			if (ar[i] == x && (ae[i] in heapins || ae[i] ~ /^(heap_insert|ExecInsertIndexTuples|ExecConstraints)$/))
				leads += ac[i]
		printf "| stage | instructions/lead | share |\n|---|---:|---:|\n"
		for (i = 1; i <= k; i++) row(label[i], cost[i])
		row("other calls of the trigger (largest below)", other)
		row("statement end: buffered journey rows, routing state, counts", flush)
		row("leads: heap insert, 7 index inserts, CHECKs", leads)
		row("rest: executor, the SELECT, trigger glue, commit", total - sum)
		printf "| **total** | **%.0f** | 100%% |\n", total / n
		printf "\nacross the stages (every caller; overlapping the rows above):\n\n| part | instructions/lead | share |\n|---|---:|---:|\n"
		for (i = 1; i <= m; i++) printf "| %s | %.0f | %.1f%% |\n", xlabel[i], xcost[i] / n, 100 * xcost[i] / total
		printf "\nother calls of the trigger, the largest (instructions/lead):\n"
		for (f in oc) if (oc[f] / n >= 100) printf "  %8.0f  %s\n", oc[f] / n, f
	}
' "$TMP/arcs.txt" >"$TMP/table.txt"
}

# sh bench/profile.sh annotate CALLGRIND_OUT N: the table of a profile made before
if [ "${1:-}" = annotate ]; then
	N=${3:?usage: sh bench/profile.sh annotate CALLGRIND_OUT N}
	TMP=$(mktemp -d /tmp/leadflow-profile.XXXXXX)
	trap 'rm -rf "$TMP"' EXIT
	annotate "$2"
	cat "$TMP/table.txt"
	exit 0
fi

if ! command -v valgrind >/dev/null || ! command -v callgrind_annotate >/dev/null; then
	[ "$(id -u)" = 0 ] || { echo "profile: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
	note "installing valgrind"
	apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends valgrind </dev/null >/dev/null
fi
mkdir -p "$OUT"
TMP=$(mktemp -d /tmp/leadflow-profile.XXXXXX)
chmod 777 "$TMP"
trap 'rm -rf "$TMP"' EXIT

note "setting up: org 1 of the bench, $EXIST leads, then $N to load"
run postgres "DROP DATABASE IF EXISTS $DB"
run postgres "CREATE DATABASE $DB"
run $DB "ALTER DATABASE $DB SET jit = off"
run $DB 'CREATE EXTENSION leadflow CASCADE'
psql -X -q -v ON_ERROR_STOP=1 -d $DB -f bench/setup.sql >/dev/null
[ -z "${PROFILE_SETUP:-}" ] || { note "set-up: $PROFILE_SETUP"; run $DB "$PROFILE_SETUP"; }
run $DB "SELECT bench.setup_org(1, 4, 100, 500, 40)"
run $DB "CREATE UNLOGGED TABLE bench.src AS SELECT * FROM bench.gen_leads(1, $((EXIST + N)))"
run $DB "ALTER TABLE bench.src ADD PRIMARY KEY (i)"
run $DB "INSERT INTO leadflow.leads (org_id, $COLS) SELECT 1, $COLS FROM bench.src WHERE i <= $EXIST ORDER BY i"
run $DB 'VACUUM ANALYZE'
run $DB CHECKPOINT
maxid=$(val $DB "SELECT max(lead_id) FROM leadflow.leads")
version=$(val $DB "SELECT extversion FROM pg_extension WHERE extname = 'leadflow'")
module=$(val $DB "SELECT coalesce(nullif(current_setting('extension_destdir', true), ''), nullif(current_setting('extension_control_path', true), '\$system'), 'the system install')")
datadir=$(val postgres 'SHOW data_directory')
conf=$(val postgres 'SHOW config_file')
bindir=$(pg_config --bindir)
asuser=
[ "$(id -u)" != 0 ] || asuser="runuser -u postgres --"

note "stopping the server; the measured INSERT in a single-user backend under callgrind"
$asuser "$bindir/pg_ctl" -D "$datadir" -w stop -m fast >/dev/null
restart() { $asuser "$bindir/pg_ctl" -D "$datadir" -w -l "$TMP/server.log" -o "-c config_file=$conf" start >/dev/null; }
trap 'restart || true; rm -rf "$TMP"' EXIT
echo "INSERT INTO leadflow.leads (org_id, $COLS) SELECT 1, $COLS FROM bench.src WHERE i > $EXIST ORDER BY i;" >"$TMP/q.sql"
out=$TMP/callgrind.out
$asuser valgrind --tool=callgrind --callgrind-out-file="$out" --dump-instr=no \
	--collect-atstart=no --toggle-collect=PortalRun --toggle-collect=CommitTransactionCommand \
	"$bindir/postgres" --single -j -D "$datadir" -c config_file="$conf" $DB <"$TMP/q.sql" >"$TMP/single.out" 2>"$TMP/valgrind.log" ||
	{ cat "$TMP/valgrind.log" "$TMP/single.out" >&2; exit 1; }
if grep -q 'ERROR' "$TMP/single.out"; then cat "$TMP/single.out" >&2; exit 1; fi
restart
trap 'rm -rf "$TMP"' EXIT
loaded=$(val $DB "SELECT count(*) FROM leadflow.leads WHERE lead_id > $maxid")
[ "$loaded" = "$N" ] || { echo "profile: the INSERT stored $loaded leads, not $N" >&2; exit 1; }
merged=$(val $DB "SELECT count(*) FROM leadflow.leads WHERE lead_id > $maxid AND status = 'merged'")
journey=$(val $DB "SELECT round(count(*)::numeric / $N, 2) FROM leadflow.lead_journey j WHERE j.lead_id > $maxid")
cp "$out" "$OUT/callgrind.out.$(git rev-parse --short HEAD 2>/dev/null || echo tree)"

annotate "$out"


{
	echo "leadflow profile: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src sql 2>/dev/null || echo ' with uncommitted changes'), leadflow $version from $module, PostgreSQL $(pg_config --version | cut -d' ' -f2)"
	[ -z "${PROFILE_SETUP:-}" ] || echo "set-up before the load: $PROFILE_SETUP"
	echo "one INSERT ... SELECT of $N leads into an org of $EXIST (bench set-up): $merged merged as duplicates, $journey journey rows per lead; callgrind, instructions (Ir) of the statement and its commit"
	echo
	cat "$TMP/table.txt"
} | tee "$OUT/profile.txt"
run postgres "DROP DATABASE $DB"
