/*-------------------------------------------------------------------------
 *
 * nurture.h
 *	  Nurture and recycling (nurture.c): the lifecycle stage and its maintenance.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_NURTURE_H
#define LEADFLOW_NURTURE_H

#include "postgres.h"

#include "lead.h"

/* one maintenance pass: leads moved to nurture, steps cancelled, steps queued */
extern void LeadflowNurtureMaintain(Datum *args, const char *nulls,
									uint64 *entered, uint64 *cancelled, uint64 *queued);
extern bool LeadflowNurtureRecycleDue(const LeadflowLead *lead, int crossed);
extern bool LeadflowNurtureRecycled(LeadflowLead *lead);

#endif							/* LEADFLOW_NURTURE_H */
