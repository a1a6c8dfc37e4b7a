/*-------------------------------------------------------------------------
 *
 * pipeline.c
 *	  The leads trigger: runs the pipeline stages on every INSERT (and the
 *	  bookkeeping of every UPDATE) inside the writing transaction.
 *
 *	  A BEFORE ROW trigger, so every stage works on the new row in memory
 *	  and the row is stored once, complete; an error in any stage aborts
 *	  the statement and nothing partial remains.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "leadflow.h"

/* attribute numbers of the leads columns the pipeline reads or writes */
typedef struct LeadColumns
{
	Oid			relid;
	int			org_id;
	int			lead_id;
	int			email;
	int			phone;
	int			source;
	int			status;
	int			workflow_id;
	int			stage_id;
	int			created_at;
	int			updated_at;
	int			stage_entered_at;
} LeadColumns;

static LeadColumns cols;

static int
column(TupleDesc desc, const char *name)
{
	int			attnum = SPI_fnumber(desc, name);

	if (attnum <= 0)
		elog(ERROR, "leadflow: leads has no column \"%s\"", name);
	return attnum;
}

static void
resolve_columns(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);

	if (cols.relid == RelationGetRelid(rel))
		return;
	cols.org_id = column(desc, "org_id");
	cols.lead_id = column(desc, "lead_id");
	cols.email = column(desc, "email");
	cols.phone = column(desc, "phone");
	cols.source = column(desc, "source");
	cols.status = column(desc, "status");
	cols.workflow_id = column(desc, "workflow_id");
	cols.stage_id = column(desc, "stage_id");
	cols.created_at = column(desc, "created_at");
	cols.updated_at = column(desc, "updated_at");
	cols.stage_entered_at = column(desc, "stage_entered_at");
	cols.relid = RelationGetRelid(rel);
}

/*
 * A lead row being written: the values of the new tuple, changed in place
 * by the stages and formed into a tuple once at the end.
 */
typedef struct Lead
{
	TupleDesc	desc;
	Datum	   *values;
	bool	   *nulls;
	bool	   *replace;
} Lead;

static void
lead_from_tuple(Lead *lead, Relation rel, HeapTuple tuple)
{
	int			natts;

	lead->desc = RelationGetDescr(rel);
	natts = lead->desc->natts;
	lead->values = palloc(natts * sizeof(Datum));
	lead->nulls = palloc(natts * sizeof(bool));
	lead->replace = palloc0(natts * sizeof(bool));
	heap_deform_tuple(tuple, lead->desc, lead->values, lead->nulls);
}

static void
lead_set(Lead *lead, int attnum, Datum value, bool isnull)
{
	lead->values[attnum - 1] = value;
	lead->nulls[attnum - 1] = isnull;
	lead->replace[attnum - 1] = true;
}

static int64
lead_int64(Lead *lead, int attnum)
{
	return lead->nulls[attnum - 1] ? 0 : DatumGetInt64(lead->values[attnum - 1]);
}

/* a text column as a palloc'd C string, NULL when null */
static char *
lead_text(Lead *lead, int attnum)
{
	if (lead->nulls[attnum - 1])
		return NULL;
	return TextDatumGetCString(lead->values[attnum - 1]);
}

/* Trims a text column; blank becomes NULL.  Returns the trimmed value. */
static char *
lead_trim(Lead *lead, int attnum)
{
	char	   *s = lead_text(lead, attnum);
	char	   *end;

	if (s == NULL)
		return NULL;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		end--;
	*end = '\0';
	if (*s == '\0')
	{
		lead_set(lead, attnum, (Datum) 0, true);
		return NULL;
	}
	lead_set(lead, attnum, CStringGetTextDatum(s), false);
	return s;
}

/*
 * Places a new lead in its workflow: the org default unless given, the
 * stage that maps to its status unless a stage is given (then the status
 * follows the stage).
 */
static void
place_in_workflow(Lead *lead, const LeadflowOrg *org, int64 lead_id)
{
	int64		workflow_id = lead_int64(lead, cols.workflow_id);
	const LeadflowStage *stage;

	if (!lead->nulls[cols.stage_id - 1])
	{
		int64		stage_id = lead_int64(lead, cols.stage_id);

		stage = LeadflowFindStage(org, stage_id);
		if (stage == NULL || (workflow_id != 0 && stage->workflow_id != workflow_id))
			ereport(ERROR,
					(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
					 errmsg("stage_id " INT64_FORMAT " is not a stage of %s", stage_id,
							workflow_id != 0 ? "the lead's workflow" : "this org"),
					 errdetail("Lead " INT64_FORMAT " of org " INT64_FORMAT ".", lead_id, org->org_id)));
		lead_set(lead, cols.workflow_id, Int64GetDatum(stage->workflow_id), false);
		lead_set(lead, cols.status, CStringGetTextDatum(stage->status), false);
		return;
	}

	if (workflow_id == 0)
	{
		workflow_id = org->default_workflow_id;
		if (workflow_id == 0)
			ereport(ERROR,
					(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
					 errmsg("org " INT64_FORMAT " has no default workflow", org->org_id),
					 errhint("Mark one of its workflows is_default.")));
	}
	{
		char	   *status = lead_text(lead, cols.status);

		stage = LeadflowStageForStatus(org, workflow_id, status);
		if (stage == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
					 errmsg("workflow " INT64_FORMAT " has no stage for status \"%s\"",
							workflow_id, status),
					 errdetail("Lead " INT64_FORMAT " of org " INT64_FORMAT ".", lead_id, org->org_id)));
	}
	lead_set(lead, cols.workflow_id, Int64GetDatum(workflow_id), false);
	lead_set(lead, cols.stage_id, Int64GetDatum(stage->stage_id), false);
}

/* BEFORE INSERT: validate, place, journal. */
static HeapTuple
lead_insert(TriggerData *td)
{
	Relation	rel = td->tg_relation;
	Lead		lead;
	const LeadflowOrg *org;
	int64		org_id;
	int64		lead_id;
	char	   *email;
	char	   *phone;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	StringInfoData detail;
	HeapTuple	result;

	lead_from_tuple(&lead, rel, td->tg_trigtuple);
	org_id = lead_int64(&lead, cols.org_id);
	lead_id = lead_int64(&lead, cols.lead_id);
	org = LeadflowGetOrg(org_id);

	email = lead_trim(&lead, cols.email);
	phone = lead_trim(&lead, cols.phone);
	if (email == NULL && phone == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("lead " INT64_FORMAT " has neither email nor phone", lead_id),
				 errdetail("Every lead needs an email or a phone (org " INT64_FORMAT ").", org_id)));
	lead_trim(&lead, cols.source);

	place_in_workflow(&lead, org, lead_id);
	lead_set(&lead, cols.created_at, TimestampTzGetDatum(now), false);
	lead_set(&lead, cols.updated_at, TimestampTzGetDatum(now), false);
	lead_set(&lead, cols.stage_entered_at, TimestampTzGetDatum(now), false);

	initStringInfo(&detail);
	appendStringInfoChar(&detail, '{');
	LeadflowDetailText(&detail, "source", lead_text(&lead, cols.source));
	LeadflowDetailInt(&detail, "workflow_id", lead_int64(&lead, cols.workflow_id));
	LeadflowDetailInt(&detail, "stage_id", lead_int64(&lead, cols.stage_id));
	appendStringInfoChar(&detail, '}');
	LeadflowJourneyStartChain(org_id, lead_id);
	LeadflowJourneyAppend(org_id, lead_id, "created", detail.data);

	result = heap_modify_tuple(td->tg_trigtuple, lead.desc, lead.values, lead.nulls, lead.replace);
	return result;
}

/* BEFORE UPDATE: keys stay, updated_at moves. */
static HeapTuple
lead_update(TriggerData *td)
{
	Relation	rel = td->tg_relation;
	Lead		old;
	Lead		lead;

	lead_from_tuple(&old, rel, td->tg_trigtuple);
	lead_from_tuple(&lead, rel, td->tg_newtuple);
	if (lead_int64(&lead, cols.org_id) != lead_int64(&old, cols.org_id) ||
		lead_int64(&lead, cols.lead_id) != lead_int64(&old, cols.lead_id))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot change org_id or lead_id of lead " INT64_FORMAT,
						lead_int64(&old, cols.lead_id))));
	lead_set(&lead, cols.updated_at, TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()), false);
	return heap_modify_tuple(td->tg_newtuple, lead.desc, lead.values, lead.nulls, lead.replace);
}

/*
 * leadflow.lead_pipeline(): BEFORE INSERT OR UPDATE FOR EACH ROW on leads.
 */
PG_FUNCTION_INFO_V1(leadflow_lead_pipeline);
Datum
leadflow_lead_pipeline(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "lead_pipeline: must be a BEFORE ROW trigger");

	resolve_columns(td->tg_relation);
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		return PointerGetDatum(lead_insert(td));
	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		return PointerGetDatum(lead_update(td));
	elog(ERROR, "lead_pipeline: must fire on INSERT or UPDATE");
	return (Datum) 0;
}
