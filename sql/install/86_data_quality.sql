------------------------------------------------------------------------------
-- Data quality: what was typed but could not be used (issue 18)
------------------------------------------------------------------------------

-- Added after the columns of the earlier parts, as ALTER EXTENSION UPDATE
-- adds it: the column order of a fresh install and an updated one agree.
ALTER TABLE @extschema@.leads ADD COLUMN data_issues jsonb;
ALTER TABLE @extschema@.leads ADD COLUMN external_id text;
ALTER TABLE @extschema@.leads ADD COLUMN submitted_at timestamptz;
COMMENT ON COLUMN @extschema@.leads.data_issues IS 'What was unusable in what was typed, field -> problem code (e.g. {"phone": "not_a_number"}); NULL when clean. The value stays as typed in its column (company_size and annual_revenue: in attributes, the column NULL). Written by the pipeline; report_data_quality counts it.';
COMMENT ON COLUMN @extschema@.leads.external_id IS 'The id the submission has where it came from (Meta leadgen_id or id, Google lead_id, a CSV or form external_id, or any INSERT''s); one lead per org, source and external_id (lead_external_ids): a submission captured again is not stored again (an INSERT of it stores nothing and does not count in the affected rows).';
COMMENT ON COLUMN @extschema@.leads.submitted_at IS 'When the person submitted the form, as the source says (Meta created_time); created_at stays the capture time. report_lead_volume counts a lead on this day when set.';
-- A submission is stored once: the pipeline claims its (org, source,
-- external_id) here with INSERT ... ON CONFLICT DO NOTHING (as it claims an
-- email in lead_emails), so a replay, also a concurrent one, stores nothing.
CREATE TABLE @extschema@.lead_external_ids (
    org_id       bigint NOT NULL,
    source       text COLLATE "C" NOT NULL,
    external_id  text COLLATE "C" NOT NULL,
    lead_id      bigint NOT NULL,
    PRIMARY KEY (org_id, source, external_id)
);
COMMENT ON TABLE @extschema@.lead_external_ids IS 'Internal: the lead row each captured submission (org, source, external_id) was stored as; a replay of it stores nothing.';
COMMENT ON COLUMN @extschema@.lead_external_ids.source IS 'The lead''s source, canonical; empty when it has none.';
COMMENT ON COLUMN @extschema@.lead_external_ids.external_id IS 'leads.external_id.';
COMMENT ON COLUMN @extschema@.lead_external_ids.lead_id IS 'The lead row stored for it (its survivor when merged: survivor_of).';
SELECT pg_catalog.pg_extension_config_dump('leadflow.lead_external_ids', '');

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

-- Volume by the day the person submitted (Meta created_time), when known
CREATE VIEW @extschema@.report_lead_volume WITH (security_invoker = true) AS
SELECT l.org_id,
       pg_catalog.timezone('UTC', COALESCE(l.submitted_at, l.created_at))::date AS day,
       l.source,
       pg_catalog.count(*) FILTER (WHERE l.merged_into IS NULL) AS leads,
       pg_catalog.count(*) FILTER (WHERE l.status = 'merged') AS duplicates,
       pg_catalog.count(*) AS captured
  FROM leadflow.leads l
 GROUP BY l.org_id, pg_catalog.timezone('UTC', COALESCE(l.submitted_at, l.created_at))::date, l.source;
COMMENT ON VIEW @extschema@.report_lead_volume IS 'Leads captured per org, day (UTC) and source: live leads and duplicates.';
COMMENT ON COLUMN @extschema@.report_lead_volume.org_id IS 'Org.';
COMMENT ON COLUMN @extschema@.report_lead_volume.day IS 'Day the rows were submitted: the date of submitted_at (when the source says, e.g. Meta created_time), else of created_at, in UTC, whatever the session time zone.';
COMMENT ON COLUMN @extschema@.report_lead_volume.source IS 'Lead source (NULL when none was given).';
COMMENT ON COLUMN @extschema@.report_lead_volume.leads IS 'Live leads captured that day from that source (not merged; erased ones included).';
COMMENT ON COLUMN @extschema@.report_lead_volume.duplicates IS 'Rows captured that day from that source that were stored merged into an earlier lead (status merged), erased or not.';
COMMENT ON COLUMN @extschema@.report_lead_volume.captured IS 'Every row captured that day from that source: live leads (erased ones included) and duplicates.';
