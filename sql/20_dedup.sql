-- Normalization in the pipeline, validation, deduplication on insert
-- (single rows, INSERT ... SELECT, COPY), enrichment, manual merge/unmerge
-- and possible duplicates.
\set VERBOSITY terse
-- lead ids of this file start at 20001, whatever ran before
SELECT setval(pg_get_serial_sequence('leadflow.leads', 'lead_id'), 20000) \gset
INSERT INTO leadflow.orgs (org_id, name) VALUES (20, 'Dedup Org');

-- normalized on insert: email, phone (org default region US), company domain
INSERT INTO leadflow.leads (org_id, first_name, email, phone, source)
VALUES (20, 'Ann', '  Ann.Smith+News@Gmail.com ', '(415) 555-0100', 'web_form')
RETURNING lead_id AS ann \gset
INSERT INTO leadflow.leads (org_id, first_name, last_name, email, source)
VALUES (20, 'Bob', 'Stone', 'Bob@Mail.EU.Acme.co.uk', 'trade_show')
RETURNING lead_id AS bob \gset
SELECT first_name, email, email_normalized, phone, phone_e164, company_domain, status
  FROM leadflow.leads WHERE org_id = 20 ORDER BY lead_id;
-- one journey row per inserted lead, recording what each stage did
SELECT lead_id = :ann AS ann, seq, kind, detail - 'workflow_id' - 'stage_id' #- '{scored,model_id}' AS detail
  FROM leadflow.lead_journey WHERE org_id = 20 ORDER BY lead_id, seq;

-- refused input: the field and value are named, nothing is stored
INSERT INTO leadflow.leads (org_id, email) VALUES (20, 'jane@@example.com');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
INSERT INTO leadflow.leads (org_id, email) VALUES (20, 'john.doe@');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
INSERT INTO leadflow.leads (org_id, phone) VALUES (20, 'call me');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
INSERT INTO leadflow.leads (org_id, first_name, email, phone) VALUES (20, 'Nobody', '  ', '');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
INSERT INTO leadflow.leads (org_id, email) VALUES (20, repeat('x', 1000000) || '@example.com');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
-- one bad row fails the whole statement
INSERT INTO leadflow.leads (org_id, email) VALUES (20, 'good@example.org'), (20, 'bad@');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT count(*) AS leads, (SELECT count(*) FROM leadflow.lead_emails WHERE org_id = 20) AS claims,
       (SELECT count(*) FROM leadflow.lead_journey WHERE org_id = 20) AS journey_rows
  FROM leadflow.leads WHERE org_id = 20;

-- a duplicate (case, +tag, gmail dots, googlemail) is stored merged; the
-- survivor keeps its owner, gets empty fields filled, a form_submit signal
INSERT INTO leadflow.reps (org_id, rep_id, name) VALUES (20, 201, 'Rita');
UPDATE leadflow.leads SET owner_rep_id = 201 WHERE lead_id = :ann;
INSERT INTO leadflow.leads (org_id, first_name, last_name, email, company, job_title, source)
VALUES (20, 'Annie', 'Smith', 'ANNSMITH+promo@googlemail.com', 'Smith Consulting', 'Owner', 'meta_ads')
RETURNING lead_id AS dup, status, merged_into = :ann AS merged_into_ann, stage_id IS NULL AS no_stage \gset
SELECT :'status' AS status, :'merged_into_ann' AS merged_into_ann, :'no_stage' AS no_stage;
SELECT first_name, last_name, company, job_title, owner_rep_id, status, last_activity_at IS NOT NULL AS touched
  FROM leadflow.leads WHERE lead_id = :ann;
SELECT kind, properties->>'source' AS source, (properties->>'duplicate_lead_id')::bigint = :dup AS names_duplicate
  FROM leadflow.lead_signals WHERE org_id = 20 AND lead_id = :ann;
SELECT kind, detail->>'source' AS source, (detail->>'duplicate_lead_id')::bigint = :dup AS names_duplicate,
       detail->'filled' AS filled
  FROM leadflow.lead_journey WHERE org_id = 20 AND lead_id = :ann AND kind = 'duplicate_touch';
SELECT seq, step, kind, (detail->>'merged_into')::bigint = :ann AS into_ann
  FROM leadflow.journey_events WHERE org_id = 20 AND lead_id = :dup ORDER BY seq, step;

-- within one INSERT ... SELECT and one COPY: one live lead per email
INSERT INTO leadflow.leads (org_id, email, source)
SELECT 20, e, 'csv' FROM (VALUES ('carol@example.net'), ('Carol@Example.NET'), ('carol+x@example.net'),
                                 ('dave@example.net')) v(e);
COPY leadflow.leads (org_id, email, source) FROM stdin WITH (FORMAT csv);
20,dave@EXAMPLE.net,copy
20,erin@example.net,copy
20, erin@example.net ,copy
\.
SELECT email_normalized, count(*) FILTER (WHERE merged_into IS NULL) AS live,
       count(*) FILTER (WHERE status = 'merged') AS merged
  FROM leadflow.leads WHERE org_id = 20 AND email_normalized ~ '^(carol|dave|erin)@'
 GROUP BY 1 ORDER BY 1;

-- with dedup_on_phone off, phone-only leads are never merged (listed as
-- possible duplicates instead); phone deduplication: sql/96_phone_dedup.sql
UPDATE leadflow.orgs SET settings = settings || '{"dedup_on_phone": false}' WHERE org_id = 20;
INSERT INTO leadflow.leads (org_id, first_name, phone) VALUES (20, 'Phil', '415-555-0100');
SELECT count(*) AS phone_leads FROM leadflow.leads
 WHERE org_id = 20 AND phone_e164 = '+14155550100' AND merged_into IS NULL;

-- enrichment: field by field, higher priority then newer profile wins
INSERT INTO leadflow.company_profiles (org_id, domain, provider, industry, company_size, annual_revenue, country, priority, updated_at)
VALUES (20, 'acme.co.uk', 'vendor_a', 'Manufacturing', NULL, 5000000, 'GB', 10, '2026-01-01'),
       (20, 'acme.co.uk', 'vendor_b', 'Industrial', 250, 6000000, 'IE', 5, '2026-06-01'),
       (20, 'acme.co.uk', 'vendor_c', NULL, 300, NULL, NULL, 5, '2026-03-01');
INSERT INTO leadflow.leads (org_id, email, country) VALUES (20, 'cfo@acme.co.uk', 'US')
RETURNING industry, company_size, annual_revenue, country, company_domain;
SELECT kind, detail FROM leadflow.journey_events
 WHERE org_id = 20 AND kind = 'enriched' ORDER BY lead_id DESC LIMIT 1;

-- changing a live lead's email moves its claim; taking another's is refused
UPDATE leadflow.leads SET email = 'robert@acme.co.uk' WHERE lead_id = :bob;
SELECT email_normalized, company_domain FROM leadflow.leads WHERE lead_id = :bob;
SELECT email_normalized FROM leadflow.lead_emails WHERE org_id = 20 AND lead_id = :bob;
UPDATE leadflow.leads SET email = 'CFO@acme.co.uk' WHERE lead_id = :bob;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
UPDATE leadflow.leads SET email = NULL, phone = NULL WHERE lead_id = :bob;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- manual merge moves signals and activities and fills fields; unmerge undoes it
INSERT INTO leadflow.leads (org_id, first_name, last_name, email, city) VALUES (20, 'Bobby', 'Stone', 'bstone@acme.co.uk', 'Leeds')
RETURNING lead_id AS bobby \gset
INSERT INTO leadflow.lead_signals (org_id, lead_id, kind) VALUES (20, :bobby, 'page_view'), (20, :bobby, 'email_open');
INSERT INTO leadflow.activities (org_id, lead_id, kind, subject) VALUES (20, :bobby, 'note', 'met at booth');
-- a duplicate bobby absorbed before: it follows bobby into bob, and back
INSERT INTO leadflow.leads (org_id, email, source) VALUES (20, 'BStone+ads@acme.co.uk', 'ads')
RETURNING merged_into = :bobby AS into_bobby, lead_id AS bobby_dup \gset
SELECT leadflow.merge_leads(:bob, :bobby) IS NOT NULL AS merged;
SELECT merged_into = :bob AS bobby_dup_into_bob FROM leadflow.leads WHERE lead_id = :bobby_dup;
SELECT status, merged_into = :bob AS into_bob FROM leadflow.leads WHERE lead_id = :bobby;
SELECT city FROM leadflow.leads WHERE lead_id = :bob;
SELECT count(*) AS signals_on_bob FROM leadflow.lead_signals WHERE lead_id = :bob;
SELECT count(*) AS activities_on_bob FROM leadflow.activities WHERE lead_id = :bob;
SELECT lead_id = :bob AS bob_owns FROM leadflow.lead_emails WHERE org_id = 20 AND email_normalized = 'bstone@acme.co.uk';
-- a new lead with the merged lead's email now merges into the survivor
INSERT INTO leadflow.leads (org_id, email) VALUES (20, 'BStone@acme.co.uk') RETURNING merged_into = :bob AS into_bob;
SELECT leadflow.merge_leads(:bob, :bobby);
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.merge_leads(:bob, :bob);
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.unmerge_lead(:bobby) = :bob AS unmerged_from_bob;
SELECT status, merged_into FROM leadflow.leads WHERE lead_id = :bobby;
SELECT city FROM leadflow.leads WHERE lead_id = :bob;
SELECT count(*) AS signals_back FROM leadflow.lead_signals WHERE lead_id = :bobby;
SELECT count(*) AS activities_back FROM leadflow.activities WHERE lead_id = :bobby;
SELECT lead_id = :bobby AS bobby_owns FROM leadflow.lead_emails WHERE org_id = 20 AND email_normalized = 'bstone@acme.co.uk';
SELECT merged_into = :bobby AS bobby_dup_back FROM leadflow.leads WHERE lead_id = :bobby_dup;
-- merged_into only ever names a live lead of the same org: no merge into
-- itself, no chain through a merged lead (so no cycle), no other org
UPDATE leadflow.leads SET status = 'merged', merged_into = :bob WHERE lead_id = :bob;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
UPDATE leadflow.leads SET status = 'merged', merged_into = :bobby_dup WHERE lead_id = :bob;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
INSERT INTO leadflow.orgs (org_id, name) VALUES (21, 'Other Dedup Org');
INSERT INTO leadflow.leads (org_id, email) VALUES (21, 'someone@other.example') RETURNING lead_id AS other_org_lead \gset
UPDATE leadflow.leads SET status = 'merged', merged_into = :other_org_lead WHERE lead_id = :bob;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
-- nor a workflow of another org, even for a merged lead (no stage to check)
UPDATE leadflow.leads SET workflow_id = (SELECT workflow_id FROM leadflow.workflows WHERE org_id = 21 LIMIT 1)
 WHERE lead_id = :bobby_dup;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT status, merged_into = :bobby AS into_bobby FROM leadflow.leads WHERE lead_id IN (:bob, :bobby_dup) ORDER BY lead_id;
-- an automatic duplicate shares the survivor's email: unmerging it is refused
SELECT leadflow.unmerge_lead(:dup);
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT kind FROM leadflow.lead_journey WHERE org_id = 20 AND lead_id = :bobby ORDER BY seq;

-- possible duplicates: same phone, or same company and a similar name
INSERT INTO leadflow.leads (org_id, first_name, last_name, email) VALUES (20, 'Robert', 'Stone', 'rstone@acme.co.uk');
SELECT reason, similarity FROM leadflow.possible_duplicates WHERE org_id = 20 ORDER BY reason, similarity;

-- one statement of 10,000 leads (beyond the per-transaction caches and
-- write batches): one live lead per email, every journey complete
SELECT setval(pg_get_serial_sequence('leadflow.leads', 'lead_id'), 2000000) \gset
INSERT INTO leadflow.leads (org_id, email, source)
SELECT 20, 'bulk' || (g % 9000) || '@Bulk' || (g % 50) || '.example', 'bulk' FROM generate_series(1, 10000) g;
SELECT count(*) AS rows, count(*) FILTER (WHERE merged_into IS NULL) AS live,
       count(DISTINCT email_normalized) AS emails
  FROM leadflow.leads WHERE org_id = 20 AND source = 'bulk';
ANALYZE leadflow.leads, leadflow.lead_journey;
SELECT count(*) AS leads_without_created_row FROM leadflow.leads l
 WHERE l.org_id = 20 AND l.source = 'bulk'
   AND NOT EXISTS (SELECT FROM leadflow.lead_journey j
                    WHERE j.org_id = 20 AND j.lead_id = l.lead_id AND j.seq = 1 AND j.kind = 'created');
SELECT * FROM leadflow.verify_journey(20);

-- enrichment reads a domain's profiles once per backend; a change to the
-- profiles applies to the next lead
INSERT INTO leadflow.leads (org_id, email) VALUES (20, 'coo@acme.co.uk') RETURNING industry, company_size;
UPDATE leadflow.company_profiles SET industry = 'Robotics' WHERE org_id = 20 AND provider = 'vendor_a';
INSERT INTO leadflow.leads (org_id, email) VALUES (20, 'cto@acme.co.uk') RETURNING industry, company_size;
