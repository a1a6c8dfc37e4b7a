-- Account-based scoring: engagement per account or company domain, and
-- account_hot announced by maintenance once per crossing.
\set VERBOSITY terse
-- lead ids of this file start at 92001, whatever ran before
SELECT setval(pg_get_serial_sequence('leadflow.leads', 'lead_id'), 92000) \gset
SELECT now() + interval '1 hour' AS t0 \gset
INSERT INTO leadflow.orgs (org_id, name, settings) VALUES (92, 'Account Org', '{"account_hot_at": 100}');
INSERT INTO leadflow.reps (org_id, rep_id, name) VALUES (92, 9201, 'Ada'), (92, 9202, 'Bo');
INSERT INTO leadflow.accounts (org_id, account_id, name, domain, owner_rep_id) VALUES (92, 921, 'Acme', 'acme.example', 9201);

-- Acme (named account): a CEO, a VP and a manager; Beta (no account): a
-- director and a student; a free-mail lead belongs to no company
INSERT INTO leadflow.leads (org_id, email, job_title, company_size) VALUES
  (92, 'ceo@acme.example', 'CEO', 5000),             -- 92001
  (92, 'vp@acme.example', 'VP Sales', 5000),         -- 92002
  (92, 'mgr@acme.example', 'Sales Manager', 5000),   -- 92003
  (92, 'dir@beta.example', 'Director IT', 100),      -- 92004
  (92, 'kid@beta.example', 'Student', 100),          -- 92005
  (92, 'solo@gmail.com', 'CEO', NULL);               -- 92006
-- a duplicate of the VP is merged: not another person
INSERT INTO leadflow.leads (org_id, email) VALUES (92, 'VP@acme.example');
SELECT lead_id, account_id, company_domain, score FROM leadflow.leads WHERE org_id = 92 ORDER BY lead_id;
-- signals: Acme's people read and click, Beta's director downloads
INSERT INTO leadflow.lead_signals (org_id, lead_id, kind)
SELECT 92, l, k FROM unnest(ARRAY[92001, 92002, 92003]) l, unnest(ARRAY['page_view', 'email_click']) k;
INSERT INTO leadflow.lead_signals (org_id, lead_id, kind) VALUES (92, 92004, 'content_download');
-- an old signal does not count
INSERT INTO leadflow.lead_signals (org_id, lead_id, kind, occurred_at) VALUES (92, 92004, 'page_view', now() - interval '40 days');

SELECT account_id, account_name, owner_rep_id, company_domain, live_leads, people, score_sum, score_max,
       signals_30d, account_score, account_hot_at, hot, hot_since
  FROM leadflow.report_account_engagement WHERE org_id = 92 ORDER BY account_score DESC;
-- the formula: best + half of the rest + 10 per further person + 2 per signal
SELECT leadflow.account_score(3, 150, 60, 7) AS example;

-- maintenance announces Acme (score >= 100) once
SELECT * FROM leadflow.run_maintenance(92, :'t0') WHERE action LIKE 'account%';
SELECT lead_id, kind, detail FROM leadflow.lead_journey WHERE org_id = 92 AND kind = 'account_hot' ORDER BY lead_id;
SELECT account_id, company_domain, hot_since = :'t0' AS hot_since_t0, account_score FROM leadflow.account_hot_state WHERE org_id = 92;
SELECT * FROM leadflow.run_maintenance(92, :'t0') WHERE action LIKE 'account%';
-- the threshold drops to 40: Beta is hot too, announced on its open leads
UPDATE leadflow.orgs SET settings = '{"account_hot_at": 40}' WHERE org_id = 92;
SELECT * FROM leadflow.run_maintenance(92, :'t0') WHERE action LIKE 'account%';
SELECT lead_id, detail FROM leadflow.lead_journey WHERE org_id = 92 AND kind = 'account_hot' AND lead_id IN (92004, 92005) ORDER BY lead_id;
-- Beta's leads are disqualified: it cools; when it is engaged again it is
-- announced again
UPDATE leadflow.leads SET status = 'unqualified' WHERE lead_id IN (92004, 92005);
SELECT * FROM leadflow.run_maintenance(92, :'t0') WHERE action LIKE 'account%';
SELECT company_domain, hot_since FROM leadflow.account_hot_state WHERE org_id = 92 AND company_domain IS NOT NULL;
UPDATE leadflow.leads SET status = 'contacted' WHERE lead_id = 92004;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
INSERT INTO leadflow.leads (org_id, email, job_title, company_size) VALUES (92, 'cto@beta.example', 'CTO', 100);
SELECT * FROM leadflow.run_maintenance(92, :'t0') WHERE action LIKE 'account%';
SELECT lead_id, count(*) FROM leadflow.lead_journey WHERE org_id = 92 AND kind = 'account_hot' GROUP BY 1 ORDER BY 1;
-- a bad threshold
UPDATE leadflow.orgs SET settings = '{"account_hot_at": "high"}' WHERE org_id = 92;
SELECT * FROM leadflow.verify_journey(92);
-- people: phone-only leads (no company from an email) linked to an account
-- by hand; two with one phone are one person, in the view and in
-- maintenance alike (with dedup_on_phone off: else the two are merged)
UPDATE leadflow.orgs SET settings = settings || '{"dedup_on_phone": false}' WHERE org_id = 92;
INSERT INTO leadflow.accounts (org_id, account_id, name) VALUES (92, 922, 'Gamma');
INSERT INTO leadflow.leads (org_id, phone, country, job_title, account_id) VALUES
  (92, '+1 415 555 0101', 'US', 'CEO', 922),
  (92, '(415) 555-0101', 'US', 'CFO', 922),
  (92, '+1 415 555 0199', 'US', 'VP Sales', 922);
SELECT live_leads, people, account_score FROM leadflow.report_account_engagement WHERE org_id = 92 AND account_id = 922;
UPDATE leadflow.orgs SET settings = '{"account_hot_at": 1}' WHERE org_id = 92;
SELECT * FROM leadflow.run_maintenance(92, :'t0') WHERE action = 'account_hot';
SELECT h.account_score, h.account_score = e.account_score AS same_as_view
  FROM leadflow.account_hot_state h
  JOIN leadflow.report_account_engagement e ON e.org_id = h.org_id AND e.account_id = h.account_id
 WHERE h.org_id = 92 AND h.account_id = 922;
