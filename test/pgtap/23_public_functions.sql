-- What PUBLIC may execute (issue 17): an explicit list, so that a new
-- function is revoked or added here on purpose, never by default.  Trigger
-- functions are left out: they cannot be called directly.
BEGIN;
SELECT plan(1);

SELECT set_eq($$
    SELECT p.oid::regprocedure::text FROM pg_proc p
     WHERE p.pronamespace = 'leadflow'::regnamespace AND p.prorettype <> 'trigger'::regtype
       AND has_function_privilege('public', p.oid, 'EXECUTE')$$,
    ARRAY[
      -- tenant check, reading helpers
      'leadflow.check_org_access(bigint)', 'leadflow.open_statuses()', 'leadflow.survivor_of(bigint,bigint)',
      'leadflow.internal_tables()',
      -- journey
      'leadflow.journey_hash(bytea,bigint,bigint,integer,timestamp with time zone,text,text,jsonb)',
      'leadflow.append_journey(bigint,text,jsonb)', 'leadflow.verify_journey(bigint)',
      -- pure functions
      'leadflow.normalize_email(text)', 'leadflow.company_domain(text)', 'leadflow.normalize_phone(text,text)',
      'leadflow.name_similarity(text,text)', 'leadflow.country_code(text)', 'leadflow.subdivision_code(text,text)',
      'leadflow.check_predicate(jsonb)', 'leadflow.predicate_matches(jsonb,leadflow.leads)',
      'leadflow.decayed_points(double precision,interval,interval)',
      'leadflow.score_decay(timestamp with time zone,timestamp with time zone,interval,integer)',
      'leadflow.contact_problem(text,text,text,text)', 'leadflow.parse_number(text,boolean)',
      'leadflow.number_problem(text,boolean)', 'leadflow.source_key(text)', 'leadflow.default_source_aliases()',
      'leadflow.check_business_hours(jsonb)', 'leadflow.capture_check_limits(jsonb)',
      'leadflow.csv_records(text)', 'leadflow.import_column(text)', 'leadflow.import_json(text)',
      'leadflow.import_timestamp(text)', 'leadflow.search_key(text,text,text)',
      'leadflow.search_words(text,text,text)', 'leadflow.search_score(text[],text[],integer[],real[],real[])',
      'leadflow.business_minutes(timestamp with time zone,timestamp with time zone,jsonb)',
      'leadflow.business_deadline(timestamp with time zone,interval,jsonb)',
      'leadflow.account_score(integer,bigint,integer,bigint)', 'leadflow.lead_features(leadflow.leads)',
      -- what applications call for their own org (each checks org access)
      'leadflow.explain_score(bigint)', 'leadflow.simulate_routing(bigint,jsonb,text)',
      'leadflow.reassign_lead(bigint,text)', 'leadflow.explain_routing(bigint)',
      'leadflow.org_source(bigint,text)', 'leadflow.capture_flatten(jsonb)', 'leadflow.capture(bigint,text,jsonb)',
      'leadflow.capture_column(bigint,text)',
      'leadflow.import_org_id()', 'leadflow.import_fingerprint(leadflow.lead_imports)',
      'leadflow.process_import(bigint,bigint)', 'leadflow.stage_import(bigint,text)',
      'leadflow.search_leads(bigint,text,integer,boolean)', 'leadflow.enrich(bigint,text)',
      'leadflow.import_stage(bigint,text)', 'leadflow.import_place_problem(bigint,text,text)',
      'leadflow.convert_lead(bigint,text,numeric,date,text,integer)',
      'leadflow.may_email(bigint,bigint,timestamp with time zone)', 'leadflow.nurture_schedule(bigint)',
      'leadflow.events_after(bigint,text,integer)', 'leadflow.explain_prediction(bigint)'],
    'PUBLIC executes only the listed functions');

SELECT * FROM finish();
ROLLBACK;
