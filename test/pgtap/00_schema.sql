-- The contract's shape: every table and column, org defaults, and the
-- distribution-readiness rules (org_id first in every key, bigint ids).
BEGIN;
SELECT plan(24);

SELECT has_schema('leadflow');
SELECT tables_are('leadflow', ARRAY[
    'orgs', 'teams', 'reps', 'accounts', 'free_email_domains', 'company_profiles',
    'source_spend', 'source_aliases', 'sla_policies', 'workflows', 'workflow_stages', 'scoring_models',
    'scoring_rules', 'routing_rules', 'leads', 'lead_signals', 'activities', 'contacts',
    'opportunities', 'lead_imports', 'lead_journey', 'lead_external_ids',
    -- lifecycle automation (issue 10)
    'consents', 'nurture_queue', 'account_hot_state', 'prediction_models', 'prediction_counts',
    -- opportunity stages (issue 20)
    'opportunity_stages',
    -- per-org additions to the shared reference data (issue 17)
    'org_free_email_domains', 'org_capture_field_names',
    -- internal
    'lead_emails', 'lead_phones', 'lead_merges', 'events', 'capture_field_names', 'rep_load', 'team_rotation',
    'routing_rule_stats', 'lead_words'],
    'leadflow has the contract tables and its internal ones');

-- each contract table has at least the contract columns
CREATE TEMP TABLE contract (tbl text, cols text[]);
INSERT INTO contract VALUES
 ('orgs', '{org_id,name,settings}'),
 ('teams', '{org_id,team_id,name,strategy,manager_rep_id}'),
 ('reps', '{org_id,rep_id,team_id,name,email,role,active,accepting_leads,max_open_leads,weight,away_from,away_until}'),
 ('accounts', '{org_id,account_id,name,domain,owner_rep_id}'),
 ('free_email_domains', '{domain}'),
 ('company_profiles', '{org_id,domain,industry,company_size,annual_revenue,country,provider,priority,updated_at}'),
 ('source_spend', '{org_id,source,month,amount}'),
 ('sla_policies', '{org_id,source,first_touch_within,reassign_after}'),
 ('scoring_models', '{org_id,model_id,name,active,cap_demographic,cap_firmographic,cap_behavioral,cap_engagement,warm_at,hot_at,escalate_at,archive_below,archive_after,inactivity_grace,inactivity_points_per_week}'),
 ('scoring_rules', '{org_id,rule_id,model_id,name,category,predicate,signal_kind,points,half_life,max_count}'),
 ('lead_signals', '{org_id,signal_id,lead_id,kind,occurred_at,properties}'),
 ('leads', '{org_id,lead_id,first_name,last_name,email,phone,company,job_title,industry,company_size,annual_revenue,country,state,city,postal_code,source,campaign,attributes,status,priority,workflow_id,stage_id,owner_rep_id,team_id,account_id,merged_into,email_normalized,phone_e164,company_domain,score_demographic,score_firmographic,score_behavioral,score_engagement,score_manual,score,temperature,budget_confirmed,authority_confirmed,need_confirmed,timeline_confirmed,created_at,updated_at,last_activity_at,first_touch_at,escalated_at,qualified_at,converted_at,archived_at,archive_reason,erased_at}'),
 ('routing_rules', '{org_id,rule_id,position,name,enabled,mode,predicate,assign_to,rep_id,team_id}'),
 ('lead_imports', '{org_id,batch_id,row_number,first_name,last_name,email,phone,company,job_title,source,error,lead_id}'),
 ('workflows', '{org_id,workflow_id,name,is_default}'),
 ('workflow_stages', '{org_id,stage_id,workflow_id,name,position,status}'),
 ('activities', '{org_id,activity_id,lead_id,rep_id,kind,subject,notes,due_at,completed_at,created_at}'),
 ('contacts', '{org_id,contact_id,account_id,lead_id}'),
 ('opportunities', '{org_id,opportunity_id,account_id,contact_id,lead_id,owner_rep_id,name,amount,expected_close,stage}'),
 ('lead_journey', '{org_id,lead_id,seq,step_id,occurred_at,kind,actor,detail,prev_hash,hash}'),
 ('consents', '{org_id,lead_id,channel,basis,granted_at,withdrawn_at,source}'),
 ('nurture_queue', '{org_id,lead_id,step,due_at,sent_at}'),
 -- issue 20: handoff, opportunity stages
 ('opportunity_stages', '{org_id,stage_id,name,position,probability,is_won,is_lost}'),
 ('opportunities', '{sdr_rep_id,stage_id,probability,closed_at}'),
 ('routing_rules', '{stage}');

SELECT is_empty($$
    SELECT c.tbl || '.' || col
      FROM contract c, unnest(c.cols) col
     WHERE NOT EXISTS (SELECT FROM information_schema.columns i
                        WHERE i.table_schema = 'leadflow' AND i.table_name = c.tbl
                          AND i.column_name = col)$$,
    'every contract column exists');

SELECT col_type_is('leadflow', 'leads', 'attributes', 'jsonb', 'leads.attributes is jsonb');
SELECT col_type_is('leadflow', 'lead_journey', 'hash', 'bytea', 'lead_journey.hash is bytea');
SELECT col_type_is('leadflow', 'source_spend', 'month', 'date', 'source_spend.month is a date');

-- distribution readiness (Citus on org_id)
SELECT is_empty($$
    SELECT c.relname FROM pg_class c
     WHERE c.relnamespace = 'leadflow'::regnamespace AND c.relkind = 'r'
       AND c.relname NOT IN ('free_email_domains', 'capture_field_names')   -- global reference data
       AND NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'org_id'
                          AND a.attnotnull AND a.atttypid = 'int8'::regtype)$$,
    'every org table has org_id bigint NOT NULL');
SELECT is_empty($$
    SELECT i.indexrelid::regclass::text FROM pg_index i
      JOIN pg_class c ON c.oid = i.indrelid
     WHERE c.relnamespace = 'leadflow'::regnamespace AND i.indisunique
       AND c.relname NOT IN ('free_email_domains', 'capture_field_names')
       AND i.indexrelid <> 'leadflow.leads_lead_id'::regclass   -- lead ids are unique across orgs (issue 17)
       AND i.indkey[0] <> (SELECT attnum FROM pg_attribute WHERE attrelid = c.oid AND attname = 'org_id')$$,
    'every primary key and unique index starts with org_id');
SELECT is_empty($$
    SELECT conname FROM pg_constraint
     WHERE connamespace = 'leadflow'::regnamespace AND contype = 'f'
       AND (conkey[1] <> (SELECT attnum FROM pg_attribute WHERE attrelid = conrelid AND attname = 'org_id')
            OR confkey[1] <> (SELECT attnum FROM pg_attribute WHERE attrelid = confrelid AND attname = 'org_id'))$$,
    'every foreign key between leadflow tables starts with org_id on both sides');
SELECT is_empty($$
    SELECT c.relname || '.' || a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
     WHERE c.relnamespace = 'leadflow'::regnamespace AND c.relkind = 'r'
       AND (a.attidentity <> '' OR pg_get_expr((SELECT adbin FROM pg_attrdef WHERE adrelid = c.oid AND adnum = a.attnum), c.oid) LIKE 'nextval%')
       AND a.atttypid <> 'int8'::regtype$$,
    'every identity or serial column is bigint');
SELECT isnt_empty($$
    SELECT FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
     WHERE c.relnamespace = 'leadflow'::regnamespace AND a.attidentity <> ''$$,
    'ids are identity columns');

-- every table and every user-facing column is documented
SELECT is_empty($$
    SELECT c.relname FROM pg_class c
     WHERE c.relnamespace = 'leadflow'::regnamespace AND c.relkind IN ('r', 'v')
       AND obj_description(c.oid, 'pg_class') IS NULL$$,
    'every table and view has a COMMENT');
SELECT is_empty($$
    SELECT c.tbl || '.' || col FROM contract c, unnest(c.cols) col
     WHERE col <> 'org_id'
       AND col_description(('leadflow.' || c.tbl)::regclass,
                           (SELECT attnum FROM pg_attribute WHERE attrelid = ('leadflow.' || c.tbl)::regclass
                               AND attname = col)) IS NULL$$,
    'every contract column has a COMMENT');

-- configuration survives pg_dump
SELECT is_empty($$
    SELECT c.relname FROM pg_class c
     WHERE c.relnamespace = 'leadflow'::regnamespace AND c.relkind = 'r'
       AND c.relname <> 'capture_field_names'
       AND c.oid <> ALL ((SELECT extconfig FROM pg_extension WHERE extname = 'leadflow')::oid[])$$,
    'every table with user data is registered with pg_extension_config_dump');

-- journey guards fire always, also as replica
SELECT is(
    (SELECT string_agg(tgname || ':' || tgenabled::text, ',' ORDER BY tgname) FROM pg_trigger
      WHERE tgrelid = 'leadflow.lead_journey'::regclass AND NOT tgisinternal),
    'lead_journey_immutable:A,lead_journey_leadflow_only:A,lead_journey_no_truncate:A', 'journey triggers are ENABLE ALWAYS');

-- org defaults
INSERT INTO leadflow.orgs (org_id, name) VALUES (7001, 'TAP Org');
SELECT results_eq(
    $$SELECT s.name, s.position, s.status FROM leadflow.workflow_stages s
        JOIN leadflow.workflows w USING (org_id, workflow_id)
       WHERE s.org_id = 7001 AND w.is_default ORDER BY s.position$$,
    $$VALUES ('New', 1, 'new'), ('Contacted', 2, 'contacted'), ('Qualified', 3, 'qualified'),
             ('Nurture', 4, 'nurture'), ('Unqualified', 5, 'unqualified'), ('Converted', 6, 'converted')$$,
    'a new org gets the default workflow and stages');
SELECT results_eq(
    $$SELECT active, cap_demographic, cap_firmographic, cap_behavioral, cap_engagement,
             warm_at, hot_at, escalate_at, archive_below, archive_after, inactivity_grace,
             inactivity_points_per_week
        FROM leadflow.scoring_models WHERE org_id = 7001$$,
    $$VALUES (true, 40, 20, 20, 20, 31, 70, 75, 20, '14 days'::interval, '30 days'::interval, 5)$$,
    'a new org gets one active default scoring model');
SELECT results_eq(
    $$SELECT source, first_touch_within, reassign_after FROM leadflow.sla_policies
       WHERE org_id = 7001 AND (source IS NULL OR source IN ('web_form', 'trade_show'))
       ORDER BY source NULLS FIRST$$,
    $$VALUES (NULL::text, '1 hour'::interval, '72 hours'::interval),
             ('trade_show', '24 hours', '72 hours'), ('web_form', '5 minutes', '72 hours')$$,
    'a new org gets SLA policies: default 1 hour, web 5 minutes, trade show 24 hours');

-- settings are checked
SELECT throws_ok($$INSERT INTO leadflow.orgs (name, settings) VALUES ('x', '{"contry": "US"}')$$,
    '22023', 'unknown org setting "contry"', 'an unknown setting is refused');
SELECT throws_ok($$INSERT INTO leadflow.orgs (name, settings) VALUES ('x', '{"default_region": "usa"}')$$,
    '22023', NULL, 'a bad default_region is refused');
SELECT throws_ok($$INSERT INTO leadflow.orgs (name, settings) VALUES ('x', '{"convert_on_qualified": "yes"}')$$,
    '22023', 'invalid org setting "convert_on_qualified": "yes"', 'a non-boolean switch is refused');

-- leads need an email or a phone, and an existing org
SELECT throws_ok($$INSERT INTO leadflow.leads (org_id, first_name) VALUES (7001, 'Nobody')$$,
    '23514', NULL, 'a lead without email and phone is refused');
SELECT throws_ok($$INSERT INTO leadflow.leads (org_id, email) VALUES (7999, 'a@b.c')$$,
    '23503', 'org 7999 does not exist', 'a lead of an unknown org is refused');

-- a rep that owns leads cannot be deleted
INSERT INTO leadflow.reps (org_id, rep_id, name) VALUES (7001, 70011, 'Rita');
INSERT INTO leadflow.leads (org_id, email, owner_rep_id) VALUES (7001, 'owned@tap.test', 70011);
SELECT throws_ok($$DELETE FROM leadflow.reps WHERE org_id = 7001 AND rep_id = 70011$$,
    '23503', 'cannot delete reps.rep_id 70011: leads still refer to it', 'a rep in use cannot be deleted');

SELECT * FROM finish();
ROLLBACK;
