/*-------------------------------------------------------------------------
 *
 * route.c
 *	  Routing: who gets a lead.  First that applies: the named account's
 *	  owner, the owner of another live lead of the same company, the first
 *	  enabled live routing rule that matches (a rep, a team whose strategy
 *	  picks an available member, or the queue), else the unassigned queue.
 *	  Shadow rules are evaluated and journaled, never obeyed.
 *
 *	  Rotation state (each rep's open leads, assignments, weighted-rotation
 *	  credit; each team's last pick) lives in leadflow.rep_load and
 *	  leadflow.team_rotation.  A transaction locks the rows it reads
 *	  (FOR UPDATE, team before members, members by rep_id) and keeps them
 *	  until commit, so concurrent sessions routing into one team take
 *	  turns and the rotation stays exact.  Changes accumulate in
 *	  transaction buffers (txbuf.h) and are written once per statement
 *	  (LeadflowRouteFlush, from the statement-end trigger): a million-row
 *	  load updates each rep's row once, not a million times.  A
 *	  subtransaction that aborts takes exactly its own changes with it.
 *
 *	  Simulation (simulate_routing, replay_routing, shadow rules) runs the
 *	  same code on a private copy of the state: no locks, no writes.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "journey.h"
#include "lead.h"
#include "notify.h"
#include "predicate.h"
#include "request.h"
#include "route.h"
#include "rulecache.h"
#include "score.h"
#include "spi.h"
#include "text.h"
#include "validate.h"
#include "txbuf.h"


typedef struct StateKey
{
	int64		org_id;
	int64		id;
} StateKey;

typedef struct RepState
{
	StateKey	key;
	int32		open_leads;
	int64		assigned_total;
	TimestampTz last_assigned_at;	/* 0: never */
	int64		current_weight;
	bool		dirty;
} RepState;

typedef struct TeamState
{
	StateKey	key;
	int64		last_rep_id;
	bool		dirty;
} TeamState;

typedef struct RuleHits
{
	StateKey	key;
	int64		hits;
	int64		shadow_hits;
	TimestampTz last_hit;
} RuleHits;

/* the transaction's locked state */
static TxbufTable txn_reps = TXBUF_TABLE("leadflow rep state", StateKey, RepState);
static TxbufTable txn_teams = TXBUF_TABLE("leadflow team state", StateKey, TeamState);
static TxbufTable txn_hits = TXBUF_TABLE("leadflow rule hits", StateKey, RuleHits);
static const TxbufClient route_client = {"routing", LeadflowRouteFlush, NULL, NULL};

typedef struct RouteCtx
{
	int64		org_id;
	const LeadflowRouting *cfg;
	TimestampTz now;
	bool		simulate;		/* private state: no locks, no writes */
	HTAB	   *reps;			/* simulation only; else txn_reps */
	HTAB	   *teams;			/* simulation only; else txn_teams */
	int64		exclude_rep;	/* 0: none */
	LeadflowJson candidates;	/* JSON array of the candidates skipped */
} RouteCtx;

static LeadflowPlan rep_rows_plan = {
	NULL,
	"INSERT INTO leadflow.rep_load (org_id, rep_id)"
	" SELECT $1, r FROM pg_catalog.unnest($2::bigint[]) r ON CONFLICT DO NOTHING",
	2, {INT8OID, INT8ARRAYOID}
};

static LeadflowPlan rep_lock_plan = {
	NULL,
	"SELECT rep_id, open_leads, assigned_total, last_assigned_at, current_weight"
	" FROM leadflow.rep_load WHERE org_id OPERATOR(pg_catalog.=) $1"
	" AND rep_id OPERATOR(pg_catalog.=) ANY ($2) ORDER BY rep_id FOR UPDATE",
	2, {INT8OID, INT8ARRAYOID}
};

static LeadflowPlan rep_peek_plan = {
	NULL,
	"SELECT rep_id, open_leads, assigned_total, last_assigned_at, current_weight"
	" FROM leadflow.rep_load WHERE org_id OPERATOR(pg_catalog.=) $1"
	" AND rep_id OPERATOR(pg_catalog.=) ANY ($2)",
	2, {INT8OID, INT8ARRAYOID}
};

static LeadflowPlan team_lock_plan = {
	NULL,
	"SELECT last_rep_id FROM leadflow.team_rotation"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 AND team_id OPERATOR(pg_catalog.=) $2 FOR UPDATE",
	2, {INT8OID, INT8OID}
};

static LeadflowPlan team_row_plan = {
	NULL,
	"INSERT INTO leadflow.team_rotation (org_id, team_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
	2, {INT8OID, INT8OID}
};

static LeadflowPlan team_peek_plan = {
	NULL,
	"SELECT last_rep_id FROM leadflow.team_rotation"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 AND team_id OPERATOR(pg_catalog.=) $2",
	2, {INT8OID, INT8OID}
};

static LeadflowPlan affinity_plan = {
	NULL,
	"SELECT owner_rep_id FROM leadflow.leads"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 AND company_domain OPERATOR(pg_catalog.=) $2"
	" AND owner_rep_id IS NOT NULL AND merged_into IS NULL AND erased_at IS NULL"
	" AND lead_id OPERATOR(pg_catalog.<>) $3"
	" ORDER BY assigned_at DESC NULLS LAST LIMIT 1",
	3, {INT8OID, TEXTOID, INT8OID}
};

static HTAB *
make_table(const char *name, Size entrysize, MemoryContext cxt)
{
	HASHCTL		ctl;

	ctl.keysize = sizeof(StateKey);
	ctl.entrysize = entrysize;
	ctl.hcxt = cxt;
	return hash_create(name, 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/*
 * The state of a rep or team: the simulation's private copy, or the
 * transaction's buffer.  state_find is for reading; state_enter returns
 * an entry ready to be changed (a new one is zero).  A subtransaction
 * that aborts puts the buffer's entries back as they were when it began;
 * the row locks it took go with it, and so do the entries it read.
 */
static void *
state_find(RouteCtx *c, bool team, const StateKey *key)
{
	if (c->simulate)
		return hash_search(team ? c->teams : c->reps, key, HASH_FIND, NULL);
	return TxbufFind(team ? &txn_teams : &txn_reps, key);
}

static void *
state_enter(RouteCtx *c, bool team, const StateKey *key, bool *found)
{
	if (c->simulate)
		return hash_search(team ? c->teams : c->reps, key, HASH_ENTER, found);
	return TxbufEnter(team ? &txn_teams : &txn_reps, key, found);
}

static void
route_ctx_init(RouteCtx *c, int64 org_id, TupleDesc leads_desc, bool simulate)
{
	memset(c, 0, sizeof(RouteCtx));
	c->org_id = org_id;
	c->cfg = LeadflowGetRouting(org_id, leads_desc);
	c->now = LeadflowNow();
	c->simulate = simulate;
	if (simulate)
	{
		c->reps = make_table("leadflow simulated rep state", sizeof(RepState), CurrentMemoryContext);
		c->teams = make_table("leadflow simulated team state", sizeof(TeamState), CurrentMemoryContext);
	}
	else
		TxbufRegister(&route_client);
	LeadflowJsonBeginArray(&c->candidates);
}

/*
 * Makes sure the state of these reps is in c->reps: read (and, unless
 * simulating, locked) in one query for those not there yet.  A simulation
 * starts from the transaction's own unflushed state where it has some.
 */
static void
load_reps(RouteCtx *c, const int64 *rep_ids, int n)
{
	Datum	   *missing = palloc(sizeof(Datum) * Max(n, 1));
	int			nmissing = 0;
	Datum		args[2];
	uint64		i;
	int			k;
	int			rc;

	for (k = 0; k < n; k++)
	{
		StateKey	key = {c->org_id, rep_ids[k]};
		RepState   *own;

		if (state_find(c, false, &key) != NULL)
			continue;
		if (c->simulate && (own = TxbufFind(&txn_reps, &key)) != NULL)
		{
			RepState   *st = hash_search(c->reps, &key, HASH_ENTER, NULL);

			memcpy(st, own, sizeof(RepState));
			continue;
		}
		missing[nmissing++] = Int64GetDatum(rep_ids[k]);
	}
	if (nmissing == 0)
		return;

	args[0] = Int64GetDatum(c->org_id);
	args[1] = PointerGetDatum(construct_array(missing, nmissing, INT8OID, 8, true, TYPALIGN_DOUBLE));
	SPI_connect();
	rc = LeadflowExecute(c->simulate ? &rep_peek_plan : &rep_lock_plan,
						  args, NULL, c->simulate, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "leadflow: rep_load lookup failed: %s", SPI_result_code_string(rc));
	if (!c->simulate && SPI_processed < (uint64) nmissing)
	{
		/* reps routed to for the first time get their row, then we lock all */
		rc = LeadflowExecute(&rep_rows_plan, args, NULL, false, 0);
		if (rc != SPI_OK_INSERT)
			elog(ERROR, "leadflow: rep_load insert failed: %s", SPI_result_code_string(rc));
		rc = LeadflowExecute(&rep_lock_plan, args, NULL, false, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "leadflow: rep_load lookup failed: %s", SPI_result_code_string(rc));
	}
	/* reps without a row (simulation only) start from zero */
	for (k = 0; k < nmissing; k++)
	{
		StateKey	key = {c->org_id, DatumGetInt64(missing[k])};
		RepState   *st = state_enter(c, false, &key, NULL);

		memset((char *) st + sizeof(StateKey), 0, sizeof(RepState) - sizeof(StateKey));
	}
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		d;
		StateKey	key;
		RepState   *st;

		key.org_id = c->org_id;
		key.id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		st = state_enter(c, false, &key, NULL);
		st->open_leads = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
		st->assigned_total = DatumGetInt64(SPI_getbinval(tup, desc, 3, &isnull));
		d = SPI_getbinval(tup, desc, 4, &isnull);
		st->last_assigned_at = isnull ? 0 : DatumGetTimestampTz(d);
		st->current_weight = DatumGetInt64(SPI_getbinval(tup, desc, 5, &isnull));
		st->dirty = false;
	}
	SPI_finish();
}

/* the rep's state, ready to be changed */
static RepState *
rep_state(RouteCtx *c, int64 rep_id)
{
	StateKey	key = {c->org_id, rep_id};

	load_reps(c, &rep_id, 1);
	return state_enter(c, false, &key, NULL);
}

static TeamState *
team_state(RouteCtx *c, int64 team_id)
{
	StateKey	key = {c->org_id, team_id};
	TeamState  *st;
	TeamState  *own;
	Datum		args[2];
	bool		found;
	bool		isnull;
	int			rc;

	st = state_enter(c, true, &key, &found);
	if (found)
		return st;
	st->last_rep_id = 0;
	st->dirty = false;
	if (c->simulate && (own = TxbufFind(&txn_teams, &key)) != NULL)
	{
		st->last_rep_id = own->last_rep_id;
		return st;
	}
	args[0] = Int64GetDatum(c->org_id);
	args[1] = Int64GetDatum(team_id);
	SPI_connect();
	rc = LeadflowExecute(c->simulate ? &team_peek_plan : &team_lock_plan,
						  args, NULL, c->simulate, 0);
	if (rc == SPI_OK_SELECT && SPI_processed == 0 && !c->simulate)
	{
		/* a team's first routing: make its row, then lock it */
		rc = LeadflowExecute(&team_row_plan, args, NULL, false, 0);
		if (rc != SPI_OK_INSERT)
			elog(ERROR, "leadflow: team_rotation insert failed: %s", SPI_result_code_string(rc));
		rc = LeadflowExecute(&team_lock_plan, args, NULL, false, 0);
	}
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "leadflow: team_rotation lookup failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		st->last_rep_id = isnull ? 0 : DatumGetInt64(d);
	}
	SPI_finish();
	return st;
}

static void
add_candidate(RouteCtx *c, const char *step, int64 rep_id, const char *skipped)
{
	LeadflowJsonObject(&c->candidates, NULL);
	LeadflowJsonText(&c->candidates, "step", step);
	LeadflowJsonInt(&c->candidates, "rep_id", rep_id);
	LeadflowJsonText(&c->candidates, "skipped", skipped);
	LeadflowJsonClose(&c->candidates);
}

/*
 * Why a rep cannot take a lead now, or NULL when available: active,
 * accepting leads, not inside [away_from, away_until), below
 * max_open_leads open leads.
 */
static const char *
unavailable(RouteCtx *c, const LeadflowRep *rep)
{
	if (rep == NULL)
		return "unknown rep";
	if (!rep->active)
		return "inactive";
	if (!rep->accepting_leads)
		return "not accepting leads";
	if (rep->has_away_from && rep->away_from <= c->now &&
		(!rep->has_away_until || c->now < rep->away_until))
		return "away";
	if (!rep->has_away_from && rep->has_away_until && c->now < rep->away_until)
		return "away";
	if (rep->rep_id == c->exclude_rep)
		return "current owner";
	if (rep->max_open_leads >= 0 && rep_state(c, rep->rep_id)->open_leads >= rep->max_open_leads)
		return "at capacity";
	return NULL;
}

/* a single rep (account owner, affinity owner, rep rule): available or not */
static int64
try_rep(RouteCtx *c, const char *step, int64 rep_id)
{
	const char *why = unavailable(c, LeadflowFindRep(c->cfg, rep_id));

	if (why == NULL)
		return rep_id;
	add_candidate(c, step, rep_id, why);
	return 0;
}

/*
 * The team's strategy picks an available member, or 0.  Locks the team's
 * rotation row, then its members' rows.
 */
static int64
pick_from_team(RouteCtx *c, const LeadflowTeam *team)
{
	const LeadflowRouting *cfg = c->cfg;
	TeamState  *ts = team_state(c, team->team_id);
	int64	   *ids = palloc(sizeof(int64) * Max(team->nmembers, 1));
	RepState  **avail = palloc(sizeof(RepState *) * Max(team->nmembers, 1));
	const LeadflowRep **avail_rep = palloc(sizeof(LeadflowRep *) * Max(team->nmembers, 1));
	RepState   *best = NULL;
	int			navail = 0;
	int			i;

	for (i = 0; i < team->nmembers; i++)
		ids[i] = cfg->reps[team->members[i]].rep_id;
	load_reps(c, ids, team->nmembers);

	for (i = 0; i < team->nmembers; i++)
	{
		const LeadflowRep *rep = &cfg->reps[team->members[i]];
		const char *why = unavailable(c, rep);

		if (why != NULL)
		{
			add_candidate(c, "team", rep->rep_id, why);
			continue;
		}
		avail_rep[navail] = rep;
		avail[navail++] = rep_state(c, rep->rep_id);
	}
	if (navail == 0)
		return 0;

	switch (team->strategy)
	{
		case LEADFLOW_ROUND_ROBIN:
			/* the first available member after the last pick, by rep_id */
			best = avail[0];
			for (i = 0; i < navail; i++)
				if (avail[i]->key.id > ts->last_rep_id)
				{
					best = avail[i];
					break;
				}
			ts->last_rep_id = best->key.id;
			ts->dirty = true;
			break;

		case LEADFLOW_WEIGHTED_ROUND_ROBIN:
			{
				/* smooth weighted round robin: credit by weight, pick the richest */
				int64		total = 0;

				for (i = 0; i < navail; i++)
				{
					avail[i]->current_weight += avail_rep[i]->weight;
					avail[i]->dirty = true;
					total += avail_rep[i]->weight;
					if (best == NULL || avail[i]->current_weight > best->current_weight)
						best = avail[i];
				}
				best->current_weight -= total;
				break;
			}

		case LEADFLOW_LOAD_BALANCED:
			/* fewest open leads, then longest since the last assignment */
			for (i = 0; i < navail; i++)
				if (best == NULL || avail[i]->open_leads < best->open_leads ||
					(avail[i]->open_leads == best->open_leads &&
					 avail[i]->last_assigned_at < best->last_assigned_at))
					best = avail[i];
			break;
	}
	return best->key.id;
}

/* The decision for one lead, before it is applied. */
typedef struct RouteDecision
{
	const char *path;			/* named_account, company_affinity, rule, queue, no_match, given */
	int64		rep_id;			/* 0: unassigned */
	int64		team_id;
	int64		account_id;
	const LeadflowRoutingRule *rule;
	const LeadflowTeam *team;
} RouteDecision;

static const char *const strategy_names[] = {"round_robin", "weighted_round_robin", "load_balanced"};

/* What a rule assigns to, if it can: fills d, returns true when decided. */
static bool
apply_rule(RouteCtx *c, const LeadflowRoutingRule *rule, RouteDecision *d)
{
	switch (rule->assign_to)
	{
		case LEADFLOW_ASSIGN_REP:
			d->rep_id = try_rep(c, "rule", rule->rep_id);
			if (d->rep_id == 0)
				return false;
			{
				const LeadflowRep *rep = LeadflowFindRep(c->cfg, d->rep_id);

				d->team_id = rep ? rep->team_id : 0;
			}
			return true;
		case LEADFLOW_ASSIGN_TEAM:
			d->team = LeadflowFindTeam(c->cfg, rule->team_id);
			if (d->team == NULL)
				return false;
			d->rep_id = pick_from_team(c, d->team);
			d->team_id = d->team->team_id;
			return d->rep_id != 0;
		case LEADFLOW_ASSIGN_QUEUE:
			d->rep_id = 0;
			return true;
	}
	return false;
}

/* what a matching shadow rule would have done */
typedef struct ShadowDecision
{
	const LeadflowRoutingRule *rule;
	int64		rep_id;
	int64		team_id;
} ShadowDecision;

/*
 * Decides who gets the lead.  Matching shadow rules are evaluated on a
 * private copy of the state and returned in shadows (at most nrules),
 * when shadows is not NULL.
 */
static void
decide(RouteCtx *c, LeadflowLead *lead, RouteDecision *d, ShadowDecision *shadows, int *nshadows)
{
	const LeadflowOrg *org = LeadflowGetOrg(lead->org_id);
	char	   *domain = LeadflowLeadText(lead, leadflow_cols.company_domain);
	Datum		args[3];
	bool		isnull;
	bool		decided;
	int			i;
	int			rc;

	memset(d, 0, sizeof(RouteDecision));
	d->path = "no_match";
	if (nshadows)
		*nshadows = 0;

	if (domain != NULL && org->named_account_routing)
	{
		int64		owner = 0;

		if (LeadflowFindAccount(lead->org_id, domain, &d->account_id, &owner) &&
			owner != 0 && (d->rep_id = try_rep(c, "named_account", owner)) != 0)
			d->path = "named_account";
	}

	if (d->rep_id == 0 && domain != NULL && org->company_affinity_routing)
	{
		int64		owner = 0;

		args[0] = Int64GetDatum(lead->org_id);
		args[1] = CStringGetTextDatum(domain);
		args[2] = Int64GetDatum(lead->lead_id);
		SPI_connect();
		/* not read-only: see the leads this statement inserted before */
		rc = LeadflowExecute(&affinity_plan, args, NULL, false, 1);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "leadflow: affinity lookup failed: %s", SPI_result_code_string(rc));
		if (SPI_processed == 1)
			owner = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		SPI_finish();
		if (owner != 0 && (d->rep_id = try_rep(c, "company_affinity", owner)) != 0)
			d->path = "company_affinity";
	}
	if (d->rep_id != 0)
	{
		const LeadflowRep *rep = LeadflowFindRep(c->cfg, d->rep_id);

		d->team_id = rep ? rep->team_id : 0;
	}

	decided = d->rep_id != 0;
	for (i = 0; i < c->cfg->nrules; i++)
	{
		const LeadflowRoutingRule *rule = &c->cfg->rules[i];
		RouteDecision r;

		if (decided && !rule->shadow)
			continue;			/* decided: only shadow rules still run */
		if (rule->shadow && shadows == NULL)
			continue;
		if (!LeadflowPredicateEval(rule->predicate, lead->desc, lead->values, lead->nulls))
			continue;

		memset(&r, 0, sizeof(r));
		if (rule->shadow)
		{
			RouteCtx	sc;

			route_ctx_init(&sc, c->org_id, lead->desc, true);
			sc.exclude_rep = c->exclude_rep;
			apply_rule(&sc, rule, &r);
			shadows[*nshadows].rule = rule;
			shadows[*nshadows].rep_id = r.rep_id;
			shadows[*nshadows].team_id = r.team_id;
			(*nshadows)++;
			continue;
		}
		if (apply_rule(c, rule, &r))
		{
			r.rule = rule;
			r.path = rule->assign_to == LEADFLOW_ASSIGN_QUEUE ? "queue" : "rule";
			r.account_id = d->account_id;
			*d = r;
			decided = true;
		}
	}
}

static void
count_hit(RouteCtx *c, const LeadflowRoutingRule *rule, bool shadow)
{
	StateKey	key = {c->org_id, rule->rule_id};
	RuleHits   *h;
	bool		found;

	if (c->simulate)
		return;
	h = TxbufEnter(&txn_hits, &key, &found);
	if (!found)
		h->hits = h->shadow_hits = 0;
	if (shadow)
		h->shadow_hits++;
	else
		h->hits++;
	h->last_hit = c->now;
}

/* a rep as a detail member, null for none */
static void
json_rep(LeadflowJson *detail, const char *key, int64 rep_id)
{
	if (rep_id != 0)
		LeadflowJsonInt(detail, key, rep_id);
	else
		LeadflowJsonNull(detail, key);
}

/* the routed journey row: path, rule, strategy, owner, skipped candidates */
static char *
decision_detail(RouteCtx *c, const RouteDecision *d, const char *reason)
{
	LeadflowJson detail;

	LeadflowJsonBegin(&detail);
	LeadflowJsonText(&detail, "path", d->path);
	LeadflowJsonText(&detail, "reason", reason);
	if (d->rule != NULL)
	{
		LeadflowJsonInt(&detail, "rule_id", d->rule->rule_id);
		LeadflowJsonText(&detail, "rule_name", d->rule->name);
	}
	if (d->team != NULL)
		LeadflowJsonText(&detail, "strategy", strategy_names[d->team->strategy]);
	if (d->team_id != 0)
		LeadflowJsonInt(&detail, "team_id", d->team_id);
	if (d->account_id != 0)
		LeadflowJsonInt(&detail, "account_id", d->account_id);
	json_rep(&detail, "rep_id", d->rep_id);
	LeadflowJsonRaw(&detail, "candidates", LeadflowJsonFinish(&c->candidates));
	return LeadflowJsonFinish(&detail);
}

/*
 * LeadflowRouteLead
 *		Routes a live lead (being inserted, or re-routed on update) and
 *		writes the result into its row: owner_rep_id, team_id, account_id,
 *		assigned_at.  Journals "routed" with the explanation and one
 *		"shadow_routed" per matching shadow rule; notifies "assigned".
 *		exclude_rep (0: none) is never chosen (reassignment).
 */
void
LeadflowRouteLead(LeadflowLead *lead, int64 exclude_rep, const char *reason)
{
	RouteCtx	c;
	RouteDecision d;
	ShadowDecision *shadows;
	int			nshadows;
	int			i;
	int64		old_owner = LeadflowLeadInt64(lead, leadflow_cols.owner_rep_id);

	route_ctx_init(&c, lead->org_id, lead->desc, false);
	c.exclude_rep = exclude_rep;
	shadows = palloc(sizeof(ShadowDecision) * Max(c.cfg->nrules, 1));
	decide(&c, lead, &d, shadows, &nshadows);

	if (d.rule != NULL)
		count_hit(&c, d.rule, false);
	if (d.account_id != 0)
		LeadflowLeadSet(lead, leadflow_cols.account_id, Int64GetDatum(d.account_id), false);
	LeadflowLeadSet(lead, leadflow_cols.owner_rep_id, Int64GetDatum(d.rep_id), d.rep_id == 0);
	LeadflowLeadSet(lead, leadflow_cols.team_id, Int64GetDatum(d.team_id), d.team_id == 0);
	LeadflowLeadSet(lead, leadflow_cols.assigned_at, TimestampTzGetDatum(c.now), d.rep_id == 0);
	if (d.rep_id != 0)
	{
		RepState   *st = rep_state(&c, d.rep_id);

		st->open_leads++;
		st->assigned_total++;
		st->last_assigned_at = GetCurrentTimestamp();
		st->dirty = true;
	}
	if (old_owner != 0)
		LeadflowRouteAdjustLoad(lead->org_id, old_owner, -1);

	LeadflowJourneyAppend(lead->org_id, lead->lead_id, "routed", decision_detail(&c, &d, reason));
	for (i = 0; i < nshadows; i++)
	{
		LeadflowJson detail;

		count_hit(&c, shadows[i].rule, true);
		LeadflowJsonBegin(&detail);
		LeadflowJsonInt(&detail, "rule_id", shadows[i].rule->rule_id);
		LeadflowJsonText(&detail, "rule_name", shadows[i].rule->name);
		json_rep(&detail, "rep_id", shadows[i].rep_id);
		if (shadows[i].team_id != 0)
			LeadflowJsonInt(&detail, "team_id", shadows[i].team_id);
		json_rep(&detail, "live_rep_id", d.rep_id);
		LeadflowJsonBool(&detail, "agrees", shadows[i].rep_id == d.rep_id);
		LeadflowJourneyAppend(lead->org_id, lead->lead_id, "shadow_routed", LeadflowJsonFinish(&detail));
	}
	if (d.rep_id != 0)
		LeadflowNotify("assigned", lead->org_id, lead->lead_id, d.rep_id);
}

/*
 * LeadflowRouteAdjustLoad
 *		Changes a rep's open-lead count by delta (a lead assigned away,
 *		closed or reopened), locking the rep's row until commit.
 */
void
LeadflowRouteAdjustLoad(int64 org_id, int64 rep_id, int delta)
{
	RouteCtx	c;
	RepState   *st;

	TxbufRegister(&route_client);
	memset(&c, 0, sizeof(c));
	c.org_id = org_id;
	st = rep_state(&c, rep_id);
	st->open_leads = Max(st->open_leads + delta, 0);
	st->dirty = true;
}

/*
 * The flush writes each kind of state in one statement, whatever the number
 * of rows: a weighted rotation changes every member of a team on each
 * assignment, and a statement per rep would cost a single-row insert more
 * than the rest of its pipeline.
 */
static LeadflowPlan rep_flush_plan = {
	NULL,
	"UPDATE leadflow.rep_load r SET open_leads = u.open_leads, assigned_total = u.assigned_total,"
	" last_assigned_at = u.last_assigned_at, current_weight = u.current_weight"
	" FROM ROWS FROM (pg_catalog.unnest($1::bigint[]), pg_catalog.unnest($2::bigint[]),"
	" pg_catalog.unnest($3::integer[]), pg_catalog.unnest($4::bigint[]),"
	" pg_catalog.unnest($5::timestamptz[]), pg_catalog.unnest($6::bigint[]))"
	" AS u(org_id, rep_id, open_leads, assigned_total, last_assigned_at, current_weight)"
	" WHERE r.org_id OPERATOR(pg_catalog.=) u.org_id AND r.rep_id OPERATOR(pg_catalog.=) u.rep_id",
	6, {INT8ARRAYOID, INT8ARRAYOID, INT4ARRAYOID, INT8ARRAYOID, TIMESTAMPTZARRAYOID, INT8ARRAYOID}
};

static LeadflowPlan team_flush_plan = {
	NULL,
	"UPDATE leadflow.team_rotation t SET last_rep_id = u.last_rep_id"
	" FROM ROWS FROM (pg_catalog.unnest($1::bigint[]), pg_catalog.unnest($2::bigint[]),"
	" pg_catalog.unnest($3::bigint[])) AS u(org_id, team_id, last_rep_id)"
	" WHERE t.org_id OPERATOR(pg_catalog.=) u.org_id AND t.team_id OPERATOR(pg_catalog.=) u.team_id",
	3, {INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID}
};

static LeadflowPlan hits_flush_plan = {
	NULL,
	"INSERT INTO leadflow.routing_rule_stats AS s (org_id, rule_id, hits, shadow_hits, last_hit)"
	" SELECT * FROM ROWS FROM (pg_catalog.unnest($1::bigint[]), pg_catalog.unnest($2::bigint[]),"
	" pg_catalog.unnest($3::bigint[]), pg_catalog.unnest($4::bigint[]),"
	" pg_catalog.unnest($5::timestamptz[])) ORDER BY 1, 2"	/* lock order: no deadlock */
	" ON CONFLICT (org_id, rule_id) DO UPDATE"
	" SET hits = s.hits OPERATOR(pg_catalog.+) excluded.hits,"
	" shadow_hits = s.shadow_hits OPERATOR(pg_catalog.+) excluded.shadow_hits,"
	" last_hit = GREATEST(s.last_hit, excluded.last_hit)",
	5, {INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, TIMESTAMPTZARRAYOID}
};

/* columns of a flush, gathered from a hash table of state */
typedef struct FlushCols
{
	int			n;
	int			max;
	Datum	   *v[6];
	bool	   *isnull[6];
} FlushCols;

static void
flush_cols_init(FlushCols *f, long max)
{
	int			c;

	f->n = 0;
	f->max = Max(max, 1);
	for (c = 0; c < 6; c++)
	{
		f->v[c] = palloc(sizeof(Datum) * f->max);
		f->isnull[c] = palloc0(sizeof(bool) * f->max);
	}
}

/* all flushed columns are 8-byte pass-by-value (bigint, timestamptz) or integer */
static Datum
flush_array(FlushCols *f, int c, Oid elemtype)
{
	int			dims[1] = {f->n};
	int			lbs[1] = {1};
	bool		int4 = elemtype == INT4OID;

	return PointerGetDatum(construct_md_array(f->v[c], f->isnull[c], 1, dims, lbs, elemtype,
											  int4 ? 4 : 8, true,
											  int4 ? TYPALIGN_INT : TYPALIGN_DOUBLE));
}

static void
flush_run(LeadflowPlan *plan, FlushCols *f, const Oid *types, int ncols, int expected_rc)
{
	Datum		args[6];
	int			c;
	int			rc;

	if (f->n == 0)
		return;
	for (c = 0; c < ncols; c++)
		args[c] = flush_array(f, c, types[c]);
	rc = LeadflowExecute(plan, args, NULL, false, 0);
	if (rc != expected_rc)
		elog(ERROR, "leadflow: routing state flush failed: %s", SPI_result_code_string(rc));
}

/*
 * LeadflowRouteFlush
 *		Writes the changed rotation state and rule hits of this
 *		transaction: one UPDATE of rep_load, one of team_rotation and one
 *		upsert of routing_rule_stats, however many leads the statement
 *		routed.
 */
void
LeadflowRouteFlush(void)
{
	static const Oid rep_types[6] = {INT8OID, INT8OID, INT4OID, INT8OID, TIMESTAMPTZOID, INT8OID};
	static const Oid team_types[3] = {INT8OID, INT8OID, INT8OID};
	static const Oid hit_types[5] = {INT8OID, INT8OID, INT8OID, INT8OID, TIMESTAMPTZOID};
	HASH_SEQ_STATUS seq;
	RepState   *rs;
	TeamState  *ts;
	RuleHits   *h;
	FlushCols	f;

	if (TxbufTableSize(&txn_reps) == 0 && TxbufTableSize(&txn_teams) == 0 &&
		TxbufTableSize(&txn_hits) == 0)
		return;
	SPI_connect();

	flush_cols_init(&f, TxbufTableSize(&txn_reps));
	TxbufSeqInit(&txn_reps, &seq);
	while ((rs = TxbufSeqNext(&txn_reps, &seq)) != NULL)
	{
		if (!rs->dirty)
			continue;
		TxbufTouch(&txn_reps, rs);
		f.v[0][f.n] = Int64GetDatum(rs->key.org_id);
		f.v[1][f.n] = Int64GetDatum(rs->key.id);
		f.v[2][f.n] = Int32GetDatum(rs->open_leads);
		f.v[3][f.n] = Int64GetDatum(rs->assigned_total);
		f.v[4][f.n] = TimestampTzGetDatum(rs->last_assigned_at);
		f.isnull[4][f.n] = rs->last_assigned_at == 0;
		f.v[5][f.n] = Int64GetDatum(rs->current_weight);
		f.n++;
		rs->dirty = false;
	}
	flush_run(&rep_flush_plan, &f, rep_types, 6, SPI_OK_UPDATE);

	flush_cols_init(&f, TxbufTableSize(&txn_teams));
	TxbufSeqInit(&txn_teams, &seq);
	while ((ts = TxbufSeqNext(&txn_teams, &seq)) != NULL)
	{
		if (!ts->dirty)
			continue;
		TxbufTouch(&txn_teams, ts);
		f.v[0][f.n] = Int64GetDatum(ts->key.org_id);
		f.v[1][f.n] = Int64GetDatum(ts->key.id);
		f.v[2][f.n] = Int64GetDatum(ts->last_rep_id);
		f.n++;
		ts->dirty = false;
	}
	flush_run(&team_flush_plan, &f, team_types, 3, SPI_OK_UPDATE);

	flush_cols_init(&f, TxbufTableSize(&txn_hits));
	TxbufSeqInit(&txn_hits, &seq);
	while ((h = TxbufSeqNext(&txn_hits, &seq)) != NULL)
	{
		f.v[0][f.n] = Int64GetDatum(h->key.org_id);
		f.v[1][f.n] = Int64GetDatum(h->key.id);
		f.v[2][f.n] = Int64GetDatum(h->hits);
		f.v[3][f.n] = Int64GetDatum(h->shadow_hits);
		f.v[4][f.n] = TimestampTzGetDatum(h->last_hit);
		f.n++;
		TxbufRemove(&txn_hits, h);
	}
	flush_run(&hits_flush_plan, &f, hit_types, 5, SPI_OK_INSERT);
	SPI_finish();
}

/* A simulated decision as a row of simulate_routing / replay_routing. */
static void
simulated_assign(RouteCtx *c, const RouteDecision *d)
{
	if (d->rep_id != 0)
	{
		RepState   *st = rep_state(c, d->rep_id);

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

	route_ctx_init(&c, lead.org_id, lead.desc, true);
	decide(&c, &lead, &d, NULL, NULL);

	values[0] = CStringGetTextDatum(d.path);
	nulls[1] = d.rule == NULL;
	values[1] = d.rule ? Int64GetDatum(d.rule->rule_id) : (Datum) 0;
	nulls[2] = d.rule == NULL;
	values[2] = d.rule ? CStringGetTextDatum(d.rule->name) : (Datum) 0;
	nulls[3] = d.team_id == 0;
	values[3] = Int64GetDatum(d.team_id);
	nulls[4] = d.rep_id == 0;
	values[4] = Int64GetDatum(d.rep_id);
	values[5] = DirectFunctionCall1(jsonb_in, CStringGetDatum(decision_detail(&c, &d, "simulated")));
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
			route_ctx_init(&c, DatumGetInt64(args[0]), lead.desc, true);
		}
		old = MemoryContextSwitchTo(per_lead);
		LeadflowLeadFromRecord(&lead, SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		actual = LeadflowLeadInt64(&lead, leadflow_cols.owner_rep_id);

		shadows = palloc(sizeof(ShadowDecision) * Max(c.cfg->nrules, 1));
		LeadflowJsonBeginArray(&c.candidates);
		decide(&c, &lead, &d, shadows, &nshadows);
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
