/*-------------------------------------------------------------------------
 *
 * route_state.c
 *	  The rotation state routing decides with: each rep's open leads,
 *	  assignments and weighted-rotation credit (leadflow.rep_load), each
 *	  team's last pick (leadflow.team_rotation), and rule hits
 *	  (leadflow.routing_rule_stats).
 *
 *	  A transaction locks the rows it reads (FOR UPDATE, team before
 *	  members, members by rep_id) and keeps them until commit, so
 *	  concurrent sessions routing into one team take turns and the rotation
 *	  stays exact.  Changes accumulate in transaction buffers (txbuf.h) and
 *	  are written once per statement (LeadflowRouteFlush, from the
 *	  statement-end trigger): a million-row load updates each rep's row
 *	  once, not a million times.  A subtransaction that aborts takes
 *	  exactly its own changes with it.  A simulation works on a private
 *	  copy: no locks, no writes.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "route_state.h"
#include "spi.h"
#include "txbuf.h"

typedef struct RuleHits
{
	LeadflowStateKey	key;
	int64		hits;
	int64		shadow_hits;
	TimestampTz last_hit;
} RuleHits;

/* the transaction's locked state */
static TxbufTable txn_reps = TXBUF_TABLE("leadflow rep state", LeadflowStateKey, LeadflowRepState);
static TxbufTable txn_teams = TXBUF_TABLE("leadflow team state", LeadflowStateKey, LeadflowTeamState);
static TxbufTable txn_hits = TXBUF_TABLE("leadflow rule hits", LeadflowStateKey, RuleHits);
static const TxbufClient route_client = {"routing", LeadflowRouteFlush, NULL, NULL};

static LeadflowPlan rep_rows_plan = {
	NULL,
	"INSERT INTO leadflow.rep_load (org_id, rep_id)"
	" SELECT $1, r FROM pg_catalog.unnest($2::bigint[]) r ON CONFLICT DO NOTHING",
	2, {INT8OID, INT8ARRAYOID}
};

static LeadflowPlan rep_lock_plan = {
	NULL,
	"SELECT rep_id, open_leads, assigned_total, last_assigned_at, current_weight"
	" FROM leadflow.rep_load WHERE org_id OPERATOR(pg_catalog.=) $1"
	" AND rep_id OPERATOR(pg_catalog.=) ANY ($2) ORDER BY rep_id FOR UPDATE",
	2, {INT8OID, INT8ARRAYOID}
};

static LeadflowPlan rep_peek_plan = {
	NULL,
	"SELECT rep_id, open_leads, assigned_total, last_assigned_at, current_weight"
	" FROM leadflow.rep_load WHERE org_id OPERATOR(pg_catalog.=) $1"
	" AND rep_id OPERATOR(pg_catalog.=) ANY ($2)",
	2, {INT8OID, INT8ARRAYOID}
};

static LeadflowPlan team_lock_plan = {
	NULL,
	"SELECT last_rep_id FROM leadflow.team_rotation"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 AND team_id OPERATOR(pg_catalog.=) $2 FOR UPDATE",
	2, {INT8OID, INT8OID}
};

static LeadflowPlan team_row_plan = {
	NULL,
	"INSERT INTO leadflow.team_rotation (org_id, team_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
	2, {INT8OID, INT8OID}
};

static LeadflowPlan team_peek_plan = {
	NULL,
	"SELECT last_rep_id FROM leadflow.team_rotation"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 AND team_id OPERATOR(pg_catalog.=) $2",
	2, {INT8OID, INT8OID}
};

static HTAB *
make_table(const char *name, Size entrysize, MemoryContext cxt)
{
	HASHCTL		ctl;

	ctl.keysize = sizeof(LeadflowStateKey);
	ctl.entrysize = entrysize;
	ctl.hcxt = cxt;
	return hash_create(name, 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
}

/*
 * The state of a rep or team: the simulation's private copy, or the
 * transaction's buffer.  state_find is for reading; state_enter returns
 * an entry ready to be changed (a new one is zero).  A subtransaction
 * that aborts puts the buffer's entries back as they were when it began;
 * the row locks it took go with it, and so do the entries it read.
 */
static void *
state_find(LeadflowRotation *c, bool team, const LeadflowStateKey *key)
{
	if (c->simulate)
		return hash_search(team ? c->teams : c->reps, key, HASH_FIND, NULL);
	return TxbufFind(team ? &txn_teams : &txn_reps, key);
}

static void *
state_enter(LeadflowRotation *c, bool team, const LeadflowStateKey *key, bool *found)
{
	if (c->simulate)
		return hash_search(team ? c->teams : c->reps, key, HASH_ENTER, found);
	return TxbufEnter(team ? &txn_teams : &txn_reps, key, found);
}

/*
 * LeadflowRotationInit
 *		The rotation state of an org as routing sees it: the transaction's
 *		buffer (rows locked when read, written at the statement's end), or
 *		for a simulation a private copy in the current memory context.
 */
void
LeadflowRotationInit(LeadflowRotation *c, int64 org_id, bool simulate)
{
	memset(c, 0, sizeof(LeadflowRotation));
	c->org_id = org_id;
	c->simulate = simulate;
	if (simulate)
	{
		c->reps = make_table("leadflow simulated rep state", sizeof(LeadflowRepState), CurrentMemoryContext);
		c->teams = make_table("leadflow simulated team state", sizeof(LeadflowTeamState), CurrentMemoryContext);
	}
	else
		TxbufRegister(&route_client);
}

/*
 * LeadflowRotationLoadReps
 *		Makes sure the state of these reps is in the rotation: read (and, unless
 * simulating, locked) in one query for those not there yet.  A simulation
 * starts from the transaction's own unflushed state where it has some.
 */
void
LeadflowRotationLoadReps(LeadflowRotation *c, const int64 *rep_ids, int n)
{
	Datum	   *missing = palloc(sizeof(Datum) * Max(n, 1));
	int			nmissing = 0;
	Datum		args[2];
	uint64		i;
	int			k;
	int			rc;

	for (k = 0; k < n; k++)
	{
		LeadflowStateKey	key = {c->org_id, rep_ids[k]};
		LeadflowRepState   *own;

		if (state_find(c, false, &key) != NULL)
			continue;
		if (c->simulate && (own = TxbufFind(&txn_reps, &key)) != NULL)
		{
			LeadflowRepState   *st = hash_search(c->reps, &key, HASH_ENTER, NULL);

			memcpy(st, own, sizeof(LeadflowRepState));
			continue;
		}
		missing[nmissing++] = Int64GetDatum(rep_ids[k]);
	}
	if (nmissing == 0)
		return;

	args[0] = Int64GetDatum(c->org_id);
	args[1] = PointerGetDatum(construct_array(missing, nmissing, INT8OID, 8, true, TYPALIGN_DOUBLE));
	SPI_connect();
	rc = LeadflowExecute(c->simulate ? &rep_peek_plan : &rep_lock_plan,
						  args, NULL, c->simulate, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "leadflow: rep_load lookup failed: %s", SPI_result_code_string(rc));
	if (!c->simulate && SPI_processed < (uint64) nmissing)
	{
		/* reps routed to for the first time get their row, then we lock all */
		rc = LeadflowExecute(&rep_rows_plan, args, NULL, false, 0);
		if (rc != SPI_OK_INSERT)
			elog(ERROR, "leadflow: rep_load insert failed: %s", SPI_result_code_string(rc));
		rc = LeadflowExecute(&rep_lock_plan, args, NULL, false, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "leadflow: rep_load lookup failed: %s", SPI_result_code_string(rc));
	}
	/* reps without a row (simulation only) start from zero */
	for (k = 0; k < nmissing; k++)
	{
		LeadflowStateKey	key = {c->org_id, DatumGetInt64(missing[k])};
		LeadflowRepState   *st = state_enter(c, false, &key, NULL);

		memset((char *) st + sizeof(LeadflowStateKey), 0, sizeof(LeadflowRepState) - sizeof(LeadflowStateKey));
	}
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		d;
		LeadflowStateKey	key;
		LeadflowRepState   *st;

		key.org_id = c->org_id;
		key.id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		st = state_enter(c, false, &key, NULL);
		st->open_leads = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
		st->assigned_total = DatumGetInt64(SPI_getbinval(tup, desc, 3, &isnull));
		d = SPI_getbinval(tup, desc, 4, &isnull);
		st->last_assigned_at = isnull ? 0 : DatumGetTimestampTz(d);
		st->current_weight = DatumGetInt64(SPI_getbinval(tup, desc, 5, &isnull));
		st->dirty = false;
	}
	SPI_finish();
}

/* the rep's state, ready to be changed */
LeadflowRepState *
LeadflowRotationRep(LeadflowRotation *c, int64 rep_id)
{
	LeadflowStateKey	key = {c->org_id, rep_id};

	LeadflowRotationLoadReps(c, &rep_id, 1);
	return state_enter(c, false, &key, NULL);
}

LeadflowTeamState *
LeadflowRotationTeam(LeadflowRotation *c, int64 team_id)
{
	LeadflowStateKey	key = {c->org_id, team_id};
	LeadflowTeamState  *st;
	LeadflowTeamState  *own;
	Datum		args[2];
	bool		found;
	bool		isnull;
	int			rc;

	st = state_enter(c, true, &key, &found);
	if (found)
		return st;
	st->last_rep_id = 0;
	st->dirty = false;
	if (c->simulate && (own = TxbufFind(&txn_teams, &key)) != NULL)
	{
		st->last_rep_id = own->last_rep_id;
		return st;
	}
	args[0] = Int64GetDatum(c->org_id);
	args[1] = Int64GetDatum(team_id);
	SPI_connect();
	rc = LeadflowExecute(c->simulate ? &team_peek_plan : &team_lock_plan,
						  args, NULL, c->simulate, 0);
	if (rc == SPI_OK_SELECT && SPI_processed == 0 && !c->simulate)
	{
		/* a team's first routing: make its row, then lock it */
		rc = LeadflowExecute(&team_row_plan, args, NULL, false, 0);
		if (rc != SPI_OK_INSERT)
			elog(ERROR, "leadflow: team_rotation insert failed: %s", SPI_result_code_string(rc));
		rc = LeadflowExecute(&team_lock_plan, args, NULL, false, 0);
	}
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "leadflow: team_rotation lookup failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		st->last_rep_id = isnull ? 0 : DatumGetInt64(d);
	}
	SPI_finish();
	return st;
}

/*
 * LeadflowRotationCountHit
 *		Counts a decision (or a shadow rule's match) of a routing rule for
 *		routing_rule_stats, written at the statement's end.
 */
void
LeadflowRotationCountHit(LeadflowRotation *c, int64 rule_id, bool shadow, TimestampTz now)
{
	LeadflowStateKey key = {c->org_id, rule_id};
	RuleHits   *h;
	bool		found;

	if (c->simulate)
		return;
	h = TxbufEnter(&txn_hits, &key, &found);
	if (!found)
		h->hits = h->shadow_hits = 0;
	if (shadow)
		h->shadow_hits++;
	else
		h->hits++;
	h->last_hit = now;
}

/*
 * LeadflowRouteAdjustLoad
 *		Changes a rep's open-lead count by delta (a lead assigned away,
 *		closed or reopened), locking the rep's row until commit.
 */
void
LeadflowRouteAdjustLoad(int64 org_id, int64 rep_id, int delta)
{
	LeadflowRotation c;
	LeadflowRepState *st;

	LeadflowRotationInit(&c, org_id, false);
	st = LeadflowRotationRep(&c, rep_id);
	st->open_leads = Max(st->open_leads + delta, 0);
	st->dirty = true;
}

/*
 * The flush writes each kind of state in one statement, whatever the number
 * of rows: a weighted rotation changes every member of a team on each
 * assignment, and a statement per rep would cost a single-row insert more
 * than the rest of its pipeline.
 */
static LeadflowPlan rep_flush_plan = {
	NULL,
	"UPDATE leadflow.rep_load r SET open_leads = u.open_leads, assigned_total = u.assigned_total,"
	" last_assigned_at = u.last_assigned_at, current_weight = u.current_weight"
	" FROM ROWS FROM (pg_catalog.unnest($1::bigint[]), pg_catalog.unnest($2::bigint[]),"
	" pg_catalog.unnest($3::integer[]), pg_catalog.unnest($4::bigint[]),"
	" pg_catalog.unnest($5::timestamptz[]), pg_catalog.unnest($6::bigint[]))"
	" AS u(org_id, rep_id, open_leads, assigned_total, last_assigned_at, current_weight)"
	" WHERE r.org_id OPERATOR(pg_catalog.=) u.org_id AND r.rep_id OPERATOR(pg_catalog.=) u.rep_id",
	6, {INT8ARRAYOID, INT8ARRAYOID, INT4ARRAYOID, INT8ARRAYOID, TIMESTAMPTZARRAYOID, INT8ARRAYOID}
};

static LeadflowPlan team_flush_plan = {
	NULL,
	"UPDATE leadflow.team_rotation t SET last_rep_id = u.last_rep_id"
	" FROM ROWS FROM (pg_catalog.unnest($1::bigint[]), pg_catalog.unnest($2::bigint[]),"
	" pg_catalog.unnest($3::bigint[])) AS u(org_id, team_id, last_rep_id)"
	" WHERE t.org_id OPERATOR(pg_catalog.=) u.org_id AND t.team_id OPERATOR(pg_catalog.=) u.team_id",
	3, {INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID}
};

static LeadflowPlan hits_flush_plan = {
	NULL,
	"INSERT INTO leadflow.routing_rule_stats AS s (org_id, rule_id, hits, shadow_hits, last_hit)"
	" SELECT * FROM ROWS FROM (pg_catalog.unnest($1::bigint[]), pg_catalog.unnest($2::bigint[]),"
	" pg_catalog.unnest($3::bigint[]), pg_catalog.unnest($4::bigint[]),"
	" pg_catalog.unnest($5::timestamptz[])) ORDER BY 1, 2"	/* lock order: no deadlock */
	" ON CONFLICT (org_id, rule_id) DO UPDATE"
	" SET hits = s.hits OPERATOR(pg_catalog.+) excluded.hits,"
	" shadow_hits = s.shadow_hits OPERATOR(pg_catalog.+) excluded.shadow_hits,"
	" last_hit = GREATEST(s.last_hit, excluded.last_hit)",
	5, {INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, TIMESTAMPTZARRAYOID}
};

/* columns of a flush, gathered from a hash table of state */
typedef struct FlushCols
{
	int			n;
	int			max;
	Datum	   *v[6];
	bool	   *isnull[6];
} FlushCols;

static void
flush_cols_init(FlushCols *f, long max)
{
	int			c;

	f->n = 0;
	f->max = Max(max, 1);
	for (c = 0; c < 6; c++)
	{
		f->v[c] = palloc(sizeof(Datum) * f->max);
		f->isnull[c] = palloc0(sizeof(bool) * f->max);
	}
}

/* all flushed columns are 8-byte pass-by-value (bigint, timestamptz) or integer */
static Datum
flush_array(FlushCols *f, int c, Oid elemtype)
{
	int			dims[1] = {f->n};
	int			lbs[1] = {1};
	bool		int4 = elemtype == INT4OID;

	return PointerGetDatum(construct_md_array(f->v[c], f->isnull[c], 1, dims, lbs, elemtype,
											  int4 ? 4 : 8, true,
											  int4 ? TYPALIGN_INT : TYPALIGN_DOUBLE));
}

static void
flush_run(LeadflowPlan *plan, FlushCols *f, const Oid *types, int ncols, int expected_rc)
{
	Datum		args[6];
	int			c;
	int			rc;

	if (f->n == 0)
		return;
	for (c = 0; c < ncols; c++)
		args[c] = flush_array(f, c, types[c]);
	rc = LeadflowExecute(plan, args, NULL, false, 0);
	if (rc != expected_rc)
		elog(ERROR, "leadflow: routing state flush failed: %s", SPI_result_code_string(rc));
}

/*
 * The UPDATE a flush runs on rep_load or team_rotation (columns: the key,
 * then what it sets), done below the executor: one row version per rep or
 * team, under the caller's snapshot, on rows this transaction locked when
 * it read them.  Returns false, having written nothing, when only the
 * statement does it exactly (spi.c LeadflowDirectAllowed): the caller
 * runs it.
 */
static bool
flush_direct(const char *table, const char *const *columns, int ncols, FlushCols *f,
			 const char *trigger, const char *referenced)
{
	LeadflowDirect once;
	LeadflowDirect *d;
	AttrNumber	attnums[6];
	Datum		values[6];
	bool		nulls[6];
	int			row;
	int			c;

	if (f->n == 0)
		return true;
	/* under Citus, rows of orgs on several shards: the statement routes them */
	if (LeadflowDirectRunLength(table, f->v[0], sizeof(Datum), 0, f->n) < f->n)
		return false;
	d = LeadflowDirectBegin(table, DatumGetInt64(f->v[0][0]), false, &once);
	if (!LeadflowDirectAllowed(d->rel, ACL_UPDATE, &trigger, 1,
							   get_relname_relid(referenced, RelationGetNamespace(d->rel))))
	{
		LeadflowDirectEnd(d, &once);
		return false;
	}
	for (c = 2; c < ncols; c++)
		attnums[c - 2] = LeadflowDirectAttnum(d, columns[c]);
	for (row = 0; row < f->n; row++)
	{
		for (c = 2; c < ncols; c++)
		{
			values[c - 2] = f->v[c][row];
			nulls[c - 2] = f->isnull[c][row];
		}
		(void) LeadflowDirectUpdateByKey(d, DatumGetInt64(f->v[0][row]), DatumGetInt64(f->v[1][row]),
										 ncols - 2, attnums, values, nulls);
	}
	LeadflowDirectEnd(d, &once);
	return true;
}

/* rule hits in the upsert's lock order: (org_id, rule_id) */
static int
hits_cmp(const void *a, const void *b)
{
	const RuleHits *x = (const RuleHits *) a;
	const RuleHits *y = (const RuleHits *) b;

	if (x->key.org_id != y->key.org_id)
		return x->key.org_id < y->key.org_id ? -1 : 1;
	if (x->key.id != y->key.id)
		return x->key.id < y->key.id ? -1 : 1;
	return 0;
}

/*
 * The rule hits added to their routing_rule_stats rows below the
 * executor, as the upsert's ON CONFLICT DO UPDATE would, in its lock
 * order: each row locked (its newest version at READ COMMITTED), then
 * written with the sums.  Stops at the first rule without a row (a new
 * row is the upsert's: its foreign key's check and lock) and returns how
 * many it wrote: the rest, all later in that order, go to the upsert.
 */
static int
hits_direct(RuleHits *rows, int n)
{
	static const char *const trigger = "routing_rule_stats_leadflow_only";
	LeadflowDirect once;
	LeadflowDirect *d;
	TupleTableSlot *slot;
	AttrNumber	att[3];
	int			done;

	if (n == 0)
		return 0;
	/* under Citus, the rows on the first one's shard; the statement the rest */
	n = LeadflowDirectRunLength("routing_rule_stats", rows, sizeof(RuleHits), offsetof(RuleHits, key.org_id), n);
	d = LeadflowDirectBegin("routing_rule_stats", rows[0].key.org_id, false, &once);
	if (!LeadflowDirectAllowed(d->rel, ACL_UPDATE, &trigger, 1,
							   get_relname_relid("routing_rules", RelationGetNamespace(d->rel))))
	{
		LeadflowDirectEnd(d, &once);
		return 0;
	}
	att[0] = LeadflowDirectAttnum(d, "hits");
	att[1] = LeadflowDirectAttnum(d, "shadow_hits");
	att[2] = LeadflowDirectAttnum(d, "last_hit");
	slot = table_slot_create(d->rel, NULL);
	qsort(rows, n, sizeof(RuleHits), hits_cmp);
	for (done = 0; done < n; done++)
	{
		RuleHits   *h = &rows[done];
		TupleDesc	desc = RelationGetDescr(d->rel);
		Datum	   *v;
		bool	   *isnull;
		TimestampTz last;

		if (!LeadflowDirectLockByKey(d, h->key.org_id, h->key.id, slot))
			break;
		slot_getallattrs(slot);
		v = palloc(desc->natts * sizeof(Datum));
		isnull = palloc(desc->natts * sizeof(bool));
		memcpy(v, slot->tts_values, desc->natts * sizeof(Datum));
		memcpy(isnull, slot->tts_isnull, desc->natts * sizeof(bool));
		/* hits = s.hits + excluded.hits, ..., last_hit = GREATEST(s.last_hit, excluded.last_hit) */
		v[att[0] - 1] = Int64GetDatum(DatumGetInt64(v[att[0] - 1]) + h->hits);
		v[att[1] - 1] = Int64GetDatum(DatumGetInt64(v[att[1] - 1]) + h->shadow_hits);
		last = isnull[att[2] - 1] ? h->last_hit : Max(DatumGetTimestampTz(v[att[2] - 1]), h->last_hit);
		v[att[2] - 1] = TimestampTzGetDatum(last);
		isnull[att[2] - 1] = false;
		LeadflowDirectUpdate(d, &slot->tts_tid, heap_form_tuple(desc, v, isnull));
	}
	ExecDropSingleTupleTableSlot(slot);
	LeadflowDirectEnd(d, &once);
	return done;
}

/*
 * LeadflowRouteFlush
 *		Writes the changed rotation state and rule hits of this
 *		transaction: one row version per changed rep and team (written
 *		below the executor, else one UPDATE of rep_load and one of
 *		team_rotation) and one upsert of routing_rule_stats, however many
 *		leads the statement routed.
 */
void
LeadflowRouteFlush(void)
{
	static const Oid rep_types[6] = {INT8OID, INT8OID, INT4OID, INT8OID, TIMESTAMPTZOID, INT8OID};
	static const Oid team_types[3] = {INT8OID, INT8OID, INT8OID};
	static const Oid hit_types[5] = {INT8OID, INT8OID, INT8OID, INT8OID, TIMESTAMPTZOID};
	static const char *const rep_columns[6] = {
		"org_id", "rep_id", "open_leads", "assigned_total", "last_assigned_at", "current_weight"
	};
	static const char *const team_columns[3] = {"org_id", "team_id", "last_rep_id"};
	HASH_SEQ_STATUS seq;
	LeadflowRepState   *rs;
	LeadflowTeamState  *ts;
	RuleHits   *h;
	RuleHits   *hits;
	int			nhits;
	int			i;
	FlushCols	f;

	if (TxbufTableSize(&txn_reps) == 0 && TxbufTableSize(&txn_teams) == 0 &&
		TxbufTableSize(&txn_hits) == 0)
		return;
	SPI_connect();
	/* what an UPDATE statement would see: a new command and snapshot */
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	UpdateActiveSnapshotCommandId();

	flush_cols_init(&f, TxbufTableSize(&txn_reps));
	TxbufSeqInit(&txn_reps, &seq);
	while ((rs = TxbufSeqNext(&txn_reps, &seq)) != NULL)
	{
		if (!rs->dirty)
			continue;
		TxbufTouch(&txn_reps, rs);
		f.v[0][f.n] = Int64GetDatum(rs->key.org_id);
		f.v[1][f.n] = Int64GetDatum(rs->key.id);
		f.v[2][f.n] = Int32GetDatum(rs->open_leads);
		f.v[3][f.n] = Int64GetDatum(rs->assigned_total);
		f.v[4][f.n] = TimestampTzGetDatum(rs->last_assigned_at);
		f.isnull[4][f.n] = rs->last_assigned_at == 0;
		f.v[5][f.n] = Int64GetDatum(rs->current_weight);
		f.n++;
		rs->dirty = false;
	}
	if (!flush_direct("rep_load", rep_columns, 6, &f, "rep_load_leadflow_only", "reps"))
		flush_run(&rep_flush_plan, &f, rep_types, 6, SPI_OK_UPDATE);

	flush_cols_init(&f, TxbufTableSize(&txn_teams));
	TxbufSeqInit(&txn_teams, &seq);
	while ((ts = TxbufSeqNext(&txn_teams, &seq)) != NULL)
	{
		if (!ts->dirty)
			continue;
		TxbufTouch(&txn_teams, ts);
		f.v[0][f.n] = Int64GetDatum(ts->key.org_id);
		f.v[1][f.n] = Int64GetDatum(ts->key.id);
		f.v[2][f.n] = Int64GetDatum(ts->last_rep_id);
		f.n++;
		ts->dirty = false;
	}
	if (!flush_direct("team_rotation", team_columns, 3, &f, "team_rotation_leadflow_only", "teams"))
		flush_run(&team_flush_plan, &f, team_types, 3, SPI_OK_UPDATE);

	hits = palloc(sizeof(RuleHits) * Max(TxbufTableSize(&txn_hits), 1));
	nhits = 0;
	TxbufSeqInit(&txn_hits, &seq);
	while ((h = TxbufSeqNext(&txn_hits, &seq)) != NULL)
	{
		hits[nhits++] = *h;
		TxbufRemove(&txn_hits, h);
	}
	flush_cols_init(&f, nhits);
	for (i = hits_direct(hits, nhits); i < nhits; i++)
	{
		f.v[0][f.n] = Int64GetDatum(hits[i].key.org_id);
		f.v[1][f.n] = Int64GetDatum(hits[i].key.id);
		f.v[2][f.n] = Int64GetDatum(hits[i].hits);
		f.v[3][f.n] = Int64GetDatum(hits[i].shadow_hits);
		f.v[4][f.n] = TimestampTzGetDatum(hits[i].last_hit);
		f.n++;
	}
	flush_run(&hits_flush_plan, &f, hit_types, 5, SPI_OK_INSERT);
	PopActiveSnapshot();
	SPI_finish();
}
