/*-------------------------------------------------------------------------
 *
 * route_sql.c
 *	  simulate_routing and replay_routing: what routing would do, run on a
 *	  private copy of the rotation state (no locks, no writes, no journal);
 *	  route_handoff: the handoff decision convert_lead takes.
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
#include "tenant.h"
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
 * leadflow.simulate_routing(org_id, lead jsonb, stage DEFAULT 'intake')
 *		RETURNS TABLE (path, rule_id, rule_name, team_id, rep_id, explanation)
 *
 * What would happen to such a lead now: normalized and scored like a real
 * one, routed on a private copy of the rotation state (stage handoff: who
 * would own its opportunity if it were converted now).  No locks, no
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
	LeadflowJson detail;
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};
	bool		isnull;
	bool		handoff = false;
	int			rc;

	InitMaterializedSRF(fcinfo, 0);
	/* 0.1.0 declares two arguments; from 0.2.0 a stage may follow */
	if (PG_NARGS() > 2 && !PG_ARGISNULL(2))
	{
		char	   *stage = text_to_cstring(PG_GETARG_TEXT_PP(2));

		if (strcmp(stage, "handoff") == 0)
			handoff = true;
		else if (strcmp(stage, "intake") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid routing stage: \"%s\"", stage),
					 errdetail("A routing stage is intake or handoff.")));
	}
	args[0] = PG_GETARG_DATUM(0);
	args[1] = PG_GETARG_DATUM(1);
	if (!JB_ROOT_IS_OBJECT(PG_GETARG_JSONB_P(1)) || JB_ROOT_IS_SCALAR(PG_GETARG_JSONB_P(1)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("simulate_routing needs a JSON object of lead fields")));
	LeadflowCheckOrg(PG_GETARG_INT64(0));

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
	if (handoff)
	{
		/* the account conversion would link by domain, and its owner */
		char	   *domain = LeadflowLeadText(&lead, leadflow_cols.company_domain);

		c.handoff = true;
		if (domain != NULL)
			(void) LeadflowFindAccount(lead.org_id, domain, &c.account_id, &c.account_owner);
	}
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
	LeadflowJsonBeginJsonb(&detail);
	LeadflowRouteDetail(&detail, &c, &d, "simulated");
	values[5] = JsonbPGetDatum(LeadflowJsonFinishJsonb(&detail));
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
	LeadflowCheckOrg(DatumGetInt64(args[0]));
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
		c.candidates = NULL;	/* went with the last lead's context */
		c.ncandidates = c.maxcandidates = 0;
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

static LeadflowPlan handoff_lead_plan = {
	NULL,
	"SELECT l FROM leadflow.leads l WHERE l.lead_id OPERATOR(pg_catalog.=) $1 FOR NO KEY UPDATE",
	1, {INT8OID}
};

static LeadflowPlan account_owner_plan = {
	NULL,
	"SELECT owner_rep_id FROM leadflow.accounts"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 AND account_id OPERATOR(pg_catalog.=) $2",
	2, {INT8OID, INT8OID}
};

/*
 * leadflow.route_handoff(lead_id, account_id) RETURNS bigint
 *
 * The handoff decision of a conversion (convert_lead calls it before it
 * creates the opportunity): who owns the opportunity, NULL for nobody.
 * account_id (NULL: none yet) is the account the conversion links to;
 * its owner comes first.  Journals "handoff", advances the rotation.
 */
PG_FUNCTION_INFO_V1(leadflow_route_handoff);
Datum
leadflow_route_handoff(PG_FUNCTION_ARGS)
{
	int64		lead_id = PG_GETARG_INT64(0);
	int64		account_id = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT64(1);
	int64		account_owner = 0;
	Datum		args[2];
	bool		isnull;
	LeadflowLead lead;
	int64		rep_id;
	int			rc;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	SPI_connect();
	LeadflowFetchLead(&handoff_lead_plan, lead_id, false);
	LeadflowLeadFromRecord(&lead, SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	lead.org = LeadflowGetOrg(lead.org_id);
	if (account_id != 0)
	{
		args[0] = Int64GetDatum(lead.org_id);
		args[1] = Int64GetDatum(account_id);
		rc = LeadflowExecute(&account_owner_plan, args, NULL, true, 1);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "leadflow: account lookup failed: %s", SPI_result_code_string(rc));
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_NO_DATA_FOUND),
					 errmsg("account " INT64_FORMAT " does not exist in org " INT64_FORMAT,
							account_id, lead.org_id)));
		account_owner = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		if (isnull)
			account_owner = 0;
	}
	rep_id = LeadflowRouteHandoff(&lead, account_id, account_owner);
	SPI_finish();
	if (rep_id == 0)
		PG_RETURN_NULL();
	PG_RETURN_INT64(rep_id);
}
