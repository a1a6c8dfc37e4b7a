-- Returning people: a new submission for an archived or unqualified lead
-- reopens it (first open stage, journey and event reactivated, rescored,
-- routed to its previous owner when available, else by the rules); a
-- converted lead's return is a touch and an event for its owner.  Cold
-- archiving spares a lead in nurture with steps still due; manager_queue
-- holds only escalated leads untouched and still at or above escalate_at.
\set VERBOSITY terse
-- lead ids of this file start at 97001, whatever ran before
SELECT setval(pg_get_serial_sequence('leadflow.leads', 'lead_id'), 97000) \gset
INSERT INTO leadflow.orgs (org_id, name) VALUES (95, 'Return Org');
INSERT INTO leadflow.teams (org_id, team_id, name) VALUES (95, 951, 'Inbound');
INSERT INTO leadflow.reps (org_id, rep_id, team_id, name) VALUES (95, 9501, 951, 'Ada'), (95, 9502, 951, 'Bo');
INSERT INTO leadflow.routing_rules (org_id, position, name, assign_to, team_id) VALUES (95, 1, 'All', 'team', 951);

-- archived, its owner available: back to new with the same owner
INSERT INTO leadflow.leads (org_id, email, owner_rep_id, source) VALUES (95, 'ret@return.example', 9501, 'web_form');  -- 97001
UPDATE leadflow.leads SET status = 'archived', archive_reason = 'went quiet' WHERE lead_id = 97001;
SELECT status, stage_id IS NULL AS no_stage, archived_at IS NOT NULL AS archived FROM leadflow.leads WHERE lead_id = 97001;
-- plain moves out of archived stay refused
UPDATE leadflow.leads SET status = 'new' WHERE lead_id = 97001;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
INSERT INTO leadflow.leads (org_id, email, job_title, source) VALUES (95, 'Ret@Return.example', 'VP Sales', 'webinar');  -- 97002
SELECT lead_id, status, merged_into, owner_rep_id, archived_at, archive_reason, job_title, score > 0 AS rescored
  FROM leadflow.leads WHERE lead_id IN (97001, 97002) ORDER BY lead_id;
SELECT s.name AS stage FROM leadflow.leads l JOIN leadflow.workflow_stages s ON s.org_id = l.org_id AND s.stage_id = l.stage_id
 WHERE l.lead_id = 97001;
SELECT kind, detail - 'days_closed' - 'hours_in_previous_stage' - 'from_stage_id' - 'to_stage_id' AS detail,
       (detail ->> 'days_closed')::numeric >= 0 AS days_closed
  FROM leadflow.journey_events WHERE lead_id = 97001 AND kind IN ('duplicate_touch', 'stage_changed', 'reactivated', 'routed')
 ORDER BY seq, step;
SELECT event, rep_id, detail - 'days_closed' AS detail FROM leadflow.events
 WHERE org_id = 95 AND lead_id = 97001 AND event IN ('reactivated', 'status_changed', 'merged') ORDER BY event_id;
SELECT rep_id, open_leads FROM leadflow.rep_load WHERE org_id = 95 ORDER BY rep_id;

-- unqualified, its owner away: by phone, routed by the rules to another rep
INSERT INTO leadflow.leads (org_id, phone, owner_rep_id, source) VALUES (95, '+1 312 555 0142', 9501, 'trade_show');  -- 97003
UPDATE leadflow.leads SET status = 'unqualified' WHERE lead_id = 97003;
UPDATE leadflow.reps SET away_from = now() - interval '1 hour', away_until = now() + interval '1 week' WHERE rep_id = 9501;
INSERT INTO leadflow.leads (org_id, email, phone, source) VALUES (95, 'back@return.example', '312-555-0142', 'web_form'); -- 97004
SELECT lead_id, status, merged_into, owner_rep_id, email FROM leadflow.leads WHERE lead_id IN (97003, 97004) ORDER BY lead_id;
SELECT detail - 'days_closed' AS detail FROM leadflow.lead_journey WHERE lead_id = 97003 AND kind = 'reactivated';
SELECT detail ->> 'reason' AS reason, detail ->> 'from_rep_id' AS from_rep, detail ->> 'to_rep_id' AS to_rep
  FROM leadflow.events WHERE org_id = 95 AND lead_id = 97003 AND event = 'reassigned';
UPDATE leadflow.reps SET away_from = NULL, away_until = NULL WHERE rep_id = 9501;
SELECT rep_id, open_leads FROM leadflow.rep_load WHERE org_id = 95 ORDER BY rep_id;

-- converted: stays converted; the return is a touch, and its owner is told
INSERT INTO leadflow.leads (org_id, email, owner_rep_id, company) VALUES (95, 'won@customer.example', 9502, 'Customer');  -- 97005
SELECT leadflow.convert_lead(97005, 'Deal') IS NOT NULL AS converted;
INSERT INTO leadflow.leads (org_id, email, source) VALUES (95, 'won@customer.example', 'web_form');  -- 97006
SELECT lead_id, status, merged_into FROM leadflow.leads WHERE lead_id IN (97005, 97006) ORDER BY lead_id;
SELECT count(*) AS reactivated FROM leadflow.lead_journey WHERE lead_id = 97005 AND kind = 'reactivated';
SELECT event, rep_id, detail ->> 'survivor_status' AS survivor_status FROM leadflow.events
 WHERE org_id = 95 AND lead_id = 97005 AND event = 'merged';
SELECT * FROM leadflow.verify_journey(95);

-- cold archiving spares a lead in nurture while a step is still due
INSERT INTO leadflow.leads (org_id, email, source) VALUES
  (95, 'cold@return.example', 'csv'),                 -- 97007
  (95, 'nurtured@return.example', 'csv');             -- 97008
UPDATE leadflow.leads SET status = 'nurture' WHERE lead_id = 97008;
SELECT lead_id, score < 20 AS cold FROM leadflow.leads WHERE lead_id IN (97007, 97008) ORDER BY lead_id;
SELECT action, leads FROM leadflow.run_maintenance(95, now() + interval '15 days') WHERE action = 'archived';
SELECT lead_id, status FROM leadflow.leads WHERE lead_id IN (97007, 97008) ORDER BY lead_id;
-- after the last step (re_engagement, day 45) it may go
SELECT action, leads FROM leadflow.run_maintenance(95, now() + interval '46 days') WHERE action = 'archived';
SELECT lead_id, status FROM leadflow.leads WHERE lead_id IN (97007, 97008) ORDER BY lead_id;

-- manager_queue: escalated leads leave when touched or when the score falls
UPDATE leadflow.scoring_models SET escalate_at = 20 WHERE org_id = 95;
INSERT INTO leadflow.leads (org_id, email, job_title, company_size, owner_rep_id) VALUES
  (95, 'boss1@bigco.example', 'CEO', 5000, 9502),     -- 97009
  (95, 'boss2@bigco.example', 'CEO', 5000, 9502);     -- 97010
SELECT lead_id FROM leadflow.manager_queue WHERE org_id = 95 ORDER BY lead_id;
INSERT INTO leadflow.activities (org_id, lead_id, rep_id, kind, subject, completed_at)
VALUES (95, 97009, 9502, 'call', 'Intro', now());
UPDATE leadflow.leads SET score_manual = -100 WHERE lead_id = 97010;
SELECT lead_id, escalated_at IS NOT NULL AS escalated FROM leadflow.leads WHERE lead_id IN (97009, 97010) ORDER BY lead_id;
SELECT lead_id FROM leadflow.manager_queue WHERE org_id = 95 ORDER BY lead_id;
