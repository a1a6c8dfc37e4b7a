------------------------------------------------------------------------------
-- The lead pipeline (C)
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.lead_pipeline()
RETURNS trigger
AS 'MODULE_PATHNAME', 'leadflow_lead_pipeline'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.lead_pipeline() IS 'Trigger: runs the lead pipeline on INSERT and UPDATE of leads.';

CREATE TRIGGER leads_pipeline
    BEFORE INSERT OR UPDATE ON @extschema@.leads
    FOR EACH ROW EXECUTE FUNCTION @extschema@.lead_pipeline();

-- A deleted lead would leave its journey (immutable) without its lead and
-- its email claim pointing nowhere, so that later leads with that email
-- merge into nothing.  Leads leave by erasure or archiving instead.
CREATE FUNCTION @extschema@.lead_refuse_delete()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_LEVEL OPERATOR(pg_catalog.=) 'ROW' THEN
        RAISE EXCEPTION 'lead % cannot be deleted', OLD.lead_id
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'Its journey is kept for good, and a lead without it would break the chain.',
                  HINT = 'Erase its personal data with leadflow.erase_lead(lead_id, reason), or archive it.';
    END IF;
    RAISE EXCEPTION 'leadflow.leads cannot be truncated'
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Erase personal data with leadflow.erase_lead(lead_id, reason), or archive leads.';
END
$$;
COMMENT ON FUNCTION @extschema@.lead_refuse_delete() IS 'Trigger: leads are never deleted or truncated (erase or archive them).';

CREATE TRIGGER leads_no_delete
    BEFORE DELETE ON @extschema@.leads
    FOR EACH ROW EXECUTE FUNCTION @extschema@.lead_refuse_delete();
CREATE TRIGGER leads_no_truncate
    BEFORE TRUNCATE ON @extschema@.leads
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.lead_refuse_delete();
ALTER TABLE @extschema@.leads ENABLE ALWAYS TRIGGER leads_no_delete;
ALTER TABLE @extschema@.leads ENABLE ALWAYS TRIGGER leads_no_truncate;
