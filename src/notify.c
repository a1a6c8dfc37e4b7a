/*-------------------------------------------------------------------------
 *
 * notify.c
 *	  The event outbox: leadflow.events rows written in the transaction
 *	  that caused them, and NOTIFY leadflow as a wake-up on commit.
 *
 *	  An event is numbered (event_id, from the table's identity sequence)
 *	  when it happens and waits in this backend; waiting rows are written
 *	  below the executor, in batches, by LeadflowEventsFlush (at the end of
 *	  every statement on leads, every EVENTS_BATCH rows, and before the
 *	  transaction commits or prepares), so a bulk load keeps flat memory.
 *	  Each row carries the top-level transaction id of its writer:
 *	  events_after() returns only events of transactions older than every
 *	  transaction still running, in (xact_id, event_id) order, so a
 *	  consumer's cursor never passes an event that commits later.
 *
 *	  The wake-up NOTIFY is queued at pre-commit only: a transaction that
 *	  is prepared (two-phase commit) has not executed NOTIFY, so PREPARE
 *	  TRANSACTION works; its events wake consumers at their next poll.
 *	  Both buffers are subtransaction-exact: what a rolled-back
 *	  subtransaction emitted is forgotten with it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "commands/async.h"
#include "commands/sequence.h"
#include "parser/parse_relation.h"
#include "executor/executor.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/xid8.h"

#include "compat.h"
#include "leadflow.h"
#include "notify.h"
#include "spi.h"
#include "text.h"

/* rows written per heap multi-insert */
#define EVENTS_BATCH 1000

typedef struct PendingEvent
{
	int64		org_id;
	int64		event_id;
	int64		lead_id;		/* 0: none */
	int64		rep_id;			/* 0: none */
	TimestampTz occurred_at;
	const char *event;			/* a literal of the catalogue */
	Jsonb	   *detail;
	SubTransactionId subid;
} PendingEvent;

typedef struct WakeUp
{
	int64		org_id;
	int64		event_id;
	int64		lead_id;
	int64		rep_id;
	const char *event;
	SubTransactionId subid;
} WakeUp;

static MemoryContext events_cxt = NULL;	/* pending rows, reset per flush */
static MemoryContext wake_cxt = NULL;	/* wake-ups, reset per transaction */
static PendingEvent *pending = NULL;
static int	npending = 0;
static WakeUp *wakeups = NULL;
static int	nwakeups = 0;
static int	wakeups_size = 0;
static int64 bulk_org = 0;		/* past notify_limit: one "bulk" wake-up */
static SubTransactionId bulk_subid = InvalidSubTransactionId;
static Oid	events_seq = InvalidOid;	/* the event_id sequence, per transaction */
static bool events_missing = false; /* no leadflow.events yet (0.1.0 schema) */
static bool callbacks_registered = false;

static void send_wakeups(void);

static void
forget_transaction(void)
{
	npending = 0;
	pending = NULL;
	if (events_cxt != NULL)
		MemoryContextReset(events_cxt);
	nwakeups = 0;
	wakeups_size = 0;
	wakeups = NULL;
	if (wake_cxt != NULL)
		MemoryContextReset(wake_cxt);
	bulk_org = 0;
	bulk_subid = InvalidSubTransactionId;
	events_seq = InvalidOid;
	events_missing = false;
}

/*
 * Before commit and before prepare every waiting row is written; the
 * wake-ups are queued as NOTIFY for an ordinary commit only (PREPARE
 * refuses a transaction that executed NOTIFY).
 */
static void
events_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			LeadflowEventsFlush();
			send_wakeups();
			break;
		case XACT_EVENT_PRE_PREPARE:
			LeadflowEventsFlush();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			forget_transaction();
			break;
		default:
			break;
	}
}

/*
 * A subtransaction that rolls back takes its events and wake-ups along:
 * they are the last entries, those of it and of its children (their ids
 * are higher than its own).
 */
static void
events_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						SubTransactionId parentSubid, void *arg)
{
	if (event != SUBXACT_EVENT_ABORT_SUB)
		return;
	while (npending > 0 && pending[npending - 1].subid >= mySubid)
		npending--;
	while (nwakeups > 0 && wakeups[nwakeups - 1].subid >= mySubid)
		nwakeups--;
	if (bulk_org != 0 && bulk_subid >= mySubid)
	{
		bulk_org = 0;
		bulk_subid = InvalidSubTransactionId;
	}
}

static void
ensure_state(void)
{
	if (!callbacks_registered)
	{
		RegisterXactCallback(events_xact_callback, NULL);
		RegisterSubXactCallback(events_subxact_callback, NULL);
		callbacks_registered = true;
	}
	if (events_cxt == NULL)
	{
		events_cxt = AllocSetContextCreate(TopMemoryContext, "leadflow pending events",
										   ALLOCSET_DEFAULT_SIZES);
		wake_cxt = AllocSetContextCreate(TopMemoryContext, "leadflow event wake-ups",
										 ALLOCSET_SMALL_SIZES);
	}
}

/*
 * The identity sequence of leadflow.events.event_id, looked up once per
 * transaction; InvalidOid while the schema is 0.1.0's (the module was
 * installed, ALTER EXTENSION UPDATE has not run yet): the outbox starts
 * with the update, the wake-ups go out without an event id until then.
 */
static Oid
event_id_sequence(void)
{
	if (!OidIsValid(events_seq) && !events_missing)
	{
		Oid			relid = get_relname_relid("events", get_namespace_oid("leadflow", false));
		Relation	rel;

		if (!OidIsValid(relid))
		{
			events_missing = true;
			return InvalidOid;
		}
		rel = table_open(relid, RowExclusiveLock);
		events_seq = LeadflowIdentitySequence(rel, attnameAttNum(rel, "event_id", false));
		table_close(rel, NoLock);
	}
	return events_seq;
}

/* Queues the wake-up of one event, or counts it into the "bulk" one. */
static void
queue_wakeup(const PendingEvent *e)
{
	WakeUp	   *w;

	if (nwakeups >= leadflow_notify_limit)
	{
		if (bulk_org == 0)
		{
			bulk_org = e->org_id;
			bulk_subid = e->subid;
		}
		return;
	}
	if (nwakeups >= wakeups_size)
	{
		int			size = Max(64, wakeups_size * 2);

		if (wakeups == NULL)
			wakeups = MemoryContextAlloc(wake_cxt, sizeof(WakeUp) * size);
		else
			wakeups = repalloc(wakeups, sizeof(WakeUp) * size);
		wakeups_size = size;
	}
	w = &wakeups[nwakeups++];
	w->org_id = e->org_id;
	w->event_id = e->event_id;
	w->lead_id = e->lead_id;
	w->rep_id = e->rep_id;
	w->event = e->event;
	w->subid = e->subid;
}

/*
 * NOTIFY leadflow '{"event", "event_id", "org_id", "lead_id", "rep_id"}'
 * for each wake-up, then one '{"event": "bulk", "org_id"}' for the rest
 * past leadflow.notify_limit (PostgreSQL holds pending notifications in
 * memory until commit).  Called at pre-commit, before PostgreSQL moves
 * them to the queue.
 */
static void
send_wakeups(void)
{
	int			i;

	for (i = 0; i < nwakeups; i++)
	{
		WakeUp	   *w = &wakeups[i];
		LeadflowJson payload;

		LeadflowJsonBegin(&payload);
		LeadflowJsonText(&payload, "event", w->event);
		if (w->event_id != 0)
			LeadflowJsonInt(&payload, "event_id", w->event_id);
		else
			LeadflowJsonNull(&payload, "event_id");
		LeadflowJsonInt(&payload, "org_id", w->org_id);
		if (w->lead_id != 0)
			LeadflowJsonInt(&payload, "lead_id", w->lead_id);
		else
			LeadflowJsonNull(&payload, "lead_id");
		if (w->rep_id != 0)
			LeadflowJsonInt(&payload, "rep_id", w->rep_id);
		else
			LeadflowJsonNull(&payload, "rep_id");
		Async_Notify("leadflow", LeadflowJsonFinish(&payload));
	}
	if (bulk_org != 0)
	{
		LeadflowJson payload;

		LeadflowJsonBegin(&payload);
		LeadflowJsonText(&payload, "event", "bulk");
		LeadflowJsonInt(&payload, "org_id", bulk_org);
		LeadflowJsonNull(&payload, "lead_id");
		LeadflowJsonNull(&payload, "rep_id");
		Async_Notify("leadflow", LeadflowJsonFinish(&payload));
	}
	nwakeups = 0;
	bulk_org = 0;
}

/*
 * LeadflowEvent
 *		Records one event of org: written to leadflow.events in this
 *		transaction, announced by a wake-up on commit.  lead_id and rep_id
 *		0 are null; detail_json (NULL: {}) is a JSON object of ids and codes,
 *		never personal data, built with the JSON builder of text.h.  event
 *		must be a string literal (the catalogue in the README).  Returns
 *		the event's id (0 before ALTER EXTENSION UPDATE created the table).
 */
int64
LeadflowEvent(int64 org_id, const char *event, int64 lead_id, int64 rep_id,
			  const char *detail_json)
{
	PendingEvent *e;
	MemoryContext old;
	Oid			seq;

	ensure_state();
	seq = event_id_sequence();
	if (!OidIsValid(seq))
	{
		PendingEvent wake = {org_id, 0, lead_id, rep_id, 0, event, NULL, GetCurrentSubTransactionId()};

		old = MemoryContextSwitchTo(wake_cxt);
		queue_wakeup(&wake);
		MemoryContextSwitchTo(old);
		return 0;
	}
	if (npending >= EVENTS_BATCH)
		LeadflowEventsFlush();

	old = MemoryContextSwitchTo(events_cxt);
	if (pending == NULL)
		pending = palloc(sizeof(PendingEvent) * EVENTS_BATCH);
	e = &pending[npending];
	e->org_id = org_id;
	e->event_id = nextval_internal(seq, false);
	e->lead_id = lead_id;
	e->rep_id = rep_id;
	e->occurred_at = GetCurrentTransactionStartTimestamp();
	e->event = event;
	e->detail = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
												   CStringGetDatum(detail_json ? detail_json : "{}")));
	e->subid = GetCurrentSubTransactionId();
	MemoryContextSwitchTo(old);
	npending++;

	old = MemoryContextSwitchTo(wake_cxt);
	queue_wakeup(e);
	MemoryContextSwitchTo(old);
	return e->event_id;
}

/*
 * Writes n events below the executor, as the journey writes its rows: one
 * heap multi-insert, then the index entries.  leadflow alone writes this
 * table, so no trigger, rule or policy of it is consulted; NOT NULL and
 * CHECK constraints still are.
 */
static void
write_events(PendingEvent *rows, int n)
{
	LeadflowDirect d;
	Relation	rel;
	TupleDesc	desc;
	BulkInsertState bistate = GetBulkInsertState();
	TupleTableSlot **slots = palloc(sizeof(TupleTableSlot *) * n);
	Datum		xact_id = FullTransactionIdGetDatum(GetTopFullTransactionId());
	int			att[8];
	int			i;
	static const char *const names[8] = {
		"org_id", "event_id", "occurred_at", "event", "lead_id", "rep_id", "detail", "xact_id"
	};

	LeadflowDirectOpen(&d, "events", false);
	rel = d.rel;
	for (i = 0; i < 8; i++)
		att[i] = LeadflowDirectAttnum(&d, names[i]);
	desc = CreateTupleDescCopy(RelationGetDescr(rel));

	for (i = 0; i < n; i++)
	{
		PendingEvent *e = &rows[i];
		TupleTableSlot *slot = MakeSingleTupleTableSlot(desc, table_slot_callbacks(rel));
		Datum	   *v = slot->tts_values;
		bool	   *isnull = slot->tts_isnull;

		ExecClearTuple(slot);
		memset(isnull, true, sizeof(bool) * desc->natts);
#define SET(k, x) (v[att[k] - 1] = (x), isnull[att[k] - 1] = false)
		SET(0, Int64GetDatum(e->org_id));
		SET(1, Int64GetDatum(e->event_id));
		SET(2, TimestampTzGetDatum(e->occurred_at));
		SET(3, CStringGetTextDatum(e->event));
		if (e->lead_id != 0)
			SET(4, Int64GetDatum(e->lead_id));
		if (e->rep_id != 0)
			SET(5, Int64GetDatum(e->rep_id));
		SET(6, JsonbPGetDatum(e->detail));
		SET(7, xact_id);
#undef SET
		ExecStoreVirtualTuple(slot);
		if (rel->rd_att->constr)
			ExecConstraints(d.rri, slot, d.estate);
		slots[i] = slot;
	}

	table_multi_insert(rel, slots, n, GetCurrentCommandId(true), 0, bistate);
	for (i = 0; i < n; i++)
	{
		List	   *recheck;

		recheck = LeadflowInsertIndexTuples(d.rri, slots[i], d.estate, false, NULL);
		list_free(recheck);
		ResetPerTupleExprContext(d.estate);
		ExecDropSingleTupleTableSlot(slots[i]);
	}
	FreeBulkInsertState(bistate);
	LeadflowDirectClose(&d);
}

/*
 * LeadflowEventsFlush
 *		Writes the events waiting in this backend.  Called with the
 *		journey's flush (end of every statement on leads), when a batch is
 *		full, and before commit or prepare.
 */
void
LeadflowEventsFlush(void)
{
	int			n = npending;

	if (n == 0)
		return;
	npending = 0;				/* whatever happens, these rows are done */
	write_events(pending, n);
	MemoryContextReset(events_cxt);
	pending = NULL;
}
