/*-------------------------------------------------------------------------
 *
 * notify.c
 *	  NOTIFY leadflow: the events the pipeline and maintenance announce to
 *	  listeners, delivered on commit only.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/async.h"

#include "compat.h"
#include "leadflow.h"
#include "notify.h"
#include "text.h"

/*
 * LeadflowNotify
 *		NOTIFY leadflow '{"event": ..., "org_id": ..., "lead_id": ..., "rep_id": ...}';
 *		PostgreSQL delivers it on commit only.
 */
void
LeadflowNotify(const char *event, int64 org_id, int64 lead_id, int64 rep_id)
{
	static LocalTransactionId counted_in = InvalidLocalTransactionId;
	static int	sent = 0;
	LeadflowJson payload;

	/*
	 * PostgreSQL keeps every pending notification in memory until commit: a
	 * bulk load would hold one per lead.  Past leadflow.notify_limit in one
	 * transaction a single "bulk" notification stands for the rest.
	 */
	if (counted_in != LeadflowLocalXid())
	{
		counted_in = LeadflowLocalXid();
		sent = 0;
	}
	if (++sent > leadflow_notify_limit)
	{
		if (sent != leadflow_notify_limit + 1)
			return;
		event = "bulk";
		lead_id = rep_id = 0;
	}

	LeadflowJsonBegin(&payload);
	LeadflowJsonText(&payload, "event", event);
	LeadflowJsonInt(&payload, "org_id", org_id);
	if (lead_id != 0)
		LeadflowJsonInt(&payload, "lead_id", lead_id);
	else
		LeadflowJsonText(&payload, "lead_id", NULL);
	if (rep_id != 0)
		LeadflowJsonInt(&payload, "rep_id", rep_id);
	else
		LeadflowJsonText(&payload, "rep_id", NULL);
	Async_Notify("leadflow", LeadflowJsonFinish(&payload));
}

