/*-------------------------------------------------------------------------
 *
 * predicate.h
 *	  The rule language shared by scoring and routing rules (predicate.c):
 *	  compile a jsonb predicate against the leads tuple descriptor once,
 *	  then evaluate the compiled form against lead rows.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_PREDICATE_H
#define LEADFLOW_PREDICATE_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "utils/jsonb.h"
#include "utils/palloc.h"

/* opaque compiled form: one palloc'd chunk, pfree may free it */
typedef struct LeadflowPredicate LeadflowPredicate;

/*
 * Parses, validates and compiles a predicate against the leads tuple
 * descriptor.  The result lives in cxt (callers cache it in a long-lived
 * context); nothing is left behind in cxt on error.  A bad predicate
 * raises 22023 naming the problem and its JSON path.
 */
extern LeadflowPredicate *LeadflowPredicateCompile(Jsonb *predicate, TupleDesc leads_desc,
												   MemoryContext cxt);

/*
 * Evaluates a compiled predicate against one lead row (values and nulls as
 * from heap_deform_tuple over the descriptor it was compiled with).  No
 * SPI, no catalog access; allocates only in CurrentMemoryContext, which
 * the caller resets per row.
 */
extern bool LeadflowPredicateEval(const LeadflowPredicate *pred, TupleDesc leads_desc,
								  Datum *values, bool *nulls);

#endif							/* LEADFLOW_PREDICATE_H */
