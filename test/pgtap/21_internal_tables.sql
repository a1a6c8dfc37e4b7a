-- Internal tables and shared reference data are written by leadflow alone
-- (issue 17): an application role set up with grant_app_role holds no
-- write privilege on them, and even a role granted everything on every
-- table (10_security.sql's grants) cannot plant an email claim, a journey
-- row or routing state, nor change the reference data every org shares;
-- the pipeline still writes them for it.
BEGIN;
SELECT plan(41);

INSERT INTO leadflow.orgs (org_id, name) VALUES (8301, 'Tenant C'), (8302, 'Tenant D');
INSERT INTO leadflow.teams (org_id, team_id, name, strategy) VALUES (8301, 83011, 'C team', 'round_robin');
INSERT INTO leadflow.reps (org_id, rep_id, team_id, name) VALUES (8301, 83012, 83011, 'Cleo');
INSERT INTO leadflow.routing_rules (org_id, position, name, assign_to, team_id)
     VALUES (8301, 10, 'Everyone to C team', 'team', 83011);
SELECT cmp_ok(leadflow.enable_tenant_isolation(), '>=', 20, 'tenant isolation is on');

SELECT ok(NOT has_function_privilege('public', 'leadflow.grant_app_role(regrole)', 'EXECUTE'),
    'grant_app_role is not executable by PUBLIC');
CREATE ROLE leadflow_app_granted;
SELECT lives_ok($$SELECT leadflow.grant_app_role('leadflow_app_granted')$$, 'grant_app_role grants an app role');
SELECT is_empty($$
    SELECT t FROM leadflow.internal_tables() i(t, shared)
     WHERE has_table_privilege('leadflow_app_granted', 'leadflow.' || t, 'INSERT')
        OR has_table_privilege('leadflow_app_granted', 'leadflow.' || t, 'UPDATE')
        OR has_table_privilege('leadflow_app_granted', 'leadflow.' || t, 'DELETE')
        OR has_table_privilege('leadflow_app_granted', 'leadflow.' || t, 'TRUNCATE')
        OR NOT has_table_privilege('leadflow_app_granted', 'leadflow.' || t, 'SELECT')$$,
    'grant_app_role grants only SELECT on the internal tables and the shared reference data');
SELECT ok(has_table_privilege('leadflow_app_granted', 'leadflow.leads', 'INSERT')
          AND has_table_privilege('leadflow_app_granted', 'leadflow.leads', 'UPDATE')
          AND NOT has_table_privilege('leadflow_app_granted', 'leadflow.leads', 'DELETE'),
    'grant_app_role grants INSERT and UPDATE on leads, no DELETE');
SELECT ok(has_table_privilege('leadflow_app_granted', 'leadflow.report_rep_load', 'SELECT'),
    'grant_app_role grants the report views');
SELECT ok(NOT has_function_privilege('leadflow_app_granted', 'leadflow.erase_lead(bigint,text)', 'EXECUTE'),
    'the administrative functions stay revoked');

-- one pooled connection, one transaction per request: SET LOCAL leadflow.org_id
SET LOCAL ROLE leadflow_app_granted;
SET LOCAL leadflow.org_id = '8301';
SELECT lives_ok($$INSERT INTO leadflow.leads (org_id, lead_id, email) VALUES (8301, 830101, 'cara@initech.example')$$,
    'an app role without privileges on the internal tables inserts a lead');
SELECT is((SELECT owner_rep_id FROM leadflow.leads WHERE lead_id = 830101), 83012::bigint,
    'the lead was routed (the pipeline wrote the routing state for it)');
SELECT is((SELECT open_leads FROM leadflow.rep_load WHERE org_id = 8301 AND rep_id = 83012), 1, 'rep_load counts it');
SELECT is((SELECT count(*)::int FROM leadflow.lead_emails WHERE org_id = 8301), 1, 'its email is claimed');
SELECT is((SELECT kind || ' routed to ' || (detail -> 'routed' ->> 'rep_id') FROM leadflow.lead_journey WHERE lead_id = 830101),
    'created routed to 83012', 'its journey was written: one created row, with the routing');
SELECT lives_ok($$INSERT INTO leadflow.leads (org_id, email) VALUES (8301, 'CARA@initech.example')$$,
    'a duplicate of it merges (the claim is the pipeline''s)');
SELECT throws_ok($$INSERT INTO leadflow.lead_journey (org_id, lead_id, seq, kind, actor, detail, hash)
                   VALUES (8301, 830101, 99, 'routed', 'leadflow-pipeline', '{}', '\x00')$$,
    '42501', NULL, 'it cannot insert a journey row');
SET LOCAL leadflow.actor = 'agent:lead-scoring';
SELECT is(leadflow.append_journey(830101, 'note', '{"points": 5}') > 0, true, 'append_journey adds its journey rows');
SELECT is((SELECT actor FROM leadflow.lead_journey WHERE lead_id = 830101 AND kind = 'note'),
    'agent:lead-scoring via leadflow_app_granted', 'the row records the claimed actor and the role that acted');
SELECT is((SELECT occurred_at FROM leadflow.lead_journey WHERE lead_id = 830101 AND kind = 'note'), now(),
    'the row has the server''s time');
SET LOCAL leadflow.actor = 'leadflow-pipeline';
SELECT is(leadflow.append_journey(830101, 'call_logged') > 0, true, 'an app may claim any actor name');
SELECT is((SELECT actor FROM leadflow.lead_journey WHERE lead_id = 830101 AND kind = 'call_logged'),
    'leadflow-pipeline via leadflow_app_granted', 'but not pass for the pipeline');
RESET leadflow.actor;
RESET ROLE;
SELECT is_empty($$SELECT * FROM leadflow.verify_journey(8301)$$, 'every chain of the org is intact');

-- the one list (internal_tables()): what it holds, that every table
-- documented as internal is on it, and that the trigger is on exactly it
SELECT set_eq($$SELECT table_name FROM leadflow.internal_tables() WHERE NOT shared$$,
    ARRAY['account_hot_state', 'events', 'lead_emails', 'lead_external_ids', 'lead_journey', 'lead_merges',
          'lead_phones', 'lead_words', 'prediction_counts', 'rep_load', 'routing_rule_stats', 'team_rotation'],
    'internal_tables() lists every internal table');
SELECT set_eq($$SELECT table_name FROM leadflow.internal_tables() WHERE shared$$,
    ARRAY['free_email_domains', 'capture_field_names'], 'and the shared reference data');
SELECT is_empty($$
    SELECT c.relname::text FROM pg_class c
     WHERE c.relnamespace = 'leadflow'::regnamespace AND c.relkind = 'r'
       AND obj_description(c.oid, 'pg_class') LIKE 'Internal:%'
    EXCEPT SELECT table_name FROM leadflow.internal_tables()$$,
    'every table documented as internal is on the list');
SELECT set_eq($$
    SELECT c.relname::text FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
     WHERE g.tgfoid = 'leadflow.refuse_app_write()'::regprocedure AND g.tgenabled = 'A'
       AND g.tgtype & 2 = 2 AND g.tgtype & (4 | 8 | 16 | 32) = (4 | 8 | 16 | 32)$$,
    $$SELECT table_name FROM leadflow.internal_tables()$$,
    'refuse_app_write guards each of them (before insert, update, delete, truncate, enabled always), no other');

-- every write of every table on the list, refused to an application role
CREATE FUNCTION pg_temp.writable_internal() RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
    t text;
    col name;
    stmt text;
    found text[] := '{}';
BEGIN
    FOR t IN SELECT table_name FROM leadflow.internal_tables() ORDER BY 1 LOOP
        SELECT a.attname INTO col FROM pg_attribute a
         WHERE a.attrelid = format('leadflow.%I', t)::regclass AND a.attnum = 1;
        FOREACH stmt IN ARRAY ARRAY['INSERT INTO leadflow.%I DEFAULT VALUES', 'UPDATE leadflow.%I SET %I = %I',
                                    'DELETE FROM leadflow.%I', 'TRUNCATE leadflow.%I'] LOOP
            BEGIN
                EXECUTE format(stmt, t, col, col);
                found := found || format(stmt, t, col, col);
            EXCEPTION WHEN insufficient_privilege THEN
                NULL;
            WHEN OTHERS THEN
                found := found || (format(stmt, t, col, col) || ': ' || SQLSTATE);
            END;
        END LOOP;
    END LOOP;
    RETURN array_to_string(found, '; ');
END
$f$;

-- a role granted everything on every table still writes none of them
CREATE ROLE leadflow_app_blanket;
GRANT USAGE ON SCHEMA leadflow TO leadflow_app_blanket;
GRANT ALL ON ALL TABLES IN SCHEMA leadflow TO leadflow_app_blanket;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA leadflow TO leadflow_app_blanket;
SET LOCAL ROLE leadflow_app_blanket;
SET LOCAL leadflow.org_id = '8301';
SELECT is(pg_temp.writable_internal(), '', 'no insert, update, delete or truncate of any table on the list gets through');
SELECT throws_ok($$INSERT INTO leadflow.lead_emails (org_id, email_normalized, lead_id) VALUES (8301, 'dan@initech.example', 839999)$$,
    '42501', 'leadflow.lead_emails is written by leadflow alone', 'a dangling email claim cannot be planted');
SELECT throws_ok($$INSERT INTO leadflow.lead_journey (org_id, lead_id, seq, kind, actor, detail, hash)
                   VALUES (8301, 839998, 1, 'created', 'leadflow-pipeline', '{}', '\x00')$$,
    '42501', 'leadflow.lead_journey is written by leadflow alone', 'a journey row cannot be planted ahead of a lead');
SELECT throws_ok($$UPDATE leadflow.rep_load SET open_leads = 0$$,
    '42501', 'leadflow.rep_load is written by leadflow alone', 'rep_load cannot be changed');
SELECT throws_ok($$DELETE FROM leadflow.team_rotation$$,
    '42501', 'leadflow.team_rotation is written by leadflow alone', 'team_rotation cannot be changed');
SELECT throws_ok($$DELETE FROM leadflow.routing_rule_stats$$,
    '42501', 'leadflow.routing_rule_stats is written by leadflow alone', 'routing_rule_stats cannot be changed');
SELECT throws_ok($$INSERT INTO leadflow.prediction_counts (org_id, feature, value, converted, lost) VALUES (8301, 'source', 'x', 1, 0)$$,
    '42501', 'leadflow.prediction_counts is written by leadflow alone', 'prediction_counts cannot be changed');
SELECT throws_ok($$TRUNCATE leadflow.rep_load$$, '42501', 'leadflow.rep_load is written by leadflow alone',
    'rep_load cannot be truncated');
SELECT throws_ok($$INSERT INTO leadflow.free_email_domains (domain) VALUES ('initech.example')$$,
    '42501', 'leadflow.free_email_domains is written by leadflow alone', 'another org''s domain cannot be made free mail');
SELECT throws_ok($$UPDATE leadflow.capture_field_names SET column_name = 'company' WHERE name = 'email'$$,
    '42501', 'leadflow.capture_field_names is written by leadflow alone', 'the shared capture field names cannot be changed');
SELECT throws_ok($$DELETE FROM leadflow.free_email_domains$$,
    '42501', 'leadflow.free_email_domains is written by leadflow alone', 'the shared free-mail list cannot be emptied');
SELECT lives_ok($$INSERT INTO leadflow.leads (org_id, lead_id, email) VALUES (8301, 830102, 'dan@initech.example')$$,
    'the pipeline still writes the internal tables for it');
SELECT is((SELECT open_leads FROM leadflow.rep_load WHERE org_id = 8301 AND rep_id = 83012), 2, 'rep_load counts both leads');
RESET ROLE;

-- the owner (here a superuser) maintains the shared reference data
SELECT lives_ok($$INSERT INTO leadflow.free_email_domains (domain) VALUES ('mail.tenant-test.example')$$,
    'the owner adds a free-mail domain');
SELECT is((SELECT company_domain FROM leadflow.leads WHERE lead_id = 830102), 'initech.example',
    'the domain an app tried to make free mail is still a company domain');
SELECT is((SELECT column_name FROM leadflow.capture_field_names WHERE name = 'email'), 'email',
    'the capture field names are unchanged');
SELECT is_empty($$SELECT * FROM leadflow.verify_journey(8301)$$, 'every chain is still intact');

SELECT * FROM finish();
ROLLBACK;
