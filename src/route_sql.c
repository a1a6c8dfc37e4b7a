/*-------------------------------------------------------------------------
 *
 * route_sql.c
 *	  simulate_routing and replay_routing: what routing would do, run on a
 *	  private copy of the rotation state (no locks, no writes, no journal).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "lead.h"
#include "request.h"
#include "route_int.h"
#include "route_state.h"
#include "rulecache.h"
#include "score.h"
#include "spi.h"
#include "validate.h"

/* A simulated decision as a row of simulate_routing / replay_routing. */
static void
simulated_assign(RouteCtx *c, const RouteDecision *d)
{
	if (d->rep_id != 0)
	{
		LeadflowRepState *st = LeadflowRotationRep(&c->rot, d->rep_id);

		st->open_leads++;
		st->assigned_total++;
		st->last_assigned_at = GetCurrentTimestamp();
	}
}

static LeadflowPlan populate_plan = {
	NULL,
	"SELECT l FROM pg_catalog.jsonb_populate_record(NULL::leadflow.leads,"
	" $2 OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('org_id', $1, 'lead_id', 0)) l",
	2, {INT8OID, JSONBOID}
};

/*
 * leadflow.simulate_routing(org_id, lead jsonb) RETURNS TABLE (path,
 *		rule_id, rule_name, team_id, rep_id, explanation)
 *
 * What would happen to such a lead now: normalized and scored like a real
 * one, routed on a private copy of the rotation state.  No locks, no
 * writes, no journal.
 */
PG_FUNCTION_INFO_V1(leadflow_simulate_routing);
Datum
leadflow_simulate_routing(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		args[2];
	LeadflowLead lead;
	LeadflowScore score;
	RouteCtx	c;
	RouteDecision d;
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};
	bool		isnull;
	int			rc;

	InitMaterializedSRF(fcinfo, 0);
	args[0] = PG_GETARG_DATUM(0);
	args[1] = PG_GETARG_DATUM(1);
	if (!JB_ROOT_IS_OBJECT(PG_GETARG_JSONB_P(1)) || JB_ROOT_IS_SCALAR(PG_GETARG_JSONB_P(1)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("simulate_routing needs a JSON object of lead fields")));

	SPI_connect();
	rc = LeadflowExecute(&populate_plan, args, NULL, true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "leadflow: could not build the simulated lead");
	LeadflowLeadFromRecord(&lead, SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	lead.org = LeadflowGetOrg(lead.org_id);
	(void) LeadflowValidateLead(&lead);
	LeadflowScoreCompute(&lead, LeadflowGetModel(lead.org_id, lead.desc), false,
						 LeadflowNow(), &score, NULL);
	LeadflowScoreStore(&lead, &score);

	LeadflowRouteCtxInit(&c, lead.org_id, lead.desc, true);
	LeadflowRouteDecide(&c, &lead, &d, NULL, NULL);

	values[0] = CStringGetTextDatum(d.path);
	nulls[1] = d.rule == NULL;
	values[1] = d.rule ? Int64GetDatum(d.rule->rule_id) : (Datum) 0;
	nulls[2] = d.rule == NULL;
	values[2] = d.rule ? CStringGetTextDatum(d.rule->name) : (Datum) 0;
	nulls[3] = d.team_id == 0;
	values[3] = Int64GetDatum(d.team_id);
	nulls[4] = d.rep_id == 0;
	values[4] = Int64GetDatum(d.rep_id);
	values[5] = DirectFunctionCall1(jsonb_in, CStringGetDatum(LeadflowRouteDetail(&c, &d, "simulated")));
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	SPI_finish();
	return (Datum) 0;
}

static LeadflowPlan replay_plan = {
	NULL,
	"SELECT l FROM leadflow.leads l WHERE l.org_id OPERATOR(pg_catalog.=) $1"
	" AND l.created_at OPERATOR(pg_catalog.>=) $2 AND l.merged_into IS NULL AND l.erased_at IS NULL"
	" ORDER BY l.created_at, l.lead_id",
	2, {INT8OID, TIMESTAMPTZOID}
};

/*
 * leadflow.replay_routing(org_id, since) RETURNS TABLE (lead_id,
 *		actual_rep_id, would_rep_id, would_path, would_rule_id,
 *		shadow_rep_id, changed)
 *
 * Runs today's live and shadow rules over the org's live leads created
 * since then, in order, on one private copy of the rotation state that
 * advances from lead to lead: what would have happened, to compare with
 * what did, before switching a rule on.  Assigns nothing.
 */
PG_FUNCTION_INFO_V1(leadflow_replay_routing);
Datum
leadflow_replay_routing(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum		args[2];
	RouteCtx	c;
	MemoryContext per_lead;
	MemoryContext old;
	uint64		i;
	int			rc;

	InitMaterializedSRF(fcinfo, 0);
	args[0] = PG_GETARG_DATUM(0);
	args[1] = PG_GETARG_DATUM(1);
	(void) LeadflowGetOrg(DatumGetInt64(args[0]));

	SPI_connect();
	rc = LeadflowExecute(&replay_plan, args, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "leadflow: replay lookup failed: %s", SPI_result_code_string(rc));
	per_lead = AllocSetContextCreate(CurrentMemoryContext, "leadflow replay lead", ALLOCSET_DEFAULT_SIZES);
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		LeadflowLead lead;
		RouteDecision d;
		ShadowDecision *shadows;
		int			nshadows;
		Datum		values[7];
		bool		nulls[7] = {false, false, false, false, false, false, false};
		int64		actual;

		if (i == 0)
		{
			/* the simulated state lives for the whole replay */
			LeadflowLeadFromRecord(&lead, SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
			LeadflowRouteCtxInit(&c, DatumGetInt64(args[0]), lead.desc, true);
		}
		old = MemoryContextSwitchTo(per_lead);
		LeadflowLeadFromRecord(&lead, SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		actual = LeadflowLeadInt64(&lead, leadflow_cols.owner_rep_id);

		shadows = palloc(sizeof(ShadowDecision) * Max(c.cfg->nrules, 1));
		LeadflowJsonBeginArray(&c.candidates);
		LeadflowRouteDecide(&c, &lead, &d, shadows, &nshadows);
		simulated_assign(&c, &d);
		MemoryContextSwitchTo(old);

		values[0] = Int64GetDatum(lead.lead_id);
		nulls[1] = actual == 0;
		values[1] = Int64GetDatum(actual);
		nulls[2] = d.rep_id == 0;
		values[2] = Int64GetDatum(d.rep_id);
		values[3] = CStringGetTextDatum(d.path);
		nulls[4] = d.rule == NULL;
		values[4] = d.rule ? Int64GetDatum(d.rule->rule_id) : (Datum) 0;
		nulls[5] = nshadows == 0 || shadows[0].rep_id == 0;
		values[5] = nshadows > 0 ? Int64GetDatum(shadows[0].rep_id) : (Datum) 0;
		values[6] = BoolGetDatum(actual != d.rep_id);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		MemoryContextReset(per_lead);
	}
	SPI_finish();
	return (Datum) 0;
}
