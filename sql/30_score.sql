-- Scoring: field and signal rules, caps, negative points, max_count,
-- half-life decay, manual adjustment, inactivity decay, clamping,
-- temperature, escalation, explanation, rescore, rule validation.
\set VERBOSITY terse
-- lead ids of this file start at 30001, whatever ran before
SELECT setval(pg_get_serial_sequence('leadflow.leads', 'lead_id'), 30000) \gset
INSERT INTO leadflow.orgs (org_id, name) VALUES (30, 'Score Org');

-- a small model of our own, so every number below is easy to check
UPDATE leadflow.scoring_models SET active = false WHERE org_id = 30;
INSERT INTO leadflow.scoring_models (org_id, model_id, name, active, cap_demographic, warm_at, hot_at, escalate_at)
VALUES (30, 3000, 'Test', true, 30, 31, 60, 75);
INSERT INTO leadflow.scoring_rules (org_id, rule_id, model_id, name, category, points, predicate) VALUES
  (30, 3001, 3000, 'VP', 'demographic', 20, '{"field": "job_title", "op": "contains", "value": "vp"}'),
  (30, 3002, 3000, 'Big company', 'demographic', 15, '{"field": "company_size", "op": "ge", "value": 1000}'),
  (30, 3003, 3000, 'Student', 'demographic', -30, '{"field": "job_title", "op": "contains", "value": "student"}'),
  (30, 3004, 3000, 'DACH', 'firmographic', 10, '{"field": "country", "op": "in", "value": ["DE", "AT", "CH"]}');
INSERT INTO leadflow.scoring_rules (org_id, rule_id, model_id, name, category, points, signal_kind, max_count, half_life) VALUES
  (30, 3011, 3000, 'Page views', 'behavioral', 5, 'page_view', 3, NULL),
  (30, 3012, 3000, 'Email opens', 'engagement', 4, 'email_open', NULL, '7 days'),
  (30, 3013, 3000, 'Meeting', 'engagement', 30, 'meeting_booked', 1, NULL);

-- field rules on insert: VP + big company = 35, capped at 30; DACH 10
INSERT INTO leadflow.leads (org_id, email, job_title, company_size, country)
VALUES (30, 'vp@big.example', 'VP Sales', 5000, 'de') RETURNING lead_id AS vp \gset
SELECT score_demographic, score_firmographic, score_behavioral, score_engagement, score, temperature
  FROM leadflow.leads WHERE lead_id = :vp;
SELECT category, rule_id, rule_name, points FROM leadflow.explain_score(:vp);

-- negative points never take a category below 0
INSERT INTO leadflow.leads (org_id, email, job_title) VALUES (30, 'kim@uni.example', 'Student')
RETURNING score_demographic, score, temperature;

-- signals rescore at once: max_count 3 page views, opens halving every 7 days
INSERT INTO leadflow.lead_signals (org_id, lead_id, kind, occurred_at)
SELECT 30, :vp, 'page_view', now() - n * interval '1 hour' FROM generate_series(1, 5) n;
INSERT INTO leadflow.lead_signals (org_id, lead_id, kind, occurred_at) VALUES
  (30, :vp, 'email_open', now()), (30, :vp, 'email_open', now() - interval '7 days'),
  (30, :vp, 'email_open', now() - interval '14 days');
SELECT score_behavioral, score_engagement, score, temperature, last_activity_at > now() - interval '1 minute' AS active_now
  FROM leadflow.leads WHERE lead_id = :vp;

-- a rep's manual adjustment, and crossing hot_at and escalate_at
UPDATE leadflow.leads SET score_manual = 10 WHERE lead_id = :vp;
SELECT score, temperature, escalated_at IS NULL AS not_escalated FROM leadflow.leads WHERE lead_id = :vp;
INSERT INTO leadflow.lead_signals (org_id, lead_id, kind) VALUES (30, :vp, 'meeting_booked');
SELECT score_engagement, score, temperature, escalated_at IS NOT NULL AS escalated FROM leadflow.leads WHERE lead_id = :vp;
SELECT lead_id = :vp AS is_vp, score FROM leadflow.manager_queue WHERE org_id = 30;
SELECT seq, kind, detail->>'old' AS old, detail->>'new' AS new, detail->>'reason' AS reason
  FROM leadflow.journey_events WHERE lead_id = :vp AND kind IN ('scored', 'escalated') ORDER BY seq, step;

-- the explanation sums to the score; capped categories show their cap
SELECT category, rule_name, points FROM leadflow.explain_score(:vp);
SELECT sum(points) = (SELECT score FROM leadflow.leads WHERE lead_id = :vp) AS explains_score
  FROM leadflow.explain_score(:vp);

-- composite is clamped to 100
UPDATE leadflow.leads SET score_manual = 90 WHERE lead_id = :vp;
SELECT score FROM leadflow.leads WHERE lead_id = :vp;
SELECT rule_name, points FROM leadflow.explain_score(:vp) WHERE category IS NULL;
UPDATE leadflow.leads SET score_manual = 0 WHERE lead_id = :vp;

-- inactivity: 30 days grace, then 5 points per whole week
INSERT INTO leadflow.leads (org_id, email, job_title, country)
VALUES (30, 'idle@big.example', 'VP Marketing', 'AT') RETURNING lead_id AS idle \gset
UPDATE leadflow.leads SET last_activity_at = now() - interval '30 days' - interval '20 days' WHERE lead_id = :idle;
SELECT score_demographic + score_firmographic AS points, score FROM leadflow.leads WHERE lead_id = :idle;
SELECT rule_name, points FROM leadflow.explain_score(:idle) WHERE rule_name = 'inactivity decay';

-- half-life decay as a function: 10 points after 0, 1, 2 and 3 half-lives
SELECT age, leadflow.decayed_points(10, age, '7 days') AS points
  FROM (VALUES (interval '0'), (interval '7 days'), (interval '14 days'), (interval '21 days'),
               (interval '-1 day')) v(age);
SELECT leadflow.decayed_points(10, '100 days', NULL) AS no_half_life;

-- a rule change applies to the next insert; rescore applies it to all
UPDATE leadflow.scoring_rules SET points = 25 WHERE org_id = 30 AND rule_id = 3004;
INSERT INTO leadflow.leads (org_id, email, country) VALUES (30, 'new@dach.example', 'CH')
RETURNING score_firmographic;
SELECT score_firmographic FROM leadflow.leads WHERE lead_id = :idle;
SELECT leadflow.rescore(30) AS rescored;
SELECT score_firmographic FROM leadflow.leads WHERE lead_id = :idle;
SELECT leadflow.rescore(999999);
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- bad rules are refused when written, naming the problem and its place
INSERT INTO leadflow.scoring_rules (org_id, model_id, name, category, points, predicate)
VALUES (30, 3000, 'typo', 'demographic', 5, '{"all": [{"field": "contry", "op": "eq", "value": "DE"}]}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
INSERT INTO leadflow.scoring_rules (org_id, model_id, name, category, points, predicate)
VALUES (30, 3000, 'range', 'firmographic', 5, '{"field": "company_size", "op": "between", "value": [10]}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
UPDATE leadflow.scoring_rules SET predicate = '{"field": "country", "op": "equals", "value": "DE"}' WHERE rule_id = 3004;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
INSERT INTO leadflow.scoring_rules (org_id, model_id, name, category, points, predicate, signal_kind)
VALUES (30, 3000, 'both', 'behavioral', 5, '{"all": []}', 'page_view');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- the default model of a new org scores out of the box
INSERT INTO leadflow.orgs (org_id, name) VALUES (31, 'Default Model Org');
INSERT INTO leadflow.leads (org_id, email, job_title, company_size) VALUES (31, 'cto@acme-robotics.example', 'CTO', 1200)
RETURNING lead_id AS cto \gset
SELECT category, rule_name, points FROM leadflow.explain_score(:cto);
SELECT count(*) AS default_rules FROM leadflow.scoring_rules WHERE org_id = 31;

SELECT * FROM leadflow.verify_journey(30);
