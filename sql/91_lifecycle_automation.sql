-- Lifecycle automation: bulk reassignment, bounces, consent, nurture and
-- recycling.  Times are relative to :t0 (a day from now) and never shown.
\set VERBOSITY terse
-- lead ids of this file start at 91001, whatever ran before
SELECT setval(pg_get_serial_sequence('leadflow.leads', 'lead_id'), 91000) \gset
SELECT now() + interval '1 day' AS t0 \gset
INSERT INTO leadflow.orgs (org_id, name, settings) VALUES (91, 'Lifecycle Org', '{"nurture_after_attempts": 3}');
INSERT INTO leadflow.teams (org_id, team_id, name) VALUES (91, 911, 'Inside');
INSERT INTO leadflow.reps (org_id, rep_id, team_id, name) VALUES
  (91, 9101, 911, 'Ada'), (91, 9102, 911, 'Bo'), (91, 9103, 911, 'Cy');
INSERT INTO leadflow.routing_rules (org_id, position, name, assign_to, team_id) VALUES (91, 1, 'All', 'team', 911);

------------------------------------------------------------------------------
-- Bulk reassignment
------------------------------------------------------------------------------
-- nine leads, round robin: three each (free-mail addresses, no company
-- affinity)
INSERT INTO leadflow.leads (org_id, email, job_title, company_size)
SELECT 91, 'person' || g || '@gmail.com', 'VP Sales', 5000 FROM generate_series(1, 9) g;
SELECT owner_rep_id, count(*) FROM leadflow.leads WHERE org_id = 91 GROUP BY 1 ORDER BY 1;
-- one of Ada's leads is converted, one archived: they stay hers
SELECT leadflow.convert_lead(91001) IS NOT NULL AS converted;
UPDATE leadflow.leads SET status = 'archived', archive_reason = 'test' WHERE lead_id = 91004;
-- Ada leaves: her one open lead goes to Bo or Cy, in one call
UPDATE leadflow.reps SET active = false WHERE org_id = 91 AND rep_id = 9101;
SELECT * FROM leadflow.reassign_rep_leads(9101, 'rep_left');
SELECT lead_id, status, owner_rep_id <> 9101 AS moved FROM leadflow.leads
 WHERE org_id = 91 AND lead_id IN (91001, 91004, 91007) ORDER BY lead_id;
SELECT lead_id, kind, detail->>'reason' AS reason, (detail->>'rep_id')::bigint <> 9101 AS not_ada
  FROM leadflow.lead_journey WHERE org_id = 91 AND kind = 'routed' AND detail->>'reason' = 'rep_left' ORDER BY lead_id;
-- Bo moves territory: his three leads go to Cy (Ada is inactive)
SELECT * FROM leadflow.reassign_rep_leads(9102, 'territory_change');
SELECT owner_rep_id, count(*) AS open_leads FROM leadflow.leads
 WHERE org_id = 91 AND status IN ('new', 'contacted', 'qualified', 'nurture') GROUP BY 1 ORDER BY 1;
SELECT rep_id, open_leads FROM leadflow.rep_load WHERE org_id = 91 ORDER BY rep_id;
-- nothing left to move
SELECT * FROM leadflow.reassign_rep_leads(9102, 'territory_change');
-- refused input
SELECT * FROM leadflow.reassign_rep_leads(999999, 'rep_left');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT * FROM leadflow.reassign_rep_leads(9103, '');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
UPDATE leadflow.reps SET active = true WHERE org_id = 91;

------------------------------------------------------------------------------
-- Bounces and consent
------------------------------------------------------------------------------
CREATE TEMP TABLE before_bounce AS SELECT last_activity_at FROM leadflow.leads WHERE lead_id = 91002;
INSERT INTO leadflow.lead_signals (org_id, lead_id, kind, properties) VALUES (91, 91002, 'email_bounce', '{"type": "hard"}');
-- the mail system answered, not the lead: no activity
SELECT l.last_activity_at IS NOT DISTINCT FROM b.last_activity_at AS activity_unmoved
  FROM leadflow.leads l, before_bounce b WHERE l.lead_id = 91002;
SELECT lead_id, email_status, email_bounced_at IS NOT NULL AS bounced FROM leadflow.leads WHERE lead_id = 91002;
SELECT lead_id, status FROM leadflow.bounce_review_queue WHERE org_id = 91 ORDER BY lead_id;
SELECT j.kind, j.detail->>'bounce_type' AS bounce_type, (j.detail->>'signal_id')::bigint = s.signal_id AS names_signal
  FROM leadflow.lead_journey j, leadflow.lead_signals s
 WHERE j.lead_id = 91002 AND j.kind = 'email_bounced' AND s.lead_id = 91002 AND s.kind = 'email_bounce';
-- other signals leave email_status alone
INSERT INTO leadflow.lead_signals (org_id, lead_id, kind) VALUES (91, 91003, 'email_open');
SELECT email_status FROM leadflow.leads WHERE lead_id = 91003;

-- consent per lead and channel
INSERT INTO leadflow.consents (org_id, lead_id, channel, basis, source) VALUES
  (91, 91002, 'email', 'consent', 'web form'),
  (91, 91003, 'email', 'consent', 'double opt-in'),
  (91, 91005, 'email', 'legitimate_interest', 'trade show'),
  (91, 91005, 'phone', 'consent', 'trade show');
SELECT lead_id, kind, detail->>'channel' AS channel FROM leadflow.lead_journey
 WHERE org_id = 91 AND kind LIKE 'consent%' ORDER BY lead_id, seq;
-- one standing consent per lead and channel; refused channel and basis
INSERT INTO leadflow.consents (org_id, lead_id, channel) VALUES (91, 91003, 'email');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
INSERT INTO leadflow.consents (org_id, lead_id, channel) VALUES (91, 91003, 'pigeon');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
DELETE FROM leadflow.consents WHERE lead_id = 91005;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT l, leadflow.may_email(91, l, :'t0') FROM unnest(ARRAY[91002, 91003, 91005, 91006]) l;

------------------------------------------------------------------------------
-- Nurture: 3 unanswered attempts (org setting) move a lead to nurture
------------------------------------------------------------------------------
-- 91002 (bounced), 91003, 91005, 91006: three calls each; 91008: three
-- calls but a reply after the second; 91009: two calls
INSERT INTO leadflow.activities (org_id, lead_id, rep_id, kind, completed_at)
SELECT 91, l, 9103, 'call', now() - (a || ' hours')::interval
  FROM unnest(ARRAY[91002, 91003, 91005, 91006, 91008]) l, generate_series(1, 3) a;
INSERT INTO leadflow.activities (org_id, lead_id, rep_id, kind, completed_at)
SELECT 91, 91009, 9103, 'call', now() - (a || ' hours')::interval FROM generate_series(1, 2) a;
INSERT INTO leadflow.lead_signals (org_id, lead_id, kind, occurred_at) VALUES (91, 91008, 'reply', now() - interval '90 minutes');
SELECT * FROM leadflow.run_maintenance(91, :'t0') WHERE action LIKE 'nurture%';
SELECT lead_id, status, email_status FROM leadflow.leads WHERE org_id = 91 AND lead_id IN (91002, 91003, 91005, 91006, 91008, 91009) ORDER BY lead_id;
SELECT lead_id, detail FROM leadflow.lead_journey WHERE org_id = 91 AND kind = 'nurture_entered' ORDER BY lead_id;
-- the welcome step for leads that may be emailed: not 91002 (bounced), not
-- 91006 (no consent)
SELECT lead_id, step, step_days, due_at = nurture_started_at AS due_on_entry FROM leadflow.nurture_queue
 WHERE org_id = 91 ORDER BY lead_id, step_days;
-- the same as_of again changes nothing
SELECT * FROM leadflow.run_maintenance(91, :'t0') WHERE action LIKE 'nurture%' AND leads <> 0;
-- 8 days later: the educational step
SELECT * FROM leadflow.run_maintenance(91, :'t0'::timestamptz + interval '8 days') WHERE action LIKE 'nurture%';
SELECT lead_id, step, step_days, due_at - nurture_started_at AS after FROM leadflow.nurture_queue
 WHERE org_id = 91 ORDER BY lead_id, step_days;

-- the mailer marks the welcome mails sent; journaled
UPDATE leadflow.nurture_queue SET sent_at = :'t0' WHERE org_id = 91 AND step = 'welcome';
SELECT lead_id, kind, detail->>'step' AS step FROM leadflow.lead_journey WHERE org_id = 91 AND kind = 'nurture_sent' ORDER BY lead_id;
UPDATE leadflow.nurture_queue SET sent_at = now() WHERE org_id = 91 AND step = 'welcome' AND lead_id = 91003;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
UPDATE leadflow.nurture_queue SET step = 'other' WHERE org_id = 91 AND lead_id = 91003 AND step = 'educational';
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- 91005 withdraws email consent: its pending mail is cancelled at once
UPDATE leadflow.consents SET withdrawn_at = now() WHERE lead_id = 91005 AND channel = 'email';
SELECT lead_id, step, sent_at IS NOT NULL AS sent, cancel_reason FROM leadflow.nurture_queue
 WHERE org_id = 91 ORDER BY lead_id, step_days;
SELECT lead_id, kind, detail->>'channel' AS channel FROM leadflow.lead_journey WHERE org_id = 91 AND kind = 'consent_withdrawn';
-- a withdrawal stays
UPDATE leadflow.consents SET withdrawn_at = NULL WHERE lead_id = 91005 AND channel = 'email';
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
-- a cancelled item is never sent
UPDATE leadflow.nurture_queue SET sent_at = now() WHERE lead_id = 91005 AND step = 'educational';
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
-- an org that does not require consent: only a withdrawal excludes
UPDATE leadflow.orgs SET settings = settings || '{"nurture_requires_consent": false}' WHERE org_id = 91;
SELECT l, leadflow.may_email(91, l) FROM unnest(ARRAY[91005, 91006]) l;
UPDATE leadflow.orgs SET settings = settings || '{"nurture_requires_consent": true}' WHERE org_id = 91;

------------------------------------------------------------------------------
-- Recycling: a lead in nurture that turns hot comes back as contacted
------------------------------------------------------------------------------
-- 35 points of fit, then a meeting (engagement, capped at 20) and two forms
-- (behavioral 20): 75 crosses hot_at 70 on the last signal
INSERT INTO leadflow.lead_signals (org_id, lead_id, kind) VALUES
  (91, 91003, 'meeting_booked'), (91, 91003, 'form_submit'), (91, 91003, 'form_submit');
SELECT lead_id, status, temperature, owner_rep_id, recycled_at IS NOT NULL AS recycled FROM leadflow.leads WHERE lead_id = 91003;
SELECT kind, detail->>'from_status' AS from_status, detail->>'to_status' AS to_status, detail->>'to' AS "to"
  FROM leadflow.lead_journey WHERE lead_id = 91003 AND kind IN ('stage_changed', 'recycled') ORDER BY seq;
-- an inactive owner: the lead is routed to someone else
UPDATE leadflow.reps SET active = false WHERE org_id = 91 AND rep_id = 9103;
INSERT INTO leadflow.lead_signals (org_id, lead_id, kind) VALUES
  (91, 91006, 'meeting_booked'), (91, 91006, 'form_submit'), (91, 91006, 'form_submit');
SELECT lead_id, status, owner_rep_id IN (9101, 9102) AS rerouted FROM leadflow.leads WHERE lead_id = 91006;
SELECT kind, detail->>'reason' AS reason FROM leadflow.journey_events WHERE lead_id = 91006 AND kind IN ('recycled', 'routed') ORDER BY seq, step;
UPDATE leadflow.reps SET active = true WHERE org_id = 91 AND rep_id = 9103;
-- the recycled lead's pending mail is cancelled; its attempts do not count again
SELECT * FROM leadflow.run_maintenance(91, :'t0'::timestamptz + interval '9 days') WHERE action LIKE 'nurture%';
SELECT lead_id, step, cancel_reason FROM leadflow.nurture_queue WHERE org_id = 91 AND cancelled_at IS NOT NULL ORDER BY lead_id, step_days;
SELECT lead_id, status FROM leadflow.leads WHERE lead_id IN (91003, 91006) ORDER BY lead_id;

-- a new email address has not bounced
UPDATE leadflow.leads SET email = 'fixed@example.com' WHERE lead_id = 91002;
SELECT lead_id, email_status FROM leadflow.leads WHERE lead_id = 91002;

-- consent follows the person: a withdrawal on a lead merged into another
-- stops email to the survivor too
SELECT leadflow.may_email(91, 91003) AS before_merge;
INSERT INTO leadflow.consents (org_id, lead_id, channel, source) VALUES (91, 91009, 'email', 'form');
UPDATE leadflow.consents SET withdrawn_at = now() WHERE lead_id = 91009 AND channel = 'email';
SELECT leadflow.merge_leads(91003, 91009) IS NOT NULL AS merged;
SELECT leadflow.may_email(91, 91003) AS after_merge;

-- settings are checked
UPDATE leadflow.orgs SET settings = '{"nurture_after_attempts": 0}' WHERE org_id = 91;
UPDATE leadflow.orgs SET settings = '{"nurture_schedule": {"welcome": "soon"}}' WHERE org_id = 91;
SELECT * FROM leadflow.verify_journey(91);
