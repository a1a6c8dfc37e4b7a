------------------------------------------------------------------------------
-- Maintenance (maintenance.c)
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.run_maintenance(org_id bigint DEFAULT NULL, as_of timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (action text, leads integer)
AS 'MODULE_PATHNAME', 'leadflow_run_maintenance'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.run_maintenance(bigint, timestamptz) IS
    'Periodic work as of a time, for one org or all: inactivity decay, archiving of long-cold leads, escalation catch-up, SLA reassignment (sla_breach, in working time under business hours), nurture (moves after unanswered contact attempts, cancels and queues nurture mail), open-lead recount; one row per action with the leads it touched. Idempotent for the same as_of. Schedule it with pg_cron.';
REVOKE EXECUTE ON FUNCTION @extschema@.run_maintenance(bigint, timestamptz) FROM PUBLIC;

-- task_due (maintenance.c): each open task gets its event once, when it
-- falls due; the partial index keeps maintenance and report_tasks_due to
-- the open tasks
ALTER TABLE @extschema@.activities ADD COLUMN due_event_at timestamptz;
COMMENT ON COLUMN @extschema@.activities.due_event_at IS 'When run_maintenance sent the task''s task_due event (once per task); NULL before.';
CREATE INDEX activities_open_tasks ON @extschema@.activities (org_id, due_at)
    WHERE kind = 'task' AND completed_at IS NULL;
