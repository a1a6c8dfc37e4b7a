/*-------------------------------------------------------------------------
 *
 * journey_hash.h
 *	  The hash of a journey row (journey_hash.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_JOURNEY_HASH_H
#define LEADFLOW_JOURNEY_HASH_H

#include "postgres.h"

#include "datatype/timestamp.h"

#define LEADFLOW_HASH_LEN 32

/* SHA-256 of one row into out[LEADFLOW_HASH_LEN]; prev NULL for a chain's first */
extern void LeadflowJourneyRowHash(const uint8 *prev, int prev_len, int64 org_id, int64 lead_id,
								   int32 seq, TimestampTz occurred_at, const char *kind,
								   const char *actor, const char *detail, uint8 *out);
extern bytea *LeadflowHashToBytea(const uint8 *hash);

#endif							/* LEADFLOW_JOURNEY_HASH_H */
