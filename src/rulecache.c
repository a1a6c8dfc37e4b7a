/*-------------------------------------------------------------------------
 *
 * rulecache.c
 *	  Per-backend caches of configuration (orgs, their workflows and
 *	  stages) that the pipeline reads for every lead.
 *
 *	  pg_cron's pattern keeps them right: a statement trigger on each
 *	  configuration table calls CacheInvalidateRelcache(), which reaches
 *	  every backend (this one at the next command, others at commit), and
 *	  our relcache callback marks the cache stale.  A stale cache is not
 *	  freed in the callback, where a caller may still hold pointers into
 *	  it: the next lookup hands its memory to the current transaction, so
 *	  pointers taken earlier stay valid until the transaction ends.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "leadflow.h"
#include "normalize.h"
#include "predicate.h"
#include "rulecache.h"
#include "rulecache_int.h"
#include "spi.h"
#include "tenant.h"


const char *const leadflow_categories[LEADFLOW_NCATEGORIES] = {
	"demographic", "firmographic", "behavioral", "engagement"
};

typedef struct FreeMailEntry
{
	char		domain[256];	/* hash key */
} FreeMailEntry;

MemoryContext leadflow_config_cxt = NULL;
static uint64 config_generation = 0;	/* times the cache was built */
static HTAB *org_cache = NULL;
static HTAB *free_mail = NULL;	/* NULL until first use after a reset */
static bool cache_stale = false;
static bool callback_registered = false;

static LeadflowPlan org_plan = {
	NULL,
	"SELECT COALESCE(o.settings OPERATOR(pg_catalog.->>) 'default_region', 'US'),"
	" COALESCE((o.settings OPERATOR(pg_catalog.->>) 'named_account_routing')::boolean, true),"
	" COALESCE((o.settings OPERATOR(pg_catalog.->>) 'company_affinity_routing')::boolean, true),"
	" COALESCE((o.settings OPERATOR(pg_catalog.->>) 'convert_on_qualified')::boolean, false),"
	" COALESCE((o.settings OPERATOR(pg_catalog.->>) 'require_bant_for_qualified')::boolean, false),"
	" (SELECT w.workflow_id FROM leadflow.workflows w"
	"   WHERE w.org_id OPERATOR(pg_catalog.=) $1 AND w.is_default),"	/* Citus: one shard */
	" COALESCE((o.settings OPERATOR(pg_catalog.->>) 'dedup_on_phone')::boolean, true)"
	" FROM leadflow.orgs o WHERE o.org_id OPERATOR(pg_catalog.=) $1",
	1, {INT8OID}
};

static LeadflowPlan stages_plan = {
	NULL,
	"SELECT stage_id, workflow_id, position, status FROM leadflow.workflow_stages"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 ORDER BY workflow_id, position",
	1, {INT8OID}
};

static LeadflowPlan source_aliases_plan = {
	NULL,
	"SELECT alias, source FROM leadflow.source_aliases WHERE org_id OPERATOR(pg_catalog.=) $1",
	1, {INT8OID}
};

static LeadflowPlan org_free_domains_plan = {
	NULL,
	"SELECT domain FROM leadflow.org_free_email_domains WHERE org_id OPERATOR(pg_catalog.=) $1"
	" ORDER BY domain COLLATE pg_catalog.\"C\"",
	1, {INT8OID}
};

/*
 * The configuration tables: those with the config_changed trigger, read
 * when a cache is built (the callback may not read catalogs).  -1: not
 * known, every invalidation counts.
 */
#define MAX_CONFIG_RELS 64
static Oid	config_rels[MAX_CONFIG_RELS];
static int	nconfig_rels = -1;

static LeadflowPlan config_rels_plan = {
	NULL,
	"SELECT DISTINCT t.tgrelid FROM pg_catalog.pg_trigger t"
	" WHERE t.tgfoid OPERATOR(pg_catalog.=) 'leadflow.config_changed()'::pg_catalog.regprocedure",
	0, {InvalidOid}
};

static void
read_config_rels(void)
{
	uint64		i;
	int			rc;

	nconfig_rels = -1;
	SPI_connect();
	rc = LeadflowExecute(&config_rels_plan, NULL, NULL, true, 0);
	if (rc == SPI_OK_SELECT && SPI_processed <= MAX_CONFIG_RELS)
	{
		for (i = 0; i < SPI_processed; i++)
		{
			bool		isnull;

			config_rels[i] = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
															SPI_tuptable->tupdesc, 1, &isnull));
		}
		nconfig_rels = (int) SPI_processed;
	}
	SPI_finish();
}

/*
 * An invalidation of a configuration table, or a full reset (relid 0),
 * makes the cache stale.  Others do not: autovacuum analyzing the leads
 * during a long load must not make each row reload the configuration.
 */
static void
config_relcache_callback(Datum arg, Oid relid)
{
	int			i;

	if (org_cache == NULL)
		return;
	if (relid == InvalidOid || nconfig_rels < 0)
	{
		cache_stale = true;
		return;
	}
	for (i = 0; i < nconfig_rels; i++)
		if (config_rels[i] == relid)
			cache_stale = true;
}

static void
ensure_cache(void)
{
	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(config_relcache_callback, (Datum) 0);
		callback_registered = true;
	}
	if (org_cache != NULL && cache_stale)
	{
		/* retire: freed with the transaction, after every holder is done */
		MemoryContextSetParent(leadflow_config_cxt, TopTransactionContext);
		org_cache = NULL;
		free_mail = NULL;
	}
	if (org_cache == NULL)
	{
		HASHCTL		ctl;

		read_config_rels();
		config_generation++;
		leadflow_config_cxt = AllocSetContextCreate(CacheMemoryContext, "leadflow config cache",
										  ALLOCSET_SMALL_SIZES);
		ctl.keysize = sizeof(int64);
		ctl.entrysize = sizeof(OrgEntry);
		ctl.hcxt = leadflow_config_cxt;
		org_cache = hash_create("leadflow orgs", 64, &ctl,
								HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		cache_stale = false;
	}
}

bool
config_bool(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return !isnull && DatumGetBool(d);
}

/* Sorts an org's source aliases by alias (insertion sort: a few dozen). */
static void
sort_aliases(LeadflowOrg *org)
{
	int			i;
	int			j;

	for (i = 1; i < org->nsource_aliases; i++)
	{
		char	   *a = org->source_alias[i];
		char	   *t = org->source_target[i];

		for (j = i; j > 0 && strcmp(org->source_alias[j - 1], a) > 0; j--)
		{
			org->source_alias[j] = org->source_alias[j - 1];
			org->source_target[j] = org->source_target[j - 1];
		}
		org->source_alias[j] = a;
		org->source_target[j] = t;
	}
}

/* Reads one org and its stages into entry; allocations in leadflow_config_cxt. */
static void
load_org(OrgEntry *entry, int64 org_id)
{
	LeadflowOrg *org = &entry->org;
	Datum		arg = Int64GetDatum(org_id);
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	char	   *region;
	Datum		d;
	uint64		i;
	int			rc;

	rc = LeadflowExecute(&org_plan, &arg, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "leadflow: org lookup failed: %s", SPI_result_code_string(rc));
	/* LeadflowGetOrg asked tenant.c first: the org is this session's */
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("org " INT64_FORMAT " does not exist", org_id),
				 errhint("Create it first: INSERT INTO leadflow.orgs (org_id, name) VALUES (...).")));
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;

	memset(org, 0, sizeof(LeadflowOrg));
	org->org_id = org_id;
	region = SPI_getvalue(tup, desc, 1);
	strlcpy(org->default_region, region, sizeof(org->default_region));
	org->named_account_routing = config_bool(tup, desc, 2);
	org->company_affinity_routing = config_bool(tup, desc, 3);
	org->convert_on_qualified = config_bool(tup, desc, 4);
	org->require_bant_for_qualified = config_bool(tup, desc, 5);
	d = SPI_getbinval(tup, desc, 6, &isnull);
	org->default_workflow_id = isnull ? 0 : DatumGetInt64(d);
	org->dedup_on_phone = config_bool(tup, desc, 7);

	rc = LeadflowExecute(&stages_plan, &arg, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "leadflow: stage lookup failed: %s", SPI_result_code_string(rc));
	org->nstages = (int) SPI_processed;
	org->stages = MemoryContextAllocZero(leadflow_config_cxt,
										 sizeof(LeadflowStage) * Max(org->nstages, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		LeadflowStage *s = &org->stages[i];

		tup = SPI_tuptable->vals[i];
		desc = SPI_tuptable->tupdesc;
		s->stage_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		s->workflow_id = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
		s->position = DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull));
		strlcpy(s->status, SPI_getvalue(tup, desc, 4), sizeof(s->status));
	}

	/* source aliases (0.2.0 on: none before ALTER EXTENSION UPDATE) */
	if (OidIsValid(get_relname_relid("source_aliases", get_namespace_oid("leadflow", false))))
	{
		rc = LeadflowExecute(&source_aliases_plan, &arg, NULL, true, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "leadflow: source alias lookup failed: %s", SPI_result_code_string(rc));
		org->nsource_aliases = (int) SPI_processed;
		org->source_alias = palloc0(sizeof(char *) * Max(org->nsource_aliases, 1));
		org->source_target = palloc0(sizeof(char *) * Max(org->nsource_aliases, 1));
		for (i = 0; i < SPI_processed; i++)
		{
			tup = SPI_tuptable->vals[i];
			desc = SPI_tuptable->tupdesc;
			org->source_alias[i] = LeadflowSourceKey(SPI_getvalue(tup, desc, 1));
			org->source_target[i] = LeadflowSourceKey(SPI_getvalue(tup, desc, 2));
		}
		sort_aliases(org);
	}

	/* the org's own free-mail domains (0.2.0 on), in strcmp order */
	if (OidIsValid(get_relname_relid("org_free_email_domains", get_namespace_oid("leadflow", false))))
	{
		rc = LeadflowExecute(&org_free_domains_plan, &arg, NULL, true, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "leadflow: free-mail lookup failed: %s", SPI_result_code_string(rc));
		org->nfree_domains = (int) SPI_processed;
		org->free_domains = palloc0(sizeof(char *) * Max(org->nfree_domains, 1));
		for (i = 0; i < SPI_processed; i++)
			org->free_domains[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
	}
}

/*
 * LeadflowOrgSource
 *		The source a canonical spelling stands for in the org: the target of
 *		its alias (source_aliases), else the spelling itself.
 */
const char *
LeadflowOrgSource(const LeadflowOrg *org, const char *key)
{
	int			lo = 0;
	int			hi = org->nsource_aliases - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int			cmp = strcmp(key, org->source_alias[mid]);

		if (cmp == 0)
			return org->source_target[mid];
		if (cmp < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return key;
}

/*
 * LeadflowGetOrg
 *		The org's cached configuration, loaded on first use.
 *
 * The result stays valid until the end of the current transaction.  Errors
 * with 42501 unless this session may act for the org (tenant.c: the cache
 * is keyed by org alone, so it is consulted only after that check), with
 * 23503 if the org does not exist.  Connects to SPI itself.
 */
const LeadflowOrg *
LeadflowGetOrg(int64 org_id)
{
	OrgEntry   *entry;
	bool		found;

	LeadflowCheckOrg(org_id);
	ensure_cache();
	entry = hash_search(org_cache, &org_id, HASH_FIND, &found);
	if (found)
		return &entry->org;

	SPI_connect();
	PG_TRY();
	{
		OrgEntry	loaded;

		load_org(&loaded, org_id);
		/* the load may have seen an invalidation: start from a fresh cache */
		ensure_cache();
		if (loaded.org.nstages > 0)
		{
			LeadflowStage *stages = MemoryContextAlloc(leadflow_config_cxt,
													   sizeof(LeadflowStage) * loaded.org.nstages);

			memcpy(stages, loaded.org.stages, sizeof(LeadflowStage) * loaded.org.nstages);
			loaded.org.stages = stages;
		}
		if (loaded.org.nsource_aliases > 0)
		{
			char	  **alias = MemoryContextAlloc(leadflow_config_cxt, sizeof(char *) * loaded.org.nsource_aliases);
			char	  **target = MemoryContextAlloc(leadflow_config_cxt, sizeof(char *) * loaded.org.nsource_aliases);
			int			i;

			for (i = 0; i < loaded.org.nsource_aliases; i++)
			{
				alias[i] = MemoryContextStrdup(leadflow_config_cxt, loaded.org.source_alias[i]);
				target[i] = MemoryContextStrdup(leadflow_config_cxt, loaded.org.source_target[i]);
			}
			loaded.org.source_alias = alias;
			loaded.org.source_target = target;
		}
		if (loaded.org.nfree_domains > 0)
		{
			char	  **domains = MemoryContextAlloc(leadflow_config_cxt, sizeof(char *) * loaded.org.nfree_domains);
			int			i;

			for (i = 0; i < loaded.org.nfree_domains; i++)
				domains[i] = MemoryContextStrdup(leadflow_config_cxt, loaded.org.free_domains[i]);
			loaded.org.free_domains = domains;
		}
		entry = hash_search(org_cache, &org_id, HASH_ENTER, &found);
		/* every part unloaded: all but the key zeroed, whatever parts exist */
		memset((char *) entry + sizeof(entry->org_id), 0, sizeof(OrgEntry) - sizeof(entry->org_id));
		entry->org = loaded.org;
	}
	PG_FINALLY();
	{
		SPI_finish();
	}
	PG_END_TRY();
	return &entry->org;
}

static LeadflowPlan free_mail_plan = {
	NULL,
	"SELECT domain FROM leadflow.free_email_domains",
	0, {InvalidOid}
};

/*
 * LeadflowIsFreeMailDomain
 *		Whether an ASCII domain is a free-mail provider's.  The whole list
 *		(a few thousand rows) is read into a hash set on first use.
 */
bool
LeadflowIsFreeMailDomain(const char *domain)
{
	bool		found;

	if (domain == NULL || strlen(domain) >= sizeof(((FreeMailEntry *) NULL)->domain))
		return false;
	ensure_cache();
	if (free_mail == NULL)
	{
		HASHCTL		ctl;
		HTAB	   *set;
		uint64		i;

		int			rc;

		ctl.keysize = sizeof(((FreeMailEntry *) NULL)->domain);
		ctl.entrysize = sizeof(FreeMailEntry);
		ctl.hcxt = leadflow_config_cxt;
		set = hash_create("leadflow free-mail domains", 8192, &ctl,
						  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
		SPI_connect();
		rc = LeadflowExecute(&free_mail_plan, NULL, NULL, true, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "leadflow: free-mail lookup failed: %s", SPI_result_code_string(rc));
		for (i = 0; i < SPI_processed; i++)
		{
			char	   *d = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

			if (d != NULL && strlen(d) < sizeof(((FreeMailEntry *) NULL)->domain))
				hash_search(set, d, HASH_ENTER, NULL);
		}
		SPI_finish();
		/* an invalidation during the load retires it at the next lookup */
		free_mail = set;
	}
	return hash_search(free_mail, domain, HASH_FIND, &found) != NULL;
}

static int
compare_domain(const void *key, const void *elem)
{
	return strcmp((const char *) key, *(char *const *) elem);
}

/*
 * LeadflowOrgIsFreeMailDomain
 *		Whether an ASCII domain is free mail for the org: on the shared list
 *		or on the org's own (org_free_email_domains, cached with the org).
 */
bool
LeadflowOrgIsFreeMailDomain(const LeadflowOrg *org, const char *domain)
{
	if (LeadflowIsFreeMailDomain(domain))
		return true;
	return domain != NULL && org->nfree_domains > 0 &&
		bsearch(domain, org->free_domains, org->nfree_domains, sizeof(char *), compare_domain) != NULL;
}

int
config_int(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return isnull ? 0 : DatumGetInt32(d);
}

double
config_float(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return isnull ? 0 : DatumGetFloat8(d);
}

int64
config_int64(HeapTuple tup, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	return isnull ? 0 : DatumGetInt64(d);
}

/*
 * Runs loader for an org's entry unless done since the last invalidation;
 * *loaded and *slot are the entry's flag and pointer (found by offset, as
 * the entry may move when the hash grows).  An invalidation during the
 * load: the result is used once and loaded again next time.
 */
void *
config_org_part(int64 org_id, TupleDesc leads_desc, size_t loaded_off, size_t slot_off,
			 void *(*loader) (int64, TupleDesc))
{
	OrgEntry   *entry;
	void	   *volatile result = NULL;

	(void) LeadflowGetOrg(org_id);
	entry = hash_search(org_cache, &org_id, HASH_FIND, NULL);
	if (entry != NULL && *(bool *) ((char *) entry + loaded_off))
		return *(void **) ((char *) entry + slot_off);

	SPI_connect();
	PG_TRY();
	{
		result = loader(org_id, leads_desc);
	}
	PG_FINALLY();
	{
		SPI_finish();
	}
	PG_END_TRY();

	entry = hash_search(org_cache, &org_id, HASH_FIND, NULL);
	if (entry != NULL && !cache_stale)
	{
		*(void **) ((char *) entry + slot_off) = result;
		*(bool *) ((char *) entry + loaded_off) = true;
	}
	return result;
}

/*
 * LeadflowConfigGeneration
 *		Changes whenever the configuration cache is dropped and built again
 *		(a configuration table changed): state derived from configuration,
 *		such as prediction counts rebuilt by train_model, follows the same
 *		one invalidation by comparing it.
 */
uint64
LeadflowConfigGeneration(void)
{
	ensure_cache();
	return config_generation;
}

/*
 * LeadflowProfileCache
 *		The org's cache of merged company profiles, keyed by domain (a
 *		char[256]), entries of entrysize bytes filled by enrich.c; *cxt is
 *		where entry values must live.  Dropped with the rest of the
 *		configuration cache on any change, company_profiles included.
 *		NULL when the cache is full (the caller then reads the table).
 */
HTAB *
LeadflowProfileCache(int64 org_id, Size entrysize, MemoryContext *cxt)
{
	OrgEntry   *entry;

	(void) LeadflowGetOrg(org_id);
	entry = hash_search(org_cache, &org_id, HASH_FIND, NULL);
	if (entry == NULL)
		return NULL;
	if (entry->profiles == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = 256;
		ctl.entrysize = entrysize;
		ctl.hcxt = leadflow_config_cxt;
		entry->profiles = hash_create("leadflow company profiles", 256, &ctl,
									  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
	if (hash_get_num_entries(entry->profiles) >= 100000)
		return NULL;
	*cxt = leadflow_config_cxt;
	return entry->profiles;
}

const LeadflowStage *
LeadflowFindStage(const LeadflowOrg *org, int64 stage_id)
{
	int			i;

	for (i = 0; i < org->nstages; i++)
		if (org->stages[i].stage_id == stage_id)
			return &org->stages[i];
	return NULL;
}

/* The first stage (by position) of the workflow that maps to status. */
const LeadflowStage *
LeadflowStageForStatus(const LeadflowOrg *org, int64 workflow_id, const char *status)
{
	int			i;

	for (i = 0; i < org->nstages; i++)
		if (org->stages[i].workflow_id == workflow_id &&
			strcmp(org->stages[i].status, status) == 0)
			return &org->stages[i];
	return NULL;
}

/*
 * Statement trigger on every configuration table: tell all backends
 * (including this one, at the next command) to reload.
 */
PG_FUNCTION_INFO_V1(leadflow_config_changed);
Datum
leadflow_config_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "config_changed: not called as a trigger");
	CacheInvalidateRelcache(trigdata->tg_relation);
	return PointerGetDatum(NULL);
}
