------------------------------------------------------------------------------
-- Source performance: leads, conversions, revenue and spend by source
------------------------------------------------------------------------------

-- After 86_data_quality.sql: a lead's month is that of submitted_at, else
-- created_at, as report_lead_volume dates it.
CREATE VIEW @extschema@.report_source_performance WITH (security_invoker = true) AS
SELECT m.org_id, m.source,
       pg_catalog.sum(m.leads)::bigint AS leads,
       pg_catalog.sum(m.qualified)::bigint AS qualified,
       pg_catalog.sum(m.converted)::bigint AS converted,
       pg_catalog.sum(m.qualified) / NULLIF(pg_catalog.sum(m.leads), 0) AS qualification_rate,
       pg_catalog.sum(m.converted) / NULLIF(pg_catalog.sum(m.leads), 0) AS conversion_rate,
       COALESCE(pg_catalog.sum(m.spend), 0) AS spend,
       -- spend against the leads of the months it was spent in; no spend
       -- recorded: the cost is unknown (NULL), not 0
       pg_catalog.sum(m.spend) / NULLIF(pg_catalog.sum(m.leads) FILTER (WHERE m.spend IS NOT NULL), 0) AS cost_per_lead,
       pg_catalog.sum(m.spend) / NULLIF(pg_catalog.sum(m.qualified) FILTER (WHERE m.spend IS NOT NULL), 0) AS cost_per_qualified,
       pg_catalog.sum(m.spend) / NULLIF(pg_catalog.sum(m.converted) FILTER (WHERE m.spend IS NOT NULL), 0) AS cost_per_converted,
       pg_catalog.sum(m.won)::bigint AS won,
       COALESCE(pg_catalog.sum(m.revenue), 0) AS revenue,
       (COALESCE(pg_catalog.sum(m.revenue) FILTER (WHERE m.spend IS NOT NULL), 0) - pg_catalog.sum(m.spend))
           / NULLIF(pg_catalog.sum(m.spend), 0) AS roi,
       COALESCE(pg_catalog.sum(m.leads) FILTER (WHERE m.spend IS NOT NULL), 0)::bigint AS matched_leads
  -- one row per org, source and month: the leads of the month (as
  -- report_lead_volume dates them) beside the spend of the month
  FROM (SELECT x.org_id, x.source, x.month,
               pg_catalog.count(x.lead_id) AS leads,
               pg_catalog.count(x.qualified_at) AS qualified,
               pg_catalog.count(x.converted_at) AS converted,
               pg_catalog.count(*) FILTER (WHERE x.won) AS won,
               pg_catalog.sum(x.revenue) AS revenue,
               pg_catalog.sum(x.amount) AS spend
          FROM (SELECT l.org_id, l.source,
                       pg_catalog.date_trunc('month', pg_catalog.timezone('UTC', COALESCE(l.submitted_at, l.created_at)))::date AS month,
                       l.lead_id, l.qualified_at, l.converted_at, NULL::numeric AS amount,
                       st.is_won AS won, CASE WHEN st.is_won THEN o.amount END AS revenue
                  FROM leadflow.leads l
                  LEFT JOIN leadflow.opportunities o ON o.org_id = l.org_id AND o.lead_id = l.lead_id
                  LEFT JOIN leadflow.opportunity_stages st ON st.org_id = o.org_id AND st.stage_id = o.stage_id
                 WHERE l.merged_into IS NULL
                UNION ALL
                SELECT s.org_id, s.source, s.month, NULL, NULL, NULL, s.amount, NULL, NULL
                  FROM leadflow.source_spend s) x
         GROUP BY x.org_id, x.source, x.month) m
 GROUP BY m.org_id, m.source;
COMMENT ON VIEW @extschema@.report_source_performance IS 'Per org and source: live leads, how many were qualified, converted and won, marketing spend, cost per lead, revenue and return on spend. Spend is matched to leads by month: each month''s spend against the leads of that month (by submitted_at, else created_at, in UTC, as report_lead_volume counts them), so months without recorded spend do not make leads look cheap. A source with spend but no leads has a row with 0 leads; a source without recorded spend has NULL costs and ROI (unknown, not free).';
COMMENT ON COLUMN @extschema@.report_source_performance.org_id IS 'Org.';
COMMENT ON COLUMN @extschema@.report_source_performance.source IS 'Lead source (as in leads.source and source_spend.source; NULL for leads without one).';
COMMENT ON COLUMN @extschema@.report_source_performance.leads IS 'Live leads from the source (not merged; erased ones included), all time.';
COMMENT ON COLUMN @extschema@.report_source_performance.qualified IS 'Of those, leads that reached qualified at some point (qualified_at set), whatever their status now.';
COMMENT ON COLUMN @extschema@.report_source_performance.converted IS 'Of those, leads converted (converted_at set).';
COMMENT ON COLUMN @extschema@.report_source_performance.qualification_rate IS 'qualified / leads, 0..1; NULL without leads.';
COMMENT ON COLUMN @extschema@.report_source_performance.conversion_rate IS 'converted / leads, 0..1; NULL without leads.';
COMMENT ON COLUMN @extschema@.report_source_performance.spend IS 'Sum of source_spend.amount for the source over all months (0 without spend rows).';
COMMENT ON COLUMN @extschema@.report_source_performance.cost_per_lead IS 'spend / matched_leads (the leads of months with a spend row); NULL without such leads or without spend rows.';
COMMENT ON COLUMN @extschema@.report_source_performance.cost_per_qualified IS 'spend / those of the matched leads that reached qualified; NULL when none did or without spend rows.';
COMMENT ON COLUMN @extschema@.report_source_performance.cost_per_converted IS 'spend / those of the matched leads that were converted; NULL when none were or without spend rows.';
COMMENT ON COLUMN @extschema@.report_source_performance.won IS 'Of the leads, those whose opportunity is in a won stage.';
COMMENT ON COLUMN @extschema@.report_source_performance.revenue IS 'Sum of the amounts of those won opportunities (0 without), all time.';
COMMENT ON COLUMN @extschema@.report_source_performance.roi IS '(revenue of the matched leads - spend) / spend; NULL without spend rows or with spend 0.';
COMMENT ON COLUMN @extschema@.report_source_performance.matched_leads IS 'Of the leads, those of a month (submitted_at, else created_at, UTC) with a spend row of the source: what the costs and ROI are computed over.';
