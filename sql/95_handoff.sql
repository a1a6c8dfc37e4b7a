-- Handoff routing (org 41): on conversion the opportunity owner (the AE) is chosen
-- by the rules of stage handoff with the intake machinery: the account
-- owner first, then handoff rules by position (team strategies, shadow
-- rules), else the lead's owner (the SDR), who stays as sdr_rep_id.
\set VERBOSITY terse
SELECT setval(pg_get_serial_sequence('leadflow.leads', 'lead_id'), 41000) \gset
INSERT INTO leadflow.orgs (org_id, name) VALUES (41, 'Handoff Org');
UPDATE leadflow.scoring_models SET hot_at = 100, escalate_at = 101 WHERE org_id = 41;   -- no hot re-routing here
INSERT INTO leadflow.teams (org_id, team_id, name, strategy) VALUES
  (41, 411, 'SDRs', 'round_robin'), (41, 412, 'AE West', 'round_robin'), (41, 413, 'AE East', 'load_balanced');
INSERT INTO leadflow.reps (org_id, rep_id, team_id, name, role, away_from, away_until) VALUES
  (41, 4111, 411, 'Sam', 'sdr', NULL, NULL),
  (41, 4112, 411, 'Sue', 'sdr', NULL, NULL),
  (41, 4121, 412, 'Amy', 'ae', NULL, NULL),
  (41, 4122, 412, 'Abe', 'ae', now() - interval '1 day', now() + interval '1 day'),   -- away
  (41, 4123, 412, 'Ali', 'ae', NULL, NULL),
  (41, 4131, 413, 'Eda', 'ae', NULL, NULL),
  (41, 4140, NULL, 'Nia', 'ae', NULL, NULL),
  (41, 4141, NULL, 'Ned', 'ae', now() - interval '1 day', NULL);                       -- away
INSERT INTO leadflow.routing_rules (org_id, rule_id, position, name, mode, predicate, assign_to, rep_id, team_id, stage) VALUES
  (41, 4161, 10, 'Everyone to SDRs', 'live', '{"all": []}', 'team', NULL, 411, 'intake'),
  (41, 4162, 10, 'US to AE West', 'live', '{"field": "country", "op": "eq", "value": "US"}', 'team', NULL, 412, 'handoff'),
  (41, 4163, 20, 'DE to AE East', 'live', '{"field": "country", "op": "eq", "value": "DE"}', 'team', NULL, 413, 'handoff'),
  (41, 4164, 30, 'Trial: all to Eda', 'shadow', '{"all": []}', 'rep', 4131, NULL, 'handoff');
-- a stage is intake or handoff
INSERT INTO leadflow.routing_rules (org_id, position, name, assign_to, stage)
VALUES (41, 99, 'bad', 'queue', 'closing');

-- intake ignores the handoff rules: every lead goes to an SDR
INSERT INTO leadflow.leads (org_id, email, country, company_domain) VALUES
  (41, 'us1@west.example', 'US', 'west.example'),
  (41, 'us2@south.example', 'US', 'south.example'),
  (41, 'us3@north.example', 'US', 'north.example'),
  (41, 'ann@acme.example', 'US', 'acme.example'),
  (41, 'fr@globex.example', 'FR', 'globex.example'),
  (41, 'de@bonn.example', 'DE', 'bonn.example');
SELECT lead_id, email, owner_rep_id, team_id FROM leadflow.leads WHERE org_id = 41 ORDER BY lead_id;
-- accounts claimed by AEs after the leads came in
INSERT INTO leadflow.accounts (org_id, account_id, name, domain, owner_rep_id) VALUES
  (41, 4151, 'Acme', 'acme.example', 4140), (41, 4152, 'Globex', 'globex.example', 4141);

-- what a US lead's handoff would do now: AE West's rotation, nothing changed
SELECT path, rule_name, team_id, rep_id, explanation ->> 'strategy' AS strategy
  FROM leadflow.simulate_routing(41, '{"email": "x@y.example", "country": "US"}', 'handoff');
SELECT path, rep_id FROM leadflow.simulate_routing(41, '{"email": "x@y.example", "country": "US"}', 'intake');
SELECT path, rep_id, explanation -> 'candidates' AS candidates
  FROM leadflow.simulate_routing(41, '{"email": "x@acme.example", "company_domain": "acme.example"}', 'handoff');
SELECT * FROM leadflow.simulate_routing(41, '{"email": "x@y.example"}', 'closing');
SELECT count(*) AS rotation_rows FROM leadflow.team_rotation WHERE org_id = 41 AND team_id = 412;

-- US leads: AE West's round robin, skipping the away AE; the SDR stays as sdr_rep_id
SELECT leadflow.convert_lead(l) IS NOT NULL AS converted FROM unnest(ARRAY[41001, 41002, 41003]) l;
SELECT o.lead_id, o.owner_rep_id, o.sdr_rep_id, a.owner_rep_id AS account_owner
  FROM leadflow.opportunities o JOIN leadflow.accounts a USING (org_id, account_id)
 WHERE o.org_id = 41 ORDER BY o.lead_id;
SELECT lead_id, detail ->> 'path' AS path, detail ->> 'rule_name' AS rule_name, detail ->> 'strategy' AS strategy,
       detail -> 'rep_id' AS rep_id, detail -> 'candidates' AS candidates, detail ->> 'reason' AS reason
  FROM leadflow.lead_journey WHERE org_id = 41 AND kind = 'handoff' ORDER BY lead_id;
-- the leads keep their SDR, who no longer counts them open
SELECT lead_id, status, owner_rep_id FROM leadflow.leads WHERE lead_id IN (41001, 41002, 41003) ORDER BY lead_id;

-- the named account's owner comes first
SELECT leadflow.convert_lead(41004) IS NOT NULL AS converted;
SELECT owner_rep_id, sdr_rep_id, account_id FROM leadflow.opportunities WHERE lead_id = 41004;
SELECT detail ->> 'path' AS path, detail -> 'account_id' AS account_id, detail -> 'rep_id' AS rep_id
  FROM leadflow.lead_journey WHERE lead_id = 41004 AND kind = 'handoff';

-- an away account owner is skipped, no handoff rule matches: the SDR keeps it
SELECT leadflow.convert_lead(41005) IS NOT NULL AS converted;
SELECT o.owner_rep_id, o.sdr_rep_id, l.owner_rep_id = o.owner_rep_id AS sdr_keeps_it
  FROM leadflow.opportunities o JOIN leadflow.leads l USING (org_id, lead_id) WHERE o.lead_id = 41005;
SELECT step, rep_id, outcome FROM leadflow.explain_routing(41005);   -- intake's explanation is untouched
SELECT detail ->> 'path' AS path, detail -> 'candidates' AS candidates
  FROM leadflow.lead_journey WHERE lead_id = 41005 AND kind = 'handoff';

-- convert_on_qualified hands off too (DE: AE East)
UPDATE leadflow.orgs SET settings = settings || '{"convert_on_qualified": true}' WHERE org_id = 41;
UPDATE leadflow.leads SET status = 'qualified' WHERE lead_id = 41006;
SELECT l.status, o.owner_rep_id, o.sdr_rep_id FROM leadflow.leads l
  JOIN leadflow.opportunities o USING (org_id, lead_id) WHERE l.lead_id = 41006;

-- the shadow handoff rule is journaled beside every live decision, never obeyed
SELECT lead_id, rule_name, live_rep_id, shadow_rep_id, agrees
  FROM leadflow.report_shadow_routing WHERE org_id = 41 ORDER BY lead_id;
SELECT rule_id, name, live_hits, shadow_hits FROM leadflow.report_routing WHERE org_id = 41 ORDER BY position, rule_id;
-- the rotation advanced for AEs picked by rules or accounts, not for the SDR fallback
SELECT rep_id, open_leads, assigned_total FROM leadflow.rep_load WHERE org_id = 41 ORDER BY rep_id;
SELECT * FROM leadflow.verify_journey(41);

-- Opportunity stages: every org gets the defaults; an opportunity starts in
-- the first open stage or the one named, with the stage's probability
-- unless one is given, and follows its stage (closed_at on won or lost).
UPDATE leadflow.orgs SET settings = settings - 'convert_on_qualified' WHERE org_id = 41;
SELECT name, position, probability, is_won, is_lost FROM leadflow.opportunity_stages WHERE org_id = 41 ORDER BY position;
SELECT o.lead_id, o.stage, o.probability, o.closed_at FROM leadflow.opportunities o
  JOIN leadflow.opportunity_stages s USING (org_id, stage_id) WHERE o.org_id = 41 AND s.name = 'Prospecting' ORDER BY lead_id;
INSERT INTO leadflow.opportunity_stages (org_id, name, position, probability) VALUES (41, 'Demo', 3, 30);
INSERT INTO leadflow.leads (org_id, email, country) VALUES
  (41, 'p1@stage.example', 'FR'), (41, 'p2@stage.example', 'FR'), (41, 'p3@stage.example', 'FR'),
  (41, 'p4@stage.example', 'FR'), (41, 'p5@stage.example', 'FR');
-- the 0.1.0 call, then a named stage (any case), then a probability of one's own
SELECT leadflow.convert_lead(41007, 'Old call', 1000, '2027-01-31') IS NOT NULL AS converted;
SELECT leadflow.convert_lead(41008, 'Demo deal', 5000, '2027-02-28', 'DEMO') IS NOT NULL AS converted;
SELECT leadflow.convert_lead(41009, 'Sure thing', 8000, '2027-03-31', 'proposal', 90) IS NOT NULL AS converted;
SELECT o.lead_id, o.name, o.amount, o.expected_close, s.name AS stage_name, o.stage, o.probability, o.closed_at IS NOT NULL AS closed
  FROM leadflow.opportunities o JOIN leadflow.opportunity_stages s USING (org_id, stage_id)
 WHERE o.lead_id IN (41007, 41008, 41009) ORDER BY lead_id;
-- refused: an unknown stage, a probability out of range; nothing stored
SELECT leadflow.convert_lead(41010, stage => 'Closing');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.convert_lead(41010, probability => 101);
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT status, (SELECT count(*) FROM leadflow.opportunities WHERE lead_id = 41010) AS opportunities
  FROM leadflow.leads WHERE lead_id = 41010;
-- moving: the new stage's probability unless one is set with it; won and lost close
UPDATE leadflow.opportunities SET stage_id = (SELECT stage_id FROM leadflow.opportunity_stages WHERE org_id = 41 AND name = 'Negotiation')
 WHERE lead_id = 41007;
SELECT stage, probability, closed_at IS NOT NULL AS closed FROM leadflow.opportunities WHERE lead_id = 41007;
UPDATE leadflow.opportunities SET stage = 'Won' WHERE lead_id = 41007;
SELECT stage, probability, closed_at IS NOT NULL AS closed FROM leadflow.opportunities WHERE lead_id = 41007;
UPDATE leadflow.opportunities SET stage = 'Proposal', probability = 40 WHERE lead_id = 41007;
SELECT stage, probability, closed_at IS NOT NULL AS closed FROM leadflow.opportunities WHERE lead_id = 41007;
UPDATE leadflow.opportunities SET stage = 'lost' WHERE lead_id = 41008;
SELECT stage, probability, closed_at IS NOT NULL AS closed FROM leadflow.opportunities WHERE lead_id = 41008;
UPDATE leadflow.opportunities SET stage = 'Pending' WHERE lead_id = 41008;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
-- a new org has the default stages
INSERT INTO leadflow.orgs (org_id, name) VALUES (42, 'Stages Org');
SELECT count(*) AS stages, sum(probability) AS probabilities FROM leadflow.opportunity_stages WHERE org_id = 42;

-- convert_lead refuses a lead the org's BANT requirement refuses for qualified
UPDATE leadflow.orgs SET settings = settings || '{"require_bant_for_qualified": true}' WHERE org_id = 41;
UPDATE leadflow.leads SET budget_confirmed = true, authority_confirmed = true, need_confirmed = true WHERE lead_id = 41010;
UPDATE leadflow.leads SET status = 'qualified' WHERE lead_id = 41010;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.convert_lead(41010);
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
UPDATE leadflow.leads SET timeline_confirmed = true WHERE lead_id = 41010;
SELECT leadflow.convert_lead(41010) IS NOT NULL AS converted;
SELECT status FROM leadflow.leads WHERE lead_id = 41010;
SELECT * FROM leadflow.verify_journey(41);

-- report_pipeline: per owner, stage and close month; weighted by probability
SELECT owner_rep_id, stage, month, opportunities, amount, weighted_amount, is_won, is_lost
  FROM leadflow.report_pipeline WHERE org_id = 41 ORDER BY owner_rep_id, position, month;
SELECT sum(opportunities) = (SELECT count(*) FROM leadflow.opportunities WHERE org_id = 41) AS all_counted,
       sum(weighted_amount) FILTER (WHERE NOT is_won AND NOT is_lost) AS open_weighted
  FROM leadflow.report_pipeline WHERE org_id = 41;

-- report_tasks_due: each open task past due, the task's rep, else the lead's owner
INSERT INTO leadflow.activities (org_id, lead_id, rep_id, kind, subject, due_at, completed_at) VALUES
  (41, 41001, 4121, 'task', 'Send proposal', now() - interval '2 days', NULL),
  (41, 41002, 4121, 'task', 'Call back', now() - interval '1 hour', NULL),
  (41, 41003, NULL, 'task', 'Follow up', now() - interval '3 days', NULL),   -- lead owner 4111
  (41, 41004, 4140, 'task', 'Later', now() + interval '1 day', NULL),        -- not due yet
  (41, 41005, 4140, 'task', 'Done', now() - interval '1 day', now()),        -- completed
  (41, 41006, 4131, 'call', 'Not a task', now() - interval '1 day', NULL);   -- not a task
SELECT t.lead_id, t.rep_id, a.subject, t.hours_overdue BETWEEN 0 AND 100 AS hours_plausible,
       t.hours_overdue >= 47 AS over_two_days
  FROM leadflow.report_tasks_due t JOIN leadflow.activities a ON a.org_id = t.org_id AND a.activity_id = t.activity_id
 WHERE t.org_id = 41 ORDER BY t.lead_id;

-- report_source_performance: won, revenue and roi from the opportunities;
-- without recorded spend the costs and roi are unknown (NULL), not 0
UPDATE leadflow.leads SET source = 'webinar' WHERE lead_id IN (41007, 41008, 41009);
INSERT INTO leadflow.source_spend (org_id, source, month, amount)   -- the month of these leads
VALUES (41, 'webinar', date_trunc('month', now() AT TIME ZONE 'UTC')::date, 2000);
UPDATE leadflow.opportunities SET stage = 'Won' WHERE lead_id = 41009;
SELECT source, leads, converted, spend, round(cost_per_lead, 3) AS cost_per_lead,
       round(cost_per_converted, 3) AS cost_per_converted, won, revenue, round(roi, 3) AS roi
  FROM leadflow.report_source_performance WHERE org_id = 41 ORDER BY source NULLS FIRST;

-- report_rep_performance: activities logged by kind, open pipeline amount
SELECT rep_id, role, calls, emails, meetings, notes, tasks, open_pipeline
  FROM leadflow.report_rep_performance WHERE org_id = 41 ORDER BY rep_id;
