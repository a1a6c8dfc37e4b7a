------------------------------------------------------------------------------
-- Business hours for SLA clocks (business_hours.c)
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.check_business_hours(business_hours jsonb)
RETURNS boolean
AS 'MODULE_PATHNAME', 'leadflow_check_business_hours'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.check_business_hours(jsonb) IS
    'True for valid business hours ({"time_zone": ..., "mon": "09:00-17:00", ..., "holidays": [...]}); otherwise an error (22023) naming the key and value.';

CREATE FUNCTION @extschema@.business_minutes(from_ts timestamptz, to_ts timestamptz, business_hours jsonb)
RETURNS double precision
AS 'MODULE_PATHNAME', 'leadflow_business_minutes'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.business_minutes(timestamptz, timestamptz, jsonb) IS
    'Working minutes between two instants under business hours (an SLA policy''s business_hours: local windows per weekday in a time zone, holidays); NULL hours count around the clock; negative when to_ts is before from_ts.';

CREATE FUNCTION @extschema@.business_deadline(from_ts timestamptz, duration interval, business_hours jsonb)
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'leadflow_business_deadline'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.business_deadline(timestamptz, interval, jsonb) IS
    'The instant at which duration of working time after from_ts has passed under business hours (a day of duration is 24 working hours); NULL hours: from_ts + duration.';

ALTER TABLE @extschema@.sla_policies
    ADD COLUMN business_hours jsonb
    CONSTRAINT sla_policies_business_hours_check CHECK (@extschema@.check_business_hours(business_hours));
COMMENT ON COLUMN @extschema@.sla_policies.business_hours IS
    'NULL: the clocks run around the clock. Else working time only, e.g. {"time_zone": "Europe/Berlin", "mon": "09:00-17:00", ..., "fri": "09:00-17:00", "holidays": ["2026-12-25"]}: first_touch_within and reassign_after then count working time (leadflow.business_deadline).';
