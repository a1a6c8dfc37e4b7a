-- Migrating from another CRM (issue 18): a CSV of any header staged with
-- stage_import (known columns mapped, unknown ones kept in attributes, no
-- column aborts the file); the owner, a past created_at, the status or
-- stage and custom fields are kept; an owned lead is not routed; the SLA
-- and inactivity clocks of a migrated lead start at the import, so
-- run_maintenance neither reassigns nor archives the backlog for its old
-- dates; an illegal status or stage rejects only its row, with the reason.
\set VERBOSITY terse
SELECT setval(pg_get_serial_sequence('leadflow.leads', 'lead_id'), 3000000) \gset
INSERT INTO leadflow.orgs (org_id, name) VALUES (985, 'Migration Org');
INSERT INTO leadflow.teams (org_id, team_id, name, strategy) VALUES (985, 9851, 'Inbound', 'round_robin');
INSERT INTO leadflow.reps (org_id, rep_id, team_id, name, email) VALUES
    (985, 98501, 9851, 'Olga Owner', 'olga@crm.example'),
    (985, 98502, 9851, 'Router Rita', 'rita@crm.example');
INSERT INTO leadflow.routing_rules (org_id, position, name, predicate, assign_to, rep_id)
VALUES (985, 1, 'Everyone to Rita', '{"all": []}', 'rep', 98502);

-- The CSV reader: quotes, "" inside quotes, a newline inside quotes, CRLF,
-- an unquoted empty field (NULL) beside a quoted one (''), a blank line
SELECT n, r FROM leadflow.csv_records(E'a,b,c\r\n"x, y","say ""hi""","two\nlines"\n\n,"",z\n') WITH ORDINALITY t(r, n);
SELECT * FROM leadflow.csv_records(E'a,b\n"open,1\n');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- A file as another CRM exports it: its own header spellings ("E-mail",
-- "Phone Number", "Full Name", "Created At"), migration columns, custom
-- fields no lead column holds, and a column the file names twice.
CREATE TEMP TABLE crm_file AS SELECT $csv$Full Name,E-mail,Phone Number,Company,Owner Email,owner_rep_id,Created At,Status,Stage,External ID,Lifetime Value,Lead Score (old CRM),attributes,Company
Ada Lovelace,ada@engines.example,,Analytical Engines,olga@crm.example,,2023-03-01 09:00:00+00,contacted,,CRM-1,"12,000",88,"{""tier"": ""gold""}",Ignored Dup
Bob Byron,bob@poets.example,,Poets Ltd,,98501,2022-11-15,,Qualified,CRM-2,,41,,
Cy Clone,cy@clones.example,,Clones Inc,nobody@crm.example,,not a date,nurture,,CRM-3,,,not json,
Dee Doe,dee@does.example,,Does AG,,,2099-01-01,unqualified,,CRM-4,,,,
Eve Error,eve@errors.example,,Errors plc,,,,archived,,CRM-5,,,,
Fay Fault,fay@faults.example,,Faults plc,,,,new,Converted,CRM-6,,,,
Gus Gap,gus@gaps.example,,Gaps Co,,,,,No Such Stage,CRM-7,,,,
Hal Home,hal@homes.example,+44 20 7946 0001,Homes Ltd,,,,,,CRM-8,,,,
$csv$ AS body;
SELECT leadflow.stage_import(985, body) AS batch FROM crm_file \gset

-- what was staged: known columns mapped, the rest in attributes (JSON)
SELECT row_number - min(row_number) OVER () + 1 AS row, first_name, last_name, email, company, owner_rep_id, owner_email,
       created_at, status, stage, external_id, attributes
  FROM leadflow.lead_imports WHERE org_id = 985 AND batch_id = :batch ORDER BY row_number;

SELECT * FROM leadflow.process_import(985, :batch);

-- rejected rows keep their reason; the others are leads
SELECT external_id, error FROM leadflow.lead_imports
 WHERE org_id = 985 AND batch_id = :batch AND error IS NOT NULL ORDER BY row_number;

SELECT l.external_id, l.owner_rep_id, l.status, s.name AS stage, l.country,
       l.created_at < now() - interval '1 day' AS created_in_the_past,
       l.assigned_at >= now() - interval '1 hour' AS sla_clock_at_import,
       l.last_activity_at >= now() - interval '1 hour' AS inactivity_clock_at_import,
       l.attributes, l.data_issues
  FROM leadflow.leads l JOIN leadflow.workflow_stages s ON s.org_id = l.org_id AND s.stage_id = l.stage_id
 WHERE l.org_id = 985 ORDER BY l.external_id;
SELECT external_id, created_at AT TIME ZONE 'UTC' AS created_utc
  FROM leadflow.leads WHERE org_id = 985 AND external_id IN ('CRM-1', 'CRM-2') ORDER BY 1;

-- an owned lead is not routed: its journey says the owner was given
SELECT l.external_id, j.detail ->> 'path' AS path, j.detail ->> 'rep_id' AS rep_id
  FROM leadflow.leads l JOIN leadflow.journey_events j ON j.org_id = l.org_id AND j.lead_id = l.lead_id AND j.kind = 'routed'
 WHERE l.org_id = 985 ORDER BY l.external_id;

-- A day later nothing happens to the backlog for its old dates: no SLA
-- reassignment (72 h after the import), no cold archiving (14 days after
-- it), no decay.  Three weeks later the clocks that started at the import
-- have run: the untouched owned leads are reassigned, the cold ones archived.
SELECT * FROM leadflow.run_maintenance(985, now() + interval '1 day') WHERE leads > 0 ORDER BY action;
SELECT count(*) FILTER (WHERE status = 'archived') AS archived,
       count(*) FILTER (WHERE owner_rep_id = 98501) AS still_olgas
  FROM leadflow.leads WHERE org_id = 985;
SELECT * FROM leadflow.run_maintenance(985, now() + interval '21 days') WHERE leads > 0 ORDER BY action;

-- importing the same file again changes nothing
SELECT leadflow.stage_import(985, body) AS batch2 FROM crm_file \gset
SELECT * FROM leadflow.process_import(985, :batch2);

-- a header line only: an empty batch; no text at all: refused
SELECT leadflow.stage_import(985, E'email,phone\n') AS batch3 \gset
SELECT count(*) AS rows FROM leadflow.lead_imports WHERE org_id = 985 AND batch_id = :batch3;
SELECT leadflow.stage_import(985, '');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT * FROM leadflow.verify_journey(985);
