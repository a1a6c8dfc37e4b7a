/*-------------------------------------------------------------------------
 *
 * source.c
 *	  The canonical spelling of a lead source: lower case, spaces and
 *	  dashes as "_" ("Web Form", "web-form" and "web_form" are one
 *	  source).  The org's aliases (leadflow.source_aliases, cached with
 *	  the org) then map spellings to one source ("fb" -> meta_ads).
 *	  Pure: no SPI, no tables.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "normalize.h"
#include "text.h"

/*
 * LeadflowSourceKey
 *		raw trimmed, ASCII lower case, each run of white space, "-" and "_"
 *		one "_", none at either end.  palloc'd; "" when nothing is left.
 */
char *
LeadflowSourceKey(const char *raw)
{
	char	   *key = palloc(strlen(raw) + 1);
	char	   *out = key;
	bool		sep = false;
	const unsigned char *s;

	for (s = (const unsigned char *) raw; *s; s++)
	{
		unsigned char c = *s;

		if (c == '-' || c == '_' || LeadflowIsAsciiSpace(c))
		{
			sep = true;
			continue;
		}
		if (sep && out > key)
			*out++ = '_';
		sep = false;
		*out++ = (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
	}
	*out = '\0';
	return key;
}

/*
 * leadflow.source_key(source text) RETURNS text
 *		The canonical spelling the pipeline gives a source before the org's
 *		aliases apply.
 */
PG_FUNCTION_INFO_V1(leadflow_source_key);
Datum
leadflow_source_key(PG_FUNCTION_ARGS)
{
	char	   *key = LeadflowSourceKey(text_to_cstring(PG_GETARG_TEXT_PP(0)));

	if (*key == '\0')
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(key));
}
