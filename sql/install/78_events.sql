------------------------------------------------------------------------------
-- Events: the transactional outbox for automations (notify.c)
------------------------------------------------------------------------------

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
