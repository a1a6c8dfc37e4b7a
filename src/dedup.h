/*-------------------------------------------------------------------------
 *
 * dedup.h
 *	  The deduplication stage (dedup.c): the email claim and the duplicate's touch of its survivor.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_DEDUP_H
#define LEADFLOW_DEDUP_H

#include "postgres.h"

#include "lead.h"

extern int64 LeadflowDedupClaim(LeadflowLead *lead, const char *email_normalized);
extern void LeadflowDedupTouchSurvivor(LeadflowLead *lead, int64 survivor_id);
extern void LeadflowDedupMoveClaim(LeadflowLead *lead, const char *old_email, const char *new_email);
extern void LeadflowDedupFollowLifecycle(const LeadflowLead *old, LeadflowLead *lead);

#endif							/* LEADFLOW_DEDUP_H */
