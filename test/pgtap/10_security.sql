-- Tenant isolation as a non-owner application role, and the privileges of
-- administrative functions.
BEGIN;
SELECT plan(20);

SELECT ok(NOT has_function_privilege('public', 'leadflow.' || f, 'EXECUTE'), f || ' is not executable by PUBLIC')
  FROM unnest(ARRAY['rescore(bigint)', 'merge_leads(bigint,bigint)', 'unmerge_lead(bigint)',
                    'erase_lead(bigint,text)', 'run_maintenance(bigint,timestamptz)',
                    'replay_routing(bigint,timestamptz)', 'enable_tenant_isolation()',
                    'reassign_rep_leads(bigint,text)', 'train_model(bigint,text[])']) f;

SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
     WHERE p.pronamespace = 'leadflow'::regnamespace AND l.lanname <> 'c'
       AND NOT ('search_path=pg_catalog, pg_temp' = ANY (coalesce(p.proconfig, '{}')))$$,
    'every SQL and PL/pgSQL function pins search_path = pg_catalog, pg_temp');
SELECT is_empty($$
    SELECT p.oid::regprocedure::text FROM pg_proc p
     WHERE p.pronamespace = 'leadflow'::regnamespace AND p.prosecdef$$,
    'no function is SECURITY DEFINER');

INSERT INTO leadflow.orgs (org_id, name) VALUES (8101, 'Tenant A'), (8102, 'Tenant B');
INSERT INTO leadflow.leads (org_id, lead_id, email) VALUES (8101, 810101, 'same@tenant.example'),
                                                          (8102, 810201, 'same@tenant.example');
SELECT cmp_ok(leadflow.enable_tenant_isolation(), '>=', 20, 'tenant isolation covers every org table');
SELECT is_empty($$
    SELECT c.relname FROM pg_class c
     WHERE c.relnamespace = 'leadflow'::regnamespace AND c.relkind = 'r'
       AND EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'org_id')
       AND NOT (c.relrowsecurity AND c.relforcerowsecurity
                AND EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = c.oid))$$,
    'every table with org_id has RLS enabled, forced and a policy');

CREATE ROLE leadflow_app_test;
GRANT USAGE ON SCHEMA leadflow TO leadflow_app_test;
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA leadflow TO leadflow_app_test;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA leadflow TO leadflow_app_test;
SET ROLE leadflow_app_test;

RESET leadflow.org_id;
SELECT is((SELECT count(*)::int FROM leadflow.leads), 0, 'with leadflow.org_id unset an app sees no leads');
SET leadflow.org_id = '8101';
SELECT is((SELECT count(*)::int FROM leadflow.leads), 1, 'an app sees only its org''s leads');
SELECT is((SELECT count(*)::int FROM leadflow.leads WHERE org_id = 8102), 0, 'another org''s leads are invisible');
SELECT throws_ok($$INSERT INTO leadflow.leads (org_id, email) VALUES (8102, 'x@y.example')$$,
    '42501', NULL, 'writing a lead of another org is refused');
SELECT is((SELECT count(*)::int FROM leadflow.leads WHERE org_id = 8102), 0, 'nothing of it was stored');
UPDATE leadflow.leads SET priority = 'high' WHERE org_id = 8102;
RESET ROLE;
SELECT is((SELECT priority FROM leadflow.leads WHERE lead_id = 810201), 'medium', 'another org''s lead cannot be updated');
SET ROLE leadflow_app_test;
SET leadflow.org_id = '8101';
-- the same email in both orgs: no unique violation leaks the other org
SELECT lives_ok($$INSERT INTO leadflow.leads (org_id, email) VALUES (8101, 'SAME@tenant.example')$$,
    'the same email as another org''s lead is just a duplicate in this org');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
