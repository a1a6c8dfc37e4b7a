/*-------------------------------------------------------------------------
 *
 * predict.c
 *	  Predictive scoring: naive Bayes over an org's closed leads.
 *
 *	  A lead is described by six features, each a short text computed from
 *	  its row alone (lead_features): source, industry, company-size band,
 *	  country, title seniority and signal activity (the band of its
 *	  behavioral + engagement points, which its signals earn).  Its label
 *	  is converted (status converted) or lost (unqualified, archived);
 *	  other leads have none.  leadflow.prediction_counts holds, per org,
 *	  feature and value, how many labelled leads converted and were lost
 *	  (feature "_total": the class totals).
 *
 *	  leadflow.train_model(org_id, features) counts from scratch.  From
 *	  then on the leads trigger (LeadflowPredictLead) keeps the counts up
 *	  to date: whenever a lead's label or features change, its old
 *	  contribution is taken away and the new one added, so the counts
 *	  always equal what a full retrain would count.  It also stores every
 *	  open live lead's conversion_probability, in the inserting
 *	  transaction and on every update (signals included); a closed lead
 *	  keeps the probability it had before its outcome, which is what the
 *	  calibration report compares against.
 *
 *	  With Laplace smoothing alpha and K_f the number of values of feature
 *	  f seen (plus one for an unseen value), the log-odds of converting
 *	  are log((C + alpha) / (L + alpha)) plus, per feature,
 *	  log((c_v + alpha) / (C + alpha K_f)) - log((l_v + alpha) / (L + alpha K_f)).
 *
 *	  The counts of each org with a model are cached per backend; a
 *	  statement trigger on prediction_models and prediction_counts
 *	  (config_changed) invalidates the cache, as for the rule caches.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "leadflow.h"

#define NFEATURES		6
#define VALUE_LEN		100		/* feature values are cut to this many bytes */

static const char *const feature_names[NFEATURES] = {
	"source", "industry", "company_size", "country", "seniority", "activity"
};

typedef struct CountKey
{
	int64		org_id;
	int32		feature;		/* index into feature_names, NFEATURES: totals */
	char		value[VALUE_LEN + 4];
} CountKey;

typedef struct CountEntry
{
	CountKey	key;
	int64		converted;
	int64		lost;
} CountEntry;

typedef struct PredictOrg
{
	int64		org_id;			/* hash key */
	bool		has_model;
	bool		use[NFEATURES];
	double		alpha;
	int64		total_converted;
	int64		total_lost;
	int			nvalues[NFEATURES];
} PredictOrg;

typedef char FeatureValues[NFEATURES][VALUE_LEN + 4];

static MemoryContext predict_cxt = NULL;
static HTAB *predict_orgs = NULL;
static HTAB *predict_counts = NULL;
static bool predict_stale = false;
static bool predict_callback = false;

/* leads.conversion_probability, resolved once per leads relation */
static Oid	prob_relid = InvalidOid;
static int	prob_attnum = 0;

static LeadflowPlan model_plan = {
	NULL,
	"SELECT features, alpha FROM leadflow.prediction_models WHERE org_id OPERATOR(pg_catalog.=) $1",
	1, {INT8OID}
};

static LeadflowPlan counts_plan = {
	NULL,
	"SELECT feature, value, converted, lost FROM leadflow.prediction_counts"
	" WHERE org_id OPERATOR(pg_catalog.=) $1",
	1, {INT8OID}
};

/* adds deltas, in key order (no deadlock between two closing leads) */
static LeadflowPlan add_plan = {
	NULL,
	"INSERT INTO leadflow.prediction_counts AS c (org_id, feature, value, converted, lost)"
	" SELECT $1, u.f, u.v, pg_catalog.sum(u.dc), pg_catalog.sum(u.dl)"
	"   FROM ROWS FROM (pg_catalog.unnest($2::text[]), pg_catalog.unnest($3::text[]),"
	"                   pg_catalog.unnest($4::bigint[]), pg_catalog.unnest($5::bigint[])) AS u(f, v, dc, dl)"
	"  GROUP BY u.f, u.v ORDER BY u.f, u.v"
	" ON CONFLICT (org_id, feature, value) DO UPDATE"
	"    SET converted = c.converted OPERATOR(pg_catalog.+) EXCLUDED.converted,"
	"        lost = c.lost OPERATOR(pg_catalog.+) EXCLUDED.lost",
	5, {INT8OID, TEXTARRAYOID, TEXTARRAYOID, INT8ARRAYOID, INT8ARRAYOID}
};

/* a value no labelled lead has any more: gone, as in a full retrain */
static LeadflowPlan prune_plan = {
	NULL,
	"DELETE FROM leadflow.prediction_counts"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 AND feature OPERATOR(pg_catalog.=) ANY ($2::text[])"
	"   AND converted OPERATOR(pg_catalog.=) 0 AND lost OPERATOR(pg_catalog.=) 0",
	2, {INT8OID, TEXTARRAYOID}
};

static LeadflowPlan lead_plan = {
	NULL,
	"SELECT l FROM leadflow.leads l WHERE l.lead_id OPERATOR(pg_catalog.=) $1",
	1, {INT8OID}
};

static void
predict_relcache_callback(Datum arg, Oid relid)
{
	if (predict_orgs != NULL)
		predict_stale = true;
}

static void
ensure_predict_cache(void)
{
	if (!predict_callback)
	{
		CacheRegisterRelcacheCallback(predict_relcache_callback, (Datum) 0);
		predict_callback = true;
	}
	if (predict_orgs != NULL && predict_stale)
	{
		/* freed with the transaction, after any holder of a pointer */
		MemoryContextSetParent(predict_cxt, TopTransactionContext);
		predict_orgs = NULL;
		predict_counts = NULL;
	}
	if (predict_orgs == NULL)
	{
		HASHCTL		ctl;

		predict_cxt = AllocSetContextCreate(CacheMemoryContext, "leadflow prediction cache",
											ALLOCSET_SMALL_SIZES);
		ctl.keysize = sizeof(int64);
		ctl.entrysize = sizeof(PredictOrg);
		ctl.hcxt = predict_cxt;
		predict_orgs = hash_create("leadflow prediction orgs", 16, &ctl,
								   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		ctl.keysize = sizeof(CountKey);
		ctl.entrysize = sizeof(CountEntry);
		predict_counts = hash_create("leadflow prediction counts", 256, &ctl,
									 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		predict_stale = false;
	}
}

static int
feature_index(const char *name)
{
	int			i;

	for (i = 0; i < NFEATURES; i++)
		if (strcmp(name, feature_names[i]) == 0)
			return i;
	return -1;
}

static void
make_key(CountKey *key, int64 org_id, int feature, const char *value)
{
	memset(key, 0, sizeof(CountKey));
	key->org_id = org_id;
	key->feature = feature;
	strlcpy(key->value, value, sizeof(key->value));
}

/* the org's model and counts, loaded on first use; NULL-free */
static PredictOrg *
get_predict_org(int64 org_id)
{
	PredictOrg *org;
	PredictOrg	loaded;
	bool		found;
	uint64		i;
	int			rc;

	ensure_predict_cache();
	org = hash_search(predict_orgs, &org_id, HASH_FIND, NULL);
	if (org != NULL)
		return org;

	memset(&loaded, 0, sizeof(loaded));
	loaded.org_id = org_id;
	SPI_connect();
	{
		Datum		arg = Int64GetDatum(org_id);

		/* not read-only: counts this transaction just changed are seen */
		rc = LeadflowExecute(&model_plan, &arg, NULL, false, 1);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "leadflow: prediction model lookup failed: %s", SPI_result_code_string(rc));
		if (SPI_processed == 1)
		{
			bool		isnull;
			Datum	   *elems;
			bool	   *enulls;
			int			n;
			int			j;

			loaded.has_model = true;
			deconstruct_array(DatumGetArrayTypeP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)),
							  TEXTOID, -1, false, TYPALIGN_INT, &elems, &enulls, &n);
			for (j = 0; j < n; j++)
			{
				int			f = enulls[j] ? -1 : feature_index(TextDatumGetCString(elems[j]));

				if (f >= 0)
					loaded.use[f] = true;
			}
			loaded.alpha = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));

			rc = LeadflowExecute(&counts_plan, &arg, NULL, false, 0);
			if (rc != SPI_OK_SELECT)
				elog(ERROR, "leadflow: prediction counts lookup failed: %s", SPI_result_code_string(rc));
			for (i = 0; i < SPI_processed; i++)
			{
				HeapTuple	tup = SPI_tuptable->vals[i];
				TupleDesc	desc = SPI_tuptable->tupdesc;
				char	   *feature = SPI_getvalue(tup, desc, 1);
				char	   *value = SPI_getvalue(tup, desc, 2);
				int64		c = DatumGetInt64(SPI_getbinval(tup, desc, 3, &isnull));
				int64		l = DatumGetInt64(SPI_getbinval(tup, desc, 4, &isnull));
				int			f = strcmp(feature, "_total") == 0 ? NFEATURES : feature_index(feature);
				CountKey	key;
				CountEntry *entry;

				if (f < 0)
					continue;
				if (f == NFEATURES)
				{
					loaded.total_converted = c;
					loaded.total_lost = l;
					continue;
				}
				loaded.nvalues[f]++;
				make_key(&key, org_id, f, value);
				entry = hash_search(predict_counts, &key, HASH_ENTER, NULL);
				entry->converted = c;
				entry->lost = l;
			}
		}
	}
	SPI_finish();

	/* an invalidation while loading: the table was just replaced */
	ensure_predict_cache();
	org = hash_search(predict_orgs, &org_id, HASH_ENTER, &found);
	*org = loaded;
	return org;
}

/* value cut to VALUE_LEN bytes at a character boundary */
static void
set_value(char *dst, const char *src, bool lower)
{
	int			len = strlen(src);
	int			i;

	if (len > VALUE_LEN)
		len = pg_mbcliplen(src, len, VALUE_LEN);
	memcpy(dst, src, len);
	dst[len] = '\0';
	for (i = 0; i < len; i++)
		dst[i] = lower ? pg_ascii_tolower((unsigned char) dst[i]) : pg_ascii_toupper((unsigned char) dst[i]);
}

static bool
has_word(const char *title, const char *word)
{
	int			n = strlen(word);
	const char *p = title;

	while ((p = strstr(p, word)) != NULL)
	{
		if ((p == title || !isalnum((unsigned char) p[-1])) && !isalnum((unsigned char) p[n]))
			return true;
		p++;
	}
	return false;
}

static const char *
seniority(const char *job_title)
{
	static const char *const c_level[] = {"ceo", "cto", "cfo", "coo", "cmo", "cro", "cio", "owner"};
	char	   *t;
	int			i;

	if (job_title == NULL)
		return "(none)";
	t = pstrdup(job_title);
	for (i = 0; t[i]; i++)
		t[i] = pg_ascii_tolower((unsigned char) t[i]);
	if (strstr(t, "vice president") != NULL || has_word(t, "vp") || strncmp(t, "vp", 2) == 0 ||
		strncmp(t, "svp", 3) == 0 || strncmp(t, "evp", 3) == 0)
		return "vp";
	if (strstr(t, "chief") != NULL || strstr(t, "founder") != NULL || strstr(t, "president") != NULL)
		return "c_level";
	for (i = 0; i < (int) lengthof(c_level); i++)
		if (has_word(t, c_level[i]))
			return "c_level";
	if (strstr(t, "director") != NULL || strstr(t, "head of") != NULL)
		return "director";
	if (strstr(t, "manager") != NULL || strstr(t, "lead") != NULL)
		return "manager";
	if (strstr(t, "student") != NULL || strstr(t, "intern") != NULL)
		return "student";
	return "other";
}

/* the six feature values of a lead */
static void
lead_features(const LeadflowLead *lead, FeatureValues values)
{
	char	   *s;
	int			points;

	s = LeadflowLeadText(lead, leadflow_cols.source);
	set_value(values[0], s && s[0] ? s : "(none)", true);
	s = LeadflowLeadText(lead, leadflow_cols.industry);
	set_value(values[1], s && s[0] ? s : "(none)", true);
	if (LeadflowLeadIsNull(lead, leadflow_cols.company_size))
		strcpy(values[2], "(none)");
	else
	{
		int32		size = DatumGetInt32(lead->values[leadflow_cols.company_size - 1]);

		strcpy(values[2], size < 50 ? "1-49" : size < 200 ? "50-199" : size < 1000 ? "200-999" :
			   size < 5000 ? "1000-4999" : "5000+");
	}
	s = LeadflowLeadText(lead, leadflow_cols.country);
	set_value(values[3], s && s[0] ? s : "(none)", s == NULL || !s[0]);
	strcpy(values[4], seniority(LeadflowLeadText(lead, leadflow_cols.job_title)));
	points = DatumGetInt32(lead->values[leadflow_cols.score_behavioral - 1]) +
		DatumGetInt32(lead->values[leadflow_cols.score_engagement - 1]);
	strcpy(values[5], points <= 0 ? "none" : points < 10 ? "low" : points < 25 ? "medium" : "high");
}

/* 1 converted, 0 lost, -1 no label */
static int
lead_label(const LeadflowLead *lead)
{
	char	   *status = LeadflowLeadText(lead, leadflow_cols.status);

	if (strcmp(status, "converted") == 0)
		return 1;
	if (strcmp(status, "unqualified") == 0 || strcmp(status, "archived") == 0)
		return 0;
	return -1;
}

/* log-odds of converting; per-feature weights into weights[] when given */
static double
log_odds(const PredictOrg *org, FeatureValues values, double *prior, double *weights,
		 int64 *conv, int64 *lost)
{
	double		a = org->alpha;
	double		C = (double) org->total_converted;
	double		L = (double) org->total_lost;
	double		sum = log((C + a) / (L + a));
	int			f;

	if (prior)
		*prior = sum;
	for (f = 0; f < NFEATURES; f++)
	{
		CountKey	key;
		CountEntry *e;
		double		k = org->nvalues[f] + 1;
		double		c = 0;
		double		l = 0;
		double		w;

		if (!org->use[f])
			continue;
		make_key(&key, org->org_id, f, values[f]);
		e = hash_search(predict_counts, &key, HASH_FIND, NULL);
		if (e != NULL)
		{
			c = (double) e->converted;
			l = (double) e->lost;
		}
		w = log((c + a) / (C + a * k)) - log((l + a) / (L + a * k));
		if (weights)
		{
			weights[f] = w;
			conv[f] = (int64) c;
			lost[f] = (int64) l;
		}
		sum += w;
	}
	return sum;
}

static double
probability(double lo)
{
	return 1.0 / (1.0 + exp(-lo));
}

/* the lead's contribution to the counts: features and label, with sign */
static void
add_contribution(const PredictOrg *org, FeatureValues values, int label, int sign,
				 Datum *f, Datum *v, Datum *dc, Datum *dl, int *n)
{
	int			i;

	if (label < 0)
		return;
	for (i = 0; i <= NFEATURES; i++)
	{
		if (i < NFEATURES && !org->use[i])
			continue;
		f[*n] = CStringGetTextDatum(i < NFEATURES ? feature_names[i] : "_total");
		v[*n] = CStringGetTextDatum(i < NFEATURES ? values[i] : "");
		dc[*n] = Int64GetDatum(label == 1 ? sign : 0);
		dl[*n] = Int64GetDatum(label == 0 ? sign : 0);
		(*n)++;
	}
}

static Datum
array_of(Datum *elems, int n, Oid type)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;

	get_typlenbyvalalign(type, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_array(elems, n, type, typlen, typbyval, typalign));
}

/*
 * LeadflowPredictLead
 *		Called by the leads trigger with the old row (NULL on insert) and
 *		the row being written, after scoring.  When the org has a model:
 *		moves the lead's contribution to the counts if its label or
 *		features changed, and stores conversion_probability on an open
 *		live lead.  Nothing to do (one hash lookup) without a model.
 */
void
LeadflowPredictLead(const LeadflowLead *old, LeadflowLead *lead)
{
	PredictOrg *org = get_predict_org(lead->org_id);
	FeatureValues new_values;
	int			new_label;
	char	   *status;

	if (!org->has_model)
		return;
	if (prob_relid != leadflow_cols.relid)
	{
		prob_attnum = get_attnum(leadflow_cols.relid, "conversion_probability");
		if (prob_attnum == InvalidAttrNumber)
			elog(ERROR, "leadflow: leads has no column conversion_probability");
		prob_relid = leadflow_cols.relid;
	}

	lead_features(lead, new_values);
	new_label = lead_label(lead);
	{
		FeatureValues old_values;
		int			old_label = -1;
		bool		same = false;

		if (old != NULL)
		{
			lead_features(old, old_values);
			old_label = lead_label(old);
			same = old_label == new_label && memcmp(old_values, new_values, sizeof(FeatureValues)) == 0;
		}
		if (!same && (old_label >= 0 || new_label >= 0))
		{
			Datum		f[2 * (NFEATURES + 1)];
			Datum		v[2 * (NFEATURES + 1)];
			Datum		dc[2 * (NFEATURES + 1)];
			Datum		dl[2 * (NFEATURES + 1)];
			Datum		args[5];
			int			n = 0;
			int			rc;

			if (old != NULL)
				add_contribution(org, old_values, old_label, -1, f, v, dc, dl, &n);
			add_contribution(org, new_values, new_label, +1, f, v, dc, dl, &n);
			args[0] = Int64GetDatum(lead->org_id);
			args[1] = array_of(f, n, TEXTOID);
			args[2] = array_of(v, n, TEXTOID);
			args[3] = array_of(dc, n, INT8OID);
			args[4] = array_of(dl, n, INT8OID);
			SPI_connect();
			rc = LeadflowExecute(&add_plan, args, NULL, false, 0);
			if (rc != SPI_OK_INSERT)
				elog(ERROR, "leadflow: prediction counts update failed: %s", SPI_result_code_string(rc));
			rc = LeadflowExecute(&prune_plan, args, NULL, false, 0);
			if (rc != SPI_OK_DELETE)
				elog(ERROR, "leadflow: prediction counts update failed: %s", SPI_result_code_string(rc));
			SPI_finish();
			/* the counts changed: reload them now */
			predict_stale = true;
			org = get_predict_org(lead->org_id);
		}
	}

	status = LeadflowLeadText(lead, leadflow_cols.status);
	if (LeadflowStatusIsOpen(status) && LeadflowLeadIsNull(lead, leadflow_cols.merged_into) &&
		LeadflowLeadIsNull(lead, leadflow_cols.erased_at) && org->has_model)
		LeadflowLeadSet(lead, prob_attnum,
						Float8GetDatum(probability(log_odds(org, new_values, NULL, NULL, NULL, NULL))), false);
}

/*
 * leadflow.lead_features(lead leadflow.leads) RETURNS TABLE (feature text, value text)
 *
 * The six features of a lead as predictive scoring sees them; train_model
 * counts these.
 */
PG_FUNCTION_INFO_V1(leadflow_lead_features);
Datum
leadflow_lead_features(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	LeadflowLead lead;
	FeatureValues values;
	int			f;

	InitMaterializedSRF(fcinfo, 0);
	LeadflowLeadFromRecord(&lead, PG_GETARG_DATUM(0));
	lead_features(&lead, values);
	for (f = 0; f < NFEATURES; f++)
	{
		Datum		row[2];
		bool		nulls[2] = {false, false};

		row[0] = CStringGetTextDatum(feature_names[f]);
		row[1] = CStringGetTextDatum(values[f]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, nulls);
	}
	return (Datum) 0;
}

/*
 * leadflow.explain_prediction(lead_id) RETURNS TABLE (factor text, value
 *		text, converted bigint, lost bigint, weight double precision)
 *
 * The prior (class totals) and one row per feature the model uses: the
 * lead's value, how many labelled leads with it converted and were lost,
 * and its weight of evidence; the weights sum to the log-odds, and the
 * last row (probability) gives 1 / (1 + exp(-sum)).  No rows when the
 * org has no model.
 */
PG_FUNCTION_INFO_V1(leadflow_explain_prediction);
Datum
leadflow_explain_prediction(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		lead_id = PG_GETARG_INT64(0);
	LeadflowLead lead;
	PredictOrg *org;
	FeatureValues values;
	double		weights[NFEATURES];
	int64		conv[NFEATURES];
	int64		lost[NFEATURES];
	double		prior;
	double		lo;
	bool		isnull;
	int			f;
	Datum		row[5];
	bool		nulls[5] = {false, false, false, false, false};

	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	LeadflowFetchLead(&lead_plan, lead_id, true);
	LeadflowLeadFromRecord(&lead, SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	lead_features(&lead, values);
	SPI_finish();

	org = get_predict_org(lead.org_id);
	if (!org->has_model)
		return (Datum) 0;
	lo = log_odds(org, values, &prior, weights, conv, lost);

	row[0] = CStringGetTextDatum("prior");
	nulls[1] = true;
	row[2] = Int64GetDatum(org->total_converted);
	row[3] = Int64GetDatum(org->total_lost);
	row[4] = Float8GetDatum(prior);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, nulls);
	nulls[1] = false;
	for (f = 0; f < NFEATURES; f++)
	{
		if (!org->use[f])
			continue;
		row[0] = CStringGetTextDatum(feature_names[f]);
		row[1] = CStringGetTextDatum(values[f]);
		row[2] = Int64GetDatum(conv[f]);
		row[3] = Int64GetDatum(lost[f]);
		row[4] = Float8GetDatum(weights[f]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, nulls);
	}
	row[0] = CStringGetTextDatum("probability");
	row[1] = CStringGetTextDatum(psprintf("%.4f", probability(lo)));
	nulls[2] = nulls[3] = true;
	row[4] = Float8GetDatum(lo);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, nulls);
	return (Datum) 0;
}
