-- A duplicate's survivor is updated by the pipeline itself (issue 21), not
-- by an UPDATE that re-enters the leads trigger: it must end exactly as the
-- SQL path leaves it, and the SQL path must still be taken where only it
-- does the work (a user's own UPDATE trigger on leads, a bounced survivor
-- whose email the touch fills).  The same survivors and duplicates go into
-- org 8501 (the direct path) and, after a user trigger is added, org 8502
-- (the SQL path); then both orgs are compared.
BEGIN;
SELECT plan(8);

INSERT INTO leadflow.orgs (org_id, name, settings) VALUES
  (8501, 'Touch direct', '{"dedup_on_phone": true}'),
  (8502, 'Touch SQL', '{"dedup_on_phone": true}'),
  (8503, 'Touch bounced', '{"dedup_on_phone": true}');

CREATE FUNCTION pg_temp.touch_org(org bigint) RETURNS void LANGUAGE plpgsql AS $f$
BEGIN
    INSERT INTO leadflow.leads (org_id, lead_id, first_name, email, phone, source) VALUES
      (org, org * 100 + 1, 'Ada', 'ada@touch.example', NULL, 'web'),
      (org, org * 100 + 2, 'Bo', 'bo@touch.example', NULL, 'web'),
      (org, org * 100 + 3, NULL, NULL, '+1 212 555 0170', 'phone');
    -- a closed survivor is reopened by its duplicate
    UPDATE leadflow.leads SET status = 'archived', archive_reason = 'no budget' WHERE lead_id = org * 100 + 2;
    -- a bulk statement with a duplicate of each, one of them twice, one by phone
    INSERT INTO leadflow.leads (org_id, lead_id, first_name, last_name, email, phone, company, job_title, source)
    VALUES (org, org * 100 + 11, 'Ada', 'Lovelace', ' ADA@touch.example', NULL, 'Engines Ltd', 'CTO', 'webinar'),
           (org, org * 100 + 12, NULL, 'Ng', 'bo@touch.example', NULL, NULL, 'VP Sales', 'fair'),
           (org, org * 100 + 13, 'Ada', NULL, 'ada@touch.example', NULL, 'Other Ltd', NULL, 'ads'),
           (org, org * 100 + 14, 'Cy', 'Phone', 'cy@touch.example', '212 555 0170', 'Dial Co', NULL, 'call');
END
$f$;

-- what a touch leaves on the org's leads, journeys, signals and events,
-- without the org's own ids (ids in journey details: those named *id);
-- the journey as events, so a created row's members are compared one by one
CREATE FUNCTION pg_temp.touch_state(org bigint) RETURNS SETOF text LANGUAGE sql AS $f$
SELECT concat_ws('|', l.lead_id - org * 100, l.first_name, l.last_name, l.email, l.email_normalized, l.phone_e164,
                 l.company, l.job_title, l.status, l.merged_into - org * 100, l.score, l.temperature,
                 l.last_activity_at, l.updated_at, l.archived_at, l.archive_reason)
  FROM leadflow.leads l WHERE l.org_id = org
UNION ALL
SELECT concat_ws('|', 'journey', j.lead_id - org * 100, row_number() OVER (PARTITION BY j.lead_id ORDER BY j.seq, j.step),
                 j.kind, (SELECT jsonb_object_agg(d.key, d.value) FROM jsonb_each(j.detail) d
                           WHERE d.key NOT LIKE '%id' AND d.key <> 'merged_into'))
  FROM leadflow.journey_events j WHERE j.org_id = org
UNION ALL
SELECT concat_ws('|', 'signal', s.lead_id - org * 100, s.kind, s.occurred_at, s.properties - 'duplicate_lead_id',
                 (s.properties ->> 'duplicate_lead_id')::bigint - org * 100)
  FROM leadflow.lead_signals s WHERE s.org_id = org
UNION ALL
SELECT concat_ws('|', 'claim', e.email_normalized, e.lead_id - org * 100)
  FROM leadflow.lead_emails e WHERE e.org_id = org
UNION ALL
SELECT concat_ws('|', 'event', row_number() OVER (ORDER BY v.event_id), v.event, v.lead_id - org * 100,
                 v.detail ->> 'reason', v.detail ->> 'survivor_status')
  FROM leadflow.events v WHERE v.org_id = org
ORDER BY 1
$f$;

SELECT pg_temp.touch_org(8501);

-- a user's own UPDATE trigger on leads: the touch takes the SQL path, which fires it
CREATE TEMP TABLE seen_updates (lead_id bigint, company text);
CREATE FUNCTION pg_temp.see_update() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    INSERT INTO seen_updates VALUES (NEW.lead_id, NEW.company);
    RETURN NEW;
END
$f$;
CREATE TRIGGER leads_seen_by_user AFTER UPDATE ON leadflow.leads
    FOR EACH ROW EXECUTE FUNCTION pg_temp.see_update();
SELECT pg_temp.touch_org(8502);
DROP TRIGGER leads_seen_by_user ON leadflow.leads;

SELECT is((SELECT count(*) FROM leadflow.leads WHERE org_id = 8501 AND status = 'merged'), 4::bigint,
          'four duplicates merged on the direct path');
SELECT is((SELECT company || ', ' || job_title FROM leadflow.leads WHERE lead_id = 850101), 'Engines Ltd, CTO',
          'the survivor''s empty fields are filled by its first duplicate, not overwritten by the second');
SELECT is((SELECT status FROM leadflow.leads WHERE lead_id = 850102), 'new',
          'an archived survivor is reopened by its duplicate');
SELECT is((SELECT email_normalized FROM leadflow.leads WHERE lead_id = 850103), 'cy@touch.example',
          'a phone-only survivor takes the email of its duplicate by phone');
SELECT is((SELECT count(*) FROM leadflow.lead_journey WHERE org_id = 8501 AND kind = 'duplicate_touch'), 4::bigint,
          'one duplicate_touch row per duplicate');
SELECT results_eq('SELECT * FROM pg_temp.touch_state(8501)', 'SELECT * FROM pg_temp.touch_state(8502)',
                  'the direct path leaves leads, journeys, signals, claims and events as the SQL path does');
SELECT is((SELECT count(*) FROM seen_updates WHERE lead_id BETWEEN 850200 AND 850299), 5::bigint,
          'a user''s UPDATE trigger on leads sees each of the four touches (and the archiving)');

-- a bounced survivor whose email the touch fills is ok again (the email status reset trigger)
INSERT INTO leadflow.leads (org_id, lead_id, phone) VALUES (8503, 850301, '+1 212 555 0171');
UPDATE leadflow.leads SET email_status = 'bounced' WHERE lead_id = 850301;
INSERT INTO leadflow.leads (org_id, lead_id, email, phone) VALUES (8503, 850302, 'dee@touch.example', '212 555 0171');
SELECT is((SELECT email_status || ', ' || email FROM leadflow.leads WHERE lead_id = 850301), 'ok, dee@touch.example',
          'a bounced survivor given an email by its duplicate is ok again');

SELECT * FROM finish();
ROLLBACK;
