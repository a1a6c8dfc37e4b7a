/*-------------------------------------------------------------------------
 *
 * predict_int.h
 *	  Internals of predictive scoring shared by the stage (predict.c) and
 *	  its SQL entry points (predict_sql.c): the features, the counts of an
 *	  org, the naive-Bayes log-odds.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_PREDICT_INT_H
#define LEADFLOW_PREDICT_INT_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "lead.h"

#define NFEATURES		6
#define VALUE_LEN		100		/* feature values are cut to this many bytes */

extern const char *const leadflow_feature_names[NFEATURES];

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
	bool		counts_loaded;
	uint64		config_generation;	/* of the configuration the counts follow */
	TimestampTz counts_loaded_at;	/* transaction start of the load */
	int64		total_converted;
	int64		total_lost;
	int			nvalues[NFEATURES];
} PredictOrg;

typedef char FeatureValues[NFEATURES][VALUE_LEN + 4];

extern PredictOrg *LeadflowPredictOrg(int64 org_id);
extern void LeadflowPredictCounts(PredictOrg *org);
extern void LeadflowLeadFeatures(const LeadflowLead *lead, FeatureValues values);
extern double LeadflowPredictLogOdds(const PredictOrg *org, FeatureValues values, double *prior,
									 double *weights, int64 *conv, int64 *lost);
extern double LeadflowPredictProbability(double lo);

/* one key's change of the counts, for the flush (predict_counts.c) */
typedef struct PredictCountDelta
{
	int64		org_id;
	const char *feature;
	const char *value;
	int64		converted;
	int64		lost;
} PredictCountDelta;

extern void LeadflowPredictWriteCounts(PredictCountDelta *rows, int n);

#endif							/* LEADFLOW_PREDICT_INT_H */
