/*-------------------------------------------------------------------------
 *
 * search_words.c
 *	  The words lead search compares, and the org's distinct words.
 *
 *	  A lead's first name, last name and company are folded as the unaccent
 *	  extension's dictionary and lower case make them, then cut into words
 *	  at ASCII characters other than letters and digits (bytes of other
 *	  characters belong to words).  Each lead keeps its distinct words in
 *	  leads.search_words, set by the leads trigger (a GIN index over 3 or 4
 *	  words instead of some 22 trigrams; not a stored generated column,
 *	  whose upkeep copies every value of the row); leadflow.lead_words keeps each org's
 *	  distinct words once, with a trigram index, so that a search compares
 *	  its words with a few thousand words, not with a million leads.
 *
 *	  Names repeat, so folding is cached per backend (raw part -> folded
 *	  text, reset when unaccent's dictionary changes or the cache is full).
 *	  The words of the leads a statement writes are collected in a
 *	  transaction buffer (txbuf.h: a subtransaction that aborts takes its
 *	  words with it) and written at the statement's end, sorted, in one
 *	  INSERT ... ON CONFLICT DO NOTHING per org: a load of names the org
 *	  has seen before adds nothing.  That INSERT holds an org-keyed
 *	  advisory lock (shared) until commit; erase_lead takes it exclusively
 *	  before removing words no lead holds any more, so a word a concurrent
 *	  transaction relies on is either seen in use or written again after
 *	  the erasure.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/formatting.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "lead.h"
#include "search_words.h"
#include "spi.h"
#include "txbuf.h"

/* unaccent(regdictionary, text) and its dictionary; InvalidOid: look up */
static FmgrInfo unaccent_fn;
static Oid	unaccent_dict = InvalidOid;

/* raw part -> folded text, for parts shorter than FOLD_KEY bytes */
#define FOLD_KEY 64
#define FOLD_MAX_ENTRIES 65536
typedef struct FoldEntry
{
	char		raw[FOLD_KEY];
	char	   *folded;
} FoldEntry;

static HTAB *fold_cache = NULL;
static MemoryContext fold_cxt = NULL;

/* a word of an org the current transaction wrote a lead with */
typedef struct WordKey
{
	int64		org_id;
	char		word[LEADFLOW_SEARCH_WORD_MAX + 1];	/* zero-padded */
} WordKey;

static TxbufTable pending = TXBUF_TABLE("leadflow new search words", WordKey, WordKey);
static const TxbufClient words_client = {"search words", LeadflowSearchWordsFlush, NULL, NULL};

static LeadflowPlan insert_plan = {
	NULL,
	"INSERT INTO leadflow.lead_words (org_id, word)"
	" SELECT $1, w FROM pg_catalog.unnest($2::text[]) w ON CONFLICT DO NOTHING",
	2, {INT8OID, TEXTARRAYOID}
};

/* the schema of an extension (get_extension_schema is static before 16) */
static Oid
extension_schema(Oid ext)
{
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			nsp = InvalidOid;

	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(ext));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		nsp = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return nsp;
}

/* a change of a text search dictionary (unaccent's rules): fold again */
static void
fold_invalidate(Datum arg, int cacheid, uint32 hashvalue)
{
	unaccent_dict = InvalidOid;
	fold_cache = NULL;
	if (fold_cxt != NULL)
		MemoryContextReset(fold_cxt);
}

/*
 * Finds unaccent(regdictionary, text) and the dictionary unaccent in the
 * schema of the unaccent extension (a required extension of leadflow),
 * once per backend (again after a dictionary changed).
 */
static void
unaccent_lookup(void)
{
	Oid			ext = get_extension_oid("unaccent", true);
	char	   *nsp;
	List	   *name;
	Oid			argtypes[2] = {REGDICTIONARYOID, TEXTOID};
	Oid			dict;

	if (!OidIsValid(ext))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("extension \"unaccent\" is not installed"),
				 errhint("Run CREATE EXTENSION unaccent (lead search needs it).")));
	nsp = get_namespace_name(extension_schema(ext));
	name = list_make2(makeString(nsp), makeString("unaccent"));
	fmgr_info_cxt(LookupFuncName(name, 2, argtypes, false), &unaccent_fn, TopMemoryContext);
	dict = get_ts_dict_oid(name, false);
	if (fold_cxt == NULL)
	{
		fold_cxt = AllocSetContextCreate(TopMemoryContext, "leadflow search fold cache",
										 ALLOCSET_DEFAULT_SIZES);
		CacheRegisterSyscacheCallback(TSDICTOID, fold_invalidate, (Datum) 0);
	}
	unaccent_dict = dict;
}

/* the fold cache, empty when it is new or was full */
static HTAB *
fold_cache_ready(void)
{
	HASHCTL		ctl;

	if (fold_cache != NULL && hash_get_num_entries(fold_cache) < FOLD_MAX_ENTRIES)
		return fold_cache;
	MemoryContextReset(fold_cxt);
	ctl.keysize = FOLD_KEY;
	ctl.entrysize = sizeof(FoldEntry);
	ctl.hcxt = fold_cxt;
	fold_cache = hash_create("leadflow search fold cache", 1024, &ctl,
							 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	return fold_cache;
}

/*
 * LeadflowSearchFold
 *		Appends raw (len bytes) to out without accents (unaccent) and in
 *		lower case (the database's collation).  search_key, search_words
 *		and the pipeline's words call it.
 */
void
LeadflowSearchFold(StringInfo out, const char *raw, int len)
{
	char		key[FOLD_KEY];
	FoldEntry  *e;
	bool		found;
	text	   *plain;
	char	   *folded;

	if (len < FOLD_KEY)
	{
		memcpy(key, raw, len);
		key[len] = '\0';
		if (fold_cache != NULL &&
			(e = hash_search(fold_cache, key, HASH_FIND, NULL)) != NULL)
		{
			appendStringInfoString(out, e->folded);
			return;
		}
	}
	if (!OidIsValid(unaccent_dict))
		unaccent_lookup();
	plain = DatumGetTextPP(FunctionCall2(&unaccent_fn, ObjectIdGetDatum(unaccent_dict),
										 PointerGetDatum(cstring_to_text_with_len(raw, len))));
	folded = str_tolower(VARDATA_ANY(plain), VARSIZE_ANY_EXHDR(plain), DEFAULT_COLLATION_OID);
	appendStringInfoString(out, folded);
	/* the lookups above may have reset the cache: enter afterwards */
	if (len < FOLD_KEY && OidIsValid(unaccent_dict))
	{
		e = hash_search(fold_cache_ready(), key, HASH_ENTER, &found);
		if (!found)
			e->folded = MemoryContextStrdup(fold_cxt, folded);
	}
}

/* a byte between words: ASCII other than letters and digits */
static inline bool
word_break(unsigned char c)
{
	return c < 0x80 && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
}

/*
 * LeadflowSearchWords
 *		The distinct words of the parts (NULL ones skipped), folded, in
 *		order; each at most LEADFLOW_SEARCH_WORD_MAX bytes.  Returns how
 *		many, *words in the current memory context.
 */
int
LeadflowSearchWords(text *const *parts, int nparts, char ***words)
{
	StringInfoData buf;
	char	  **out;
	int			n = 0;
	int			max = 8;
	char	   *p;
	char	   *end;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < nparts; i++)
	{
		if (parts[i] == NULL)
			continue;
		LeadflowSearchFold(&buf, VARDATA_ANY(parts[i]), VARSIZE_ANY_EXHDR(parts[i]));
		appendStringInfoChar(&buf, ' ');
	}
	out = palloc(max * sizeof(char *));
	p = buf.data;
	end = buf.data + buf.len;
	for (;;)
	{
		char	   *start;
		int			len;
		int			j;

		while (p < end && word_break((unsigned char) *p))
			p++;
		if (p >= end)
			break;
		start = p;
		while (p < end && !word_break((unsigned char) *p))
			p++;
		len = p - start;
		if (len > LEADFLOW_SEARCH_WORD_MAX)
			len = pg_mbcliplen(start, len, LEADFLOW_SEARCH_WORD_MAX);
		start[len] = '\0';		/* p is past it: a break or the end */
		for (j = 0; j < n; j++)
			if (strcmp(out[j], start) == 0)
				break;
		if (j < n)
			continue;
		if (n == max)
		{
			max *= 2;
			out = repalloc(out, max * sizeof(char *));
		}
		out[n++] = start;
	}
	*words = out;
	return n;
}

/*
 * LeadflowSearchWordsSet
 *		The leads trigger (pipeline.c, pipeline_update.c), for the row it is
 *		about to store: sets leads.search_words from the row's names and
 *		company and notes the words for the org's words (written at the
 *		statement's end), when they are new (old NULL: an insert) or the
 *		names or company changed.  An UPDATE that writes the column gets it
 *		computed again (SET search_words = NULL after a change of unaccent's
 *		rules); it cannot set its own.  Nothing on a schema without the column
 *		(0.1.0, or the column dropped).  The array is in the current
 *		memory context.
 */
void
LeadflowSearchWordsSet(LeadflowLead *lead, const LeadflowLead *old)
{
	const int	cols[3] = {leadflow_cols.first_name, leadflow_cols.last_name, leadflow_cols.company};
	int			col = leadflow_cols.search_words;
	text	   *parts[3];
	bool		changed = (old == NULL);
	char	  **words;
	Datum	   *elems;
	int			n;
	int			i;

	if (col == 0)
		return;
	for (i = 0; i < 3; i++)
	{
		int			c = cols[i] - 1;

		parts[i] = lead->nulls[c] ? NULL : DatumGetTextPP(lead->values[c]);
		if (old != NULL && !changed)
			changed = lead->nulls[c] != old->nulls[c] ||
				(!lead->nulls[c] && !datumIsEqual(lead->values[c], old->values[c], false, -1));
	}
	/* the same names: the words stay, unless the writer changed them */
	if (!changed &&
		lead->nulls[col - 1] == old->nulls[col - 1] &&
		(lead->nulls[col - 1] || datumIsEqual(lead->values[col - 1], old->values[col - 1], false, -1)))
		return;
	n = LeadflowSearchWords(parts, 3, &words);
	if (n == 0)
	{
		LeadflowLeadSet(lead, col, (Datum) 0, true);
		return;
	}
	elems = palloc(n * sizeof(Datum));
	TxbufRegister(&words_client);
	for (i = 0; i < n; i++)
	{
		WordKey		key;
		bool		found;

		elems[i] = CStringGetTextDatum(words[i]);
		memset(&key, 0, sizeof(key));
		key.org_id = lead->org_id;
		strlcpy(key.word, words[i], sizeof(key.word));
		TxbufEnter(&pending, &key, &found);
	}
	LeadflowLeadSet(lead, col, PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT)),
					false);
}

static int
word_key_cmp(const void *a, const void *b)
{
	const WordKey *x = (const WordKey *) a;
	const WordKey *y = (const WordKey *) b;

	if (x->org_id != y->org_id)
		return x->org_id < y->org_id ? -1 : 1;
	return strcmp(x->word, y->word);
}

/*
 * LeadflowSearchWordsFlush
 *		Writes the buffered words, by org and word, into lead_words (those
 *		it has already are left alone); called at the end of a statement on
 *		leads and before commit (txbuf.c).  Takes each org's words lock
 *		(shared) until commit.
 */
void
LeadflowSearchWordsFlush(void)
{
	long		size = TxbufTableSize(&pending);
	WordKey    *keys;
	WordKey    *k;
	HASH_SEQ_STATUS seq;
	int			n = 0;
	int			start;

	if (size == 0)
		return;
	keys = palloc(size * sizeof(WordKey));
	TxbufSeqInit(&pending, &seq);
	while ((k = TxbufSeqNext(&pending, &seq)) != NULL)
	{
		keys[n++] = *k;
		TxbufRemove(&pending, k);
	}
	if (n == 0)
		return;
	qsort(keys, n, sizeof(WordKey), word_key_cmp);
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	for (start = 0; start < n;)
	{
		int			end = start;
		Datum	   *elems;
		Datum		args[2];
		int			j;

		while (end < n && keys[end].org_id == keys[start].org_id)
			end++;
		elems = palloc((end - start) * sizeof(Datum));
		for (j = start; j < end; j++)
			elems[j - start] = CStringGetTextDatum(keys[j].word);
		DirectFunctionCall2(pg_advisory_xact_lock_shared_int4,
							Int32GetDatum(LEADFLOW_SEARCH_WORDS_LOCK),
							Int32GetDatum((int32) (keys[start].org_id & 0x7fffffff)));
		args[0] = Int64GetDatum(keys[start].org_id);
		args[1] = PointerGetDatum(construct_array(elems, end - start, TEXTOID, -1, false, TYPALIGN_INT));
		LeadflowExecute(&insert_plan, args, NULL, false, 0);
		start = end;
	}
	PopActiveSnapshot();
	SPI_finish();
}
