/*-------------------------------------------------------------------------
 *
 * route.c
 *	  Routing: who gets a lead.  First that applies: the named account's
 *	  owner, the owner of another live lead of the same company, the first
 *	  enabled live routing rule that matches (a rep, a team whose strategy
 *	  picks an available member, or the queue), else the unassigned queue.
 *	  Shadow rules are evaluated and journaled, never obeyed.
 *
 *	  Handoff routing (LeadflowRouteHandoff) picks the owner of the
 *	  opportunity when a lead is converted, with the same machinery and the
 *	  rules of stage handoff: the account's owner, then the first handoff
 *	  rule that decides, else the lead's owner (the SDR) as before.
 *
 *	  The rotation state decided with (reps' loads, teams' last picks) is
 *	  route_state.c's; simulate_routing and replay_routing (route_sql.c)
 *	  run the same decision on a private copy of it, and so do shadow
 *	  rules.
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
#include "route_int.h"
#include "route_state.h"
#include "rulecache.h"
#include "spi.h"
#include "text.h"

static LeadflowPlan affinity_plan = {
	NULL,
	"SELECT owner_rep_id FROM leadflow.leads"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 AND company_domain OPERATOR(pg_catalog.=) $2"
	" AND owner_rep_id IS NOT NULL AND merged_into IS NULL AND erased_at IS NULL"
	" AND lead_id OPERATOR(pg_catalog.<>) $3"
	" ORDER BY assigned_at DESC NULLS LAST LIMIT 1",
	3, {INT8OID, TEXTOID, INT8OID}
};

void
LeadflowRouteCtxInit(RouteCtx *c, int64 org_id, TupleDesc leads_desc, bool simulate)
{
	memset(c, 0, sizeof(RouteCtx));
	c->org_id = org_id;
	c->cfg = LeadflowGetRouting(org_id, leads_desc);
	c->now = LeadflowNow();
	LeadflowRotationInit(&c->rot, org_id, simulate);
}

/* in the current context; step and skipped are constants or the config's */
static void
add_candidate(RouteCtx *c, const char *step, int64 rep_id, const char *skipped)
{
	RouteCandidate *cand;

	if (c->ncandidates == c->maxcandidates)
	{
		c->maxcandidates = Max(8, c->maxcandidates * 2);
		c->candidates = c->candidates == NULL ?
			palloc(sizeof(RouteCandidate) * c->maxcandidates) :
			repalloc(c->candidates, sizeof(RouteCandidate) * c->maxcandidates);
	}
	cand = &c->candidates[c->ncandidates++];
	cand->step = step;
	cand->rep_id = rep_id;
	cand->skipped = skipped;
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
	if (rep->max_open_leads >= 0 && LeadflowRotationRep(&c->rot, rep->rep_id)->open_leads >= rep->max_open_leads)
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
	LeadflowTeamState  *ts = LeadflowRotationTeam(&c->rot, team->team_id);
	int64	   *ids = palloc(sizeof(int64) * Max(team->nmembers, 1));
	LeadflowRepState  **avail = palloc(sizeof(LeadflowRepState *) * Max(team->nmembers, 1));
	const LeadflowRep **avail_rep = palloc(sizeof(LeadflowRep *) * Max(team->nmembers, 1));
	LeadflowRepState   *best = NULL;
	int			navail = 0;
	int			i;

	for (i = 0; i < team->nmembers; i++)
		ids[i] = cfg->reps[team->members[i]].rep_id;
	LeadflowRotationLoadReps(&c->rot, ids, team->nmembers);

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
		avail[navail++] = LeadflowRotationRep(&c->rot, rep->rep_id);
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


/*
 * Decides who gets the lead.  Matching shadow rules are evaluated on a
 * private copy of the state and returned in shadows (at most nrules),
 * when shadows is not NULL.
 */
void
LeadflowRouteDecide(RouteCtx *c, LeadflowLead *lead, RouteDecision *d, ShadowDecision *shadows, int *nshadows)
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

	if (c->handoff)
	{
		/* the account the conversion links to, named by the caller */
		if (c->account_owner != 0 && org->named_account_routing &&
			(d->rep_id = try_rep(c, "named_account", c->account_owner)) != 0)
		{
			d->path = "named_account";
			d->account_id = c->account_id;
		}
	}
	else if (domain != NULL && org->named_account_routing)
	{
		int64		owner = 0;

		if (LeadflowFindAccount(lead->org_id, domain, &d->account_id, &owner) &&
			owner != 0 && (d->rep_id = try_rep(c, "named_account", owner)) != 0)
			d->path = "named_account";
	}

	if (d->rep_id == 0 && !c->handoff && domain != NULL && org->company_affinity_routing)
	{
		int64		owner = 0;

		if (!LeadflowLeadCompanyOwner(lead->org_id, domain, lead->lead_id, &owner))
		{
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
		}
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

		if (rule->handoff != c->handoff)
			continue;			/* a rule of the other stage */
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

			LeadflowRouteCtxInit(&sc, c->org_id, lead->desc, true);
			sc.exclude_rep = c->exclude_rep;
			sc.handoff = c->handoff;
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

	/* handoff: no rule decided, the lead's owner keeps it (as before) */
	if (c->handoff && !decided)
	{
		int64		owner = LeadflowLeadInt64(lead, leadflow_cols.owner_rep_id);

		if (owner != 0)
		{
			const LeadflowRep *rep = LeadflowFindRep(c->cfg, owner);

			d->path = "lead_owner";
			d->rep_id = owner;
			d->team_id = rep ? rep->team_id : 0;
		}
		d->account_id = c->account_id;
	}
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

/* the routed journey detail: path, rule, strategy, owner, skipped candidates */
void
LeadflowRouteDetail(LeadflowJson *detail, RouteCtx *c, const RouteDecision *d, const char *reason)
{
	int			i;

	LeadflowJsonText(detail, "path", d->path);
	LeadflowJsonText(detail, "reason", reason);
	if (d->rule != NULL)
	{
		LeadflowJsonInt(detail, "rule_id", d->rule->rule_id);
		LeadflowJsonText(detail, "rule_name", d->rule->name);
	}
	if (d->team != NULL)
		LeadflowJsonText(detail, "strategy", strategy_names[d->team->strategy]);
	if (d->team_id != 0)
		LeadflowJsonInt(detail, "team_id", d->team_id);
	if (d->account_id != 0)
		LeadflowJsonInt(detail, "account_id", d->account_id);
	json_rep(detail, "rep_id", d->rep_id);
	LeadflowJsonArray(detail, "candidates");
	for (i = 0; i < c->ncandidates; i++)
	{
		LeadflowJsonObject(detail, NULL);
		LeadflowJsonText(detail, "step", c->candidates[i].step);
		LeadflowJsonInt(detail, "rep_id", c->candidates[i].rep_id);
		LeadflowJsonText(detail, "skipped", c->candidates[i].skipped);
		LeadflowJsonClose(detail);
	}
	LeadflowJsonClose(detail);
}

/* what a matching shadow rule would have done, beside the live decision */
static void
shadow_detail(LeadflowJson *detail, const RouteDecision *d, const ShadowDecision *shadow)
{
	LeadflowJsonInt(detail, "rule_id", shadow->rule->rule_id);
	LeadflowJsonText(detail, "rule_name", shadow->rule->name);
	json_rep(detail, "rep_id", shadow->rep_id);
	if (shadow->team_id != 0)
		LeadflowJsonInt(detail, "team_id", shadow->team_id);
	json_rep(detail, "live_rep_id", d->rep_id);
	LeadflowJsonBool(detail, "agrees", shadow->rep_id == d->rep_id);
}

/*
 * Journals a routing decision as an event of kind with the matching shadow
 * rules' decisions: inside the event (member shadow_routed, an array) when
 * it joins the lead's created row, else one "shadow_routed" row each.
 */
static void
journal_routing(RouteCtx *c, LeadflowLead *lead, const char *kind, const char *reason,
				const RouteDecision *d, const ShadowDecision *shadows, int nshadows)
{
	LeadflowJourneyEvent ev;
	LeadflowJson *detail = LeadflowJourneyBegin(&ev, lead->org_id, lead->lead_id, kind);
	int			i;

	LeadflowRouteDetail(detail, c, d, reason);
	for (i = 0; i < nshadows; i++)
		LeadflowRotationCountHit(&c->rot, shadows[i].rule->rule_id, true, c->now);
	if (ev.folded && nshadows > 0)
	{
		LeadflowJsonArray(detail, "shadow_routed");
		for (i = 0; i < nshadows; i++)
		{
			LeadflowJsonObject(detail, NULL);
			shadow_detail(detail, d, &shadows[i]);
			LeadflowJsonClose(detail);
		}
		LeadflowJsonClose(detail);
	}
	LeadflowJourneyEnd(&ev);
	if (ev.folded)
		return;
	for (i = 0; i < nshadows; i++)
	{
		LeadflowJourneyEvent sev;

		shadow_detail(LeadflowJourneyBegin(&sev, lead->org_id, lead->lead_id, "shadow_routed"),
					  d, &shadows[i]);
		LeadflowJourneyEnd(&sev);
	}
}

/*
 * LeadflowRouteLead
 *		Routes a live lead (being inserted, or re-routed on update) and
 *		writes the result into its row: owner_rep_id, team_id, account_id,
 *		assigned_at.  Journals "routed" with the explanation and one
 *		"shadow_routed" per matching shadow rule (for a lead being
 *		inserted: the member routed of its created row, with the shadow
 *		decisions inside); notifies "assigned".
 *		exclude_rep (0: none) is never chosen (reassignment).
 */
void
LeadflowRouteLead(LeadflowLead *lead, int64 exclude_rep, const char *reason)
{
	RouteCtx	c;
	RouteDecision d;
	ShadowDecision *shadows;
	int			nshadows;
	int64		old_owner = LeadflowLeadInt64(lead, leadflow_cols.owner_rep_id);

	LeadflowRouteCtxInit(&c, lead->org_id, lead->desc, false);
	c.exclude_rep = exclude_rep;
	shadows = palloc(sizeof(ShadowDecision) * Max(c.cfg->nrules, 1));
	LeadflowRouteDecide(&c, lead, &d, shadows, &nshadows);

	if (d.rule != NULL)
		LeadflowRotationCountHit(&c.rot, d.rule->rule_id, false, c.now);
	if (d.account_id != 0)
		LeadflowLeadSet(lead, leadflow_cols.account_id, Int64GetDatum(d.account_id), false);
	LeadflowLeadSet(lead, leadflow_cols.owner_rep_id, Int64GetDatum(d.rep_id), d.rep_id == 0);
	LeadflowLeadSet(lead, leadflow_cols.team_id, Int64GetDatum(d.team_id), d.team_id == 0);
	LeadflowLeadSet(lead, leadflow_cols.assigned_at, TimestampTzGetDatum(c.now), d.rep_id == 0);
	if (d.rep_id != 0)
	{
		LeadflowRepState *st = LeadflowRotationRep(&c.rot, d.rep_id);

		st->open_leads++;
		st->assigned_total++;
		st->last_assigned_at = GetCurrentTimestamp();
		st->dirty = true;
	}
	if (old_owner != 0)
		LeadflowRouteAdjustLoad(lead->org_id, old_owner, -1);

	journal_routing(&c, lead, "routed", reason, &d, shadows, nshadows);
	if (d.rep_id != old_owner)
	{
		LeadflowJson detail;

		LeadflowJsonBegin(&detail);
		LeadflowJsonText(&detail, "reason", reason);
		json_rep(&detail, "from_rep_id", old_owner);
		json_rep(&detail, "to_rep_id", d.rep_id);
		if (d.rule != NULL)
			LeadflowJsonInt(&detail, "rule_id", d.rule->rule_id);
		LeadflowEvent(lead->org_id, old_owner != 0 ? "reassigned" : "assigned", lead->lead_id,
					  d.rep_id, LeadflowJsonFinish(&detail));
	}
}

/*
 * LeadflowRouteRepAvailable
 *		Whether rep_id could take the lead now as routing judges a rep
 *		(active, accepting leads, not away, below max_open_leads); reads and
 *		locks the rep's state as routing does.  For a reactivated lead's
 *		previous owner.
 */
bool
LeadflowRouteRepAvailable(const LeadflowLead *lead, int64 rep_id)
{
	RouteCtx	c;

	LeadflowRouteCtxInit(&c, lead->org_id, lead->desc, false);
	LeadflowRotationLoadReps(&c.rot, &rep_id, 1);
	return unavailable(&c, LeadflowFindRep(c.cfg, rep_id)) == NULL;
}

/*
 * LeadflowRouteHandoff
 *		Chooses the owner of the opportunity a lead converts into (the AE):
 *		the owner of account_id (its owner is account_owner, 0: none) when
 *		available and named-account routing is on, then the first handoff
 *		rule that decides, else the lead's owner.  Locks and advances the
 *		rotation like intake routing (concurrent conversions into one team
 *		take turns), journals "handoff" with the same explanation as
 *		"routed" and one "shadow_routed" per matching shadow handoff rule,
 *		notifies "handoff".  The lead row is not changed: it keeps its SDR.
 *		Returns the rep, 0 for none.
 */
int64
LeadflowRouteHandoff(LeadflowLead *lead, int64 account_id, int64 account_owner)
{
	RouteCtx	c;
	RouteDecision d;
	ShadowDecision *shadows;
	int			nshadows;

	LeadflowRouteCtxInit(&c, lead->org_id, lead->desc, false);
	c.handoff = true;
	c.account_id = account_id;
	c.account_owner = account_owner;
	shadows = palloc(sizeof(ShadowDecision) * Max(c.cfg->nrules, 1));
	LeadflowRouteDecide(&c, lead, &d, shadows, &nshadows);

	if (d.rule != NULL)
		LeadflowRotationCountHit(&c.rot, d.rule->rule_id, false, c.now);
	if (d.rep_id != 0 && strcmp(d.path, "lead_owner") != 0)
	{
		/* an opportunity is not an open lead: only the rotation advances */
		LeadflowRepState *st = LeadflowRotationRep(&c.rot, d.rep_id);

		st->assigned_total++;
		st->last_assigned_at = GetCurrentTimestamp();
		st->dirty = true;
	}
	journal_routing(&c, lead, "handoff", "conversion", &d, shadows, nshadows);
	if (d.rep_id != 0)
		(void) LeadflowEvent(lead->org_id, "handoff", lead->lead_id, d.rep_id, NULL);
	return d.rep_id;
}
