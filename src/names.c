/*-------------------------------------------------------------------------
 *
 * names.c
 *	  Name similarity, pure: Jaro-Winkler over case-folded, white-space
 *	  collapsed names, by characters, and its SQL function.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/unicode_norm.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "normalize.h"
#include "text.h"

/* names are compared on their first this many characters */
#define NAME_MAX_CHARS			255

/* Jaro-Winkler: prefix scale, longest prefix counted, boost threshold */
#define JW_PREFIX_SCALE			0.1
#define JW_PREFIX_MAX			4
#define JW_BOOST_THRESHOLD		0.7

/* Unicode white space (Zs, line and paragraph separators, NEL) */
static bool
is_unicode_space(pg_wchar c)
{
	return c == 0x85 || c == 0xA0 || c == 0x1680 ||
		(c >= 0x2000 && c <= 0x200A) ||
		c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/*
 * fold_name
 *		Decodes name into chars (room for NAME_MAX_CHARS + 1): lower case,
 *		NFC, white space trimmed and collapsed to one space, control and
 *		zero-width characters dropped, at most NAME_MAX_CHARS characters.
 *		Bytes that are not UTF-8 count as one character each.  Returns the
 *		number of characters.  Called by LeadflowNameSimilarity.
 */
static int
fold_name(const char *name, pg_wchar *chars)
{
	const char *utf8 = LeadflowServerToUtf8(name);
	const unsigned char *p = (const unsigned char *) utf8;
	const unsigned char *end = p + strlen(utf8);
	bool		space = false;
	bool		ascii = true;
	int			n = 0;

	while (p < end && n < NAME_MAX_CHARS)
	{
		pg_wchar	c;
		int			len = LeadflowDecodeUtf8(p, end, &c);

		if (len < 0)
		{
			c = *p;
			len = 1;
		}
		p += len;

		if (LeadflowIsAsciiSpace((unsigned char) c) || is_unicode_space(c))
		{
			space = (n > 0);
			continue;
		}
		if (c < 0x20 || c == 0x7F || (c >= 0x80 && LeadflowIsInvisible(c)))
			continue;
		if (space)
		{
			chars[n++] = ' ';
			space = false;
			if (n == NAME_MAX_CHARS)
				break;
		}
		if (c >= 0x80)
			ascii = false;
		chars[n++] = LeadflowFoldChar(c);
	}
	chars[n] = 0;

	if (!ascii)
	{
		pg_wchar   *nfc = unicode_normalize(UNICODE_NFC, chars);

		for (n = 0; nfc[n] != 0 && n < NAME_MAX_CHARS; n++)
			chars[n] = nfc[n];
		chars[n] = 0;
		pfree(nfc);
	}
	if (utf8 != name)
		pfree(unconstify(char *, utf8));
	return n;
}

/*
 * jaro_winkler
 *		Jaro similarity of a and b, raised by Winkler's common-prefix bonus
 *		(up to 4 characters, scale 0.1) when above 0.7, as in Winkler's
 *		strcmp95 (half the transpositions, rounded down).  a and b hold at
 *		most NAME_MAX_CHARS characters.  Called by LeadflowNameSimilarity.
 */
static double
jaro_winkler(const pg_wchar *a, int alen, const pg_wchar *b, int blen)
{
	bool		amatched[NAME_MAX_CHARS];
	bool		bmatched[NAME_MAX_CHARS];
	int			window = Max(alen, blen) / 2 - 1;
	int			matches = 0;
	int			transpositions = 0;
	int			prefix = 0;
	int			i;
	int			j;
	double		jaro;

	if (window < 0)
		window = 0;
	memset(amatched, 0, sizeof(amatched));
	memset(bmatched, 0, sizeof(bmatched));

	for (i = 0; i < alen; i++)
	{
		int			lo = Max(0, i - window);
		int			hi = Min(blen - 1, i + window);

		for (j = lo; j <= hi; j++)
			if (!bmatched[j] && a[i] == b[j])
			{
				amatched[i] = bmatched[j] = true;
				matches++;
				break;
			}
	}
	if (matches == 0)
		return 0.0;

	for (i = 0, j = 0; i < alen; i++)
	{
		if (!amatched[i])
			continue;
		while (!bmatched[j])
			j++;
		if (a[i] != b[j])
			transpositions++;
		j++;
	}

	jaro = ((double) matches / alen + (double) matches / blen +
			(double) (matches - transpositions / 2) / matches) / 3.0;
	if (jaro <= JW_BOOST_THRESHOLD)
		return jaro;
	while (prefix < Min(JW_PREFIX_MAX, Min(alen, blen)) && a[prefix] == b[prefix])
		prefix++;
	return jaro + prefix * JW_PREFIX_SCALE * (1.0 - jaro);
}

/*
 * LeadflowNameSimilarity
 *		Jaro-Winkler similarity of two names in [0,1], by characters, after
 *		fold_name.  Both empty: 1; one empty: 0.
 *
 * Called by the duplicate finder and leadflow_name_similarity; works in
 * the current memory context and frees what it allocates.
 */
double
LeadflowNameSimilarity(const char *a, const char *b)
{
	pg_wchar	achars[NAME_MAX_CHARS + 1];
	pg_wchar	bchars[NAME_MAX_CHARS + 1];
	int			alen = fold_name(a, achars);
	int			blen = fold_name(b, bchars);

	if (alen == 0 && blen == 0)
		return 1.0;
	if (alen == 0 || blen == 0)
		return 0.0;
	return jaro_winkler(achars, alen, bchars, blen);
}

/*
 * SQL-callable functions
 */

/*
 * leadflow.name_similarity(a text, b text) RETURNS double precision
 *		Jaro-Winkler similarity of two names, see LeadflowNameSimilarity.
 */
PG_FUNCTION_INFO_V1(leadflow_name_similarity);
Datum
leadflow_name_similarity(PG_FUNCTION_ARGS)
{
	char	   *a = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *b = text_to_cstring(PG_GETARG_TEXT_PP(1));

	PG_RETURN_FLOAT8(LeadflowNameSimilarity(a, b));
}
