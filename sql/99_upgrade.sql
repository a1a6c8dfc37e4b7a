-- Upgrade: install the oldest released version (0.1.0), load data through
-- the real entry points, ALTER EXTENSION leadflow UPDATE, and compare the
-- result with a fresh install of the newest version loaded with the same
-- data: the catalog (relations, columns with position, type, default and
-- not-null, constraints, indexes, triggers with their enabled state,
-- functions with arguments, result, volatility, settings, privileges and a
-- hash of the definition, views' definitions, policies, types, sequences,
-- comments, initial privileges, extension membership, pg_dump
-- registrations) and every row of every table (of the values that differ
-- between two loads of the same data only whether they are set: see the
-- snapshot function).  The update and each load run in sessions of their
-- own, as in production.  The differences are printed: none expected.
\set VERBOSITY terse
-- a fresh state: the preloaded newest version and what earlier files left
SET client_min_messages = warning;
DROP EXTENSION leadflow CASCADE;
DROP SCHEMA leadflow CASCADE;
RESET client_min_messages;

-- Snapshot of the installed leadflow, by name (never by oid), kept in a
-- schema of the test.
CREATE SCHEMA upgrade_check;
CREATE TABLE upgrade_check.snap (install text, kind text, name text, detail text);
-- the last event before the statements run after the update: the outbox
-- (leadflow.events) starts with the update, so the events compared are
-- those of the later statements, by content (their ids and writing
-- transactions differ between the two installs)
CREATE TABLE upgrade_check.mark (install text, last_event bigint);
CREATE FUNCTION upgrade_check.snapshot(install text) RETURNS void LANGUAGE plpgsql AS $f$
DECLARE
    ns oid := 'leadflow'::regnamespace;
    ext oid := (SELECT e.oid FROM pg_extension e WHERE e.extname = 'leadflow');
    t record;
BEGIN
    INSERT INTO upgrade_check.snap
    SELECT install, 'extension', e.extname,
           format('version %s relocatable %s schema %s comment %s', e.extversion, e.extrelocatable,
                  e.extnamespace::regnamespace, obj_description(e.oid, 'pg_extension'))
      FROM pg_extension e WHERE e.oid = ext
    UNION ALL
    SELECT install, 'relation', c.relname,
           format('kind %s persistence %s options %s acl %s rls %s forced %s replica identity %s',
                  c.relkind, c.relpersistence, c.reloptions, c.relacl, c.relrowsecurity,
                  c.relforcerowsecurity, c.relreplident)
      FROM pg_class c WHERE c.relnamespace = ns
    UNION ALL
    SELECT install, 'column', c.relname || '.' || a.attname,
           format('position %s type %s not null %s default %s identity %s generated %s collation %s acl %s',
                  row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum), format_type(a.atttypid, a.atttypmod),
                  a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
                  co.collname, a.attacl)
      FROM pg_class c
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 0
     WHERE c.relnamespace = ns AND c.relkind IN ('r', 'v', 'm', 'c', 'p', 'f')
    UNION ALL
    SELECT install, 'constraint', co.conrelid::regclass || ' ' || co.conname,
           co.contype::text || ' ' || pg_get_constraintdef(co.oid)
      FROM pg_constraint co WHERE co.connamespace = ns
    UNION ALL
    SELECT install, 'index', c.relname, pg_get_indexdef(i.indexrelid)
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = ns
    UNION ALL
    SELECT install, 'trigger', tg.tgrelid::regclass || ' ' || tg.tgname,
           'enabled ' || tg.tgenabled::text || ' ' || pg_get_triggerdef(tg.oid)
      FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
     WHERE c.relnamespace = ns AND NOT tg.tgisinternal
    UNION ALL
    SELECT install, 'function', p.oid::regprocedure::text,
           format('args (%s) returns %s kind %s volatility %s parallel %s strict %s security definer %s leakproof %s language %s config %s acl %s cost %s rows %s body md5 %s',
                  pg_get_function_arguments(p.oid), pg_get_function_result(p.oid), p.prokind, p.provolatile,
                  p.proparallel, p.proisstrict, p.prosecdef, p.proleakproof, l.lanname, p.proconfig, p.proacl,
                  p.procost, p.prorows, md5(pg_get_functiondef(p.oid)))
      FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang WHERE p.pronamespace = ns
    UNION ALL
    SELECT install, 'view', c.relname, 'definition md5 ' || md5(pg_get_viewdef(c.oid))
      FROM pg_class c WHERE c.relnamespace = ns AND c.relkind IN ('v', 'm')
    UNION ALL
    SELECT install, 'policy', po.polrelid::regclass || ' ' || po.polname,
           format('command %s permissive %s roles %s using %s with check %s', po.polcmd, po.polpermissive,
                  ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE r::regrole::text END FROM unnest(po.polroles) r),
                  pg_get_expr(po.polqual, po.polrelid), pg_get_expr(po.polwithcheck, po.polrelid))
      FROM pg_policy po JOIN pg_class c ON c.oid = po.polrelid WHERE c.relnamespace = ns
    UNION ALL
    SELECT install, 'type', ty.typname, format('type %s category %s', ty.typtype, ty.typcategory)
      FROM pg_type ty WHERE ty.typnamespace = ns
    UNION ALL
    SELECT install, 'sequence', s.sequencename,
           format('%s start %s min %s max %s increment %s cycle %s cache %s last value %s owned by %s',
                  s.data_type, s.start_value, s.min_value, s.max_value, s.increment_by, s.cycle, s.cache_size,
                  -- event ids: the fresh install also numbered the events of the load
                  CASE WHEN s.sequencename = 'events_event_id_seq' THEN (s.last_value IS NOT NULL)::text
                       ELSE s.last_value::text END,
                  (SELECT d.refobjid::regclass || '.' || a.attname FROM pg_depend d
                     JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = format('%I.%I', s.schemaname, s.sequencename)::regclass
                      AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))
      FROM pg_sequences s WHERE s.schemaname = 'leadflow'
    UNION ALL
    SELECT install, 'comment', pg_describe_object(d.classoid, d.objoid, d.objsubid), d.description
      FROM pg_description d
     WHERE (pg_identify_object(d.classoid, d.objoid, d.objsubid)).schema = 'leadflow'
    UNION ALL
    SELECT install, 'initial privileges', pg_describe_object(i.classoid, i.objoid, i.objsubid),
           i.privtype::text || ' ' || i.initprivs::text
      FROM pg_init_privs i
     WHERE (pg_identify_object(i.classoid, i.objoid, i.objsubid)).schema = 'leadflow'
    UNION ALL
    SELECT install, 'member', pg_describe_object(d.classid, d.objid, d.objsubid), d.deptype::text
      FROM pg_depend d WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext
    UNION ALL
    SELECT install, 'config dump', c.cfg::regclass::text, c.cond
      FROM pg_extension e, unnest(e.extconfig, e.extcondition) c(cfg, cond) WHERE e.oid = ext;

    -- every row of every table; of the values that differ between two loads
    -- of the same data only whether they are set: the instants (columns of
    -- timestamptz), the journey hashes (they cover the instants;
    -- verify_journey checks them) and the hours a lead spent in a stage;
    -- and the reason of an erasure, which 0.1.0 journaled as text and 0.2.0
    -- by its hash (a journey row is never rewritten)
    FOR t IN SELECT c.oid::regclass AS rel, c.relname,
                    string_agg(CASE WHEN a.atttypid = 'timestamptz'::regtype
                                      OR (c.relname = 'lead_journey' AND a.attname IN ('hash', 'prev_hash'))
                                    THEN format('CASE WHEN x.%1$I IS NOT NULL THEN %2$L END AS %1$I', a.attname, 'set')
                                    WHEN c.relname = 'lead_journey' AND a.attname = 'detail'
                                    THEN format('CASE WHEN x.kind = %2$L THEN x.%1$I - %3$L::text[] ELSE x.%1$I - %4$L END AS %1$I',
                                                a.attname, 'erased', '{reason,reason_sha256}', 'hours_in_previous_stage')
                                    WHEN c.relname = 'events' AND a.attname IN ('event_id', 'xact_id')
                                    THEN format('CASE WHEN x.%1$I IS NOT NULL THEN %2$L END AS %1$I', a.attname, 'set')
                                    ELSE format('x.%I', a.attname) END, ', ' ORDER BY a.attnum) AS cols
               FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
              WHERE c.relnamespace = ns AND c.relkind IN ('r', 'p')
              GROUP BY c.oid, c.relname ORDER BY c.relname
    LOOP
        EXECUTE format('INSERT INTO upgrade_check.snap SELECT %L, %L, %L, to_jsonb(y)::text FROM (SELECT %s FROM %s x %s) y',
                       install, 'row', t.relname, t.cols, t.rel,
                       CASE WHEN t.relname = 'events'
                            THEN format('WHERE x.event_id > (SELECT m.last_event FROM upgrade_check.mark m WHERE m.install = %L)', install)
                            ELSE '' END);
    END LOOP;
END
$f$;

-- The data: an org with its defaults, teams, reps, an account, a company
-- profile, spend, business hours, routing rules (live and shadow), a
-- scoring rule; leads by INSERT (one a duplicate), capture() and a CSV
-- import with a rejected row; signals (one a bounce, one for a merged
-- lead), activities and consents (also for a merged lead), a manual merge,
-- qualification and conversion, a closed lead, a trained model, a
-- reassignment, an erasure, tenant isolation.  Each statement runs as it
-- would from an application (psql \gexec runs each as its own statement).
CREATE TABLE upgrade_check.load (n integer GENERATED ALWAYS AS IDENTITY, stmt text NOT NULL);
INSERT INTO upgrade_check.load (stmt) VALUES
($$INSERT INTO leadflow.orgs (org_id, name, settings) VALUES (99, 'Upgrade Org', '{"default_region": "DE", "nurture_requires_consent": false}')$$),
($$INSERT INTO leadflow.teams (org_id, team_id, name, strategy) VALUES (99, 991, 'Inbound', 'round_robin'), (99, 992, 'Germany', 'weighted_round_robin')$$),
($$INSERT INTO leadflow.reps (org_id, rep_id, team_id, name, weight, max_open_leads) VALUES
    (99, 9901, 991, 'Ann', 1, NULL), (99, 9902, 991, 'Ben', 1, NULL), (99, 9903, 992, 'Cid', 2, NULL), (99, 9904, 992, 'Dee', 1, 5)$$),
($$UPDATE leadflow.teams SET manager_rep_id = 9901 WHERE org_id = 99 AND team_id = 991$$),
($$INSERT INTO leadflow.accounts (org_id, account_id, name, domain, owner_rep_id) VALUES (99, 9951, 'Acme', 'acme.example', 9903)$$),
($$INSERT INTO leadflow.company_profiles (org_id, domain, provider, industry, company_size, annual_revenue, country)
    VALUES (99, 'initech.example', 'vendor_a', 'Software', 700, 5000000, 'DE')$$),
($$INSERT INTO leadflow.source_spend (org_id, source, month, amount) VALUES (99, 'web_form', '2026-01-01', 1200)$$),
($$UPDATE leadflow.sla_policies SET business_hours = '{"time_zone": "Europe/Berlin", "mon": "09:00-17:00", "tue": "09:00-17:00", "wed": "09:00-17:00", "thu": "09:00-17:00", "fri": "09:00-17:00"}'
    WHERE org_id = 99 AND source IS NULL$$),
($$INSERT INTO leadflow.routing_rules (org_id, rule_id, position, name, mode, predicate, assign_to, rep_id, team_id) VALUES
    (99, 9961, 10, 'Germany weighted', 'live', '{"field": "country", "op": "eq", "value": "DE"}', 'team', NULL, 992),
    (99, 9962, 20, 'Trial: all to Ben', 'shadow', '{"all": []}', 'rep', 9902, NULL),
    (99, 9963, 30, 'Everyone else', 'live', '{"all": []}', 'team', NULL, 991)$$),
($$INSERT INTO leadflow.scoring_rules (org_id, model_id, name, category, points, predicate)
    SELECT 99, m.model_id, 'Software', 'firmographic', 5, '{"field": "industry", "op": "eq", "value": "Software"}'
      FROM leadflow.scoring_models m WHERE m.org_id = 99 AND m.active$$),
($$INSERT INTO leadflow.leads (org_id, email, phone, first_name, last_name, job_title, country, source) VALUES
    (99, 'ada@initech.example', NULL, 'Ada', 'Lovelace', 'CTO', 'DE', 'web_form'),
    (99, 'bob@gmail.com', '+1 202 555 0100', 'Bob', 'Moss', 'Manager', 'US', 'trade_show'),
    (99, 'carla@acme.example', NULL, 'Carla', 'Diaz', 'VP Sales', 'US', 'web_form'),
    (99, 'dan@acme.example', '030 1234567', 'Dan', 'Diaz', NULL, 'DE', 'referral'),
    (99, 'eve@school.example', NULL, 'Eve', 'Young', 'Student', 'FR', 'trade_show')$$),
($$INSERT INTO leadflow.leads (org_id, email, first_name, source) VALUES (99, 'Ada@Initech.example', 'Ada', 'webinar')$$),
($$SELECT outcome FROM leadflow.capture(99, 'meta_ads', '{"id": "m-1", "field_data": [{"name": "email", "values": ["fay@hooli.example"]}, {"name": "full_name", "values": ["Fay Wray"]}, {"name": "company_size", "values": ["51"]}]}')$$),
($$INSERT INTO leadflow.lead_imports (org_id, batch_id, first_name, email, phone, company_size, country, source) VALUES
    (99, 1, 'Gus', 'gus@umbrella.example', NULL, '120', 'DE', 'csv'),
    (99, 1, 'Hal', 'not an email', NULL, NULL, 'US', 'csv'),
    (99, 1, 'Ida', 'ida@umbrella', NULL, 'many', 'DE', 'csv')$$),
($$SELECT * FROM leadflow.process_import(99, 1)$$),
($$INSERT INTO leadflow.lead_signals (org_id, lead_id, kind, occurred_at, properties)
    SELECT 99, l.lead_id, s.kind, now() - s.ago, s.properties
      FROM leadflow.leads l
      JOIN (VALUES ('ada@initech.example', 'page_view', interval '2 days', '{"path": "/pricing"}'::jsonb),
                   ('ada@initech.example', 'meeting_booked', interval '1 day', '{}'),
                   ('Ada@Initech.example', 'email_click', interval '3 hours', '{}'),
                   ('bob@gmail.com', 'email_bounce', interval '1 hour', '{"type": "hard"}')) s(email, kind, ago, properties)
        ON l.email = s.email
     WHERE l.org_id = 99$$),
($$INSERT INTO leadflow.activities (org_id, lead_id, rep_id, kind, subject, completed_at)
    SELECT 99, l.lead_id, 9903, 'call', 'Intro call', now() FROM leadflow.leads l WHERE l.org_id = 99 AND l.email IN ('carla@acme.example', 'Ada@Initech.example')$$),
($$INSERT INTO leadflow.activities (org_id, lead_id, rep_id, kind, subject, due_at)
    SELECT 99, l.lead_id, 9901, 'task', 'Send deck', now() - interval '1 hour' FROM leadflow.leads l WHERE l.org_id = 99 AND l.email = 'bob@gmail.com'$$),
($$INSERT INTO leadflow.consents (org_id, lead_id, channel, basis, source)
    SELECT 99, l.lead_id, 'email', 'consent', 'form' FROM leadflow.leads l WHERE l.org_id = 99 AND l.email IN ('carla@acme.example', 'Ada@Initech.example', 'eve@school.example')$$),
($$UPDATE leadflow.consents c SET withdrawn_at = now() FROM leadflow.leads l
    WHERE l.org_id = 99 AND l.email = 'eve@school.example' AND c.org_id = 99 AND c.lead_id = l.lead_id$$),
($$SELECT leadflow.merge_leads(s.lead_id, d.lead_id) IS NOT NULL AS merged FROM leadflow.leads s, leadflow.leads d
    WHERE s.org_id = 99 AND s.email = 'carla@acme.example' AND d.org_id = 99 AND d.email = 'dan@acme.example'$$),
($$UPDATE leadflow.leads SET status = 'qualified', budget_confirmed = true WHERE org_id = 99 AND email = 'ada@initech.example'$$),
($$UPDATE leadflow.leads SET status = 'unqualified' WHERE org_id = 99 AND email = 'eve@school.example'$$),
($$SELECT leadflow.train_model(99) AS training_leads$$),
($$SELECT leadflow.reassign_lead(l.lead_id, 'manual') AS new_owner FROM leadflow.leads l WHERE l.org_id = 99 AND l.email = 'bob@gmail.com'$$),
($$SELECT leadflow.erase_lead(l.lead_id, 'request 99-1') AS erased FROM leadflow.leads l WHERE l.org_id = 99 AND l.email = 'fay@hooli.example'$$),
($$SELECT leadflow.enable_tenant_isolation() > 0 AS isolated$$);

-- what runs after the update in both: a conversion (0.2.0 journals its
-- handoff and keeps the SDR, which a conversion made under 0.1.0 never
-- had), rows for a merged lead (they go to its survivor), maintenance as
-- of a later time (inactivity decay, archiving, SLA, nurture), and the
-- journeys are intact
CREATE TABLE upgrade_check.after (n integer GENERATED ALWAYS AS IDENTITY, stmt text NOT NULL);
INSERT INTO upgrade_check.after (stmt) VALUES
($$SELECT leadflow.convert_lead(l.lead_id, 'Initech platform', 25000) IS NOT NULL AS converted FROM leadflow.leads l WHERE l.org_id = 99 AND l.email = 'ada@initech.example'$$),
($$INSERT INTO leadflow.activities (org_id, lead_id, rep_id, kind, subject, completed_at)
    SELECT 99, l.lead_id, 9901, 'email', 'Follow-up', now() FROM leadflow.leads l WHERE l.org_id = 99 AND l.email = 'dan@acme.example'$$),
($$INSERT INTO leadflow.consents (org_id, lead_id, channel, basis)
    SELECT 99, l.lead_id, 'phone', 'legitimate_interest' FROM leadflow.leads l WHERE l.org_id = 99 AND l.email = 'dan@acme.example'$$),
($$SELECT count(*) AS on_survivor FROM leadflow.activities a JOIN leadflow.leads l ON l.org_id = a.org_id AND l.lead_id = a.lead_id
    WHERE a.org_id = 99 AND a.subject = 'Follow-up' AND l.email = 'carla@acme.example'$$),
($$SELECT action, leads FROM leadflow.run_maintenance(99, now() + interval '75 days') WHERE leads > 0 ORDER BY action$$),
($$SELECT count(*) AS broken_links FROM leadflow.verify_journey(99)$$);

-- the oldest released version, loaded, then updated
CREATE EXTENSION leadflow VERSION '0.1.0';
SELECT extversion FROM pg_extension WHERE extname = 'leadflow';
SELECT stmt FROM upgrade_check.load ORDER BY n \gexec
-- the update, in a session of its own as an operator runs it
\c -
ALTER EXTENSION leadflow UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'leadflow';
SELECT * FROM leadflow.verify_journey(99);
INSERT INTO upgrade_check.mark SELECT 'updated', COALESCE(max(event_id), 0) FROM leadflow.events;
SELECT stmt FROM upgrade_check.after ORDER BY n \gexec
SELECT upgrade_check.snapshot('updated');

-- a fresh install of the newest version, the same data
\c -
DROP EXTENSION leadflow;
DROP SCHEMA leadflow;
CREATE EXTENSION leadflow;
SELECT extversion FROM pg_extension WHERE extname = 'leadflow';
SELECT stmt FROM upgrade_check.load ORDER BY n \gexec
\c -
INSERT INTO upgrade_check.mark SELECT 'fresh', COALESCE(max(event_id), 0) FROM leadflow.events;
SELECT stmt FROM upgrade_check.after ORDER BY n \gexec
SELECT upgrade_check.snapshot('fresh');

-- the snapshots are not empty, and hold as many items of each kind
SELECT kind, count(*) FILTER (WHERE install = 'fresh') > 0 AS present,
       count(*) FILTER (WHERE install = 'updated') = count(*) FILTER (WHERE install = 'fresh') AS same_count
  FROM upgrade_check.snap GROUP BY kind ORDER BY kind;
-- the leads of the org are there, with their journeys
SELECT count(*) > 20 AS journey_rows, count(DISTINCT detail::jsonb ->> 'lead_id') >= 8 AS leads_with_journey
  FROM upgrade_check.snap WHERE install = 'updated' AND kind = 'row' AND name = 'lead_journey';

-- every difference between the updated and the fresh install: none
(SELECT 'only after update' AS side, kind, name, detail FROM upgrade_check.snap WHERE install = 'updated'
 EXCEPT ALL
 SELECT 'only after update', kind, name, detail FROM upgrade_check.snap WHERE install = 'fresh')
UNION ALL
(SELECT 'only in fresh install', kind, name, detail FROM upgrade_check.snap WHERE install = 'fresh'
 EXCEPT ALL
 SELECT 'only in fresh install', kind, name, detail FROM upgrade_check.snap WHERE install = 'updated')
ORDER BY kind, name, side, detail;

SET client_min_messages = warning;
DROP SCHEMA upgrade_check CASCADE;
