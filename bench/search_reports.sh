#!/bin/sh
# Lead search and the report views at scale (issue 20), and what the search
# index (leads_search) costs a bulk load.  Not part of `make test` nor of
# `make bench`: it loads over a million leads (tens of minutes on 2 cores).
#
#   sh bench/search_reports.sh            against the cluster PG* points at
#                                         (leadflow installed there)
#
# or in a throwaway cluster on a private install, as `make bench` runs:
#   make && d=$(mktemp -d) && chmod 755 $d && make install DESTDIR=$d &&
#   pg_virtualenv -o "extension_destdir=$d" \
#     -o "dynamic_library_path=$d$(pg_config --pkglibdir):\$libdir" \
#     -o shared_buffers=1GB -o max_wal_size=8GB sh bench/search_reports.sh
#
# Part 1, index cost (bench figure 1, reduced): two databases alike but for
# the column leads.search_words, its index leads_search and with them the
# org's words (lead_words, which the pipeline leaves alone without the
# column): dropped in one; ROUNDS loads of LOAD_NEW leads into orgs
# holding LOAD_EXIST leads each, alternating with/without in ABBA order so
# that neither side gains from the order; median rates and their ratio.
# Part 2, timings: org 1 of REPORT_ORG leads (with tasks, calls, converted
# and won leads, spend) among REPORT_ORG + SEARCH_ORG leads, org 2 of
# SEARCH_ORG leads; each report view for org 1 and searches of org 2 (by
# email, phone, misspelt last name, full name, company, accent-free name),
# each the median of 3 (views) or 5 (searches) runs in one session after a
# warm-up run (a pooled connection: plans and the unaccent rules loaded).
# Targets: view <= 1 s, search <= 50 ms, index cost <= 5% of the load rate.
set -eu
cd "$(dirname "$0")/.."
REPORT_ORG=${REPORT_ORG:-100000}
SEARCH_ORG=${SEARCH_ORG:-1000000}
LOAD_EXIST=${LOAD_EXIST:-50000}
LOAD_NEW=${LOAD_NEW:-50000}
ROUNDS=${ROUNDS:-4}
PART=${PART:-all}	# all, cost or timings
CHUNK=100000
COLS="first_name, last_name, email, phone, company, job_title, industry, company_size, annual_revenue, country, city, source, campaign, attributes"
VIEWS="report_lead_volume report_source_performance report_funnel report_rep_performance report_lead_aging
report_response_times report_routing report_shadow_routing report_score_distribution report_duplicates
report_enrichment_coverage report_rep_load report_data_quality report_pipeline report_tasks_due"
TMP=$(mktemp -d /tmp/leadflow-search-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

note() { echo "search bench: $(date +%H:%M:%S) $*" >&2; }
run() { db=$1; shift; for s in "$@"; do psql -X -q -v ON_ERROR_STOP=1 -d "$db" -c 'SET client_min_messages = warning' -c "$s" >/dev/null; done; }
val() { psql -X -qAt -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
timed() {	# timed DB SQL: seconds, as psql's \timing sees them
	psql -X -qAt -v ON_ERROR_STOP=1 -d "$1" -c '\timing on' -c "$2" >"$TMP/last.out" 2>&1 || { cat "$TMP/last.out" >&2; exit 1; }
	sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' "$TMP/last.out" | tail -n 1 | awk '{ printf "%.4f", $1 / 1000 }'
}
warm() {	# warm DB N SQL: runs SQL 1+N times in one session (as a pooled
	# connection would: plans, pg_trgm and the unaccent rules loaded) and
	# prints the median seconds of the last N
	{ printf '%s\n' '\timing on'; k=0; while [ "$k" -le "$2" ]; do echo "$3;"; k=$((k + 1)); done; } |
		psql -X -qAt -v ON_ERROR_STOP=1 -d "$1" >"$TMP/last.out" 2>&1 || { cat "$TMP/last.out" >&2; exit 1; }
	median $(sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' "$TMP/last.out" | tail -n "$2" | awk '{ printf "%.4f\n", $1 / 1000 }')
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
calc() { awk "BEGIN { print $1 }"; }
newdb() {
	run postgres "DROP DATABASE IF EXISTS $1" "CREATE DATABASE $1"
	run "$1" "ALTER DATABASE $1 SET jit = off" 'CREATE EXTENSION IF NOT EXISTS leadflow CASCADE'
	psql -X -q -v ON_ERROR_STOP=1 -d "$1" -f bench/setup.sql >/dev/null
}
mksrc() { run "$1" "CREATE UNLOGGED TABLE bench.src AS SELECT * FROM bench.gen_leads(1, $2)" "ALTER TABLE bench.src ADD PRIMARY KEY (i)" "ANALYZE bench.src"; }
load() { timed "$1" "INSERT INTO leadflow.leads (org_id, $COLS) SELECT $2, $COLS FROM bench.src WHERE $3 ORDER BY i"; }
prefill() {	# prefill DB ORG FROM TO: in statements of CHUNK rows, ANALYZE after each
	lo=$3
	while [ "$lo" -le "$4" ]; do
		hi=$((lo + CHUNK - 1)); [ "$hi" -le "$4" ] || hi=$4
		load "$1" "$2" "i BETWEEN $lo AND $hi" >/dev/null
		run "$1" "ANALYZE leadflow.leads"
		lo=$((hi + 1))
	done
}

echo "leadflow search and report bench: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, PostgreSQL $(val postgres 'SHOW server_version'), leadflow $(git rev-parse --short HEAD 2>/dev/null || echo '?')"

if [ "$PART" != timings ]; then
	note "part 1: $ROUNDS loads of $LOAD_NEW leads (orgs of $LOAD_EXIST), with and without leads_search"
	for db in sb_with sb_without; do
		newdb $db
		mksrc $db $((LOAD_EXIST + LOAD_NEW))
	done
	# without: no words column, index or org words (what search adds to a lead)
	run sb_without 'ALTER TABLE leadflow.leads DROP COLUMN search_words'
	r=1
	while [ "$r" -le "$ROUNDS" ]; do
		for db in sb_with sb_without; do
			run $db "SELECT bench.setup_org($r, 4, 100, 500, 40)"
			prefill $db $r 1 "$LOAD_EXIST"
		done
		r=$((r + 1))
	done
	for db in sb_with sb_without; do run $db 'VACUUM ANALYZE' 'CHECKPOINT'; done
	with=""; without=""
	r=1
	while [ "$r" -le "$ROUNDS" ]; do
		case $((r % 4)) in 1 | 0) order="sb_with sb_without" ;; *) order="sb_without sb_with" ;; esac
		for db in $order; do
			t=$(load $db $r "i > $LOAD_EXIST")
			run $db CHECKPOINT
			rate=$(calc "$LOAD_NEW / $t")
			note "round $r $db: $LOAD_NEW leads in $t s = $rate leads/s"
			if [ $db = sb_with ]; then with="$with $rate"; else without="$without $rate"; fi
		done
		r=$((r + 1))
	done
	mw=$(median $with); mo=$(median $without)
	echo "index cost: INSERT ... SELECT of $LOAD_NEW leads into an org of $LOAD_EXIST, median of $ROUNDS: with leads_search $(printf '%.0f' "$mw") leads/s, without $(printf '%.0f' "$mo") leads/s: $(calc "sprintf(\"%.1f\", 100 * (1 - $mw / $mo))")% slower (target <= 5%)"
	echo "index size: $(val sb_with "SELECT pg_size_pretty(pg_relation_size('leadflow.leads_search')) || ' for ' || count(*) || ' leads; lead_words ' || (SELECT count(*) FROM leadflow.lead_words) || ' words, ' || pg_size_pretty(pg_total_relation_size('leadflow.lead_words')) FROM leadflow.leads")"
	# the index alone, less noisy: the same rows' names and company into two
	# plain tables, with and without the index, in ABBA order; its cost per
	# row beside a lead's cost through the pipeline (median above)
	run sb_with "CREATE TABLE bench.ix_with (first_name text, last_name text, company text)" \
		"CREATE INDEX ON bench.ix_with USING gin (leadflow.search_words(first_name, last_name, company))" \
		"CREATE TABLE bench.ix_without (first_name text, last_name text, company text)"
	iw=""; io=""
	r=1
	while [ "$r" -le "$ROUNDS" ]; do
		case $((r % 4)) in 1 | 0) order="ix_with ix_without" ;; *) order="ix_without ix_with" ;; esac
		for tb in $order; do
			t=$(timed sb_with "INSERT INTO bench.$tb SELECT first_name, last_name, company FROM bench.src WHERE i > $LOAD_EXIST")
			if [ $tb = ix_with ]; then iw="$iw $t"; else io="$io $t"; fi
		done
		r=$((r + 1))
	done
	per_row=$(calc "1e6 * ($(median $iw) - $(median $io)) / $LOAD_NEW")
	per_lead=$(calc "1e6 / $mo")
	echo "index alone: $(printf '%.1f' "$per_row") us per row (median of $ROUNDS inserts of $LOAD_NEW rows into a plain table with it, less without); a lead through the pipeline without it: $(printf '%.0f' "$per_lead") us; the index adds $(calc "sprintf(\"%.1f\", 100 * $per_row / $per_lead)")% (target <= 5%)"
	run postgres 'DROP DATABASE sb_with' 'DROP DATABASE sb_without'
fi

[ "$PART" != cost ] || exit 0
DB=sb_big
if [ "${REUSE:-0}" = 1 ]; then	# REUSE=1: the timings again on the database of an earlier run
	note "part 2: reusing $DB"
else
note "part 2: org 2 of $SEARCH_ORG leads, org 1 of $REPORT_ORG leads"
newdb $DB
mksrc $DB "$SEARCH_ORG"
run $DB "SELECT bench.setup_org(1, 4, 100, 500, 40)" "SELECT bench.setup_org(2, 4, 100, 500, 40)"
prefill $DB 2 1 "$SEARCH_ORG"
prefill $DB 1 1 "$REPORT_ORG"
note "org 1: activities, conversions, spend"
run $DB "INSERT INTO leadflow.activities (org_id, lead_id, rep_id, kind, due_at, completed_at, created_at)
	SELECT 1, l.lead_id, l.owner_rep_id, k.kind,
	       CASE WHEN k.kind = 'task' THEN now() + ((l.lead_id % 20) - 10) * interval '1 day' END,
	       CASE WHEN k.kind = 'call' THEN now() - interval '1 hour' END, now()
	  FROM leadflow.leads l CROSS JOIN (VALUES ('task'), ('call')) k(kind)
	 WHERE l.org_id = 1 AND l.merged_into IS NULL AND l.lead_id % 5 = 0" \
	"UPDATE leadflow.leads SET status = 'qualified' WHERE org_id = 1 AND merged_into IS NULL AND lead_id % 50 = 1" \
	"SELECT count(leadflow.convert_lead(lead_id, amount => 1000 + lead_id % 9000, expected_close => current_date + (lead_id % 90)::integer,
	        stage => CASE WHEN lead_id % 3 = 0 THEN 'Won' END))
	   FROM leadflow.leads WHERE org_id = 1 AND status = 'qualified' AND lead_id % 100 = 1" \
	"INSERT INTO leadflow.source_spend (org_id, source, month, amount)
	 SELECT DISTINCT 1, source, date_trunc('month', now() AT TIME ZONE 'UTC')::date, 5000 FROM leadflow.leads WHERE org_id = 1 AND source IS NOT NULL" \
	'VACUUM ANALYZE'
fi
echo "data: $(val $DB "SELECT format('%s leads (org 1: %s, org 2: %s), %s activities, %s opportunities',
	count(*), count(*) FILTER (WHERE org_id = 1), count(*) FILTER (WHERE org_id = 2),
	(SELECT count(*) FROM leadflow.activities), (SELECT count(*) FROM leadflow.opportunities)) FROM leadflow.leads")"

for v in $VIEWS; do
	t=$(warm $DB 3 "SELECT count(*) FROM (SELECT * FROM leadflow.$v WHERE org_id = 1) x")
	echo "view $v: org of $REPORT_ORG among $(( REPORT_ORG + SEARCH_ORG )): $(val $DB "SELECT count(*) FROM leadflow.$v WHERE org_id = 1") rows, median $t s ($(awk "BEGIN { print ($t <= 1) ? \"PASS\" : \"MISS\" }") <= 1 s)"
done

# queries drawn from the org's own leads: an email written another way, a
# phone in national format, a last name with one letter left out, a full
# name in lower case, a company, and a name written without its accent
lead=$(val $DB "SELECT lead_id FROM leadflow.leads WHERE org_id = 2 AND merged_into IS NULL AND phone_e164 LIKE '+49%' AND last_name IS NOT NULL ORDER BY lead_id LIMIT 1")
email=$(val $DB "SELECT upper(email) FROM leadflow.leads WHERE lead_id = $lead")
phone=$(val $DB "SELECT '0' || substr(phone_e164, 4) FROM leadflow.leads WHERE lead_id = $lead")
misspelt=$(val $DB "SELECT overlay(last_name placing '' from length(last_name) - 1 for 1) FROM leadflow.leads WHERE lead_id = $lead")
fullname=$(val $DB "SELECT lower(first_name || ' ' || last_name) FROM leadflow.leads WHERE lead_id = $lead")
company=$(val $DB "SELECT company FROM leadflow.leads WHERE org_id = 2 AND company IS NOT NULL AND company_domain IS NOT NULL ORDER BY lead_id LIMIT 1")
run $DB "UPDATE leadflow.orgs SET settings = settings || '{\"default_region\": \"DE\"}' WHERE org_id = 2"
for q in "$email" "$phone" "$misspelt" "$fullname" "$company" muller; do
	t=$(warm $DB 5 "SELECT count(*) FROM leadflow.search_leads(2, \$q\$$q\$q\$)")
	echo "search '$q': org of $SEARCH_ORG: $(val $DB "SELECT count(*) || ' found, best ' || coalesce(max(matched), '-') FROM leadflow.search_leads(2, \$q\$$q\$q\$)"), median $(calc "sprintf(\"%.1f\", $t * 1000)") ms ($(awk "BEGIN { print ($t <= 0.05) ? \"PASS\" : \"MISS\" }") <= 50 ms)"
done
