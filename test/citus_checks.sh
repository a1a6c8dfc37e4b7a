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

# one lead through the coordinator
check "a single INSERT of a lead" "$C" \
	"INSERT INTO leadflow.leads (org_id, email, first_name, source) VALUES ($org_a, 'ada@example.com', 'Ada', 'web') RETURNING status IS NOT NULL"
check "its journey is visible through the coordinator" "$C" \
	"SELECT count(*) > 0 FROM leadflow.lead_journey WHERE org_id = $org_a"

echo "leadflow citus tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
