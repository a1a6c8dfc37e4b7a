-- Workflows and stages, qualification, activities, conversion, erasure.
\set VERBOSITY terse
-- lead ids of this file start at 65001, whatever ran before
SELECT setval(pg_get_serial_sequence('leadflow.leads', 'lead_id'), 65000) \gset
INSERT INTO leadflow.orgs (org_id, name, settings) VALUES (65, 'Lifecycle Org', '{"require_bant_for_qualified": true}');
INSERT INTO leadflow.reps (org_id, rep_id, name) VALUES (65, 6501, 'Rita'), (65, 6502, 'Sam');
SELECT stage_id AS s_new FROM leadflow.workflow_stages WHERE org_id = 65 AND status = 'new' \gset
SELECT stage_id AS s_contacted FROM leadflow.workflow_stages WHERE org_id = 65 AND status = 'contacted' \gset
SELECT stage_id AS s_qualified FROM leadflow.workflow_stages WHERE org_id = 65 AND status = 'qualified' \gset

INSERT INTO leadflow.leads (org_id, first_name, last_name, email, phone, company, owner_rep_id, city)
VALUES (65, 'Greta', 'Garbo', 'greta@filmhaus.example', '+46 8 123 456 78', 'Filmhaus AB', 6501, 'Stockholm')
RETURNING lead_id AS greta, status, stage_id = :s_new AS in_new_stage \gset
SELECT :'status' AS status, :'in_new_stage' AS in_new_stage;

-- status moves the stage, stage moves the status; each move is journaled
UPDATE leadflow.leads SET stage_entered_at = now() - interval '36 hours' WHERE lead_id = :greta;
UPDATE leadflow.leads SET status = 'contacted' WHERE lead_id = :greta;
SELECT status, stage_id = :s_contacted AS in_contacted_stage FROM leadflow.leads WHERE lead_id = :greta;
-- a stage set to null is the status's stage again; a workflow cannot be null
UPDATE leadflow.leads SET stage_id = NULL WHERE lead_id = :greta RETURNING status, stage_id = :s_contacted AS in_contacted_stage;
UPDATE leadflow.leads SET workflow_id = NULL WHERE lead_id = :greta;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
UPDATE leadflow.leads SET stage_id = :s_new WHERE lead_id = :greta;
SELECT status FROM leadflow.leads WHERE lead_id = :greta;
SELECT detail->>'from_status' AS from_status, detail->>'to_status' AS to_status,
       (detail->>'hours_in_previous_stage')::numeric >= 36 AS hours_counted
  FROM leadflow.lead_journey WHERE lead_id = :greta AND kind = 'stage_changed' ORDER BY seq;

-- BANT is required by this org before qualified
UPDATE leadflow.leads SET status = 'qualified' WHERE lead_id = :greta;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
UPDATE leadflow.leads SET budget_confirmed = true, authority_confirmed = true, need_confirmed = true,
                          timeline_confirmed = true, status = 'qualified' WHERE lead_id = :greta;
SELECT status, qualified_at IS NOT NULL AS qualified_at_set FROM leadflow.leads WHERE lead_id = :greta;

-- illegal moves
UPDATE leadflow.leads SET status = 'converted' WHERE lead_id = :greta;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
UPDATE leadflow.leads SET status = 'merged' WHERE lead_id = :greta;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
UPDATE leadflow.leads SET status = 'archived' WHERE lead_id = :greta;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
UPDATE leadflow.leads SET status = 'lost' WHERE lead_id = :greta;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
-- a stage of another workflow
INSERT INTO leadflow.workflows (org_id, workflow_id, name) VALUES (65, 6590, 'Partner deals');
INSERT INTO leadflow.workflow_stages (org_id, stage_id, workflow_id, name, position, status) VALUES
  (65, 6591, 6590, 'Registered', 1, 'new'), (65, 6592, 6590, 'Approved', 2, 'qualified');
UPDATE leadflow.leads SET stage_id = 6591 WHERE lead_id = :greta;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
-- ... unless the lead moves to that workflow with it
UPDATE leadflow.leads SET workflow_id = 6590, stage_id = 6592 WHERE lead_id = :greta;
SELECT workflow_id, stage_id, status FROM leadflow.leads WHERE lead_id = :greta;
UPDATE leadflow.leads SET workflow_id = (SELECT workflow_id FROM leadflow.workflows WHERE org_id = 65 AND is_default),
                          stage_id = :s_qualified WHERE lead_id = :greta;

-- user changes are journaled: which fields, never their values
UPDATE leadflow.leads SET owner_rep_id = 6502, phone = '+46 8 765 432 10', priority = 'high' WHERE lead_id = :greta;
SELECT detail FROM leadflow.lead_journey WHERE lead_id = :greta AND kind = 'updated' ORDER BY seq DESC LIMIT 1;
SELECT count(*) AS journey_rows_with_phone FROM leadflow.lead_journey
 WHERE lead_id = :greta AND detail::text LIKE '%765%';

-- activities: a completed call by a rep is the first touch and contacts a new lead
INSERT INTO leadflow.leads (org_id, first_name, email) VALUES (65, 'Hugo', 'hugo@filmhaus.example')
RETURNING lead_id AS hugo \gset
INSERT INTO leadflow.activities (org_id, lead_id, rep_id, kind, subject, due_at)
VALUES (65, :hugo, 6501, 'task', 'Call Hugo back', now() - interval '1 day');
SELECT status, first_touch_at IS NULL AS untouched FROM leadflow.leads WHERE lead_id = :hugo;
INSERT INTO leadflow.activities (org_id, lead_id, rep_id, kind, subject, notes, completed_at)
VALUES (65, :hugo, 6501, 'call', 'Intro call', 'Hugo wants a demo for his team', now());
SELECT status, first_touch_at IS NOT NULL AS touched, last_activity_at IS NOT NULL AS active
  FROM leadflow.leads WHERE lead_id = :hugo;
INSERT INTO leadflow.activities (org_id, lead_id, rep_id, kind, completed_at)
VALUES (65, :hugo, 6502, 'email', now() + interval '1 hour');
SELECT first_touch_at < last_activity_at AS first_touch_kept FROM leadflow.leads WHERE lead_id = :hugo;
SELECT kind, detail->>'kind' AS activity_kind FROM leadflow.lead_journey
 WHERE lead_id = :hugo AND kind IN ('activity', 'stage_changed') ORDER BY seq;

-- conversion into a new account: account, contact and opportunity owned by the lead owner
SELECT leadflow.convert_lead(:greta, 'Filmhaus rollout', 25000, '2027-03-31') AS opp \gset
SELECT l.status, l.converted_at IS NOT NULL AS converted_at_set, a.name AS account, a.domain,
       c.email AS contact_email, o.name, o.amount, o.expected_close, o.owner_rep_id, o.stage
  FROM leadflow.leads l
  JOIN leadflow.accounts a ON a.org_id = l.org_id AND a.account_id = l.account_id
  JOIN leadflow.contacts c ON c.org_id = l.org_id AND c.lead_id = l.lead_id
  JOIN leadflow.opportunities o ON o.org_id = l.org_id AND o.lead_id = l.lead_id
 WHERE l.lead_id = :greta;
SELECT detail ? 'opportunity_id' AS has_ids, detail->>'account_created' AS account_created
  FROM leadflow.lead_journey WHERE lead_id = :greta AND kind = 'converted';
-- twice is refused, not duplicated; a converted lead stays converted
SELECT leadflow.convert_lead(:greta);
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
UPDATE leadflow.leads SET status = 'contacted' WHERE lead_id = :greta;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
-- a colleague converts into the existing account (by domain), BANT
-- confirmed (this org requires it for conversion too)
UPDATE leadflow.leads SET budget_confirmed = true, authority_confirmed = true, need_confirmed = true,
       timeline_confirmed = true WHERE lead_id = :hugo;
SELECT leadflow.convert_lead(:hugo) IS NOT NULL AS converted;
SELECT count(*) AS accounts, count(DISTINCT c.account_id) AS accounts_of_contacts
  FROM leadflow.accounts a, leadflow.contacts c WHERE a.org_id = 65 AND c.org_id = 65;
-- ... and by company name when there is no domain
INSERT INTO leadflow.leads (org_id, first_name, phone, company) VALUES (65, 'Ingrid', '+46 8 111 222 33', 'FILMHAUS ab')
RETURNING lead_id AS ingrid \gset
UPDATE leadflow.leads SET budget_confirmed = true, authority_confirmed = true, need_confirmed = true,
       timeline_confirmed = true WHERE lead_id = :ingrid;
SELECT leadflow.convert_lead(:ingrid) AS ingrid_opp \gset
SELECT o.account_id = (SELECT account_id FROM leadflow.leads WHERE lead_id = :greta) AS same_account
  FROM leadflow.opportunities o WHERE o.opportunity_id = :ingrid_opp;
-- unqualified, merged and unknown leads are refused
INSERT INTO leadflow.leads (org_id, email) VALUES (65, 'nope@example.org') RETURNING lead_id AS nope \gset
UPDATE leadflow.leads SET status = 'unqualified' WHERE lead_id = :nope;
SELECT leadflow.convert_lead(:nope);
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
INSERT INTO leadflow.leads (org_id, email) VALUES (65, 'NOPE@example.org') RETURNING lead_id AS nope_dup \gset
SELECT leadflow.convert_lead(:nope_dup);
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.convert_lead(-1);
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- convert_on_qualified converts on the move to qualified
INSERT INTO leadflow.orgs (org_id, name, settings) VALUES (66, 'Auto Convert', '{"convert_on_qualified": true}');
INSERT INTO leadflow.leads (org_id, email, company) VALUES (66, 'auto@convert.example', 'Convert Co')
RETURNING lead_id AS auto \gset
UPDATE leadflow.leads SET status = 'qualified' WHERE lead_id = :auto;
SELECT status, (SELECT count(*) FROM leadflow.opportunities WHERE lead_id = :auto) AS opportunities
  FROM leadflow.leads WHERE lead_id = :auto;

-- erasure: the lead, its duplicates, signals, activities, contact, import rows
INSERT INTO leadflow.leads (org_id, first_name, last_name, email, phone, city, attributes)
VALUES (65, 'Zelda', 'Zimmermann', 'zelda.zimmermann@privat.example', '+49 30 9876543', 'Berlin', '{"note": "Zelda Zimmermann"}')
RETURNING lead_id AS zelda \gset
INSERT INTO leadflow.leads (org_id, first_name, email) VALUES (65, 'Zelda', 'Zelda.Zimmermann+news@privat.example');
INSERT INTO leadflow.lead_signals (org_id, lead_id, kind, properties)
VALUES (65, :zelda, 'page_view', '{"path": "/pricing", "email": "zelda.zimmermann@privat.example"}');
INSERT INTO leadflow.activities (org_id, lead_id, rep_id, kind, subject, notes, completed_at)
VALUES (65, :zelda, 6501, 'call', 'Call with Zelda Zimmermann', 'Zelda prefers +49 30 9876543', now());
SELECT leadflow.erase_lead(:zelda, 'GDPR request 2026-117') AS erased_rows;
-- no table of the schema holds her name, email or phone any more
SELECT count(*) AS tables_with_personal_data FROM (
  SELECT c.relname
    FROM pg_class c
   WHERE c.relnamespace = 'leadflow'::regnamespace AND c.relkind = 'r'
     AND (xpath('/row/found/text()', query_to_xml(format(
            'SELECT count(*) > 0 AS found FROM leadflow.%I t WHERE t::text ILIKE ANY (ARRAY[%L, %L, %L, %L])',
            c.relname, '%zimmermann%', '%zelda%', '%9876543%', '%privat.example%'), false, false, '')))[1]::text = 'true') hits;
SELECT erased_at IS NOT NULL AS erased, email, first_name, status, score >= 0 AS score_kept, source
  FROM leadflow.leads WHERE lead_id = :zelda;
SELECT count(*) AS claims FROM leadflow.lead_emails WHERE org_id = 65 AND lead_id = :zelda;
-- a new lead with her email is a new person now, not a duplicate
INSERT INTO leadflow.leads (org_id, email) VALUES (65, 'zelda.zimmermann@privat.example') RETURNING status;
SELECT leadflow.erase_lead(:zelda, 'again');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
UPDATE leadflow.leads SET status = 'nurture' WHERE lead_id = :zelda;
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT * FROM leadflow.verify_journey(65);
