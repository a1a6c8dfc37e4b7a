#!/bin/sh
# A bounded sqlsmith run (spec §10): random queries and data changes, as a
# non-superuser application role, against a copy of the demo database (the
# sample data set loaded through the real entry points; test/run.sh loads
# it first).  Fails on a backend crash or an internal error (XX000) that
# leadflow's code raised: the role logs every error with its SQLSTATE and
# source location (log_error_verbosity = verbose) and the part of the
# server log written during the run is searched.
#
#   sh test/sqlsmith.sh [QUERIES]      (default 3000; inside pg_virtualenv)
set -u
cd "$(dirname "$0")/.."
queries=${1:-3000}
seed=${SQLSMITH_SEED:-9}
role=leadflow_smith
db=leadflow_smith

# the server log of the cluster on $PGPORT (pg_virtualenv's, via postgresql-common)
logfile=$(pg_lsclusters -h 2>/dev/null | awk -v port="${PGPORT:-5432}" '$3 == port { print $7 }')
if [ -z "$logfile" ] || [ ! -r "$logfile" ]; then
	echo "sqlsmith: cannot find the server log of the cluster on port ${PGPORT:-5432}"
	exit 1
fi

psql -X -q -v ON_ERROR_STOP=1 -d postgres <<EOF || exit 1
SET client_min_messages = warning;
DROP DATABASE IF EXISTS $db;
DROP ROLE IF EXISTS $role;
CREATE DATABASE $db TEMPLATE leadflow_demo;
CREATE ROLE $role LOGIN PASSWORD 'smith';
ALTER ROLE $role SET statement_timeout = '2s';
ALTER ROLE $role SET lock_timeout = '1s';
ALTER ROLE $role SET log_error_verbosity = 'verbose';
ALTER ROLE $role SET log_min_error_statement = 'error';
\c $db
GRANT USAGE ON SCHEMA leadflow TO $role;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA leadflow TO $role;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA leadflow TO $role;
EOF

offset=$(($(wc -c < "$logfile") + 1))
start=$(date +%s)
out=$(mktemp)
# sqlsmith stops after --max-queries; timeout is the backstop
timeout 120 sqlsmith --verbose --seed="$seed" --max-queries="$queries" --exclude-catalog \
	--target="host=${PGHOST:-localhost} port=${PGPORT:-5432} dbname=$db user=$role password=smith" >"$out" 2>&1
rc=$?
elapsed=$(($(date +%s) - start))
sleep 1	# let the server write its last log lines
segment=$(mktemp)
tail -c +"$offset" "$logfile" > "$segment"

status=0
if [ "$rc" -ne 0 ]; then
	echo "sqlsmith: exit status $rc"
	tail -20 "$out"
	status=1
fi
if grep -E 'terminated by signal|was terminated by|PANIC:|server closed the connection unexpectedly' "$segment" "$out"; then
	echo "sqlsmith: a backend crashed"
	status=1
fi
# An internal error (XX000) fails the run when leadflow raised it: the
# LOCATION line under it names one of our source files.  Some random
# queries reach internal errors of PostgreSQL itself (parse_coerce.c,
# timestamp.c, ...); those are listed, not counted against leadflow.
ours=$(ls src/*.c src/*.cpp | xargs -n1 basename | paste -sd'|' -)
xx=$(grep -A1 'ERROR:  XX000' "$segment" | grep 'LOCATION:' || true)
if [ -n "$xx" ]; then
	if echo "$xx" | grep -E " ($ours):[0-9]+" >/dev/null; then
		grep -A4 'ERROR:  XX000' "$segment"
		echo "sqlsmith: internal error (XX000) raised by leadflow"
		status=1
	else
		echo "sqlsmith: internal errors of PostgreSQL itself, not of leadflow:"
		echo "$xx" | sed 's/^.*LOCATION: */  /' | sort | uniq -c
	fi
fi
errors=$(grep -c 'ERROR:  ' "$segment")
# what the refusals were, most frequent first
grep -o 'ERROR:  [0-9A-Z]\{5\}' "$segment" | sort | uniq -c | sort -rn | head -8 | awk '{ printf "  %s x%s", $3, $1 } END { print "" }'
[ -n "${SQLSMITH_KEEP:-}" ] && cp "$segment" "$SQLSMITH_KEEP.log" && cp "$out" "$SQLSMITH_KEEP.out"
echo "sqlsmith: $queries queries (seed $seed) in ${elapsed}s as $role, $errors refused with an error, none crashed or XX000: $([ $status -eq 0 ] && echo yes || echo NO)"
if ! psql -X -q -At -d "$db" -c 'SELECT 1' >/dev/null; then
	echo "sqlsmith: server not answering afterwards"
	status=1
fi
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "DROP ROLE IF EXISTS $role" >/dev/null 2>&1
rm -f "$out" "$segment"
exit $status
