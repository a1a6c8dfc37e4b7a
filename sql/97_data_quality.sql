-- Nothing lost at capture (issue 18): a lead with one usable way to reach
-- the person is never refused.  An unusable optional value is kept as
-- typed, its normalized column NULL, and noted in leads.data_issues (field
-- -> problem code); the journey gets the codes, never the values; only a
-- lead with no usable contact is refused (22023 naming the value, 23514
-- when none was given).  The same rule for capture() and process_import.
\set VERBOSITY terse
SELECT setval(pg_get_serial_sequence('leadflow.leads', 'lead_id'), 62000) \gset
INSERT INTO leadflow.orgs (org_id, name, settings) VALUES (62, 'Data Quality Org', '{"default_region": "US"}');

-- an optional phone that is not a number beside a valid email: kept, flagged
INSERT INTO leadflow.leads (org_id, email, phone) VALUES
    (62, 'na@dq.example', 'n/a'), (62, 'tbd@dq.example', 'tbd'), (62, 'zero@dq.example', '0'),
    (62, 'vanity@dq.example', '555-CALL-NOW');
-- an invalid email beside a valid phone: kept, flagged, no email claim
INSERT INTO leadflow.leads (org_id, email, phone) VALUES (62, 'not-an-email', '+1 415 555 0162');
SELECT email, phone, email_normalized, phone_e164, data_issues
  FROM leadflow.leads WHERE org_id = 62 ORDER BY lead_id;
SELECT count(*) AS claims_of_the_invalid_email FROM leadflow.lead_emails WHERE org_id = 62 AND email_normalized LIKE 'not-an-email%';

-- a clean lead has NULL data_issues; an extension and a "Tel:" label are not letters for digits
INSERT INTO leadflow.leads (org_id, email, phone) VALUES (62, 'clean@dq.example', '+1 415 555 0163 ext. 12'),
    (62, 'label@dq.example', 'Tel: +1 415 555 0164');
SELECT email, phone_e164, data_issues IS NULL AS clean FROM leadflow.leads
 WHERE org_id = 62 AND email IN ('clean@dq.example', 'label@dq.example') ORDER BY email;

-- refused only when nothing usable remains: the value is named
INSERT INTO leadflow.leads (org_id, phone) VALUES (62, '555-CALL-NOW');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
INSERT INTO leadflow.leads (org_id, email, phone) VALUES (62, 'nope', 'tbd');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
INSERT INTO leadflow.leads (org_id, email) VALUES (62, 'nope@');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
INSERT INTO leadflow.leads (org_id, first_name) VALUES (62, 'Nobody');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- the journey has the problem codes, never the values typed
SELECT l.email, j.detail -> 'data_issues' AS journaled
  FROM leadflow.leads l JOIN leadflow.lead_journey j USING (org_id, lead_id)
 WHERE l.org_id = 62 AND j.kind = 'created' ORDER BY l.lead_id;
SELECT count(*) AS journey_rows_with_typed_values FROM leadflow.lead_journey
 WHERE org_id = 62 AND (detail::text LIKE '%n/a%' OR detail::text LIKE '%CALL-NOW%' OR detail::text LIKE '%not-an-email%');

-- fixing the value clears the issue; breaking it notes it (the email stays usable)
UPDATE leadflow.leads SET phone = '+1 415 555 0165' WHERE org_id = 62 AND email = 'na@dq.example';
UPDATE leadflow.leads SET phone = 'call me' WHERE org_id = 62 AND email = 'clean@dq.example';
SELECT email, phone_e164, data_issues FROM leadflow.leads
 WHERE org_id = 62 AND email IN ('na@dq.example', 'clean@dq.example') ORDER BY email;
-- an update that leaves no usable contact is refused as an insert would be
UPDATE leadflow.leads SET phone = 'n/a' WHERE org_id = 62 AND email = 'not-an-email';
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- data_issues given on insert: the pipeline decides its own fields again,
-- takes number problems from capture/process_import, refuses anything else
INSERT INTO leadflow.leads (org_id, email, data_issues)
VALUES (62, 'given@dq.example', '{"phone": "not_a_number", "company_size": "range"}')
RETURNING data_issues;
INSERT INTO leadflow.leads (org_id, email, data_issues) VALUES (62, 'free@dq.example', '{"city": "Berlin"}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
INSERT INTO leadflow.leads (org_id, email, data_issues) VALUES (62, 'free@dq.example', '{"company_size": "Anna Smith"}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
INSERT INTO leadflow.leads (org_id, email, data_issues) VALUES (62, 'free@dq.example', '["phone"]');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- capture(): a web form with an optional phone of "n/a" is taken, human
-- numbers are read, a range is kept as typed with a data issue
SELECT outcome FROM leadflow.capture(62, 'web_form',
    '{"email": "form@dq.example", "phone": "n/a", "employees": "1,200", "revenue": "$5M"}');
SELECT outcome FROM leadflow.capture(62, 'web_form',
    '{"email": "range@dq.example", "company_size": "11-50", "annual_revenue": "1.200"}');
SELECT email, phone, company_size, annual_revenue, attributes, data_issues
  FROM leadflow.leads WHERE org_id = 62 AND email IN ('form@dq.example', 'range@dq.example') ORDER BY email;
-- a payload whose only contact is unusable is still refused, naming it
SELECT * FROM leadflow.capture(62, 'web_form', '{"email": "nobody-at-all", "phone": "n/a"}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- process_import: the same rule; rows are rejected only without a usable contact
INSERT INTO leadflow.lead_imports (org_id, batch_id, email, phone, company_size, annual_revenue) VALUES
    (62, 1, 'csv1@dq.example', 'n/a', '1,200', '$5M'),
    (62, 1, 'csv2@dq.example', '0', '500+', '5,000,000'),
    (62, 1, 'csv3@dq.example', NULL, '1.5k', '2.5 million'),
    (62, 1, 'csv4@dq.example', '', '11-50', 'lots'),
    (62, 1, 'bad email', '+1 415 555 0166', NULL, NULL),
    (62, 1, 'bad email', 'tbd', NULL, NULL),
    (62, 1, NULL, NULL, '10', NULL);
SELECT * FROM leadflow.process_import(62, 1);
SELECT i.row_number - min(i.row_number) OVER () + 1 AS row, i.error, l.email, l.phone, l.company_size, l.annual_revenue, l.attributes, l.data_issues
  FROM leadflow.lead_imports i LEFT JOIN leadflow.leads l ON l.org_id = i.org_id AND l.lead_id = i.lead_id
 WHERE i.org_id = 62 AND i.batch_id = 1 ORDER BY i.row_number;
SELECT leadflow.contact_problem('a@dq.example', 'n/a', NULL) AS valid_email_bad_phone,
       leadflow.contact_problem('bad', '+1 415 555 0167', NULL) AS bad_email_valid_phone,
       leadflow.contact_problem('bad', 'n/a', NULL) AS neither_usable,
       leadflow.contact_problem(NULL, '555-CALL-NOW', NULL) AS vanity_only;

-- the report: one row per field and problem
SELECT field, problem, leads, captured FROM leadflow.report_data_quality WHERE org_id = 62 ORDER BY field, problem;

-- country to ISO 3166-1 alpha-2, state to ISO 3166-2; the phone is read in
-- the lead's country (a national "030 ..." from Germany is a Berlin number
-- although the org's default region is US); "UK" is a region too
INSERT INTO leadflow.leads (org_id, email, phone, country, state) VALUES
    (62, 'de1@dq.example', '030 1234567', 'Germany', 'Bavaria'),
    (62, 'de2@dq.example', '089 1234567', 'Deutschland', 'Bayern'),
    (62, 'de3@dq.example', '+49 30 7654321', 'DEU', NULL),
    (62, 'uk1@dq.example', '+44 20 7946 4492', 'UK', 'England'),
    (62, 'uk2@dq.example', '020 7946 4493', 'United Kingdom', NULL),
    (62, 'in1@dq.example', '022 2266 1234', 'India', 'Maharashtra'),
    (62, 'us1@dq.example', '(415) 555-0168', 'U.S.A.', 'california'),
    (62, 'xx1@dq.example', '(415) 555-0169', 'Narnia', 'Cair Paravel'),
    (62, 'xx2@dq.example', NULL, 'US', 'Springfield');
SELECT email, country, state, phone_e164, data_issues FROM leadflow.leads
 WHERE org_id = 62 AND email ~ '^(de|uk|in|us|xx)[0-9]@' ORDER BY email;
-- process_import: the same normalization, the country's region for the phone check
INSERT INTO leadflow.lead_imports (org_id, batch_id, email, phone, country) VALUES
    (62, 2, NULL, '030 2345678', 'Germany'), (62, 2, NULL, '020 7946 4494', 'UK');
SELECT * FROM leadflow.process_import(62, 2);
SELECT l.country, l.phone_e164 FROM leadflow.lead_imports i JOIN leadflow.leads l USING (org_id, lead_id)
 WHERE i.org_id = 62 AND i.batch_id = 2 ORDER BY l.country;
-- changing the country normalizes it again and reads the phone in it (a
-- US number read in France is too long: noted, the email still reaches her)
UPDATE leadflow.leads SET country = 'France', state = 'Île-de-France' WHERE org_id = 62 AND email = 'xx1@dq.example';
SELECT country, state, phone_e164, data_issues FROM leadflow.leads WHERE org_id = 62 AND email = 'xx1@dq.example';
SELECT field, problem, leads FROM leadflow.report_data_quality WHERE org_id = 62 AND field IN ('country', 'state') ORDER BY 1, 2;

-- source: canonical spelling (lower case, spaces and dashes as "_"), then
-- the org's alias; every spelling lands on one source
INSERT INTO leadflow.leads (org_id, email, source) VALUES
    (62, 's1@dq.example', 'Web Form'), (62, 's2@dq.example', 'web-form'), (62, 's3@dq.example', ' WEB_FORM '),
    (62, 's4@dq.example', 'Website Form'), (62, 's5@dq.example', 'Trade Show'), (62, 's6@dq.example', 'tradeshow'),
    (62, 's7@dq.example', 'Facebook'), (62, 's8@dq.example', 'fb'), (62, 's9@dq.example', 'Instagram'),
    (62, 's10@dq.example', 'AdWords'), (62, 's11@dq.example', 'Partner  --  Portal'), (62, 's12@dq.example', ' - ');
SELECT source, count(*) FROM leadflow.leads WHERE org_id = 62 AND email ~ '^s[0-9]+@' GROUP BY source ORDER BY source;
SELECT * FROM leadflow.capture(62, 'Facebook Lead Ads', '{"email": "s13@dq.example"}') \gset
SELECT source FROM leadflow.leads WHERE org_id = 62 AND email = 's13@dq.example';
-- an org's own alias applies at once (the cached configuration is reloaded)
INSERT INTO leadflow.source_aliases (org_id, alias, source) VALUES (62, 'partner_portal', 'referral');
INSERT INTO leadflow.leads (org_id, email, source) VALUES (62, 's14@dq.example', 'Partner Portal') RETURNING source;
-- aliases are stored canonical
INSERT INTO leadflow.source_aliases (org_id, alias, source) VALUES (62, 'Some Spelling', 'referral');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
-- a new org gets the default aliases
SELECT count(*) = (SELECT count(*) FROM leadflow.default_source_aliases()) AS seeded
  FROM leadflow.source_aliases WHERE org_id = 62 AND alias <> 'partner_portal';
-- an update of the source is canonical too
UPDATE leadflow.leads SET source = 'Trade-Show' WHERE org_id = 62 AND email = 's1@dq.example' RETURNING source;
-- reports: one row per canonical source
SELECT source, leads FROM leadflow.report_source_performance WHERE org_id = 62 AND source IN ('web_form', 'trade_show', 'meta_ads', 'google_ads') ORDER BY source;

-- a submission is stored once: Meta's id/leadgen_id, Google's lead_id, a
-- form's external_id; a replay returns the lead with outcome "unchanged"
-- and stores nothing (no row, no journey, no signal)
SELECT outcome FROM leadflow.capture(62, 'meta_ads',
    '{"id": "9001", "field_data": [{"name": "email", "values": ["meta@dq.example"]}]}');
SELECT count(*) AS steps_before FROM leadflow.lead_journey WHERE org_id = 62 \gset
SELECT count(*) AS signals_before FROM leadflow.lead_signals WHERE org_id = 62 \gset
SELECT outcome, lead_id = (SELECT lead_id FROM leadflow.leads WHERE org_id = 62 AND email = 'meta@dq.example') AS same_lead
  FROM leadflow.capture(62, 'meta_ads', '{"id": "9001", "field_data": [{"name": "email", "values": ["meta@dq.example"]}]}');
SELECT outcome FROM leadflow.capture(62, 'Facebook', '{"leadgen_id": "9001", "field_data": [{"name": "email", "values": ["other@dq.example"]}]}');
SELECT outcome FROM leadflow.capture(62, 'google_ads',
    '{"lead_id": "G-7", "user_column_data": [{"column_id": "EMAIL", "string_value": "goog@dq.example"}]}');
SELECT outcome FROM leadflow.capture(62, 'google_ads',
    '{"lead_id": "G-7", "user_column_data": [{"column_id": "EMAIL", "string_value": "goog@dq.example"}]}');
SELECT outcome FROM leadflow.capture(62, 'web_form', '{"external_id": "F-1", "email": "form1@dq.example"}');
SELECT outcome FROM leadflow.capture(62, 'web_form', '{"external_id": "F-1", "email": "form1@dq.example"}');
-- the same id from another source is another submission
SELECT outcome FROM leadflow.capture(62, 'google_ads', '{"lead_id": "9001", "user_column_data": [{"column_id": "EMAIL", "string_value": "g9001@dq.example"}]}');
-- a plain INSERT of a stored submission stores nothing: it is not in the affected rows
INSERT INTO leadflow.leads (org_id, email, source, external_id)
VALUES (62, 'meta@dq.example', 'meta_ads', '9001'), (62, 'new9002@dq.example', 'meta_ads', '9002');
SELECT source, external_id, count(*) FROM leadflow.leads
 WHERE org_id = 62 AND external_id IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2;
SELECT count(*) - :steps_before AS new_journey_rows_but_created_ones,
       (SELECT count(*) FROM leadflow.lead_journey WHERE org_id = 62 AND kind = 'created'
           AND lead_id IN (SELECT lead_id FROM leadflow.leads WHERE org_id = 62
                            AND email IN ('goog@dq.example', 'form1@dq.example', 'g9001@dq.example', 'new9002@dq.example'))) AS created_rows
  FROM leadflow.lead_journey WHERE org_id = 62 AND lead_id NOT IN
       (SELECT lead_id FROM leadflow.leads WHERE org_id = 62
           AND email IN ('goog@dq.example', 'form1@dq.example', 'g9001@dq.example', 'new9002@dq.example'));
SELECT count(*) - :signals_before AS new_signals FROM leadflow.lead_signals WHERE org_id = 62;

-- CSV: importing the same file again changes nothing (same external_id, or
-- the same fields as a row imported before); a repeat within the file is
-- unchanged too
INSERT INTO leadflow.lead_imports (org_id, batch_id, first_name, email, phone, source, external_id) VALUES
    (62, 3, 'Ann', 'ann@dq.example', NULL, 'Trade Show', NULL),
    (62, 3, 'Ann', 'ANN@dq.example', NULL, 'Trade Show', NULL),
    (62, 3, 'Bo', NULL, '+1 415 555 0170', 'Trade Show', NULL),
    (62, 3, 'Cy', 'cy@dq.example', 'n/a', 'crm', 'C-1'),
    (62, 3, 'Cy', 'cy.two@dq.example', NULL, 'CRM', 'C-1'),
    (62, 3, 'Bo', NULL, '+1 415 555 0170', 'Trade Show', NULL),
    (62, 3, NULL, NULL, NULL, NULL, NULL);
SELECT * FROM leadflow.process_import(62, 3);
SELECT count(*) AS leads_after_first_import FROM leadflow.leads WHERE org_id = 62 \gset
SELECT count(*) AS signals_after_first_import FROM leadflow.lead_signals WHERE org_id = 62 \gset
INSERT INTO leadflow.lead_imports (org_id, batch_id, first_name, email, phone, source, external_id)
SELECT org_id, 4, first_name, email, phone, source, external_id FROM leadflow.lead_imports
 WHERE org_id = 62 AND batch_id = 3 ORDER BY row_number;
SELECT * FROM leadflow.process_import(62, 4);
SELECT count(*) - :leads_after_first_import AS new_leads,
       (SELECT count(*) FROM leadflow.lead_signals WHERE org_id = 62) - :signals_after_first_import AS new_signals
  FROM leadflow.leads WHERE org_id = 62;
WITH first AS (SELECT row_number() OVER (ORDER BY row_number) AS n, unchanged, lead_id, error
                 FROM leadflow.lead_imports WHERE org_id = 62 AND batch_id = 3),
     second AS (SELECT row_number() OVER (ORDER BY row_number) AS n, unchanged, lead_id, error
                  FROM leadflow.lead_imports WHERE org_id = 62 AND batch_id = 4)
SELECT f.n AS row, f.unchanged AS unchanged_first, s.unchanged AS unchanged_second,
       s.lead_id = leadflow.survivor_of(62, f.lead_id) AS same_live_lead, s.error
  FROM first f JOIN second s USING (n) ORDER BY f.n;

-- process_import names the problem: a batch that does not exist, an org not set
SELECT * FROM leadflow.process_import(62, 424242);
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
RESET leadflow.org_id;
INSERT INTO leadflow.lead_imports (email) VALUES ('no-org@dq.example');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
\set VERBOSITY default
INSERT INTO leadflow.lead_imports (email) VALUES ('no-org@dq.example');
SELECT * FROM leadflow.process_import(62, 424242);
\set VERBOSITY terse

-- Meta: campaign_name is the campaign, created_time the submission time
-- (report_lead_volume counts that day), ad_name, adset_name, form_id and
-- platform stay in attributes
SELECT outcome FROM leadflow.capture(62, 'meta_ads', '{"id": "9100", "created_time": "2026-10-02T18:15:40+0000",
    "campaign_name": "Fall Promo", "ad_name": "Video A", "adset_name": "EU 25-45", "form_id": "141349", "platform": "ig",
    "field_data": [{"name": "email", "values": ["meta9100@dq.example"]}]}');
SELECT campaign, submitted_at, created_at > submitted_at AS captured_later, attributes
  FROM leadflow.leads WHERE org_id = 62 AND email = 'meta9100@dq.example';
SELECT day, source, leads FROM leadflow.report_lead_volume WHERE org_id = 62 AND day = '2026-10-02';
-- Google: the org's google_ads_key is checked (28000, nothing stored, no
-- key in the message); is_test leads are not stored (outcome test)
UPDATE leadflow.orgs SET settings = settings || '{"google_ads_key": "k-62-secret"}' WHERE org_id = 62;
SELECT * FROM leadflow.capture(62, 'google_ads', '{"lead_id": "G-8", "google_key": "guess",
    "user_column_data": [{"column_id": "EMAIL", "string_value": "g8@dq.example"}]}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT * FROM leadflow.capture(62, 'google_ads', '{"lead_id": "G-9",
    "user_column_data": [{"column_id": "EMAIL", "string_value": "g9@dq.example"}]}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT * FROM leadflow.capture(62, 'google_ads', '{"lead_id": "G-10", "google_key": "k-62-secret", "is_test": true,
    "user_column_data": [{"column_id": "EMAIL", "string_value": "g10@dq.example"}]}');
SELECT outcome FROM leadflow.capture(62, 'google_ads', '{"lead_id": "G-11", "google_key": "k-62-secret",
    "user_column_data": [{"column_id": "EMAIL", "string_value": "g11@dq.example"}]}');
SELECT email, attributes FROM leadflow.leads WHERE org_id = 62 AND email ~ '^g(8|9|10|11)@' ORDER BY email;
UPDATE leadflow.orgs SET settings = settings || '{"google_ads_key": ""}' WHERE org_id = 62;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- default title scoring by whole words (rule op "word"): a VPN engineer is
-- no VP, "VP" and "Vice President" score the same, C-level and founders at
-- least as much as VPs
INSERT INTO leadflow.leads (org_id, email, job_title)
SELECT 62, 'title' || n || '@dq.example', t
  FROM unnest(ARRAY['VPN Engineer', 'VP Sales', 'Vice President, Sales', 'SVP Marketing', 'CEO',
                    'Co-Founder & CTO', 'President', 'Directory Administrator', 'Sales Director',
                    'Account Manager', 'Internal Auditor']) WITH ORDINALITY u(t, n);
SELECT job_title, score_demographic FROM leadflow.leads
 WHERE org_id = 62 AND email LIKE 'title%@dq.example' ORDER BY lead_id;
-- the op is checked when the rule is written
INSERT INTO leadflow.scoring_rules (org_id, model_id, name, category, points, predicate)
SELECT 62, model_id, 'bad', 'demographic', 1, '{"field": "job_title", "op": "word", "value": " vp"}'
  FROM leadflow.scoring_models WHERE org_id = 62 AND active;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
INSERT INTO leadflow.scoring_rules (org_id, model_id, name, category, points, predicate)
SELECT 62, model_id, 'bad', 'demographic', 1, '{"field": "job_title", "op": "word", "value": []}'
  FROM leadflow.scoring_models WHERE org_id = 62 AND active;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
INSERT INTO leadflow.scoring_rules (org_id, model_id, name, category, points, predicate)
SELECT 62, model_id, 'bad', 'demographic', 1, '{"field": "company_size", "op": "word", "value": "x"}'
  FROM leadflow.scoring_models WHERE org_id = 62 AND active;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
