/*-------------------------------------------------------------------------
 *
 * journey_event.c
 *	  Journey events built as jsonb, and the one "created" row of a lead
 *	  being inserted that the events of its stages join.
 *
 *	  An insert journals one row: the pipeline begins the lead's created
 *	  row, each stage that acts adds its event (normalized, enriched,
 *	  scored, escalated, routed, merged) as a member named after it, and the
 *	  pipeline appends the row at the end, hashed once.  The same events of
 *	  an existing lead (a rescore, a reroute) are rows of their own.  A
 *	  detail is built directly as jsonb (text.c's builder in jsonb mode),
 *	  never written as text and parsed back.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "journey.h"
#include "request.h"
#include "text.h"


/*
 * LeadflowJourneyJoinCreation
 *		The created row an event of kind for the lead joins, or NULL: the
 *		lead is being inserted, no event is being added to it, and it has no
 *		member kind yet (a second event of a kind gets a row of its own: one
 *		member per key).  Records the kind.
 */
LeadflowJourneyCreation *
LeadflowJourneyJoinCreation(int64 org_id, int64 lead_id, const char *kind)
{
	LeadflowJourneyCreation *c = LeadflowCurrentRequest()->creation;
	int			i;

	if (c == NULL || !c->open || c->building || c->org_id != org_id || c->lead_id != lead_id ||
		c->nkinds == LEADFLOW_CREATION_KINDS)
		return NULL;
	for (i = 0; i < c->nkinds; i++)
		if (strcmp(c->kinds[i], kind) == 0)
			return NULL;
	c->kinds[c->nkinds++] = MemoryContextStrdup(c->json.cxt, kind);
	return c;
}

/*
 * LeadflowJourneyBegin
 *		Begins an event of the lead; returns the builder of its detail
 *		(jsonb; the detail is built in the current memory context, or as a
 *		member of the lead's created row).  End it with LeadflowJourneyEnd
 *		before beginning another.
 */
LeadflowJson *
LeadflowJourneyBegin(LeadflowJourneyEvent *ev, int64 org_id, int64 lead_id, const char *kind)
{
	LeadflowJourneyCreation *c = LeadflowJourneyJoinCreation(org_id, lead_id, kind);

	ev->org_id = org_id;
	ev->lead_id = lead_id;
	ev->kind = kind;
	ev->folded = c != NULL;
	if (c != NULL)
	{
		c->building = true;
		LeadflowJsonBeginIn(&ev->json, &c->json, kind);
	}
	else
		LeadflowJsonBeginJsonb(&ev->json);
	return &ev->json;
}

/*
 * LeadflowJourneyEnd
 *		Appends the event begun with LeadflowJourneyBegin (see
 *		LeadflowJourneyAppend); returns its seq.
 */
int32
LeadflowJourneyEnd(LeadflowJourneyEvent *ev)
{
	if (ev->folded)
	{
		(void) LeadflowJsonFinishJsonb(&ev->json);
		LeadflowCurrentRequest()->creation->building = false;
		return 1;
	}
	return LeadflowJourneyAppendJson(ev->org_id, ev->lead_id, ev->kind, &ev->json);
}

/*
 * LeadflowJourneyCreationBegin
 *		Begins the created row of a lead the pipeline inserts (the lead has
 *		no row yet); returns the builder of its own members.  The request
 *		in force must carry c (request.h) for the stages' events to join
 *		it.  Built in the current memory context.
 */
LeadflowJson *
LeadflowJourneyCreationBegin(LeadflowJourneyCreation *c, int64 org_id, int64 lead_id)
{
	LeadflowJourneyStartChain(org_id, lead_id);
	c->org_id = org_id;
	c->lead_id = lead_id;
	c->nkinds = 0;
	c->building = false;
	LeadflowJsonBeginJsonb(&c->json);
	c->open = true;
	return &c->json;
}

/*
 * LeadflowJourneyCreationEnd
 *		Appends the created row, with every event that joined it, hashed
 *		once; returns its seq (1).
 */
int32
LeadflowJourneyCreationEnd(LeadflowJourneyCreation *c)
{
	Assert(c->open && !c->building);
	c->open = false;
	return LeadflowJourneyAppendJson(c->org_id, c->lead_id, "created", &c->json);
}
