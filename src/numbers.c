/*-------------------------------------------------------------------------
 *
 * numbers.c
 *	  Human numbers for company_size and annual_revenue, as people type
 *	  them into forms and spreadsheets: "1,200", "500+", "1.5k", "$5M",
 *	  "5,000,000", "€ 2.5 million".  A range ("11-50"), a value whose
 *	  separators could mean either thing ("1.200", "1,5"), a negative or
 *	  anything else is not guessed: it is a problem code, and the caller
 *	  keeps the value as typed (in attributes) with a data issue.
 *
 *	  Pure: no SPI, no tables.  capture() and process_import call it
 *	  through leadflow.parse_number() and leadflow.number_problem().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "normalize.h"
#include "text.h"

/* digits kept before the decimal point: numeric handles more, nobody needs it */
#define MAX_INT_DIGITS 15

static bool
starts_with_ci(const char *s, const char *prefix)
{
	return pg_strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static const char *
skip_spaces(const char *s)
{
	while (LeadflowIsAsciiSpace((unsigned char) *s))
		s++;
	return s;
}

/* currency marks people put before or after an amount */
static const char *const currencies[] = {
	"US$", "USD", "EUR", "GBP", "CHF", "CAD", "AUD", "INR", "JPY",
	"$", "\xe2\x82\xac" /* € */ , "\xc2\xa3" /* £ */ , "\xc2\xa5" /* ¥ */ ,
	"\xe2\x82\xb9" /* ₹ */
};

/* the currency mark at s, its length or 0 */
static int
currency_at(const char *s)
{
	int			i;

	for (i = 0; i < (int) lengthof(currencies); i++)
		if (starts_with_ci(s, currencies[i]))
			return strlen(currencies[i]);
	return 0;
}

/* scale words after a number: their power of ten */
static const struct
{
	const char *word;
	int			exp;
}			scales[] = {
	{"thousand", 3}, {"million", 6}, {"billion", 9}, {"mio", 6}, {"mn", 6},
	{"mm", 6}, {"bn", 9}, {"k", 3}, {"m", 6}, {"b", 9}
};

/*
 * LeadflowParseNumber
 *		Parses a human number.  Returns a palloc'd plain decimal ("1500",
 *		"2500000.5") with *problem NULL; NULL with *problem NULL for a
 *		blank value; NULL with *problem one of not_a_number, range,
 *		ambiguous, negative, not_whole, too_large otherwise.  whole asks
 *		for a whole number (company_size).
 */
char *
LeadflowParseNumber(const char *raw, bool whole, const char **problem)
{
	const char *s = skip_spaces(raw);
	char		digits[64];		/* all digits, integer and fraction */
	int			ndigits = 0;
	int			point = -1;		/* digits before the decimal point */
	int			nsep_comma = 0;
	int			nsep_dot = 0;
	char		last_sep = 0;
	int			group = -1;		/* digits since the last separator */
	bool		groups_of_3 = true;
	int			exp = 0;
	int			n;
	int			intlen;
	int			i;
	StringInfoData out;

	*problem = NULL;
	if (*s == '\0')
		return NULL;
	if ((n = currency_at(s)) > 0)
		s = skip_spaces(s + n);
	if (*s == '-' || starts_with_ci(s, "\xe2\x88\x92"))
	{
		*problem = "negative";
		return NULL;
	}
	if (*s == '~')
		s = skip_spaces(s + 1);
	if ((n = currency_at(s)) > 0)
		s = skip_spaces(s + n);
	if (!isdigit((unsigned char) *s) && !(*s == '.' && isdigit((unsigned char) s[1])))
	{
		*problem = "not_a_number";
		return NULL;
	}

	/* digits with separators: ',' '.' and a thin or plain space between groups */
	for (; *s; s++)
	{
		if (isdigit((unsigned char) *s))
		{
			if (ndigits >= (int) sizeof(digits) - 1)
			{
				*problem = "too_large";
				return NULL;
			}
			digits[ndigits++] = *s;
			if (group >= 0)
				group++;
			continue;
		}
		if ((*s == ',' || *s == '.' || *s == '\'' || *s == ' ') && isdigit((unsigned char) s[1]))
		{
			if (group >= 0 && group != 3)
				groups_of_3 = false;
			if (group < 0 && ndigits > 3)
				groups_of_3 = false;
			if (*s == ',')
				nsep_comma++;
			else if (*s == '.')
				nsep_dot++;
			if (last_sep != 0 && last_sep != *s && point < 0)
			{
				/* "1.234,5" or "1,234.5": the last kind is the decimal point */
				point = ndigits;
				last_sep = *s;
				group = 0;
				continue;
			}
			last_sep = *s;
			group = 0;
			continue;
		}
		break;
	}
	if (group >= 0 && group != 3)
		groups_of_3 = false;

	/* what the separators mean */
	if (point >= 0)
	{
		/* mixed: decided above; the part before must be in groups of 3 */
	}
	else if (nsep_comma + nsep_dot == 1 && last_sep != ' ' && last_sep != '\'')
	{
		/* one separator: "1,200" thousands, "1.5" decimal, "1.200"/"1,5" unclear */
		int			after = group;

		if (last_sep == '.' && after != 3)
			point = ndigits - after;
		else if (after == 3 && digits[0] != '0')
		{
			/* "1,200" is a thousands separator; "1.200" is unclear unless scaled */
			if (last_sep == '.')
				point = -2;		/* decided by the suffix below */
		}
		else if (last_sep == '.')
			point = ndigits - after;
		else
		{
			*problem = "ambiguous";
			return NULL;
		}
	}
	else if (nsep_comma + nsep_dot > 1 || last_sep == ' ' || last_sep == '\'')
	{
		if (!groups_of_3 || (nsep_comma > 0 && nsep_dot > 0))
		{
			*problem = "ambiguous";
			return NULL;
		}
	}

	/* "+" of "500+", then a scale word, then a currency after the amount */
	s = skip_spaces(s);
	if (*s == '+')
		s = skip_spaces(s + 1);
	if (*s == '-' || starts_with_ci(s, "\xe2\x80\x93") || starts_with_ci(s, "to "))
	{
		*problem = "range";
		return NULL;
	}
	for (i = 0; i < (int) lengthof(scales); i++)
	{
		size_t		len = strlen(scales[i].word);

		if (pg_strncasecmp(s, scales[i].word, len) == 0 && !isalpha((unsigned char) s[len]))
		{
			exp = scales[i].exp;
			s = skip_spaces(s + len);
			break;
		}
	}
	if (*s == '+')
		s = skip_spaces(s + 1);
	if ((n = currency_at(s)) > 0)
		s = skip_spaces(s + n);
	if (*s != '\0')
	{
		*problem = (*s == '-' || starts_with_ci(s, "\xe2\x80\x93")) ? "range" : "not_a_number";
		return NULL;
	}
	if (point == -2)
	{
		/* "1.200k" reads as 1.2 thousand; "1.200" alone is unclear */
		if (exp == 0)
		{
			*problem = "ambiguous";
			return NULL;
		}
		point = ndigits - 3;
	}
	if (point < 0)
		point = ndigits;

	/* scale: move the decimal point right */
	while (exp > 0)
	{
		if (point >= ndigits)
		{
			if (ndigits >= (int) sizeof(digits) - 1)
			{
				*problem = "too_large";
				return NULL;
			}
			digits[ndigits++] = '0';
		}
		point++;
		exp--;
	}

	/* leading zeros of the integer part, trailing zeros of the fraction */
	i = 0;
	while (i < point - 1 && digits[i] == '0')
		i++;
	while (ndigits > point && digits[ndigits - 1] == '0')
		ndigits--;
	intlen = point - i;
	if (intlen > MAX_INT_DIGITS || (whole && intlen > 10))
	{
		*problem = "too_large";
		return NULL;
	}
	if (whole && ndigits > point)
	{
		*problem = "not_whole";
		return NULL;
	}
	initStringInfo(&out);
	appendBinaryStringInfo(&out, digits + i, intlen > 0 ? intlen : 0);
	if (intlen <= 0)
		appendStringInfoChar(&out, '0');
	if (ndigits > point)
	{
		appendStringInfoChar(&out, '.');
		appendBinaryStringInfo(&out, digits + point, ndigits - point);
	}
	if (whole && (intlen == 10 && strcmp(out.data, "2147483647") > 0))
	{
		*problem = "too_large";
		return NULL;
	}
	return out.data;
}

/*
 * leadflow.parse_number(value text, whole boolean) RETURNS numeric
 *		The number a person meant, or NULL (blank, or see number_problem).
 */
PG_FUNCTION_INFO_V1(leadflow_parse_number);
Datum
leadflow_parse_number(PG_FUNCTION_ARGS)
{
	const char *problem;
	char	   *value;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	value = LeadflowParseNumber(text_to_cstring(PG_GETARG_TEXT_PP(0)),
								!PG_ARGISNULL(1) && PG_GETARG_BOOL(1), &problem);
	if (value == NULL)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(DirectFunctionCall3(numeric_in, CStringGetDatum(value),
										ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}

/*
 * leadflow.number_problem(value text, whole boolean) RETURNS text
 *		Why parse_number gives no number for a value that is not blank.
 */
PG_FUNCTION_INFO_V1(leadflow_number_problem);
Datum
leadflow_number_problem(PG_FUNCTION_ARGS)
{
	const char *problem;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	(void) LeadflowParseNumber(text_to_cstring(PG_GETARG_TEXT_PP(0)),
							   !PG_ARGISNULL(1) && PG_GETARG_BOOL(1), &problem);
	if (problem == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(problem));
}
