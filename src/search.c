/*-------------------------------------------------------------------------
 *
 * search.c
 *	  The SQL functions of lead search (search_leads, sql/install/
 *	  87_search.sql), over the words of search_words.c:
 *
 *	  - search_words(first_name, last_name, company): a lead's distinct
 *		words, folded (unaccented, lower case), as the pipeline keeps them in
 *		leads.search_words (GIN), and a query's words;
 *	  - search_key(first_name, last_name, company): the parts folded and
 *		joined by a space, which search_leads compares its query with to
 *		tell a name from a company match in the rows it returns;
 *	  - search_score(...): a lead's score for a query, from the words it
 *		holds and the similarities of the org's words to the query's.
 *
 *	  In C: search_score runs for every candidate lead of a search.
 *	  IMMUTABLE as unaccent's two-argument form is taken to be (the usual
 *	  practice): after a change of the unaccent rules, UPDATE
 *	  leadflow.leads SET search_words = NULL recomputes the column.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "search_words.h"

/*
 * leadflow.search_key(first_name text, last_name text, company text)
 *		RETURNS text
 * NULL when all three are NULL.
 */
PG_FUNCTION_INFO_V1(leadflow_search_key);
Datum
leadflow_search_key(PG_FUNCTION_ARGS)
{
	StringInfoData buf;
	int			i;
	bool		any = false;

	initStringInfo(&buf);
	for (i = 0; i < 3; i++)
	{
		text	   *part;

		if (PG_ARGISNULL(i))
			continue;
		part = PG_GETARG_TEXT_PP(i);
		if (any)
			appendStringInfoChar(&buf, ' ');
		LeadflowSearchFold(&buf, VARDATA_ANY(part), VARSIZE_ANY_EXHDR(part));
		any = true;
	}
	if (!any)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}

/*
 * leadflow.search_words(first_name text, last_name text, company text)
 *		RETURNS text[]
 * NULL when there is no word.
 */
PG_FUNCTION_INFO_V1(leadflow_search_words);
Datum
leadflow_search_words(PG_FUNCTION_ARGS)
{
	text	   *parts[3];
	char	  **words;
	Datum	   *elems;
	int			n;
	int			i;

	for (i = 0; i < 3; i++)
		parts[i] = PG_ARGISNULL(i) ? NULL : PG_GETARG_TEXT_PP(i);
	n = LeadflowSearchWords(parts, 3, &words);
	if (n == 0)
		PG_RETURN_NULL();
	elems = palloc(n * sizeof(Datum));
	for (i = 0; i < n; i++)
		elems[i] = CStringGetTextDatum(words[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* a query's candidate words, read once per calling expression */
typedef struct ScoreQuery
{
	Datum		key;			/* the argument they were read from */
	int			ncand;
	char	  **cand;			/* candidate words */
	int		   *candlen;
	int		   *candq;			/* the query word each is similar to, 0-based */
	float4	   *candsim;		/* and how similar (word_similarity) */
	int			nq;
	float4	   *weight;			/* of each query word */
	float4		total;
	float4	   *best;			/* per row: best similarity per query word */
} ScoreQuery;

static ScoreQuery *
score_query(FunctionCallInfo fcinfo)
{
	ScoreQuery *s = (ScoreQuery *) fcinfo->flinfo->fn_extra;
	ArrayType  *cand;
	ArrayType  *candq;
	ArrayType  *candsim;
	ArrayType  *weight;
	MemoryContext old;
	Datum	   *d;
	bool	   *nulls;
	int			n;
	int			i;

	if (s != NULL && s->key == PG_GETARG_DATUM(1))
		return s;
	old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	cand = PG_GETARG_ARRAYTYPE_P(1);
	candq = PG_GETARG_ARRAYTYPE_P(2);
	candsim = PG_GETARG_ARRAYTYPE_P(3);
	weight = PG_GETARG_ARRAYTYPE_P(4);
	s = palloc0(sizeof(ScoreQuery));
	s->key = PG_GETARG_DATUM(1);
	deconstruct_array(cand, TEXTOID, -1, false, TYPALIGN_INT, &d, &nulls, &s->ncand);
	s->cand = palloc(Max(s->ncand, 1) * sizeof(char *));
	s->candlen = palloc(Max(s->ncand, 1) * sizeof(int));
	for (i = 0; i < s->ncand; i++)
	{
		text	   *t = DatumGetTextPP(d[i]);

		s->candlen[i] = nulls[i] ? -1 : (int) VARSIZE_ANY_EXHDR(t);
		s->cand[i] = nulls[i] ? NULL : pnstrdup(VARDATA_ANY(t), s->candlen[i]);
	}
	deconstruct_array(candq, INT4OID, 4, true, TYPALIGN_INT, &d, &nulls, &n);
	s->candq = palloc(Max(s->ncand, 1) * sizeof(int));
	for (i = 0; i < s->ncand; i++)
		s->candq[i] = (i < n && !nulls[i]) ? DatumGetInt32(d[i]) - 1 : -1;
	deconstruct_array(candsim, FLOAT4OID, 4, true, TYPALIGN_INT, &d, &nulls, &n);
	s->candsim = palloc(Max(s->ncand, 1) * sizeof(float4));
	for (i = 0; i < s->ncand; i++)
		s->candsim[i] = (i < n && !nulls[i]) ? DatumGetFloat4(d[i]) : 0;
	deconstruct_array(weight, FLOAT4OID, 4, true, TYPALIGN_INT, &d, &nulls, &s->nq);
	s->weight = palloc(Max(s->nq, 1) * sizeof(float4));
	for (i = 0; i < s->nq; i++)
	{
		s->weight[i] = nulls[i] ? 0 : DatumGetFloat4(d[i]);
		s->total += s->weight[i];
	}
	for (i = 0; i < s->ncand; i++)
		if (s->candq[i] >= s->nq)
			s->candq[i] = -1;
	s->best = palloc(Max(s->nq, 1) * sizeof(float4));
	MemoryContextSwitchTo(old);
	fcinfo->flinfo->fn_extra = s;
	return s;
}

/*
 * leadflow.search_score(words text[], candidates text[], query_word int[],
 *		similarity real[], weights real[]) RETURNS real
 * A lead's score for a query of weights.length words: the mean, by weight,
 * over the query's words, of the best similarity of a word the lead holds
 * (words) among the candidates for that query word (candidates[i] is
 * similar to query word query_word[i] by similarity[i]); 0 for a query word
 * none of the lead's words is a candidate for.  Search_leads passes the
 * same arrays for every row: they are read once.
 */
PG_FUNCTION_INFO_V1(leadflow_search_score);
Datum
leadflow_search_score(PG_FUNCTION_ARGS)
{
	ArrayType  *words = PG_GETARG_ARRAYTYPE_P(0);
	ScoreQuery *s = score_query(fcinfo);
	Datum	   *d;
	bool	   *nulls;
	int			n;
	int			i;
	int			j;
	float4		sum = 0;

	if (s->total <= 0)
		PG_RETURN_FLOAT4(0);
	deconstruct_array(words, TEXTOID, -1, false, TYPALIGN_INT, &d, &nulls, &n);
	memset(s->best, 0, s->nq * sizeof(float4));
	for (i = 0; i < n; i++)
	{
		text	   *t;
		int			len;

		if (nulls[i])
			continue;
		t = DatumGetTextPP(d[i]);
		len = VARSIZE_ANY_EXHDR(t);
		for (j = 0; j < s->ncand; j++)
			if (s->candlen[j] == len && s->candq[j] >= 0 &&
				memcmp(s->cand[j], VARDATA_ANY(t), len) == 0 &&
				s->candsim[j] > s->best[s->candq[j]])
				s->best[s->candq[j]] = s->candsim[j];
	}
	for (i = 0; i < s->nq; i++)
		sum += s->weight[i] * s->best[i];
	PG_RETURN_FLOAT4(sum / s->total);
}
