/*-------------------------------------------------------------------------
 *
 * journey_sql.c
 *	  The journey's SQL entry points: append_journey for applications and
 *	  agents, and the trigger that keeps lead_journey append-only.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "journey.h"
#include "spi.h"

static LeadflowPlan lock_lead_plan = {
	NULL,
	"SELECT org_id FROM leadflow.leads WHERE lead_id OPERATOR(pg_catalog.=) $1"
	" FOR NO KEY UPDATE",
	1, {INT8OID}
};

/* a journey kind is a short lower-case word, like the ones leadflow writes */
static bool
valid_kind(const char *kind)
{
	const char *p;

	if (kind[0] < 'a' || kind[0] > 'z' || strlen(kind) > 63)
		return false;
	for (p = kind; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

/*
 * leadflow.append_journey(lead_id, kind, detail) RETURNS integer
 *
 * For applications and agents that record their own steps.  Locks the lead
 * row (FOR NO KEY UPDATE) so concurrent appenders queue instead of forking
 * the chain; row-level security applies to finding the lead.
 */
PG_FUNCTION_INFO_V1(leadflow_append_journey);
Datum
leadflow_append_journey(PG_FUNCTION_ARGS)
{
	int64		lead_id = PG_GETARG_INT64(0);
	char	   *kind = text_to_cstring(PG_GETARG_TEXT_PP(1));
	Jsonb	   *detail = PG_GETARG_JSONB_P(2);
	int64		org_id;
	bool		isnull;
	int32		seq;

	if (!valid_kind(kind))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid journey kind: \"%s\"", kind),
				 errdetail("A kind is a lower-case word of letters, digits and underscores, at most 63 characters.")));
	if (!JB_ROOT_IS_OBJECT(detail) || JB_ROOT_IS_SCALAR(detail))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("journey detail must be a JSON object")));

	SPI_connect();
	LeadflowFetchLead(&lock_lead_plan, lead_id, false);
	org_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	seq = LeadflowJourneyAppend(org_id, lead_id, kind,
								JsonbToCString(NULL, &detail->root, VARSIZE(detail)));
	SPI_finish();
	PG_RETURN_INT32(seq);
}

/*
 * Trigger on lead_journey (BEFORE UPDATE OR DELETE per row, BEFORE TRUNCATE
 * per statement, all ENABLE ALWAYS): the journey is append-only for every
 * role, also under session_replication_role = replica.
 */
PG_FUNCTION_INFO_V1(leadflow_journey_refuse_change);
Datum
leadflow_journey_refuse_change(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const char *op;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "journey_refuse_change: not called as a trigger");

	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		op = "TRUNCATE";
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		op = "DELETE";
	else
		op = "UPDATE";

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("leadflow.lead_journey is append-only"),
			 errdetail("%s of journey rows is refused for every role.", op),
			 errhint("To remove a person's data use leadflow.erase_lead(); journey rows hold none.")));
	PG_RETURN_NULL();
}
