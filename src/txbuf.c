/*-------------------------------------------------------------------------
 *
 * txbuf.c
 *	  Transaction buffers, subtransaction-exact (see txbuf.h for the
 *	  contract).
 *
 *	  Tables keep one current value per key.  The first change of an entry
 *	  inside a subtransaction saves the entry as it was (its before-image)
 *	  on one undo stack, tagged with the subtransaction's nesting level; the
 *	  entry remembers the deepest level that saved it, so later changes at
 *	  that level save nothing.  An abort puts back the images of its level
 *	  and deeper (newest first); a commit hands them to the parent level,
 *	  or drops them when the parent already holds an older one or is the
 *	  top level (a top-level abort drops everything anyway).  The undo
 *	  stack holds at most one image per entry and open level: a
 *	  million-row statement keeps it as small as its number of keys.
 *
 *	  Logs keep rows in append order with their level; levels never
 *	  decrease along a log, so the rows of a subtransaction are always its
 *	  tail.  Writing rows (TxbufLogWritten) forgets them, except the rows
 *	  of outer levels written inside a subtransaction: if it aborts, its
 *	  write is rolled back, so they are kept aside until it commits and put
 *	  back in front if it does not.
 *
 *	  Everything is per backend.  Tables live in TopTransactionContext, the
 *	  undo stack in a child of it; a log's rows in its own context under
 *	  TopMemoryContext, reset whenever the rows are written.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"

#include "txbuf.h"

#define MAX_CLIENTS 8

/* the hidden part of a table entry, after the caller's entrysize bytes */
typedef struct TxbufSlot
{
	int			saved_level;	/* deepest level holding an image; 0: none */
	bool		removed;		/* removed in a subtransaction: a tombstone */
} TxbufSlot;

#define SLOT_OFFSET(t)	MAXALIGN((t)->entrysize)
#define FULL_SIZE(t)	(SLOT_OFFSET(t) + sizeof(TxbufSlot))
#define SLOT(t, e)		((TxbufSlot *) ((char *) (e) + SLOT_OFFSET(t)))

/* an entry as it was before its first change at a level */
typedef struct TxbufUndo
{
	struct TxbufUndo *prev;		/* older image */
	TxbufTable *table;
	void	   *entry;			/* stays put: removal waits for level 1 */
	int			level;
	bool		existed;		/* false: the entry was created at level */
	char		image[FLEXIBLE_ARRAY_MEMBER];	/* entry and slot */
} TxbufUndo;

static const TxbufClient *clients[MAX_CLIENTS];
static int	nclients = 0;
static bool callbacks_registered = false;

/* state of the current transaction */
static TxbufTable *tables_in_use = NULL;
static TxbufLog *logs_in_use = NULL;
static TxbufUndo *undo_top = NULL;
static MemoryContext undo_cxt = NULL;

static void txbuf_xact_callback(XactEvent event, void *arg);
static void txbuf_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
								   SubTransactionId parentSubid, void *arg);

/* one registration of the transaction callbacks, for every buffer */
static void
ensure_callbacks(void)
{
	if (callbacks_registered)
		return;
	RegisterXactCallback(txbuf_xact_callback, NULL);
	RegisterSubXactCallback(txbuf_subxact_callback, NULL);
	callbacks_registered = true;
}

/*
 * TxbufRegister
 *		Makes client's flush run before commit and its discard at the end
 *		of every transaction.  Called by a buffer before it first buffers
 *		something (again and again: only the first call counts).  Keeps
 *		the pointer: client must be static.
 */
void
TxbufRegister(const TxbufClient *client)
{
	int			i;

	for (i = 0; i < nclients; i++)
		if (clients[i] == client)
			return;
	if (nclients == MAX_CLIENTS)
		elog(ERROR, "leadflow: too many transaction buffers");
	ensure_callbacks();
	clients[nclients++] = client;
}

/*
 * TxbufFlushAll
 *		Every client writes what it buffered, in the order they registered
 *		(they write different tables).  Called by the statement-end trigger
 *		on leads and before commit.  Runs in the caller's context and level:
 *		what a subtransaction writes is rolled back with it, and the
 *		buffers then give it back (see the file header).
 */
void
TxbufFlushAll(void)
{
	int			i;

	for (i = 0; i < nclients; i++)
		clients[i]->flush();
}

/* ----------------------------------------------------------------------
 * Tables
 * ----------------------------------------------------------------------
 */

/*
 * Creates t's hash table, in TopTransactionContext, on its first use in
 * the transaction; end_transaction forgets it.
 */
static void
use_table(TxbufTable *t)
{
	HASHCTL		ctl;

	if (t->htab != NULL)
		return;
	ensure_callbacks();
	ctl.keysize = t->keysize;
	ctl.entrysize = FULL_SIZE(t);
	ctl.hcxt = TopTransactionContext;
	t->htab = hash_create(t->name, 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	t->next = tables_in_use;
	tables_in_use = t;
}

/*
 * Saves entry before its first change at the current level (nothing at
 * the top level, nothing if this level saved it already).
 */
static void
save_entry(TxbufTable *t, void *entry, bool existed)
{
	int			level = GetCurrentTransactionNestLevel();
	TxbufSlot  *slot = SLOT(t, entry);
	TxbufUndo  *u;

	if (level <= 1 || (existed && slot->saved_level >= level))
		return;
	if (undo_cxt == NULL)
		undo_cxt = AllocSetContextCreate(TopTransactionContext, "leadflow transaction buffer undo",
										 ALLOCSET_DEFAULT_SIZES);
	u = MemoryContextAlloc(undo_cxt, offsetof(TxbufUndo, image) + FULL_SIZE(t));
	u->prev = undo_top;
	u->table = t;
	u->entry = entry;
	u->level = level;
	u->existed = existed;
	if (existed)
		memcpy(u->image, entry, FULL_SIZE(t));
	undo_top = u;
	slot->saved_level = level;
}

/*
 * TxbufFind
 *		The entry of key, or NULL; for reading (see TxbufTouch).
 */
void *
TxbufFind(TxbufTable *t, const void *key)
{
	void	   *entry;

	if (t->htab == NULL)
		return NULL;
	entry = hash_search(t->htab, key, HASH_FIND, NULL);
	if (entry == NULL || SLOT(t, entry)->removed)
		return NULL;
	return entry;
}

/*
 * TxbufEnter
 *		The entry of key, ready to be changed; a new one (*found false) is
 *		zero after its key.  In TopTransactionContext.
 */
void *
TxbufEnter(TxbufTable *t, const void *key, bool *found)
{
	void	   *entry;
	bool		f;

	use_table(t);
	entry = hash_search(t->htab, key, HASH_ENTER, &f);
	if (!f)
	{
		memset((char *) entry + t->keysize, 0, FULL_SIZE(t) - t->keysize);
		save_entry(t, entry, false);
	}
	else
	{
		save_entry(t, entry, true);
		if (SLOT(t, entry)->removed)
		{
			SLOT(t, entry)->removed = false;
			memset((char *) entry + t->keysize, 0, t->entrysize - t->keysize);
			f = false;
		}
	}
	if (found)
		*found = f;
	return entry;
}

/*
 * TxbufTouch
 *		Declares that entry (of t, live) is about to change.
 */
void
TxbufTouch(TxbufTable *t, void *entry)
{
	save_entry(t, entry, true);
}

/*
 * TxbufRemove
 *		Removes entry (of t, live).  Inside a subtransaction it stays as a
 *		tombstone that its abort can bring back; at the top level it goes.
 */
void
TxbufRemove(TxbufTable *t, void *entry)
{
	if (GetCurrentTransactionNestLevel() <= 1)
	{
		hash_search(t->htab, entry, HASH_REMOVE, NULL);
		return;
	}
	save_entry(t, entry, true);
	SLOT(t, entry)->removed = true;
}

/*
 * TxbufSeqInit, TxbufSeqNext
 *		Every live entry of t, as hash_seq_init/hash_seq_search (the current
 *		entry may be removed or touched during the scan).
 */
void
TxbufSeqInit(TxbufTable *t, HASH_SEQ_STATUS *status)
{
	if (t->htab == NULL)
		memset(status, 0, sizeof(HASH_SEQ_STATUS));
	else
		hash_seq_init(status, t->htab);
}

void *
TxbufSeqNext(TxbufTable *t, HASH_SEQ_STATUS *status)
{
	void	   *entry;

	if (status->hashp == NULL)
		return NULL;
	while ((entry = hash_seq_search(status)) != NULL)
		if (!SLOT(t, entry)->removed)
			return entry;
	return NULL;
}

/* TxbufTableSize: at least the number of live entries (for sizing arrays) */
long
TxbufTableSize(TxbufTable *t)
{
	return t->htab == NULL ? 0 : hash_get_num_entries(t->htab);
}

/* a subtransaction at level commits: its images become its parent's */
static void
commit_entries(int level)
{
	TxbufUndo **link = &undo_top;

	while (*link != NULL && (*link)->level >= level)
	{
		TxbufUndo  *u = *link;
		TxbufTable *t = u->table;
		TxbufSlot  *slot = SLOT(t, u->entry);
		TxbufSlot	before;

		/* the image is not aligned: copy its slot out */
		memcpy(&before, u->image + SLOT_OFFSET(t), sizeof(TxbufSlot));
		if (level - 1 <= 1 || (u->existed && before.saved_level == level - 1))
		{
			/* the top level needs no image; or the parent's is older */
			slot->saved_level = level - 1 <= 1 ? 0 : level - 1;
			if (level - 1 <= 1 && slot->removed)
				hash_search(t->htab, u->entry, HASH_REMOVE, NULL);
			*link = u->prev;
			pfree(u);
		}
		else
		{
			u->level = level - 1;
			slot->saved_level = level - 1;
			link = &u->prev;
		}
	}
}

/* a subtransaction at level aborts: its entries return to what they were */
static void
abort_entries(int level)
{
	while (undo_top != NULL && undo_top->level >= level)
	{
		TxbufUndo  *u = undo_top;

		undo_top = u->prev;
		if (u->existed)
			memcpy(u->entry, u->image, FULL_SIZE(u->table));
		else
			hash_search(u->table->htab, u->entry, HASH_REMOVE, NULL);
		pfree(u);
	}
}

/* ----------------------------------------------------------------------
 * Logs
 * ----------------------------------------------------------------------
 */

/*
 * Makes log known to this transaction's events; its context (under
 * TopMemoryContext) is made once per backend.
 */
static void
use_log(TxbufLog *log)
{
	TxbufLog   *l;

	ensure_callbacks();
	if (log->cxt == NULL)
	{
		log->cxt = AllocSetContextCreate(TopMemoryContext, "leadflow log rows",
										 ALLOCSET_DEFAULT_SIZES);
		MemoryContextSetIdentifier(log->cxt, log->name);
	}
	for (l = logs_in_use; l != NULL; l = l->next)
		if (l == log)
			return;
	log->next = logs_in_use;
	logs_in_use = log;
}

/* room for n more rows, in log->cxt */
static void
log_reserve(TxbufLog *log, int n)
{
	int			max;

	if (log->nrows + n <= log->maxrows)
		return;
	max = Max(1024, log->maxrows * 2);
	while (max < log->nrows + n)
		max *= 2;
	if (log->rows == NULL)
	{
		log->rows = MemoryContextAlloc(log->cxt, max * log->rowsize);
		log->levels = MemoryContextAlloc(log->cxt, max * sizeof(int));
	}
	else
	{
		log->rows = repalloc(log->rows, max * log->rowsize);
		log->levels = repalloc(log->levels, max * sizeof(int));
	}
	log->maxrows = max;
}

/*
 * TxbufLogAppend
 *		A new row at the end of log, zeroed, at the current level; valid
 *		until the next append.  What it points to belongs in
 *		TxbufLogMemory(log).
 */
void *
TxbufLogAppend(TxbufLog *log)
{
	char	   *row;

	use_log(log);
	log_reserve(log, 1);
	row = log->rows + log->nrows * log->rowsize;
	memset(row, 0, log->rowsize);
	log->levels[log->nrows++] = GetCurrentTransactionNestLevel();
	return row;
}

/*
 * TxbufLogMemory
 *		The context the rows' data goes in; emptied by TxbufLogWritten.
 */
MemoryContext
TxbufLogMemory(TxbufLog *log)
{
	use_log(log);
	return log->cxt;
}

/*
 * TxbufLogRows
 *		The rows not written yet, oldest first (NULL when none).
 */
void *
TxbufLogRows(TxbufLog *log, int *nrows)
{
	*nrows = log->nrows;
	return log->nrows > 0 ? log->rows : NULL;
}

/* no row is kept aside any more: their memory goes */
static void
reset_kept(TxbufLog *log)
{
	log->nkept = log->maxkept = 0;
	log->kept = NULL;
	log->kept_levels = log->kept_written = NULL;
	if (log->kept_cxt != NULL)
		MemoryContextReset(log->kept_cxt);
}

/*
 * TxbufLogWritten
 *		The rows TxbufLogRows gave were written, at the current level:
 *		forgets them and empties TxbufLogMemory.  The rows of outer levels
 *		are kept aside (with log->keep) until this level commits.
 */
void
TxbufLogWritten(TxbufLog *log)
{
	int			level = GetCurrentTransactionNestLevel();
	int			i;

	for (i = 0; i < log->nrows && log->levels[i] < level; i++)
	{
		char	   *row;

		if (log->kept_cxt == NULL)
			log->kept_cxt = AllocSetContextCreate(TopMemoryContext, "leadflow kept log rows",
												  ALLOCSET_DEFAULT_SIZES);
		if (log->nkept == log->maxkept)
		{
			int			max = Max(64, log->maxkept * 2);

			if (log->kept == NULL)
			{
				log->kept = MemoryContextAlloc(log->kept_cxt, max * log->rowsize);
				log->kept_levels = MemoryContextAlloc(log->kept_cxt, max * sizeof(int));
				log->kept_written = MemoryContextAlloc(log->kept_cxt, max * sizeof(int));
			}
			else
			{
				log->kept = repalloc(log->kept, max * log->rowsize);
				log->kept_levels = repalloc(log->kept_levels, max * sizeof(int));
				log->kept_written = repalloc(log->kept_written, max * sizeof(int));
			}
			log->maxkept = max;
		}
		row = log->kept + log->nkept * log->rowsize;
		memcpy(row, log->rows + i * log->rowsize, log->rowsize);
		log->keep(row, log->kept_cxt);
		log->kept_levels[log->nkept] = log->levels[i];
		log->kept_written[log->nkept++] = level;
	}
	log->nrows = log->maxrows = 0;
	log->rows = NULL;
	log->levels = NULL;
	MemoryContextReset(log->cxt);
}

/* a subtransaction at level commits: its rows and writes are its parent's */
static void
commit_log(TxbufLog *log, int level)
{
	int			i;

	for (i = log->nrows - 1; i >= 0 && log->levels[i] >= level; i--)
		log->levels[i] = level - 1;
	for (i = log->nkept - 1; i >= 0 && log->kept_written[i] >= level; i--)
		log->kept_written[i] = level - 1;
	/* a row written in its own level is written for good */
	while (log->nkept > 0 && log->kept_levels[log->nkept - 1] >= log->kept_written[log->nkept - 1])
		log->nkept--;
	if (log->nkept == 0 && log->kept != NULL)
		reset_kept(log);
}

/*
 * A subtransaction at level aborts: its rows go; outer rows it wrote were
 * rolled back with it and wait again, in front (no outer row can have
 * been appended after them).
 */
static void
abort_log(TxbufLog *log, int level)
{
	int			first = log->nkept;
	int			k;
	int			i;

	while (log->nrows > 0 && log->levels[log->nrows - 1] >= level)
		log->nrows--;
	while (first > 0 && log->kept_written[first - 1] >= level)
		first--;
	k = log->nkept - first;
	if (k == 0)
	{
		/* nothing waits: the dropped rows' data can go now */
		if (log->nrows == 0 && log->rows != NULL)
		{
			log->maxrows = 0;
			log->rows = NULL;
			log->levels = NULL;
			MemoryContextReset(log->cxt);
		}
		return;
	}
	log_reserve(log, k);
	memmove(log->rows + k * log->rowsize, log->rows, log->nrows * log->rowsize);
	memmove(log->levels + k, log->levels, log->nrows * sizeof(int));
	for (i = 0; i < k; i++)
	{
		char	   *row = log->rows + i * log->rowsize;

		memcpy(row, log->kept + (first + i) * log->rowsize, log->rowsize);
		log->keep(row, log->cxt);
		log->levels[i] = log->kept_levels[first + i];
	}
	log->nrows += k;
	log->nkept = first;
	if (log->nkept == 0)
		reset_kept(log);
}

/* ----------------------------------------------------------------------
 * Transaction events
 * ----------------------------------------------------------------------
 */

/* the transaction is over: tables go with its memory, logs are emptied */
static void
end_transaction(void)
{
	TxbufTable *t;
	TxbufLog   *log;
	int			i;

	for (t = tables_in_use; t != NULL; t = t->next)
		t->htab = NULL;
	tables_in_use = NULL;
	undo_top = NULL;
	undo_cxt = NULL;
	for (log = logs_in_use; log != NULL; log = log->next)
	{
		log->nrows = log->maxrows = 0;
		log->rows = NULL;
		log->levels = NULL;
		MemoryContextReset(log->cxt);
		reset_kept(log);
	}
	logs_in_use = NULL;
	for (i = 0; i < nclients; i++)
		if (clients[i]->discard != NULL)
			clients[i]->discard();
}

static void
txbuf_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			TxbufFlushAll();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			end_transaction();
			break;
		default:
			break;
	}
}

/*
 * Called with the ending subtransaction still current: its nesting level
 * is GetCurrentTransactionNestLevel().
 */
static void
txbuf_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();
	TxbufLog   *log;
	int			i;

	if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		commit_entries(level);
		for (log = logs_in_use; log != NULL; log = log->next)
			commit_log(log, level);
	}
	else if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		abort_entries(level);
		for (log = logs_in_use; log != NULL; log = log->next)
			abort_log(log, level);
		for (i = 0; i < nclients; i++)
			if (clients[i]->subabort != NULL)
				clients[i]->subabort(level);
	}
}
