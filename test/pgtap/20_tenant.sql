-- Tenant safety (issue 17): an application role behind ONE pooled
-- connection serving two orgs (SET leadflow.org_id per request), with the
-- table grants of 10_security.sql.  Nothing of one org reaches the other:
-- not through the configuration cache, not through an error or SQLSTATE
-- that depends on what the other org holds, not through a lead id.
BEGIN;
SELECT plan(41);

-- org A (8201) has nothing; org B (8202) has a named account, a rule, a lead
INSERT INTO leadflow.orgs (org_id, name) VALUES (8201, 'Tenant A'), (8202, 'Tenant B');
INSERT INTO leadflow.teams (org_id, team_id, name, strategy) VALUES (8202, 82021, 'B team', 'round_robin');
INSERT INTO leadflow.reps (org_id, rep_id, team_id, name) VALUES (8202, 82022, 82021, 'Eve'),
                                                                (8201, 82012, NULL, 'Ann');
INSERT INTO leadflow.accounts (org_id, account_id, name, domain, owner_rep_id)
     VALUES (8202, 82023, 'Megacorp', 'megacorp.example', 82022);
INSERT INTO leadflow.routing_rules (org_id, rule_id, position, name, mode, predicate, assign_to, rep_id, team_id)
     VALUES (8202, 82024, 10, 'B VIP: country=DE to Eve', 'live',
             '{"field": "country", "op": "eq", "value": "DE"}', 'rep', 82022, NULL);
INSERT INTO leadflow.leads (org_id, lead_id, email) VALUES (8202, 820201, 'bert.secret@megacorp.example');
SELECT cmp_ok(leadflow.enable_tenant_isolation(), '>=', 20, 'tenant isolation is on');

CREATE ROLE leadflow_app_tenant;
GRANT USAGE ON SCHEMA leadflow TO leadflow_app_tenant;
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA leadflow TO leadflow_app_tenant;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA leadflow TO leadflow_app_tenant;
GRANT EXECUTE ON FUNCTION leadflow.run_maintenance(bigint, timestamptz), leadflow.rescore(bigint),
      leadflow.replay_routing(bigint, timestamptz), leadflow.reassign_rep_leads(bigint, text),
      leadflow.train_model(bigint, text[])
   TO leadflow_app_tenant;
SET ROLE leadflow_app_tenant;

-- request 1 on the pooled connection: org B warms the configuration cache
SET leadflow.org_id = '8202';
SELECT is((SELECT rule_name FROM leadflow.simulate_routing(8202, '{"email": "x@gmail.com", "country": "DE"}')),
    'B VIP: country=DE to Eve', 'org B routes with its own rule');
SELECT is((SELECT rep_id FROM leadflow.simulate_routing(8202, '{"email": "x@megacorp.example"}')),
    82022::bigint, 'org B routes its named account');
SELECT lives_ok($$SELECT leadflow.check_org_access(8202)$$, 'a session may act for the org of leadflow.org_id');

-- request 2 on the same connection: org A
SET leadflow.org_id = '8201';
SELECT throws_ok($$SELECT * FROM leadflow.simulate_routing(8202, '{"email": "x@megacorp.example"}')$$,
    '42501', 'this session may not act for org 8202',
    'the cached configuration of org B is not served to org A');
SELECT is((SELECT rule_name FROM leadflow.simulate_routing(8201, '{"email": "x@gmail.com", "country": "DE"}')),
    NULL, 'org A does not get org B''s rule');
SELECT is((SELECT rep_id FROM leadflow.simulate_routing(8201, '{"email": "x@megacorp.example"}')),
    NULL, 'org A does not get org B''s named account');
SELECT throws_ok($$SELECT leadflow.check_org_access(8202)$$, '42501', 'this session may not act for org 8202',
    'check_org_access refuses another org');
SELECT throws_ok($$SELECT leadflow.check_org_access(NULL)$$, '42501', 'this session may not act for every org',
    'check_org_access refuses every org at once');

-- no oracle: the same refusal whether org B has the email or not
SELECT throws_ok($$INSERT INTO leadflow.leads (org_id, email) VALUES (8202, 'bert.secret@megacorp.example')$$,
    '42501', 'this session may not act for org 8202', 'a lead for org B with an email B has: the one refusal');
SELECT throws_ok($$INSERT INTO leadflow.leads (org_id, email) VALUES (8202, 'nobody.here@megacorp.example')$$,
    '42501', 'this session may not act for org 8202', 'a lead for org B with an email B lacks: the same refusal');
SELECT throws_ok($$INSERT INTO leadflow.leads (org_id, email) VALUES (8299, 'nobody.here@megacorp.example')$$,
    '42501', 'this session may not act for org 8299', 'a lead for an org that does not exist: the same refusal');
SELECT throws_ok($$SELECT * FROM leadflow.capture(8202, 'web', '{"email": "bert.secret@megacorp.example"}')$$,
    '42501', 'this session may not act for org 8202', 'capture for org B with an email B has: the one refusal');
SELECT throws_ok($$SELECT * FROM leadflow.capture(8202, 'web', '{"email": "nobody.here@megacorp.example"}')$$,
    '42501', 'this session may not act for org 8202', 'capture for org B with an email B lacks: the same refusal');

-- every function taking an org refuses another org the same way
SELECT throws_ok($$SELECT * FROM leadflow.run_maintenance(8202)$$, '42501', 'this session may not act for org 8202',
    'run_maintenance of another org');
SELECT throws_ok($$SELECT * FROM leadflow.run_maintenance(NULL)$$, '42501', 'this session may not act for every org',
    'run_maintenance of every org by a session bound to one');
SELECT throws_ok($$SELECT leadflow.rescore(8202)$$, '42501', 'this session may not act for org 8202',
    'rescore of another org');
SELECT throws_ok($$SELECT * FROM leadflow.replay_routing(8202, now() - interval '1 day')$$, '42501',
    'this session may not act for org 8202', 'replay_routing of another org');
SELECT throws_ok($$SELECT leadflow.survivor_of(8202, 820201)$$, '42501', 'this session may not act for org 8202',
    'survivor_of in another org');
SELECT throws_ok($$SELECT * FROM leadflow.verify_journey(8202)$$, '42501', 'this session may not act for org 8202',
    'verify_journey of another org');
SELECT throws_ok($$SELECT leadflow.may_email(8202, 820201)$$, '42501', 'this session may not act for org 8202',
    'may_email in another org');
SELECT throws_ok($$SELECT * FROM leadflow.nurture_schedule(8202)$$, '42501', 'this session may not act for org 8202',
    'nurture_schedule of another org');
SELECT throws_ok($$SELECT leadflow.train_model(8202)$$, '42501', 'this session may not act for org 8202',
    'train_model of another org');
SELECT throws_ok($$SELECT * FROM leadflow.reassign_rep_leads(82022, 'rep_left')$$, 'P0002', 'rep 82022 does not exist',
    'another org''s rep is as missing as one that does not exist');

-- a lead id of org B is as missing to org A as an id nobody uses
SELECT throws_ok($$SELECT * FROM leadflow.explain_score(820201)$$, 'P0002', 'lead 820201 does not exist',
    'explain_score of another org''s lead');
SELECT throws_ok($$SELECT * FROM leadflow.explain_score(829999)$$, 'P0002', 'lead 829999 does not exist',
    'explain_score of a lead nobody has: the same error');
SELECT throws_ok($$SELECT * FROM leadflow.explain_prediction(820201)$$, 'P0002', 'lead 820201 does not exist',
    'explain_prediction of another org''s lead');
SELECT throws_ok($$SELECT leadflow.append_journey(820201, 'note', '{}')$$, 'P0002', 'lead 820201 does not exist',
    'append_journey to another org''s lead');
SELECT throws_ok($$SELECT * FROM leadflow.reassign_lead(820201, 'manual')$$, 'P0002', 'lead 820201 does not exist',
    'reassign_lead of another org''s lead');

-- a planted lead id: refused, naming only the id
SELECT throws_ok($$INSERT INTO leadflow.leads (org_id, lead_id, email) VALUES (8201, 820201, 'planted@a.example')$$,
    '23505', 'duplicate key value violates unique constraint "leads_lead_id"',
    'an explicit lead id another org uses is refused');
SELECT lives_ok($$INSERT INTO leadflow.leads (org_id, lead_id, email) VALUES (8201, 820101, 'own@a.example')$$,
    'an explicit lead id nobody uses is accepted');
SELECT is((SELECT count(*)::int FROM leadflow.explain_score(820101)) > 0, true, 'org A explains its own lead');
SELECT throws_ok($$UPDATE leadflow.leads SET org_id = 8202 WHERE lead_id = 820101$$,
    '42501', 'this session may not act for org 8202', 'moving a lead to another org is refused');

-- with leadflow.org_id unset a bound session acts for no org
RESET leadflow.org_id;
SELECT throws_ok($$SELECT leadflow.check_org_access(8201)$$, '42501', 'this session may not act for org 8201',
    'no org with leadflow.org_id unset');
SELECT throws_ok($$INSERT INTO leadflow.leads (org_id, email) VALUES (8201, 'x@a.example')$$,
    '42501', 'this session may not act for org 8201', 'no lead with leadflow.org_id unset');

-- request 3: org B again, its cache entry is its own
SET leadflow.org_id = '8202';
SELECT is((SELECT rule_name FROM leadflow.simulate_routing(8202, '{"email": "x@gmail.com", "country": "DE"}')),
    'B VIP: country=DE to Eve', 'org B still routes with its own rule');
RESET ROLE;

-- roles row-level security does not bind act for every org
SELECT lives_ok($$SELECT leadflow.check_org_access(8202)$$, 'a superuser may act for any org');
SELECT lives_ok($$SELECT leadflow.check_org_access(NULL)$$, 'a superuser may act for every org');
SELECT lives_ok($$SELECT * FROM leadflow.run_maintenance(NULL)$$, 'maintenance of every org is not blocked by a planted id');
SELECT is((SELECT count(DISTINCT org_id)::int FROM leadflow.lead_journey WHERE lead_id = 820201), 1,
    'a lead id''s journey belongs to one org');
SELECT is((SELECT count(*)::int FROM leadflow.leads WHERE lead_id = 820201), 1, 'one lead has the id');

SELECT * FROM finish();
ROLLBACK;
