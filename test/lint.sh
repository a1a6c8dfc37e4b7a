#!/bin/sh
# Install-script hygiene (README "Development") over every part of the
# install script (sql/install/*.sql) and every upgrade script
# (sql/leadflow--A--B.sql): plain CREATE only (upgrade scripts may CREATE OR
# REPLACE a function or view: that is how an upgrade replaces one), no
# SECURITY DEFINER, @extschema@ never inside quotes, every function pins
# search_path or is C, no unqualified call of a pg_catalog function (the
# names come from pg_proc of the cluster the tests run in, so psql must
# reach one: test/run.sh runs this inside pg_virtualenv).  The released
# install script sql/leadflow--0.1.0.sql is frozen: not linted again, but
# its content is pinned.
set -u
cd "$(dirname "$0")/.."
parts=$(ls sql/install/*.sql 2>/dev/null)
upgrades=$(ls sql/leadflow--*--*.sql 2>/dev/null)
status=0

fail() { echo "lint: $1"; status=1; }

[ -n "$parts" ] || fail "no install parts in sql/install/"
for f in $parts $upgrades; do
	case "$f" in
	sql/install/*)
		grep -nE 'CREATE[[:space:]]+OR[[:space:]]+REPLACE' "$f" | grep -vE '^[0-9]+:[[:space:]]*--' &&
			fail "CREATE OR REPLACE in install part $f (plain CREATE only)"
		;;
	*)
		grep -nE 'CREATE[[:space:]]+OR[[:space:]]+REPLACE' "$f" | grep -vE '^[0-9]+:[[:space:]]*--' |
			grep -vE 'CREATE[[:space:]]+OR[[:space:]]+REPLACE[[:space:]]+(FUNCTION|PROCEDURE|VIEW)[[:space:]]' &&
			fail "CREATE OR REPLACE of something other than a function or view in $f"
		;;
	esac
	grep -nE '(CREATE|ADD)[[:space:]]+[A-Z[:space:]]*IF[[:space:]]+NOT[[:space:]]+EXISTS' "$f" && fail "CREATE ... IF NOT EXISTS in $f"
	grep -niE 'SECURITY[[:space:]]+DEFINER' "$f" && fail "SECURITY DEFINER in $f"
	grep -nE "'[^']*@extschema@[^']*'" "$f" && fail "@extschema@ inside quotes in $f"
	# inside dollar-quoted bodies
	awk '/\$\$/ { n = gsub(/\$\$/, "$$"); if (n % 2) inside = !inside; next }
	     inside && /@extschema@/ { print FILENAME ":" NR ": " $0; bad = 1 }
	     END { exit bad }' "$f" || fail "@extschema@ inside a dollar-quoted body in $f"
	# every non-C function sets search_path
	awk 'BEGIN { RS = ";\n" }
	     /CREATE (OR REPLACE )?FUNCTION/ && !/LANGUAGE C/ && !/SET search_path = pg_catalog, pg_temp/ {
	         match($0, /CREATE (OR REPLACE )?FUNCTION [^(]*/); print FILENAME ": " substr($0, RSTART, RLENGTH); bad = 1 }
	     END { exit bad }' "$f" || fail "function without SET search_path = pg_catalog, pg_temp in $f"
done

# only the first part carries the CREATE EXTENSION guard; each upgrade
# script carries the guard of its own target version
first=$(echo "$parts" | head -n 1)
grep -q '^\\echo Use "CREATE EXTENSION leadflow" to load this file\. \\quit$' "$first" ||
	fail "$first lacks the \\echo ... \\quit guard"
for f in $upgrades; do
	to=${f##*--}; to=${to%.sql}
	grep -q "^\\\\echo Use \"ALTER EXTENSION leadflow UPDATE TO '$to'\" to load this file\\. \\\\quit\$" "$f" ||
		fail "$f lacks the guard: \\echo Use \"ALTER EXTENSION leadflow UPDATE TO '$to'\" to load this file. \\quit"
done

# released install scripts are frozen: their content is pinned here
frozen="sql/leadflow--0.1.0.sql 231ec29f5f46483f5886b8dbf6915e066baf6066424eaae712564357a1a3cd11"
echo "$frozen" | while read -r f sum; do
	[ "$(sha256sum "$f" 2>/dev/null | cut -d' ' -f1)" = "$sum" ] || { echo "lint: $f changed (released: never edit it; put the change in an upgrade script)"; exit 1; }
done || status=1
# the newest version is reachable by update: an upgrade script ends there
newest=$(sed -n "s/^default_version = '\(.*\)'$/\1/p" leadflow.control)
[ "$newest" = 0.1.0 ] || ls sql/leadflow--*--"$newest".sql >/dev/null 2>&1 ||
	fail "no upgrade script sql/leadflow--A--$newest.sql to default_version $newest"

# every call of a pg_catalog function is qualified, in the install parts
# and in upgrade scripts (test/unqualified_calls.pl says what counts)
names=$(mktemp)
if psql -X -A -t -q -d postgres -c "SELECT DISTINCT proname FROM pg_catalog.pg_proc WHERE pronamespace OPERATOR(pg_catalog.=) 'pg_catalog'::pg_catalog.regnamespace" >"$names"; then
	perl test/unqualified_calls.pl "$names" $parts $upgrades ||
		fail "unqualified pg_catalog function calls (qualify them: perl test/unqualified_calls.pl --fix NAMES FILE...)"
else
	fail "cannot read pg_catalog function names from a server (psql)"
fi
rm -f "$names"
exit $status
