-- The handoff is the pipeline's, not a function an application calls
-- (issue 17): an application role of grant_app_role executes nothing
-- beyond what PUBLIC may, and a "handoff" journey row comes only with the
-- opportunity it chose the owner of, by convert_lead or by inserting the
-- opportunity itself.  Behind one pooled connection serving two orgs.
BEGIN;
SELECT plan(11);

INSERT INTO leadflow.orgs (org_id, name) VALUES (8601, 'Tenant A'), (8602, 'Tenant B');
SELECT cmp_ok(leadflow.enable_tenant_isolation(), '>=', 20, 'tenant isolation is on');
INSERT INTO leadflow.teams (org_id, team_id, name) VALUES (8601, 86011, 'SDRs'), (8601, 86012, 'AEs');
INSERT INTO leadflow.reps (org_id, rep_id, team_id, name, role) VALUES
  (8601, 860111, 86011, 'Sam', 'sdr'), (8601, 860121, 86012, 'Amy', 'ae'), (8601, 860122, 86012, 'Abe', 'ae');
INSERT INTO leadflow.routing_rules (org_id, position, name, predicate, assign_to, team_id, stage) VALUES
  (8601, 10, 'All to SDRs', '{"all": []}', 'team', 86011, 'intake'),
  (8601, 10, 'All to AEs', '{"all": []}', 'team', 86012, 'handoff');
CREATE ROLE leadflow_app_handoff;
SELECT leadflow.grant_app_role('leadflow_app_handoff');

SELECT is_empty($$
    SELECT p.oid::regprocedure FROM pg_proc p
     WHERE p.pronamespace = 'leadflow'::regnamespace AND p.prorettype <> 'trigger'::regtype
       AND has_function_privilege('leadflow_app_handoff', p.oid, 'EXECUTE')
       AND NOT has_function_privilege('public', p.oid, 'EXECUTE')$$,
    'grant_app_role grants no function beyond what PUBLIC executes');
SELECT hasnt_function('leadflow', 'route_handoff', 'no SQL function runs a handoff on its own');

SET LOCAL ROLE leadflow_app_handoff;
SET LOCAL leadflow.org_id = '8602';
INSERT INTO leadflow.leads (org_id, lead_id, email) VALUES (8602, 860201, 'bo@initech.example');
SET LOCAL leadflow.org_id = '8601';
INSERT INTO leadflow.leads (org_id, lead_id, email) VALUES
  (8601, 860101, 'ann@acme.example'), (8601, 860102, 'bea@globex.example'), (8601, 860103, 'cy@umbrella.example');
SELECT is((SELECT count(*)::int FROM leadflow.leads WHERE org_id = 8601 AND owner_rep_id = 860111), 3,
    'intake: every lead to the SDR');

-- convert_lead as the application: the AE rotation owns the opportunity
SELECT isnt(leadflow.convert_lead(860101), NULL, 'the application converts a lead');
SELECT results_eq($$SELECT owner_rep_id, sdr_rep_id FROM leadflow.opportunities WHERE lead_id = 860101$$,
    $$VALUES (860121::bigint, 860111::bigint)$$, 'handoff routing chose the AE; the SDR is kept');
SELECT is((SELECT a.owner_rep_id FROM leadflow.accounts a JOIN leadflow.opportunities o USING (org_id, account_id)
            WHERE o.lead_id = 860101), 860121::bigint, 'the new account is the AE''s too');

-- an opportunity the application inserts itself is handed off the same way
INSERT INTO leadflow.opportunities (org_id, lead_id, name) VALUES (8601, 860102, 'Globex deal');
SELECT results_eq($$SELECT owner_rep_id, sdr_rep_id FROM leadflow.opportunities WHERE lead_id = 860102$$,
    $$VALUES (860122::bigint, 860111::bigint)$$, 'an inserted opportunity: the rotation''s next AE, the SDR kept');
-- an owner the application names is kept: no routing, no handoff row
INSERT INTO leadflow.opportunities (org_id, lead_id, name, owner_rep_id) VALUES (8601, 860103, 'Umbrella deal', 860121);
SELECT is((SELECT count(*)::int FROM leadflow.lead_journey WHERE lead_id = 860103 AND kind = 'handoff'), 0,
    'a named owner is kept without a handoff');

-- every handoff row is evidence of an opportunity of its lead
SELECT results_eq($$SELECT j.lead_id, (j.detail ->> 'rep_id')::bigint FROM leadflow.lead_journey j
                    WHERE j.org_id = 8601 AND j.kind = 'handoff' ORDER BY j.lead_id$$,
    $$SELECT o.lead_id, o.owner_rep_id FROM leadflow.opportunities o
       WHERE o.org_id = 8601 AND o.lead_id IN (860101, 860102) ORDER BY o.lead_id$$,
    'one handoff row per handed-off opportunity, naming its owner');

-- another org's lead: refused before anything is read or journaled
SELECT throws_ok($$INSERT INTO leadflow.opportunities (org_id, lead_id, name) VALUES (8602, 860201, 'Theirs')$$,
    '42501', 'this session may not act for org 8602', 'no handoff of another org''s lead');

SELECT * FROM finish();
ROLLBACK;
