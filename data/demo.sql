-- The leadflow demo: one org, its sales floor, and a few thousand leads
-- arriving through capture(), CSV import and plain INSERT.
\set QUIET on
\pset footer off
CREATE EXTENSION leadflow CASCADE;   -- with pg_trgm and unaccent (lead search)
SET client_min_messages = warning;

INSERT INTO leadflow.orgs (org_id, name, settings) VALUES (1, 'Leadflow Demo Inc', '{"default_region": "US"}');

-- sales floor: teams, reps, named accounts, enrichment data, spend
CREATE TEMP TABLE t_teams (name text, strategy text);
\copy t_teams FROM 'data/sample/teams.csv' CSV HEADER
INSERT INTO leadflow.teams (org_id, name, strategy) SELECT 1, name, strategy FROM t_teams;

CREATE TEMP TABLE t_reps (team text, name text, email text, role text, active boolean, accepting_leads boolean,
                          max_open_leads int, weight int, away_from timestamptz, away_until timestamptz);
\copy t_reps FROM 'data/sample/reps.csv' CSV HEADER
INSERT INTO leadflow.reps (org_id, team_id, name, email, role, active, accepting_leads, max_open_leads, weight, away_from, away_until)
SELECT 1, t.team_id, r.name, r.email, r.role, r.active, r.accepting_leads, r.max_open_leads, r.weight, r.away_from, r.away_until
  FROM t_reps r JOIN leadflow.teams t ON t.org_id = 1 AND t.name = r.team;
UPDATE leadflow.teams t SET manager_rep_id = r.rep_id
  FROM leadflow.reps r WHERE r.org_id = t.org_id AND r.team_id = t.team_id AND r.role = 'manager';

CREATE TEMP TABLE t_accounts (name text, domain text, owner_email text);
\copy t_accounts FROM 'data/sample/accounts.csv' CSV HEADER
INSERT INTO leadflow.accounts (org_id, name, domain, owner_rep_id)
SELECT 1, a.name, a.domain, r.rep_id FROM t_accounts a LEFT JOIN leadflow.reps r ON r.org_id = 1 AND r.email = a.owner_email;

CREATE TEMP TABLE t_profiles (domain text, industry text, company_size int, annual_revenue numeric, country text,
                              provider text, priority int, updated_at timestamptz);
\copy t_profiles FROM 'data/sample/company_profiles.csv' CSV HEADER
INSERT INTO leadflow.company_profiles (org_id, domain, industry, company_size, annual_revenue, country, provider, priority, updated_at)
SELECT 1, * FROM t_profiles;

CREATE TEMP TABLE t_spend (source text, month date, amount numeric);
\copy t_spend FROM 'data/sample/source_spend.csv' CSV HEADER
INSERT INTO leadflow.source_spend (org_id, source, month, amount) SELECT 1, * FROM t_spend;

CREATE TEMP TABLE t_rules (position int, name text, mode text, predicate jsonb, assign_to text, target text);
\copy t_rules FROM 'data/sample/routing_rules.csv' CSV HEADER
INSERT INTO leadflow.routing_rules (org_id, position, name, mode, predicate, assign_to, rep_id, team_id)
SELECT 1, r.position, r.name, r.mode, r.predicate, r.assign_to,
       (SELECT rep_id FROM leadflow.reps WHERE org_id = 1 AND email = r.target AND r.assign_to = 'rep'),
       (SELECT team_id FROM leadflow.teams WHERE org_id = 1 AND name = r.target AND r.assign_to = 'team')
  FROM t_rules r;

-- 1. CSV import: \copy into the staging table, then process_import
SET leadflow.org_id = 1;
\copy leadflow.lead_imports (first_name, last_name, email, phone, company, job_title, industry, company_size, annual_revenue, country, state, city, postal_code, source, campaign) FROM 'data/sample/leads_import.csv' CSV HEADER
RESET leadflow.org_id;
\echo
\echo '== CSV import (data/sample/leads_import.csv) =='
SELECT p.* FROM (SELECT DISTINCT batch_id FROM leadflow.lead_imports WHERE org_id = 1) b,
       leadflow.process_import(1, b.batch_id) p;
\echo 'a few rejected rows, each with its error:'
SELECT row_number, left(error, 70) AS error FROM leadflow.lead_imports WHERE org_id = 1 AND error IS NOT NULL
 ORDER BY row_number LIMIT 5;

-- 2. capture(): web forms, Meta Lead Ads and Google Ads webhooks
CREATE TEMP TABLE t_capture (line jsonb);
\copy t_capture FROM 'data/sample/capture.jsonl' WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')
CREATE TEMP TABLE t_capture_result (outcome text, error text);
DO $$
DECLARE
    c record;
    o text;
BEGIN
    FOR c IN SELECT line FROM t_capture LOOP
        BEGIN
            SELECT outcome INTO o FROM leadflow.capture(1, c.line->>'source', c.line->'payload');
            INSERT INTO t_capture_result VALUES (o, NULL);
        EXCEPTION WHEN invalid_parameter_value OR check_violation THEN
            INSERT INTO t_capture_result VALUES ('rejected', SQLERRM);
        END;
    END LOOP;
END
$$;
\echo
\echo '== capture() of data/sample/capture.jsonl =='
SELECT outcome, count(*) AS payloads FROM t_capture_result GROUP BY 1 ORDER BY 1;

-- 3. plain INSERT, as an application would
INSERT INTO leadflow.leads (org_id, first_name, last_name, email, company, job_title, source)
VALUES (1, 'Ada', 'Lovelace', 'ada@analytical-engines.co.uk', 'Analytical Engines', 'CTO', 'referral'),
       (1, 'Ada', 'Lovelace', 'ADA+demo@Analytical-Engines.co.uk', NULL, NULL, 'web_form');

-- behaviour and sales activity, by the lead's email
CREATE TEMP TABLE t_signals (email text, kind text, days_ago int, properties jsonb);
\copy t_signals FROM 'data/sample/signals.csv' CSV HEADER
INSERT INTO leadflow.lead_signals (org_id, lead_id, kind, occurred_at, properties)
SELECT 1, l.lead_id, s.kind, now() - s.days_ago * interval '1 day', s.properties
  FROM t_signals s JOIN leadflow.lead_emails e ON e.org_id = 1 AND e.email_normalized = leadflow.normalize_email(s.email)
  JOIN leadflow.leads l ON l.org_id = 1 AND l.lead_id = e.lead_id;

CREATE TEMP TABLE t_activities (email text, rep_email text, kind text, subject text, minutes_after_creation int, completed boolean);
\copy t_activities FROM 'data/sample/activities.csv' CSV HEADER
INSERT INTO leadflow.activities (org_id, lead_id, rep_id, kind, subject, completed_at)
SELECT 1, e.lead_id, r.rep_id, a.kind, a.subject,
       CASE WHEN a.completed THEN now() + a.minutes_after_creation * interval '1 minute' END
  FROM t_activities a JOIN leadflow.lead_emails e ON e.org_id = 1 AND e.email_normalized = leadflow.normalize_email(a.email)
  LEFT JOIN leadflow.reps r ON r.org_id = 1 AND r.email = a.rep_email;

-- a rep qualifies and converts some of their leads
UPDATE leadflow.leads SET status = 'qualified'
 WHERE org_id = 1 AND status = 'contacted' AND score >= 40;
SELECT count(leadflow.convert_lead(lead_id)) AS converted
  FROM (SELECT lead_id FROM leadflow.leads WHERE org_id = 1 AND status = 'qualified' ORDER BY lead_id LIMIT 40) q \gset
SELECT count(*) AS maintenance_actions FROM leadflow.run_maintenance(1) \gset

\echo
\echo '== funnel (report_funnel) =='
SELECT stage, reached, current, round(pct_of_first, 3) AS pct_of_first
  FROM leadflow.report_funnel WHERE org_id = 1 ORDER BY workflow_id, position;

\echo
\echo '== source performance (report_source_performance) =='
SELECT source, leads, qualified, converted, round(conversion_rate, 3) AS conversion_rate,
       round(spend) AS spend, round(cost_per_lead, 2) AS cost_per_lead
  FROM leadflow.report_source_performance WHERE org_id = 1 ORDER BY leads DESC;

\echo
\echo '== rep performance (report_rep_performance) =='
SELECT r.name AS rep, p.assigned, p.open, p.contacted,
       round(p.median_first_touch_minutes::numeric, 1) AS median_first_touch_minutes, p.qualified, p.converted
  FROM leadflow.report_rep_performance p JOIN leadflow.reps r USING (org_id, rep_id)
 WHERE p.org_id = 1 ORDER BY p.assigned DESC, r.name LIMIT 12;

\echo
\echo '== routing rules (report_routing) =='
SELECT rule_id, name, mode, hits, last_hit IS NOT NULL AS ever_hit
  FROM leadflow.report_routing WHERE org_id = 1 ORDER BY rule_id;

\echo
\echo '== possible duplicates (not merged: phone or similar name at the same company) =='
SELECT reason, count(*) AS pairs, round(avg(similarity)::numeric, 3) AS avg_similarity
  FROM leadflow.possible_duplicates WHERE org_id = 1 GROUP BY reason ORDER BY reason;

\echo
\echo '== one lead''s journey (Ada Lovelace, captured twice) =='
SELECT j.seq, j.kind, j.actor, j.detail
  FROM leadflow.lead_journey j JOIN leadflow.leads l USING (org_id, lead_id)
 WHERE l.org_id = 1 AND l.email = 'ada@analytical-engines.co.uk' ORDER BY j.seq;

\echo
\echo '== journey verification =='
SELECT count(*) AS journey_rows, (SELECT count(*) FROM leadflow.verify_journey(1)) AS broken_links
  FROM leadflow.lead_journey WHERE org_id = 1;
