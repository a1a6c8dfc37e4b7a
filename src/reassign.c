/*-------------------------------------------------------------------------
 *
 * reassign.c
 *	  leadflow.reassign_rep_leads(rep_id, reason): when a rep leaves or
 *	  changes territory, every open live lead the rep owns is routed again
 *	  by the org's routing, never to that rep.  One UPDATE over the rep's
 *	  leads (index leads_owner); the leads trigger routes each row as
 *	  reassign_lead does (leadflow_reroute_reason) and journals "routed"
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

#include "leadflow.h"

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

/* the trigger routes each row again (leadflow_reroute_reason is set) */
static LeadflowPlan reroute_plan = {
	NULL,
	"WITH moved AS ("
	"  UPDATE leadflow.leads l SET updated_at = l.updated_at"
	"   WHERE l.org_id OPERATOR(pg_catalog.=) $1 AND l.owner_rep_id OPERATOR(pg_catalog.=) $2"
	"     AND l.merged_into IS NULL AND l.erased_at IS NULL"
	"     AND l.status IN ('new', 'contacted', 'qualified', 'nurture')"
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
	const char *saved = leadflow_reroute_reason;
	Datum		args[2];
	bool		isnull;
	uint64		i;
	int			rc;

	InitMaterializedSRF(fcinfo, 0);
	LeadflowCheckReassignReason(reason);

	SPI_connect();
	args[1] = Int64GetDatum(rep_id);
	LeadflowFetchById(&rep_org_plan, "rep", rep_id, true, "Set leadflow.org_id to the org of the rep.");
	args[0] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

	leadflow_reroute_reason = reason;
	PG_TRY();
	{
		rc = LeadflowExecute(&reroute_plan, args, NULL, false, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "leadflow: bulk reassignment failed: %s", SPI_result_code_string(rc));
	}
	PG_FINALLY();
	{
		leadflow_reroute_reason = saved;
	}
	PG_END_TRY();

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
