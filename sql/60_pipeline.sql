-- Entry points: capture() for web forms, Meta Lead Ads and Google Ads
-- payloads; CSV import through lead_imports and process_import().
\set VERBOSITY terse
-- lead ids of this file start at 60001, whatever ran before
SELECT setval(pg_get_serial_sequence('leadflow.leads', 'lead_id'), 60000) \gset
INSERT INTO leadflow.orgs (org_id, name, settings) VALUES (60, 'Pipeline Org', '{"default_region": "DE"}');

-- a flat web form: known fields mapped, unknown keys to attributes
SELECT outcome FROM leadflow.capture(60, 'web_form', '{
    "first_name": "Misael", "last_name": "Mann", "email": "misael.mann@tridentsystems.com",
    "company": "Trident Systems", "job_title": "Head of Data", "company_size": 757,
    "utm_medium": "social", "favorite_color": "green", "consent": {"email": true}}');
SELECT first_name, last_name, email_normalized, company, job_title, company_size, source, attributes
  FROM leadflow.leads WHERE org_id = 60 AND email = 'misael.mann@tridentsystems.com';

-- Meta Lead Ads: field_data, full_name split, meta ids kept as attributes
SELECT outcome FROM leadflow.capture(60, 'meta_ads', '{
    "id": "1397066200554228", "created_time": "2026-10-02T18:15:40+0000", "ad_id": "238471", "form_id": "141349",
    "field_data": [{"name": "full_name", "values": ["Anand Embranthiri"]},
                   {"name": "email", "values": ["anand@yahoo.co.in"]},
                   {"name": "phone_number", "values": ["+911138376408"]},
                   {"name": "job_title", "values": ["Sales Director EMEA"]},
                   {"name": "which_crm_do_you_use_today?", "values": ["None"]}],
    "platform": "ig"}');
SELECT first_name, last_name, email_normalized, phone_e164, job_title, company_domain, attributes
  FROM leadflow.leads WHERE org_id = 60 AND source = 'meta_ads';

-- Google Ads lead form: user_column_data with column ids; a national number
-- is read with the org default region (DE)
SELECT outcome FROM leadflow.capture(60, 'google_ads', '{
    "lead_id": "TeSter-123", "campaign_id": 123456, "gcl_id": "abc", "form_id": 42,
    "user_column_data": [{"column_id": "FIRST_NAME", "string_value": "Greta"},
                         {"column_id": "LAST_NAME", "string_value": "Vogel"},
                         {"column_id": "WORK_EMAIL", "string_value": "greta.vogel@bahn-logistik.de"},
                         {"column_id": "PHONE_NUMBER", "string_value": "030 1234567"},
                         {"column_id": "COMPANY_NAME", "string_value": "Bahn Logistik GmbH"},
                         {"column_id": "COUNTRY", "string_value": "DE"},
                         {"column_id": "COMPANY_SIZE", "string_value": "51-200"}]}');
SELECT first_name, last_name, email_normalized, phone_e164, company, company_domain, country, company_size, attributes
  FROM leadflow.leads WHERE org_id = 60 AND source = 'google_ads';

-- the same person again: merged, and capture returns the live lead
SELECT c.outcome, c.lead_id = l.lead_id AS returns_live_lead
  FROM leadflow.capture(60, 'web_form', '{"email": "Greta.Vogel+webinar@bahn-logistik.de", "city": "Berlin"}') c,
       leadflow.leads l
 WHERE l.org_id = 60 AND l.email = 'greta.vogel@bahn-logistik.de';
SELECT city FROM leadflow.leads WHERE org_id = 60 AND email = 'greta.vogel@bahn-logistik.de';

-- bad payloads: 22023 naming the problem, nothing stored
SELECT * FROM leadflow.capture(60, 'web_form', '[1, 2]');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT * FROM leadflow.capture(60, 'web_form', '{"first_name": "Nobody", "favorite_color": "red"}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT * FROM leadflow.capture(60, 'meta_ads', '{"field_data": {"name": "email"}}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT * FROM leadflow.capture(60, 'meta_ads', '{"field_data": [{"values": ["x@y.de"]}]}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT * FROM leadflow.capture(60, 'google_ads', '{"user_column_data": [{"string_value": "x@y.de"}]}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT * FROM leadflow.capture(60, 'web_form', '{"email": "not-an-email"}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT count(*) AS leads FROM leadflow.leads WHERE org_id = 60;

-- CSV import: \copy into the staging table (org from the session setting,
-- batch from the loading transaction), then process_import
SET leadflow.org_id = 60;
COPY leadflow.lead_imports (first_name, last_name, email, phone, company, company_size, annual_revenue, country, source)
FROM stdin WITH (FORMAT csv, HEADER true);
first_name,last_name,email,phone,company,company_size,annual_revenue,country,source
Lena,Koch,lena.koch@example.de,030 2345678,Koch AG,120,1500000,DE,trade_show
Lena,Koch,LENA.KOCH@example.de,,Koch AG,,,DE,trade_show
Max,Bauer,,0151 23456789,,,,DE,
Nina,,nina@,,,,,DE,trade_show
Otto,,,,Otto GmbH,,,DE,trade_show
Paul,Roth,paul@roth.example.de,12,,,,DE,trade_show
Rita,Senn,rita@senn.example.de,,,"lots",,DE,referral
Sara,Wolf,sara@wolf.example.de,,,,-5,DE,referral
"Tom ""TJ""",Jung,tom@jung.example.de,,"Jung, Söhne & Co",15,,DE,referral
\.
RESET leadflow.org_id;
SELECT count(DISTINCT batch_id) AS batches FROM leadflow.lead_imports WHERE org_id = 60;
SELECT batch_id AS batch FROM leadflow.lead_imports WHERE org_id = 60 LIMIT 1 \gset
SELECT * FROM leadflow.process_import(60, :batch);
SELECT row_number - min(row_number) OVER () + 1 AS row, first_name, error, lead_id IS NOT NULL AS imported
  FROM leadflow.lead_imports WHERE org_id = 60 ORDER BY row_number;
SELECT l.first_name, l.last_name, l.company, l.company_size, l.status, l.source, l.phone_e164
  FROM leadflow.leads l JOIN leadflow.lead_imports i USING (org_id, lead_id)
 WHERE l.org_id = 60 ORDER BY i.row_number;
-- processing a batch twice changes nothing
SELECT * FROM leadflow.process_import(60, :batch);
SELECT count(*) AS leads FROM leadflow.leads WHERE org_id = 60;

SELECT * FROM leadflow.verify_journey(60);
