/*-------------------------------------------------------------------------
 *
 * shard.h
 *	  Citus: the relation that holds an org's rows of a leadflow table on
 *	  this node (shard.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_SHARD_H
#define LEADFLOW_SHARD_H

#include "postgres.h"

extern bool LeadflowCitusPresent(void);
extern bool LeadflowSameName(const char *name, const char *base);
extern Oid	LeadflowShardRelid(Oid relid, int64 org_id);

#endif							/* LEADFLOW_SHARD_H */
