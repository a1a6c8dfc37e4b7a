/*-------------------------------------------------------------------------
 *
 * predict_sql.c
 *	  Predictive scoring's SQL entry points: lead_features() and
 *	  explain_prediction().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "lead.h"
#include "predict_int.h"
#include "spi.h"

static LeadflowPlan lead_plan = {
	NULL,
	"SELECT l FROM leadflow.leads l WHERE l.lead_id OPERATOR(pg_catalog.=) $1",
	1, {INT8OID}
};

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
	LeadflowLeadFeatures(&lead, values);
	for (f = 0; f < NFEATURES; f++)
	{
		Datum		row[2];
		bool		nulls[2] = {false, false};

		row[0] = CStringGetTextDatum(leadflow_feature_names[f]);
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
	LeadflowLeadFeatures(&lead, values);
	SPI_finish();

	org = LeadflowPredictOrg(lead.org_id);
	if (!org->has_model)
		return (Datum) 0;
	LeadflowPredictCounts(org);
	lo = LeadflowPredictLogOdds(org, values, &prior, weights, conv, lost);

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
		row[0] = CStringGetTextDatum(leadflow_feature_names[f]);
		row[1] = CStringGetTextDatum(values[f]);
		row[2] = Int64GetDatum(conv[f]);
		row[3] = Int64GetDatum(lost[f]);
		row[4] = Float8GetDatum(weights[f]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, nulls);
	}
	row[0] = CStringGetTextDatum("probability");
	row[1] = CStringGetTextDatum(psprintf("%.4f", LeadflowPredictProbability(lo)));
	nulls[2] = nulls[3] = true;
	row[4] = Float8GetDatum(lo);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, row, nulls);
	return (Datum) 0;
}
