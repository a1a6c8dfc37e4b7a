/*-------------------------------------------------------------------------
 *
 * pipeline.c
 *	  The leads trigger: runs the pipeline stages on every INSERT, and the
 *	  bookkeeping of every UPDATE (pipeline_update.c), inside the writing
 *	  transaction.
 *
 *	  A BEFORE ROW trigger, so every stage works on the new row in memory
 *	  and the row is stored once, complete; an error in any stage aborts
 *	  the statement and nothing partial remains.  The executor calls us in
 *	  its per-tuple memory context, reset after every row, so per-row
 *	  allocations need no freeing.
 *
 *	  Order on INSERT: validate and normalize, place in the workflow,
 *	  begin the journey row "created", deduplicate by email, then by phone
 *	  (a duplicate stops here, stored as merged), enrich, score, route.
 *	  What each stage did joins the one "created" row, appended at the end.
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
#include "dedup_touch.h"
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
#include "search_words.h"
#include "spi.h"
#include "tenant.h"
#include "text.h"
#include "validate.h"
#include "workflow.h"
#include "txbuf.h"
#include "pipeline_int.h"

/* the rep whose open-lead count includes this lead, or 0 */
int64
LeadflowPipelineCountedOwner(const LeadflowLead *lead)
{
	if (LeadflowLeadIsNull(lead, leadflow_cols.owner_rep_id) ||
		!LeadflowLeadIsNull(lead, leadflow_cols.merged_into) ||
		!LeadflowLeadIsNull(lead, leadflow_cols.erased_at) ||
		!LeadflowStatusIsOpen(LeadflowLeadText(lead, leadflow_cols.status)))
		return 0;
	return DatumGetInt64(lead->values[leadflow_cols.owner_rep_id - 1]);
}

/* the lead's owner as a detail member, null when it has none */
void
LeadflowPipelineJsonOwner(LeadflowJson *detail, const char *key, const LeadflowLead *lead)
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
	LeadflowJourneyEvent ev;
	LeadflowJson *routed;
	LeadflowJson detail;
	int64		owner = LeadflowLeadInt64(lead, leadflow_cols.owner_rep_id);

	LeadflowLeadSet(lead, leadflow_cols.assigned_at,
					TimestampTzGetDatum(LeadflowNow()), false);
	if (LeadflowPipelineCountedOwner(lead) != 0)
		LeadflowRouteAdjustLoad(lead->org_id, owner, +1);
	routed = LeadflowJourneyBegin(&ev, lead->org_id, lead->lead_id, "routed");
	LeadflowJsonText(routed, "path", "given");
	LeadflowJsonText(routed, "reason", "created");
	LeadflowJsonInt(routed, "rep_id", owner);
	LeadflowJsonArray(routed, "candidates");
	LeadflowJourneyEnd(&ev);
	LeadflowJsonBegin(&detail);
	LeadflowJsonText(&detail, "reason", "given");
	LeadflowJsonNull(&detail, "from_rep_id");
	LeadflowJsonInt(&detail, "to_rep_id", owner);
	LeadflowEvent(lead->org_id, "assigned", lead->lead_id, owner, LeadflowJsonFinish(&detail));
}

/*
 * The event "created" of a new live lead: where it came from and where it
 * stands after scoring (codes and numbers only).
 */
static void
created_event(const LeadflowLead *lead)
{
	LeadflowJson detail;

	LeadflowJsonBegin(&detail);
	LeadflowJsonText(&detail, "source", LeadflowLeadText(lead, leadflow_cols.source));
	LeadflowJsonText(&detail, "status", LeadflowLeadText(lead, leadflow_cols.status));
	LeadflowJsonInt(&detail, "stage_id", LeadflowLeadInt64(lead, leadflow_cols.stage_id));
	LeadflowJsonInt(&detail, "score", DatumGetInt32(lead->values[leadflow_cols.score - 1]));
	LeadflowJsonText(&detail, "temperature", LeadflowLeadText(lead, leadflow_cols.temperature));
	LeadflowEvent(lead->org_id, "created", lead->lead_id,
				  LeadflowLeadInt64(lead, leadflow_cols.owner_rep_id), LeadflowJsonFinish(&detail));
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

/*
 * leads has no declarative foreign keys (see the install script): check
 * owner_rep_id, team_id, account_id and workflow_id here, in the lead's
 * own org, and that merged_into names a live lead of the org (so merges
 * never chain, loop or cross orgs).  The rows they name cannot be deleted
 * while leads refer to them.  Only the columns in check[] are tested
 * (those set on insert or changed).
 */
void
LeadflowPipelineCheckReferences(const LeadflowLead *lead, const bool *check)
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

/*
 * Begins the lead's one created journey row (journey.h), which the events
 * of the stages below join: where it came from, where it was placed, and
 * what was typed but unusable (field -> problem code, never the value).
 */
static void
journal_created(LeadflowLead *lead)
{
	LeadflowJson *detail;

	detail = LeadflowJourneyCreationBegin(LeadflowCurrentRequest()->creation,
										  lead->org_id, lead->lead_id);
	LeadflowJsonText(detail, "source", LeadflowLeadText(lead, leadflow_cols.source));
	LeadflowJsonInt(detail, "workflow_id", LeadflowLeadInt64(lead, leadflow_cols.workflow_id));
	LeadflowJsonInt(detail, "stage_id", LeadflowLeadInt64(lead, leadflow_cols.stage_id));
	if (leadflow_cols.data_issues != 0 && !LeadflowLeadIsNull(lead, leadflow_cols.data_issues))
		LeadflowJsonJsonb(detail, "data_issues",
						  DatumGetJsonbP(lead->values[leadflow_cols.data_issues - 1]));
}

/* which fields normalization produced; never their values */
static void
journal_normalized(LeadflowLead *lead)
{
	LeadflowJourneyEvent ev;
	LeadflowJson *detail = LeadflowJourneyBegin(&ev, lead->org_id, lead->lead_id, "normalized");

	LeadflowJsonArray(detail, "fields");
	if (!LeadflowLeadIsNull(lead, leadflow_cols.email_normalized))
		LeadflowJsonText(detail, NULL, "email_normalized");
	if (!LeadflowLeadIsNull(lead, leadflow_cols.phone_e164))
		LeadflowJsonText(detail, NULL, "phone_e164");
	LeadflowJsonClose(detail);
	LeadflowJsonText(detail, "company_domain_from",
					 !LeadflowLeadIsNull(lead, leadflow_cols.company_domain) ? "email" :
					 LeadflowLeadIsNull(lead, leadflow_cols.email) ? "none" : "free_mail");
	LeadflowJourneyEnd(&ev);
}

/*
 * NOT NULL columns the stages read before the table's own constraints are
 * checked (after BEFORE triggers): refuse a null there the way the
 * constraint would (23502), rather than read it as 0 or dereference it.
 * Called first by lead_insert and LeadflowPipelineUpdate.
 */
void
LeadflowPipelineRefuseNullKeys(const LeadflowLead *lead)
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

/* the row an insert stores: with its search words */
static HeapTuple
lead_row(TriggerData *td, LeadflowLead *lead)
{
	LeadflowSearchWordsSet(lead, NULL);
	return heap_modify_tuple(td->tg_trigtuple, lead->desc, lead->values, lead->nulls, lead->replace);
}

/* BEFORE INSERT: the pipeline. */
static HeapTuple
lead_insert(TriggerData *td)
{
	LeadflowLead lead;
	TimestampTz now = LeadflowNow();
	char	   *email_normalized;
	char	   *phone_e164;
	bool		changed;
	int64		survivor;
	int			crossed;

	LeadflowLeadFromTuple(&lead, RelationGetDescr(td->tg_relation), td->tg_trigtuple);
	LeadflowPipelineRefuseNullKeys(&lead);
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

		LeadflowPipelineCheckReferences(&lead, all);
	}
	journal_created(&lead);

	email_normalized = LeadflowLeadText(&lead, leadflow_cols.email_normalized);
	if (email_normalized != NULL)
	{
		survivor = LeadflowDedupClaim(&lead, email_normalized);
		LeadflowFailpoint("dedup");
		if (survivor != lead.lead_id)
		{
			LeadflowPipelineTouchSurvivor(td->tg_relation, &lead, survivor, "same email");
			LeadflowJourneyCreationEnd(LeadflowCurrentRequest()->creation);
			return lead_row(td, &lead);
		}
	}
	/* then the phone, when one of the two has no usable email */
	phone_e164 = LeadflowLeadText(&lead, leadflow_cols.phone_e164);
	if (phone_e164 != NULL && lead.org->dedup_on_phone)
	{
		survivor = LeadflowDedupPhoneClaim(&lead, phone_e164, email_normalized != NULL);
		if (survivor != lead.lead_id)
		{
			if (email_normalized != NULL)
				LeadflowDedupReleaseEmail(&lead, email_normalized);
			LeadflowPipelineTouchSurvivor(td->tg_relation, &lead, survivor, "same phone");
			LeadflowJourneyCreationEnd(LeadflowCurrentRequest()->creation);
			return lead_row(td, &lead);
		}
	}

	if (changed)
		journal_normalized(&lead);
	LeadflowEnrich(&lead);
	LeadflowFailpoint("enrich");
	crossed = LeadflowScoreApply(&lead, 0, false, "created");
	LeadflowPredictLead(NULL, &lead);
	LeadflowFailpoint("score");
	created_event(&lead);
	if (!LeadflowLeadIsNull(&lead, leadflow_cols.owner_rep_id))
		keep_given_owner(&lead);
	else if (LeadflowStatusIsOpen(LeadflowLeadText(&lead, leadflow_cols.status)))
		LeadflowRouteLead(&lead, 0, "created");
	LeadflowJourneyCreationEnd(LeadflowCurrentRequest()->creation);
	LeadflowFailpoint("route");
	LeadflowScoreNotify(&lead, crossed);

	return lead_row(td, &lead);
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

	row->result = TRIGGER_FIRED_BY_INSERT(row->td->tg_event) ? lead_insert(row->td) : LeadflowPipelineUpdate(row->td);
}

/*
 * check_row_org
 *		May this session act for the org of the row written?  Asked before
 *		any stage runs: normalization, the email claims below the executor
 *		and the configuration cache all come later, so a row of another org
 *		is refused with tenant.c's one message whatever that org holds (row-
 *		level security would refuse it only after the pipeline ran).
 */
static void
check_row_org(TriggerData *td)
{
	HeapTuple	tuple = TRIGGER_FIRED_BY_INSERT(td->tg_event) ? td->tg_trigtuple : td->tg_newtuple;
	bool		isnull;
	Datum		org = heap_getattr(tuple, leadflow_cols.org_id, RelationGetDescr(td->tg_relation), &isnull);

	/* a NULL org is refused by the column's NOT NULL, for every role alike */
	if (!isnull)
		LeadflowCheckOrg(DatumGetInt64(org));
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
	LeadflowJourneyCreation creation;
	PipelineRow row;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "lead_pipeline: must be a BEFORE ROW trigger");

	LeadflowResolveColumns(RelationGetDescr(td->tg_relation), RelationGetRelid(td->tg_relation));
	if (!TRIGGER_FIRED_BY_INSERT(td->tg_event) && !TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		elog(ERROR, "lead_pipeline: must fire on INSERT or UPDATE");
	check_row_org(td);

	/* statements the stages run for this row see a nested pipeline */
	request = *LeadflowCurrentRequest();
	request.pipeline_depth++;
	/* an inserted lead's created journey row, which its stages join */
	creation.open = false;
	request.creation = TRIGGER_FIRED_BY_INSERT(td->tg_event) ? &creation : NULL;
	row.td = td;
	LeadflowRunUnder(&request, run_row, &row);
	/* every path that began the created row appended it */
	if (creation.open)
		elog(ERROR, "leadflow: lead " INT64_FORMAT " left its created journey row unwritten",
			 creation.lead_id);
	return PointerGetDatum(row.result);
}

/*
 * leadflow.statement_end(): AFTER INSERT OR UPDATE FOR EACH STATEMENT on
 * leads.
 *
 * Writes what the statement's rows left in the transaction buffers: the
 * journey rows, the rotation state and rule hits, the prediction counts
 * (TxbufFlushAll; each buffer registered itself when it first buffered),
 * then closes the tables the rows wrote below the executor (spi.c).
 * Statements the pipeline runs for a row (a signal's rescore) end inside
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
	{
		TxbufFlushAll();
		LeadflowDirectEndStatement();
	}
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
