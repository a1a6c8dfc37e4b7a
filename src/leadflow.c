/*-------------------------------------------------------------------------
 *
 * leadflow.c
 *	  Module entry: PG_MODULE_MAGIC, settings, and the small helpers every
 *	  pipeline stage shares.
 *
 *	  The stages live one per file: pipeline.c (the leads trigger that
 *	  runs them in order) and journey.c (the hash-chained history).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "optimizer/cost.h"
#include "parser/parse_relation.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "leadflow.h"

PG_MODULE_MAGIC;

char	   *leadflow_actor = NULL;

/* set by run_maintenance while it works "as of" another time */
TimestampTz leadflow_now_override = 0;
char	   *leadflow_org_id = NULL;
char	   *leadflow_fail_at = NULL;
int			leadflow_notify_limit = 10000;

void		_PG_init(void);

/*
 * leadflow.org_id must be empty or a whole number: row-level security casts
 * it to bigint, and a typo should fail at SET time, not in a policy.
 */
static bool
check_org_id(char **newval, void **extra, GucSource source)
{
	const char *p = *newval;

	if (p == NULL || *p == '\0')
		return true;
	if (*p == '-')
		p++;
	if (*p == '\0' || strlen(p) > 18)
		goto bad;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			goto bad;
	return true;

bad:
	GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
	GUC_check_errdetail("leadflow.org_id must be empty or an org id (a whole number).");
	return false;
}

void
_PG_init(void)
{
	DefineCustomStringVariable("leadflow.actor",
							   "Who signs journey rows written by this session.",
							   "An application or agent sets it, e.g. 'agent:lead-scoring'; "
							   "when empty the session user signs.",
							   &leadflow_actor,
							   "",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("leadflow.org_id",
							   "The org an application session works for.",
							   "With tenant isolation enabled, row-level security shows "
							   "and accepts only rows of this org; empty shows nothing.",
							   &leadflow_org_id,
							   "",
							   PGC_USERSET,
							   0,
							   check_org_id, NULL, NULL);

	DefineCustomStringVariable("leadflow.fail_at",
							   "Makes the lead pipeline fail at one stage (for tests).",
							   "normalize, dedup, enrich, score, route or journey: an insert "
							   "fails there, to show that nothing partial remains.",
							   &leadflow_fail_at,
							   "",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("leadflow.notify_limit",
							"Notifications one transaction sends before a single \"bulk\" one.",
							"Pending notifications stay in memory until commit; a bulk load "
							"sends this many, then one {\"event\": \"bulk\"} for the rest.",
							&leadflow_notify_limit,
							10000, 0, INT_MAX,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("leadflow");
}

/*
 * LeadflowPrepare
 *		Returns the kept SPI plan of a call site, preparing it on first use.
 *
 * The plan lives in SPI's kept-plan memory for the backend's lifetime; the
 * plan cache revalidates it after DDL on the tables it reads.  The caller
 * must be connected to SPI.
 */
SPIPlanPtr
LeadflowPrepare(LeadflowPlan *p)
{
	if (p->plan == NULL)
	{
		/*
		 * Generic plans: a custom plan per execution would re-plan every
		 * statement the pipeline runs (array parameters, say, never look
		 * cheaper generic); the plans are made for index access anyway.
		 */
		SPIPlanPtr	plan = SPI_prepare_cursor(p->sql, p->nargs, p->argtypes,
											  CURSOR_OPT_GENERIC_PLAN);

		if (plan == NULL)
			elog(ERROR, "leadflow: SPI_prepare failed for \"%s\": %s",
				 p->sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "leadflow: SPI_keepplan failed");
		p->plan = plan;
	}
	return p->plan;
}

/*
 * LeadflowFailpoint
 *		Raises an error when leadflow.fail_at names this stage.  Only a
 *		superuser can set it; tests use it to break the pipeline midway.
 */
void
LeadflowFailpoint(const char *stage)
{
	if (leadflow_fail_at != NULL && strcmp(leadflow_fail_at, stage) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
				 errmsg("leadflow.fail_at: failing at %s", stage)));
}

/*
 * LeadflowNow
 *		The time the pipeline acts at: the transaction's start, or the as_of
 *		of the maintenance run in progress.
 */
TimestampTz
LeadflowNow(void)
{
	return leadflow_now_override != 0 ? leadflow_now_override : GetCurrentTransactionStartTimestamp();
}

/*
 * LeadflowExecute
 *		Executes a call site's kept plan (preparing it on first use), with
 *		sequential scans disabled while it is planned and run.
 *
 * Every leadflow query looks rows up by key.  Planned while a table is
 * still small, a generic plan would scan it sequentially and keep doing so
 * as the table grows, which makes a bulk load quadratic; an index path
 * exists for each of them, and this makes the planner take it.
 */
int
LeadflowExecute(LeadflowPlan *p, Datum *values, const char *nulls, bool read_only, long count)
{
	bool		saved = enable_seqscan;
	int			rc;

	enable_seqscan = false;
	PG_TRY();
	{
		rc = SPI_execute_plan(LeadflowPrepare(p), values, nulls, read_only, count);
	}
	PG_FINALLY();
	{
		enable_seqscan = saved;
	}
	PG_END_TRY();
	return rc;
}

/*
 * LeadflowExecuteSet
 *		Executes a call site's kept plan with the planner's defaults, for
 *		statements that read whole orgs (aggregates, joins of many rows),
 *		where a sequential scan and a hash join are right; LeadflowExecute
 *		is made for key lookups.  Not read-only.
 */
int
LeadflowExecuteSet(LeadflowPlan *p, Datum *values, const char *nulls)
{
	return SPI_execute_plan(LeadflowPrepare(p), values, nulls, false, 0);
}

/*
 * LeadflowDirectOpen, LeadflowDirectAttnum, LeadflowDirectClose
 *		Open (RowExclusiveLock) and close a table of the leadflow schema for
 *		rows written below the executor; Attnum resolves a column, an error
 *		if the table lacks it.
 */
void
LeadflowDirectOpen(LeadflowDirect *d, const char *relname, bool speculative)
{
	d->rel = table_open(get_relname_relid(relname, get_namespace_oid("leadflow", false)),
						RowExclusiveLock);
	d->estate = CreateExecutorState();
	d->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(d->rri, d->rel, 0, NULL, 0);
	ExecOpenIndices(d->rri, speculative);
}

AttrNumber
LeadflowDirectAttnum(const LeadflowDirect *d, const char *column)
{
	AttrNumber	attnum = attnameAttNum(d->rel, column, false);

	if (attnum == InvalidAttrNumber)
		elog(ERROR, "leadflow: %s has no column \"%s\"", RelationGetRelationName(d->rel), column);
	return attnum;
}

void
LeadflowDirectClose(LeadflowDirect *d)
{
	ExecCloseIndices(d->rri);
	FreeExecutorState(d->estate);
	table_close(d->rel, NoLock);
}

/*
 * LeadflowFetchById
 *		Runs a plan that selects one row by an id ($1) that is unique within
 *		an org ("lead", "rep"): error P0002 when there is none (or
 *		row-level security hides it), 21000 with ambiguous_hint when two
 *		orgs use the id.  The caller is connected to SPI; the row is
 *		SPI_tuptable->vals[0].
 */
void
LeadflowFetchById(LeadflowPlan *plan, const char *what, int64 id, bool read_only,
				  const char *ambiguous_hint)
{
	Datum		arg = Int64GetDatum(id);
	int			rc;

	rc = LeadflowExecute(plan, &arg, NULL, read_only, 2);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "leadflow: %s lookup failed: %s", what, SPI_result_code_string(rc));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("%s " INT64_FORMAT " does not exist", what, id)));
	if (SPI_processed > 1)
		ereport(ERROR,
				(errcode(ERRCODE_CARDINALITY_VIOLATION),
				 errmsg("%s id " INT64_FORMAT " is used by more than one org", what, id),
				 errhint("%s", ambiguous_hint)));
}

/* LeadflowFetchById for a lead */
void
LeadflowFetchLead(LeadflowPlan *plan, int64 lead_id, bool read_only)
{
	LeadflowFetchById(plan, "lead", lead_id, read_only,
					  "Set leadflow.org_id and enable tenant isolation, or use distinct lead ids.");
}
