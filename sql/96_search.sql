-- Lead search (org 43; org 44 holds look-alikes that must never show) and
-- re-enrichment of leads that came in before a vendor's profiles.
\set VERBOSITY terse
SELECT setval(pg_get_serial_sequence('leadflow.leads', 'lead_id'), 43000) \gset
INSERT INTO leadflow.orgs (org_id, name, settings) VALUES
  (43, 'Search Org', '{"default_region": "DE"}'), (44, 'Other Org', '{"default_region": "DE"}');
INSERT INTO leadflow.leads (org_id, first_name, last_name, email, phone, company) VALUES
  (43, 'Hans', 'Müller', 'Hans.Mueller@Example.com', '030 1234567', 'Acme GmbH'),
  (43, 'Anna', 'Schulz', 'anna.schulz@gmail.com', NULL, 'Globex'),
  (43, 'Jörg', 'Weiß', 'jw@initech.example', '+49 89 7654321', 'Initech AG'),
  (43, 'Maria', 'Moreno', 'maria@umbrella.example', NULL, 'Umbrella Corp'),
  (44, 'Hans', 'Müller', 'hans.mueller@example.com', '030 1234567', 'Acme GmbH'),
  (44, 'Anna', 'Schultz', 'anna.schulz@gmail.com', NULL, 'Globex');
-- a repeat of Anna with another spelling of her email merges into her lead
INSERT INTO leadflow.leads (org_id, first_name, last_name, email) VALUES (43, 'Anna', 'Schulz', 'Anna.Schulz+promo@googlemail.com');
SELECT lead_id, org_id, last_name, status, merged_into IS NOT NULL AS merged
  FROM leadflow.leads WHERE org_id IN (43, 44) ORDER BY lead_id;

-- an email matches exactly after normalization: case, +tag, Gmail dots
SELECT * FROM leadflow.search_leads(43, 'HANS.MUELLER@example.com');
SELECT * FROM leadflow.search_leads(43, 'a.n.n.a.schulz+newsletter@gmail.com');
SELECT * FROM leadflow.search_leads(43, 'anna.schulz@googlemail.com', include_merged => true);
SELECT * FROM leadflow.search_leads(43, 'nobody@example.com');
-- a phone in any format, read with the org's region (DE)
SELECT * FROM leadflow.search_leads(43, '+49 30 1234567');
SELECT * FROM leadflow.search_leads(43, '(030) 123-4567');
SELECT * FROM leadflow.search_leads(43, '0049 89/7654321');
-- names and company by similarity: misspelt, without accents, any case
SELECT * FROM leadflow.search_leads(43, 'Schultz');
SELECT * FROM leadflow.search_leads(43, 'muller');
SELECT * FROM leadflow.search_leads(43, 'JORG WEISS');
SELECT * FROM leadflow.search_leads(43, 'acme');
SELECT * FROM leadflow.search_leads(43, 'umbrela');
SELECT * FROM leadflow.search_leads(43, 'anna', max => 1);
SELECT count(*) AS nothing FROM leadflow.search_leads(43, 'zzzqqq');
-- another org's leads never show, whatever matches there
SELECT count(*) AS other_org FROM leadflow.search_leads(43, 'Schultz') s
  JOIN leadflow.leads l ON l.lead_id = s.lead_id WHERE l.org_id <> 43;
SELECT s.lead_id, l.org_id FROM leadflow.search_leads(44, 'muller') s JOIN leadflow.leads l ON l.lead_id = s.lead_id;
-- refused arguments
SELECT * FROM leadflow.search_leads(NULL, 'x');
SELECT * FROM leadflow.search_leads(43, 'x', 0);
SELECT count(*) AS empty_query FROM leadflow.search_leads(43, '  ');
-- several words: each must find a similar word of the lead; the score is
-- their mean similarity weighted by length ('dr' is in no name of the org:
-- it only lowers the score)
SELECT * FROM leadflow.search_leads(43, 'anna globex');
SELECT * FROM leadflow.search_leads(43, 'hans globex');
SELECT * FROM leadflow.search_leads(43, 'Dr Maria Moreno');
-- the names search: the org's words (through its key, or the trigram
-- index lead_words_trgm where the org has many), then the leads holding
-- those words through the leads' GIN index of words
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT word FROM leadflow.lead_words WHERE org_id = 43 AND word OPERATOR(public.%>) 'muller';
EXPLAIN (COSTS OFF) SELECT lead_id FROM leadflow.leads WHERE search_words && ARRAY['muller'];
SELECT search_words FROM leadflow.leads WHERE org_id = 43 ORDER BY lead_id LIMIT 4;
RESET enable_seqscan;
-- the pipeline keeps the column: a value written to it is computed again
UPDATE leadflow.leads SET search_words = '{forged}' WHERE org_id = 43 AND last_name = 'Moreno';
SELECT search_words FROM leadflow.leads WHERE org_id = 43 AND last_name = 'Moreno';
SELECT leadflow.search_words('Jean-Luc', 'O''Brien', 'Ærøskøbing Ferries, Inc.') AS words,
       leadflow.search_words(NULL, ' ', '--') AS no_words;
-- each org's words once, whatever number of leads hold them (two Annas of org 43)
SELECT org_id, pg_catalog.array_agg(word ORDER BY word) FROM leadflow.lead_words
 WHERE org_id IN (43, 44) GROUP BY org_id ORDER BY org_id;

-- Re-enrichment: leads captured before the vendor's profiles arrived
INSERT INTO leadflow.leads (org_id, email, industry, company_size) VALUES
  (43, 'cto@initech.example', 'Software', NULL),
  (43, 'cfo@initech.example', NULL, NULL),
  (43, 'ceo@hooli.example', NULL, 500);
INSERT INTO leadflow.company_profiles (org_id, domain, provider, industry, company_size, annual_revenue, country, priority, updated_at) VALUES
  (43, 'initech.example', 'vendor_a', 'Manufacturing', 250, NULL, 'US', 1, '2026-01-01'),
  (43, 'initech.example', 'vendor_b', 'Consulting', 300, 12000000, NULL, 0, '2026-06-01'),
  (43, 'hooli.example', 'vendor_b', 'Internet', 9000, 5000000000, 'US', 0, '2026-06-01'),
  (44, 'initech.example', 'vendor_c', 'Retail', 5, 1, 'FR', 9, '2026-06-01');
-- one domain first (given as a host name), then the rest
SELECT leadflow.enrich(43, 'www.hooli.example') AS enriched_hooli;
SELECT leadflow.enrich(43) AS enriched_rest;
SELECT leadflow.enrich(43) AS enriched_again;   -- nothing left empty to fill
SELECT email, industry, company_size, annual_revenue, country FROM leadflow.leads
 WHERE org_id = 43 AND company_domain IN ('initech.example', 'hooli.example') ORDER BY lead_id;
SELECT l.email, j.detail FROM leadflow.lead_journey j JOIN leadflow.leads l ON l.lead_id = j.lead_id
 WHERE j.org_id = 43 AND j.kind = 'enriched' ORDER BY j.lead_id, j.seq;
SELECT count(*) AS broken_links FROM leadflow.verify_journey(43);
SELECT leadflow.enrich(43, '127.0.0.1');
SELECT leadflow.enrich(NULL);

-- a duplicate that fills the survivor's empty names and company (the
-- pipeline's own update of the survivor, below the executor) keeps the
-- stored words and the org's words in step: the survivor is found by the
-- new name
INSERT INTO leadflow.leads (org_id, email) VALUES (43, 'kim@hooli.example');
INSERT INTO leadflow.leads (org_id, first_name, last_name, email, company)
VALUES (43, 'Kim', 'Nakamura', 'Kim@Hooli.example', 'Hooli');
SELECT l.last_name, l.search_words, s.matched, l.merged_into IS NULL AS live
  FROM leadflow.search_leads(43, 'nakamura') s JOIN leadflow.leads l ON l.lead_id = s.lead_id;

-- the org's words follow the leads: a lead inserted in a subtransaction
-- that rolls back leaves no word; a renamed lead is found by its new
-- name, its old one stays until pruned; an erased lead's words go unless
-- another lead of the org holds
-- them (Moreno: Maria Moreno), so no erased name stays in lead_words
BEGIN;
SAVEPOINT before_zeb;
INSERT INTO leadflow.leads (org_id, first_name, last_name, email) VALUES (43, 'Zebulonxq', 'Moreno', 'zeb@example.org');
ROLLBACK TO SAVEPOINT before_zeb;
INSERT INTO leadflow.leads (org_id, first_name, last_name, email) VALUES (43, 'Quentinxq', 'Moreno', 'quentin@example.org');
COMMIT;
SELECT word FROM leadflow.lead_words WHERE org_id = 43 AND word IN ('zebulonxq', 'quentinxq', 'moreno') ORDER BY word;
UPDATE leadflow.leads SET company = 'Vandelayxq Industries', first_name = 'Quintusxq'
 WHERE org_id = 43 AND email = 'quentin@example.org';
SELECT s.matched, l.first_name FROM leadflow.search_leads(43, 'vandelayxq') s JOIN leadflow.leads l ON l.lead_id = s.lead_id;
-- the first name it had stays until pruned (the org's words no lead holds)
SELECT word FROM leadflow.lead_words WHERE org_id = 43 AND word IN ('quentinxq', 'quintusxq') ORDER BY word;
SELECT leadflow.prune_search_words(43) AS pruned;
SELECT word FROM leadflow.lead_words WHERE org_id = 43 AND word IN ('quentinxq', 'quintusxq') ORDER BY word;
SELECT leadflow.erase_lead((SELECT lead_id FROM leadflow.leads WHERE org_id = 43 AND email = 'quentin@example.org'), 'REQ-43');
SELECT word FROM leadflow.lead_words WHERE org_id = 43 AND word IN ('quintusxq', 'vandelayxq', 'industries', 'moreno') ORDER BY word;
SELECT count(*) AS found_after_erasure FROM leadflow.search_leads(43, 'quintusxq');
SELECT count(*) AS found_after_erasure FROM leadflow.search_leads(43, 'vandelayxq');

-- one query word: the leads come by the similarity of the best word they
-- hold, tier by tier, each tier in lead_id order, max across the tiers
INSERT INTO leadflow.orgs (org_id, name) VALUES (4310, 'Tier Org');
INSERT INTO leadflow.leads (org_id, first_name, last_name, email) VALUES
  (4310, 'Ida', 'Schulze', 'ida@tiers.example'), (4310, 'Ola', 'Schultz', 'ola@tiers.example'),
  (4310, 'Uwe', 'Schulz', 'uwe@tiers.example'), (4310, 'Eva', 'Schulz', 'eva@tiers.example');
SELECT l.first_name, s.score FROM leadflow.search_leads(4310, 'schulz') WITH ORDINALITY s JOIN leadflow.leads l ON l.lead_id = s.lead_id ORDER BY s.ordinality;
SELECT l.first_name, s.score FROM leadflow.search_leads(4310, 'schulz', 3) WITH ORDINALITY s JOIN leadflow.leads l ON l.lead_id = s.lead_id ORDER BY s.ordinality;
