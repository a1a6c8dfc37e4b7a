/*-------------------------------------------------------------------------
 *
 * journey.h
 *	  The journey (journey.c): append-only, hash-chained history of each
 *	  lead, buffered per statement and written below the executor.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_JOURNEY_H
#define LEADFLOW_JOURNEY_H

#include "postgres.h"

#include "utils/jsonb.h"

#include "journey_hash.h"


extern void LeadflowJourneyStartChain(int64 org_id, int64 lead_id);
extern int32 LeadflowJourneyAppend(int64 org_id, int64 lead_id, const char *kind,
								   const char *detail_json);

/* a detail parsed once, for many rows that carry the same one */
typedef struct LeadflowJourneyDetail
{
	Jsonb	   *jsonb;
	char	   *canonical;		/* its text form, which the hash covers */
} LeadflowJourneyDetail;

extern void LeadflowJourneyParseDetail(LeadflowJourneyDetail *detail, const char *detail_json);
extern int32 LeadflowJourneyAppendDetail(int64 org_id, int64 lead_id, const char *kind,
										 const LeadflowJourneyDetail *detail);
extern const char *LeadflowActor(void);
extern void LeadflowJourneyFlush(void);
extern void LeadflowJourneyHold(void);
extern void LeadflowJourneyRelease(void);
#define LEADFLOW_JOURNEY_PREFETCH_MAX 4096
extern void LeadflowJourneyPrefetch(const int64 *org_ids, const int64 *lead_ids, int n);

#endif							/* LEADFLOW_JOURNEY_H */
