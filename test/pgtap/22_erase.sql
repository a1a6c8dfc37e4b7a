-- erase_lead leaves no personal data (issue 17): a person with distinctive
-- strings in every table that holds personal data, erased; then every
-- table's text, journey details included, is searched for each string.
-- A second person is converted first (contact, opportunity, an account
-- made by the conversion, consent, external id): the conversion stays a
-- fact after the erasure, the strings go.
BEGIN;
SELECT plan(23);

CREATE FUNCTION pg_temp.tables_with(pattern text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
    t regclass;
    n bigint;
    found text[] := '{}';
BEGIN
    FOR t IN SELECT c.oid::regclass FROM pg_class c
              WHERE c.relnamespace = 'leadflow'::regnamespace AND c.relkind = 'r' ORDER BY c.relname LOOP
        EXECUTE format('SELECT count(*) FROM %s x WHERE x::text ILIKE %L', t, pattern) INTO n;
        IF n > 0 THEN
            found := found || t::text;
        END IF;
    END LOOP;
    RETURN array_to_string(found, ',');
END
$f$;

INSERT INTO leadflow.orgs (org_id, name) VALUES (8401, 'Tenant E');
INSERT INTO leadflow.reps (org_id, rep_id, name) VALUES (8401, 84011, 'Rex');
INSERT INTO leadflow.leads (org_id, lead_id, first_name, last_name, email, phone, city, state, postal_code, attributes,
                            company, job_title)
VALUES (8401, 840101, 'Bertholdxq', 'Secretowlz', 'Bertholdxq.Secretowlz@secretowlz-family.example', '+44 7700 900123',
        'Zorbavillex', 'Qxstatex', 'QX9 9QX', '{"nickname": "Bertholdxq"}', 'Secretowlz Family Trust', 'Chief Bertholdxq');
INSERT INTO leadflow.leads (org_id, lead_id, first_name, email)
VALUES (8401, 840102, 'Bertholdxq', 'bertholdxq.secretowlz@secretowlz-family.example');   -- merged into 840101
INSERT INTO leadflow.lead_signals (org_id, lead_id, kind, properties)
VALUES (8401, 840101, 'email_bounce', '{"type": "550 5.1.1 <bertholdxq.secretowlz@secretowlz-family.example> Secretowlz unknown"}');
INSERT INTO leadflow.activities (org_id, lead_id, rep_id, kind, subject, notes)
VALUES (8401, 840101, 84011, 'call', 'Call Bertholdxq', 'Secretowlz lives in Zorbavillex');
INSERT INTO leadflow.consents (org_id, lead_id, channel, source)
VALUES (8401, 840101, 'email', 'Secretowlz newsletter box at Zorbavillex fair');
UPDATE leadflow.leads SET status = 'archived', archive_reason = 'Bertholdxq Secretowlz asked us to stop'
 WHERE lead_id = 840101;
-- import rows of the person: the imported one, and rejected ones without a lead id
INSERT INTO leadflow.lead_imports (org_id, batch_id, first_name, last_name, email, phone, lead_id, error) VALUES
  (8401, 84, 'Bertholdxq', 'Secretowlz', 'Bertholdxq.Secretowlz@secretowlz-family.example', NULL, 840101, NULL),
  (8401, 84, 'Bertholdxq', 'Secretowlz', ' BERTHOLDXQ.SECRETOWLZ@secretowlz-family.example ', 'not a phone', NULL,
   'invalid phone "not a phone" for Bertholdxq.Secretowlz@secretowlz-family.example'),
  (8401, 84, 'B.', 'Secretowlz', 'bx@@secretowlz-family', '07700 900123', NULL, 'invalid email "bx@@secretowlz-family"');

SELECT is((SELECT company_domain FROM leadflow.leads WHERE lead_id = 840101), 'secretowlz-family.example',
    'the person''s own domain is the lead''s company domain');
SELECT is((SELECT detail->>'bounce_type' FROM leadflow.lead_journey WHERE lead_id = 840101 AND kind = 'email_bounced'),
    'other', 'the journey holds a bounce class, not the provider''s message');
SELECT is((SELECT detail->>'signal_id' IS NOT NULL FROM leadflow.lead_journey WHERE lead_id = 840101 AND kind = 'email_bounced'),
    true, 'and a reference to the (erasable) signal');
SELECT is((SELECT detail->>'reason_ref' FROM leadflow.lead_journey WHERE lead_id = 840101 AND kind = 'stage_changed'
            AND detail->>'to_status' = 'archived'),
    'leads.archive_reason', 'the journey points to the archive reason instead of copying it');
-- the search finds what is there before the erasure (so it can fail)
SELECT is(pg_temp.tables_with('%secretowlz%'), 'leadflow.activities,leadflow.consents,leadflow.lead_emails,leadflow.lead_imports,leadflow.lead_signals,leadflow.lead_words,leadflow.leads',
    'before: the person''s name is in these tables');
SELECT is(pg_temp.tables_with('%7700900123%'), 'leadflow.lead_phones,leadflow.leads', 'before: the phone is claimed');

-- the second person: captured with an external id, converted
SELECT is((SELECT outcome FROM leadflow.capture(8401, 'meta_ads', '{"id": "quxwell-ext-77", "field_data": [
            {"name": "email", "values": ["quxwellyn@trobblesby-home.example"]},
            {"name": "full_name", "values": ["Quxwellyn Trobblesby"]},
            {"name": "company_name", "values": ["Trobblesby Holdings"]},
            {"name": "job_title", "values": ["Quxwellyn-in-chief"]}]}')),
    'created', 'the second person is captured');
UPDATE leadflow.leads SET owner_rep_id = 84011 WHERE org_id = 8401 AND email = 'quxwellyn@trobblesby-home.example';
SELECT isnt(leadflow.convert_lead((SELECT lead_id FROM leadflow.leads WHERE org_id = 8401 AND email = 'quxwellyn@trobblesby-home.example'),
                                  'Trobblesby Holdings deal for Quxwellyn', 5000), NULL, 'and converted');
INSERT INTO leadflow.consents (org_id, lead_id, channel, source)
SELECT 8401, lead_id, 'phone', 'Quxwellyn said yes on the phone' FROM leadflow.leads
 WHERE org_id = 8401 AND email = 'quxwellyn@trobblesby-home.example';
SELECT is(pg_temp.tables_with('%trobblesby%'),
    'leadflow.accounts,leadflow.contacts,leadflow.lead_emails,leadflow.lead_words,leadflow.leads,leadflow.opportunities',
    'before: the second person''s name is in these tables');
SELECT is(pg_temp.tables_with('%quxwell-ext-77%'), 'leadflow.lead_external_ids,leadflow.leads', 'before: the external id is stored');
CREATE TEMP TABLE counts_before AS
SELECT (SELECT sum(converted) FROM leadflow.report_source_performance WHERE org_id = 8401) AS converted,
       (SELECT count(*) FROM leadflow.opportunities WHERE org_id = 8401) AS opportunities,
       (SELECT sum(amount) FROM leadflow.opportunities WHERE org_id = 8401) AS amount;

SELECT is(leadflow.erase_lead(840101, 'GDPR-REQ-84 for Bertholdxq'), 2, 'the lead and its merged duplicate are erased');
SELECT is(leadflow.erase_lead((SELECT lead_id FROM leadflow.leads WHERE org_id = 8401 AND email = 'quxwellyn@trobblesby-home.example'),
                              'Quxwellyn asked by mail'), 1, 'the converted lead is erased');

SELECT is(pg_temp.tables_with('%secretowlz%'), '', 'after: no table holds the last name, domain or address');
SELECT is(pg_temp.tables_with('%bertholdxq%'), '', 'after: no table holds the first name');
SELECT is(pg_temp.tables_with('%zorbavillex%'), '', 'after: no table holds the city');
SELECT is(pg_temp.tables_with('%qxstatex%') || pg_temp.tables_with('%QX9 9QX%'), '', 'after: no table holds the state or postcode');
SELECT is(pg_temp.tables_with('%7700%900123%') || pg_temp.tables_with('%7700900123%'), '', 'after: no table holds the phone');
SELECT is(pg_temp.tables_with('%trobblesby%'), '', 'after: no table holds the second person''s name, domain or company');
SELECT is(pg_temp.tables_with('%quxwell%'), '', 'after: nor the first name, the external id, the erasure reason');
SELECT is(pg_temp.tables_with('%family trust%') || pg_temp.tables_with('%newsletter box%'), '',
    'after: no table holds the company, job title or consent source');
SELECT is((SELECT detail ? 'reason_sha256' AND NOT detail ? 'reason' FROM leadflow.lead_journey
            WHERE lead_id = 840101 AND kind = 'erased'), true, 'the journey references the erasure reason by its hash');
SELECT results_eq($$SELECT (SELECT sum(converted) FROM leadflow.report_source_performance WHERE org_id = 8401),
                           (SELECT count(*) FROM leadflow.opportunities WHERE org_id = 8401),
                           (SELECT sum(amount) FROM leadflow.opportunities WHERE org_id = 8401)$$,
                  $$SELECT converted, opportunities, amount FROM counts_before$$,
    'the conversion is still counted: erasure removes personal data, not facts');
SELECT is_empty($$SELECT * FROM leadflow.verify_journey(8401)$$, 'the journey is still intact');

SELECT * FROM finish();
ROLLBACK;
