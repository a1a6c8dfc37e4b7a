-- Deleting a team or a rep unlinks what refers to it, and a team's manager
-- must be a rep of its org (issue 22: triggers where 0.1.0 had ON DELETE
-- SET NULL (col) foreign keys and a teams <-> reps cycle, which Citus
-- refuses): the same results as those foreign keys gave.
BEGIN;
SELECT plan(8);

INSERT INTO leadflow.orgs (org_id, name) VALUES (8501, 'Unlink A'), (8502, 'Unlink B');
INSERT INTO leadflow.teams (org_id, team_id, name) VALUES (8501, 85010, 'Inbound'), (8501, 85011, 'Outbound');
INSERT INTO leadflow.reps (org_id, rep_id, team_id, name) VALUES
    (8501, 85011, 85010, 'Mia'), (8501, 85012, 85010, 'Ned'), (8501, 85013, 85011, 'Oz');
INSERT INTO leadflow.reps (org_id, rep_id, name) VALUES (8502, 85021, 'Other org');
UPDATE leadflow.teams SET manager_rep_id = 85011 WHERE org_id = 8501;
INSERT INTO leadflow.accounts (org_id, account_id, name, owner_rep_id) VALUES (8501, 85010, 'Acme', 85011);

SELECT throws_ok($$UPDATE leadflow.teams SET manager_rep_id = 85021 WHERE org_id = 8501 AND team_id = 85010$$,
    '23503', NULL, 'a team''s manager must be a rep of its org (a rep of another org is refused)');
SELECT throws_ok($$INSERT INTO leadflow.teams (org_id, name, manager_rep_id) VALUES (8501, 'Ghost', 99999)$$,
    '23503', NULL, '... and so is a rep that does not exist');

DELETE FROM leadflow.teams WHERE org_id = 8501 AND team_id = 85010;
SELECT results_eq($$SELECT rep_id, team_id FROM leadflow.reps WHERE org_id = 8501 ORDER BY rep_id$$,
    $$VALUES (85011::bigint, NULL::bigint), (85012, NULL), (85013, 85011)$$,
    'a deleted team leaves its members without a team, other teams'' members as they were');

DELETE FROM leadflow.reps WHERE org_id = 8501 AND rep_id = 85011;
SELECT is((SELECT manager_rep_id FROM leadflow.teams WHERE org_id = 8501 AND team_id = 85011), NULL,
    'a deleted rep leaves the team it managed without a manager');
SELECT is((SELECT owner_rep_id FROM leadflow.accounts WHERE org_id = 8501 AND account_id = 85010), NULL,
    '... and its accounts without an owner');
SELECT is((SELECT count(*) FROM leadflow.accounts WHERE org_id = 8501), 1::bigint, '... the account itself stays');
SELECT is((SELECT count(*) FROM leadflow.reps WHERE org_id = 8502), 1::bigint, 'another org''s rep is untouched');

DELETE FROM leadflow.orgs WHERE org_id = 8502;
SELECT is((SELECT count(*) FROM leadflow.reps WHERE org_id = 8502), 0::bigint, 'deleting an org still removes its reps');

SELECT * FROM finish();
ROLLBACK;
