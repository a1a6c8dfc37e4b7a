/*-------------------------------------------------------------------------
 *
 * text.c
 *	  Pure text helpers: a value quoted for an error message, the JSON
 *	  builder of journey details and notifications, and
 *	  the UTF-8 work of emails and names (encoding, decoding, case folding).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <locale.h>
#include <math.h>
#include <wctype.h>

#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "text.h"

/*
 * LeadflowQuote
 *		A value for an error message: in double quotes, cut after 80 bytes
 *		at a character boundary so a megabyte of input makes a short line.
 */
char *
LeadflowQuote(const char *value)
{
	int			len = strlen(value);

	if (len > 80)
		return psprintf("\"%.*s...\"", pg_mbcliplen(value, len, 80), value);
	return psprintf("\"%s\"", value);
}

/*
 * The JSON builder: the one way journey details and notification payloads
 * are written, so every key and string is escaped alike and no caller
 * writes braces, brackets or separators by hand.  A key of NULL adds an
 * element to the array being built.  The text lives in the context that
 * was current at LeadflowJsonBegin.
 *
 * In jsonb mode (journey details) the same calls build the detail as an
 * in-memory jsonb value, so a detail is never written as text and parsed
 * back, and its canonical text (the hash's) is written from those values
 * rather than read back from the finished jsonb.  Members are appended to
 * the open container; an object's pairs are put in jsonb's key order
 * (length, then bytes; of a key given twice the last value, as jsonb_in
 * keeps) when it closes, which is one pass when they already are in that
 * order.  Everything (keys, strings, numerics) is copied into the context
 * current at LeadflowJsonBeginJsonb: members may be added from code that
 * runs in shorter-lived contexts (an SPI procedure's).
 */

/* a jsonb string of s, copied into j->cxt */
static JsonbValue *
jb_string(LeadflowJson *j, JsonbValue *v, const char *s, int len)
{
	v->type = jbvString;
	v->val.string.len = len;
	v->val.string.val = MemoryContextAlloc(j->cxt, len + 1);
	memcpy(v->val.string.val, s, len);
	v->val.string.val[len] = '\0';	/* for escape_json */
	return v;
}

/* a numeric of its text form (as jsonb_in reads a number), in j->cxt */
static JsonbValue *
jb_numeric(LeadflowJson *j, JsonbValue *v, const char *digits)
{
	MemoryContext old = MemoryContextSwitchTo(j->cxt);

	v->type = jbvNumeric;
	v->val.numeric = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(digits),
														 ObjectIdGetDatum(InvalidOid),
														 Int32GetDatum(-1)));
	MemoryContextSwitchTo(old);
	return v;
}

#define JB_FIRST_CAP 8

/* the slot of a new member (key) or element (key NULL) of container c */
static JsonbValue *
jb_slot(LeadflowJson *j, JsonbValue *c, int *cap, const char *key)
{
	JsonbValue *slot;

	if (c->type == jbvObject)
	{
		JsonbPair  *p;

		if (key == NULL)
			elog(ERROR, "leadflow: JSON object member without a key");
		if (c->val.object.nPairs == *cap)
		{
			*cap *= 2;
			c->val.object.pairs = repalloc(c->val.object.pairs, *cap * sizeof(JsonbPair));
		}
		p = &c->val.object.pairs[c->val.object.nPairs];
		p->order = c->val.object.nPairs++;
		jb_string(j, &p->key, key, strlen(key));
		slot = &p->value;
	}
	else
	{
		if (key != NULL)
			elog(ERROR, "leadflow: JSON array element with a key");
		if (c->val.array.nElems == *cap)
		{
			*cap *= 2;
			c->val.array.elems = repalloc(c->val.array.elems, *cap * sizeof(JsonbValue));
		}
		slot = &c->val.array.elems[c->val.array.nElems++];
	}
	slot->type = jbvNull;
	return slot;
}

/* the slot last added to container c */
static JsonbValue *
jb_last(JsonbValue *c)
{
	if (c->type == jbvObject)
		return &c->val.object.pairs[c->val.object.nPairs - 1].value;
	return &c->val.array.elems[c->val.array.nElems - 1];
}

/* jsonb's order of keys: shorter first, then by bytes */
static int
jb_key_cmp(const JsonbValue *a, const JsonbValue *b)
{
	if (a->val.string.len != b->val.string.len)
		return a->val.string.len > b->val.string.len ? 1 : -1;
	return memcmp(a->val.string.val, b->val.string.val, a->val.string.len);
}

/*
 * the pairs of obj in jsonb's order, each key once (of equal keys the one
 * added last, as jsonb_in keeps): an insertion sort, stable, one pass when
 * the builder's calls came in that order, and few moves for a dozen keys
 * otherwise (qsort was most of a detail's cost)
 */
static void
jb_order(JsonbValue *obj)
{
	JsonbPair  *p = obj->val.object.pairs;
	int			n = obj->val.object.nPairs;
	bool		twice = false;
	int			i;
	int			k;

	for (i = 1; i < n; i++)
	{
		JsonbPair	moving = p[i];
		int			res = 1;

		for (k = i; k > 0 && (res = jb_key_cmp(&p[k - 1].key, &moving.key)) > 0; k--)
			p[k] = p[k - 1];
		p[k] = moving;
		twice |= res == 0;
	}
	if (!twice)
		return;
	for (i = 1, k = 0; i < n; i++)
	{
		if (jb_key_cmp(&p[k].key, &p[i].key) != 0)
			k++;
		p[k] = p[i];
	}
	obj->val.object.nPairs = k + 1;
}

/* escape_json's output, whole when nothing needs escaping (most text) */
static void
jb_escape(StringInfo out, const char *s, int len)
{
	int			i;

	for (i = 0; i < len; i++)
		if ((unsigned char) s[i] < ' ' || s[i] == '"' || s[i] == '\\')
		{
			escape_json(out, s);
			return;
		}
	enlargeStringInfo(out, len + 2);
	out->data[out->len++] = '"';
	memcpy(out->data + out->len, s, len);
	out->len += len;
	out->data[out->len++] = '"';
	out->data[out->len] = '\0';
}

/*
 * the value the iterator stands at (tok, *v) into dst, a container read to
 * its end; strings and keys copied into j->cxt, numerics left in the
 * jsonb read (the caller's copy there)
 */
static void
jb_read_value(LeadflowJson *j, JsonbIterator **it, JsonbIteratorToken tok, JsonbValue *v,
			  JsonbValue *dst)
{
	bool		object = tok == WJB_BEGIN_OBJECT;
	int			n = 0;

	if (tok != WJB_BEGIN_OBJECT && tok != WJB_BEGIN_ARRAY)
	{
		if (v->type == jbvString)
			jb_string(j, dst, v->val.string.val, v->val.string.len);
		else
			*dst = *v;
		return;
	}
	*dst = *v;
	if (object)
		dst->val.object.pairs = MemoryContextAlloc(j->cxt, Max(v->val.object.nPairs, 1) * sizeof(JsonbPair));
	else
		dst->val.array.elems = MemoryContextAlloc(j->cxt, Max(v->val.array.nElems, 1) * sizeof(JsonbValue));
	/* the iterator gives the count: the arrays are filled, never grown */
	while ((tok = JsonbIteratorNext(it, v, false)) != WJB_END_OBJECT && tok != WJB_END_ARRAY)
	{
		JsonbValue *slot;

		if (object)
		{
			JsonbPair  *p = &dst->val.object.pairs[n];

			jb_string(j, &p->key, v->val.string.val, v->val.string.len);
			p->order = n;
			slot = &p->value;
			tok = JsonbIteratorNext(it, v, false);
		}
		else
			slot = &dst->val.array.elems[n];
		n++;
		jb_read_value(j, it, tok, v, slot);
	}
}

/* the value of a jsonb (in j->cxt) into dst, a scalar as itself */
static void
jb_read(LeadflowJson *j, JsonbValue *dst, JsonbContainer *c)
{
	JsonbIterator *it = JsonbIteratorInit(c);
	JsonbValue	v;
	JsonbIteratorToken tok = JsonbIteratorNext(&it, &v, false);

	if (tok == WJB_BEGIN_ARRAY && v.val.array.rawScalar)
		tok = JsonbIteratorNext(&it, &v, false);
	jb_read_value(j, &it, tok, &v, dst);
}

/* v as jsonb_out writes it (JsonbToCString without indent) */
static void
jb_text(StringInfo out, const JsonbValue *v)
{
	int			i;

	switch (v->type)
	{
		case jbvNull:
			appendBinaryStringInfo(out, "null", 4);
			break;
		case jbvString:
			jb_escape(out, v->val.string.val, v->val.string.len);
			break;
		case jbvNumeric:
			appendStringInfoString(out, DatumGetCString(DirectFunctionCall1(numeric_out,
																			NumericGetDatum(v->val.numeric))));
			break;
		case jbvBool:
			appendStringInfoString(out, v->val.boolean ? "true" : "false");
			break;
		case jbvObject:
			appendStringInfoChar(out, '{');
			for (i = 0; i < v->val.object.nPairs; i++)
			{
				if (i > 0)
					appendBinaryStringInfo(out, ", ", 2);
				jb_escape(out, v->val.object.pairs[i].key.val.string.val,
						  v->val.object.pairs[i].key.val.string.len);
				appendBinaryStringInfo(out, ": ", 2);
				jb_text(out, &v->val.object.pairs[i].value);
			}
			appendStringInfoChar(out, '}');
			break;
		case jbvArray:
			appendStringInfoChar(out, '[');
			for (i = 0; i < v->val.array.nElems; i++)
			{
				if (i > 0)
					appendBinaryStringInfo(out, ", ", 2);
				jb_text(out, &v->val.array.elems[i]);
			}
			appendStringInfoChar(out, ']');
			break;
		default:
			elog(ERROR, "leadflow: unexpected jsonb value type %d", (int) v->type);
	}
}

static void
json_open(LeadflowJson *j, char open, char close)
{
	if (j->depth >= LEADFLOW_JSON_MAX_DEPTH)
		elog(ERROR, "leadflow: JSON nested too deep");
	if (j->jsonb)
	{
		JsonbValue *c = &j->open[j->depth];

		j->cap[j->depth] = JB_FIRST_CAP;
		if (open == '{')
		{
			c->type = jbvObject;
			c->val.object.nPairs = 0;
			c->val.object.pairs = MemoryContextAlloc(j->cxt, JB_FIRST_CAP * sizeof(JsonbPair));
		}
		else
		{
			c->type = jbvArray;
			c->val.array.nElems = 0;
			c->val.array.rawScalar = false;
			c->val.array.elems = MemoryContextAlloc(j->cxt, JB_FIRST_CAP * sizeof(JsonbValue));
		}
	}
	else
		appendStringInfoChar(&j->buf, open);
	j->close[j->depth] = close;
	j->empty[j->depth] = true;
	j->depth++;
}

/*
 * the separator and key of the next member or element; in jsonb mode the
 * slot its value goes to (NULL in text mode)
 */
static JsonbValue *
json_member(LeadflowJson *j, const char *key)
{
	if (j->depth == 0)
		elog(ERROR, "leadflow: JSON value outside an object");
	if (j->jsonb)
		return jb_slot(j, &j->open[j->depth - 1], &j->cap[j->depth - 1], key);
	if (!j->empty[j->depth - 1])
		appendStringInfoString(&j->buf, ", ");
	j->empty[j->depth - 1] = false;
	if (key != NULL)
	{
		escape_json(&j->buf, key);
		appendStringInfoString(&j->buf, ": ");
	}
	return NULL;
}

void
LeadflowJsonBegin(LeadflowJson *j)
{
	memset(j, 0, sizeof(LeadflowJson));
	initStringInfo(&j->buf);
	json_open(j, '{', '}');
}

/* a top-level array instead of an object */
void
LeadflowJsonBeginArray(LeadflowJson *j)
{
	memset(j, 0, sizeof(LeadflowJson));
	initStringInfo(&j->buf);
	json_open(j, '[', ']');
}

/* an object built as jsonb, in the current memory context */
void
LeadflowJsonBeginJsonb(LeadflowJson *j)
{
	memset(j, 0, sizeof(LeadflowJson));
	j->jsonb = true;
	j->cxt = CurrentMemoryContext;
	json_open(j, '{', '}');
}

/* an object built as member key of the jsonb builder outer */
void
LeadflowJsonBeginIn(LeadflowJson *j, LeadflowJson *outer, const char *key)
{
	Assert(outer->jsonb && key != NULL);
	json_member(outer, key);
	memset(j, 0, sizeof(LeadflowJson));
	j->jsonb = true;
	j->outer = outer;
	j->cxt = outer->cxt;
	json_open(j, '{', '}');
}

void
LeadflowJsonInt(LeadflowJson *j, const char *key, int64 value)
{
	JsonbValue *v = json_member(j, key);

	if (v != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(j->cxt);

		v->type = jbvNumeric;
		v->val.numeric = int64_to_numeric(value);
		MemoryContextSwitchTo(old);
	}
	else
	{
		char		digits[MAXINT8LEN + 1];

		appendBinaryStringInfo(&j->buf, digits, pg_lltoa(value, digits));
	}
}

void
LeadflowJsonFloat(LeadflowJson *j, const char *key, double value, int decimals)
{
	JsonbValue *v = json_member(j, key);

	if (v != NULL)
	{
		if (isnan(value) || isinf(value))
			elog(ERROR, "leadflow: JSON number is not finite");
		jb_numeric(j, v, psprintf("%.*f", decimals, value));
	}
	else
		appendStringInfo(&j->buf, "%.*f", decimals, value);
}

void
LeadflowJsonText(LeadflowJson *j, const char *key, const char *value)
{
	JsonbValue *v = json_member(j, key);

	if (v != NULL)
	{
		if (value != NULL)
			jb_string(j, v, value, strlen(value));
	}
	else if (value == NULL)
		appendStringInfoString(&j->buf, "null");
	else
		escape_json(&j->buf, value);
}

void
LeadflowJsonBool(LeadflowJson *j, const char *key, bool value)
{
	JsonbValue *v = json_member(j, key);

	if (v != NULL)
	{
		v->type = jbvBool;
		v->val.boolean = value;
	}
	else
		appendStringInfoString(&j->buf, value ? "true" : "false");
}

/* a jsonb value (a column's); in jsonb mode copied into the builder's context */
void
LeadflowJsonJsonb(LeadflowJson *j, const char *key, Jsonb *value)
{
	JsonbValue *v = json_member(j, key);

	if (v != NULL)
	{
		Jsonb	   *copy = MemoryContextAlloc(j->cxt, VARSIZE(value));

		memcpy(copy, value, VARSIZE(value));
		jb_read(j, v, &copy->root);
	}
	else
		appendStringInfoString(&j->buf, JsonbToCString(NULL, &value->root, VARSIZE(value)));
}

/* a value already written as JSON text (another builder's result) */
void
LeadflowJsonRaw(LeadflowJson *j, const char *key, const char *json)
{
	if (j->jsonb)
	{
		LeadflowJsonJsonb(j, key, DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(json))));
		return;
	}
	json_member(j, key);
	appendStringInfoString(&j->buf, json);
}

void
LeadflowJsonNull(LeadflowJson *j, const char *key)
{
	JsonbValue *v = json_member(j, key);

	if (v == NULL)
		appendStringInfoString(&j->buf, "null");
}

void
LeadflowJsonObject(LeadflowJson *j, const char *key)
{
	json_member(j, key);
	json_open(j, '{', '}');
}

void
LeadflowJsonArray(LeadflowJson *j, const char *key)
{
	json_member(j, key);
	json_open(j, '[', ']');
}

void
LeadflowJsonClose(LeadflowJson *j)
{
	if (j->depth == 0)
		elog(ERROR, "leadflow: JSON closed more than opened");
	j->depth--;
	if (j->jsonb)
	{
		JsonbValue *c = &j->open[j->depth];

		if (c->type == jbvObject)
			jb_order(c);
		/* into the slot the container's member or element made */
		if (j->depth > 0)
			*jb_last(&j->open[j->depth - 1]) = *c;
		else if (j->outer != NULL)
			*jb_last(&j->outer->open[j->outer->depth - 1]) = *c;
		else
			j->result = *c;
	}
	else
		appendStringInfoChar(&j->buf, j->close[j->depth]);
}

/* closes what is open; the text */
char *
LeadflowJsonFinish(LeadflowJson *j)
{
	if (j->jsonb)
		elog(ERROR, "leadflow: a jsonb builder finished as text");
	while (j->depth > 0)
		LeadflowJsonClose(j);
	return j->buf.data;
}

/*
 * closes what is open; the jsonb, in the current context (NULL for a
 * builder begun in another: its object is a member there)
 */
Jsonb *
LeadflowJsonFinishJsonb(LeadflowJson *j)
{
	Assert(j->jsonb);
	while (j->depth > 0)
		LeadflowJsonClose(j);
	if (j->outer != NULL)
		return NULL;
	return JsonbValueToJsonb(&j->result);
}

/*
 * the text jsonb_out writes for the jsonb a finished builder made (the
 * journey hash's input), written from the values without walking that
 * jsonb; in the current context
 */
char *
LeadflowJsonCanonical(LeadflowJson *j)
{
	StringInfoData out;

	if (!j->jsonb || j->depth > 0 || j->outer != NULL)
		elog(ERROR, "leadflow: canonical text of an unfinished or nested builder");
	initStringInfo(&out);
	jb_text(&out, &j->result);
	return out.data;
}

/* true when s has no byte above 0x7F */
bool
LeadflowIsAscii(const char *s)
{
	for (; *s; s++)
		if (IS_HIGHBIT_SET(*s))
			return false;
	return true;
}

/* lower-cases A-Z in place; other bytes stay */
void
LeadflowAsciiLower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s += 'a' - 'A';
}

/*
 * LeadflowServerToUtf8
 *		The text s in UTF-8: s itself in UTF-8 and SQL_ASCII databases and
 *		for pure ASCII, else a palloc'd conversion.
 */
const char *
LeadflowServerToUtf8(const char *s)
{
	int			encoding = GetDatabaseEncoding();

	if (encoding == PG_UTF8 || encoding == PG_SQL_ASCII || LeadflowIsAscii(s))
		return s;
	return pg_server_to_any(s, strlen(s), PG_UTF8);
}

/*
 * LeadflowUtf8ToServer
 *		The reverse of LeadflowServerToUtf8 for a result; palloc'd or s itself.
 */
char *
LeadflowUtf8ToServer(char *s)
{
	int			encoding = GetDatabaseEncoding();

	if (encoding == PG_UTF8 || encoding == PG_SQL_ASCII || LeadflowIsAscii(s))
		return s;
	return pg_any_to_server(s, strlen(s), PG_UTF8);
}

/*
 * LeadflowDecodeUtf8
 *		Decodes one character at p (before end) into *c.  Returns its length
 *		in bytes, or -1 for an invalid or truncated sequence.
 */
int
LeadflowDecodeUtf8(const unsigned char *p, const unsigned char *end, pg_wchar *c)
{
	int			len = pg_utf_mblen(p);

	if (len > end - p || !pg_utf8_islegal(p, len))
		return -1;
	*c = utf8_to_unicode(p);
	return len;
}

/*
 * C.UTF-8's LC_CTYPE, opened once per backend, so case folding is the same
 * in every database whatever its locale.  (locale_t) 0 when the C library
 * has no such locale: then only ASCII is folded.
 */
static locale_t
utf8_ctype(void)
{
	static bool opened = false;
	static locale_t ctype = (locale_t) 0;

	if (!opened)
	{
		ctype = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t) 0);
		opened = true;
	}
	return ctype;
}

/* lower case of one Unicode character */
pg_wchar
LeadflowFoldChar(pg_wchar c)
{
	locale_t	ctype;

	if (c < 0x80)
		return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
	ctype = utf8_ctype();
	if (ctype == (locale_t) 0)
		return c;
	return (pg_wchar) towlower_l((wint_t) c, ctype);
}

/*
 * Characters that cannot be seen or that separate words: C1 controls,
 * Unicode spaces, zero-width and bidirectional marks, the byte order mark,
 * specials.  Refused in a local part; c is 0x80 or above.
 */
bool
LeadflowIsInvisible(pg_wchar c)
{
	return c <= 0xA0 || c == 0xAD || c == 0x1680 || c == 0x180E ||
		(c >= 0x2000 && c <= 0x200F) ||
		(c >= 0x2028 && c <= 0x202F) ||
		(c >= 0x205F && c <= 0x206F) ||
		c == 0x3000 || c == 0xFEFF || c >= 0xFFF9;
}
