-- leadflow 0.1.0 -> 0.2.0, run by ALTER EXTENSION leadflow UPDATE.  Every
-- schema change of 0.2.0, each also in its part of the install script
-- (sql/install/), in the same words: 99_upgrade proves an updated 0.1.0
-- equal to a fresh install of 0.2.0.  Functions and views are replaced
-- (CREATE OR REPLACE: they are members of the extension already).

\echo Use "ALTER EXTENSION leadflow UPDATE TO '0.2.0'" to load this file. \quit

------------------------------------------------------------------------------
-- Issue 16: one definition of what the SQL side repeated
------------------------------------------------------------------------------

-- The open statuses, defined once (40_leads): the queues, the report views
-- and train_model use it instead of their own list (report_account_engagement
-- adds converted to it).
CREATE FUNCTION @extschema@.open_statuses()
RETURNS text[]
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'leadflow_open_statuses';
COMMENT ON FUNCTION @extschema@.open_statuses() IS
    'The statuses of an open lead, one that may still be worked: new, contacted, qualified and nurture (unqualified, converted, merged and archived leads are closed). Use it as status = ANY (leadflow.open_statuses()).';

CREATE OR REPLACE VIEW @extschema@.unassigned_queue WITH (security_invoker = true) AS
SELECT l.org_id, l.lead_id, l.source, l.score, l.temperature, l.status, l.created_at,
       (SELECT j.detail ->> 'path' FROM leadflow.lead_journey j
         WHERE j.org_id = l.org_id AND j.lead_id = l.lead_id AND j.kind = 'routed'
         ORDER BY j.seq DESC LIMIT 1) AS routing_path
  FROM leadflow.leads l
 WHERE l.owner_rep_id IS NULL AND l.merged_into IS NULL AND l.erased_at IS NULL
   AND l.status = ANY (@extschema@.open_statuses());

CREATE OR REPLACE VIEW @extschema@.bounce_review_queue WITH (security_invoker = true) AS
SELECT l.org_id, l.lead_id, l.owner_rep_id, l.status, l.source, l.score, l.email_bounced_at
  FROM leadflow.leads l
 WHERE l.email_status = 'bounced' AND l.merged_into IS NULL AND l.erased_at IS NULL
   AND l.status = ANY (@extschema@.open_statuses());

CREATE OR REPLACE VIEW @extschema@.report_rep_performance WITH (security_invoker = true) AS
SELECT r.org_id, r.rep_id, r.name, r.team_id, r.role, r.active,
       COALESCE(a.assigned, 0) AS assigned,
       COALESCE(a.open, 0) AS open,
       COALESCE(a.contacted, 0) AS contacted,
       a.median_first_touch_minutes,
       COALESCE(a.sla_met, 0) AS sla_met,
       COALESCE(a.sla_due, 0) AS sla_due,
       a.sla_met::numeric / NULLIF(a.sla_due, 0) AS sla_met_pct,
       COALESCE(a.qualified, 0) AS qualified,
       COALESCE(a.converted, 0) AS converted,
       a.converted::numeric / NULLIF(a.assigned, 0) AS conversion_rate
  FROM leadflow.reps r
  LEFT JOIN (SELECT l.org_id, l.owner_rep_id,
                    pg_catalog.count(*) AS assigned,
                    pg_catalog.count(*) FILTER (WHERE l.status = ANY (@extschema@.open_statuses())) AS open,
                    pg_catalog.count(l.first_touch_at) AS contacted,
                    pg_catalog.percentile_cont(0.5) WITHIN GROUP (
                        ORDER BY EXTRACT(epoch FROM l.first_touch_at - l.assigned_at)::double precision / 60)
                        FILTER (WHERE l.first_touch_at >= l.assigned_at) AS median_first_touch_minutes,
                    pg_catalog.count(*) FILTER (
                        WHERE l.first_touch_at <= leadflow.business_deadline(l.created_at, COALESCE(ps.first_touch_within, pd.first_touch_within), CASE WHEN ps.org_id IS NULL THEN pd.business_hours ELSE ps.business_hours END)) AS sla_met,
                    pg_catalog.count(*) FILTER (
                        WHERE COALESCE(ps.first_touch_within, pd.first_touch_within) IS NOT NULL
                          AND (l.first_touch_at IS NOT NULL
                               OR leadflow.business_deadline(l.created_at, COALESCE(ps.first_touch_within, pd.first_touch_within), CASE WHEN ps.org_id IS NULL THEN pd.business_hours ELSE ps.business_hours END) < pg_catalog.now())) AS sla_due,
                    pg_catalog.count(l.qualified_at) AS qualified,
                    pg_catalog.count(l.converted_at) AS converted
               FROM leadflow.leads l
               LEFT JOIN leadflow.sla_policies ps ON ps.org_id = l.org_id AND ps.source = l.source
               LEFT JOIN leadflow.sla_policies pd ON pd.org_id = l.org_id AND pd.source IS NULL
              WHERE l.merged_into IS NULL AND l.erased_at IS NULL AND l.owner_rep_id IS NOT NULL
              GROUP BY l.org_id, l.owner_rep_id) a
         ON a.org_id = r.org_id AND a.owner_rep_id = r.rep_id;

CREATE OR REPLACE VIEW @extschema@.report_lead_aging WITH (security_invoker = true) AS
SELECT l.org_id, l.lead_id, l.owner_rep_id, l.team_id, l.status, l.stage_id, st.name AS stage,
       l.source, l.score, l.temperature, l.created_at, l.stage_entered_at, l.first_touch_at,
       pg_catalog.round(EXTRACT(epoch FROM pg_catalog.now() - l.stage_entered_at) / 3600, 2) AS hours_in_stage,
       pg_catalog.round(EXTRACT(epoch FROM pg_catalog.now()
                                - COALESCE(l.last_activity_at, l.first_touch_at, l.created_at)) / 3600, 2) AS hours_since_touch,
       leadflow.business_deadline(l.created_at, COALESCE(ps.first_touch_within, pd.first_touch_within), CASE WHEN ps.org_id IS NULL THEN pd.business_hours ELSE ps.business_hours END) AS first_touch_due_at,
       COALESCE(t.overdue_tasks, 0) AS overdue_tasks,
       COALESCE(l.first_touch_at IS NULL
                AND leadflow.business_deadline(l.created_at, COALESCE(ps.first_touch_within, pd.first_touch_within), CASE WHEN ps.org_id IS NULL THEN pd.business_hours ELSE ps.business_hours END) < pg_catalog.now(), false)
       OR t.overdue_tasks IS NOT NULL AS overdue
  FROM leadflow.leads l
  LEFT JOIN leadflow.workflow_stages st ON st.org_id = l.org_id AND st.stage_id = l.stage_id
  LEFT JOIN leadflow.sla_policies ps ON ps.org_id = l.org_id AND ps.source = l.source
  LEFT JOIN leadflow.sla_policies pd ON pd.org_id = l.org_id AND pd.source IS NULL
  LEFT JOIN (SELECT a.org_id, a.lead_id, pg_catalog.count(*) AS overdue_tasks
               FROM leadflow.activities a
              WHERE a.kind = 'task' AND a.completed_at IS NULL AND a.due_at < pg_catalog.now()
              GROUP BY a.org_id, a.lead_id) t
         ON t.org_id = l.org_id AND t.lead_id = l.lead_id
 WHERE l.merged_into IS NULL AND l.erased_at IS NULL
   AND l.status = ANY (@extschema@.open_statuses());

CREATE OR REPLACE VIEW @extschema@.report_rep_load WITH (security_invoker = true) AS
SELECT r.org_id, r.rep_id, r.name, r.team_id,
       COALESCE(o.open_leads, 0) AS open_leads,
       r.max_open_leads,
       COALESCE(o.open_leads, 0)::numeric / NULLIF(r.max_open_leads, 0) AS utilization,
       r.active, r.accepting_leads, x.away, x.at_capacity,
       r.active AND r.accepting_leads AND NOT x.away AND NOT x.at_capacity AS available,
       rl.assigned_total,
       rl.last_assigned_at
  FROM leadflow.reps r
  LEFT JOIN (SELECT l.org_id, l.owner_rep_id, pg_catalog.count(*) AS open_leads
               FROM leadflow.leads l
              WHERE l.owner_rep_id IS NOT NULL AND l.merged_into IS NULL AND l.erased_at IS NULL
                AND l.status = ANY (@extschema@.open_statuses())
              GROUP BY l.org_id, l.owner_rep_id) o
         ON o.org_id = r.org_id AND o.owner_rep_id = r.rep_id
  LEFT JOIN leadflow.rep_load rl ON rl.org_id = r.org_id AND rl.rep_id = r.rep_id
 -- away as routing sees it: inside [away_from, away_until), an open end unbounded
 CROSS JOIN LATERAL (
        SELECT (r.away_from IS NOT NULL OR r.away_until IS NOT NULL)
               AND COALESCE(r.away_from <= pg_catalog.now(), true)
               AND COALESCE(pg_catalog.now() < r.away_until, true) AS away,
               COALESCE(COALESCE(o.open_leads, 0) >= r.max_open_leads, false) AS at_capacity) x;

CREATE OR REPLACE VIEW @extschema@.report_account_engagement WITH (security_invoker = true) AS
SELECT e.org_id, e.account_id, a.name AS account_name, a.owner_rep_id,
       COALESCE(a.domain, e.company_domain) AS company_domain,
       e.live_leads, e.people, e.score_sum, e.score_max, e.signals_30d,
       @extschema@.account_score(e.people, e.score_sum, e.score_max, e.signals_30d) AS account_score,
       COALESCE((o.settings OPERATOR(pg_catalog.->>) 'account_hot_at')::integer, 150) AS account_hot_at,
       @extschema@.account_score(e.people, e.score_sum, e.score_max, e.signals_30d)
           >= COALESCE((o.settings OPERATOR(pg_catalog.->>) 'account_hot_at')::integer, 150) AS hot,
       h.hot_since
  FROM (SELECT l.org_id, l.account_id,
               CASE WHEN l.account_id IS NULL THEN l.company_domain END AS company_domain,
               pg_catalog.count(*) AS live_leads,
               pg_catalog.count(DISTINCT COALESCE(l.email_normalized, l.phone_e164, l.lead_id::text))::integer AS people,
               pg_catalog.sum(l.score)::bigint AS score_sum,
               pg_catalog.max(l.score) AS score_max,
               COALESCE(pg_catalog.sum(s.n), 0)::bigint AS signals_30d
          FROM leadflow.leads l
          LEFT JOIN (SELECT s.org_id, s.lead_id, pg_catalog.count(*) AS n
                       FROM leadflow.lead_signals s
                      WHERE s.occurred_at > pg_catalog.now() - '30 days'::interval AND s.occurred_at <= pg_catalog.now()
                      GROUP BY s.org_id, s.lead_id) s
                 ON s.org_id = l.org_id AND s.lead_id = l.lead_id
         WHERE l.merged_into IS NULL AND l.erased_at IS NULL
           AND l.status = ANY (@extschema@.open_statuses() || 'converted'::text)
           AND (l.account_id IS NOT NULL OR l.company_domain IS NOT NULL)
         GROUP BY l.org_id, l.account_id, CASE WHEN l.account_id IS NULL THEN l.company_domain END) e
  JOIN leadflow.orgs o ON o.org_id = e.org_id
  LEFT JOIN leadflow.accounts a ON a.org_id = e.org_id AND a.account_id = e.account_id
  LEFT JOIN leadflow.account_hot_state h
         ON h.org_id = e.org_id AND COALESCE(h.account_id, 0) = COALESCE(e.account_id, 0)
        AND COALESCE(h.company_domain, '') = COALESCE(e.company_domain, '') AND h.hot_since IS NOT NULL;

CREATE OR REPLACE FUNCTION @extschema@.train_model(org_id bigint, features text[] DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    all_features constant text[] := ARRAY['source', 'industry', 'company_size', 'country', 'seniority', 'activity'];
    chosen text[] := COALESCE(features, all_features);
    bad text;
    n bigint;
BEGIN
    IF NOT EXISTS (SELECT FROM leadflow.orgs o WHERE o.org_id OPERATOR(pg_catalog.=) train_model.org_id) THEN
        RAISE EXCEPTION 'org % does not exist', train_model.org_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    SELECT f INTO bad FROM pg_catalog.unnest(chosen) f WHERE f IS NULL OR f OPERATOR(pg_catalog.<>) ALL (all_features) LIMIT 1;
    IF FOUND OR pg_catalog.cardinality(chosen) OPERATOR(pg_catalog.=) 0 THEN
        RAISE EXCEPTION 'invalid prediction feature: %', COALESCE(pg_catalog.quote_ident(bad), 'none given')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Features are source, industry, company_size, country, seniority and activity.';
    END IF;
    -- no lead closes while the counts are rebuilt
    LOCK TABLE leadflow.prediction_counts IN SHARE ROW EXCLUSIVE MODE;
    DELETE FROM leadflow.prediction_counts c WHERE c.org_id OPERATOR(pg_catalog.=) train_model.org_id;
    INSERT INTO leadflow.prediction_counts (org_id, feature, value, converted, lost)
    SELECT train_model.org_id, f.feature, f.value,
           pg_catalog.count(*) FILTER (WHERE l.status OPERATOR(pg_catalog.=) 'converted'),
           pg_catalog.count(*) FILTER (WHERE l.status OPERATOR(pg_catalog.<>) 'converted')
      FROM leadflow.leads l CROSS JOIN LATERAL leadflow.lead_features(l) f
     WHERE l.org_id OPERATOR(pg_catalog.=) train_model.org_id
       AND l.status IN ('converted', 'unqualified', 'archived')
       AND f.feature OPERATOR(pg_catalog.=) ANY (chosen)
     GROUP BY f.feature, f.value;
    INSERT INTO leadflow.prediction_counts (org_id, feature, value, converted, lost)
    SELECT train_model.org_id, '_total', '',
           pg_catalog.count(*) FILTER (WHERE l.status OPERATOR(pg_catalog.=) 'converted'),
           pg_catalog.count(*) FILTER (WHERE l.status OPERATOR(pg_catalog.<>) 'converted')
      FROM leadflow.leads l
     WHERE l.org_id OPERATOR(pg_catalog.=) train_model.org_id
       AND l.status IN ('converted', 'unqualified', 'archived')
    HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 0;
    SELECT COALESCE(pg_catalog.sum(c.converted OPERATOR(pg_catalog.+) c.lost), 0) INTO n
      FROM leadflow.prediction_counts c
     WHERE c.org_id OPERATOR(pg_catalog.=) train_model.org_id AND c.feature OPERATOR(pg_catalog.=) '_total';
    INSERT INTO leadflow.prediction_models AS m (org_id, features, trained_at, training_leads)
    VALUES (train_model.org_id, chosen, pg_catalog.now(), n)
    ON CONFLICT ON CONSTRAINT prediction_models_pkey DO UPDATE
       SET features = EXCLUDED.features, trained_at = EXCLUDED.trained_at, training_leads = EXCLUDED.training_leads;
    -- every open live lead gets its probability (the leads trigger computes it)
    UPDATE leadflow.leads l SET updated_at = l.updated_at
     WHERE l.org_id OPERATOR(pg_catalog.=) train_model.org_id AND l.merged_into IS NULL AND l.erased_at IS NULL
       AND l.status OPERATOR(pg_catalog.=) ANY (leadflow.open_statuses());
    RETURN n;
END
$$;

-- One survivor redirect (40_leads) for the triggers of activities and
-- consents, which each had a copy.
CREATE FUNCTION @extschema@.survivor_of(org_id bigint, lead_id bigint)
RETURNS bigint
LANGUAGE C STABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'leadflow_survivor_of';
COMMENT ON FUNCTION @extschema@.survivor_of(bigint, bigint) IS
    'The lead a row for this lead belongs to: the lead it was merged into, else the lead itself (also when no such lead exists).';

CREATE OR REPLACE FUNCTION @extschema@.activity_changed()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_WHEN = 'BEFORE' THEN
        IF TG_OP = 'INSERT' THEN
            NEW.lead_id := leadflow.survivor_of(NEW.org_id, NEW.lead_id);
        END IF;
        RETURN NEW;
    END IF;

    IF TG_OP = 'INSERT' THEN
        PERFORM leadflow.append_journey(NEW.lead_id, 'activity', pg_catalog.jsonb_build_object(
            'activity_id', NEW.activity_id, 'kind', NEW.kind, 'rep_id', NEW.rep_id,
            'completed', NEW.completed_at IS NOT NULL));
    END IF;
    IF NEW.completed_at IS NOT NULL AND NEW.rep_id IS NOT NULL AND NEW.kind IN ('call', 'email', 'meeting')
       AND (TG_OP = 'INSERT' OR OLD.completed_at IS NULL) THEN
        UPDATE leadflow.leads l
           SET first_touch_at = COALESCE(l.first_touch_at, NEW.completed_at),
               last_activity_at = GREATEST(l.last_activity_at, NEW.completed_at),
               status = CASE WHEN l.status = 'new' THEN 'contacted' ELSE l.status END
         WHERE l.org_id OPERATOR(pg_catalog.=) NEW.org_id AND l.lead_id OPERATOR(pg_catalog.=) NEW.lead_id
           AND l.merged_into IS NULL AND l.erased_at IS NULL;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.consent_changed()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_WHEN = 'BEFORE' THEN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'consent % cannot be deleted', OLD.consent_id
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'Set withdrawn_at to withdraw it; the record stays as evidence.';
        ELSIF TG_OP = 'INSERT' THEN
            NEW.lead_id := leadflow.survivor_of(NEW.org_id, NEW.lead_id);
        ELSIF OLD.withdrawn_at IS NOT NULL AND NEW.withdrawn_at IS DISTINCT FROM OLD.withdrawn_at THEN
            RAISE EXCEPTION 'consent % was withdrawn and stays withdrawn', OLD.consent_id
                USING ERRCODE = 'check_violation', HINT = 'Record a new consent instead.';
        ELSIF (NEW.org_id, NEW.lead_id, NEW.channel, NEW.basis, NEW.granted_at, NEW.source)
              IS DISTINCT FROM (OLD.org_id, OLD.lead_id, OLD.channel, OLD.basis, OLD.granted_at, OLD.source) THEN
            RAISE EXCEPTION 'consent % cannot be changed, only withdrawn', OLD.consent_id
                USING ERRCODE = 'check_violation', HINT = 'Set withdrawn_at, or record a new consent.';
        END IF;
        RETURN NEW;
    END IF;

    IF TG_OP = 'INSERT' THEN
        PERFORM leadflow.append_journey(NEW.lead_id, 'consent_granted', pg_catalog.jsonb_build_object(
            'consent_id', NEW.consent_id, 'channel', NEW.channel, 'basis', NEW.basis));
    END IF;
    IF NEW.withdrawn_at IS NOT NULL AND (TG_OP = 'INSERT' OR OLD.withdrawn_at IS NULL) THEN
        PERFORM leadflow.append_journey(NEW.lead_id, 'consent_withdrawn', pg_catalog.jsonb_build_object(
            'consent_id', NEW.consent_id, 'channel', NEW.channel));
        IF NEW.channel = 'email' THEN
            UPDATE leadflow.nurture_queue q
               SET cancelled_at = pg_catalog.now(), cancel_reason = 'consent_withdrawn'
             WHERE q.org_id OPERATOR(pg_catalog.=) NEW.org_id AND q.lead_id OPERATOR(pg_catalog.=) NEW.lead_id
               AND q.sent_at IS NULL AND q.cancelled_at IS NULL;
        END IF;
    END IF;
    RETURN NULL;
END
$$;

-- One inactivity decay formula (decay.c, 50_scoring): run_maintenance's
-- decay pass calls it instead of repeating it in SQL.
CREATE FUNCTION @extschema@.score_decay(last_activity timestamptz, as_of timestamptz,
                                        inactivity_grace interval, points_per_week integer)
RETURNS integer
AS 'MODULE_PATHNAME', 'leadflow_score_decay'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.score_decay(timestamptz, timestamptz, interval, integer) IS
    'Points a lead loses to inactivity as of a time (leads.score_decay): points_per_week for every whole week since last_activity beyond inactivity_grace, at most 1000; 0 within the grace period. The formula scoring uses; run_maintenance brings the stored decay up to date with it.';

------------------------------------------------------------------------------
-- Issue 16: one statement-end trigger on leads writes what a statement's
-- rows left in the transaction buffers (journey rows, rotation state and
-- rule hits, prediction count changes); it replaces routing_flush and
-- prediction_flush.  The buffers are subtransaction-exact in the library.
DROP TRIGGER leads_routing_flush ON @extschema@.leads;
DROP TRIGGER leads_prediction_flush ON @extschema@.leads;
DROP FUNCTION @extschema@.routing_flush();
DROP FUNCTION @extschema@.prediction_flush();

CREATE FUNCTION @extschema@.statement_end()
RETURNS trigger
AS 'MODULE_PATHNAME', 'leadflow_statement_end'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.statement_end() IS 'Trigger: writes the journey rows, rotation state, rule hits and prediction count changes a statement on leads buffered.';

CREATE TRIGGER leads_statement_end
    AFTER INSERT OR UPDATE ON @extschema@.leads
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.statement_end();

------------------------------------------------------------------------------
-- Issue 17: tenant safety.  One check of whether the session may act for
-- an org (check_org_access, tenant.c), and lead ids unique across orgs.
CREATE FUNCTION @extschema@.check_org_access(org_id bigint)
RETURNS boolean
LANGUAGE C STABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'leadflow_check_org_access';
COMMENT ON FUNCTION @extschema@.check_org_access(bigint) IS
    'True, or error 42501 unless this session may act for the org (NULL: for every org): a role bound by row-level security only for the org of leadflow.org_id.';

-- fails (23505) if two orgs already use one lead id: give one of them a new id first
DROP INDEX @extschema@.leads_lead_id;
CREATE UNIQUE INDEX leads_lead_id ON @extschema@.leads (lead_id);

-- Issue 17: internal tables and shared reference data written by leadflow
-- alone; grant_app_role.
-- Internal tables and shared reference data are written by leadflow alone
-- (tenant.c): a statement trigger refuses every writer but a superuser and
-- the owner, whatever was granted; the pipeline's own statements on the
-- internal tables run as their owner, so applications need no privilege
-- on them.
CREATE FUNCTION @extschema@.refuse_app_write()
RETURNS trigger
AS 'MODULE_PATHNAME', 'leadflow_refuse_app_write'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.refuse_app_write() IS
    'Trigger: refuses writes of leadflow''s internal tables and shared reference data by any role but a superuser and the owner.';

CREATE TRIGGER lead_journey_leadflow_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.lead_journey
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_app_write();
CREATE TRIGGER lead_emails_leadflow_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.lead_emails
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_app_write();
CREATE TRIGGER rep_load_leadflow_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.rep_load
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_app_write();
CREATE TRIGGER team_rotation_leadflow_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.team_rotation
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_app_write();
CREATE TRIGGER routing_rule_stats_leadflow_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.routing_rule_stats
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_app_write();
CREATE TRIGGER prediction_counts_leadflow_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.prediction_counts
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_app_write();
CREATE TRIGGER account_hot_state_leadflow_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.account_hot_state
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_app_write();
CREATE TRIGGER free_email_domains_leadflow_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.free_email_domains
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_app_write();
CREATE TRIGGER capture_field_names_leadflow_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.capture_field_names
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_app_write();
-- also under session_replication_role = replica
ALTER TABLE @extschema@.lead_journey ENABLE ALWAYS TRIGGER lead_journey_leadflow_only;
ALTER TABLE @extschema@.lead_emails ENABLE ALWAYS TRIGGER lead_emails_leadflow_only;
ALTER TABLE @extschema@.rep_load ENABLE ALWAYS TRIGGER rep_load_leadflow_only;
ALTER TABLE @extschema@.team_rotation ENABLE ALWAYS TRIGGER team_rotation_leadflow_only;
ALTER TABLE @extschema@.routing_rule_stats ENABLE ALWAYS TRIGGER routing_rule_stats_leadflow_only;
ALTER TABLE @extschema@.prediction_counts ENABLE ALWAYS TRIGGER prediction_counts_leadflow_only;
ALTER TABLE @extschema@.account_hot_state ENABLE ALWAYS TRIGGER account_hot_state_leadflow_only;
ALTER TABLE @extschema@.free_email_domains ENABLE ALWAYS TRIGGER free_email_domains_leadflow_only;
ALTER TABLE @extschema@.capture_field_names ENABLE ALWAYS TRIGGER capture_field_names_leadflow_only;

-- What an application role needs, and nothing on the internal tables or
-- the shared reference data (SELECT only).
CREATE FUNCTION @extschema@.grant_app_role(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    read_only constant text[] := ARRAY['lead_journey', 'lead_emails', 'rep_load', 'team_rotation',
                                       'routing_rule_stats', 'prediction_counts', 'account_hot_state',
                                       'free_email_domains', 'capture_field_names', 'lead_merges'];
    no_delete constant text[] := ARRAY['orgs', 'leads', 'lead_signals', 'activities', 'consents',
                                       'lead_imports', 'contacts', 'opportunities', 'nurture_queue'];
BEGIN
    IF role IS NULL THEN
        RAISE EXCEPTION 'grant_app_role needs a role' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA %I TO %s', 'leadflow', role);
    FOR t IN
        SELECT c.oid::regclass AS rel, c.relname::text AS name, c.relkind
          FROM pg_catalog.pg_class c
         WHERE c.relnamespace OPERATOR(pg_catalog.=) 'leadflow'::regnamespace AND c.relkind IN ('r', 'v')
         ORDER BY c.relname
    LOOP
        IF t.relkind OPERATOR(pg_catalog.=) 'v' OR t.name OPERATOR(pg_catalog.=) ANY (read_only) THEN
            EXECUTE pg_catalog.format('GRANT SELECT ON %s TO %s', t.rel, role);
        ELSIF t.name OPERATOR(pg_catalog.=) ANY (no_delete) THEN
            EXECUTE pg_catalog.format('GRANT SELECT, INSERT, UPDATE ON %s TO %s', t.rel, role);
        ELSE
            EXECUTE pg_catalog.format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %s', t.rel, role);
        END IF;
    END LOOP;
    EXECUTE pg_catalog.format('GRANT USAGE ON ALL SEQUENCES IN SCHEMA %I TO %s', 'leadflow', role);
END
$$;
COMMENT ON FUNCTION @extschema@.grant_app_role(regrole) IS
    'Grants an application role what it needs: the schema, SELECT on every table and view, INSERT and UPDATE on leads and the data an app writes, DELETE on its configuration; only SELECT on the internal tables and the shared reference data. The administrative functions stay revoked.';
REVOKE EXECUTE ON FUNCTION @extschema@.grant_app_role(regrole) FROM PUBLIC;

-- Issue 17: erase_lead leaves no personal data (archive reason, a personal
-- company domain, every import row of the person); the journey gets bounce
-- classes as codes, never a provider's text.
CREATE OR REPLACE FUNCTION @extschema@.signal_email_bounce()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE leadflow.leads l
       SET email_status = 'bounced',
           email_bounced_at = GREATEST(l.email_bounced_at, NEW.occurred_at)
     WHERE l.org_id OPERATOR(pg_catalog.=) NEW.org_id AND l.lead_id OPERATOR(pg_catalog.=) NEW.lead_id;
    UPDATE leadflow.nurture_queue q
       SET cancelled_at = pg_catalog.now(), cancel_reason = 'email_bounced'
     WHERE q.org_id OPERATOR(pg_catalog.=) NEW.org_id AND q.lead_id OPERATOR(pg_catalog.=) NEW.lead_id
       AND q.sent_at IS NULL AND q.cancelled_at IS NULL;
    PERFORM leadflow.append_journey(NEW.lead_id, 'email_bounced', pg_catalog.jsonb_build_object(
        'signal_id', NEW.signal_id,
        'bounce_type', CASE WHEN NEW.properties OPERATOR(pg_catalog.->>) 'type' IS NULL THEN NULL
                            WHEN pg_catalog.lower(NEW.properties OPERATOR(pg_catalog.->>) 'type') OPERATOR(pg_catalog.=)
                                 ANY (ARRAY['hard', 'soft', 'block', 'complaint', 'transient'])
                            THEN pg_catalog.lower(NEW.properties OPERATOR(pg_catalog.->>) 'type')
                            ELSE 'other' END));
    RETURN NULL;
END
$$;
CREATE OR REPLACE FUNCTION @extschema@.erase_lead(lead_id bigint, reason text)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    l leadflow.leads;
    ids bigint[];
    emails text[];
    phones text[];
BEGIN
    IF reason IS NULL OR pg_catalog.length(reason) NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION 'invalid erasure reason: must be 1 to 200 characters'
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Give the request reference, not personal data.';
    END IF;
    SELECT * INTO l FROM leadflow.leads x WHERE x.lead_id OPERATOR(pg_catalog.=) erase_lead.lead_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'lead % does not exist', erase_lead.lead_id USING ERRCODE = 'no_data_found';
    END IF;
    IF l.erased_at IS NOT NULL THEN
        RAISE EXCEPTION 'lead % is already erased', l.lead_id USING ERRCODE = 'check_violation';
    END IF;

    -- the lead and the duplicates merged into it
    SELECT pg_catalog.array_agg(x.lead_id ORDER BY x.lead_id) INTO ids FROM leadflow.leads x
     WHERE x.org_id OPERATOR(pg_catalog.=) l.org_id
       AND (x.lead_id OPERATOR(pg_catalog.=) l.lead_id OR x.merged_into OPERATOR(pg_catalog.=) l.lead_id);

    -- the person's addresses as typed and normalized, and phone digits: every
    -- import row of the person is found by them, not only by lead_id
    SELECT pg_catalog.array_agg(DISTINCT e) FILTER (WHERE e IS NOT NULL),
           pg_catalog.array_agg(DISTINCT p) FILTER (WHERE p IS NOT NULL AND pg_catalog.length(p) OPERATOR(pg_catalog.>=) 6)
      INTO emails, phones
      FROM leadflow.leads x,
           LATERAL (VALUES (pg_catalog.lower(pg_catalog.btrim(x.email)), pg_catalog.regexp_replace(x.phone_e164, '[^0-9]', '', 'g')),
                           (x.email_normalized, pg_catalog.regexp_replace(x.phone, '[^0-9]', '', 'g'))) v(e, p)
     WHERE x.org_id OPERATOR(pg_catalog.=) l.org_id AND x.lead_id OPERATOR(pg_catalog.=) ANY (ids);

    -- a company domain no other lead and no account of the org has is the
    -- person's own (a family or personal domain)
    UPDATE leadflow.leads x
       SET first_name = NULL, last_name = NULL, email = NULL, phone = NULL,
           email_normalized = NULL, phone_e164 = NULL, state = NULL, city = NULL, postal_code = NULL,
           attributes = '{}', archive_reason = NULL, erased_at = pg_catalog.now(),
           company_domain = CASE WHEN EXISTS (SELECT FROM leadflow.leads y
                                               WHERE y.org_id OPERATOR(pg_catalog.=) x.org_id
                                                 AND y.company_domain OPERATOR(pg_catalog.=) x.company_domain
                                                 AND y.lead_id OPERATOR(pg_catalog.<>) ALL (ids))
                                   OR EXISTS (SELECT FROM leadflow.accounts a
                                               WHERE a.org_id OPERATOR(pg_catalog.=) x.org_id
                                                 AND a.domain OPERATOR(pg_catalog.=) x.company_domain)
                                 THEN x.company_domain END
     WHERE x.org_id OPERATOR(pg_catalog.=) l.org_id AND x.lead_id OPERATOR(pg_catalog.=) ANY (ids);
    UPDATE leadflow.lead_signals s SET properties = '{}'
     WHERE s.org_id OPERATOR(pg_catalog.=) l.org_id AND s.lead_id OPERATOR(pg_catalog.=) ANY (ids);
    UPDATE leadflow.activities a SET subject = NULL, notes = NULL
     WHERE a.org_id OPERATOR(pg_catalog.=) l.org_id AND a.lead_id OPERATOR(pg_catalog.=) ANY (ids);
    UPDATE leadflow.contacts c SET first_name = NULL, last_name = NULL, email = NULL, phone = NULL
     WHERE c.org_id OPERATOR(pg_catalog.=) l.org_id AND c.lead_id OPERATOR(pg_catalog.=) ANY (ids);
    -- the import rows of the person, also rejected ones (no lead_id); a
    -- rejection message names the value, so it goes too
    UPDATE leadflow.lead_imports i
       SET first_name = NULL, last_name = NULL, email = NULL, phone = NULL, state = NULL,
           city = NULL, postal_code = NULL, error = CASE WHEN i.error IS NOT NULL THEN 'erased' END
     WHERE i.org_id OPERATOR(pg_catalog.=) l.org_id
       AND (i.lead_id OPERATOR(pg_catalog.=) ANY (ids)
            OR pg_catalog.lower(pg_catalog.btrim(i.email)) OPERATOR(pg_catalog.=) ANY (emails)
            OR EXISTS (SELECT FROM (SELECT pg_catalog.ltrim(pg_catalog.regexp_replace(i.phone, '[^0-9]', '', 'g'), '0') AS d) z,
                                   pg_catalog.unnest(phones) p
                        WHERE pg_catalog.length(z.d) OPERATOR(pg_catalog.>=) 6
                          AND p OPERATOR(pg_catalog.~~) ('%' OPERATOR(pg_catalog.||) z.d)));
    DELETE FROM leadflow.lead_emails e
     WHERE e.org_id OPERATOR(pg_catalog.=) l.org_id AND e.lead_id OPERATOR(pg_catalog.=) ANY (ids);

    PERFORM leadflow.append_journey(l.lead_id, 'erased', pg_catalog.jsonb_build_object(
        'reason', reason, 'leads_erased', pg_catalog.cardinality(ids)));
    RETURN pg_catalog.cardinality(ids);
END
$$;
COMMENT ON FUNCTION @extschema@.erase_lead(bigint, text) IS
    'Right to erasure: removes the personal data of a lead and its merged duplicates (names, email, phone, address, attributes, archive reason, a company domain only the person has; their signals'' properties, activities'' free text, contact rows, and every import row of the person, found by lead id, email or phone); keeps ids, dates, source and scores; the journey stays verifiable. Returns how many lead rows were erased.';

-- Issue 17: the SQL functions taking an org ask check_org_access first.
CREATE OR REPLACE FUNCTION @extschema@.verify_journey(org_id bigint)
RETURNS TABLE (lead_id bigint, seq integer, problem text)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT j.lead_id, j.seq,
           CASE
               WHEN j.seq OPERATOR(pg_catalog.<>) j.expected_seq THEN 'expected seq ' OPERATOR(pg_catalog.||) j.expected_seq
               WHEN j.prev_hash IS DISTINCT FROM j.expected_prev THEN 'prev_hash does not match the previous row'
               ELSE 'hash does not match the row content'
           END
      FROM (SELECT x.lead_id, x.seq, x.prev_hash, x.hash,
                   pg_catalog.row_number() OVER w AS expected_seq,
                   pg_catalog.lag(x.hash) OVER w AS expected_prev,
                   leadflow.journey_hash(x.prev_hash, x.org_id, x.lead_id, x.seq, x.occurred_at,
                                         x.kind, x.actor, x.detail) AS computed
              FROM leadflow.lead_journey x
             WHERE x.org_id OPERATOR(pg_catalog.=) verify_journey.org_id
               AND leadflow.check_org_access(verify_journey.org_id)
            WINDOW w AS (PARTITION BY x.lead_id ORDER BY x.seq)) j
     WHERE j.seq OPERATOR(pg_catalog.<>) j.expected_seq
        OR j.prev_hash IS DISTINCT FROM j.expected_prev
        OR j.hash IS DISTINCT FROM j.computed
     ORDER BY j.lead_id, j.seq;
END;

CREATE OR REPLACE FUNCTION @extschema@.may_email(org_id bigint, lead_id bigint, as_of timestamptz DEFAULT pg_catalog.now())
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN COALESCE((SELECT (o.settings OPERATOR(pg_catalog.->>) 'nurture_requires_consent')::boolean
                                 FROM leadflow.orgs o WHERE o.org_id OPERATOR(pg_catalog.=) $1), true)
                THEN c.g IS NOT NULL AND (c.w IS NULL OR c.w OPERATOR(pg_catalog.<) c.g)
                ELSE c.w IS NULL OR (c.g IS NOT NULL AND c.w OPERATOR(pg_catalog.<) c.g)
           END
      FROM (SELECT pg_catalog.max(c.granted_at) FILTER (
                       WHERE c.granted_at OPERATOR(pg_catalog.<=) $3
                         AND (c.withdrawn_at IS NULL OR c.withdrawn_at OPERATOR(pg_catalog.>) $3)) AS g,
                   pg_catalog.max(c.withdrawn_at) FILTER (WHERE c.withdrawn_at OPERATOR(pg_catalog.<=) $3) AS w
              FROM leadflow.consents c
             WHERE c.org_id OPERATOR(pg_catalog.=) $1 AND c.channel OPERATOR(pg_catalog.=) 'email'
               AND (c.lead_id OPERATOR(pg_catalog.=) $2
                    OR c.lead_id IN (SELECT d.lead_id FROM leadflow.leads d
                                      WHERE d.org_id OPERATOR(pg_catalog.=) $1
                                        AND d.merged_into OPERATOR(pg_catalog.=) $2))) c
     WHERE leadflow.check_org_access($1)
$$;

CREATE OR REPLACE FUNCTION @extschema@.nurture_schedule(org_id bigint)
RETURNS TABLE (step text, step_days integer)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.key, s.value::integer
      FROM pg_catalog.jsonb_each_text(COALESCE(
               (SELECT o.settings OPERATOR(pg_catalog.->) 'nurture_schedule' FROM leadflow.orgs o
                 WHERE o.org_id OPERATOR(pg_catalog.=) $1),
               '{"welcome": 0, "educational": 7, "case_study": 21, "re_engagement": 45}'::jsonb)) s
     WHERE leadflow.check_org_access($1)
     ORDER BY s.value::integer, s.key
$$;

CREATE OR REPLACE FUNCTION @extschema@.train_model(org_id bigint, features text[] DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    all_features constant text[] := ARRAY['source', 'industry', 'company_size', 'country', 'seniority', 'activity'];
    chosen text[] := COALESCE(features, all_features);
    bad text;
    n bigint;
BEGIN
    PERFORM leadflow.check_org_access(train_model.org_id);
    IF NOT EXISTS (SELECT FROM leadflow.orgs o WHERE o.org_id OPERATOR(pg_catalog.=) train_model.org_id) THEN
        RAISE EXCEPTION 'org % does not exist', train_model.org_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    SELECT f INTO bad FROM pg_catalog.unnest(chosen) f WHERE f IS NULL OR f OPERATOR(pg_catalog.<>) ALL (all_features) LIMIT 1;
    IF FOUND OR pg_catalog.cardinality(chosen) OPERATOR(pg_catalog.=) 0 THEN
        RAISE EXCEPTION 'invalid prediction feature: %', COALESCE(pg_catalog.quote_ident(bad), 'none given')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Features are source, industry, company_size, country, seniority and activity.';
    END IF;
    -- no lead closes while the counts are rebuilt
    LOCK TABLE leadflow.prediction_counts IN SHARE ROW EXCLUSIVE MODE;
    DELETE FROM leadflow.prediction_counts c WHERE c.org_id OPERATOR(pg_catalog.=) train_model.org_id;
    INSERT INTO leadflow.prediction_counts (org_id, feature, value, converted, lost)
    SELECT train_model.org_id, f.feature, f.value,
           pg_catalog.count(*) FILTER (WHERE l.status OPERATOR(pg_catalog.=) 'converted'),
           pg_catalog.count(*) FILTER (WHERE l.status OPERATOR(pg_catalog.<>) 'converted')
      FROM leadflow.leads l CROSS JOIN LATERAL leadflow.lead_features(l) f
     WHERE l.org_id OPERATOR(pg_catalog.=) train_model.org_id
       AND l.status IN ('converted', 'unqualified', 'archived')
       AND f.feature OPERATOR(pg_catalog.=) ANY (chosen)
     GROUP BY f.feature, f.value;
    INSERT INTO leadflow.prediction_counts (org_id, feature, value, converted, lost)
    SELECT train_model.org_id, '_total', '',
           pg_catalog.count(*) FILTER (WHERE l.status OPERATOR(pg_catalog.=) 'converted'),
           pg_catalog.count(*) FILTER (WHERE l.status OPERATOR(pg_catalog.<>) 'converted')
      FROM leadflow.leads l
     WHERE l.org_id OPERATOR(pg_catalog.=) train_model.org_id
       AND l.status IN ('converted', 'unqualified', 'archived')
    HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 0;
    SELECT COALESCE(pg_catalog.sum(c.converted OPERATOR(pg_catalog.+) c.lost), 0) INTO n
      FROM leadflow.prediction_counts c
     WHERE c.org_id OPERATOR(pg_catalog.=) train_model.org_id AND c.feature OPERATOR(pg_catalog.=) '_total';
    INSERT INTO leadflow.prediction_models AS m (org_id, features, trained_at, training_leads)
    VALUES (train_model.org_id, chosen, pg_catalog.now(), n)
    ON CONFLICT ON CONSTRAINT prediction_models_pkey DO UPDATE
       SET features = EXCLUDED.features, trained_at = EXCLUDED.trained_at, training_leads = EXCLUDED.training_leads;
    -- every open live lead gets its probability (the leads trigger computes it)
    UPDATE leadflow.leads l SET updated_at = l.updated_at
     WHERE l.org_id OPERATOR(pg_catalog.=) train_model.org_id AND l.merged_into IS NULL AND l.erased_at IS NULL
       AND l.status OPERATOR(pg_catalog.=) ANY (leadflow.open_statuses());
    RETURN n;
END
$$;

-- Issue 17: erasures made by 0.1.0 are completed as erase_lead now does:
-- the archive reason and a company domain no live lead and no account of
-- the org has go too.  Below the pipeline (replica role): nothing else of
-- the rows changes, and no journey row is written.
SELECT pg_catalog.set_config('session_replication_role', 'replica', true);
UPDATE @extschema@.leads x
   SET archive_reason = NULL,
       company_domain = CASE WHEN EXISTS (SELECT FROM @extschema@.leads y
                                           WHERE y.org_id OPERATOR(pg_catalog.=) x.org_id
                                             AND y.company_domain OPERATOR(pg_catalog.=) x.company_domain
                                             AND y.erased_at IS NULL)
                               OR EXISTS (SELECT FROM @extschema@.accounts a
                                           WHERE a.org_id OPERATOR(pg_catalog.=) x.org_id
                                             AND a.domain OPERATOR(pg_catalog.=) x.company_domain)
                             THEN x.company_domain END
 WHERE x.erased_at IS NOT NULL;
SELECT pg_catalog.set_config('session_replication_role', 'origin', true);
