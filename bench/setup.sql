-- leadflow bench: the workload, loaded into every bench database after
-- CREATE EXTENSION leadflow (bench/run.sh does both).  Defines, in schema
-- "bench":
--   bench.h(x, salt)            deterministic hash, 0 .. 2^31-1
--   bench.company_domain(k)     the k-th of 500 company domains (k = 0..499)
--   bench.gen_leads(start, n)   rows start .. start+n-1 of the lead stream
--   bench.setup_org(...)        an org with teams, reps, named accounts,
--                               company profiles, a 20-rule scoring model and
--                               routing rules
--   bench.plain_leads           the baseline: leads' columns and indexes, no
--                               triggers
-- Nothing here calls random(): every value is a function of the row number
-- (hashint8extended), so every run generates the same bytes.

\set ON_ERROR_STOP 1
SET client_min_messages = warning;

CREATE SCHEMA bench;

-- the baseline table: same columns (with defaults and identity) and the same
-- indexes as leadflow.leads, no triggers, no CHECK constraints
CREATE TABLE bench.plain_leads
    (LIKE leadflow.leads INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES);

CREATE FUNCTION bench.h(x bigint, salt integer)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (pg_catalog.hashint8extended(x, salt) & 2147483647)::integer $$;

-- 500 company domains: a word and the number, over 10 public suffixes
-- (com, io, co.uk, de, fr, com.au, net, nl, ...)
CREATE FUNCTION bench.company_domain(k integer)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT (ARRAY['northwind', 'contoso', 'fabrikam', 'globex', 'initech', 'umbrella', 'stark', 'wayne',
              'acme', 'hooli', 'vandelay', 'wonka', 'tyrell', 'cyberdyne', 'soylent', 'aperture',
              'gringotts', 'oscorp', 'duff', 'monarch', 'zenith', 'polaris', 'quantum', 'bluebird',
              'ironwood'])[1 + k % 25]
       || k::text || '.'
       || (ARRAY['com', 'com', 'com', 'io', 'co.uk', 'de', 'fr', 'com.au', 'net', 'nl'])[1 + (k * 7) % 10]
$$;

CREATE FUNCTION bench.company_name(k integer)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
SELECT pg_catalog.initcap(split_part(bench.company_domain(k), '.', 1))
       || (ARRAY[' Inc', ' Inc', ' Corp', ' Labs', ' Ltd', ' GmbH', ' SA', ' Pty Ltd', ' LLC', ' BV'])[1 + (k * 7) % 10]
$$;

-- The lead stream.  Row i is a person p: p = i, except for 12% of the rows
-- (exactly 3 in every block of 25 rows after the first block), which repeat
-- an earlier person (a non-duplicate row of an earlier block) with a
-- variant of that person's email: upper case, surrounding spaces, a
-- +tag, dots in a Gmail address, or a capitalised domain.  30% of the
-- persons use free mail; the others one of 500 company domains, 10% of them
-- through a subdomain (mail.<domain>, eu.<domain>).  Phones (70%) are in
-- E.164 or the national format of the lead's country.  source, campaign and
-- attributes depend on the row, everything else on the person.
CREATE FUNCTION bench.gen_leads(p_start bigint, p_n bigint)
RETURNS TABLE (i bigint, first_name text, last_name text, email text, phone text, company text,
               job_title text, industry text, company_size integer, annual_revenue numeric,
               country text, city text, source text, campaign text, attributes jsonb)
LANGUAGE sql IMMUTABLE
AS $$
SELECT g.i, pe.fn, pe.ln,
       CASE WHEN NOT d.dup THEN pe.email
            ELSE CASE bench.h(g.i, 10) % 5
                 WHEN 0 THEN upper(pe.email)
                 WHEN 1 THEN '  ' || pe.email || ' '
                 WHEN 2 THEN pe.loc || '+' || (ARRAY['news', 'promo', 'webinar', 'q4'])[1 + bench.h(g.i, 11) % 4]
                             || '@' || pe.dom
                 WHEN 3 THEN CASE WHEN pe.dom = 'gmail.com'
                                  THEN substr(pe.loc, 1, 2) || '.' || substr(pe.loc, 3) || '@GMail.com'
                                  ELSE initcap(pe.loc) || '@' || upper(pe.dom) END
                 ELSE ' ' || initcap(pe.loc) || '+' || g.i::text || '@' || pe.dom
                 END
       END,
       pe.phone, pe.company, pe.job_title, pe.industry, pe.company_size, NULL::numeric,
       pe.country, pe.city,
       src.source,
       CASE WHEN bench.h(g.i, 21) % 100 < 40
            THEN src.source || ' ' || (ARRAY['Q1', 'Q2', 'Q3', 'Q4'])[1 + bench.h(g.i, 22) % 4] || ' 2026' END,
       CASE WHEN bench.h(g.i, 23) % 100 < 1 THEN '{"competitor": true}'::jsonb
            WHEN bench.h(g.i, 23) % 100 < 7 THEN jsonb_build_object('utm_medium', 'cpc', 'utm_source', src.source)
            ELSE '{}'::jsonb END
  FROM generate_series(p_start, p_start + p_n - 1) AS g(i)
 CROSS JOIN LATERAL (SELECT (g.i - 1) / 25 AS b, (g.i - 1) % 25 AS pos) bp
 CROSS JOIN LATERAL (SELECT bp.b >= 1 AND (bench.h(bp.b, 1) % 25 + bp.pos) % 25 < 3 AS dup) d
 -- the person: for a duplicate, a non-duplicate row of an earlier block
 CROSS JOIN LATERAL (SELECT CASE WHEN NOT d.dup THEN g.i
                                 ELSE (bench.h(g.i, 2) % bp.b) * 25
                                      + ((3 + bench.h(g.i, 3) % 22 - bench.h(bench.h(g.i, 2) % bp.b, 1) % 25 + 50) % 25)
                                      + 1 END AS p) pp
 CROSS JOIN LATERAL (SELECT bench.h(pp.p, 4) % 100 < 30 AS free,
                            bench.h(pp.p, 8) % 500 AS k,
                            bench.h(pp.p, 13) AS dg,
                            (ARRAY['ann', 'ben', 'carla', 'david', 'eva', 'frank', 'grace', 'hiro', 'ines', 'jonas',
                                   'kate', 'liam', 'maria', 'noah', 'olga', 'pedro', 'quinn', 'rosa', 'sam', 'tara',
                                   'uma', 'victor', 'wen', 'xavier', 'yara', 'zoe', 'amir', 'bea', 'chen', 'dana',
                                   'elif', 'fatima', 'gus', 'hana', 'ivan', 'jin', 'kofi', 'lena', 'mateo', 'nina'])
                                [1 + bench.h(pp.p, 5) % 40] AS fn0,
                            (ARRAY['smith', 'mueller', 'garcia', 'rossi', 'nguyen', 'kowalski', 'tanaka', 'okafor',
                                   'silva', 'dubois', 'jansen', 'novak', 'johansson', 'murphy', 'patel', 'kim',
                                   'lopez', 'fischer', 'costa', 'ivanova', 'brown', 'wilson', 'martin', 'bernard',
                                   'schmidt', 'meyer', 'moreau', 'ricci', 'sato', 'chen', 'singh', 'haddad',
                                   'andersen', 'kovacs', 'popescu', 'yilmaz', 'mendes', 'oconnor', 'weber', 'li'])
                                [1 + bench.h(pp.p, 6) % 40] AS ln0,
                            bench.h(pp.p, 14) % 100 AS cx) px
 CROSS JOIN LATERAL (SELECT CASE WHEN px.cx < 35 THEN 'US' WHEN px.cx < 47 THEN 'GB' WHEN px.cx < 57 THEN 'DE'
                                 WHEN px.cx < 63 THEN 'CA' WHEN px.cx < 70 THEN 'FR' WHEN px.cx < 78 THEN 'IN'
                                 WHEN px.cx < 84 THEN 'AU' WHEN px.cx < 89 THEN 'NL' WHEN px.cx < 94 THEN 'ES'
                                 ELSE 'BR' END AS country,
                            CASE bench.h(pp.p, 7) % 4
                                 WHEN 0 THEN px.fn0 || '.' || px.ln0 WHEN 1 THEN px.fn0 || px.ln0
                                 WHEN 2 THEN substr(px.fn0, 1, 1) || px.ln0 ELSE px.fn0 || '_' || px.ln0
                            END || pp.p::text AS loc,
                            CASE WHEN px.free
                                 THEN CASE WHEN bench.h(pp.p, 9) % 100 < 40 THEN 'gmail.com'
                                           ELSE (ARRAY['yahoo.com', 'outlook.com', 'hotmail.com', 'gmx.de', 'web.de',
                                                       'icloud.com', 'proton.me', 'aol.com', 'yahoo.co.uk', 'mail.ru',
                                                       'orange.fr', 'googlemail.com'])[1 + bench.h(pp.p, 9) % 12] END
                                 WHEN bench.h(pp.p, 10) % 20 = 0 THEN 'mail.' || bench.company_domain(px.k)
                                 WHEN bench.h(pp.p, 10) % 20 = 1 THEN 'eu.' || bench.company_domain(px.k)
                                 ELSE bench.company_domain(px.k) END AS dom) pc
 CROSS JOIN LATERAL (
        SELECT initcap(px.fn0) AS fn, initcap(px.ln0) AS ln, pc.loc, pc.dom,
               CASE WHEN bench.h(pp.p, 15) % 5 = 0 THEN initcap(pc.loc) ELSE pc.loc END || '@' || pc.dom AS email,
               pc.country,
               (CASE pc.country
                     WHEN 'US' THEN ARRAY['New York', 'San Francisco', 'Chicago', 'Austin']
                     WHEN 'GB' THEN ARRAY['London', 'Manchester']
                     WHEN 'DE' THEN ARRAY['Berlin', 'Munich']
                     WHEN 'CA' THEN ARRAY['Toronto', 'Vancouver']
                     WHEN 'FR' THEN ARRAY['Paris', 'Lyon']
                     WHEN 'IN' THEN ARRAY['Hyderabad', 'Bengaluru']
                     WHEN 'AU' THEN ARRAY['Sydney', 'Melbourne']
                     WHEN 'NL' THEN ARRAY['Amsterdam', 'Rotterdam']
                     WHEN 'ES' THEN ARRAY['Madrid', 'Barcelona']
                     ELSE ARRAY['Sao Paulo', 'Rio de Janeiro'] END)[1 + bench.h(pp.p, 16) % 2] AS city,
               CASE WHEN bench.h(pp.p, 11) % 100 >= 70 THEN NULL
                    ELSE CASE WHEN bench.h(pp.p, 12) % 2 = 0 THEN
                              -- national format of the country
                              CASE pc.country
                                   WHEN 'US' THEN '(' || (ARRAY['212', '415', '312', '617', '206', '512'])[1 + px.dg % 6]
                                                  || ') 555-' || lpad((px.dg % 10000)::text, 4, '0')
                                   WHEN 'CA' THEN '(' || (ARRAY['416', '604', '514', '403'])[1 + px.dg % 4]
                                                  || ') 555-' || lpad((px.dg % 10000)::text, 4, '0')
                                   WHEN 'GB' THEN '020 7946 ' || lpad((px.dg % 1000)::text, 4, '0')
                                   WHEN 'DE' THEN '030 ' || lpad((px.dg % 10000000)::text, 7, '0')
                                   WHEN 'FR' THEN '01 ' || to_char(px.dg % 100000000, 'FM00 00 00 00')
                                   WHEN 'IN' THEN '040 ' || to_char(px.dg % 100000000, 'FM0000 0000')
                                   WHEN 'AU' THEN '(02) ' || to_char(px.dg % 100000000, 'FM0000 0000')
                                   WHEN 'NL' THEN '020 ' || to_char(px.dg % 10000000, 'FM000 0000')
                                   WHEN 'ES' THEN '912 ' || to_char(px.dg % 1000000, 'FM000 000')
                                   ELSE '(11) 9' || to_char(px.dg % 100000000, 'FM0000-0000') END
                         ELSE
                              -- E.164, written with spaces
                              CASE pc.country
                                   WHEN 'US' THEN '+1 ' || (ARRAY['212', '415', '312', '617', '206', '512'])[1 + px.dg % 6]
                                                  || ' 555 ' || lpad((px.dg % 10000)::text, 4, '0')
                                   WHEN 'CA' THEN '+1 ' || (ARRAY['416', '604', '514', '403'])[1 + px.dg % 4]
                                                  || ' 555 ' || lpad((px.dg % 10000)::text, 4, '0')
                                   WHEN 'GB' THEN '+44 20 7946 ' || lpad((px.dg % 1000)::text, 4, '0')
                                   WHEN 'DE' THEN '+49 30 ' || lpad((px.dg % 10000000)::text, 7, '0')
                                   WHEN 'FR' THEN '+33 1 ' || to_char(px.dg % 100000000, 'FM00 00 00 00')
                                   WHEN 'IN' THEN '+91 40 ' || to_char(px.dg % 100000000, 'FM0000 0000')
                                   WHEN 'AU' THEN '+61 2 ' || to_char(px.dg % 100000000, 'FM0000 0000')
                                   WHEN 'NL' THEN '+31 20 ' || to_char(px.dg % 10000000, 'FM000 0000')
                                   WHEN 'ES' THEN '+34 912 ' || to_char(px.dg % 1000000, 'FM000 000')
                                   ELSE '+55 11 9' || to_char(px.dg % 100000000, 'FM0000-0000') END
                         END
               END AS phone,
               CASE WHEN NOT px.free THEN bench.company_name(px.k)
                    WHEN bench.h(pp.p, 17) % 100 < 40
                    THEN (ARRAY['Freelance', 'Self-employed', 'Studio ', 'Consulting '])[1 + bench.h(pp.p, 18) % 4]
                         || CASE WHEN bench.h(pp.p, 18) % 4 >= 2 THEN initcap(px.ln0) ELSE '' END END AS company,
               CASE WHEN bench.h(pp.p, 19) % 100 < 8 THEN NULL
                    ELSE (ARRAY['CEO', 'CTO', 'Founder', 'Chief Revenue Officer', 'VP Sales', 'VP Marketing',
                                'Vice President, Operations', 'Director of Engineering', 'IT Director',
                                'Head of Growth', 'Head of Procurement', 'Marketing Manager', 'Sales Manager',
                                'Product Manager', 'Operations Manager', 'Account Executive', 'Software Engineer',
                                'Data Scientist', 'Analyst', 'Consultant', 'Recruiter', 'Office Manager',
                                'Customer Success Manager', 'Designer', 'Student', 'Intern', 'Teacher',
                                'Owner', 'Accountant', 'Engineer'])[1 + bench.h(pp.p, 20) % 30] END AS job_title,
               CASE WHEN NOT px.free AND bench.h(pp.p, 24) % 2 = 0
                    THEN (ARRAY['Software', 'Manufacturing', 'Retail', 'Healthcare', 'Finance', 'Logistics',
                                'Education', 'Media', 'Energy', 'Telecom'])[1 + px.k % 10] END AS industry,
               CASE WHEN NOT px.free AND bench.h(pp.p, 25) % 100 < 60
                    THEN (ARRAY[8, 25, 60, 150, 350, 800, 2500, 12000])[1 + bench.h(px.k, 26) % 8]
                    WHEN px.free AND bench.h(pp.p, 25) % 100 < 20 THEN 1 + bench.h(pp.p, 27) % 10 END AS company_size
     ) pe
 CROSS JOIN LATERAL (
        SELECT CASE WHEN bench.h(g.i, 30) % 100 < 25 THEN 'web_form'
                    WHEN bench.h(g.i, 30) % 100 < 40 THEN 'google_ads'
                    WHEN bench.h(g.i, 30) % 100 < 52 THEN 'meta_ads'
                    WHEN bench.h(g.i, 30) % 100 < 62 THEN 'landing_page'
                    WHEN bench.h(g.i, 30) % 100 < 70 THEN 'email_campaign'
                    WHEN bench.h(g.i, 30) % 100 < 76 THEN 'trade_show'
                    WHEN bench.h(g.i, 30) % 100 < 82 THEN 'partner'
                    WHEN bench.h(g.i, 30) % 100 < 88 THEN 'referral'
                    WHEN bench.h(g.i, 30) % 100 < 93 THEN 'chat'
                    WHEN bench.h(g.i, 30) % 100 < 97 THEN 'cold_call'
                    ELSE 'webinar' END AS source) src
$$;

-- An org with its sales floor and rules.  Teams, reps and rules are numbered
-- 1..n and named by number, so two orgs set up with the same arguments are
-- configured the same way.
--   p_teams teams (strategies round_robin, weighted_round_robin,
--   load_balanced, round_robin, ...), p_reps reps spread over them (one
--   manager per team, a few inactive, paused, away or capped), p_accounts
--   named accounts (half of them on the lead stream's company domains),
--   company profiles for 400 of the 500 company domains, a scoring model of
--   exactly 20 rules (12 field rules, 8 signal rules) replacing the default
--   model, and p_rules routing rules (the last one a catch-all; every 20th
--   from the 3rd a shadow rule).
CREATE FUNCTION bench.setup_org(p_org bigint, p_teams integer, p_reps integer, p_accounts integer,
                                p_rules integer, p_settings jsonb DEFAULT '{}')
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    v_model bigint;
    v_team bigint[];
    v_rep bigint[];
BEGIN
    INSERT INTO leadflow.orgs (org_id, name, settings)
    VALUES (p_org, 'Bench org ' || p_org, p_settings);

    INSERT INTO leadflow.teams (org_id, name, strategy)
    SELECT p_org, 'Team ' || t,
           (ARRAY['round_robin', 'weighted_round_robin', 'load_balanced', 'round_robin'])[1 + (t - 1) % 4]
      FROM generate_series(1, p_teams) t;
    SELECT array_agg(team_id ORDER BY team_id) INTO v_team FROM leadflow.teams WHERE org_id = p_org;

    INSERT INTO leadflow.reps (org_id, team_id, name, email, role, active, accepting_leads,
                               max_open_leads, weight, away_from, away_until)
    SELECT p_org, v_team[1 + (r - 1) % p_teams], 'Rep ' || r, 'rep' || r || '@bench-sales.example',
           CASE WHEN r <= p_teams THEN 'manager' WHEN r % 4 = 0 THEN 'ae' ELSE 'sdr' END,
           r % 37 <> 0,
           r % 41 <> 0,
           CASE WHEN r % 10 = 5 THEN 5000 END,
           1 + r % 3,
           CASE WHEN r % 29 = 0 THEN now() - interval '1 day' END,
           CASE WHEN r % 29 = 0 THEN now() + interval '7 days' END
      FROM generate_series(1, p_reps) r;
    SELECT array_agg(rep_id ORDER BY rep_id) INTO v_rep FROM leadflow.reps WHERE org_id = p_org;
    UPDATE leadflow.teams t SET manager_rep_id = v_rep[x.n]
      FROM (SELECT n, v_team[n] AS team_id FROM generate_series(1, p_teams) n) x
     WHERE t.org_id = p_org AND t.team_id = x.team_id AND x.n <= p_reps;

    -- named accounts: even company domains of the lead stream, and domains
    -- no lead uses
    INSERT INTO leadflow.accounts (org_id, name, domain, owner_rep_id)
    SELECT p_org,
           CASE WHEN a % 2 = 0 THEN bench.company_name(a) ELSE 'Account ' || a END,
           CASE WHEN a % 2 = 0 THEN bench.company_domain(a) ELSE 'account' || a || '.example.com' END,
           CASE WHEN a % 7 <> 6 THEN v_rep[1 + (a * 13) % p_reps] END
      FROM generate_series(0, p_accounts - 1) a;

    -- enrichment: 400 company domains, 100 of them from two providers
    INSERT INTO leadflow.company_profiles (org_id, domain, provider, industry, company_size,
                                           annual_revenue, country, priority, updated_at)
    SELECT p_org, bench.company_domain(k), prov,
           (ARRAY['Software', 'Manufacturing', 'Retail', 'Healthcare', 'Finance', 'Logistics',
                  'Education', 'Media', 'Energy', 'Telecom'])[1 + k % 10],
           (ARRAY[8, 25, 60, 150, 350, 800, 2500, 12000])[1 + bench.h(k, 26) % 8]
             + CASE WHEN prov = 'vendor_b' THEN 1 ELSE 0 END,
           ((1 + bench.h(k, 28) % 500) * 100000)::numeric,
           (ARRAY['US', 'GB', 'DE', 'FR', 'NL'])[1 + k % 5],
           CASE WHEN prov = 'vendor_a' THEN 10 ELSE 5 END,
           timestamptz '2026-10-01' + k * interval '1 hour'
      FROM generate_series(0, 499) k
     CROSS JOIN (VALUES ('vendor_a'), ('vendor_b')) v(prov)
     WHERE k % 5 <> 0 AND (prov = 'vendor_a' OR k % 4 = 1);

    -- scoring: a model of exactly 20 rules replaces the default model
    UPDATE leadflow.scoring_models SET active = false WHERE org_id = p_org;
    INSERT INTO leadflow.scoring_models (org_id, name, active, warm_at, hot_at, escalate_at)
    VALUES (p_org, 'Bench model', true, 30, 65, 80)
    RETURNING model_id INTO v_model;
    INSERT INTO leadflow.scoring_rules (org_id, model_id, name, category, points, predicate)
    VALUES
      (p_org, v_model, 'Executive', 'demographic', 25,
       '{"any": [{"field": "job_title", "op": "in", "value": ["ceo", "cto", "founder", "owner"]},
                 {"field": "job_title", "op": "prefix", "value": "chief"}]}'),
      (p_org, v_model, 'VP', 'demographic', 18,
       '{"any": [{"field": "job_title", "op": "prefix", "value": "vp"},
                 {"field": "job_title", "op": "prefix", "value": "vice president"}]}'),
      (p_org, v_model, 'Director or head', 'demographic', 12,
       '{"any": [{"field": "job_title", "op": "contains", "value": "director"},
                 {"field": "job_title", "op": "prefix", "value": "head of"}]}'),
      (p_org, v_model, 'Manager', 'demographic', 6,
       '{"field": "job_title", "op": "contains", "value": "manager"}'),
      (p_org, v_model, 'Student, intern or teacher', 'demographic', -25,
       '{"field": "job_title", "op": "in", "value": ["student", "intern", "teacher"]}'),
      (p_org, v_model, 'Competitor', 'demographic', -40,
       '{"field": "attributes.competitor", "op": "eq", "value": true}'),
      (p_org, v_model, 'Company email', 'demographic', 5,
       '{"field": "company_domain", "op": "exists"}'),
      (p_org, v_model, 'Enterprise', 'firmographic', 15,
       '{"field": "company_size", "op": "ge", "value": 1000}'),
      (p_org, v_model, 'Mid-market', 'firmographic', 10,
       '{"field": "company_size", "op": "between", "value": [200, 999]}'),
      (p_org, v_model, 'Target industry', 'firmographic', 5,
       '{"field": "industry", "op": "in", "value": ["software", "finance", "healthcare"]}'),
      (p_org, v_model, 'Core market', 'firmographic', 4,
       '{"all": [{"field": "country", "op": "in", "value": ["US", "GB", "DE", "CA"]},
                 {"not": {"field": "source", "op": "eq", "value": "cold_call"}}]}'),
      (p_org, v_model, 'Revenue 50M+', 'firmographic', 5,
       '{"field": "annual_revenue", "op": "ge", "value": 50000000}');
    INSERT INTO leadflow.scoring_rules (org_id, model_id, name, category, points, signal_kind, max_count, half_life)
    VALUES
      (p_org, v_model, 'Page views', 'behavioral', 2, 'page_view', 10, '14 days'),
      (p_org, v_model, 'Pricing page', 'behavioral', 6, 'pricing_view', 3, '14 days'),
      (p_org, v_model, 'Downloads', 'behavioral', 8, 'content_download', 3, '30 days'),
      (p_org, v_model, 'Form submissions', 'behavioral', 10, 'form_submit', 3, '30 days'),
      (p_org, v_model, 'Email opens', 'engagement', 2, 'email_open', 5, '14 days'),
      (p_org, v_model, 'Email clicks', 'engagement', 4, 'email_click', 5, '14 days'),
      (p_org, v_model, 'Replies', 'engagement', 12, 'reply', 2, '30 days'),
      (p_org, v_model, 'Meeting booked', 'engagement', 20, 'meeting_booked', 1, NULL);

    -- routing: p_rules - 1 rules over country, source, company_size and
    -- job_title (a few percent of the leads each), then a catch-all
    INSERT INTO leadflow.routing_rules (org_id, position, name, mode, predicate, assign_to, rep_id, team_id)
    SELECT p_org, k * 10, 'Rule ' || k || ' (' || x.kind || ')',
           CASE WHEN k % 20 = 3 AND k < p_rules THEN 'shadow' ELSE 'live' END,
           x.predicate, x.assign_to,
           CASE WHEN x.assign_to = 'rep' THEN v_rep[1 + (k * 7) % p_reps] END,
           CASE WHEN x.assign_to = 'team' THEN v_team[1 + (k - 1) % p_teams] END
      FROM generate_series(1, p_rules) k
     CROSS JOIN LATERAL (
        SELECT CASE WHEN k = p_rules THEN 'catch-all' ELSE (ARRAY['country+source', 'size+country', 'title+country',
                                                               'source+size'])[1 + k % 4] END AS kind,
               CASE WHEN k = p_rules THEN 'team'
                    WHEN k % 5 = 3 THEN 'rep' WHEN k % 5 = 4 THEN 'queue' ELSE 'team' END AS assign_to,
               (ARRAY['US', 'GB', 'DE', 'CA', 'FR', 'IN', 'AU', 'NL', 'ES', 'BR'])[1 + (k / 4) % 10] AS c1,
               (ARRAY['US', 'GB', 'DE', 'CA', 'FR', 'IN', 'AU', 'NL', 'ES', 'BR'])[1 + (k / 4 + 3) % 10] AS c2,
               (ARRAY['web_form', 'google_ads', 'meta_ads', 'landing_page', 'email_campaign', 'trade_show',
                      'partner', 'referral', 'chat', 'cold_call', 'webinar'])[1 + (k / 40 + k) % 11] AS s1,
               (ARRAY['web_form', 'google_ads', 'meta_ads', 'landing_page', 'email_campaign', 'trade_show',
                      'partner', 'referral', 'chat', 'cold_call', 'webinar'])[1 + (k / 40 + k + 5) % 11] AS s2,
               (ARRAY[0, 10, 50, 100, 200, 500, 1000, 5000])[1 + (k / 7) % 8] AS lo,
               (ARRAY['director', 'manager', 'engineer', 'vp', 'head of', 'chief', 'analyst', 'founder',
                      'student', 'consultant'])[1 + (k / 3) % 10] AS title
        ) p0
     CROSS JOIN LATERAL (
        SELECT p0.kind, p0.assign_to,
               CASE WHEN k = p_rules THEN '{"all": []}'::jsonb
                    WHEN k % 4 = 0 THEN jsonb_build_object('all', jsonb_build_array(
                        jsonb_build_object('field', 'country', 'op', 'eq', 'value', p0.c1),
                        jsonb_build_object('field', 'source', 'op', 'in', 'value', jsonb_build_array(p0.s1, p0.s2))))
                    WHEN k % 4 = 1 THEN jsonb_build_object('all', jsonb_build_array(
                        jsonb_build_object('field', 'company_size', 'op', 'between',
                                           'value', jsonb_build_array(p0.lo, p0.lo * 4 + 9)),
                        jsonb_build_object('field', 'country', 'op', 'eq', 'value', p0.c1)))
                    WHEN k % 4 = 2 THEN jsonb_build_object('all', jsonb_build_array(
                        jsonb_build_object('any', jsonb_build_array(
                            jsonb_build_object('field', 'job_title', 'op', 'contains', 'value', p0.title),
                            jsonb_build_object('field', 'job_title', 'op', 'prefix', 'value', p0.title))),
                        jsonb_build_object('field', 'country', 'op', 'in', 'value', jsonb_build_array(p0.c1, p0.c2))))
                    ELSE jsonb_build_object('all', jsonb_build_array(
                        jsonb_build_object('field', 'source', 'op', 'eq', 'value', p0.s1),
                        jsonb_build_object('field', 'company_size', 'op', 'ge', 'value', p0.lo),
                        jsonb_build_object('not', jsonb_build_object('field', 'country', 'op', 'eq', 'value', p0.c2))))
               END AS predicate
        ) x;
END
$$;
