-- The event outbox: every event kind written by its cause in the causing
-- transaction, none after a rollback (also of a savepoint), the consumer
-- function, retention, and two-phase commit (PREPARE TRANSACTION works:
-- the NOTIFY wake-up is queued at an ordinary commit only).
\set VERBOSITY terse
-- lead ids of this file start at 88001, whatever ran before
SELECT setval(pg_get_serial_sequence('leadflow.leads', 'lead_id'), 88000) \gset
INSERT INTO leadflow.orgs (org_id, name, settings) VALUES (88, 'Events Org', '{"account_hot_at": 60}');
INSERT INTO leadflow.teams (org_id, team_id, name) VALUES (88, 881, 'Inbound');
INSERT INTO leadflow.reps (org_id, rep_id, team_id, name) VALUES (88, 8801, 881, 'Ada'), (88, 8802, 881, 'Bo');
INSERT INTO leadflow.routing_rules (org_id, position, name, assign_to, team_id) VALUES (88, 1, 'All', 'team', 881);
UPDATE leadflow.scoring_models SET warm_at = 20, hot_at = 30, escalate_at = 40 WHERE org_id = 88;

-- created, assigned, hot, escalated for a CEO (in that order)
INSERT INTO leadflow.leads (org_id, email, job_title, company_size, source)
VALUES (88, 'ceo@events.example', 'CEO', 2000, 'web_form');       -- 88001
SELECT event, lead_id, rep_id, detail - 'stage_id' - 'rule_id' AS detail FROM leadflow.events WHERE org_id = 88 ORDER BY event_id;
-- a duplicate: merged, for the survivor and its owner
INSERT INTO leadflow.leads (org_id, email) VALUES (88, 'CEO@events.example');   -- 88002
SELECT event, lead_id, rep_id, detail FROM leadflow.events WHERE org_id = 88 AND event = 'merged';
-- a move: status_changed and stage_changed
UPDATE leadflow.leads SET status = 'contacted' WHERE lead_id = 88001;
SELECT event, lead_id, rep_id, detail - 'from_stage_id' - 'to_stage_id' AS detail
  FROM leadflow.events WHERE org_id = 88 AND event IN ('status_changed', 'stage_changed') ORDER BY event_id;
-- reassign_lead: reassigned from the old owner
SELECT leadflow.reassign_lead(88001, 'rep_left') AS new_owner;
SELECT event, lead_id, rep_id, detail - 'rule_id' AS detail FROM leadflow.events WHERE org_id = 88 AND event = 'reassigned';
-- an owner set by hand
INSERT INTO leadflow.leads (org_id, email, source) VALUES (88, 'second@events.example', 'web_form');  -- 88003
UPDATE leadflow.leads SET owner_rep_id = 8801 WHERE lead_id = 88003 AND owner_rep_id <> 8801;
UPDATE leadflow.leads SET owner_rep_id = 8802 WHERE lead_id = 88003;
SELECT event, lead_id, rep_id, detail FROM leadflow.events
 WHERE org_id = 88 AND lead_id = 88003 AND event IN ('assigned', 'reassigned') ORDER BY event_id;
-- manual merge: both owners named
SELECT leadflow.merge_leads(88001, 88003) IS NOT NULL AS merged;
SELECT event, lead_id, rep_id, detail FROM leadflow.events WHERE org_id = 88 AND event = 'merged' ORDER BY event_id;
-- conversion
SELECT leadflow.convert_lead(88001, 'Deal', 1000) IS NOT NULL AS converted;
SELECT event, lead_id, detail FROM leadflow.events WHERE org_id = 88 AND event IN ('converted', 'status_changed')
 ORDER BY event_id DESC LIMIT 2;
-- a bounce
INSERT INTO leadflow.leads (org_id, email, job_title) VALUES (88, 'third@events.example', 'Director');  -- 88004
INSERT INTO leadflow.lead_signals (org_id, lead_id, kind, properties) VALUES (88, 88004, 'email_bounce', '{"type": "hard"}');
SELECT event, lead_id, rep_id IS NOT NULL AS told, detail ? 'signal_id' AS has_signal FROM leadflow.events
 WHERE org_id = 88 AND event = 'bounced';
-- maintenance: sla_breach (owned, untouched, overdue), escalated after a
-- model change, account_hot (events.example turns hot)
UPDATE leadflow.scoring_models SET escalate_at = 10 WHERE org_id = 88;
SELECT action, leads FROM leadflow.run_maintenance(88, now() + interval '4 days')
 WHERE action IN ('escalated', 'sla_reassigned', 'account_hot');
SELECT event, count(*) FROM leadflow.events WHERE org_id = 88 AND event IN ('sla_breach', 'account_hot', 'escalated')
 GROUP BY event ORDER BY event;

-- a returning person: reactivated
UPDATE leadflow.leads SET status = 'archived', archive_reason = 'bounced' WHERE lead_id = 88004;
INSERT INTO leadflow.leads (org_id, email, source) VALUES (88, 'third@events.example', 'webinar');
SELECT event, lead_id, detail ->> 'from_status' AS from_status, detail ->> 'source' AS source
  FROM leadflow.events WHERE org_id = 88 AND event = 'reactivated';

-- every kind of the catalogue has been emitted by its cause
SELECT k AS missing FROM unnest(ARRAY['created', 'merged', 'assigned', 'reassigned', 'status_changed',
        'stage_changed', 'hot', 'escalated', 'sla_breach', 'converted', 'account_hot', 'bounced',
        'reactivated']) k
EXCEPT SELECT event FROM leadflow.events WHERE org_id = 88;
-- details carry ids and codes only: no email, no name
SELECT count(*) AS personal FROM leadflow.events WHERE org_id = 88 AND detail::text ~* '@|ceo|ada|events\.example';

-- nothing after a rollback, of a transaction or of a savepoint
SELECT count(*) AS before FROM leadflow.events WHERE org_id = 88 \gset
BEGIN;
INSERT INTO leadflow.leads (org_id, lead_id, email, job_title, company_size) VALUES (88, 88100, 'gone@events.example', 'CEO', 2000);
INSERT INTO leadflow.lead_signals (org_id, lead_id, kind) VALUES (88, 88100, 'email_bounce');
SELECT count(*) > 0 AS visible_inside FROM leadflow.events WHERE org_id = 88 AND lead_id = 88100;
ROLLBACK;
SELECT count(*) - :before AS after_rollback FROM leadflow.events WHERE org_id = 88;
BEGIN;
SAVEPOINT s;
INSERT INTO leadflow.leads (org_id, lead_id, email) VALUES (88, 88101, 'sp1@events.example');
ROLLBACK TO SAVEPOINT s;
INSERT INTO leadflow.leads (org_id, lead_id, email) VALUES (88, 88102, 'sp2@events.example');
SAVEPOINT t;
UPDATE leadflow.leads SET status = 'contacted' WHERE lead_id = 88102;
RELEASE SAVEPOINT t;
COMMIT;
SELECT lead_id, event FROM leadflow.events WHERE org_id = 88 AND lead_id IN (88101, 88102) ORDER BY event_id;
-- an outer event still waiting when a savepoint's statement writes it, and
-- the savepoint rolls back: written again at commit, not lost
BEGIN;
INSERT INTO leadflow.lead_signals (org_id, lead_id, kind) VALUES (88, 88102, 'email_bounce');
SAVEPOINT u;
INSERT INTO leadflow.leads (org_id, lead_id, email) VALUES (88, 88103, 'sp3@events.example');
ROLLBACK TO SAVEPOINT u;
COMMIT;
SELECT lead_id, event FROM leadflow.events WHERE org_id = 88 AND lead_id IN (88102, 88103) AND event IN ('bounced', 'created')
 ORDER BY event_id;

-- the consumer: pages of events_after cover every event once, in order
CREATE TEMP TABLE seen AS SELECT * FROM leadflow.events_after(88, NULL, 5);
DO $$
DECLARE
    pos text;
    n int;
BEGIN
    LOOP
        SELECT s.position INTO pos FROM seen s ORDER BY split_part(s.position, ':', 1)::xid8 DESC, s.event_id DESC LIMIT 1;
        INSERT INTO seen SELECT * FROM leadflow.events_after(88, pos, 5);
        GET DIAGNOSTICS n = ROW_COUNT;
        EXIT WHEN n = 0;
    END LOOP;
END
$$;
SELECT (SELECT count(*) FROM seen) = (SELECT count(*) FROM leadflow.events WHERE org_id = 88) AS all_seen,
       (SELECT count(DISTINCT event_id) FROM seen) = (SELECT count(*) FROM seen) AS once_each;
SELECT * FROM leadflow.events_after(88, 'x:1');
SELECT * FROM leadflow.events_after(88, NULL, 0);
-- another org's events are not among them
SELECT count(*) AS other_org FROM leadflow.events_after(1, NULL, 100000) a JOIN seen s USING (event_id);

-- two-phase commit: PREPARE works; COMMIT PREPARED and ROLLBACK PREPARED
-- leave leads, journey, routing state and events as a commit or rollback
CREATE TEMP TABLE state_before AS
SELECT (SELECT count(*) FROM leadflow.leads WHERE org_id = 88) AS leads,
       (SELECT count(*) FROM leadflow.lead_journey WHERE org_id = 88) AS journey,
       (SELECT count(*) FROM leadflow.events WHERE org_id = 88) AS events,
       (SELECT string_agg(rep_id || '=' || open_leads, ',' ORDER BY rep_id) FROM leadflow.rep_load WHERE org_id = 88) AS load,
       (SELECT string_agg(team_id || '=' || last_rep_id, ',' ORDER BY team_id) FROM leadflow.team_rotation WHERE org_id = 88) AS rotation;
BEGIN;
INSERT INTO leadflow.leads (org_id, lead_id, email, job_title, company_size) VALUES (88, 88200, 'xa1@events.example', 'CEO', 2000);
PREPARE TRANSACTION 'leadflow_events_rollback';
ROLLBACK PREPARED 'leadflow_events_rollback';
SELECT (SELECT count(*) FROM leadflow.leads WHERE org_id = 88) = b.leads AS leads_same,
       (SELECT count(*) FROM leadflow.lead_journey WHERE org_id = 88) = b.journey AS journey_same,
       (SELECT count(*) FROM leadflow.events WHERE org_id = 88) = b.events AS events_same,
       (SELECT string_agg(rep_id || '=' || open_leads, ',' ORDER BY rep_id) FROM leadflow.rep_load WHERE org_id = 88) = b.load AS load_same,
       (SELECT string_agg(team_id || '=' || last_rep_id, ',' ORDER BY team_id) FROM leadflow.team_rotation WHERE org_id = 88) = b.rotation AS rotation_same
  FROM state_before b;
BEGIN;
INSERT INTO leadflow.leads (org_id, lead_id, email, job_title, company_size) VALUES (88, 88201, 'xa2@events.example', 'CEO', 2000);
PREPARE TRANSACTION 'leadflow_events_commit';
-- prepared, not committed: nothing visible yet, and the consumer waits
SELECT count(*) AS visible_before_commit FROM leadflow.events WHERE org_id = 88 AND lead_id = 88201;
COMMIT PREPARED 'leadflow_events_commit';
SELECT lead_id, status, owner_rep_id IS NOT NULL AS owned FROM leadflow.leads WHERE lead_id = 88201;
SELECT event FROM leadflow.events WHERE org_id = 88 AND lead_id = 88201 ORDER BY event_id;
SELECT count(*) > 0 AS journeyed FROM leadflow.lead_journey WHERE org_id = 88 AND lead_id = 88201;
SELECT * FROM leadflow.verify_journey(88);
SELECT (SELECT sum(open_leads) FROM leadflow.rep_load WHERE org_id = 88)
     = (SELECT count(*) FROM leadflow.leads WHERE org_id = 88 AND merged_into IS NULL AND owner_rep_id IS NOT NULL
           AND status = ANY (leadflow.open_statuses())) AS load_counts_right;
-- the consumer returns the committed prepared transaction's events after its cursor
SELECT event FROM leadflow.events_after(88, (SELECT s.position FROM seen s ORDER BY split_part(s.position, ':', 1)::xid8 DESC, s.event_id DESC LIMIT 1), 100)
 WHERE lead_id = 88201 ORDER BY event_id;

-- retention: events older than event_retention go
UPDATE leadflow.orgs SET settings = settings || '{"event_retention": "forever"}' WHERE org_id = 88;
UPDATE leadflow.orgs SET settings = settings || '{"event_retention": "1 minute"}' WHERE org_id = 88;
UPDATE leadflow.orgs SET settings = settings || '{"event_retention": "2 hours"}' WHERE org_id = 88;
SELECT now() AS t_ret \gset
SELECT leads AS deleted_within FROM leadflow.run_maintenance(88, now() + interval '1 hour') WHERE action = 'events_deleted';
SELECT leads > 0 AS deleted_older FROM leadflow.run_maintenance(88, now() + interval '3 hours') WHERE action = 'events_deleted';
SELECT count(*) AS kept FROM leadflow.events WHERE org_id = 88 AND occurred_at <= :'t_ret';
