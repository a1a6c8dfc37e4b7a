/*-------------------------------------------------------------------------
 *
 * country.c
 *	  Countries to ISO 3166-1 alpha-2 and states to ISO 3166-2 subdivision
 *	  codes (without the country prefix), from what people type: names in
 *	  English and local languages, alpha-3 codes, common aliases ("UK",
 *	  "USA", "Deutschland", "Bavaria").
 *
 *	  The tables are src/country_data.h, which the build writes from the
 *	  committed data/countries.tsv and data/subdivisions.tsv (generated
 *	  from Debian's iso-codes by data/build_countries.py; data/README.md).
 *	  Both are sorted in byte order of their keys: a lookup is a binary
 *	  search, no allocation but the key.  Pure: no SPI, no tables.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "normalize.h"
#include "text.h"

typedef struct CountryKey
{
	const char *key;
	const char *code;
} CountryKey;

typedef struct SubdivisionKey
{
	const char *country;
	const char *key;
	const char *code;
} SubdivisionKey;

#include "country_data.h"

/*
 * LeadflowPlaceKey
 *		The comparison key of a place name, as data/build_countries.py
 *		place_key() makes it: ASCII and Latin-1 capitals lowered ("Ö" is
 *		UTF-8 C3 96, "ö" C3 B6), "." dropped ("U.S.A."), "-", "_", ",",
 *		"(", ")", "/" and white space runs made one space, trimmed, a
 *		leading "the " dropped.  palloc'd.
 */
char *
LeadflowPlaceKey(const char *raw)
{
	size_t		len = strlen(raw);
	char	   *key = palloc(len + 1);
	char	   *out = key;
	const unsigned char *s = (const unsigned char *) raw;
	bool		space = false;

	for (; *s; s++)
	{
		unsigned char c = *s;

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		else if (c == 0xC3 && s[1] >= 0x80 && s[1] <= 0x9E && s[1] != 0x97)
		{
			/* Latin-1 capital (U+00C0..U+00DE but the multiplication sign) */
			if (space && out > key)
				*out++ = ' ';
			space = false;
			*out++ = (char) c;
			*out++ = (char) (*++s + 0x20);
			continue;
		}
		if (c == '.')
			continue;
		if (c == '-' || c == '_' || c == ',' || c == '(' || c == ')' || c == '/' ||
			LeadflowIsAsciiSpace(c))
		{
			space = true;
			continue;
		}
		if (space && out > key)
			*out++ = ' ';
		space = false;
		*out++ = (char) c;
	}
	*out = '\0';
	if (strncmp(key, "the ", 4) == 0)
		memmove(key, key + 4, strlen(key + 4) + 1);
	return key;
}

/* the tables are sorted by strcmp, as the generator writes them (bsearch) */
static int
country_cmp(const void *key, const void *entry)
{
	return strcmp((const char *) key, ((const CountryKey *) entry)->key);
}

static int
subdivision_cmp(const void *key, const void *entry)
{
	const SubdivisionKey *k = key;
	const SubdivisionKey *e = entry;
	int			cmp = strcmp(k->country, e->country);

	return cmp != 0 ? cmp : strcmp(k->key, e->key);
}

/*
 * LeadflowCountryCode
 *		The ISO 3166-1 alpha-2 code of a country as typed, or NULL.
 */
const char *
LeadflowCountryCode(const char *raw)
{
	char	   *key = LeadflowPlaceKey(raw);
	const CountryKey *found = NULL;

	if (*key)
		found = bsearch(key, country_keys, lengthof(country_keys), sizeof(CountryKey), country_cmp);
	pfree(key);
	return found ? found->code : NULL;
}

/*
 * LeadflowSubdivisionCode
 *		The ISO 3166-2 code, without the country prefix, of a state or
 *		region as typed in a country (alpha-2), or NULL.
 */
const char *
LeadflowSubdivisionCode(const char *country, const char *raw)
{
	SubdivisionKey key = {country, LeadflowPlaceKey(raw), NULL};
	const SubdivisionKey *found = NULL;

	if (*key.key)
		found = bsearch(&key, subdivision_keys, lengthof(subdivision_keys), sizeof(SubdivisionKey),
						subdivision_cmp);
	pfree(unconstify(char *, key.key));
	return found ? found->code : NULL;
}

/*
 * leadflow.country_code(value text) RETURNS text
 *		What the pipeline stores in leads.country for a typed country, NULL
 *		when it does not know it.
 */
PG_FUNCTION_INFO_V1(leadflow_country_code);
Datum
leadflow_country_code(PG_FUNCTION_ARGS)
{
	const char *code = LeadflowCountryCode(text_to_cstring(PG_GETARG_TEXT_PP(0)));

	if (code == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(code));
}

/*
 * leadflow.subdivision_code(country text, value text) RETURNS text
 *		What the pipeline stores in leads.state for a typed state of a
 *		country (typed too), NULL when it does not know either.
 */
PG_FUNCTION_INFO_V1(leadflow_subdivision_code);
Datum
leadflow_subdivision_code(PG_FUNCTION_ARGS)
{
	const char *country = LeadflowCountryCode(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	const char *code;

	if (country == NULL)
		PG_RETURN_NULL();
	code = LeadflowSubdivisionCode(country, text_to_cstring(PG_GETARG_TEXT_PP(1)));
	if (code == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(code));
}
