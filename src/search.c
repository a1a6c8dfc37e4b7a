/*-------------------------------------------------------------------------
 *
 * search.c
 *	  leadflow.search_key(first_name, last_name, company): the text lead
 *	  search (search_leads) compares by trigram similarity, stored for
 *	  each lead in the generated column leads.search_text: the non-null
 *	  parts joined by a space, without accents (the unaccent extension's
 *	  dictionary), in lower case.
 *
 *	  In C rather than an SQL wrapper: it runs for every inserted or
 *	  updated lead, and an SQL function with a pinned search_path costs a
 *	  GUC save and restore per call.  IMMUTABLE as unaccent's two-argument
 *	  form is taken to be (the usual practice): after a change of the
 *	  unaccent rules, UPDATE leadflow.leads SET first_name = first_name
 *	  recomputes the column.
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
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/formatting.h"
#include "utils/lsyscache.h"

/* unaccent(regdictionary, text) and its dictionary, per calling expression */
typedef struct Unaccent
{
	FmgrInfo	fn;
	Oid			dict;
} Unaccent;

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

/*
 * Finds unaccent(regdictionary, text) and the dictionary unaccent in the
 * schema of the unaccent extension (a required extension of leadflow), in
 * the calling expression's memory: looked up once per statement.
 */
static Unaccent *
unaccent_lookup(FmgrInfo *flinfo)
{
	Unaccent   *u = (Unaccent *) flinfo->fn_extra;
	Oid			ext;
	char	   *nsp;
	List	   *name;
	Oid			argtypes[2] = {REGDICTIONARYOID, TEXTOID};

	if (u != NULL)
		return u;
	ext = get_extension_oid("unaccent", true);
	if (!OidIsValid(ext))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("extension \"unaccent\" is not installed"),
				 errhint("Run CREATE EXTENSION unaccent (lead search needs it).")));
	nsp = get_namespace_name(extension_schema(ext));
	name = list_make2(makeString(nsp), makeString("unaccent"));
	u = MemoryContextAlloc(flinfo->fn_mcxt, sizeof(Unaccent));
	fmgr_info_cxt(LookupFuncName(name, 2, argtypes, false), &u->fn, flinfo->fn_mcxt);
	u->dict = get_ts_dict_oid(name, false);
	flinfo->fn_extra = u;
	return u;
}

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
	Unaccent   *u;
	text	   *plain;
	char	   *folded;

	initStringInfo(&buf);
	for (i = 0; i < 3; i++)
	{
		text	   *part;

		if (PG_ARGISNULL(i))
			continue;
		part = PG_GETARG_TEXT_PP(i);
		if (buf.len > 0)
			appendStringInfoChar(&buf, ' ');
		appendBinaryStringInfo(&buf, VARDATA_ANY(part), VARSIZE_ANY_EXHDR(part));
	}
	if (buf.len == 0 && PG_ARGISNULL(0) && PG_ARGISNULL(1) && PG_ARGISNULL(2))
		PG_RETURN_NULL();

	u = unaccent_lookup(fcinfo->flinfo);
	plain = DatumGetTextPP(FunctionCall2(&u->fn, ObjectIdGetDatum(u->dict),
										 PointerGetDatum(cstring_to_text_with_len(buf.data, buf.len))));
	folded = str_tolower(VARDATA_ANY(plain), VARSIZE_ANY_EXHDR(plain), DEFAULT_COLLATION_OID);
	PG_RETURN_TEXT_P(cstring_to_text(folded));
}
