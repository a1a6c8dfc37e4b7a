-- The journey: appends, the hash chain, verification, tamper detection and
-- the refused operations (42501 for everyone, also as replica).
\set VERBOSITY terse
-- lead ids of this file start at 50001, whatever ran before
SELECT setval(pg_get_serial_sequence('leadflow.leads', 'lead_id'), 50000) \gset

INSERT INTO leadflow.orgs (org_id, name) VALUES (50, 'Journey Org');
INSERT INTO leadflow.leads (org_id, email, source) VALUES (50, 'ann@journey.test', 'web_form')
RETURNING lead_id AS lead \gset

-- an insert writes a created row, seq 1, no prev_hash, signed by the session
-- user; then the pipeline's own steps (here: scored)
SELECT seq, kind, actor = session_user AS by_session_user, detail ? 'source' AS has_source,
       prev_hash IS NULL AS first, length(hash) AS hash_bytes
  FROM leadflow.lead_journey WHERE org_id = 50 AND lead_id = :lead;

-- apps and agents sign their own steps
SET leadflow.actor = 'agent:lead-scoring';
SELECT leadflow.append_journey(:lead, 'note', '{"rule_id": 7, "points": 5}');
RESET leadflow.actor;
SELECT leadflow.append_journey(:lead, 'call_logged');

-- seq counts 1, 2, 3; each row points at the previous hash
SELECT j.seq, j.kind, j.actor = session_user AS by_session_user,
       j.prev_hash = p.hash AS chained,
       j.hash = leadflow.journey_hash(j.prev_hash, j.org_id, j.lead_id, j.seq, j.occurred_at,
                                      j.kind, j.actor, j.detail) AS hash_ok
  FROM leadflow.lead_journey j
  LEFT JOIN leadflow.lead_journey p ON p.org_id = j.org_id AND p.lead_id = j.lead_id AND p.seq = j.seq - 1
 WHERE j.org_id = 50 AND j.lead_id = :lead ORDER BY j.seq;
SELECT actor FROM leadflow.lead_journey WHERE org_id = 50 AND lead_id = :lead AND kind = 'note';

-- the hash covers every field: change one, get another hash
SELECT count(DISTINCT h) AS distinct_hashes FROM (VALUES
    (leadflow.journey_hash(NULL, 1, 2, 3, '2026-01-01 00:00+00', 'k', 'a', '{}')),
    (leadflow.journey_hash('\x00', 1, 2, 3, '2026-01-01 00:00+00', 'k', 'a', '{}')),
    (leadflow.journey_hash(NULL, 9, 2, 3, '2026-01-01 00:00+00', 'k', 'a', '{}')),
    (leadflow.journey_hash(NULL, 1, 9, 3, '2026-01-01 00:00+00', 'k', 'a', '{}')),
    (leadflow.journey_hash(NULL, 1, 2, 9, '2026-01-01 00:00+00', 'k', 'a', '{}')),
    (leadflow.journey_hash(NULL, 1, 2, 3, '2026-01-01 00:00:01+00', 'k', 'a', '{}')),
    (leadflow.journey_hash(NULL, 1, 2, 3, '2026-01-01 00:00+00', 'ka', '', '{}')),
    (leadflow.journey_hash(NULL, 1, 2, 3, '2026-01-01 00:00+00', 'k', 'a', '{"x": 1}'))) v(h);
-- and a known vector pins the serialization
SELECT encode(leadflow.journey_hash(NULL, 1, 2, 3, '2000-01-01 00:00+00', 'created', 'postgres', '{"a": 1}'), 'hex');

-- every chain of the org is intact
SELECT * FROM leadflow.verify_journey(50);

-- bad appends
SELECT leadflow.append_journey(:lead, 'Bad Kind', '{}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.append_journey(:lead, 'note', '[1, 2]');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.append_journey(-1, 'note', '{}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- UPDATE, DELETE and TRUNCATE are refused, for a superuser too
UPDATE leadflow.lead_journey SET kind = 'x' WHERE org_id = 50;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
DELETE FROM leadflow.lead_journey WHERE org_id = 50;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
TRUNCATE leadflow.lead_journey;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
-- ... and as a replica, where ordinary triggers are silent
SET session_replication_role = replica;
UPDATE leadflow.lead_journey SET kind = 'x' WHERE org_id = 50;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
DELETE FROM leadflow.lead_journey WHERE org_id = 50;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
TRUNCATE leadflow.lead_journey;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
RESET session_replication_role;
SELECT count(*) AS rows_kept FROM leadflow.lead_journey WHERE org_id = 50;

-- tampering: a superuser disables the guard and edits history
INSERT INTO leadflow.leads (org_id, phone, source) VALUES (50, '+14155550100', 'trade_show')
RETURNING lead_id AS lead2 \gset
SELECT leadflow.append_journey(:lead2, 'note', '{"n": 1}');
SELECT leadflow.append_journey(:lead2, 'note', '{"n": 2}');
ALTER TABLE leadflow.lead_journey DISABLE TRIGGER lead_journey_immutable;
UPDATE leadflow.lead_journey SET detail = '{"n": 99}' WHERE org_id = 50 AND lead_id = :lead2 AND seq = 2;
SELECT lead_id = :lead2 AS tampered_lead, seq, problem FROM leadflow.verify_journey(50);
-- rewriting the hash too breaks the next link
UPDATE leadflow.lead_journey SET hash = leadflow.journey_hash(prev_hash, org_id, lead_id, seq, occurred_at, kind, actor, detail)
 WHERE org_id = 50 AND lead_id = :lead2 AND seq = 2;
SELECT lead_id = :lead2 AS tampered_lead, seq, problem FROM leadflow.verify_journey(50);
-- deleting a row leaves a gap
DELETE FROM leadflow.lead_journey WHERE org_id = 50 AND lead_id = :lead AND seq = 2;
SELECT lead_id = :lead AS lead1, seq, problem FROM leadflow.verify_journey(50);
ALTER TABLE leadflow.lead_journey ENABLE ALWAYS TRIGGER lead_journey_immutable;

-- details are parsed once per text and kept (journey.c): more distinct
-- details than the cache holds (it is emptied when full), each of them
-- twice or once, stay exact and verifiable
INSERT INTO leadflow.leads (org_id, email) VALUES (50, 'cache@journey.example') RETURNING lead_id AS lead3 \gset
SELECT count(*) AS appended
  FROM (SELECT leadflow.append_journey(:lead3, 'note', jsonb_build_object('n', g % 6000)) FROM generate_series(1, 10000) g) a;
SELECT count(*) AS notes, count(DISTINCT detail) AS distinct_details,
       count(*) FILTER (WHERE (detail->>'n')::int <> k % 6000) AS wrong_details
  FROM (SELECT row_number() OVER (ORDER BY seq) AS k, detail FROM leadflow.lead_journey
         WHERE org_id = 50 AND lead_id = :lead3 AND kind = 'note') x;
SELECT * FROM leadflow.verify_journey(50) WHERE lead_id = :lead3;
