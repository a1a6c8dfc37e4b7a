/*-------------------------------------------------------------------------
 *
 * compat.h
 *	  The one place where leadflow's code meets differences between the
 *	  PostgreSQL majors it supports (15, 17, 18).  Every other file calls
 *	  the names below and never tests PG_VERSION_NUM itself.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_COMPAT_H
#define LEADFLOW_COMPAT_H

#include "postgres.h"

#include "access/genam.h"
#include "access/tableam.h"
#include "executor/executor.h"
#include "storage/proc.h"
#include "utils/datetime.h"

#if PG_VERSION_NUM < 150000
#error "leadflow needs PostgreSQL 15 or later"
#endif

/*
 * 18 replaced pg_attribute_noreturn() (after the declarator) by pg_noreturn
 * (before the declaration).  GCC and clang accept the attribute in front
 * too, so older majors get the same spelling.
 */
#if PG_VERSION_NUM < 180000
#define pg_noreturn pg_attribute_noreturn()
#endif

/* 16 added onlySummarizing (false: every index, as before) */
#if PG_VERSION_NUM >= 160000
#define LeadflowInsertIndexTuples(rri, slot, estate, noDupErr, specConflict) \
	ExecInsertIndexTuples((rri), (slot), (estate), false, (noDupErr), (specConflict), NIL, false)
#else
#define LeadflowInsertIndexTuples(rri, slot, estate, noDupErr, specConflict) \
	ExecInsertIndexTuples((rri), (slot), (estate), false, (noDupErr), (specConflict), NIL)
#endif

/*
 * 16 made table_tuple_update's "update the indexes" answer an enum (every
 * index, summarizing ones only, none); the pipeline's own update of a lead
 * (lead.c) inserts index entries as the executor does.
 */
#if PG_VERSION_NUM >= 160000
typedef TU_UpdateIndexes LeadflowUpdateIndexes;
#define LeadflowNoIndexUpdate(u) ((u) == TU_None)
#define LeadflowUpdateIndexTuples(rri, slot, estate, u) \
	ExecInsertIndexTuples((rri), (slot), (estate), true, false, NULL, NIL, (u) == TU_Summarizing)
#else
typedef bool LeadflowUpdateIndexes;
#define LeadflowNoIndexUpdate(u) (!(u))
#define LeadflowUpdateIndexTuples(rri, slot, estate, u) \
	ExecInsertIndexTuples((rri), (slot), (estate), true, false, NULL, NIL)
#endif

/* 18 added the instrumentation of an index scan (none here) */
#if PG_VERSION_NUM >= 180000
#define LeadflowIndexBeginScan(heap, index, snapshot, nkeys) \
	index_beginscan((heap), (index), (snapshot), NULL, (nkeys), 0)
#else
#define LeadflowIndexBeginScan(heap, index, snapshot, nkeys) \
	index_beginscan((heap), (index), (snapshot), (nkeys), 0)
#endif

/* 18 added the tuple id of an update (none for an insert) */
#if PG_VERSION_NUM >= 180000
#define LeadflowCheckIndexConstraints(rri, slot, estate, conflictTid) \
	ExecCheckIndexConstraints((rri), (slot), (estate), (conflictTid), NULL, NIL)
#else
#define LeadflowCheckIndexConstraints(rri, slot, estate, conflictTid) \
	ExecCheckIndexConstraints((rri), (slot), (estate), (conflictTid), NIL)
#endif

/* 17 takes the relation itself instead of its oid */
#if PG_VERSION_NUM >= 170000
#define LeadflowIdentitySequence(rel, attnum) getIdentitySequence((rel), (attnum), false)
#else
#define LeadflowIdentitySequence(rel, attnum) \
	getIdentitySequence(RelationGetRelid(rel), (attnum), false)
#endif

/* 17 moved the local transaction id into the virtual transaction id */
#if PG_VERSION_NUM >= 170000
#define LeadflowLocalXid() (MyProc->vxid.lxid)
#else
#define LeadflowLocalXid() (MyProc->lxid)
#endif

/* 16 added an out-argument for the details of a failed decode */
#if PG_VERSION_NUM >= 160000
#define LeadflowDecodeDateTime(field, ftype, nf, dtype, tm, fsec, tz) \
	DecodeDateTime((field), (ftype), (nf), (dtype), (tm), (fsec), (tz), &(DateTimeErrorExtra) {0})
#else
#define LeadflowDecodeDateTime(field, ftype, nf, dtype, tm, fsec, tz) \
	DecodeDateTime((field), (ftype), (nf), (dtype), (tm), (fsec), (tz))
#endif

#endif							/* LEADFLOW_COMPAT_H */
