------------------------------------------------------------------------------
-- Report views (BI)
------------------------------------------------------------------------------

-- One row per org and something (day and source, rep, stage, ...), org_id
-- first.  Each view groups by org_id before anything else, or reaches other
-- tables through joins keyed by org_id, so that WHERE org_id = X is pushed
-- down to the index scans of that one org (spec section 9: <= 1 s for an org
-- of 100k leads among 1M).  "Live" leads are those not merged into another
-- (merged_into IS NULL); archived and erased leads are live: an erasure
-- removes a person's data, not the lead, so no count of leads,
-- qualifications or conversions drops with it.  The work lists (lead
-- aging, rep load, tasks due) leave erased leads out: nobody can work
-- them.  Open
-- statuses are new, contacted, qualified and nurture.  A lead's SLA policy
-- is the sla_policies row of its source, else the org default (source
-- NULL); the first touch is due first_touch_within after created_at.  Rates
-- are fractions 0..1, NULL when their divisor is 0.  The views run with the
-- privileges of the caller (security_invoker), so row-level security of the
-- tables applies to them.

-- report_funnel and report_shadow_routing read the journey rows of one kind
-- of one org (report_funnel those of one stage: the third column); without
-- this index they would scan every journey row of the org.  Partial, so
-- that the rows of the other kinds cost nothing.  The shadow decisions and
-- enrichments of a lead's insert are members of its created row (0.2.0),
-- one row per lead: read from the org's created rows through the primary
-- key, without an index of their own that every insert would pay for.
CREATE INDEX lead_journey_report_kinds
    ON @extschema@.lead_journey (org_id, kind, (detail ->> 'from_stage_id'))
    WHERE kind IN ('stage_changed', 'shadow_routed');

-- report_enrichment_coverage reads what enrichment filled per lead: for
-- the enriched rows 0.1.0 wrote, with the detail in the index (a few dozen
-- bytes), an index-only scan in lead_id order, without a heap fetch (the
-- journey is insert-only, so vacuum marks its pages all-visible).
CREATE INDEX lead_journey_enriched
    ON @extschema@.lead_journey (org_id, lead_id) INCLUDE (detail)
    WHERE kind = 'enriched';

-- report_source_performance: in 88_source_performance.sql (it dates leads
-- by submitted_at, a column of 86_data_quality.sql)

CREATE VIEW @extschema@.report_funnel WITH (security_invoker = true) AS
SELECT f.org_id, f.workflow_id, f.workflow, f.stage_id, f.stage, f.position, f.status,
       f.reached, f.current,
       f.reached::numeric / NULLIF(f.workflow_leads, 0) AS pct_of_first,
       m.median_hours AS median_hours_in_stage,
       m.moves AS moves_out
  FROM (SELECT s.org_id, s.workflow_id, w.name AS workflow, s.stage_id, s.name AS stage, s.position, s.status,
               COALESCE(pg_catalog.sum(g.n) FILTER (
                   WHERE s.position = fp.first_position            -- every lead entered here
                      OR g.stage_id = s.stage_id                   -- in the stage now
                      OR (s.status NOT IN ('nurture', 'unqualified') -- a main stage it is past
                          AND gs.position > s.position
                          AND (s.status <> 'qualified' OR g.was_qualified
                               OR gs.status NOT IN ('nurture', 'unqualified')))), 0)::bigint AS reached,
               COALESCE(pg_catalog.sum(g.n) FILTER (WHERE g.stage_id = s.stage_id), 0)::bigint AS current,
               COALESCE(pg_catalog.sum(g.n), 0)::bigint AS workflow_leads
          FROM leadflow.workflow_stages s
          JOIN leadflow.workflows w ON w.org_id = s.org_id AND w.workflow_id = s.workflow_id
         CROSS JOIN LATERAL (SELECT pg_catalog.min(x.position) AS first_position
                               FROM leadflow.workflow_stages x
                              WHERE x.org_id = s.org_id AND x.workflow_id = s.workflow_id) fp
          -- live leads counted by workflow, current stage and whether they were qualified
          LEFT JOIN (SELECT l.org_id, l.workflow_id, l.stage_id, l.qualified_at IS NOT NULL AS was_qualified,
                            pg_catalog.count(*) AS n
                       FROM leadflow.leads l
                      WHERE l.merged_into IS NULL
                      GROUP BY l.org_id, l.workflow_id, l.stage_id, l.qualified_at IS NOT NULL) g
                 ON g.org_id = s.org_id AND g.workflow_id = s.workflow_id
          LEFT JOIN leadflow.workflow_stages gs ON gs.org_id = g.org_id AND gs.stage_id = g.stage_id
         GROUP BY s.org_id, s.stage_id, w.name) f
  -- time spent in the stage by the leads that left it (stage_changed journey rows)
 CROSS JOIN LATERAL (
        SELECT pg_catalog.percentile_cont(0.5) WITHIN GROUP (
                   ORDER BY CASE WHEN pg_catalog.jsonb_typeof(j.detail -> 'hours_in_previous_stage') = 'number'
                                 THEN (j.detail -> 'hours_in_previous_stage')::double precision END) AS median_hours,
               pg_catalog.count(CASE WHEN pg_catalog.jsonb_typeof(j.detail -> 'hours_in_previous_stage') = 'number'
                                     THEN 1 END) AS moves
          FROM leadflow.lead_journey j
         WHERE j.org_id = f.org_id AND j.kind = 'stage_changed'
           AND j.detail ->> 'from_stage_id' = f.stage_id::text) m;
COMMENT ON VIEW @extschema@.report_funnel IS 'Per org and workflow stage (every stage of every workflow, order by workflow_id, position): how many live leads reached it and are in it now, and how long leads stay. Reached: every live lead of the workflow reached its first stage; a lead reached the stage it is in; and it reached every main stage (status other than nurture and unqualified) of lower position than its current stage, except that a lead now in nurture or unqualified counts for a qualified stage only if it was qualified (qualified_at set). Side stages (nurture, unqualified) count only the leads in them. So the first stage''s reached is the number of live leads in the workflow, and a converted lead is not counted in nurture or unqualified.';
COMMENT ON COLUMN @extschema@.report_funnel.org_id IS 'Org.';
COMMENT ON COLUMN @extschema@.report_funnel.workflow_id IS 'The workflow.';
COMMENT ON COLUMN @extschema@.report_funnel.workflow IS 'Workflow name.';
COMMENT ON COLUMN @extschema@.report_funnel.stage_id IS 'The stage.';
COMMENT ON COLUMN @extschema@.report_funnel.stage IS 'Stage name.';
COMMENT ON COLUMN @extschema@.report_funnel.position IS 'Position of the stage in its workflow (sort by it).';
COMMENT ON COLUMN @extschema@.report_funnel.status IS 'Lead status of the stage; nurture and unqualified stages are side stages.';
COMMENT ON COLUMN @extschema@.report_funnel.reached IS 'Live leads of the workflow that reached the stage (see the view comment for the rule); archived leads, which have no stage, count for the first stage only.';
COMMENT ON COLUMN @extschema@.report_funnel.current IS 'Live leads in the stage now.';
COMMENT ON COLUMN @extschema@.report_funnel.pct_of_first IS 'reached / reached of the first stage (all live leads of the workflow), 0..1; NULL when the workflow has no live leads.';
COMMENT ON COLUMN @extschema@.report_funnel.median_hours_in_stage IS 'Median hours leads spent in the stage before leaving it (stage_changed journey rows from it, merged and erased leads included); NULL when no lead has left it yet.';
COMMENT ON COLUMN @extschema@.report_funnel.moves_out IS 'How many moves out of the stage the median is taken over (stage_changed rows with a number of hours).';

CREATE VIEW @extschema@.report_rep_performance WITH (security_invoker = true) AS
SELECT r.org_id, r.rep_id, r.name, r.team_id, r.role, r.active,
       COALESCE(a.assigned, 0) AS assigned,
       COALESCE(a.open, 0) AS open,
       COALESCE(a.contacted, 0) AS contacted,
       a.median_first_touch_minutes,
       COALESCE(a.sla_met, 0) AS sla_met,
       COALESCE(a.sla_due, 0) AS sla_due,
       a.sla_met::numeric / NULLIF(a.sla_due, 0) AS sla_met_pct,
       COALESCE(a.qualified, 0) AS qualified,
       COALESCE(a.converted, 0) AS converted,
       a.converted::numeric / NULLIF(a.assigned, 0) AS conversion_rate,
       COALESCE(v.calls, 0) AS calls,
       COALESCE(v.emails, 0) AS emails,
       COALESCE(v.meetings, 0) AS meetings,
       COALESCE(v.notes, 0) AS notes,
       COALESCE(v.tasks, 0) AS tasks,
       COALESCE(p.open_pipeline, 0) AS open_pipeline
  FROM leadflow.reps r
  LEFT JOIN (SELECT l.org_id, l.owner_rep_id,
                    pg_catalog.count(*) AS assigned,
                    pg_catalog.count(*) FILTER (WHERE l.status = ANY (@extschema@.open_statuses())
                                                  AND l.erased_at IS NULL) AS open,
                    pg_catalog.count(l.first_touch_at) AS contacted,
                    pg_catalog.percentile_cont(0.5) WITHIN GROUP (
                        ORDER BY EXTRACT(epoch FROM l.first_touch_at - l.assigned_at)::double precision / 60)
                        FILTER (WHERE l.first_touch_at >= l.assigned_at) AS median_first_touch_minutes,
                    pg_catalog.count(*) FILTER (
                        WHERE l.first_touch_at <= leadflow.business_deadline(l.created_at, COALESCE(ps.first_touch_within, pd.first_touch_within), CASE WHEN ps.org_id IS NULL THEN pd.business_hours ELSE ps.business_hours END)) AS sla_met,
                    pg_catalog.count(*) FILTER (
                        WHERE COALESCE(ps.first_touch_within, pd.first_touch_within) IS NOT NULL
                          AND (l.first_touch_at IS NOT NULL
                               OR leadflow.business_deadline(l.created_at, COALESCE(ps.first_touch_within, pd.first_touch_within), CASE WHEN ps.org_id IS NULL THEN pd.business_hours ELSE ps.business_hours END) < pg_catalog.now())) AS sla_due,
                    pg_catalog.count(l.qualified_at) AS qualified,
                    pg_catalog.count(l.converted_at) AS converted
               FROM leadflow.leads l
               LEFT JOIN leadflow.sla_policies ps ON ps.org_id = l.org_id AND ps.source = l.source
               LEFT JOIN leadflow.sla_policies pd ON pd.org_id = l.org_id AND pd.source IS NULL
              WHERE l.merged_into IS NULL AND l.owner_rep_id IS NOT NULL
              GROUP BY l.org_id, l.owner_rep_id) a
         ON a.org_id = r.org_id AND a.owner_rep_id = r.rep_id
  -- the activities the rep logged, by kind
  LEFT JOIN (SELECT x.org_id, x.rep_id,
                    pg_catalog.count(*) FILTER (WHERE x.kind = 'call') AS calls,
                    pg_catalog.count(*) FILTER (WHERE x.kind = 'email') AS emails,
                    pg_catalog.count(*) FILTER (WHERE x.kind = 'meeting') AS meetings,
                    pg_catalog.count(*) FILTER (WHERE x.kind = 'note') AS notes,
                    pg_catalog.count(*) FILTER (WHERE x.kind = 'task') AS tasks
               FROM leadflow.activities x
              WHERE x.rep_id IS NOT NULL
              GROUP BY x.org_id, x.rep_id) v
         ON v.org_id = r.org_id AND v.rep_id = r.rep_id
  -- the amount of the open opportunities the rep owns
  LEFT JOIN (SELECT o.org_id, o.owner_rep_id, pg_catalog.sum(o.amount) AS open_pipeline
               FROM leadflow.opportunities o
               JOIN leadflow.opportunity_stages s ON s.org_id = o.org_id AND s.stage_id = o.stage_id
              WHERE NOT s.is_won AND NOT s.is_lost AND o.owner_rep_id IS NOT NULL
              GROUP BY o.org_id, o.owner_rep_id) p
         ON p.org_id = r.org_id AND p.owner_rep_id = r.rep_id;
COMMENT ON VIEW @extschema@.report_rep_performance IS 'Per org and rep (every rep, also without leads): the live leads the rep owns now, how fast and how well they were worked, the activities the rep logged by kind and the amount of the open opportunities the rep owns.';
COMMENT ON COLUMN @extschema@.report_rep_performance.org_id IS 'Org.';
COMMENT ON COLUMN @extschema@.report_rep_performance.rep_id IS 'The rep.';
COMMENT ON COLUMN @extschema@.report_rep_performance.name IS 'Rep name.';
COMMENT ON COLUMN @extschema@.report_rep_performance.team_id IS 'The rep''s team.';
COMMENT ON COLUMN @extschema@.report_rep_performance.role IS 'sdr, ae or manager.';
COMMENT ON COLUMN @extschema@.report_rep_performance.active IS 'False for reps who left.';
COMMENT ON COLUMN @extschema@.report_rep_performance.assigned IS 'Live leads the rep owns (owner_rep_id), any status.';
COMMENT ON COLUMN @extschema@.report_rep_performance.open IS 'Of those, leads with status new, contacted, qualified or nurture, not erased (report_rep_load.open_leads).';
COMMENT ON COLUMN @extschema@.report_rep_performance.contacted IS 'Of those, leads touched (first_touch_at set).';
COMMENT ON COLUMN @extschema@.report_rep_performance.median_first_touch_minutes IS 'Median minutes from assigned_at to first_touch_at, over owned leads first touched after they were assigned to the rep (a touch before a reassignment is not the rep''s); NULL when there are none.';
COMMENT ON COLUMN @extschema@.report_rep_performance.sla_met IS 'Owned leads first touched within their SLA (first_touch_at <= created_at + first_touch_within, counted in working time when the policy has business_hours).';
COMMENT ON COLUMN @extschema@.report_rep_performance.sla_due IS 'Owned leads the SLA can be judged on: touched, or untouched with the SLA time passed.';
COMMENT ON COLUMN @extschema@.report_rep_performance.sla_met_pct IS 'sla_met / sla_due, 0..1; NULL when sla_due is 0.';
COMMENT ON COLUMN @extschema@.report_rep_performance.qualified IS 'Owned leads that reached qualified (qualified_at set).';
COMMENT ON COLUMN @extschema@.report_rep_performance.converted IS 'Owned leads converted (converted_at set).';
COMMENT ON COLUMN @extschema@.report_rep_performance.conversion_rate IS 'converted / assigned, 0..1; NULL without leads.';
COMMENT ON COLUMN @extschema@.report_rep_performance.calls IS 'Activities of kind call the rep logged (any lead, done or not).';
COMMENT ON COLUMN @extschema@.report_rep_performance.emails IS 'Activities of kind email the rep logged.';
COMMENT ON COLUMN @extschema@.report_rep_performance.meetings IS 'Activities of kind meeting the rep logged.';
COMMENT ON COLUMN @extschema@.report_rep_performance.notes IS 'Activities of kind note the rep logged.';
COMMENT ON COLUMN @extschema@.report_rep_performance.tasks IS 'Activities of kind task assigned to the rep.';
COMMENT ON COLUMN @extschema@.report_rep_performance.open_pipeline IS 'Sum of the amounts of the open (neither won nor lost) opportunities the rep owns.';

CREATE VIEW @extschema@.report_lead_aging WITH (security_invoker = true) AS
SELECT l.org_id, l.lead_id, l.owner_rep_id, l.team_id, l.status, l.stage_id, st.name AS stage,
       l.source, l.score, l.temperature, l.created_at, l.stage_entered_at, l.first_touch_at,
       pg_catalog.round(EXTRACT(epoch FROM pg_catalog.now() - l.stage_entered_at) / 3600, 2) AS hours_in_stage,
       pg_catalog.round(EXTRACT(epoch FROM pg_catalog.now()
                                - COALESCE(l.last_activity_at, l.first_touch_at, l.created_at)) / 3600, 2) AS hours_since_touch,
       leadflow.business_deadline(l.created_at, COALESCE(ps.first_touch_within, pd.first_touch_within), CASE WHEN ps.org_id IS NULL THEN pd.business_hours ELSE ps.business_hours END) AS first_touch_due_at,
       COALESCE(t.overdue_tasks, 0) AS overdue_tasks,
       COALESCE(l.first_touch_at IS NULL
                AND leadflow.business_deadline(l.created_at, COALESCE(ps.first_touch_within, pd.first_touch_within), CASE WHEN ps.org_id IS NULL THEN pd.business_hours ELSE ps.business_hours END) < pg_catalog.now(), false)
       OR t.overdue_tasks IS NOT NULL AS overdue
  FROM leadflow.leads l
  LEFT JOIN leadflow.workflow_stages st ON st.org_id = l.org_id AND st.stage_id = l.stage_id
  LEFT JOIN leadflow.sla_policies ps ON ps.org_id = l.org_id AND ps.source = l.source
  LEFT JOIN leadflow.sla_policies pd ON pd.org_id = l.org_id AND pd.source IS NULL
  LEFT JOIN (SELECT a.org_id, a.lead_id, pg_catalog.count(*) AS overdue_tasks
               FROM leadflow.activities a
              WHERE a.kind = 'task' AND a.completed_at IS NULL AND a.due_at < pg_catalog.now()
              GROUP BY a.org_id, a.lead_id) t
         ON t.org_id = l.org_id AND t.lead_id = l.lead_id
 WHERE l.merged_into IS NULL AND l.erased_at IS NULL
   AND l.status = ANY (@extschema@.open_statuses());
COMMENT ON VIEW @extschema@.report_lead_aging IS 'Per org and open live lead not erased (status new, contacted, qualified or nurture): how long it has waited, and whether it is overdue.';
COMMENT ON COLUMN @extschema@.report_lead_aging.org_id IS 'Org.';
COMMENT ON COLUMN @extschema@.report_lead_aging.lead_id IS 'The lead.';
COMMENT ON COLUMN @extschema@.report_lead_aging.owner_rep_id IS 'Owner; NULL in the unassigned queue.';
COMMENT ON COLUMN @extschema@.report_lead_aging.team_id IS 'Team the lead was routed through.';
COMMENT ON COLUMN @extschema@.report_lead_aging.status IS 'Current status.';
COMMENT ON COLUMN @extschema@.report_lead_aging.stage_id IS 'Current stage.';
COMMENT ON COLUMN @extschema@.report_lead_aging.stage IS 'Current stage name.';
COMMENT ON COLUMN @extschema@.report_lead_aging.source IS 'Lead source.';
COMMENT ON COLUMN @extschema@.report_lead_aging.score IS 'Current score.';
COMMENT ON COLUMN @extschema@.report_lead_aging.temperature IS 'Current temperature.';
COMMENT ON COLUMN @extschema@.report_lead_aging.created_at IS 'When the lead was captured.';
COMMENT ON COLUMN @extschema@.report_lead_aging.stage_entered_at IS 'When it entered its current stage.';
COMMENT ON COLUMN @extschema@.report_lead_aging.first_touch_at IS 'First touch by a rep; NULL if none yet.';
COMMENT ON COLUMN @extschema@.report_lead_aging.hours_in_stage IS 'Hours since it entered its current stage (now() - stage_entered_at), 2 decimals.';
COMMENT ON COLUMN @extschema@.report_lead_aging.hours_since_touch IS 'Hours since it was last touched: now() - COALESCE(last_activity_at, first_touch_at, created_at), 2 decimals.';
COMMENT ON COLUMN @extschema@.report_lead_aging.first_touch_due_at IS 'When the first touch is due: created_at + first_touch_within of its SLA policy (working time under its business_hours) (its source''s, else the org default); NULL without a policy.';
COMMENT ON COLUMN @extschema@.report_lead_aging.overdue_tasks IS 'Open tasks of the lead (activities of kind task, not completed) past their due_at.';
COMMENT ON COLUMN @extschema@.report_lead_aging.overdue IS 'True when the lead has no first touch and first_touch_due_at has passed, or it has an overdue task.';

CREATE VIEW @extschema@.report_response_times WITH (security_invoker = true) AS
SELECT l.org_id, l.source,
       pg_catalog.count(*) AS leads,
       pg_catalog.count(l.first_touch_at) AS touched,
       pg_catalog.percentile_cont(0.5) WITHIN GROUP (
           ORDER BY EXTRACT(epoch FROM l.first_touch_at - l.created_at)::double precision / 60) AS median_minutes,
       pg_catalog.percentile_cont(0.9) WITHIN GROUP (
           ORDER BY EXTRACT(epoch FROM l.first_touch_at - l.created_at)::double precision / 60) AS p90_minutes,
       pg_catalog.min(COALESCE(ps.first_touch_within, pd.first_touch_within)) AS first_touch_within,
       pg_catalog.count(*) FILTER (
           WHERE l.first_touch_at <= leadflow.business_deadline(l.created_at, COALESCE(ps.first_touch_within, pd.first_touch_within), CASE WHEN ps.org_id IS NULL THEN pd.business_hours ELSE ps.business_hours END)) AS sla_met,
       pg_catalog.count(*) FILTER (
           WHERE COALESCE(ps.first_touch_within, pd.first_touch_within) IS NOT NULL
             AND (l.first_touch_at IS NOT NULL
                  OR leadflow.business_deadline(l.created_at, COALESCE(ps.first_touch_within, pd.first_touch_within), CASE WHEN ps.org_id IS NULL THEN pd.business_hours ELSE ps.business_hours END) < pg_catalog.now())) AS sla_due,
       pg_catalog.count(*) FILTER (
           WHERE l.first_touch_at <= leadflow.business_deadline(l.created_at, COALESCE(ps.first_touch_within, pd.first_touch_within), CASE WHEN ps.org_id IS NULL THEN pd.business_hours ELSE ps.business_hours END))::numeric
       / NULLIF(pg_catalog.count(*) FILTER (
           WHERE COALESCE(ps.first_touch_within, pd.first_touch_within) IS NOT NULL
             AND (l.first_touch_at IS NOT NULL
                  OR leadflow.business_deadline(l.created_at, COALESCE(ps.first_touch_within, pd.first_touch_within), CASE WHEN ps.org_id IS NULL THEN pd.business_hours ELSE ps.business_hours END) < pg_catalog.now())), 0) AS sla_met_pct
  FROM leadflow.leads l
  LEFT JOIN leadflow.sla_policies ps ON ps.org_id = l.org_id AND ps.source = l.source
  LEFT JOIN leadflow.sla_policies pd ON pd.org_id = l.org_id AND pd.source IS NULL
 WHERE l.merged_into IS NULL
 GROUP BY l.org_id, l.source;
COMMENT ON VIEW @extschema@.report_response_times IS 'Per org and source: how fast live leads got their first touch (first_touch_at - created_at) and how often within the SLA.';
COMMENT ON COLUMN @extschema@.report_response_times.org_id IS 'Org.';
COMMENT ON COLUMN @extschema@.report_response_times.source IS 'Lead source.';
COMMENT ON COLUMN @extschema@.report_response_times.leads IS 'Live leads from the source.';
COMMENT ON COLUMN @extschema@.report_response_times.touched IS 'Of those, leads touched (first_touch_at set).';
COMMENT ON COLUMN @extschema@.report_response_times.median_minutes IS 'Median minutes from capture to first touch, over touched leads; NULL when none.';
COMMENT ON COLUMN @extschema@.report_response_times.p90_minutes IS '90th percentile (interpolated) of minutes from capture to first touch, over touched leads; NULL when none.';
COMMENT ON COLUMN @extschema@.report_response_times.first_touch_within IS 'The SLA of the source: its sla_policies row, else the org default.';
COMMENT ON COLUMN @extschema@.report_response_times.sla_met IS 'Leads first touched within the SLA.';
COMMENT ON COLUMN @extschema@.report_response_times.sla_due IS 'Leads the SLA can be judged on: touched, or untouched with the SLA time passed.';
COMMENT ON COLUMN @extschema@.report_response_times.sla_met_pct IS 'sla_met / sla_due, 0..1; NULL when sla_due is 0.';

CREATE VIEW @extschema@.report_routing WITH (security_invoker = true) AS
SELECT r.org_id, r.rule_id, r.name, r.mode, r.enabled, r.position, r.assign_to, r.rep_id, r.team_id,
       CASE WHEN r.mode = 'shadow' THEN COALESCE(s.shadow_hits, 0) ELSE COALESCE(s.hits, 0) END AS hits,
       COALESCE(s.hits, 0) AS live_hits,
       COALESCE(s.shadow_hits, 0) AS shadow_hits,
       s.last_hit
  FROM leadflow.routing_rules r
  LEFT JOIN leadflow.routing_rule_stats s ON s.org_id = r.org_id AND s.rule_id = r.rule_id;
COMMENT ON VIEW @extschema@.report_routing IS 'Per org and routing rule (every rule; sort by position): how often it decided or, for shadow rules, matched. Counts are routing decisions since the rule was created (leads later merged or erased stay counted).';
COMMENT ON COLUMN @extschema@.report_routing.org_id IS 'Org.';
COMMENT ON COLUMN @extschema@.report_routing.rule_id IS 'The rule.';
COMMENT ON COLUMN @extschema@.report_routing.name IS 'Rule name.';
COMMENT ON COLUMN @extschema@.report_routing.mode IS 'live or shadow.';
COMMENT ON COLUMN @extschema@.report_routing.enabled IS 'Whether the rule is evaluated.';
COMMENT ON COLUMN @extschema@.report_routing.position IS 'Evaluation order (ties by rule_id).';
COMMENT ON COLUMN @extschema@.report_routing.assign_to IS 'rep, team or queue.';
COMMENT ON COLUMN @extschema@.report_routing.rep_id IS 'Target rep for assign_to = rep.';
COMMENT ON COLUMN @extschema@.report_routing.team_id IS 'Target team for assign_to = team.';
COMMENT ON COLUMN @extschema@.report_routing.hits IS 'For a live rule the leads it decided (live_hits), for a shadow rule the leads it matched (shadow_hits).';
COMMENT ON COLUMN @extschema@.report_routing.live_hits IS 'Leads the rule decided while live.';
COMMENT ON COLUMN @extschema@.report_routing.shadow_hits IS 'Leads the rule matched while in shadow mode.';
COMMENT ON COLUMN @extschema@.report_routing.last_hit IS 'When it last decided or matched; NULL if never.';

CREATE VIEW @extschema@.report_shadow_routing WITH (security_invoker = true) AS
SELECT j.org_id, j.lead_id,
       CASE WHEN pg_catalog.jsonb_typeof(j.detail -> 'rule_id') = 'number'
            THEN (j.detail -> 'rule_id')::bigint END AS rule_id,
       j.detail ->> 'rule_name' AS rule_name,
       CASE WHEN pg_catalog.jsonb_typeof(j.detail -> 'live_rep_id') = 'number'
            THEN (j.detail -> 'live_rep_id')::bigint END AS live_rep_id,
       CASE WHEN pg_catalog.jsonb_typeof(j.detail -> 'rep_id') = 'number'
            THEN (j.detail -> 'rep_id')::bigint END AS shadow_rep_id,
       CASE WHEN pg_catalog.jsonb_typeof(j.detail -> 'team_id') = 'number'
            THEN (j.detail -> 'team_id')::bigint END AS shadow_team_id,
       CASE WHEN pg_catalog.jsonb_typeof(j.detail -> 'agrees') = 'boolean'
            THEN (j.detail -> 'agrees')::boolean END AS agrees,
       j.occurred_at,
       l.owner_rep_id
  -- shadow_routed rows, and the decisions a created row holds (since 0.2.0)
  FROM (SELECT s.org_id, s.lead_id, s.seq, s.occurred_at, s.detail
          FROM leadflow.lead_journey s
         WHERE s.kind = 'shadow_routed'
        UNION ALL
        SELECT c.org_id, c.lead_id, c.seq, c.occurred_at, e.value
          FROM leadflow.lead_journey c
         CROSS JOIN LATERAL pg_catalog.jsonb_array_elements(c.detail -> 'routed' -> 'shadow_routed') e(value)
         WHERE c.kind = 'created' AND (c.detail -> 'routed') ? 'shadow_routed') j
  JOIN leadflow.leads l ON l.org_id = j.org_id AND l.lead_id = j.lead_id
 WHERE l.merged_into IS NULL
   -- the latest decision of the rule for the lead (a lead routed again has
   -- several; those after its creation are shadow_routed rows)
   AND NOT EXISTS (SELECT FROM leadflow.lead_journey k
                    WHERE k.org_id = j.org_id AND k.lead_id = j.lead_id AND k.kind = 'shadow_routed'
                      AND k.seq > j.seq AND k.detail -> 'rule_id' = j.detail -> 'rule_id');
COMMENT ON VIEW @extschema@.report_shadow_routing IS 'Per org, live lead and shadow rule that matched it (shadow_routed journey rows): who the shadow rule would have picked beside who routing picked. When a lead was routed more than once, its latest decision per rule.';
COMMENT ON COLUMN @extschema@.report_shadow_routing.org_id IS 'Org.';
COMMENT ON COLUMN @extschema@.report_shadow_routing.lead_id IS 'The lead.';
COMMENT ON COLUMN @extschema@.report_shadow_routing.rule_id IS 'The shadow rule.';
COMMENT ON COLUMN @extschema@.report_shadow_routing.rule_name IS 'Its name at the time of the decision.';
COMMENT ON COLUMN @extschema@.report_shadow_routing.live_rep_id IS 'The rep live routing picked; NULL when the lead stayed unassigned.';
COMMENT ON COLUMN @extschema@.report_shadow_routing.shadow_rep_id IS 'The rep the shadow rule would have picked; NULL for a queue rule or when nobody was available.';
COMMENT ON COLUMN @extschema@.report_shadow_routing.shadow_team_id IS 'The team of that decision: the rule''s team, or the team of the rep it names; NULL for a queue rule.';
COMMENT ON COLUMN @extschema@.report_shadow_routing.agrees IS 'Whether the shadow rule would have picked the same rep (both NULL agree).';
COMMENT ON COLUMN @extschema@.report_shadow_routing.occurred_at IS 'When the decision was made.';
COMMENT ON COLUMN @extschema@.report_shadow_routing.owner_rep_id IS 'The lead''s owner now.';

CREATE VIEW @extschema@.report_score_distribution WITH (security_invoker = true) AS
SELECT o.org_id, t.temperature, t.sort_order,
       COALESCE(s.leads, 0) AS leads,
       s.avg_score, s.min_score, s.max_score,
       CASE t.temperature WHEN 'cold' THEN 0 WHEN 'warm' THEN m.warm_at ELSE m.hot_at END AS score_from,
       CASE t.temperature WHEN 'cold' THEN m.warm_at - 1 WHEN 'warm' THEN m.hot_at - 1 ELSE 100 END AS score_to
  FROM leadflow.orgs o
 CROSS JOIN (VALUES ('cold', 1), ('warm', 2), ('hot', 3)) t(temperature, sort_order)
  LEFT JOIN leadflow.scoring_models m ON m.org_id = o.org_id AND m.active
  LEFT JOIN (SELECT l.org_id, l.temperature,
                    pg_catalog.count(*) AS leads,
                    pg_catalog.avg(l.score) AS avg_score,
                    pg_catalog.min(l.score) AS min_score,
                    pg_catalog.max(l.score) AS max_score
               FROM leadflow.leads l
              WHERE l.merged_into IS NULL
              GROUP BY l.org_id, l.temperature) s
         ON s.org_id = o.org_id AND s.temperature = t.temperature;
COMMENT ON VIEW @extschema@.report_score_distribution IS 'Per org and temperature (cold, warm, hot: all three, also without leads): live leads and their scores.';
COMMENT ON COLUMN @extschema@.report_score_distribution.org_id IS 'Org.';
COMMENT ON COLUMN @extschema@.report_score_distribution.temperature IS 'cold, warm or hot.';
COMMENT ON COLUMN @extschema@.report_score_distribution.sort_order IS '1 cold, 2 warm, 3 hot.';
COMMENT ON COLUMN @extschema@.report_score_distribution.leads IS 'Live leads with this temperature.';
COMMENT ON COLUMN @extschema@.report_score_distribution.avg_score IS 'Their average score; NULL without leads.';
COMMENT ON COLUMN @extschema@.report_score_distribution.min_score IS 'Their lowest score; NULL without leads.';
COMMENT ON COLUMN @extschema@.report_score_distribution.max_score IS 'Their highest score; NULL without leads.';
COMMENT ON COLUMN @extschema@.report_score_distribution.score_from IS 'Lowest score of the band in the active scoring model (leads keep the temperature of their last scoring).';
COMMENT ON COLUMN @extschema@.report_score_distribution.score_to IS 'Highest score of the band in the active scoring model.';

CREATE VIEW @extschema@.report_duplicates WITH (security_invoker = true) AS
SELECT l.org_id, l.source,
       pg_catalog.count(*) AS leads,
       pg_catalog.count(*) FILTER (WHERE l.status = 'merged') AS duplicates,
       pg_catalog.count(*) FILTER (WHERE l.status = 'merged')::numeric / pg_catalog.count(*) AS duplicate_rate,
       pg_catalog.count(*) FILTER (WHERE l.merged_into IS NULL) AS live_leads
  FROM leadflow.leads l
 GROUP BY l.org_id, l.source;
COMMENT ON VIEW @extschema@.report_duplicates IS 'Per org and source: how many of the captured rows were duplicates of an earlier lead. Counts every stored row, merged and erased ones included.';
COMMENT ON COLUMN @extschema@.report_duplicates.org_id IS 'Org.';
COMMENT ON COLUMN @extschema@.report_duplicates.source IS 'Lead source.';
COMMENT ON COLUMN @extschema@.report_duplicates.leads IS 'Every row captured from the source: live, merged and erased.';
COMMENT ON COLUMN @extschema@.report_duplicates.duplicates IS 'Of those, rows merged into another lead (status merged: by deduplication or merge_leads).';
COMMENT ON COLUMN @extschema@.report_duplicates.duplicate_rate IS 'duplicates / leads, 0..1.';
COMMENT ON COLUMN @extschema@.report_duplicates.live_leads IS 'Of those, live leads (not merged; erased ones included).';

CREATE VIEW @extschema@.report_enrichment_coverage WITH (security_invoker = true) AS
SELECT o.org_id, f.field, f.sort_order, c.leads, f.filled,
       f.filled::numeric / NULLIF(c.leads, 0) AS filled_pct,
       f.enriched,
       f.enriched::numeric / NULLIF(c.leads, 0) AS enriched_pct
  FROM leadflow.orgs o
 CROSS JOIN LATERAL (
        SELECT pg_catalog.count(*) AS leads,
               pg_catalog.count(l.industry) AS industry,
               pg_catalog.count(l.company_size) AS company_size,
               pg_catalog.count(l.annual_revenue) AS annual_revenue,
               pg_catalog.count(l.country) AS country,
               pg_catalog.count(*) FILTER (WHERE e.industry) AS e_industry,
               pg_catalog.count(*) FILTER (WHERE e.company_size) AS e_company_size,
               pg_catalog.count(*) FILTER (WHERE e.annual_revenue) AS e_annual_revenue,
               pg_catalog.count(*) FILTER (WHERE e.country) AS e_country
          FROM leadflow.leads l
          -- what enrichment filled, per lead (enriched journey rows, and
          -- the member enriched of created rows since 0.2.0)
          LEFT JOIN (SELECT j.lead_id,
                            pg_catalog.bool_or(x.filled ? 'industry') AS industry,
                            pg_catalog.bool_or(x.filled ? 'company_size') AS company_size,
                            pg_catalog.bool_or(x.filled ? 'annual_revenue') AS annual_revenue,
                            pg_catalog.bool_or(x.filled ? 'country') AS country
                       FROM leadflow.lead_journey j
                      CROSS JOIN LATERAL (SELECT CASE WHEN j.kind = 'created' THEN j.detail -> 'enriched' -> 'filled'
                                                      ELSE j.detail -> 'filled' END AS filled) x
                      WHERE j.org_id = o.org_id
                        AND (j.kind = 'enriched' OR (j.kind = 'created' AND j.detail ? 'enriched'))
                      GROUP BY j.lead_id) e ON e.lead_id = l.lead_id
         WHERE l.org_id = o.org_id AND l.merged_into IS NULL
           AND l.company_domain IS NOT NULL) c
 CROSS JOIN LATERAL (VALUES ('industry', 1, c.industry, c.e_industry),
                            ('company_size', 2, c.company_size, c.e_company_size),
                            ('annual_revenue', 3, c.annual_revenue, c.e_annual_revenue),
                            ('country', 4, c.country, c.e_country)) f(field, sort_order, filled, enriched);
COMMENT ON VIEW @extschema@.report_enrichment_coverage IS 'Per org and firmographic field (industry, company_size, annual_revenue, country): how many live leads with a company domain have it, and how many got it from enrichment (company_profiles). Leads on free mail have no company domain and are not counted.';
COMMENT ON COLUMN @extschema@.report_enrichment_coverage.org_id IS 'Org.';
COMMENT ON COLUMN @extschema@.report_enrichment_coverage.field IS 'industry, company_size, annual_revenue or country.';
COMMENT ON COLUMN @extschema@.report_enrichment_coverage.sort_order IS '1 to 4, in the order above.';
COMMENT ON COLUMN @extschema@.report_enrichment_coverage.leads IS 'Live leads with a company domain (the same for every field of the org).';
COMMENT ON COLUMN @extschema@.report_enrichment_coverage.filled IS 'Of those, leads with the field filled (given, enriched or edited).';
COMMENT ON COLUMN @extschema@.report_enrichment_coverage.filled_pct IS 'filled / leads, 0..1; NULL without leads.';
COMMENT ON COLUMN @extschema@.report_enrichment_coverage.enriched IS 'Of the leads, those whose field enrichment filled (an enriched journey row whose detail.filled names the field).';
COMMENT ON COLUMN @extschema@.report_enrichment_coverage.enriched_pct IS 'enriched / leads, 0..1; NULL without leads.';

CREATE VIEW @extschema@.report_rep_load WITH (security_invoker = true) AS
-- no LATERAL over the counted subquery: Citus pushes this down per org
SELECT y.org_id, y.rep_id, y.name, y.team_id, y.open_leads, y.max_open_leads, y.utilization,
       y.active, y.accepting_leads, y.away, y.at_capacity,
       y.active AND y.accepting_leads AND NOT y.away AND NOT y.at_capacity AS available,
       y.assigned_total, y.last_assigned_at
  FROM (SELECT r.org_id, r.rep_id, r.name, r.team_id,
               COALESCE(o.open_leads, 0) AS open_leads,
               r.max_open_leads,
               COALESCE(o.open_leads, 0)::numeric / NULLIF(r.max_open_leads, 0) AS utilization,
               r.active, r.accepting_leads,
               -- away as routing sees it: inside [away_from, away_until), an open end unbounded
               (r.away_from IS NOT NULL OR r.away_until IS NOT NULL)
               AND COALESCE(r.away_from <= pg_catalog.now(), true)
               AND COALESCE(pg_catalog.now() < r.away_until, true) AS away,
               COALESCE(COALESCE(o.open_leads, 0) >= r.max_open_leads, false) AS at_capacity,
               rl.assigned_total,
               rl.last_assigned_at
          FROM leadflow.reps r
          LEFT JOIN (SELECT l.org_id, l.owner_rep_id, pg_catalog.count(*) AS open_leads
                       FROM leadflow.leads l
                      WHERE l.owner_rep_id IS NOT NULL AND l.merged_into IS NULL AND l.erased_at IS NULL
                        AND l.status = ANY (@extschema@.open_statuses())
                      GROUP BY l.org_id, l.owner_rep_id) o
                 ON o.org_id = r.org_id AND o.owner_rep_id = r.rep_id
          LEFT JOIN leadflow.rep_load rl ON rl.org_id = r.org_id AND rl.rep_id = r.rep_id) y;
COMMENT ON VIEW @extschema@.report_rep_load IS 'Per org and rep (every rep): open leads against capacity, and whether routing can give the rep a lead now.';
COMMENT ON COLUMN @extschema@.report_rep_load.org_id IS 'Org.';
COMMENT ON COLUMN @extschema@.report_rep_load.rep_id IS 'The rep.';
COMMENT ON COLUMN @extschema@.report_rep_load.name IS 'Rep name.';
COMMENT ON COLUMN @extschema@.report_rep_load.team_id IS 'The rep''s team.';
COMMENT ON COLUMN @extschema@.report_rep_load.open_leads IS 'Live leads, not erased, the rep owns with status new, contacted, qualified or nurture, counted from leads.';
COMMENT ON COLUMN @extschema@.report_rep_load.max_open_leads IS 'Capacity; NULL means no cap.';
COMMENT ON COLUMN @extschema@.report_rep_load.utilization IS 'open_leads / max_open_leads (may exceed 1 when leads were given by hand); NULL without a cap or with a cap of 0.';
COMMENT ON COLUMN @extschema@.report_rep_load.active IS 'False for reps who left.';
COMMENT ON COLUMN @extschema@.report_rep_load.accepting_leads IS 'False while assignments are paused.';
COMMENT ON COLUMN @extschema@.report_rep_load.away IS 'Inside [away_from, away_until) now (an open end counts as unbounded).';
COMMENT ON COLUMN @extschema@.report_rep_load.at_capacity IS 'open_leads >= max_open_leads.';
COMMENT ON COLUMN @extschema@.report_rep_load.available IS 'Active, accepting leads, not away and not at capacity: routing may give the rep a lead now.';
COMMENT ON COLUMN @extschema@.report_rep_load.assigned_total IS 'Leads routing ever gave the rep (NULL before the first).';
COMMENT ON COLUMN @extschema@.report_rep_load.last_assigned_at IS 'When routing last gave the rep a lead.';

-- Issue 20: the opportunity pipeline and the follow-ups due
CREATE VIEW @extschema@.report_pipeline WITH (security_invoker = true) AS
SELECT o.org_id, o.owner_rep_id, o.stage_id, s.name AS stage, s.position, s.is_won, s.is_lost,
       pg_catalog.date_trunc('month', o.expected_close::timestamp without time zone)::date AS month,
       pg_catalog.count(*) AS opportunities,
       COALESCE(pg_catalog.sum(o.amount), 0) AS amount,
       COALESCE(pg_catalog.sum(o.amount * o.probability / 100.0), 0) AS weighted_amount
  FROM leadflow.opportunities o
  LEFT JOIN leadflow.opportunity_stages s ON s.org_id = o.org_id AND s.stage_id = o.stage_id
 GROUP BY o.org_id, o.owner_rep_id, o.stage_id, s.name, s.position, s.is_won, s.is_lost,
          pg_catalog.date_trunc('month', o.expected_close::timestamp without time zone)::date;
COMMENT ON VIEW @extschema@.report_pipeline IS 'Per org, opportunity owner, stage and month of expected close: how many opportunities, their amount and weighted amount (amount times probability). Every stage, won and lost included (is_won, is_lost tell them apart); filter on NOT is_won AND NOT is_lost for the open pipeline.';
COMMENT ON COLUMN @extschema@.report_pipeline.org_id IS 'Org.';
COMMENT ON COLUMN @extschema@.report_pipeline.owner_rep_id IS 'Opportunity owner; NULL for none.';
COMMENT ON COLUMN @extschema@.report_pipeline.stage_id IS 'The stage (opportunity_stages).';
COMMENT ON COLUMN @extschema@.report_pipeline.stage IS 'Stage name.';
COMMENT ON COLUMN @extschema@.report_pipeline.position IS 'Stage position, to sort by.';
COMMENT ON COLUMN @extschema@.report_pipeline.is_won IS 'Whether the stage is won.';
COMMENT ON COLUMN @extschema@.report_pipeline.is_lost IS 'Whether the stage is lost.';
COMMENT ON COLUMN @extschema@.report_pipeline.month IS 'First day of the month of expected_close; NULL when none is set.';
COMMENT ON COLUMN @extschema@.report_pipeline.opportunities IS 'Opportunities in the group.';
COMMENT ON COLUMN @extschema@.report_pipeline.amount IS 'Sum of their amounts (those without an amount count 0).';
COMMENT ON COLUMN @extschema@.report_pipeline.weighted_amount IS 'Sum of amount * probability / 100.';

CREATE VIEW @extschema@.report_tasks_due WITH (security_invoker = true) AS
SELECT a.org_id, a.activity_id, a.lead_id, COALESCE(a.rep_id, l.owner_rep_id) AS rep_id, a.due_at,
       pg_catalog.round(EXTRACT(epoch FROM pg_catalog.now() - a.due_at) / 3600, 2) AS hours_overdue
  FROM leadflow.activities a
  JOIN leadflow.leads l ON l.org_id = a.org_id AND l.lead_id = a.lead_id
 WHERE a.kind = 'task' AND a.completed_at IS NULL AND a.due_at < pg_catalog.now()
   AND l.erased_at IS NULL;
COMMENT ON VIEW @extschema@.report_tasks_due IS 'Per org and open task past due (activities of kind task, not completed, due_at passed), of leads not erased: whose it is and how late.';
COMMENT ON COLUMN @extschema@.report_tasks_due.org_id IS 'Org.';
COMMENT ON COLUMN @extschema@.report_tasks_due.activity_id IS 'The task (activities).';
COMMENT ON COLUMN @extschema@.report_tasks_due.lead_id IS 'The lead it is about.';
COMMENT ON COLUMN @extschema@.report_tasks_due.rep_id IS 'The task''s rep, else the lead''s owner; NULL for neither.';
COMMENT ON COLUMN @extschema@.report_tasks_due.due_at IS 'When it was due.';
COMMENT ON COLUMN @extschema@.report_tasks_due.hours_overdue IS 'Hours since due_at.';
