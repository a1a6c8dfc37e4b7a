/*-------------------------------------------------------------------------
 *
 * route_int.h
 *	  Internals of routing shared by the stage (route.c) and its SQL entry
 *	  points simulate_routing and replay_routing (route_sql.c): one
 *	  decision, taken on the transaction's state or on a private copy.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_ROUTE_INT_H
#define LEADFLOW_ROUTE_INT_H

#include "postgres.h"

#include "lead.h"
#include "route_state.h"
#include "rulecache.h"
#include "text.h"

typedef struct RouteCtx
{
	int64		org_id;
	const LeadflowRouting *cfg;
	TimestampTz now;
	LeadflowRotation rot;		/* the state decided with */
	int64		exclude_rep;	/* 0: none */
	bool		handoff;		/* handoff routing (conversion), else intake */
	int64		account_id;		/* handoff: the lead's account, 0: none */
	int64		account_owner;	/* handoff: its owner, 0: none */
	struct RouteCandidate *candidates;	/* the candidates skipped, and why */
	int			ncandidates;
	int			maxcandidates;
} RouteCtx;

/* a rep routing passed over: the step, the rep, why (a constant) */
typedef struct RouteCandidate
{
	const char *step;
	int64		rep_id;
	const char *skipped;
} RouteCandidate;

typedef struct RouteDecision
{
	const char *path;			/* named_account, company_affinity, rule, queue,
								 * no_match, given; handoff also lead_owner */
	int64		rep_id;			/* 0: unassigned */
	int64		team_id;
	int64		account_id;
	const LeadflowRoutingRule *rule;
	const LeadflowTeam *team;
} RouteDecision;

/* what a matching shadow rule would have done */
typedef struct ShadowDecision
{
	const LeadflowRoutingRule *rule;
	int64		rep_id;
	int64		team_id;
} ShadowDecision;

extern void LeadflowRouteCtxInit(RouteCtx *c, int64 org_id, TupleDesc leads_desc, bool simulate);
extern void LeadflowRouteDecide(RouteCtx *c, LeadflowLead *lead, RouteDecision *d,
								ShadowDecision *shadows, int *nshadows);
extern void LeadflowRouteDetail(LeadflowJson *detail, RouteCtx *c, const RouteDecision *d,
								const char *reason);
extern int64 LeadflowRouteHandoff(LeadflowLead *lead, int64 account_id, int64 account_owner);

#endif							/* LEADFLOW_ROUTE_INT_H */
