/*-------------------------------------------------------------------------
 *
 * spi.h
 *	  SPI plans kept for the backend's lifetime, lookups by id, and tables
 *	  opened for rows written below the executor (spi.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_SPI_H
#define LEADFLOW_SPI_H

#include "postgres.h"

#include "access/skey.h"
#include "executor/spi.h"
#include "utils/relcache.h"

/*
 * Each call site owns one LeadflowPlan, prepared on first use from fully
 * qualified, parameterised SQL.
 */
typedef struct LeadflowPlan
{
	SPIPlanPtr	plan;
	const char *sql;
	int			nargs;
	Oid			argtypes[20];
	int			internal;		/* set on prepare: 1 writes or locks an internal
								 * table (runs as its owner, tenant.c), -1 not */
} LeadflowPlan;

extern SPIPlanPtr LeadflowPrepare(LeadflowPlan *p);
extern int	LeadflowExecute(LeadflowPlan *p, Datum *values, const char *nulls, bool read_only,
							long count);
extern int	LeadflowExecuteSet(LeadflowPlan *p, Datum *values, const char *nulls);

/*
 * A leadflow table opened for rows written below the executor (journey
 * rows, email claims): its indexes open (with what speculative insertion
 * needs when asked), an executor state for index expressions, predicates
 * and constraints.
 */
typedef struct LeadflowDirect
{
	Oid			table;			/* the leadflow table */
	Relation	rel;			/* it, or under Citus its shard of the org */
	struct EState *estate;
	struct ResultRelInfo *rri;
	AttrNumber	identity_att;	/* LeadflowDirectSequence's last answer */
	Oid			identity_seq;
	bool		generated_known;	/* generated_inputs computed */
	struct Bitmapset *generated_inputs; /* stored generated columns and their inputs */
} LeadflowDirect;

extern Oid	LeadflowDirectRelid(const char *relname, int64 org_id);
extern int	LeadflowDirectRunLength(const char *relname, const void *rows, size_t stride,
									size_t org_offset, int n);
extern void LeadflowDirectOpen(LeadflowDirect *d, const char *relname, int64 org_id, bool speculative);
extern Oid	LeadflowDirectSequence(LeadflowDirect *d, const char *column);
extern AttrNumber LeadflowDirectAttnum(const LeadflowDirect *d, const char *column);
extern void LeadflowDirectClose(LeadflowDirect *d);
extern LeadflowDirect *LeadflowDirectBegin(const char *relname, int64 org_id, bool speculative,
											   LeadflowDirect *once);
extern void LeadflowDirectEnd(LeadflowDirect *d, LeadflowDirect *once);
extern void LeadflowDirectEndStatement(void);
extern bool LeadflowDirectLockByKey(LeadflowDirect *d, int64 org_id, int64 id,
									struct TupleTableSlot *slot);
extern bool LeadflowDirectLockByKeys(LeadflowDirect *d, ScanKey key, int nkeys,
									 struct TupleTableSlot *slot);
extern void LeadflowDirectUpdate(LeadflowDirect *d, ItemPointer tid, HeapTuple tuple);
extern void LeadflowDirectUpdateFrom(LeadflowDirect *d, HeapTuple old, HeapTuple tuple);
extern bool LeadflowDirectUpdateByKey(LeadflowDirect *d, int64 org_id, int64 id, int ncols,
									  const AttrNumber *attnums, const Datum *values, const bool *nulls);
extern bool LeadflowIndexNamed(Relation index, const char *name);
extern bool LeadflowDirectAllowed(Relation rel, AclMode mode, const char *const *known, int nknown,
								  Oid fk_to);
extern void LeadflowFetchById(LeadflowPlan *plan, const char *what, int64 id, bool read_only,
							  const char *ambiguous_hint);
extern void LeadflowFetchLead(LeadflowPlan *plan, int64 lead_id, bool read_only);

#endif							/* LEADFLOW_SPI_H */
