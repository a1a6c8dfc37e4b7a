/*-------------------------------------------------------------------------
 *
 * journey_head.h
 *	  Chain heads of the journey read from lead_journey (journey_head.c),
 *	  for journey.c's head cache.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_JOURNEY_HEAD_H
#define LEADFLOW_JOURNEY_HEAD_H

#include "postgres.h"

#include "journey_hash.h"

typedef struct LeadflowJourneyKey
{
	int64		org_id;
	int64		lead_id;
} LeadflowJourneyKey;

/* the last row of a lead's chain */
typedef struct LeadflowJourneyHead
{
	LeadflowJourneyKey key;
	int32		seq;			/* 0: no row yet */
	uint8		hash[LEADFLOW_HASH_LEN];
} LeadflowJourneyHead;

/* a lead whose head is read into *head */
typedef struct LeadflowHeadRead
{
	int64		org_id;
	int64		lead_id;
	LeadflowJourneyHead *head;
} LeadflowHeadRead;

extern void LeadflowJourneyReadHeads(LeadflowHeadRead *reads, int n);

#endif							/* LEADFLOW_JOURNEY_HEAD_H */
