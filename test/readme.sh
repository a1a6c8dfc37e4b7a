#!/bin/sh
# Runs every ```sql block of README.md, in order, in a fresh database, so
# the examples never go stale.  Blocks fenced as ```sql <note> (e.g. ones
# that need pg_cron) are shown, not run.
set -eu
cd "$(dirname "$0")/.."
sql=$(mktemp)
awk '/^```sql$/ { inblock = 1; next } /^```/ { inblock = 0; next } inblock { print }' README.md > "$sql"
psql -X -q -c 'DROP DATABASE IF EXISTS leadflow_readme' -c 'CREATE DATABASE leadflow_readme' postgres
psql -X -q -v ON_ERROR_STOP=1 -d leadflow_readme -f "$sql" > /dev/null
rm -f "$sql"
echo "README examples: ok"
