------------------------------------------------------------------------------
-- Routing (route.c)
------------------------------------------------------------------------------

-- Rotation state, locked by the routing transaction and written once per
-- statement (see route.c).
CREATE TABLE @extschema@.rep_load (
    org_id            bigint NOT NULL,
    rep_id            bigint NOT NULL,
    open_leads        integer NOT NULL DEFAULT 0 CHECK (open_leads >= 0),
    assigned_total    bigint NOT NULL DEFAULT 0,
    last_assigned_at  timestamptz,
    current_weight    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, rep_id),
    FOREIGN KEY (org_id, rep_id) REFERENCES @extschema@.reps (org_id, rep_id) ON DELETE CASCADE
);
COMMENT ON TABLE @extschema@.rep_load IS 'Internal: each rep''s open leads and rotation state, kept by routing.';
COMMENT ON COLUMN @extschema@.rep_load.open_leads IS 'Live leads the rep owns with status new, contacted, qualified or nurture.';
COMMENT ON COLUMN @extschema@.rep_load.assigned_total IS 'Leads routed to the rep, ever.';
COMMENT ON COLUMN @extschema@.rep_load.last_assigned_at IS 'When the rep last got a lead by routing.';
COMMENT ON COLUMN @extschema@.rep_load.current_weight IS 'Credit of smooth weighted round robin.';

CREATE TABLE @extschema@.team_rotation (
    org_id       bigint NOT NULL,
    team_id      bigint NOT NULL,
    last_rep_id  bigint,
    PRIMARY KEY (org_id, team_id),
    FOREIGN KEY (org_id, team_id) REFERENCES @extschema@.teams (org_id, team_id) ON DELETE CASCADE
);
COMMENT ON TABLE @extschema@.team_rotation IS 'Internal: the last rep a round-robin team picked; its row lock makes concurrent routing into the team take turns.';
COMMENT ON COLUMN @extschema@.team_rotation.last_rep_id IS 'The rep picked last.';

CREATE TABLE @extschema@.routing_rule_stats (
    org_id       bigint NOT NULL,
    rule_id      bigint NOT NULL,
    hits         bigint NOT NULL DEFAULT 0,
    shadow_hits  bigint NOT NULL DEFAULT 0,
    last_hit     timestamptz,
    PRIMARY KEY (org_id, rule_id),
    FOREIGN KEY (org_id, rule_id) REFERENCES @extschema@.routing_rules (org_id, rule_id) ON DELETE CASCADE
);
COMMENT ON TABLE @extschema@.routing_rule_stats IS 'Internal: how often each routing rule decided (live) or matched (shadow).';
COMMENT ON COLUMN @extschema@.routing_rule_stats.hits IS 'Leads the rule decided.';
COMMENT ON COLUMN @extschema@.routing_rule_stats.shadow_hits IS 'Leads a shadow rule matched.';
COMMENT ON COLUMN @extschema@.routing_rule_stats.last_hit IS 'When it last decided or matched.';

-- One statement-end trigger writes what the rows of a statement on leads
-- left in the transaction buffers (journey rows, rotation state and rule
-- hits, prediction count changes): once per statement, not once per row.
CREATE FUNCTION @extschema@.statement_end()
RETURNS trigger
AS 'MODULE_PATHNAME', 'leadflow_statement_end'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.statement_end() IS 'Trigger: writes the journey rows, rotation state, rule hits and prediction count changes a statement on leads buffered.';

CREATE TRIGGER leads_statement_end
    AFTER INSERT OR UPDATE ON @extschema@.leads
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.statement_end();

CREATE FUNCTION @extschema@.simulate_routing(org_id bigint, lead jsonb, stage text DEFAULT 'intake')
RETURNS TABLE (path text, rule_id bigint, rule_name text, team_id bigint, rep_id bigint, explanation jsonb)
AS 'MODULE_PATHNAME', 'leadflow_simulate_routing'
LANGUAGE C STABLE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.simulate_routing(bigint, jsonb, text) IS
    'What routing would do now with a lead of these fields (normalized and scored like a real one); stage handoff: who would own its opportunity if it were converted now. Changes nothing.';

CREATE FUNCTION @extschema@.replay_routing(org_id bigint, since timestamptz)
RETURNS TABLE (lead_id bigint, actual_rep_id bigint, would_rep_id bigint, would_path text,
               would_rule_id bigint, shadow_rep_id bigint, changed boolean)
AS 'MODULE_PATHNAME', 'leadflow_replay_routing'
LANGUAGE C STABLE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.replay_routing(bigint, timestamptz) IS
    'Re-runs the current live and shadow rules over the org''s live leads created since a time, in order, without assigning: actual owner beside would-be owner.';
REVOKE EXECUTE ON FUNCTION @extschema@.replay_routing(bigint, timestamptz) FROM PUBLIC;

CREATE FUNCTION @extschema@.reassign_lead(lead_id bigint, reason text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'leadflow_reassign_lead'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.reassign_lead(bigint, text) IS
    'Routes an open lead again, never to its current owner; journals the reason; returns the new owner (NULL: unassigned queue).';

-- PL/pgSQL, not SQL: Citus cannot plan the parameters of an SQL function
CREATE FUNCTION @extschema@.explain_routing(lead_id bigint)
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
COMMENT ON FUNCTION @extschema@.explain_routing(bigint) IS
    'Why the lead has its owner: the candidates routing skipped and why (away, at capacity, inactive, ...), then the step that decided.';

CREATE VIEW @extschema@.unassigned_queue WITH (security_invoker = true) AS
SELECT l.org_id, l.lead_id, l.source, l.score, l.temperature, l.status, l.created_at,
       (SELECT CASE WHEN j.kind = 'created' THEN j.detail -> 'routed' ->> 'path' ELSE j.detail ->> 'path' END
          FROM leadflow.lead_journey j
         WHERE j.org_id = l.org_id AND j.lead_id = l.lead_id
           AND (j.kind = 'routed' OR (j.kind = 'created' AND j.detail ? 'routed'))
         ORDER BY j.seq DESC LIMIT 1) AS routing_path
  FROM leadflow.leads l
 WHERE l.owner_rep_id IS NULL AND l.merged_into IS NULL AND l.erased_at IS NULL
   AND l.status = ANY (@extschema@.open_statuses());
COMMENT ON VIEW @extschema@.unassigned_queue IS 'Open live leads without an owner, for a manager to assign.';
COMMENT ON COLUMN @extschema@.unassigned_queue.org_id IS 'Org.';
COMMENT ON COLUMN @extschema@.unassigned_queue.lead_id IS 'The lead.';
COMMENT ON COLUMN @extschema@.unassigned_queue.source IS 'Lead source.';
COMMENT ON COLUMN @extschema@.unassigned_queue.score IS 'Current score.';
COMMENT ON COLUMN @extschema@.unassigned_queue.temperature IS 'Current temperature.';
COMMENT ON COLUMN @extschema@.unassigned_queue.status IS 'Current status.';
COMMENT ON COLUMN @extschema@.unassigned_queue.created_at IS 'When the lead was captured.';
COMMENT ON COLUMN @extschema@.unassigned_queue.routing_path IS 'Why it is here: queue (a rule said so), no_match, or the path of its last routing.';

------------------------------------------------------------------------------
-- Bulk reassignment (reassign.c)
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.reassign_rep_leads(rep_id bigint, reason text)
RETURNS TABLE (owner_rep_id bigint, leads integer)
AS 'MODULE_PATHNAME', 'leadflow_reassign_rep_leads'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.reassign_rep_leads(bigint, text) IS
    'Routes every open live lead of a rep again (a rep who leaves or changes territory), never to that rep, in one statement; each lead journals "routed" with the reason. Returns how many leads each new owner got (owner_rep_id NULL: the unassigned queue). With leadflow.org_id set, the rep is looked up in that org.';
REVOKE EXECUTE ON FUNCTION @extschema@.reassign_rep_leads(bigint, text) FROM PUBLIC;

-- pg_dump keeps the user data of these tables
SELECT pg_catalog.pg_extension_config_dump('leadflow.rep_load', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.team_rotation', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.routing_rule_stats', '');
