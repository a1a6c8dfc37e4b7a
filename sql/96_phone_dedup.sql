-- Phone deduplication (org setting dedup_on_phone, default true): a new
-- lead whose phone_e164 equals a live lead's merges into it when one of
-- the two has no usable email; two different valid emails sharing a phone
-- (a switchboard) stay two leads, listed in possible_duplicates.  And
-- possible_duplicates lists name pairs whether or not each has a phone.
\set VERBOSITY terse
-- lead ids of this file start at 96001, whatever ran before
SELECT setval(pg_get_serial_sequence('leadflow.leads', 'lead_id'), 96000) \gset
INSERT INTO leadflow.orgs (org_id, name) VALUES (96, 'Phone Org'), (97, 'Other Phone Org');
INSERT INTO leadflow.teams (org_id, team_id, name) VALUES (96, 961, 'Inbound');
INSERT INTO leadflow.reps (org_id, rep_id, team_id, name) VALUES (96, 9601, 961, 'Ada'), (96, 9602, 961, 'Bo');
INSERT INTO leadflow.routing_rules (org_id, position, name, assign_to, team_id) VALUES (96, 1, 'All', 'team', 961);

-- a newcomer without email, its phone written another way: merged into
-- the live lead, which keeps its owner and is touched
INSERT INTO leadflow.leads (org_id, first_name, email, phone, source)
VALUES (96, 'Ann', 'ann@phone.example', '+1 415 555 0101', 'web_form');          -- 96001
INSERT INTO leadflow.leads (org_id, first_name, last_name, phone, company, source)
VALUES (96, 'Ann', 'Lee', '(415) 555-0101', 'Phone Co', 'trade_show');            -- 96002
SELECT lead_id, status, merged_into, owner_rep_id, last_name, company FROM leadflow.leads WHERE lead_id IN (96001, 96002) ORDER BY lead_id;
SELECT lead_id, kind, detail - 'filled' AS detail, detail -> 'filled' AS filled FROM leadflow.journey_events
 WHERE org_id = 96 AND lead_id IN (96001, 96002) AND kind IN ('duplicate_touch', 'merged') ORDER BY lead_id, seq, step;
SELECT lead_id, kind, properties FROM leadflow.lead_signals WHERE org_id = 96 ORDER BY signal_id;
SELECT event, lead_id, rep_id, detail FROM leadflow.events WHERE org_id = 96 AND event = 'merged';

-- a phone-only live lead; a newcomer with an email and that phone merges
-- into it, which gets the email (and its claim: the next one with that
-- email merges by email)
INSERT INTO leadflow.leads (org_id, first_name, phone) VALUES (96, 'Cem', '+49 30 90 18 20');     -- 96003
INSERT INTO leadflow.leads (org_id, email, phone) VALUES (96, 'cem@phone.example', '+49 30 901820'); -- 96004
SELECT lead_id, status, merged_into, email, email_normalized FROM leadflow.leads WHERE lead_id IN (96003, 96004) ORDER BY lead_id;
SELECT lead_id FROM leadflow.lead_emails WHERE org_id = 96 AND email_normalized = 'cem@phone.example';
INSERT INTO leadflow.leads (org_id, email) VALUES (96, 'Cem@Phone.example');                      -- 96005
SELECT lead_id, status, merged_into FROM leadflow.leads WHERE lead_id = 96005;
SELECT detail ->> 'reason' AS reason FROM leadflow.journey_events WHERE org_id = 96 AND lead_id = 96005 AND kind = 'merged';

-- a switchboard: two different valid emails sharing a phone stay two
-- leads, listed with reason same phone
INSERT INTO leadflow.leads (org_id, first_name, email, phone) VALUES
  (96, 'Dora', 'dora@switch.example', '+1 212 555 0199'),                        -- 96006
  (96, 'Emil', 'emil@switch.example', '212-555-0199');                           -- 96007
SELECT lead_id, status, merged_into IS NULL AS live FROM leadflow.leads WHERE lead_id IN (96006, 96007) ORDER BY lead_id;
SELECT lead_id, other_lead_id, reason, similarity FROM leadflow.possible_duplicates
 WHERE org_id = 96 AND lead_id = 96006;
-- then one without email with that phone joins the first of them
INSERT INTO leadflow.leads (org_id, phone) VALUES (96, '(212) 555-0199');         -- 96008
SELECT lead_id, merged_into FROM leadflow.leads WHERE lead_id = 96008;

-- another org's lead with the same phone is not touched
INSERT INTO leadflow.leads (org_id, phone) VALUES (97, '+1 415 555 0101');         -- 96009
SELECT lead_id, org_id, status, merged_into FROM leadflow.leads WHERE lead_id = 96009;

-- with dedup_on_phone off, a phone match is only listed
UPDATE leadflow.orgs SET settings = settings || '{"dedup_on_phone": false}' WHERE org_id = 97;
INSERT INTO leadflow.leads (org_id, phone) VALUES (97, '415.555.0101');            -- 96010
SELECT lead_id, status, merged_into FROM leadflow.leads WHERE org_id = 97 ORDER BY lead_id;
SELECT lead_id, other_lead_id, reason FROM leadflow.possible_duplicates WHERE org_id = 97;
UPDATE leadflow.orgs SET settings = settings || '{"dedup_on_phone": "yes"}' WHERE org_id = 97;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- a live lead's new phone takes the free claim; its old phone is freed
INSERT INTO leadflow.leads (org_id, email, phone) VALUES (96, 'fred@phone.example', '+1 646 555 0111');  -- 96011
UPDATE leadflow.leads SET phone = '+1 646 555 0112' WHERE lead_id = 96011;
SELECT phone_e164, lead_id FROM leadflow.lead_phones WHERE org_id = 96 AND phone_e164 LIKE '+1646555011_' ORDER BY 1;
INSERT INTO leadflow.leads (org_id, phone) VALUES (96, '646 555 0112');            -- 96012 joins 96011
INSERT INTO leadflow.leads (org_id, phone) VALUES (96, '646 555 0111');            -- 96013 new
SELECT lead_id, merged_into FROM leadflow.leads WHERE lead_id IN (96012, 96013) ORDER BY lead_id;

-- one statement: 2,000 rows, 1,000 phones, two thirds of the rows with an
-- email: a phone with a row without email ends with one live lead, a phone
-- of two emailed rows with two; and no lock per row is held
BEGIN;
INSERT INTO leadflow.leads (org_id, lead_id, email, phone, source)
SELECT 96, 1960000 + g, CASE WHEN g % 3 <> 1 THEN 'bulk' || g || '@bulk.example' END,
       '+1 305 55' || lpad((g % 1000)::text, 5, '0'), 'csv'
  FROM generate_series(1, 2000) g;
SELECT count(*) < 50 AS few_locks FROM pg_locks WHERE pid = pg_backend_pid();
COMMIT;
-- (a survivor filled from its duplicate carries the same email: distinct
-- emails count the people)
SELECT count(*) AS phones, count(*) FILTER (WHERE emailed = 2) AS switchboards,
       bool_and(live = CASE WHEN emailed = 2 THEN 2 ELSE 1 END) AS right_live_count
  FROM (SELECT phone_e164, count(*) FILTER (WHERE merged_into IS NULL) AS live,
               count(DISTINCT email) AS emailed
          FROM leadflow.leads WHERE org_id = 96 AND source = 'csv' GROUP BY phone_e164) x;
SELECT * FROM leadflow.verify_journey(96);

-- name pairs of one company whether or not each has a phone: Martin Schulz
-- (with a phone) and Martin Schultz (without) at hooli.com
INSERT INTO leadflow.leads (org_id, first_name, last_name, email, phone)
VALUES (96, 'Martin', 'Schulz', 'martin.schulz@hooli.com', '+49 89 1234567')
RETURNING lead_id AS schulz \gset
INSERT INTO leadflow.leads (org_id, first_name, last_name, email)
VALUES (96, 'Martin', 'Schultz', 'm.schultz@hooli.com')
RETURNING lead_id AS schultz \gset
SELECT lead_id = :schulz AS schulz, other_lead_id = :schultz AS schultz, reason, similarity
  FROM leadflow.possible_duplicates WHERE org_id = 96 AND other_lead_id = :schultz;

-- merge_leads(lead_a, lead_b, keep => 'richer'): the record with more
-- filled contact and firmographic fields survives, ties: the older one
INSERT INTO leadflow.leads (org_id, email) VALUES (96, 'thin@merge.example') RETURNING lead_id AS thin \gset
INSERT INTO leadflow.leads (org_id, first_name, last_name, email, phone, company, job_title)
VALUES (96, 'Rich', 'Record', 'rich@merge.example', '+1 303 555 0150', 'Merge Co', 'CTO') RETURNING lead_id AS rich \gset
SELECT survivor_id = :rich AS richer_survives, duplicate_id = :thin AS thin_merged, merge_id IS NOT NULL AS merged
  FROM leadflow.merge_leads(:thin, :rich, keep => 'richer');
SELECT lead_id = :thin AS thin, status, merged_into = :rich AS into_rich FROM leadflow.leads WHERE lead_id = :thin;
INSERT INTO leadflow.leads (org_id, email) VALUES (96, 'older@merge.example') RETURNING lead_id AS older \gset
INSERT INTO leadflow.leads (org_id, email) VALUES (96, 'newer@merge.example') RETURNING lead_id AS newer \gset
SELECT survivor_id = :older AS older_survives FROM leadflow.merge_leads(:newer, :older, keep => 'richer');
INSERT INTO leadflow.leads (org_id, email) VALUES (96, 'first@merge.example') RETURNING lead_id AS first \gset
SELECT survivor_id = :first AS first_survives FROM leadflow.merge_leads(:first, :rich, keep => 'first');
SELECT * FROM leadflow.merge_leads(:first, :rich, keep => 'biggest');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT * FROM leadflow.merge_leads(:first, -1, keep => 'richer');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
