/*-------------------------------------------------------------------------
 *
 * notify.h
 *	  The event outbox and its NOTIFY wake-up (notify.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_NOTIFY_H
#define LEADFLOW_NOTIFY_H

#include "postgres.h"

#include "text.h"

/*
 * One row of leadflow.events, written in this transaction; lead_id and
 * rep_id 0 are null, detail_json NULL is {}.  Returns the event id.
 */
extern int64 LeadflowEvent(int64 org_id, const char *event, int64 lead_id, int64 rep_id,
						   const char *detail_json);
/* the same with the detail built as jsonb (LeadflowJsonBeginJsonb) */
extern int64 LeadflowEventJson(int64 org_id, const char *event, int64 lead_id, int64 rep_id,
							   LeadflowJson *detail);
extern void LeadflowEventsFlush(void);

#endif							/* LEADFLOW_NOTIFY_H */
