/*-------------------------------------------------------------------------
 *
 * workflow.h
 *	  The workflow stage (workflow.c): status and stage moves.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_WORKFLOW_H
#define LEADFLOW_WORKFLOW_H

#include "postgres.h"

#include "lead.h"

extern void LeadflowWorkflowUpdate(const LeadflowLead *old, LeadflowLead *lead);

#endif							/* LEADFLOW_WORKFLOW_H */
