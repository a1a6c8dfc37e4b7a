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
 *	  Count changes collect in a transaction buffer (txbuf.h) and are
 *	  written once per statement (LeadflowPredictFlush, from the
 *	  statement-end trigger on leads, in key order): a bulk update closing
 *	  many leads writes each counter once.  A subtransaction that aborts
 *	  takes exactly its own changes with it.
 *	  The model of each org comes from the configuration cache (rulecache.c,
 *	  dropped when prediction_models changes, like any configuration); its
 *	  counts are cached here, reloaded after this backend wrote them, and
 *	  at most COUNTS_MAX_AGE_USECS after another backend did.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <math.h>

#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/varlena.h"

#include "lead.h"
#include "predict.h"
#include "predict_int.h"
#include "request.h"
#include "rulecache.h"
#include "spi.h"
#include "text.h"
#include "txbuf.h"


const char *const leadflow_feature_names[NFEATURES] = {
	"source", "industry", "company_size", "country", "seniority", "activity"
};

/* a count change not written yet (pending until the statement ends) */
typedef struct PendingCount
{
	CountKey	key;
	int64		converted;
	int64		lost;
} PendingCount;


static MemoryContext predict_cxt = NULL;
static HTAB *predict_orgs = NULL;
static HTAB *predict_counts = NULL;
static void predict_discard(void);
static void predict_subabort(int level);

static TxbufTable pending = TXBUF_TABLE("leadflow pending prediction counts", CountKey, PendingCount);
static const TxbufClient predict_client = {
	"prediction counts", LeadflowPredictFlush, predict_discard, predict_subabort
};
static int	written_level = 0;	/* deepest level that wrote counts */

/* counts other backends changed are seen after at most this long */
#define COUNTS_MAX_AGE_USECS	(5 * USECS_PER_SEC)

/* leads.conversion_probability, resolved once per leads relation */
static Oid	prob_relid = InvalidOid;
static int	prob_attnum = 0;

static LeadflowPlan counts_plan = {
	NULL,
	"SELECT feature, value, converted, lost FROM leadflow.prediction_counts"
	" WHERE org_id OPERATOR(pg_catalog.=) $1",
	1, {INT8OID}
};

/* the counts cache: lives for the backend; counts reload by age */
static void
ensure_predict_cache(void)
{
	if (predict_orgs == NULL)
	{
		HASHCTL		ctl;

		predict_cxt = AllocSetContextCreate(CacheMemoryContext, "leadflow prediction counts",
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
	}
}

static int
feature_index(const char *name)
{
	int			i;

	for (i = 0; i < NFEATURES; i++)
		if (strcmp(name, leadflow_feature_names[i]) == 0)
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

/*
 * get_predict_org
 *		The org's entry: its model (features, smoothing) as the
 *		configuration cache has it now, and its cached counts.
 */
PredictOrg *
LeadflowPredictOrg(int64 org_id)
{
	const LeadflowPredictionModel *m = LeadflowGetPredictionModel(org_id);
	PredictOrg *org;
	bool		found;
	int			i;

	ensure_predict_cache();
	org = hash_search(predict_orgs, &org_id, HASH_ENTER, &found);
	if (!found)
	{
		memset(org, 0, sizeof(PredictOrg));
		org->org_id = org_id;
	}
	/* a configuration change (train_model among them) rebuilt the counts */
	if (org->config_generation != LeadflowConfigGeneration())
	{
		org->counts_loaded = false;
		org->config_generation = LeadflowConfigGeneration();
	}
	org->has_model = m != NULL;
	org->alpha = m ? m->alpha : 0;
	memset(org->use, 0, sizeof(org->use));
	for (i = 0; m != NULL && i < m->nfeatures; i++)
	{
		int			f = feature_index(m->features[i]);

		if (f >= 0)
			org->use[f] = true;
	}
	return org;
}

/*
 * The org's counts in the cache: loaded when missing, after this backend
 * changed them, or when older than COUNTS_MAX_AGE_USECS (other backends'
 * changes).  Counts not flushed yet are not included.
 */
void
LeadflowPredictCounts(PredictOrg *org)
{
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	HASH_SEQ_STATUS seq;
	CountEntry *entry;
	Datum		arg = Int64GetDatum(org->org_id);
	uint64		i;
	int			f;
	int			rc;

	if (org->counts_loaded && now - org->counts_loaded_at <= COUNTS_MAX_AGE_USECS)
		return;

	/* forget what the cache has of this org */
	hash_seq_init(&seq, predict_counts);
	while ((entry = hash_seq_search(&seq)) != NULL)
		if (entry->key.org_id == org->org_id)
			hash_search(predict_counts, &entry->key, HASH_REMOVE, NULL);
	org->total_converted = org->total_lost = 0;
	for (f = 0; f < NFEATURES; f++)
		org->nvalues[f] = 0;

	SPI_connect();
	/* not read-only: counts this transaction just wrote are seen */
	rc = LeadflowExecute(&counts_plan, &arg, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "leadflow: prediction counts lookup failed: %s", SPI_result_code_string(rc));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		char	   *feature = SPI_getvalue(tup, desc, 1);
		char	   *value = SPI_getvalue(tup, desc, 2);
		int64		c = DatumGetInt64(SPI_getbinval(tup, desc, 3, &isnull));
		int64		l = DatumGetInt64(SPI_getbinval(tup, desc, 4, &isnull));
		CountKey	key;

		f = strcmp(feature, "_total") == 0 ? NFEATURES : feature_index(feature);
		if (f < 0)
			continue;
		if (f == NFEATURES)
		{
			org->total_converted = c;
			org->total_lost = l;
			continue;
		}
		org->nvalues[f]++;
		make_key(&key, org->org_id, f, value);
		entry = hash_search(predict_counts, &key, HASH_ENTER, NULL);
		entry->converted = c;
		entry->lost = l;
	}
	SPI_finish();
	org->counts_loaded = true;
	org->counts_loaded_at = now;
}

/*
 * predict_discard
 *		The transaction ended (txbuf calls it).
 */
static void
predict_discard(void)
{
	written_level = 0;
}

/*
 * predict_subabort
 *		The subtransaction at level aborted (txbuf calls it, after putting
 *		back the pending changes).  If it wrote counts, the counts cached
 *		since may hold changes it rolled back: they are read again.
 */
static void
predict_subabort(int level)
{
	HASH_SEQ_STATUS seq;
	PredictOrg *org;

	if (written_level < level)
		return;
	written_level = level - 1;
	if (predict_orgs == NULL)
		return;
	hash_seq_init(&seq, predict_orgs);
	while ((org = hash_seq_search(&seq)) != NULL)
		org->counts_loaded = false;
}

/* adds a lead's contribution (sign +1 or -1) to the pending changes */
static void
add_pending(const PredictOrg *org, FeatureValues values, int label, int sign)
{
	int			i;

	if (label < 0)
		return;
	TxbufRegister(&predict_client);
	for (i = 0; i <= NFEATURES; i++)
	{
		CountKey	key;
		PendingCount *p;
		bool		found;

		if (i < NFEATURES && !org->use[i])
			continue;
		make_key(&key, org->org_id, i, i < NFEATURES ? values[i] : "");
		p = TxbufEnter(&pending, &key, &found);
		if (!found)
			p->converted = p->lost = 0;
		if (label == 1)
			p->converted += sign;
		else
			p->lost += sign;
	}
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
void
LeadflowLeadFeatures(const LeadflowLead *lead, FeatureValues values)
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
double
LeadflowPredictLogOdds(const PredictOrg *org, FeatureValues values, double *prior, double *weights,
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

double
LeadflowPredictProbability(double lo)
{
	return 1.0 / (1.0 + exp(-lo));
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
	PredictOrg *org = LeadflowPredictOrg(lead->org_id);
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

	LeadflowLeadFeatures(lead, new_values);
	new_label = lead_label(lead);
	if (old != NULL)
	{
		FeatureValues old_values;
		int			old_label = lead_label(old);

		LeadflowLeadFeatures(old, old_values);
		if (old_label != new_label || memcmp(old_values, new_values, sizeof(FeatureValues)) != 0)
		{
			add_pending(org, old_values, old_label, -1);
			add_pending(org, new_values, new_label, +1);
		}
	}
	else
		add_pending(org, new_values, new_label, +1);

	status = LeadflowLeadText(lead, leadflow_cols.status);
	if (LeadflowStatusIsOpen(status) && LeadflowLeadIsNull(lead, leadflow_cols.merged_into) &&
		LeadflowLeadIsNull(lead, leadflow_cols.erased_at))
	{
		LeadflowPredictCounts(org);
		LeadflowLeadSet(lead, prob_attnum,
						Float8GetDatum(LeadflowPredictProbability(LeadflowPredictLogOdds(org, new_values, NULL, NULL, NULL, NULL))), false);
	}
}

/*
 * LeadflowPredictFlush
 *		Writes the count changes of the statement that ends, in key order,
 *		then drops the values no closed lead has any more (as a full
 *		retrain would not count them).  Called by the statement trigger on
 *		leads, and before commit for changes left over.  One upsert per
 *		statement, however many leads it closed: a bulk update does not
 *		pile up row versions of the same counters (predict_counts.c).
 */
void
LeadflowPredictFlush(void)
{
	HASH_SEQ_STATUS seq;
	PendingCount *p;
	long		n;
	PredictCountDelta *rows;
	Datum	   *orgs;
	int			norgs = 0;
	int			i = 0;
	int			j;

	if ((n = TxbufTableSize(&pending)) == 0)
		return;
	rows = palloc(n * sizeof(PredictCountDelta));
	orgs = palloc(n * sizeof(Datum));
	TxbufSeqInit(&pending, &seq);
	while ((p = TxbufSeqNext(&pending, &seq)) != NULL)
	{
		if (p->converted == 0 && p->lost == 0)
		{
			TxbufRemove(&pending, p);
			continue;
		}
		rows[i].org_id = p->key.org_id;
		rows[i].feature = p->key.feature < NFEATURES ? leadflow_feature_names[p->key.feature] : "_total";
		rows[i].value = pstrdup(p->key.value);
		rows[i].converted = p->converted;
		rows[i].lost = p->lost;
		for (j = 0; j < norgs && DatumGetInt64(orgs[j]) != p->key.org_id; j++)
			;
		if (j == norgs)
			orgs[norgs++] = Int64GetDatum(p->key.org_id);
		i++;
		/* written below; an error there aborts, and txbuf restores it */
		TxbufRemove(&pending, p);
	}
	if (i == 0)
		return;
	LeadflowPredictWriteCounts(rows, i);
	written_level = Max(written_level, GetCurrentTransactionNestLevel());

	/* this backend sees its own changes at once */
	if (predict_orgs != NULL)
		for (j = 0; j < norgs; j++)
		{
			int64		org_id = DatumGetInt64(orgs[j]);
			PredictOrg *org = hash_search(predict_orgs, &org_id, HASH_FIND, NULL);

			if (org != NULL)
				org->counts_loaded = false;
		}
}
