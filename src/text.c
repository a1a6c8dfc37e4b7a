/*-------------------------------------------------------------------------
 *
 * text.c
 *	  Pure text helpers: a value quoted for an error message, the JSON
 *	  members that journey details and notifications are built from, and
 *	  the UTF-8 work of emails and names (encoding, decoding, case folding).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <locale.h>
#include <wctype.h>

#include "mb/pg_wchar.h"
#include "utils/json.h"

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
 * LeadflowDetailInt, LeadflowDetailText
 *		Append one "key": value member to a JSON object being built in buf
 *		(a separator unless it follows the opening brace); a NULL text is
 *		null.  The one way journey details and notification payloads are
 *		written, so every key and string is escaped alike.
 */
void
LeadflowDetailInt(StringInfo buf, const char *key, int64 value)
{
	if (buf->len > 0 && buf->data[buf->len - 1] != '{')
		appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfo(buf, ": " INT64_FORMAT, value);
}

void
LeadflowDetailText(StringInfo buf, const char *key, const char *value)
{
	if (buf->len > 0 && buf->data[buf->len - 1] != '{')
		appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfoString(buf, ": ");
	if (value == NULL)
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, value);
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
