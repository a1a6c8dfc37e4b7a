/*-------------------------------------------------------------------------
 *
 * reassign.c
 *	  leadflow.reassign_rep_leads(rep_id, reason): when a rep leaves or
 *	  changes territory, every open live lead the rep owns is routed again
 *	  by the org's routing, never to that rep.  One UPDATE over the rep's
 *	  leads (index leads_owner); the leads trigger routes each row as
 *	  reassign_lead does (its request's reroute_reason) and journals "routed"
 *	  with the reason, and rotation state is written once per statement,
 *	  so the work is linear in the rep's leads.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "lead.h"
#include "request.h"
#include "route.h"
#include "spi.h"
#include "tenant.h"
#include "text.h"

/* the rep's org; with leadflow.org_id set, only that org */
static LeadflowPlan rep_org_plan = {
	NULL,
	"SELECT r.org_id FROM leadflow.reps r"
	" WHERE r.rep_id OPERATOR(pg_catalog.=) $1"
	"   AND (NULLIF(pg_catalog.current_setting('leadflow.org_id', true), '') IS NULL"
	"        OR r.org_id OPERATOR(pg_catalog.=) NULLIF(pg_catalog.current_setting('leadflow.org_id', true), '')::bigint)"
	" ORDER BY r.org_id LIMIT 2",
	1, {INT8OID}
};

/* the trigger routes each row again (the request's reroute_reason is set) */
static LeadflowPlan reroute_plan = {
	NULL,
	"WITH moved AS ("
	"  UPDATE leadflow.leads l SET updated_at = l.updated_at"
	"   WHERE l.org_id OPERATOR(pg_catalog.=) $1 AND l.owner_rep_id OPERATOR(pg_catalog.=) $2"
	"     AND l.merged_into IS NULL AND l.erased_at IS NULL"
	"     AND l.status OPERATOR(pg_catalog.=) ANY (leadflow.open_statuses())"
	"  RETURNING l.owner_rep_id)"
	" SELECT m.owner_rep_id, pg_catalog.count(*)::integer FROM moved m"
	"  GROUP BY m.owner_rep_id ORDER BY m.owner_rep_id NULLS LAST",
	2, {INT8OID, INT8OID}
};

/*
 * leadflow.reassign_rep_leads(rep_id, reason)
 *		RETURNS TABLE (owner_rep_id bigint, leads integer)
 *
 * How many leads each new owner got; owner_rep_id NULL for the leads left
 * in the unassigned queue.  Errors: P0002 unknown rep, 21000 a rep id used
 * by two orgs (set leadflow.org_id), 22023 a bad reason.
 */
PG_FUNCTION_INFO_V1(leadflow_reassign_rep_leads);
Datum
leadflow_reassign_rep_leads(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		rep_id = PG_GETARG_INT64(0);
	char	   *reason = text_to_cstring(PG_GETARG_TEXT_PP(1));
	LeadflowRequest request = *LeadflowCurrentRequest();
	Datum		args[2];
	bool		isnull;
	uint64		i;

	InitMaterializedSRF(fcinfo, 0);
	LeadflowCheckReassignReason(reason);

	SPI_connect();
	args[1] = Int64GetDatum(rep_id);
	LeadflowFetchById(&rep_org_plan, "rep", rep_id, true, "Set leadflow.org_id to the org of the rep.");
	args[0] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	LeadflowCheckOrg(DatumGetInt64(args[0]));

	request.reroute_reason = reason;
	(void) LeadflowExecuteUnder(&request, &reroute_plan, args, NULL, SPI_OK_SELECT);

	for (i = 0; i < SPI_processed; i++)
	{
		Datum		values[2];
		bool		nulls[2];

		values[0] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &nulls[0]);
		values[1] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &nulls[1]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

static LeadflowPlan lead_state_plan = {
	NULL,
	"SELECT status, merged_into, erased_at FROM leadflow.leads"
	" WHERE lead_id OPERATOR(pg_catalog.=) $1 FOR NO KEY UPDATE",
	1, {INT8OID}
};
static LeadflowPlan reassign_plan = {
	NULL,
	"UPDATE leadflow.leads SET updated_at = updated_at"
	" WHERE lead_id OPERATOR(pg_catalog.=) $1 RETURNING owner_rep_id",
	1, {INT8OID}
};

/*
 * LeadflowCheckReassignReason
 *		A reassignment's reason is journaled: 1 to 200 characters (22023).
 */
void
LeadflowCheckReassignReason(const char *reason)
{
	if (reason[0] == '\0' || strlen(reason) > 200)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid reassignment reason: %s", LeadflowQuote(reason)),
				 errdetail("A reason is 1 to 200 characters.")));
}

/*
 * leadflow.reassign_lead(lead_id, reason) RETURNS bigint
 *
 * Routes an open lead again, never to its current owner (SLA breach, a rep
 * who leaves); journals "routed" with the reason; returns the new owner
 * (NULL: unassigned queue).
 */
PG_FUNCTION_INFO_V1(leadflow_reassign_lead);
Datum
leadflow_reassign_lead(PG_FUNCTION_ARGS)
{
	int64		lead_id = PG_GETARG_INT64(0);
	char	   *reason = text_to_cstring(PG_GETARG_TEXT_PP(1));
	Datum		arg = Int64GetDatum(lead_id);
	LeadflowRequest request = *LeadflowCurrentRequest();
	char	   *status;
	bool		isnull;
	Datum		owner = (Datum) 0;
	bool		owner_null = true;

	LeadflowCheckReassignReason(reason);

	SPI_connect();
	LeadflowFetchLead(&lead_state_plan, lead_id, false);
	status = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	(void) SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	if (!isnull || SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3) != NULL ||
		!LeadflowStatusIsOpen(status))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("lead " INT64_FORMAT " is not open (status %s)", lead_id, status),
				 errhint("Only new, contacted, qualified and nurture leads are routed.")));

	request.reroute_reason = reason;
	if (LeadflowExecuteUnder(&request, &reassign_plan, &arg, NULL, SPI_OK_UPDATE_RETURNING) != 1)
		elog(ERROR, "leadflow: reassignment updated no lead");
	owner = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &owner_null);
	SPI_finish();
	if (owner_null)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(owner);
}
