/*-------------------------------------------------------------------------
 *
 * maintenance.c
 *	  leadflow.run_maintenance(org_id, as_of): the periodic work, meant for
 *	  pg_cron.  As of a time, for one org or all: inactivity decay,
 *	  archiving of leads cold for too long, escalation of hot leads that
 *	  were never escalated, reassignment of leads whose first touch is
 *	  overdue (sla_breach), a task_due event for each open task that fell
 *	  due, a recount of each rep's open leads, and the deletion of events
 *	  older than the org's event_retention.
 *
 *	  Each action is one set-based statement over the leads it changes;
 *	  the leads trigger does the per-lead work (rescoring, moves, routing,
 *	  journal).  Running it twice for the same as_of changes nothing more.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "account.h"
#include "journey.h"
#include "notify.h"
#include "nurture.h"
#include "request.h"
#include "rulecache.h"
#include "spi.h"
#include "tenant.h"
#include "text.h"

#define ORG_FILTER " ($1 IS NULL OR l.org_id OPERATOR(pg_catalog.=) $1)"
#define LIVE_OPEN " l.merged_into IS NULL AND l.erased_at IS NULL" \
	" AND l.status OPERATOR(pg_catalog.=) ANY (leadflow.open_statuses())"

/*
 * leads whose inactivity decay as of as_of differs from the decay in their
 * score: rescored (leadflow.score_decay is the formula scoring uses)
 */
static LeadflowPlan decay_plan = {
	NULL,
	"UPDATE leadflow.leads l SET updated_at = l.updated_at"
	"  FROM leadflow.scoring_models m"
	" WHERE m.org_id OPERATOR(pg_catalog.=) l.org_id AND m.active AND" ORG_FILTER " AND" LIVE_OPEN
	"   AND l.score_decay OPERATOR(pg_catalog.<>) leadflow.score_decay(COALESCE(l.last_activity_at, l.created_at), $2,"
	"       m.inactivity_grace, m.inactivity_points_per_week)",
	2, {INT8OID, TIMESTAMPTZOID}
};

/*
 * cold for archive_after: archived with the reason; not a lead in nurture
 * whose schedule still has a step due (archiving would cancel its mail)
 */
static LeadflowPlan archive_plan = {
	NULL,
	"UPDATE leadflow.leads l SET status = 'archived',"
	"       archive_reason = pg_catalog.format('score %s below %s for %s days', l.score, m.archive_below,"
	"                        pg_catalog.round((pg_catalog.date_part('epoch', m.archive_after) OPERATOR(pg_catalog./) 86400)::numeric, 1))"
	"  FROM leadflow.scoring_models m"
	" WHERE m.org_id OPERATOR(pg_catalog.=) l.org_id AND m.active AND" ORG_FILTER " AND" LIVE_OPEN
	"   AND l.score OPERATOR(pg_catalog.<) m.archive_below"
	"   AND l.created_at OPERATOR(pg_catalog.<=) ($2 OPERATOR(pg_catalog.-) m.archive_after)"
	"   AND COALESCE(l.last_activity_at, l.created_at) OPERATOR(pg_catalog.<=) ($2 OPERATOR(pg_catalog.-) m.archive_after)"
	/* a lead in nurture stays while a step of the schedule is still due */
	"   AND NOT (l.status OPERATOR(pg_catalog.=) 'nurture' AND l.stage_entered_at OPERATOR(pg_catalog.+)"
	"            pg_catalog.make_interval(days => (SELECT pg_catalog.max(n.step_days)"
	"                                               FROM leadflow.nurture_schedule(l.org_id) n))"
	"            OPERATOR(pg_catalog.>) $2)",
	2, {INT8OID, TIMESTAMPTZOID}
};

/* hot enough to escalate but never escalated (e.g. the model changed) */
static LeadflowPlan escalate_plan = {
	NULL,
	"UPDATE leadflow.leads l SET escalated_at = $2"
	"  FROM leadflow.scoring_models m"
	" WHERE m.org_id OPERATOR(pg_catalog.=) l.org_id AND m.active AND" ORG_FILTER " AND" LIVE_OPEN
	"   AND l.escalated_at IS NULL AND l.score OPERATOR(pg_catalog.>=) m.escalate_at"
	" RETURNING l.org_id, l.lead_id, l.owner_rep_id, l.score",
	2, {INT8OID, TIMESTAMPTZOID}
};

/*
 * owned, never touched, assigned longer ago than the SLA allows (in working
 * time when the policy names business hours: business_hours.c).  The
 * policy of the lead's source, else the org's default (source NULL): two
 * hash joins, not a policy lookup per lead.
 */
static LeadflowPlan overdue_plan = {
	NULL,
	"SELECT l.lead_id, l.org_id, l.owner_rep_id FROM leadflow.leads l"
	"  LEFT JOIN leadflow.sla_policies ps"
	"    ON ps.org_id OPERATOR(pg_catalog.=) l.org_id AND ps.source OPERATOR(pg_catalog.=) l.source"
	"  LEFT JOIN leadflow.sla_policies pd"
	"    ON pd.org_id OPERATOR(pg_catalog.=) l.org_id AND pd.source IS NULL"
	" WHERE" ORG_FILTER " AND" LIVE_OPEN " AND l.owner_rep_id IS NOT NULL AND l.first_touch_at IS NULL"
	"   AND leadflow.business_deadline(l.assigned_at, COALESCE(ps.reassign_after, pd.reassign_after),"
	"         CASE WHEN ps.org_id IS NOT NULL THEN ps.business_hours ELSE pd.business_hours END)"
	"       OPERATOR(pg_catalog.<=) $2"
	" ORDER BY l.org_id, l.lead_id FOR NO KEY UPDATE OF l",
	2, {INT8OID, TIMESTAMPTZOID}
};

static LeadflowPlan reassign_plan = {
	NULL,
	"SELECT leadflow.reassign_lead($1, 'sla_breach')",
	1, {INT8OID}
};

/*
 * each rep's open leads counted again from the leads themselves: one
 * aggregate over the leads, not a count per rep (which would visit every
 * owned lead through the owner index)
 */
static LeadflowPlan recount_plan = {
	NULL,
	"UPDATE leadflow.rep_load r SET open_leads = COALESCE(c.n, 0)"
	"  FROM leadflow.rep_load r2"
	"  LEFT JOIN (SELECT l.org_id, l.owner_rep_id, pg_catalog.count(*)::integer AS n"
	"               FROM leadflow.leads l"
	"              WHERE" ORG_FILTER " AND" LIVE_OPEN " AND l.owner_rep_id IS NOT NULL"
	"              GROUP BY l.org_id, l.owner_rep_id) c"
	"    ON c.org_id OPERATOR(pg_catalog.=) r2.org_id AND c.owner_rep_id OPERATOR(pg_catalog.=) r2.rep_id"
	" WHERE ($1 IS NULL OR r2.org_id OPERATOR(pg_catalog.=) $1)"
	"   AND r.org_id OPERATOR(pg_catalog.=) r2.org_id AND r.rep_id OPERATOR(pg_catalog.=) r2.rep_id"
	"   AND r.open_leads OPERATOR(pg_catalog.<>) COALESCE(c.n, 0)",
	1, {INT8OID}
};

/*
 * open tasks that fell due by as_of, marked so that each gets its task_due
 * event once (due_event_at), whatever later runs see; the rep to tell is
 * the task's, else the lead's owner
 */
static LeadflowPlan task_due_plan = {
	NULL,
	"UPDATE leadflow.activities a SET due_event_at = $2"
	"  FROM leadflow.leads l"
	" WHERE l.org_id OPERATOR(pg_catalog.=) a.org_id AND l.lead_id OPERATOR(pg_catalog.=) a.lead_id"
	"   AND ($1 IS NULL OR a.org_id OPERATOR(pg_catalog.=) $1)"
	"   AND a.kind OPERATOR(pg_catalog.=) 'task' AND a.completed_at IS NULL"
	"   AND a.due_event_at IS NULL AND a.due_at OPERATOR(pg_catalog.<=) $2 AND l.erased_at IS NULL"
	" RETURNING a.org_id, a.activity_id, a.lead_id, COALESCE(a.rep_id, l.owner_rep_id)",
	2, {INT8OID, TIMESTAMPTZOID}
};

/* events older than the org's event_retention (setting, default 30 days) */
static LeadflowPlan events_retention_plan = {
	NULL,
	"DELETE FROM leadflow.events e USING leadflow.orgs o"
	" WHERE o.org_id OPERATOR(pg_catalog.=) e.org_id AND ($1 IS NULL OR o.org_id OPERATOR(pg_catalog.=) $1)"
	"   AND e.occurred_at OPERATOR(pg_catalog.<) ($2 OPERATOR(pg_catalog.-)"
	"       COALESCE((o.settings OPERATOR(pg_catalog.->>) 'event_retention')::interval, '30 days'::interval))",
	2, {INT8OID, TIMESTAMPTZOID}
};

static void
emit(ReturnSetInfo *rsinfo, const char *action, uint64 n)
{
	Datum		values[2];
	bool		nulls[2] = {false, false};

	values[0] = CStringGetTextDatum(action);
	values[1] = Int32GetDatum((int32) Min(n, (uint64) PG_INT32_MAX));
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

static uint64
run(LeadflowPlan *plan, Datum *args, const char *nulls, int expected)
{
	int			rc = LeadflowExecute(plan, args, nulls, false, 0);

	if (rc != expected)
		elog(ERROR, "leadflow: maintenance statement failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

/*
 * task_due events, once per task; none on a 0.1.0 schema (no due_event_at
 * until ALTER EXTENSION UPDATE, nor an outbox)
 */
static uint64
tasks_due(Datum *args, const char *nulls)
{
	Oid			activities = get_relname_relid("activities", get_namespace_oid("leadflow", false));
	uint64		n;
	uint64		i;
	SPITupleTable *rows;

	if (get_attnum(activities, "due_event_at") == InvalidAttrNumber)
		return 0;
	n = run(&task_due_plan, args, nulls, SPI_OK_UPDATE_RETURNING);
	rows = SPI_tuptable;
	for (i = 0; i < n; i++)
	{
		bool		isnull;
		int64		org_id = DatumGetInt64(SPI_getbinval(rows->vals[i], rows->tupdesc, 1, &isnull));
		int64		activity_id = DatumGetInt64(SPI_getbinval(rows->vals[i], rows->tupdesc, 2, &isnull));
		int64		lead_id = DatumGetInt64(SPI_getbinval(rows->vals[i], rows->tupdesc, 3, &isnull));
		Datum		rep = SPI_getbinval(rows->vals[i], rows->tupdesc, 4, &isnull);
		LeadflowJson detail;

		LeadflowJsonBegin(&detail);
		LeadflowJsonInt(&detail, "activity_id", activity_id);
		LeadflowEvent(org_id, "task_due", lead_id, isnull ? 0 : DatumGetInt64(rep), LeadflowJsonFinish(&detail));
	}
	return n;
}

typedef struct MaintainArgs
{
	ReturnSetInfo *rsinfo;
	Datum	   *args;
	const char *nulls;
} MaintainArgs;

/* the whole run, under a request whose as_of is the run's (LeadflowRunUnder) */
static void
maintain(void *arg)
{
	MaintainArgs *m = (MaintainArgs *) arg;
	ReturnSetInfo *rsinfo = m->rsinfo;
	Datum	   *args = m->args;
	const char *nulls = m->nulls;
	LeadflowRequest decay;
	uint64		n;
	uint64		i;
	SPITupleTable *rows;

	/* decay first: archiving and escalation look at the decayed score */
	decay = *LeadflowCurrentRequest();
	decay.rescore_reason = "inactivity";
	n = LeadflowExecuteUnder(&decay, &decay_plan, args, nulls, SPI_OK_UPDATE);
	emit(rsinfo, "inactivity_decay", n);

	emit(rsinfo, "archived", run(&archive_plan, args, nulls, SPI_OK_UPDATE));

	n = run(&escalate_plan, args, nulls, SPI_OK_UPDATE_RETURNING);
	rows = SPI_tuptable;
	for (i = 0; i < n; i++)
	{
		bool		isnull;
		int64		org_id = DatumGetInt64(SPI_getbinval(rows->vals[i], rows->tupdesc, 1, &isnull));
		int64		lead_id = DatumGetInt64(SPI_getbinval(rows->vals[i], rows->tupdesc, 2, &isnull));
		Datum		owner = SPI_getbinval(rows->vals[i], rows->tupdesc, 3, &isnull);
		int32		score = DatumGetInt32(SPI_getbinval(rows->vals[i], rows->tupdesc, 4, &isnull));
		LeadflowJson detail;

		LeadflowJsonBegin(&detail);
		LeadflowJsonInt(&detail, "score", score);
		LeadflowJsonText(&detail, "reason", "maintenance");
		LeadflowJourneyAppend(org_id, lead_id, "escalated", LeadflowJsonFinish(&detail));
		LeadflowEvent(org_id, "escalated", lead_id, isnull ? 0 : DatumGetInt64(owner),
					  LeadflowJsonFinish(&detail));
	}
	emit(rsinfo, "escalated", n);

	n = run(&overdue_plan, args, nulls, SPI_OK_SELECT);
	rows = SPI_tuptable;
	for (i = 0; i < n; i++)
	{
		bool		isnull;
		Datum		lead = SPI_getbinval(rows->vals[i], rows->tupdesc, 1, &isnull);
		int64		org_id = DatumGetInt64(SPI_getbinval(rows->vals[i], rows->tupdesc, 2, &isnull));
		int64		owner = DatumGetInt64(SPI_getbinval(rows->vals[i], rows->tupdesc, 3, &isnull));

		LeadflowJson detail;

		LeadflowJsonBegin(&detail);
		LeadflowJsonInt(&detail, "rep_id", owner);
		LeadflowEvent(org_id, "sla_breach", DatumGetInt64(lead), owner, LeadflowJsonFinish(&detail));
		run(&reassign_plan, &lead, NULL, SPI_OK_SELECT);
	}
	emit(rsinfo, "sla_reassigned", n);

	{
		uint64		entered,
					cancelled,
					queued,
					hot,
					cooled;

		LeadflowNurtureMaintain(args, nulls, &entered, &cancelled, &queued);
		emit(rsinfo, "nurture_entered", entered);
		emit(rsinfo, "nurture_cancelled", cancelled);
		emit(rsinfo, "nurture_queued", queued);
		LeadflowAccountMaintain(args, nulls, &hot, &cooled);
		emit(rsinfo, "account_hot", hot);
		emit(rsinfo, "account_cooled", cooled);
	}

	emit(rsinfo, "task_due", tasks_due(args, nulls));
	emit(rsinfo, "open_leads_recounted", run(&recount_plan, args, nulls, SPI_OK_UPDATE));
	emit(rsinfo, "events_deleted", run(&events_retention_plan, args, nulls, SPI_OK_DELETE));
}

/*
 * leadflow.run_maintenance(org_id DEFAULT NULL, as_of DEFAULT now())
 *		RETURNS TABLE (action text, leads integer)
 */
PG_FUNCTION_INFO_V1(leadflow_run_maintenance);
Datum
leadflow_run_maintenance(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		args[2];
	char		nulls[2] = {' ', ' '};
	MaintainArgs m = {rsinfo, args, nulls};
	LeadflowRequest request;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("as_of must not be null")));
	if (TIMESTAMP_NOT_FINITE(PG_GETARG_TIMESTAMPTZ(1)))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("as_of must be a finite time, not %s",
						TIMESTAMP_IS_NOBEGIN(PG_GETARG_TIMESTAMPTZ(1)) ? "-infinity" : "infinity")));
	args[0] = PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0);
	nulls[0] = PG_ARGISNULL(0) ? 'n' : ' ';
	args[1] = PG_GETARG_DATUM(1);
	if (PG_ARGISNULL(0))
		LeadflowCheckAllOrgs();
	else
		(void) LeadflowGetOrg(PG_GETARG_INT64(0));	/* 42501 (tenant.c), 23503 for an unknown org */

	SPI_connect();
	request = *LeadflowCurrentRequest();
	request.as_of = PG_GETARG_TIMESTAMPTZ(1);
	request.own_archive_reason = true;
	LeadflowRunUnder(&request, maintain, &m);
	SPI_finish();
	return (Datum) 0;
}
