#!/bin/sh
# The checks of `make test-citus` (test/citus.sh starts the clusters and
# exports CITUS_COORD, CITUS_W1, CITUS_W2, CITUS_SINGLE: the ports of the
# coordinator, the workers and a plain node; PGHOST and PGDATABASE are set).
# Two orgs placed on different workers, the mission path through the
# coordinator, the same load on the plain node to compare with.  One line
# per check, a closing line of counts; non-zero exit if any failed.
set -u
cd "$(dirname "$0")/.."
passed=0
failed=0

q() {	# q PORT SQL: one value, errors shown
	psql -X -qAt -v ON_ERROR_STOP=1 -p "$1" -c "$2"
}
check() {	# check LABEL PORT SQL: SQL returns t
	got=$(q "$2" "$3" 2>&1)
	if [ "$got" = t ]; then
		echo "ok - $1"
		passed=$((passed + 1))
	else
		echo "not ok - $1: $got"
		failed=$((failed + 1))
	fi
}
both() {	# both SQL: run on the coordinator and the plain node
	q "$CITUS_COORD" "$1" >/dev/null && q "$CITUS_SINGLE" "$1" >/dev/null
}

C=$CITUS_COORD

# Two orgs, on different workers: orgs are made until one lands on each
for port in "$C" "$CITUS_SINGLE"; do
	q "$port" "INSERT INTO leadflow.orgs (name) SELECT 'org ' || g FROM generate_series(1, 2) g" >/dev/null
done
check "distribute() made every leadflow table a Citus table" "$C" \
	"SELECT bool_and(leadflow.is_distributed(c.oid)) FROM pg_class c WHERE c.relnamespace = 'leadflow'::regnamespace AND c.relkind = 'r'"
check "distribute() is idempotent" "$C" "SELECT true FROM leadflow.distribute()"
node_of() {	# node_of ORG: the port of the worker holding the org's shards
	q "$C" "SELECT n.nodeport FROM pg_dist_placement p JOIN pg_dist_node n USING (groupid)
	         WHERE p.shardid = get_shard_id_for_distribution_column('leadflow.orgs', $1::bigint)"
}
org_a=$(q "$C" "SELECT min(org_id) FROM leadflow.orgs")
org_b=""
while [ -z "$org_b" ]; do
	for o in $(q "$C" "SELECT org_id FROM leadflow.orgs WHERE org_id <> $org_a ORDER BY 1"); do
		[ "$(node_of "$o")" != "$(node_of "$org_a")" ] && { org_b=$o; break; }
	done
	[ -n "$org_b" ] || q "$C" "INSERT INTO leadflow.orgs (name) VALUES ('org more')" >/dev/null || exit 1
done
echo "# orgs $org_a and $org_b on different workers"
check "an org's defaults were made on its worker (a default workflow)" "$C" \
	"SELECT count(*) = 1 FROM leadflow.workflows WHERE org_id = $org_b AND is_default"

S=$CITUS_SINGLE
# the same orgs, teams, reps and rules on the plain node (explicit ids)
q "$S" "INSERT INTO leadflow.orgs (org_id, name) VALUES ($org_a, 'a'), ($org_b, 'b') ON CONFLICT DO NOTHING" >/dev/null
for o in $org_a $org_b; do
	both "INSERT INTO leadflow.teams (org_id, team_id, name, strategy) VALUES ($o, 10, 'RR', 'round_robin')"
	both "INSERT INTO leadflow.reps (org_id, rep_id, team_id, name) VALUES ($o, 11, 10, 'One'), ($o, 12, 10, 'Two'), ($o, 13, 10, 'Three')"
	both "INSERT INTO leadflow.routing_rules (org_id, rule_id, position, name, assign_to, team_id) VALUES ($o, 10, 1, 'All to RR', 'team', 10)"
done

# one lead through the coordinator
check "a single INSERT of a lead" "$C" \
	"INSERT INTO leadflow.leads (org_id, email, first_name, source) VALUES ($org_a, 'ada@example.com', 'Ada', 'web') RETURNING owner_rep_id = 11"
q "$S" "INSERT INTO leadflow.leads (org_id, email, first_name, source) VALUES ($org_a, 'ada@example.com', 'Ada', 'web')" >/dev/null
check "its journey is visible through the coordinator" "$C" \
	"SELECT count(*) > 0 FROM leadflow.lead_journey WHERE org_id = $org_a"

# 10,000 leads in one INSERT ... SELECT (one in ten an email seen before),
# the same on the plain node; the time of each
load="INSERT INTO leadflow.leads (org_id, email, first_name, last_name, company, source)
      SELECT o, 'p' || (g % 4500) || '@corp' || (g % 300) || '.example', 'First' || g, 'Last' || g, 'Corp ' || (g % 300), 'web'
        FROM unnest(ARRAY[$org_a, $org_b]) o, generate_series(1, 5000) g ORDER BY g, o"
t0=$(date +%s.%N); q "$C" "$load" >/dev/null || echo "not ok - load on the cluster failed"; t1=$(date +%s.%N)
q "$S" "$load" >/dev/null || echo "not ok - load on the plain node failed"; t2=$(date +%s.%N)
echo "# 10,000-row INSERT ... SELECT: cluster (coordinator + 2 workers) $(echo "10000 / ($t1 - $t0)" | bc) leads/s, plain node $(echo "10000 / ($t2 - $t1)" | bc) leads/s"
check "the load: every lead stored, duplicates merged" "$C" \
	"SELECT count(*) = 10001 AND count(*) FILTER (WHERE merged_into IS NULL) = 9001 FROM leadflow.leads WHERE org_id IN ($org_a, $org_b)"

# COPY of 2,000 more (phones only, each twice)
csv=$(mktemp /tmp/leadflow-citus-copy.XXXXXX)
q "$C" "COPY (SELECT o, '+1415555' || lpad((g % 750)::text, 4, '0'), 'Copy' || g, 'import'
              FROM unnest(ARRAY[$org_a, $org_b]) o, generate_series(1, 1000) g ORDER BY g, o) TO STDOUT (FORMAT csv)" >"$csv"
for port in "$C" "$S"; do
	psql -X -q -v ON_ERROR_STOP=1 -p "$port" -c "\\copy leadflow.leads (org_id, phone, first_name, source) FROM '$csv' (FORMAT csv)" ||
		echo "not ok - COPY on port $port failed"
done
rm -f "$csv"
check "COPY: every lead stored, phone duplicates merged" "$C" \
	"SELECT count(*) = 2000 AND count(*) FILTER (WHERE merged_into IS NULL) = 1500 FROM leadflow.leads WHERE source = 'import'"

check "round robin is exact in each org (per-rep counts differ by one at most)" "$C" \
	"SELECT bool_and(d <= 1) FROM (SELECT org_id, max(n) - min(n) AS d FROM (SELECT org_id, owner_rep_id, count(*) AS n
	   FROM leadflow.leads WHERE org_id IN ($org_a, $org_b) AND merged_into IS NULL GROUP BY 1, 2) x GROUP BY 1) y"

# journey: on the org's shards, none in the workers' own (shell) tables
check "journey rows are all in shards, as many as the coordinator sees" "$C" \
	"SELECT sum(result::bigint) = (SELECT count(*) FROM leadflow.lead_journey)
	   FROM run_command_on_placements('leadflow.lead_journey', 'SELECT count(*) FROM %s')"
check "the workers' own lead_journey and lead_emails tables are empty" "$C" \
	"SELECT bool_and(result = '0') FROM run_command_on_workers(
	   \$\$SELECT pg_relation_size('leadflow.lead_journey') + pg_relation_size('leadflow.lead_emails')\$\$)"
for o in $org_a $org_b; do
	check "verify_journey($o) finds every chain intact" "$C" "SELECT count(*) = 0 FROM leadflow.verify_journey($o)"
done

# every report view as on the plain node (timestamps, ages and overdue
# flags aside: they differ by when each load ran; workflow and stage ids
# are per node)
for v in $(q "$C" "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'leadflow'::regnamespace AND c.relkind = 'v' AND c.relname LIKE 'report%' ORDER BY 1"); do
	cols=$(q "$C" "SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
	                WHERE a.attrelid = 'leadflow.$v'::regclass AND a.attnum > 0
	                  AND a.atttypid NOT IN ('timestamptz'::regtype, 'timestamp'::regtype, 'interval'::regtype, 'date'::regtype)
	                  AND a.attname !~ '(age|hour|minute|day|time|overdue|workflow_id|stage_id|_at\$)'")
	sql="SELECT coalesce(md5(string_agg(r::text, '|' ORDER BY r::text)), '-') FROM (SELECT $cols FROM leadflow.$v WHERE org_id IN ($org_a, $org_b)) r"
	a=$(q "$C" "$sql" 2>&1)
	b=$(q "$S" "$sql" 2>&1)
	if [ "$a" = "$b" ]; then echo "ok - report $v as on a single node"; passed=$((passed + 1));
	else echo "not ok - report $v: cluster $a, single node $b"; failed=$((failed + 1)); fi
done

# the same email from 4 sessions at once: one live lead per email (after
# the reports: which of the four survives is up to the race)
for i in 1 2 3 4; do
	psql -X -q -p "$C" -c "INSERT INTO leadflow.leads (org_id, email, source)
	    SELECT $org_b, 'race' || g || '@race.example', 'race' FROM generate_series(1, 50) g" >/dev/null 2>&1 &
done
wait
check "4 concurrent sessions, the same 50 emails: one live lead each" "$C" \
	"SELECT count(*) = 50 AND min(n) = 1 AND max(n) = 1 FROM (SELECT email, count(*) FILTER (WHERE merged_into IS NULL) AS n
	   FROM leadflow.leads WHERE org_id = $org_b AND source = 'race' GROUP BY email) x"

# a multi-shard transaction (two-phase commit on the workers)
check "one transaction writing both orgs commits (two-phase)" "$C" \
	"BEGIN; INSERT INTO leadflow.leads (org_id, email, source) VALUES ($org_a, 'twopc@x.example', '2pc'), ($org_b, 'twopc@x.example', '2pc');
	 COMMIT; SELECT count(*) = 2 FROM leadflow.leads WHERE source = '2pc'"
ids=$(q "$C" "SELECT string_agg(lead_id::text, ',') FROM leadflow.leads WHERE source = '2pc'")
check "its journey rows were written at PREPARE, and are there after COMMIT PREPARED" "$C" \
	"SELECT count(DISTINCT lead_id) = 2 FROM leadflow.lead_journey WHERE org_id IN ($org_a, $org_b) AND lead_id IN ($ids)"

# ids made on the workers do not collide: the defaults of both orgs
check "workflow ids made on different workers differ" "$C" \
	"SELECT count(DISTINCT workflow_id) = count(*) FROM leadflow.workflows WHERE org_id IN ($org_a, $org_b)"

# move org_b's shards to the other worker, then more leads, then verify
shard=$(q "$C" "SELECT get_shard_id_for_distribution_column('leadflow.orgs', $org_b::bigint)")
from=$(node_of "$org_b")
to=$CITUS_W1; [ "$from" = "$CITUS_W1" ] && to=$CITUS_W2
q "$C" "SELECT citus_move_shard_placement($shard, '127.0.0.1', $from, '127.0.0.1', $to, shard_transfer_mode => 'block_writes')" >/dev/null ||
	echo "not ok - shard move failed"
check "org $org_b's shards moved to port $to" "$C" "SELECT $(node_of "$org_b") = $to"
check "after the move, more leads" "$C" \
	"WITH i AS (INSERT INTO leadflow.leads (org_id, email, source)
	            SELECT $org_b, 'moved' || g || '@m.example', 'moved' FROM generate_series(1, 100) g RETURNING 1)
	 SELECT count(*) = 100 FROM i"
check "after the move, a duplicate still merges" "$C" \
	"INSERT INTO leadflow.leads (org_id, email, source) VALUES ($org_b, 'moved1@m.example', 'moved') RETURNING merged_into IS NOT NULL"
check "after the move, verify_journey($org_b) finds every chain intact" "$C" "SELECT count(*) = 0 FROM leadflow.verify_journey($org_b)"

# row-level security behind a pooler: SET LOCAL leadflow.org_id reaches the
# workers with citus.propagate_set_commands = 'local'
q "$C" "CREATE ROLE leadflow_citus_app LOGIN" >/dev/null
q "$C" "SELECT leadflow.grant_app_role('leadflow_citus_app')" >/dev/null
q "$C" "ALTER ROLE leadflow_citus_app SET citus.propagate_set_commands = 'local'" >/dev/null
q "$C" "SELECT leadflow.enable_tenant_isolation()" >/dev/null 2>&1
app() {	# app ORG SQL: as the application role, org set for the transaction
	printf 'BEGIN;\nSET LOCAL leadflow.org_id = %s;\n%s;\nCOMMIT;\n' "$1" "$2" |
		psql -X -qAt -v ON_ERROR_STOP=1 -p "$C" -U leadflow_citus_app 2>&1
}
got=$(app "$org_a" "INSERT INTO leadflow.leads (org_id, email) VALUES ($org_a, 'app@tenant.example') RETURNING status")
[ "$got" = new ] && { echo "ok - an application role inserts a lead of its org"; passed=$((passed + 1)); } ||
	{ echo "not ok - an application role inserts a lead of its org: $got"; failed=$((failed + 1)); }
got=$(app "$org_a" "INSERT INTO leadflow.leads (org_id, email) VALUES ($org_b, 'app@tenant.example')")
case "$got" in *"may not act for org $org_b"*) echo "ok - ... and is refused another org's"; passed=$((passed + 1)) ;;
*) echo "not ok - ... and is refused another org's: $got"; failed=$((failed + 1)) ;; esac
got=$(app "$org_a" "SELECT count(*) FROM leadflow.leads")
[ "$got" = "$(q "$C" "SELECT count(*) FROM leadflow.leads WHERE org_id = $org_a")" ] && { echo "ok - ... and reads its org's leads alone"; passed=$((passed + 1)); } ||
	{ echo "not ok - ... and reads its org's leads alone: $got"; failed=$((failed + 1)); }

echo "leadflow citus tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
