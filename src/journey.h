/*-------------------------------------------------------------------------
 *
 * journey.h
 *	  The journey (journey.c): append-only, hash-chained history of each
 *	  lead, buffered per statement and written below the executor; events
 *	  built as jsonb and an inserted lead's one created row (journey_event.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_JOURNEY_H
#define LEADFLOW_JOURNEY_H

#include "postgres.h"

#include "utils/jsonb.h"

#include "journey_hash.h"
#include "text.h"


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
/*
 * An event built as jsonb: Begin returns the builder of its detail, End
 * appends it and returns its seq.  While the lead is being inserted, the
 * event is a member (key: its kind) of the lead's one "created" row
 * instead of a row of its own.
 */
typedef struct LeadflowJourneyEvent
{
	LeadflowJson json;
	int64		org_id;
	int64		lead_id;
	const char *kind;
	bool		folded;			/* a member of the lead's created row */
} LeadflowJourneyEvent;

extern LeadflowJson *LeadflowJourneyBegin(LeadflowJourneyEvent *ev, int64 org_id, int64 lead_id,
										  const char *kind);
extern int32 LeadflowJourneyEnd(LeadflowJourneyEvent *ev);

/*
 * The created row of a lead being inserted: the pipeline begins it, the
 * request carries it (request.h), each stage's event joins it as a member,
 * the pipeline ends it (one row, hashed once).
 */
#define LEADFLOW_CREATION_KINDS 16

typedef struct LeadflowJourneyCreation
{
	LeadflowJson json;
	int64		org_id;
	int64		lead_id;
	bool		open;			/* begun, not yet ended */
	bool		building;		/* an event is being added */
	int			nkinds;
	const char *kinds[LEADFLOW_CREATION_KINDS];	/* the members added */
} LeadflowJourneyCreation;

extern LeadflowJson *LeadflowJourneyCreationBegin(LeadflowJourneyCreation *c, int64 org_id,
												  int64 lead_id);
extern int32 LeadflowJourneyCreationEnd(LeadflowJourneyCreation *c);
extern LeadflowJourneyCreation *LeadflowJourneyJoinCreation(int64 org_id, int64 lead_id,
															 const char *kind);
extern int32 LeadflowJourneyAppendJson(int64 org_id, int64 lead_id, const char *kind,
									   LeadflowJson *detail);

extern const char *LeadflowActor(void);
extern void LeadflowJourneyFlush(void);
extern void LeadflowJourneyHold(void);
extern void LeadflowJourneyRelease(void);
#define LEADFLOW_JOURNEY_PREFETCH_MAX 4096
extern void LeadflowJourneyPrefetch(const int64 *org_ids, const int64 *lead_ids, int n);

#endif							/* LEADFLOW_JOURNEY_H */
