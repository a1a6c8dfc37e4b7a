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
-- on them.
CREATE FUNCTION @extschema@.refuse_app_write()
RETURNS trigger
AS 'MODULE_PATHNAME', 'leadflow_refuse_app_write'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.refuse_app_write() IS
    'Trigger: refuses writes of leadflow''s internal tables and shared reference data by any role but a superuser and the owner.';

CREATE TRIGGER lead_journey_leadflow_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.lead_journey
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_app_write();
CREATE TRIGGER lead_emails_leadflow_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.lead_emails
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_app_write();
CREATE TRIGGER rep_load_leadflow_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.rep_load
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_app_write();
CREATE TRIGGER team_rotation_leadflow_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.team_rotation
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_app_write();
CREATE TRIGGER routing_rule_stats_leadflow_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.routing_rule_stats
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_app_write();
CREATE TRIGGER prediction_counts_leadflow_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.prediction_counts
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_app_write();
CREATE TRIGGER account_hot_state_leadflow_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.account_hot_state
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_app_write();
CREATE TRIGGER free_email_domains_leadflow_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.free_email_domains
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_app_write();
CREATE TRIGGER capture_field_names_leadflow_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.capture_field_names
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_app_write();
-- also under session_replication_role = replica
ALTER TABLE @extschema@.lead_journey ENABLE ALWAYS TRIGGER lead_journey_leadflow_only;
ALTER TABLE @extschema@.lead_emails ENABLE ALWAYS TRIGGER lead_emails_leadflow_only;
ALTER TABLE @extschema@.rep_load ENABLE ALWAYS TRIGGER rep_load_leadflow_only;
ALTER TABLE @extschema@.team_rotation ENABLE ALWAYS TRIGGER team_rotation_leadflow_only;
ALTER TABLE @extschema@.routing_rule_stats ENABLE ALWAYS TRIGGER routing_rule_stats_leadflow_only;
ALTER TABLE @extschema@.prediction_counts ENABLE ALWAYS TRIGGER prediction_counts_leadflow_only;
ALTER TABLE @extschema@.account_hot_state ENABLE ALWAYS TRIGGER account_hot_state_leadflow_only;
ALTER TABLE @extschema@.free_email_domains ENABLE ALWAYS TRIGGER free_email_domains_leadflow_only;
ALTER TABLE @extschema@.capture_field_names ENABLE ALWAYS TRIGGER capture_field_names_leadflow_only;

-- What an application role needs, and nothing on the internal tables or
-- the shared reference data (SELECT only).
CREATE FUNCTION @extschema@.grant_app_role(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    read_only constant text[] := ARRAY['lead_journey', 'lead_emails', 'rep_load', 'team_rotation',
                                       'routing_rule_stats', 'prediction_counts', 'account_hot_state',
                                       'free_email_domains', 'capture_field_names', 'lead_merges'];
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
    'Grants an application role what it needs: the schema, SELECT on every table and view, INSERT and UPDATE on leads and the data an app writes, DELETE on its configuration; only SELECT on the internal tables and the shared reference data. The administrative functions stay revoked.';
REVOKE EXECUTE ON FUNCTION @extschema@.grant_app_role(regrole) FROM PUBLIC;
