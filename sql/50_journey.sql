-- The journey: appends, the hash chain, verification, tamper detection and
-- the refused operations (42501 for everyone, also as replica).
\set VERBOSITY terse
-- lead ids of this file start at 50001, whatever ran before
SELECT setval(pg_get_serial_sequence('leadflow.leads', 'lead_id'), 50000) \gset

INSERT INTO leadflow.orgs (org_id, name) VALUES (50, 'Journey Org');
INSERT INTO leadflow.leads (org_id, email, source) VALUES (50, 'ann@journey.test', 'web_form')
RETURNING lead_id AS lead \gset

-- an insert writes a created row, seq 1, no prev_hash, signed by the session
-- user; what the pipeline's stages did is in that one row (here: scored)
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

-- journeys of both shapes: 0.1.0 wrote a row per stage (created,
-- enriched, scored, routed, shadow_routed, ...), 0.2.0 writes one
-- created row per inserted lead with the stages as members.  Each lead
-- here gets a twin whose journey is written as 0.1.0 wrote it (the
-- pipeline off, the guard off, the hashes chained by journey_hash); every
-- reader gives the twins the same answers.
INSERT INTO leadflow.teams (org_id, team_id, name, strategy) VALUES (50, 501, 'Round', 'round_robin');
INSERT INTO leadflow.reps (org_id, rep_id, team_id, name) VALUES (50, 5001, 501, 'Ann'), (50, 5002, 501, 'Ben');
INSERT INTO leadflow.routing_rules (org_id, rule_id, position, name, mode, predicate, assign_to, rep_id, team_id) VALUES
  (50, 5061, 10, 'France to queue', 'live', '{"field": "country", "op": "eq", "value": "FR"}', 'queue', NULL, NULL),
  (50, 5062, 20, 'Trial: all to Ben', 'shadow', '{"all": []}', 'rep', 5002, NULL),
  (50, 5063, 30, 'Everyone else', 'live', '{"all": []}', 'team', NULL, 501);
INSERT INTO leadflow.company_profiles (org_id, domain, provider, industry) VALUES
  (50, 'acme50.example', 'vendor_a', 'Software'), (50, 'globex50.example', 'vendor_a', 'Retail');
INSERT INTO leadflow.leads (org_id, email, country, source) VALUES (50, 'ann@acme50.example', 'GB', 'web_form')
RETURNING lead_id AS ann \gset
INSERT INTO leadflow.leads (org_id, email, country, source) VALUES (50, 'cid@globex50.example', 'FR', 'web_form')
RETURNING lead_id AS cid \gset
-- the new shape: one row per lead
SELECT lead_id = :ann AS ann, seq, kind, detail - 'workflow_id' - 'stage_id' - 'scored' AS detail
  FROM leadflow.lead_journey WHERE org_id = 50 AND lead_id IN (:ann, :cid) ORDER BY lead_id, seq;

-- the twins (50901 of ann, 50902 of cid), stored as the pipeline left
-- theirs, with the journey 0.1.0 wrote
SET session_replication_role = replica;
-- (every column but the generated ones, which an INSERT may not set)
SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) AS cols FROM pg_attribute
 WHERE attrelid = 'leadflow.leads'::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '' \gset
INSERT INTO leadflow.leads (:cols)
SELECT :cols FROM (
    SELECT (jsonb_populate_record(l, jsonb_build_object('lead_id', t.twin, 'email', 'twin-' || l.email,
                                                        'email_normalized', 'twin-' || l.email_normalized))).*
      FROM leadflow.leads l JOIN (VALUES (:ann, 50901), (:cid, 50902)) t(lead_id, twin) ON t.lead_id = l.lead_id) l;
RESET session_replication_role;
CREATE TEMP TABLE legacy_rows (lead_id bigint, seq integer, kind text, detail jsonb);
INSERT INTO legacy_rows
SELECT t.twin, s.seq, s.kind, s.detail
  FROM (VALUES (:ann, 50901), (:cid, 50902)) t(lead_id, twin)
  JOIN leadflow.lead_journey c ON c.org_id = 50 AND c.lead_id = t.lead_id AND c.seq = 1
 CROSS JOIN LATERAL (VALUES
   (1, 'created', c.detail - '{enriched,scored,routed}'::text[]),
   (2, 'enriched', '{"filled": {"industry": "vendor_a"}}'::jsonb),
   (3, 'scored', c.detail -> 'scored'),
   (4, 'routed', CASE WHEN t.twin = 50901
                      THEN '{"path": "rule", "reason": "created", "rule_id": 5063, "rule_name": "Everyone else",
                             "strategy": "round_robin", "team_id": 501, "rep_id": 5001, "candidates": []}'::jsonb
                      ELSE '{"path": "queue", "reason": "created", "rule_id": 5061, "rule_name": "France to queue",
                             "rep_id": null, "candidates": []}' END),
   (5, 'shadow_routed', jsonb_build_object('rule_id', 5062, 'rule_name', 'Trial: all to Ben', 'rep_id', 5002,
                                           'team_id', 501, 'live_rep_id', CASE WHEN t.twin = 50901 THEN 5001 END,
                                           'agrees', false))) s(seq, kind, detail);
ALTER TABLE leadflow.lead_journey DISABLE TRIGGER lead_journey_leadflow_only;
DO $$
DECLARE
    r record;
    prev bytea;
BEGIN
    FOR r IN SELECT * FROM legacy_rows ORDER BY lead_id, seq LOOP
        prev := (SELECT j.hash FROM leadflow.lead_journey j WHERE j.org_id = 50 AND j.lead_id = r.lead_id AND j.seq = r.seq - 1);
        INSERT INTO leadflow.lead_journey (org_id, lead_id, seq, occurred_at, kind, actor, detail, prev_hash, hash)
        VALUES (50, r.lead_id, r.seq, now(), r.kind, session_user, r.detail, prev,
                leadflow.journey_hash(prev, 50, r.lead_id, r.seq, now(), r.kind, session_user, r.detail));
    END LOOP;
END
$$;
ALTER TABLE leadflow.lead_journey ENABLE ALWAYS TRIGGER lead_journey_leadflow_only;
SELECT lead_id IN (50901, 50902) AS twin, count(*) AS rows, string_agg(kind, ', ' ORDER BY seq) AS kinds
  FROM leadflow.lead_journey WHERE org_id = 50 AND lead_id IN (:ann, :cid, 50901, 50902)
 GROUP BY lead_id ORDER BY lead_id;
-- both shapes verify (the chains broken above stay the only problems)
SELECT lead_id IN (:lead, :lead2) AS tampered, count(*) AS problems FROM leadflow.verify_journey(50) GROUP BY 1;

-- the readers: the twin's answers, then every difference from its lead's (none)
SELECT * FROM leadflow.explain_routing(50901);
SELECT * FROM leadflow.explain_routing(50902);
SELECT t.twin, d.* FROM (VALUES (:ann, 50901), (:cid, 50902)) t(lead_id, twin)
 CROSS JOIN LATERAL ((SELECT * FROM leadflow.explain_routing(t.lead_id) EXCEPT ALL SELECT * FROM leadflow.explain_routing(t.twin))
                     UNION ALL
                     (SELECT * FROM leadflow.explain_routing(t.twin) EXCEPT ALL SELECT * FROM leadflow.explain_routing(t.lead_id))) d;
SELECT lead_id IN (:ann, :cid) AS new_shape, rule_id, rule_name, live_rep_id, shadow_rep_id, shadow_team_id, agrees, owner_rep_id
  FROM leadflow.report_shadow_routing WHERE org_id = 50 ORDER BY lead_id IN (:ann, :cid), lead_id;
SELECT lead_id IN (:ann, :cid) AS new_shape, routing_path
  FROM leadflow.unassigned_queue WHERE org_id = 50 AND lead_id IN (:ann, :cid, 50901, 50902) ORDER BY lead_id IN (:ann, :cid), lead_id;
-- (the org's other leads have company domains but no profiles)
SELECT field, leads, filled, enriched FROM leadflow.report_enrichment_coverage WHERE org_id = 50 ORDER BY sort_order;
-- journey_events shows the created row's members as the rows 0.1.0 wrote
SELECT t.twin, d.* FROM (VALUES (:ann, 50901), (:cid, 50902)) t(lead_id, twin)
 CROSS JOIN LATERAL ((SELECT kind, detail FROM leadflow.journey_events WHERE lead_id = t.lead_id
                      EXCEPT ALL SELECT kind, detail FROM leadflow.journey_events WHERE lead_id = t.twin)
                     UNION ALL
                     (SELECT kind, detail FROM leadflow.journey_events WHERE lead_id = t.twin
                      EXCEPT ALL SELECT kind, detail FROM leadflow.journey_events WHERE lead_id = t.lead_id)) d;
SELECT lead_id = :ann AS ann, seq, step, kind FROM leadflow.journey_events
 WHERE lead_id IN (:ann, 50901) ORDER BY lead_id = :ann DESC, seq, step;

-- The created row's hash is over its detail's text as written by the
-- builder, not read back from the stored jsonb: for rule names with
-- unicode, quotes, backslashes and control characters, numbers, nested
-- and empty arrays and embedded jsonb (data_issues) the builder's text is
-- jsonb_out's of the stored detail (journey_hash hashes jsonb_out's)
INSERT INTO leadflow.routing_rules (org_id, rule_id, position, name, mode, predicate, assign_to, rep_id, team_id) VALUES
  (50, 5064, 1, E'Zürich → 東京 ✓ 🚀 "quoted" back\\slash tab\there', 'live',
   '{"field": "country", "op": "eq", "value": "JP"}', 'team', NULL, 501),
  (50, 5065, 2, E'Shadow: ÄÖÜ ß — \u00e9\u0301 line\nbreak', 'shadow', '{"all": []}', 'rep', 5001, NULL),
  (50, 5066, 3, E'Shadow \\u0041 not an escape, {"braces": [1]}', 'shadow', '{"all": []}', 'team', NULL, 501);
INSERT INTO leadflow.leads (org_id, email, phone, country, source, company_size, annual_revenue) VALUES
  (50, 'jp1@acme50.example', 'not a phone', 'JP', 'web_form', 120, 1234567.89),
  (50, 'jp2@globex50.example', NULL, 'JP', 'Référence Ü', NULL, NULL),
  (50, 'de1@journey.test', '+49 30 1234567', 'DE', 'web_form', NULL, NULL);
SELECT l.email, j.seq, j.kind,
       j.hash = leadflow.journey_hash(j.prev_hash, j.org_id, j.lead_id, j.seq, j.occurred_at, j.kind, j.actor, j.detail)
         AS builder_text_is_jsonb_out,
       j.detail - 'workflow_id' - 'stage_id' #- '{scored,model_id}' AS detail
  FROM leadflow.lead_journey j JOIN leadflow.leads l USING (org_id, lead_id)
 WHERE j.org_id = 50 AND l.email IN ('jp1@acme50.example', 'jp2@globex50.example', 'de1@journey.test')
 ORDER BY j.lead_id, j.seq;
SELECT count(*) AS rows, count(*) FILTER (WHERE j.hash = leadflow.journey_hash(j.prev_hash, j.org_id, j.lead_id, j.seq,
                                          j.occurred_at, j.kind, j.actor, j.detail)) AS builder_text_is_jsonb_out
  FROM leadflow.lead_journey j WHERE j.org_id = 50 AND j.lead_id NOT IN (:lead, :lead2);
