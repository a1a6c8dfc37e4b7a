-- Predictive scoring: naive Bayes over closed leads.  A fixed training set
-- gives pinned probabilities; counts kept up incrementally equal a full
-- retrain; calibration by decile.
\set VERBOSITY terse
-- lead ids of this file start at 93001, whatever ran before
SELECT setval(pg_get_serial_sequence('leadflow.leads', 'lead_id'), 93000) \gset
INSERT INTO leadflow.orgs (org_id, name) VALUES (93, 'Predictive Org');

-- the training set: web leads from software companies with senior titles
-- tend to convert, trade-show students and small retailers do not
INSERT INTO leadflow.leads (org_id, email, source, industry, company_size, country, job_title) VALUES
  (93, 'a1@soft1.example', 'web_form', 'Software', 500, 'de', 'CTO'),                 -- 93001 converts
  (93, 'a2@soft2.example', 'web_form', 'Software', 1200, 'DE', 'VP Engineering'),     -- 93002 converts
  (93, 'a3@soft3.example', 'referral', 'Software', 300, 'US', 'Director of IT'),      -- 93003 converts
  (93, 'a4@bank1.example', 'web_form', 'Banking', 8000, 'US', 'CFO'),                 -- 93004 converts
  (93, 'b1@shop1.example', 'trade_show', 'Retail', 10, 'US', 'Student'),              -- 93005 lost
  (93, 'b2@shop2.example', 'trade_show', 'Retail', 20, 'FR', 'Intern'),               -- 93006 lost
  (93, 'b3@shop3.example', 'web_form', 'Retail', 30, 'FR', 'Clerk'),                  -- 93007 lost
  (93, 'b4@soft4.example', 'trade_show', 'Software', 40, 'US', 'Developer'),          -- 93008 lost
  (93, 'b5@bank2.example', 'referral', 'Banking', 100, 'DE', 'Analyst'),              -- 93009 lost (archived)
  (93, 'c1@soft5.example', 'web_form', 'Software', 800, 'DE', 'Head of Sales'),       -- 93010 open
  (93, 'c2@shop4.example', 'trade_show', 'Retail', 15, 'FR', 'Student'),              -- 93011 open
  (93, 'c3@new.example', 'podcast', NULL, NULL, NULL, NULL);                          -- 93012 open
SELECT leadflow.convert_lead(l) IS NOT NULL AS converted FROM unnest(ARRAY[93001, 93002, 93003, 93004]) l;
UPDATE leadflow.leads SET status = 'unqualified' WHERE lead_id IN (93005, 93006, 93007, 93008);
UPDATE leadflow.leads SET status = 'archived', archive_reason = 'no budget' WHERE lead_id = 93009;
-- no model yet: no probability
SELECT count(conversion_probability) AS with_probability FROM leadflow.leads WHERE org_id = 93;
SELECT f.* FROM leadflow.leads l, leadflow.lead_features(l) f WHERE l.lead_id = 93010;

SELECT leadflow.train_model(93) AS training_leads;
SELECT feature, value, converted, lost FROM leadflow.prediction_counts WHERE org_id = 93 ORDER BY feature, value;
-- pinned probabilities of the open leads
SELECT lead_id, round(conversion_probability::numeric, 4) AS p FROM leadflow.leads
 WHERE org_id = 93 AND status IN ('new', 'contacted', 'qualified', 'nurture') ORDER BY lead_id;
SELECT factor, value, converted, lost, round(weight::numeric, 4) AS weight FROM leadflow.explain_prediction(93010);
-- closed leads keep no probability from before the model
SELECT count(*) FILTER (WHERE conversion_probability IS NOT NULL) AS closed_with_probability
  FROM leadflow.leads WHERE org_id = 93 AND status NOT IN ('new', 'contacted', 'qualified', 'nurture');

-- a new lead gets its probability in the inserting transaction
INSERT INTO leadflow.leads (org_id, email, source, industry, company_size, country, job_title)
VALUES (93, 'd1@soft6.example', 'web_form', 'Software', 2000, 'DE', 'Chief Technology Officer');  -- 93013
SELECT lead_id, round(conversion_probability::numeric, 4) AS p FROM leadflow.leads WHERE lead_id = 93013;
-- signals change the activity feature and the probability at once
INSERT INTO leadflow.lead_signals (org_id, lead_id, kind) VALUES (93, 93011, 'form_submit'), (93, 93011, 'meeting_booked');
SELECT lead_id, score_behavioral + score_engagement AS activity_points, round(conversion_probability::numeric, 4) AS p
  FROM leadflow.leads WHERE lead_id = 93011;

-- incremental: leads close, one reopens, a closed lead changes, without a
-- retrain; the counts follow at once
SELECT leadflow.convert_lead(93010) IS NOT NULL AS converted;
UPDATE leadflow.leads SET status = 'unqualified' WHERE lead_id = 93011;
UPDATE leadflow.leads SET status = 'contacted' WHERE lead_id = 93007;
UPDATE leadflow.leads SET industry = 'Fintech' WHERE lead_id = 93004;
INSERT INTO leadflow.lead_signals (org_id, lead_id, kind) VALUES (93, 93003, 'meeting_booked');
-- the probability a lead had before its outcome stays
SELECT lead_id, status, round(conversion_probability::numeric, 4) AS p FROM leadflow.leads WHERE lead_id IN (93010, 93011) ORDER BY lead_id;
CREATE TEMP TABLE incremental AS SELECT feature, value, converted, lost FROM leadflow.prediction_counts WHERE org_id = 93;
CREATE TEMP TABLE incremental_p AS
SELECT l.lead_id, (SELECT e.weight FROM leadflow.explain_prediction(l.lead_id) e WHERE e.factor = 'probability') AS log_odds
  FROM leadflow.leads l WHERE l.org_id = 93 AND l.status IN ('new', 'contacted', 'qualified', 'nurture');
SELECT feature, value, converted, lost FROM incremental WHERE feature IN ('_total', 'industry') ORDER BY feature, value;
-- a full retrain counts exactly the same, and predicts exactly the same
SELECT leadflow.train_model(93) AS training_leads;
SELECT 'only incremental' AS side, * FROM (SELECT * FROM incremental EXCEPT SELECT feature, value, converted, lost FROM leadflow.prediction_counts WHERE org_id = 93) a
UNION ALL
SELECT 'only retrain', * FROM (SELECT feature, value, converted, lost FROM leadflow.prediction_counts WHERE org_id = 93 EXCEPT SELECT * FROM incremental) b;
-- (the open leads' log-odds from the incremental counts, and their stored
-- probabilities after the retrain)
SELECT count(*) AS leads,
       count(*) FILTER (WHERE i.log_odds = (SELECT e.weight FROM leadflow.explain_prediction(l.lead_id) e
                                             WHERE e.factor = 'probability')) AS same_log_odds,
       count(*) FILTER (WHERE l.conversion_probability = 1 / (1 + exp(-i.log_odds))) AS same_probability
  FROM incremental_p i JOIN leadflow.leads l USING (lead_id);

-- calibration by decile over the closed leads that had a probability
SELECT decile, leads, round(predicted::numeric, 4) AS predicted, converted, round(actual::numeric, 4) AS actual
  FROM leadflow.report_prediction_calibration WHERE org_id = 93 ORDER BY decile;

-- a model over chosen features
SELECT leadflow.train_model(93, ARRAY['source', 'seniority']) AS training_leads;
SELECT DISTINCT feature FROM leadflow.prediction_counts WHERE org_id = 93 ORDER BY 1;
SELECT factor, value, converted, lost, round(weight::numeric, 4) AS weight FROM leadflow.explain_prediction(93013);
-- refused input
SELECT leadflow.train_model(93, ARRAY['source', 'shoe_size']);
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.train_model(93, ARRAY[]::text[]);
SELECT leadflow.train_model(999999);
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT * FROM leadflow.explain_prediction(999999);
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT * FROM leadflow.verify_journey(93);
