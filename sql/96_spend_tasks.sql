-- Spend matched to leads by month (report_source_performance) and the
-- task_due event of maintenance (org 45).
\set VERBOSITY terse
SELECT setval(pg_get_serial_sequence('leadflow.leads', 'lead_id'), 45000) \gset
INSERT INTO leadflow.orgs (org_id, name) VALUES (45, 'Spend Org');
INSERT INTO leadflow.reps (org_id, rep_id, name) VALUES (45, 451, 'Ria'), (45, 452, 'Rob');
INSERT INTO leadflow.routing_rules (org_id, position, name, predicate, assign_to, rep_id)
VALUES (45, 10, 'All to Ria', '{"all": []}', 'rep', 451);

-- ads: 4 leads submitted in January, 2 in February, 4 in March; spend for
-- January (1000) and March (600) only, and for April (300) without leads
INSERT INTO leadflow.leads (org_id, email, source, submitted_at)
SELECT 45, 'ads' || g || '@spend.example', 'ads',
       CASE WHEN g <= 4 THEN timestamptz '2026-01-15 12:00' WHEN g <= 6 THEN timestamptz '2026-02-15 12:00'
            ELSE timestamptz '2026-03-15 12:00' END
  FROM generate_series(1, 10) g;
-- events: 5 leads in January, no spend recorded at all
INSERT INTO leadflow.leads (org_id, email, source, submitted_at)
SELECT 45, 'ev' || g || '@spend.example', 'events', timestamptz '2026-01-20 12:00' FROM generate_series(1, 5) g;
INSERT INTO leadflow.source_spend (org_id, source, month, amount) VALUES
  (45, 'ads', '2026-01-01', 1000), (45, 'ads', '2026-03-01', 600), (45, 'ads', '2026-04-01', 300);
-- one January lead and one February lead qualified and converted; the
-- January one won 5000, the February one (no spend that month) won 7000
UPDATE leadflow.leads SET status = 'qualified' WHERE org_id = 45 AND email IN ('ads1@spend.example', 'ads5@spend.example');
SELECT leadflow.convert_lead(lead_id, amount => CASE WHEN email = 'ads1@spend.example' THEN 5000 ELSE 7000 END,
                             stage => 'Won') IS NOT NULL AS converted
  FROM leadflow.leads WHERE org_id = 45 AND email IN ('ads1@spend.example', 'ads5@spend.example') ORDER BY lead_id;
SELECT source, leads, matched_leads, qualified, converted, won, spend, revenue,
       round(cost_per_lead, 2) AS cost_per_lead, round(cost_per_qualified, 2) AS cost_per_qualified,
       round(cost_per_converted, 2) AS cost_per_converted, round(roi, 4) AS roi
  FROM leadflow.report_source_performance WHERE org_id = 45 ORDER BY source;
-- by hand: 1900 spent over the 8 leads of January, March (and April: none);
-- revenue of those months 5000: roi (5000 - 1900) / 1900
SELECT round(1900 / 8.0, 2) AS expected_cost_per_lead, round((5000 - 1900) / 1900.0, 4) AS expected_roi;

-- task_due: once per task, when it falls due
INSERT INTO leadflow.activities (org_id, lead_id, rep_id, kind, subject, due_at, completed_at)
SELECT 45, l.lead_id, t.rep_id, 'task', t.subject, now() + t.due, t.done
  FROM leadflow.leads l,
       (VALUES (451, 'overdue', interval '-1 day', NULL::timestamptz),
               (NULL, 'soon', interval '30 minutes', NULL),
               (452, 'later', interval '2 hours', NULL),
               (452, 'done', interval '-2 days', now()),
               (451, 'no due date', NULL, NULL)) t(rep_id, subject, due, done)
 WHERE l.org_id = 45 AND l.email = 'ads2@spend.example';
SELECT action, leads FROM leadflow.run_maintenance(45, now() + interval '1 hour') WHERE action = 'task_due';
SELECT action, leads FROM leadflow.run_maintenance(45, now() + interval '1 hour') WHERE action = 'task_due';
SELECT action, leads FROM leadflow.run_maintenance(45, now() + interval '3 hours') WHERE action = 'task_due';
SELECT action, leads FROM leadflow.run_maintenance(45, now() + interval '3 days') WHERE action = 'task_due';
SELECT e.event, a.subject, e.rep_id, e.lead_id = a.lead_id AS same_lead, count(*) OVER (PARTITION BY a.activity_id) AS times
  FROM leadflow.events e JOIN leadflow.activities a ON a.org_id = e.org_id AND a.activity_id = (e.detail->>'activity_id')::bigint
 WHERE e.org_id = 45 AND e.event = 'task_due' ORDER BY e.event_id;
SELECT subject, due_event_at IS NOT NULL AS event_sent FROM leadflow.activities WHERE org_id = 45 ORDER BY activity_id;
