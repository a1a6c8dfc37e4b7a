/*-------------------------------------------------------------------------
 *
 * score.h
 *	  The scoring stage (score.c): compute, store and apply a lead's score.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_SCORE_H
#define LEADFLOW_SCORE_H

#include "postgres.h"

#include "lead.h"
#include "rulecache.h"

typedef struct LeadflowScore
{
	int			category[LEADFLOW_NCATEGORIES];
	int			manual;
	int			decay;
	int			total;
	const char *temperature;
} LeadflowScore;

typedef struct LeadflowExplainRow
{
	const char *category;		/* NULL for adjustments across categories */
	int64		rule_id;		/* 0 for adjustments */
	char	   *rule_name;
	int			points;
} LeadflowExplainRow;

typedef struct LeadflowExplain
{
	int			n;
	int			size;
	LeadflowExplainRow *rows;
} LeadflowExplain;

extern void LeadflowScoreCompute(const LeadflowLead *lead, const LeadflowModel *m, bool with_signals,
								 TimestampTz as_of, LeadflowScore *score, LeadflowExplain *ex);
extern void LeadflowScoreStore(LeadflowLead *lead, const LeadflowScore *score);
extern int	LeadflowScoreApply(LeadflowLead *lead, int old_score, bool with_signals, const char *reason);
extern void LeadflowScoreNotify(const LeadflowLead *lead, int crossed);

#endif							/* LEADFLOW_SCORE_H */
