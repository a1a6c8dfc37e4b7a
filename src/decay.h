/*-------------------------------------------------------------------------
 *
 * decay.h
 *	  Inactivity decay of a lead's score: the one formula.  Pure (no SPI,
 *	  no table access); scoring (score.c) calls it for every score it
 *	  computes, and SQL reaches it as leadflow.score_decay(), which
 *	  run_maintenance's decay pass compares against the stored decay.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_DECAY_H
#define LEADFLOW_DECAY_H

#include "datatype/timestamp.h"

/* most points inactivity can take from a score */
#define LEADFLOW_DECAY_MAX_POINTS	1000

extern int	LeadflowDecayPoints(TimestampTz last_activity, TimestampTz as_of,
								double grace_secs, int points_per_week);

#endif							/* LEADFLOW_DECAY_H */
