------------------------------------------------------------------------------
-- Data quality: what was typed but could not be used (issue 18)
------------------------------------------------------------------------------

-- Added after the columns of the earlier parts, as ALTER EXTENSION UPDATE
-- adds it: the column order of a fresh install and an updated one agree.
ALTER TABLE @extschema@.leads ADD COLUMN data_issues jsonb;
ALTER TABLE @extschema@.leads ADD COLUMN external_id text;
COMMENT ON COLUMN @extschema@.leads.data_issues IS 'What was unusable in what was typed, field -> problem code (e.g. {"phone": "not_a_number"}); NULL when clean. The value stays as typed in its column (company_size and annual_revenue: in attributes, the column NULL). Written by the pipeline; report_data_quality counts it.';
COMMENT ON COLUMN @extschema@.leads.external_id IS 'The id the submission has where it came from (Meta leadgen_id or id, Google lead_id, a CSV or form external_id, or any INSERT''s); unique per org and source: a submission captured again is not stored again (an INSERT of it stores nothing and does not count in the affected rows).';
-- a submission is stored once: capture() and process_import find it here,
-- the pipeline skips an INSERT of it (the statement stores nothing for it)
CREATE UNIQUE INDEX leads_external_id ON @extschema@.leads (org_id, source, external_id) NULLS NOT DISTINCT
    WHERE external_id IS NOT NULL;

-- What was typed but could not be used, per field and problem
CREATE VIEW @extschema@.report_data_quality WITH (security_invoker = true) AS
SELECT l.org_id, d.key AS field, d.value #>> '{}' AS problem,
       pg_catalog.count(*) FILTER (WHERE l.merged_into IS NULL) AS leads,
       pg_catalog.count(*) AS captured
  FROM leadflow.leads l
 CROSS JOIN LATERAL pg_catalog.jsonb_each(l.data_issues) d
 WHERE l.data_issues IS NOT NULL AND l.erased_at IS NULL
 GROUP BY l.org_id, d.key, d.value #>> '{}';
COMMENT ON VIEW @extschema@.report_data_quality IS 'Per org, field and problem code: the leads whose typed value was kept but could not be used (leads.data_issues), e.g. phone not_a_number, company_size range.';
COMMENT ON COLUMN @extschema@.report_data_quality.org_id IS 'Org.';
COMMENT ON COLUMN @extschema@.report_data_quality.field IS 'The field: email, phone, company_size, annual_revenue, ...';
COMMENT ON COLUMN @extschema@.report_data_quality.problem IS 'The problem code, e.g. not_a_number, vanity_number, missing_at, range, ambiguous.';
COMMENT ON COLUMN @extschema@.report_data_quality.leads IS 'Live leads (not merged, not erased) with this problem.';
COMMENT ON COLUMN @extschema@.report_data_quality.captured IS 'Rows captured with this problem, duplicates merged into another lead included (erased leads not counted).';
