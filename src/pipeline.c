/*-------------------------------------------------------------------------
 *
 * pipeline.c
 *	  The leads trigger: runs the pipeline stages on every INSERT, and the
 *	  bookkeeping of every UPDATE, inside the writing transaction.
 *
 *	  A BEFORE ROW trigger, so every stage works on the new row in memory
 *	  and the row is stored once, complete; an error in any stage aborts
 *	  the statement and nothing partial remains.  The executor calls us in
 *	  its per-tuple memory context, reset after every row, so per-row
 *	  allocations need no freeing.
 *
 *	  Order on INSERT: validate and normalize, place in the workflow,
 *	  journal "created", deduplicate (a duplicate stops here, stored as
 *	  merged), enrich.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "dedup.h"
#include "enrich.h"
#include "journey.h"
#include "lead.h"
#include "leadflow.h"
#include "normalize.h"
#include "notify.h"
#include "nurture.h"
#include "predict.h"
#include "request.h"
#include "route.h"
#include "route_state.h"
#include "rulecache.h"
#include "score.h"
#include "spi.h"
#include "text.h"
#include "validate.h"
#include "workflow.h"
#include "txbuf.h"

/* the rep whose open-lead count includes this lead, or 0 */
static int64
counted_owner(const LeadflowLead *lead)
{
	if (LeadflowLeadIsNull(lead, leadflow_cols.owner_rep_id) ||
		!LeadflowLeadIsNull(lead, leadflow_cols.merged_into) ||
		!LeadflowLeadIsNull(lead, leadflow_cols.erased_at) ||
		!LeadflowStatusIsOpen(LeadflowLeadText(lead, leadflow_cols.status)))
		return 0;
	return DatumGetInt64(lead->values[leadflow_cols.owner_rep_id - 1]);
}

/* the lead's owner as a detail member, null when it has none */
static void
json_owner(LeadflowJson *detail, const char *key, const LeadflowLead *lead)
{
	if (LeadflowLeadIsNull(lead, leadflow_cols.owner_rep_id))
		LeadflowJsonNull(detail, key);
	else
		LeadflowJsonInt(detail, key, LeadflowLeadInt64(lead, leadflow_cols.owner_rep_id));
}

/* An owner given on insert is kept: counted and journaled as routed. */
static void
keep_given_owner(LeadflowLead *lead)
{
	LeadflowJson detail;
	int64		owner = LeadflowLeadInt64(lead, leadflow_cols.owner_rep_id);

	LeadflowLeadSet(lead, leadflow_cols.assigned_at,
					TimestampTzGetDatum(LeadflowNow()), false);
	if (counted_owner(lead) != 0)
		LeadflowRouteAdjustLoad(lead->org_id, owner, +1);
	LeadflowJsonBegin(&detail);
	LeadflowJsonText(&detail, "path", "given");
	LeadflowJsonText(&detail, "reason", "created");
	LeadflowJsonInt(&detail, "rep_id", owner);
	LeadflowJsonArray(&detail, "candidates");
	LeadflowJourneyAppend(lead->org_id, lead->lead_id, "routed", LeadflowJsonFinish(&detail));
	LeadflowNotify("assigned", lead->org_id, lead->lead_id, owner);
}

/*
 * Places a new lead in its workflow: the org default unless given, the
 * stage that maps to its status unless a stage is given (then the status
 * follows the stage).
 */
static void
place_in_workflow(LeadflowLead *lead)
{
	const LeadflowOrg *org = lead->org;
	int64		workflow_id = LeadflowLeadInt64(lead, leadflow_cols.workflow_id);
	const LeadflowStage *stage;
	char	   *status;

	if (!LeadflowLeadIsNull(lead, leadflow_cols.stage_id))
	{
		int64		stage_id = LeadflowLeadInt64(lead, leadflow_cols.stage_id);

		stage = LeadflowFindStage(org, stage_id);
		if (stage == NULL || (workflow_id != 0 && stage->workflow_id != workflow_id))
			ereport(ERROR,
					(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
					 errmsg("stage_id " INT64_FORMAT " is not a stage of %s", stage_id,
							workflow_id != 0 ? "the lead's workflow" : "this org"),
					 errdetail("Lead " INT64_FORMAT " of org " INT64_FORMAT ".",
							   lead->lead_id, org->org_id)));
		LeadflowLeadSet(lead, leadflow_cols.workflow_id, Int64GetDatum(stage->workflow_id), false);
		LeadflowLeadSetText(lead, leadflow_cols.status, stage->status);
		return;
	}

	if (workflow_id == 0)
	{
		workflow_id = org->default_workflow_id;
		if (workflow_id == 0)
			ereport(ERROR,
					(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
					 errmsg("org " INT64_FORMAT " has no default workflow", org->org_id),
					 errhint("Mark one of its workflows is_default.")));
	}
	status = LeadflowLeadText(lead, leadflow_cols.status);
	stage = LeadflowStageForStatus(org, workflow_id, status);
	if (stage == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("workflow " INT64_FORMAT " has no stage for status \"%s\"",
						workflow_id, status),
				 errdetail("Lead " INT64_FORMAT " of org " INT64_FORMAT ".",
						   lead->lead_id, org->org_id)));
	LeadflowLeadSet(lead, leadflow_cols.workflow_id, Int64GetDatum(workflow_id), false);
	LeadflowLeadSet(lead, leadflow_cols.stage_id, Int64GetDatum(stage->stage_id), false);
}

static LeadflowPlan references_plan = {
	NULL,
	"SELECT $2 IS NULL OR EXISTS (SELECT FROM leadflow.reps r"
	"        WHERE r.org_id OPERATOR(pg_catalog.=) $1 AND r.rep_id OPERATOR(pg_catalog.=) $2),"
	"       $3 IS NULL OR EXISTS (SELECT FROM leadflow.teams t"
	"        WHERE t.org_id OPERATOR(pg_catalog.=) $1 AND t.team_id OPERATOR(pg_catalog.=) $3),"
	"       $4 IS NULL OR EXISTS (SELECT FROM leadflow.accounts a"
	"        WHERE a.org_id OPERATOR(pg_catalog.=) $1 AND a.account_id OPERATOR(pg_catalog.=) $4),"
	"       $5 IS NULL OR EXISTS (SELECT FROM leadflow.workflows w"
	"        WHERE w.org_id OPERATOR(pg_catalog.=) $1 AND w.workflow_id OPERATOR(pg_catalog.=) $5),"
	"       $6 IS NULL OR EXISTS (SELECT FROM leadflow.leads m"
	"        WHERE m.org_id OPERATOR(pg_catalog.=) $1 AND m.lead_id OPERATOR(pg_catalog.=) $6"
	"          AND m.merged_into IS NULL AND m.erased_at IS NULL)",
	6, {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID}
};

/* the columns check_references tests, in the order of its check[] */
#define NREFERENCES 5

/*
 * leads has no declarative foreign keys (see the install script): check
 * owner_rep_id, team_id, account_id and workflow_id here, in the lead's
 * own org, and that merged_into names a live lead of the org (so merges
 * never chain, loop or cross orgs).  The rows they name cannot be deleted
 * while leads refer to them.  Only the columns in check[] are tested
 * (those set on insert or changed).
 */
static void
check_references(const LeadflowLead *lead, const bool *check)
{
	const int	attnums[NREFERENCES] = {
		leadflow_cols.owner_rep_id, leadflow_cols.team_id, leadflow_cols.account_id,
		leadflow_cols.workflow_id, leadflow_cols.merged_into
	};
	static const char *const names[NREFERENCES] = {
		"owner_rep_id", "team_id", "account_id", "workflow_id", "merged_into"
	};
	Datum		args[NREFERENCES + 1];
	char		nulls[NREFERENCES + 1];
	bool		any = false;
	int			i;
	int			rc;

	if (check[4] && LeadflowLeadInt64(lead, leadflow_cols.merged_into) == lead->lead_id)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("lead " INT64_FORMAT " cannot be merged into itself", lead->lead_id)));

	args[0] = Int64GetDatum(lead->org_id);
	nulls[0] = ' ';
	for (i = 0; i < NREFERENCES; i++)
	{
		bool		null = !check[i] || LeadflowLeadIsNull(lead, attnums[i]);

		args[i + 1] = null ? (Datum) 0 : lead->values[attnums[i] - 1];
		nulls[i + 1] = null ? 'n' : ' ';
		any |= !null;
	}
	if (!any)
		return;

	SPI_connect();
	rc = LeadflowExecute(&references_plan, args, nulls, true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "leadflow: reference check failed: %s", SPI_result_code_string(rc));
	for (i = 0; i < NREFERENCES; i++)
	{
		bool		isnull;

		if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &isnull)))
			ereport(ERROR,
					(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
					 errmsg("%s " INT64_FORMAT " does not exist in org " INT64_FORMAT "%s",
							names[i], DatumGetInt64(args[i + 1]), lead->org_id,
							attnums[i] == leadflow_cols.merged_into ? " as a live lead" : ""),
					 errdetail("Lead " INT64_FORMAT ".", lead->lead_id)));
	}
	SPI_finish();
}

static void
journal_created(LeadflowLead *lead)
{
	LeadflowJson detail;

	LeadflowJsonBegin(&detail);
	LeadflowJsonText(&detail, "source", LeadflowLeadText(lead, leadflow_cols.source));
	LeadflowJsonInt(&detail, "workflow_id", LeadflowLeadInt64(lead, leadflow_cols.workflow_id));
	LeadflowJsonInt(&detail, "stage_id", LeadflowLeadInt64(lead, leadflow_cols.stage_id));
	/* what was typed but unusable: field -> problem code, never the value */
	if (leadflow_cols.data_issues != 0 && !LeadflowLeadIsNull(lead, leadflow_cols.data_issues))
		LeadflowJsonRaw(&detail, "data_issues",
						JsonbToCString(NULL, &DatumGetJsonbP(lead->values[leadflow_cols.data_issues - 1])->root, 64));
	LeadflowJourneyStartChain(lead->org_id, lead->lead_id);
	LeadflowJourneyAppend(lead->org_id, lead->lead_id, "created", LeadflowJsonFinish(&detail));
}

/* which fields normalization produced; never their values */
static void
journal_normalized(LeadflowLead *lead)
{
	LeadflowJson detail;

	LeadflowJsonBegin(&detail);
	LeadflowJsonArray(&detail, "fields");
	if (!LeadflowLeadIsNull(lead, leadflow_cols.email_normalized))
		LeadflowJsonText(&detail, NULL, "email_normalized");
	if (!LeadflowLeadIsNull(lead, leadflow_cols.phone_e164))
		LeadflowJsonText(&detail, NULL, "phone_e164");
	LeadflowJsonClose(&detail);
	LeadflowJsonText(&detail, "company_domain_from",
					 !LeadflowLeadIsNull(lead, leadflow_cols.company_domain) ? "email" :
					 LeadflowLeadIsNull(lead, leadflow_cols.email) ? "none" : "free_mail");
	LeadflowJourneyAppend(lead->org_id, lead->lead_id, "normalized", LeadflowJsonFinish(&detail));
}

/*
 * NOT NULL columns the stages read before the table's own constraints are
 * checked (after BEFORE triggers): refuse a null there the way the
 * constraint would (23502), rather than read it as 0 or dereference it.
 * Called first by lead_insert and lead_update.
 */
static void
refuse_null_keys(const LeadflowLead *lead)
{
	const int	attnums[3] = {leadflow_cols.org_id, leadflow_cols.lead_id, leadflow_cols.status};
	int			i;

	for (i = 0; i < (int) lengthof(attnums); i++)
		if (LeadflowLeadIsNull(lead, attnums[i]))
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("null value in column \"%s\" of relation \"leads\" violates not-null constraint",
							NameStr(TupleDescAttr(lead->desc, attnums[i] - 1)->attname)),
					 errdetail("Every lead needs an org_id, a lead_id and a status.")));
}

/* BEFORE INSERT: the pipeline. */
static HeapTuple
lead_insert(TriggerData *td)
{
	LeadflowLead lead;
	TimestampTz now = LeadflowNow();
	char	   *email_normalized;
	bool		changed;
	int64		survivor;
	int			crossed;

	LeadflowLeadFromTuple(&lead, RelationGetDescr(td->tg_relation), td->tg_trigtuple);
	refuse_null_keys(&lead);
	lead.org = LeadflowGetOrg(lead.org_id);

	LeadflowTrimLead(&lead);
	/* a submission captured before (same source and external_id): nothing stored */
	if (LeadflowAlreadyCaptured(&lead))
		return NULL;
	changed = LeadflowValidateLead(&lead);
	LeadflowFailpoint("normalize");
	place_in_workflow(&lead);
	LeadflowLeadSet(&lead, leadflow_cols.created_at, TimestampTzGetDatum(now), false);
	LeadflowLeadSet(&lead, leadflow_cols.updated_at, TimestampTzGetDatum(now), false);
	LeadflowLeadSet(&lead, leadflow_cols.stage_entered_at, TimestampTzGetDatum(now), false);
	if (!LeadflowLeadIsNull(&lead, leadflow_cols.merged_into))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("merged_into cannot be set on insert"),
				 errdetail("Lead " INT64_FORMAT " of org " INT64_FORMAT ".", lead.lead_id, lead.org_id),
				 errhint("Deduplication sets it; to merge two leads use leadflow.merge_leads().")));

	{
		/* the workflow was placed above; dedup sets merged_into below */
		const bool	all[NREFERENCES] = {true, true, true, false, false};

		check_references(&lead, all);
	}
	journal_created(&lead);

	email_normalized = LeadflowLeadText(&lead, leadflow_cols.email_normalized);
	if (email_normalized != NULL)
	{
		survivor = LeadflowDedupClaim(&lead, email_normalized);
		LeadflowFailpoint("dedup");
		if (survivor != lead.lead_id)
		{
			LeadflowDedupTouchSurvivor(&lead, survivor);
			return heap_modify_tuple(td->tg_trigtuple, lead.desc, lead.values,
									 lead.nulls, lead.replace);
		}
	}

	if (changed)
		journal_normalized(&lead);
	LeadflowEnrich(&lead);
	LeadflowFailpoint("enrich");
	crossed = LeadflowScoreApply(&lead, 0, false, "created");
	LeadflowPredictLead(NULL, &lead);
	LeadflowFailpoint("score");
	if (!LeadflowLeadIsNull(&lead, leadflow_cols.owner_rep_id))
		keep_given_owner(&lead);
	else if (LeadflowStatusIsOpen(LeadflowLeadText(&lead, leadflow_cols.status)))
		LeadflowRouteLead(&lead, 0, "created");
	LeadflowFailpoint("route");
	LeadflowScoreNotify(&lead, crossed);

	return heap_modify_tuple(td->tg_trigtuple, lead.desc, lead.values, lead.nulls, lead.replace);
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
 * stage_changed rows; what the pipeline derives is not listed.
 */
static void
journal_user_changes(const LeadflowLead *old, const LeadflowLead *lead)
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
		json_owner(&detail, "from_rep_id", old);
		json_owner(&detail, "to_rep_id", lead);
	}
	LeadflowJourneyAppend(lead->org_id, lead->lead_id, "updated", LeadflowJsonFinish(&detail));
}

/*
 * BEFORE UPDATE: keys stay; a changed email or phone is normalized again
 * and a live lead's email claim moves with it; a live lead is rescored
 * when its data changed or scoring asked for it (new signal, rescore);
 * updated_at moves.
 */
static HeapTuple
lead_update(TriggerData *td)
{
	const LeadflowRequest *request = LeadflowCurrentRequest();
	LeadflowLead old;
	LeadflowLead lead;

	LeadflowLeadFromTuple(&old, RelationGetDescr(td->tg_relation), td->tg_trigtuple);
	LeadflowLeadFromTuple(&lead, RelationGetDescr(td->tg_relation), td->tg_newtuple);
	refuse_null_keys(&lead);
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
	}
	LeadflowDedupFollowLifecycle(&old, &lead);
	LeadflowWorkflowUpdate(&old, &lead);
	{
		const bool	changed[NREFERENCES] = {
			LeadflowLeadInt64(&lead, leadflow_cols.owner_rep_id) != LeadflowLeadInt64(&old, leadflow_cols.owner_rep_id),
			LeadflowLeadInt64(&lead, leadflow_cols.team_id) != LeadflowLeadInt64(&old, leadflow_cols.team_id),
			LeadflowLeadInt64(&lead, leadflow_cols.account_id) != LeadflowLeadInt64(&old, leadflow_cols.account_id),
			LeadflowLeadInt64(&lead, leadflow_cols.workflow_id) != LeadflowLeadInt64(&old, leadflow_cols.workflow_id),
			LeadflowLeadInt64(&lead, leadflow_cols.merged_into) != LeadflowLeadInt64(&old, leadflow_cols.merged_into)
		};

		check_references(&lead, changed);
	}
	/* open-lead counts follow owner and status changes made by the user */
	{
		int64		was = counted_owner(&old);
		int64		is = counted_owner(&lead);

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
				LeadflowRouteLead(&lead, LeadflowLeadInt64(&lead, leadflow_cols.owner_rep_id), "recycled");
		}
		/* reassign_lead; or a hot lead nobody owns gets an owner now */
		if (request->reroute_reason != NULL)
			LeadflowRouteLead(&lead, LeadflowLeadInt64(&lead, leadflow_cols.owner_rep_id), request->reroute_reason);
		else if ((crossed & LEADFLOW_CROSSED_HOT) && LeadflowLeadIsNull(&lead, leadflow_cols.owner_rep_id) &&
				 LeadflowStatusIsOpen(LeadflowLeadText(&lead, leadflow_cols.status)))
			LeadflowRouteLead(&lead, 0, "hot");
		LeadflowScoreNotify(&lead, crossed);
	}
	LeadflowPredictLead(&old, &lead);
	/* nested updates are the pipeline's own; erasure journals itself */
	if (request->pipeline_depth == 1 && LeadflowLeadIsNull(&lead, leadflow_cols.erased_at))
		journal_user_changes(&old, &lead);
	LeadflowLeadSet(&lead, leadflow_cols.updated_at,
					TimestampTzGetDatum(LeadflowNow()), false);
	return heap_modify_tuple(td->tg_newtuple, lead.desc, lead.values, lead.nulls, lead.replace);
}

typedef struct PipelineRow
{
	TriggerData *td;
	HeapTuple	result;
} PipelineRow;

static void
run_row(void *arg)
{
	PipelineRow *row = (PipelineRow *) arg;

	row->result = TRIGGER_FIRED_BY_INSERT(row->td->tg_event) ? lead_insert(row->td) : lead_update(row->td);
}

/*
 * leadflow.lead_pipeline(): BEFORE INSERT OR UPDATE FOR EACH ROW on leads.
 */
PG_FUNCTION_INFO_V1(leadflow_lead_pipeline);
Datum
leadflow_lead_pipeline(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	LeadflowRequest request;
	PipelineRow row;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "lead_pipeline: must be a BEFORE ROW trigger");

	LeadflowResolveColumns(RelationGetDescr(td->tg_relation), RelationGetRelid(td->tg_relation));
	if (!TRIGGER_FIRED_BY_INSERT(td->tg_event) && !TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		elog(ERROR, "lead_pipeline: must fire on INSERT or UPDATE");

	/* statements the stages run for this row see a nested pipeline */
	request = *LeadflowCurrentRequest();
	request.pipeline_depth++;
	row.td = td;
	LeadflowRunUnder(&request, run_row, &row);
	return PointerGetDatum(row.result);
}

/*
 * leadflow.statement_end(): AFTER INSERT OR UPDATE FOR EACH STATEMENT on
 * leads.
 *
 * Writes what the statement's rows left in the transaction buffers: the
 * journey rows, the rotation state and rule hits, the prediction counts
 * (TxbufFlushAll; each buffer registered itself when it first buffered).
 * Statements the pipeline runs for a row (a survivor's update) end inside
 * the outer statement, which flushes once when it ends: flushing there
 * would rewrite the same rows once per duplicate.  Runs in the trigger's
 * memory context and subtransaction: if that aborts, the writes are rolled
 * back and the buffers give back what they held.  The row locks are those
 * the buffers took when they read the state (rep_load, team_rotation)
 * plus the upserts' (routing_rule_stats, prediction_counts, in key order).
 */
PG_FUNCTION_INFO_V1(leadflow_statement_end);
Datum
leadflow_statement_end(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "statement_end: not called as a trigger");
	if (LeadflowCurrentRequest()->pipeline_depth == 0)
		TxbufFlushAll();
	return PointerGetDatum(NULL);
}

/*
 * leadflow_routing_flush, leadflow_prediction_flush: the two statement
 * triggers of 0.1.0, which statement_end replaced.  The 0.1.0 install
 * script still names them, and a database keeps firing them between
 * installing this library and ALTER EXTENSION leadflow UPDATE: each does
 * what statement_end does (the second of them finds nothing left).
 */
PG_FUNCTION_INFO_V1(leadflow_routing_flush);
Datum
leadflow_routing_flush(PG_FUNCTION_ARGS)
{
	return leadflow_statement_end(fcinfo);
}

PG_FUNCTION_INFO_V1(leadflow_prediction_flush);
Datum
leadflow_prediction_flush(PG_FUNCTION_ARGS)
{
	return leadflow_statement_end(fcinfo);
}
