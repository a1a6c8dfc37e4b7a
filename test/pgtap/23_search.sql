-- Lead search under tenant isolation (issue 20): an application role bound
-- to one org by row-level security finds its own leads, never another
-- org's, and is refused (42501) when it names another org, with the same
-- refusal whatever that org holds.
BEGIN;
SELECT plan(8);

INSERT INTO leadflow.orgs (org_id, name) VALUES (8501, 'Search A'), (8502, 'Search B');
INSERT INTO leadflow.leads (org_id, lead_id, first_name, last_name, email, company) VALUES
  (8501, 850101, 'Greta', 'Fröhlich', 'greta@a-search.example', 'Alpha'),
  (8502, 850201, 'Greta', 'Frohlich', 'greta@b-search.example', 'Beta');
SELECT cmp_ok(leadflow.enable_tenant_isolation(), '>=', 20, 'tenant isolation is on');

CREATE ROLE leadflow_app_search;
SELECT leadflow.grant_app_role('leadflow_app_search');
SET ROLE leadflow_app_search;
SET leadflow.org_id = '8501';

SELECT results_eq($$SELECT lead_id, matched FROM leadflow.search_leads(8501, 'frohlich')$$,
    $$VALUES (850101::bigint, 'name'::text)$$, 'the role finds its org''s lead by name, accent-free');
SELECT results_eq($$SELECT lead_id FROM leadflow.search_leads(8501, 'greta@a-search.example')$$,
    $$VALUES (850101::bigint)$$, 'and by email');
SELECT is_empty($$SELECT * FROM leadflow.search_leads(8501, 'greta@b-search.example')$$,
    'another org''s email finds nothing');
SELECT is((SELECT pg_catalog.array_agg(word ORDER BY word) FROM leadflow.lead_words)::text, '{alpha,frohlich,greta}',
    'the role reads its org''s words only (lead_words is under the same isolation)');
SELECT throws_ok($$SELECT * FROM leadflow.search_leads(8502, 'frohlich')$$,
    '42501', 'this session may not act for org 8502', 'searching another org is refused');
SELECT throws_ok($$SELECT * FROM leadflow.search_leads(8502, 'nobody at all')$$,
    '42501', 'this session may not act for org 8502', 'the same refusal whatever the other org holds');
SELECT throws_ok($$SELECT leadflow.enrich(8502)$$,
    '42501', 'this session may not act for org 8502', 'enrich refuses another org');

RESET ROLE;
ROLLBACK;
