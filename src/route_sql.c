/*-------------------------------------------------------------------------
 *
 * route_sql.c
 *	  simulate_routing and replay_routing: what routing would do, run on a
 *	  private copy of the rotation state (no locks, no writes, no journal);
 *	  opportunity_handoff: the trigger that hands a converted lead's
 *	  opportunity to its owner.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
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
	"SELECT l FROM leadflow.leads l"
	" WHERE l.org_id OPERATOR(pg_catalog.=) $1 AND l.lead_id OPERATOR(pg_catalog.=) $2"
	" FOR NO KEY UPDATE",
	2, {INT8OID, INT8OID}
};

static LeadflowPlan account_owner_plan = {
	NULL,
	"SELECT owner_rep_id FROM leadflow.accounts"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 AND account_id OPERATOR(pg_catalog.=) $2",
	2, {INT8OID, INT8OID}
};

/* the owner of an account of the org, 0 for none (or no such account) */
static int64
account_owner(int64 org_id, int64 account_id)
{
	Datum		args[2];
	bool		isnull;
	int64		owner = 0;
	int			rc;

	args[0] = Int64GetDatum(org_id);
	args[1] = Int64GetDatum(account_id);
	rc = LeadflowExecute(&account_owner_plan, args, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "leadflow: account lookup failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 1)
	{
		owner = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		if (isnull)
			owner = 0;
	}
	return owner;
}

/*
 * leadflow.opportunity_handoff(): BEFORE INSERT FOR EACH ROW on
 * opportunities, WHEN (NEW.lead_id IS NOT NULL AND NEW.owner_rep_id IS
 * NULL).
 *
 * The handoff of a conversion: an opportunity made for a live lead without
 * an owner gets the one handoff routing chooses (route.c: the account's
 * owner, the first handoff rule that decides, else the lead's owner), else
 * the account's owner; sdr_rep_id is the lead's owner unless given.  The
 * decision is journaled (handoff) and advances the rotation.  Only the
 * opportunity's row causes it, so no application can journal a handoff
 * that made no opportunity; an owner chosen by the inserter is kept, as an
 * imported lead's named owner is.  A foreign key judges an opportunity of
 * an unknown lead or account; a lead no longer open (converted, closed),
 * merged or erased is not handed off.
 */
PG_FUNCTION_INFO_V1(leadflow_opportunity_handoff);
Datum
leadflow_opportunity_handoff(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	row;
	int			attnum[4];
	Datum		values[4];
	bool		isnull[4];
	int			set[2];
	int			nset;
	Datum		args[2];
	LeadflowLead lead;
	const char *status;
	int64		org_id;
	int64		account_id = 0;
	int64		owner = 0;
	int64		rep_id;
	int64		sdr_id;
	int			i;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "opportunity_handoff: not called as a BEFORE INSERT row trigger");
	desc = RelationGetDescr(td->tg_relation);
	row = td->tg_trigtuple;
	attnum[0] = SPI_fnumber(desc, "org_id");
	attnum[1] = SPI_fnumber(desc, "lead_id");
	attnum[2] = SPI_fnumber(desc, "account_id");
	attnum[3] = SPI_fnumber(desc, "sdr_rep_id");
	for (i = 0; i < 4; i++)
	{
		if (attnum[i] <= 0)
			elog(ERROR, "leadflow: opportunities has no column %d of the handoff", i);
		values[i] = heap_getattr(row, attnum[i], desc, &isnull[i]);
	}
	if (isnull[0] || isnull[1])
		return PointerGetDatum(row);	/* NOT NULL and the trigger's WHEN judge */
	org_id = DatumGetInt64(values[0]);
	LeadflowCheckOrg(org_id);

	SPI_connect();
	args[0] = values[0];
	args[1] = values[1];
	if (LeadflowExecute(&handoff_lead_plan, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "leadflow: lead lookup failed");
	if (SPI_processed != 1)
	{
		SPI_finish();
		return PointerGetDatum(row);	/* the foreign key refuses it */
	}
	LeadflowLeadFromRecord(&lead, SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull[0]));
	status = LeadflowLeadText(&lead, leadflow_cols.status);
	if (!LeadflowLeadIsNull(&lead, leadflow_cols.erased_at) ||
		!LeadflowLeadIsNull(&lead, leadflow_cols.merged_into) ||
		status == NULL || !LeadflowStatusIsOpen(status))
	{
		SPI_finish();
		return PointerGetDatum(row);
	}
	lead.org = LeadflowGetOrg(org_id);
	if (!isnull[2])
	{
		account_id = DatumGetInt64(values[2]);
		owner = account_owner(org_id, account_id);
	}
	rep_id = LeadflowRouteHandoff(&lead, account_id, owner);
	if (rep_id == 0)
		rep_id = owner;
	sdr_id = LeadflowLeadInt64(&lead, leadflow_cols.owner_rep_id);
	SPI_finish();

	set[0] = SPI_fnumber(desc, "owner_rep_id");
	values[0] = Int64GetDatum(rep_id);
	isnull[0] = rep_id == 0;
	nset = 1;
	if (isnull[3])
	{
		set[1] = attnum[3];
		values[1] = Int64GetDatum(sdr_id);
		isnull[1] = sdr_id == 0;
		nset = 2;
	}
	row = heap_modify_tuple_by_cols(row, desc, nset, set, values, isnull);
	return PointerGetDatum(row);
}
