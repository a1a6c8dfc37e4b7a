/*-------------------------------------------------------------------------
 *
 * predicate.c
 *	  The rule language shared by scoring and routing rules: parse and
 *	  validate a jsonb predicate, compile it against the leads tuple
 *	  descriptor, and evaluate the compiled form against lead rows.
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

#define PREDICATE_MAX_DEPTH		32
#define PREDICATE_MAX_NODES		1000

#define ATTRIBUTES_COLUMN		"attributes"
#define ATTRIBUTES_PREFIX		"attributes."

typedef enum PredKind
{
	PK_ALL,
	PK_ANY,
	PK_NOT,
	PK_COND
} PredKind;

typedef enum PredOp
{
	OP_EQ,
	OP_NE,
	OP_IN,
	OP_NOT_IN,
	OP_LT,
	OP_LE,
	OP_GT,
	OP_GE,
	OP_BETWEEN,
	OP_PREFIX,
	OP_CONTAINS,
	OP_EXISTS,
	OP_MISSING
} PredOp;

static const char *const op_names[] = {
	"eq", "ne", "in", "not_in", "lt", "le", "gt", "ge", "between",
	"prefix", "contains", "exists", "missing"
};

#define OP_LIST_HINT \
	"Ops are eq, ne, in, not_in, lt, le, gt, ge, between, prefix, contains, exists and missing."
#define NODE_SHAPE_HINT \
	"A node is {\"all\": [...]}, {\"any\": [...]}, {\"not\": {...}} or a condition " \
	"{\"field\": ..., \"op\": ..., \"value\": ...}."

/* how a field's values compare */
typedef enum FieldType
{
	FT_TEXT,					/* text, varchar: folded text */
	FT_INT,						/* smallint, integer, bigint */
	FT_NUMERIC,					/* numeric */
	FT_BOOL,					/* boolean */
	FT_TIMESTAMP,				/* timestamptz */
	FT_ATTR,					/* attributes.<key> */
	FT_OTHER					/* anything else: exists and missing only */
} FieldType;

/* result of comparing a value with a constant that cannot be ordered */
#define CMP_INCOMPARABLE	2

typedef struct PredField
{
	char	   *name;			/* as written in the predicate */
	int			attnum;			/* the column; for FT_ATTR the jsonb column */
	Oid			typid;			/* the column's type */
	FieldType	type;
	char	   *key;			/* FT_ATTR: the key, not NUL-terminated */
	int			keylen;
} PredField;

typedef struct PredConst
{
	char	   *str;			/* folded text (FT_TEXT, FT_ATTR) */
	int			len;
	bool		isnum;			/* num is set (FT_INT, FT_NUMERIC, FT_ATTR) */
	bool		exact;			/* FT_INT: i64 holds the value exactly */
	bool		b;				/* FT_BOOL */
	int64		i64;			/* FT_INT when exact, FT_TIMESTAMP */
	Numeric		num;
} PredConst;

typedef struct PredNode
{
	uint8		kind;			/* PredKind */
	uint8		op;				/* PredOp, conditions only */
	int16		field;			/* index into fields, conditions only */
	int32		size;			/* nodes in this subtree, itself included */
	int32		nargs;			/* children, or constants of a condition */
	int32		first;			/* first constant of a condition */
} PredNode;

struct LeadflowPredicate
{
	int			nnodes;
	int			nfields;
	int			nconsts;
	int			max_attnum;		/* highest column read */
	PredNode   *nodes;			/* preorder; the root is nodes[0] */
	PredField  *fields;
	PredConst  *consts;
};

/* compile state, in a short-lived context */
typedef struct Builder
{
	TupleDesc	desc;
	PredNode   *nodes;
	int			nnodes;
	PredField  *fields;
	int			nfields;
	int			maxfields;
	PredConst  *consts;
	int			nconsts;
	int			maxconsts;
} Builder;

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

PG_FUNCTION_INFO_V1(leadflow_check_predicate);
PG_FUNCTION_INFO_V1(leadflow_predicate_matches);


/*
 * predicate_error
 *		Raises the 22023 error of a bad predicate: "invalid rule predicate:
 *		<problem> at <path>", with an optional hint.  Called throughout
 *		compilation; does not return.
 */
pg_noreturn static void
predicate_error(const char *path, const char *hint, const char *fmt,...)
pg_attribute_printf(3, 4);

static void
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
 * quoted
 *		A string from the predicate for a message: in double quotes, cut
 *		after 60 bytes at a character boundary.  Result in
 *		CurrentMemoryContext.
 */
static char *
quoted(const char *s, int len)
{
	if (len > 60)
		return psprintf("\"%.*s...\"", pg_mbcliplen(s, len, 60), s);
	return psprintf("\"%.*s\"", len, s);
}

/*
 * fold_case
 *		Lower-cases UTF-8 text as str_tolower() does under the database's
 *		default collation.  Pure ASCII (nearly every value) skips
 *		str_tolower's wide-character round trip, and text already in lower
 *		case comes back as is, uncopied.  Used for constants when compiling
 *		and for values when evaluating, so both sides fold alike.  The
 *		result is s itself or lives in CurrentMemoryContext; it need not
 *		end in NUL.
 */
static const char *
fold_case(const char *s, int len, int *outlen)
{
	bool		upper = false;
	char	   *r;
	int			i;

	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c >= 0x80)
		{
			r = str_tolower(s, len, DEFAULT_COLLATION_OID);
			*outlen = strlen(r);
			return r;
		}
		if (c >= 'A' && c <= 'Z')
			upper = true;
	}
	*outlen = len;
	if (!upper)
		return s;
	r = palloc(len + 1);
	for (i = 0; i < len; i++)
		r[i] = pg_ascii_tolower((unsigned char) s[i]);
	r[len] = '\0';
	return r;
}

/*
 * text_cmp
 *		Byte-wise (code point) order of two folded strings: -1, 0 or 1.
 *		Called by evaluation.
 */
static inline int
text_cmp(const char *a, int alen, const char *b, int blen)
{
	int			r = memcmp(a, b, Min(alen, blen));

	if (r != 0)
		return r < 0 ? -1 : 1;
	return (alen > blen) - (alen < blen);
}

/*
 * text_contains
 *		Whether needle occurs in haystack.  Called by evaluation.
 */
static bool
text_contains(const char *hay, int haylen, const char *needle, int nlen)
{
	const char *p = hay;
	const char *last;

	if (nlen == 0)
		return true;
	if (nlen > haylen)
		return false;
	last = hay + haylen - nlen;
	while (p <= last)
	{
		p = memchr(p, needle[0], last - p + 1);
		if (p == NULL)
			return false;
		if (memcmp(p, needle, nlen) == 0)
			return true;
		p++;
	}
	return false;
}

/*
 * num_cmp
 *		Orders two Numerics: -1, 0 or 1.  Called by compile and evaluation;
 *		allocates nothing for untoasted arguments.
 */
static inline int
num_cmp(Numeric a, Numeric b)
{
	int32		r = DatumGetInt32(DirectFunctionCall2(numeric_cmp,
													 NumericGetDatum(a),
													 NumericGetDatum(b)));

	return (r > 0) - (r < 0);
}

/*
 * numeric_text
 *		A JSON number's text form as jsonb prints it.  Result in
 *		CurrentMemoryContext.
 */
static char *
numeric_text(Numeric num)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(num)));
}


/* ---------------------------------------------------------------------------
 * Compilation
 * ---------------------------------------------------------------------------
 */

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
 * is_object, is_array
 *		Whether a member value (as read with skipNested) is a JSON object,
 *		or an array.  Called while compiling.
 */
static bool
is_object(const JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data);
}

static bool
is_array(const JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data);
}

/*
 * resolve_field
 *		Finds or adds the field a condition names: a column of the leads
 *		descriptor or attributes.<key>.  Returns its index in b->fields.
 *		Called by compile_cond; allocations in the compile context.
 */
static int
resolve_field(Builder *b, const char *name, int len, const char *path)
{
	PredField  *f;
	int			attnum = 0;
	const char *key = NULL;
	int			i;
	int			prefixlen = strlen(ATTRIBUTES_PREFIX);

	for (i = 0; i < b->nfields; i++)
		if (strcmp(b->fields[i].name, name) == 0)
			return i;

	if (len > prefixlen && strncmp(name, ATTRIBUTES_PREFIX, prefixlen) == 0)
	{
		for (i = 0; i < b->desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(b->desc, i);

			if (!att->attisdropped && att->atttypid == JSONBOID &&
				strcmp(NameStr(att->attname), ATTRIBUTES_COLUMN) == 0)
			{
				attnum = i + 1;
				key = name + prefixlen;
				break;
			}
		}
	}
	else
	{
		for (i = 0; i < b->desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(b->desc, i);

			if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			{
				attnum = i + 1;
				break;
			}
		}
	}

	if (attnum == 0)
	{
		const char *best = NULL;
		int			bestd = 3;

		/* a column within two edits makes a better hint than the rules */
		for (i = 0; i < b->desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(b->desc, i);
			const char *col = NameStr(att->attname);
			int			d;

			if (att->attisdropped)
				continue;
			d = varstr_levenshtein_less_equal(name, len, col, strlen(col),
											  1, 1, 1, 2, true);
			if (d < bestd)
			{
				bestd = d;
				best = col;
			}
		}
		if (len == prefixlen && strncmp(name, ATTRIBUTES_PREFIX, prefixlen) == 0)
			predicate_error(path, "Name a key after \"attributes.\".",
							"unknown field %s", quoted(name, len));
		predicate_error(path,
						best ? psprintf("Did you mean \"%s\"?", best) :
						"A field is a column of leadflow.leads or attributes.<key>.",
						"unknown field %s", quoted(name, len));
	}

	if (b->nfields == b->maxfields)
	{
		b->maxfields *= 2;
		b->fields = repalloc(b->fields, b->maxfields * sizeof(PredField));
	}
	f = &b->fields[b->nfields];
	memset(f, 0, sizeof(PredField));
	f->name = pstrdup(name);
	f->attnum = attnum;
	f->typid = TupleDescAttr(b->desc, attnum - 1)->atttypid;
	if (key != NULL)
	{
		f->type = FT_ATTR;
		f->key = pstrdup(key);
		f->keylen = strlen(key);
	}
	else
	{
		switch (f->typid)
		{
			case TEXTOID:
			case VARCHAROID:
				f->type = FT_TEXT;
				break;
			case INT2OID:
			case INT4OID:
			case INT8OID:
				f->type = FT_INT;
				break;
			case NUMERICOID:
				f->type = FT_NUMERIC;
				break;
			case BOOLOID:
				f->type = FT_BOOL;
				break;
			case TIMESTAMPTZOID:
				f->type = FT_TIMESTAMP;
				break;
			default:
				f->type = FT_OTHER;
				break;
		}
	}
	return b->nfields++;
}

/*
 * check_op_applies
 *		Refuses an op the field's type cannot answer.  Called by
 *		compile_cond.
 */
static void
check_op_applies(const PredField *f, PredOp op, const char *path)
{
	const char *what = NULL;

	if (op == OP_EXISTS || op == OP_MISSING)
		return;
	switch (f->type)
	{
		case FT_TEXT:
		case FT_ATTR:
			return;
		case FT_BOOL:
			if (op == OP_EQ || op == OP_NE || op == OP_IN || op == OP_NOT_IN)
				return;
			predicate_error(path,
							"Boolean fields take eq, ne, in, not_in, exists and missing.",
							"op \"%s\" does not apply to boolean field \"%s\"",
							op_names[op], f->name);
			break;
		case FT_INT:
		case FT_NUMERIC:
			what = "number";
			break;
		case FT_TIMESTAMP:
			what = "timestamp";
			break;
		case FT_OTHER:
			predicate_error(path,
							strcmp(f->name, ATTRIBUTES_COLUMN) == 0 ?
							"Only exists and missing apply to it; compare a key with attributes.<key>." :
							"Only exists and missing apply to it.",
							"op \"%s\" does not apply to field \"%s\" of type %s",
							op_names[op], f->name, format_type_be(f->typid));
			break;
	}
	if (op == OP_PREFIX || op == OP_CONTAINS)
		predicate_error(path,
						"prefix and contains apply to text fields and attributes.",
						"op \"%s\" does not apply to %s field \"%s\"",
						op_names[op], what, f->name);
}

/*
 * parse_iso_timestamp
 *		Reads an ISO 8601 timestamp ("2024-05-01", "2024-05-01 09:30",
 *		"2024-05-01T09:30:00.5+02:00", "...Z") into *result; false when the
 *		text is anything else.  Words PostgreSQL would accept ("now",
 *		"today", "epoch", "infinity") are refused: a cached rule must not
 *		freeze the moment it was compiled.  Without an offset the session's
 *		TimeZone applies, at compile time.  Called by convert_const.
 */
static bool
parse_iso_timestamp(const char *s, int len, TimestampTz *result)
{
	char	   *str;
	char		workbuf[MAXDATELEN + MAXDATEFIELDS];
	char	   *field[MAXDATEFIELDS];
	int			ftype[MAXDATEFIELDS];
	int			nf;
	int			dtype;
	struct pg_tm tt;
	fsec_t		fsec;
	int			tz;
	int			i;

	if (len < 10 || len > MAXDATELEN)
		return false;
	for (i = 0; i < 10; i++)
	{
		if (i == 4 || i == 7)
		{
			if (s[i] != '-')
				return false;
		}
		else if (!isdigit((unsigned char) s[i]))
			return false;
	}
	if (len > 10 && s[10] != ' ' && s[10] != 'T' && s[10] != 't')
		return false;
	for (i = 11; i < len; i++)
		if (!isdigit((unsigned char) s[i]) && strchr(":.+- Zz", s[i]) == NULL)
			return false;

	str = pnstrdup(s, len);
	if (ParseDateTime(str, workbuf, sizeof(workbuf), field, ftype,
					  MAXDATEFIELDS, &nf) != 0)
		return false;
	if (LeadflowDecodeDateTime(field, ftype, nf, &dtype, &tt, &fsec, &tz) != 0)
		return false;
	if (dtype != DTK_DATE)
		return false;
	if (tm2timestamp(&tt, fsec, &tz, result) != 0)
		return false;
	return IS_VALID_TIMESTAMP(*result);
}

/*
 * convert_const
 *		Checks one value of a condition against its field's type and adds
 *		its compared form to b->consts.  Called by compile_cond;
 *		allocations in the compile context.
 */
static void
convert_const(Builder *b, const PredField *f, PredOp op, const JsonbValue *v,
			  const char *path)
{
	PredConst  *c;
	const char *hint = NULL;

	if (b->nconsts == b->maxconsts)
	{
		b->maxconsts *= 2;
		b->consts = repalloc(b->consts, b->maxconsts * sizeof(PredConst));
	}
	c = &b->consts[b->nconsts];
	memset(c, 0, sizeof(PredConst));

	/* an array where one value belongs is a common slip */
	if (is_array(v) && op != OP_IN && op != OP_NOT_IN && op != OP_BETWEEN)
		hint = "Use \"in\" to match any of several values.";

	switch (f->type)
	{
		case FT_TEXT:
			if (v->type != jbvString)
				predicate_error(path, hint, "value of \"%s\" must be a string", f->name);
			c->str = (char *) fold_case(v->val.string.val, v->val.string.len, &c->len);
			break;

		case FT_INT:
			if (v->type != jbvNumeric)
				predicate_error(path, hint, "value of \"%s\" must be a number", f->name);
			c->num = v->val.numeric;
			c->isnum = true;
			/* whole numbers within int64 compare as int64 */
			if (num_cmp(c->num, int64_to_numeric(PG_INT64_MIN)) >= 0 &&
				num_cmp(c->num, int64_to_numeric(PG_INT64_MAX)) <= 0)
			{
				Numeric		whole;

				whole = DatumGetNumeric(DirectFunctionCall2(numeric_trunc,
															NumericGetDatum(c->num),
															Int32GetDatum(0)));
				if (num_cmp(whole, c->num) == 0)
				{
					c->exact = true;
					c->i64 = DatumGetInt64(DirectFunctionCall1(numeric_int8,
															   NumericGetDatum(whole)));
				}
			}
			break;

		case FT_NUMERIC:
			if (v->type != jbvNumeric)
				predicate_error(path, hint, "value of \"%s\" must be a number", f->name);
			c->num = v->val.numeric;
			c->isnum = true;
			break;

		case FT_BOOL:
			if (v->type != jbvBool)
				predicate_error(path, hint, "value of \"%s\" must be a boolean", f->name);
			c->b = v->val.boolean;
			break;

		case FT_TIMESTAMP:
			if (v->type != jbvString ||
				!parse_iso_timestamp(v->val.string.val, v->val.string.len, &c->i64))
				predicate_error(path,
								hint ? hint : "Write a timestamp like \"2024-05-01\", \"2024-05-01 09:30\" or \"2024-05-01T09:30:00+02:00\".",
								"value of \"%s\" must be an ISO 8601 timestamp", f->name);
			break;

		case FT_ATTR:
			if (op == OP_PREFIX || op == OP_CONTAINS)
			{
				if (v->type != jbvString)
					predicate_error(path, NULL, "value of \"%s\" must be a string", f->name);
				c->str = (char *) fold_case(v->val.string.val, v->val.string.len, &c->len);
				break;
			}
			switch (v->type)
			{
				case jbvString:
					c->str = (char *) fold_case(v->val.string.val, v->val.string.len, &c->len);
					break;
				case jbvNumeric:
					c->num = v->val.numeric;
					c->isnum = true;
					c->str = numeric_text(c->num);
					c->len = strlen(c->str);
					break;
				case jbvBool:
					c->str = v->val.boolean ? "true" : "false";
					c->len = strlen(c->str);
					break;
				default:
					predicate_error(path, hint,
									"value of \"%s\" must be a string, number or boolean",
									f->name);
			}
			break;

		case FT_OTHER:
			elog(ERROR, "leadflow: value for an exists/missing-only field");
	}
	b->nconsts++;
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
						"unexpected key %s", quoted(m->unknown, strlen(m->unknown)));
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
						quoted(opname, strlen(opname)));

	node->kind = PK_COND;
	node->op = op;
	node->field = resolve_field(b,
								pnstrdup(fv->val.string.val, fv->val.string.len),
								fv->val.string.len, path);
	node->first = b->nconsts;
	node->nargs = 0;
	f = &b->fields[node->field];
	check_op_applies(f, op, path);

	if (op == OP_EXISTS || op == OP_MISSING)
	{
		if (m->present[MK_VALUE])
			predicate_error(path, NULL, "\"%s\" takes no value", op_names[op]);
		return;
	}
	if (!m->present[MK_VALUE])
		predicate_error(path, NULL, "\"%s\" needs a value", op_names[op]);

	if (op == OP_IN || op == OP_NOT_IN || op == OP_BETWEEN)
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
			convert_const(b, f, op, &elem, path);
		}
	}
	else
		convert_const(b, f, op, vv, path);

	/* b->nodes never moves (allocated for the maximum up front) */
	node->nargs = b->nconsts - node->first;
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
							quoted(extra, strlen(extra)), name);
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
						quoted(m.key0, strlen(m.key0)));

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
		sv->str = numeric_text(sv->num);
		sv->len = strlen(sv->str);
	}
	else
		sv->str = fold_case(sv->str, sv->len, &sv->len);
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
			return text_cmp(sv->str, sv->len, c->str, c->len);
		case FT_INT:
			if (c->exact)
				return (sv->i64 > c->i64) - (sv->i64 < c->i64);
			if (sv->num == NULL)
				sv->num = int64_to_numeric(sv->i64);
			return num_cmp(sv->num, c->num);
		case FT_NUMERIC:
			return num_cmp(sv->num, c->num);
		case FT_BOOL:
			return sv->b == c->b ? 0 : 1;
		case FT_TIMESTAMP:
			return (sv->i64 > c->i64) - (sv->i64 < c->i64);
		case FT_ATTR:
			if (sv->jtype == jbvBinary)
				return CMP_INCOMPARABLE;
			if (sv->jtype == jbvNumeric && c->isnum)
				return num_cmp(sv->num, c->num);
			slot_text(sv);
			return text_cmp(sv->str, sv->len, c->str, c->len);
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
			return text_contains(sv->str, sv->len, c->str, c->len);
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
