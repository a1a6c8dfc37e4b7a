/*-------------------------------------------------------------------------
 *
 * capture.c
 *	  The C helpers of the entry points capture() and stage_import()
 *	  (sql/install/60_capture.sql): the payload limits capture() checks
 *	  before any work, and the CSV reader stage_import() stages a file of
 *	  any header with.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/detoast.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "leadflow.h"

/* entries of the array under key in a jsonb object, 0 when it is no array */
static int
array_entries(Jsonb *jb, const char *key)
{
	JsonbValue	v;

	if (getKeyJsonValueFromContainer(&jb->root, key, strlen(key), &v) == NULL ||
		v.type != jbvBinary || !JsonContainerIsArray(v.val.binary.data))
		return 0;
	return JsonContainerSize(v.val.binary.data);
}

/*
 * leadflow.capture_check_limits(payload jsonb) RETURNS void
 *		Refuses (54000) a payload over leadflow.capture_max_bytes or with
 *		more fields than leadflow.capture_max_keys: its top-level keys plus
 *		the entries of Meta field_data or Google user_column_data.  Called
 *		first by capture_flatten(); the size is read from the datum header
 *		and the counts from the containers' headers, so a refused payload
 *		costs nothing but its detoasting.
 */
PG_FUNCTION_INFO_V1(leadflow_capture_check_limits);
Datum
leadflow_capture_check_limits(PG_FUNCTION_ARGS)
{
	Size		bytes;
	Jsonb	   *jb;
	int64		keys;

	if (PG_ARGISNULL(0))
		PG_RETURN_VOID();
	bytes = toast_raw_datum_size(PG_GETARG_DATUM(0)) - VARHDRSZ;
	if (bytes > (Size) leadflow_capture_max_bytes)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("capture payload of %zu bytes exceeds leadflow.capture_max_bytes (%d bytes)",
						bytes, leadflow_capture_max_bytes),
				 errhint("Send the lead's fields only, or raise leadflow.capture_max_bytes.")));
	jb = PG_GETARG_JSONB_P(0);
	if (!JB_ROOT_IS_OBJECT(jb))
		PG_RETURN_VOID();		/* capture_flatten names the wrong shape */
	keys = JB_ROOT_COUNT(jb);
	keys += array_entries(jb, "field_data");
	keys += array_entries(jb, "user_column_data");
	if (keys > leadflow_capture_max_keys)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("capture payload of " INT64_FORMAT " fields exceeds leadflow.capture_max_keys (%d)",
						keys, leadflow_capture_max_keys),
				 errhint("Send the lead's fields only, or raise leadflow.capture_max_keys.")));
	PG_RETURN_VOID();
}

/* one CSV record being read: its fields so far */
typedef struct CsvRecord
{
	ArrayBuildState *fields;
	StringInfoData field;
	bool		quoted;			/* the field was quoted: "" is empty, not NULL */
} CsvRecord;

static void
end_field(CsvRecord *rec)
{
	/* as COPY ... CSV: an unquoted empty field is NULL */
	bool		isnull = rec->field.len == 0 && !rec->quoted;

	rec->fields = accumArrayResult(rec->fields,
								   isnull ? (Datum) 0 : PointerGetDatum(cstring_to_text_with_len(rec->field.data, rec->field.len)),
								   isnull, TEXTOID, CurrentMemoryContext);
	resetStringInfo(&rec->field);
	rec->quoted = false;
}

/*
 * leadflow.csv_records(csv text) RETURNS SETOF text[]
 *		The records of a CSV text (RFC 4180, as COPY ... CSV reads it:
 *		comma, double quotes with "" inside, CRLF or LF, newlines inside
 *		quotes; an unquoted empty field is NULL), in order, one array each.
 *		Blank lines are skipped.  22P04 for an unterminated quote.  One
 *		pass over the text; the records go to a tuplestore in the caller's
 *		per-query memory.
 */
PG_FUNCTION_INFO_V1(leadflow_csv_records);
Datum
leadflow_csv_records(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	text	   *csv;
	const char *s;
	const char *end;
	CsvRecord	rec;
	bool		in_quotes = false;
	bool		any = false;	/* the record has a character or a separator */
	int			line = 1;
	int			quote_line = 0;
	MemoryContext rowcxt;
	MemoryContext oldcxt;

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	csv = PG_GETARG_TEXT_PP(0);
	s = VARDATA_ANY(csv);
	end = s + VARSIZE_ANY_EXHDR(csv);

	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "leadflow csv record", ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(rowcxt);
	rec.fields = NULL;
	rec.quoted = false;
	initStringInfo(&rec.field);
	MemoryContextSwitchTo(oldcxt);

	for (;; s++)
	{
		bool		at_end = s >= end;
		char		c = at_end ? '\n' : *s;

		if (in_quotes && !at_end)
		{
			if (c == '"' && s + 1 < end && s[1] == '"')
			{
				appendStringInfoChar(&rec.field, '"');
				s++;
			}
			else if (c == '"')
				in_quotes = false;
			else
			{
				if (c == '\n')
					line++;
				appendStringInfoChar(&rec.field, c);
			}
			continue;
		}
		if (in_quotes)
			ereport(ERROR,
					(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
					 errmsg("unterminated CSV quoted field starting on line %d", quote_line)));
		if (c == '"' && rec.field.len == 0 && !rec.quoted)
		{
			in_quotes = rec.quoted = any = true;
			quote_line = line;
		}
		else if (c == ',')
		{
			oldcxt = MemoryContextSwitchTo(rowcxt);
			end_field(&rec);
			MemoryContextSwitchTo(oldcxt);
			any = true;
		}
		else if (c == '\n' || c == '\r')
		{
			if (c == '\r' && s + 1 < end && s[1] == '\n')
				s++;
			if (any)
			{
				Datum		value;
				bool		isnull = false;

				oldcxt = MemoryContextSwitchTo(rowcxt);
				end_field(&rec);
				value = makeArrayResult(rec.fields, rowcxt);
				MemoryContextSwitchTo(oldcxt);
				tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
				/* the record is in the tuplestore: its memory goes */
				MemoryContextReset(rowcxt);
				oldcxt = MemoryContextSwitchTo(rowcxt);
				rec.fields = NULL;
				initStringInfo(&rec.field);
				rec.quoted = false;
				MemoryContextSwitchTo(oldcxt);
			}
			any = false;
			line++;
			if (at_end)
				break;
		}
		else
		{
			appendStringInfoChar(&rec.field, c);
			any = true;
		}
	}
	MemoryContextDelete(rowcxt);
	return (Datum) 0;
}
