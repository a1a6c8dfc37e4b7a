/*-------------------------------------------------------------------------
 *
 * enrich.h
 *	  The enrichment stage (enrich.c): firmographics from company_profiles.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_ENRICH_H
#define LEADFLOW_ENRICH_H

#include "postgres.h"

#include "lead.h"

extern void LeadflowEnrich(LeadflowLead *lead);

#endif							/* LEADFLOW_ENRICH_H */
