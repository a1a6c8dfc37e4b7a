#!/bin/sh
# Install-script hygiene (README "Development"): plain CREATE only, no
# SECURITY DEFINER, @extschema@ never inside quotes, every function pins
# search_path or is C.
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
exit $status
