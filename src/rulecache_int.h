/*-------------------------------------------------------------------------
 *
 * rulecache_int.h
 *	  Internals of the configuration cache shared by its files
 *	  (rulecache.c: orgs, stages, scoring models, invalidation;
 *	  rulecache_routing.c: reps, teams, routing rules, accounts).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_RULECACHE_INT_H
#define LEADFLOW_RULECACHE_INT_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "utils/hsearch.h"

#include "rulecache.h"

typedef struct OrgEntry
{
	int64		org_id;			/* hash key */
	LeadflowOrg org;
	bool		model_loaded;
	LeadflowModel *model;		/* NULL: the org has no active model */
	bool		routing_loaded;
	LeadflowRouting *routing;
	bool		accounts_loaded;
	HTAB	   *accounts;		/* domain -> AccountEntry */
	HTAB	   *profiles;		/* domain -> enrich.c's merged profile */
	bool		prediction_loaded;
	LeadflowPredictionModel *prediction;	/* NULL: the org has none */
} OrgEntry;

typedef struct AccountEntry
{
	char		domain[256];	/* hash key */
	int64		account_id;
	int64		owner_rep_id;	/* 0: none */
} AccountEntry;

/* where every cached value lives; replaced on invalidation */
extern MemoryContext leadflow_config_cxt;

/*
 * Runs loader for an org's entry unless done since the last invalidation;
 * loaded_off and slot_off are the offsets of the entry's flag and pointer.
 */
extern void *config_org_part(int64 org_id, TupleDesc leads_desc, size_t loaded_off, size_t slot_off,
							 void *(*loader) (int64, TupleDesc));

/* a column of an SPI row, 0 or false when null */
extern int	config_int(HeapTuple tup, TupleDesc desc, int col);
extern int64 config_int64(HeapTuple tup, TupleDesc desc, int col);
extern double config_float(HeapTuple tup, TupleDesc desc, int col);
extern bool config_bool(HeapTuple tup, TupleDesc desc, int col);

#endif							/* LEADFLOW_RULECACHE_INT_H */
