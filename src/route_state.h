/*-------------------------------------------------------------------------
 *
 * route_state.h
 *	  The rotation state of routing (route_state.c): reps' loads and
 *	  credits, teams' last picks, rule hits; locked, buffered per
 *	  transaction and written at the statement's end, or a simulation's
 *	  private copy.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_ROUTE_STATE_H
#define LEADFLOW_ROUTE_STATE_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/hsearch.h"

typedef struct LeadflowStateKey
{
	int64		org_id;
	int64		id;
} LeadflowStateKey;

typedef struct LeadflowRepState
{
	LeadflowStateKey	key;
	int32		open_leads;
	int64		assigned_total;
	TimestampTz last_assigned_at;	/* 0: never */
	int64		current_weight;
	bool		dirty;
} LeadflowRepState;

typedef struct LeadflowTeamState
{
	LeadflowStateKey	key;
	int64		last_rep_id;
	bool		dirty;
} LeadflowTeamState;

typedef struct LeadflowRotation
{
	int64		org_id;
	bool		simulate;		/* private state: no locks, no writes */
	HTAB	   *reps;			/* simulation only; else the transaction's */
	HTAB	   *teams;			/* simulation only; else the transaction's */
} LeadflowRotation;

extern void LeadflowRotationInit(LeadflowRotation *c, int64 org_id, bool simulate);
extern void LeadflowRotationLoadReps(LeadflowRotation *c, const int64 *rep_ids, int n);
extern LeadflowRepState *LeadflowRotationRep(LeadflowRotation *c, int64 rep_id);
extern LeadflowTeamState *LeadflowRotationTeam(LeadflowRotation *c, int64 team_id);
extern void LeadflowRotationCountHit(LeadflowRotation *c, int64 rule_id, bool shadow, TimestampTz now);

/* a rep's open-lead count changes by delta (assigned away, closed, reopened) */
extern void LeadflowRouteAdjustLoad(int64 org_id, int64 rep_id, int delta);
/* writes what the transaction changed: the statement-end trigger, via txbuf */
extern void LeadflowRouteFlush(void);

#endif							/* LEADFLOW_ROUTE_STATE_H */
