/*-------------------------------------------------------------------------
 *
 * enrich.c
 *	  Enrichment: empty firmographic fields of a new lead are filled from
 *	  leadflow.company_profiles for its company domain.
 *
 *	  Several vendors may describe one domain.  Field by field, the
 *	  profile with the higher priority wins, then the newer updated_at;
 *	  a vendor that lacks a field leaves it to the next one.  The journey
 *	  records which provider filled which field.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/json.h"

#include "leadflow.h"

/* profile columns, in the order of the query after provider */
static const char *const enrich_fields[] = {
	"industry", "company_size", "annual_revenue", "country"
};
#define NENRICH ((int) lengthof(enrich_fields))

static LeadflowPlan profiles_plan = {
	NULL,
	"SELECT provider, industry, company_size, annual_revenue, country"
	" FROM leadflow.company_profiles"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 AND domain OPERATOR(pg_catalog.=) $2"
	" ORDER BY priority DESC, updated_at DESC, provider",
	2, {INT8OID, TEXTOID}
};

/*
 * LeadflowEnrich
 *		Fills the lead's empty industry, company_size, annual_revenue and
 *		country from company profiles and journals "enriched" if any was
 *		filled.  Values are copied into the current (per-row) context.
 */
void
LeadflowEnrich(LeadflowLead *lead)
{
	char	   *domain = LeadflowLeadText(lead, leadflow_cols.company_domain);
	int			attnums[NENRICH];
	bool		want[NENRICH];
	StringInfoData detail;
	Datum		args[2];
	uint64		row;
	int			nwant = 0;
	int			filled = 0;
	int			i;
	int			rc;

	if (domain == NULL)
		return;
	for (i = 0; i < NENRICH; i++)
	{
		attnums[i] = SPI_fnumber(lead->desc, enrich_fields[i]);
		want[i] = LeadflowLeadIsNull(lead, attnums[i]);
		nwant += want[i];
	}
	if (nwant == 0)
		return;

	initStringInfo(&detail);
	appendStringInfoString(&detail, "{\"filled\": {");
	args[0] = Int64GetDatum(lead->org_id);
	args[1] = CStringGetTextDatum(domain);

	SPI_connect();
	rc = LeadflowExecute(&profiles_plan, args, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "leadflow: company profile lookup failed: %s", SPI_result_code_string(rc));
	for (row = 0; row < SPI_processed && filled < nwant; row++)
	{
		HeapTuple	tup = SPI_tuptable->vals[row];
		TupleDesc	desc = SPI_tuptable->tupdesc;

		for (i = 0; i < NENRICH; i++)
		{
			Form_pg_attribute att = TupleDescAttr(lead->desc, attnums[i] - 1);
			bool		isnull;
			Datum		value;

			if (!want[i])
				continue;
			value = SPI_getbinval(tup, desc, i + 2, &isnull);
			if (isnull)
				continue;
			/* copy out of SPI memory into the caller's per-row context */
			value = SPI_datumTransfer(value, att->attbyval, att->attlen);
			LeadflowLeadSet(lead, attnums[i], value, false);
			want[i] = false;
			filled++;
			appendStringInfo(&detail, "%s\"%s\": ", filled > 1 ? ", " : "", enrich_fields[i]);
			escape_json(&detail, SPI_getvalue(tup, desc, 1));
		}
	}
	SPI_finish();

	if (filled == 0)
		return;
	appendStringInfoString(&detail, "}}");
	LeadflowJourneyAppend(lead->org_id, lead->lead_id, "enriched", detail.data);
}
