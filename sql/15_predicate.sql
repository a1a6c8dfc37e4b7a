-- The rule language of scoring and routing rules (predicate.c):
-- check_predicate() validates, predicate_matches() evaluates.
--
-- Lead rows are built with jsonb_populate_record, so no trigger runs and
-- every column can be set (or left NULL) at will.  Results with non-ASCII
-- text print only booleans, so the output is the same in a UTF8 and an
-- SQL_ASCII database.
\set VERBOSITY terse
SET TimeZone = 'UTC';

INSERT INTO leadflow.orgs (org_id, name) VALUES (15, 'Predicate Org');

-- the two functions: stable, strict, parallel safe, commented
SELECT p.oid::regprocedure AS function, p.provolatile, p.proisstrict, p.proparallel,
       obj_description(p.oid, 'pg_proc') IS NOT NULL AS commented
  FROM pg_proc p
 WHERE p.pronamespace = 'leadflow'::regnamespace
   AND p.proname IN ('check_predicate', 'predicate_matches')
 ORDER BY 1::text;

------------------------------------------------------------------------------
-- Four leads: a and b filled in differently, c with every optional field
-- NULL (attributes too), d with edge values
------------------------------------------------------------------------------

CREATE TEMP TABLE pl (name text PRIMARY KEY, lead leadflow.leads);
INSERT INTO pl
SELECT name, jsonb_populate_record(NULL::leadflow.leads, j)
  FROM (VALUES
    ('a', '{"org_id": 15, "lead_id": 1, "email": "a@x15.test", "job_title": "VP Sales",
            "country": "DE", "city": "Berlin", "company_size": 250, "annual_revenue": 1000000.50,
            "source": "web_form", "budget_confirmed": true,
            "created_at": "2024-03-01 10:00:00+00",
            "attributes": {"plan": "Pro", "seats": 12, "trial": true, "tags": ["x"], "gone": null}}'::jsonb),
    ('b', '{"org_id": 15, "lead_id": 2, "email": "b@x15.test", "job_title": "Head of Marketing",
            "country": "us", "city": "Boston", "company_size": 12, "annual_revenue": 50000,
            "source": "Webinar", "budget_confirmed": false,
            "created_at": "2024-06-15T08:30:00Z",
            "attributes": {"plan": "free", "seats": "7"}}'),
    ('c', '{"org_id": 15, "lead_id": 3, "phone": "+4930123456", "attributes": null}'),
    ('d', '{"org_id": 15, "lead_id": 4, "email": "d@x15.test", "job_title": "Marketing VP",
            "country": "GB", "city": "London", "company_size": 0, "annual_revenue": 0.5,
            "source": "web_formular", "budget_confirmed": false,
            "created_at": "2024-03-01 10:00:00.000001+00",
            "attributes": {"plan": "PRO", "seats": 12.0, "trial": "TRUE", "tags": {"k": 1},
                           "ref": "Partner-7"}}')
  ) AS v(name, j);

SELECT name, (lead).country, (lead).job_title, (lead).company_size, (lead).annual_revenue,
       (lead).source, (lead).budget_confirmed, (lead).created_at, (lead).attributes
  FROM pl ORDER BY name;

------------------------------------------------------------------------------
-- Conditions, table-driven: which leads match.  "expected" is written by
-- hand; ok is false wherever the module disagrees.  Lead c is missing
-- every field: it may only match missing, ne and not_in.
------------------------------------------------------------------------------

CREATE TEMP TABLE pcase (n int, field text, op text, value jsonb, expected text);
INSERT INTO pcase VALUES
    -- text: lower-cased on both sides, ordered by code point
    ( 1, 'country', 'eq', '"de"', 'a'),
    ( 2, 'country', 'eq', '"DE"', 'a'),
    ( 3, 'country', 'ne', '"de"', 'b,c,d'),
    ( 4, 'country', 'in', '["US", "gb"]', 'b,d'),
    ( 5, 'country', 'not_in', '["us"]', 'a,c,d'),
    ( 6, 'country', 'lt', '"E"', 'a'),
    ( 7, 'country', 'le', '"gb"', 'a,d'),
    ( 8, 'country', 'gt', '"GB"', 'b'),
    ( 9, 'country', 'ge', '"gb"', 'b,d'),
    (10, 'country', 'between', '["D", "h"]', 'a,d'),
    (11, 'country', 'exists', NULL, 'a,b,d'),
    (12, 'country', 'missing', NULL, 'c'),
    (13, 'job_title', 'prefix', '"vp"', 'a'),
    (14, 'job_title', 'contains', '"MARKETING"', 'b,d'),
    (15, 'job_title', 'contains', '""', 'a,b,d'),
    (16, 'source', 'prefix', '"Web_Form"', 'a,d'),
    (17, 'source', 'eq', '"WEB_FORM"', 'a'),
    (18, 'email', 'in', '[]', '-'),
    (19, 'email', 'not_in', '[]', 'a,b,c,d'),
    -- integer: whole constants compare as int64, others as numeric
    (20, 'company_size', 'eq', '250', 'a'),
    (21, 'company_size', 'ne', '250', 'b,c,d'),
    (22, 'company_size', 'in', '[12, 0]', 'b,d'),
    (23, 'company_size', 'not_in', '[12]', 'a,c,d'),
    (24, 'company_size', 'lt', '12', 'd'),
    (25, 'company_size', 'le', '12', 'b,d'),
    (26, 'company_size', 'gt', '12', 'a'),
    (27, 'company_size', 'ge', '12.5', 'a'),
    (28, 'company_size', 'lt', '12.5', 'b,d'),
    (29, 'company_size', 'eq', '12.0', 'b'),
    (30, 'company_size', 'eq', '12.5', '-'),
    (31, 'company_size', 'between', '[1, 250]', 'a,b'),
    (32, 'company_size', 'between', '[0, 0]', 'd'),
    (33, 'company_size', 'gt', '-1e30', 'a,b,d'),
    (34, 'company_size', 'lt', '1e30', 'a,b,d'),
    (35, 'company_size', 'exists', NULL, 'a,b,d'),
    (36, 'company_size', 'missing', NULL, 'c'),
    (37, 'lead_id', 'in', '[2, 4]', 'b,d'),
    -- numeric
    (40, 'annual_revenue', 'eq', '1000000.5', 'a'),
    (41, 'annual_revenue', 'ne', '0.5', 'a,b,c'),
    (42, 'annual_revenue', 'gt', '50000', 'a'),
    (43, 'annual_revenue', 'ge', '50000', 'a,b'),
    (44, 'annual_revenue', 'lt', '1', 'd'),
    (45, 'annual_revenue', 'le', '0.50', 'd'),
    (46, 'annual_revenue', 'between', '[0.5, 5e4]', 'b,d'),
    (47, 'annual_revenue', 'in', '[50000, 0.50]', 'b,d'),
    (48, 'annual_revenue', 'not_in', '[50000]', 'a,c,d'),
    (49, 'annual_revenue', 'missing', NULL, 'c'),
    -- boolean
    (50, 'budget_confirmed', 'eq', 'true', 'a'),
    (51, 'budget_confirmed', 'eq', 'false', 'b,d'),
    (52, 'budget_confirmed', 'ne', 'true', 'b,c,d'),
    (53, 'budget_confirmed', 'in', '[true, false]', 'a,b,d'),
    (54, 'budget_confirmed', 'not_in', '[false]', 'a,c'),
    (55, 'budget_confirmed', 'exists', NULL, 'a,b,d'),
    (56, 'budget_confirmed', 'missing', NULL, 'c'),
    -- timestamptz: ISO 8601; without an offset the session TimeZone (UTC)
    (60, 'created_at', 'eq', '"2024-03-01T10:00:00Z"', 'a'),
    (61, 'created_at', 'eq', '"2024-03-01 12:00:00+02:00"', 'a'),
    (62, 'created_at', 'eq', '"2024-03-01 10:00"', 'a'),
    (63, 'created_at', 'ne', '"2024-06-15T08:30:00Z"', 'a,c,d'),
    (64, 'created_at', 'lt', '"2024-03-01T10:00:00.000001Z"', 'a'),
    (65, 'created_at', 'le', '"2024-03-01T10:00:00.000001Z"', 'a,d'),
    (66, 'created_at', 'gt', '"2024-06-15"', 'b'),
    (67, 'created_at', 'ge', '"2024-03-01T10:00:00.000001Z"', 'b,d'),
    (68, 'created_at', 'between', '["2024-03-01", "2024-03-31"]', 'a,d'),
    (69, 'created_at', 'in', '["2024-06-15T08:30:00Z", "2020-01-01"]', 'b'),
    (70, 'created_at', 'not_in', '["2024-06-15T08:30:00Z"]', 'a,c,d'),
    (71, 'created_at', 'missing', NULL, 'c'),
    -- attributes: numerically when both sides are numbers, else as
    -- lower-cased text; JSON null, an absent key and SQL NULL are missing;
    -- an object or array value exists but equals nothing
    (80, 'attributes.plan', 'eq', '"pro"', 'a,d'),
    (81, 'attributes.plan', 'ne', '"pro"', 'b,c'),
    (82, 'attributes.plan', 'in', '["FREE", "enterprise"]', 'b'),
    (83, 'attributes.plan', 'not_in', '["free"]', 'a,c,d'),
    (84, 'attributes.plan', 'lt', '"G"', 'b'),
    (85, 'attributes.plan', 'prefix', '"PR"', 'a,d'),
    (86, 'attributes.plan', 'contains', '"re"', 'b'),
    (87, 'attributes.seats', 'eq', '12', 'a,d'),
    (88, 'attributes.seats', 'eq', '"12"', 'a'),
    (89, 'attributes.seats', 'gt', '10', 'a,b,d'),
    (90, 'attributes.seats', 'lt', '10', '-'),
    (91, 'attributes.seats', 'ge', '12', 'a,b,d'),
    (92, 'attributes.seats', 'in', '[7, 12]', 'a,b,d'),
    (93, 'attributes.seats', 'between', '[5, 12]', 'a,d'),
    (94, 'attributes.seats', 'prefix', '"1"', 'a,d'),
    (95, 'attributes.trial', 'eq', 'true', 'a,d'),
    (96, 'attributes.trial', 'eq', '"True"', 'a,d'),
    (97, 'attributes.trial', 'exists', NULL, 'a,d'),
    (98, 'attributes.trial', 'missing', NULL, 'b,c'),
    (99, 'attributes.gone', 'missing', NULL, 'a,b,c,d'),
    (100, 'attributes.gone', 'eq', '"x"', '-'),
    (101, 'attributes.gone', 'ne', '"x"', 'a,b,c,d'),
    (102, 'attributes.tags', 'exists', NULL, 'a,d'),
    (103, 'attributes.tags', 'eq', '"x"', '-'),
    (104, 'attributes.tags', 'ne', '"x"', 'a,b,c,d'),
    (105, 'attributes.tags', 'contains', '"x"', '-'),
    (106, 'attributes.tags', 'not_in', '["x"]', 'a,b,c,d'),
    (107, 'attributes.ref', 'contains', '"PARTNER"', 'd'),
    -- any column, any type: exists and missing
    (110, 'attributes', 'exists', NULL, 'a,b,d'),
    (111, 'phone', 'missing', NULL, 'a,b,d');

SELECT c.n, c.field, c.op, c.value::text AS value,
       coalesce(string_agg(l.name, ',' ORDER BY l.name)
                FILTER (WHERE leadflow.predicate_matches(
                    jsonb_build_object('field', c.field, 'op', c.op)
                    || CASE WHEN c.value IS NULL THEN '{}' ELSE jsonb_build_object('value', c.value) END,
                    l.lead)), '-') AS matches,
       coalesce(string_agg(l.name, ',' ORDER BY l.name)
                FILTER (WHERE leadflow.predicate_matches(
                    jsonb_build_object('field', c.field, 'op', c.op)
                    || CASE WHEN c.value IS NULL THEN '{}' ELSE jsonb_build_object('value', c.value) END,
                    l.lead)), '-') = c.expected AS ok
  FROM pcase c CROSS JOIN pl l
 GROUP BY c.n, c.field, c.op, c.value, c.expected
 ORDER BY c.n;

-- every condition also passes check_predicate
SELECT count(*) AS valid
  FROM pcase
 WHERE leadflow.check_predicate(jsonb_build_object('field', field, 'op', op)
       || CASE WHEN value IS NULL THEN '{}' ELSE jsonb_build_object('value', value) END);

------------------------------------------------------------------------------
-- all, any, not
------------------------------------------------------------------------------

SELECT v.n, v.p::text AS predicate,
       coalesce(string_agg(l.name, ',' ORDER BY l.name)
                FILTER (WHERE leadflow.predicate_matches(v.p, l.lead)), '-') AS matches
  FROM (VALUES
    (1, '{"all": []}'::jsonb),
    (2, '{"any": []}'),
    (3, '{"not": {"all": []}}'),
    (4, '{"all": [{"field": "country", "op": "in", "value": ["de", "gb"]},
                  {"field": "company_size", "op": "ge", "value": 100}]}'),
    (5, '{"any": [{"field": "country", "op": "eq", "value": "US"},
                  {"field": "attributes.plan", "op": "eq", "value": "pro"}]}'),
    -- not negates the result: not(eq) holds for a missing value
    (6, '{"not": {"field": "country", "op": "eq", "value": "de"}}'),
    (7, '{"not": {"not": {"field": "country", "op": "eq", "value": "de"}}}'),
    (8, '{"all": [{"any": [{"field": "source", "op": "prefix", "value": "web"},
                           {"field": "job_title", "op": "contains", "value": "marketing"}]},
                  {"not": {"field": "budget_confirmed", "op": "eq", "value": true}}]}'),
    (9, '{"any": [{"all": []}, {"field": "country", "op": "eq", "value": "zz"}]}'),
    -- the same field twice in one predicate
    (10, '{"all": [{"field": "country", "op": "ne", "value": "us"},
                   {"field": "country", "op": "ne", "value": "gb"},
                   {"field": "attributes.plan", "op": "exists"},
                   {"field": "attributes.plan", "op": "prefix", "value": "p"}]}')
  ) AS v(n, p) CROSS JOIN pl l
 GROUP BY v.n, v.p
 ORDER BY v.n;

-- 32 levels is the limit: 31 nots around a condition is fine
SELECT string_agg(l.name, ',' ORDER BY l.name) AS matches
  FROM pl l
 WHERE leadflow.predicate_matches((repeat('{"not": ', 31) || '{"field": "country", "op": "exists"}'
                                   || repeat('}', 31))::jsonb, l.lead);

-- 1000 nodes is the limit: any with 999 conditions is fine
SELECT string_agg(l.name, ',' ORDER BY l.name) AS matches
  FROM pl l
 WHERE leadflow.predicate_matches(jsonb_build_object('any',
           (SELECT jsonb_agg(jsonb_build_object('field', 'company_size', 'op', 'eq', 'value', i))
              FROM generate_series(1, 999) i)), l.lead);

------------------------------------------------------------------------------
-- Case folding beyond ASCII follows lower() under the database collation
------------------------------------------------------------------------------

\pset format unaligned
SELECT leadflow.predicate_matches('{"field": "city", "op": "eq", "value": "münchen"}',
           jsonb_populate_record(NULL::leadflow.leads, '{"city": "München"}')) AS ascii_upper,
       leadflow.predicate_matches('{"field": "city", "op": "eq", "value": "MÜNCHEN"}',
           jsonb_populate_record(NULL::leadflow.leads, '{"city": "münchen"}'))
         = (lower('MÜNCHEN') = 'münchen') AS like_lower,
       leadflow.predicate_matches('{"field": "attributes.city", "op": "prefix", "value": "zü"}',
           jsonb_populate_record(NULL::leadflow.leads, '{"attributes": {"city": "zürich"}}')) AS attribute,
       leadflow.predicate_matches('{"field": "city", "op": "contains", "value": "ünch"}',
           jsonb_populate_record(NULL::leadflow.leads, '{"city": "München"}')) AS contains;
\pset format aligned

------------------------------------------------------------------------------
-- Stored rows: a lead kept in a table column, with large (compressed)
-- attributes, reads the same
------------------------------------------------------------------------------

CREATE TEMP TABLE pbig (lead leadflow.leads);
INSERT INTO pbig
SELECT jsonb_populate_record(NULL::leadflow.leads,
           jsonb_build_object('org_id', 15, 'lead_id', 5, 'country', 'FR',
                              'attributes', jsonb_build_object('plan', 'Big', 'pad', repeat('x', 200000))));
SELECT pg_column_size(lead) < 200000 AS compressed,
       leadflow.predicate_matches('{"all": [{"field": "attributes.plan", "op": "eq", "value": "BIG"},
                                            {"field": "country", "op": "eq", "value": "fr"},
                                            {"field": "attributes.pad", "op": "prefix", "value": "xxx"}]}', lead) AS matches
  FROM pbig;

-- offset-less timestamps follow the session TimeZone, cached or not
SELECT leadflow.predicate_matches('{"field": "created_at", "op": "eq", "value": "2024-03-01 10:00"}', lead) AS utc
  FROM pl WHERE name = 'a';
SET TimeZone = 'Europe/Berlin';
SELECT leadflow.predicate_matches('{"field": "created_at", "op": "eq", "value": "2024-03-01 10:00"}', lead) AS berlin,
       leadflow.predicate_matches('{"field": "created_at", "op": "eq", "value": "2024-03-01 11:00"}', lead) AS berlin_11
  FROM pl WHERE name = 'a';
SET TimeZone = 'UTC';

-- strict: NULL in, NULL out
SELECT leadflow.check_predicate(NULL) IS NULL AS check_null,
       leadflow.predicate_matches(NULL, (SELECT lead FROM pl WHERE name = 'a')) IS NULL AS match_null,
       leadflow.predicate_matches('{"all": []}', NULL) IS NULL AS lead_null;

------------------------------------------------------------------------------
-- Validation errors: 22023, naming the problem and its JSON path
------------------------------------------------------------------------------

-- unknown field (the hint suggests a near column)
SELECT leadflow.check_predicate('{"all": [{"field": "contry", "op": "eq", "value": "DE"}]}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
\set VERBOSITY default
SELECT leadflow.check_predicate('{"all": [{"field": "contry", "op": "eq", "value": "DE"}]}');
SELECT leadflow.check_predicate('{"field": "attribute.plan", "op": "exists"}');
SELECT leadflow.check_predicate('{"field": "attributes.", "op": "exists"}');
\set VERBOSITY terse
SELECT leadflow.check_predicate('{"field": "Country", "op": "exists"}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- unknown op (the hint lists the ops)
SELECT leadflow.check_predicate('{"field": "country", "op": "equals", "value": "DE"}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
\set VERBOSITY default
SELECT leadflow.check_predicate('{"field": "country", "op": "equals", "value": "DE"}');
\set VERBOSITY terse

-- between needs exactly two values
SELECT leadflow.check_predicate('{"any": [{"field": "country", "op": "exists"},
                                          {"field": "company_size", "op": "between", "value": [1]}]}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.check_predicate('{"field": "company_size", "op": "between", "value": [1, 2, 3]}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.check_predicate('{"field": "company_size", "op": "between", "value": 1}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- in and not_in need an array
SELECT leadflow.check_predicate('{"not": {"field": "country", "op": "in", "value": "DE"}}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.check_predicate('{"field": "country", "op": "not_in", "value": {"DE": 1}}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- value types, per field type (also inside arrays)
SELECT leadflow.check_predicate('{"all": [{"field": "company_size", "op": "eq", "value": "250"}]}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.check_predicate('{"field": "annual_revenue", "op": "in", "value": [1, "2"]}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.check_predicate('{"field": "country", "op": "eq", "value": 49}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.check_predicate('{"field": "country", "op": "eq", "value": null}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
\set VERBOSITY default
SELECT leadflow.check_predicate('{"field": "country", "op": "eq", "value": ["DE", "AT"]}');
\set VERBOSITY terse
SELECT leadflow.check_predicate('{"field": "budget_confirmed", "op": "eq", "value": "true"}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.check_predicate('{"field": "created_at", "op": "gt", "value": "yesterday"}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.check_predicate('{"field": "created_at", "op": "gt", "value": "2024-13-01"}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.check_predicate('{"field": "created_at", "op": "gt", "value": "2024-05-01 now"}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.check_predicate('{"field": "created_at", "op": "between", "value": ["2024-01-01", 1714521600]}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.check_predicate('{"field": "attributes.plan", "op": "eq", "value": {"a": 1}}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.check_predicate('{"field": "attributes.seats", "op": "prefix", "value": 1}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- ops a field's type cannot answer
SELECT leadflow.check_predicate('{"field": "budget_confirmed", "op": "lt", "value": true}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.check_predicate('{"field": "company_size", "op": "prefix", "value": "1"}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.check_predicate('{"field": "created_at", "op": "contains", "value": "2024"}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.check_predicate('{"field": "attributes", "op": "eq", "value": "x"}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- exists and missing take no value; the others need one
SELECT leadflow.check_predicate('{"field": "country", "op": "exists", "value": true}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.check_predicate('{"field": "country", "op": "eq"}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- extra and missing keys
SELECT leadflow.check_predicate('{"field": "country", "op": "eq", "value": "DE", "extra": 1}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.check_predicate('{"all": [], "any": []}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.check_predicate('{"not": {"all": []}, "field": "country"}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.check_predicate('{"foo": 1}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.check_predicate('{}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.check_predicate('{"op": "eq", "value": "DE"}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.check_predicate('{"field": "country", "value": "DE"}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- wrong types of field and op; empty field
SELECT leadflow.check_predicate('{"field": 7, "op": "eq", "value": "DE"}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.check_predicate('{"field": "country", "op": ["eq"], "value": "DE"}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.check_predicate('{"all": [{"any": [{"field": "", "op": "exists"}]}]}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- nodes that are not objects; all/any that are not arrays
SELECT leadflow.check_predicate('{"all": [{"field": "country", "op": "exists"},
                                          {"field": "email", "op": "exists"}, "country = DE"]}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.check_predicate('{"not": [{"field": "country", "op": "exists"}]}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.check_predicate('[{"field": "country", "op": "exists"}]');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.check_predicate('"country = DE"');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.check_predicate('{"any": {"field": "country", "op": "exists"}}');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- too deep: 32 nots around a condition puts it at level 33
SELECT leadflow.check_predicate((repeat('{"not": ', 32) || '{"field": "country", "op": "exists"}'
                                 || repeat('}', 32))::jsonb);
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- too many nodes: any with 1000 conditions
SELECT leadflow.check_predicate(jsonb_build_object('any',
           (SELECT jsonb_agg(jsonb_build_object('field', 'country', 'op', 'exists'))
              FROM generate_series(1, 1000))));
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- predicate_matches refuses a bad predicate the same way
SELECT leadflow.predicate_matches('{"all": [{"field": "contry", "op": "eq", "value": "DE"}]}', lead)
  FROM pl WHERE name = 'a';
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- and still works after the error
SELECT leadflow.predicate_matches('{"field": "country", "op": "eq", "value": "de"}', lead) AS matches
  FROM pl WHERE name = 'a';

DROP TABLE pl, pcase, pbig;
RESET TimeZone;
