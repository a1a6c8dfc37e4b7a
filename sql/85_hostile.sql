-- Hostile input (spec §10): one case per input class with the SQLSTATE it
-- gets.  No crash, no internal error (XX000), and no partial rows: the
-- org's counts before and after the refused statements are the same.
-- Each case runs in its own subtransaction (pg_temp.attempt) and prints
-- "ok" or "SQLSTATE: message" (the message cut at 100 characters).
\set VERBOSITY terse
SELECT setval(pg_get_serial_sequence('leadflow.leads', 'lead_id'), 85000) \gset
INSERT INTO leadflow.orgs (org_id, name) VALUES (85, 'Hostile Org');
INSERT INTO leadflow.teams (org_id, team_id, name, strategy) VALUES (85, 851, 'Weighted', 'weighted_round_robin');
INSERT INTO leadflow.reps (org_id, rep_id, team_id, name, weight, max_open_leads)
VALUES (85, 8511, 851, 'Heavy', 2147483647, 2147483647), (85, 8512, 851, 'Heavier', 2147483647, NULL);
INSERT INTO leadflow.routing_rules (org_id, position, name, predicate, assign_to, team_id)
VALUES (85, 10, 'Everyone', '{"field": "email", "op": "exists"}', 'team', 851);

CREATE FUNCTION pg_temp.attempt(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || left(SQLERRM, 100);
END
$$;

CREATE TEMP TABLE cases (n serial, class text, stmt text);
CREATE FUNCTION pg_temp.run_cases() RETURNS TABLE (n int, class text, outcome text)
LANGUAGE plpgsql AS $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT * FROM cases ORDER BY cases.n LOOP
        n := c.n;
        class := c.class;
        outcome := pg_temp.attempt(c.stmt);
        RETURN NEXT;
    END LOOP;
    DELETE FROM cases;
END
$$;

CREATE TEMP VIEW state AS
SELECT (SELECT count(*) FROM leadflow.leads WHERE org_id = 85) AS leads,
       (SELECT count(*) FROM leadflow.lead_journey WHERE org_id = 85) AS journey,
       (SELECT count(*) FROM leadflow.lead_emails WHERE org_id = 85) AS claims,
       (SELECT count(*) FROM leadflow.lead_signals WHERE org_id = 85) AS signals,
       (SELECT count(*) FROM leadflow.routing_rules WHERE org_id = 85) AS rules,
       (SELECT count(*) FROM leadflow.scoring_rules WHERE org_id = 85) AS scoring_rules,
       (SELECT count(*) FROM leadflow.lead_imports WHERE org_id = 85) AS staged,
       (SELECT string_agg(open_leads || '/' || assigned_total, ',' ORDER BY rep_id) FROM leadflow.rep_load WHERE org_id = 85) AS load;
CREATE TEMP TABLE before AS SELECT * FROM state;

-- every case below is refused
INSERT INTO cases (class, stmt) VALUES
-- malformed emails
('malformed email', $$INSERT INTO leadflow.leads (org_id, email) VALUES (85, 'no-at-sign')$$),
('malformed email', $$INSERT INTO leadflow.leads (org_id, email) VALUES (85, 'a@@b.example')$$),
('malformed email', $$INSERT INTO leadflow.leads (org_id, email) VALUES (85, '@b.example')$$),
('malformed email', $$INSERT INTO leadflow.leads (org_id, email) VALUES (85, 'a@localhost')$$),
('malformed email', $$INSERT INTO leadflow.leads (org_id, email) VALUES (85, 'a@b..example')$$),
('malformed email', $$INSERT INTO leadflow.leads (org_id, email, phone) VALUES (85, '   ', NULL)$$),
-- huge emails
('huge email', $$INSERT INTO leadflow.leads (org_id, email) VALUES (85, repeat('a', 300) || '@huge.example')$$),
('huge email', $$INSERT INTO leadflow.leads (org_id, email) VALUES (85, 'a@' || repeat('b', 64) || '.example')$$),
('huge email', $$INSERT INTO leadflow.leads (org_id, email) VALUES (85, repeat('x', 1048576) || '@huge.example')$$),
-- IDN and emoji domains that are not valid IDNA
('idn/emoji domain', $$INSERT INTO leadflow.leads (org_id, email) VALUES (85, 'smile@😀.example')$$),
('idn/emoji domain', $$INSERT INTO leadflow.leads (org_id, email) VALUES (85, 'bad@xn--zz.example')$$),
('idn/emoji domain', $$INSERT INTO leadflow.leads (org_id, email) VALUES (85, 'bad@xn--.example')$$),
-- control characters (NUL cannot reach a text value at all)
('control characters', $$INSERT INTO leadflow.leads (org_id, email) VALUES (85, E'bell\x07@ctl.example')$$),
('control characters', $$INSERT INTO leadflow.leads (org_id, email) VALUES (85, E'tab@ctl\t.example')$$),
('control characters', $$INSERT INTO leadflow.leads (org_id, email) VALUES (85, E'newline@ctl.example\nBcc: x@y.example')$$),
('control characters', $$INSERT INTO leadflow.leads (org_id, phone) VALUES (85, E'+1 415\x1b555 0100')$$),
('control characters', $$SELECT * FROM leadflow.capture(85, 'web', '{"email": "nul@ctl.example", "x": "\u0000"}')$$),
-- NULLs everywhere
('nulls', $$INSERT INTO leadflow.leads (org_id, email, phone) VALUES (85, NULL, NULL)$$),
('nulls', $$INSERT INTO leadflow.leads (org_id, email) VALUES (NULL, 'nullorg@nulls.example')$$),
('nulls', $$INSERT INTO leadflow.leads (org_id, lead_id, email) VALUES (85, NULL, 'nullid@nulls.example')$$),
('nulls', $$INSERT INTO leadflow.leads (org_id, email, status) VALUES (85, 'nullstatus@nulls.example', NULL)$$),
('nulls', $$INSERT INTO leadflow.leads (org_id, email, attributes) VALUES (85, 'nullattrs@nulls.example', NULL)$$),
('nulls', $$INSERT INTO leadflow.leads (org_id, email, priority) VALUES (85, 'nullprio@nulls.example', NULL)$$),
('nulls', $$SELECT * FROM leadflow.capture(NULL, 'web', '{"email": "nullorg@nulls.example"}')$$),
('nulls', $$SELECT * FROM leadflow.capture(85, 'web', NULL)$$),
('nulls', $$SELECT * FROM leadflow.capture(85, 'web', '{"email": null, "phone": null}')$$),
('nulls', $$SELECT * FROM leadflow.process_import(NULL, NULL)$$),
('nulls', $$INSERT INTO leadflow.routing_rules (org_id, position, name, predicate, assign_to, team_id) VALUES (85, NULL, 'p', NULL, 'team', 851)$$),
('nulls', $$INSERT INTO leadflow.routing_rules (org_id, position, name, predicate, assign_to, team_id) VALUES (85, 2, 'p', '{"field": null, "op": "eq", "value": 1}', 'team', 851)$$),
('nulls', $$INSERT INTO leadflow.routing_rules (org_id, position, name, predicate, assign_to, team_id) VALUES (85, 2, 'p', '{"field": "country", "op": null, "value": "US"}', 'team', 851)$$),
('nulls', $$INSERT INTO leadflow.lead_signals (org_id, lead_id, kind) VALUES (85, NULL, NULL)$$),
('nulls', $$SELECT leadflow.merge_leads(NULL, NULL)$$),
-- SQL-shaped text where it is not allowed: a field name is not SQL
('sql-shaped text', $$INSERT INTO leadflow.routing_rules (org_id, position, name, predicate, assign_to, team_id) VALUES (85, 3, 'x', '{"field": "country; DROP TABLE leadflow.leads; --", "op": "eq", "value": "US"}', 'team', 851)$$),
('sql-shaped text', $$INSERT INTO leadflow.routing_rules (org_id, position, name, predicate, assign_to, team_id) VALUES (85, 3, 'x', '{"field": "attributes.a''); DROP TABLE x; --", "op": "eq", "value": "US", "or": "1=1"}', 'team', 851)$$),
-- deeply nested or malformed predicates
('predicate', $$INSERT INTO leadflow.routing_rules (org_id, position, name, predicate, assign_to, team_id) SELECT 85, 4, 'deep not', (repeat('{"not": ', 10000) || '{"field": "country", "op": "exists"}' || repeat('}', 10000))::jsonb, 'team', 851$$),
('predicate', $$INSERT INTO leadflow.routing_rules (org_id, position, name, predicate, assign_to, team_id) SELECT 85, 4, 'deep all', (repeat('{"all": [', 5000) || '{"field": "country", "op": "exists"}' || repeat(']}', 5000))::jsonb, 'team', 851$$),
('predicate', $$INSERT INTO leadflow.routing_rules (org_id, position, name, predicate, assign_to, team_id) SELECT 85, 4, 'deep json', (repeat('[', 100000) || repeat(']', 100000))::jsonb, 'team', 851$$),
('predicate', $$INSERT INTO leadflow.routing_rules (org_id, position, name, predicate, assign_to, team_id) VALUES (85, 4, 'bad json', '{"field": "country", "op": "eq", "value": "US"', 'team', 851)$$),
('predicate', $$INSERT INTO leadflow.routing_rules (org_id, position, name, predicate, assign_to, team_id) VALUES (85, 4, 'array', '[]', 'team', 851)$$),
('predicate', $$INSERT INTO leadflow.routing_rules (org_id, position, name, predicate, assign_to, team_id) VALUES (85, 4, 'scalar', '"country = ''US''"', 'team', 851)$$),
('predicate', $$INSERT INTO leadflow.routing_rules (org_id, position, name, predicate, assign_to, team_id) VALUES (85, 4, 'all object', '{"all": {"field": "country", "op": "exists"}}', 'team', 851)$$),
('predicate', $$INSERT INTO leadflow.routing_rules (org_id, position, name, predicate, assign_to, team_id) VALUES (85, 4, 'two keys', '{"all": [], "any": []}', 'team', 851)$$),
('predicate', $$INSERT INTO leadflow.routing_rules (org_id, position, name, predicate, assign_to, team_id) VALUES (85, 4, 'no value', '{"field": "country", "op": "eq"}', 'team', 851)$$),
('predicate', $$INSERT INTO leadflow.routing_rules (org_id, position, name, predicate, assign_to, team_id) VALUES (85, 4, 'bad op', '{"field": "country", "op": "=~", "value": ".*"}', 'team', 851)$$),
('predicate', $$INSERT INTO leadflow.routing_rules (org_id, position, name, predicate, assign_to, team_id) VALUES (85, 4, 'between', '{"field": "company_size", "op": "between", "value": [1]}', 'team', 851)$$),
('predicate', $$INSERT INTO leadflow.routing_rules (org_id, position, name, predicate, assign_to, team_id) VALUES (85, 4, 'type', '{"field": "company_size", "op": "gt", "value": "many"}', 'team', 851)$$),
('predicate', $$INSERT INTO leadflow.scoring_rules (org_id, model_id, name, category, predicate, points) SELECT 85, model_id, 'nested bad', 'demographic', '{"any": [{"field": "country", "op": "eq", "value": "US"}, {"not": {"field": "contry", "op": "exists"}}]}', 5 FROM leadflow.scoring_models WHERE org_id = 85$$),
-- payload shapes capture() does not take
('payload shape', $$SELECT * FROM leadflow.capture(85, 'web', '[{"email": "a@shape.example"}]')$$),
('payload shape', $$SELECT * FROM leadflow.capture(85, 'web', '"a@shape.example"')$$),
('payload shape', $$SELECT * FROM leadflow.capture(85, 'web', '{}')$$),
('payload shape', $$SELECT * FROM leadflow.capture(85, 'web', '{"email": {"value": "a@shape.example"}}')$$),
('payload shape', $$SELECT * FROM leadflow.capture(85, 'meta', '{"field_data": {"email": "a@shape.example"}}')$$),
('payload shape', $$SELECT * FROM leadflow.capture(85, 'meta', '{"field_data": [["email", "a@shape.example"]]}')$$),
('payload shape', $$SELECT * FROM leadflow.capture(85, 'meta', '{"field_data": [{"name": "email", "values": "a@shape.example"}]}')$$),
('payload shape', $$SELECT * FROM leadflow.capture(85, 'google', '{"user_column_data": {"EMAIL": "a@shape.example"}}')$$),
('payload shape', $$SELECT * FROM leadflow.capture(85, 'google', '{"user_column_data": [{"column_id": 7, "string_value": "a@shape.example"}]}')$$),
('payload shape', $$SELECT * FROM leadflow.capture(85, 'web', '{"email": 42}')$$),
-- negative and huge numbers
('numbers', $$INSERT INTO leadflow.leads (org_id, email, company_size) VALUES (85, 'neg@numbers.example', -5)$$),
('numbers', $$INSERT INTO leadflow.leads (org_id, email, company_size) VALUES (85, 'big@numbers.example', 2147483648)$$),
('numbers', $$INSERT INTO leadflow.leads (org_id, email, annual_revenue) VALUES (85, 'neg@numbers.example', -0.01)$$),
('numbers', $$INSERT INTO leadflow.leads (org_id, email, annual_revenue) VALUES (85, 'nan@numbers.example', 'NaN')$$),
('numbers', $$INSERT INTO leadflow.leads (org_id, email, annual_revenue) VALUES (85, 'inf@numbers.example', 'Infinity')$$),
('numbers', $$INSERT INTO leadflow.leads (org_id, email, score_manual) VALUES (85, 'max@numbers.example', 2147483647)$$),
('numbers', $$INSERT INTO leadflow.leads (org_id, email, score_manual) VALUES (85, 'min@numbers.example', -2147483648)$$),
('numbers', $$INSERT INTO leadflow.leads (org_id, email) VALUES (-1, 'negorg@numbers.example')$$),
('numbers', $$INSERT INTO leadflow.leads (org_id, email) VALUES (9223372036854775807, 'bigorg@numbers.example')$$),
('numbers', $$INSERT INTO leadflow.leads (org_id, phone) VALUES (85, '-1')$$),
('numbers', $$INSERT INTO leadflow.leads (org_id, phone) VALUES (85, repeat('9', 100000))$$),
('numbers', $$INSERT INTO leadflow.scoring_rules (org_id, model_id, name, category, predicate, points) SELECT 85, model_id, 'huge', 'demographic', '{"field": "country", "op": "exists"}', 2147483647 FROM leadflow.scoring_models WHERE org_id = 85$$),
('numbers', $$INSERT INTO leadflow.reps (org_id, team_id, name, weight) VALUES (85, 851, 'Zero', 0)$$),
('numbers', $$INSERT INTO leadflow.reps (org_id, team_id, name, max_open_leads) VALUES (85, 851, 'Negative', -1)$$),
('numbers', $$INSERT INTO leadflow.source_spend (org_id, source, month, amount) VALUES (85, 'web', '2026-01-01', 'NaN')$$),
('numbers', $$INSERT INTO leadflow.company_profiles (org_id, domain, provider, annual_revenue) VALUES (85, 'inf.example', 'v', 'Infinity')$$),
-- a multi-row statement with one bad row stores none of them
('multi-row', $$INSERT INTO leadflow.leads (org_id, email) VALUES (85, 'one@multi.example'), (85, 'two@multi.example'), (85, 'three@@multi.example')$$);
SELECT * FROM pg_temp.run_cases();

SELECT (SELECT row(b.*)::text FROM before b) = (SELECT row(s.*)::text FROM state s) AS nothing_partial;

-- what is accepted is stored as given (text is data, never SQL), and
-- the pipeline copes: IDN domains in ASCII, control characters and 1 MB
-- strings in free text, SQL-shaped names, rules and predicate values,
-- huge numbers, weights and timestamps
INSERT INTO leadflow.routing_rules (org_id, position, name, predicate, assign_to, team_id)
VALUES (85, 1, 'x''); DROP TABLE leadflow.leads; --', '{"field": "country", "op": "eq", "value": "'' OR 1=1 --"}', 'team', 851);
INSERT INTO leadflow.routing_rules (org_id, position, name, mode, predicate, assign_to, team_id)
VALUES (85, 2, 'huge value', 'shadow', '{"all": [{"field": "annual_revenue", "op": "gt", "value": 1e400}, {"field": "attributes.k", "op": "prefix", "value": "z"}]}', 'queue', NULL);
INSERT INTO leadflow.scoring_rules (org_id, model_id, name, category, signal_kind, points, half_life)
SELECT 85, model_id, 'views', 'behavioral', 'page_view', 100, '1 day' FROM leadflow.scoring_models WHERE org_id = 85;
INSERT INTO leadflow.leads (org_id, email, first_name, last_name, company, country, annual_revenue, attributes) VALUES
    (85, 'Idn@Bücher.DE', E'Bell\x07', E'Esc\x1b[31m', E'Acme\r\nInc', 'DE', 1e300, '{}'),
    (85, 'sql@inject.example', 'Robert''); DROP TABLE leadflow.leads; --', '1 OR 1=1', '$$; SELECT pg_sleep(10); $$', ''' OR 1=1 --', 0, '{"k": "\"; DROP"}'),
    (85, 'big@mega.example', repeat('y', 1048576), NULL, NULL, 'US', NULL, jsonb_build_object('k', repeat('z', 1048576))),
    (85, 'neg@mega.example', NULL, NULL, NULL, 'US', NULL, '{}')
RETURNING lead_id, email_normalized, company_domain, length(first_name) AS first_name_length,
          owner_rep_id IS NOT NULL AS routed, score;
SELECT lead_id, first_name = E'Bell\x07' AS bell_kept, company = E'Acme\r\nInc' AS crlf_kept,
       first_name LIKE 'Robert%DROP TABLE%' AS sql_kept, annual_revenue = 1e300 AS huge_kept
  FROM leadflow.leads WHERE org_id = 85 ORDER BY lead_id LIMIT 2;
SELECT lead_id, (SELECT r.name FROM leadflow.routing_rules r WHERE r.org_id = 85 AND r.rule_id = (j.detail ->> 'rule_id')::bigint) AS rule
  FROM leadflow.journey_events j WHERE org_id = 85 AND kind = 'routed' ORDER BY lead_id;
SELECT score_manual, score FROM leadflow.leads WHERE org_id = 85 AND email = 'neg@mega.example';
UPDATE leadflow.leads SET score_manual = 1000 WHERE org_id = 85 AND email = 'neg@mega.example' RETURNING score, temperature;
UPDATE leadflow.leads SET score_manual = -1000 WHERE org_id = 85 AND email = 'neg@mega.example' RETURNING score, temperature;
SELECT pg_temp.attempt($$UPDATE leadflow.leads SET score_manual = 1001 WHERE org_id = 85$$) AS manual_1001;
-- signals at the ends of time decay to nothing or count in full, never overflow
INSERT INTO leadflow.lead_signals (org_id, lead_id, kind, occurred_at)
SELECT 85, lead_id, 'page_view', t FROM leadflow.leads, (VALUES ('infinity'::timestamptz), ('-infinity')) v(t)
 WHERE org_id = 85 AND email = 'neg@mega.example';
SELECT score_behavioral, score FROM leadflow.leads WHERE org_id = 85 AND email = 'neg@mega.example';
SELECT pg_temp.attempt($$SELECT leadflow.run_maintenance(85, 'infinity')$$) AS maintenance_at_infinity;
SELECT pg_temp.attempt($$SELECT leadflow.run_maintenance(85, '-infinity')$$) AS maintenance_at_minus_infinity;
-- a default region libphonenumber does not know (XX) or reserves (ZZ)
SELECT pg_temp.attempt($$UPDATE leadflow.orgs SET settings = '{"default_region": "XX"}' WHERE org_id = 85$$) AS region_xx;
SELECT pg_temp.attempt($$UPDATE leadflow.orgs SET settings = '{"default_region": "ZZ"}' WHERE org_id = 85$$) AS region_zz;
SELECT count(*) AS routed_to_heavy_reps FROM leadflow.leads WHERE org_id = 85 AND owner_rep_id IN (8511, 8512);

-- CSV with broken quoting: COPY itself refuses the file (22P04), and
-- nothing of it is staged, not even the good rows before the bad one
SELECT count(*) AS staged FROM leadflow.lead_imports WHERE org_id = 85;
SET leadflow.org_id = 85;
\set VERBOSITY sqlstate
COPY leadflow.lead_imports (batch_id, first_name, email, company_size) FROM STDIN (FORMAT csv);
8501,Ann,ann@csv.example,10
8501,"Bob,bob@csv.example,20
\.
COPY leadflow.lead_imports (batch_id, first_name, email, company_size) FROM STDIN (FORMAT csv);
8501,Ann,ann@csv.example,10
8501,Cy,cy@csv.example,30,"extra"
\.
COPY leadflow.lead_imports (batch_id, first_name, email, company_size) FROM STDIN (FORMAT csv);
8501,Ann,ann@csv.example,10
8501,Di
\.
\set VERBOSITY terse
RESET leadflow.org_id;
SELECT count(*) AS staged FROM leadflow.lead_imports WHERE org_id = 85;
-- quotes that survive into the staging table: each bad row is rejected
-- with its field and value, the good ones go through, nothing half-done
SET leadflow.org_id = 85;
COPY leadflow.lead_imports (batch_id, first_name, email, company_size, annual_revenue) FROM STDIN (FORMAT csv);
8502,"""Ann",ann@csv.example,10,
8502,"Bo""b","""bob@csv.example",,
8502,Cy,"cy@csv.example"", ""x",,
8502,Di,"di@csv.example,extra,""fields",,
8502,Ed,ed@csv.example,"1""0",
8502,Fi,fi@csv.example,,"1,5"
8502,Gu,gu@csv.example,99999999999,
8502,Hu,hu@csv.example,,NaN
8502,Iv,"iv@csv.example
",,
\.
RESET leadflow.org_id;
INSERT INTO leadflow.lead_imports (org_id, batch_id, first_name, email)
VALUES (85, 8502, 'Jo', repeat('j', 1048576) || '@csv.example'), (85, 8502, NULL, NULL);
SELECT * FROM leadflow.process_import(85, 8502);
SELECT row_number - min(row_number) OVER () + 1 AS row, first_name, error, lead_id IS NOT NULL AS imported
  FROM leadflow.lead_imports WHERE org_id = 85 AND batch_id = 8502 ORDER BY row_number;
SELECT count(*) AS leads_from_batch FROM leadflow.leads l
  JOIN leadflow.lead_imports i ON i.org_id = l.org_id AND i.lead_id = l.lead_id
 WHERE i.org_id = 85 AND i.batch_id = 8502;
-- a second run of the batch changes nothing
SELECT * FROM leadflow.process_import(85, 8502);

-- every live lead has its journey and a clean chain
SELECT count(*) AS leads_without_journey FROM leadflow.leads l
 WHERE org_id = 85 AND NOT EXISTS (SELECT FROM leadflow.lead_journey j WHERE j.org_id = l.org_id AND j.lead_id = l.lead_id);
SELECT * FROM leadflow.verify_journey(85);
