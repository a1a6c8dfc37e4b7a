/*-------------------------------------------------------------------------
 *
 * nurture.c
 *	  Nurture and recycling.
 *
 *	  run_maintenance (LeadflowNurtureMaintain) moves a new or contacted
 *	  lead to nurture after the org's nurture_after_attempts (default 5)
 *	  completed calls or emails by a rep with no reply, meeting_booked
 *	  signal or completed meeting since (nor since it was last recycled),
 *	  journaling nurture_entered with the count; cancels queued mail of
 *	  leads that left nurture or may no longer be emailed; and queues the
 *	  step of the org's nurture schedule each lead in nurture is due for
 *	  (leadflow.nurture_queue, the outbox an external mailer consumes).  A
 *	  bounced lead or one the org may not email (leadflow.may_email) is
 *	  never queued.  Each action is one set-based statement; running it
 *	  again for the same as_of changes nothing.
 *
 *	  The leads update trigger (LeadflowNurtureRecycle) returns a lead in
 *	  nurture whose score crosses hot_at to contacted: to its owner while
 *	  the owner is active, else through routing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "journey.h"
#include "lead.h"
#include "nurture.h"
#include "request.h"
#include "rulecache.h"
#include "spi.h"
#include "text.h"


#define ORG_FILTER(t) " ($1 IS NULL OR " t ".org_id OPERATOR(pg_catalog.=) $1)"

/* calls and emails by a rep since the last sign of life or recycling */
static LeadflowPlan to_nurture_plan = {
	NULL,
	"WITH pre AS ("
	"  SELECT a.org_id, a.lead_id,"
	"         COALESCE((o.settings OPERATOR(pg_catalog.->>) 'nurture_after_attempts')::integer, 5) AS after_attempts"
	"    FROM leadflow.activities a JOIN leadflow.orgs o ON o.org_id OPERATOR(pg_catalog.=) a.org_id"
	"   WHERE" ORG_FILTER("a") " AND a.kind IN ('call', 'email') AND a.rep_id IS NOT NULL"
	"     AND a.completed_at OPERATOR(pg_catalog.<=) $2"
	"   GROUP BY a.org_id, a.lead_id, o.settings"
	"  HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>=)"
	"         COALESCE((o.settings OPERATOR(pg_catalog.->>) 'nurture_after_attempts')::integer, 5)),"
	" cand AS ("
	"  SELECT l.org_id, l.lead_id, n.attempts, pre.after_attempts"
	"    FROM pre JOIN leadflow.leads l"
	"      ON l.org_id OPERATOR(pg_catalog.=) pre.org_id AND l.lead_id OPERATOR(pg_catalog.=) pre.lead_id"
	"   CROSS JOIN LATERAL ("
	"     SELECT pg_catalog.count(*) AS attempts FROM leadflow.activities a"
	"      WHERE a.org_id OPERATOR(pg_catalog.=) l.org_id AND a.lead_id OPERATOR(pg_catalog.=) l.lead_id"
	"        AND a.kind IN ('call', 'email') AND a.rep_id IS NOT NULL"
	"        AND a.completed_at OPERATOR(pg_catalog.<=) $2"
	"        AND a.completed_at OPERATOR(pg_catalog.>) GREATEST(l.recycled_at,"
	"            (SELECT pg_catalog.max(s.occurred_at) FROM leadflow.lead_signals s"
	"              WHERE s.org_id OPERATOR(pg_catalog.=) l.org_id AND s.lead_id OPERATOR(pg_catalog.=) l.lead_id"
	"                AND s.kind IN ('reply', 'meeting_booked') AND s.occurred_at OPERATOR(pg_catalog.<=) $2),"
	"            (SELECT pg_catalog.max(m.completed_at) FROM leadflow.activities m"
	"              WHERE m.org_id OPERATOR(pg_catalog.=) l.org_id AND m.lead_id OPERATOR(pg_catalog.=) l.lead_id"
	"                AND m.kind OPERATOR(pg_catalog.=) 'meeting' AND m.completed_at OPERATOR(pg_catalog.<=) $2),"
	"            '-infinity'::timestamptz)) n"
	"   WHERE l.merged_into IS NULL AND l.erased_at IS NULL AND l.status IN ('new', 'contacted')"
	"     AND n.attempts OPERATOR(pg_catalog.>=) pre.after_attempts)"
	" UPDATE leadflow.leads l SET status = 'nurture'"
	"   FROM cand c WHERE l.org_id OPERATOR(pg_catalog.=) c.org_id AND l.lead_id OPERATOR(pg_catalog.=) c.lead_id"
	" RETURNING l.org_id, l.lead_id, c.attempts::integer, c.after_attempts",
	2, {INT8OID, TIMESTAMPTZOID}
};

/* queued mail that must not go out any more */
static LeadflowPlan cancel_plan = {
	NULL,
	"UPDATE leadflow.nurture_queue q SET cancelled_at = $2,"
	"       cancel_reason = CASE WHEN l.status OPERATOR(pg_catalog.<>) 'nurture' OR l.merged_into IS NOT NULL"
	"                              OR l.erased_at IS NOT NULL"
	"                              OR l.stage_entered_at OPERATOR(pg_catalog.<>) q.nurture_started_at THEN 'left_nurture'"
	"                            WHEN l.email_status OPERATOR(pg_catalog.<>) 'ok' THEN 'email_bounced'"
	"                            ELSE 'no_consent' END"
	"  FROM leadflow.leads l"
	" WHERE l.org_id OPERATOR(pg_catalog.=) q.org_id AND l.lead_id OPERATOR(pg_catalog.=) q.lead_id AND" ORG_FILTER("q")
	"   AND q.sent_at IS NULL AND q.cancelled_at IS NULL"
	"   AND (l.status OPERATOR(pg_catalog.<>) 'nurture' OR l.merged_into IS NOT NULL OR l.erased_at IS NOT NULL"
	"        OR l.stage_entered_at OPERATOR(pg_catalog.<>) q.nurture_started_at"
	"        OR l.email_status OPERATOR(pg_catalog.<>) 'ok'"
	"        OR NOT leadflow.may_email(l.org_id, l.lead_id, $2))",
	2, {INT8OID, TIMESTAMPTZOID}
};

/*
 * per lead in nurture, the step it is due for now (the latest whose day has
 * come), once per stay in nurture: steps missed while maintenance did not
 * run are skipped rather than sent all at once
 */
static LeadflowPlan queue_plan = {
	NULL,
	"INSERT INTO leadflow.nurture_queue (org_id, lead_id, step, step_days, nurture_started_at, due_at, queued_at)"
	" SELECT d.org_id, d.lead_id, d.step, d.step_days, d.started, d.due_at, $2"
	" FROM (SELECT d.* FROM (SELECT DISTINCT ON (l.org_id, l.lead_id) l.org_id, l.lead_id, s.step, s.step_days,"
	"                l.stage_entered_at AS started,"
	"                l.stage_entered_at OPERATOR(pg_catalog.+) pg_catalog.make_interval(days => s.step_days) AS due_at"
	"           FROM leadflow.leads l"
	"           JOIN (SELECT o.org_id, n.step, n.step_days FROM leadflow.orgs o"
	"                  CROSS JOIN LATERAL leadflow.nurture_schedule(o.org_id) n"
	"                  WHERE" ORG_FILTER("o") ") s ON s.org_id OPERATOR(pg_catalog.=) l.org_id"
	"          WHERE" ORG_FILTER("l") " AND l.status OPERATOR(pg_catalog.=) 'nurture'"
	"            AND l.merged_into IS NULL AND l.erased_at IS NULL"
	"            AND l.email IS NOT NULL AND l.email_status OPERATOR(pg_catalog.=) 'ok'"
	"            AND l.stage_entered_at OPERATOR(pg_catalog.+) pg_catalog.make_interval(days => s.step_days)"
	"                OPERATOR(pg_catalog.<=) $2"
	"          ORDER BY l.org_id, l.lead_id, s.step_days DESC, s.step) d"
	"  WHERE NOT EXISTS (SELECT FROM leadflow.nurture_queue q"
	"                     WHERE q.org_id OPERATOR(pg_catalog.=) d.org_id AND q.lead_id OPERATOR(pg_catalog.=) d.lead_id"
	"                       AND q.nurture_started_at OPERATOR(pg_catalog.=) d.started"
	"                       AND q.step OPERATOR(pg_catalog.=) d.step)"
	"  OFFSET 0) d"		/* consent is asked only of leads with a step to queue */
	" WHERE leadflow.may_email(d.org_id, d.lead_id, $2)"
	" ON CONFLICT (org_id, lead_id, nurture_started_at, step) DO NOTHING"
	" RETURNING org_id, lead_id, item_id, step",
	2, {INT8OID, TIMESTAMPTZOID}
};

static uint64
run(LeadflowPlan *plan, Datum *args, const char *nulls, int expected)
{
	int			rc = LeadflowExecuteSet(plan, args, nulls);

	if (rc != expected)
		elog(ERROR, "leadflow: nurture statement failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

static int64
get_int64(SPITupleTable *rows, uint64 i, int col)
{
	bool		isnull;

	return DatumGetInt64(SPI_getbinval(rows->vals[i], rows->tupdesc, col, &isnull));
}

/*
 * LeadflowNurtureMaintain
 *		run_maintenance's nurture actions (args: org_id or NULL, as_of);
 *		returns the counts of its rows nurture_entered, nurture_cancelled
 *		and nurture_queued.
 *		The caller is connected to SPI and has set LeadflowNow() to as_of.
 */
void
LeadflowNurtureMaintain(Datum *args, const char *nulls,
						uint64 *entered, uint64 *cancelled, uint64 *queued)
{
	uint64		n;
	uint64		i;
	SPITupleTable *rows;

	n = run(&to_nurture_plan, args, nulls, SPI_OK_UPDATE_RETURNING);
	rows = SPI_tuptable;
	for (i = 0; i < n; i++)
	{
		bool		isnull;
		int32		attempts = DatumGetInt32(SPI_getbinval(rows->vals[i], rows->tupdesc, 3, &isnull));
		int32		after = DatumGetInt32(SPI_getbinval(rows->vals[i], rows->tupdesc, 4, &isnull));
		LeadflowJson detail;

		LeadflowJsonBegin(&detail);
		LeadflowJsonInt(&detail, "attempts", attempts);
		LeadflowJsonInt(&detail, "after_attempts", after);
		LeadflowJsonText(&detail, "reason",
						 psprintf("%d contact attempts without a reply or meeting", attempts));
		LeadflowJourneyAppend(get_int64(rows, i, 1), get_int64(rows, i, 2), "nurture_entered",
							  LeadflowJsonFinish(&detail));
	}
	*entered = n;
	*cancelled = run(&cancel_plan, args, nulls, SPI_OK_UPDATE);

	n = run(&queue_plan, args, nulls, SPI_OK_INSERT_RETURNING);
	rows = SPI_tuptable;
	for (i = 0; i < n; i++)
	{
		LeadflowJson detail;

		LeadflowJsonBegin(&detail);
		LeadflowJsonInt(&detail, "item_id", get_int64(rows, i, 3));
		LeadflowJsonText(&detail, "step", SPI_getvalue(rows->vals[i], rows->tupdesc, 4));
		LeadflowJourneyAppend(get_int64(rows, i, 1), get_int64(rows, i, 2), "nurture_queued",
							  LeadflowJsonFinish(&detail));
	}
	*queued = n;
}

/* attribute number of leads.recycled_at, resolved once per leads relation */
static Oid	recycled_relid = InvalidOid;
static int	recycled_attnum = 0;

/*
 * LeadflowNurtureRecycleDue
 *		Called by the leads update trigger after scoring: whether a lead in
 *		nurture whose score crossed hot_at returns now.  It does when its
 *		workflow has a contacted stage; the trigger then moves it there (a
 *		stage change like any other) and calls LeadflowNurtureRecycled.
 */
bool
LeadflowNurtureRecycleDue(const LeadflowLead *lead, int crossed)
{
	char	   *status;

	if (!(crossed & LEADFLOW_CROSSED_HOT))
		return false;
	status = LeadflowLeadText(lead, leadflow_cols.status);
	if (status == NULL || strcmp(status, "nurture") != 0 ||
		!LeadflowLeadIsNull(lead, leadflow_cols.merged_into) ||
		!LeadflowLeadIsNull(lead, leadflow_cols.erased_at))
		return false;
	return LeadflowStageForStatus(LeadflowGetOrg(lead->org_id),
								  LeadflowLeadInt64(lead, leadflow_cols.workflow_id), "contacted") != NULL;
}

/*
 * LeadflowNurtureRecycled
 *		After the move to contacted: stamps recycled_at and journals
 *		"recycled".  The lead stays with its owner while the owner is an
 *		active rep; returns true when it must be routed again instead (the
 *		trigger does, never to that owner).  A lead without an owner is left
 *		to the trigger's routing of hot unowned leads.
 */
bool
LeadflowNurtureRecycled(LeadflowLead *lead)
{
	int64		owner = LeadflowLeadInt64(lead, leadflow_cols.owner_rep_id);
	bool		keep = false;
	LeadflowJson detail;

	if (recycled_relid != leadflow_cols.relid)
	{
		recycled_attnum = get_attnum(leadflow_cols.relid, "recycled_at");
		if (recycled_attnum == InvalidAttrNumber)
			elog(ERROR, "leadflow: leads has no column recycled_at");
		recycled_relid = leadflow_cols.relid;
	}
	LeadflowLeadSet(lead, recycled_attnum, TimestampTzGetDatum(LeadflowNow()), false);

	LeadflowJsonBegin(&detail);
	LeadflowJsonInt(&detail, "score", DatumGetInt32(lead->values[leadflow_cols.score - 1]));
	if (owner != 0)
	{
		const LeadflowRep *rep = LeadflowFindRep(LeadflowGetRouting(lead->org_id, lead->desc), owner);

		keep = rep != NULL && rep->active;
		LeadflowJsonInt(&detail, "owner_rep_id", owner);
	}
	LeadflowJsonText(&detail, "to", keep ? "owner" : "routing");
	LeadflowJourneyAppend(lead->org_id, lead->lead_id, "recycled", LeadflowJsonFinish(&detail));
	return owner != 0 && !keep;
}
