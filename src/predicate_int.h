/*-------------------------------------------------------------------------
 *
 * predicate_int.h
 *	  Internals of the rule language shared by its compiler (predicate.c,
 *	  predicate_field.c) and its evaluator (predicate_eval.c): the
 *	  compiled form and the comparisons.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_PREDICATE_INT_H
#define LEADFLOW_PREDICATE_INT_H

#include "postgres.h"

#include "utils/jsonb.h"
#include "utils/numeric.h"

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
	OP_MISSING,
	OP_WORD						/* whole words or phrases, any of them */
} PredOp;

static const char *const op_names[] = {
	"eq", "ne", "in", "not_in", "lt", "le", "gt", "ge", "between",
	"prefix", "contains", "exists", "missing", "word"
};

#define OP_LIST_HINT \
	"Ops are eq, ne, in, not_in, lt, le, gt, ge, between, prefix, contains, word, exists and missing."
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

/*
 * is_object, is_array
 *		Whether a member value (as read with skipNested) is a JSON object,
 *		or an array.  Called while compiling.
 */
static inline bool
is_object(const JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data);
}

static inline bool
is_array(const JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data);
}

/* compile errors (predicate.c): 22023 "invalid rule predicate: ... at path" */
pg_noreturn extern void predicate_error(const char *path, const char *hint, const char *fmt,...)
pg_attribute_printf(3, 4);

/* fields and constants (predicate_field.c) */
extern int	predicate_resolve_field(Builder *b, const char *name, int len, const char *path);
extern void predicate_check_op(const PredField *f, PredOp op, const char *path);
extern void predicate_convert_const(Builder *b, const PredField *f, PredOp op, const JsonbValue *v,
									const char *path);

/* comparisons shared by compile and evaluation (predicate_field.c) */
extern char *predicate_quoted(const char *s, int len);
extern const char *predicate_fold_case(const char *s, int len, int *outlen);
extern int	predicate_text_cmp(const char *a, int alen, const char *b, int blen);
extern bool predicate_text_contains(const char *hay, int haylen, const char *needle, int nlen);
extern bool predicate_text_has_word(const char *hay, int haylen, const char *word, int wlen);
extern int	predicate_num_cmp(Numeric a, Numeric b);
extern char *predicate_numeric_text(Numeric num);

#endif							/* LEADFLOW_PREDICATE_INT_H */
