/*-------------------------------------------------------------------------
 *
 * leadflow.h
 *	  Declarations shared by the leadflow modules: settings, the journey
 *	  API every pipeline stage writes through, and small SPI helpers.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_H
#define LEADFLOW_H

#include "postgres.h"

#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/jsonb.h"

/* settings (leadflow.c) */
extern char *leadflow_actor;
extern char *leadflow_org_id;

/* rulecache.c: configuration cached per backend, flushed on change */
typedef struct LeadflowStage
{
	int64		stage_id;
	int64		workflow_id;
	int32		position;
	char		status[16];
} LeadflowStage;

typedef struct LeadflowOrg
{
	int64		org_id;
	char		default_region[3];
	bool		named_account_routing;
	bool		company_affinity_routing;
	bool		convert_on_qualified;
	bool		require_bant_for_qualified;
	int64		default_workflow_id;
	int			nstages;
	LeadflowStage *stages;		/* ordered by workflow_id, position */
} LeadflowOrg;

extern const LeadflowOrg *LeadflowGetOrg(int64 org_id);
extern const LeadflowStage *LeadflowFindStage(const LeadflowOrg *org, int64 stage_id);
extern const LeadflowStage *LeadflowStageForStatus(const LeadflowOrg *org, int64 workflow_id,
												   const char *status);

/* journey.c */
#define LEADFLOW_HASH_LEN 32

extern void LeadflowJourneyStartChain(int64 org_id, int64 lead_id);
extern int32 LeadflowJourneyAppend(int64 org_id, int64 lead_id, const char *kind,
								   const char *detail_json);
extern const char *LeadflowActor(void);

/*
 * Journey details are small JSON objects built as text; these append one
 * "key": value member (the caller writes the braces).
 */
extern void LeadflowDetailInt(StringInfo buf, const char *key, int64 value);
extern void LeadflowDetailText(StringInfo buf, const char *key, const char *value);

/*
 * SPI plans kept for the backend's lifetime.  Each call site owns one
 * LeadflowPlan, prepared on first use from fully qualified, parameterised
 * SQL.
 */
typedef struct LeadflowPlan
{
	SPIPlanPtr	plan;
	const char *sql;
	int			nargs;
	Oid			argtypes[10];
} LeadflowPlan;

extern SPIPlanPtr LeadflowPrepare(LeadflowPlan *p);

#endif							/* LEADFLOW_H */
