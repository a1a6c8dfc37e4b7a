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
	LeadflowJson candidates;	/* JSON array of the candidates skipped */
} RouteCtx;

typedef struct RouteDecision
{
	const char *path;			/* named_account, company_affinity, rule, queue, no_match, given */
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
extern char *LeadflowRouteDetail(RouteCtx *c, const RouteDecision *d, const char *reason);

#endif							/* LEADFLOW_ROUTE_INT_H */
