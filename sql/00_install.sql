-- Install, uninstall and reinstall; what CREATE EXTENSION creates.
\set VERBOSITY terse

SELECT extname, extversion, extrelocatable, n.nspname AS schema
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname = 'leadflow';

-- the contract's tables, all in schema leadflow
SELECT c.relname
  FROM pg_class c JOIN pg_depend d ON d.objid = c.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'leadflow'
 WHERE c.relkind = 'r'
 ORDER BY 1;

-- uninstall leaves nothing behind; reinstall works
DROP EXTENSION leadflow;
SELECT count(*) AS leftover_objects FROM pg_class WHERE relnamespace = 'leadflow'::regnamespace;
DROP SCHEMA leadflow;
-- not trusted (the control file says so): CREATE on the database is not
-- enough, only a superuser installs it (asked of the server, not of
-- pg_available_extension_versions, which does not list a private install)
CREATE ROLE leadflow_untrusted;
DO $$BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO leadflow_untrusted', current_database()); END$$;
SET ROLE leadflow_untrusted;
CREATE EXTENSION leadflow;
RESET ROLE;
DO $$BEGIN EXECUTE format('REVOKE CREATE ON DATABASE %I FROM leadflow_untrusted', current_database()); END$$;
DROP ROLE leadflow_untrusted;
-- an object planted in the schema is never adopted, nor an operator that
-- would capture a name: the install fails; an empty schema is fine
CREATE SCHEMA leadflow;
CREATE TABLE leadflow.orgs (org_id bigint);
CREATE EXTENSION leadflow;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
DROP TABLE leadflow.orgs;
CREATE FUNCTION leadflow.planted_eq(bigint, integer) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR leadflow.= (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = leadflow.planted_eq);
CREATE EXTENSION leadflow;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
DROP SCHEMA leadflow CASCADE;
CREATE SCHEMA leadflow;
CREATE EXTENSION leadflow;
DROP EXTENSION leadflow;
DROP SCHEMA leadflow;
CREATE EXTENSION leadflow;
SELECT count(*) > 3000 AS free_mail_list_shipped FROM leadflow.free_email_domains;
SELECT domain FROM leadflow.free_email_domains
 WHERE domain IN ('gmail.com', 'googlemail.com', 'yahoo.com', 'outlook.com', 'gmx.de')
 ORDER BY 1;

-- settings the module defines
SHOW leadflow.actor;
SET leadflow.org_id = '42';
SHOW leadflow.org_id;
SET leadflow.org_id = 'acme';
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
RESET leadflow.org_id;
SET leadflow.no_such_setting = 'x';

-- The pipeline's lookups by key must use the key's index even when planned
-- on empty tables (generic plans are kept for the session; any other plan
-- turns a bulk load quadratic).
SET enable_seqscan = off;   -- as the pipeline runs them (LeadflowExecute)
SET plan_cache_mode = force_generic_plan;
PREPARE lead_by_key(bigint, bigint) AS
    SELECT first_name FROM leadflow.leads WHERE org_id = $1 AND lead_id = $2 FOR NO KEY UPDATE;
EXPLAIN (COSTS OFF) EXECUTE lead_by_key(1, 1);
PREPARE signals_of_lead(bigint, bigint) AS
    SELECT kind, occurred_at FROM leadflow.lead_signals WHERE org_id = $1 AND lead_id = $2
     ORDER BY occurred_at DESC, signal_id DESC;
EXPLAIN (COSTS OFF) EXECUTE signals_of_lead(1, 1);
PREPARE journey_head(bigint, bigint) AS
    SELECT seq, hash FROM leadflow.lead_journey WHERE org_id = $1 AND lead_id = $2 ORDER BY seq DESC LIMIT 1;
EXPLAIN (COSTS OFF) EXECUTE journey_head(1, 1);
PREPARE affinity(bigint, text, bigint) AS
    SELECT owner_rep_id FROM leadflow.leads
     WHERE org_id = $1 AND company_domain = $2 AND owner_rep_id IS NOT NULL AND merged_into IS NULL
       AND erased_at IS NULL AND lead_id <> $3 ORDER BY assigned_at DESC NULLS LAST LIMIT 1;
EXPLAIN (COSTS OFF) EXECUTE affinity(1, 'x', 1);
RESET plan_cache_mode;
RESET enable_seqscan;
