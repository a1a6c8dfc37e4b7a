-- The messy CSV of issue 18: 1,000 rows as another CRM exports them
-- (mixed-case emails, +tags, gmail dots, national and international
-- phones, 22 spellings of country, "Web Form" beside web_form, human
-- numbers, placeholders in optional fields, rows with no way to reach the
-- person).  The generator is below: every value is a function of the row
-- number, so the file is the same in every run.  Expected: no row with a
-- usable email or phone is lost, every email variant of one person merges,
-- importing the file again changes nothing, routing on country = 'DE'
-- catches every German spelling, and reports have one row per source.
\set VERBOSITY terse
SELECT setval(pg_get_serial_sequence('leadflow.leads', 'lead_id'), 98000) \gset
-- (company affinity off: the file's people share company domains across countries)
INSERT INTO leadflow.orgs (org_id, name, settings)
VALUES (98, 'Messy Import Org', '{"default_region": "US", "company_affinity_routing": false}');
INSERT INTO leadflow.teams (org_id, team_id, name, strategy) VALUES (98, 981, 'DACH', 'round_robin'), (98, 982, 'Rest', 'round_robin');
INSERT INTO leadflow.reps (org_id, team_id, name) VALUES (98, 981, 'Dora'), (98, 982, 'Rex');
INSERT INTO leadflow.routing_rules (org_id, position, name, predicate, assign_to, team_id) VALUES
    (98, 10, 'Germany to DACH', '{"field": "country", "op": "eq", "value": "DE"}', 'team', 981),
    (98, 20, 'Everyone else', '{"all": []}', 'team', 982);

-- the generator: row r (1..1000) is person p, who repeats every 7th row
-- with a variant of the same email
CREATE TEMP TABLE messy AS
WITH g AS (
    SELECT r, CASE WHEN r % 7 = 0 THEN r - 3 ELSE r END AS p,
           (ARRAY['Germany', 'Deutschland', 'DE', 'DEU', 'germany', 'United Kingdom', 'UK', 'GB', 'U.K.',
                  'England', 'India', 'IN', 'IND', 'United States', 'USA', 'US', 'U.S.A.', 'France', 'FR',
                  'Österreich', 'Netherlands', 'Holland'])[1 + (CASE WHEN r % 7 = 0 THEN r - 3 ELSE r END) % 22] AS country
      FROM generate_series(1, 1000) r)
SELECT r, p, country,
       'Ann' || p AS first_name, 'Lee' || p AS last_name,
       CASE WHEN p % 50 = 1 THEN 'not-an-email-' || p                               -- unusable email
            WHEN p % 10 = 2 THEN NULL                                               -- phone-only
            WHEN r % 7 <> 0 THEN CASE WHEN p % 3 = 0 THEN 'ann.lee' || p || '@gmail.com'
                                      ELSE 'ann' || p || '@firm' || (p % 40) || '.example' END
            ELSE CASE r % 4                                                         -- variants
                 WHEN 0 THEN upper(CASE WHEN p % 3 = 0 THEN 'ann.lee' || p || '@gmail.com' ELSE 'ann' || p || '@firm' || (p % 40) || '.example' END)
                 WHEN 1 THEN CASE WHEN p % 3 = 0 THEN 'annlee' || p || '@googlemail.com' ELSE 'ann' || p || '+crm@firm' || (p % 40) || '.example' END
                 WHEN 2 THEN '  ' || CASE WHEN p % 3 = 0 THEN 'Ann.Lee' || p || '@GMail.com' ELSE 'Ann' || p || '@Firm' || (p % 40) || '.example' END || ' '
                 ELSE CASE WHEN p % 3 = 0 THEN 'a.n.n.l.e.e' || p || '@gmail.com' ELSE 'ANN' || p || '+news@FIRM' || (p % 40) || '.EXAMPLE' END
                 END
       END AS email,
       CASE WHEN p % 50 = 1 AND p % 100 = 1 THEN 'n/a'                              -- nothing usable: refused
            WHEN p % 50 = 1 THEN '+1 415 555 ' || lpad((p % 10000)::text, 4, '0')   -- bad email, good phone
            WHEN p % 10 = 2 THEN CASE WHEN (p % 22) < 5 THEN '030 ' || lpad((1000000 + p)::text, 7, '0')   -- German national
                                      WHEN (p % 22) BETWEEN 5 AND 9 THEN '+44 20 7946 ' || lpad((p % 10000)::text, 4, '0')
                                      ELSE '+1 212 555 ' || lpad((p % 10000)::text, 4, '0') END
            ELSE (ARRAY['n/a', 'tbd', '0', '', '555-CALL-NOW', NULL, '+49 30 ' || (2000000 + p), '(415) 555-' || lpad((p % 10000)::text, 4, '0')])[1 + p % 8]
       END AS phone,
       (ARRAY['Web Form', 'web_form', 'web-form', 'Trade Show', 'trade_show', 'Facebook', 'fb', 'AdWords', 'referral'])[1 + r % 9] AS source,
       (ARRAY['1,200', '500+', '1.5k', '11-50', '', '250', NULL])[1 + p % 7] AS company_size,
       (ARRAY['$5M', '5,000,000', 'n/a', NULL])[1 + p % 4] AS annual_revenue
  FROM g;

-- "\copy" of the file: the same rows into the staging table
CREATE TEMP TABLE load_batch AS SELECT 9801 AS batch_id;
INSERT INTO leadflow.lead_imports (org_id, batch_id, first_name, last_name, email, phone, country, source, company_size, annual_revenue)
SELECT 98, 9801, first_name, last_name, email, phone, country, source, company_size, annual_revenue FROM messy ORDER BY r;
SELECT * FROM leadflow.process_import(98, 9801);

-- 0 lost: every row with a usable email or phone was stored or merged;
-- the rejected ones have neither
SELECT count(*) FILTER (WHERE i.lead_id IS NULL AND i.error IS NULL) AS lost,
       count(*) FILTER (WHERE i.error IS NOT NULL) AS rejected,
       count(*) FILTER (WHERE i.error IS NOT NULL AND NOT (m.email LIKE 'not-an-email%' AND m.phone = 'n/a')) AS rejected_with_a_usable_contact
  FROM leadflow.lead_imports i JOIN messy m ON m.r = i.row_number - (SELECT min(row_number) FROM leadflow.lead_imports WHERE org_id = 98) + 1
 WHERE i.org_id = 98 AND i.batch_id = 9801;
-- every email variant of a person merged into that person's one live lead
SELECT count(DISTINCT leadflow.survivor_of(98, i.lead_id)) AS live_leads_of_persons_with_email,
       count(DISTINCT m.p) AS persons_with_email
  FROM leadflow.lead_imports i JOIN messy m ON m.r = i.row_number - (SELECT min(row_number) FROM leadflow.lead_imports WHERE org_id = 98) + 1
 WHERE i.org_id = 98 AND i.batch_id = 9801 AND m.email IS NOT NULL AND m.email NOT LIKE 'not-an-email%';
-- countries: 22 spellings, 7 codes; placeholders kept and noted
SELECT country, count(*) FROM leadflow.leads WHERE org_id = 98 AND merged_into IS NULL GROUP BY 1 ORDER BY 1;
SELECT field, problem, leads FROM leadflow.report_data_quality WHERE org_id = 98 ORDER BY 1, 2;

-- routing on country = 'DE' catches Germany, Deutschland, DE, DEU, germany
-- (and their "030 ..." and "+49 30 ..." numbers read in Germany)
SELECT m.country AS typed, l.country, l.team_id, count(*)
  FROM leadflow.leads l
  JOIN leadflow.lead_imports i ON i.org_id = l.org_id AND i.lead_id = l.lead_id
  JOIN messy m ON m.r = i.row_number - (SELECT min(row_number) FROM leadflow.lead_imports WHERE org_id = 98) + 1
 WHERE l.org_id = 98 AND l.merged_into IS NULL AND l.country = 'DE'
 GROUP BY 1, 2, 3 ORDER BY 1;
SELECT count(*) AS german_leads_not_routed_to_dach FROM leadflow.leads
 WHERE org_id = 98 AND merged_into IS NULL AND country = 'DE' AND team_id IS DISTINCT FROM 981;
SELECT count(*) AS german_numbers_not_e164 FROM leadflow.leads
 WHERE org_id = 98 AND country = 'DE' AND (phone LIKE '030 %' OR phone LIKE '+49 %') AND phone_e164 NOT LIKE '+4930%';

-- reports: one row per canonical source
SELECT source, leads FROM leadflow.report_source_performance WHERE org_id = 98 ORDER BY source;

-- importing the same file again changes nothing
SELECT count(*) AS leads_before FROM leadflow.leads WHERE org_id = 98 \gset
SELECT count(*) AS signals_before FROM leadflow.lead_signals WHERE org_id = 98 \gset
SELECT count(*) AS steps_before FROM leadflow.lead_journey WHERE org_id = 98 \gset
INSERT INTO leadflow.lead_imports (org_id, batch_id, first_name, last_name, email, phone, country, source, company_size, annual_revenue)
SELECT 98, 9802, first_name, last_name, email, phone, country, source, company_size, annual_revenue FROM messy ORDER BY r;
SELECT * FROM leadflow.process_import(98, 9802);
SELECT (SELECT count(*) FROM leadflow.leads WHERE org_id = 98) - :leads_before AS new_leads,
       (SELECT count(*) FROM leadflow.lead_signals WHERE org_id = 98) - :signals_before AS new_signals,
       (SELECT count(*) FROM leadflow.lead_journey WHERE org_id = 98) - :steps_before AS new_journey_rows;
SELECT count(*) AS broken_links FROM leadflow.verify_journey(98);
