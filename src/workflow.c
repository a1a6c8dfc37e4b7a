/*-------------------------------------------------------------------------
 *
 * workflow.c
 *	  A lead's way through its workflow: a plain UPDATE of status or of
 *	  stage_id moves it, the other column follows, and the move is checked
 *	  and journaled (stage_changed: from, to, hours in the previous stage).
 *
 *	  Refused moves (23514): out of converted or archived; out of merged
 *	  other than by unmerging (clearing merged_into); into converted
 *	  without an opportunity (convert_lead makes one); into archived
 *	  without a reason; into qualified without all four BANT flags when the
 *	  org requires them; to a stage of another workflow; any move of an
 *	  erased lead.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "journey.h"
#include "lead.h"
#include "notify.h"
#include "request.h"
#include "rulecache.h"
#include "spi.h"
#include "text.h"
#include "workflow.h"


static LeadflowPlan has_opportunity_plan = {
	NULL,
	"SELECT FROM leadflow.opportunities"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 AND lead_id OPERATOR(pg_catalog.=) $2",
	2, {INT8OID, INT8OID}
};

static bool
get_bool(const LeadflowLead *lead, int attnum)
{
	return !LeadflowLeadIsNull(lead, attnum) && DatumGetBool(lead->values[attnum - 1]);
}

static void
refuse(const LeadflowLead *lead, const char *from, const char *to, const char *why, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_CHECK_VIOLATION),
			 errmsg("lead " INT64_FORMAT " cannot move from %s to %s: %s", lead->lead_id, from, to, why),
			 hint ? errhint("%s", hint) : 0));
}

static bool
has_opportunity(const LeadflowLead *lead)
{
	Datum		args[2];
	bool		found;
	int			rc;

	args[0] = Int64GetDatum(lead->org_id);
	args[1] = Int64GetDatum(lead->lead_id);
	SPI_connect();
	rc = LeadflowExecute(&has_opportunity_plan, args, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "leadflow: opportunity lookup failed: %s", SPI_result_code_string(rc));
	found = SPI_processed > 0;
	SPI_finish();
	return found;
}

/*
 * The events of a move: status_changed (from, to) when the status moved,
 * stage_changed (from, to stage) when the stage did, and converted when
 * the lead converted; for the lead's owner.
 */
static void
workflow_events(const LeadflowLead *old, const LeadflowLead *lead, const char *from,
				const char *to, bool status_changed)
{
	int64		owner = LeadflowLeadInt64(lead, leadflow_cols.owner_rep_id);
	int64		old_stage = LeadflowLeadInt64(old, leadflow_cols.stage_id);
	int64		stage_id = LeadflowLeadInt64(lead, leadflow_cols.stage_id);
	LeadflowJson detail;

	if (status_changed)
	{
		LeadflowJsonBegin(&detail);
		LeadflowJsonText(&detail, "from", from);
		LeadflowJsonText(&detail, "to", to);
		LeadflowEvent(lead->org_id, "status_changed", lead->lead_id, owner, LeadflowJsonFinish(&detail));
	}
	if (stage_id != old_stage)
	{
		LeadflowJsonBegin(&detail);
		if (old_stage != 0)
			LeadflowJsonInt(&detail, "from_stage_id", old_stage);
		else
			LeadflowJsonNull(&detail, "from_stage_id");
		if (stage_id != 0)
			LeadflowJsonInt(&detail, "to_stage_id", stage_id);
		else
			LeadflowJsonNull(&detail, "to_stage_id");
		LeadflowJsonText(&detail, "to_status", to);
		LeadflowEvent(lead->org_id, "stage_changed", lead->lead_id, owner, LeadflowJsonFinish(&detail));
	}
	if (status_changed && strcmp(to, "converted") == 0)
	{
		LeadflowJsonBegin(&detail);
		LeadflowJsonText(&detail, "from", from);
		LeadflowEvent(lead->org_id, "converted", lead->lead_id, owner, LeadflowJsonFinish(&detail));
	}
}

/*
 * LeadflowWorkflowReactivate
 *		A new submission for an archived or unqualified lead (the request's
 *		reactivate_source): moves it to the first open stage of its workflow
 *		and clears the archive fields; LeadflowWorkflowUpdate then checks
 *		and journals the move.  Returns the status it left, NULL when the
 *		lead was not closed that way (or the workflow has no open stage).
 */
const char *
LeadflowWorkflowReactivate(const LeadflowLead *old, LeadflowLead *lead)
{
	char	   *from = LeadflowLeadText(old, leadflow_cols.status);
	int64		workflow_id = LeadflowLeadInt64(lead, leadflow_cols.workflow_id);
	const LeadflowOrg *org;
	int			i;

	if (from == NULL || (strcmp(from, "archived") != 0 && strcmp(from, "unqualified") != 0))
		return NULL;
	org = LeadflowGetOrg(lead->org_id);
	for (i = 0; i < org->nstages; i++)
	{
		const LeadflowStage *stage = &org->stages[i];

		if (stage->workflow_id != workflow_id || !LeadflowStatusIsOpen(stage->status))
			continue;
		LeadflowLeadSetText(lead, leadflow_cols.status, stage->status);
		LeadflowLeadSet(lead, leadflow_cols.stage_id, Int64GetDatum(stage->stage_id), false);
		LeadflowLeadSet(lead, leadflow_cols.archived_at, (Datum) 0, true);
		LeadflowLeadSet(lead, leadflow_cols.archive_reason, (Datum) 0, true);
		return from;
	}
	return NULL;
}

/*
 * LeadflowWorkflowUpdate
 *		Called by the leads update trigger with the old row and the row
 *		being written: keeps status and stage_id in step, refuses illegal
 *		moves, stamps qualified_at / converted_at / stage_entered_at and
 *		journals stage_changed.
 */
void
LeadflowWorkflowUpdate(const LeadflowLead *old, LeadflowLead *lead)
{
	char	   *from = LeadflowLeadText(old, leadflow_cols.status);
	char	   *to = LeadflowLeadText(lead, leadflow_cols.status);
	int64		old_stage = LeadflowLeadInt64(old, leadflow_cols.stage_id);
	int64		stage_id = LeadflowLeadInt64(lead, leadflow_cols.stage_id);
	int64		old_workflow = LeadflowLeadInt64(old, leadflow_cols.workflow_id);
	int64		workflow_id = LeadflowLeadInt64(lead, leadflow_cols.workflow_id);
	bool		status_changed = strcmp(from, to) != 0;
	bool		stage_changed = stage_id != old_stage;
	TimestampTz now = LeadflowNow();
	const LeadflowOrg *org;
	const LeadflowStage *stage = NULL;
	LeadflowJson detail;

	if (!status_changed && !stage_changed && workflow_id == old_workflow)
		return;
	org = LeadflowGetOrg(lead->org_id);

	if (!LeadflowLeadIsNull(old, leadflow_cols.erased_at))
		refuse(lead, from, to, "the lead is erased", NULL);
	if (workflow_id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("workflow_id of lead " INT64_FORMAT " cannot be set to null", lead->lead_id),
				 errhint("Set it to one of the org's workflows.")));

	/* a stage set by the user decides the status (and the workflow) */
	if (stage_changed && stage_id != 0)
	{
		stage = LeadflowFindStage(org, stage_id);
		if (stage == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
					 errmsg("stage_id " INT64_FORMAT " is not a stage of org " INT64_FORMAT,
							stage_id, lead->org_id),
					 errdetail("Lead " INT64_FORMAT ".", lead->lead_id)));
		if (stage->workflow_id != workflow_id)
		{
			if (workflow_id != old_workflow)
				ereport(ERROR,
						(errcode(ERRCODE_CHECK_VIOLATION),
						 errmsg("stage_id " INT64_FORMAT " is not a stage of workflow " INT64_FORMAT,
								stage_id, workflow_id)));
			refuse(lead, from, stage->status, "the stage belongs to another workflow",
				   "To move the lead to another workflow, set workflow_id and stage_id together.");
		}
		if (status_changed && strcmp(stage->status, to) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("status \"%s\" does not match stage " INT64_FORMAT " (status \"%s\")",
							to, stage_id, stage->status)));
		to = pstrdup(stage->status);
		LeadflowLeadSetText(lead, leadflow_cols.status, to);
		status_changed = strcmp(from, to) != 0;
	}
	else if (status_changed || workflow_id != old_workflow || stage_changed)
	{
		/*
		 * The status decides: the first stage of the workflow with it (also
		 * when the stage was set to null).
		 */
		stage = LeadflowStageForStatus(org, workflow_id, to);
		if (stage == NULL && strcmp(to, "merged") != 0 && strcmp(to, "archived") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("workflow " INT64_FORMAT " has no stage for status \"%s\"", workflow_id, to),
					 errdetail("Lead " INT64_FORMAT ".", lead->lead_id)));
		LeadflowLeadSet(lead, leadflow_cols.stage_id, stage ? Int64GetDatum(stage->stage_id) : (Datum) 0,
						stage == NULL);
	}

	if (status_changed)
	{
		bool		unmerging = strcmp(from, "merged") == 0 &&
			LeadflowLeadIsNull(lead, leadflow_cols.merged_into);

		/* a returning submission reopens an archived lead (reactivation) */
		if (strcmp(from, "converted") == 0 ||
			(strcmp(from, "archived") == 0 && LeadflowCurrentRequest()->reactivate_source == NULL))
			refuse(lead, from, to, psprintf("a %s lead stays %s", from, from), NULL);
		if (strcmp(from, "merged") == 0 && !unmerging)
			refuse(lead, from, to, "it is merged into another lead",
				   "Use leadflow.unmerge_lead() to make it live again.");
		if (strcmp(to, "converted") == 0 && !has_opportunity(lead))
			refuse(lead, from, to, "converting needs an opportunity",
				   "Use leadflow.convert_lead(), which creates the account, contact and opportunity.");
		if (strcmp(to, "archived") == 0 && LeadflowLeadIsNull(lead, leadflow_cols.archive_reason))
			refuse(lead, from, to, "archiving needs an archive_reason", NULL);
		if (strcmp(to, "merged") == 0 && LeadflowLeadIsNull(lead, leadflow_cols.merged_into))
			refuse(lead, from, to, "merging needs merged_into",
				   "Use leadflow.merge_leads().");
		if (strcmp(to, "qualified") == 0 && org->require_bant_for_qualified &&
			!(get_bool(lead, leadflow_cols.budget_confirmed) &&
			  get_bool(lead, leadflow_cols.authority_confirmed) &&
			  get_bool(lead, leadflow_cols.need_confirmed) &&
			  get_bool(lead, leadflow_cols.timeline_confirmed)))
			refuse(lead, from, to, "the org requires budget, authority, need and timeline confirmed",
				   "Set budget_confirmed, authority_confirmed, need_confirmed and timeline_confirmed first.");

		if (strcmp(to, "qualified") == 0 && LeadflowLeadIsNull(lead, leadflow_cols.qualified_at))
			LeadflowLeadSet(lead, leadflow_cols.qualified_at, TimestampTzGetDatum(now), false);
		if (strcmp(to, "converted") == 0 && LeadflowLeadIsNull(lead, leadflow_cols.converted_at))
			LeadflowLeadSet(lead, leadflow_cols.converted_at, TimestampTzGetDatum(now), false);
		if (strcmp(to, "archived") == 0 && LeadflowLeadIsNull(lead, leadflow_cols.archived_at))
			LeadflowLeadSet(lead, leadflow_cols.archived_at, TimestampTzGetDatum(now), false);
	}

	if (LeadflowLeadInt64(lead, leadflow_cols.stage_id) == old_stage && !status_changed)
		return;

	LeadflowJsonBegin(&detail);
	LeadflowJsonText(&detail, "from_status", from);
	LeadflowJsonText(&detail, "to_status", to);
	if (old_stage != 0)
		LeadflowJsonInt(&detail, "from_stage_id", old_stage);
	if (LeadflowLeadInt64(lead, leadflow_cols.stage_id) != 0)
		LeadflowJsonInt(&detail, "to_stage_id", LeadflowLeadInt64(lead, leadflow_cols.stage_id));
	if (!LeadflowLeadIsNull(old, leadflow_cols.stage_entered_at))
	{
		TimestampTz entered = DatumGetTimestampTz(old->values[leadflow_cols.stage_entered_at - 1]);

		LeadflowJsonFloat(&detail, "hours_in_previous_stage", (double) (now - entered) / USECS_PER_HOUR, 2);
	}
	/*
	 * A user's archive reason can name the person and the journey is never
	 * erased: it stays on the lead (erase_lead clears it) and the journey
	 * points there.  Maintenance's own reason (thresholds) is kept.
	 */
	if (strcmp(to, "archived") == 0 && LeadflowCurrentRequest()->own_archive_reason)
		LeadflowJsonText(&detail, "reason", LeadflowLeadText(lead, leadflow_cols.archive_reason));
	else if (strcmp(to, "archived") == 0)
		LeadflowJsonText(&detail, "reason_ref", "leads.archive_reason");
	LeadflowJourneyAppend(lead->org_id, lead->lead_id, "stage_changed", LeadflowJsonFinish(&detail));
	LeadflowLeadSet(lead, leadflow_cols.stage_entered_at, TimestampTzGetDatum(now), false);
	workflow_events(old, lead, from, to, status_changed);
}
