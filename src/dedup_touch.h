/*-------------------------------------------------------------------------
 *
 * dedup_touch.h
 *	  A duplicate's touch of its survivor (dedup_touch.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_DEDUP_TOUCH_H
#define LEADFLOW_DEDUP_TOUCH_H

#include "postgres.h"

#include "lead.h"

extern void LeadflowDedupFill(const LeadflowLead *lead, const LeadflowLead *survivor, LeadflowLead *filled);
extern void LeadflowDedupTouch(const LeadflowLead *lead, const LeadflowLead *survivor);
extern void LeadflowDedupMerged(LeadflowLead *lead, int64 survivor_id, int64 survivor_owner,
								const char *survivor_status, const char *reason);
extern void LeadflowDedupTouchSurvivor(LeadflowLead *lead, int64 survivor_id, const char *reason);

#endif							/* LEADFLOW_DEDUP_TOUCH_H */
