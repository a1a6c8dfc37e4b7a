/*-------------------------------------------------------------------------
 *
 * rulecache_routing.c
 *	  The routing part of the configuration cache (rulecache.c): each
 *	  org's reps, teams and enabled routing rules (predicates compiled),
 *	  and its named accounts by domain.  Loaded on first use, dropped with
 *	  the rest of the cache on any configuration change.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "predicate.h"
#include "rulecache.h"
#include "rulecache_int.h"
#include "spi.h"

static LeadflowPlan reps_plan = {
	NULL,
	"SELECT rep_id, team_id, active, accepting_leads, away_from, away_until,"
	" max_open_leads, weight FROM leadflow.reps"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 ORDER BY rep_id",
	1, {INT8OID}
};

static LeadflowPlan teams_plan = {
	NULL,
	"SELECT team_id, name, strategy FROM leadflow.teams"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 ORDER BY team_id",
	1, {INT8OID}
};

/*
 * The stage column (intake or handoff) is read through to_jsonb: the library
 * also serves a 0.1.0 schema until ALTER EXTENSION UPDATE, whose rules have
 * no stage and are all intake rules.
 */
static LeadflowPlan routing_rules_plan = {
	NULL,
	"SELECT rule_id, name, mode, assign_to, rep_id, team_id, predicate,"
	" pg_catalog.to_jsonb(r) OPERATOR(pg_catalog.->>) 'stage'"
	" FROM leadflow.routing_rules r"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 AND enabled ORDER BY position, rule_id",
	1, {INT8OID}
};

/* Reads the org's reps, teams and enabled routing rules into leadflow_config_cxt. */
static void *
load_routing(int64 org_id, TupleDesc leads_desc)
{
	LeadflowRouting *r = MemoryContextAllocZero(leadflow_config_cxt, sizeof(LeadflowRouting));
	Datum		arg = Int64GetDatum(org_id);
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	uint64		i;
	int			t;
	int			rc;

	rc = LeadflowExecute(&reps_plan, &arg, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "leadflow: reps lookup failed: %s", SPI_result_code_string(rc));
	r->nreps = (int) SPI_processed;
	r->reps = MemoryContextAllocZero(leadflow_config_cxt, sizeof(LeadflowRep) * Max(r->nreps, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		LeadflowRep *rep = &r->reps[i];
		Datum		d;

		tup = SPI_tuptable->vals[i];
		desc = SPI_tuptable->tupdesc;
		rep->rep_id = config_int64(tup, desc, 1);
		rep->team_id = config_int64(tup, desc, 2);
		rep->active = config_bool(tup, desc, 3);
		rep->accepting_leads = config_bool(tup, desc, 4);
		d = SPI_getbinval(tup, desc, 5, &isnull);
		rep->has_away_from = !isnull;
		rep->away_from = isnull ? 0 : DatumGetTimestampTz(d);
		d = SPI_getbinval(tup, desc, 6, &isnull);
		rep->has_away_until = !isnull;
		rep->away_until = isnull ? 0 : DatumGetTimestampTz(d);
		d = SPI_getbinval(tup, desc, 7, &isnull);
		rep->max_open_leads = isnull ? -1 : DatumGetInt32(d);
		rep->weight = Max(config_int(tup, desc, 8), 1);
	}

	rc = LeadflowExecute(&teams_plan, &arg, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "leadflow: teams lookup failed: %s", SPI_result_code_string(rc));
	r->nteams = (int) SPI_processed;
	r->teams = MemoryContextAllocZero(leadflow_config_cxt, sizeof(LeadflowTeam) * Max(r->nteams, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		LeadflowTeam *team = &r->teams[i];
		char	   *strategy;
		int			k;

		tup = SPI_tuptable->vals[i];
		desc = SPI_tuptable->tupdesc;
		team->team_id = config_int64(tup, desc, 1);
		team->name = MemoryContextStrdup(leadflow_config_cxt, SPI_getvalue(tup, desc, 2));
		strategy = SPI_getvalue(tup, desc, 3);
		team->strategy = strcmp(strategy, "weighted_round_robin") == 0 ? LEADFLOW_WEIGHTED_ROUND_ROBIN :
			strcmp(strategy, "load_balanced") == 0 ? LEADFLOW_LOAD_BALANCED : LEADFLOW_ROUND_ROBIN;
		team->members = MemoryContextAlloc(leadflow_config_cxt, sizeof(int) * Max(r->nreps, 1));
		for (k = 0; k < r->nreps; k++)
			if (r->reps[k].team_id == team->team_id)
				team->members[team->nmembers++] = k;
	}

	rc = LeadflowExecute(&routing_rules_plan, &arg, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "leadflow: routing rules lookup failed: %s", SPI_result_code_string(rc));
	r->nrules = (int) SPI_processed;
	r->rules = MemoryContextAllocZero(leadflow_config_cxt, sizeof(LeadflowRoutingRule) * Max(r->nrules, 1));
	for (t = 0; t < r->nrules; t++)
	{
		LeadflowRoutingRule *rule = &r->rules[t];
		char	   *assign_to;

		tup = SPI_tuptable->vals[t];
		desc = SPI_tuptable->tupdesc;
		rule->rule_id = config_int64(tup, desc, 1);
		rule->name = MemoryContextStrdup(leadflow_config_cxt, SPI_getvalue(tup, desc, 2));
		rule->shadow = strcmp(SPI_getvalue(tup, desc, 3), "shadow") == 0;
		{
			char	   *stage = SPI_getvalue(tup, desc, 8);

			rule->handoff = stage != NULL && strcmp(stage, "handoff") == 0;
		}
		assign_to = SPI_getvalue(tup, desc, 4);
		rule->assign_to = strcmp(assign_to, "rep") == 0 ? LEADFLOW_ASSIGN_REP :
			strcmp(assign_to, "team") == 0 ? LEADFLOW_ASSIGN_TEAM : LEADFLOW_ASSIGN_QUEUE;
		rule->rep_id = config_int64(tup, desc, 5);
		rule->team_id = config_int64(tup, desc, 6);
		rule->predicate = LeadflowPredicateCompile(DatumGetJsonbP(SPI_getbinval(tup, desc, 7, &isnull)),
												   leads_desc, leadflow_config_cxt);
	}
	return r;
}

/*
 * LeadflowGetRouting
 *		The org's reps, teams and enabled routing rules (compiled), cached.
 *		Valid until the end of the transaction.
 */
const LeadflowRouting *
LeadflowGetRouting(int64 org_id, TupleDesc leads_desc)
{
	return config_org_part(org_id, leads_desc, offsetof(OrgEntry, routing_loaded),
						offsetof(OrgEntry, routing), load_routing);
}

const LeadflowRep *
LeadflowFindRep(const LeadflowRouting *r, int64 rep_id)
{
	int			lo = 0;
	int			hi = r->nreps - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (r->reps[mid].rep_id == rep_id)
			return &r->reps[mid];
		if (r->reps[mid].rep_id < rep_id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

const LeadflowTeam *
LeadflowFindTeam(const LeadflowRouting *r, int64 team_id)
{
	int			i;

	for (i = 0; i < r->nteams; i++)
		if (r->teams[i].team_id == team_id)
			return &r->teams[i];
	return NULL;
}

static LeadflowPlan accounts_plan = {
	NULL,
	"SELECT domain, account_id, owner_rep_id FROM leadflow.accounts"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 AND domain IS NOT NULL",
	1, {INT8OID}
};

/* Reads the org's named accounts into a hash by domain, in leadflow_config_cxt. */
static void *
load_accounts(int64 org_id, TupleDesc leads_desc)
{
	HASHCTL		ctl;
	HTAB	   *accounts;
	Datum		arg = Int64GetDatum(org_id);
	uint64		i;
	int			rc;

	ctl.keysize = sizeof(((AccountEntry *) NULL)->domain);
	ctl.entrysize = sizeof(AccountEntry);
	ctl.hcxt = leadflow_config_cxt;
	accounts = hash_create("leadflow accounts", 256, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	rc = LeadflowExecute(&accounts_plan, &arg, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "leadflow: accounts lookup failed: %s", SPI_result_code_string(rc));
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *domain = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		AccountEntry *a;

		if (strlen(domain) >= sizeof(((AccountEntry *) NULL)->domain))
			continue;			/* no registrable domain is that long */
		a = hash_search(accounts, domain, HASH_ENTER, NULL);
		a->account_id = config_int64(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		a->owner_rep_id = config_int64(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3);
	}
	return accounts;
}

/*
 * LeadflowFindAccount
 *		The named account of a company domain in an org (cached per
 *		backend): false when there is none.
 */
bool
LeadflowFindAccount(int64 org_id, const char *domain, int64 *account_id, int64 *owner_rep_id)
{
	HTAB	   *accounts = config_org_part(org_id, NULL, offsetof(OrgEntry, accounts_loaded),
										offsetof(OrgEntry, accounts), load_accounts);
	AccountEntry *a;

	if (strlen(domain) >= sizeof(((AccountEntry *) NULL)->domain))
		return false;
	a = hash_search(accounts, domain, HASH_FIND, NULL);
	if (a == NULL)
		return false;
	*account_id = a->account_id;
	*owner_rep_id = a->owner_rep_id;
	return true;
}
