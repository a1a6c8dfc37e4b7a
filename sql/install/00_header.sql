-- leadflow install script, part 00 of sql/install/.  The Makefile builds
-- leadflow--<default_version>.sql from every part in file name order, one
-- topic each (its tables, functions, triggers, comments, privileges and
-- pg_dump registrations together), and appends the shipped free-mail list.
-- A schema change goes into its topic's part AND into the upgrade script
-- sql/leadflow--A--B.sql; released install scripts are never edited.
--
-- Conventions (see README "Development"): plain CREATE only; every name
-- schema-qualified; @extschema@ never inside quotes (the schema is fixed to
-- "leadflow", so function bodies name it literally); every SQL function pins
-- search_path; org_id comes first in every key so the schema can be
-- distributed by org.

\echo Use "CREATE EXTENSION leadflow" to load this file. \quit

-- leadflow installs into a schema of its own.  A schema "leadflow" that
-- already holds objects is refused: an operator or function planted there
-- could otherwise capture a name the views below resolve at install time.
DO $$
DECLARE
    n bigint;
BEGIN
    SELECT (SELECT pg_catalog.count(*) FROM pg_catalog.pg_class c WHERE c.relnamespace OPERATOR(pg_catalog.=) s.oid)
         OPERATOR(pg_catalog.+) (SELECT pg_catalog.count(*) FROM pg_catalog.pg_proc p WHERE p.pronamespace OPERATOR(pg_catalog.=) s.oid)
         OPERATOR(pg_catalog.+) (SELECT pg_catalog.count(*) FROM pg_catalog.pg_type t WHERE t.typnamespace OPERATOR(pg_catalog.=) s.oid)
         OPERATOR(pg_catalog.+) (SELECT pg_catalog.count(*) FROM pg_catalog.pg_operator o WHERE o.oprnamespace OPERATOR(pg_catalog.=) s.oid)
         OPERATOR(pg_catalog.+) (SELECT pg_catalog.count(*) FROM pg_catalog.pg_opfamily f WHERE f.opfnamespace OPERATOR(pg_catalog.=) s.oid)
         OPERATOR(pg_catalog.+) (SELECT pg_catalog.count(*) FROM pg_catalog.pg_collation l WHERE l.collnamespace OPERATOR(pg_catalog.=) s.oid)
         OPERATOR(pg_catalog.+) (SELECT pg_catalog.count(*) FROM pg_catalog.pg_conversion v WHERE v.connamespace OPERATOR(pg_catalog.=) s.oid)
      INTO n
      FROM pg_catalog.pg_namespace s WHERE s.nspname OPERATOR(pg_catalog.=) 'leadflow';
    IF n OPERATOR(pg_catalog.>) 0 THEN
        RAISE EXCEPTION 'schema "leadflow" already holds % objects', n
            USING ERRCODE = 'duplicate_schema',
                  HINT = 'leadflow installs into a schema of its own: drop or rename the existing schema "leadflow" first.';
    END IF;
END
$$;

------------------------------------------------------------------------------
-- Trigger functions every topic below uses: its configuration tables tell
-- the caches of every backend (config_changed), and rows that leads refer
-- to refuse deletion (refuse_delete_in_use)
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.config_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'leadflow_config_changed'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.config_changed() IS 'Trigger: tells every backend to reload its cached configuration.';

-- leads carries no declarative foreign keys (40_leads.sql): a row that leads
-- still point at cannot be deleted.  TG_ARGV[0] is the leads column,
-- TG_ARGV[1] the key column of the guarded table.
CREATE FUNCTION @extschema@.refuse_delete_in_use()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    id bigint := (pg_catalog.to_jsonb(OLD) OPERATOR(pg_catalog.->>) TG_ARGV[1])::bigint;
    used boolean;
BEGIN
    EXECUTE pg_catalog.format(
        'SELECT EXISTS (SELECT FROM leadflow.leads WHERE org_id OPERATOR(pg_catalog.=) $1 AND %I OPERATOR(pg_catalog.=) $2)',
        TG_ARGV[0])
       INTO used USING OLD.org_id, id;
    IF used THEN
        RAISE EXCEPTION 'cannot delete %.% %: leads still refer to it', TG_TABLE_NAME, TG_ARGV[1], id
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = pg_catalog.format('leads.%s of org %s', TG_ARGV[0], OLD.org_id),
                  HINT = 'Deactivate it instead, or move its leads first.';
    END IF;
    RETURN OLD;
END
$$;
COMMENT ON FUNCTION @extschema@.refuse_delete_in_use() IS 'Trigger: refuses to delete a rep, team, account, workflow, stage or org that leads refer to.';
