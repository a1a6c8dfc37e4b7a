/*-------------------------------------------------------------------------
 *
 * predicate.c
 *	  The rule language shared by scoring and routing rules: parse and
 *	  validate a jsonb predicate and compile it against the leads tuple
 *	  descriptor (fields and constants: predicate_field.c; evaluation of
 *	  the compiled form against lead rows: predicate_eval.c).
 *
 *	  A predicate is {"all": [P, ...]}, {"any": [P, ...]}, {"not": P} or a
 *	  condition {"field": F, "op": OP, "value": V}.  F is a column of
 *	  leadflow.leads or attributes.<key> (a top-level key of the jsonb
 *	  attributes column).  Text compares lower-cased, numbers numerically,
 *	  timestamps as instants, booleans by value; an attribute compares
 *	  numerically when both sides are numbers, else as lower-cased text.
 *	  A missing value (SQL NULL, an absent key, JSON null) matches only
 *	  "missing", "ne" and "not_in".
 *
 *	  Compiling resolves field names to attribute numbers and converts
 *	  every constant to its compared form (folded text, int64, Numeric,
 *	  timestamp), so evaluation parses nothing.  The compiled form is one
 *	  palloc'd chunk: nodes in preorder (a node's first child follows it,
 *	  each node knows its subtree's size), the distinct fields, and the
 *	  constants.  Evaluation loads each field at most once per row.
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

/* the members of one predicate object, as far as they matter */
typedef enum MemberKey
{
	MK_ALL,
	MK_ANY,
	MK_NOT,
	MK_FIELD,
	MK_OP,
	MK_VALUE,
	MK_COUNT
} MemberKey;

static const char *const member_names[MK_COUNT] = {
	"all", "any", "not", "field", "op", "value"
};

typedef struct Members
{
	bool		present[MK_COUNT];
	JsonbValue	value[MK_COUNT];
	int			nkeys;
	char	   *key0;			/* the first two keys, in jsonb order */
	char	   *key1;
	char	   *unknown;		/* first key that is not a member name */
	int			logical;		/* first of all/any/not, or -1 */
} Members;

PG_FUNCTION_INFO_V1(leadflow_check_predicate);

/*
 * predicate_error
 *		Raises the 22023 error of a bad predicate: "invalid rule predicate:
 *		<problem> at <path>", with an optional hint.  Called throughout
 *		compilation; does not return.
 */
void
predicate_error(const char *path, const char *hint, const char *fmt,...)
{
	StringInfoData problem;

	initStringInfo(&problem);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&problem, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&problem, needed);
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid rule predicate: %s at %s", problem.data, path),
			 hint ? errhint("%s", hint) : 0));
}

/*
 * read_members
 *		Collects the keys of one predicate object (nested values come back
 *		as jbvBinary, pointing into the predicate).  Called by
 *		compile_node; allocations in the compile context.
 */
static void
read_members(JsonbContainer *jc, Members *m)
{
	JsonbIterator *it = JsonbIteratorInit(jc);
	JsonbValue	k;
	JsonbValue	v;
	JsonbIteratorToken tok;

	memset(m, 0, sizeof(Members));
	m->logical = -1;
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		char	   *name;
		int			i;

		if (tok != WJB_KEY)
			continue;
		tok = JsonbIteratorNext(&it, &v, true);
		Assert(tok == WJB_VALUE);
		name = pnstrdup(k.val.string.val, k.val.string.len);
		if (m->nkeys == 0)
			m->key0 = name;
		else if (m->nkeys == 1)
			m->key1 = name;
		m->nkeys++;
		for (i = 0; i < MK_COUNT; i++)
			if (strcmp(name, member_names[i]) == 0)
				break;
		if (i == MK_COUNT)
		{
			if (m->unknown == NULL)
				m->unknown = name;
			continue;
		}
		m->present[i] = true;
		m->value[i] = v;
		if (i <= MK_NOT && m->logical < 0)
			m->logical = i;
	}
}

/*
 * compile_cond
 *		Compiles the condition {"field", "op", "value"} in m into node
 *		b->nodes[idx].  Called by compile_node; allocations in the compile
 *		context.
 */
static void
compile_cond(Builder *b, Members *m, int idx, const char *path)
{
	PredNode   *node = &b->nodes[idx];
	const JsonbValue *fv = &m->value[MK_FIELD];
	const JsonbValue *ov = &m->value[MK_OP];
	const JsonbValue *vv = &m->value[MK_VALUE];
	char	   *opname;
	int			op;
	const PredField *f;

	if (m->unknown != NULL)
		predicate_error(path, "A condition has the keys \"field\", \"op\" and \"value\".",
						"unexpected key %s", predicate_quoted(m->unknown, strlen(m->unknown)));
	if (!m->present[MK_FIELD])
		predicate_error(path, NODE_SHAPE_HINT, "missing \"field\"");
	if (fv->type != jbvString)
		predicate_error(path, NULL, "\"field\" must be a string");
	if (fv->val.string.len == 0)
		predicate_error(path, NULL, "empty \"field\"");
	if (!m->present[MK_OP])
		predicate_error(path, OP_LIST_HINT, "missing \"op\"");
	if (ov->type != jbvString)
		predicate_error(path, OP_LIST_HINT, "\"op\" must be a string");
	opname = pnstrdup(ov->val.string.val, ov->val.string.len);
	for (op = 0; op < (int) lengthof(op_names); op++)
		if (strcmp(opname, op_names[op]) == 0)
			break;
	if (op == (int) lengthof(op_names))
		predicate_error(path, OP_LIST_HINT, "unknown op %s",
						predicate_quoted(opname, strlen(opname)));

	node->kind = PK_COND;
	node->op = op;
	node->field = predicate_resolve_field(b,
								pnstrdup(fv->val.string.val, fv->val.string.len),
								fv->val.string.len, path);
	node->first = b->nconsts;
	node->nargs = 0;
	f = &b->fields[node->field];
	predicate_check_op(f, op, path);

	if (op == OP_EXISTS || op == OP_MISSING)
	{
		if (m->present[MK_VALUE])
			predicate_error(path, NULL, "\"%s\" takes no value", op_names[op]);
		return;
	}
	if (!m->present[MK_VALUE])
		predicate_error(path, NULL, "\"%s\" needs a value", op_names[op]);

	if (op == OP_IN || op == OP_NOT_IN || op == OP_BETWEEN || (op == OP_WORD && is_array(vv)))
	{
		JsonbIterator *it;
		JsonbValue	elem;
		JsonbIteratorToken tok;

		if (!is_array(vv))
		{
			if (op == OP_BETWEEN)
				predicate_error(path, "Write \"value\": [low, high].",
								"\"between\" needs two values");
			predicate_error(path, NULL, "\"%s\" needs an array of values", op_names[op]);
		}
		if (op == OP_BETWEEN && JsonContainerSize(vv->val.binary.data) != 2)
			predicate_error(path, "Write \"value\": [low, high].",
							"\"between\" needs two values");
		it = JsonbIteratorInit(vv->val.binary.data);
		while ((tok = JsonbIteratorNext(&it, &elem, true)) != WJB_DONE)
		{
			if (tok != WJB_ELEM)
				continue;
			predicate_convert_const(b, f, op, &elem, path);
		}
	}
	else
		predicate_convert_const(b, f, op, vv, path);

	/* b->nodes never moves (allocated for the maximum up front) */
	node->nargs = b->nconsts - node->first;
	if (op == OP_WORD && node->nargs == 0)
		predicate_error(path, "Write \"value\": \"vp\" or [\"vp\", \"vice president\"].",
						"\"word\" needs at least one word");
}

/*
 * compile_node
 *		Compiles the predicate object jc, found at path at nesting level
 *		depth (the root is level 1), and its subtree into b->nodes in
 *		preorder.  Returns the node's index.  Called recursively from
 *		LeadflowPredicateCompile; allocations in the compile context.
 */
static int
compile_node(Builder *b, JsonbContainer *jc, const char *path, int depth)
{
	Members		m;
	int			idx;
	PredNode   *node;

	if (depth > PREDICATE_MAX_DEPTH)
		predicate_error(path, NULL, "nesting deeper than %d levels", PREDICATE_MAX_DEPTH);
	if (b->nnodes >= PREDICATE_MAX_NODES)
		predicate_error(path, NULL, "more than %d nodes", PREDICATE_MAX_NODES);

	idx = b->nnodes++;
	node = &b->nodes[idx];
	memset(node, 0, sizeof(PredNode));

	read_members(jc, &m);
	if (m.nkeys == 0)
		predicate_error(path, NODE_SHAPE_HINT, "empty object");

	if (m.logical >= 0)
	{
		const char *name = member_names[m.logical];
		const JsonbValue *v = &m.value[m.logical];

		if (m.nkeys > 1)
		{
			const char *extra = strcmp(m.key0, name) != 0 ? m.key0 : m.key1;

			predicate_error(path, NODE_SHAPE_HINT, "unexpected key %s next to \"%s\"",
							predicate_quoted(extra, strlen(extra)), name);
		}
		if (m.logical == MK_NOT)
		{
			char	   *cpath = psprintf("%s.not", path);

			if (!is_object(v))
				predicate_error(cpath, NODE_SHAPE_HINT, "expected an object");
			node->kind = PK_NOT;
			node->nargs = 1;
			compile_node(b, v->val.binary.data, cpath, depth + 1);
		}
		else
		{
			JsonbIterator *it;
			JsonbValue	elem;
			JsonbIteratorToken tok;
			int			n = 0;

			if (!is_array(v))
				predicate_error(path, NODE_SHAPE_HINT, "\"%s\" needs an array", name);
			node->kind = m.logical == MK_ALL ? PK_ALL : PK_ANY;
			it = JsonbIteratorInit(v->val.binary.data);
			while ((tok = JsonbIteratorNext(&it, &elem, true)) != WJB_DONE)
			{
				char	   *cpath;

				if (tok != WJB_ELEM)
					continue;
				cpath = psprintf("%s.%s[%d]", path, name, n);
				if (!is_object(&elem))
					predicate_error(cpath, NODE_SHAPE_HINT, "expected an object");
				compile_node(b, elem.val.binary.data, cpath, depth + 1);
				n++;
			}
			node->nargs = n;
		}
	}
	else if (m.present[MK_FIELD] || m.present[MK_OP] || m.present[MK_VALUE])
		compile_cond(b, &m, idx, path);
	else
		predicate_error(path, NODE_SHAPE_HINT, "unexpected key %s",
						predicate_quoted(m.key0, strlen(m.key0)));

	node->size = b->nnodes - idx;
	return idx;
}

/*
 * flat_copy
 *		Copies len bytes to *cursor, MAXALIGNed, and advances it.  Called
 *		by flatten.
 */
static void *
flat_copy(char **cursor, const void *src, Size len)
{
	void	   *dst = *cursor;

	memcpy(dst, src, len);
	*cursor += MAXALIGN(len);
	return dst;
}

/*
 * flatten
 *		Copies the compiled predicate into one chunk allocated in cxt.
 *		Called by LeadflowPredicateCompile once the predicate is known good,
 *		so a bad one leaves nothing in the caller's context.
 */
static LeadflowPredicate *
flatten(Builder *b, MemoryContext cxt)
{
	Size		size;
	char	   *chunk;
	char	   *cursor;
	LeadflowPredicate *p;
	int			i;

	size = MAXALIGN(sizeof(LeadflowPredicate)) +
		MAXALIGN(b->nnodes * sizeof(PredNode)) +
		MAXALIGN(b->nfields * sizeof(PredField)) +
		MAXALIGN(b->nconsts * sizeof(PredConst));
	for (i = 0; i < b->nfields; i++)
	{
		size += MAXALIGN(strlen(b->fields[i].name) + 1);
		if (b->fields[i].key)
			size += MAXALIGN(b->fields[i].keylen + 1);
	}
	for (i = 0; i < b->nconsts; i++)
	{
		if (b->consts[i].str)
			size += MAXALIGN(b->consts[i].len + 1);
		if (b->consts[i].num)
			size += MAXALIGN(VARSIZE(b->consts[i].num));
	}

	chunk = MemoryContextAllocZero(cxt, size);
	cursor = chunk;
	p = (LeadflowPredicate *) cursor;
	cursor += MAXALIGN(sizeof(LeadflowPredicate));
	p->nnodes = b->nnodes;
	p->nfields = b->nfields;
	p->nconsts = b->nconsts;
	p->nodes = flat_copy(&cursor, b->nodes, b->nnodes * sizeof(PredNode));
	p->fields = flat_copy(&cursor, b->fields, b->nfields * sizeof(PredField));
	p->consts = flat_copy(&cursor, b->consts, b->nconsts * sizeof(PredConst));
	for (i = 0; i < b->nfields; i++)
	{
		PredField  *f = &p->fields[i];

		f->name = flat_copy(&cursor, f->name, strlen(f->name) + 1);
		if (f->key)
			f->key = flat_copy(&cursor, f->key, f->keylen + 1);
		p->max_attnum = Max(p->max_attnum, f->attnum);
	}
	for (i = 0; i < b->nconsts; i++)
	{
		PredConst  *c = &p->consts[i];

		if (c->str)
		{
			char	   *s = cursor;

			memcpy(s, c->str, c->len);
			s[c->len] = '\0';
			cursor += MAXALIGN(c->len + 1);
			c->str = s;
		}
		if (c->num)
			c->num = flat_copy(&cursor, c->num, VARSIZE(c->num));
	}
	Assert(cursor == chunk + size);
	return p;
}

/*
 * LeadflowPredicateCompile
 *		Parses, validates and compiles a predicate against the leads tuple
 *		descriptor.  Called by the rule cache (scoring and routing rules)
 *		and the SQL functions below.  The result is one chunk in cxt; the
 *		work happens in a temporary context that is gone on return, error
 *		or not.  A bad predicate raises 22023 naming the problem and its
 *		JSON path.  Takes no locks.
 */
LeadflowPredicate *
LeadflowPredicateCompile(Jsonb *predicate, TupleDesc leads_desc, MemoryContext cxt)
{
	MemoryContext work;
	MemoryContext old;
	LeadflowPredicate *volatile result = NULL;

	work = AllocSetContextCreate(CurrentMemoryContext, "leadflow predicate compile",
								 ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(work);
	PG_TRY();
	{
		Builder		b;

		if (!JB_ROOT_IS_OBJECT(predicate))
			predicate_error("$", NODE_SHAPE_HINT, "expected an object");

		memset(&b, 0, sizeof(Builder));
		b.desc = leads_desc;
		b.nodes = palloc(PREDICATE_MAX_NODES * sizeof(PredNode));
		b.maxfields = 8;
		b.fields = palloc(b.maxfields * sizeof(PredField));
		b.maxconsts = 16;
		b.consts = palloc(b.maxconsts * sizeof(PredConst));

		compile_node(&b, &predicate->root, "$", 1);
		result = flatten(&b, cxt);
	}
	PG_FINALLY();
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(work);
	}
	PG_END_TRY();

	return result;
}


/* ---------------------------------------------------------------------------
 * Evaluation
 * ---------------------------------------------------------------------------
 */

/*
 * leadflow_check_predicate
 *		check_predicate(predicate jsonb) RETURNS boolean: true, or 22023
 *		naming what is wrong and where.  The validation triggers of the
 *		rule tables call it.  Takes AccessShareLock on leadflow.leads for
 *		its descriptor; the compiled form is freed at once.
 */
Datum
leadflow_check_predicate(PG_FUNCTION_ARGS)
{
	Jsonb	   *predicate = PG_GETARG_JSONB_P(0);
	Oid			relid;
	Relation	rel;
	LeadflowPredicate *pred;

	relid = RangeVarGetRelid(makeRangeVar("leadflow", "leads", -1), AccessShareLock, false);
	rel = table_open(relid, NoLock);
	pred = LeadflowPredicateCompile(predicate, RelationGetDescr(rel), CurrentMemoryContext);
	table_close(rel, NoLock);
	pfree(pred);

	PG_RETURN_BOOL(true);
}
