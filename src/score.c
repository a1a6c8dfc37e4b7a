/*-------------------------------------------------------------------------
 *
 * score.c
 *	  Scoring: per-category points from field rules (predicates over the
 *	  lead) and signal rules (points per signal, at most max_count, each
 *	  halving every half_life), category caps, the rep's manual adjustment,
 *	  inactivity decay, the composite 0..100 and the temperature; the
 *	  thresholds (hot, escalation) and the explanation.
 *
 *	  One function computes a score, LeadflowScoreCompute; the pipeline
 *	  (insert), the leads update trigger (changed fields, new signals,
 *	  rescore) and explain_score all call it, so what is explained is what
 *	  was stored.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "parser/parse_relation.h"
#include "storage/proc.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "compat.h"
#include "decay.h"
#include "journey.h"
#include "lead.h"
#include "notify.h"
#include "predicate.h"
#include "request.h"
#include "rulecache.h"
#include "score.h"
#include "spi.h"
#include "tenant.h"
#include "text.h"


/* the signals of one lead, as scoring needs them */
typedef struct Signal
{
	char	   *kind;
	TimestampTz occurred_at;
	int64		signal_id;
} Signal;

/*
 * points * 0.5^(age / half_life); no decay without a half-life, none for a
 * signal from the future.
 */
static double
decayed(double points, double age_secs, double half_life_secs)
{
	if (half_life_secs <= 0 || age_secs <= 0)
		return points;
	return points * pow(0.5, age_secs / half_life_secs);
}

/* newest first: ORDER BY occurred_at DESC, signal_id DESC */
static int
signal_cmp(const void *a, const void *b)
{
	const Signal *x = a;
	const Signal *y = b;

	if (x->occurred_at != y->occurred_at)
		return x->occurred_at > y->occurred_at ? -1 : 1;
	if (x->signal_id != y->signal_id)
		return x->signal_id > y->signal_id ? -1 : 1;
	return 0;
}

/*
 * The lead's signals, newest first, by a scan of lead_signals_lead below
 * the executor (a survivor's rescoring paid ~40k instructions for the SPI
 * statement).  The caller has checked the org; the snapshot is the active
 * one, as the read-only statement this replaces used, so it sees the same
 * rows (a signal of this same command included or not alike).
 */
static Signal *
read_signals(int64 org_id, int64 lead_id, int *nsignals)
{
	/* under Citus the org's shard (spi.c) and that shard's copy of the index */
	Relation	rel = table_open(LeadflowDirectRelid("lead_signals", org_id), AccessShareLock);
	Relation	idx = NULL;
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	AttrNumber	kind_att = attnameAttNum(rel, "kind", false);
	AttrNumber	at_att = attnameAttNum(rel, "occurred_at", false);
	AttrNumber	id_att = attnameAttNum(rel, "signal_id", false);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	ScanKeyData keys[2];
	IndexScanDesc scan;
	Signal	   *signals;
	int			n = 0;
	int			size = 8;

	if (kind_att == InvalidAttrNumber || at_att == InvalidAttrNumber || id_att == InvalidAttrNumber)
		elog(ERROR, "leadflow: lead_signals lacks a column scoring reads");
	foreach(lc, indexes)
	{
		Relation	candidate = index_open(lfirst_oid(lc), AccessShareLock);

		if (idx == NULL && LeadflowIndexNamed(candidate, "lead_signals_lead"))
			idx = candidate;
		else
			index_close(candidate, AccessShareLock);
	}
	list_free(indexes);
	if (idx == NULL)
		elog(ERROR, "leadflow: lead_signals lacks its index lead_signals_lead");
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(org_id));
	ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(lead_id));
	signals = palloc(sizeof(Signal) * size);
	scan = LeadflowIndexBeginScan(rel, idx, GetActiveSnapshot(), 2);
	index_rescan(scan, keys, 2, NULL, 0);
	while (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		Datum		d;

		if (n == size)
		{
			size *= 2;
			signals = repalloc(signals, sizeof(Signal) * size);
		}
		d = slot_getattr(slot, kind_att, &isnull);
		signals[n].kind = isnull ? NULL : TextDatumGetCString(d);
		signals[n].occurred_at = DatumGetTimestampTz(slot_getattr(slot, at_att, &isnull));
		signals[n].signal_id = DatumGetInt64(slot_getattr(slot, id_att, &isnull));
		n++;
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);
	qsort(signals, n, sizeof(Signal), signal_cmp);
	*nsignals = n;
	return signals;
}

static void
explain_row(LeadflowExplain *ex, int category, int64 rule_id, const char *name, int points)
{
	if (ex == NULL || points == 0)
		return;
	if (ex->n == ex->size)
	{
		ex->size = Max(16, ex->size * 2);
		ex->rows = ex->rows ? repalloc(ex->rows, sizeof(LeadflowExplainRow) * ex->size)
			: palloc(sizeof(LeadflowExplainRow) * ex->size);
	}
	ex->rows[ex->n].category = category >= 0 ? leadflow_categories[category] : NULL;
	ex->rows[ex->n].rule_id = rule_id;
	ex->rows[ex->n].rule_name = pstrdup(name);
	ex->rows[ex->n].points = points;
	ex->n++;
}

/*
 * LeadflowScoreCompute
 *		Computes the score of a lead under the org's active model as of a
 *		time.  Reads the lead's signals when the model has signal rules and
 *		with_signals is set (a lead being inserted has none).  Fills ex, if
 *		given, with one row per contributing rule and one per adjustment
 *		(caps, manual, inactivity, clamping): the rows sum to the score.
 */
void
LeadflowScoreCompute(const LeadflowLead *lead, const LeadflowModel *m, bool with_signals,
					 TimestampTz as_of, LeadflowScore *score, LeadflowExplain *ex)
{
	Signal	   *signals = NULL;
	int			nsignals = 0;
	int			raw[LEADFLOW_NCATEGORIES] = {0};
	int			sum = 0;
	int			c;
	int			i;
	TimestampTz last_activity;

	memset(score, 0, sizeof(LeadflowScore));
	score->manual = LeadflowLeadIsNull(lead, leadflow_cols.score_manual) ? 0 :
		DatumGetInt32(lead->values[leadflow_cols.score_manual - 1]);

	if (m != NULL)
	{
		if (with_signals && m->has_signal_rules)
			signals = read_signals(lead->org_id, lead->lead_id, &nsignals);

		for (i = 0; i < m->nrules; i++)
		{
			const LeadflowScoreRule *r = &m->rules[i];
			int			points = 0;

			if (r->predicate != NULL)
			{
				if (LeadflowPredicateEval(r->predicate, lead->desc, lead->values, lead->nulls))
					points = r->points;
			}
			else
			{
				double		total = 0;
				int			counted = 0;
				int			s;

				/* newest first: max_count keeps the most recent signals */
				for (s = 0; s < nsignals; s++)
				{
					if (signals[s].kind == NULL || strcmp(signals[s].kind, r->signal_kind) != 0)
						continue;
					if (r->max_count > 0 && counted >= r->max_count)
						break;
					total += decayed(r->points,
									 (double) (as_of - signals[s].occurred_at) / USECS_PER_SEC,
									 r->half_life_secs);
					counted++;
				}
				points = (int) rint(total);
			}
			raw[r->category] += points;
			explain_row(ex, r->category, r->rule_id, r->name, points);
		}
	}

	for (c = 0; c < LEADFLOW_NCATEGORIES; c++)
	{
		int			cap = m ? m->caps[c] : 0;
		int			clamped = Max(0, Min(raw[c], cap));

		score->category[c] = clamped;
		if (clamped != raw[c])
			explain_row(ex, c, 0, clamped > raw[c] ? "floor at 0" : psprintf("cap %d", cap),
						clamped - raw[c]);
		sum += clamped;
	}

	explain_row(ex, -1, 0, "manual adjustment", score->manual);
	sum += score->manual;

	if (m != NULL)
	{
		Datum		d = lead->values[leadflow_cols.last_activity_at - 1];

		last_activity = LeadflowLeadIsNull(lead, leadflow_cols.last_activity_at) ?
			DatumGetTimestampTz(lead->values[leadflow_cols.created_at - 1]) : DatumGetTimestampTz(d);
		if (LeadflowLeadIsNull(lead, leadflow_cols.created_at) &&
			LeadflowLeadIsNull(lead, leadflow_cols.last_activity_at))
			last_activity = as_of;
		score->decay = LeadflowDecayPoints(last_activity, as_of, m->inactivity_grace_secs,
											m->inactivity_points_per_week);
		explain_row(ex, -1, 0, "inactivity decay", -score->decay);
		sum -= score->decay;
	}

	score->total = Max(0, Min(sum, 100));
	if (score->total != sum)
		explain_row(ex, -1, 0, score->total > sum ? "floor at 0" : "cap 100", score->total - sum);

	if (m == NULL || score->total < m->warm_at)
		score->temperature = "cold";
	else if (score->total < m->hot_at)
		score->temperature = "warm";
	else
		score->temperature = "hot";
}

/* Writes a computed score into the lead row. */
void
LeadflowScoreStore(LeadflowLead *lead, const LeadflowScore *score)
{
	const int	attnums[LEADFLOW_NCATEGORIES] = {
		leadflow_cols.score_demographic, leadflow_cols.score_firmographic,
		leadflow_cols.score_behavioral, leadflow_cols.score_engagement
	};
	int			c;

	for (c = 0; c < LEADFLOW_NCATEGORIES; c++)
		LeadflowLeadSet(lead, attnums[c], Int32GetDatum(score->category[c]), false);
	LeadflowLeadSet(lead, leadflow_cols.score_decay, Int32GetDatum(score->decay), false);
	LeadflowLeadSet(lead, leadflow_cols.score, Int32GetDatum(score->total), false);
	LeadflowLeadSetText(lead, leadflow_cols.temperature, score->temperature);
}

/*
 * LeadflowScoreApply
 *		Scores the lead, stores the score, and when it changed from
 *		old_score journals "scored" (old, new, reason).  Crossing escalate_at
 *		upward sets escalated_at and journals "escalated".  Returns the
 *		thresholds crossed (LEADFLOW_CROSSED_*), which the caller notifies
 *		with LeadflowScoreNotify once the lead has its owner.
 */
int
LeadflowScoreApply(LeadflowLead *lead, int old_score, bool with_signals, const char *reason)
{
	const LeadflowModel *m = LeadflowGetModel(lead->org_id, lead->desc);
	TimestampTz now = LeadflowNow();
	LeadflowScore score;
	LeadflowJourneyEvent ev;
	LeadflowJson *detail;
	int			crossed = 0;
	int			c;

	LeadflowScoreCompute(lead, m, with_signals, now, &score, NULL);
	LeadflowScoreStore(lead, &score);
	if (score.total == old_score && strcmp(reason, "created") != 0)
		return 0;

	detail = LeadflowJourneyBegin(&ev, lead->org_id, lead->lead_id, "scored");
	LeadflowJsonInt(detail, "old", old_score);
	LeadflowJsonInt(detail, "new", score.total);
	LeadflowJsonText(detail, "reason", reason);
	LeadflowJsonText(detail, "temperature", score.temperature);
	for (c = 0; c < LEADFLOW_NCATEGORIES; c++)
		LeadflowJsonInt(detail, leadflow_categories[c], score.category[c]);
	if (score.manual != 0)
		LeadflowJsonInt(detail, "manual", score.manual);
	if (score.decay != 0)
		LeadflowJsonInt(detail, "inactivity_decay", score.decay);
	if (m != NULL)
		LeadflowJsonInt(detail, "model_id", m->model_id);
	LeadflowJourneyEnd(&ev);

	if (m == NULL)
		return 0;
	if (old_score < m->hot_at && score.total >= m->hot_at)
		crossed |= LEADFLOW_CROSSED_HOT;
	if (old_score < m->escalate_at && score.total >= m->escalate_at)
	{
		crossed |= LEADFLOW_CROSSED_ESCALATE;
		LeadflowLeadSet(lead, leadflow_cols.escalated_at, TimestampTzGetDatum(now), false);
		detail = LeadflowJourneyBegin(&ev, lead->org_id, lead->lead_id, "escalated");
		LeadflowJsonInt(detail, "score", score.total);
		LeadflowJsonInt(detail, "escalate_at", m->escalate_at);
		LeadflowJourneyEnd(&ev);
	}
	return crossed;
}

/* events hot / escalated for the thresholds LeadflowScoreApply reported */
void
LeadflowScoreNotify(const LeadflowLead *lead, int crossed)
{
	int64		owner = LeadflowLeadInt64(lead, leadflow_cols.owner_rep_id);
	LeadflowJson detail;

	if (crossed == 0)
		return;
	LeadflowJsonBegin(&detail);
	LeadflowJsonInt(&detail, "score", DatumGetInt32(lead->values[leadflow_cols.score - 1]));
	if (crossed & LEADFLOW_CROSSED_HOT)
		LeadflowEvent(lead->org_id, "hot", lead->lead_id, owner, LeadflowJsonFinish(&detail));
	if (crossed & LEADFLOW_CROSSED_ESCALATE)
		LeadflowEvent(lead->org_id, "escalated", lead->lead_id, owner, LeadflowJsonFinish(&detail));
}

/*
 * leadflow.decayed_points(points, age interval, half_life interval)
 *		RETURNS double precision
 *
 * What one signal is worth after age: points * 0.5^(age / half_life).
 * IMMUTABLE: the caller passes the age.
 */
PG_FUNCTION_INFO_V1(leadflow_decayed_points);
Datum
leadflow_decayed_points(PG_FUNCTION_ARGS)
{
	double		points = PG_GETARG_FLOAT8(0);
	Interval   *age = PG_GETARG_INTERVAL_P(1);
	double		age_secs = age->time / (double) USECS_PER_SEC +
		(age->day + age->month * (double) DAYS_PER_MONTH) * SECS_PER_DAY;
	double		half_life_secs = 0;

	if (!PG_ARGISNULL(2))
	{
		Interval   *hl = PG_GETARG_INTERVAL_P(2);

		half_life_secs = hl->time / (double) USECS_PER_SEC +
			(hl->day + hl->month * (double) DAYS_PER_MONTH) * SECS_PER_DAY;
	}
	PG_RETURN_FLOAT8(decayed(points, age_secs, half_life_secs));
}

static LeadflowPlan lead_by_id_plan = {
	NULL,
	"SELECT l FROM leadflow.leads l WHERE l.lead_id OPERATOR(pg_catalog.=) $1",
	1, {INT8OID}
};

/*
 * leadflow.explain_score(lead_id) RETURNS TABLE (category, rule_id,
 *		rule_name, points)
 *
 * One row per contributing rule, then the adjustments (caps, manual,
 * inactivity decay, clamping), computed now with the current model: the
 * points sum to the score the lead would get now.
 */
PG_FUNCTION_INFO_V1(leadflow_explain_score);
Datum
leadflow_explain_score(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int64		lead_id = PG_GETARG_INT64(0);
	LeadflowLead lead;
	LeadflowExplain ex = {0};
	LeadflowScore score;
	bool		isnull;
	int			i;

	InitMaterializedSRF(fcinfo, 0);

	SPI_connect();
	LeadflowFetchLead(&lead_by_id_plan, lead_id, true);
	LeadflowLeadFromRecord(&lead, SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	LeadflowCheckOrg(lead.org_id);

	LeadflowScoreCompute(&lead, LeadflowGetModel(lead.org_id, lead.desc), true,
						 LeadflowNow(), &score, &ex);
	for (i = 0; i < ex.n; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		nulls[0] = ex.rows[i].category == NULL;
		values[0] = nulls[0] ? (Datum) 0 : CStringGetTextDatum(ex.rows[i].category);
		nulls[1] = ex.rows[i].rule_id == 0;
		values[1] = Int64GetDatum(ex.rows[i].rule_id);
		values[2] = CStringGetTextDatum(ex.rows[i].rule_name);
		values[3] = Int32GetDatum(ex.rows[i].points);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}


static LeadflowPlan touch_plan = {
	NULL,
	"UPDATE leadflow.leads SET last_activity_at = GREATEST(last_activity_at, $3)"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 AND lead_id OPERATOR(pg_catalog.=) $2"
	" AND merged_into IS NULL AND erased_at IS NULL",
	3, {INT8OID, INT8OID, TIMESTAMPTZOID}
};


static LeadflowPlan rescore_plan = {
	NULL,
	"UPDATE leadflow.leads SET updated_at = updated_at"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 AND merged_into IS NULL AND erased_at IS NULL",
	1, {INT8OID}
};

/*
 * rescore_under
 *		Runs an UPDATE of leads (inside the caller's SPI connection) whose
 *		trigger must rescore, giving the reason; returns the rows updated.
 */
static uint64
rescore_under(LeadflowPlan *plan, Datum *args, const char *nulls, const char *reason)
{
	LeadflowRequest request = *LeadflowCurrentRequest();

	request.rescore_reason = reason;
	return LeadflowExecuteUnder(&request, plan, args, nulls, SPI_OK_UPDATE);
}

static LeadflowPlan owner_plan = {
	NULL,
	"SELECT owner_rep_id FROM leadflow.leads"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 AND lead_id OPERATOR(pg_catalog.=) $2",
	2, {INT8OID, INT8OID}
};

/*
 * The event "bounced" of an email_bounce signal (args: org_id, lead_id),
 * for the lead's owner; the caller is connected to SPI.
 */
static void
bounced_event(Datum *args, Datum signal_id)
{
	LeadflowJson detail;
	int64		owner = 0;
	bool		isnull;
	int			rc;

	rc = LeadflowExecute(&owner_plan, args, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "leadflow: owner lookup failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		owner = isnull ? 0 : DatumGetInt64(d);
	}
	LeadflowJsonBegin(&detail);
	LeadflowJsonInt(&detail, "signal_id", DatumGetInt64(signal_id));
	LeadflowEvent(DatumGetInt64(args[0]), "bounced", DatumGetInt64(args[1]), owner,
				  LeadflowJsonFinish(&detail));
}

/*
 * Trigger on lead_signals.  BEFORE INSERT: a signal for a merged lead goes
 * to the lead it was merged into, so nothing is lost.  AFTER INSERT: the
 * lead's last activity moves and the lead is rescored at once.
 */
PG_FUNCTION_INFO_V1(leadflow_signal_inserted);
Datum
leadflow_signal_inserted(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	tuple;
	Datum		args[3];
	bool		isnull;
	int			org_att;
	int			lead_att;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BY_INSERT(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "signal_inserted: must be a row trigger on INSERT");

	desc = RelationGetDescr(td->tg_relation);
	tuple = td->tg_trigtuple;
	/* the caller updates the lead itself right after (dedup's touch) */
	if (LeadflowCurrentRequest()->signal_lead_updated)
		return TRIGGER_FIRED_BEFORE(td->tg_event) ? PointerGetDatum(tuple) : PointerGetDatum(NULL);
	org_att = SPI_fnumber(desc, "org_id");
	lead_att = SPI_fnumber(desc, "lead_id");
	args[0] = heap_getattr(tuple, org_att, desc, &isnull);
	args[1] = heap_getattr(tuple, lead_att, desc, &isnull);

	SPI_connect();
	if (TRIGGER_FIRED_BEFORE(td->tg_event))
	{
		/* the survivor redirect of activities and consents too */
		int64		survivor = LeadflowSurvivorOf(DatumGetInt64(args[0]), DatumGetInt64(args[1]));

		if (survivor != DatumGetInt64(args[1]))
		{
			int			cols[1] = {lead_att};
			Datum		vals[1] = {Int64GetDatum(survivor)};
			bool		nulls[1] = {false};

			tuple = heap_modify_tuple_by_cols(tuple, desc, 1, cols, vals, nulls);
		}
		SPI_finish();
		return PointerGetDatum(tuple);
	}

	/*
	 * A bounce is the mail system answering, not the lead: it is scored
	 * like any signal but does not move the last activity (GREATEST
	 * ignores the NULL).
	 */
	{
		Datum		kind = heap_getattr(tuple, SPI_fnumber(desc, "kind"), desc, &isnull);
		bool		bounce = !isnull && strcmp(TextDatumGetCString(kind), "email_bounce") == 0;
		char		nulls[3] = {' ', ' ', bounce ? 'n' : ' '};

		args[2] = heap_getattr(tuple, SPI_fnumber(desc, "occurred_at"), desc, &isnull);
		if (isnull)
			nulls[2] = 'n';
		rescore_under(&touch_plan, args, nulls, "signal");
		if (bounce)
			bounced_event(args, heap_getattr(tuple, SPI_fnumber(desc, "signal_id"), desc, &isnull));
	}
	SPI_finish();
	return PointerGetDatum(NULL);
}

/*
 * leadflow.rescore(org_id) RETURNS bigint
 *
 * Recomputes the score of every live lead of an org (after a model
 * change, or to apply decay); returns how many leads were recomputed.
 * Each lead whose score changes gets a "scored" journey row.
 */
PG_FUNCTION_INFO_V1(leadflow_rescore);
Datum
leadflow_rescore(PG_FUNCTION_ARGS)
{
	Datum		arg = PG_GETARG_DATUM(0);
	uint64		n;

	(void) LeadflowGetOrg(DatumGetInt64(arg));	/* 23503 for an unknown org */
	SPI_connect();
	n = rescore_under(&rescore_plan, &arg, NULL, "rescore");
	SPI_finish();
	PG_RETURN_INT64((int64) n);
}
