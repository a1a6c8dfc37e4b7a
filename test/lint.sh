#!/bin/sh
# Install-script hygiene (README "Development"): plain CREATE only, no
# SECURITY DEFINER, @extschema@ never inside quotes, every function pins
# search_path or is C, no unqualified call of a pg_catalog function (the
# names come from pg_proc of the cluster the tests run in, so psql must
# reach one: test/run.sh runs this inside pg_virtualenv).
set -u
cd "$(dirname "$0")/.."
f=sql/leadflow.sql
status=0

fail() { echo "lint: $1"; status=1; }

grep -nE 'CREATE[[:space:]]+OR[[:space:]]+REPLACE|(CREATE|ADD)[[:space:]]+[A-Z[:space:]]*IF[[:space:]]+NOT[[:space:]]+EXISTS' "$f" && fail "CREATE OR REPLACE / CREATE ... IF NOT EXISTS in $f"
grep -niE 'SECURITY[[:space:]]+DEFINER' "$f" && fail "SECURITY DEFINER in $f"
grep -nE "'[^']*@extschema@[^']*'" "$f" && fail "@extschema@ inside quotes in $f"
# inside dollar-quoted bodies
awk '/\$\$/ { n = gsub(/\$\$/, "$$"); if (n % 2) inside = !inside; next }
     inside && /@extschema@/ { print FILENAME ":" NR ": " $0; bad = 1 }
     END { exit bad }' "$f" || fail "@extschema@ inside a dollar-quoted body in $f"
# every non-C function sets search_path
awk 'BEGIN { RS = ";\n" }
     /CREATE FUNCTION/ && !/LANGUAGE C/ && !/SET search_path = pg_catalog, pg_temp/ {
         match($0, /CREATE FUNCTION [^(]*/); print substr($0, RSTART, RLENGTH); bad = 1 }
     END { exit bad }' "$f" || fail "function without SET search_path = pg_catalog, pg_temp"
# every call of a pg_catalog function is qualified, in the install script
# and in upgrade scripts (test/unqualified_calls.pl says what counts)
names=$(mktemp)
if psql -X -A -t -q -d postgres -c "SELECT DISTINCT proname FROM pg_catalog.pg_proc WHERE pronamespace OPERATOR(pg_catalog.=) 'pg_catalog'::pg_catalog.regnamespace" >"$names"; then
	perl test/unqualified_calls.pl "$names" "$f" $(ls sql/leadflow--*--*.sql 2>/dev/null) ||
		fail "unqualified pg_catalog function calls (qualify them: perl test/unqualified_calls.pl --fix NAMES $f)"
else
	fail "cannot read pg_catalog function names from a server (psql)"
fi
rm -f "$names"
exit $status
