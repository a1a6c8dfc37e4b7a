/*-------------------------------------------------------------------------
 *
 * predicate_field.c
 *	  The fields and constants of the rule language: a field name resolved
 *	  to a leads column or an attributes key, whether an operator applies
 *	  to it, each constant converted to its compared form once at compile
 *	  time; and the text and number comparisons evaluation shares.
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

/*
 * quoted
 *		A string from the predicate for a message: in double quotes, cut
 *		after 60 bytes at a character boundary.  Result in
 *		CurrentMemoryContext.
 */
char *
predicate_quoted(const char *s, int len)
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
const char *
predicate_fold_case(const char *s, int len, int *outlen)
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
int
predicate_text_cmp(const char *a, int alen, const char *b, int blen)
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
bool
predicate_text_contains(const char *hay, int haylen, const char *needle, int nlen)
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

/* a letter or digit of a word: ASCII alphanumerics and every non-ASCII byte */
static inline bool
word_byte(char c)
{
	return (unsigned char) c >= 0x80 || isalnum((unsigned char) c);
}

/*
 * predicate_text_has_word
 *		Whether folded text hay holds the folded word or phrase as whole
 *		words: found where neither the byte before nor the byte after is a
 *		letter or digit ("vp" is in "VP Sales" and "SVP, Sales", not in
 *		"VPN Engineer").  Called by evaluation.
 */
bool
predicate_text_has_word(const char *hay, int haylen, const char *word, int wlen)
{
	const char *p = hay;
	const char *last;

	if (wlen == 0 || wlen > haylen)
		return false;
	last = hay + haylen - wlen;
	while (p <= last)
	{
		p = memchr(p, word[0], last - p + 1);
		if (p == NULL)
			return false;
		if (memcmp(p, word, wlen) == 0 &&
			(p == hay || !word_byte(p[-1])) &&
			(p + wlen == hay + haylen || !word_byte(p[wlen])))
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
int
predicate_num_cmp(Numeric a, Numeric b)
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
char *
predicate_numeric_text(Numeric num)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(num)));
}


/* ---------------------------------------------------------------------------
 * Compilation
 * ---------------------------------------------------------------------------
 */

/*
 * resolve_field
 *		Finds or adds the field a condition names: a column of the leads
 *		descriptor or attributes.<key>.  Returns its index in b->fields.
 *		Called by compile_cond; allocations in the compile context.
 */
int
predicate_resolve_field(Builder *b, const char *name, int len, const char *path)
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
							"unknown field %s", predicate_quoted(name, len));
		predicate_error(path,
						best ? psprintf("Did you mean \"%s\"?", best) :
						"A field is a column of leadflow.leads or attributes.<key>.",
						"unknown field %s", predicate_quoted(name, len));
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
void
predicate_check_op(const PredField *f, PredOp op, const char *path)
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
	if (op == OP_PREFIX || op == OP_CONTAINS || op == OP_WORD)
		predicate_error(path,
						"prefix, contains and word apply to text fields and attributes.",
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
 * check_word
 *		A word or phrase of op "word" must begin and end with a letter or
 *		digit (a boundary is tested on either side of it).  Called while
 *		compiling, so a bad rule is refused when it is written.
 */
static void
check_word(const PredConst *c, const char *path)
{
	if (c->len == 0 || !word_byte(c->str[0]) || !word_byte(c->str[c->len - 1]))
		predicate_error(path, "Write a word or phrase that begins and ends with a letter or digit, e.g. \"vp\" or \"vice president\".",
						"\"word\" needs words, not %s", predicate_quoted(c->str, c->len));
}

/*
 * convert_const
 *		Checks one value of a condition against its field's type and adds
 *		its compared form to b->consts.  Called by compile_cond;
 *		allocations in the compile context.
 */
void
predicate_convert_const(Builder *b, const PredField *f, PredOp op, const JsonbValue *v,
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
			c->str = (char *) predicate_fold_case(v->val.string.val, v->val.string.len, &c->len);
			if (op == OP_WORD)
				check_word(c, path);
			break;

		case FT_INT:
			if (v->type != jbvNumeric)
				predicate_error(path, hint, "value of \"%s\" must be a number", f->name);
			c->num = v->val.numeric;
			c->isnum = true;
			/* whole numbers within int64 compare as int64 */
			if (predicate_num_cmp(c->num, int64_to_numeric(PG_INT64_MIN)) >= 0 &&
				predicate_num_cmp(c->num, int64_to_numeric(PG_INT64_MAX)) <= 0)
			{
				Numeric		whole;

				whole = DatumGetNumeric(DirectFunctionCall2(numeric_trunc,
															NumericGetDatum(c->num),
															Int32GetDatum(0)));
				if (predicate_num_cmp(whole, c->num) == 0)
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
			if (op == OP_PREFIX || op == OP_CONTAINS || op == OP_WORD)
			{
				if (v->type != jbvString)
					predicate_error(path, NULL, "value of \"%s\" must be a string", f->name);
				c->str = (char *) predicate_fold_case(v->val.string.val, v->val.string.len, &c->len);
				if (op == OP_WORD)
					check_word(c, path);
				break;
			}
			switch (v->type)
			{
				case jbvString:
					c->str = (char *) predicate_fold_case(v->val.string.val, v->val.string.len, &c->len);
					break;
				case jbvNumeric:
					c->num = v->val.numeric;
					c->isnum = true;
					c->str = predicate_numeric_text(c->num);
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
