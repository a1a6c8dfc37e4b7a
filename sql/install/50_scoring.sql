------------------------------------------------------------------------------
-- Scoring (score.c)
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.decayed_points(points double precision, age interval, half_life interval)
RETURNS double precision
AS 'MODULE_PATHNAME', 'leadflow_decayed_points'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.decayed_points(double precision, interval, interval) IS
    'What a signal worth points is worth after age: points * 0.5^(age / half_life); no decay when half_life is NULL.';

-- the one inactivity decay formula (decay.c): scoring computes
-- leads.score_decay with it, run_maintenance finds stale decay with it
CREATE FUNCTION @extschema@.score_decay(last_activity timestamptz, as_of timestamptz,
                                        inactivity_grace interval, points_per_week integer)
RETURNS integer
AS 'MODULE_PATHNAME', 'leadflow_score_decay'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.score_decay(timestamptz, timestamptz, interval, integer) IS
    'Points a lead loses to inactivity as of a time (leads.score_decay): points_per_week for every whole week since last_activity beyond inactivity_grace, at most 1000; 0 within the grace period. The formula scoring uses; run_maintenance brings the stored decay up to date with it.';

CREATE FUNCTION @extschema@.explain_score(lead_id bigint)
RETURNS TABLE (category text, rule_id bigint, rule_name text, points integer)
AS 'MODULE_PATHNAME', 'leadflow_explain_score'
LANGUAGE C STABLE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.explain_score(bigint) IS
    'One row per scoring rule that contributes to the lead''s score, then the adjustments (caps, manual, inactivity decay, clamping); the points sum to the score.';

CREATE FUNCTION @extschema@.rescore(org_id bigint)
RETURNS bigint
AS 'MODULE_PATHNAME', 'leadflow_rescore'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.rescore(bigint) IS
    'Recomputes the score of every live lead of the org (after a model change); returns how many leads were recomputed.';
REVOKE EXECUTE ON FUNCTION @extschema@.rescore(bigint) FROM PUBLIC;

CREATE FUNCTION @extschema@.signal_inserted()
RETURNS trigger
AS 'MODULE_PATHNAME', 'leadflow_signal_inserted'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.signal_inserted() IS
    'Trigger: a signal of a merged lead goes to its survivor; every signal rescores its lead at once.';

CREATE TRIGGER lead_signals_redirect
    BEFORE INSERT ON @extschema@.lead_signals
    FOR EACH ROW EXECUTE FUNCTION @extschema@.signal_inserted();
CREATE TRIGGER lead_signals_rescore
    AFTER INSERT ON @extschema@.lead_signals
    FOR EACH ROW EXECUTE FUNCTION @extschema@.signal_inserted();

-- rules are checked when written, so a bad rule never reaches a lead
CREATE FUNCTION @extschema@.rule_check_predicate()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.predicate IS NOT NULL THEN
        PERFORM leadflow.check_predicate(NEW.predicate);
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@.rule_check_predicate() IS 'Trigger: refuses a scoring or routing rule whose predicate is not valid (22023, naming the problem and its JSON path).';

CREATE TRIGGER scoring_rules_check_predicate
    BEFORE INSERT OR UPDATE OF predicate ON @extschema@.scoring_rules
    FOR EACH ROW EXECUTE FUNCTION @extschema@.rule_check_predicate();
CREATE TRIGGER routing_rules_check_predicate
    BEFORE INSERT OR UPDATE OF predicate ON @extschema@.routing_rules
    FOR EACH ROW EXECUTE FUNCTION @extschema@.rule_check_predicate();

CREATE VIEW @extschema@.manager_queue WITH (security_invoker = true) AS
SELECT l.org_id, l.lead_id, l.team_id, t.manager_rep_id, l.owner_rep_id, l.score, l.temperature,
       l.status, l.source, l.escalated_at, l.first_touch_at
  FROM leadflow.leads l
  LEFT JOIN leadflow.teams t ON t.org_id = l.org_id AND t.team_id = l.team_id
 WHERE l.escalated_at IS NOT NULL AND l.merged_into IS NULL AND l.erased_at IS NULL
   AND l.status IN ('new', 'contacted', 'nurture');
COMMENT ON VIEW @extschema@.manager_queue IS 'Escalated leads (score crossed the model''s escalate_at) still open: the managers'' queue.';
COMMENT ON COLUMN @extschema@.manager_queue.org_id IS 'Org.';
COMMENT ON COLUMN @extschema@.manager_queue.lead_id IS 'The escalated lead.';
COMMENT ON COLUMN @extschema@.manager_queue.team_id IS 'Team the lead was routed through.';
COMMENT ON COLUMN @extschema@.manager_queue.manager_rep_id IS 'That team''s manager.';
COMMENT ON COLUMN @extschema@.manager_queue.owner_rep_id IS 'Current owner, if any.';
COMMENT ON COLUMN @extschema@.manager_queue.score IS 'Current score.';
COMMENT ON COLUMN @extschema@.manager_queue.temperature IS 'Current temperature.';
COMMENT ON COLUMN @extschema@.manager_queue.status IS 'Current status.';
COMMENT ON COLUMN @extschema@.manager_queue.source IS 'Lead source.';
COMMENT ON COLUMN @extschema@.manager_queue.escalated_at IS 'When the score crossed escalate_at.';
COMMENT ON COLUMN @extschema@.manager_queue.first_touch_at IS 'First touch by a rep, NULL if none yet.';
