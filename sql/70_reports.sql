-- Report views (BI): every view of spec section 9 over a small fixed data
-- set, with exact numbers, then invariants that tie the views together.
\set VERBOSITY terse
-- lead ids of this file start at 70001, whatever ran before
SELECT setval(pg_get_serial_sequence('leadflow.leads', 'lead_id'), 70000) \gset

-- One transaction: now() stays the same, so every age below is exact.
-- Times are whole hours before now(), never days (the session time zone
-- has daylight saving time).
BEGIN;
INSERT INTO leadflow.orgs (org_id, name) VALUES (70, 'Reports Org'), (71, 'Other Org');
INSERT INTO leadflow.teams (org_id, team_id, name, strategy) VALUES (70, 7001, 'Inbound', 'round_robin');
INSERT INTO leadflow.reps (org_id, rep_id, team_id, name, role, max_open_leads) VALUES
  (70, 7001, 7001, 'Ann', 'sdr', NULL),
  (70, 7002, 7001, 'Ben', 'sdr', 3),
  (70, 7003, NULL, 'Cat', 'ae', NULL),
  (71, 7101, NULL, 'Zed', 'sdr', NULL);
INSERT INTO leadflow.accounts (org_id, name, domain, owner_rep_id) VALUES (70, 'Globex', 'globex.com', 7003);
INSERT INTO leadflow.company_profiles (org_id, domain, provider, industry, company_size, annual_revenue, country) VALUES
  (70, 'acme-widgets.com', 'vendorx', 'Manufacturing', 250, 5000000, 'US'),
  (70, 'initech.com', 'vendorx', 'Software', NULL, NULL, 'US');
-- spend is matched to the leads of its month: these leads are of this
-- month (UTC); web_form's spend of the month before (no leads) still
-- counts toward its cost
INSERT INTO leadflow.source_spend (org_id, source, month, amount)
SELECT s.org_id, s.source, (date_trunc('month', now() AT TIME ZONE 'UTC') - s.back)::date, s.amount
  FROM (VALUES (70, 'web_form', interval '1 month', 300), (70, 'web_form', interval '0', 200),
               (70, 'meta_ads', interval '0', 150), (70, 'linkedin_ads', interval '0', 100),
               (71, 'web_form', interval '0', 999)) s(org_id, source, back, amount);
-- scores set by hand: a model without rules, so score = score_manual
UPDATE leadflow.scoring_models SET active = false WHERE org_id = 70;
INSERT INTO leadflow.scoring_models (org_id, name, active, warm_at, hot_at) VALUES (70, 'Manual only', true, 30, 70);
-- a second workflow nobody is in yet
INSERT INTO leadflow.workflows (org_id, workflow_id, name) VALUES (70, 7090, 'Partners');
INSERT INTO leadflow.workflow_stages (org_id, stage_id, workflow_id, name, position, status) VALUES
  (70, 7091, 7090, 'Registered', 1, 'new'), (70, 7092, 7090, 'Approved', 2, 'qualified');
INSERT INTO leadflow.routing_rules (org_id, rule_id, position, name, mode, enabled, predicate, assign_to, rep_id, team_id) VALUES
  (70, 7001, 10, 'Trade shows to Cat', 'live', true,
   '{"field": "source", "op": "eq", "value": "trade_show"}', 'rep', 7003, NULL),
  (70, 7002, 20, 'Try: web forms to Ben', 'shadow', true,
   '{"field": "source", "op": "eq", "value": "web_form"}', 'rep', 7002, NULL),
  (70, 7003, 30, 'Web and Meta to Inbound', 'live', true,
   '{"field": "source", "op": "in", "value": ["web_form", "meta_ads"]}', 'team', NULL, 7001),
  (70, 7004, 40, 'Everything else to the queue', 'live', false, '{"all": []}', 'queue', NULL, NULL);

-- leads: 12 of org 70, then 3 duplicates, then org 71's
INSERT INTO leadflow.leads (org_id, first_name, email, phone, company, company_size, source) VALUES
  (70, 'Ada', 'ada@acme-widgets.com', NULL, 'Acme Widgets', NULL, 'web_form'),   -- 70001
  (70, 'Bo', 'bo@acme-widgets.com', NULL, 'Acme Widgets', NULL, 'web_form'),     -- 70002
  (70, 'Cy', 'cy.free@gmail.com', NULL, NULL, NULL, 'web_form'),                 -- 70003
  (70, 'Di', 'di@initech.com', NULL, 'Initech', 50, 'web_form'),                  -- 70004
  (70, 'Ed', 'ed@globex.com', NULL, 'Globex', NULL, 'web_form'),                  -- 70005
  (70, 'Fay', 'fay@umbrella.com', NULL, 'Umbrella', NULL, 'trade_show'),         -- 70006
  (70, 'Gus', 'gus@yahoo.com', NULL, NULL, NULL, 'trade_show'),                   -- 70007
  (70, 'Hu', NULL, '+1 415 555 0101', NULL, NULL, 'trade_show'),                  -- 70008
  (70, 'Ivy', 'ivy@hooli.com', NULL, 'Hooli', NULL, 'meta_ads'),                  -- 70009
  (70, 'Jo', 'jo@hotmail.com', NULL, NULL, NULL, 'meta_ads'),                     -- 70010
  (70, 'Kai', 'kai@stark.com', NULL, 'Stark', NULL, 'referral'),                  -- 70011
  (70, 'Lu', 'lu@wayne.com', NULL, 'Wayne', NULL, 'referral');                    -- 70012
INSERT INTO leadflow.leads (org_id, email, source) VALUES
  (70, 'ADA@Acme-Widgets.com', 'web_form'),                                       -- 70013, dup of 70001
  (70, ' ivy@hooli.com ', 'meta_ads'),                                            -- 70014, dup of 70009
  (70, 'cy.free+expo@gmail.com', 'trade_show');                                   -- 70015, dup of 70003
INSERT INTO leadflow.leads (org_id, email, source, owner_rep_id) VALUES
  (71, 'ada@acme-widgets.com', 'web_form', 7101),                                 -- 70016
  (71, 'zoe@initech.com', 'web_form', 7101);                                      -- 70017

-- what the pipeline did
SELECT lead_id, source, status, merged_into, owner_rep_id, company_domain, industry, company_size, temperature
  FROM leadflow.leads WHERE org_id IN (70, 71) ORDER BY lead_id;

-- the sales floor: owners as routing left them, hand-made dates.  assigned
-- one minute after capture, first touches at fixed minutes after capture.
UPDATE leadflow.leads SET created_at = now() - interval '72 hours' WHERE lead_id IN (70001, 70002, 70006);
UPDATE leadflow.leads SET created_at = now() - interval '48 hours' WHERE lead_id IN (70003, 70004, 70008, 70013);
UPDATE leadflow.leads SET created_at = now() - interval '24 hours' WHERE lead_id IN (70005, 70009, 70011, 70012, 70014, 70015);
UPDATE leadflow.leads SET assigned_at = created_at + interval '1 minute'
 WHERE org_id = 70 AND owner_rep_id IS NOT NULL;
UPDATE leadflow.leads SET score_manual = 72 WHERE lead_id = 70001;
UPDATE leadflow.leads SET score_manual = 74 WHERE lead_id = 70006;
UPDATE leadflow.leads SET score_manual = 40 WHERE lead_id = 70002;
UPDATE leadflow.leads SET score_manual = 35 WHERE lead_id = 70003;
UPDATE leadflow.leads SET score_manual = 50 WHERE lead_id = 70009;
UPDATE leadflow.leads SET first_touch_at = created_at + interval '3 minutes' WHERE lead_id = 70001;
UPDATE leadflow.leads SET first_touch_at = created_at + interval '11 minutes' WHERE lead_id = 70002;
UPDATE leadflow.leads SET first_touch_at = created_at + interval '5 minutes' WHERE lead_id = 70003;
UPDATE leadflow.leads SET first_touch_at = created_at + interval '31 minutes' WHERE lead_id = 70005;
UPDATE leadflow.leads SET first_touch_at = created_at + interval '121 minutes' WHERE lead_id = 70006;

-- stage moves, each after a known time in the stage (journaled as stage_changed)
UPDATE leadflow.leads SET stage_entered_at = now() - interval '10 hours' WHERE lead_id = 70001;
UPDATE leadflow.leads SET status = 'contacted' WHERE lead_id = 70001;
UPDATE leadflow.leads SET stage_entered_at = now() - interval '6 hours' WHERE lead_id = 70001;
UPDATE leadflow.leads SET status = 'qualified' WHERE lead_id = 70001;
UPDATE leadflow.leads SET stage_entered_at = now() - interval '2 hours' WHERE lead_id = 70001;
SELECT leadflow.convert_lead(70001) IS NOT NULL AS converted;

UPDATE leadflow.leads SET stage_entered_at = now() - interval '20 hours' WHERE lead_id = 70002;
UPDATE leadflow.leads SET status = 'contacted' WHERE lead_id = 70002;

UPDATE leadflow.leads SET stage_entered_at = now() - interval '30 hours' WHERE lead_id = 70003;
UPDATE leadflow.leads SET status = 'contacted' WHERE lead_id = 70003;
UPDATE leadflow.leads SET stage_entered_at = now() - interval '5 hours' WHERE lead_id = 70003;
UPDATE leadflow.leads SET status = 'nurture' WHERE lead_id = 70003;

-- qualified, then found not to fit
UPDATE leadflow.leads SET stage_entered_at = now() - interval '4 hours' WHERE lead_id = 70005;
UPDATE leadflow.leads SET status = 'contacted' WHERE lead_id = 70005;
UPDATE leadflow.leads SET stage_entered_at = now() - interval '3 hours' WHERE lead_id = 70005;
UPDATE leadflow.leads SET status = 'qualified' WHERE lead_id = 70005;
UPDATE leadflow.leads SET stage_entered_at = now() - interval '1 hour' WHERE lead_id = 70005;
UPDATE leadflow.leads SET status = 'unqualified' WHERE lead_id = 70005;

UPDATE leadflow.leads SET stage_entered_at = now() - interval '40 hours' WHERE lead_id = 70006;
UPDATE leadflow.leads SET status = 'contacted' WHERE lead_id = 70006;
UPDATE leadflow.leads SET stage_entered_at = now() - interval '8 hours' WHERE lead_id = 70006;
UPDATE leadflow.leads SET status = 'qualified' WHERE lead_id = 70006;

UPDATE leadflow.leads SET stage_entered_at = now() - interval '12 hours' WHERE lead_id = 70008;
UPDATE leadflow.leads SET status = 'archived', archive_reason = 'no budget' WHERE lead_id = 70008;

-- a completed call is the first touch (20 minutes after capture) and contacts the lead
UPDATE leadflow.leads SET stage_entered_at = now() - interval '3 hours' WHERE lead_id = 70009;
INSERT INTO leadflow.activities (org_id, lead_id, rep_id, kind, completed_at)
SELECT 70, 70009, owner_rep_id, 'call', created_at + interval '20 minutes' FROM leadflow.leads WHERE lead_id = 70009;
-- tasks: one overdue (70007), one due later (70010), one overdue but done (70011)
INSERT INTO leadflow.activities (org_id, lead_id, rep_id, kind, due_at, completed_at) VALUES
  (70, 70007, 7003, 'task', now() - interval '1 hour', NULL),
  (70, 70010, NULL, 'task', now() + interval '1 hour', NULL),
  (70, 70011, NULL, 'task', now() - interval '2 hours', now() - interval '3 hours');

-- ages for the aging report
UPDATE leadflow.leads SET stage_entered_at = created_at, last_activity_at = NULL
 WHERE lead_id IN (70004, 70007, 70010, 70011);
UPDATE leadflow.leads SET last_activity_at = now() - interval '7 hours' WHERE lead_id = 70002;

SELECT leadflow.erase_lead(70012, 'request 12') AS erased;
-- Cat is away from now on; Ben is full
UPDATE leadflow.reps SET away_from = now() - interval '1 hour', away_until = now() + interval '24 hours'
 WHERE org_id = 70 AND rep_id = 7003;
UPDATE leadflow.reps SET max_open_leads = 2 WHERE org_id = 70 AND rep_id = 7002;
-- a step an application journaled under a pipeline kind, with junk in it:
-- reports skip what they cannot read
SELECT leadflow.append_journey(70004, 'stage_changed',
    jsonb_build_object('from_stage_id', stage_id, 'hours_in_previous_stage', 'n/a')) > 0 AS appended
  FROM leadflow.leads WHERE lead_id = 70004;

SELECT lead_id, status, owner_rep_id, score, temperature, qualified_at IS NOT NULL AS qualified,
       converted_at IS NOT NULL AS converted,
       round(extract(epoch FROM now() - created_at) / 3600, 2) AS age_hours,
       round(extract(epoch FROM first_touch_at - created_at) / 60, 2) AS touch_minutes
  FROM leadflow.leads WHERE org_id = 70 ORDER BY lead_id;

-- report_lead_volume: day as days before today (UTC)
SELECT source, (now() AT TIME ZONE 'UTC')::date - day AS days_ago, leads, duplicates, captured
  FROM leadflow.report_lead_volume WHERE org_id = 70 ORDER BY day, source;

SELECT source, leads, qualified, converted, round(qualification_rate, 3) AS qualification_rate,
       round(conversion_rate, 3) AS conversion_rate, spend, round(cost_per_lead, 3) AS cost_per_lead,
       round(cost_per_qualified, 3) AS cost_per_qualified, round(cost_per_converted, 3) AS cost_per_converted
  FROM leadflow.report_source_performance WHERE org_id = 70 ORDER BY source;

SELECT workflow, stage, position, status, reached, current, round(pct_of_first, 3) AS pct_of_first,
       round(median_hours_in_stage::numeric, 3) AS median_hours_in_stage, moves_out
  FROM leadflow.report_funnel WHERE org_id = 70 ORDER BY workflow_id, position;

SELECT rep_id, name, assigned, open, contacted,
       round(median_first_touch_minutes::numeric, 3) AS median_first_touch_minutes, sla_met, sla_due,
       round(sla_met_pct, 3) AS sla_met_pct, qualified, converted, round(conversion_rate, 3) AS conversion_rate
  FROM leadflow.report_rep_performance WHERE org_id = 70 ORDER BY rep_id;

SELECT lead_id, owner_rep_id, status, stage, source, hours_in_stage, hours_since_touch,
       round(extract(epoch FROM first_touch_due_at - created_at) / 60) AS sla_minutes, overdue_tasks, overdue
  FROM leadflow.report_lead_aging WHERE org_id = 70 ORDER BY lead_id;

SELECT source, leads, touched, round(median_minutes::numeric, 3) AS median_minutes,
       round(p90_minutes::numeric, 3) AS p90_minutes, first_touch_within, sla_met, sla_due,
       round(sla_met_pct, 3) AS sla_met_pct
  FROM leadflow.report_response_times WHERE org_id = 70 ORDER BY source;

SELECT rule_id, name, mode, enabled, position, assign_to, hits, live_hits, shadow_hits,
       last_hit IS NOT NULL AS has_hit
  FROM leadflow.report_routing WHERE org_id = 70 ORDER BY position, rule_id;

SELECT lead_id, rule_id, rule_name, live_rep_id, shadow_rep_id, shadow_team_id, agrees, owner_rep_id,
       occurred_at = now() AS at_capture
  FROM leadflow.report_shadow_routing WHERE org_id = 70 ORDER BY lead_id, rule_id;

SELECT temperature, sort_order, leads, round(avg_score, 3) AS avg_score, min_score, max_score, score_from, score_to
  FROM leadflow.report_score_distribution WHERE org_id = 70 ORDER BY sort_order;

SELECT source, leads, duplicates, round(duplicate_rate, 3) AS duplicate_rate, live_leads
  FROM leadflow.report_duplicates WHERE org_id = 70 ORDER BY source;

SELECT field, leads, filled, round(filled_pct, 3) AS filled_pct, enriched, round(enriched_pct, 3) AS enriched_pct
  FROM leadflow.report_enrichment_coverage WHERE org_id = 70 ORDER BY sort_order;

SELECT rep_id, name, open_leads, max_open_leads, round(utilization, 3) AS utilization, active, accepting_leads,
       away, at_capacity, available, assigned_total
  FROM leadflow.report_rep_load WHERE org_id = 70 ORDER BY rep_id;

-- invariants (live: not merged; the erased lead 70012 counts, an erasure
-- removes data, not the lead)
WITH live AS (SELECT count(*) AS n FROM leadflow.leads
               WHERE org_id = 70 AND merged_into IS NULL)
SELECT (SELECT sum(reached) FROM leadflow.report_funnel f
         WHERE f.org_id = 70 AND f.position = 1) = live.n AS funnel_first_stages_are_all_live_leads,
       (SELECT bool_and(f.reached <= first.reached) FROM leadflow.report_funnel f
          JOIN leadflow.report_funnel first ON first.org_id = f.org_id AND first.workflow_id = f.workflow_id
                                           AND first.position = 1
         WHERE f.org_id = 70) AS funnel_first_stage_is_widest,
       (SELECT sum(leads) FROM leadflow.report_source_performance WHERE org_id = 70) = live.n AS sources_add_up,
       (SELECT sum(leads) FROM leadflow.report_response_times WHERE org_id = 70) = live.n AS response_sources_add_up,
       (SELECT sum(leads) FROM leadflow.report_lead_volume WHERE org_id = 70) = live.n AS days_add_up,
       (SELECT sum(leads) FROM leadflow.report_score_distribution WHERE org_id = 70) = live.n AS temperatures_add_up,
       (SELECT sum(duplicates) FROM leadflow.report_lead_volume WHERE org_id = 70)
         = (SELECT sum(duplicates) FROM leadflow.report_duplicates WHERE org_id = 70) AS duplicates_agree,
       (SELECT sum(leads) FROM leadflow.report_duplicates WHERE org_id = 70)
         = (SELECT count(*) FROM leadflow.leads WHERE org_id = 70) AS duplicates_count_every_row,
       (SELECT sum(assigned) FROM leadflow.report_rep_performance WHERE org_id = 70)
         = (SELECT count(*) FROM leadflow.leads WHERE org_id = 70 AND merged_into IS NULL
               AND owner_rep_id IS NOT NULL) AS owned_leads_add_up,
       (SELECT sum(open) FROM leadflow.report_rep_performance WHERE org_id = 70)
         = (SELECT sum(open_leads) FROM leadflow.report_rep_load WHERE org_id = 70) AS open_leads_agree,
       (SELECT count(*) FROM leadflow.report_lead_aging WHERE org_id = 70)
         = (SELECT sum(current) FROM leadflow.report_funnel
             WHERE org_id = 70 AND status IN ('new', 'contacted', 'qualified', 'nurture'))
           - (SELECT count(*) FROM leadflow.leads WHERE org_id = 70 AND erased_at IS NOT NULL
                 AND merged_into IS NULL AND status IN ('new', 'contacted', 'qualified', 'nurture'))
           AS aging_lists_open_leads_not_erased
  FROM live;

-- every rate is a fraction
SELECT bool_and(x BETWEEN 0 AND 1) AS rates_within_0_1, count(x) AS rates_checked
  FROM (SELECT conversion_rate FROM leadflow.report_source_performance WHERE org_id = 70
        UNION ALL SELECT qualification_rate FROM leadflow.report_source_performance WHERE org_id = 70
        UNION ALL SELECT conversion_rate FROM leadflow.report_rep_performance WHERE org_id = 70
        UNION ALL SELECT sla_met_pct FROM leadflow.report_rep_performance WHERE org_id = 70
        UNION ALL SELECT sla_met_pct FROM leadflow.report_response_times WHERE org_id = 70
        UNION ALL SELECT pct_of_first FROM leadflow.report_funnel WHERE org_id = 70
        UNION ALL SELECT duplicate_rate FROM leadflow.report_duplicates WHERE org_id = 70
        UNION ALL SELECT filled_pct FROM leadflow.report_enrichment_coverage WHERE org_id = 70
        UNION ALL SELECT enriched_pct FROM leadflow.report_enrichment_coverage WHERE org_id = 70) r(x);

-- nothing of org 71 in org 70's rows, and org 71 sees its own
SELECT (SELECT count(*) FROM leadflow.report_lead_aging WHERE org_id = 70 AND lead_id >= 70016) AS org71_leads_in_aging,
       (SELECT count(*) FROM leadflow.report_shadow_routing WHERE org_id = 70 AND lead_id >= 70016) AS org71_leads_in_shadow,
       (SELECT count(*) FROM leadflow.report_rep_performance WHERE org_id = 70 AND rep_id = 7101) AS org71_rep_in_performance,
       (SELECT count(*) FROM leadflow.report_rep_load WHERE org_id = 70 AND rep_id = 7101) AS org71_rep_in_load;
SELECT org_id, source, leads, spend FROM leadflow.report_source_performance WHERE org_id = 71 ORDER BY source;
SELECT org_id, rep_id, assigned, open FROM leadflow.report_rep_performance WHERE org_id = 71;
SELECT org_id, field, leads, filled FROM leadflow.report_enrichment_coverage WHERE org_id = 71 ORDER BY sort_order;
SELECT org_id, count(*) AS stages, sum(reached) FILTER (WHERE position = 1) AS first_stage_reached
  FROM leadflow.report_funnel WHERE org_id = 71 GROUP BY org_id;
SELECT org_id, temperature, leads FROM leadflow.report_score_distribution WHERE org_id = 71 ORDER BY sort_order;
COMMIT;

-- the catalog: org_id first in every view, every view and column commented,
-- and the views run with the caller's rights (row-level security applies)
SELECT c.relname, a.attname AS first_column, obj_description(c.oid, 'pg_class') IS NOT NULL AS commented,
       (SELECT count(*) FROM pg_attribute x WHERE x.attrelid = c.oid AND x.attnum > 0
           AND col_description(c.oid, x.attnum) IS NULL) AS columns_without_comment,
       c.reloptions
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = 1
 WHERE c.relnamespace = 'leadflow'::regnamespace AND c.relkind = 'v' AND c.relname LIKE 'report\_%'
 ORDER BY 1;

-- WHERE org_id = X reaches every scan of leads, lead_journey and activities
-- (as an index condition or a filter): a view never reads the other orgs
CREATE FUNCTION pg_temp.org_scans(view regclass, OUT scans bigint, OUT scans_without_org bigint)
LANGUAGE plpgsql AS $$
DECLARE
    plan jsonb;
BEGIN
    EXECUTE format('EXPLAIN (COSTS OFF, FORMAT JSON) SELECT * FROM %s WHERE org_id = 70', view) INTO plan;
    SELECT count(*),
           count(*) FILTER (WHERE concat(n ->> 'Index Cond', n ->> 'Recheck Cond', n ->> 'Filter') NOT LIKE '%org_id = %')
      INTO scans, scans_without_org
      FROM jsonb_path_query(plan, 'strict $.**') n
     WHERE n ->> 'Relation Name' IN ('leads', 'lead_journey', 'activities');
END
$$;
SELECT c.relname AS view, s.scans, s.scans_without_org
  FROM pg_class c, pg_temp.org_scans(c.oid) s
 WHERE c.relnamespace = 'leadflow'::regnamespace AND c.relkind = 'v' AND c.relname LIKE 'report\_%'
 ORDER BY 1;
-- (the same test catches a view that does not push the filter down)
CREATE TEMP VIEW report_bad_example AS
SELECT l.org_id, l.lead_id, row_number() OVER (ORDER BY l.lead_id) AS n FROM leadflow.leads l;
SELECT * FROM pg_temp.org_scans('report_bad_example');
