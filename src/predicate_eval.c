/*-------------------------------------------------------------------------
 *
 * predicate_eval.c
 *	  Evaluation of a compiled predicate (predicate.c) against one lead
 *	  row: each field loaded at most once per row, no parsing, no SPI.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "nodes/makefuncs.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/formatting.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"
#include "utils/varlena.h"

#include "compat.h"
#include "predicate.h"
#include "predicate_int.h"

/* a field's value in the row being evaluated, loaded on first use */
typedef struct SlotValue
{
	bool		loaded;
	bool		missing;
	bool		folded;			/* str holds the folded text form */
	bool		b;
	enum jbvType jtype;			/* FT_ATTR: jbvString, jbvNumeric, jbvBool,
								 * jbvBinary (object or array) */
	int			len;
	const char *str;
	int64		i64;
	Numeric		num;
} SlotValue;

typedef struct EvalState
{
	const LeadflowPredicate *pred;
	Datum	   *values;
	bool	   *nulls;
	SlotValue  *slots;
	Jsonb	   *attrs;			/* the attributes column, detoasted once */
	bool		attrs_loaded;
} EvalState;

PG_FUNCTION_INFO_V1(leadflow_predicate_matches);

/*
 * load_slot
 *		Loads the value of field i from the row into its slot: missing or
 *		not, and its compared form (text is folded when first compared).
 *		Called by eval_cond; allocations in CurrentMemoryContext.
 */
static void
load_slot(EvalState *st, int i)
{
	const PredField *f = &st->pred->fields[i];
	SlotValue  *sv = &st->slots[i];
	Datum		d = st->values[f->attnum - 1];

	sv->loaded = true;
	sv->folded = false;
	sv->missing = st->nulls[f->attnum - 1];
	if (sv->missing)
		return;

	switch (f->type)
	{
		case FT_TEXT:
			{
				text	   *t = DatumGetTextPP(d);

				sv->str = VARDATA_ANY(t);
				sv->len = VARSIZE_ANY_EXHDR(t);
				break;
			}
		case FT_INT:
			if (f->typid == INT2OID)
				sv->i64 = DatumGetInt16(d);
			else if (f->typid == INT4OID)
				sv->i64 = DatumGetInt32(d);
			else
				sv->i64 = DatumGetInt64(d);
			sv->num = NULL;		/* made when a fractional constant needs it */
			break;
		case FT_NUMERIC:
			sv->num = DatumGetNumeric(d);
			break;
		case FT_BOOL:
			sv->b = DatumGetBool(d);
			break;
		case FT_TIMESTAMP:
			sv->i64 = DatumGetTimestampTz(d);
			break;
		case FT_ATTR:
			{
				JsonbValue	res;
				JsonbValue *v;

				if (!st->attrs_loaded)
				{
					st->attrs = DatumGetJsonbP(d);
					st->attrs_loaded = true;
				}
				if (!JB_ROOT_IS_OBJECT(st->attrs))
				{
					sv->missing = true;
					return;
				}
				v = getKeyJsonValueFromContainer(&st->attrs->root, f->key, f->keylen, &res);
				if (v == NULL || v->type == jbvNull)
				{
					sv->missing = true;
					return;
				}
				sv->jtype = v->type;
				switch (v->type)
				{
					case jbvString:
						sv->str = v->val.string.val;
						sv->len = v->val.string.len;
						break;
					case jbvNumeric:
						sv->num = v->val.numeric;
						sv->str = NULL;		/* printed when compared as text */
						break;
					case jbvBool:
						sv->b = v->val.boolean;
						sv->str = v->val.boolean ? "true" : "false";
						sv->len = strlen(sv->str);
						sv->folded = true;
						break;
					default:
						/* an object or array: present, equal to nothing */
						sv->jtype = jbvBinary;
						break;
				}
				break;
			}
		case FT_OTHER:
			break;
	}
}

/*
 * slot_text
 *		The folded text form of a loaded text or attribute value.  Called by
 *		the comparisons; allocations in CurrentMemoryContext.
 */
static inline void
slot_text(SlotValue *sv)
{
	if (sv->folded)
		return;
	if (sv->str == NULL)
	{
		/* an attribute number compared as text */
		sv->str = predicate_numeric_text(sv->num);
		sv->len = strlen(sv->str);
	}
	else
		sv->str = predicate_fold_case(sv->str, sv->len, &sv->len);
	sv->folded = true;
}

/*
 * compare
 *		Orders a present value against one constant: -1, 0, 1, or
 *		CMP_INCOMPARABLE (an attribute holding an object or array).
 *		Booleans answer only equality (0 or 1).  Called by eval_cond.
 */
static int
compare(const PredField *f, SlotValue *sv, const PredConst *c)
{
	switch (f->type)
	{
		case FT_TEXT:
			return predicate_text_cmp(sv->str, sv->len, c->str, c->len);
		case FT_INT:
			if (c->exact)
				return (sv->i64 > c->i64) - (sv->i64 < c->i64);
			if (sv->num == NULL)
				sv->num = int64_to_numeric(sv->i64);
			return predicate_num_cmp(sv->num, c->num);
		case FT_NUMERIC:
			return predicate_num_cmp(sv->num, c->num);
		case FT_BOOL:
			return sv->b == c->b ? 0 : 1;
		case FT_TIMESTAMP:
			return (sv->i64 > c->i64) - (sv->i64 < c->i64);
		case FT_ATTR:
			if (sv->jtype == jbvBinary)
				return CMP_INCOMPARABLE;
			if (sv->jtype == jbvNumeric && c->isnum)
				return predicate_num_cmp(sv->num, c->num);
			slot_text(sv);
			return predicate_text_cmp(sv->str, sv->len, c->str, c->len);
		case FT_OTHER:
			break;
	}
	elog(ERROR, "leadflow: comparison on an exists/missing-only field");
	return CMP_INCOMPARABLE;	/* keep compiler quiet */
}

/*
 * eval_cond
 *		Evaluates one condition against the row.  Called by eval_node.
 */
static bool
eval_cond(EvalState *st, const PredNode *node)
{
	const PredField *f = &st->pred->fields[node->field];
	const PredConst *c = &st->pred->consts[node->first];
	SlotValue  *sv = &st->slots[node->field];
	int			r;
	int			i;

	if (!sv->loaded)
		load_slot(st, node->field);

	if (node->op == OP_EXISTS)
		return !sv->missing;
	if (node->op == OP_MISSING)
		return sv->missing;
	if (sv->missing)
		return node->op == OP_NE || node->op == OP_NOT_IN;

	if (f->type == FT_TEXT)
		slot_text(sv);

	switch ((PredOp) node->op)
	{
		case OP_EQ:
			return compare(f, sv, c) == 0;
		case OP_NE:
			return compare(f, sv, c) != 0;
		case OP_IN:
			for (i = 0; i < node->nargs; i++)
				if (compare(f, sv, &c[i]) == 0)
					return true;
			return false;
		case OP_NOT_IN:
			for (i = 0; i < node->nargs; i++)
				if (compare(f, sv, &c[i]) == 0)
					return false;
			return true;
		case OP_LT:
			return compare(f, sv, c) == -1;
		case OP_LE:
			r = compare(f, sv, c);
			return r == -1 || r == 0;
		case OP_GT:
			return compare(f, sv, c) == 1;
		case OP_GE:
			r = compare(f, sv, c);
			return r == 1 || r == 0;
		case OP_BETWEEN:
			r = compare(f, sv, &c[0]);
			if (r != 0 && r != 1)
				return false;
			r = compare(f, sv, &c[1]);
			return r == -1 || r == 0;
		case OP_PREFIX:
		case OP_CONTAINS:
			if (f->type == FT_ATTR && sv->jtype == jbvBinary)
				return false;
			slot_text(sv);
			if (node->op == OP_PREFIX)
				return sv->len >= c->len && memcmp(sv->str, c->str, c->len) == 0;
			return predicate_text_contains(sv->str, sv->len, c->str, c->len);
		case OP_WORD:
			if (f->type == FT_ATTR && sv->jtype == jbvBinary)
				return false;
			slot_text(sv);
			for (i = 0; i < node->nargs; i++)
				if (predicate_text_has_word(sv->str, sv->len, c[i].str, c[i].len))
					return true;
			return false;
		case OP_EXISTS:
		case OP_MISSING:
			break;
	}
	elog(ERROR, "leadflow: unexpected predicate op %d", node->op);
	return false;				/* keep compiler quiet */
}

/*
 * eval_node
 *		Evaluates the subtree rooted at nodes[idx], short-circuiting
 *		all/any.  Called by LeadflowPredicateEval, recursively at most
 *		PREDICATE_MAX_DEPTH deep.
 */
static bool
eval_node(EvalState *st, int idx)
{
	const PredNode *nodes = st->pred->nodes;
	const PredNode *node = &nodes[idx];
	int			child = idx + 1;
	int			i;

	switch ((PredKind) node->kind)
	{
		case PK_ALL:
			for (i = 0; i < node->nargs; i++)
			{
				if (!eval_node(st, child))
					return false;
				child += nodes[child].size;
			}
			return true;
		case PK_ANY:
			for (i = 0; i < node->nargs; i++)
			{
				if (eval_node(st, child))
					return true;
				child += nodes[child].size;
			}
			return false;
		case PK_NOT:
			return !eval_node(st, child);
		case PK_COND:
			return eval_cond(st, node);
	}
	elog(ERROR, "leadflow: unexpected predicate node kind %d", node->kind);
	return false;				/* keep compiler quiet */
}

/*
 * LeadflowPredicateEval
 *		Evaluates a compiled predicate against one lead row: values and
 *		nulls as heap_deform_tuple fills them for the descriptor the
 *		predicate was compiled with.  Called by scoring and routing for
 *		every lead, and by predicate_matches().  No SPI, no catalog access,
 *		no locks; allocates (rarely) in CurrentMemoryContext, which the
 *		caller resets per row.
 */
bool
LeadflowPredicateEval(const LeadflowPredicate *pred, TupleDesc leads_desc,
					  Datum *values, bool *nulls)
{
	SlotValue	local[16];
	EvalState	st;
	int			i;

	if (leads_desc->natts < pred->max_attnum)
		elog(ERROR, "leadflow: predicate compiled for another leads descriptor");

	st.pred = pred;
	st.values = values;
	st.nulls = nulls;
	st.attrs = NULL;
	st.attrs_loaded = false;
	if (pred->nfields <= (int) lengthof(local))
		st.slots = local;
	else
		st.slots = palloc(pred->nfields * sizeof(SlotValue));
	for (i = 0; i < pred->nfields; i++)
		st.slots[i].loaded = false;

	return eval_node(&st, 0);
}


/* ---------------------------------------------------------------------------
 * SQL functions
 * ---------------------------------------------------------------------------
 */

/* predicate_matches(): the last predicate compiled, kept for the next row */
static MemoryContext match_cxt = NULL;
static Jsonb *match_jsonb = NULL;
static uint64 match_tupdesc_id = 0;
static pg_tz *match_timezone = NULL;
static LeadflowPredicate *match_pred = NULL;

/*
 * leadflow_predicate_matches
 *		predicate_matches(predicate jsonb, lead leadflow.leads) RETURNS
 *		boolean.  The last compiled predicate is kept in a private child of
 *		CacheMemoryContext and reused while the predicate, the row type and
 *		the session TimeZone (which placed offset-less timestamps) stay the
 *		same, so a query over many rows compiles once.  Per-row allocations
 *		go to the caller's per-call context.
 */
Datum
leadflow_predicate_matches(PG_FUNCTION_ARGS)
{
	Jsonb	   *predicate = PG_GETARG_JSONB_P(0);
	HeapTupleHeader td = PG_GETARG_HEAPTUPLEHEADER(1);
	TypeCacheEntry *tce;
	TupleDesc	desc;
	HeapTupleData tuple;
	Datum	   *values;
	bool	   *nulls;
	bool		result;

	tce = lookup_type_cache(HeapTupleHeaderGetTypeId(td), TYPECACHE_TUPDESC);
	if (tce->tupDesc == NULL)
		elog(ERROR, "leadflow: type %u is not composite", HeapTupleHeaderGetTypeId(td));
	desc = tce->tupDesc;
	PinTupleDesc(desc);

	if (match_pred == NULL ||
		match_tupdesc_id != tce->tupDesc_identifier ||
		match_timezone != session_timezone ||
		VARSIZE(match_jsonb) != VARSIZE(predicate) ||
		memcmp(match_jsonb, predicate, VARSIZE(predicate)) != 0)
	{
		if (match_cxt == NULL)
			match_cxt = AllocSetContextCreate(CacheMemoryContext,
											  "leadflow predicate_matches",
											  ALLOCSET_SMALL_SIZES);
		match_pred = NULL;
		MemoryContextReset(match_cxt);
		match_jsonb = MemoryContextAlloc(match_cxt, VARSIZE(predicate));
		memcpy(match_jsonb, predicate, VARSIZE(predicate));
		match_tupdesc_id = tce->tupDesc_identifier;
		match_timezone = session_timezone;
		match_pred = LeadflowPredicateCompile(predicate, desc, match_cxt);
	}

	tuple.t_len = HeapTupleHeaderGetDatumLength(td);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = td;
	values = palloc(desc->natts * sizeof(Datum));
	nulls = palloc(desc->natts * sizeof(bool));
	heap_deform_tuple(&tuple, desc, values, nulls);

	result = LeadflowPredicateEval(match_pred, desc, values, nulls);

	ReleaseTupleDesc(desc);
	PG_RETURN_BOOL(result);
}
