/*-------------------------------------------------------------------------
 *
 * notify.h
 *	  NOTIFY leadflow (notify.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_NOTIFY_H
#define LEADFLOW_NOTIFY_H

#include "postgres.h"

/* {"event", "org_id", "lead_id", "rep_id"}; rep_id 0 is null */
extern void LeadflowNotify(const char *event, int64 org_id, int64 lead_id, int64 rep_id);

#endif							/* LEADFLOW_NOTIFY_H */
