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

