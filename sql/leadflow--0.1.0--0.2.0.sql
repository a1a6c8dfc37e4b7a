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
        ELSIF (NEW.org_id, NEW.lead_id, NEW.channel, NEW.basis, NEW.granted_at)
              IS DISTINCT FROM (OLD.org_id, OLD.lead_id, OLD.channel, OLD.basis, OLD.granted_at)
              -- the free-text source goes with an erasure (erase_lead), nothing else
              OR (NEW.source IS DISTINCT FROM OLD.source
                  AND NOT (NEW.source IS NULL
                           AND EXISTS (SELECT FROM leadflow.leads l
                                        WHERE l.org_id OPERATOR(pg_catalog.=) NEW.org_id
                                          AND l.lead_id OPERATOR(pg_catalog.=) NEW.lead_id AND l.erased_at IS NOT NULL))) THEN
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
-- Issue 19: the event outbox (events, events_after), phone deduplication
-- (lead_phones), the org settings event_retention and dedup_on_phone,
-- possible_duplicates listing name pairs where only one has a phone,
-- manager_queue without touched leads or leads fallen below escalate_at,
-- merge_leads(lead_a, lead_b, keep)
------------------------------------------------------------------------------

COMMENT ON COLUMN @extschema@.orgs.settings IS 'Options: default_region (text, "US"), named_account_routing (bool, true), company_affinity_routing (bool, true), convert_on_qualified (bool, false), require_bant_for_qualified (bool, false), nurture_after_attempts (int, 5), nurture_schedule (object step -> days, welcome 0 / educational 7 / case_study 21 / re_engagement 45), nurture_requires_consent (bool, true), account_hot_at (int, 150), event_retention (interval text, "30 days": how long leadflow.events keeps an event), dedup_on_phone (bool, true: a new lead merges into a live lead with its phone when one of the two has no usable email).';

CREATE OR REPLACE FUNCTION @extschema@.org_check_settings()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k text;
    v jsonb;
    ok boolean;
BEGIN
    IF pg_catalog.jsonb_typeof(NEW.settings) <> 'object' THEN
        RAISE EXCEPTION 'org settings must be a JSON object, not %', pg_catalog.jsonb_typeof(NEW.settings)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR k, v IN SELECT * FROM pg_catalog.jsonb_each(NEW.settings) LOOP
        IF k = 'default_region' THEN
            -- a region libphonenumber knows (it reads national numbers with it)
            IF pg_catalog.jsonb_typeof(v) <> 'string' OR (v OPERATOR(pg_catalog.#>>) '{}') !~ '^[A-Z]{2}$'
               OR leadflow.contact_problem(NULL, '+12025550100', NULL, v OPERATOR(pg_catalog.#>>) '{}') IS NOT NULL THEN
                RAISE EXCEPTION 'invalid org setting "default_region": %', v
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'Use an upper-case ISO 3166 region code with a telephone numbering plan, such as "US" or "DE".';
            END IF;
        ELSIF k IN ('nurture_after_attempts', 'account_hot_at') THEN
            IF pg_catalog.jsonb_typeof(v) <> 'number' OR (v OPERATOR(pg_catalog.#>>) '{}') !~ '^[0-9]+$'
               OR (v OPERATOR(pg_catalog.#>>) '{}')::numeric NOT BETWEEN 1 AND 1000000 THEN
                RAISE EXCEPTION 'invalid org setting "%": %', k, v
                    USING ERRCODE = 'invalid_parameter_value', HINT = 'Use a whole number from 1 to 1000000.';
            END IF;
        ELSIF k = 'nurture_schedule' THEN
            IF pg_catalog.jsonb_typeof(v) <> 'object' OR v OPERATOR(pg_catalog.=) '{}'::jsonb OR EXISTS (
                   SELECT FROM pg_catalog.jsonb_each(v) e
                    WHERE pg_catalog.jsonb_typeof(e.value) <> 'number' OR (e.value OPERATOR(pg_catalog.#>>) '{}') !~ '^[0-9]+$'
                       OR (e.value OPERATOR(pg_catalog.#>>) '{}')::numeric > 3650
                       OR pg_catalog.length(e.key) NOT BETWEEN 1 AND 100) THEN
                RAISE EXCEPTION 'invalid org setting "nurture_schedule": %', v
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'Use an object of step name to days after entering nurture (0 to 3650), e.g. {"welcome": 0, "educational": 7}.';
            END IF;
        ELSIF k = 'event_retention' THEN
            BEGIN
                ok := pg_catalog.jsonb_typeof(v) = 'string'
                      AND (v OPERATOR(pg_catalog.#>>) '{}')::interval BETWEEN '1 hour'::interval AND '10 years'::interval;
            EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
                ok := false;
            END;
            IF NOT ok THEN
                RAISE EXCEPTION 'invalid org setting "event_retention": %', v
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'Use an interval from 1 hour to 10 years, such as "30 days".';
            END IF;
        ELSIF k IN ('named_account_routing', 'company_affinity_routing', 'convert_on_qualified',
                    'require_bant_for_qualified', 'nurture_requires_consent', 'dedup_on_phone') THEN
            IF pg_catalog.jsonb_typeof(v) <> 'boolean' THEN
                RAISE EXCEPTION 'invalid org setting "%": %', k, v
                    USING ERRCODE = 'invalid_parameter_value', HINT = 'Use true or false.';
            END IF;
        ELSE
            RAISE EXCEPTION 'unknown org setting "%"', k
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Known settings: default_region, named_account_routing, company_affinity_routing, convert_on_qualified, require_bant_for_qualified, nurture_after_attempts, nurture_schedule, nurture_requires_consent, account_hot_at, event_retention, dedup_on_phone.';
        END IF;
    END LOOP;
    RETURN NEW;
END
$$;

-- Phone deduplication (org setting dedup_on_phone): the live lead a
-- newcomer with this phone merges into when one of the two has no usable
-- email; claimed like an email (several live leads may share a phone, a
-- switchboard: the first keeps the claim).
CREATE TABLE @extschema@.lead_phones (
    org_id      bigint NOT NULL,
    phone_e164  text COLLATE "C" NOT NULL,
    lead_id     bigint NOT NULL,
    PRIMARY KEY (org_id, phone_e164)
);
COMMENT ON TABLE @extschema@.lead_phones IS 'Internal: the live lead that owns each E.164 phone (phone deduplication).';
COMMENT ON COLUMN @extschema@.lead_phones.phone_e164 IS 'The phone in E.164.';
COMMENT ON COLUMN @extschema@.lead_phones.lead_id IS 'The live lead that owns it.';

-- the phones of the leads, each claimed as the pipeline's first-come
-- claim would have done: by the oldest lead that was live with it (a live
-- lead, or a duplicate merged by hand), its claim handed to the survivor
INSERT INTO @extschema@.lead_phones (org_id, phone_e164, lead_id)
SELECT DISTINCT ON (l.org_id, l.phone_e164) l.org_id, l.phone_e164, COALESCE(l.merged_into, l.lead_id)
  FROM @extschema@.leads l
 WHERE l.phone_e164 IS NOT NULL AND l.erased_at IS NULL
   AND (l.merged_into IS NULL
        OR EXISTS (SELECT FROM @extschema@.lead_merges m
                    WHERE m.org_id OPERATOR(pg_catalog.=) l.org_id
                      AND m.duplicate_id OPERATOR(pg_catalog.=) l.lead_id AND m.unmerged_at IS NULL))
 ORDER BY l.org_id, l.phone_e164, l.lead_id;
SELECT pg_catalog.pg_extension_config_dump('leadflow.lead_phones', '');

-- A manual merge that picks the survivor: the richer record (more filled
-- contact and firmographic fields; ties: the older lead), or lead_a.
CREATE FUNCTION @extschema@.merge_leads(lead_a bigint, lead_b bigint, keep text)
RETURNS TABLE (survivor_id bigint, duplicate_id bigint, merge_id bigint)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a leadflow.leads;
    b leadflow.leads;
    richer_a integer;
    richer_b integer;
    s bigint;
    d bigint;
BEGIN
    IF keep IS NULL OR keep NOT IN ('richer', 'first') THEN
        RAISE EXCEPTION 'keep must be ''richer'' or ''first'', not %', COALESCE(pg_catalog.quote_literal(keep), 'null')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'richer keeps the lead with more filled contact and firmographic fields (ties: the older); first keeps lead_a.';
    END IF;
    SELECT * INTO a FROM leadflow.leads x WHERE x.lead_id OPERATOR(pg_catalog.=) lead_a;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'lead % does not exist', lead_a USING ERRCODE = 'no_data_found';
    END IF;
    SELECT * INTO b FROM leadflow.leads x WHERE x.lead_id OPERATOR(pg_catalog.=) lead_b;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'lead % does not exist', lead_b USING ERRCODE = 'no_data_found';
    END IF;
    SELECT pg_catalog.count(*) FILTER (WHERE f.value OPERATOR(pg_catalog.<>) 'null'::jsonb) INTO richer_a
      FROM pg_catalog.jsonb_each(pg_catalog.to_jsonb(a)) f
     WHERE f.key = ANY (ARRAY['email', 'phone', 'first_name', 'last_name', 'company', 'job_title', 'industry',
                              'company_size', 'annual_revenue', 'country', 'state', 'city', 'postal_code']);
    SELECT pg_catalog.count(*) FILTER (WHERE f.value OPERATOR(pg_catalog.<>) 'null'::jsonb) INTO richer_b
      FROM pg_catalog.jsonb_each(pg_catalog.to_jsonb(b)) f
     WHERE f.key = ANY (ARRAY['email', 'phone', 'first_name', 'last_name', 'company', 'job_title', 'industry',
                              'company_size', 'annual_revenue', 'country', 'state', 'city', 'postal_code']);
    IF keep = 'first' OR richer_a OPERATOR(pg_catalog.>) richer_b
       OR (richer_a OPERATOR(pg_catalog.=) richer_b
           AND (a.created_at, a.lead_id) OPERATOR(pg_catalog.<=) (b.created_at, b.lead_id)) THEN
        s := a.lead_id;
        d := b.lead_id;
    ELSE
        s := b.lead_id;
        d := a.lead_id;
    END IF;
    RETURN QUERY SELECT s, d, leadflow.merge_leads(s, d);
END
$$;
COMMENT ON FUNCTION @extschema@.merge_leads(bigint, bigint, text) IS
    'Merges two leads, keeping the richer record (keep => ''richer'': more filled contact and firmographic fields, ties: the older lead) or lead_a (keep => ''first''); returns which survived, the duplicate and the merge id.';
REVOKE EXECUTE ON FUNCTION @extschema@.merge_leads(bigint, bigint, text) FROM PUBLIC;

CREATE OR REPLACE VIEW @extschema@.possible_duplicates WITH (security_invoker = true) AS
SELECT a.org_id, a.lead_id, b.lead_id AS other_lead_id, 'same phone'::text AS reason,
       1.0::double precision AS similarity
  FROM leadflow.leads a
  JOIN leadflow.leads b ON b.org_id = a.org_id AND b.phone_e164 = a.phone_e164 AND b.lead_id > a.lead_id
 WHERE a.merged_into IS NULL AND b.merged_into IS NULL AND a.erased_at IS NULL AND b.erased_at IS NULL
UNION ALL
SELECT a.org_id, a.lead_id, b.lead_id, 'same company, similar name',
       pg_catalog.round(leadflow.name_similarity(a.first_name || ' ' || a.last_name,
                                                 b.first_name || ' ' || b.last_name)::numeric, 3)::double precision
  FROM leadflow.leads a
  JOIN leadflow.leads b ON b.org_id = a.org_id AND b.lead_id > a.lead_id
       AND (b.company_domain = a.company_domain
            OR (a.company_domain IS NULL AND b.company_domain IS NULL
                AND pg_catalog.lower(b.company) = pg_catalog.lower(a.company)))
 WHERE a.merged_into IS NULL AND b.merged_into IS NULL AND a.erased_at IS NULL AND b.erased_at IS NULL
   AND a.first_name IS NOT NULL AND a.last_name IS NOT NULL
   AND b.first_name IS NOT NULL AND b.last_name IS NOT NULL
   -- listed above; a pair where one or neither has a phone is listed here
   AND NOT (a.phone_e164 IS NOT NULL AND b.phone_e164 IS NOT NULL AND a.phone_e164 = b.phone_e164)
   AND leadflow.name_similarity(a.first_name || ' ' || a.last_name, b.first_name || ' ' || b.last_name) >= 0.85;

CREATE OR REPLACE VIEW @extschema@.manager_queue WITH (security_invoker = true) AS
SELECT l.org_id, l.lead_id, l.team_id, t.manager_rep_id, l.owner_rep_id, l.score, l.temperature,
       l.status, l.source, l.escalated_at, l.first_touch_at
  FROM leadflow.leads l
  LEFT JOIN leadflow.teams t ON t.org_id = l.org_id AND t.team_id = l.team_id
 WHERE l.escalated_at IS NOT NULL AND l.merged_into IS NULL AND l.erased_at IS NULL
   AND l.status IN ('new', 'contacted', 'nurture')
   -- until a rep touches it, or its score falls below the threshold again
   AND l.first_touch_at IS NULL
   AND l.score >= (SELECT m.escalate_at FROM leadflow.scoring_models m
                    WHERE m.org_id = l.org_id AND m.active);
COMMENT ON VIEW @extschema@.manager_queue IS 'Escalated leads (score crossed the model''s escalate_at) still open, not yet touched by a rep and still at or above escalate_at: the managers'' queue.';

-- Written by leadflow alone, below the executor, in the transaction that
-- caused each event; read with events_after().  xact_id is the writer's
-- top-level transaction: a consumer reads in (xact_id, event_id) order and
-- only transactions older than every running one, so an event that
-- commits late is never passed over.
CREATE TABLE @extschema@.events (
    org_id       bigint NOT NULL,
    event_id     bigint GENERATED ALWAYS AS IDENTITY,
    occurred_at  timestamptz NOT NULL,
    event        text NOT NULL,
    lead_id      bigint,
    rep_id       bigint,
    detail       jsonb NOT NULL DEFAULT '{}'::jsonb,
    xact_id      xid8 NOT NULL,
    PRIMARY KEY (org_id, event_id)
);
CREATE INDEX events_consumer ON @extschema@.events (org_id, xact_id, event_id);
CREATE INDEX events_occurred_at ON @extschema@.events USING brin (occurred_at);
COMMENT ON TABLE @extschema@.events IS 'Outbox of lead events (created, merged, assigned, reassigned, status_changed, stage_changed, hot, escalated, sla_breach, converted, account_hot, bounced, reactivated, handoff, task_due), written in the transaction that caused them; read with events_after(). Kept for the org setting event_retention (30 days).';
COMMENT ON COLUMN @extschema@.events.event_id IS 'The event''s number, in order of occurrence (not of commit: read with events_after()).';
COMMENT ON COLUMN @extschema@.events.occurred_at IS 'When it happened (transaction time).';
COMMENT ON COLUMN @extschema@.events.event IS 'What happened: created, merged, assigned, reassigned, status_changed, stage_changed, hot, escalated, sla_breach, converted, account_hot, bounced, reactivated, handoff, task_due.';
COMMENT ON COLUMN @extschema@.events.lead_id IS 'The lead (for merged: the survivor).';
COMMENT ON COLUMN @extschema@.events.rep_id IS 'The rep to tell: the lead''s owner after the event; NULL when none.';
COMMENT ON COLUMN @extschema@.events.detail IS 'Ids and codes of the event (README "Automations"); never personal data.';
COMMENT ON COLUMN @extschema@.events.xact_id IS 'The writing transaction (top level): the consumer order is (xact_id, event_id).';
SELECT pg_catalog.pg_extension_config_dump('leadflow.events', '');

CREATE FUNCTION @extschema@.events_after(org_id bigint, "cursor" text DEFAULT NULL, max integer DEFAULT 100)
RETURNS TABLE (event_id bigint, occurred_at timestamptz, event text, lead_id bigint, rep_id bigint,
               detail jsonb, "position" text)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    after_xact xid8 := '0'::xid8;
    after_event bigint := 0;
BEGIN
    IF events_after.org_id IS NULL THEN
        RAISE EXCEPTION 'org_id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF events_after.max IS NULL OR events_after.max NOT BETWEEN 1 AND 100000 THEN
        RAISE EXCEPTION 'max must be between 1 and 100000, not %', COALESCE(events_after.max::text, 'null')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF events_after."cursor" IS NOT NULL AND events_after."cursor" OPERATOR(pg_catalog.<>) '' THEN
        IF events_after."cursor" !~ '^[0-9]{1,19}:[0-9]{1,18}$' THEN
            RAISE EXCEPTION 'invalid event cursor: "%"', pg_catalog.left(events_after."cursor", 100)
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Pass the position of the last event read, or NULL to read from the oldest kept event.';
        END IF;
        after_xact := pg_catalog.split_part(events_after."cursor", ':', 1)::xid8;
        after_event := pg_catalog.split_part(events_after."cursor", ':', 2)::bigint;
    END IF;
    -- one query, one snapshot: its xmin bounds what may still commit
    RETURN QUERY
    SELECT e.event_id, e.occurred_at, e.event, e.lead_id, e.rep_id, e.detail,
           e.xact_id::text OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) e.event_id::text
      FROM leadflow.events e
     WHERE e.org_id OPERATOR(pg_catalog.=) events_after.org_id
       AND e.xact_id OPERATOR(pg_catalog.>=) after_xact
       AND (e.xact_id OPERATOR(pg_catalog.>) after_xact OR e.event_id OPERATOR(pg_catalog.>) after_event)
       AND e.xact_id OPERATOR(pg_catalog.<) pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())
     ORDER BY e.xact_id, e.event_id
     LIMIT events_after.max;
END
$$;
COMMENT ON FUNCTION @extschema@.events_after(bigint, text, integer) IS
    'The next events of an org after a cursor (the position of the last event read; NULL: from the oldest kept), at most max, in (transaction, event) order. Returns only events of transactions older than every transaction still running, so an event that commits late with a lower id is never skipped; each event is returned once per cursor.';
SELECT pg_catalog.pg_extension_config_dump('leadflow.events_event_id_seq', '');

-- tenant isolation, when it is on, covers the new tables too
DO $$
BEGIN
    IF (SELECT c.relrowsecurity FROM pg_catalog.pg_class c
         WHERE c.oid OPERATOR(pg_catalog.=) 'leadflow.leads'::pg_catalog.regclass) THEN
        PERFORM leadflow.enable_tenant_isolation();
    END IF;
END
$$;

------------------------------------------------------------------------------
-- Issue 20: SDR-to-AE handoff, opportunity stages and probability
------------------------------------------------------------------------------

-- Routing rules have a stage: intake (new leads, as before) or handoff (the
-- owner of the opportunity when a lead is converted).
ALTER TABLE @extschema@.routing_rules
    ADD COLUMN stage text NOT NULL DEFAULT 'intake' CHECK (stage IN ('intake', 'handoff'));
COMMENT ON COLUMN @extschema@.routing_rules.stage IS 'intake: routes new leads (the SDR); handoff: picks the owner of the opportunity when a lead is converted (the AE).';

-- simulate_routing gains a stage
DROP FUNCTION @extschema@.simulate_routing(bigint, jsonb);
CREATE FUNCTION @extschema@.simulate_routing(org_id bigint, lead jsonb, stage text DEFAULT 'intake')
RETURNS TABLE (path text, rule_id bigint, rule_name text, team_id bigint, rep_id bigint, explanation jsonb)
AS 'MODULE_PATHNAME', 'leadflow_simulate_routing'
LANGUAGE C STABLE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.simulate_routing(bigint, jsonb, text) IS
    'What routing would do now with a lead of these fields (normalized and scored like a real one); stage handoff: who would own its opportunity if it were converted now. Changes nothing.';

-- The org's opportunity stages (Prospecting ... Won, Lost), each with the
-- probability a new opportunity in it gets; created with every org.
CREATE TABLE @extschema@.opportunity_stages (
    org_id       bigint NOT NULL REFERENCES @extschema@.orgs (org_id) ON DELETE CASCADE,
    stage_id     bigint GENERATED BY DEFAULT AS IDENTITY,
    name         text NOT NULL CHECK (pg_catalog.length(name) BETWEEN 1 AND 100),
    position     integer NOT NULL,
    probability  integer NOT NULL CHECK (probability BETWEEN 0 AND 100),
    is_won       boolean NOT NULL DEFAULT false,
    is_lost      boolean NOT NULL DEFAULT false,
    PRIMARY KEY (org_id, stage_id),
    UNIQUE (org_id, name),
    CONSTRAINT opportunity_stages_won_or_lost CHECK (NOT (is_won AND is_lost))
);
COMMENT ON TABLE @extschema@.opportunity_stages IS 'The org''s sales stages of opportunities, in position order; created with every org (Prospecting 10, Qualification 20, Proposal 50, Negotiation 75, Won 100, Lost 0).';
COMMENT ON COLUMN @extschema@.opportunity_stages.stage_id IS 'Stage id.';
COMMENT ON COLUMN @extschema@.opportunity_stages.name IS 'Stage name, unique in the org (convert_lead finds it case-insensitively).';
COMMENT ON COLUMN @extschema@.opportunity_stages.position IS 'Order of the stages; a new opportunity starts in the first open one.';
COMMENT ON COLUMN @extschema@.opportunity_stages.probability IS 'Percent 0..100 an opportunity entering the stage gets, unless one is given.';
COMMENT ON COLUMN @extschema@.opportunity_stages.is_won IS 'Closed and won: entering it sets closed_at.';
COMMENT ON COLUMN @extschema@.opportunity_stages.is_lost IS 'Closed and lost: entering it sets closed_at.';

-- a new org gets the default stages
CREATE FUNCTION @extschema@.org_create_opportunity_stages()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO leadflow.opportunity_stages (org_id, name, position, probability, is_won, is_lost)
    VALUES (NEW.org_id, 'Prospecting', 1, 10, false, false),
           (NEW.org_id, 'Qualification', 2, 20, false, false),
           (NEW.org_id, 'Proposal', 3, 50, false, false),
           (NEW.org_id, 'Negotiation', 4, 75, false, false),
           (NEW.org_id, 'Won', 5, 100, true, false),
           (NEW.org_id, 'Lost', 6, 0, false, true);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.org_create_opportunity_stages() IS 'Trigger: gives a new org the default opportunity stages.';

CREATE TRIGGER orgs_create_opportunity_stages
    AFTER INSERT ON @extschema@.orgs
    FOR EACH ROW EXECUTE FUNCTION @extschema@.org_create_opportunity_stages();

-- the orgs of 0.1.0 get the default stages, in org order
INSERT INTO @extschema@.opportunity_stages (org_id, name, position, probability, is_won, is_lost)
SELECT o.org_id, d.name, d.position, d.probability, d.is_won, d.is_lost
  FROM @extschema@.orgs o,
       (VALUES ('Prospecting', 1, 10, false, false), ('Qualification', 2, 20, false, false),
               ('Proposal', 3, 50, false, false), ('Negotiation', 4, 75, false, false),
               ('Won', 5, 100, true, false), ('Lost', 6, 0, false, true)) d(name, position, probability, is_won, is_lost)
 ORDER BY o.org_id, d.position;
SELECT pg_catalog.pg_extension_config_dump('leadflow.opportunity_stages', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.opportunity_stages_stage_id_seq', '');
-- where tenant isolation is on (the policy on leads), the new table gets it
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_policy p
                WHERE p.polrelid OPERATOR(pg_catalog.=) 'leadflow.leads'::pg_catalog.regclass
                  AND p.polname OPERATOR(pg_catalog.=) 'leadflow_org_isolation') THEN
        PERFORM leadflow.enable_tenant_isolation();
    END IF;
END
$$;

-- The opportunity keeps the SDR who owned the lead (unknown, NULL, for
-- conversions made before), its stage, probability and closing time.
ALTER TABLE @extschema@.opportunities
    ADD COLUMN sdr_rep_id bigint,
    ADD COLUMN stage_id bigint,
    ADD COLUMN probability integer CHECK (probability BETWEEN 0 AND 100),
    ADD COLUMN closed_at timestamptz,
    ADD FOREIGN KEY (org_id, sdr_rep_id) REFERENCES @extschema@.reps (org_id, rep_id),
    ADD FOREIGN KEY (org_id, stage_id) REFERENCES @extschema@.opportunity_stages (org_id, stage_id);
COMMENT ON COLUMN @extschema@.opportunities.owner_rep_id IS 'Owner, chosen by handoff routing: the account owner, then the first handoff rule that decides, else the lead owner; else the account owner.';
COMMENT ON COLUMN @extschema@.opportunities.sdr_rep_id IS 'The rep who owned the lead when it was converted (the SDR).';
COMMENT ON COLUMN @extschema@.opportunities.stage IS 'Name of the stage, in lower case (follows stage_id; setting it to a stage''s name moves the opportunity there).';
COMMENT ON COLUMN @extschema@.opportunities.stage_id IS 'The stage (opportunity_stages); a new opportunity starts in the org''s first open stage.';
COMMENT ON COLUMN @extschema@.opportunities.probability IS 'Percent 0..100 of winning: the stage''s probability when the opportunity enters it, unless set with it.';
COMMENT ON COLUMN @extschema@.opportunities.closed_at IS 'When it entered a won or lost stage; NULL while open.';

-- stage_id, stage (its name), probability and closed_at follow each other
CREATE FUNCTION @extschema@.opportunity_stage_changed()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st leadflow.opportunity_stages;
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.stage_id IS NOT DISTINCT FROM OLD.stage_id
       AND NEW.stage IS NOT DISTINCT FROM OLD.stage THEN
        RETURN NEW;
    END IF;
    IF NEW.stage_id IS NULL OR (TG_OP = 'UPDATE' AND NEW.stage_id OPERATOR(pg_catalog.=) OLD.stage_id) THEN
        -- no stage_id given (or only the name changed): by name, else the first open stage
        SELECT * INTO st FROM leadflow.opportunity_stages s
         WHERE s.org_id OPERATOR(pg_catalog.=) NEW.org_id
           AND pg_catalog.lower(s.name) OPERATOR(pg_catalog.=) pg_catalog.lower(NEW.stage);
        IF NOT FOUND AND TG_OP = 'UPDATE' THEN
            RAISE EXCEPTION 'invalid opportunity stage: "%"', NEW.stage
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Use the name of one of the org''s opportunity_stages.';
        END IF;
        IF NOT FOUND THEN
            SELECT * INTO st FROM leadflow.opportunity_stages s
             WHERE s.org_id OPERATOR(pg_catalog.=) NEW.org_id
             ORDER BY s.is_won OR s.is_lost, s.position, s.stage_id LIMIT 1;
        END IF;
    ELSE
        SELECT * INTO st FROM leadflow.opportunity_stages s
         WHERE s.org_id OPERATOR(pg_catalog.=) NEW.org_id AND s.stage_id OPERATOR(pg_catalog.=) NEW.stage_id;
    END IF;
    IF st.stage_id IS NULL THEN
        RETURN NEW;             -- an org without stages; the foreign key judges a wrong stage_id
    END IF;
    NEW.stage_id := st.stage_id;
    NEW.stage := pg_catalog.lower(st.name);
    IF NEW.probability IS NULL OR (TG_OP = 'UPDATE' AND NEW.probability IS NOT DISTINCT FROM OLD.probability) THEN
        NEW.probability := st.probability;
    END IF;
    IF st.is_won OR st.is_lost THEN
        NEW.closed_at := COALESCE(NEW.closed_at, pg_catalog.now());
    ELSE
        NEW.closed_at := NULL;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.opportunity_stage_changed() IS 'Trigger: an opportunity entering a stage (by stage_id or by its name) gets the stage''s name and probability (unless one is set with it) and closed_at when the stage is won or lost.';

CREATE TRIGGER opportunities_stage
    BEFORE INSERT OR UPDATE OF stage_id, stage ON @extschema@.opportunities
    FOR EACH ROW EXECUTE FUNCTION @extschema@.opportunity_stage_changed();

-- The handoff of a conversion: an opportunity made for an open lead without
-- an owner gets the one handoff routing chooses (routing_rules of stage
-- handoff), journaled as handoff.  Only a new opportunity causes it.
CREATE FUNCTION @extschema@.opportunity_handoff()
RETURNS trigger
AS 'MODULE_PATHNAME', 'leadflow_opportunity_handoff'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.opportunity_handoff() IS 'Trigger: a new opportunity of an open lead, without an owner, is owned by the rep handoff routing chooses (the account''s owner, then the handoff rules, else the lead''s owner; else the account''s owner); sdr_rep_id defaults to the lead''s owner; journals handoff and advances the rotation.';

CREATE TRIGGER opportunities_handoff
    BEFORE INSERT ON @extschema@.opportunities
    FOR EACH ROW WHEN (NEW.lead_id IS NOT NULL AND NEW.owner_rep_id IS NULL)
    EXECUTE FUNCTION @extschema@.opportunity_handoff();

-- the opportunities of 0.1.0 enter the stage of their name, else the first
UPDATE @extschema@.opportunities o
   SET stage_id = COALESCE(
       (SELECT s.stage_id FROM @extschema@.opportunity_stages s
         WHERE s.org_id OPERATOR(pg_catalog.=) o.org_id
           AND pg_catalog.lower(s.name) OPERATOR(pg_catalog.=) pg_catalog.lower(o.stage)),
       (SELECT s.stage_id FROM @extschema@.opportunity_stages s
         WHERE s.org_id OPERATOR(pg_catalog.=) o.org_id
         ORDER BY s.is_won OR s.is_lost, s.position, s.stage_id LIMIT 1));

-- convert_lead gains stage and probability
DROP FUNCTION @extschema@.convert_lead(bigint, text, numeric, date);
CREATE FUNCTION @extschema@.convert_lead(lead_id bigint, opportunity_name text DEFAULT NULL,
                                         amount numeric DEFAULT NULL, expected_close date DEFAULT NULL,
                                         stage text DEFAULT NULL, probability integer DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    l leadflow.leads;
    acct bigint;
    created_account boolean := false;
    contact bigint;
    opp bigint;
    opp_owner bigint;
    opp_stage bigint;
BEGIN
    SELECT * INTO l FROM leadflow.leads x WHERE x.lead_id OPERATOR(pg_catalog.=) convert_lead.lead_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'lead % does not exist', convert_lead.lead_id USING ERRCODE = 'no_data_found';
    END IF;
    IF l.erased_at IS NOT NULL THEN
        RAISE EXCEPTION 'cannot convert lead %: it is erased', l.lead_id USING ERRCODE = 'check_violation';
    END IF;
    IF l.status = 'converted' THEN
        RAISE EXCEPTION 'lead % is already converted', l.lead_id
            USING ERRCODE = 'unique_violation',
                  DETAIL = pg_catalog.format('Its opportunity is %s.',
                      (SELECT o.opportunity_id FROM leadflow.opportunities o
                        WHERE o.org_id OPERATOR(pg_catalog.=) l.org_id AND o.lead_id OPERATOR(pg_catalog.=) l.lead_id));
    END IF;
    IF l.status = 'merged' THEN
        RAISE EXCEPTION 'cannot convert lead %: it is merged', l.lead_id
            USING ERRCODE = 'check_violation',
                  HINT = pg_catalog.format('Convert lead %s, which it was merged into.', l.merged_into);
    END IF;
    IF l.status IN ('unqualified', 'archived') THEN
        RAISE EXCEPTION 'cannot convert lead %: it is %', l.lead_id, l.status USING ERRCODE = 'check_violation';
    END IF;
    IF opportunity_name IS NOT NULL AND pg_catalog.length(opportunity_name) NOT BETWEEN 1 AND 300 THEN
        RAISE EXCEPTION 'invalid opportunity_name: must be 1 to 300 characters' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF amount IS NOT NULL AND amount OPERATOR(pg_catalog.<) 0 THEN
        RAISE EXCEPTION 'invalid amount %: must not be negative', amount USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF probability IS NOT NULL AND probability NOT BETWEEN 0 AND 100 THEN
        RAISE EXCEPTION 'invalid probability %: must be 0 to 100', probability USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF stage IS NOT NULL THEN
        SELECT s.stage_id INTO opp_stage FROM leadflow.opportunity_stages s
         WHERE s.org_id OPERATOR(pg_catalog.=) l.org_id
           AND pg_catalog.lower(s.name) OPERATOR(pg_catalog.=) pg_catalog.lower(convert_lead.stage);
        IF opp_stage IS NULL THEN
            RAISE EXCEPTION 'invalid opportunity stage: "%"', stage
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Use the name of one of the org''s opportunity_stages.';
        END IF;
    END IF;
    -- the requirement of the move to qualified holds for conversion too
    IF COALESCE((SELECT (o.settings OPERATOR(pg_catalog.->>) 'require_bant_for_qualified')::boolean
                   FROM leadflow.orgs o WHERE o.org_id OPERATOR(pg_catalog.=) l.org_id), false)
       AND NOT (l.budget_confirmed AND l.authority_confirmed AND l.need_confirmed AND l.timeline_confirmed) THEN
        RAISE EXCEPTION 'lead % cannot move from % to converted: the org requires budget, authority, need and timeline confirmed',
                        l.lead_id, l.status
            USING ERRCODE = 'check_violation',
                  HINT = 'Set budget_confirmed, authority_confirmed, need_confirmed and timeline_confirmed first.';
    END IF;

    -- the account: by company domain, then by company name, else a new one
    SELECT a.account_id INTO acct FROM leadflow.accounts a
     WHERE a.org_id OPERATOR(pg_catalog.=) l.org_id AND a.domain OPERATOR(pg_catalog.=) l.company_domain;
    IF acct IS NULL AND l.company IS NOT NULL THEN
        SELECT a.account_id INTO acct FROM leadflow.accounts a
         WHERE a.org_id OPERATOR(pg_catalog.=) l.org_id
           AND pg_catalog.lower(a.name) OPERATOR(pg_catalog.=) pg_catalog.lower(l.company)
         ORDER BY a.account_id LIMIT 1;
    END IF;
    IF acct IS NULL THEN
        INSERT INTO leadflow.accounts (org_id, name, domain)
        VALUES (l.org_id, COALESCE(l.company, l.company_domain, 'Lead ' || l.lead_id), l.company_domain)
        RETURNING account_id INTO acct;
        created_account := true;
    END IF;

    INSERT INTO leadflow.contacts (org_id, account_id, lead_id, first_name, last_name, email, phone, job_title)
    VALUES (l.org_id, acct, l.lead_id, l.first_name, l.last_name, l.email_normalized,
            COALESCE(l.phone_e164, l.phone), l.job_title)
    RETURNING contact_id INTO contact;

    -- no owner given: the opportunities_handoff trigger chooses it by
    -- handoff routing and journals "handoff"; a new account gets the same
    INSERT INTO leadflow.opportunities (org_id, account_id, contact_id, lead_id, name, amount,
                                        expected_close, sdr_rep_id, stage_id, probability)
    VALUES (l.org_id, acct, contact, l.lead_id,
            COALESCE(opportunity_name, COALESCE(l.company, l.company_domain, 'Lead ' || l.lead_id) || ' opportunity'),
            amount, expected_close, l.owner_rep_id, opp_stage, probability)
    RETURNING opportunity_id, owner_rep_id INTO opp, opp_owner;
    IF created_account AND opp_owner IS NOT NULL THEN
        UPDATE leadflow.accounts a SET owner_rep_id = opp_owner
         WHERE a.org_id OPERATOR(pg_catalog.=) l.org_id AND a.account_id OPERATOR(pg_catalog.=) acct;
    END IF;

    UPDATE leadflow.leads x SET status = 'converted', account_id = acct
     WHERE x.org_id OPERATOR(pg_catalog.=) l.org_id AND x.lead_id OPERATOR(pg_catalog.=) l.lead_id;
    PERFORM leadflow.append_journey(l.lead_id, 'converted', pg_catalog.jsonb_build_object(
        'account_id', acct, 'account_created', created_account, 'contact_id', contact, 'opportunity_id', opp));
    RETURN opp;
END
$$;
COMMENT ON FUNCTION @extschema@.convert_lead(bigint, text, numeric, date, text, integer) IS
    'Converts a lead (refused like the move to qualified when the org requires BANT and a flag is missing): links or creates the account (by company domain, then name), creates the contact and the opportunity (owner chosen by handoff routing, journaled as handoff; the lead owner kept as sdr_rep_id), marks the lead converted; starts the opportunity in the named stage (else the first open one) with the given probability (else the stage''s); returns the opportunity id.';

-- report_pipeline and report_tasks_due (80_reports)
CREATE VIEW @extschema@.report_pipeline WITH (security_invoker = true) AS
SELECT o.org_id, o.owner_rep_id, o.stage_id, s.name AS stage, s.position, s.is_won, s.is_lost,
       pg_catalog.date_trunc('month', o.expected_close::timestamp without time zone)::date AS month,
       pg_catalog.count(*) AS opportunities,
       COALESCE(pg_catalog.sum(o.amount), 0) AS amount,
       COALESCE(pg_catalog.sum(o.amount * o.probability / 100.0), 0) AS weighted_amount
  FROM leadflow.opportunities o
  LEFT JOIN leadflow.opportunity_stages s ON s.org_id = o.org_id AND s.stage_id = o.stage_id
 GROUP BY o.org_id, o.owner_rep_id, o.stage_id, s.name, s.position, s.is_won, s.is_lost,
          pg_catalog.date_trunc('month', o.expected_close::timestamp without time zone)::date;
COMMENT ON VIEW @extschema@.report_pipeline IS 'Per org, opportunity owner, stage and month of expected close: how many opportunities, their amount and weighted amount (amount times probability). Every stage, won and lost included (is_won, is_lost tell them apart); filter on NOT is_won AND NOT is_lost for the open pipeline.';
COMMENT ON COLUMN @extschema@.report_pipeline.org_id IS 'Org.';
COMMENT ON COLUMN @extschema@.report_pipeline.owner_rep_id IS 'Opportunity owner; NULL for none.';
COMMENT ON COLUMN @extschema@.report_pipeline.stage_id IS 'The stage (opportunity_stages).';
COMMENT ON COLUMN @extschema@.report_pipeline.stage IS 'Stage name.';
COMMENT ON COLUMN @extschema@.report_pipeline.position IS 'Stage position, to sort by.';
COMMENT ON COLUMN @extschema@.report_pipeline.is_won IS 'Whether the stage is won.';
COMMENT ON COLUMN @extschema@.report_pipeline.is_lost IS 'Whether the stage is lost.';
COMMENT ON COLUMN @extschema@.report_pipeline.month IS 'First day of the month of expected_close; NULL when none is set.';
COMMENT ON COLUMN @extschema@.report_pipeline.opportunities IS 'Opportunities in the group.';
COMMENT ON COLUMN @extschema@.report_pipeline.amount IS 'Sum of their amounts (those without an amount count 0).';
COMMENT ON COLUMN @extschema@.report_pipeline.weighted_amount IS 'Sum of amount * probability / 100.';

CREATE VIEW @extschema@.report_tasks_due WITH (security_invoker = true) AS
SELECT a.org_id, a.activity_id, a.lead_id, COALESCE(a.rep_id, l.owner_rep_id) AS rep_id, a.due_at,
       pg_catalog.round(EXTRACT(epoch FROM pg_catalog.now() - a.due_at) / 3600, 2) AS hours_overdue
  FROM leadflow.activities a
  JOIN leadflow.leads l ON l.org_id = a.org_id AND l.lead_id = a.lead_id
 WHERE a.kind = 'task' AND a.completed_at IS NULL AND a.due_at < pg_catalog.now()
   AND l.erased_at IS NULL;
COMMENT ON VIEW @extschema@.report_tasks_due IS 'Per org and open task past due (activities of kind task, not completed, due_at passed), of leads not erased: whose it is and how late.';
COMMENT ON COLUMN @extschema@.report_tasks_due.org_id IS 'Org.';
COMMENT ON COLUMN @extschema@.report_tasks_due.activity_id IS 'The task (activities).';
COMMENT ON COLUMN @extschema@.report_tasks_due.lead_id IS 'The lead it is about.';
COMMENT ON COLUMN @extschema@.report_tasks_due.rep_id IS 'The task''s rep, else the lead''s owner; NULL for neither.';
COMMENT ON COLUMN @extschema@.report_tasks_due.due_at IS 'When it was due.';
COMMENT ON COLUMN @extschema@.report_tasks_due.hours_overdue IS 'Hours since due_at.';

-- report_rep_performance: activity counts by kind and open pipeline amount (80_reports)
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
       a.converted::numeric / NULLIF(a.assigned, 0) AS conversion_rate,
       COALESCE(v.calls, 0) AS calls,
       COALESCE(v.emails, 0) AS emails,
       COALESCE(v.meetings, 0) AS meetings,
       COALESCE(v.notes, 0) AS notes,
       COALESCE(v.tasks, 0) AS tasks,
       COALESCE(p.open_pipeline, 0) AS open_pipeline
  FROM leadflow.reps r
  LEFT JOIN (SELECT l.org_id, l.owner_rep_id,
                    pg_catalog.count(*) AS assigned,
                    pg_catalog.count(*) FILTER (WHERE l.status = ANY (@extschema@.open_statuses())
                                                  AND l.erased_at IS NULL) AS open,
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
              WHERE l.merged_into IS NULL AND l.owner_rep_id IS NOT NULL
              GROUP BY l.org_id, l.owner_rep_id) a
         ON a.org_id = r.org_id AND a.owner_rep_id = r.rep_id
  -- the activities the rep logged, by kind
  LEFT JOIN (SELECT x.org_id, x.rep_id,
                    pg_catalog.count(*) FILTER (WHERE x.kind = 'call') AS calls,
                    pg_catalog.count(*) FILTER (WHERE x.kind = 'email') AS emails,
                    pg_catalog.count(*) FILTER (WHERE x.kind = 'meeting') AS meetings,
                    pg_catalog.count(*) FILTER (WHERE x.kind = 'note') AS notes,
                    pg_catalog.count(*) FILTER (WHERE x.kind = 'task') AS tasks
               FROM leadflow.activities x
              WHERE x.rep_id IS NOT NULL
              GROUP BY x.org_id, x.rep_id) v
         ON v.org_id = r.org_id AND v.rep_id = r.rep_id
  -- the amount of the open opportunities the rep owns
  LEFT JOIN (SELECT o.org_id, o.owner_rep_id, pg_catalog.sum(o.amount) AS open_pipeline
               FROM leadflow.opportunities o
               JOIN leadflow.opportunity_stages s ON s.org_id = o.org_id AND s.stage_id = o.stage_id
              WHERE NOT s.is_won AND NOT s.is_lost AND o.owner_rep_id IS NOT NULL
              GROUP BY o.org_id, o.owner_rep_id) p
         ON p.org_id = r.org_id AND p.owner_rep_id = r.rep_id;
COMMENT ON COLUMN @extschema@.report_rep_performance.calls IS 'Activities of kind call the rep logged (any lead, done or not).';
COMMENT ON COLUMN @extschema@.report_rep_performance.emails IS 'Activities of kind email the rep logged.';
COMMENT ON COLUMN @extschema@.report_rep_performance.meetings IS 'Activities of kind meeting the rep logged.';
COMMENT ON COLUMN @extschema@.report_rep_performance.notes IS 'Activities of kind note the rep logged.';
COMMENT ON COLUMN @extschema@.report_rep_performance.tasks IS 'Activities of kind task assigned to the rep.';
COMMENT ON COLUMN @extschema@.report_rep_performance.open_pipeline IS 'Sum of the amounts of the open (neither won nor lost) opportunities the rep owns.';
COMMENT ON VIEW @extschema@.report_rep_performance IS 'Per org and rep (every rep, also without leads): the live leads the rep owns now, how fast and how well they were worked, the activities the rep logged by kind and the amount of the open opportunities the rep owns.';

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

-- (the triggers and grant_app_role: with internal_tables() in the
-- section "Issue 17 (continued)" at the end)

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

------------------------------------------------------------------------------
-- Issue 18: nothing lost at capture.  A lead with one usable contact is
-- never refused: what cannot be used is kept as typed and noted in
-- leads.data_issues, counted by report_data_quality (86_data_quality);
-- human numbers for company_size and annual_revenue (60_capture);
-- countries and states as ISO codes (46_normalize); sources canonical,
-- with per-org aliases (60_capture, 10_orgs); a submission is stored once
-- (leads.external_id, lead_imports fingerprints; 60_capture, 86_data_quality).

ALTER TABLE @extschema@.leads ADD COLUMN data_issues jsonb;
ALTER TABLE @extschema@.leads ADD COLUMN external_id text;
ALTER TABLE @extschema@.leads ADD COLUMN submitted_at timestamptz;
COMMENT ON COLUMN @extschema@.leads.data_issues IS 'What was unusable in what was typed, field -> problem code (e.g. {"phone": "not_a_number"}); NULL when clean. The value stays as typed in its column (company_size and annual_revenue: in attributes, the column NULL). Written by the pipeline; report_data_quality counts it.';
COMMENT ON COLUMN @extschema@.leads.external_id IS 'The id the submission has where it came from (Meta leadgen_id or id, Google lead_id, a CSV or form external_id, or any INSERT''s); one lead per org, source and external_id (lead_external_ids): a submission captured again is not stored again (an INSERT of it stores nothing and does not count in the affected rows).';
COMMENT ON COLUMN @extschema@.leads.submitted_at IS 'When the person submitted the form, as the source says (Meta created_time); created_at stays the capture time. report_lead_volume counts a lead on this day when set.';

COMMENT ON FUNCTION @extschema@.contact_problem(text, text, text, text) IS
    'Why the pipeline would refuse these contact fields (the message it would raise), or NULL when it would take the lead: refused only when neither a usable email nor a usable phone remains. A national phone number is read in the country''s region when country is a two-letter code, else in default_region.';

CREATE FUNCTION @extschema@.country_code(country text)
RETURNS text
AS 'MODULE_PATHNAME', 'leadflow_country_code'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.country_code(text) IS
    'The ISO 3166-1 alpha-2 code the pipeline stores in leads.country for a country as typed: English and local names (Germany, Deutschland, Allemagne), alpha-2 and alpha-3 codes, aliases such as UK, USA, Holland; case, accents, dots and a leading "the" do not matter. NULL when unknown (the lead keeps the value as typed, with data issue country: unknown).';

CREATE FUNCTION @extschema@.subdivision_code(country text, state text)
RETURNS text
AS 'MODULE_PATHNAME', 'leadflow_subdivision_code'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.subdivision_code(text, text) IS
    'The ISO 3166-2 subdivision code without the country prefix the pipeline stores in leads.state for a state as typed in a country (California -> CA, Bayern or Bavaria -> BY, Ontario -> ON). NULL when the country or the state is unknown.';

CREATE FUNCTION @extschema@.source_key(source text)
RETURNS text
AS 'MODULE_PATHNAME', 'leadflow_source_key'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.source_key(text) IS
    'The canonical spelling of a source: trimmed, lower case, runs of spaces, dashes and underscores as one "_" ("Web Form" and "web-form" give web_form); NULL when nothing is left. The pipeline stores it, or the org''s alias of it (source_aliases).';

CREATE TABLE @extschema@.source_aliases (
    org_id  bigint NOT NULL REFERENCES @extschema@.orgs (org_id) ON DELETE CASCADE,
    alias   text NOT NULL CHECK (alias OPERATOR(pg_catalog.=) @extschema@.source_key(alias)),
    source  text NOT NULL CHECK (source OPERATOR(pg_catalog.=) @extschema@.source_key(source)),
    PRIMARY KEY (org_id, alias)
);
COMMENT ON TABLE @extschema@.source_aliases IS 'Per org: spellings of a source stored as another (fb -> meta_ads); a new org gets default_source_aliases(). SLA policies, routing rules and reports see the source.';
COMMENT ON COLUMN @extschema@.source_aliases.org_id IS 'Org.';
COMMENT ON COLUMN @extschema@.source_aliases.alias IS 'The spelling, canonical (source_key): facebook, fb, adwords, website_form.';
COMMENT ON COLUMN @extschema@.source_aliases.source IS 'The source stored for it, canonical: meta_ads, google_ads, web_form.';
CREATE TRIGGER source_aliases_config_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.source_aliases
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.config_changed();
SELECT pg_catalog.pg_extension_config_dump('leadflow.source_aliases', '');

CREATE FUNCTION @extschema@.default_source_aliases()
RETURNS TABLE (alias text, source text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT a.alias, a.source FROM (VALUES
        ('facebook', 'meta_ads'), ('fb', 'meta_ads'), ('facebook_ads', 'meta_ads'),
        ('facebook_lead_ads', 'meta_ads'), ('instagram', 'meta_ads'), ('instagram_ads', 'meta_ads'),
        ('ig', 'meta_ads'), ('meta', 'meta_ads'), ('meta_lead_ads', 'meta_ads'),
        ('adwords', 'google_ads'), ('google_adwords', 'google_ads'), ('google_ad', 'google_ads'),
        ('google_lead_form', 'google_ads'), ('google_ads_lead_form', 'google_ads'),
        ('webform', 'web_form'), ('website_form', 'web_form'), ('web_site_form', 'web_form'),
        ('contact_form', 'web_form'), ('online_form', 'web_form'),
        ('tradeshow', 'trade_show'), ('trade_fair', 'trade_show'), ('trade_show_booth', 'trade_show'),
        ('referal', 'referral'), ('referrals', 'referral'), ('partner_referral', 'referral'),
        ('linkedin', 'linkedin_ads'), ('linkedin_lead_gen', 'linkedin_ads')
    ) a(alias, source)
$$;
COMMENT ON FUNCTION @extschema@.default_source_aliases() IS
    'The source aliases every new org gets: common spellings of meta_ads, google_ads, web_form, trade_show, referral and linkedin_ads.';

-- the aliases of the orgs there are (a new org gets them from org_create_defaults)
INSERT INTO @extschema@.source_aliases (org_id, alias, source)
SELECT o.org_id, d.alias, d.source FROM @extschema@.orgs o CROSS JOIN @extschema@.default_source_aliases() d;

CREATE FUNCTION @extschema@.org_source(org_id bigint, source text)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT COALESCE((SELECT a.source FROM leadflow.source_aliases a
                      WHERE a.org_id OPERATOR(pg_catalog.=) org_source.org_id
                        AND a.alias OPERATOR(pg_catalog.=) leadflow.source_key(org_source.source)),
                    leadflow.source_key(org_source.source))
$$;
COMMENT ON FUNCTION @extschema@.org_source(bigint, text) IS
    'The source the pipeline stores in the org for a source as given: source_key, then the org''s alias (source_aliases).';

CREATE OR REPLACE FUNCTION @extschema@.org_create_defaults()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    wf bigint;
    model bigint;
BEGIN
    INSERT INTO leadflow.workflows (org_id, name, is_default)
    VALUES (NEW.org_id, 'Default', true)
    RETURNING workflow_id INTO wf;

    INSERT INTO leadflow.workflow_stages (org_id, workflow_id, name, position, status)
    VALUES (NEW.org_id, wf, 'New', 1, 'new'),
           (NEW.org_id, wf, 'Contacted', 2, 'contacted'),
           (NEW.org_id, wf, 'Qualified', 3, 'qualified'),
           (NEW.org_id, wf, 'Nurture', 4, 'nurture'),
           (NEW.org_id, wf, 'Unqualified', 5, 'unqualified'),
           (NEW.org_id, wf, 'Converted', 6, 'converted');

    INSERT INTO leadflow.scoring_models (org_id, name, active)
    VALUES (NEW.org_id, 'Default', true)
    RETURNING model_id INTO model;

    -- field rules: who the person is, what the company is (README "Scoring")
    INSERT INTO leadflow.scoring_rules (org_id, model_id, name, category, points, predicate)
    VALUES
      -- whole words ("word"): "VPN Engineer" is no VP, "Directory Admin" no
      -- director; a vice president is a VP, not a president
      (NEW.org_id, model, 'C-level or founder', 'demographic', 25,
       '{"all": [{"field": "job_title", "op": "word",
                  "value": ["chief", "ceo", "cto", "cfo", "coo", "cmo", "cro", "cio", "founder", "co-founder",
                            "cofounder", "owner", "president", "managing director"]},
                 {"not": {"field": "job_title", "op": "word", "value": ["vice president", "vice-president"]}}]}'),
      (NEW.org_id, model, 'VP', 'demographic', 20,
       '{"field": "job_title", "op": "word", "value": ["vp", "svp", "evp", "avp", "vice president", "vice-president"]}'),
      (NEW.org_id, model, 'Director or head of', 'demographic', 15,
       '{"field": "job_title", "op": "word", "value": ["director", "head of"]}'),
      (NEW.org_id, model, 'Manager', 'demographic', 8,
       '{"field": "job_title", "op": "word", "value": "manager"}'),
      (NEW.org_id, model, 'Student or intern', 'demographic', -30,
       '{"field": "job_title", "op": "word", "value": ["student", "intern", "internship", "trainee"]}'),
      (NEW.org_id, model, 'Works at a competitor', 'demographic', -40,
       '{"field": "attributes.competitor", "op": "eq", "value": true}'),
      (NEW.org_id, model, 'Company domain (not free mail)', 'demographic', 5,
       '{"field": "company_domain", "op": "exists"}'),
      (NEW.org_id, model, 'Company size 1000+', 'firmographic', 15,
       '{"field": "company_size", "op": "ge", "value": 1000}'),
      (NEW.org_id, model, 'Company size 200-999', 'firmographic', 10,
       '{"field": "company_size", "op": "between", "value": [200, 999]}'),
      (NEW.org_id, model, 'Company size 50-199', 'firmographic', 5,
       '{"field": "company_size", "op": "between", "value": [50, 199]}'),
      (NEW.org_id, model, 'Revenue 10M+', 'firmographic', 5,
       '{"field": "annual_revenue", "op": "ge", "value": 10000000}');

    -- signal rules: what the person does
    INSERT INTO leadflow.scoring_rules (org_id, model_id, name, category, points, signal_kind, max_count, half_life)
    VALUES
      (NEW.org_id, model, 'Page views', 'behavioral', 2, 'page_view', 10, '14 days'),
      (NEW.org_id, model, 'Content downloads', 'behavioral', 8, 'content_download', 3, '30 days'),
      (NEW.org_id, model, 'Form submissions', 'behavioral', 10, 'form_submit', 3, '30 days'),
      (NEW.org_id, model, 'Email opens', 'engagement', 2, 'email_open', 5, '14 days'),
      (NEW.org_id, model, 'Email clicks', 'engagement', 4, 'email_click', 5, '14 days'),
      (NEW.org_id, model, 'Replies', 'engagement', 12, 'reply', 2, '30 days'),
      (NEW.org_id, model, 'Meeting booked', 'engagement', 20, 'meeting_booked', 1, '60 days');

    INSERT INTO leadflow.sla_policies (org_id, source, first_touch_within, reassign_after)
    VALUES (NEW.org_id, NULL, '1 hour', '72 hours'),
           (NEW.org_id, 'web', '5 minutes', '72 hours'),
           (NEW.org_id, 'web_form', '5 minutes', '72 hours'),
           (NEW.org_id, 'landing_page', '5 minutes', '72 hours'),
           (NEW.org_id, 'chat', '5 minutes', '72 hours'),
           (NEW.org_id, 'trade_show', '24 hours', '72 hours');

    INSERT INTO leadflow.source_aliases (org_id, alias, source)
    SELECT NEW.org_id, d.alias, d.source FROM leadflow.default_source_aliases() d;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.org_create_defaults() IS 'Trigger: gives a new org its default workflow, scoring model, SLA policies and source aliases.';

-- The default title rules by whole words (op word): an org whose rule is
-- still the one shipped with 0.1.0 gets the new one (an edited rule stays)
UPDATE @extschema@.scoring_rules r SET predicate = v.new
  FROM (VALUES
    ('C-level or founder',
     '{"any": [{"field": "job_title", "op": "contains", "value": "chief"},
               {"field": "job_title", "op": "contains", "value": "founder"},
               {"field": "job_title", "op": "contains", "value": "president"},
               {"field": "job_title", "op": "in", "value": ["ceo", "cto", "cfo", "coo", "cmo", "cro", "cio", "owner"]}]}'::jsonb,
     '{"all": [{"field": "job_title", "op": "word",
                "value": ["chief", "ceo", "cto", "cfo", "coo", "cmo", "cro", "cio", "founder", "co-founder",
                          "cofounder", "owner", "president", "managing director"]},
               {"not": {"field": "job_title", "op": "word", "value": ["vice president", "vice-president"]}}]}'::jsonb),
    ('VP',
     '{"all": [{"any": [{"field": "job_title", "op": "prefix", "value": "vp"},
                        {"field": "job_title", "op": "contains", "value": "vice president"}]},
               {"not": {"field": "job_title", "op": "contains", "value": "president of"}}]}',
     '{"field": "job_title", "op": "word", "value": ["vp", "svp", "evp", "avp", "vice president", "vice-president"]}'),
    ('Director or head of',
     '{"any": [{"field": "job_title", "op": "contains", "value": "director"},
               {"field": "job_title", "op": "prefix", "value": "head of"}]}',
     '{"field": "job_title", "op": "word", "value": ["director", "head of"]}'),
    ('Manager',
     '{"field": "job_title", "op": "contains", "value": "manager"}',
     '{"field": "job_title", "op": "word", "value": "manager"}'),
    ('Student or intern',
     '{"any": [{"field": "job_title", "op": "contains", "value": "student"},
               {"field": "job_title", "op": "contains", "value": "intern"}]}',
     '{"field": "job_title", "op": "word", "value": ["student", "intern", "internship", "trainee"]}')
  ) v(name, old, new)
 WHERE r.name OPERATOR(pg_catalog.=) v.name AND r.predicate OPERATOR(pg_catalog.=) v.old;

CREATE FUNCTION @extschema@.parse_number(value text, whole boolean DEFAULT false)
RETURNS numeric
AS 'MODULE_PATHNAME', 'leadflow_parse_number'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.parse_number(text, boolean) IS
    'The number a person typed: thousands separators, k/m/b and thousand/million/billion, currency marks and a trailing + ("1,200", "500+", "1.5k", "$5M") read; NULL when blank or not read (number_problem says why). whole asks for a whole number (company_size).';

CREATE FUNCTION @extschema@.number_problem(value text, whole boolean DEFAULT false)
RETURNS text
AS 'MODULE_PATHNAME', 'leadflow_number_problem'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.number_problem(text, boolean) IS
    'Why parse_number reads no number from a value that is not blank: not_a_number, range ("11-50"), ambiguous ("1.200", "1,5"), negative, not_whole or too_large; NULL when it reads one or the value is blank.';

CREATE FUNCTION @extschema@.import_org_id()
RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    setting text := NULLIF(pg_catalog.current_setting('leadflow.org_id', true), '');
BEGIN
    IF setting IS NULL THEN
        RAISE EXCEPTION 'lead_imports needs an org_id: the setting leadflow.org_id is not set'
            USING ERRCODE = 'not_null_violation',
                  HINT = 'SET leadflow.org_id = <your org id> before the \copy, or load an org_id column.';
    END IF;
    RETURN setting::bigint;
END
$$;
COMMENT ON FUNCTION @extschema@.import_org_id() IS
    'Default of lead_imports.org_id: the setting leadflow.org_id; 23502 with a hint when it is not set.';

ALTER TABLE @extschema@.lead_imports ALTER COLUMN org_id SET DEFAULT @extschema@.import_org_id();
ALTER TABLE @extschema@.lead_imports ADD COLUMN external_id text;
ALTER TABLE @extschema@.lead_imports ADD COLUMN fingerprint text;
ALTER TABLE @extschema@.lead_imports ADD COLUMN unchanged boolean NOT NULL DEFAULT false;
ALTER TABLE @extschema@.lead_imports ADD COLUMN owner_rep_id text;
ALTER TABLE @extschema@.lead_imports ADD COLUMN owner_email text;
ALTER TABLE @extschema@.lead_imports ADD COLUMN created_at text;
ALTER TABLE @extschema@.lead_imports ADD COLUMN status text;
ALTER TABLE @extschema@.lead_imports ADD COLUMN stage text;
ALTER TABLE @extschema@.lead_imports ADD COLUMN attributes text;

-- a row imported before (same fields, any batch) is found by its fingerprint
CREATE INDEX lead_imports_fingerprint ON @extschema@.lead_imports (org_id, fingerprint)
    WHERE fingerprint IS NOT NULL;

COMMENT ON COLUMN @extschema@.lead_imports.external_id IS 'CSV field external_id: the lead''s id in the system it comes from (leads.external_id); a row whose source and external_id are already stored is unchanged.';

COMMENT ON COLUMN @extschema@.lead_imports.fingerprint IS 'Set by process_import: md5 of the row''s fields; a row with the fingerprint of a row imported before (in any batch) is unchanged.';

COMMENT ON COLUMN @extschema@.lead_imports.owner_rep_id IS 'CSV field owner_rep_id: the rep who owns the lead (a rep_id of the org); the lead keeps this owner and is not routed. An unknown rep is a data issue (owner: unknown) and the lead is routed.';
COMMENT ON COLUMN @extschema@.lead_imports.owner_email IS 'CSV field owner_email: the owner by the email of a rep of the org (any case), when owner_rep_id is empty.';
COMMENT ON COLUMN @extschema@.lead_imports.created_at IS 'CSV field created_at: when the lead was created in the system it comes from (a timestamp; without a zone, in the session''s TimeZone). A past one is kept as leads.created_at; the lead''s SLA and inactivity clocks start at the import (assigned_at, last_activity_at). Unreadable or in the future: a data issue, created_at is the import time.';
COMMENT ON COLUMN @extschema@.lead_imports.status IS 'CSV field status: new, contacted, qualified, nurture, unqualified or converted (a status of the default workflow''s stages, any case); kept. Another value rejects the row.';
COMMENT ON COLUMN @extschema@.lead_imports.stage IS 'CSV field stage: a stage of the org''s default workflow by name (any case) or stage_id; the status follows it. An unknown stage, or one of another status than the row''s status, rejects the row.';
COMMENT ON COLUMN @extschema@.lead_imports.attributes IS 'CSV field attributes: custom fields as a JSON object, stored in leads.attributes (stage_import puts every column it does not know here). Not an object: kept in attributes under "attributes" with a data issue.';

COMMENT ON COLUMN @extschema@.lead_imports.unchanged IS 'Set by process_import: the row was imported before (same external_id, or same fields) and stored nothing; lead_id is the lead it was.';

CREATE FUNCTION @extschema@.import_fingerprint(r @extschema@.lead_imports)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.md5(pg_catalog.concat_ws(pg_catalog.chr(31),
               r.first_name, r.last_name, r.email, r.phone, r.company, r.job_title, r.industry,
               r.company_size, r.annual_revenue, r.country, r.state, r.city, r.postal_code,
               r.source, r.campaign, NULLIF(pg_catalog.btrim(r.external_id), ''),
               pg_catalog.concat((r.first_name IS NULL)::int, (r.last_name IS NULL)::int, (r.email IS NULL)::int,
                                 (r.phone IS NULL)::int, (r.company IS NULL)::int, (r.job_title IS NULL)::int,
                                 (r.industry IS NULL)::int, (r.company_size IS NULL)::int,
                                 (r.annual_revenue IS NULL)::int, (r.country IS NULL)::int,
                                 (r.state IS NULL)::int, (r.city IS NULL)::int, (r.postal_code IS NULL)::int,
                                 (r.source IS NULL)::int, (r.campaign IS NULL)::int),
               'o:' OPERATOR(pg_catalog.||) r.owner_rep_id, 'e:' OPERATOR(pg_catalog.||) r.owner_email,
               'c:' OPERATOR(pg_catalog.||) r.created_at, 's:' OPERATOR(pg_catalog.||) r.status,
               'g:' OPERATOR(pg_catalog.||) r.stage, 'a:' OPERATOR(pg_catalog.||) r.attributes))
$$;
COMMENT ON FUNCTION @extschema@.import_fingerprint(@extschema@.lead_imports) IS
    'md5 of a CSV row''s fields (lead_imports.fingerprint): process_import treats a row with the fingerprint of a row imported before as unchanged.';

-- rows imported before the update count as imported before
UPDATE @extschema@.lead_imports i SET fingerprint = @extschema@.import_fingerprint(i)
 WHERE i.error IS NULL AND i.lead_id IS NOT NULL;
-- leads captured from Meta and Google before the update keep their id there
-- (the first lead of each id; the pipeline is not run again for them)
ALTER TABLE @extschema@.leads DISABLE TRIGGER leads_pipeline;
UPDATE @extschema@.leads l SET external_id = x.external_id
  FROM (SELECT DISTINCT ON (k.org_id, k.source, k.external_id) k.org_id, k.lead_id, k.external_id
          FROM (SELECT l2.org_id, l2.lead_id, l2.source,
                       COALESCE(l2.attributes OPERATOR(pg_catalog.->>) 'leadgen_id',
                                l2.attributes OPERATOR(pg_catalog.->>) 'meta_lead_id',
                                l2.attributes OPERATOR(pg_catalog.->>) 'google_lead_id') AS external_id
                  FROM @extschema@.leads l2) k
         WHERE k.external_id IS NOT NULL
         ORDER BY k.org_id, k.source, k.external_id, k.lead_id) x
 WHERE l.org_id OPERATOR(pg_catalog.=) x.org_id AND l.lead_id OPERATOR(pg_catalog.=) x.lead_id;
ALTER TABLE @extschema@.leads ENABLE TRIGGER leads_pipeline;

-- A submission is stored once: the pipeline claims its (org, source,
-- external_id) here with INSERT ... ON CONFLICT DO NOTHING (as it claims an
-- email in lead_emails), so a replay, also a concurrent one, stores nothing.
CREATE TABLE @extschema@.lead_external_ids (
    org_id       bigint NOT NULL,
    source       text COLLATE "C" NOT NULL,
    external_id  text COLLATE "C" NOT NULL,
    lead_id      bigint NOT NULL,
    PRIMARY KEY (org_id, source, external_id)
);
COMMENT ON TABLE @extschema@.lead_external_ids IS 'Internal: the lead row each captured submission (org, source, external_id) was stored as; a replay of it stores nothing.';
COMMENT ON COLUMN @extschema@.lead_external_ids.source IS 'The lead''s source, canonical; empty when it has none.';
COMMENT ON COLUMN @extschema@.lead_external_ids.external_id IS 'leads.external_id.';
COMMENT ON COLUMN @extschema@.lead_external_ids.lead_id IS 'The lead row stored for it (its survivor when merged: survivor_of).';
SELECT pg_catalog.pg_extension_config_dump('leadflow.lead_external_ids', '');

INSERT INTO @extschema@.lead_external_ids (org_id, source, external_id, lead_id)
SELECT l.org_id, COALESCE(l.source, ''), l.external_id, l.lead_id FROM @extschema@.leads l
 WHERE l.external_id IS NOT NULL;

CREATE OR REPLACE FUNCTION @extschema@.capture(org_id bigint, source text, payload jsonb)
RETURNS TABLE (lead_id bigint, outcome text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    flat jsonb := leadflow.capture_flatten(payload);
    f jsonb := '{}';            -- leads column -> value
    attrs jsonb := flat -> '_extra';
    k text;
    v text;
    col text;
    full_name text;
    new_id bigint;
    new_status text;
    survivor bigint;
    issues jsonb := '{}';       -- field -> problem code (leads.data_issues)
    problem text;
    external text;              -- the submission's id at its source
    stored_source text;
    google_key text;
    submitted timestamptz;
    attr_keys text[] := '{}';   -- keys for attributes, gathered then added at once
    attr_values text[] := '{}';
    events_before bigint;
BEGIN
    -- Meta's leadgen_id (or the webhook's id), Google's lead_id, a form's external_id
    external := NULLIF(pg_catalog.btrim(COALESCE(
        payload ->> 'leadgen_id',
        CASE WHEN payload ? 'field_data' THEN payload ->> 'id' END,
        CASE WHEN payload ? 'user_column_data' THEN payload ->> 'lead_id' END,
        flat ->> 'external_id')), '');
    stored_source := leadflow.org_source(capture.org_id, capture.source);
    IF payload ? 'user_column_data' THEN
        -- Google Ads: the org's webhook key when it set one; test leads are not stored
        SELECT o.settings ->> 'google_ads_key' INTO google_key
          FROM leadflow.orgs o WHERE o.org_id OPERATOR(pg_catalog.=) capture.org_id;
        IF google_key IS NOT NULL AND (payload ->> 'google_key') IS DISTINCT FROM google_key THEN
            RAISE EXCEPTION 'capture payload google_key does not match the org''s google_ads_key'
                USING ERRCODE = 'invalid_authorization_specification',
                      HINT = 'Send the key set in the Google Ads lead form webhook; the org setting google_ads_key holds it.';
        END IF;
        IF pg_catalog.jsonb_typeof(payload -> 'is_test') = 'boolean' AND (payload ->> 'is_test')::boolean THEN
            lead_id := NULL;
            outcome := 'test';
            RETURN NEXT;
            RETURN;
        END IF;
    END IF;
    -- a submission captured before is not stored again
    SELECT leadflow.survivor_of(x.org_id, x.lead_id) INTO survivor
      FROM leadflow.lead_external_ids x
     WHERE external IS NOT NULL AND x.org_id OPERATOR(pg_catalog.=) capture.org_id
       AND x.source OPERATOR(pg_catalog.=) COALESCE(stored_source, '') AND x.external_id OPERATOR(pg_catalog.=) external;
    IF FOUND THEN
        lead_id := survivor;
        outcome := 'unchanged';
        RETURN NEXT;
        RETURN;
    END IF;

    FOR k, v IN SELECT e.key, e.value #>> '{}' FROM pg_catalog.jsonb_each(flat - '_extra') e LOOP
        col := leadflow.capture_column(capture.org_id, k);
        IF k = 'external_id' THEN
            CONTINUE;                                   -- the lead's external_id
        ELSIF col IS NULL OR NULLIF(pg_catalog.btrim(v), '') IS NULL THEN
            IF NULLIF(pg_catalog.btrim(v), '') IS NOT NULL THEN
                attr_keys := attr_keys || k;
                attr_values := attr_values || v;
            END IF;
        ELSIF col = 'full_name' THEN
            full_name := pg_catalog.btrim(v);
        ELSIF col IN ('company_size', 'annual_revenue') THEN
            -- "1,200", "$5M" read; "51-200" kept as typed with a data issue, not guessed
            problem := leadflow.number_problem(v, col = 'company_size');
            IF problem IS NOT NULL THEN
                attr_keys := attr_keys || k;
                attr_values := attr_values || v;
                IF NOT issues ? col THEN
                    issues := issues || pg_catalog.jsonb_build_object(col, problem);
                END IF;
            ELSIF NOT f ? col THEN
                f := f || pg_catalog.jsonb_build_object(col, leadflow.parse_number(v, col = 'company_size')::text);
            END IF;
        ELSIF NOT f ? col THEN
            f := f || pg_catalog.jsonb_build_object(col, pg_catalog.btrim(v));
        END IF;
    END LOOP;
    -- one object built once (appending key by key copied it per key)
    IF pg_catalog.cardinality(attr_keys) > 0 THEN
        attrs := attrs || (SELECT pg_catalog.jsonb_object_agg(a.k, a.v ORDER BY a.n)
                             FROM ROWS FROM (pg_catalog.unnest(attr_keys), pg_catalog.unnest(attr_values)) WITH ORDINALITY a(k, v, n));
    END IF;
    -- Meta's top-level campaign_name is the campaign; created_time is when
    -- the person submitted (ad_name, adset_name, form_id, platform stay in
    -- attributes); Google's google_key is not kept
    IF NOT f ? 'campaign' AND NULLIF(pg_catalog.btrim(attrs ->> 'campaign_name'), '') IS NOT NULL THEN
        f := f || pg_catalog.jsonb_build_object('campaign', pg_catalog.btrim(attrs ->> 'campaign_name'));
        attrs := attrs - 'campaign_name';
    END IF;
    IF (attrs ->> 'created_time') ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)$' THEN
        submitted := (attrs ->> 'created_time')::timestamptz;
        attrs := attrs - 'created_time';
    END IF;
    attrs := attrs - 'google_key';
    IF full_name IS NOT NULL AND NOT f ? 'first_name' AND NOT f ? 'last_name' THEN
        f := f || pg_catalog.jsonb_build_object('first_name', pg_catalog.split_part(full_name, ' ', 1),
                                     'last_name', NULLIF(pg_catalog.btrim(pg_catalog.substr(full_name, pg_catalog.length(pg_catalog.split_part(full_name, ' ', 1)) + 1)), ''));
    END IF;
    IF NOT f ? 'email' AND NOT f ? 'phone' THEN
        RAISE EXCEPTION 'capture payload has neither an email nor a phone field'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Send an email or phone field (e.g. "email", "phone_number", Google "EMAIL").';
    END IF;

    -- a reactivation by this insert is an event after the org's last one
    SELECT pg_catalog.max(e.event_id) INTO events_before
      FROM leadflow.events e WHERE e.org_id OPERATOR(pg_catalog.=) capture.org_id;
    INSERT INTO leadflow.leads (org_id, first_name, last_name, email, phone, company, job_title,
                                industry, company_size, annual_revenue, country, state, city,
                                postal_code, source, campaign, attributes, data_issues, external_id,
                                submitted_at)
    VALUES (capture.org_id, f ->> 'first_name', f ->> 'last_name', f ->> 'email', f ->> 'phone',
            f ->> 'company', f ->> 'job_title', f ->> 'industry', (f ->> 'company_size')::integer,
            (f ->> 'annual_revenue')::numeric, f ->> 'country', f ->> 'state', f ->> 'city',
            f ->> 'postal_code', capture.source, f ->> 'campaign', attrs,
            NULLIF(issues, '{}'), external, submitted)
    RETURNING leads.lead_id, leads.status, leads.merged_into INTO new_id, new_status, survivor;
    IF new_id IS NULL THEN
        -- the pipeline stored nothing: a concurrent session captured it first
        SELECT leadflow.survivor_of(x.org_id, x.lead_id) INTO survivor
          FROM leadflow.lead_external_ids x
         WHERE x.org_id OPERATOR(pg_catalog.=) capture.org_id
           AND x.source OPERATOR(pg_catalog.=) COALESCE(stored_source, '') AND x.external_id OPERATOR(pg_catalog.=) external;
        lead_id := survivor;
        outcome := 'unchanged';
        RETURN NEXT;
        RETURN;
    END IF;

    lead_id := COALESCE(survivor, new_id);
    outcome := CASE WHEN new_status <> 'merged' THEN 'created'
                    WHEN EXISTS (SELECT FROM leadflow.events e
                                  WHERE e.org_id OPERATOR(pg_catalog.=) capture.org_id
                                    AND e.event_id OPERATOR(pg_catalog.>) COALESCE(events_before, 0)
                                    AND e.event OPERATOR(pg_catalog.=) 'reactivated'
                                    AND e.lead_id OPERATOR(pg_catalog.=) survivor) THEN 'reactivated'
                    ELSE 'merged' END;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION @extschema@.capture(bigint, text, jsonb) IS
    'Captures a lead from a web form (flat object), Meta Lead Ads (field_data) or Google Ads (user_column_data) payload; returns the live lead and whether it was created, merged into an existing one, reactivated (merged into an archived or unqualified lead, which it reopened), test (a Google test lead, not stored) or unchanged (a submission with the same source and external id, Meta leadgen_id/id, Google lead_id or external_id, was captured before: nothing is stored).';

-- process_import returns an unchanged count too: a new result type
DROP FUNCTION @extschema@.process_import(bigint, bigint);
CREATE FUNCTION @extschema@.process_import(org_id bigint, batch_id bigint)
RETURNS TABLE (created integer, merged integer, rejected integer, unchanged integer)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    region text;
    -- looked up once: a catalog lookup per row in the nextval below costs
    lead_seq regclass := pg_catalog.pg_get_serial_sequence('leadflow.leads', 'lead_id')::regclass;
BEGIN
    IF process_import.org_id IS NULL OR process_import.batch_id IS NULL THEN
        RAISE EXCEPTION 'process_import needs an org_id and a batch_id, got org_id % and batch_id %',
            COALESCE(process_import.org_id::text, 'NULL'), COALESCE(process_import.batch_id::text, 'NULL')
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM leadflow.check_org_access(process_import.org_id);
    SELECT COALESCE(o.settings ->> 'default_region', 'US') INTO region
      FROM leadflow.orgs o WHERE o.org_id OPERATOR(pg_catalog.=) process_import.org_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'org % does not exist', process_import.org_id USING ERRCODE = 'foreign_key_violation';
    END IF;

    -- take the batch: a second process_import of it waits, then finds it done
    PERFORM FROM leadflow.lead_imports i
      WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
        AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
        AND i.processed_at IS NULL
      FOR UPDATE;
    IF NOT FOUND AND NOT EXISTS (SELECT FROM leadflow.lead_imports i
                                  WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
                                    AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id) THEN
        RAISE EXCEPTION 'import batch % of org % not found', process_import.batch_id, process_import.org_id
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The rows of one \copy share a batch_id: SELECT batch_id, count(*) FROM leadflow.lead_imports WHERE processed_at IS NULL GROUP BY 1.';
    END IF;

    -- a row is rejected only when no usable email or phone remains; an
    -- unusable optional value is kept and noted (leads.data_issues)
    UPDATE leadflow.lead_imports i
       SET error = c.error,
           processed_at = pg_catalog.now(),
           -- Re-importing changes nothing: a row whose source and
           -- external_id are stored, or with the fields of a row imported
           -- before (its fingerprint), or repeating an earlier row of the
           -- batch, is unchanged.  Set in the same pass as the error (each
           -- pass writes every row of the batch again).
           external_id = CASE WHEN c.error IS NULL THEN NULLIF(pg_catalog.btrim(i.external_id), '') ELSE i.external_id END,
           -- import_fingerprint(i), written out: a function call per row costs
           fingerprint = CASE WHEN c.error IS NULL THEN pg_catalog.md5(pg_catalog.concat_ws(pg_catalog.chr(31),
                   i.first_name, i.last_name, i.email, i.phone, i.company, i.job_title, i.industry,
                   i.company_size, i.annual_revenue, i.country, i.state, i.city, i.postal_code,
                   i.source, i.campaign, NULLIF(pg_catalog.btrim(i.external_id), ''),
                   pg_catalog.concat((i.first_name IS NULL)::int, (i.last_name IS NULL)::int, (i.email IS NULL)::int,
                                     (i.phone IS NULL)::int, (i.company IS NULL)::int, (i.job_title IS NULL)::int,
                                     (i.industry IS NULL)::int, (i.company_size IS NULL)::int,
                                     (i.annual_revenue IS NULL)::int, (i.country IS NULL)::int,
                                     (i.state IS NULL)::int, (i.city IS NULL)::int, (i.postal_code IS NULL)::int,
                                     (i.source IS NULL)::int, (i.campaign IS NULL)::int),
               'o:' OPERATOR(pg_catalog.||) i.owner_rep_id, 'e:' OPERATOR(pg_catalog.||) i.owner_email,
               'c:' OPERATOR(pg_catalog.||) i.created_at, 's:' OPERATOR(pg_catalog.||) i.status,
               'g:' OPERATOR(pg_catalog.||) i.stage, 'a:' OPERATOR(pg_catalog.||) i.attributes)) END
      FROM (SELECT r.row_number,
                   COALESCE(leadflow.contact_problem(r.email, r.phone, r.country, region),
                            CASE WHEN NULLIF(pg_catalog.btrim(r.status), '') IS NOT NULL
                                   OR NULLIF(pg_catalog.btrim(r.stage), '') IS NOT NULL
                                 THEN leadflow.import_place_problem(r.org_id, r.status, r.stage) END) AS error
              FROM leadflow.lead_imports r
             WHERE r.org_id OPERATOR(pg_catalog.=) process_import.org_id
               AND r.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
               AND r.processed_at IS NULL) c
     WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
       AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
       AND i.row_number OPERATOR(pg_catalog.=) c.row_number;

    -- stored before: by the claim of its external_id, or a row of an
    -- earlier batch with the same fields (set-based: hash joins, no
    -- search per row)
    UPDATE leadflow.lead_imports i
       SET unchanged = true, lead_id = leadflow.survivor_of(x.org_id, x.lead_id)
      FROM leadflow.lead_external_ids x
     WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
       AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
       AND i.error IS NULL AND i.lead_id IS NULL AND i.external_id IS NOT NULL
       AND x.org_id OPERATOR(pg_catalog.=) i.org_id
       AND x.source OPERATOR(pg_catalog.=) COALESCE(leadflow.org_source(i.org_id,
               COALESCE(NULLIF(pg_catalog.btrim(i.source), ''), 'csv_import')), '')
       AND x.external_id OPERATOR(pg_catalog.=) i.external_id;
    UPDATE leadflow.lead_imports i
       SET unchanged = true, lead_id = leadflow.survivor_of(i.org_id, h.lead_id)
      FROM (SELECT DISTINCT ON (p.fingerprint) p.fingerprint, p.lead_id
              FROM leadflow.lead_imports p
             WHERE p.org_id OPERATOR(pg_catalog.=) process_import.org_id
               AND p.batch_id OPERATOR(pg_catalog.<>) process_import.batch_id
               AND p.fingerprint IS NOT NULL AND p.lead_id IS NOT NULL
             ORDER BY p.fingerprint, p.batch_id, p.row_number) h
     WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
       AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
       AND i.error IS NULL AND i.lead_id IS NULL
       AND i.fingerprint OPERATOR(pg_catalog.=) h.fingerprint;

    -- a repeat of an earlier row of the batch (same fields, or the same
    -- source and external_id): one pass with window functions
    IF pg_catalog.to_regclass('pg_temp.leadflow_import_repeats') IS NULL THEN
        CREATE TEMP TABLE leadflow_import_repeats (row_number bigint PRIMARY KEY, first_row bigint NOT NULL)
            ON COMMIT DROP;
    END IF;
    TRUNCATE pg_temp.leadflow_import_repeats;
    INSERT INTO pg_temp.leadflow_import_repeats (row_number, first_row)
    SELECT w.row_number, LEAST(w.first_fp, COALESCE(w.first_ext, w.first_fp))
      FROM (SELECT e.row_number,
                   pg_catalog.min(e.row_number) OVER (PARTITION BY e.fingerprint) AS first_fp,
                   CASE WHEN e.external_id IS NOT NULL
                        THEN pg_catalog.min(e.row_number) OVER (PARTITION BY e.source, e.external_id) END AS first_ext
              FROM (SELECT i.row_number, i.fingerprint, i.external_id,
                           CASE WHEN i.external_id IS NOT NULL
                                THEN leadflow.org_source(i.org_id, COALESCE(NULLIF(pg_catalog.btrim(i.source), ''), 'csv_import'))
                           END AS source
                      FROM leadflow.lead_imports i
                     WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
                       AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
                       AND i.error IS NULL AND (i.lead_id IS NULL OR i.unchanged)) e) w
     WHERE LEAST(w.first_fp, COALESCE(w.first_ext, w.first_fp)) OPERATOR(pg_catalog.<) w.row_number;
    UPDATE leadflow.lead_imports i SET unchanged = true
      FROM pg_temp.leadflow_import_repeats r
     WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
       AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
       AND i.row_number OPERATOR(pg_catalog.=) r.row_number AND i.lead_id IS NULL;

    UPDATE leadflow.lead_imports i
       SET lead_id = pg_catalog.nextval(lead_seq)
     WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
       AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
       AND i.error IS NULL AND i.lead_id IS NULL AND NOT i.unchanged;

    -- company_size and annual_revenue as people type them ("1,200",
    -- "$5M"); what cannot be read stays as typed in attributes, noted.
    -- A migration's owner is kept (the pipeline does not route the lead),
    -- its status or stage too (checked above); custom fields go to
    -- attributes.  The migration columns are read only where given.
    INSERT INTO leadflow.leads (org_id, lead_id, first_name, last_name, email, phone, company, job_title,
                                industry, company_size, annual_revenue, country, state, city,
                                postal_code, source, campaign, attributes, data_issues, external_id,
                                owner_rep_id, status, stage_id)
    SELECT i.org_id, i.lead_id, i.first_name, i.last_name, i.email, i.phone, i.company, i.job_title,
           i.industry, leadflow.parse_number(i.company_size, true)::integer, leadflow.parse_number(i.annual_revenue),
           i.country, i.state, i.city, i.postal_code, COALESCE(NULLIF(pg_catalog.btrim(i.source), ''), 'csv_import'), i.campaign,
           COALESCE(m.custom, '{}') OPERATOR(pg_catalog.||)
           CASE WHEN p.size_problem IS NULL AND p.revenue_problem IS NULL THEN '{}'::jsonb
                ELSE pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                         'company_size', CASE WHEN p.size_problem IS NOT NULL THEN i.company_size END,
                         'annual_revenue', CASE WHEN p.revenue_problem IS NOT NULL THEN i.annual_revenue END)) END,
           CASE WHEN COALESCE(p.size_problem, p.revenue_problem, m.owner_problem, m.created_problem, m.custom_problem) IS NOT NULL
                THEN pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                         'company_size', p.size_problem, 'annual_revenue', p.revenue_problem,
                         'owner', m.owner_problem, 'created_at', m.created_problem, 'attributes', m.custom_problem)) END,
           i.external_id, m.owner_rep_id, COALESCE(m.status, 'new'), m.stage_id
      FROM leadflow.lead_imports i
     CROSS JOIN LATERAL (SELECT leadflow.number_problem(i.company_size, true) AS size_problem,
                                leadflow.number_problem(i.annual_revenue) AS revenue_problem) p
     CROSS JOIN LATERAL (
           SELECT CASE WHEN o.given AND o.rep_id IS NULL THEN 'unknown' END AS owner_problem, o.rep_id AS owner_rep_id,
                  CASE WHEN c.given AND c.at IS NULL THEN 'not_a_date'
                       WHEN c.at OPERATOR(pg_catalog.>) pg_catalog.now() THEN 'in_future' END AS created_problem,
                  CASE WHEN a.given AND pg_catalog.jsonb_typeof(a.value) IS DISTINCT FROM 'object' THEN 'not_an_object' END AS custom_problem,
                  CASE WHEN NOT a.given THEN NULL
                       WHEN pg_catalog.jsonb_typeof(a.value) = 'object' THEN a.value
                       ELSE pg_catalog.jsonb_build_object('attributes', i.attributes) END AS custom,
                  pg_catalog.lower(NULLIF(pg_catalog.btrim(i.status), '')) AS status,
                  CASE WHEN NULLIF(pg_catalog.btrim(i.stage), '') IS NOT NULL
                       THEN leadflow.import_stage(i.org_id, i.stage) END AS stage_id
             FROM (SELECT NULLIF(pg_catalog.btrim(i.owner_rep_id), '') IS NOT NULL
                          OR NULLIF(pg_catalog.btrim(i.owner_email), '') IS NOT NULL AS given,
                          CASE WHEN NULLIF(pg_catalog.btrim(i.owner_rep_id), '') IS NOT NULL
                                 OR NULLIF(pg_catalog.btrim(i.owner_email), '') IS NOT NULL THEN
                              (SELECT r.rep_id FROM leadflow.reps r
                                WHERE r.org_id OPERATOR(pg_catalog.=) i.org_id
                                  AND CASE WHEN NULLIF(pg_catalog.btrim(i.owner_rep_id), '') IS NOT NULL
                                           THEN r.rep_id::text OPERATOR(pg_catalog.=) pg_catalog.btrim(i.owner_rep_id)
                                           ELSE pg_catalog.lower(r.email) OPERATOR(pg_catalog.=) pg_catalog.lower(pg_catalog.btrim(i.owner_email)) END
                                ORDER BY r.active DESC, r.rep_id LIMIT 1) END AS rep_id) o,
                  (SELECT NULLIF(pg_catalog.btrim(i.created_at), '') IS NOT NULL AS given,
                          CASE WHEN NULLIF(pg_catalog.btrim(i.created_at), '') IS NOT NULL
                               THEN leadflow.import_timestamp(i.created_at) END AS at) c,
                  (SELECT NULLIF(pg_catalog.btrim(i.attributes), '') IS NOT NULL AS given,
                          CASE WHEN NULLIF(pg_catalog.btrim(i.attributes), '') IS NOT NULL
                               THEN leadflow.import_json(i.attributes) END AS value) a) m
     WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
       AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
       AND i.error IS NULL AND NOT i.unchanged
       AND NOT EXISTS (SELECT FROM leadflow.leads l
                        WHERE l.org_id OPERATOR(pg_catalog.=) i.org_id AND l.lead_id OPERATOR(pg_catalog.=) i.lead_id)
     -- the pipeline claims emails (then phones) in the order of the rows:
     -- one order for every batch, so two imports sharing addresses in
     -- different file orders wait for each other instead of deadlocking
     -- (the key is computed only where normalizing cannot fail; a phone is
     -- read, which costs, only for a row without a usable email)
     ORDER BY COALESCE(CASE WHEN leadflow.contact_problem(i.email, NULL, NULL) IS NULL
                            THEN leadflow.normalize_email(i.email) END,
                       CASE WHEN leadflow.contact_problem(NULL, i.phone, NULL, region) IS NULL
                            THEN leadflow.normalize_phone(i.phone, region) END) COLLATE pg_catalog."C",
              i.row_number;

    -- A migrated lead keeps its past created_at.  Its clocks start at the
    -- import: the SLA's at assigned_at (set by the insert), inactivity
    -- decay and cold archiving at last_activity_at (else they would count
    -- from the old date and archive or decay the backlog at once).
    UPDATE leadflow.leads l
       SET created_at = c.at, last_activity_at = COALESCE(l.last_activity_at, l.created_at)
      FROM (SELECT i.lead_id, leadflow.import_timestamp(i.created_at) AS at
              FROM leadflow.lead_imports i
             WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
               AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
               AND i.error IS NULL AND NOT i.unchanged
               AND NULLIF(pg_catalog.btrim(i.created_at), '') IS NOT NULL) c
     WHERE l.org_id OPERATOR(pg_catalog.=) process_import.org_id AND l.lead_id OPERATOR(pg_catalog.=) c.lead_id
       AND l.merged_into IS NULL AND c.at OPERATOR(pg_catalog.<) l.created_at;

    -- a repeat within the batch is the lead of the row it repeats
    UPDATE leadflow.lead_imports i
       SET lead_id = leadflow.survivor_of(f.org_id, f.lead_id)
      FROM pg_temp.leadflow_import_repeats r
      JOIN leadflow.lead_imports f ON f.org_id OPERATOR(pg_catalog.=) process_import.org_id
                                  AND f.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
                                  AND f.row_number OPERATOR(pg_catalog.=) r.first_row
     WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
       AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
       AND i.row_number OPERATOR(pg_catalog.=) r.row_number
       AND i.unchanged AND i.lead_id IS NULL;
    TRUNCATE pg_temp.leadflow_import_repeats;

    RETURN QUERY
    SELECT pg_catalog.count(*) FILTER (WHERE l.status <> 'merged' AND NOT i.unchanged)::integer,
           pg_catalog.count(*) FILTER (WHERE l.status = 'merged' AND NOT i.unchanged)::integer,
           (pg_catalog.count(*) FILTER (WHERE i.error IS NOT NULL))::integer,
           (pg_catalog.count(*) FILTER (WHERE i.unchanged))::integer
      FROM leadflow.lead_imports i
      LEFT JOIN leadflow.leads l ON l.org_id OPERATOR(pg_catalog.=) i.org_id AND l.lead_id OPERATOR(pg_catalog.=) i.lead_id
     WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
       AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id;
END
$$;
COMMENT ON FUNCTION @extschema@.process_import(bigint, bigint) IS
    'Moves every valid row of an import batch through the lead pipeline; rejected rows (no usable email or phone) keep their error; a row imported before (same source and external_id, or the same fields as a row of any earlier batch, or a repeat within the batch) is unchanged and stores nothing. Returns counts for the whole batch. 22023 when the batch does not exist.';

-- What was typed but could not be used, per field and problem
CREATE VIEW @extschema@.report_data_quality WITH (security_invoker = true) AS
SELECT l.org_id, d.key AS field, d.value #>> '{}' AS problem,
       pg_catalog.count(*) FILTER (WHERE l.merged_into IS NULL) AS leads,
       pg_catalog.count(*) AS captured
  FROM leadflow.leads l
 CROSS JOIN LATERAL pg_catalog.jsonb_each(l.data_issues) d
 WHERE l.data_issues IS NOT NULL AND l.erased_at IS NULL
 GROUP BY l.org_id, d.key, d.value #>> '{}';
COMMENT ON VIEW @extschema@.report_data_quality IS 'Per org, field and problem code: the leads whose typed value was kept but could not be used (leads.data_issues), e.g. phone not_a_number, company_size range.';
COMMENT ON COLUMN @extschema@.report_data_quality.org_id IS 'Org.';
COMMENT ON COLUMN @extschema@.report_data_quality.field IS 'The field: email, phone, company_size, annual_revenue, ...';
COMMENT ON COLUMN @extschema@.report_data_quality.problem IS 'The problem code, e.g. not_a_number, vanity_number, missing_at, range, ambiguous.';
COMMENT ON COLUMN @extschema@.report_data_quality.leads IS 'Live leads (not merged, not erased) with this problem.';
COMMENT ON COLUMN @extschema@.report_data_quality.captured IS 'Rows captured with this problem, duplicates merged into another lead included (erased leads not counted).';

-- Volume by the day the person submitted (Meta created_time), when known
CREATE OR REPLACE VIEW @extschema@.report_lead_volume WITH (security_invoker = true) AS
SELECT l.org_id,
       pg_catalog.timezone('UTC', COALESCE(l.submitted_at, l.created_at))::date AS day,
       l.source,
       pg_catalog.count(*) FILTER (WHERE l.merged_into IS NULL) AS leads,
       pg_catalog.count(*) FILTER (WHERE l.status = 'merged') AS duplicates,
       pg_catalog.count(*) AS captured
  FROM leadflow.leads l
 GROUP BY l.org_id, pg_catalog.timezone('UTC', COALESCE(l.submitted_at, l.created_at))::date, l.source;
COMMENT ON VIEW @extschema@.report_lead_volume IS 'Leads captured per org, day (UTC) and source: live leads and duplicates.';
COMMENT ON COLUMN @extschema@.report_lead_volume.org_id IS 'Org.';
COMMENT ON COLUMN @extschema@.report_lead_volume.day IS 'Day the rows were submitted: the date of submitted_at (when the source says, e.g. Meta created_time), else of created_at, in UTC, whatever the session time zone.';
COMMENT ON COLUMN @extschema@.report_lead_volume.source IS 'Lead source (NULL when none was given).';
COMMENT ON COLUMN @extschema@.report_lead_volume.leads IS 'Live leads captured that day from that source (not merged, not erased).';
COMMENT ON COLUMN @extschema@.report_lead_volume.duplicates IS 'Rows captured that day from that source that were stored merged into an earlier lead (status merged), erased or not.';
COMMENT ON COLUMN @extschema@.report_lead_volume.captured IS 'Every row captured that day from that source: live leads, duplicates and erased leads.';

CREATE OR REPLACE FUNCTION @extschema@.org_check_settings()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k text;
    v jsonb;
BEGIN
    IF pg_catalog.jsonb_typeof(NEW.settings) <> 'object' THEN
        RAISE EXCEPTION 'org settings must be a JSON object, not %', pg_catalog.jsonb_typeof(NEW.settings)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR k, v IN SELECT * FROM pg_catalog.jsonb_each(NEW.settings) LOOP
        IF k = 'default_region' THEN
            -- a region libphonenumber knows (it reads national numbers with it)
            IF pg_catalog.jsonb_typeof(v) <> 'string' OR (v OPERATOR(pg_catalog.#>>) '{}') !~ '^[A-Z]{2}$'
               OR leadflow.contact_problem(NULL, '+12025550100', NULL, v OPERATOR(pg_catalog.#>>) '{}') IS NOT NULL THEN
                RAISE EXCEPTION 'invalid org setting "default_region": %', v
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'Use an upper-case ISO 3166 region code with a telephone numbering plan, such as "US" or "DE".';
            END IF;
        ELSIF k IN ('nurture_after_attempts', 'account_hot_at') THEN
            IF pg_catalog.jsonb_typeof(v) <> 'number' OR (v OPERATOR(pg_catalog.#>>) '{}') !~ '^[0-9]+$'
               OR (v OPERATOR(pg_catalog.#>>) '{}')::numeric NOT BETWEEN 1 AND 1000000 THEN
                RAISE EXCEPTION 'invalid org setting "%": %', k, v
                    USING ERRCODE = 'invalid_parameter_value', HINT = 'Use a whole number from 1 to 1000000.';
            END IF;
        ELSIF k = 'nurture_schedule' THEN
            IF pg_catalog.jsonb_typeof(v) <> 'object' OR v OPERATOR(pg_catalog.=) '{}'::jsonb OR EXISTS (
                   SELECT FROM pg_catalog.jsonb_each(v) e
                    WHERE pg_catalog.jsonb_typeof(e.value) <> 'number' OR (e.value OPERATOR(pg_catalog.#>>) '{}') !~ '^[0-9]+$'
                       OR (e.value OPERATOR(pg_catalog.#>>) '{}')::numeric > 3650
                       OR pg_catalog.length(e.key) NOT BETWEEN 1 AND 100) THEN
                RAISE EXCEPTION 'invalid org setting "nurture_schedule": %', v
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'Use an object of step name to days after entering nurture (0 to 3650), e.g. {"welcome": 0, "educational": 7}.';
            END IF;
        ELSIF k IN ('named_account_routing', 'company_affinity_routing', 'convert_on_qualified',
                    'require_bant_for_qualified', 'nurture_requires_consent') THEN
            IF pg_catalog.jsonb_typeof(v) <> 'boolean' THEN
                RAISE EXCEPTION 'invalid org setting "%": %', k, v
                    USING ERRCODE = 'invalid_parameter_value', HINT = 'Use true or false.';
            END IF;
        ELSIF k = 'google_ads_key' THEN
            -- the key Google Ads lead form webhooks send (capture() checks it)
            IF pg_catalog.jsonb_typeof(v) <> 'string' OR pg_catalog.length(v OPERATOR(pg_catalog.#>>) '{}') NOT BETWEEN 1 AND 1000 THEN
                RAISE EXCEPTION 'invalid org setting "google_ads_key"'
                    USING ERRCODE = 'invalid_parameter_value', HINT = 'Use the webhook key of the Google Ads lead form, a non-empty string.';
            END IF;
        ELSE
            RAISE EXCEPTION 'unknown org setting "%"', k
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Known settings: default_region, named_account_routing, company_affinity_routing, convert_on_qualified, require_bant_for_qualified, nurture_after_attempts, nurture_schedule, nurture_requires_consent, account_hot_at, google_ads_key.';
        END IF;
    END LOOP;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.org_check_settings() IS 'Trigger: refuses unknown or ill-typed org settings.';


REVOKE EXECUTE ON FUNCTION @extschema@.erase_lead(bigint, text) FROM PUBLIC;

-- a database under tenant isolation keeps it: the new table gets the policy too
SELECT @extschema@.enable_tenant_isolation()
 WHERE EXISTS (SELECT FROM pg_catalog.pg_class c
                WHERE c.relname OPERATOR(pg_catalog.=) 'leads' AND c.relrowsecurity
                  AND c.relnamespace OPERATOR(pg_catalog.=) (SELECT e.extnamespace FROM pg_catalog.pg_extension e
                                                               WHERE e.extname OPERATOR(pg_catalog.=) 'leadflow'));

------------------------------------------------------------------------------
-- Functions that several issues of 0.2.0 changed: their final form, as in
-- the install parts (each issue's section above replaced it with its own
-- change only)
------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION @extschema@.org_check_settings()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k text;
    v jsonb;
    ok boolean;
BEGIN
    IF pg_catalog.jsonb_typeof(NEW.settings) <> 'object' THEN
        RAISE EXCEPTION 'org settings must be a JSON object, not %', pg_catalog.jsonb_typeof(NEW.settings)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR k, v IN SELECT * FROM pg_catalog.jsonb_each(NEW.settings) LOOP
        IF k = 'default_region' THEN
            -- a region libphonenumber knows (it reads national numbers with it)
            IF pg_catalog.jsonb_typeof(v) <> 'string' OR (v OPERATOR(pg_catalog.#>>) '{}') !~ '^[A-Z]{2}$'
               OR leadflow.contact_problem(NULL, '+12025550100', NULL, v OPERATOR(pg_catalog.#>>) '{}') IS NOT NULL THEN
                RAISE EXCEPTION 'invalid org setting "default_region": %', v
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'Use an upper-case ISO 3166 region code with a telephone numbering plan, such as "US" or "DE".';
            END IF;
        ELSIF k IN ('nurture_after_attempts', 'account_hot_at') THEN
            IF pg_catalog.jsonb_typeof(v) <> 'number' OR (v OPERATOR(pg_catalog.#>>) '{}') !~ '^[0-9]+$'
               OR (v OPERATOR(pg_catalog.#>>) '{}')::numeric NOT BETWEEN 1 AND 1000000 THEN
                RAISE EXCEPTION 'invalid org setting "%": %', k, v
                    USING ERRCODE = 'invalid_parameter_value', HINT = 'Use a whole number from 1 to 1000000.';
            END IF;
        ELSIF k = 'nurture_schedule' THEN
            IF pg_catalog.jsonb_typeof(v) <> 'object' OR v OPERATOR(pg_catalog.=) '{}'::jsonb OR EXISTS (
                   SELECT FROM pg_catalog.jsonb_each(v) e
                    WHERE pg_catalog.jsonb_typeof(e.value) <> 'number' OR (e.value OPERATOR(pg_catalog.#>>) '{}') !~ '^[0-9]+$'
                       OR (e.value OPERATOR(pg_catalog.#>>) '{}')::numeric > 3650
                       OR pg_catalog.length(e.key) NOT BETWEEN 1 AND 100) THEN
                RAISE EXCEPTION 'invalid org setting "nurture_schedule": %', v
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'Use an object of step name to days after entering nurture (0 to 3650), e.g. {"welcome": 0, "educational": 7}.';
            END IF;
        ELSIF k = 'event_retention' THEN
            BEGIN
                ok := pg_catalog.jsonb_typeof(v) = 'string'
                      AND (v OPERATOR(pg_catalog.#>>) '{}')::interval BETWEEN '1 hour'::interval AND '10 years'::interval;
            EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR interval_field_overflow THEN
                ok := false;
            END;
            IF NOT ok THEN
                RAISE EXCEPTION 'invalid org setting "event_retention": %', v
                    USING ERRCODE = 'invalid_parameter_value',
                          HINT = 'Use an interval from 1 hour to 10 years, such as "30 days".';
            END IF;
        ELSIF k IN ('named_account_routing', 'company_affinity_routing', 'convert_on_qualified',
                    'require_bant_for_qualified', 'nurture_requires_consent', 'dedup_on_phone') THEN
            IF pg_catalog.jsonb_typeof(v) <> 'boolean' THEN
                RAISE EXCEPTION 'invalid org setting "%": %', k, v
                    USING ERRCODE = 'invalid_parameter_value', HINT = 'Use true or false.';
            END IF;
        ELSIF k = 'google_ads_key' THEN
            -- the key Google Ads lead form webhooks send (capture() checks it)
            IF pg_catalog.jsonb_typeof(v) <> 'string' OR pg_catalog.length(v OPERATOR(pg_catalog.#>>) '{}') NOT BETWEEN 1 AND 1000 THEN
                RAISE EXCEPTION 'invalid org setting "google_ads_key"'
                    USING ERRCODE = 'invalid_parameter_value', HINT = 'Use the webhook key of the Google Ads lead form, a non-empty string.';
            END IF;
        ELSE
            RAISE EXCEPTION 'unknown org setting "%"', k
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Known settings: default_region, named_account_routing, company_affinity_routing, convert_on_qualified, require_bant_for_qualified, nurture_after_attempts, nurture_schedule, nurture_requires_consent, account_hot_at, event_retention, dedup_on_phone, google_ads_key.';
        END IF;
    END LOOP;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.org_check_settings() IS 'Trigger: refuses unknown or ill-typed org settings.';

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
    words text[];
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

    -- the words of their names and companies (leads.search_words)
    SELECT pg_catalog.array_agg(DISTINCT w) INTO words
      FROM leadflow.leads x, pg_catalog.unnest(x.search_words) w
     WHERE x.org_id OPERATOR(pg_catalog.=) l.org_id AND x.lead_id OPERATOR(pg_catalog.=) ANY (ids);

    -- an account that only the person's conversion made (no other lead,
    -- contact or opportunity refers to it) is named after them: it keeps
    -- its id and owner, and loses its name and domain
    UPDATE leadflow.accounts a
       SET name = 'Account ' OPERATOR(pg_catalog.||) a.account_id, domain = NULL
     WHERE a.org_id OPERATOR(pg_catalog.=) l.org_id
       AND a.account_id IN (SELECT c.account_id FROM leadflow.contacts c
                             WHERE c.org_id OPERATOR(pg_catalog.=) l.org_id AND c.lead_id OPERATOR(pg_catalog.=) ANY (ids))
       AND NOT EXISTS (SELECT FROM leadflow.contacts c
                        WHERE c.org_id OPERATOR(pg_catalog.=) a.org_id AND c.account_id OPERATOR(pg_catalog.=) a.account_id
                          AND (c.lead_id IS NULL OR c.lead_id OPERATOR(pg_catalog.<>) ALL (ids)))
       AND NOT EXISTS (SELECT FROM leadflow.opportunities o
                        WHERE o.org_id OPERATOR(pg_catalog.=) a.org_id AND o.account_id OPERATOR(pg_catalog.=) a.account_id
                          AND (o.lead_id IS NULL OR o.lead_id OPERATOR(pg_catalog.<>) ALL (ids)))
       AND NOT EXISTS (SELECT FROM leadflow.leads y
                        WHERE y.org_id OPERATOR(pg_catalog.=) a.org_id AND y.lead_id OPERATOR(pg_catalog.<>) ALL (ids)
                          AND (y.account_id OPERATOR(pg_catalog.=) a.account_id
                               OR y.company_domain OPERATOR(pg_catalog.=) a.domain));

    -- a company domain no other lead and no account of the org has is the
    -- person's own (a family or personal domain); the company name and job
    -- title describe the person too.  Status, stage, dates, source and
    -- scores stay: reports keep counting the lead (conversions included).
    UPDATE leadflow.leads x
       SET first_name = NULL, last_name = NULL, email = NULL, phone = NULL,
           email_normalized = NULL, phone_e164 = NULL, state = NULL, city = NULL, postal_code = NULL,
           company = NULL, job_title = NULL,
           attributes = '{}', external_id = NULL, archive_reason = NULL, erased_at = pg_catalog.now(),
           company_domain = CASE WHEN EXISTS (SELECT FROM leadflow.leads y
                                               WHERE y.org_id OPERATOR(pg_catalog.=) x.org_id
                                                 AND y.company_domain OPERATOR(pg_catalog.=) x.company_domain
                                                 AND y.lead_id OPERATOR(pg_catalog.<>) ALL (ids))
                                   OR EXISTS (SELECT FROM leadflow.accounts a
                                               WHERE a.org_id OPERATOR(pg_catalog.=) x.org_id
                                                 AND a.domain OPERATOR(pg_catalog.=) x.company_domain)
                                 THEN x.company_domain END
     WHERE x.org_id OPERATOR(pg_catalog.=) l.org_id AND x.lead_id OPERATOR(pg_catalog.=) ANY (ids);
    -- the org's words no other lead holds go too (lead search finds no
    -- one by them; none stays in lead_words)
    IF words IS NOT NULL THEN
        PERFORM leadflow.prune_search_words(l.org_id, words);
    END IF;
    UPDATE leadflow.lead_signals s SET properties = '{}'
     WHERE s.org_id OPERATOR(pg_catalog.=) l.org_id AND s.lead_id OPERATOR(pg_catalog.=) ANY (ids);
    UPDATE leadflow.activities a SET subject = NULL, notes = NULL
     WHERE a.org_id OPERATOR(pg_catalog.=) l.org_id AND a.lead_id OPERATOR(pg_catalog.=) ANY (ids);
    UPDATE leadflow.contacts c SET first_name = NULL, last_name = NULL, email = NULL, phone = NULL, job_title = NULL
     WHERE c.org_id OPERATOR(pg_catalog.=) l.org_id AND c.lead_id OPERATOR(pg_catalog.=) ANY (ids);
    -- an opportunity is a fact (amount, stage, owner): only its name goes
    UPDATE leadflow.opportunities o SET name = 'Opportunity ' OPERATOR(pg_catalog.||) o.opportunity_id
     WHERE o.org_id OPERATOR(pg_catalog.=) l.org_id AND o.lead_id OPERATOR(pg_catalog.=) ANY (ids);
    -- a consent stays (when, which channel, on what basis); where it was
    -- given is free text
    UPDATE leadflow.consents c SET source = NULL
     WHERE c.org_id OPERATOR(pg_catalog.=) l.org_id AND c.lead_id OPERATOR(pg_catalog.=) ANY (ids)
       AND c.source IS NOT NULL;
    -- the import rows of the person, also rejected ones (no lead_id); a
    -- rejection message names the value, so it goes too
    UPDATE leadflow.lead_imports i
       SET first_name = NULL, last_name = NULL, email = NULL, phone = NULL, state = NULL,
           city = NULL, postal_code = NULL, external_id = NULL, fingerprint = NULL,
           error = CASE WHEN i.error IS NOT NULL THEN 'erased' END
     WHERE i.org_id OPERATOR(pg_catalog.=) l.org_id
       AND (i.lead_id OPERATOR(pg_catalog.=) ANY (ids)
            OR pg_catalog.lower(pg_catalog.btrim(i.email)) OPERATOR(pg_catalog.=) ANY (emails)
            OR EXISTS (SELECT FROM (SELECT pg_catalog.ltrim(pg_catalog.regexp_replace(i.phone, '[^0-9]', '', 'g'), '0') AS d) z,
                                   pg_catalog.unnest(phones) p
                        WHERE pg_catalog.length(z.d) OPERATOR(pg_catalog.>=) 6
                          AND p OPERATOR(pg_catalog.~~) ('%' OPERATOR(pg_catalog.||) z.d)));
    DELETE FROM leadflow.lead_emails e
     WHERE e.org_id OPERATOR(pg_catalog.=) l.org_id AND e.lead_id OPERATOR(pg_catalog.=) ANY (ids);
    DELETE FROM leadflow.lead_phones p
     WHERE p.org_id OPERATOR(pg_catalog.=) l.org_id AND p.lead_id OPERATOR(pg_catalog.=) ANY (ids);
    DELETE FROM leadflow.lead_external_ids x
     WHERE x.org_id OPERATOR(pg_catalog.=) l.org_id AND x.lead_id OPERATOR(pg_catalog.=) ANY (ids);

    -- the immutable journey gets no free text: the reason is referenced by
    -- its SHA-256, which matches the request record kept by whoever asked
    PERFORM leadflow.append_journey(l.lead_id, 'erased', pg_catalog.jsonb_build_object(
        'reason_sha256', pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(reason, 'UTF8')), 'hex'),
        'leads_erased', pg_catalog.cardinality(ids)));
    RETURN pg_catalog.cardinality(ids);
END
$$;
COMMENT ON FUNCTION @extschema@.erase_lead(bigint, text) IS
    'Right to erasure: removes the personal data of a lead and its merged duplicates (names, email, phone, address, company name, job title, attributes, external id, archive reason, a company domain only the person has; their signals'' properties, activities'' free text, the words of their names and company that no other lead of the org holds (lead_words), contact rows, opportunity names, consent sources, an account only their conversion made, and every import row of the person, found by lead id, email or phone); keeps ids, status, dates, source, scores and opportunity facts, so reports keep counting them; the journey stays verifiable and records the reason by its SHA-256 only. Returns how many lead rows were erased.';

------------------------------------------------------------------------------
-- Issue 17 (continued): per-org free-mail domains and capture field names;
-- one list of the internal tables (internal_tables()) for the triggers and
-- grant_app_role, now also lead_phones, events, lead_external_ids and
-- lead_merges; lock_live_lead revoked from PUBLIC.
-- (capture's field lookup, process_import's org check and claim order, and
-- erase_lead are changed in their final forms above, not copied again.)
------------------------------------------------------------------------------

-- An org's own additions to the free-mail list (a regional provider, an
-- alumni domain): read with the shared list for the org's leads only.
CREATE TABLE @extschema@.org_free_email_domains (
    org_id   bigint NOT NULL REFERENCES @extschema@.orgs (org_id) ON DELETE CASCADE,
    domain   text NOT NULL CHECK (domain = pg_catalog.lower(domain) AND pg_catalog.length(domain) BETWEEN 1 AND 253),
    PRIMARY KEY (org_id, domain)
);
COMMENT ON TABLE @extschema@.org_free_email_domains IS 'Per org: free-mail domains added to the shared list (free_email_domains) for this org''s leads only.';
COMMENT ON COLUMN @extschema@.org_free_email_domains.domain IS 'Lower-case ASCII domain, e.g. mail.example.';
CREATE TRIGGER org_free_email_domains_config_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.org_free_email_domains
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.config_changed();
SELECT pg_catalog.pg_extension_config_dump('leadflow.org_free_email_domains', '');

-- An org's own form field names (a form in its language, a custom
-- field), read before the shared ones for that org's captures only.
CREATE TABLE @extschema@.org_capture_field_names (
    org_id      bigint NOT NULL REFERENCES @extschema@.orgs (org_id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (name = pg_catalog.lower(name) AND pg_catalog.length(name) BETWEEN 1 AND 200),
    column_name text NOT NULL CHECK (column_name IN (
        'first_name', 'last_name', 'full_name', 'email', 'phone', 'company', 'job_title',
        'industry', 'company_size', 'annual_revenue', 'country', 'state', 'city',
        'postal_code', 'campaign')),
    PRIMARY KEY (org_id, name)
);
COMMENT ON TABLE @extschema@.org_capture_field_names IS 'Per org: payload field names capture() maps to lead columns for this org, before the shared capture_field_names.';
COMMENT ON COLUMN @extschema@.org_capture_field_names.name IS 'Field name as sent, lower case.';
COMMENT ON COLUMN @extschema@.org_capture_field_names.column_name IS 'The leads column it fills (full_name is split into first and last name).';
SELECT pg_catalog.pg_extension_config_dump('leadflow.org_capture_field_names', '');

-- The column a payload field fills in an org: the org's own name first,
-- then the shared one; NULL for an attribute.
CREATE FUNCTION @extschema@.capture_column(org_id bigint, name text)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT COALESCE((SELECT o.column_name FROM leadflow.org_capture_field_names o
                      WHERE o.org_id OPERATOR(pg_catalog.=) capture_column.org_id
                        AND o.name OPERATOR(pg_catalog.=) capture_column.name),
                    (SELECT m.column_name FROM leadflow.capture_field_names m
                      WHERE m.name OPERATOR(pg_catalog.=) capture_column.name))
$$;
COMMENT ON FUNCTION @extschema@.capture_column(bigint, text) IS
    'The leads column a payload field name fills in capture() for an org: the org''s own (org_capture_field_names) first, then the shared capture_field_names; NULL: an attribute.';


CREATE FUNCTION @extschema@.internal_tables()
RETURNS TABLE (table_name text, shared boolean)
AS 'MODULE_PATHNAME', 'leadflow_internal_tables'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.internal_tables() IS
    'The tables leadflow alone writes: its internal tables (journey, claims, routing and prediction state, events, merge records) and, shared = true, the reference data every org shares. Applications get only SELECT on them (grant_app_role) and a trigger refuses their writes.';

-- the trigger on every table of the list, also under
-- session_replication_role = replica (the update adds it to new ones)
DO $$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT i.table_name FROM leadflow.internal_tables() i
              WHERE pg_catalog.to_regclass(pg_catalog.format('leadflow.%I', i.table_name)) IS NOT NULL
                AND NOT EXISTS (SELECT FROM pg_catalog.pg_trigger g
                                 WHERE g.tgrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(pg_catalog.format('leadflow.%I', i.table_name))
                                   AND g.tgname OPERATOR(pg_catalog.=) (i.table_name OPERATOR(pg_catalog.||) '_leadflow_only'))
              ORDER BY 1 LOOP
        EXECUTE pg_catalog.format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON leadflow.%I'
                                  ' FOR EACH STATEMENT EXECUTE FUNCTION leadflow.refuse_app_write()',
                                  t OPERATOR(pg_catalog.||) '_leadflow_only', t);
        EXECUTE pg_catalog.format('ALTER TABLE leadflow.%I ENABLE ALWAYS TRIGGER %I', t, t OPERATOR(pg_catalog.||) '_leadflow_only');
    END LOOP;
END
$$;

CREATE FUNCTION @extschema@.grant_app_role(role regrole)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    read_only constant text[] := ARRAY(SELECT i.table_name FROM leadflow.internal_tables() i);
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
    'Grants an application role what it needs: the schema, SELECT on every table and view, INSERT and UPDATE on leads and the data an app writes, DELETE on its configuration; only SELECT on the internal tables and the shared reference data (internal_tables()). No function beyond what PUBLIC may run; the administrative functions stay revoked.';

REVOKE EXECUTE ON FUNCTION @extschema@.grant_app_role(regrole) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.lock_live_lead(bigint, text) FROM PUBLIC;

-- erasures made before are completed as erase_lead now does: company
-- name and job title, contacts' job titles, opportunity names, consent
-- sources.  Below the pipeline (replica role): nothing else changes, no
-- journey row is written.
SELECT pg_catalog.set_config('session_replication_role', 'replica', true);
UPDATE @extschema@.leads x SET company = NULL, job_title = NULL
 WHERE x.erased_at IS NOT NULL AND (x.company IS NOT NULL OR x.job_title IS NOT NULL);
UPDATE @extschema@.contacts c SET job_title = NULL
  FROM @extschema@.leads x
 WHERE x.org_id OPERATOR(pg_catalog.=) c.org_id AND x.lead_id OPERATOR(pg_catalog.=) c.lead_id
   AND x.erased_at IS NOT NULL AND c.job_title IS NOT NULL;
UPDATE @extschema@.opportunities o SET name = 'Opportunity ' OPERATOR(pg_catalog.||) o.opportunity_id
  FROM @extschema@.leads x
 WHERE x.org_id OPERATOR(pg_catalog.=) o.org_id AND x.lead_id OPERATOR(pg_catalog.=) o.lead_id
   AND x.erased_at IS NOT NULL;
UPDATE @extschema@.consents c SET source = NULL
  FROM @extschema@.leads x
 WHERE x.org_id OPERATOR(pg_catalog.=) c.org_id AND x.lead_id OPERATOR(pg_catalog.=) c.lead_id
   AND x.erased_at IS NOT NULL AND c.source IS NOT NULL;
SELECT pg_catalog.set_config('session_replication_role', 'origin', true);

-- Reports count erased leads (issue 17 with issue 20): an erasure removes
-- a person's data, not the lead, so counts of leads, qualifications and
-- conversions never drop with it; the work lists leave erased leads out.
-- (report_source_performance, report_rep_performance and
-- report_lead_volume are changed in their final forms above.)
CREATE OR REPLACE VIEW @extschema@.report_funnel WITH (security_invoker = true) AS
SELECT f.org_id, f.workflow_id, f.workflow, f.stage_id, f.stage, f.position, f.status,
       f.reached, f.current,
       f.reached::numeric / NULLIF(f.workflow_leads, 0) AS pct_of_first,
       m.median_hours AS median_hours_in_stage,
       m.moves AS moves_out
  FROM (SELECT s.org_id, s.workflow_id, w.name AS workflow, s.stage_id, s.name AS stage, s.position, s.status,
               COALESCE(pg_catalog.sum(g.n) FILTER (
                   WHERE s.position = fp.first_position            -- every lead entered here
                      OR g.stage_id = s.stage_id                   -- in the stage now
                      OR (s.status NOT IN ('nurture', 'unqualified') -- a main stage it is past
                          AND gs.position > s.position
                          AND (s.status <> 'qualified' OR g.was_qualified
                               OR gs.status NOT IN ('nurture', 'unqualified')))), 0)::bigint AS reached,
               COALESCE(pg_catalog.sum(g.n) FILTER (WHERE g.stage_id = s.stage_id), 0)::bigint AS current,
               COALESCE(pg_catalog.sum(g.n), 0)::bigint AS workflow_leads
          FROM leadflow.workflow_stages s
          JOIN leadflow.workflows w ON w.org_id = s.org_id AND w.workflow_id = s.workflow_id
         CROSS JOIN LATERAL (SELECT pg_catalog.min(x.position) AS first_position
                               FROM leadflow.workflow_stages x
                              WHERE x.org_id = s.org_id AND x.workflow_id = s.workflow_id) fp
          -- live leads counted by workflow, current stage and whether they were qualified
          LEFT JOIN (SELECT l.org_id, l.workflow_id, l.stage_id, l.qualified_at IS NOT NULL AS was_qualified,
                            pg_catalog.count(*) AS n
                       FROM leadflow.leads l
                      WHERE l.merged_into IS NULL
                      GROUP BY l.org_id, l.workflow_id, l.stage_id, l.qualified_at IS NOT NULL) g
                 ON g.org_id = s.org_id AND g.workflow_id = s.workflow_id
          LEFT JOIN leadflow.workflow_stages gs ON gs.org_id = g.org_id AND gs.stage_id = g.stage_id
         GROUP BY s.org_id, s.stage_id, w.name) f
  -- time spent in the stage by the leads that left it (stage_changed journey rows)
 CROSS JOIN LATERAL (
        SELECT pg_catalog.percentile_cont(0.5) WITHIN GROUP (
                   ORDER BY CASE WHEN pg_catalog.jsonb_typeof(j.detail -> 'hours_in_previous_stage') = 'number'
                                 THEN (j.detail -> 'hours_in_previous_stage')::double precision END) AS median_hours,
               pg_catalog.count(CASE WHEN pg_catalog.jsonb_typeof(j.detail -> 'hours_in_previous_stage') = 'number'
                                     THEN 1 END) AS moves
          FROM leadflow.lead_journey j
         WHERE j.org_id = f.org_id AND j.kind = 'stage_changed'
           AND j.detail ->> 'from_stage_id' = f.stage_id::text) m;
CREATE OR REPLACE VIEW @extschema@.report_response_times WITH (security_invoker = true) AS
SELECT l.org_id, l.source,
       pg_catalog.count(*) AS leads,
       pg_catalog.count(l.first_touch_at) AS touched,
       pg_catalog.percentile_cont(0.5) WITHIN GROUP (
           ORDER BY EXTRACT(epoch FROM l.first_touch_at - l.created_at)::double precision / 60) AS median_minutes,
       pg_catalog.percentile_cont(0.9) WITHIN GROUP (
           ORDER BY EXTRACT(epoch FROM l.first_touch_at - l.created_at)::double precision / 60) AS p90_minutes,
       pg_catalog.min(COALESCE(ps.first_touch_within, pd.first_touch_within)) AS first_touch_within,
       pg_catalog.count(*) FILTER (
           WHERE l.first_touch_at <= leadflow.business_deadline(l.created_at, COALESCE(ps.first_touch_within, pd.first_touch_within), CASE WHEN ps.org_id IS NULL THEN pd.business_hours ELSE ps.business_hours END)) AS sla_met,
       pg_catalog.count(*) FILTER (
           WHERE COALESCE(ps.first_touch_within, pd.first_touch_within) IS NOT NULL
             AND (l.first_touch_at IS NOT NULL
                  OR leadflow.business_deadline(l.created_at, COALESCE(ps.first_touch_within, pd.first_touch_within), CASE WHEN ps.org_id IS NULL THEN pd.business_hours ELSE ps.business_hours END) < pg_catalog.now())) AS sla_due,
       pg_catalog.count(*) FILTER (
           WHERE l.first_touch_at <= leadflow.business_deadline(l.created_at, COALESCE(ps.first_touch_within, pd.first_touch_within), CASE WHEN ps.org_id IS NULL THEN pd.business_hours ELSE ps.business_hours END))::numeric
       / NULLIF(pg_catalog.count(*) FILTER (
           WHERE COALESCE(ps.first_touch_within, pd.first_touch_within) IS NOT NULL
             AND (l.first_touch_at IS NOT NULL
                  OR leadflow.business_deadline(l.created_at, COALESCE(ps.first_touch_within, pd.first_touch_within), CASE WHEN ps.org_id IS NULL THEN pd.business_hours ELSE ps.business_hours END) < pg_catalog.now())), 0) AS sla_met_pct
  FROM leadflow.leads l
  LEFT JOIN leadflow.sla_policies ps ON ps.org_id = l.org_id AND ps.source = l.source
  LEFT JOIN leadflow.sla_policies pd ON pd.org_id = l.org_id AND pd.source IS NULL
 WHERE l.merged_into IS NULL
 GROUP BY l.org_id, l.source;
CREATE OR REPLACE VIEW @extschema@.report_shadow_routing WITH (security_invoker = true) AS
SELECT j.org_id, j.lead_id,
       CASE WHEN pg_catalog.jsonb_typeof(j.detail -> 'rule_id') = 'number'
            THEN (j.detail -> 'rule_id')::bigint END AS rule_id,
       j.detail ->> 'rule_name' AS rule_name,
       CASE WHEN pg_catalog.jsonb_typeof(j.detail -> 'live_rep_id') = 'number'
            THEN (j.detail -> 'live_rep_id')::bigint END AS live_rep_id,
       CASE WHEN pg_catalog.jsonb_typeof(j.detail -> 'rep_id') = 'number'
            THEN (j.detail -> 'rep_id')::bigint END AS shadow_rep_id,
       CASE WHEN pg_catalog.jsonb_typeof(j.detail -> 'team_id') = 'number'
            THEN (j.detail -> 'team_id')::bigint END AS shadow_team_id,
       CASE WHEN pg_catalog.jsonb_typeof(j.detail -> 'agrees') = 'boolean'
            THEN (j.detail -> 'agrees')::boolean END AS agrees,
       j.occurred_at,
       l.owner_rep_id
  FROM leadflow.lead_journey j
  JOIN leadflow.leads l ON l.org_id = j.org_id AND l.lead_id = j.lead_id
 WHERE j.kind = 'shadow_routed'
   AND l.merged_into IS NULL
   -- the latest decision of the rule for the lead (a lead routed again has several)
   AND NOT EXISTS (SELECT FROM leadflow.lead_journey k
                    WHERE k.org_id = j.org_id AND k.lead_id = j.lead_id AND k.kind = 'shadow_routed'
                      AND k.seq > j.seq AND k.detail -> 'rule_id' = j.detail -> 'rule_id');
CREATE OR REPLACE VIEW @extschema@.report_score_distribution WITH (security_invoker = true) AS
SELECT o.org_id, t.temperature, t.sort_order,
       COALESCE(s.leads, 0) AS leads,
       s.avg_score, s.min_score, s.max_score,
       CASE t.temperature WHEN 'cold' THEN 0 WHEN 'warm' THEN m.warm_at ELSE m.hot_at END AS score_from,
       CASE t.temperature WHEN 'cold' THEN m.warm_at - 1 WHEN 'warm' THEN m.hot_at - 1 ELSE 100 END AS score_to
  FROM leadflow.orgs o
 CROSS JOIN (VALUES ('cold', 1), ('warm', 2), ('hot', 3)) t(temperature, sort_order)
  LEFT JOIN leadflow.scoring_models m ON m.org_id = o.org_id AND m.active
  LEFT JOIN (SELECT l.org_id, l.temperature,
                    pg_catalog.count(*) AS leads,
                    pg_catalog.avg(l.score) AS avg_score,
                    pg_catalog.min(l.score) AS min_score,
                    pg_catalog.max(l.score) AS max_score
               FROM leadflow.leads l
              WHERE l.merged_into IS NULL
              GROUP BY l.org_id, l.temperature) s
         ON s.org_id = o.org_id AND s.temperature = t.temperature;
CREATE OR REPLACE VIEW @extschema@.report_duplicates WITH (security_invoker = true) AS
SELECT l.org_id, l.source,
       pg_catalog.count(*) AS leads,
       pg_catalog.count(*) FILTER (WHERE l.status = 'merged') AS duplicates,
       pg_catalog.count(*) FILTER (WHERE l.status = 'merged')::numeric / pg_catalog.count(*) AS duplicate_rate,
       pg_catalog.count(*) FILTER (WHERE l.merged_into IS NULL) AS live_leads
  FROM leadflow.leads l
 GROUP BY l.org_id, l.source;
CREATE OR REPLACE VIEW @extschema@.report_enrichment_coverage WITH (security_invoker = true) AS
SELECT o.org_id, f.field, f.sort_order, c.leads, f.filled,
       f.filled::numeric / NULLIF(c.leads, 0) AS filled_pct,
       f.enriched,
       f.enriched::numeric / NULLIF(c.leads, 0) AS enriched_pct
  FROM leadflow.orgs o
 CROSS JOIN LATERAL (
        SELECT pg_catalog.count(*) AS leads,
               pg_catalog.count(l.industry) AS industry,
               pg_catalog.count(l.company_size) AS company_size,
               pg_catalog.count(l.annual_revenue) AS annual_revenue,
               pg_catalog.count(l.country) AS country,
               pg_catalog.count(*) FILTER (WHERE e.industry) AS e_industry,
               pg_catalog.count(*) FILTER (WHERE e.company_size) AS e_company_size,
               pg_catalog.count(*) FILTER (WHERE e.annual_revenue) AS e_annual_revenue,
               pg_catalog.count(*) FILTER (WHERE e.country) AS e_country
          FROM leadflow.leads l
          -- what enrichment filled, per lead (enriched journey rows)
          LEFT JOIN (SELECT j.lead_id,
                            pg_catalog.bool_or(j.detail -> 'filled' ? 'industry') AS industry,
                            pg_catalog.bool_or(j.detail -> 'filled' ? 'company_size') AS company_size,
                            pg_catalog.bool_or(j.detail -> 'filled' ? 'annual_revenue') AS annual_revenue,
                            pg_catalog.bool_or(j.detail -> 'filled' ? 'country') AS country
                       FROM leadflow.lead_journey j
                      WHERE j.org_id = o.org_id AND j.kind = 'enriched'
                      GROUP BY j.lead_id) e ON e.lead_id = l.lead_id
         WHERE l.org_id = o.org_id AND l.merged_into IS NULL
           AND l.company_domain IS NOT NULL) c
 CROSS JOIN LATERAL (VALUES ('industry', 1, c.industry, c.e_industry),
                            ('company_size', 2, c.company_size, c.e_company_size),
                            ('annual_revenue', 3, c.annual_revenue, c.e_annual_revenue),
                            ('country', 4, c.country, c.e_country)) f(field, sort_order, filled, enriched);
COMMENT ON COLUMN @extschema@.report_source_performance.leads IS 'Live leads from the source (not merged; erased ones included), all time.';
COMMENT ON COLUMN @extschema@.report_rep_performance.open IS 'Of those, leads with status new, contacted, qualified or nurture, not erased (report_rep_load.open_leads).';
COMMENT ON VIEW @extschema@.report_lead_aging IS 'Per org and open live lead not erased (status new, contacted, qualified or nurture): how long it has waited, and whether it is overdue.';
COMMENT ON COLUMN @extschema@.report_duplicates.live_leads IS 'Of those, live leads (not merged; erased ones included).';
COMMENT ON COLUMN @extschema@.report_rep_load.open_leads IS 'Live leads, not erased, the rep owns with status new, contacted, qualified or nurture, counted from leads.';
COMMENT ON COLUMN @extschema@.report_lead_volume.leads IS 'Live leads captured that day from that source (not merged; erased ones included).';
COMMENT ON COLUMN @extschema@.report_lead_volume.captured IS 'Every row captured that day from that source: live leads (erased ones included) and duplicates.';

-- a database under tenant isolation keeps it: the new tables get the policy too
SELECT @extschema@.enable_tenant_isolation()
 WHERE EXISTS (SELECT FROM pg_catalog.pg_class c
                WHERE c.relname OPERATOR(pg_catalog.=) 'leads' AND c.relrowsecurity
                  AND c.relnamespace OPERATOR(pg_catalog.=) (SELECT e.extnamespace FROM pg_catalog.pg_extension e
                                                               WHERE e.extname OPERATOR(pg_catalog.=) 'leadflow'));

------------------------------------------------------------------------------
-- Issue 18 (continued): capture() linear in its payload and bounded
-- (leadflow.capture_max_bytes, leadflow.capture_max_keys: 54000 over them);
-- migration imports (owner, created_at, status, stage, custom fields; the
-- lead_imports columns and process_import above) and stage_import, which
-- stages a CSV of any header (60_capture, 61_import).

CREATE FUNCTION @extschema@.capture_check_limits(payload jsonb)
RETURNS void
AS 'MODULE_PATHNAME', 'leadflow_capture_check_limits'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.capture_check_limits(jsonb) IS
    'Internal to capture(): 54000 when the payload is larger than leadflow.capture_max_bytes or has more fields (top-level keys plus field_data or user_column_data entries) than leadflow.capture_max_keys.';

CREATE OR REPLACE FUNCTION @extschema@.capture_flatten(payload jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    flat jsonb;
    extra jsonb;
    bad int;
BEGIN
    IF payload IS NULL OR pg_catalog.jsonb_typeof(payload) <> 'object' THEN
        RAISE EXCEPTION 'capture payload must be a JSON object, not %', COALESCE(pg_catalog.jsonb_typeof(payload), 'null')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM leadflow.capture_check_limits(payload);

    IF payload ? 'field_data' THEN                      -- Meta Lead Ads
        IF pg_catalog.jsonb_typeof(payload -> 'field_data') <> 'array' THEN
            RAISE EXCEPTION 'capture payload field_data must be an array'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        SELECT pg_catalog.min(e.n) - 1 INTO bad
          FROM pg_catalog.jsonb_array_elements(payload -> 'field_data') WITH ORDINALITY e(item, n)
         WHERE pg_catalog.jsonb_typeof(e.item) <> 'object' OR pg_catalog.jsonb_typeof(e.item -> 'name') IS DISTINCT FROM 'string';
        IF bad IS NOT NULL THEN
            RAISE EXCEPTION 'capture payload field_data[%] has no name', bad
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        SELECT pg_catalog.min(e.n) - 1 INTO bad
          FROM pg_catalog.jsonb_array_elements(payload -> 'field_data') WITH ORDINALITY e(item, n)
         WHERE pg_catalog.jsonb_typeof(e.item -> 'values') IS DISTINCT FROM 'array';
        IF bad IS NOT NULL THEN
            RAISE EXCEPTION 'capture payload field_data[%] ("%") has no values array', bad, payload -> 'field_data' -> bad ->> 'name'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        -- the later of two fields of one name wins, as it did
        SELECT pg_catalog.jsonb_object_agg(pg_catalog.lower(e.item ->> 'name'), e.item -> 'values' ->> 0 ORDER BY e.n)
          INTO flat
          FROM pg_catalog.jsonb_array_elements(payload -> 'field_data') WITH ORDINALITY e(item, n)
         WHERE pg_catalog.jsonb_array_length(e.item -> 'values') > 0;
        extra := payload - 'field_data';
        IF extra ? 'id' THEN
            extra := (extra - 'id') || pg_catalog.jsonb_build_object('meta_lead_id', extra -> 'id');
        END IF;
    ELSIF payload ? 'user_column_data' THEN             -- Google Ads lead form
        IF pg_catalog.jsonb_typeof(payload -> 'user_column_data') <> 'array' THEN
            RAISE EXCEPTION 'capture payload user_column_data must be an array'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        SELECT pg_catalog.min(e.n) - 1 INTO bad
          FROM pg_catalog.jsonb_array_elements(payload -> 'user_column_data') WITH ORDINALITY e(item, n)
         WHERE pg_catalog.jsonb_typeof(e.item) <> 'object' OR pg_catalog.jsonb_typeof(e.item -> 'column_id') IS DISTINCT FROM 'string';
        IF bad IS NOT NULL THEN
            RAISE EXCEPTION 'capture payload user_column_data[%] has no column_id', bad
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        SELECT pg_catalog.jsonb_object_agg(pg_catalog.lower(e.item ->> 'column_id'), e.item ->> 'string_value' ORDER BY e.n)
          INTO flat
          FROM pg_catalog.jsonb_array_elements(payload -> 'user_column_data') WITH ORDINALITY e(item, n);
        extra := payload - 'user_column_data';
        IF extra ? 'lead_id' THEN
            extra := (extra - 'lead_id') || pg_catalog.jsonb_build_object('google_lead_id', extra -> 'lead_id');
        END IF;
    ELSE                                                -- a flat object
        SELECT pg_catalog.jsonb_object_agg(pg_catalog.lower(e.key), e.value #>> '{}' ORDER BY e.n)
                   FILTER (WHERE pg_catalog.jsonb_typeof(e.value) NOT IN ('object', 'array')),
               pg_catalog.jsonb_object_agg(e.key, e.value)
                   FILTER (WHERE pg_catalog.jsonb_typeof(e.value) IN ('object', 'array'))
          INTO flat, extra
          FROM pg_catalog.jsonb_each(payload) WITH ORDINALITY e(key, value, n);
    END IF;
    RETURN COALESCE(flat, '{}') || pg_catalog.jsonb_build_object('_extra', COALESCE(extra, '{}'));
END
$$;
COMMENT ON FUNCTION @extschema@.capture_flatten(jsonb) IS
    'Internal to capture(): a flat, Meta Lead Ads or Google Ads payload as one object of lower-case field names; refuses (54000) a payload over the capture limits.';

CREATE FUNCTION @extschema@.csv_records(csv text)
RETURNS SETOF text[]
AS 'MODULE_PATHNAME', 'leadflow_csv_records'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.csv_records(text) IS
    'The records of a CSV text, in order, one text array each (comma, double quotes with "" inside, CRLF or LF, newlines inside quotes; an unquoted empty field is NULL, blank lines skipped); 22P04 for an unterminated quote.';

CREATE FUNCTION @extschema@.import_json(value text)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN value::jsonb;
EXCEPTION WHEN invalid_text_representation OR untranslatable_character OR statement_too_complex THEN
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.import_json(text) IS
    'Internal to stage_import and process_import: the text as jsonb, NULL when it is not JSON.';

CREATE FUNCTION @extschema@.import_timestamp(value text)
RETURNS timestamptz
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN NULLIF(pg_catalog.btrim(value), '')::timestamptz;
EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR invalid_time_zone_displacement_value
              OR invalid_parameter_value OR feature_not_supported THEN
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.import_timestamp(text) IS
    'Internal to process_import: the text as a timestamp (without a zone in the session''s TimeZone), NULL when it is none.';

CREATE FUNCTION @extschema@.import_stage(org_id bigint, stage text)
RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.stage_id
      FROM leadflow.workflow_stages s
      JOIN leadflow.workflows w ON w.org_id OPERATOR(pg_catalog.=) s.org_id AND w.workflow_id OPERATOR(pg_catalog.=) s.workflow_id
     WHERE s.org_id OPERATOR(pg_catalog.=) import_stage.org_id AND w.is_default
       AND (pg_catalog.lower(s.name) OPERATOR(pg_catalog.=) pg_catalog.lower(pg_catalog.btrim(import_stage.stage))
            OR s.stage_id::text OPERATOR(pg_catalog.=) pg_catalog.btrim(import_stage.stage))
     ORDER BY s.position LIMIT 1
$$;
COMMENT ON FUNCTION @extschema@.import_stage(bigint, text) IS
    'Internal to process_import: the stage of the org''s default workflow a CSV row names (by name, any case, or stage_id), NULL for none.';

CREATE FUNCTION @extschema@.import_place_problem(org_id bigint, status text, stage text)
RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    want text := pg_catalog.lower(NULLIF(pg_catalog.btrim(status), ''));
    stage_status text;
BEGIN
    IF NULLIF(pg_catalog.btrim(stage), '') IS NOT NULL THEN
        SELECT s.status INTO stage_status FROM leadflow.workflow_stages s
         WHERE s.org_id OPERATOR(pg_catalog.=) import_place_problem.org_id
           AND s.stage_id OPERATOR(pg_catalog.=) leadflow.import_stage(import_place_problem.org_id, stage);
        IF NOT FOUND THEN
            RETURN pg_catalog.format('stage %s is not a stage of the org''s default workflow', pg_catalog.quote_literal(stage));
        END IF;
        IF want IS NOT NULL AND want OPERATOR(pg_catalog.<>) stage_status THEN
            RETURN pg_catalog.format('stage %s has status %s, not %s', pg_catalog.quote_literal(stage),
                                     stage_status, pg_catalog.quote_literal(status));
        END IF;
    ELSIF want IS NOT NULL AND NOT EXISTS (
            SELECT FROM leadflow.workflow_stages s
              JOIN leadflow.workflows w ON w.org_id OPERATOR(pg_catalog.=) s.org_id AND w.workflow_id OPERATOR(pg_catalog.=) s.workflow_id
             WHERE s.org_id OPERATOR(pg_catalog.=) import_place_problem.org_id AND w.is_default
               AND s.status OPERATOR(pg_catalog.=) want) THEN
        RETURN pg_catalog.format('status %s is not a status of the org''s default workflow (merged and archived leads cannot be imported)',
                                 pg_catalog.quote_literal(status));
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.import_place_problem(bigint, text, text) IS
    'Internal to process_import: why a CSV row''s status and stage cannot be kept (the row''s error), or NULL.';

CREATE FUNCTION @extschema@.import_column(header text)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
        WHEN leadflow.source_key(header) IN ('first_name', 'last_name', 'email', 'phone', 'company', 'job_title',
                 'industry', 'company_size', 'annual_revenue', 'country', 'state', 'city', 'postal_code',
                 'source', 'campaign', 'external_id', 'owner_rep_id', 'owner_email', 'created_at',
                 'status', 'stage', 'attributes')
        THEN leadflow.source_key(header)
        ELSE (SELECT m.column_name FROM leadflow.capture_field_names m
               WHERE m.name OPERATOR(pg_catalog.=) pg_catalog.lower(pg_catalog.btrim(header))
                  OR m.name OPERATOR(pg_catalog.=) leadflow.source_key(header)
               ORDER BY m.name OPERATOR(pg_catalog.=) pg_catalog.lower(pg_catalog.btrim(header)) DESC LIMIT 1)
    END
$$;
COMMENT ON FUNCTION @extschema@.import_column(text) IS
    'Internal to stage_import: the lead_imports column a CSV header names (its own name or a capture field name, any case and spacing; full_name for a whole name), NULL for a custom field.';

CREATE FUNCTION @extschema@.stage_import(org_id bigint, csv text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    batch bigint := pg_catalog.txid_current();
    header text[];
    cols text[] := '{}';
    col text;
    i int;
BEGIN
    PERFORM leadflow.check_org_access(stage_import.org_id);
    IF NOT EXISTS (SELECT FROM leadflow.orgs o WHERE o.org_id OPERATOR(pg_catalog.=) stage_import.org_id) THEN
        RAISE EXCEPTION 'org % does not exist', stage_import.org_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    SELECT r INTO header FROM leadflow.csv_records(csv) r LIMIT 1;
    IF header IS NULL THEN
        RAISE EXCEPTION 'stage_import needs a CSV text with a header line'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR i IN 1 .. pg_catalog.cardinality(header) LOOP
        col := leadflow.import_column(header[i]);
        -- a column named twice: the first one fills it, the other is kept
        IF col = ANY (cols) THEN
            col := NULL;
        END IF;
        cols := cols || col;
        header[i] := COALESCE(NULLIF(pg_catalog.btrim(header[i]), ''), pg_catalog.format('column_%s', i));
    END LOOP;

    INSERT INTO leadflow.lead_imports (org_id, batch_id, first_name, last_name, email, phone, company, job_title,
                                       industry, company_size, annual_revenue, country, state, city, postal_code,
                                       source, campaign, external_id, owner_rep_id, owner_email, created_at,
                                       status, stage, attributes)
    SELECT stage_import.org_id, batch,
           COALESCE(p.first_name, pg_catalog.split_part(pg_catalog.btrim(k.known ->> 'full_name'), ' ', 1)),
           COALESCE(p.last_name, NULLIF(pg_catalog.btrim(pg_catalog.substr(pg_catalog.btrim(k.known ->> 'full_name'),
                    pg_catalog.length(pg_catalog.split_part(pg_catalog.btrim(k.known ->> 'full_name'), ' ', 1)) + 1)), '')),
           p.email, p.phone, p.company, p.job_title, p.industry, p.company_size, p.annual_revenue,
           p.country, p.state, p.city, p.postal_code, p.source, p.campaign, p.external_id,
           p.owner_rep_id, p.owner_email, p.created_at, p.status, p.stage,
           CASE WHEN k.extra IS NULL THEN p.attributes
                WHEN p.attributes IS NULL THEN k.extra::text
                WHEN pg_catalog.jsonb_typeof(leadflow.import_json(p.attributes)) = 'object'
                THEN (leadflow.import_json(p.attributes) || k.extra)::text
                ELSE (pg_catalog.jsonb_build_object('attributes', p.attributes) || k.extra)::text END
      FROM leadflow.csv_records(csv) WITH ORDINALITY r(cells, n)
     CROSS JOIN LATERAL (
           SELECT pg_catalog.jsonb_object_agg(cols[c], r.cells[c]) FILTER (WHERE cols[c] IS NOT NULL) AS known,
                  pg_catalog.jsonb_object_agg(COALESCE(header[c], pg_catalog.format('column_%s', c)), r.cells[c])
                      FILTER (WHERE cols[c] IS NULL AND NULLIF(pg_catalog.btrim(r.cells[c]), '') IS NOT NULL) AS extra
             FROM pg_catalog.generate_series(1, GREATEST(pg_catalog.cardinality(header), pg_catalog.cardinality(r.cells))) c) k
     CROSS JOIN LATERAL pg_catalog.jsonb_populate_record(NULL::leadflow.lead_imports, k.known) p
     WHERE r.n OPERATOR(pg_catalog.>) 1
     ORDER BY r.n;
    RETURN batch;
END
$$;
COMMENT ON FUNCTION @extschema@.stage_import(bigint, text) IS
    'Stages a CSV text (with a header line, any columns) into lead_imports as one batch and returns its batch_id for process_import: a header naming a lead_imports column or a capture field name (any case; "Full Name" is split) fills it, every other column goes into attributes (JSON), so an unknown column never aborts the file. One batch per transaction (the transaction id, like \copy).';


------------------------------------------------------------------------------
-- Issue 21: one journey row per inserted lead.  The created row holds what
-- each stage did (members normalized, enriched, scored, escalated, routed
-- with its shadow_routed decisions, merged); rows written by 0.1.0 stay as
-- they are (and keep verifying), so every reader of the journey reads both
-- shapes.
------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION @extschema@.explain_routing(lead_id bigint)
RETURNS TABLE (step text, rule_id bigint, rule_name text, rep_id bigint, outcome text)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    -- a routed row, or the member routed of a created row (since 0.2.0)
    WITH last_routing AS (
        SELECT CASE WHEN j.kind OPERATOR(pg_catalog.=) 'created' THEN j.detail OPERATOR(pg_catalog.->) 'routed'
                    ELSE j.detail END AS detail
          FROM leadflow.lead_journey j
         WHERE j.lead_id OPERATOR(pg_catalog.=) explain_routing.lead_id
           AND (j.kind OPERATOR(pg_catalog.=) 'routed'
                OR (j.kind OPERATOR(pg_catalog.=) 'created' AND j.detail OPERATOR(pg_catalog.?) 'routed'))
         ORDER BY j.seq DESC LIMIT 1)
    SELECT c.value OPERATOR(pg_catalog.->>) 'step', NULL::bigint, NULL::text,
           (c.value OPERATOR(pg_catalog.->>) 'rep_id')::bigint,
           'skipped: ' OPERATOR(pg_catalog.||) (c.value OPERATOR(pg_catalog.->>) 'skipped')
      FROM last_routing r, pg_catalog.jsonb_array_elements(r.detail OPERATOR(pg_catalog.->) 'candidates') WITH ORDINALITY c(value, n)
    UNION ALL
    SELECT r.detail OPERATOR(pg_catalog.->>) 'path', (r.detail OPERATOR(pg_catalog.->>) 'rule_id')::bigint,
           r.detail OPERATOR(pg_catalog.->>) 'rule_name',
           (r.detail OPERATOR(pg_catalog.->>) 'rep_id')::bigint,
           CASE WHEN r.detail OPERATOR(pg_catalog.->>) 'rep_id' IS NULL THEN 'unassigned' ELSE 'assigned' END
             OPERATOR(pg_catalog.||) COALESCE(' via ' OPERATOR(pg_catalog.||) (r.detail OPERATOR(pg_catalog.->>) 'strategy'), '')
             OPERATOR(pg_catalog.||) ' (' OPERATOR(pg_catalog.||) (r.detail OPERATOR(pg_catalog.->>) 'reason')
             OPERATOR(pg_catalog.||) ')'
      FROM last_routing r;
END;

CREATE OR REPLACE VIEW @extschema@.unassigned_queue WITH (security_invoker = true) AS
SELECT l.org_id, l.lead_id, l.source, l.score, l.temperature, l.status, l.created_at,
       (SELECT CASE WHEN j.kind = 'created' THEN j.detail -> 'routed' ->> 'path' ELSE j.detail ->> 'path' END
          FROM leadflow.lead_journey j
         WHERE j.org_id = l.org_id AND j.lead_id = l.lead_id
           AND (j.kind = 'routed' OR (j.kind = 'created' AND j.detail ? 'routed'))
         ORDER BY j.seq DESC LIMIT 1) AS routing_path
  FROM leadflow.leads l
 WHERE l.owner_rep_id IS NULL AND l.merged_into IS NULL AND l.erased_at IS NULL
   AND l.status = ANY (@extschema@.open_statuses());

CREATE OR REPLACE VIEW @extschema@.report_shadow_routing WITH (security_invoker = true) AS
SELECT j.org_id, j.lead_id,
       CASE WHEN pg_catalog.jsonb_typeof(j.detail -> 'rule_id') = 'number'
            THEN (j.detail -> 'rule_id')::bigint END AS rule_id,
       j.detail ->> 'rule_name' AS rule_name,
       CASE WHEN pg_catalog.jsonb_typeof(j.detail -> 'live_rep_id') = 'number'
            THEN (j.detail -> 'live_rep_id')::bigint END AS live_rep_id,
       CASE WHEN pg_catalog.jsonb_typeof(j.detail -> 'rep_id') = 'number'
            THEN (j.detail -> 'rep_id')::bigint END AS shadow_rep_id,
       CASE WHEN pg_catalog.jsonb_typeof(j.detail -> 'team_id') = 'number'
            THEN (j.detail -> 'team_id')::bigint END AS shadow_team_id,
       CASE WHEN pg_catalog.jsonb_typeof(j.detail -> 'agrees') = 'boolean'
            THEN (j.detail -> 'agrees')::boolean END AS agrees,
       j.occurred_at,
       l.owner_rep_id
  -- shadow_routed rows, and the decisions a created row holds (since 0.2.0)
  FROM (SELECT s.org_id, s.lead_id, s.seq, s.occurred_at, s.detail
          FROM leadflow.lead_journey s
         WHERE s.kind = 'shadow_routed'
        UNION ALL
        SELECT c.org_id, c.lead_id, c.seq, c.occurred_at, e.value
          FROM leadflow.lead_journey c
         CROSS JOIN LATERAL pg_catalog.jsonb_array_elements(c.detail -> 'routed' -> 'shadow_routed') e(value)
         WHERE c.kind = 'created' AND (c.detail -> 'routed') ? 'shadow_routed') j
  JOIN leadflow.leads l ON l.org_id = j.org_id AND l.lead_id = j.lead_id
 WHERE l.merged_into IS NULL
   -- the latest decision of the rule for the lead (a lead routed again has
   -- several; those after its creation are shadow_routed rows)
   AND NOT EXISTS (SELECT FROM leadflow.lead_journey k
                    WHERE k.org_id = j.org_id AND k.lead_id = j.lead_id AND k.kind = 'shadow_routed'
                      AND k.seq > j.seq AND k.detail -> 'rule_id' = j.detail -> 'rule_id');

CREATE OR REPLACE VIEW @extschema@.report_enrichment_coverage WITH (security_invoker = true) AS
SELECT o.org_id, f.field, f.sort_order, c.leads, f.filled,
       f.filled::numeric / NULLIF(c.leads, 0) AS filled_pct,
       f.enriched,
       f.enriched::numeric / NULLIF(c.leads, 0) AS enriched_pct
  FROM leadflow.orgs o
 CROSS JOIN LATERAL (
        SELECT pg_catalog.count(*) AS leads,
               pg_catalog.count(l.industry) AS industry,
               pg_catalog.count(l.company_size) AS company_size,
               pg_catalog.count(l.annual_revenue) AS annual_revenue,
               pg_catalog.count(l.country) AS country,
               pg_catalog.count(*) FILTER (WHERE e.industry) AS e_industry,
               pg_catalog.count(*) FILTER (WHERE e.company_size) AS e_company_size,
               pg_catalog.count(*) FILTER (WHERE e.annual_revenue) AS e_annual_revenue,
               pg_catalog.count(*) FILTER (WHERE e.country) AS e_country
          FROM leadflow.leads l
          -- what enrichment filled, per lead (enriched journey rows, and
          -- the member enriched of created rows since 0.2.0)
          LEFT JOIN (SELECT j.lead_id,
                            pg_catalog.bool_or(x.filled ? 'industry') AS industry,
                            pg_catalog.bool_or(x.filled ? 'company_size') AS company_size,
                            pg_catalog.bool_or(x.filled ? 'annual_revenue') AS annual_revenue,
                            pg_catalog.bool_or(x.filled ? 'country') AS country
                       FROM leadflow.lead_journey j
                      CROSS JOIN LATERAL (SELECT CASE WHEN j.kind = 'created' THEN j.detail -> 'enriched' -> 'filled'
                                                      ELSE j.detail -> 'filled' END AS filled) x
                      WHERE j.org_id = o.org_id
                        AND (j.kind = 'enriched' OR (j.kind = 'created' AND j.detail ? 'enriched'))
                      GROUP BY j.lead_id) e ON e.lead_id = l.lead_id
         WHERE l.org_id = o.org_id AND l.merged_into IS NULL
           AND l.company_domain IS NOT NULL) c
 CROSS JOIN LATERAL (VALUES ('industry', 1, c.industry, c.e_industry),
                            ('company_size', 2, c.company_size, c.e_company_size),
                            ('annual_revenue', 3, c.annual_revenue, c.e_annual_revenue),
                            ('country', 4, c.country, c.e_country)) f(field, sort_order, filled, enriched);

COMMENT ON COLUMN @extschema@.lead_journey.kind IS 'created (one row per inserted lead: what each stage did, as members normalized, enriched, scored, escalated, routed, merged), then duplicate_touch, scored, routed, shadow_routed, stage_changed, handoff, ...; journeys written by 0.1.0 hold normalized, enriched, scored, escalated, routed and shadow_routed rows of their own after created.';

-- Since 0.2.0 an inserted lead has one created row whose members record
-- what each stage did; 0.1.0 wrote a row per stage.  journey_events reads
-- both alike: each member of a created row as the event it stands for, in
-- the order the stages ran (step), with the detail that event's own row
-- had.
CREATE VIEW @extschema@.journey_events WITH (security_invoker = true) AS
SELECT j.org_id, j.lead_id, j.seq, e.step, j.occurred_at, e.kind, j.actor, e.detail
  FROM leadflow.lead_journey j
 CROSS JOIN LATERAL (
        SELECT 0 AS step, j.kind,
               CASE WHEN j.kind = 'created'
                    THEN j.detail - '{merged,normalized,enriched,scored,escalated,routed}'::text[]
                    ELSE j.detail END AS detail
        UNION ALL
        SELECT m.step, m.kind,
               CASE WHEN m.kind = 'routed' THEN (j.detail -> 'routed') - 'shadow_routed'
                    ELSE j.detail -> m.kind END
          FROM (VALUES (1, 'merged'), (2, 'normalized'), (3, 'enriched'), (4, 'scored'),
                       (5, 'escalated'), (6, 'routed')) m(step, kind)
         WHERE j.kind = 'created' AND j.detail ? m.kind
        UNION ALL
        SELECT 6 + s.n::integer, 'shadow_routed', s.value
          FROM pg_catalog.jsonb_array_elements(CASE WHEN j.kind = 'created' AND pg_catalog.jsonb_typeof(j.detail -> 'routed' -> 'shadow_routed') = 'array'
                                                    THEN j.detail -> 'routed' -> 'shadow_routed' END)
               WITH ORDINALITY s(value, n)) e;
COMMENT ON VIEW @extschema@.journey_events IS 'The journey as events, whichever version wrote it: a row per journey row, and for a created row of 0.2.0 also a row per stage it records (merged, normalized, enriched, scored, escalated, routed, shadow_routed), shaped as the rows 0.1.0 wrote for them. Order by lead_id, seq, step.';
COMMENT ON COLUMN @extschema@.journey_events.org_id IS 'Org.';
COMMENT ON COLUMN @extschema@.journey_events.lead_id IS 'The lead.';
COMMENT ON COLUMN @extschema@.journey_events.seq IS 'The journey row the event is in.';
COMMENT ON COLUMN @extschema@.journey_events.step IS 'Its position in that row: 0 for the row itself, then the stages in the order they ran.';
COMMENT ON COLUMN @extschema@.journey_events.occurred_at IS 'When (the row''s time).';
COMMENT ON COLUMN @extschema@.journey_events.kind IS 'created, normalized, enriched, scored, escalated, routed, shadow_routed, merged, or the row''s own kind.';
COMMENT ON COLUMN @extschema@.journey_events.actor IS 'Who acted (the row''s actor).';
COMMENT ON COLUMN @extschema@.journey_events.detail IS 'What happened, as the event''s own row held it; a created row without its stage members.';

------------------------------------------------------------------------------
-- Issue 20 (continued): lead search, re-enrichment, task_due events
------------------------------------------------------------------------------

-- pg_trgm and unaccent are required extensions from 0.2.0 on
-- (leadflow.control): ALTER EXTENSION UPDATE refuses to run until they are
-- installed (CREATE EXTENSION pg_trgm; CREATE EXTENSION unaccent) and
-- records leadflow's dependency on them.

-- task_due (maintenance.c): each open task gets its event once, when it
-- falls due; the partial index keeps maintenance and report_tasks_due to
-- the open tasks
ALTER TABLE @extschema@.activities ADD COLUMN due_event_at timestamptz;
COMMENT ON COLUMN @extschema@.activities.due_event_at IS 'When run_maintenance sent the task''s task_due event (once per task); NULL before.';
CREATE INDEX activities_open_tasks ON @extschema@.activities (org_id, due_at)
    WHERE kind = 'task' AND completed_at IS NULL;

-- Re-enrichment: what the pipeline does at insert (enrich.c), for the
-- leads that were there before a vendor's profiles arrived
CREATE FUNCTION @extschema@.enrich(org_id bigint, domain text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    dom text;
    r record;
    n bigint := 0;
BEGIN
    IF enrich.org_id IS NULL THEN
        RAISE EXCEPTION 'org_id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM leadflow.check_org_access(enrich.org_id);
    IF enrich.domain IS NOT NULL THEN
        -- a host name or an email gives its registrable domain, as leads store it
        dom := leadflow.company_domain(enrich.domain);
        IF dom IS NULL THEN
            RAISE EXCEPTION 'invalid domain: "%"', pg_catalog.left(enrich.domain, 100)
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'It is a public suffix or an IP address.';
        END IF;
    END IF;
    -- per domain and field the value of the best profile that has one:
    -- higher priority, then newer updated_at (the order of enrich.c)
    FOR r IN
        WITH p AS (
            SELECT c.domain,
                   (pg_catalog.array_agg(c.industry ORDER BY c.priority DESC, c.updated_at DESC, c.provider)
                        FILTER (WHERE c.industry IS NOT NULL))[1] AS industry,
                   (pg_catalog.array_agg(c.provider ORDER BY c.priority DESC, c.updated_at DESC, c.provider)
                        FILTER (WHERE c.industry IS NOT NULL))[1] AS industry_by,
                   (pg_catalog.array_agg(c.company_size ORDER BY c.priority DESC, c.updated_at DESC, c.provider)
                        FILTER (WHERE c.company_size IS NOT NULL))[1] AS company_size,
                   (pg_catalog.array_agg(c.provider ORDER BY c.priority DESC, c.updated_at DESC, c.provider)
                        FILTER (WHERE c.company_size IS NOT NULL))[1] AS company_size_by,
                   (pg_catalog.array_agg(c.annual_revenue ORDER BY c.priority DESC, c.updated_at DESC, c.provider)
                        FILTER (WHERE c.annual_revenue IS NOT NULL))[1] AS annual_revenue,
                   (pg_catalog.array_agg(c.provider ORDER BY c.priority DESC, c.updated_at DESC, c.provider)
                        FILTER (WHERE c.annual_revenue IS NOT NULL))[1] AS annual_revenue_by,
                   (pg_catalog.array_agg(c.country ORDER BY c.priority DESC, c.updated_at DESC, c.provider)
                        FILTER (WHERE c.country IS NOT NULL))[1] AS country,
                   (pg_catalog.array_agg(c.provider ORDER BY c.priority DESC, c.updated_at DESC, c.provider)
                        FILTER (WHERE c.country IS NOT NULL))[1] AS country_by
              FROM leadflow.company_profiles c
             WHERE c.org_id OPERATOR(pg_catalog.=) enrich.org_id
               AND (dom IS NULL OR c.domain OPERATOR(pg_catalog.=) dom)
             GROUP BY c.domain)
        SELECT l.lead_id,
               CASE WHEN l.industry IS NULL THEN p.industry END AS industry,
               CASE WHEN l.company_size IS NULL THEN p.company_size END AS company_size,
               CASE WHEN l.annual_revenue IS NULL THEN p.annual_revenue END AS annual_revenue,
               CASE WHEN l.country IS NULL THEN p.country END AS country,
               pg_catalog.jsonb_build_object('filled', pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                   'industry', CASE WHEN l.industry IS NULL THEN p.industry_by END,
                   'company_size', CASE WHEN l.company_size IS NULL THEN p.company_size_by END,
                   'annual_revenue', CASE WHEN l.annual_revenue IS NULL THEN p.annual_revenue_by END,
                   'country', CASE WHEN l.country IS NULL THEN p.country_by END))) AS detail
          FROM leadflow.leads l
          JOIN p ON p.domain OPERATOR(pg_catalog.=) l.company_domain
         WHERE l.org_id OPERATOR(pg_catalog.=) enrich.org_id
           AND l.merged_into IS NULL AND l.erased_at IS NULL
           AND ((l.industry IS NULL AND p.industry IS NOT NULL)
                OR (l.company_size IS NULL AND p.company_size IS NOT NULL)
                OR (l.annual_revenue IS NULL AND p.annual_revenue IS NOT NULL)
                OR (l.country IS NULL AND p.country IS NOT NULL))
         ORDER BY l.lead_id
           FOR NO KEY UPDATE OF l
    LOOP
        UPDATE leadflow.leads l
           SET industry = COALESCE(l.industry, r.industry),
               company_size = COALESCE(l.company_size, r.company_size),
               annual_revenue = COALESCE(l.annual_revenue, r.annual_revenue),
               country = COALESCE(l.country, r.country)
         WHERE l.org_id OPERATOR(pg_catalog.=) enrich.org_id AND l.lead_id OPERATOR(pg_catalog.=) r.lead_id;
        PERFORM leadflow.append_journey(r.lead_id, 'enriched', r.detail);
        n := n OPERATOR(pg_catalog.+) 1;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION @extschema@.enrich(bigint, text) IS
    'Re-applies company_profiles to the org''s live leads (of one company domain, or all): fills only empty industry, company_size, annual_revenue and country, field by field from the best profile (higher priority, then newer updated_at), as the pipeline does at insert; journals enriched with the provider of each filled field per lead (the update rescores it). Returns how many leads it changed.';

-- report_source_performance (first redefined with the handoff section
-- above: moved here, since matching by month needs leads.submitted_at of
-- issue 18): costs unknown (NULL) without spend rows; won, revenue and roi
-- from the opportunities; spend matched to the leads of its month
CREATE OR REPLACE VIEW @extschema@.report_source_performance WITH (security_invoker = true) AS
SELECT m.org_id, m.source,
       pg_catalog.sum(m.leads)::bigint AS leads,
       pg_catalog.sum(m.qualified)::bigint AS qualified,
       pg_catalog.sum(m.converted)::bigint AS converted,
       pg_catalog.sum(m.qualified) / NULLIF(pg_catalog.sum(m.leads), 0) AS qualification_rate,
       pg_catalog.sum(m.converted) / NULLIF(pg_catalog.sum(m.leads), 0) AS conversion_rate,
       COALESCE(pg_catalog.sum(m.spend), 0) AS spend,
       -- spend against the leads of the months it was spent in; no spend
       -- recorded: the cost is unknown (NULL), not 0
       pg_catalog.sum(m.spend) / NULLIF(pg_catalog.sum(m.leads) FILTER (WHERE m.spend IS NOT NULL), 0) AS cost_per_lead,
       pg_catalog.sum(m.spend) / NULLIF(pg_catalog.sum(m.qualified) FILTER (WHERE m.spend IS NOT NULL), 0) AS cost_per_qualified,
       pg_catalog.sum(m.spend) / NULLIF(pg_catalog.sum(m.converted) FILTER (WHERE m.spend IS NOT NULL), 0) AS cost_per_converted,
       pg_catalog.sum(m.won)::bigint AS won,
       COALESCE(pg_catalog.sum(m.revenue), 0) AS revenue,
       (COALESCE(pg_catalog.sum(m.revenue) FILTER (WHERE m.spend IS NOT NULL), 0) - pg_catalog.sum(m.spend))
           / NULLIF(pg_catalog.sum(m.spend), 0) AS roi,
       COALESCE(pg_catalog.sum(m.leads) FILTER (WHERE m.spend IS NOT NULL), 0)::bigint AS matched_leads
  -- one row per org, source and month: the leads of the month (as
  -- report_lead_volume dates them) beside the spend of the month
  FROM (SELECT x.org_id, x.source, x.month,
               pg_catalog.count(x.lead_id) AS leads,
               pg_catalog.count(x.qualified_at) AS qualified,
               pg_catalog.count(x.converted_at) AS converted,
               pg_catalog.count(*) FILTER (WHERE x.won) AS won,
               pg_catalog.sum(x.revenue) AS revenue,
               pg_catalog.sum(x.amount) AS spend
          FROM (SELECT l.org_id, l.source,
                       pg_catalog.date_trunc('month', pg_catalog.timezone('UTC', COALESCE(l.submitted_at, l.created_at)))::date AS month,
                       l.lead_id, l.qualified_at, l.converted_at, NULL::numeric AS amount,
                       st.is_won AS won, CASE WHEN st.is_won THEN o.amount END AS revenue
                  FROM leadflow.leads l
                  LEFT JOIN leadflow.opportunities o ON o.org_id = l.org_id AND o.lead_id = l.lead_id
                  LEFT JOIN leadflow.opportunity_stages st ON st.org_id = o.org_id AND st.stage_id = o.stage_id
                 WHERE l.merged_into IS NULL
                UNION ALL
                SELECT s.org_id, s.source, s.month, NULL, NULL, NULL, s.amount, NULL, NULL
                  FROM leadflow.source_spend s) x
         GROUP BY x.org_id, x.source, x.month) m
 GROUP BY m.org_id, m.source;
COMMENT ON VIEW @extschema@.report_source_performance IS 'Per org and source: live leads, how many were qualified, converted and won, marketing spend, cost per lead, revenue and return on spend. Spend is matched to leads by month: each month''s spend against the leads of that month (by submitted_at, else created_at, in UTC, as report_lead_volume counts them), so months without recorded spend do not make leads look cheap. A source with spend but no leads has a row with 0 leads; a source without recorded spend has NULL costs and ROI (unknown, not free).';
COMMENT ON COLUMN @extschema@.report_source_performance.org_id IS 'Org.';
COMMENT ON COLUMN @extschema@.report_source_performance.source IS 'Lead source (as in leads.source and source_spend.source; NULL for leads without one).';
COMMENT ON COLUMN @extschema@.report_source_performance.leads IS 'Live leads from the source (not merged; erased ones included), all time.';
COMMENT ON COLUMN @extschema@.report_source_performance.qualified IS 'Of those, leads that reached qualified at some point (qualified_at set), whatever their status now.';
COMMENT ON COLUMN @extschema@.report_source_performance.converted IS 'Of those, leads converted (converted_at set).';
COMMENT ON COLUMN @extschema@.report_source_performance.qualification_rate IS 'qualified / leads, 0..1; NULL without leads.';
COMMENT ON COLUMN @extschema@.report_source_performance.conversion_rate IS 'converted / leads, 0..1; NULL without leads.';
COMMENT ON COLUMN @extschema@.report_source_performance.spend IS 'Sum of source_spend.amount for the source over all months (0 without spend rows).';
COMMENT ON COLUMN @extschema@.report_source_performance.cost_per_lead IS 'spend / matched_leads (the leads of months with a spend row); NULL without such leads or without spend rows.';
COMMENT ON COLUMN @extschema@.report_source_performance.cost_per_qualified IS 'spend / those of the matched leads that reached qualified; NULL when none did or without spend rows.';
COMMENT ON COLUMN @extschema@.report_source_performance.cost_per_converted IS 'spend / those of the matched leads that were converted; NULL when none were or without spend rows.';
COMMENT ON COLUMN @extschema@.report_source_performance.won IS 'Of the leads, those whose opportunity is in a won stage.';
COMMENT ON COLUMN @extschema@.report_source_performance.revenue IS 'Sum of the amounts of those won opportunities (0 without), all time.';
COMMENT ON COLUMN @extschema@.report_source_performance.roi IS '(revenue of the matched leads - spend) / spend; NULL without spend rows or with spend 0.';
COMMENT ON COLUMN @extschema@.report_source_performance.matched_leads IS 'Of the leads, those of a month (submitted_at, else created_at, UTC) with a spend row of the source: what the costs and ROI are computed over.';

-- Issue 22: Citus (leadflow.distribute): foreign keys Citus accepts, the
-- same behaviour kept by triggers; distribute() and is_distributed()
ALTER TABLE @extschema@.reps DROP CONSTRAINT reps_org_id_team_id_fkey;
ALTER TABLE @extschema@.reps
    ADD FOREIGN KEY (org_id, team_id) REFERENCES @extschema@.teams (org_id, team_id);
ALTER TABLE @extschema@.accounts DROP CONSTRAINT accounts_org_id_owner_rep_id_fkey;
ALTER TABLE @extschema@.accounts
    ADD FOREIGN KEY (org_id, owner_rep_id) REFERENCES @extschema@.reps (org_id, rep_id);
ALTER TABLE @extschema@.teams DROP CONSTRAINT teams_org_id_manager_rep_id_fkey;

-- Deleting a rep or a team unlinks what refers to it (team members, the
-- team a rep manages, the accounts a rep owns), and a team's manager must
-- be a rep of its org.  Triggers, not ON DELETE SET NULL (col) foreign keys
-- and a teams <-> reps cycle, which Citus refuses (leadflow.distribute());
-- the unlinking runs after the in-use check (trigger names sort after
-- *_in_use), and the manager check locks the rep as a foreign key would.
CREATE FUNCTION @extschema@.unlink_deleted()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_TABLE_NAME OPERATOR(pg_catalog.=) 'teams' THEN
        UPDATE leadflow.reps SET team_id = NULL
         WHERE org_id OPERATOR(pg_catalog.=) OLD.org_id AND team_id OPERATOR(pg_catalog.=) OLD.team_id;
    ELSE
        UPDATE leadflow.teams SET manager_rep_id = NULL
         WHERE org_id OPERATOR(pg_catalog.=) OLD.org_id AND manager_rep_id OPERATOR(pg_catalog.=) OLD.rep_id;
        UPDATE leadflow.accounts SET owner_rep_id = NULL
         WHERE org_id OPERATOR(pg_catalog.=) OLD.org_id AND owner_rep_id OPERATOR(pg_catalog.=) OLD.rep_id;
    END IF;
    RETURN OLD;
END
$$;
COMMENT ON FUNCTION @extschema@.unlink_deleted() IS 'Trigger: a deleted team leaves its members without a team; a deleted rep leaves the teams it managed without manager and its accounts without owner.';

CREATE FUNCTION @extschema@.teams_check_manager()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.manager_rep_id IS NOT NULL
       AND NOT EXISTS (SELECT FROM leadflow.reps r
                        WHERE r.org_id OPERATOR(pg_catalog.=) NEW.org_id
                          AND r.rep_id OPERATOR(pg_catalog.=) NEW.manager_rep_id
                          FOR KEY SHARE) THEN
        RAISE EXCEPTION 'insert or update on table "teams": manager_rep_id % is not a rep of org %',
                        NEW.manager_rep_id, NEW.org_id
            USING ERRCODE = 'foreign_key_violation',
                  HINT = 'Create the rep first, or leave manager_rep_id NULL.';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.teams_check_manager() IS 'Trigger: a team''s manager_rep_id must be a rep of the same org (a foreign key kept by trigger).';

CREATE TRIGGER teams_unlink BEFORE DELETE ON @extschema@.teams
    FOR EACH ROW EXECUTE FUNCTION @extschema@.unlink_deleted();
CREATE TRIGGER reps_unlink BEFORE DELETE ON @extschema@.reps
    FOR EACH ROW EXECUTE FUNCTION @extschema@.unlink_deleted();
CREATE TRIGGER teams_check_manager BEFORE INSERT OR UPDATE OF org_id, manager_rep_id ON @extschema@.teams
    FOR EACH ROW EXECUTE FUNCTION @extschema@.teams_check_manager();


------------------------------------------------------------------------------
-- Scale out on Citus (README "Scaling out"): every org table distributed by
-- org_id, colocated with orgs, so that one org's rows live on one worker and
-- the pipeline's queries, all filtered by a constant org_id, run there; the
-- tables without org_id (shared reference data) replicated to every node.
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.distribute(shard_count integer DEFAULT 32)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    moved boolean;
    left_over text;
BEGIN
    IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER) THEN
        RAISE EXCEPTION 'leadflow.distribute() needs a superuser'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'citus') THEN
        RAISE EXCEPTION 'leadflow.distribute() needs the citus extension in this database'
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Load Citus (shared_preload_libraries), CREATE EXTENSION citus on the coordinator and every worker, add the workers, then call leadflow.distribute() on the coordinator.';
    END IF;
    IF shard_count IS NULL OR shard_count OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'shard_count must be a positive number, not %', shard_count
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Citus's own objects are named in EXECUTE only: the function must
    -- install and plan where Citus is absent
    EXECUTE 'SELECT pg_catalog.citus_is_coordinator()' INTO moved;
    IF NOT moved THEN
        RAISE EXCEPTION 'leadflow.distribute() runs on the Citus coordinator'
            USING ERRCODE = 'feature_not_supported';
    END IF;
    -- the pipeline is made of triggers; they run on the shards, where every
    -- statement they run stays on the row's org (README "Scaling out")
    PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
    -- tables with foreign keys to reference tables, distributed in one
    -- transaction, must be created over one connection per node
    PERFORM pg_catalog.set_config('citus.multi_shard_modify_mode', 'sequential', true);

    -- shared reference data: no org_id
    FOR t IN SELECT c.oid::pg_catalog.regclass AS rel
               FROM pg_catalog.pg_class c
              WHERE c.relnamespace OPERATOR(pg_catalog.=) 'leadflow'::pg_catalog.regnamespace
                AND c.relkind OPERATOR(pg_catalog.=) 'r'
                AND NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a
                                 WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attname OPERATOR(pg_catalog.=) 'org_id'
                                   AND NOT a.attisdropped)
              ORDER BY c.relname LOOP
        IF NOT leadflow.is_distributed(t.rel) THEN
            EXECUTE 'SELECT pg_catalog.create_reference_table($1)' USING t.rel;
        END IF;
    END LOOP;

    -- Citus enforces no unique index without org_id: lead ids stay unique
    -- across orgs by their sequence (made on the coordinator), and an
    -- explicit lead_id is no longer checked against other orgs' (README
    -- "Scaling out")
    IF NOT leadflow.is_distributed('leadflow.leads') AND EXISTS
       (SELECT FROM pg_catalog.pg_index i
         WHERE i.indexrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass('leadflow.leads_lead_id') AND i.indisunique) THEN
        DROP INDEX leadflow.leads_lead_id;
        CREATE INDEX leads_lead_id ON leadflow.leads (lead_id);
    END IF;

    IF NOT leadflow.is_distributed('leadflow.orgs') THEN
        EXECUTE 'SELECT pg_catalog.create_distributed_table($1, ''org_id'', shard_count => $2, colocate_with => ''none'')'
            USING 'leadflow.orgs'::pg_catalog.regclass, shard_count;
    END IF;

    -- every other table, each once the tables it refers to are distributed
    LOOP
        moved := false;
        FOR t IN SELECT c.oid::pg_catalog.regclass AS rel
                   FROM pg_catalog.pg_class c
                  WHERE c.relnamespace OPERATOR(pg_catalog.=) 'leadflow'::pg_catalog.regnamespace
                    AND c.relkind OPERATOR(pg_catalog.=) 'r'
                    AND NOT leadflow.is_distributed(c.oid::pg_catalog.regclass)
                    AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint k
                                     WHERE k.conrelid OPERATOR(pg_catalog.=) c.oid AND k.contype OPERATOR(pg_catalog.=) 'f'
                                       AND k.confrelid OPERATOR(pg_catalog.<>) c.oid
                                       AND NOT leadflow.is_distributed(k.confrelid::pg_catalog.regclass))
                  ORDER BY c.relname LOOP
            EXECUTE 'SELECT pg_catalog.create_distributed_table($1, ''org_id'', colocate_with => ''leadflow.orgs'')'
                USING t.rel;
            moved := true;
        END LOOP;
        EXIT WHEN NOT moved;
    END LOOP;
    SELECT pg_catalog.string_agg(c.relname, ', ' ORDER BY c.relname) INTO left_over
      FROM pg_catalog.pg_class c
     WHERE c.relnamespace OPERATOR(pg_catalog.=) 'leadflow'::pg_catalog.regnamespace
       AND c.relkind OPERATOR(pg_catalog.=) 'r'
       AND NOT leadflow.is_distributed(c.oid::pg_catalog.regclass);
    IF left_over IS NOT NULL THEN
        RAISE EXCEPTION 'leadflow.distribute() could not distribute %', left_over
            USING ERRCODE = 'invalid_table_definition',
                  DETAIL = 'Their foreign keys form a cycle or refer to tables outside leadflow.';
    END IF;

    -- Ids made on a worker (an org's defaults, journey step ids, events)
    -- come from that worker's own sequences: each node numbers from
    -- group id * 2^48 on, so that no two nodes hand out the same id.
    -- Listeners are on the coordinator: the workers send no NOTIFY (the
    -- event outbox, leadflow.events, is the way to consume events).
    EXECUTE $cmd$SELECT pg_catalog.string_agg(w.nodename OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) w.nodeport
                                        OPERATOR(pg_catalog.||) ': ' OPERATOR(pg_catalog.||) w.result, '; ')
                   FROM pg_catalog.run_command_on_workers($w$
        DO $d$
        DECLARE
            s pg_catalog.regclass;
            floor_id bigint := (SELECT g.groupid FROM pg_catalog.pg_dist_local_group g)::bigint OPERATOR(pg_catalog.<<) 48;
            last_id bigint;
        BEGIN
            FOR s IN SELECT c.oid FROM pg_catalog.pg_class c
                      WHERE c.relkind OPERATOR(pg_catalog.=) 'S'
                        AND c.relnamespace OPERATOR(pg_catalog.=) 'leadflow'::pg_catalog.regnamespace LOOP
                EXECUTE pg_catalog.format('SELECT last_value FROM %s', s) INTO last_id;
                IF last_id OPERATOR(pg_catalog.<) floor_id THEN
                    PERFORM pg_catalog.setval(s, floor_id);
                END IF;
            END LOOP;
            -- this node's setting alone
            PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', 'off', true);
            EXECUTE pg_catalog.format('ALTER DATABASE %I SET leadflow.notify = off', pg_catalog.current_database());
        END
        $d$
    $w$) w WHERE NOT w.success$cmd$ INTO left_over;
    IF left_over IS NOT NULL THEN
        RAISE EXCEPTION 'leadflow.distribute() could not set up every worker: %', left_over
            USING ERRCODE = 'connection_failure';
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.distribute(integer) IS
    'Citus: makes the tables without org_id reference tables and every org table distributed by org_id, colocated with orgs (shard_count shards); numbers ids per worker and turns NOTIFY off on the workers. Superuser, on the coordinator; idempotent (call it again after adding a worker).';
REVOKE EXECUTE ON FUNCTION @extschema@.distribute(integer) FROM PUBLIC;

-- whether a table is a Citus table (false where Citus is absent)
CREATE FUNCTION @extschema@.is_distributed(rel regclass)
RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    found boolean;
BEGIN
    IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE 'SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1)'
       INTO found USING rel;
    RETURN found;
END
$$;
COMMENT ON FUNCTION @extschema@.is_distributed(regclass) IS 'Whether a table is a Citus table (distributed or reference); false where Citus is absent.';
REVOKE EXECUTE ON FUNCTION @extschema@.is_distributed(regclass) FROM PUBLIC;

-- Issue 22: functions Citus plans (PL/pgSQL: the org id a constant in
-- each statement, one shard; Citus cannot plan parameters of SQL functions)
CREATE OR REPLACE FUNCTION @extschema@.verify_journey(org_id bigint)
RETURNS TABLE (lead_id bigint, seq integer, problem text)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY SELECT j.lead_id, j.seq,
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
END
$$;
CREATE OR REPLACE FUNCTION @extschema@.explain_routing(lead_id bigint)
RETURNS TABLE (step text, rule_id bigint, rule_name text, rep_id bigint, outcome text)
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    -- a routed row, or the member routed of a created row (since 0.2.0)
    RETURN QUERY WITH last_routing AS (
        SELECT CASE WHEN j.kind OPERATOR(pg_catalog.=) 'created' THEN j.detail OPERATOR(pg_catalog.->) 'routed'
                    ELSE j.detail END AS detail
          FROM leadflow.lead_journey j
         WHERE j.lead_id OPERATOR(pg_catalog.=) explain_routing.lead_id
           AND (j.kind OPERATOR(pg_catalog.=) 'routed'
                OR (j.kind OPERATOR(pg_catalog.=) 'created' AND j.detail OPERATOR(pg_catalog.?) 'routed'))
         ORDER BY j.seq DESC LIMIT 1)
    SELECT c.value OPERATOR(pg_catalog.->>) 'step', NULL::bigint, NULL::text,
           (c.value OPERATOR(pg_catalog.->>) 'rep_id')::bigint,
           'skipped: ' OPERATOR(pg_catalog.||) (c.value OPERATOR(pg_catalog.->>) 'skipped')
      FROM last_routing r, pg_catalog.jsonb_array_elements(r.detail OPERATOR(pg_catalog.->) 'candidates') WITH ORDINALITY c(value, n)
    UNION ALL
    SELECT r.detail OPERATOR(pg_catalog.->>) 'path', (r.detail OPERATOR(pg_catalog.->>) 'rule_id')::bigint,
           r.detail OPERATOR(pg_catalog.->>) 'rule_name',
           (r.detail OPERATOR(pg_catalog.->>) 'rep_id')::bigint,
           CASE WHEN r.detail OPERATOR(pg_catalog.->>) 'rep_id' IS NULL THEN 'unassigned' ELSE 'assigned' END
             OPERATOR(pg_catalog.||) COALESCE(' via ' OPERATOR(pg_catalog.||) (r.detail OPERATOR(pg_catalog.->>) 'strategy'), '')
             OPERATOR(pg_catalog.||) ' (' OPERATOR(pg_catalog.||) (r.detail OPERATOR(pg_catalog.->>) 'reason')
             OPERATOR(pg_catalog.||) ')'
      FROM last_routing r;
END
$$;
CREATE OR REPLACE FUNCTION @extschema@.may_email(org_id bigint, lead_id bigint, as_of timestamptz DEFAULT pg_catalog.now())
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT CASE WHEN COALESCE((SELECT (o.settings OPERATOR(pg_catalog.->>) 'nurture_requires_consent')::boolean
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
     WHERE leadflow.check_org_access($1));
END
$$;
CREATE OR REPLACE FUNCTION @extschema@.nurture_schedule(org_id bigint)
RETURNS TABLE (step text, step_days integer)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY SELECT s.key, s.value::integer
      FROM pg_catalog.jsonb_each_text(COALESCE(
               (SELECT o.settings OPERATOR(pg_catalog.->) 'nurture_schedule' FROM leadflow.orgs o
                 WHERE o.org_id OPERATOR(pg_catalog.=) $1),
               '{"welcome": 0, "educational": 7, "case_study": 21, "re_engagement": 45}'::jsonb)) s
     WHERE leadflow.check_org_access($1)
     ORDER BY s.value::integer, s.key;
END
$$;

-- Issue 22: report_rep_load without a LATERAL over a grouped subquery,
-- which Citus cannot push down
CREATE OR REPLACE VIEW @extschema@.report_rep_load WITH (security_invoker = true) AS
-- no LATERAL over the counted subquery: Citus pushes this down per org
SELECT y.org_id, y.rep_id, y.name, y.team_id, y.open_leads, y.max_open_leads, y.utilization,
       y.active, y.accepting_leads, y.away, y.at_capacity,
       y.active AND y.accepting_leads AND NOT y.away AND NOT y.at_capacity AS available,
       y.assigned_total, y.last_assigned_at
  FROM (SELECT r.org_id, r.rep_id, r.name, r.team_id,
               COALESCE(o.open_leads, 0) AS open_leads,
               r.max_open_leads,
               COALESCE(o.open_leads, 0)::numeric / NULLIF(r.max_open_leads, 0) AS utilization,
               r.active, r.accepting_leads,
               -- away as routing sees it: inside [away_from, away_until), an open end unbounded
               (r.away_from IS NOT NULL OR r.away_until IS NOT NULL)
               AND COALESCE(r.away_from <= pg_catalog.now(), true)
               AND COALESCE(pg_catalog.now() < r.away_until, true) AS away,
               COALESCE(COALESCE(o.open_leads, 0) >= r.max_open_leads, false) AS at_capacity,
               rl.assigned_total,
               rl.last_assigned_at
          FROM leadflow.reps r
          LEFT JOIN (SELECT l.org_id, l.owner_rep_id, pg_catalog.count(*) AS open_leads
                       FROM leadflow.leads l
                      WHERE l.owner_rep_id IS NOT NULL AND l.merged_into IS NULL AND l.erased_at IS NULL
                        AND l.status = ANY (@extschema@.open_statuses())
                      GROUP BY l.org_id, l.owner_rep_id) o
                 ON o.org_id = r.org_id AND o.owner_rep_id = r.rep_id
          LEFT JOIN leadflow.rep_load rl ON rl.org_id = r.org_id AND rl.rep_id = r.rep_id) y;
------------------------------------------------------------------------------
-- Issue 18: process_import at 0.1.0's speed.  Without JIT: the per-row
-- helpers of its INSERT ... SELECT lift the estimate over jit_above_cost,
-- and compiling took 640k instructions a row in a 10,000-row import,
-- three quarters of the rest (the time is in the trigger, which JIT does
-- not compile).  The batch's staged rows are written once: each row is
-- checked, keyed and given its lead id in a temporary table first.
------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION @extschema@.process_import(org_id bigint, batch_id bigint)
RETURNS TABLE (created integer, merged integer, rejected integer, unchanged integer)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    region text;
    -- looked up once: a catalog lookup per row in the nextval below costs
    lead_seq regclass := pg_catalog.pg_get_serial_sequence('leadflow.leads', 'lead_id')::regclass;
BEGIN
    IF process_import.org_id IS NULL OR process_import.batch_id IS NULL THEN
        RAISE EXCEPTION 'process_import needs an org_id and a batch_id, got org_id % and batch_id %',
            COALESCE(process_import.org_id::text, 'NULL'), COALESCE(process_import.batch_id::text, 'NULL')
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM leadflow.check_org_access(process_import.org_id);
    SELECT COALESCE(o.settings ->> 'default_region', 'US') INTO region
      FROM leadflow.orgs o WHERE o.org_id OPERATOR(pg_catalog.=) process_import.org_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'org % does not exist', process_import.org_id USING ERRCODE = 'foreign_key_violation';
    END IF;

    -- take the batch: a second process_import of it waits, then finds it done
    PERFORM FROM leadflow.lead_imports i
      WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
        AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
        AND i.processed_at IS NULL
      FOR UPDATE;
    IF NOT FOUND AND NOT EXISTS (SELECT FROM leadflow.lead_imports i
                                  WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
                                    AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id) THEN
        RAISE EXCEPTION 'import batch % of org % not found', process_import.batch_id, process_import.org_id
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The rows of one \copy share a batch_id: SELECT batch_id, count(*) FROM leadflow.lead_imports WHERE processed_at IS NULL GROUP BY 1.';
    END IF;

    -- What each new row of the batch is, worked out first in a narrow
    -- temporary table (no WAL, no index on the staged rows to maintain),
    -- so that the staged rows are written once: error, trimmed
    -- external_id, fingerprint, unchanged and lead id in one UPDATE.  (Two
    -- passes over the batch, the check and then the lead ids, wrote every
    -- row twice: at 100k rows that second rewrite alone took a tenth of
    -- the import.)
    IF pg_catalog.to_regclass('pg_temp.leadflow_import_rows') IS NULL THEN
        CREATE TEMP TABLE leadflow_import_rows (
            row_number  bigint PRIMARY KEY,
            error       text,
            external_id text,
            source      text,
            fingerprint text,
            unchanged   boolean NOT NULL DEFAULT false,
            lead_id     bigint,
            first_row   bigint
        ) ON COMMIT DROP;
    END IF;
    TRUNCATE pg_temp.leadflow_import_rows;
    -- a row is rejected only when no usable email or phone remains; an
    -- unusable optional value is kept and noted (leads.data_issues).  Rows
    -- go in in row order: the lead ids below are drawn in that order.
    INSERT INTO pg_temp.leadflow_import_rows (row_number, error, external_id, source, fingerprint)
    SELECT c.row_number, c.error,
           CASE WHEN c.error IS NULL THEN c.external_id ELSE c.staged_external_id END,
           CASE WHEN c.error IS NULL AND c.external_id IS NOT NULL
                THEN leadflow.org_source(process_import.org_id, COALESCE(NULLIF(pg_catalog.btrim(c.source), ''), 'csv_import')) END,
           CASE WHEN c.error IS NULL THEN c.fingerprint END
      FROM (SELECT r.row_number, r.source, r.external_id AS staged_external_id,
                   NULLIF(pg_catalog.btrim(r.external_id), '') AS external_id,
                   COALESCE(leadflow.contact_problem(r.email, r.phone, r.country, region),
                            CASE WHEN NULLIF(pg_catalog.btrim(r.status), '') IS NOT NULL
                                   OR NULLIF(pg_catalog.btrim(r.stage), '') IS NOT NULL
                                 THEN leadflow.import_place_problem(r.org_id, r.status, r.stage) END) AS error,
                   -- import_fingerprint(r), written out: a function call per row costs
                   pg_catalog.md5(pg_catalog.concat_ws(pg_catalog.chr(31),
                       r.first_name, r.last_name, r.email, r.phone, r.company, r.job_title, r.industry,
                       r.company_size, r.annual_revenue, r.country, r.state, r.city, r.postal_code,
                       r.source, r.campaign, NULLIF(pg_catalog.btrim(r.external_id), ''),
                       pg_catalog.concat((r.first_name IS NULL)::int, (r.last_name IS NULL)::int, (r.email IS NULL)::int,
                                         (r.phone IS NULL)::int, (r.company IS NULL)::int, (r.job_title IS NULL)::int,
                                         (r.industry IS NULL)::int, (r.company_size IS NULL)::int,
                                         (r.annual_revenue IS NULL)::int, (r.country IS NULL)::int,
                                         (r.state IS NULL)::int, (r.city IS NULL)::int, (r.postal_code IS NULL)::int,
                                         (r.source IS NULL)::int, (r.campaign IS NULL)::int),
                   'o:' OPERATOR(pg_catalog.||) r.owner_rep_id, 'e:' OPERATOR(pg_catalog.||) r.owner_email,
                   'c:' OPERATOR(pg_catalog.||) r.created_at, 's:' OPERATOR(pg_catalog.||) r.status,
                   'g:' OPERATOR(pg_catalog.||) r.stage, 'a:' OPERATOR(pg_catalog.||) r.attributes)) AS fingerprint
              FROM leadflow.lead_imports r
             WHERE r.org_id OPERATOR(pg_catalog.=) process_import.org_id
               AND r.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
               AND r.processed_at IS NULL
             -- OFFSET 0: the check (a phone parse) is computed once per
             -- row, not once for each column above that reads it
             OFFSET 0) c
     ORDER BY c.row_number;
    ANALYZE pg_temp.leadflow_import_rows;

    -- Re-importing changes nothing: a row whose source and external_id
    -- are stored (their claim), or with the fields of a row of an earlier
    -- batch (its fingerprint; set-based: hash joins, no search per row),
    -- is unchanged and is the lead it was
    UPDATE pg_temp.leadflow_import_rows t
       SET unchanged = true, lead_id = leadflow.survivor_of(x.org_id, x.lead_id)
      FROM leadflow.lead_external_ids x
     WHERE t.error IS NULL AND t.external_id IS NOT NULL
       AND x.org_id OPERATOR(pg_catalog.=) process_import.org_id
       AND x.source OPERATOR(pg_catalog.=) COALESCE(t.source, '')
       AND x.external_id OPERATOR(pg_catalog.=) t.external_id;
    UPDATE pg_temp.leadflow_import_rows t
       SET unchanged = true, lead_id = leadflow.survivor_of(process_import.org_id, h.lead_id)
      FROM (SELECT DISTINCT ON (p.fingerprint) p.fingerprint, p.lead_id
              FROM leadflow.lead_imports p
             WHERE p.org_id OPERATOR(pg_catalog.=) process_import.org_id
               AND p.batch_id OPERATOR(pg_catalog.<>) process_import.batch_id
               AND p.fingerprint IS NOT NULL AND p.lead_id IS NOT NULL
             ORDER BY p.fingerprint, p.batch_id, p.row_number) h
     WHERE t.error IS NULL AND NOT t.unchanged
       AND t.fingerprint OPERATOR(pg_catalog.=) h.fingerprint;

    -- a repeat of an earlier row of the batch (same fields, or the same
    -- source and external_id; rows of an earlier call on the batch that
    -- were unchanged count too): one pass with window functions; its
    -- lead is that of the row it repeats, known after the INSERT
    UPDATE pg_temp.leadflow_import_rows t
       SET unchanged = true, first_row = w.first_row
      FROM (SELECT e.row_number, LEAST(e.first_fp, COALESCE(e.first_ext, e.first_fp)) AS first_row
              FROM (SELECT a.row_number,
                           pg_catalog.min(a.row_number) OVER (PARTITION BY a.fingerprint) AS first_fp,
                           CASE WHEN a.external_id IS NOT NULL
                                THEN pg_catalog.min(a.row_number) OVER (PARTITION BY a.source, a.external_id) END AS first_ext
                      FROM (SELECT n.row_number, n.fingerprint, n.external_id, n.source
                              FROM pg_temp.leadflow_import_rows n
                             WHERE n.error IS NULL
                            UNION ALL
                            SELECT i.row_number, i.fingerprint, i.external_id,
                                   CASE WHEN i.external_id IS NOT NULL
                                        THEN leadflow.org_source(i.org_id, COALESCE(NULLIF(pg_catalog.btrim(i.source), ''), 'csv_import'))
                                   END
                              FROM leadflow.lead_imports i
                             WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
                               AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
                               AND i.processed_at IS NOT NULL AND i.error IS NULL AND i.unchanged) a) e) w
     WHERE t.row_number OPERATOR(pg_catalog.=) w.row_number
       AND w.first_row OPERATOR(pg_catalog.<) w.row_number AND NOT t.unchanged;

    -- the lead ids of the rows to create, in row order (those rows were
    -- inserted in that order and never updated since)
    UPDATE pg_temp.leadflow_import_rows t
       SET lead_id = pg_catalog.nextval(lead_seq)
     WHERE t.error IS NULL AND NOT t.unchanged;

    -- the batch's rows, written once
    UPDATE leadflow.lead_imports i
       SET error = t.error,
           processed_at = pg_catalog.now(),
           external_id = t.external_id,
           fingerprint = t.fingerprint,
           unchanged = t.unchanged,
           lead_id = t.lead_id
      FROM pg_temp.leadflow_import_rows t
     WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
       AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
       AND i.row_number OPERATOR(pg_catalog.=) t.row_number;

    -- company_size and annual_revenue as people type them ("1,200",
    -- "$5M"); what cannot be read stays as typed in attributes, noted.
    -- A migration's owner is kept (the pipeline does not route the lead),
    -- its status or stage too (checked above); custom fields go to
    -- attributes.  The migration columns are read only where given.
    INSERT INTO leadflow.leads (org_id, lead_id, first_name, last_name, email, phone, company, job_title,
                                industry, company_size, annual_revenue, country, state, city,
                                postal_code, source, campaign, attributes, data_issues, external_id,
                                owner_rep_id, status, stage_id)
    SELECT i.org_id, i.lead_id, i.first_name, i.last_name, i.email, i.phone, i.company, i.job_title,
           i.industry, leadflow.parse_number(i.company_size, true)::integer, leadflow.parse_number(i.annual_revenue),
           i.country, i.state, i.city, i.postal_code, COALESCE(NULLIF(pg_catalog.btrim(i.source), ''), 'csv_import'), i.campaign,
           COALESCE(m.custom, '{}') OPERATOR(pg_catalog.||)
           CASE WHEN p.size_problem IS NULL AND p.revenue_problem IS NULL THEN '{}'::jsonb
                ELSE pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                         'company_size', CASE WHEN p.size_problem IS NOT NULL THEN i.company_size END,
                         'annual_revenue', CASE WHEN p.revenue_problem IS NOT NULL THEN i.annual_revenue END)) END,
           CASE WHEN COALESCE(p.size_problem, p.revenue_problem, m.owner_problem, m.created_problem, m.custom_problem) IS NOT NULL
                THEN pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                         'company_size', p.size_problem, 'annual_revenue', p.revenue_problem,
                         'owner', m.owner_problem, 'created_at', m.created_problem, 'attributes', m.custom_problem)) END,
           i.external_id, m.owner_rep_id, COALESCE(m.status, 'new'), m.stage_id
      FROM leadflow.lead_imports i
     CROSS JOIN LATERAL (SELECT leadflow.number_problem(i.company_size, true) AS size_problem,
                                leadflow.number_problem(i.annual_revenue) AS revenue_problem) p
     CROSS JOIN LATERAL (
           SELECT CASE WHEN o.given AND o.rep_id IS NULL THEN 'unknown' END AS owner_problem, o.rep_id AS owner_rep_id,
                  CASE WHEN c.given AND c.at IS NULL THEN 'not_a_date'
                       WHEN c.at OPERATOR(pg_catalog.>) pg_catalog.now() THEN 'in_future' END AS created_problem,
                  CASE WHEN a.given AND pg_catalog.jsonb_typeof(a.value) IS DISTINCT FROM 'object' THEN 'not_an_object' END AS custom_problem,
                  CASE WHEN NOT a.given THEN NULL
                       WHEN pg_catalog.jsonb_typeof(a.value) = 'object' THEN a.value
                       ELSE pg_catalog.jsonb_build_object('attributes', i.attributes) END AS custom,
                  pg_catalog.lower(NULLIF(pg_catalog.btrim(i.status), '')) AS status,
                  CASE WHEN NULLIF(pg_catalog.btrim(i.stage), '') IS NOT NULL
                       THEN leadflow.import_stage(i.org_id, i.stage) END AS stage_id
             FROM (SELECT NULLIF(pg_catalog.btrim(i.owner_rep_id), '') IS NOT NULL
                          OR NULLIF(pg_catalog.btrim(i.owner_email), '') IS NOT NULL AS given,
                          CASE WHEN NULLIF(pg_catalog.btrim(i.owner_rep_id), '') IS NOT NULL
                                 OR NULLIF(pg_catalog.btrim(i.owner_email), '') IS NOT NULL THEN
                              (SELECT r.rep_id FROM leadflow.reps r
                                WHERE r.org_id OPERATOR(pg_catalog.=) i.org_id
                                  AND CASE WHEN NULLIF(pg_catalog.btrim(i.owner_rep_id), '') IS NOT NULL
                                           THEN r.rep_id::text OPERATOR(pg_catalog.=) pg_catalog.btrim(i.owner_rep_id)
                                           ELSE pg_catalog.lower(r.email) OPERATOR(pg_catalog.=) pg_catalog.lower(pg_catalog.btrim(i.owner_email)) END
                                ORDER BY r.active DESC, r.rep_id LIMIT 1) END AS rep_id) o,
                  (SELECT NULLIF(pg_catalog.btrim(i.created_at), '') IS NOT NULL AS given,
                          CASE WHEN NULLIF(pg_catalog.btrim(i.created_at), '') IS NOT NULL
                               THEN leadflow.import_timestamp(i.created_at) END AS at) c,
                  (SELECT NULLIF(pg_catalog.btrim(i.attributes), '') IS NOT NULL AS given,
                          CASE WHEN NULLIF(pg_catalog.btrim(i.attributes), '') IS NOT NULL
                               THEN leadflow.import_json(i.attributes) END AS value) a) m
     WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
       AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
       AND i.error IS NULL AND NOT i.unchanged
       AND NOT EXISTS (SELECT FROM leadflow.leads l
                        WHERE l.org_id OPERATOR(pg_catalog.=) i.org_id AND l.lead_id OPERATOR(pg_catalog.=) i.lead_id)
     -- the pipeline claims emails (then phones) in the order of the rows:
     -- one order for every batch, so two imports sharing addresses in
     -- different file orders wait for each other instead of deadlocking
     -- (the key is computed only where normalizing cannot fail; a phone is
     -- read, which costs, only for a row without a usable email)
     ORDER BY COALESCE(CASE WHEN leadflow.contact_problem(i.email, NULL, NULL) IS NULL
                            THEN leadflow.normalize_email(i.email) END,
                       CASE WHEN leadflow.contact_problem(NULL, i.phone, NULL, region) IS NULL
                            THEN leadflow.normalize_phone(i.phone, region) END) COLLATE pg_catalog."C",
              i.row_number;

    -- A migrated lead keeps its past created_at.  Its clocks start at the
    -- import: the SLA's at assigned_at (set by the insert), inactivity
    -- decay and cold archiving at last_activity_at (else they would count
    -- from the old date and archive or decay the backlog at once).
    UPDATE leadflow.leads l
       SET created_at = c.at, last_activity_at = COALESCE(l.last_activity_at, l.created_at)
      FROM (SELECT i.lead_id, leadflow.import_timestamp(i.created_at) AS at
              FROM leadflow.lead_imports i
             WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
               AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
               AND i.error IS NULL AND NOT i.unchanged
               AND NULLIF(pg_catalog.btrim(i.created_at), '') IS NOT NULL) c
     WHERE l.org_id OPERATOR(pg_catalog.=) process_import.org_id AND l.lead_id OPERATOR(pg_catalog.=) c.lead_id
       AND l.merged_into IS NULL AND c.at OPERATOR(pg_catalog.<) l.created_at;

    -- a repeat within the batch is the lead of the row it repeats
    UPDATE leadflow.lead_imports i
       SET lead_id = leadflow.survivor_of(f.org_id, f.lead_id)
      FROM pg_temp.leadflow_import_rows r
      JOIN leadflow.lead_imports f ON f.org_id OPERATOR(pg_catalog.=) process_import.org_id
                                  AND f.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
                                  AND f.row_number OPERATOR(pg_catalog.=) r.first_row
     WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
       AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
       AND i.row_number OPERATOR(pg_catalog.=) r.row_number
       AND r.first_row IS NOT NULL AND i.unchanged AND i.lead_id IS NULL;
    TRUNCATE pg_temp.leadflow_import_rows;

    RETURN QUERY
    SELECT pg_catalog.count(*) FILTER (WHERE l.status <> 'merged' AND NOT i.unchanged)::integer,
           pg_catalog.count(*) FILTER (WHERE l.status = 'merged' AND NOT i.unchanged)::integer,
           (pg_catalog.count(*) FILTER (WHERE i.error IS NOT NULL))::integer,
           (pg_catalog.count(*) FILTER (WHERE i.unchanged))::integer
      FROM leadflow.lead_imports i
      LEFT JOIN leadflow.leads l ON l.org_id OPERATOR(pg_catalog.=) i.org_id AND l.lead_id OPERATOR(pg_catalog.=) i.lead_id
     WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
       AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id;
END
$$;

------------------------------------------------------------------------------
-- Issue 20: search words.  Lead search compares words: each lead's distinct
-- words (leads.search_words, GIN) and each org's distinct words
-- (lead_words, trigram GIN), instead of a trigram index over every lead's
-- names and company (cheaper to load, faster to search: README
-- "Performance").  The section before this one no longer adds
-- leads.search_text and its index: one rewrite of leads, not two.
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.search_key(first_name text, last_name text, company text)
RETURNS text
AS 'MODULE_PATHNAME', 'leadflow_search_key'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.search_key(text, text, text) IS
    'The parts without accents (unaccent), in lower case, joined by a space; NULL when all are NULL. search_leads compares its query with the names and the company of the leads it returns this way, to tell a name match from a company match.';

CREATE FUNCTION @extschema@.search_words(first_name text, last_name text, company text)
RETURNS text[]
AS 'MODULE_PATHNAME', 'leadflow_search_words'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.search_words(text, text, text) IS
    'The distinct words of the parts as lead search compares them: without accents (unaccent), in lower case, split at ASCII characters other than letters and digits, each cut to 47 bytes; NULL when there is none. The pipeline keeps leads.search_words so for each lead.';

-- A lead's 3 or 4 words, not its ~22 trigrams, go into the leads' GIN
-- index: the trigrams are indexed once per org and word, in lead_words,
-- which a bulk load of names the org has seen before leaves alone (README
-- "Performance" has both costs).  Set by the leads trigger
-- (search_words.c), not a stored generated column, whose upkeep copies
-- every value of the row on every insert and update.
-- (filled in the one rewrite of leads as a generated column would be,
-- then a plain column: the trigger keeps it from here on)
ALTER TABLE @extschema@.leads ADD COLUMN search_words text[]
    GENERATED ALWAYS AS (@extschema@.search_words(first_name, last_name, company)) STORED;
ALTER TABLE @extschema@.leads ALTER COLUMN search_words DROP EXPRESSION;
COMMENT ON COLUMN @extschema@.leads.search_words IS 'The words of first name, last name and company as lead search compares them (search_words(): unaccented, lower case); set by the pipeline, whatever is written.';
CREATE INDEX leads_search ON @extschema@.leads USING gin (search_words);

-- Every org's distinct words, written by the pipeline at the end of each
-- statement (search_words.c); erase_lead removes those no lead holds any
-- more.
CREATE TABLE @extschema@.lead_words (
    org_id  bigint NOT NULL,
    word    text NOT NULL,
    PRIMARY KEY (org_id, word)
);
COMMENT ON TABLE @extschema@.lead_words IS 'Internal: each org''s distinct words of lead names and companies (leads.search_words), which lead search compares its query with by trigram similarity.';
COMMENT ON COLUMN @extschema@.lead_words.word IS 'A word as search_words makes it (personal data: erase_lead removes it with the last lead that holds it).';
CREATE INDEX lead_words_trgm ON @extschema@.lead_words USING gin (word gin_trgm_ops);
SELECT pg_catalog.pg_extension_config_dump('leadflow.lead_words', '');

-- The org's words no lead holds any more: after an erasure (erase_lead),
-- or names changed by UPDATE, which leave their old words behind.
CREATE FUNCTION @extschema@.prune_search_words(org_id bigint, words text[] DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    IF prune_search_words.org_id IS NULL THEN
        RAISE EXCEPTION 'org_id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM leadflow.check_org_access(prune_search_words.org_id);
    -- the org's words lock, which every transaction that wrote words of the
    -- org holds (shared) until commit: the next statement sees the leads
    -- they wrote, and those written later write their words again
    PERFORM pg_catalog.pg_advisory_xact_lock(1279677271,
                                             (prune_search_words.org_id OPERATOR(pg_catalog.&) 2147483647)::integer);
    DELETE FROM leadflow.lead_words w
     WHERE w.org_id OPERATOR(pg_catalog.=) prune_search_words.org_id
       AND (prune_search_words.words IS NULL OR w.word OPERATOR(pg_catalog.=) ANY (prune_search_words.words))
       AND NOT EXISTS (SELECT FROM leadflow.leads y
                        WHERE y.org_id OPERATOR(pg_catalog.=) w.org_id
                          AND y.search_words OPERATOR(pg_catalog.@>) ARRAY[w.word]);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION @extschema@.prune_search_words(bigint, text[]) IS
    'Removes the org''s words (of the given words, or all) that no lead of the org holds from lead_words, under the org''s words lock; returns how many. erase_lead calls it for the erased person''s words; run it for all after names were changed, whose old words stay otherwise.';
REVOKE EXECUTE ON FUNCTION @extschema@.prune_search_words(bigint, text[]) FROM PUBLIC;

CREATE FUNCTION @extschema@.search_score(words text[], candidates text[], query_word integer[],
                                         similarity real[], weights real[])
RETURNS real
AS 'MODULE_PATHNAME', 'leadflow_search_score'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.search_score(text[], text[], integer[], real[], real[]) IS
    'A lead''s score for a query of cardinality(weights) words: the weighted mean over the query''s words of the best similarity of one of the lead''s words (words) among the candidates of that query word (candidates[i] is similar to query word query_word[i] by similarity[i]), 0 where none is. search_leads ranks by it.';

CREATE FUNCTION @extschema@.search_leads(org_id bigint, query text, max integer DEFAULT 20,
                                         include_merged boolean DEFAULT false)
RETURNS TABLE (lead_id bigint, score real, matched text)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    q text := pg_catalog.btrim(search_leads.query);
    key text;
    region text;
    trgm name;
    qwords text[];
    cand text[] := '{}';
    cand_word integer[] := '{}';
    cand_sim real[] := '{}';
    weights real[] := '{}';
    ws text[];
    ss real[];
    conds text := '';
    top text[] := '{}';
    top_conds text := '';
    top_score real := 0;
    top_score_i real;
    tw text[];
    matched text;
    tier record;
    done text[] := '{}';
    nfound integer := 0;
    got integer;
    i integer;
BEGIN
    IF search_leads.org_id IS NULL THEN
        RAISE EXCEPTION 'org_id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF search_leads.max IS NULL OR search_leads.max NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'max must be between 1 and 1000, not %', COALESCE(search_leads.max::text, 'null')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM leadflow.check_org_access(search_leads.org_id);
    IF q IS NULL OR q OPERATOR(pg_catalog.=) '' THEN
        RETURN;
    END IF;

    -- an email: the normalized form, exactly (the live lead holding it,
    -- and on request its merged duplicates with that email)
    IF pg_catalog.strpos(q, '@') OPERATOR(pg_catalog.>) 0 THEN
        BEGIN
            key := leadflow.normalize_email(q);
        EXCEPTION WHEN invalid_parameter_value THEN
            key := NULL;
        END;
        IF key IS NOT NULL THEN
            RETURN QUERY
            SELECT e.lead_id, 1::real, 'email'::text
              FROM leadflow.lead_emails e
             WHERE e.org_id OPERATOR(pg_catalog.=) search_leads.org_id
               AND e.email_normalized OPERATOR(pg_catalog.=) key
            UNION ALL
            SELECT l.lead_id, 1::real, 'email'::text
              FROM leadflow.lead_emails e
              JOIN leadflow.leads l ON l.org_id OPERATOR(pg_catalog.=) e.org_id
                                   AND l.merged_into OPERATOR(pg_catalog.=) e.lead_id
             WHERE search_leads.include_merged
               AND e.org_id OPERATOR(pg_catalog.=) search_leads.org_id
               AND e.email_normalized OPERATOR(pg_catalog.=) key
               AND l.email_normalized OPERATOR(pg_catalog.=) key
             ORDER BY 1
             LIMIT search_leads.max;
            RETURN;
        END IF;
    END IF;

    -- a phone number (digits and phone punctuation only), read with the
    -- org's default region as the pipeline reads leads' phones
    IF q OPERATOR(pg_catalog.~) '^\+?[0-9 ().\-/]+$'
       AND pg_catalog.length(pg_catalog.regexp_replace(q, '[^0-9]', '', 'g')) OPERATOR(pg_catalog.>=) 5 THEN
        SELECT COALESCE(o.settings OPERATOR(pg_catalog.->>) 'default_region', 'US') INTO region
          FROM leadflow.orgs o WHERE o.org_id OPERATOR(pg_catalog.=) search_leads.org_id;
        BEGIN
            key := leadflow.normalize_phone(q, COALESCE(region, 'US'));
        EXCEPTION WHEN invalid_parameter_value THEN
            key := NULL;
        END;
        IF key IS NOT NULL THEN
            RETURN QUERY
            SELECT l.lead_id, 1::real, 'phone'::text
              FROM leadflow.leads l
             WHERE l.org_id OPERATOR(pg_catalog.=) search_leads.org_id
               AND l.phone_e164 OPERATOR(pg_catalog.=) key
               AND (search_leads.include_merged OR l.merged_into IS NULL)
             ORDER BY l.merged_into NULLS FIRST, l.lead_id
             LIMIT search_leads.max;
            RETURN;
        END IF;
    END IF;

    -- names and company: each word of the query is compared with the org's
    -- distinct words by trigram word similarity (lead_words; pg_trgm, in
    -- whatever schema it was installed: its operator is named with that
    -- schema); a lead must hold a similar word for every query word that
    -- has one, and is scored by the weighted mean similarity (weight: the
    -- query word's length; 0 for a query word with no similar word)
    qwords := leadflow.search_words(q, NULL, NULL);
    IF qwords IS NULL THEN
        RETURN;
    END IF;
    SELECT n.nspname INTO trgm
      FROM pg_catalog.pg_extension x JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) x.extnamespace
     WHERE x.extname OPERATOR(pg_catalog.=) 'pg_trgm';
    FOR i IN 1 .. pg_catalog.cardinality(qwords) LOOP
        weights := weights OPERATOR(pg_catalog.||) pg_catalog.length(qwords[i])::real;
        EXECUTE pg_catalog.format(
            'SELECT pg_catalog.array_agg(w.word ORDER BY w.word),
                    pg_catalog.array_agg(%1$I.word_similarity($2, w.word) ORDER BY w.word)
               FROM leadflow.lead_words w
              WHERE w.org_id OPERATOR(pg_catalog.=) $1 AND w.word OPERATOR(%1$I.%%>) $2', trgm)
            INTO ws, ss USING search_leads.org_id, qwords[i];
        CONTINUE WHEN ws IS NULL;
        -- the slice of the candidates of this query word (an integer, not a value)
        conds := conds OPERATOR(pg_catalog.||) pg_catalog.format(
            ' AND l.search_words OPERATOR(pg_catalog.&&) $4[%s:%s]',
            pg_catalog.cardinality(cand) OPERATOR(pg_catalog.+) 1,
            pg_catalog.cardinality(cand) OPERATOR(pg_catalog.+) pg_catalog.cardinality(ws));
        cand := cand OPERATOR(pg_catalog.||) ws;
        cand_sim := cand_sim OPERATOR(pg_catalog.||) ss;
        cand_word := cand_word OPERATOR(pg_catalog.||) pg_catalog.array_fill(i, ARRAY[pg_catalog.cardinality(ws)]);
        -- and its most similar words (the best a lead can hold)
        SELECT pg_catalog.max(x), pg_catalog.array_agg(ws[k] ORDER BY k) FILTER (WHERE ss[k] OPERATOR(pg_catalog.=) (SELECT pg_catalog.max(y) FROM pg_catalog.unnest(ss) y))
          INTO top_score_i, tw
          FROM pg_catalog.generate_subscripts(ss, 1) k, LATERAL (SELECT ss[k] AS x) z;
        top_conds := top_conds OPERATOR(pg_catalog.||) pg_catalog.format(
            ' AND l.search_words OPERATOR(pg_catalog.&&) $5[%s:%s]',
            pg_catalog.cardinality(top) OPERATOR(pg_catalog.+) 1,
            pg_catalog.cardinality(top) OPERATOR(pg_catalog.+) pg_catalog.cardinality(tw));
        top := top OPERATOR(pg_catalog.||) tw;
        top_score := top_score OPERATOR(pg_catalog.+) weights[i] OPERATOR(pg_catalog.*) top_score_i;
    END LOOP;
    top_score := top_score OPERATOR(pg_catalog./) (SELECT pg_catalog.sum(x) FROM pg_catalog.unnest(weights) x);
    IF conds OPERATOR(pg_catalog.=) ''
       OR top_score OPERATOR(pg_catalog.<) pg_catalog.current_setting('pg_trgm.word_similarity_threshold')::real THEN
        RETURN;
    END IF;
    key := leadflow.search_key(q, NULL, NULL);
    -- which of name and company matched is worked out for the rows
    -- returned only
    matched := pg_catalog.format(
        'CASE WHEN COALESCE(%1$I.word_similarity($1, leadflow.search_key(s.first_name, s.last_name, NULL)), 0)
                   OPERATOR(pg_catalog.>=)
                   COALESCE(%1$I.word_similarity($1, leadflow.search_key(NULL, NULL, s.company)), 0)
              THEN %2$L ELSE %3$L END', trgm, 'name', 'company');

    -- the best first: the leads holding a most similar word for each query
    -- word (all of the highest score), in lead_id order, so that a common
    -- name is read in that order until max are found, not all of it
    RETURN QUERY EXECUTE pg_catalog.format(
        'SELECT s.lead_id, $4, %s
           FROM (SELECT l.lead_id, l.first_name, l.last_name, l.company
                   FROM leadflow.leads l
                  WHERE l.org_id OPERATOR(pg_catalog.=) $2
                    AND ($3 OR l.merged_into IS NULL) %s
                  ORDER BY l.lead_id
                  LIMIT $6) s
          ORDER BY s.lead_id', matched, top_conds)
        USING key, search_leads.org_id, search_leads.include_merged, top_score, top, search_leads.max;
    GET DIAGNOSTICS nfound = ROW_COUNT;
    IF nfound OPERATOR(pg_catalog.>=) search_leads.max THEN
        RETURN;
    END IF;

    IF pg_catalog.cardinality(qwords) OPERATOR(pg_catalog.=) 1 THEN
        -- one word: a lead's score is that of the most similar word it
        -- holds, so the others come tier by tier (the words of one
        -- similarity, best first), each tier in lead_id order
        done := top;
        FOR tier IN
            SELECT c.sim, pg_catalog.array_agg(c.word) AS words
              FROM ROWS FROM (pg_catalog.unnest(cand), pg_catalog.unnest(cand_sim)) c(word, sim)
             WHERE NOT c.word OPERATOR(pg_catalog.=) ANY (top)
             GROUP BY c.sim ORDER BY c.sim DESC
        LOOP
            RETURN QUERY EXECUTE pg_catalog.format(
                'SELECT s.lead_id, $6, %s
                   FROM (SELECT l.lead_id, l.first_name, l.last_name, l.company
                           FROM leadflow.leads l
                          WHERE l.org_id OPERATOR(pg_catalog.=) $2
                            AND ($3 OR l.merged_into IS NULL)
                            AND l.search_words OPERATOR(pg_catalog.&&) $4
                            AND NOT l.search_words OPERATOR(pg_catalog.&&) $5
                          ORDER BY l.lead_id
                          LIMIT $7) s
                  ORDER BY s.lead_id', matched)
                USING key, search_leads.org_id, search_leads.include_merged, tier.words, done, tier.sim,
                      search_leads.max OPERATOR(pg_catalog.-) nfound;
            GET DIAGNOSTICS got = ROW_COUNT;
            nfound := nfound OPERATOR(pg_catalog.+) got;
            EXIT WHEN nfound OPERATOR(pg_catalog.>=) search_leads.max;
            done := done OPERATOR(pg_catalog.||) tier.words;
        END LOOP;
        RETURN;
    END IF;

    -- several words: the other leads holding a candidate of each, scored
    RETURN QUERY EXECUTE pg_catalog.format(
        'SELECT s.lead_id, s.score, %s
           FROM (SELECT l.lead_id, l.first_name, l.last_name, l.company,
                        leadflow.search_score(l.search_words, $4, $5, $6, $7) AS score
                   FROM leadflow.leads l
                  WHERE l.org_id OPERATOR(pg_catalog.=) $2
                    AND ($3 OR l.merged_into IS NULL) %s
                    AND NOT (true %s)) s
          WHERE s.score OPERATOR(pg_catalog.>=) pg_catalog.current_setting(%L)::real
          ORDER BY s.score DESC, s.lead_id
          LIMIT $8', matched, conds, pg_catalog.replace(top_conds, '$5[', '$9['), 'pg_trgm.word_similarity_threshold')
        USING key, search_leads.org_id, search_leads.include_merged,
              cand, cand_word, cand_sim, weights, search_leads.max OPERATOR(pg_catalog.-) nfound, top;
END
$$;
COMMENT ON FUNCTION @extschema@.search_leads(bigint, text, integer, boolean) IS
    'Finds an org''s leads, best first, at most max (1..1000): an email in the query matches the normalized email exactly (case, +tag, Gmail dots do not matter), a phone number the E.164 phone read with the org''s default_region (format does not matter); any other text is cut into words, each compared with the words of first name, last name and company by trigram word similarity (pg_trgm, threshold pg_trgm.word_similarity_threshold), case and accent insensitive; a lead holds a similar word for each query word that has one in the org, and its score (the mean similarity weighted by query word length) reaches the threshold. Score 1 for an exact match, else that mean; matched is email, phone, name or company. Merged leads only with include_merged (by email: the merged duplicates of the lead that holds it).';

-- the words of the leads there are
INSERT INTO @extschema@.lead_words (org_id, word)
SELECT DISTINCT l.org_id, w FROM @extschema@.leads l, pg_catalog.unnest(l.search_words) w;

-- written by leadflow alone, as the other internal tables
-- (internal_tables()), also under session_replication_role = replica
CREATE TRIGGER lead_words_leadflow_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.lead_words
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.refuse_app_write();
ALTER TABLE @extschema@.lead_words ENABLE ALWAYS TRIGGER lead_words_leadflow_only;

-- a database under tenant isolation keeps it: the new table gets the policy too
SELECT @extschema@.enable_tenant_isolation()
 WHERE EXISTS (SELECT FROM pg_catalog.pg_class c
                WHERE c.relname OPERATOR(pg_catalog.=) 'leads' AND c.relrowsecurity
                  AND c.relnamespace OPERATOR(pg_catalog.=) (SELECT e.extnamespace FROM pg_catalog.pg_extension e
                                                               WHERE e.extname OPERATOR(pg_catalog.=) 'leadflow'));

-- roles that read leads (grant_app_role) search them: they read lead_words
DO $$
DECLARE
    r text;
BEGIN
    FOR r IN SELECT DISTINCT g.grantee::regrole::text
               FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) g
              WHERE c.oid OPERATOR(pg_catalog.=) 'leadflow.leads'::regclass
                AND g.privilege_type OPERATOR(pg_catalog.=) 'SELECT'
                AND g.grantee OPERATOR(pg_catalog.<>) c.relowner AND g.grantee OPERATOR(pg_catalog.<>) 0
              ORDER BY 1 LOOP
        EXECUTE pg_catalog.format('GRANT SELECT ON leadflow.lead_words TO %s', r);
    END LOOP;
END
$$;

-- erase_lead removes the words of the person no other lead holds: changed
-- in its final form above (Issue 17), not copied again.
