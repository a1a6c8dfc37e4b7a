/*-------------------------------------------------------------------------
 *
 * dedup_touch.c
 *	  A duplicate's touch of its survivor: the duplicate_touch journey row,
 *	  the form_submit signal, the survivor's empty fields filled from the
 *	  newcomer (for the pipeline to rescore and store), the newcomer's
 *	  "merged" row and event; and the same through SQL (one UPDATE that
 *	  re-enters the leads trigger) where only SQL is exact.  The claims
 *	  that find the survivor are dedup.c's.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "executor/executor.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "dedup_touch.h"
#include "journey.h"
#include "lead.h"
#include "notify.h"
#include "request.h"
#include "spi.h"
#include "text.h"

static LeadflowPlan signal_plan = {
	NULL,
	"INSERT INTO leadflow.lead_signals (org_id, lead_id, kind, properties)"
	" VALUES ($1, $2, 'form_submit',"
	" pg_catalog.jsonb_build_object('duplicate_lead_id', $3, 'source', $4))",
	4, {INT8OID, INT8OID, INT8OID, TEXTOID}
};

/*
 * The survivor's empty fields are filled from the newcomer (its email too:
 * a phone-only survivor gets the email of a newcomer merged by phone, and
 * its update takes the email's claim).  Both plans are
 * built from this list on first use; each field is passed with the type
 * of its leads column.
 */
static const char *const fill_fields[] = {
	"email", "first_name", "last_name", "phone", "company", "job_title", "industry",
	"company_size", "annual_revenue", "country", "state", "city",
	"postal_code", "campaign"
};
#define NFILL ((int) lengthof(fill_fields))

static LeadflowPlan survivor_plan;
static LeadflowPlan fill_plan;
static int	fill_attnums[NFILL];

static void
build_fill_plans(const LeadflowLead *lead)
{
	StringInfoData select;
	StringInfoData update;
	int			i;

	if (fill_plan.sql != NULL)
		return;

	initStringInfo(&select);
	initStringInfo(&update);
	appendStringInfoString(&select, "SELECT ");
	appendStringInfoString(&update, "UPDATE leadflow.leads SET last_activity_at = GREATEST(last_activity_at, $3)");
	fill_plan.argtypes[0] = INT8OID;
	fill_plan.argtypes[1] = INT8OID;
	fill_plan.argtypes[2] = TIMESTAMPTZOID;
	for (i = 0; i < NFILL; i++)
	{
		appendStringInfo(&select, "%s%s IS NULL", i > 0 ? ", " : "", fill_fields[i]);
		appendStringInfo(&update, ", %s = COALESCE(%s, $%d)", fill_fields[i], fill_fields[i], i + 4);
		fill_attnums[i] = SPI_fnumber(lead->desc, fill_fields[i]);
		fill_plan.argtypes[i + 3] = SPI_gettypeid(lead->desc, fill_attnums[i]);
	}
	/* the survivor's owner, told of the merge, after the fill flags */
	appendStringInfoString(&select, ", owner_rep_id, status FROM leadflow.leads WHERE org_id OPERATOR(pg_catalog.=) $1"
						   " AND lead_id OPERATOR(pg_catalog.=) $2 FOR NO KEY UPDATE");
	appendStringInfoString(&update, " WHERE org_id OPERATOR(pg_catalog.=) $1"
						   " AND lead_id OPERATOR(pg_catalog.=) $2");

	StaticAssertStmt(NFILL + 3 <= lengthof(fill_plan.argtypes), "too many fill fields");
	survivor_plan.nargs = 2;
	survivor_plan.argtypes[0] = INT8OID;
	survivor_plan.argtypes[1] = INT8OID;
	survivor_plan.sql = MemoryContextStrdup(TopMemoryContext, select.data);
	fill_plan.nargs = NFILL + 3;
	fill_plan.sql = MemoryContextStrdup(TopMemoryContext, update.data);
}

/*
 * The duplicate_touch row of the survivor: which of its empty fields
 * (empty[i]: fill_fields[i] is null there) the newcomer fills.
 */
static void
journal_touch(const LeadflowLead *lead, int64 survivor_id, const bool *empty)
{
	LeadflowJourneyEvent ev;
	LeadflowJson *detail = LeadflowJourneyBegin(&ev, lead->org_id, survivor_id, "duplicate_touch");
	int			i;

	LeadflowJsonInt(detail, "duplicate_lead_id", lead->lead_id);
	LeadflowJsonText(detail, "source", LeadflowLeadText(lead, leadflow_cols.source));
	LeadflowJsonArray(detail, "filled");
	for (i = 0; i < NFILL; i++)
		if (empty[i] && !lead->nulls[fill_attnums[i] - 1])
			LeadflowJsonText(detail, NULL, fill_fields[i]);
	LeadflowJourneyEnd(&ev);
}

/*
 * lead_signals as the touch's signal knows it: its columns, and the
 * triggers its INSERT fires, each of which leaves a form_submit signal
 * inserted under signal_lead_updated as it is (redirect and rescore left
 * to the caller; the bounce trigger fires for email_bounce alone).
 */
static const char *const signal_columns[] = {
	"org_id", "signal_id", "lead_id", "kind", "occurred_at", "properties"
};
static const char *const signal_triggers[] = {
	"lead_signals_redirect", "lead_signals_rescore", "lead_signals_email_bounce"
};

/*
 * The touch's signal written below the executor into the statement's open
 * lead_signals (spi.c), as the SQL INSERT below would write it: the
 * identity's next value, now() as the column default, constraints and
 * index entries.  Returns false, having written nothing, when only that
 * INSERT does it exactly (LeadflowDirectAllowed, a column not known here).
 */
static bool
insert_signal_direct(const LeadflowLead *lead, int64 survivor_id, const char *source)
{
	LeadflowDirect once;
	LeadflowDirect *d = LeadflowDirectBegin("lead_signals", lead->org_id, false, &once);
	TupleDesc	desc = RelationGetDescr(d->rel);
	Datum	   *values = palloc0(desc->natts * sizeof(Datum));
	bool	   *nulls = palloc(desc->natts * sizeof(bool));
	TupleTableSlot *slot;
	LeadflowJson properties;
	int			live = 0;
	int			i;

	for (i = 0; i < desc->natts; i++)
		live += TupleDescAttr(desc, i)->attisdropped ? 0 : 1;
	if (live != lengthof(signal_columns) ||
		!LeadflowDirectAllowed(d->rel, ACL_INSERT, signal_triggers, lengthof(signal_triggers),
							   leadflow_cols.relid))
	{
		LeadflowDirectEnd(d, &once);
		return false;
	}
	memset(nulls, true, desc->natts * sizeof(bool));
	for (i = 0; i < (int) lengthof(signal_columns); i++)
		nulls[LeadflowDirectAttnum(d, signal_columns[i]) - 1] = false;
	LeadflowJsonBeginJsonb(&properties);
	LeadflowJsonInt(&properties, "duplicate_lead_id", lead->lead_id);
	LeadflowJsonText(&properties, "source", source);
	values[LeadflowDirectAttnum(d, "org_id") - 1] = Int64GetDatum(lead->org_id);
	values[LeadflowDirectAttnum(d, "signal_id") - 1] =
		Int64GetDatum(nextval_internal(LeadflowDirectSequence(d, "signal_id"), false));
	values[LeadflowDirectAttnum(d, "lead_id") - 1] = Int64GetDatum(survivor_id);
	values[LeadflowDirectAttnum(d, "kind") - 1] = CStringGetTextDatum("form_submit");
	values[LeadflowDirectAttnum(d, "occurred_at") - 1] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	values[LeadflowDirectAttnum(d, "properties") - 1] = JsonbPGetDatum(LeadflowJsonFinishJsonb(&properties));

	slot = MakeSingleTupleTableSlot(desc, &TTSOpsHeapTuple);
	ExecStoreHeapTuple(heap_form_tuple(desc, values, nulls), slot, false);
	if (desc->constr)
		ExecConstraints(d->rri, slot, d->estate);
	table_tuple_insert(d->rel, slot, GetCurrentCommandId(true), 0, NULL);
	list_free(LeadflowInsertIndexTuples(d->rri, slot, d->estate, false, NULL));
	ExecDropSingleTupleTableSlot(slot);
	LeadflowDirectEnd(d, &once);
	return true;
}

/*
 * The form_submit signal of the survivor; its trigger leaves the lead to
 * the caller, which rescores it for the signal.  Inside an SPI connection
 * when not direct.
 */
static void
insert_signal(const LeadflowLead *lead, int64 survivor_id, bool direct)
{
	const char *source = LeadflowLeadText(lead, leadflow_cols.source);
	LeadflowRequest request = *LeadflowCurrentRequest();
	Datum		sargs[4];
	char		snulls[4] = {' ', ' ', ' ', ' '};

	if (direct && insert_signal_direct(lead, survivor_id, source))
		return;
	sargs[0] = Int64GetDatum(lead->org_id);
	sargs[1] = Int64GetDatum(survivor_id);
	sargs[2] = Int64GetDatum(lead->lead_id);
	sargs[3] = source ? CStringGetTextDatum(source) : (Datum) 0;
	snulls[3] = source ? ' ' : 'n';
	request.signal_lead_updated = true;
	SPI_connect();
	(void) LeadflowExecuteUnder(&request, &signal_plan, sargs, snulls, SPI_OK_INSERT);
	SPI_finish();
}

/*
 * LeadflowDedupMerged
 *		The end of a duplicate's touch: the newcomer's journey records the
 *		merge, and the survivor's owner (as it was before the touch) is told
 *		by the event "merged"; survivor_status is the survivor's status
 *		before the touch (a converted lead's return is this touch).
 */
void
LeadflowDedupMerged(LeadflowLead *lead, int64 survivor_id, int64 survivor_owner,
					const char *survivor_status, const char *reason)
{
	LeadflowJourneyEvent ev;
	LeadflowJson *merged = LeadflowJourneyBegin(&ev, lead->org_id, lead->lead_id, "merged");
	LeadflowJson detail;

	LeadflowJsonInt(merged, "merged_into", survivor_id);
	LeadflowJsonText(merged, "reason", reason);
	LeadflowJourneyEnd(&ev);

	/* the survivor's owner is told; a newcomer has no owner of its own */
	LeadflowJsonBeginJsonb(&detail);
	LeadflowJsonInt(&detail, "survivor_id", survivor_id);
	LeadflowJsonInt(&detail, "duplicate_id", lead->lead_id);
	if (survivor_owner != 0)
		LeadflowJsonInt(&detail, "survivor_rep_id", survivor_owner);
	else
		LeadflowJsonNull(&detail, "survivor_rep_id");
	if (LeadflowLeadIsNull(lead, leadflow_cols.owner_rep_id))
		LeadflowJsonNull(&detail, "duplicate_rep_id");
	else
		LeadflowJsonInt(&detail, "duplicate_rep_id", LeadflowLeadInt64(lead, leadflow_cols.owner_rep_id));
	LeadflowJsonText(&detail, "reason", reason);
	LeadflowJsonText(&detail, "survivor_status", survivor_status);
	LeadflowEventJson(lead->org_id, "merged", survivor_id, survivor_owner, &detail);
}

/*
 * LeadflowDedupFill
 *		A duplicate arrived and the pipeline updates its survivor itself
 *		(pipeline_update.c): *filled is the survivor with its empty fields
 *		filled from the newcomer (its email too: a phone-only survivor gets
 *		the email of a newcomer merged by phone, and its update takes the
 *		email's claim) and last_activity_at moved to now, for the caller to
 *		rescore and store.  The datums are shared with the two leads.
 */
void
LeadflowDedupFill(const LeadflowLead *lead, const LeadflowLead *survivor, LeadflowLead *filled)
{
	int			attnum = leadflow_cols.last_activity_at;
	TimestampTz now = LeadflowNow();
	int			i;

	build_fill_plans(lead);
	LeadflowLeadCopy(filled, survivor);
	filled->replace = palloc0(survivor->desc->natts * sizeof(bool));
	for (i = 0; i < NFILL; i++)
	{
		int			a = fill_attnums[i];

		if (survivor->nulls[a - 1] && !lead->nulls[a - 1])
			LeadflowLeadSet(filled, a, lead->values[a - 1], false);
	}
	if (survivor->nulls[attnum - 1] || DatumGetTimestampTz(survivor->values[attnum - 1]) < now)
		LeadflowLeadSet(filled, attnum, TimestampTzGetDatum(now), false);
}

/*
 * LeadflowDedupTouch
 *		The survivor (locked by the caller) of a duplicate gets its
 *		duplicate_touch journey row and a form_submit signal; the caller
 *		then updates it (LeadflowDedupFill) and calls LeadflowDedupMerged.
 */
void
LeadflowDedupTouch(const LeadflowLead *lead, const LeadflowLead *survivor)
{
	bool		empty[NFILL];
	int			i;

	build_fill_plans(lead);
	for (i = 0; i < NFILL; i++)
		empty[i] = survivor->nulls[fill_attnums[i] - 1];
	journal_touch(lead, survivor->lead_id, empty);
	insert_signal(lead, survivor->lead_id, true);
}

/*
 * LeadflowDedupTouchSurvivor
 *		LeadflowDedupTouch through SQL, for when the pipeline cannot update
 *		the survivor itself (pipeline_update.c says when): one UPDATE that
 *		fills the empty fields, moves the last activity and, through the
 *		leads trigger, rescores for the signal; then LeadflowDedupMerged.
 *
 * Locks the survivor row (FOR NO KEY UPDATE) before journaling on it.
 */
void
LeadflowDedupTouchSurvivor(LeadflowLead *lead, int64 survivor_id, const char *reason)
{
	const char *source = LeadflowLeadText(lead, leadflow_cols.source);
	Datum		args[NFILL + 3];
	char		nulls[NFILL + 3];
	bool		empty[NFILL];
	HeapTuple	row;
	TupleDesc	desc;
	bool		isnull;
	int			i;
	int			rc;
	LeadflowRequest request;
	int64		survivor_owner;
	char	   *survivor_status;
	MemoryContext caller_cxt = CurrentMemoryContext;

	build_fill_plans(lead);
	SPI_connect();

	args[0] = Int64GetDatum(lead->org_id);
	args[1] = Int64GetDatum(survivor_id);
	rc = LeadflowExecute(&survivor_plan, args, NULL, false, 0);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "leadflow: survivor " INT64_FORMAT " of an email claim not found", survivor_id);
	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	{
		Datum		owner = SPI_getbinval(row, desc, NFILL + 1, &isnull);

		survivor_owner = isnull ? 0 : DatumGetInt64(owner);
		survivor_status = MemoryContextStrdup(caller_cxt, SPI_getvalue(row, desc, NFILL + 2));
	}

	memset(nulls, ' ', sizeof(nulls));
	args[2] = TimestampTzGetDatum(LeadflowNow());
	for (i = 0; i < NFILL; i++)
	{
		int			attnum = fill_attnums[i];

		empty[i] = DatumGetBool(SPI_getbinval(row, desc, i + 1, &isnull));
		args[i + 3] = lead->values[attnum - 1];
		nulls[i + 3] = lead->nulls[attnum - 1] ? 'n' : ' ';
	}

	journal_touch(lead, survivor_id, empty);
	insert_signal(lead, survivor_id, false);

	/* an archived or unqualified survivor is reopened by this update */
	request = *LeadflowCurrentRequest();
	request.rescore_reason = "signal";
	request.reactivate_source = source ? source : "";
	(void) LeadflowExecuteUnder(&request, &fill_plan, args, nulls, SPI_OK_UPDATE);
	SPI_finish();

	LeadflowDedupMerged(lead, survivor_id, survivor_owner, survivor_status, reason);
}
