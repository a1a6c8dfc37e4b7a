/*-------------------------------------------------------------------------
 *
 * request.h
 *	  The request context: what the work in progress asks of the leads
 *	  trigger that nested statements fire (request.c).
 *
 *	  Scoring, routing, maintenance and dedup issue UPDATEs of leads and
 *	  INSERTs of signals through SPI; the trigger that runs for those rows
 *	  must know why (rescore with this reason, route again, leave the lead
 *	  to the caller, act as of another time).  Instead of a global each
 *	  caller sets and restores around its statement, a caller runs work
 *	  under a changed copy of the current request; LeadflowRunUnder
 *	  restores the outer one on every exit, error included.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_REQUEST_H
#define LEADFLOW_REQUEST_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "spi.h"

typedef struct LeadflowRequest
{
	const char *rescore_reason; /* UPDATEs of leads rescore, journaled so */
	const char *reroute_reason; /* UPDATEs of leads route again, journaled so */
	bool		signal_lead_updated;	/* a signal's trigger leaves its lead
										 * to the caller */
	const char *reactivate_source;	/* a returning submission from this
									 * source: UPDATEs of an archived or
									 * unqualified lead reopen it */
	TimestampTz as_of;			/* 0: the transaction's start */
	bool		own_archive_reason; /* archive reasons are leadflow's own text
									 * (maintenance), not a user's */
	int			pipeline_depth; /* lead rows in the pipeline (> 0: nested) */
	struct LeadflowJourneyCreation *creation;	/* the created journey row
												 * of the lead being inserted
												 * (journey.h), NULL: none */
} LeadflowRequest;

/* the request in force; change it only through LeadflowRunUnder */
extern const LeadflowRequest *LeadflowCurrentRequest(void);

typedef void (*LeadflowRequestWork) (void *arg);
extern void LeadflowRunUnder(const LeadflowRequest *request, LeadflowRequestWork work, void *arg);
extern uint64 LeadflowExecuteUnder(const LeadflowRequest *request, LeadflowPlan *plan,
								   Datum *args, const char *nulls, int expected);

/* the time the pipeline acts at: the request's as_of, else the transaction's start */
extern TimestampTz LeadflowNow(void);

#endif							/* LEADFLOW_REQUEST_H */
