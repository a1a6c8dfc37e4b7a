/*-------------------------------------------------------------------------
 *
 * enrich.c
 *	  Enrichment: empty firmographic fields of a new lead are filled from
 *	  leadflow.company_profiles for its company domain.
 *
 *	  Several vendors may describe one domain.  Field by field, the
 *	  profile with the higher priority wins, then the newer updated_at;
 *	  a vendor that lacks a field leaves it to the next one.  The journey
 *	  records which provider filled which field.  The merged profile of a
 *	  domain is cached per backend (rulecache.c drops it when profiles
 *	  change), so a load of many leads per company reads each once.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/json.h"

#include "enrich.h"
#include "journey.h"
#include "lead.h"
#include "rulecache.h"
#include "spi.h"
#include "text.h"


/* profile columns, in the order of the query after provider and of attnums below */
static const char *const enrich_fields[] = {
	"industry", "company_size", "annual_revenue", "country"
};
#define NENRICH ((int) lengthof(enrich_fields))

/* a domain's merged profile: per field, the winning value and provider */
typedef struct Profile
{
	char		domain[256];	/* hash key */
	bool		has[NENRICH];
	Datum		values[NENRICH];
	char	   *providers[NENRICH];
} Profile;

static LeadflowPlan profiles_plan = {
	NULL,
	"SELECT provider, industry, company_size, annual_revenue, country"
	" FROM leadflow.company_profiles"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 AND domain OPERATOR(pg_catalog.=) $2"
	" ORDER BY priority DESC, updated_at DESC, provider",
	2, {INT8OID, TEXTOID}
};

/*
 * Merges the profiles of a domain, best first, into p; values and provider
 * names are copied into cxt.
 */
static void
read_profile(const LeadflowLead *lead, const char *domain, const int *attnums,
			 Profile *p, MemoryContext cxt)
{
	Datum		args[2];
	uint64		row;
	int			i;
	int			rc;

	memset(p, 0, sizeof(Profile));
	args[0] = Int64GetDatum(lead->org_id);
	args[1] = CStringGetTextDatum(domain);
	SPI_connect();
	rc = LeadflowExecute(&profiles_plan, args, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "leadflow: company profile lookup failed: %s", SPI_result_code_string(rc));
	for (row = 0; row < SPI_processed; row++)
	{
		HeapTuple	tup = SPI_tuptable->vals[row];
		TupleDesc	desc = SPI_tuptable->tupdesc;

		for (i = 0; i < NENRICH; i++)
		{
			Form_pg_attribute att = TupleDescAttr(lead->desc, attnums[i] - 1);
			MemoryContext old;
			bool		isnull;
			Datum		value;

			if (p->has[i])
				continue;
			value = SPI_getbinval(tup, desc, i + 2, &isnull);
			if (isnull)
				continue;
			old = MemoryContextSwitchTo(cxt);
			p->values[i] = datumCopy(value, att->attbyval, att->attlen);
			p->providers[i] = pstrdup(SPI_getvalue(tup, desc, 1));
			MemoryContextSwitchTo(old);
			p->has[i] = true;
		}
	}
	SPI_finish();
}

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
	const int	attnums[NENRICH] = {
		leadflow_cols.industry, leadflow_cols.company_size,
		leadflow_cols.annual_revenue, leadflow_cols.country
	};
	bool		want[NENRICH];
	LeadflowJourneyEvent ev;
	LeadflowJson *detail;
	MemoryContext cxt;
	HTAB	   *cache;
	Profile    *p;
	Profile		local;
	bool		found = false;
	int			nwant = 0;
	int			filled = 0;
	int			i;

	if (domain == NULL || strlen(domain) >= sizeof(local.domain))
		return;
	for (i = 0; i < NENRICH; i++)
	{
		want[i] = LeadflowLeadIsNull(lead, attnums[i]);
		nwant += want[i];
	}
	if (nwant == 0)
		return;

	cache = LeadflowProfileCache(lead->org_id, sizeof(Profile), &cxt);
	p = cache ? hash_search(cache, domain, HASH_FIND, &found) : NULL;
	if (p == NULL)
	{
		MemoryContext read_cxt = cache ? cxt : CurrentMemoryContext;

		/*
		 * Read it, and keep it only if the cache it was read for is still the
		 * current one: a configuration change during the read retires the
		 * cache with the memory the values were copied into.
		 */
		read_profile(lead, domain, attnums, &local, read_cxt);
		cache = LeadflowProfileCache(lead->org_id, sizeof(Profile), &cxt);
		p = &local;
		if (cache != NULL && cxt == read_cxt)
		{
			p = hash_search(cache, domain, HASH_ENTER, &found);
			memcpy(p->has, local.has, sizeof(local.has));
			memcpy(p->values, local.values, sizeof(local.values));
			memcpy(p->providers, local.providers, sizeof(local.providers));
		}
	}

	for (i = 0; i < NENRICH; i++)
	{
		Form_pg_attribute att = TupleDescAttr(lead->desc, attnums[i] - 1);

		want[i] = want[i] && p->has[i];
		if (!want[i])
			continue;
		LeadflowLeadSet(lead, attnums[i], datumCopy(p->values[i], att->attbyval, att->attlen), false);
		filled++;
	}
	if (filled == 0)
		return;
	/* which field came from which provider, never the values */
	detail = LeadflowJourneyBegin(&ev, lead->org_id, lead->lead_id, "enriched");
	LeadflowJsonObject(detail, "filled");
	for (i = 0; i < NENRICH; i++)
		if (want[i])
			LeadflowJsonText(detail, enrich_fields[i], p->providers[i]);
	LeadflowJourneyEnd(&ev);
}
