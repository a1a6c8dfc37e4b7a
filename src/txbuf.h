/*-------------------------------------------------------------------------
 *
 * txbuf.h
 *	  Transaction buffers: what the pipeline collects during a statement
 *	  and writes at its end (journey rows, rotation state, prediction
 *	  counts), kept subtransaction-exact.
 *
 *	  A buffer is a client: it registers a flush function (write what is
 *	  buffered) and a discard function (the transaction ended, forget it).
 *	  Its data lives in TxbufTables (keyed entries) and TxbufLogs (rows in
 *	  order).  One set of transaction callbacks serves every client:
 *
 *	  - a subtransaction that aborts takes exactly its own changes with it:
 *		entries return to the values they had when it started, rows it
 *		appended are dropped, rows of outer levels it wrote come back (its
 *		writes are rolled back with it);
 *	  - a subtransaction that commits hands its changes to its parent;
 *	  - before commit (or PREPARE) every client flushes what remains;
 *	  - at the end of the transaction, either way, everything is dropped.
 *
 *	  The level of a change is GetCurrentTransactionNestLevel() (1: top).
 *	  Changes made at level 1 cost nothing extra: only changes inside a
 *	  subtransaction save the value they replace, once per entry and level.
 *
 *	  Infrastructure: includes PostgreSQL headers only.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_TXBUF_H
#define LEADFLOW_TXBUF_H

#include "utils/hsearch.h"
#include "utils/memutils.h"

/* A per-transaction buffer of the pipeline. */
typedef struct TxbufClient
{
	const char *name;
	void		(*flush) (void);	/* writes what is buffered */
	void		(*discard) (void);	/* the transaction ended: may be NULL */
	void		(*subabort) (int level);	/* after the subtransaction at
											 * level aborted and its tables
											 * and logs were restored: may be
											 * NULL */
} TxbufClient;

extern void TxbufRegister(const TxbufClient *client);
extern void TxbufFlushAll(void);

/*
 * Keyed entries, one per key, in TopTransactionContext.  Declare one
 * statically with TXBUF_TABLE; the entry type starts with its key, as in
 * dynahash.  Entries stay where they are until removed (pointers to them
 * stay valid), but a pointer must be passed to TxbufTouch again before a
 * change made in a deeper subtransaction than the one it was obtained in.
 */
typedef struct TxbufTable
{
	const char *name;
	Size		keysize;
	Size		entrysize;
	/* private to txbuf.c */
	HTAB	   *htab;			/* NULL until used in this transaction */
	struct TxbufTable *next;	/* the tables used in this transaction */
} TxbufTable;

#define TXBUF_TABLE(name, keytype, entrytype) \
	{(name), sizeof(keytype), sizeof(entrytype), NULL, NULL}

extern void *TxbufFind(TxbufTable *t, const void *key);
extern void *TxbufEnter(TxbufTable *t, const void *key, bool *found);
extern void TxbufTouch(TxbufTable *t, void *entry);
extern void TxbufRemove(TxbufTable *t, void *entry);
extern void TxbufSeqInit(TxbufTable *t, HASH_SEQ_STATUS *status);
extern void *TxbufSeqNext(TxbufTable *t, HASH_SEQ_STATUS *status);
extern long TxbufTableSize(TxbufTable *t);

/*
 * Rows in the order they were appended, written in batches.  A row is
 * rowsize bytes; what it points to is allocated in TxbufLogMemory(log),
 * which is emptied when the rows are written.  keep copies a row's
 * pointed-to data into another context: the rows of an outer level that a
 * subtransaction wrote are kept that way until it commits, since its
 * abort would roll the write back.
 */
typedef struct TxbufLog
{
	const char *name;
	Size		rowsize;
	void		(*keep) (void *row, MemoryContext cxt);
	/* private to txbuf.c */
	MemoryContext cxt;			/* rows' data */
	char	   *rows;
	int		   *levels;
	int			nrows;
	int			maxrows;
	MemoryContext kept_cxt;		/* outer rows written in a subtransaction */
	char	   *kept;
	int		   *kept_levels;	/* level each kept row belongs to */
	int		   *kept_written;	/* level it was written in */
	int			nkept;
	int			maxkept;
	struct TxbufLog *next;		/* the logs used in this transaction */
} TxbufLog;

#define TXBUF_LOG(name, rowtype, keep) \
	{(name), sizeof(rowtype), (keep)}

extern void *TxbufLogAppend(TxbufLog *log);
extern MemoryContext TxbufLogMemory(TxbufLog *log);
extern void *TxbufLogRows(TxbufLog *log, int *nrows);
extern void TxbufLogWritten(TxbufLog *log);

#endif							/* LEADFLOW_TXBUF_H */
