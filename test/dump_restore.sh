#!/bin/sh
# Backup and restore (README "Backup and restore"): pg_dump of the demo
# database, then pg_restore into a new database the documented way (as a
# superuser, session_replication_role = replica).  Fails unless every
# leadflow table holds the same rows, every sequence the same value, every
# journey chain verifies, and the restored database takes new leads where
# the dumped one stopped.  Runs after data/demo.sh (needs leadflow_demo).
set -u
src=leadflow_demo
dst=leadflow_restored
dump=$(mktemp /tmp/leadflow-dump.XXXXXX)
status=0

fail() { echo "dump_restore: $1"; status=1; }
q() { psql -X -qAt -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

# a domain added by the user must survive; the shipped list must not double
q $src "INSERT INTO leadflow.free_email_domains (domain) VALUES ('own-mail.example') ON CONFLICT DO NOTHING" >/dev/null

pg_dump -Fc -d $src -f "$dump" 2>/dev/null || fail "pg_dump failed"
psql -X -q -c "DROP DATABASE IF EXISTS $dst" -c "CREATE DATABASE $dst" postgres
PGOPTIONS='-c session_replication_role=replica' pg_restore -d $dst "$dump" || fail "pg_restore failed"
rm -f "$dump"

# every table of the extension, row for row
tables=$(q $src "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'leadflow'::regnamespace AND c.relkind = 'r' ORDER BY 1")
for t in $tables; do
	sql="SELECT count(*) || ' ' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '-') FROM leadflow.$t x"
	a=$(q $src "$sql")
	b=$(q $dst "$sql")
	[ "$a" = "$b" ] || fail "table $t differs after restore: $a vs $b"
done
sql="SELECT string_agg(c.relname || '=' || coalesce(pg_sequence_last_value(c.oid)::text, '-'), ' ' ORDER BY c.relname) FROM pg_class c WHERE c.relnamespace = 'leadflow'::regnamespace AND c.relkind = 'S'"
[ "$(q $src "$sql")" = "$(q $dst "$sql")" ] || fail "sequences differ after restore"

broken=$(q $dst "SELECT count(*) FROM leadflow.orgs o, leadflow.verify_journey(o.org_id)")
[ "$broken" = 0 ] || fail "$broken broken journey links after restore"

# the restored database goes on: a new lead gets the next id, a score, an
# owner or the queue, and a journey that starts at seq 1
next=$(q $dst "SELECT max(lead_id) + 1 FROM leadflow.leads")
got=$(q $dst "INSERT INTO leadflow.leads (org_id, first_name, email, company, source)
              SELECT min(org_id), 'After', 'after.restore@new-company.example', 'New Company', 'web_form' FROM leadflow.orgs
              RETURNING lead_id")
[ "$got" = "$next" ] || fail "new lead got id $got after restore, expected $next"
seq=$(q $dst "SELECT string_agg(seq::text, ',' ORDER BY seq) FROM leadflow.lead_journey WHERE lead_id = $got")
case "$seq" in 1 | 1,*) ;; *) fail "journey of the new lead is '$seq', expected to start at 1" ;; esac

psql -X -q -c "DROP DATABASE $dst" postgres
[ $status = 0 ] && echo "dump_restore: $(echo $tables | wc -w) tables identical, sequences identical, journeys intact, new lead $got"
exit $status
