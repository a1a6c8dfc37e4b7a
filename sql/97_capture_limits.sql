-- capture() (issue 18): payloads over leadflow.capture_max_bytes or
-- leadflow.capture_max_keys are refused with 54000 naming the limit before
-- any work; the work is linear in the payload's size; outcome reactivated
-- when the submission reopened an archived or unqualified lead; a phone
-- written with its country code fills an empty country.
\set VERBOSITY terse
SELECT setval(pg_get_serial_sequence('leadflow.leads', 'lead_id'), 97700) \gset
INSERT INTO leadflow.orgs (org_id, name) VALUES (977, 'Capture Limits Org');
INSERT INTO leadflow.reps (org_id, rep_id, name) VALUES (977, 97701, 'Cara');
INSERT INTO leadflow.routing_rules (org_id, position, name, predicate, assign_to, rep_id)
VALUES (977, 1, 'All to Cara', '{"all": []}', 'rep', 97701);

SHOW leadflow.capture_max_bytes;
SHOW leadflow.capture_max_keys;

-- 20,000 keys (the issue's 29-second payload): refused at once, nothing stored
SELECT * FROM leadflow.capture(977, 'web_form',
    (SELECT jsonb_object_agg('k' || i, 'v') || '{"email": "many@keys.example"}' FROM generate_series(1, 20000) i));
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
-- Meta's field_data entries count as fields too
SELECT * FROM leadflow.capture(977, 'meta_ads', jsonb_build_object('field_data',
    (SELECT jsonb_agg(jsonb_build_object('name', 'f' || i, 'values', jsonb_build_array('v'))) FROM generate_series(1, 1001) i)));
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
-- over 1 MB in a few keys
SELECT * FROM leadflow.capture(977, 'web_form',
    jsonb_build_object('email', 'big@keys.example', 'notes', repeat('x', 1100000)));
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT count(*) AS leads FROM leadflow.leads WHERE org_id = 977;

-- just under both limits: 999 keys of about 1 KB each (the email one of
-- them), stored with the unknown keys in attributes
SELECT outcome FROM leadflow.capture(977, 'web_form',
    (SELECT jsonb_object_agg('k' || i, repeat('v', 1000)) || '{"email": "under@keys.example"}' FROM generate_series(1, 998) i));
SELECT (SELECT count(*) FROM jsonb_object_keys(attributes)) AS attribute_keys, octet_length(attributes::text) > 1000000 AS about_1mb
  FROM leadflow.leads WHERE org_id = 977 AND email = 'under@keys.example';
-- the limits are settings
SET leadflow.capture_max_keys = 10;
SELECT * FROM leadflow.capture(977, 'web_form',
    (SELECT jsonb_object_agg('k' || i, 'v') || '{"email": "eleven@keys.example"}' FROM generate_series(1, 10) i));
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
RESET leadflow.capture_max_keys;

-- Linear: with the limits raised, ten times the keys take about ten times
-- the time (appending key by key took a hundred times).  The best of three
-- runs of each size is compared, a ratio of the same run, no clock bound.
SET leadflow.capture_max_keys = 100000;
SET leadflow.capture_max_bytes = '16MB';
CREATE TEMP TABLE capture_runs (keys int, ms double precision);
DO $$
DECLARE
    n int;
    run int;
    payload jsonb;
    t timestamptz;
BEGIN
    FOREACH n IN ARRAY ARRAY[3000, 30000] LOOP
        FOR run IN 1 .. 3 LOOP
            SELECT jsonb_object_agg('k' || i, 'v' || i) || jsonb_build_object('email', format('lin%s.%s@keys.example', n, run))
              INTO payload FROM generate_series(1, n) i;
            t := clock_timestamp();
            PERFORM leadflow.capture(977, 'web_form', payload);
            INSERT INTO capture_runs VALUES (n, extract(epoch FROM clock_timestamp() - t) * 1000);
        END LOOP;
    END LOOP;
END
$$;
SELECT (SELECT min(ms) FROM capture_runs WHERE keys = 30000)
       / greatest((SELECT min(ms) FROM capture_runs WHERE keys = 3000), 1) < 30 AS ten_times_keys_under_30_times_work,
       (SELECT count(*) FROM leadflow.leads WHERE org_id = 977 AND email LIKE 'lin%') AS stored;
RESET leadflow.capture_max_keys;
RESET leadflow.capture_max_bytes;

-- outcome reactivated: the submission reopened an archived lead; a second
-- one merges into the now open lead
SELECT outcome FROM leadflow.capture(977, 'web_form', '{"email": "back@again.example", "first_name": "Bea"}');
UPDATE leadflow.leads SET status = 'archived', archive_reason = 'cold'
 WHERE org_id = 977 AND email = 'back@again.example';
SELECT outcome FROM leadflow.capture(977, 'web_form', '{"email": "back@again.example", "company": "Again Inc"}');
SELECT outcome FROM leadflow.capture(977, 'web_form', '{"email": "back@again.example"}');
SELECT status, company FROM leadflow.leads WHERE org_id = 977 AND email = 'back@again.example' AND merged_into IS NULL;
-- and an unqualified one, matched by phone
SELECT outcome FROM leadflow.capture(977, 'web_form', '{"phone": "+1 415 555 0199", "first_name": "Uma"}');
UPDATE leadflow.leads SET status = 'unqualified' WHERE org_id = 977 AND phone = '+1 415 555 0199';
SELECT outcome FROM leadflow.capture(977, 'meta_ads',
    '{"id": "9770001", "field_data": [{"name": "phone_number", "values": ["+14155550199"]}]}');

-- the region of an international phone fills an empty country, no data
-- issue; a national number (read in default_region) and a given country
-- are left as they are
SELECT outcome FROM leadflow.capture(977, 'web_form', '{"email": "hans@de.example", "phone": "+49 30 901820", "state": "Bayern"}');
SELECT outcome FROM leadflow.capture(977, 'web_form', '{"email": "nat@us.example", "phone": "(415) 555-0123"}');
SELECT outcome FROM leadflow.capture(977, 'web_form', '{"email": "given@fr.example", "phone": "+49 30 901821", "country": "France"}');
INSERT INTO leadflow.leads (org_id, email, phone) VALUES (977, 'ins@ca.example', '+1 604 555 0100');
SELECT email, phone_e164, country, state, data_issues FROM leadflow.leads
 WHERE org_id = 977 AND email IN ('hans@de.example', 'nat@us.example', 'given@fr.example', 'ins@ca.example') ORDER BY email;
SELECT * FROM leadflow.verify_journey(977);
