/*-------------------------------------------------------------------------
 *
 * validate.h
 *	  The validate-and-normalize stage (validate.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_VALIDATE_H
#define LEADFLOW_VALIDATE_H

#include "lead.h"

/* trims the name and place columns of a new lead */
extern void LeadflowTrimLead(LeadflowLead *lead);

/* country to ISO 3166-1 alpha-2, state to ISO 3166-2 (unknown: kept, noted) */
extern void LeadflowNormalizePlace(LeadflowLead *lead);

/* source in its canonical spelling, then the org's alias of it */
extern void LeadflowNormalizeSource(LeadflowLead *lead);

/* a lead of the org with this source and external_id exists: the insert is a replay */
extern bool LeadflowAlreadyCaptured(LeadflowLead *lead);

/* refuses a lead without a usable contact; true when normalizing changed what was typed */
extern bool LeadflowValidateLead(LeadflowLead *lead);

#endif							/* LEADFLOW_VALIDATE_H */
