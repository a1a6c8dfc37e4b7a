-- An error anywhere in the pipeline leaves nothing partial: leadflow.fail_at
-- (superuser only) breaks an insert at each stage in turn; afterwards no
-- lead, journey row, email claim, signal, survivor change or routing state
-- of the failed statement remains.
\set VERBOSITY terse
-- lead ids of this file start at 80001, whatever ran before
SELECT setval(pg_get_serial_sequence('leadflow.leads', 'lead_id'), 80000) \gset
INSERT INTO leadflow.orgs (org_id, name) VALUES (80, 'Errors Org');
INSERT INTO leadflow.teams (org_id, team_id, name) VALUES (80, 801, 'T');
INSERT INTO leadflow.reps (org_id, rep_id, team_id, name) VALUES (80, 8011, 801, 'A'), (80, 8012, 801, 'B');
INSERT INTO leadflow.routing_rules (org_id, position, name, assign_to, team_id) VALUES (80, 1, 'All', 'team', 801);
INSERT INTO leadflow.company_profiles (org_id, domain, provider, industry) VALUES (80, 'err.example', 'v', 'Software');
INSERT INTO leadflow.leads (org_id, email, source) VALUES (80, 'first@err.example', 'web_form');

CREATE TEMP VIEW state AS
SELECT (SELECT count(*) FROM leadflow.leads WHERE org_id = 80) AS leads,
       (SELECT count(*) FROM leadflow.lead_journey WHERE org_id = 80) AS journey,
       (SELECT count(*) FROM leadflow.lead_emails WHERE org_id = 80) AS claims,
       (SELECT count(*) FROM leadflow.lead_signals WHERE org_id = 80) AS signals,
       (SELECT string_agg(updated_at::text || last_activity_at::text, ',') FROM leadflow.leads WHERE org_id = 80) AS survivor,
       (SELECT string_agg(open_leads || '/' || assigned_total, ',' ORDER BY rep_id) FROM leadflow.rep_load WHERE org_id = 80) AS load,
       (SELECT string_agg(last_rep_id::text, ',') FROM leadflow.team_rotation WHERE org_id = 80) AS rotation,
       (SELECT sum(hits) FROM leadflow.routing_rule_stats WHERE org_id = 80) AS hits;
CREATE TEMP TABLE before AS SELECT * FROM state;
SELECT leads, journey, claims, signals FROM before;

-- each failing insert: two new leads and a duplicate of the first lead

SET leadflow.fail_at = 'normalize';
INSERT INTO leadflow.leads (org_id, email, source)
VALUES (80, 'a@err.example', 'x'), (80, 'b@err.example', 'x'), (80, 'FIRST@err.example', 'x');
SET leadflow.fail_at = 'dedup';
INSERT INTO leadflow.leads (org_id, email, source)
VALUES (80, 'a@err.example', 'x'), (80, 'b@err.example', 'x'), (80, 'FIRST@err.example', 'x');
SET leadflow.fail_at = 'enrich';
INSERT INTO leadflow.leads (org_id, email, source)
VALUES (80, 'FIRST@err.example', 'x'), (80, 'a@err.example', 'x'), (80, 'b@err.example', 'x');
SET leadflow.fail_at = 'score';
INSERT INTO leadflow.leads (org_id, email, source)
VALUES (80, 'FIRST@err.example', 'x'), (80, 'a@err.example', 'x'), (80, 'b@err.example', 'x');
SET leadflow.fail_at = 'route';
INSERT INTO leadflow.leads (org_id, email, source)
VALUES (80, 'FIRST@err.example', 'x'), (80, 'a@err.example', 'x'), (80, 'b@err.example', 'x');
SET leadflow.fail_at = 'journey';
INSERT INTO leadflow.leads (org_id, email, source)
VALUES (80, 'FIRST@err.example', 'x'), (80, 'a@err.example', 'x'), (80, 'b@err.example', 'x');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
RESET leadflow.fail_at;

SELECT (SELECT row(b.*)::text FROM before b) = (SELECT row(s.*)::text FROM state s) AS nothing_partial;

-- the same statement without the failpoint goes through
INSERT INTO leadflow.leads (org_id, email, source)
VALUES (80, 'FIRST@err.example', 'x'), (80, 'a@err.example', 'x'), (80, 'b@err.example', 'x');
SELECT leads, claims, signals FROM state;

-- only a superuser may set it
CREATE ROLE leadflow_errors_app;
SET ROLE leadflow_errors_app;
SET leadflow.fail_at = 'route';
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
RESET ROLE;
DROP ROLE leadflow_errors_app;
-- leads are never deleted (their journey stays, their claim would dangle):
-- refused, also under session_replication_role = replica
DELETE FROM leadflow.leads WHERE org_id = 80 AND email = 'first@err.example';
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SET session_replication_role = replica;
DELETE FROM leadflow.leads WHERE org_id = 80;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
TRUNCATE leadflow.leads CASCADE;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
RESET session_replication_role;
SELECT leads, claims, signals FROM state;
SELECT * FROM leadflow.verify_journey(80);
