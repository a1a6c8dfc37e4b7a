/*-------------------------------------------------------------------------
 *
 * notify.c
 *	  The event outbox: leadflow.events rows written in the transaction
 *	  that caused them, and NOTIFY leadflow as a wake-up on commit.
 *
 *	  An event is numbered (event_id, from the table's identity sequence)
 *	  when it happens and waits in a transaction buffer (txbuf.h); waiting
 *	  rows are written below the executor, in batches, by
 *	  LeadflowEventsFlush (at the end of every statement on leads, every
 *	  EVENTS_BATCH rows, and before the transaction commits or prepares),
 *	  so a bulk load keeps flat memory.
 *	  Each row carries the top-level transaction id of its writer:
 *	  events_after() returns only events of transactions older than every
 *	  transaction still running, in (xact_id, event_id) order, so a
 *	  consumer's cursor never passes an event that commits later.
 *
 *	  The wake-up NOTIFY is queued at pre-commit only: a transaction that
 *	  is prepared (two-phase commit) has not executed NOTIFY, so PREPARE
 *	  TRANSACTION works; its events wake consumers at their next poll.
 *	  Events and wake-ups are subtransaction-exact: what a rolled-back
 *	  subtransaction emitted is forgotten with it, and nothing else.
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
#include "txbuf.h"

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
} PendingEvent;

/* a wake-up: the event's id, or (event "bulk") the rest past notify_limit */
typedef struct WakeUp
{
	int64		org_id;
	int64		event_id;		/* 0: none (bulk, or no outbox yet) */
	int64		lead_id;
	int64		rep_id;
	const char *event;
} WakeUp;

static void keep_event(void *row, MemoryContext cxt);
static void events_discard(void);

/*
 * Both are transaction buffers (txbuf.h): a subtransaction that aborts
 * takes its own events and wake-ups with it, and outer events it wrote
 * come back to be written again.  txbuf writes the events before commit
 * or PREPARE; the wake-ups are never "written" by txbuf: they are sent as
 * NOTIFY at pre-commit by events_xact_callback.
 */
static TxbufLog events_log = TXBUF_LOG("leadflow pending events", PendingEvent, keep_event);
static TxbufLog wakeup_log = TXBUF_LOG("leadflow event wake-ups", WakeUp, NULL);
static const TxbufClient events_client = {
	"events", LeadflowEventsFlush, events_discard, NULL
};
static Oid	events_seq = InvalidOid;	/* the event_id sequence, per transaction */
static bool events_missing = false; /* no leadflow.events yet (0.1.0 schema) */
static bool callback_registered = false;

static void send_wakeups(void);

/* Copies what a waiting event points to into cxt (txbuf's keep). */
static void
keep_event(void *row, MemoryContext cxt)
{
	PendingEvent *e = row;
	Jsonb	   *detail = MemoryContextAlloc(cxt, VARSIZE(e->detail));

	memcpy(detail, e->detail, VARSIZE(e->detail));
	e->detail = detail;
}

/* The transaction ended (txbuf calls it): the sequence is looked up again. */
static void
events_discard(void)
{
	events_seq = InvalidOid;
	events_missing = false;
}

/*
 * At pre-commit the wake-ups go out as NOTIFY; a transaction being
 * prepared sends none (PREPARE refuses a transaction that executed
 * NOTIFY), its events wake consumers at their next poll.
 */
static void
events_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_PRE_COMMIT)
		send_wakeups();
}

static void
ensure_registered(void)
{
	TxbufRegister(&events_client);
	if (!callback_registered)
	{
		RegisterXactCallback(events_xact_callback, NULL);
		callback_registered = true;
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

/*
 * Queues the wake-up of one event; past leadflow.notify_limit one "bulk"
 * wake-up stands for the rest (PostgreSQL holds pending notifications in
 * memory until commit).
 */
static void
queue_wakeup(int64 org_id, int64 event_id, const char *event, int64 lead_id, int64 rep_id)
{
	WakeUp	   *w;
	int			n;

	if (!leadflow_notify)
		return;
	TxbufLogRows(&wakeup_log, &n);
	if (n > leadflow_notify_limit)
		return;					/* the bulk one is queued */
	w = TxbufLogAppend(&wakeup_log);
	w->org_id = org_id;
	if (n == leadflow_notify_limit)
	{
		w->event = "bulk";
		return;
	}
	w->event_id = event_id;
	w->lead_id = lead_id;
	w->rep_id = rep_id;
	w->event = event;
}

/*
 * NOTIFY leadflow '{"event", "event_id", "org_id", "lead_id", "rep_id"}'
 * for each wake-up ('{"event": "bulk", "org_id"}' for the rest past the
 * limit).  Called at pre-commit, before PostgreSQL moves notifications to
 * the queue.
 */
static void
send_wakeups(void)
{
	int			n;
	WakeUp	   *w = TxbufLogRows(&wakeup_log, &n);
	int			i;

	for (i = 0; i < n; i++)
	{
		LeadflowJson payload;

		LeadflowJsonBegin(&payload);
		LeadflowJsonText(&payload, "event", w[i].event);
		if (strcmp(w[i].event, "bulk") != 0)
		{
			if (w[i].event_id != 0)
				LeadflowJsonInt(&payload, "event_id", w[i].event_id);
			else
				LeadflowJsonNull(&payload, "event_id");
		}
		LeadflowJsonInt(&payload, "org_id", w[i].org_id);
		if (w[i].lead_id != 0)
			LeadflowJsonInt(&payload, "lead_id", w[i].lead_id);
		else
			LeadflowJsonNull(&payload, "lead_id");
		if (w[i].rep_id != 0)
			LeadflowJsonInt(&payload, "rep_id", w[i].rep_id);
		else
			LeadflowJsonNull(&payload, "rep_id");
		Async_Notify("leadflow", LeadflowJsonFinish(&payload));
	}
}

/*
 * Records an event whose detail is parse(arg): the text of a JSON object
 * (jsonb_in) or a jsonb builder (finished), in the events' memory.
 */
static int64
record_event(int64 org_id, const char *event, int64 lead_id, int64 rep_id,
			 const char *detail_json, LeadflowJson *detail)
{
	PendingEvent *e;
	MemoryContext old;
	Oid			seq;
	int64		event_id;
	int			n;

	ensure_registered();
	seq = event_id_sequence();
	if (!OidIsValid(seq))
	{
		queue_wakeup(org_id, 0, event, lead_id, rep_id);
		return 0;
	}

	old = MemoryContextSwitchTo(TxbufLogMemory(&events_log));
	event_id = nextval_internal(seq, false);
	e = TxbufLogAppend(&events_log);
	e->org_id = org_id;
	e->event_id = event_id;
	e->lead_id = lead_id;
	e->rep_id = rep_id;
	e->occurred_at = GetCurrentTransactionStartTimestamp();
	e->event = event;
	if (detail != NULL)
		e->detail = LeadflowJsonFinishJsonb(detail);	/* made in this context */
	else
		e->detail = DatumGetJsonbP(DirectFunctionCall1(jsonb_in,
													   CStringGetDatum(detail_json ? detail_json : "{}")));
	MemoryContextSwitchTo(old);

	queue_wakeup(org_id, event_id, event, lead_id, rep_id);
	TxbufLogRows(&events_log, &n);
	if (n >= EVENTS_BATCH)
		LeadflowEventsFlush();
	return event_id;
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
	return record_event(org_id, event, lead_id, rep_id, detail_json, NULL);
}

/*
 * LeadflowEventJson
 *		LeadflowEvent with the detail built as jsonb (LeadflowJsonBeginJsonb,
 *		finished here), not written as text and parsed back: for events
 *		recorded once per row of a bulk load (a duplicate's merge).
 */
int64
LeadflowEventJson(int64 org_id, const char *event, int64 lead_id, int64 rep_id,
				  LeadflowJson *detail)
{
	return record_event(org_id, event, lead_id, rep_id, NULL, detail);
}

/*
 * Writes n events below the executor, as the journey writes its rows: one
 * heap multi-insert, then the index entries.  leadflow alone writes this
 * table, so no trigger, rule or policy of it is consulted; NOT NULL and
 * CHECK constraints still are.
 */
static void
write_run(PendingEvent *rows, int n)
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

	LeadflowDirectOpen(&d, "events", rows[0].org_id, false);
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
 *		Writes the events waiting in this backend: at the end of every
 *		statement on leads and before commit or prepare (txbuf calls it, as
 *		it writes the journey's rows), and when a batch is full.
 */
void
LeadflowEventsFlush(void)
{
	int			n;
	PendingEvent *rows = TxbufLogRows(&events_log, &n);
	int			done;
	int			len;

	if (n == 0)
		return;
	for (done = 0; done < n; done += len)
	{
		/* one relation at a time (under Citus: one shard at a time) */
		len = LeadflowDirectRunLength("events", rows + done, sizeof(PendingEvent),
									  offsetof(PendingEvent, org_id), n - done);
		write_run(rows + done, len);
	}
	/* an error above aborts the (sub)transaction, and txbuf sorts the rows */
	TxbufLogWritten(&events_log);
}
