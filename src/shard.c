/*-------------------------------------------------------------------------
 *
 * shard.c
 *	  Citus without linking against it: the shard relation of a leadflow
 *	  table that holds one org's rows on this node, for the rows written
 *	  below the executor (spi.c).  On a Citus worker a trigger on a shard
 *	  of leads runs on the worker; leadflow.lead_journey there is the
 *	  extension's own empty table, the org's journey rows go to the
 *	  colocated shard lead_journey_<shardid>.
 *
 *	  The shards of a table are read from Citus's metadata (pg_dist_shard,
 *	  present on every node with metadata sync) once per backend and kept
 *	  until a relcache invalidation of the table or of one of its shards
 *	  (Citus invalidates both when it distributes, moves or splits).  An
 *	  org's shard is the one whose hash range holds hashint8(org_id), the
 *	  hash Citus gives a bigint distribution column.  Where Citus is absent
 *	  (no pg_dist_partition) the table itself is returned after one
 *	  syscache probe.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "shard.h"

typedef struct ShardRange
{
	int32		min;
	int32		max;
	int64		shardid;
	Oid			relid;			/* the local shard relation; InvalidOid: not
								 * looked up yet */
} ShardRange;

typedef struct ShardedTable
{
	Oid			relid;			/* hash key: the table as the extension made
								 * it */
	char		method;			/* 'h' hash, 'n' reference, 0 not a Citus
								 * table */
	int			nranges;
	ShardRange *ranges;			/* in CacheMemoryContext */
} ShardedTable;

static HTAB *tables = NULL;

/*
 * Whether Citus's metadata exists in this database: one syscache probe,
 * so that a database without Citus pays nothing more.
 */
bool
LeadflowCitusPresent(void)
{
	return OidIsValid(get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE));
}

/*
 * LeadflowSameName
 *		Whether name is base, or under Citus base_<shard id>: the name Citus
 *		gives a shard's copy of a table, index or trigger.
 */
bool
LeadflowSameName(const char *name, const char *base)
{
	size_t		len = strlen(base);
	const char *id;

	if (name == NULL || strncmp(name, base, len) != 0)
		return false;
	if (name[len] == '\0')
		return true;
	if (name[len] != '_')
		return false;
	id = name + len + 1;
	return *id != '\0' && strspn(id, "0123456789") == strlen(id) && LeadflowCitusPresent();
}

/* a relcache invalidation of a table or one of its shards forgets it */
static void
shard_relcache_callback(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS seq;
	ShardedTable *t;

	if (tables == NULL)
		return;
	hash_seq_init(&seq, tables);
	while ((t = hash_seq_search(&seq)) != NULL)
	{
		bool		drop = !OidIsValid(relid) || t->relid == relid;
		int			i;

		for (i = 0; !drop && i < t->nranges; i++)
			drop = t->ranges[i].relid == relid;
		if (drop)
		{
			if (t->ranges != NULL)
				pfree(t->ranges);
			hash_search(tables, &t->relid, HASH_REMOVE, NULL);
		}
	}
}

/* reads the table's Citus metadata (SPI, inside its own connection) */
static void
load_table(ShardedTable *t)
{
	Datum		arg = ObjectIdGetDatum(t->relid);
	Oid			argtype = OIDOID;
	uint64		i;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "leadflow: SPI_connect failed");
	if (SPI_execute_with_args("SELECT p.partmethod::text, s.shardid, "
							  "coalesce(s.shardminvalue, '0')::integer, coalesce(s.shardmaxvalue, '0')::integer "
							  "FROM pg_catalog.pg_dist_partition p "
							  "JOIN pg_catalog.pg_dist_shard s ON s.logicalrelid OPERATOR(pg_catalog.=) p.logicalrelid "
							  "WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1 ORDER BY 3",
							  1, &argtype, &arg, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "leadflow: reading the shards of %u failed", t->relid);
	t->method = 0;
	t->nranges = 0;
	t->ranges = NULL;
	if (SPI_processed > 0)
	{
		t->ranges = MemoryContextAllocZero(CacheMemoryContext, sizeof(ShardRange) * SPI_processed);
		for (i = 0; i < SPI_processed; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			bool		isnull;
			char	   *method = TextDatumGetCString(SPI_getbinval(tup, desc, 1, &isnull));

			t->method = method[0];
			t->ranges[i].shardid = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
			t->ranges[i].min = DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull));
			t->ranges[i].max = DatumGetInt32(SPI_getbinval(tup, desc, 4, &isnull));
		}
		t->nranges = (int) SPI_processed;
	}
	SPI_finish();
}

/*
 * LeadflowShardRelid
 *		The relation holding org_id's rows of the leadflow table relid on
 *		this node: relid itself where Citus is absent or the table is not a
 *		Citus table, else the org's shard (one shard for a reference
 *		table).  An error when that shard is not on this node: rows below
 *		the executor are only written where the org's shards are (a
 *		trigger on one of them).
 */
Oid
LeadflowShardRelid(Oid relid, int64 org_id)
{
	ShardedTable *t;
	ShardRange *r;
	bool		found;
	int			i;

	if (!LeadflowCitusPresent())
		return relid;
	if (tables == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(ShardedTable);
		ctl.hcxt = CacheMemoryContext;
		tables = hash_create("leadflow shards", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		CacheRegisterRelcacheCallback(shard_relcache_callback, (Datum) 0);
	}
	t = hash_search(tables, &relid, HASH_ENTER, &found);
	if (!found)
	{
		t->method = 0;
		t->nranges = 0;
		t->ranges = NULL;
		PG_TRY();
		{
			load_table(t);
		}
		PG_CATCH();
		{
			hash_search(tables, &relid, HASH_REMOVE, NULL);
			PG_RE_THROW();
		}
		PG_END_TRY();
	}
	if (t->method == 0 || t->nranges == 0)
		return relid;
	r = NULL;
	if (t->method == 'h')
	{
		int32		hash = DatumGetInt32(DirectFunctionCall1(hashint8, Int64GetDatum(org_id)));

		for (i = 0; i < t->nranges && r == NULL; i++)
			if (hash >= t->ranges[i].min && hash <= t->ranges[i].max)
				r = &t->ranges[i];
	}
	else
		r = &t->ranges[0];
	if (r == NULL)
		elog(ERROR, "leadflow: no shard of %s holds org " INT64_FORMAT, get_rel_name(relid), org_id);
	if (!OidIsValid(r->relid))
	{
		char		name[NAMEDATALEN * 2];

		snprintf(name, sizeof(name), "%s_" INT64_FORMAT, get_rel_name(relid), r->shardid);
		r->relid = get_relname_relid(name, get_rel_namespace(relid));
		if (!OidIsValid(r->relid))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("the shard of org " INT64_FORMAT " of leadflow.%s is not on this node",
							org_id, get_rel_name(relid)),
					 errdetail("The pipeline writes an org's rows where its shards are: in a trigger on one of them."),
					 errhint("Run the statement through the coordinator.")));
	}
	return r->relid;
}
