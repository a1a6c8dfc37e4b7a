/*-------------------------------------------------------------------------
 *
 * decay.c
 *	  Inactivity decay of a lead's score: after a grace period without
 *	  activity, a lead loses the model's inactivity_points_per_week for
 *	  every whole week, at most LEADFLOW_DECAY_MAX_POINTS.  score.c calls
 *	  LeadflowDecayPoints for every score; leadflow.score_decay() is the
 *	  same function for SQL (run_maintenance finds the leads whose stored
 *	  decay is out of date with it), so the formula exists once.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "decay.h"

#define SECS_PER_WEEK (7.0 * SECS_PER_DAY)

/*
 * Whole weeks of inactivity past the grace period, times the weekly points:
 * 0 within the grace period or without weekly points, at most
 * LEADFLOW_DECAY_MAX_POINTS.  last_activity is the lead's last activity
 * (its creation when it has none), as_of the time scored at.  Called by
 * score.c and leadflow_score_decay; no allocation, no locks.
 */
int
LeadflowDecayPoints(TimestampTz last_activity, TimestampTz as_of,
					double grace_secs, int points_per_week)
{
	double		idle = (double) (as_of - last_activity) / USECS_PER_SEC - grace_secs;

	if (idle <= 0 || points_per_week <= 0)
		return 0;
	return (int) Min(floor(idle / SECS_PER_WEEK) * points_per_week,
					 (double) LEADFLOW_DECAY_MAX_POINTS);
}

/*
 * leadflow.score_decay(last_activity timestamptz, as_of timestamptz,
 *						inactivity_grace interval, points_per_week integer)
 *		RETURNS integer
 *
 * LeadflowDecayPoints for SQL.  The grace period is read in seconds as
 * date_part('epoch', interval) reads it, which is how the scoring model
 * cache (rulecache.c) reads scoring_models.inactivity_grace, so SQL and the
 * pipeline agree to the last bit.  IMMUTABLE: the caller passes the time.
 */
PG_FUNCTION_INFO_V1(leadflow_score_decay);
Datum
leadflow_score_decay(PG_FUNCTION_ARGS)
{
	TimestampTz last_activity = PG_GETARG_TIMESTAMPTZ(0);
	TimestampTz as_of = PG_GETARG_TIMESTAMPTZ(1);
	Datum		grace = PG_GETARG_DATUM(2);
	int32		points_per_week = PG_GETARG_INT32(3);
	double		grace_secs;

	grace_secs = DatumGetFloat8(DirectFunctionCall2(interval_part,
													PointerGetDatum(cstring_to_text("epoch")),
													grace));
	PG_RETURN_INT32(LeadflowDecayPoints(last_activity, as_of, grace_secs, points_per_week));
}
