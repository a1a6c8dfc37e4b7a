/*-------------------------------------------------------------------------
 *
 * route.h
 *	  The routing stage (route.c): who gets a lead.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_ROUTE_H
#define LEADFLOW_ROUTE_H

#include "postgres.h"

#include "lead.h"

extern void LeadflowRouteLead(LeadflowLead *lead, int64 exclude_rep, const char *reason);
extern void LeadflowCheckReassignReason(const char *reason);

#endif							/* LEADFLOW_ROUTE_H */
