/*-------------------------------------------------------------------------
 *
 * rulecache_models.c
 *	  The model parts of the configuration cache (rulecache.c): each org's
 *	  active scoring model with its rules compiled, and its prediction
 *	  model (features, smoothing).  Loaded on first use, dropped with the
 *	  rest of the cache on any configuration change.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

#include "predicate.h"
#include "rulecache.h"
#include "rulecache_int.h"
#include "spi.h"

static LeadflowPlan model_plan = {
	NULL,
	"SELECT model_id, cap_demographic, cap_firmographic, cap_behavioral, cap_engagement,"
	" warm_at, hot_at, escalate_at, archive_below,"
	" pg_catalog.date_part('epoch', archive_after), pg_catalog.date_part('epoch', inactivity_grace),"
	" inactivity_points_per_week"
	" FROM leadflow.scoring_models WHERE org_id OPERATOR(pg_catalog.=) $1 AND active",
	1, {INT8OID}
};

static LeadflowPlan scoring_rules_plan = {
	NULL,
	"SELECT rule_id, name, category, points, predicate, signal_kind,"
	" pg_catalog.date_part('epoch', half_life), max_count"
	" FROM leadflow.scoring_rules"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 AND model_id OPERATOR(pg_catalog.=) $2"
	" ORDER BY rule_id",
	2, {INT8OID, INT8OID}
};

/* Reads and compiles the active model of an org into leadflow_config_cxt. */
static LeadflowModel *
load_model(int64 org_id, TupleDesc leads_desc)
{
	LeadflowModel *m;
	Datum		args[2];
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	uint64		i;
	int			c;
	int			rc;

	args[0] = Int64GetDatum(org_id);
	rc = LeadflowExecute(&model_plan, args, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "leadflow: scoring model lookup failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		return NULL;
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;

	m = MemoryContextAllocZero(leadflow_config_cxt, sizeof(LeadflowModel));
	m->model_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
	for (c = 0; c < LEADFLOW_NCATEGORIES; c++)
		m->caps[c] = config_int(tup, desc, 2 + c);
	m->warm_at = config_int(tup, desc, 6);
	m->hot_at = config_int(tup, desc, 7);
	m->escalate_at = config_int(tup, desc, 8);
	m->archive_below = config_int(tup, desc, 9);
	m->archive_after_secs = config_float(tup, desc, 10);
	m->inactivity_grace_secs = config_float(tup, desc, 11);
	m->inactivity_points_per_week = config_int(tup, desc, 12);

	args[1] = Int64GetDatum(m->model_id);
	rc = LeadflowExecute(&scoring_rules_plan, args, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "leadflow: scoring rules lookup failed: %s", SPI_result_code_string(rc));
	m->nrules = (int) SPI_processed;
	m->rules = MemoryContextAllocZero(leadflow_config_cxt, sizeof(LeadflowScoreRule) * Max(m->nrules, 1));
	for (i = 0; i < SPI_processed; i++)
	{
		LeadflowScoreRule *r = &m->rules[i];
		char	   *category;
		Datum		pred;

		tup = SPI_tuptable->vals[i];
		desc = SPI_tuptable->tupdesc;
		r->rule_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		r->name = MemoryContextStrdup(leadflow_config_cxt, SPI_getvalue(tup, desc, 2));
		category = SPI_getvalue(tup, desc, 3);
		for (c = 0; c < LEADFLOW_NCATEGORIES; c++)
			if (strcmp(category, leadflow_categories[c]) == 0)
				r->category = c;
		r->points = config_int(tup, desc, 4);
		pred = SPI_getbinval(tup, desc, 5, &isnull);
		if (!isnull)
			r->predicate = LeadflowPredicateCompile(DatumGetJsonbP(pred), leads_desc, leadflow_config_cxt);
		if (SPI_getvalue(tup, desc, 6) != NULL)
		{
			r->signal_kind = MemoryContextStrdup(leadflow_config_cxt, SPI_getvalue(tup, desc, 6));
			m->has_signal_rules = true;
		}
		r->half_life_secs = config_float(tup, desc, 7);
		r->max_count = config_int(tup, desc, 8);
	}
	return m;
}

static void *
load_model_part(int64 org_id, TupleDesc leads_desc)
{
	return load_model(org_id, leads_desc);
}

/*
 * LeadflowGetModel
 *		The org's active scoring model with its rules compiled, or NULL when
 *		the org has none.  Valid until the end of the transaction.
 */
const LeadflowModel *
LeadflowGetModel(int64 org_id, TupleDesc leads_desc)
{
	return config_org_part(org_id, leads_desc, offsetof(OrgEntry, model_loaded),
						offsetof(OrgEntry, model), load_model_part);
}

static LeadflowPlan prediction_plan = {
	NULL,
	"SELECT features, alpha FROM leadflow.prediction_models WHERE org_id OPERATOR(pg_catalog.=) $1",
	1, {INT8OID}
};

/* Reads the org's prediction model into leadflow_config_cxt; NULL when none. */
static void *
load_prediction(int64 org_id, TupleDesc leads_desc)
{
	LeadflowPredictionModel *m;
	Datum		arg = Int64GetDatum(org_id);
	Datum	   *elems;
	bool	   *enulls;
	bool		isnull;
	int			n;
	int			i;
	int			rc;

	rc = LeadflowExecute(&prediction_plan, &arg, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "leadflow: prediction model lookup failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		return NULL;
	m = MemoryContextAllocZero(leadflow_config_cxt, sizeof(LeadflowPredictionModel));
	deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)),
					  TEXTOID, -1, false, TYPALIGN_INT, &elems, &enulls, &n);
	m->features = MemoryContextAllocZero(leadflow_config_cxt, sizeof(char *) * Max(n, 1));
	for (i = 0; i < n; i++)
		if (!enulls[i])
			m->features[m->nfeatures++] = MemoryContextStrdup(leadflow_config_cxt,
															  TextDatumGetCString(elems[i]));
	m->alpha = config_float(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	return m;
}

/*
 * LeadflowGetPredictionModel
 *		The org's prediction model (features, smoothing), or NULL when it
 *		has none.  Cached with the rest of the configuration and dropped by
 *		the same filtered invalidation.  Valid until the end of the
 *		transaction.
 */
const LeadflowPredictionModel *
LeadflowGetPredictionModel(int64 org_id)
{
	return config_org_part(org_id, NULL, offsetof(OrgEntry, prediction_loaded),
						   offsetof(OrgEntry, prediction), load_prediction);
}
