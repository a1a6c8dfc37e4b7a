/*-------------------------------------------------------------------------
 *
 * predict_counts.c
 *	  Writes the prediction count changes of a statement: the rows that
 *	  exist updated below the executor, in the upsert's lock order, as its
 *	  ON CONFLICT DO UPDATE would; from the first key without a row on, the
 *	  upsert and the prune of values no closed lead has any more.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/varlena.h"

#include "predict_int.h"
#include "spi.h"

/* adds deltas, in key order (no deadlock between two closing leads) */
static LeadflowPlan add_plan = {
	NULL,
	"INSERT INTO leadflow.prediction_counts AS c (org_id, feature, value, converted, lost)"
	" SELECT u.o, u.f, u.v, pg_catalog.sum(u.dc), pg_catalog.sum(u.dl)"
	"   FROM ROWS FROM (pg_catalog.unnest($1::bigint[]), pg_catalog.unnest($2::text[]),"
	"                   pg_catalog.unnest($3::text[]), pg_catalog.unnest($4::bigint[]),"
	"                   pg_catalog.unnest($5::bigint[])) AS u(o, f, v, dc, dl)"
	"  GROUP BY u.o, u.f, u.v ORDER BY u.o, u.f, u.v"
	" ON CONFLICT (org_id, feature, value) DO UPDATE"
	"    SET converted = c.converted OPERATOR(pg_catalog.+) EXCLUDED.converted,"
	"        lost = c.lost OPERATOR(pg_catalog.+) EXCLUDED.lost",
	5, {INT8ARRAYOID, TEXTARRAYOID, TEXTARRAYOID, INT8ARRAYOID, INT8ARRAYOID}
};

/* a value no labelled lead has any more: gone, as in a full retrain */
static LeadflowPlan prune_plan = {
	NULL,
	"DELETE FROM leadflow.prediction_counts"
	" WHERE org_id OPERATOR(pg_catalog.=) ANY ($1::bigint[])"
	"   AND converted OPERATOR(pg_catalog.=) 0 AND lost OPERATOR(pg_catalog.=) 0",
	1, {INT8ARRAYOID}
};

static Datum
array_of(Datum *elems, int n, Oid type)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;

	get_typlenbyvalalign(type, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_array(elems, n, type, typlen, typbyval, typalign));
}

/* the upsert's order (ORDER BY u.o, u.f, u.v), its lock order */
static int
delta_cmp(const void *a, const void *b)
{
	const PredictCountDelta *x = a;
	const PredictCountDelta *y = b;
	int			res;

	if (x->org_id != y->org_id)
		return x->org_id < y->org_id ? -1 : 1;
	res = varstr_cmp(x->feature, strlen(x->feature), y->feature, strlen(y->feature),
					 DEFAULT_COLLATION_OID);
	if (res == 0)
		res = varstr_cmp(x->value, strlen(x->value), y->value, strlen(y->value),
						 DEFAULT_COLLATION_OID);
	return res;
}

/*
 * The changes added to their prediction_counts rows below the executor,
 * as the upsert's ON CONFLICT DO UPDATE would, in its lock order: each row
 * locked (its newest version at READ COMMITTED), then written with the
 * sums.  Stops at the first key without a row (a new row is the upsert's:
 * its foreign key's check) or whose row the change leaves at 0/0 (the
 * prune's) and returns how many it wrote: the rest, all later in that
 * order, go to the SQL statements.
 */
static int
counts_direct(PredictCountDelta *rows, int n)
{
	static const char *const trigger = "prediction_counts_leadflow_only";
	LeadflowDirect once;
	LeadflowDirect *d;
	TupleTableSlot *slot;
	TupleDesc	desc;
	AttrNumber	att[2];
	int			done;

	if (n == 0)
		return 0;
	/* under Citus, the rows on the first one's shard; the statement the rest */
	n = LeadflowDirectRunLength("prediction_counts", rows, sizeof(PredictCountDelta),
								offsetof(PredictCountDelta, org_id), n);
	d = LeadflowDirectBegin("prediction_counts", rows[0].org_id, false, &once);
	if (!LeadflowDirectAllowed(d->rel, ACL_UPDATE, &trigger, 1,
							   get_relname_relid("orgs", RelationGetNamespace(d->rel))))
	{
		LeadflowDirectEnd(d, &once);
		return 0;
	}
	desc = RelationGetDescr(d->rel);
	att[0] = LeadflowDirectAttnum(d, "converted");
	att[1] = LeadflowDirectAttnum(d, "lost");
	slot = table_slot_create(d->rel, NULL);
	for (done = 0; done < n; done++)
	{
		PredictCountDelta *r = &rows[done];
		ScanKeyData key[3];
		Datum	   *v;
		bool	   *isnull;
		int64		converted;
		int64		lost;

		ScanKeyInit(&key[0], 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(r->org_id));
		ScanKeyInit(&key[1], 2, BTEqualStrategyNumber, F_TEXTEQ, CStringGetTextDatum(r->feature));
		ScanKeyInit(&key[2], 3, BTEqualStrategyNumber, F_TEXTEQ, CStringGetTextDatum(r->value));
		if (!LeadflowDirectLockByKeys(d, key, 3, slot))
			break;
		slot_getallattrs(slot);
		/* converted = c.converted + excluded.converted, lost likewise */
		converted = DatumGetInt64(slot->tts_values[att[0] - 1]) + r->converted;
		lost = DatumGetInt64(slot->tts_values[att[1] - 1]) + r->lost;
		if (converted == 0 && lost == 0)
			break;
		v = palloc(desc->natts * sizeof(Datum));
		isnull = palloc(desc->natts * sizeof(bool));
		memcpy(v, slot->tts_values, desc->natts * sizeof(Datum));
		memcpy(isnull, slot->tts_isnull, desc->natts * sizeof(bool));
		v[att[0] - 1] = Int64GetDatum(converted);
		v[att[1] - 1] = Int64GetDatum(lost);
		LeadflowDirectUpdate(d, &slot->tts_tid, heap_form_tuple(desc, v, isnull));
	}
	ExecDropSingleTupleTableSlot(slot);
	LeadflowDirectEnd(d, &once);
	return done;
}

/*
 * LeadflowPredictWriteCounts
 *		Adds the n changes (each key once) to leadflow.prediction_counts,
 *		in key order (no deadlock between two statements closing leads).
 */
void
LeadflowPredictWriteCounts(PredictCountDelta *rows, int n)
{
	Datum	   *o = palloc(n * sizeof(Datum));
	Datum	   *f = palloc(n * sizeof(Datum));
	Datum	   *v = palloc(n * sizeof(Datum));
	Datum	   *dc = palloc(n * sizeof(Datum));
	Datum	   *dl = palloc(n * sizeof(Datum));
	Datum		args[5];
	int			nsql = 0;
	int			j;
	int			rc;

	qsort(rows, n, sizeof(PredictCountDelta), delta_cmp);
	SPI_connect();
	/* what the upsert would see: a new command and snapshot */
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	UpdateActiveSnapshotCommandId();
	for (j = counts_direct(rows, n); j < n; j++, nsql++)
	{
		o[nsql] = Int64GetDatum(rows[j].org_id);
		f[nsql] = CStringGetTextDatum(rows[j].feature);
		v[nsql] = CStringGetTextDatum(rows[j].value);
		dc[nsql] = Int64GetDatum(rows[j].converted);
		dl[nsql] = Int64GetDatum(rows[j].lost);
	}
	if (nsql > 0)
	{
		/* a row left at 0/0 can only be one of these: the prune follows them */
		args[0] = array_of(o, nsql, INT8OID);
		args[1] = array_of(f, nsql, TEXTOID);
		args[2] = array_of(v, nsql, TEXTOID);
		args[3] = array_of(dc, nsql, INT8OID);
		args[4] = array_of(dl, nsql, INT8OID);
		rc = LeadflowExecute(&add_plan, args, NULL, false, 0);
		if (rc != SPI_OK_INSERT)
			elog(ERROR, "leadflow: prediction counts update failed: %s", SPI_result_code_string(rc));
		args[0] = array_of(o, nsql, INT8OID);
		rc = LeadflowExecute(&prune_plan, args, NULL, false, 0);
		if (rc != SPI_OK_DELETE)
			elog(ERROR, "leadflow: prediction counts update failed: %s", SPI_result_code_string(rc));
	}
	PopActiveSnapshot();
	SPI_finish();
}
