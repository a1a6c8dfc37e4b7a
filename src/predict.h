/*-------------------------------------------------------------------------
 *
 * predict.h
 *	  Predictive scoring (predict.c): the conversion model and its counts.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_PREDICT_H
#define LEADFLOW_PREDICT_H

#include "postgres.h"

#include "lead.h"

extern void LeadflowPredictLead(const LeadflowLead *old, LeadflowLead *lead);
extern void LeadflowPredictFlush(void);

#endif							/* LEADFLOW_PREDICT_H */
