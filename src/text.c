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
 * In jsonb mode (journey details) the same calls push the values into a
 * jsonb parse state, so a detail is never written as text and parsed back.
 * Everything pushed (keys, strings, numerics) is copied into the context
 * current at LeadflowJsonBeginJsonb: members may be added from code that
 * runs in shorter-lived contexts (an SPI procedure's).
 */
static void
jb_push(LeadflowJson *j, JsonbIteratorToken tok, JsonbValue *v)
{
	MemoryContext old = MemoryContextSwitchTo(j->cxt);

	j->result = pushJsonbValue(j->state, tok, v);
	MemoryContextSwitchTo(old);
}

/* a jsonb string of s, copied into j->cxt */
static JsonbValue *
jb_string(LeadflowJson *j, JsonbValue *v, const char *s)
{
	v->type = jbvString;
	v->val.string.len = strlen(s);
	v->val.string.val = MemoryContextStrdup(j->cxt, s);
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

static void
json_open(LeadflowJson *j, char open, char close)
{
	if (j->depth >= LEADFLOW_JSON_MAX_DEPTH)
		elog(ERROR, "leadflow: JSON nested too deep");
	if (j->jsonb)
		jb_push(j, open == '{' ? WJB_BEGIN_OBJECT : WJB_BEGIN_ARRAY, NULL);
	else
		appendStringInfoChar(&j->buf, open);
	j->close[j->depth] = close;
	j->empty[j->depth] = true;
	j->depth++;
}

/*
 * the separator and key of the next member or element; the token its value
 * takes in jsonb mode
 */
static JsonbIteratorToken
json_member(LeadflowJson *j, const char *key)
{
	if (j->depth == 0)
		elog(ERROR, "leadflow: JSON value outside an object");
	if (j->jsonb)
	{
		JsonbValue	k;

		if (key == NULL)
			return WJB_ELEM;
		jb_push(j, WJB_KEY, jb_string(j, &k, key));
		return WJB_VALUE;
	}
	if (!j->empty[j->depth - 1])
		appendStringInfoString(&j->buf, ", ");
	j->empty[j->depth - 1] = false;
	if (key != NULL)
	{
		escape_json(&j->buf, key);
		appendStringInfoString(&j->buf, ": ");
	}
	return key != NULL ? WJB_VALUE : WJB_ELEM;
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
	j->state = &j->own;
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
	j->state = outer->state;
	j->cxt = outer->cxt;
	json_open(j, '{', '}');
}

void
LeadflowJsonInt(LeadflowJson *j, const char *key, int64 value)
{
	JsonbIteratorToken tok = json_member(j, key);

	if (j->jsonb)
	{
		JsonbValue	v;
		MemoryContext old = MemoryContextSwitchTo(j->cxt);

		v.type = jbvNumeric;
		v.val.numeric = int64_to_numeric(value);
		MemoryContextSwitchTo(old);
		jb_push(j, tok, &v);
	}
	else
		appendStringInfo(&j->buf, INT64_FORMAT, value);
}

void
LeadflowJsonFloat(LeadflowJson *j, const char *key, double value, int decimals)
{
	JsonbIteratorToken tok = json_member(j, key);

	if (j->jsonb)
	{
		JsonbValue	v;

		if (isnan(value) || isinf(value))
			elog(ERROR, "leadflow: JSON number is not finite");
		jb_push(j, tok, jb_numeric(j, &v, psprintf("%.*f", decimals, value)));
	}
	else
		appendStringInfo(&j->buf, "%.*f", decimals, value);
}

void
LeadflowJsonText(LeadflowJson *j, const char *key, const char *value)
{
	JsonbIteratorToken tok = json_member(j, key);

	if (j->jsonb)
	{
		JsonbValue	v;

		if (value == NULL)
			v.type = jbvNull;
		else
			jb_string(j, &v, value);
		jb_push(j, tok, &v);
	}
	else if (value == NULL)
		appendStringInfoString(&j->buf, "null");
	else
		escape_json(&j->buf, value);
}

void
LeadflowJsonBool(LeadflowJson *j, const char *key, bool value)
{
	JsonbIteratorToken tok = json_member(j, key);

	if (j->jsonb)
	{
		JsonbValue	v;

		v.type = jbvBool;
		v.val.boolean = value;
		jb_push(j, tok, &v);
	}
	else
		appendStringInfoString(&j->buf, value ? "true" : "false");
}

/* a jsonb value (a column's); in jsonb mode copied into the builder's context */
void
LeadflowJsonJsonb(LeadflowJson *j, const char *key, Jsonb *value)
{
	JsonbIteratorToken tok = json_member(j, key);

	if (j->jsonb)
	{
		JsonbValue	v;
		Jsonb	   *copy = MemoryContextAlloc(j->cxt, VARSIZE(value));

		memcpy(copy, value, VARSIZE(value));
		v.type = jbvBinary;
		v.val.binary.data = &copy->root;
		v.val.binary.len = VARSIZE(copy) - VARHDRSZ;
		jb_push(j, tok, &v);
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
	JsonbIteratorToken tok = json_member(j, key);

	if (j->jsonb)
	{
		JsonbValue	v;

		v.type = jbvNull;
		jb_push(j, tok, &v);
	}
	else
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
		jb_push(j, j->close[j->depth] == '}' ? WJB_END_OBJECT : WJB_END_ARRAY, NULL);
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
	if (j->state != &j->own)
		return NULL;
	return JsonbValueToJsonb(j->result);
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
