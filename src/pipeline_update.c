/*-------------------------------------------------------------------------
 *
 * pipeline_update.c
 *	  The leads trigger on UPDATE: keys stay, a changed email or phone is
 *	  normalized again and its claim moves, the workflow move is checked
 *	  and journaled, a returning submission reopens a closed lead, a live
 *	  lead is rescored and, when asked, routed again; the user's changes
 *	  are journaled.  Inside the updating transaction, in the executor's
 *	  per-tuple memory context (pipeline.c calls it).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "dedup.h"
#include "dedup_touch.h"
#include "journey.h"
#include "lead.h"
#include "notify.h"
#include "nurture.h"
#include "pipeline_int.h"
#include "predict.h"
#include "request.h"
#include "route.h"
#include "route_state.h"
#include "rulecache.h"
#include "score.h"
#include "search_words.h"
#include "spi.h"
#include "text.h"
#include "validate.h"
#include "workflow.h"

static LeadflowPlan survivor_owner_plan = {
	NULL,
	"SELECT owner_rep_id FROM leadflow.leads"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 AND lead_id OPERATOR(pg_catalog.=) $2",
	2, {INT8OID, INT8OID}
};

/*
 * A live lead was merged into another by hand (merge_leads): the event
 * "merged" names both leads and both owners, so both reps are told.
 */
static void
merged_event(const LeadflowLead *old, const LeadflowLead *lead)
{
	int64		survivor = LeadflowLeadInt64(lead, leadflow_cols.merged_into);
	int64		survivor_owner = 0;
	Datum		args[2];
	LeadflowJson detail;
	bool		isnull;
	int			rc;

	args[0] = Int64GetDatum(lead->org_id);
	args[1] = Int64GetDatum(survivor);
	SPI_connect();
	rc = LeadflowExecute(&survivor_owner_plan, args, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "leadflow: survivor lookup failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		survivor_owner = isnull ? 0 : DatumGetInt64(d);
	}
	SPI_finish();

	LeadflowJsonBegin(&detail);
	LeadflowJsonInt(&detail, "survivor_id", survivor);
	LeadflowJsonInt(&detail, "duplicate_id", lead->lead_id);
	if (survivor_owner != 0)
		LeadflowJsonInt(&detail, "survivor_rep_id", survivor_owner);
	else
		LeadflowJsonNull(&detail, "survivor_rep_id");
	LeadflowPipelineJsonOwner(&detail, "duplicate_rep_id", old);
	LeadflowJsonText(&detail, "reason", "manual");
	LeadflowEvent(lead->org_id, "merged", survivor, survivor_owner, LeadflowJsonFinish(&detail));
}

/*
 * A closed lead reopened by a returning submission: journal "reactivated"
 * (from which status, after how many days closed, through which source)
 * and the event of the same name, for its owner now.
 */
static void
journal_reactivated(const LeadflowLead *old, const LeadflowLead *lead, const char *from,
					const char *source)
{
	LeadflowJson detail;
	double		days = 0;

	if (!LeadflowLeadIsNull(old, leadflow_cols.stage_entered_at))
		days = (double) (LeadflowNow() - DatumGetTimestampTz(old->values[leadflow_cols.stage_entered_at - 1])) /
			USECS_PER_DAY;
	LeadflowJsonBegin(&detail);
	LeadflowJsonText(&detail, "from_status", from);
	LeadflowJsonText(&detail, "to_status", LeadflowLeadText(lead, leadflow_cols.status));
	LeadflowJsonFloat(&detail, "days_closed", days, 1);
	if (source != NULL && source[0] != '\0')
		LeadflowJsonText(&detail, "source", source);
	else
		LeadflowJsonNull(&detail, "source");
	LeadflowPipelineJsonOwner(&detail, "previous_rep_id", old);
	LeadflowPipelineJsonOwner(&detail, "rep_id", lead);
	LeadflowJourneyAppend(lead->org_id, lead->lead_id, "reactivated", LeadflowJsonFinish(&detail));
	LeadflowEvent(lead->org_id, "reactivated", lead->lead_id,
				  LeadflowLeadInt64(lead, leadflow_cols.owner_rep_id), LeadflowJsonFinish(&detail));
}

/*
 * Whether a column has the same value in two rows: varlena values by
 * content, as one may be stored with a short header and the other not.
 */
static bool
same_value(const LeadflowLead *a, const LeadflowLead *b, int attnum)
{
	Form_pg_attribute att = TupleDescAttr(b->desc, attnum - 1);
	Datum		x = a->values[attnum - 1];
	Datum		y = b->values[attnum - 1];

	if (a->nulls[attnum - 1] || b->nulls[attnum - 1])
		return a->nulls[attnum - 1] == b->nulls[attnum - 1];
	if (att->attlen == -1)
	{
		struct varlena *vx = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(x));
		struct varlena *vy = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(y));

		return VARSIZE_ANY_EXHDR(vx) == VARSIZE_ANY_EXHDR(vy) &&
			memcmp(VARDATA_ANY(vx), VARDATA_ANY(vy), VARSIZE_ANY_EXHDR(vx)) == 0;
	}
	return datumIsEqual(x, y, att->attbyval, att->attlen);
}

/*
 * Whether a user-visible field changed: anything but what scoring and the
 * trigger itself write.  Scoring rules may read any other column.
 */
static bool
data_changed(const LeadflowLead *old, const LeadflowLead *lead)
{
	const int	derived[] = {
		leadflow_cols.score_demographic, leadflow_cols.score_firmographic,
		leadflow_cols.score_behavioral, leadflow_cols.score_engagement,
		leadflow_cols.score, leadflow_cols.score_decay, leadflow_cols.temperature, leadflow_cols.updated_at,
		leadflow_cols.escalated_at
	};
	int			i;
	int			j;

	for (i = 0; i < lead->desc->natts; i++)
	{
		bool		skip = TupleDescAttr(lead->desc, i)->attisdropped;

		for (j = 0; j < (int) lengthof(derived) && !skip; j++)
			skip = derived[j] == i + 1;
		if (!skip && !same_value(old, lead, i + 1))
			return true;
	}
	return false;
}

/*
 * A user's change to a lead is journaled as "updated": which fields, by
 * whom (the journal's actor), never their values, except the ids of the
 * owner, team and account.  Status and stage moves have their own
 * stage_changed rows; what the pipeline derives is not listed.  An owner
 * the user set (routed false: not by the pipeline in this update) is also
 * announced as assigned or reassigned.
 */
static void
journal_user_changes(const LeadflowLead *old, const LeadflowLead *lead, bool routed)
{
	const int	fields[] = {
		leadflow_cols.first_name, leadflow_cols.last_name, leadflow_cols.email,
		leadflow_cols.phone, leadflow_cols.company, leadflow_cols.job_title,
		leadflow_cols.industry, leadflow_cols.company_size, leadflow_cols.annual_revenue,
		leadflow_cols.country, leadflow_cols.state, leadflow_cols.city,
		leadflow_cols.postal_code, leadflow_cols.source, leadflow_cols.campaign,
		leadflow_cols.attributes, leadflow_cols.priority, leadflow_cols.score_manual,
		leadflow_cols.budget_confirmed, leadflow_cols.authority_confirmed,
		leadflow_cols.need_confirmed, leadflow_cols.timeline_confirmed,
		leadflow_cols.workflow_id, leadflow_cols.owner_rep_id, leadflow_cols.team_id,
		leadflow_cols.account_id
	};
	LeadflowJson detail;
	int			nchanged = 0;
	int			i;

	LeadflowJsonBegin(&detail);
	LeadflowJsonArray(&detail, "fields");
	for (i = 0; i < (int) lengthof(fields); i++)
	{
		if (same_value(old, lead, fields[i]))
			continue;
		LeadflowJsonText(&detail, NULL, NameStr(TupleDescAttr(lead->desc, fields[i] - 1)->attname));
		nchanged++;
	}
	if (nchanged == 0)
		return;
	LeadflowJsonClose(&detail);
	if (LeadflowLeadInt64(old, leadflow_cols.owner_rep_id) != LeadflowLeadInt64(lead, leadflow_cols.owner_rep_id))
	{
		LeadflowPipelineJsonOwner(&detail, "from_rep_id", old);
		LeadflowPipelineJsonOwner(&detail, "to_rep_id", lead);
	}
	LeadflowJourneyAppend(lead->org_id, lead->lead_id, "updated", LeadflowJsonFinish(&detail));

	/* an owner set by hand: assigned, or reassigned away from the old one */
	if (!routed &&
		LeadflowLeadInt64(old, leadflow_cols.owner_rep_id) != LeadflowLeadInt64(lead, leadflow_cols.owner_rep_id))
	{
		int64		from = LeadflowLeadInt64(old, leadflow_cols.owner_rep_id);

		LeadflowJsonBegin(&detail);
		LeadflowJsonText(&detail, "reason", "manual");
		LeadflowPipelineJsonOwner(&detail, "from_rep_id", old);
		LeadflowPipelineJsonOwner(&detail, "to_rep_id", lead);
		LeadflowEvent(lead->org_id, from != 0 ? "reassigned" : "assigned", lead->lead_id,
					  LeadflowLeadInt64(lead, leadflow_cols.owner_rep_id), LeadflowJsonFinish(&detail));
	}
}

/*
 * The work of an update of a lead, on the old row and the row being
 * written (changed in place): keys stay; a changed email or phone is
 * normalized again and a live lead's email claim moves with it; a live
 * lead is rescored when its data changed or scoring asked for it (new
 * signal, rescore); updated_at moves.  For the trigger and for the
 * pipeline's own update of a survivor.
 */
static void
update_row(LeadflowLead *oldp, LeadflowLead *leadp)
{
	const LeadflowRequest *request = LeadflowCurrentRequest();
	LeadflowLead old = *oldp;
	LeadflowLead lead = *leadp;
	bool		routed = false;
	const char *reactivated_from = NULL;

	LeadflowPipelineRefuseNullKeys(&lead);
	if (lead.org_id != old.org_id || lead.lead_id != old.lead_id)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot change org_id or lead_id of lead " INT64_FORMAT, old.lead_id)));

	if (LeadflowLeadIsNull(&lead, leadflow_cols.erased_at) &&
		(!same_value(&old, &lead, leadflow_cols.country) || !same_value(&old, &lead, leadflow_cols.state)))
		LeadflowNormalizePlace(&lead);
	if (!same_value(&old, &lead, leadflow_cols.source))
		LeadflowNormalizeSource(&lead);
	if (LeadflowLeadIsNull(&lead, leadflow_cols.erased_at) &&
		(!same_value(&old, &lead, leadflow_cols.email) || !same_value(&old, &lead, leadflow_cols.phone) ||
		 !same_value(&old, &lead, leadflow_cols.country)))
	{
		lead.org = LeadflowGetOrg(lead.org_id);
		LeadflowValidateLead(&lead);
		if (LeadflowLeadIsNull(&old, leadflow_cols.merged_into) &&
			LeadflowLeadIsNull(&lead, leadflow_cols.merged_into) &&
			!same_value(&old, &lead, leadflow_cols.email_normalized))
			LeadflowDedupMoveClaim(&lead,
								   LeadflowLeadText(&old, leadflow_cols.email_normalized),
								   LeadflowLeadText(&lead, leadflow_cols.email_normalized));
		if (LeadflowLeadIsNull(&old, leadflow_cols.merged_into) &&
			LeadflowLeadIsNull(&lead, leadflow_cols.merged_into) &&
			!same_value(&old, &lead, leadflow_cols.phone_e164))
			LeadflowDedupMovePhone(&lead,
								   LeadflowLeadText(&old, leadflow_cols.phone_e164),
								   LeadflowLeadText(&lead, leadflow_cols.phone_e164));
	}
	LeadflowDedupFollowLifecycle(&old, &lead);
	if (request->reactivate_source != NULL &&
		LeadflowLeadIsNull(&lead, leadflow_cols.merged_into) &&
		LeadflowLeadIsNull(&lead, leadflow_cols.erased_at))
		reactivated_from = LeadflowWorkflowReactivate(&old, &lead);
	LeadflowWorkflowUpdate(&old, &lead);
	if (LeadflowLeadIsNull(&old, leadflow_cols.merged_into) &&
		!LeadflowLeadIsNull(&lead, leadflow_cols.merged_into))
		merged_event(&old, &lead);
	{
		const bool	changed[NREFERENCES] = {
			LeadflowLeadInt64(&lead, leadflow_cols.owner_rep_id) != LeadflowLeadInt64(&old, leadflow_cols.owner_rep_id),
			LeadflowLeadInt64(&lead, leadflow_cols.team_id) != LeadflowLeadInt64(&old, leadflow_cols.team_id),
			LeadflowLeadInt64(&lead, leadflow_cols.account_id) != LeadflowLeadInt64(&old, leadflow_cols.account_id),
			LeadflowLeadInt64(&lead, leadflow_cols.workflow_id) != LeadflowLeadInt64(&old, leadflow_cols.workflow_id),
			LeadflowLeadInt64(&lead, leadflow_cols.merged_into) != LeadflowLeadInt64(&old, leadflow_cols.merged_into)
		};

		LeadflowPipelineCheckReferences(&lead, changed);
	}
	/* open-lead counts follow owner and status changes made by the user */
	{
		int64		was = LeadflowPipelineCountedOwner(&old);
		int64		is = LeadflowPipelineCountedOwner(&lead);

		if (was != is)
		{
			if (was != 0)
				LeadflowRouteAdjustLoad(lead.org_id, was, -1);
			if (is != 0)
				LeadflowRouteAdjustLoad(lead.org_id, is, +1);
		}
		if (is != 0 && is != was)
			LeadflowLeadSet(&lead, leadflow_cols.assigned_at,
							TimestampTzGetDatum(LeadflowNow()), false);
	}

	if (LeadflowLeadIsNull(&lead, leadflow_cols.merged_into) &&
		LeadflowLeadIsNull(&lead, leadflow_cols.erased_at))
	{
		int			crossed = 0;

		if (request->rescore_reason != NULL || data_changed(&old, &lead))
			crossed = LeadflowScoreApply(&lead, DatumGetInt32(old.values[leadflow_cols.score - 1]), true,
										 request->rescore_reason ? request->rescore_reason : "update");
		if (LeadflowNurtureRecycleDue(&lead, crossed))
		{
			/* back to contacted, checked and journaled as any stage change */
			LeadflowLead prev;

			LeadflowLeadCopy(&prev, &lead);
			LeadflowLeadSetText(&lead, leadflow_cols.status, "contacted");
			LeadflowWorkflowUpdate(&prev, &lead);
			if (LeadflowNurtureRecycled(&lead))
			{
				LeadflowRouteLead(&lead, LeadflowLeadInt64(&lead, leadflow_cols.owner_rep_id), "recycled");
				routed = true;
			}
		}
		/* reopened: its previous owner when available, else the rules */
		if (reactivated_from != NULL)
		{
			int64		prev = LeadflowLeadInt64(&old, leadflow_cols.owner_rep_id);

			if (prev == 0 || !LeadflowRouteRepAvailable(&lead, prev))
			{
				LeadflowRouteLead(&lead, prev, "reactivated");
				routed = true;
			}
			journal_reactivated(&old, &lead, reactivated_from, request->reactivate_source);
		}
		/* reassign_lead; or a hot lead nobody owns gets an owner now */
		else if (request->reroute_reason != NULL)
		{
			LeadflowRouteLead(&lead, LeadflowLeadInt64(&lead, leadflow_cols.owner_rep_id), request->reroute_reason);
			routed = true;
		}
		else if ((crossed & LEADFLOW_CROSSED_HOT) && LeadflowLeadIsNull(&lead, leadflow_cols.owner_rep_id) &&
				 LeadflowStatusIsOpen(LeadflowLeadText(&lead, leadflow_cols.status)))
		{
			LeadflowRouteLead(&lead, 0, "hot");
			routed = true;
		}
		LeadflowScoreNotify(&lead, crossed);
	}
	LeadflowPredictLead(&old, &lead);
	/* nested updates are the pipeline's own; erasure journals itself */
	if (request->pipeline_depth == 1 && LeadflowLeadIsNull(&lead, leadflow_cols.erased_at))
		journal_user_changes(&old, &lead, routed);
	LeadflowLeadSet(&lead, leadflow_cols.updated_at,
					TimestampTzGetDatum(LeadflowNow()), false);
	*leadp = lead;
}

/* BEFORE UPDATE: update_row on the trigger's rows */
HeapTuple
LeadflowPipelineUpdate(TriggerData *td)
{
	LeadflowLead old;
	LeadflowLead lead;

	LeadflowLeadFromTuple(&old, RelationGetDescr(td->tg_relation), td->tg_trigtuple);
	LeadflowLeadFromTuple(&lead, RelationGetDescr(td->tg_relation), td->tg_newtuple);
	update_row(&old, &lead);
	LeadflowSearchWordsSet(&lead, &old);
	return heap_modify_tuple(td->tg_newtuple, lead.desc, lead.values, lead.nulls, lead.replace);
}


/*
 * Whether the pipeline may update a survivor itself, below the executor,
 * with the same outcome as the UPDATE the SQL path runs (spi.c
 * LeadflowDirectAllowed, and the role may read leads): the only UPDATE
 * triggers on leads are leadflow's, those whose work this does (the
 * pipeline; the statement end, which does nothing for a nested statement)
 * or that cannot fire here.  A bounced survivor whose email the touch
 * fills (the email status reset) and a reopening into a qualified stage
 * (the conversion on qualified) take the SQL path.
 */
static bool
direct_touch(Relation rel, const LeadflowLead *survivor, const LeadflowLead *filled)
{
	static const char *const known[] = {
		"leads_pipeline", "leads_statement_end", "leads_email_status_reset", "leads_convert_on_qualified"
	};
	int			email_status = leadflow_cols.email_status;

	if (pg_class_aclcheck(RelationGetRelid(rel), GetUserId(), ACL_SELECT) != ACLCHECK_OK ||
		!LeadflowDirectAllowed(rel, ACL_UPDATE, known, lengthof(known), InvalidOid))
		return false;
	if (email_status > 0 && survivor->nulls[leadflow_cols.email - 1] &&
		!filled->nulls[leadflow_cols.email - 1] && !survivor->nulls[email_status - 1] &&
		strcmp(TextDatumGetCString(survivor->values[email_status - 1]), "bounced") == 0)
		return false;
	if (LeadflowLeadIsNull(survivor, leadflow_cols.merged_into) &&
		LeadflowLeadIsNull(survivor, leadflow_cols.erased_at))
	{
		LeadflowLead probe;

		LeadflowLeadCopy(&probe, filled);
		if (LeadflowWorkflowReactivate(survivor, &probe) != NULL &&
			strcmp(LeadflowLeadText(&probe, leadflow_cols.status), "qualified") == 0)
			return false;
	}
	return true;
}

typedef struct Touch
{
	LeadflowLead *old;
	LeadflowLead *lead;
} Touch;

static void
touch_work(void *arg)
{
	Touch	   *touch = (Touch *) arg;

	update_row(touch->old, touch->lead);
}

/*
 * LeadflowPipelineTouchSurvivor
 *		A duplicate arrived (lead_insert): its survivor, locked here, is
 *		touched (dedup.c: duplicate_touch, form_submit signal, empty fields
 *		filled) and updated by the pipeline itself, rescored for the signal
 *		and reopened if closed, as the leads trigger would for the UPDATE
 *		the SQL path runs, without running that UPDATE: no executor, no
 *		trigger re-entered, the table's indexes and CHECK constraints
 *		prepared once per statement (lead.c).  Then the newcomer's merge is
 *		journaled and announced.
 *
 * Statements of the touch see the work before them, as consecutive SQL
 * statements would: a new command and, at READ COMMITTED, a new snapshot.
 * Takes the survivor's row lock (FOR NO KEY UPDATE) until commit.
 */
void
LeadflowPipelineTouchSurvivor(Relation rel, LeadflowLead *lead, int64 survivor_id, const char *reason)
{
	LeadflowRequest request = *LeadflowCurrentRequest();
	const char *source = LeadflowLeadText(lead, leadflow_cols.source);
	HeapTuple	row;
	LeadflowLead old;
	LeadflowLead filled;
	Touch		touch;

	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	UpdateActiveSnapshotCommandId();
	row = LeadflowLeadLock(lead->org_id, survivor_id);
	if (row == NULL)
		elog(ERROR, "leadflow: survivor " INT64_FORMAT " of an email claim not found", survivor_id);
	LeadflowLeadFromTuple(&old, RelationGetDescr(rel), row);
	LeadflowDedupFill(lead, &old, &filled);
	if (!direct_touch(rel, &old, &filled))
	{
		PopActiveSnapshot();
		LeadflowDedupTouchSurvivor(lead, survivor_id, reason);
		return;
	}

	LeadflowDedupTouch(lead, &old);
	/* the update sees the signal: a new command, the snapshot moved to it */
	CommandCounterIncrement();
	UpdateActiveSnapshotCommandId();
	/* as the UPDATE's trigger would: one pipeline level deeper */
	request.rescore_reason = "signal";
	request.reactivate_source = source ? source : "";
	request.pipeline_depth++;
	touch.old = &old;
	touch.lead = &filled;
	LeadflowRunUnder(&request, touch_work, &touch);
	/* names the duplicate filled in: the survivor's words and the org's */
	LeadflowSearchWordsSet(&filled, &old);
	LeadflowLeadUpdate(lead->org_id, row, heap_form_tuple(filled.desc, filled.values, filled.nulls));
	PopActiveSnapshot();

	LeadflowDedupMerged(lead, survivor_id, LeadflowLeadInt64(&old, leadflow_cols.owner_rep_id),
						LeadflowLeadText(&old, leadflow_cols.status), reason);
}
