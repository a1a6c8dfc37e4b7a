/*-------------------------------------------------------------------------
 *
 * journey.c
 *	  The lead journey: an append-only, hash-chained history per lead.
 *
 *	  Every row stores hash = SHA-256(prev_hash, content), where content is
 *	  the row's org, lead, seq, time, kind, actor and canonical jsonb
 *	  detail, each length-prefixed so that no two rows serialize alike.
 *	  leadflow.journey_hash() exposes the same function so verify_journey
 *	  can recompute every chain in SQL.
 *
 *	  Appenders must hold the lead: the row lock of the lead, or the lead
 *	  is being inserted by this transaction.  Under that rule the chain head
 *	  (last seq and hash) cannot change behind our back until commit, so we
 *	  cache it per transaction; the primary key (org_id, lead_id, seq)
 *	  still refuses a fork should a caller break the rule.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "journey.h"
#include "journey_head.h"
#include "leadflow.h"
#include "request.h"
#include "spi.h"
#include "text.h"
#include "txbuf.h"


/* entries beyond this are dropped and re-read from the table on demand */
#define JOURNEY_HEADS_MAX 8192

static HTAB *journey_heads = NULL;

/*
 * Rows appended inside the lead pipeline wait in a transaction buffer
 * (txbuf.h) and are written by one heap multi-insert per statement (or per
 * 1000 rows, see write_rows): one relation open and one batch of pages for
 * many rows instead of one each.  A subtransaction that aborts takes its
 * own rows with it and no others.
 */
#define JOURNEY_BATCH 1000

typedef struct PendingRow
{
	int64		org_id;
	int64		lead_id;
	int32		seq;
	TimestampTz occurred_at;
	char	   *kind;
	char	   *actor;
	Jsonb	   *detail;
	bool		has_prev;
	uint8		prev[LEADFLOW_HASH_LEN];
	uint8		hash[LEADFLOW_HASH_LEN];
} PendingRow;

static void keep_row(void *row, MemoryContext cxt);
static int	row_order(const void *a, const void *b);
static void journey_discard(void);
static void journey_subabort(int level);

static TxbufLog journey_log = TXBUF_LOG("leadflow pending journey rows", PendingRow, keep_row);
static const TxbufClient journey_client = {
	"journey", LeadflowJourneyFlush, journey_discard, journey_subabort
};
static int	hold_depth = 0;		/* LeadflowJourneyHold outside the pipeline */
static int	journey_level = 0;	/* deepest level that used heads or wrote */

/*
 * keep_row
 *		Copies what a waiting row points to into cxt: txbuf calls it for
 *		rows of an outer level written inside a subtransaction, and again
 *		when its abort gives them back.
 */
static void
keep_row(void *row, MemoryContext cxt)
{
	PendingRow *r = row;
	Jsonb	   *detail = MemoryContextAlloc(cxt, VARSIZE(r->detail));

	memcpy(detail, r->detail, VARSIZE(r->detail));
	r->detail = detail;
	r->kind = MemoryContextStrdup(cxt, r->kind);
	r->actor = MemoryContextStrdup(cxt, r->actor);
}

/*
 * journey_discard
 *		The transaction ended (txbuf calls it): the head cache went with
 *		TopTransactionContext.
 */
static void
journey_discard(void)
{
	journey_heads = NULL;
	hold_depth = 0;
	journey_level = 0;
}

/*
 * journey_subabort
 *		The subtransaction at level aborted (txbuf calls it, after dropping
 *		its rows and giving back the outer rows it wrote).  If it used the
 *		journey, heads it cached may count rows that are gone, or rest on
 *		lead locks it released: the cache is rebuilt on next use from the
 *		rows still waiting (heads_table).  A subtransaction that never
 *		touched the journey (a function catching an error, row after row)
 *		costs nothing here.
 */
static void
journey_subabort(int level)
{
	if (journey_level < level)
		return;
	if (journey_heads != NULL)
		hash_destroy(journey_heads);
	journey_heads = NULL;
	journey_level = level - 1;
}

/* Drops the head cache; rows still waiting count on their heads: written first. */
static void
forget_heads(void)
{
	LeadflowJourneyFlush();
	hash_destroy(journey_heads);
	journey_heads = NULL;
}

/*
 * The head cache, in TopTransactionContext.  A new one starts from the
 * rows still waiting (after a subtransaction abort, the chains they end
 * are newer than the table); other heads are read from the table.
 */
static HTAB *
heads_table(void)
{
	TxbufRegister(&journey_client);
	journey_level = Max(journey_level, GetCurrentTransactionNestLevel());
	if (journey_heads != NULL && hash_get_num_entries(journey_heads) >= JOURNEY_HEADS_MAX)
		forget_heads();
	if (journey_heads == NULL)
	{
		HASHCTL		ctl;
		PendingRow *rows;
		int			n;
		int			i;

		ctl.keysize = sizeof(LeadflowJourneyKey);
		ctl.entrysize = sizeof(LeadflowJourneyHead);
		ctl.hcxt = TopTransactionContext;
		journey_heads = hash_create("leadflow journey heads", 256, &ctl,
									HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		rows = TxbufLogRows(&journey_log, &n);
		for (i = 0; i < n; i++)
		{
			LeadflowJourneyKey	key = {rows[i].org_id, rows[i].lead_id};
			LeadflowJourneyHead *head = hash_search(journey_heads, &key, HASH_ENTER, NULL);

			head->seq = rows[i].seq;
			memcpy(head->hash, rows[i].hash, LEADFLOW_HASH_LEN);
		}
	}
	return journey_heads;
}

/*
 * LeadflowActor
 *		Who signs journey rows: leadflow.actor when set, else the session
 *		user.  Anyone may set leadflow.actor to any name (also
 *		"leadflow-pipeline"), so for a role other than a superuser the row
 *		records the role that acted too: "agent:lead-scoring via app".
 *		Result is palloc'd in the current context or static.
 */
const char *
LeadflowActor(void)
{
	if (leadflow_actor != NULL && leadflow_actor[0] != '\0')
	{
		if (superuser())
			return leadflow_actor;
		return psprintf("%s via %s", leadflow_actor, GetUserNameFromId(GetUserId(), false));
	}
	return GetUserNameFromId(GetSessionUserId(), false);
}

/*
 * LeadflowJourneyStartChain
 *		Tells the journey that lead has no rows yet: the pipeline calls it
 *		for a lead it is inserting, which saves a lookup per new lead.
 */
void
LeadflowJourneyStartChain(int64 org_id, int64 lead_id)
{
	LeadflowJourneyKey	key = {org_id, lead_id};
	LeadflowJourneyHead *head;

	head = hash_search(heads_table(), &key, HASH_ENTER, NULL);
	head->seq = 0;
}

/* Finds the chain head, reading it from the table on a cache miss. */
static LeadflowJourneyHead *
chain_head(int64 org_id, int64 lead_id)
{
	LeadflowJourneyKey	key = {org_id, lead_id};
	LeadflowJourneyHead *head;
	bool		found;

	head = hash_search(heads_table(), &key, HASH_ENTER, &found);
	if (!found)
	{
		LeadflowHeadRead read = {org_id, lead_id, head};

		LeadflowJourneyReadHeads(&read, 1);
	}
	return head;
}


/*
 * Writes n rows into leadflow.lead_journey below the executor, the way COPY
 * does: one heap multi-insert, then the index entries.  An INSERT through
 * SPI would pay an executor start-up, a plan and a jsonb[] round trip per
 * batch; this pays for the rows only.  NOT NULL and CHECK constraints are
 * still checked (their expressions prepared once per batch) and the unique
 * key still refuses a fork.  Journey rows are written by leadflow alone, so
 * no INSERT trigger, rule or policy of lead_journey is consulted; the lead
 * a row belongs to passed those of leads.
 */
static void
write_run(PendingRow **rows, int n)
{
	LeadflowDirect d;
	Relation	rel;
	TupleDesc	desc;
	EState	   *estate;
	ResultRelInfo *rri;
	BulkInsertState bistate = GetBulkInsertState();
	TupleTableSlot **slots = palloc(sizeof(TupleTableSlot *) * n);
	Oid			step_seq;
	int			att[10];
	int			i;
	static const char *const names[10] = {
		"org_id", "lead_id", "seq", "step_id", "occurred_at", "kind", "actor",
		"detail", "prev_hash", "hash"
	};

	LeadflowDirectOpen(&d, "lead_journey", rows[0]->org_id, false);
	rel = d.rel;
	desc = RelationGetDescr(rel);
	estate = d.estate;
	rri = d.rri;
	for (i = 0; i < 10; i++)
		att[i] = LeadflowDirectAttnum(&d, names[i]);
	step_seq = LeadflowDirectSequence(&d, "step_id");
	/* an unpinned copy: a thousand slots would each pin the relcache's */
	desc = CreateTupleDescCopy(desc);

	for (i = 0; i < n; i++)
	{
		PendingRow *r = rows[i];
		TupleTableSlot *slot = MakeSingleTupleTableSlot(desc, table_slot_callbacks(rel));
		Datum	   *v = slot->tts_values;
		bool	   *isnull = slot->tts_isnull;

		ExecClearTuple(slot);
		memset(isnull, true, sizeof(bool) * desc->natts);
#define SET(k, d) (v[att[k] - 1] = (d), isnull[att[k] - 1] = false)
		SET(0, Int64GetDatum(r->org_id));
		SET(1, Int64GetDatum(r->lead_id));
		SET(2, Int32GetDatum(r->seq));
		SET(3, Int64GetDatum(nextval_internal(step_seq, false)));
		SET(4, TimestampTzGetDatum(r->occurred_at));
		SET(5, CStringGetTextDatum(r->kind));
		SET(6, CStringGetTextDatum(r->actor));
		SET(7, JsonbPGetDatum(r->detail));
		if (r->has_prev)
			SET(8, PointerGetDatum(LeadflowHashToBytea(r->prev)));
		SET(9, PointerGetDatum(LeadflowHashToBytea(r->hash)));
#undef SET
		ExecStoreVirtualTuple(slot);
		if (rel->rd_att->constr)
			ExecConstraints(rri, slot, estate);
		slots[i] = slot;
	}

	table_multi_insert(rel, slots, n, GetCurrentCommandId(true), 0, bistate);
	for (i = 0; i < n; i++)
	{
		List	   *recheck;

		recheck = LeadflowInsertIndexTuples(rri, slots[i], estate, false, NULL);
		list_free(recheck);
		ResetPerTupleExprContext(estate);
		ExecDropSingleTupleTableSlot(slots[i]);
	}

	FreeBulkInsertState(bistate);
	LeadflowDirectClose(&d);
}

/* the rows, one relation at a time (under Citus: one shard at a time) */
static void
write_rows(PendingRow **rows, int n)
{
	int64	   *orgs = palloc(sizeof(int64) * n);
	int			done;
	int			len;

	for (done = 0; done < n; done++)
		orgs[done] = rows[done]->org_id;
	for (done = 0; done < n; done += len)
	{
		len = LeadflowDirectRunLength("lead_journey", orgs + done, sizeof(int64), 0, n - done);
		write_run(rows + done, len);
	}
	pfree(orgs);
}

/*
 * LeadflowJourneyFlush
 *		Writes the journey rows waiting in this backend.  Called at the end
 *		of every statement on leads, before the chain-head cache is
 *		dropped, and whenever 1000 rows wait.
 */
void
LeadflowJourneyFlush(void)
{
	int			n;
	PendingRow *rows = TxbufLogRows(&journey_log, &n);

	if (n == 0)
		return;
	journey_level = Max(journey_level, GetCurrentTransactionNestLevel());
	LeadflowFailpoint("journey");

	/*
	 * Under a transaction snapshot a concurrent appender's row can be
	 * invisible to us; the primary key refuses our fork.  Report that as the
	 * serialization failure it is, so applications retry.
	 */
	PG_TRY();
	{
		PendingRow **sorted = palloc(sizeof(PendingRow *) * n);
		int			i;

		/*
		 * In key order, so that the step ids a statement's rows get do not
		 * depend on the order its plan visited the leads (pointers sorted:
		 * the log keeps its order, which its subtransaction levels depend
		 * on, and a row is too big to move cheaply).
		 */
		for (i = 0; i < n; i++)
			sorted[i] = &rows[i];
		qsort(sorted, n, sizeof(PendingRow *), row_order);
		write_rows(sorted, n);
		pfree(sorted);
	}
	PG_CATCH();
	{
		if (geterrcode() == ERRCODE_UNIQUE_VIOLATION && IsolationUsesXactSnapshot())
		{
			FlushErrorState();
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to a concurrent journey append"),
					 errdetail("A lead got a journey row in another transaction."),
					 errhint("The transaction might succeed if retried.")));
		}
		PG_RE_THROW();
	}
	PG_END_TRY();
	/* an error above aborts the (sub)transaction, and txbuf sorts the rows */
	TxbufLogWritten(&journey_log);
}

/* qsort order of pointers to pending rows: org, lead, seq */
static int
row_order(const void *a, const void *b)
{
	const PendingRow *x = *(PendingRow *const *) a;
	const PendingRow *y = *(PendingRow *const *) b;

	if (x->org_id != y->org_id)
		return x->org_id < y->org_id ? -1 : 1;
	if (x->lead_id != y->lead_id)
		return x->lead_id < y->lead_id ? -1 : 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq ? 1 : 0);
}

/*
 * Appends one row to the chain whose head is given; detail lives in
 * TxbufLogMemory(&journey_log), canonical anywhere (the hash is computed
 * here).
 */
static int32
append_row(LeadflowJourneyHead *head, int64 org_id, int64 lead_id, const char *kind,
		   Jsonb *detail, const char *canonical)
{
	PendingRow *r;
	MemoryContext old;
	int			n;
	const char *actor = LeadflowActor();
	TimestampTz now = GetCurrentTransactionStartTimestamp();

	old = MemoryContextSwitchTo(TxbufLogMemory(&journey_log));
	r = TxbufLogAppend(&journey_log);
	r->org_id = org_id;
	r->lead_id = lead_id;
	r->seq = head->seq + 1;
	r->occurred_at = now;
	r->kind = pstrdup(kind);
	r->actor = pstrdup(actor);
	r->detail = detail;
	r->has_prev = head->seq > 0;
	if (r->has_prev)
		memcpy(r->prev, head->hash, LEADFLOW_HASH_LEN);
	LeadflowJourneyRowHash(r->has_prev ? r->prev : NULL, LEADFLOW_HASH_LEN, org_id, lead_id,
					 r->seq, now, kind, actor, canonical, r->hash);
	MemoryContextSwitchTo(old);

	head->seq = r->seq;
	memcpy(head->hash, r->hash, LEADFLOW_HASH_LEN);
	TxbufLogRows(&journey_log, &n);
	if ((LeadflowCurrentRequest()->pipeline_depth == 0 && hold_depth == 0) || n >= JOURNEY_BATCH)
		LeadflowJourneyFlush();
	return head->seq;
}

/*
 * The head first: finding it may flush the rows waiting, which empties
 * TxbufLogMemory(&journey_log).
 */
static LeadflowJourneyHead *
head_for_append(int64 org_id, int64 lead_id)
{
	return chain_head(org_id, lead_id);
}

/*
 * Parsed details by their text.  Parsing is a pure function of the text,
 * so entries never go stale; most details repeat (a few hundred distinct
 * "scored" or "routed" details among 200,000 leads), and the parse into
 * jsonb and back to canonical text was a tenth of a lead's cost.  Longer
 * texts are parsed each time; a full cache is emptied.  At most about
 * 1.5 MB: a bulk load's memory must stay flat.
 */
#define DETAIL_CACHE_MAX	1024
#define DETAIL_KEY_LEN		512

typedef struct DetailEntry
{
	char		json[DETAIL_KEY_LEN];	/* hash key: the text as given */
	LeadflowJourneyDetail detail;
} DetailEntry;

static MemoryContext detail_cxt = NULL;
static HTAB *detail_cache = NULL;

/*
 * The parsed detail of json; valid until the next call (the cache may be
 * emptied then).
 */
static void
parse_detail_cached(LeadflowJourneyDetail *detail, const char *json)
{
	DetailEntry *entry;
	LeadflowJourneyDetail parsed;
	MemoryContext old;

	if (strlen(json) >= DETAIL_KEY_LEN)
	{
		LeadflowJourneyParseDetail(detail, json);
		return;
	}
	if (detail_cache != NULL && hash_get_num_entries(detail_cache) >= DETAIL_CACHE_MAX)
	{
		MemoryContextReset(detail_cxt);		/* the table lives in it too */
		detail_cache = NULL;
	}
	if (detail_cache == NULL)
	{
		HASHCTL		ctl;

		if (detail_cxt == NULL)
			detail_cxt = AllocSetContextCreate(TopMemoryContext, "leadflow journey details",
											   ALLOCSET_DEFAULT_SIZES);
		ctl.keysize = DETAIL_KEY_LEN;
		ctl.entrysize = sizeof(DetailEntry);
		ctl.hcxt = detail_cxt;
		detail_cache = hash_create("leadflow journey details", 256, &ctl,
								   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
	entry = hash_search(detail_cache, json, HASH_FIND, NULL);
	if (entry == NULL)
	{
		/* parsed before the entry exists: a refused text leaves none */
		old = MemoryContextSwitchTo(detail_cxt);
		LeadflowJourneyParseDetail(&parsed, json);
		MemoryContextSwitchTo(old);
		entry = hash_search(detail_cache, json, HASH_ENTER, NULL);
		entry->detail = parsed;
	}
	*detail = entry->detail;
}

/*
 * LeadflowJourneyAppend
 *		Appends one row to a lead's journey and returns its seq.
 *
 * detail_json is a JSON object as text, holding no personal data.  The
 * caller must hold the lead (see the file header).  Inside the lead
 * pipeline the row waits for the statement's flush; elsewhere it is
 * written at once; for a lead being inserted the event is a member of
 * its created row (LeadflowJourneyBegin).  Connects to SPI itself when it
 * must read a chain head.  Callers on the insert path build details as
 * jsonb with LeadflowJourneyBegin instead, without a text round trip.
 */
int32
LeadflowJourneyAppend(int64 org_id, int64 lead_id, const char *kind,
					  const char *detail_json)
{
	LeadflowJourneyDetail detail;

	parse_detail_cached(&detail, detail_json);
	return LeadflowJourneyAppendDetail(org_id, lead_id, kind, &detail);
}

/*
 * LeadflowJourneyAppendJson
 *		Appends a row whose detail is the jsonb builder detail (begun with
 *		LeadflowJsonBeginJsonb, finished here), hashed over its canonical
 *		text once; returns its seq.  For journey_event.c.
 */
int32
LeadflowJourneyAppendJson(int64 org_id, int64 lead_id, const char *kind, LeadflowJson *detail)
{
	LeadflowJourneyHead *head = head_for_append(org_id, lead_id);
	MemoryContext old = MemoryContextSwitchTo(TxbufLogMemory(&journey_log));
	Jsonb	   *jsonb = LeadflowJsonFinishJsonb(detail);

	MemoryContextSwitchTo(old);
	return append_row(head, org_id, lead_id, kind, jsonb, LeadflowJsonCanonical(detail));
}

/*
 * LeadflowJourneyParseDetail
 *		Parses a detail (JSON object as text) into detail, in the current
 *		memory context, for LeadflowJourneyAppendDetail.
 */
void
LeadflowJourneyParseDetail(LeadflowJourneyDetail *detail, const char *detail_json)
{
	detail->jsonb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(detail_json)));
	detail->canonical = JsonbToCString(NULL, &detail->jsonb->root, VARSIZE(detail->jsonb));
}

/*
 * LeadflowJourneyAppendDetail
 *		LeadflowJourneyAppend with a detail parsed beforehand: for many rows
 *		with the same detail (the leads of an account turning hot).
 */
int32
LeadflowJourneyAppendDetail(int64 org_id, int64 lead_id, const char *kind,
							const LeadflowJourneyDetail *detail)
{
	LeadflowJourneyCreation *c = LeadflowJourneyJoinCreation(org_id, lead_id, kind);
	LeadflowJourneyHead *head;
	Jsonb	   *copy;

	/* an event of a lead being inserted joins its created row */
	if (c != NULL)
	{
		LeadflowJsonJsonb(&c->json, kind, detail->jsonb);
		return 1;
	}
	head = head_for_append(org_id, lead_id);
	copy = MemoryContextAlloc(TxbufLogMemory(&journey_log), VARSIZE(detail->jsonb));

	memcpy(copy, detail->jsonb, VARSIZE(detail->jsonb));
	return append_row(head, org_id, lead_id, kind, copy, detail->canonical);
}

/*
 * LeadflowJourneyHold, LeadflowJourneyRelease
 *		Around a loop that journals many existing leads outside the lead
 *		pipeline (maintenance): rows wait and are written in batches, as
 *		inside the pipeline; Release writes what is left.
 */
void
LeadflowJourneyHold(void)
{
	hold_depth++;
}

void
LeadflowJourneyRelease(void)
{
	if (hold_depth > 0)
		hold_depth--;
	if (hold_depth == 0)
		LeadflowJourneyFlush();
}

/*
 * LeadflowJourneyPrefetch
 *		Reads the chain heads of n existing leads in one index scan, so that
 *		appending to each of them costs no lookup of its own.  At most
 *		LEADFLOW_JOURNEY_PREFETCH_MAX leads; heads already known are kept.
 */
void
LeadflowJourneyPrefetch(const int64 *org_ids, const int64 *lead_ids, int n)
{
	HTAB	   *heads;
	LeadflowHeadRead *reads;
	int			nreads = 0;
	int			i;

	Assert(n <= LEADFLOW_JOURNEY_PREFETCH_MAX);
	if (n <= 0)
		return;
	/* room for them all, so that none is dropped before its append */
	heads = heads_table();
	if (hash_get_num_entries(heads) + n >= JOURNEY_HEADS_MAX)
	{
		forget_heads();
		heads = heads_table();
	}
	reads = palloc(sizeof(LeadflowHeadRead) * n);
	for (i = 0; i < n; i++)
	{
		LeadflowJourneyKey	key = {org_ids[i], lead_ids[i]};
		bool		found;
		LeadflowJourneyHead *head = hash_search(heads, &key, HASH_ENTER, &found);

		if (found)
			continue;
		reads[nreads].org_id = key.org_id;
		reads[nreads].lead_id = key.lead_id;
		reads[nreads++].head = head;
	}
	LeadflowJourneyReadHeads(reads, nreads);
	pfree(reads);
}
