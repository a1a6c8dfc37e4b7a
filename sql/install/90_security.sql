------------------------------------------------------------------------------
-- Security: tenant isolation (the administrative functions are revoked from
-- PUBLIC where they are defined)
------------------------------------------------------------------------------

-- Row-level security on every table with org_id, keyed on the setting
-- leadflow.org_id: an application role sees and writes only its org; with
-- the setting unset it sees nothing.  Enabled and forced, so the owner
-- role of the tables is bound too (superusers are never bound by RLS).
CREATE FUNCTION @extschema@.enable_tenant_isolation()
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t regclass;
    n integer := 0;
BEGIN
    FOR t IN
        SELECT c.oid::regclass FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped
         WHERE c.relnamespace = 'leadflow'::regnamespace AND c.relkind = 'r'
         ORDER BY c.relname
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t);
        EXECUTE pg_catalog.format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', t);
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_policy p
                        WHERE p.polrelid OPERATOR(pg_catalog.=) t AND p.polname OPERATOR(pg_catalog.=) 'leadflow_org_isolation') THEN
            EXECUTE pg_catalog.format(
                'CREATE POLICY leadflow_org_isolation ON %s'
                ' USING (org_id OPERATOR(pg_catalog.=) NULLIF(pg_catalog.current_setting(%L, true), %L)::bigint)'
                ' WITH CHECK (org_id OPERATOR(pg_catalog.=) NULLIF(pg_catalog.current_setting(%L, true), %L)::bigint)',
                t, 'leadflow.org_id', '', 'leadflow.org_id', '');
        END IF;
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION @extschema@.enable_tenant_isolation() IS
    'Enables and forces row-level security on every leadflow table with org_id, keyed on the setting leadflow.org_id; returns the number of tables.';
REVOKE EXECUTE ON FUNCTION @extschema@.enable_tenant_isolation() FROM PUBLIC;


-- Internal tables and shared reference data are written by leadflow alone
-- (tenant.c): a statement trigger refuses every writer but a superuser and
-- the owner, whatever was granted; the pipeline's own statements on the
-- internal tables run as their owner, so applications need no privilege
-- on them.  internal_tables() is the one list of them.
CREATE FUNCTION @extschema@.internal_tables()
RETURNS TABLE (table_name text, shared boolean)
AS 'MODULE_PATHNAME', 'leadflow_internal_tables'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.internal_tables() IS
    'The tables leadflow alone writes: its internal tables (journey, claims, routing and prediction state, events, merge records) and, shared = true, the reference data every org shares. Applications get only SELECT on them (grant_app_role) and a trigger refuses their writes.';

CREATE FUNCTION @extschema@.refuse_app_write()
RETURNS trigger
AS 'MODULE_PATHNAME', 'leadflow_refuse_app_write'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.refuse_app_write() IS
    'Trigger: refuses writes of leadflow''s internal tables and shared reference data by any role but a superuser and the owner.';

-- the trigger on every table of the list, also under
-- session_replication_role = replica (the update adds it to new ones)
DO $$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT i.table_name FROM leadflow.internal_tables() i
              WHERE pg_catalog.to_regclass(pg_catalog.format('leadflow.%I', i.table_name)) IS NOT NULL
                AND NOT EXISTS (SELECT FROM pg_catalog.pg_trigger g
                                 WHERE g.tgrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(pg_catalog.format('leadflow.%I', i.table_name))
                                   AND g.tgname OPERATOR(pg_catalog.=) (i.table_name OPERATOR(pg_catalog.||) '_leadflow_only'))
              ORDER BY 1 LOOP
        EXECUTE pg_catalog.format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON leadflow.%I'
                                  ' FOR EACH STATEMENT EXECUTE FUNCTION leadflow.refuse_app_write()',
                                  t OPERATOR(pg_catalog.||) '_leadflow_only', t);
        EXECUTE pg_catalog.format('ALTER TABLE leadflow.%I ENABLE ALWAYS TRIGGER %I', t, t OPERATOR(pg_catalog.||) '_leadflow_only');
    END LOOP;
END
$$;

-- What an application role needs, and nothing on the internal tables or
-- the shared reference data (SELECT only).
CREATE FUNCTION @extschema@.grant_app_role(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    read_only constant text[] := ARRAY(SELECT i.table_name FROM leadflow.internal_tables() i);
    no_delete constant text[] := ARRAY['orgs', 'leads', 'lead_signals', 'activities', 'consents',
                                       'lead_imports', 'contacts', 'opportunities', 'nurture_queue'];
BEGIN
    IF role IS NULL THEN
        RAISE EXCEPTION 'grant_app_role needs a role' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA %I TO %s', 'leadflow', role);
    FOR t IN
        SELECT c.oid::regclass AS rel, c.relname::text AS name, c.relkind
          FROM pg_catalog.pg_class c
         WHERE c.relnamespace OPERATOR(pg_catalog.=) 'leadflow'::regnamespace AND c.relkind IN ('r', 'v')
         ORDER BY c.relname
    LOOP
        IF t.relkind OPERATOR(pg_catalog.=) 'v' OR t.name OPERATOR(pg_catalog.=) ANY (read_only) THEN
            EXECUTE pg_catalog.format('GRANT SELECT ON %s TO %s', t.rel, role);
        ELSIF t.name OPERATOR(pg_catalog.=) ANY (no_delete) THEN
            EXECUTE pg_catalog.format('GRANT SELECT, INSERT, UPDATE ON %s TO %s', t.rel, role);
        ELSE
            EXECUTE pg_catalog.format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %s', t.rel, role);
        END IF;
    END LOOP;
    EXECUTE pg_catalog.format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA %I TO %s', 'leadflow', role);
END
$$;
COMMENT ON FUNCTION @extschema@.grant_app_role(regrole) IS
    'Grants an application role what it needs: the schema, SELECT on every table and view, INSERT and UPDATE on leads and the data an app writes, DELETE on its configuration; only SELECT on the internal tables and the shared reference data (internal_tables()). No function beyond what PUBLIC may run; the administrative functions stay revoked.';
REVOKE EXECUTE ON FUNCTION @extschema@.grant_app_role(regrole) FROM PUBLIC;
