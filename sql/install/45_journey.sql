------------------------------------------------------------------------------
-- Journey: append-only, hash-chained history of every lead
------------------------------------------------------------------------------

CREATE TABLE @extschema@.lead_journey (
    org_id       bigint NOT NULL,
    lead_id      bigint NOT NULL,
    seq          integer NOT NULL CHECK (seq >= 1),
    step_id      bigint GENERATED ALWAYS AS IDENTITY,
    occurred_at  timestamptz NOT NULL,
    kind         text NOT NULL,
    actor        text NOT NULL,
    detail       jsonb NOT NULL,
    prev_hash    bytea,
    hash         bytea NOT NULL,
    PRIMARY KEY (org_id, lead_id, seq)
);
COMMENT ON TABLE @extschema@.lead_journey IS 'Immutable history of each lead: seq 1, 2, 3... per lead, each row hash-chained to the previous one. Holds no personal data.';
COMMENT ON COLUMN @extschema@.lead_journey.lead_id IS 'The lead.';
COMMENT ON COLUMN @extschema@.lead_journey.seq IS 'Position in the lead''s chain, from 1.';
COMMENT ON COLUMN @extschema@.lead_journey.step_id IS 'Global step id, in order of writing.';
COMMENT ON COLUMN @extschema@.lead_journey.occurred_at IS 'When the step happened (transaction time).';
COMMENT ON COLUMN @extschema@.lead_journey.kind IS 'created (one row per inserted lead: what each stage did, as members normalized, enriched, scored, escalated, routed, merged), then duplicate_touch, scored, routed, shadow_routed, stage_changed, handoff, ...; journeys written by 0.1.0 hold normalized, enriched, scored, escalated, routed and shadow_routed rows of their own after created.';
COMMENT ON COLUMN @extschema@.lead_journey.actor IS 'Who acted: the setting leadflow.actor, else the session user.';
COMMENT ON COLUMN @extschema@.lead_journey.detail IS 'What happened: ids, rule names, numbers; never personal data.';
COMMENT ON COLUMN @extschema@.lead_journey.prev_hash IS 'hash of the previous row of the lead (NULL for seq 1).';
COMMENT ON COLUMN @extschema@.lead_journey.hash IS 'SHA-256 over prev_hash and the row content; see leadflow.journey_hash.';

CREATE FUNCTION @extschema@.journey_hash(prev_hash bytea, org_id bigint, lead_id bigint, seq integer,
                                         occurred_at timestamptz, kind text, actor text, detail jsonb)
RETURNS bytea
AS 'MODULE_PATHNAME', 'leadflow_journey_hash'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.journey_hash(bytea, bigint, bigint, integer, timestamptz, text, text, jsonb) IS
    'SHA-256 of a journey row: the hash every lead_journey row stores, recomputed by verify_journey.';

CREATE FUNCTION @extschema@.append_journey(lead_id bigint, kind text, detail jsonb DEFAULT '{}')
RETURNS integer
AS 'MODULE_PATHNAME', 'leadflow_append_journey'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.append_journey(bigint, text, jsonb) IS
    'Appends a step to a lead''s journey (signed with leadflow.actor) and returns its seq. Locks the lead so concurrent appends never fork the chain.';

CREATE FUNCTION @extschema@.journey_refuse_change()
RETURNS trigger
AS 'MODULE_PATHNAME', 'leadflow_journey_refuse_change'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.journey_refuse_change() IS 'Trigger: lead_journey rows are never updated, deleted or truncated.';

CREATE TRIGGER lead_journey_immutable
    BEFORE UPDATE OR DELETE ON @extschema@.lead_journey
    FOR EACH ROW EXECUTE FUNCTION @extschema@.journey_refuse_change();
CREATE TRIGGER lead_journey_no_truncate
    BEFORE TRUNCATE ON @extschema@.lead_journey
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.journey_refuse_change();
-- also under session_replication_role = replica
ALTER TABLE @extschema@.lead_journey ENABLE ALWAYS TRIGGER lead_journey_immutable;
ALTER TABLE @extschema@.lead_journey ENABLE ALWAYS TRIGGER lead_journey_no_truncate;

-- PL/pgSQL, not SQL: Citus cannot plan the parameters of an SQL function
CREATE FUNCTION @extschema@.verify_journey(org_id bigint)
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
COMMENT ON FUNCTION @extschema@.verify_journey(bigint) IS
    'Checks every journey chain of an org; returns one row per broken link (no rows: every chain is intact).';

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

-- pg_dump keeps the user data of these tables
SELECT pg_catalog.pg_extension_config_dump('leadflow.lead_journey', '');
