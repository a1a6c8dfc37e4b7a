/*-------------------------------------------------------------------------
 *
 * rulecache.h
 *	  The configuration cache (rulecache.c): each org's settings, workflow
 *	  stages, compiled scoring model, reps, teams and routing rules, kept per
 *	  backend and flushed by one filtered invalidation when a configuration
 *	  table changes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_RULECACHE_H
#define LEADFLOW_RULECACHE_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

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
	bool		dedup_on_phone;
	int64		default_workflow_id;
	int			nstages;
	LeadflowStage *stages;		/* ordered by workflow_id, position */
	int			nsource_aliases;
	char	  **source_alias;	/* canonical spellings (LeadflowSourceKey), sorted */
	char	  **source_target;	/* the source each alias stands for, canonical */
	int			nfree_domains;
	char	  **free_domains;	/* the org's own free-mail domains, strcmp order */
} LeadflowOrg;

/* the org's source for a canonical spelling: its alias target, else itself */
extern const char *LeadflowOrgSource(const LeadflowOrg *org, const char *key);

/* the org's active scoring model, compiled (used by score.c) */
#define LEADFLOW_NCATEGORIES 4

typedef struct LeadflowPredicate LeadflowPredicate;

typedef struct LeadflowScoreRule
{
	int64		rule_id;
	char	   *name;
	int			category;		/* index into leadflow_categories */
	int			points;
	LeadflowPredicate *predicate;	/* field rule, else NULL */
	char	   *signal_kind;	/* signal rule, else NULL */
	double		half_life_secs; /* 0: no decay */
	int			max_count;		/* 0: no limit */
} LeadflowScoreRule;

typedef struct LeadflowModel
{
	int64		model_id;
	int			caps[LEADFLOW_NCATEGORIES];
	int			warm_at;
	int			hot_at;
	int			escalate_at;
	int			archive_below;
	double		archive_after_secs;
	double		inactivity_grace_secs;
	int			inactivity_points_per_week;
	bool		has_signal_rules;
	int			nrules;
	LeadflowScoreRule *rules;
} LeadflowModel;

extern const char *const leadflow_categories[LEADFLOW_NCATEGORIES];

/* the org's reps, teams and routing rules (used by route.c) */
typedef enum LeadflowStrategy
{
	LEADFLOW_ROUND_ROBIN,
	LEADFLOW_WEIGHTED_ROUND_ROBIN,
	LEADFLOW_LOAD_BALANCED
} LeadflowStrategy;

typedef enum LeadflowAssignTo
{
	LEADFLOW_ASSIGN_REP,
	LEADFLOW_ASSIGN_TEAM,
	LEADFLOW_ASSIGN_QUEUE
} LeadflowAssignTo;

typedef struct LeadflowRep
{
	int64		rep_id;
	int64		team_id;		/* 0: none */
	bool		active;
	bool		accepting_leads;
	bool		has_away_from;
	bool		has_away_until;
	TimestampTz away_from;
	TimestampTz away_until;
	int			max_open_leads; /* -1: no cap */
	int			weight;
} LeadflowRep;

typedef struct LeadflowTeam
{
	int64		team_id;
	char	   *name;
	LeadflowStrategy strategy;
	int			nmembers;
	int		   *members;		/* indexes into reps, by rep_id */
} LeadflowTeam;

typedef struct LeadflowRoutingRule
{
	int64		rule_id;
	char	   *name;
	bool		shadow;
	bool		handoff;		/* stage handoff (conversion), else intake */
	LeadflowAssignTo assign_to;
	int64		rep_id;
	int64		team_id;
	LeadflowPredicate *predicate;
} LeadflowRoutingRule;

typedef struct LeadflowRouting
{
	int			nreps;
	LeadflowRep *reps;			/* sorted by rep_id */
	int			nteams;
	LeadflowTeam *teams;		/* sorted by team_id */
	int			nrules;
	LeadflowRoutingRule *rules; /* enabled rules by position, rule_id */
} LeadflowRouting;

extern const LeadflowRouting *LeadflowGetRouting(int64 org_id, TupleDesc leads_desc);
extern const LeadflowRep *LeadflowFindRep(const LeadflowRouting *r, int64 rep_id);
extern const LeadflowTeam *LeadflowFindTeam(const LeadflowRouting *r, int64 team_id);
extern bool LeadflowFindAccount(int64 org_id, const char *domain, int64 *account_id, int64 *owner_rep_id);
extern HTAB *LeadflowProfileCache(int64 org_id, Size entrysize, MemoryContext *cxt);

/* the org's prediction model (predict.c): the features it uses, smoothing */
typedef struct LeadflowPredictionModel
{
	int			nfeatures;
	char	  **features;		/* feature names, as configured */
	double		alpha;
} LeadflowPredictionModel;

extern const LeadflowPredictionModel *LeadflowGetPredictionModel(int64 org_id);
extern uint64 LeadflowConfigGeneration(void);

extern const LeadflowOrg *LeadflowGetOrg(int64 org_id);
extern const LeadflowModel *LeadflowGetModel(int64 org_id, TupleDesc leads_desc);
extern bool LeadflowIsFreeMailDomain(const char *domain);
extern bool LeadflowOrgIsFreeMailDomain(const LeadflowOrg *org, const char *domain);
extern const LeadflowStage *LeadflowFindStage(const LeadflowOrg *org, int64 stage_id);
extern const LeadflowStage *LeadflowStageForStatus(const LeadflowOrg *org, int64 workflow_id,
												   const char *status);

#endif							/* LEADFLOW_RULECACHE_H */
