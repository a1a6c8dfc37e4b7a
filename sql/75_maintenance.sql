-- run_maintenance: inactivity decay, archiving, escalation catch-up, SLA
-- reassignment, open-lead recount; idempotent for the same as_of.
\set VERBOSITY terse
-- lead ids of this file start at 75001, whatever ran before
SELECT setval(pg_get_serial_sequence('leadflow.leads', 'lead_id'), 75000) \gset
INSERT INTO leadflow.orgs (org_id, name) VALUES (75, 'Maintenance Org');
INSERT INTO leadflow.teams (org_id, team_id, name) VALUES (75, 751, 'Inside');
INSERT INTO leadflow.reps (org_id, rep_id, team_id, name) VALUES (75, 7501, 751, 'Ada'), (75, 7502, 751, 'Bo');
INSERT INTO leadflow.routing_rules (org_id, position, name, assign_to, team_id) VALUES (75, 1, 'All', 'team', 751);

INSERT INTO leadflow.leads (org_id, email, job_title, company_size, source) VALUES
  (75, 'idle@vp.example', 'VP Sales', 5000, 'web_form'),        -- 75001: warm, goes idle
  (75, 'cold@nobody.example', NULL, NULL, 'web_form'),          -- 75002: cold, gets archived
  (75, 'hot@ceo.example', 'CEO', 5000, 'referral'),              -- 75003: hot, escalated later
  (75, 'slow@call.example', 'Manager', NULL, 'web_form');       -- 75004: never called
SELECT lead_id, score, owner_rep_id FROM leadflow.leads WHERE org_id = 75 ORDER BY lead_id;

-- time passes: the leads were created 60 days ago, nobody touched them
-- (changing created_at rescores them at once: 4 idle weeks past the 30-day
-- grace cost 20 points)
UPDATE leadflow.leads SET created_at = now() - interval '60 days', assigned_at = now() - interval '60 days'
 WHERE org_id = 75;
SELECT lead_id, score, score_decay FROM leadflow.leads WHERE org_id = 75 ORDER BY lead_id;
-- the model changes: escalate from 20 now (75001 and 75003 are there already)
UPDATE leadflow.scoring_models SET escalate_at = 20 WHERE org_id = 75 AND active;

SELECT * FROM leadflow.run_maintenance(75, now());
SELECT lead_id, score, score_decay, status, archive_reason, escalated_at IS NOT NULL AS escalated,
       owner_rep_id FROM leadflow.leads WHERE org_id = 75 ORDER BY lead_id;
-- the same as_of again changes nothing
SELECT * FROM leadflow.run_maintenance(75, now());

-- what the journey says
SELECT lead_id, kind, detail->>'reason' AS reason FROM leadflow.lead_journey
 WHERE org_id = 75 AND (kind IN ('escalated', 'stage_changed') OR detail->>'reason' IN ('inactivity', 'sla_breach'))
 ORDER BY lead_id, seq;

-- a week later the idle lead decays a little more; the rest is done
SELECT * FROM leadflow.run_maintenance(75, now() + interval '7 days');
SELECT lead_id, score_decay FROM leadflow.leads WHERE org_id = 75 AND lead_id = 75001;

-- all orgs at once, and bad arguments
SELECT count(*) AS actions FROM leadflow.run_maintenance();
SELECT * FROM leadflow.run_maintenance(75, NULL);
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT * FROM leadflow.run_maintenance(999999);
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- open-lead counts match the leads
SELECT count(*) AS count_mismatches FROM leadflow.rep_load r
 WHERE r.org_id = 75 AND r.open_leads <> (SELECT count(*) FROM leadflow.leads l
        WHERE l.org_id = 75 AND l.owner_rep_id = r.rep_id AND l.merged_into IS NULL
          AND l.status IN ('new', 'contacted', 'qualified', 'nurture'));
SELECT * FROM leadflow.verify_journey(75);
