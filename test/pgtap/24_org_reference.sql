-- Per-org additions to the shared reference data (issue 17): an org adds
-- free-mail domains (org_free_email_domains) and form field names
-- (org_capture_field_names) for itself, under row-level security; behind
-- one pooled connection serving two orgs, org A's additions change
-- nothing for org B, and the configuration cache follows a change at once.
BEGIN;
SELECT plan(19);

INSERT INTO leadflow.orgs (org_id, name) VALUES (8501, 'Tenant A'), (8502, 'Tenant B');
SELECT cmp_ok(leadflow.enable_tenant_isolation(), '>=', 20, 'tenant isolation is on');
CREATE ROLE leadflow_app_reference;
SELECT leadflow.grant_app_role('leadflow_app_reference');
SET LOCAL ROLE leadflow_app_reference;

-- request of org B first: it warms the configuration cache of the connection
SET LOCAL leadflow.org_id = '8502';
INSERT INTO leadflow.leads (org_id, lead_id, email) VALUES (8502, 850201, 'ann@alumni.example');
SELECT is((SELECT company_domain FROM leadflow.leads WHERE lead_id = 850201), 'alumni.example',
    'org B: alumni.example is a company domain');

-- request of org A on the same connection: its own additions
SET LOCAL leadflow.org_id = '8501';
INSERT INTO leadflow.leads (org_id, lead_id, email) VALUES (8501, 850100, 'abe@alumni.example');
SELECT is((SELECT company_domain FROM leadflow.leads WHERE lead_id = 850100), 'alumni.example',
    'org A, before its addition: alumni.example is a company domain (org A''s configuration is cached now)');
SELECT lives_ok($$INSERT INTO leadflow.org_free_email_domains (org_id, domain) VALUES (8501, 'alumni.example')$$,
    'org A adds a free-mail domain of its own');
SELECT lives_ok($$INSERT INTO leadflow.org_capture_field_names (org_id, name, column_name)
                  VALUES (8501, 'vorname', 'first_name'), (8501, 'e_post', 'email')$$,
    'org A adds form field names of its own');
SELECT throws_ok($$INSERT INTO leadflow.org_free_email_domains (org_id, domain) VALUES (8502, 'initech.example')$$,
    '42501', NULL, 'org A cannot add a free-mail domain for org B');
SELECT throws_ok($$INSERT INTO leadflow.org_capture_field_names (org_id, name, column_name) VALUES (8502, 'email', 'company')$$,
    '42501', NULL, 'nor remap a form field of org B');
INSERT INTO leadflow.leads (org_id, lead_id, email) VALUES (8501, 850101, 'bea@alumni.example');
SELECT is((SELECT company_domain FROM leadflow.leads WHERE lead_id = 850101), NULL,
    'org A: alumni.example is free mail at once (the cached configuration was reloaded)');
SELECT is((SELECT outcome FROM leadflow.capture(8501, 'web_form', '{"vorname": "Hans", "e_post": "hans@initech.example"}')),
    'created', 'org A captures a form with its own field names');
SELECT is((SELECT first_name || ' ' || email FROM leadflow.leads WHERE org_id = 8501 AND email = 'hans@initech.example'),
    'Hans hans@initech.example', 'mapped to the lead columns');

-- org B again: nothing of org A's additions
SET LOCAL leadflow.org_id = '8502';
SELECT is_empty($$SELECT * FROM leadflow.org_free_email_domains$$, 'org B sees no free-mail domain of org A');
SELECT is_empty($$SELECT * FROM leadflow.org_capture_field_names$$, 'org B sees no field name of org A');
INSERT INTO leadflow.leads (org_id, lead_id, email) VALUES (8502, 850202, 'cid@alumni.example');
SELECT is((SELECT company_domain FROM leadflow.leads WHERE lead_id = 850202), 'alumni.example',
    'org B: alumni.example is still a company domain');
SELECT is((SELECT outcome FROM leadflow.capture(8502, 'web_form', '{"vorname": "Hans", "email": "hans@initech.example"}')),
    'created', 'org B captures the same form');
SELECT is((SELECT first_name IS NULL AND attributes ->> 'vorname' = 'Hans' FROM leadflow.leads
            WHERE org_id = 8502 AND email = 'hans@initech.example'),
    true, 'for org B vorname is no field name: it stays an attribute');
SELECT throws_ok($$SELECT * FROM leadflow.capture(8502, 'web_form', '{"e_post": "eva@initech.example"}')$$,
    '22023', 'capture payload has neither an email nor a phone field', 'and e_post is no email for org B');

-- process_import asks first: another org's batch, existing or not, gets the
-- one refusal (no "batch not found" or "org does not exist" to tell apart)
SELECT throws_ok($$SELECT * FROM leadflow.process_import(8501, 1)$$, '42501', 'this session may not act for org 8501',
    'process_import of another org is refused');
SELECT throws_ok($$SELECT * FROM leadflow.process_import(8599, 1)$$, '42501', 'this session may not act for org 8599',
    'the same refusal for an org that does not exist');

-- the shared lists stay the owner's
SELECT throws_ok($$INSERT INTO leadflow.free_email_domains (domain) VALUES ('alumni.example')$$,
    '42501', NULL, 'the shared free-mail list is not the app''s to change');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
