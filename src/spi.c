/*-------------------------------------------------------------------------
 *
 * spi.c
 *	  Data access every layer above shares: SPI plans kept per call site,
 *	  lookups by id with their not-found and ambiguous errors, and the
 *	  opener of tables written below the executor (journey rows, email
 *	  claims).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/nbtree.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/nodeModifyTable.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "parser/parse_relation.h"
#include "rewrite/rewriteHandler.h"
#include "rewrite/rowsecurity.h"
#include "utils/acl.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#include "compat.h"
#include "request.h"
#include "shard.h"
#include "spi.h"
#include "tenant.h"

static bool touches_internal(SPIPlanPtr plan);

/*
 * Generic plans: a custom plan per execution would re-plan every statement
 * the pipeline runs (array parameters, say, never look cheaper generic);
 * the plans are made for index access anyway.  Under Citus the plan cache
 * chooses: Citus routes a statement by its org_id only in a custom plan
 * (its generic plan of a statement it cannot prune is priced out).
 */
static int
plan_options(void)
{
	return LeadflowCitusPresent() ? 0 : CURSOR_OPT_GENERIC_PLAN;
}

/*
 * LeadflowPrepare
 *		Returns the kept SPI plan of a call site, preparing it on first use.
 *
 * The plan lives in SPI's kept-plan memory for the backend's lifetime; the
 * plan cache revalidates it after DDL on the tables it reads.  The caller
 * must be connected to SPI.
 */
SPIPlanPtr
LeadflowPrepare(LeadflowPlan *p)
{
	if (p->plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare_cursor(p->sql, p->nargs, p->argtypes,
											  plan_options());

		if (plan == NULL)
			elog(ERROR, "leadflow: SPI_prepare failed for \"%s\": %s",
				 p->sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "leadflow: SPI_keepplan failed");
		p->plan = plan;
		p->internal = touches_internal(plan) ? 1 : -1;
	}
	return p->plan;
}



/*
 * query_touches_internal
 *		Whether a query (or a subquery or CTE of it) writes or row-locks one
 *		of leadflow's internal tables: any lock above AccessShareLock, which
 *		is what INSERT, UPDATE, DELETE and SELECT FOR UPDATE take.
 */
static bool
query_touches_internal(Query *q)
{
	ListCell   *lc;

	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = (RangeTblEntry *) lfirst(lc);

		if (rte->rtekind == RTE_RELATION && rte->rellockmode > AccessShareLock &&
			LeadflowIsInternalTable(rte->relid))
			return true;
		if (rte->rtekind == RTE_SUBQUERY && rte->subquery != NULL &&
			query_touches_internal(rte->subquery))
			return true;
	}
	foreach(lc, q->cteList)
	{
		CommonTableExpr *cte = (CommonTableExpr *) lfirst(lc);

		if (IsA(cte->ctequery, Query) && query_touches_internal((Query *) cte->ctequery))
			return true;
	}
	return false;
}

/* whether any statement of a prepared plan touches an internal table */
static bool
touches_internal(SPIPlanPtr plan)
{
	ListCell   *lc;

	foreach(lc, SPI_plan_get_plan_sources(plan))
	{
		CachedPlanSource *ps = (CachedPlanSource *) lfirst(lc);
		ListCell   *q;

		foreach(q, ps->query_list)
			if (IsA(lfirst(q), Query) && query_touches_internal((Query *) lfirst(q)))
				return true;
	}
	return false;
}

/*
 * execute_plan
 *		SPI_execute_plan, as the owner of the internal tables when the plan
 *		writes or locks one of them and the current role is not privileged
 *		(tenant.c): an application role holds no privilege on them.
 */
static int
execute_plan(LeadflowPlan *p, Datum *values, const char *nulls, bool read_only, long count)
{
	SPIPlanPtr	plan = LeadflowPrepare(p);
	Oid			writer = p->internal > 0 ? LeadflowInternalWriter() : InvalidOid;
	Oid			save_user;
	int			save_sec;
	int			rc;

	if (!OidIsValid(writer))
		return SPI_execute_plan(plan, values, nulls, read_only, count);
	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(writer, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		rc = SPI_execute_plan(plan, values, nulls, read_only, count);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_user, save_sec);
	}
	PG_END_TRY();
	return rc;
}

/*
 * LeadflowExecute
 *		Executes a call site's kept plan (preparing it on first use), with
 *		sequential scans disabled while it is planned and run.
 *
 * Every leadflow query looks rows up by key.  Planned while a table is
 * still small, a generic plan would scan it sequentially and keep doing so
 * as the table grows, which makes a bulk load quadratic; an index path
 * exists for each of them, and this makes the planner take it.
 */
int
LeadflowExecute(LeadflowPlan *p, Datum *values, const char *nulls, bool read_only, long count)
{
	bool		saved = enable_seqscan;
	int			rc;

	enable_seqscan = false;
	PG_TRY();
	{
		rc = execute_plan(p, values, nulls, read_only, count);
	}
	PG_FINALLY();
	{
		enable_seqscan = saved;
	}
	PG_END_TRY();
	return rc;
}

/*
 * LeadflowExecuteSet
 *		Executes a call site's kept plan with the planner's defaults, for
 *		statements that read whole orgs (aggregates, joins of many rows),
 *		where a sequential scan and a hash join are right; LeadflowExecute
 *		is made for key lookups.  Not read-only.
 */
int
LeadflowExecuteSet(LeadflowPlan *p, Datum *values, const char *nulls)
{
	return execute_plan(p, values, nulls, false, 0);
}

/*
 * LeadflowDirectRelid
 *		The relation that holds org_id's rows of the leadflow table relname
 *		here: the table itself, or under Citus the org's shard (shard.c).
 */
Oid
LeadflowDirectRelid(const char *relname, int64 org_id)
{
	return LeadflowShardRelid(get_relname_relid(relname, get_namespace_oid("leadflow", false)), org_id);
}

/*
 * LeadflowDirectRunLength
 *		Of n rows (stride bytes apart, each an int64 org_id at org_offset),
 *		how many from the first have their rows of relname in the same
 *		relation as the first: all of them where Citus is absent, under
 *		Citus the run on one shard (a batch written below the executor goes
 *		to one relation at a time).
 */
int
LeadflowDirectRunLength(const char *relname, const void *rows, size_t stride, size_t org_offset, int n)
{
	Oid			first;
	int			len;

	if (n <= 1 || !LeadflowCitusPresent())
		return n;
#define ORG(i) (*(const int64 *) ((const char *) rows + (i) * stride + org_offset))
	first = LeadflowDirectRelid(relname, ORG(0));
	for (len = 1; len < n && LeadflowDirectRelid(relname, ORG(len)) == first; len++)
		;
#undef ORG
	return len;
}

/*
 * LeadflowDirectOpen, LeadflowDirectAttnum, LeadflowDirectClose
 *		Open (RowExclusiveLock) and close the relation holding org_id's rows
 *		of a table of the leadflow schema (LeadflowDirectRelid), for rows
 *		written below the executor; Attnum resolves a column, an error if
 *		the table lacks it (a shard has no dropped columns: resolve them on
 *		each open).
 */
void
LeadflowDirectOpen(LeadflowDirect *d, const char *relname, int64 org_id, bool speculative)
{
	d->table = get_relname_relid(relname, get_namespace_oid("leadflow", false));
	d->rel = table_open(LeadflowShardRelid(d->table, org_id), RowExclusiveLock);
	d->estate = CreateExecutorState();
	d->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(d->rri, d->rel, 0, NULL, 0);
	ExecOpenIndices(d->rri, speculative);
	d->identity_att = InvalidAttrNumber;
	d->generated_known = false;
	d->generated_inputs = NULL;
}

AttrNumber
LeadflowDirectAttnum(const LeadflowDirect *d, const char *column)
{
	AttrNumber	attnum = attnameAttNum(d->rel, column, false);

	if (attnum == InvalidAttrNumber)
		elog(ERROR, "leadflow: %s has no column \"%s\"", RelationGetRelationName(d->rel), column);
	return attnum;
}

/*
 * LeadflowDirectSequence
 *		The identity sequence of a column of d's table, looked up in the
 *		catalog once while the table is open (its lock keeps the column as
 *		it is), not once per row: the extension's own table's (a shard has
 *		none; under Citus each node numbers from its own range,
 *		leadflow.distribute()).
 */
Oid
LeadflowDirectSequence(LeadflowDirect *d, const char *column)
{
	AttrNumber	attnum = LeadflowDirectAttnum(d, column);
	Relation	rel;

	if (d->identity_att == attnum)
		return d->identity_seq;
	if (d->table == RelationGetRelid(d->rel))
		d->identity_seq = LeadflowIdentitySequence(d->rel, attnum);
	else
	{
		rel = table_open(d->table, AccessShareLock);
		d->identity_seq = LeadflowIdentitySequence(rel, attnameAttNum(rel, column, false));
		table_close(rel, AccessShareLock);
	}
	d->identity_att = attnum;
	return d->identity_seq;
}

void
LeadflowDirectClose(LeadflowDirect *d)
{
	ExecCloseIndices(d->rri);
	FreeExecutorState(d->estate);
	table_close(d->rel, NoLock);
}

/*
 * Tables written below the executor, kept open for the statement: opened
 * on first use and closed when the statement ends (LeadflowDirectEndStatement,
 * from the statement-end trigger of leads), so that a table's indexes are
 * opened and its CHECK constraints prepared once per statement, not once
 * per row.  An error releases them with the resource owner they were
 * opened under; they are then forgotten.  A caller outside the leads
 * trigger (no statement_end to come) or under another resource owner (a
 * subtransaction inside a row's work) gets the table for the one call.
 */
#define NDIRECT 10

typedef struct DirectEntry
{
	Oid			relid;			/* the relation opened (a shard under Citus) */
	bool		speculative;
	LeadflowDirect d;
} DirectEntry;

static DirectEntry direct[NDIRECT];
static int	ndirect;
static MemoryContext direct_cxt;
static ResourceOwner direct_owner;
static bool direct_callback;

static void
direct_forget(void)
{
	if (direct_cxt != NULL)
		MemoryContextDelete(direct_cxt);
	direct_cxt = NULL;
	direct_owner = NULL;
	ndirect = 0;
}

/* the statement's resources are released (an error): forget the tables */
static void
direct_release(ResourceReleasePhase phase, bool isCommit, bool isTopLevel, void *arg)
{
	if (phase == RESOURCE_RELEASE_BEFORE_LOCKS && direct_owner != NULL &&
		CurrentResourceOwner == direct_owner)
		direct_forget();
}

/*
 * LeadflowDirectBegin, LeadflowDirectEnd
 *		The statement's open table (LeadflowDirectOpen) of that name,
 *		opened on first use, or *once opened for this call alone; End
 *		closes it if it was the latter.  Per-row allocations of the
 *		caller go in its own context; it resets the per-tuple context of
 *		the table's executor state after each row.
 */
LeadflowDirect *
LeadflowDirectBegin(const char *relname, int64 org_id, bool speculative, LeadflowDirect *once)
{
	DirectEntry *e;
	MemoryContext old;
	Oid			relid;
	int			i;

	if (!direct_callback)
	{
		RegisterResourceReleaseCallback(direct_release, NULL);
		direct_callback = true;
	}
	/* only a statement on leads ends in statement_end, which closes them */
	if ((direct_owner != NULL && direct_owner != CurrentResourceOwner) ||
		LeadflowCurrentRequest()->pipeline_depth == 0)
	{
		LeadflowDirectOpen(once, relname, org_id, speculative);
		return once;
	}
	relid = LeadflowDirectRelid(relname, org_id);
	for (i = 0; i < ndirect; i++)
		if (direct[i].speculative == speculative && direct[i].relid == relid)
			return &direct[i].d;
	if (ndirect == NDIRECT)
		elog(ERROR, "leadflow: more than %d tables written below the executor", NDIRECT);
	if (direct_cxt == NULL)
		direct_cxt = AllocSetContextCreate(TopTransactionContext, "leadflow statement tables",
										   ALLOCSET_SMALL_SIZES);
	direct_owner = CurrentResourceOwner;
	old = MemoryContextSwitchTo(direct_cxt);
	e = &direct[ndirect];
	LeadflowDirectOpen(&e->d, relname, org_id, speculative);
	e->relid = relid;
	e->speculative = speculative;
	ndirect++;
	MemoryContextSwitchTo(old);
	return &e->d;
}

void
LeadflowDirectEnd(LeadflowDirect *d, LeadflowDirect *once)
{
	if (d == once)
		LeadflowDirectClose(once);
	else
		ResetPerTupleExprContext(d->estate);
}

/*
 * LeadflowDirectEndStatement
 *		Closes the statement's tables; the statement-end trigger calls it.
 */
void
LeadflowDirectEndStatement(void)
{
	int			i;

	if (direct_owner == NULL || direct_owner != CurrentResourceOwner)
		return;
	for (i = 0; i < ndirect; i++)
		LeadflowDirectClose(&direct[i].d);
	direct_forget();
}

/*
 * LeadflowIndexNamed
 *		Whether index (of a leadflow table, or of a shard of one under
 *		Citus) is the index name, as leadflow created it.
 */
bool
LeadflowIndexNamed(Relation index, const char *name)
{
	return LeadflowSameName(RelationGetRelationName(index), name);
}

/*
 * LeadflowDirectAllowed
 *		Whether a row the pipeline writes below the executor into rel (an
 *		insert or an update: mode ACL_INSERT or ACL_UPDATE) ends as the SQL
 *		statement would: the role holds the privilege on the table, no
 *		row-level security policy but leadflow's own org policy applies
 *		(the org was checked before the pipeline ran), and every trigger
 *		that statement would fire is one of known[] (leadflow's, whose work
 *		the caller does or which cannot act on its row) or a foreign key's
 *		that cannot fail: on the referenced side of an update (the keys
 *		never change), on the referencing side toward fk_to (a row the
 *		caller holds).  Otherwise the caller takes the SQL path.
 */
bool
LeadflowDirectAllowed(Relation rel, AclMode mode, const char *const *known, int nknown, Oid fk_to)
{
	Oid			relid = RelationGetRelid(rel);
	Oid			role = GetUserId();
	int			i;
	int			j;

	/* leadflow's statements on its internal tables run as their owner */
	if (LeadflowIsInternalTable(relid) && OidIsValid(LeadflowInternalWriter()))
		role = LeadflowInternalWriter();
	if (pg_class_aclcheck(relid, role, mode) != ACLCHECK_OK)
		return false;
	if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED && rel->rd_rsdesc != NULL)
	{
		ListCell   *lc;

		foreach(lc, rel->rd_rsdesc->policies)
			if (strcmp(((RowSecurityPolicy *) lfirst(lc))->policy_name, "leadflow_org_isolation") != 0)
				return false;
	}
	for (i = 0; rel->trigdesc != NULL && i < rel->trigdesc->numtriggers; i++)
	{
		const Trigger *t = &rel->trigdesc->triggers[i];
		int			ri = RI_FKey_trigger_type(t->tgfoid);
		bool		ours = false;

		if (mode == ACL_UPDATE ? !TRIGGER_FOR_UPDATE(t->tgtype) : !TRIGGER_FOR_INSERT(t->tgtype))
			continue;
		if ((ri == RI_TRIGGER_PK && mode == ACL_UPDATE) ||
			(ri == RI_TRIGGER_FK && OidIsValid(fk_to) &&
			 (t->tgconstrrelid == fk_to || LeadflowSameName(get_rel_name(t->tgconstrrelid), get_rel_name(fk_to)))))
			continue;
		for (j = 0; j < nknown; j++)
			ours |= LeadflowSameName(t->tgname, known[j]);
		if (!ours)
			return false;
	}
	return true;
}

/*
 * LeadflowDirectLockByKey
 *		Reads the row of d's table with primary key (org_id, id) (two
 *		bigint columns) and locks it FOR NO KEY UPDATE, as SELECT ... FOR NO
 *		KEY UPDATE or an UPDATE does under the active snapshot (the caller
 *		took it after a new command): at READ COMMITTED it waits for a
 *		concurrent writer and locks the newest version; under a transaction
 *		snapshot a concurrent change is a serialization failure.  Returns
 *		false when there is no such row; else the locked version is in slot
 *		(a slot of the table; tts_tid: where it is).
 */
bool
LeadflowDirectLockByKey(LeadflowDirect *d, int64 org_id, int64 id, TupleTableSlot *slot)
{
	ScanKeyData key[2];

	ScanKeyInit(&key[0], 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(org_id));
	ScanKeyInit(&key[1], 2, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(id));
	return LeadflowDirectLockByKeys(d, key, 2, slot);
}

/*
 * LeadflowDirectLockByKeys
 *		LeadflowDirectLockByKey for any primary key: key holds an equality
 *		on each of its columns, in order (attribute numbers of the index);
 *		each key is compared under its index column's collation.
 */
bool
LeadflowDirectLockByKeys(LeadflowDirect *d, ScanKey key, int nkeys, TupleTableSlot *slot)
{
	Snapshot	snapshot = GetActiveSnapshot();
	Relation	pkey = NULL;
	IndexScanDesc scan;
	TM_FailureData tmfd;
	ItemPointerData tid;
	TM_Result	res;
	bool		found;
	int			i;

	for (i = 0; i < d->rri->ri_NumIndices; i++)
		if (d->rri->ri_IndexRelationDescs[i]->rd_index->indisprimary)
			pkey = d->rri->ri_IndexRelationDescs[i];
	if (pkey == NULL)
		elog(ERROR, "leadflow: %s has no primary key", RelationGetRelationName(d->rel));
	for (i = 0; i < nkeys; i++)
		key[i].sk_collation = pkey->rd_indcollation[key[i].sk_attno - 1];
	scan = LeadflowIndexBeginScan(d->rel, pkey, snapshot, nkeys);
	index_rescan(scan, key, nkeys, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	index_endscan(scan);
	if (!found)
		return false;
	tid = slot->tts_tid;
	res = table_tuple_lock(d->rel, &tid, snapshot, slot, GetCurrentCommandId(false),
						   LockTupleNoKeyExclusive, LockWaitBlock,
						   IsolationUsesXactSnapshot() ? 0 : TUPLE_LOCK_FLAG_FIND_LAST_VERSION,
						   &tmfd);
	switch (res)
	{
		case TM_Ok:
			slot->tts_tid = tid;
			return true;
		case TM_SelfModified:
			ereport(ERROR,
					(errcode(ERRCODE_TRIGGERED_DATA_CHANGE_VIOLATION),
					 errmsg("tuple to be locked was already modified by an operation triggered by the current command")));
			break;
		case TM_Updated:
		case TM_Deleted:
			if (IsolationUsesXactSnapshot())
				ereport(ERROR,
						(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
						 errmsg("could not serialize access due to concurrent %s",
								res == TM_Updated ? "update" : "delete")));
			break;				/* at READ COMMITTED the newest version was followed: gone */
		default:
			elog(ERROR, "leadflow: unexpected result %d locking a row of %s", (int) res,
				 RelationGetRelationName(d->rel));
	}
	return false;
}

/*
 * Whether slot, the new version of old, carries old's stored generated
 * columns and the columns they are computed from unchanged: then their
 * values stand, and computing them again (leads.search_text: a tenth of a
 * duplicate's touch of its survivor) would give the same.  The columns are
 * read from the generation expressions once while d is open.
 */
static bool
generated_unchanged(LeadflowDirect *d, HeapTuple old, TupleTableSlot *slot)
{
	TupleDesc	desc = RelationGetDescr(d->rel);
	int			x = -1;

	if (!d->generated_known)
	{
		MemoryContext cxt = MemoryContextSwitchTo(d->estate->es_query_cxt);
		int			i;

		for (i = 0; i < desc->natts; i++)
			if (TupleDescAttr(desc, i)->attgenerated == ATTRIBUTE_GENERATED_STORED)
			{
				pull_varattnos(build_column_default(d->rel, i + 1), 1, &d->generated_inputs);
				d->generated_inputs = bms_add_member(d->generated_inputs,
													 i + 1 - FirstLowInvalidHeapAttributeNumber);
			}
		d->generated_known = true;
		MemoryContextSwitchTo(cxt);
	}
	while ((x = bms_next_member(d->generated_inputs, x)) >= 0)
	{
		AttrNumber	a = x + FirstLowInvalidHeapAttributeNumber;
		Form_pg_attribute att;
		bool		old_null;
		bool		new_null;
		Datum		old_value;
		Datum		new_value;

		if (a <= 0)				/* a whole-row or system column: compute */
			return false;
		att = TupleDescAttr(desc, a - 1);
		old_value = heap_getattr(old, a, desc, &old_null);
		new_value = slot_getattr(slot, a, &new_null);	/* deformed once, for all below */
		if (old_null != new_null ||
			(!old_null && !datumIsEqual(old_value, new_value, att->attbyval, att->attlen)))
			return false;
	}
	return true;
}

/*
 * LeadflowDirectUpdate, LeadflowDirectUpdateFrom
 *		Writes tuple as the new version of the row at tid of d's table,
 *		which the caller locked (LeadflowDirectLockByKey): its CHECK and
 *		NOT NULL constraints, the heap update, index entries unless the
 *		update was heap-only.  Triggers are the caller's to answer for
 *		(LeadflowDirectAllowed).  UpdateFrom takes the row's old version
 *		(its t_self: where it is), so that stored generated columns whose
 *		inputs did not change are not computed again.
 */
static void
direct_update(LeadflowDirect *d, ItemPointer tid, HeapTuple tuple, HeapTuple old)
{
	TupleTableSlot *slot = MakeSingleTupleTableSlot(RelationGetDescr(d->rel), &TTSOpsHeapTuple);
	TM_FailureData tmfd;
	LockTupleMode lockmode;
	LeadflowUpdateIndexes update_indexes;
	TM_Result	res;

	ExecStoreHeapTuple(tuple, slot, false);
	/*
	 * stored generated columns (none of leadflow's own) follow the new values;
	 * computed as for an INSERT (all of them): an UPDATE's set would come
	 * from a range table this update does not have
	 */
	if (d->rel->rd_att->constr && d->rel->rd_att->constr->has_generated_stored &&
		(old == NULL || !generated_unchanged(d, old, slot)))
		ExecComputeStoredGenerated(d->rri, d->estate, slot, CMD_INSERT);
	if (d->rel->rd_att->constr)
		ExecConstraints(d->rri, slot, d->estate);
	res = table_tuple_update(d->rel, tid, slot, GetCurrentCommandId(true), GetActiveSnapshot(),
							 InvalidSnapshot, true, &tmfd, &lockmode, &update_indexes);
	if (res == TM_SelfModified)
		ereport(ERROR,
				(errcode(ERRCODE_TRIGGERED_DATA_CHANGE_VIOLATION),
				 errmsg("tuple to be updated was already modified by an operation triggered by the current command")));
	if (res != TM_Ok)			/* the row lock is ours: nobody else can */
		elog(ERROR, "leadflow: unexpected result %d updating a row of %s", (int) res,
			 RelationGetRelationName(d->rel));
	if (!LeadflowNoIndexUpdate(update_indexes))
		list_free(LeadflowUpdateIndexTuples(d->rri, slot, d->estate, update_indexes));
	ExecDropSingleTupleTableSlot(slot);
	ResetPerTupleExprContext(d->estate);
}

void
LeadflowDirectUpdate(LeadflowDirect *d, ItemPointer tid, HeapTuple tuple)
{
	direct_update(d, tid, tuple, NULL);
}

void
LeadflowDirectUpdateFrom(LeadflowDirect *d, HeapTuple old, HeapTuple tuple)
{
	direct_update(d, &old->t_self, tuple, old);
}

/*
 * LeadflowDirectUpdateByKey
 *		The UPDATE of one row of d's table by its primary key, below the
 *		executor (LeadflowDirectLockByKey, LeadflowDirectUpdate): ncols
 *		columns set, the rest kept.  Returns false when there is no such
 *		row (nothing updated, as the statement would not).
 */
bool
LeadflowDirectUpdateByKey(LeadflowDirect *d, int64 org_id, int64 id, int ncols,
						  const AttrNumber *attnums, const Datum *values, const bool *nulls)
{
	TupleDesc	desc = RelationGetDescr(d->rel);
	TupleTableSlot *slot = table_slot_create(d->rel, NULL);
	bool		found = LeadflowDirectLockByKey(d, org_id, id, slot);
	int			i;

	if (found)
	{
		Datum	   *v = palloc(desc->natts * sizeof(Datum));
		bool	   *n = palloc(desc->natts * sizeof(bool));

		slot_getallattrs(slot);
		memcpy(v, slot->tts_values, desc->natts * sizeof(Datum));
		memcpy(n, slot->tts_isnull, desc->natts * sizeof(bool));
		for (i = 0; i < ncols; i++)
		{
			v[attnums[i] - 1] = values[i];
			n[attnums[i] - 1] = nulls[i];
		}
		LeadflowDirectUpdate(d, &slot->tts_tid, heap_form_tuple(desc, v, n));
	}
	ExecDropSingleTupleTableSlot(slot);
	return found;
}

/*
 * LeadflowFetchById
 *		Runs a plan that selects one row by an id ($1) that is unique within
 *		an org ("lead", "rep"): error P0002 when there is none (or
 *		row-level security hides it), 21000 with ambiguous_hint when two
 *		orgs use the id.  The caller is connected to SPI; the row is
 *		SPI_tuptable->vals[0].
 */
void
LeadflowFetchById(LeadflowPlan *plan, const char *what, int64 id, bool read_only,
				  const char *ambiguous_hint)
{
	Datum		arg = Int64GetDatum(id);
	int			rc;

	rc = LeadflowExecute(plan, &arg, NULL, read_only, 2);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "leadflow: %s lookup failed: %s", what, SPI_result_code_string(rc));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("%s " INT64_FORMAT " does not exist", what, id)));
	if (SPI_processed > 1)
		ereport(ERROR,
				(errcode(ERRCODE_CARDINALITY_VIOLATION),
				 errmsg("%s id " INT64_FORMAT " is used by more than one org", what, id),
				 errhint("%s", ambiguous_hint)));
}

/* LeadflowFetchById for a lead */
void
LeadflowFetchLead(LeadflowPlan *plan, int64 lead_id, bool read_only)
{
	LeadflowFetchById(plan, "lead", lead_id, read_only,
					  "Set leadflow.org_id and enable tenant isolation, or use distinct lead ids.");
}
