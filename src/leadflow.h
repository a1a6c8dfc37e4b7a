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
#include "utils/hsearch.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

/* settings (leadflow.c) */
extern char *leadflow_actor;
extern char *leadflow_org_id;
extern TimestampTz leadflow_now_override;
extern char *leadflow_fail_at;
extern int	leadflow_notify_limit;
extern void LeadflowFailpoint(const char *stage);
extern TimestampTz LeadflowNow(void);

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

/* the org's active scoring model, compiled (rulecache.c, used by score.c) */
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

/* the org's reps, teams and routing rules (rulecache.c, used by route.c) */
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

extern const LeadflowOrg *LeadflowGetOrg(int64 org_id);
extern const LeadflowModel *LeadflowGetModel(int64 org_id, TupleDesc leads_desc);
extern bool LeadflowIsFreeMailDomain(const char *domain);
extern const LeadflowStage *LeadflowFindStage(const LeadflowOrg *org, int64 stage_id);
extern const LeadflowStage *LeadflowStageForStatus(const LeadflowOrg *org, int64 workflow_id,
												   const char *status);

/*
 * pipeline.c: the lead row being written.  The stages read and change its
 * values in place; the trigger forms the tuple once at the end.
 */
#define LEADFLOW_LEAD_COLUMNS(X) \
	X(org_id) X(lead_id) X(first_name) X(last_name) X(email) X(phone) \
	X(company) X(job_title) X(industry) X(company_size) X(annual_revenue) \
	X(country) X(state) X(city) X(postal_code) X(source) X(campaign) \
	X(attributes) X(status) X(workflow_id) X(stage_id) X(owner_rep_id) \
	X(team_id) X(account_id) X(merged_into) X(assigned_at) \
	X(email_normalized) X(phone_e164) X(company_domain) X(score_demographic) \
	X(score_firmographic) X(score_behavioral) X(score_engagement) \
	X(score_manual) X(score_decay) X(score) X(temperature) X(created_at) X(updated_at) \
	X(last_activity_at) X(stage_entered_at) X(escalated_at) X(erased_at) \
	X(priority) X(budget_confirmed) X(authority_confirmed) X(need_confirmed) \
	X(timeline_confirmed) X(first_touch_at) X(qualified_at) X(converted_at) \
	X(archived_at) X(archive_reason)

typedef struct LeadflowLeadColumns
{
	Oid			relid;
#define LEADFLOW_COLUMN_FIELD(c) int c;
	LEADFLOW_LEAD_COLUMNS(LEADFLOW_COLUMN_FIELD)
#undef LEADFLOW_COLUMN_FIELD
} LeadflowLeadColumns;

/* attribute numbers of the leads table, resolved by the trigger */
extern LeadflowLeadColumns leadflow_cols;
extern int	leadflow_pipeline_depth;

typedef struct LeadflowLead
{
	int64		org_id;
	int64		lead_id;
	const LeadflowOrg *org;
	TupleDesc	desc;
	Datum	   *values;
	bool	   *nulls;
	bool	   *replace;
} LeadflowLead;

extern void LeadflowResolveColumns(TupleDesc leads_desc, Oid relid);
extern void LeadflowLeadFromTuple(LeadflowLead *lead, TupleDesc desc, HeapTuple tuple);
extern void LeadflowLeadFromRecord(LeadflowLead *lead, Datum record);
extern bool LeadflowLeadIsNull(const LeadflowLead *lead, int attnum);
extern char *LeadflowLeadText(const LeadflowLead *lead, int attnum);
extern int64 LeadflowLeadInt64(const LeadflowLead *lead, int attnum);
extern void LeadflowLeadSet(LeadflowLead *lead, int attnum, Datum value, bool isnull);
extern void LeadflowLeadSetText(LeadflowLead *lead, int attnum, const char *value);

extern void LeadflowNormalizeLead(LeadflowLead *lead);
extern bool LeadflowStatusIsOpen(const char *status);

/* an inserted value quoted for an error message, cut if long */
extern char *LeadflowQuote(const char *value);

/* journey.c */
#define LEADFLOW_HASH_LEN 32

extern void LeadflowJourneyStartChain(int64 org_id, int64 lead_id);
extern int32 LeadflowJourneyAppend(int64 org_id, int64 lead_id, const char *kind,
								   const char *detail_json);

/* a detail parsed once, for many rows that carry the same one */
typedef struct LeadflowJourneyDetail
{
	Jsonb	   *jsonb;
	char	   *canonical;		/* its text form, which the hash covers */
} LeadflowJourneyDetail;

extern void LeadflowJourneyParseDetail(LeadflowJourneyDetail *detail, const char *detail_json);
extern int32 LeadflowJourneyAppendDetail(int64 org_id, int64 lead_id, const char *kind,
										 const LeadflowJourneyDetail *detail);
extern const char *LeadflowActor(void);
extern void LeadflowJourneyFlush(void);
extern void LeadflowJourneyHold(void);
extern void LeadflowJourneyRelease(void);
#define LEADFLOW_JOURNEY_PREFETCH_MAX 4096
extern void LeadflowJourneyPrefetch(const int64 *org_ids, const int64 *lead_ids, int n);

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
	Oid			argtypes[20];
} LeadflowPlan;

extern SPIPlanPtr LeadflowPrepare(LeadflowPlan *p);
extern int	LeadflowExecute(LeadflowPlan *p, Datum *values, const char *nulls, bool read_only,
							long count);
extern int	LeadflowExecuteSet(LeadflowPlan *p, Datum *values, const char *nulls);

/*
 * A leadflow table opened for rows written below the executor (journey
 * rows, email claims): its indexes open (with what speculative insertion
 * needs when asked), an executor state for index expressions, predicates
 * and constraints.
 */
typedef struct LeadflowDirect
{
	Relation	rel;
	struct EState *estate;
	struct ResultRelInfo *rri;
} LeadflowDirect;

extern void LeadflowDirectOpen(LeadflowDirect *d, const char *relname, bool speculative);
extern AttrNumber LeadflowDirectAttnum(const LeadflowDirect *d, const char *column);
extern void LeadflowDirectClose(LeadflowDirect *d);
extern void LeadflowFetchById(LeadflowPlan *plan, const char *what, int64 id, bool read_only,
							  const char *ambiguous_hint);
extern void LeadflowFetchLead(LeadflowPlan *plan, int64 lead_id, bool read_only);

/* dedup.c */
extern int64 LeadflowDedupClaim(LeadflowLead *lead, const char *email_normalized);
extern void LeadflowDedupTouchSurvivor(LeadflowLead *lead, int64 survivor_id);
extern void LeadflowDedupMoveClaim(LeadflowLead *lead, const char *old_email, const char *new_email);
extern void LeadflowDedupFollowLifecycle(const LeadflowLead *old, LeadflowLead *lead);

/* workflow.c */
extern void LeadflowWorkflowUpdate(const LeadflowLead *old, LeadflowLead *lead);

/* score.c */
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
#define LEADFLOW_CROSSED_HOT		1
#define LEADFLOW_CROSSED_ESCALATE	2
extern int	LeadflowScoreApply(LeadflowLead *lead, int old_score, bool with_signals, const char *reason);
extern void LeadflowScoreNotify(const LeadflowLead *lead, int crossed);
extern void LeadflowNotify(const char *event, int64 org_id, int64 lead_id, int64 rep_id);
extern const char *leadflow_rescore_reason;
extern bool leadflow_signal_lead_updated_by_caller;
extern uint64 LeadflowUpdateRescoring(LeadflowPlan *plan, Datum *args, const char *nulls,
									  const char *reason);

/* route.c */
extern void LeadflowRouteLead(LeadflowLead *lead, int64 exclude_rep, const char *reason);
extern void LeadflowRouteAdjustLoad(int64 org_id, int64 rep_id, int delta);
extern void LeadflowRouteFlush(void);
extern void LeadflowCheckReassignReason(const char *reason);
extern const char *leadflow_reroute_reason;

/* enrich.c */
extern void LeadflowEnrich(LeadflowLead *lead);

/* maintenance.c */
extern void LeadflowMaintenanceEmit(ReturnSetInfo *rsinfo, const char *action, uint64 n);

/* nurture.c: nurture and recycling (issue 10) */
extern void LeadflowNurtureMaintain(ReturnSetInfo *rsinfo, Datum *args, const char *nulls);
extern void LeadflowNurtureRecycle(const LeadflowLead *old, LeadflowLead *lead, int crossed);

/* account.c: account-based scoring (issue 10) */
extern void LeadflowAccountMaintain(ReturnSetInfo *rsinfo, Datum *args, const char *nulls);

/* predict.c: predictive scoring (issue 10) */
extern void LeadflowPredictLead(const LeadflowLead *old, LeadflowLead *lead);
extern void LeadflowPredictFlush(void);

#endif							/* LEADFLOW_H */
