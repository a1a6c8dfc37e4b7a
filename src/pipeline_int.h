/*-------------------------------------------------------------------------
 *
 * pipeline_int.h
 *	  What the two halves of the leads trigger share: pipeline.c (the
 *	  trigger, INSERT, the statement-end trigger) and pipeline_update.c
 *	  (UPDATE).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_PIPELINE_INT_H
#define LEADFLOW_PIPELINE_INT_H

#include "postgres.h"

#include "access/htup.h"
#include "commands/trigger.h"

#include "lead.h"
#include "text.h"

/* the columns LeadflowPipelineCheckReferences tests, in the order of its check[] */
#define NREFERENCES 5

extern int64 LeadflowPipelineCountedOwner(const LeadflowLead *lead);
extern void LeadflowPipelineJsonOwner(LeadflowJson *detail, const char *key, const LeadflowLead *lead);
extern void LeadflowPipelineCheckReferences(const LeadflowLead *lead, const bool *check);
extern void LeadflowPipelineRefuseNullKeys(const LeadflowLead *lead);
extern HeapTuple LeadflowPipelineUpdate(TriggerData *td);
extern void LeadflowPipelineTouchSurvivor(Relation rel, LeadflowLead *lead, int64 survivor_id,
										  const char *reason);

#endif							/* LEADFLOW_PIPELINE_INT_H */
