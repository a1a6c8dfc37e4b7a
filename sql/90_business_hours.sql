-- Business hours: working-time arithmetic (weekends, holidays, split
-- windows, DST changes, time zones) and SLA clocks that count working time.
\set VERBOSITY terse
SET TimeZone = 'UTC';
-- lead ids of this file start at 90001, whatever ran before
SELECT setval(pg_get_serial_sequence('leadflow.leads', 'lead_id'), 90000) \gset

\set berlin '{"time_zone": "Europe/Berlin", "mon": "09:00-17:00", "tue": "09:00-17:00", "wed": "09:00-17:00", "thu": "09:00-17:00", "fri": "09:00-17:00"}'

-- within one working day, and outside the hours
SELECT leadflow.business_minutes('2026-11-16 08:00+00', '2026-11-16 10:30+00', :'berlin') AS monday_morning,
       leadflow.business_minutes('2026-11-16 17:00+00', '2026-11-16 20:00+00', :'berlin') AS monday_evening,
       leadflow.business_minutes('2026-11-16 00:00+00', '2026-11-17 00:00+00', :'berlin') AS whole_monday;
-- Friday 16:00 to Monday 10:00 Berlin time: one hour each side of the weekend
SELECT leadflow.business_minutes('2026-11-20 15:00+00', '2026-11-23 09:00+00', :'berlin') AS over_weekend,
       leadflow.business_minutes('2026-11-21 00:00+00', '2026-11-23 00:00+00', :'berlin') AS weekend_only,
       leadflow.business_minutes('2026-11-16 00:00+00', '2026-11-23 00:00+00', :'berlin') AS one_week;
-- reversed arguments give the negative; NULL hours count around the clock
SELECT leadflow.business_minutes('2026-11-23 09:00+00', '2026-11-20 15:00+00', :'berlin') AS reversed,
       leadflow.business_minutes('2026-11-20 15:00+00', '2026-11-23 09:00+00', NULL) AS around_the_clock,
       leadflow.business_minutes(NULL, '2026-11-23 09:00+00', :'berlin') AS null_from;

-- DST: Berlin moves from CET (UTC+1) to CEST (UTC+2) on 2026-03-29 and back
-- on 2026-10-25.  Friday 16:00 CET to Monday 10:00 CEST is still 2 hours
-- of work, though the UTC offset changed over the weekend.
SELECT leadflow.business_minutes('2026-03-27 15:00+00', '2026-03-30 08:00+00', :'berlin') AS spring_weekend,
       leadflow.business_minutes('2026-10-23 14:00+00', '2026-10-26 09:00+00', :'berlin') AS autumn_weekend;
-- around the clock in Berlin: the day of the spring change has 23 hours,
-- the autumn one 25
SELECT leadflow.business_minutes('2026-03-28 23:00+00', '2026-03-29 22:00+00',
         '{"time_zone": "Europe/Berlin", "sun": "00:00-24:00"}') AS spring_sunday_minutes,
       leadflow.business_minutes('2026-10-24 22:00+00', '2026-10-25 23:00+00',
         '{"time_zone": "Europe/Berlin", "sun": "00:00-24:00"}') AS autumn_sunday_minutes;
-- a window is local time on each side of the change: 09:00 is 08:00 UTC in
-- summer and 09:00 UTC in winter (Europe/London)
SELECT leadflow.business_deadline('2026-10-23 07:00+00', '1 hour', '{"time_zone": "Europe/London", "fri": "09:00-17:00", "mon": "09:00-17:00"}') AS friday_bst,
       leadflow.business_deadline('2026-10-24 07:00+00', '1 hour', '{"time_zone": "Europe/London", "fri": "09:00-17:00", "mon": "09:00-17:00"}') AS monday_gmt;

-- time zones: the same UTC span is a different amount of work in each
SELECT z, leadflow.business_minutes('2026-11-16 12:00+00', '2026-11-16 23:00+00',
          pg_catalog.jsonb_build_object('time_zone', z, 'mon', '09:00-17:00')) AS minutes
  FROM unnest(ARRAY['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'Asia/Kolkata']) z;

-- split windows and holidays
SELECT leadflow.business_minutes('2026-11-20 00:00+00', '2026-11-21 00:00+00',
         '{"time_zone": "UTC", "fri": ["13:00-17:00", "08:00-12:00"]}') AS split_friday,
       leadflow.business_minutes('2026-12-21 00:00+00', '2026-12-28 00:00+00',
         '{"time_zone": "UTC", "mon": "09:00-17:00", "tue": "09:00-17:00", "wed": "09:00-17:00", "thu": "09:00-17:00", "fri": "09:00-17:00", "holidays": ["2026-12-24", "2026-12-25"]}') AS christmas_week;

-- deadlines: 2 working hours from Friday 16:00 Berlin are Monday 10:00
SELECT leadflow.business_deadline('2026-11-20 15:00+00', '2 hours', :'berlin') AS due,
       leadflow.business_deadline('2026-11-21 12:00+00', '30 minutes', :'berlin') AS due_from_saturday,
       leadflow.business_deadline('2026-11-20 15:00+00', '2 hours', NULL) AS due_around_the_clock;
-- deadline and minutes agree
SELECT leadflow.business_minutes('2026-11-18 16:45+00',
         leadflow.business_deadline('2026-11-18 16:45+00', '20 hours', :'berlin'), :'berlin') AS minutes_to_deadline;

-- bad business hours name the key and the value
SELECT leadflow.business_minutes(now(), now(), '{"time_zone": "Europe/Berln", "mon": "09:00-17:00"}');
SELECT leadflow.business_minutes(now(), now(), '{"time_zone": "UTC", "mnday": "09:00-17:00"}');
SELECT leadflow.business_minutes(now(), now(), '{"time_zone": "UTC", "mon": "17:00-09:00"}');
SELECT leadflow.business_minutes(now(), now(), '{"time_zone": "UTC", "mon": "9-5"}');
SELECT leadflow.business_minutes(now(), now(), '{"time_zone": "UTC", "mon": ["09:00-13:00", "12:00-17:00"]}');
SELECT leadflow.business_minutes(now(), now(), '{"mon": "09:00-17:00"}');
SELECT leadflow.business_minutes(now(), now(), '{"time_zone": "UTC"}');
SELECT leadflow.business_minutes(now(), now(), '{"time_zone": "UTC", "mon": "09:00-17:00", "holidays": ["2026-02-30"]}');
SELECT leadflow.business_minutes(now(), now(), '["mon"]');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.business_deadline(now(), '-1 hour', :'berlin');

-- SLA policies with business hours
INSERT INTO leadflow.orgs (org_id, name) VALUES (90, 'Business Hours Org');
INSERT INTO leadflow.teams (org_id, team_id, name) VALUES (90, 901, 'Berlin');
INSERT INTO leadflow.reps (org_id, rep_id, team_id, name) VALUES (90, 9001, 901, 'Anna'), (90, 9002, 901, 'Ben');
INSERT INTO leadflow.routing_rules (org_id, position, name, assign_to, team_id) VALUES (90, 1, 'All', 'team', 901);
UPDATE leadflow.sla_policies SET business_hours = :'berlin', first_touch_within = '1 hour', reassign_after = '2 hours'
 WHERE org_id = 90 AND source = 'trade_show';
UPDATE leadflow.sla_policies SET business_hours = '{"time_zone": "UTC", "mon": "25:00-26:00"}' WHERE org_id = 90 AND source IS NULL;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- two leads assigned on Friday 16:00 Berlin time: one with the business
-- hours policy (trade_show), one with the plain 72-hour default
INSERT INTO leadflow.leads (org_id, email, source) VALUES
  (90, 'fair@visitor.example', 'trade_show'),      -- 90001
  (90, 'plain@visitor.example', 'referral');       -- 90002
UPDATE leadflow.leads SET created_at = '2026-11-20 15:00+00', assigned_at = '2026-11-20 15:00+00' WHERE org_id = 90;
SELECT lead_id, owner_rep_id IS NOT NULL AS owned, first_touch_due_at
  FROM leadflow.report_lead_aging WHERE org_id = 90 ORDER BY lead_id;
-- Saturday: only one working hour has passed, nothing is overdue
SELECT * FROM leadflow.run_maintenance(90, '2026-11-21 12:00+00') WHERE action = 'sla_reassigned';
-- Monday 10:30 Berlin: 2.5 working hours, the trade-show lead is reassigned;
-- the referral lead (72 hours around the clock) is not due yet
SELECT * FROM leadflow.run_maintenance(90, '2026-11-23 09:30+00') WHERE action = 'sla_reassigned';
SELECT lead_id, detail->>'reason' AS reason FROM leadflow.lead_journey
 WHERE org_id = 90 AND kind = 'routed' AND detail->>'reason' = 'sla_breach' ORDER BY lead_id;
-- Monday 16:00 UTC: 73 hours, the referral lead too; and the trade-show
-- lead again, its new owner (since 09:30 UTC) let 2 working hours pass
SELECT * FROM leadflow.run_maintenance(90, '2026-11-23 16:00+00') WHERE action = 'sla_reassigned';
SELECT * FROM leadflow.verify_journey(90);
