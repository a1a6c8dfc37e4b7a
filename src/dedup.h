/*-------------------------------------------------------------------------
 *
 * dedup.h
 *	  The deduplication stage (dedup.c): the email and phone claims; the
 *	  duplicate's touch of its survivor is dedup_touch.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_DEDUP_H
#define LEADFLOW_DEDUP_H

#include "postgres.h"

#include "lead.h"

extern int64 LeadflowDedupClaim(LeadflowLead *lead, const char *email_normalized);
extern int64 LeadflowDedupPhoneClaim(LeadflowLead *lead, const char *phone_e164, bool has_email);
extern void LeadflowDedupReleaseEmail(const LeadflowLead *lead, const char *email_normalized);
extern void LeadflowDedupMovePhone(const LeadflowLead *lead, const char *old_phone, const char *new_phone);
extern void LeadflowDedupMoveClaim(LeadflowLead *lead, const char *old_email, const char *new_email);
extern void LeadflowDedupFollowLifecycle(const LeadflowLead *old, LeadflowLead *lead);

#endif							/* LEADFLOW_DEDUP_H */
