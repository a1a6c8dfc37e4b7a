/*-------------------------------------------------------------------------
 *
 * pipeline.c
 *	  The leads trigger: runs the pipeline stages on every INSERT, and the
 *	  bookkeeping of every UPDATE, inside the writing transaction.
 *
 *	  A BEFORE ROW trigger, so every stage works on the new row in memory
 *	  and the row is stored once, complete; an error in any stage aborts
 *	  the statement and nothing partial remains.  The executor calls us in
 *	  its per-tuple memory context, reset after every row, so per-row
 *	  allocations need no freeing.
 *
 *	  Order on INSERT: validate and normalize, place in the workflow,
 *	  journal "created", deduplicate (a duplicate stops here, stored as
 *	  merged), enrich.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "leadflow.h"
#include "normalize.h"
#include "txbuf.h"

LeadflowLeadColumns leadflow_cols;

/* > 0 while a lead row is in the pipeline (statements it runs are nested) */
int			leadflow_pipeline_depth = 0;

static int
column(TupleDesc desc, const char *name)
{
	int			attnum = SPI_fnumber(desc, name);

	if (attnum <= 0)
		elog(ERROR, "leadflow: leads has no column \"%s\"", name);
	return attnum;
}

/*
 * LeadflowResolveColumns
 *		Finds the attribute numbers of the leads columns; they never change
 *		for a table, so this is done once per backend (relid is the key).
 */
void
LeadflowResolveColumns(TupleDesc desc, Oid relid)
{
	if (leadflow_cols.relid == relid)
		return;
#define RESOLVE(c) leadflow_cols.c = column(desc, #c);
	LEADFLOW_LEAD_COLUMNS(RESOLVE)
#undef RESOLVE
	leadflow_cols.relid = relid;
}

/* The values of a leads tuple, to be read and changed by the stages. */
void
LeadflowLeadFromTuple(LeadflowLead *lead, TupleDesc desc, HeapTuple tuple)
{
	int			natts;

	lead->desc = desc;
	natts = lead->desc->natts;
	lead->values = palloc(natts * sizeof(Datum));
	lead->nulls = palloc(natts * sizeof(bool));
	lead->replace = palloc0(natts * sizeof(bool));
	heap_deform_tuple(tuple, lead->desc, lead->values, lead->nulls);
	lead->org_id = DatumGetInt64(lead->values[leadflow_cols.org_id - 1]);
	lead->lead_id = DatumGetInt64(lead->values[leadflow_cols.lead_id - 1]);
	lead->org = NULL;
}

/*
 * LeadflowLeadFromRecord
 *		The lead in a leads row value (e.g. SELECT l FROM leadflow.leads l),
 *		for SQL functions that work on stored leads.  The row's descriptor
 *		is copied into the current context.
 */
void
LeadflowLeadFromRecord(LeadflowLead *lead, Datum record)
{
	HeapTupleHeader row = DatumGetHeapTupleHeader(record);
	TupleDesc	desc = lookup_rowtype_tupdesc_copy(HeapTupleHeaderGetTypeId(row),
												   HeapTupleHeaderGetTypMod(row));
	HeapTupleData tuple;

	tuple.t_len = HeapTupleHeaderGetDatumLength(row);
	tuple.t_data = row;
	LeadflowResolveColumns(desc, get_typ_typrelid(HeapTupleHeaderGetTypeId(row)));
	LeadflowLeadFromTuple(lead, desc, &tuple);
}

bool
LeadflowLeadIsNull(const LeadflowLead *lead, int attnum)
{
	return lead->nulls[attnum - 1];
}

/* a text column as a C string in the current context, NULL when null */
char *
LeadflowLeadText(const LeadflowLead *lead, int attnum)
{
	if (lead->nulls[attnum - 1])
		return NULL;
	return TextDatumGetCString(lead->values[attnum - 1]);
}

void
LeadflowLeadSet(LeadflowLead *lead, int attnum, Datum value, bool isnull)
{
	lead->values[attnum - 1] = value;
	lead->nulls[attnum - 1] = isnull;
	lead->replace[attnum - 1] = true;
}

void
LeadflowLeadSetText(LeadflowLead *lead, int attnum, const char *value)
{
	if (value == NULL)
		LeadflowLeadSet(lead, attnum, (Datum) 0, true);
	else
		LeadflowLeadSet(lead, attnum, CStringGetTextDatum(value), false);
}

/* a bigint column (an id), 0 when null */
int64
LeadflowLeadInt64(const LeadflowLead *lead, int attnum)
{
	return lead->nulls[attnum - 1] ? 0 : DatumGetInt64(lead->values[attnum - 1]);
}

/*
 * LeadflowQuote
 *		A value for an error message: in double quotes, cut after 80 bytes
 *		at a character boundary so a megabyte of input makes a short line.
 */
char *
LeadflowQuote(const char *value)
{
	int			len = strlen(value);

	if (len > 80)
		return psprintf("\"%.*s...\"", pg_mbcliplen(value, len, 80), value);
	return psprintf("\"%s\"", value);
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Trims white space off s in place; NULL when nothing is left. */
static char *
trim_cstring(char *s)
{
	char	   *end;

	if (s == NULL)
		return NULL;
	while (is_space(*s))
		s++;
	end = s + strlen(s);
	while (end > s && is_space(end[-1]))
		end--;
	*end = '\0';
	return *s ? s : NULL;
}

/* Trims a text column in place; blank becomes NULL.  Returns the value. */
static char *
trim_column(LeadflowLead *lead, int attnum)
{
	char	   *s = trim_cstring(LeadflowLeadText(lead, attnum));

	LeadflowLeadSetText(lead, attnum, s);
	return s;
}

/* what people type around names and places: spaces, tabs, line breaks */
static void
trim_text_columns(LeadflowLead *lead)
{
	const int	attnums[] = {
		leadflow_cols.first_name, leadflow_cols.last_name, leadflow_cols.company,
		leadflow_cols.job_title, leadflow_cols.industry, leadflow_cols.country,
		leadflow_cols.state, leadflow_cols.city, leadflow_cols.postal_code,
		leadflow_cols.source, leadflow_cols.campaign
	};
	int			i;

	for (i = 0; i < (int) lengthof(attnums); i++)
		trim_column(lead, attnums[i]);
}

static void
refuse_email(const LeadflowLead *lead, const char *email, const char *reason)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid email %s: %s", LeadflowQuote(email), reason),
			 errdetail("Lead " INT64_FORMAT " of org " INT64_FORMAT ", field email.",
					   lead->lead_id, lead->org_id)));
}

/*
 * The region a national phone number is read in: the lead's own country
 * when it is a two-letter code (a "030 ..." number from Germany is a Berlin
 * number whatever the org's home), else the org's default_region.
 */
static const char *
phone_region(const char *country, const char *default_region)
{
	if (country != NULL && strlen(country) == 2 &&
		isalpha((unsigned char) country[0]) && isalpha((unsigned char) country[1]))
		return psprintf("%c%c", pg_ascii_toupper(country[0]), pg_ascii_toupper(country[1]));
	return default_region;
}

/*
 * Validate and normalize: email_normalized, phone_e164 (see
 * phone_region) and company_domain (registrable domain, NULL for free mail).
 * Returns true when normalization changed what was typed.
 */
static bool
normalize_lead(LeadflowLead *lead)
{
	char	   *email = trim_column(lead, leadflow_cols.email);
	char	   *phone = trim_column(lead, leadflow_cols.phone);
	char	   *normalized = NULL;
	char	   *domain = NULL;
	char	   *company_domain = NULL;
	char		e164[64];
	const char *reason;
	bool		changed = false;

	if (email == NULL && phone == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("lead " INT64_FORMAT " has neither email nor phone", lead->lead_id),
				 errdetail("Every lead needs an email or a phone (org " INT64_FORMAT ").",
						   lead->org_id)));

	if (email != NULL)
	{
		normalized = LeadflowNormalizeEmail(email, &domain, &reason);
		if (normalized == NULL)
			refuse_email(lead, email, reason);
		changed |= strcmp(normalized, email) != 0;
		if (!LeadflowIsFreeMailDomain(domain))
		{
			company_domain = LeadflowRegistrableDomain(domain);
			if (company_domain != NULL && LeadflowIsFreeMailDomain(company_domain))
				company_domain = NULL;
		}
	}
	LeadflowLeadSetText(lead, leadflow_cols.email_normalized, normalized);
	LeadflowLeadSetText(lead, leadflow_cols.company_domain, company_domain);

	if (phone != NULL)
	{
		const char *region = phone_region(LeadflowLeadText(lead, leadflow_cols.country),
										  lead->org->default_region);

		if (!leadflow_phone_e164(phone, region, e164, sizeof(e164), &reason))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid phone %s: %s", LeadflowQuote(phone), reason),
					 errdetail("Lead " INT64_FORMAT " of org " INT64_FORMAT ", field phone, region %s.",
							   lead->lead_id, lead->org_id, region)));
		changed |= strcmp(e164, phone) != 0;
		LeadflowLeadSetText(lead, leadflow_cols.phone_e164, e164);
	}
	else
		LeadflowLeadSetText(lead, leadflow_cols.phone_e164, NULL);
	return changed;
}

void
LeadflowNormalizeLead(LeadflowLead *lead)
{
	(void) normalize_lead(lead);
}

/* open leads count toward a rep's load and can be routed */
bool
LeadflowStatusIsOpen(const char *status)
{
	return strcmp(status, "new") == 0 || strcmp(status, "contacted") == 0 ||
		strcmp(status, "qualified") == 0 || strcmp(status, "nurture") == 0;
}

/* the rep whose open-lead count includes this lead, or 0 */
static int64
counted_owner(const LeadflowLead *lead)
{
	if (LeadflowLeadIsNull(lead, leadflow_cols.owner_rep_id) ||
		!LeadflowLeadIsNull(lead, leadflow_cols.merged_into) ||
		!LeadflowLeadIsNull(lead, leadflow_cols.erased_at) ||
		!LeadflowStatusIsOpen(LeadflowLeadText(lead, leadflow_cols.status)))
		return 0;
	return DatumGetInt64(lead->values[leadflow_cols.owner_rep_id - 1]);
}

/* An owner given on insert is kept: counted and journaled as routed. */
static void
keep_given_owner(LeadflowLead *lead)
{
	StringInfoData detail;
	int64		owner = LeadflowLeadInt64(lead, leadflow_cols.owner_rep_id);

	LeadflowLeadSet(lead, leadflow_cols.assigned_at,
					TimestampTzGetDatum(LeadflowNow()), false);
	if (counted_owner(lead) != 0)
		LeadflowRouteAdjustLoad(lead->org_id, owner, +1);
	initStringInfo(&detail);
	appendStringInfoChar(&detail, '{');
	LeadflowDetailText(&detail, "path", "given");
	LeadflowDetailText(&detail, "reason", "created");
	LeadflowDetailInt(&detail, "rep_id", owner);
	appendStringInfoString(&detail, ", \"candidates\": []}");
	LeadflowJourneyAppend(lead->org_id, lead->lead_id, "routed", detail.data);
	LeadflowNotify("assigned", lead->org_id, lead->lead_id, owner);
}

/*
 * Places a new lead in its workflow: the org default unless given, the
 * stage that maps to its status unless a stage is given (then the status
 * follows the stage).
 */
static void
place_in_workflow(LeadflowLead *lead)
{
	const LeadflowOrg *org = lead->org;
	int64		workflow_id = LeadflowLeadInt64(lead, leadflow_cols.workflow_id);
	const LeadflowStage *stage;
	char	   *status;

	if (!LeadflowLeadIsNull(lead, leadflow_cols.stage_id))
	{
		int64		stage_id = LeadflowLeadInt64(lead, leadflow_cols.stage_id);

		stage = LeadflowFindStage(org, stage_id);
		if (stage == NULL || (workflow_id != 0 && stage->workflow_id != workflow_id))
			ereport(ERROR,
					(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
					 errmsg("stage_id " INT64_FORMAT " is not a stage of %s", stage_id,
							workflow_id != 0 ? "the lead's workflow" : "this org"),
					 errdetail("Lead " INT64_FORMAT " of org " INT64_FORMAT ".",
							   lead->lead_id, org->org_id)));
		LeadflowLeadSet(lead, leadflow_cols.workflow_id, Int64GetDatum(stage->workflow_id), false);
		LeadflowLeadSetText(lead, leadflow_cols.status, stage->status);
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
	status = LeadflowLeadText(lead, leadflow_cols.status);
	stage = LeadflowStageForStatus(org, workflow_id, status);
	if (stage == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("workflow " INT64_FORMAT " has no stage for status \"%s\"",
						workflow_id, status),
				 errdetail("Lead " INT64_FORMAT " of org " INT64_FORMAT ".",
						   lead->lead_id, org->org_id)));
	LeadflowLeadSet(lead, leadflow_cols.workflow_id, Int64GetDatum(workflow_id), false);
	LeadflowLeadSet(lead, leadflow_cols.stage_id, Int64GetDatum(stage->stage_id), false);
}

static LeadflowPlan references_plan = {
	NULL,
	"SELECT $2 IS NULL OR EXISTS (SELECT FROM leadflow.reps r"
	"        WHERE r.org_id OPERATOR(pg_catalog.=) $1 AND r.rep_id OPERATOR(pg_catalog.=) $2),"
	"       $3 IS NULL OR EXISTS (SELECT FROM leadflow.teams t"
	"        WHERE t.org_id OPERATOR(pg_catalog.=) $1 AND t.team_id OPERATOR(pg_catalog.=) $3),"
	"       $4 IS NULL OR EXISTS (SELECT FROM leadflow.accounts a"
	"        WHERE a.org_id OPERATOR(pg_catalog.=) $1 AND a.account_id OPERATOR(pg_catalog.=) $4),"
	"       $5 IS NULL OR EXISTS (SELECT FROM leadflow.workflows w"
	"        WHERE w.org_id OPERATOR(pg_catalog.=) $1 AND w.workflow_id OPERATOR(pg_catalog.=) $5),"
	"       $6 IS NULL OR EXISTS (SELECT FROM leadflow.leads m"
	"        WHERE m.org_id OPERATOR(pg_catalog.=) $1 AND m.lead_id OPERATOR(pg_catalog.=) $6"
	"          AND m.merged_into IS NULL AND m.erased_at IS NULL)",
	6, {INT8OID, INT8OID, INT8OID, INT8OID, INT8OID, INT8OID}
};

/* the columns check_references tests, in the order of its check[] */
#define NREFERENCES 5

/*
 * leads has no declarative foreign keys (see the install script): check
 * owner_rep_id, team_id, account_id and workflow_id here, in the lead's
 * own org, and that merged_into names a live lead of the org (so merges
 * never chain, loop or cross orgs).  The rows they name cannot be deleted
 * while leads refer to them.  Only the columns in check[] are tested
 * (those set on insert or changed).
 */
static void
check_references(const LeadflowLead *lead, const bool *check)
{
	const int	attnums[NREFERENCES] = {
		leadflow_cols.owner_rep_id, leadflow_cols.team_id, leadflow_cols.account_id,
		leadflow_cols.workflow_id, leadflow_cols.merged_into
	};
	static const char *const names[NREFERENCES] = {
		"owner_rep_id", "team_id", "account_id", "workflow_id", "merged_into"
	};
	Datum		args[NREFERENCES + 1];
	char		nulls[NREFERENCES + 1];
	bool		any = false;
	int			i;
	int			rc;

	if (check[4] && LeadflowLeadInt64(lead, leadflow_cols.merged_into) == lead->lead_id)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("lead " INT64_FORMAT " cannot be merged into itself", lead->lead_id)));

	args[0] = Int64GetDatum(lead->org_id);
	nulls[0] = ' ';
	for (i = 0; i < NREFERENCES; i++)
	{
		bool		null = !check[i] || LeadflowLeadIsNull(lead, attnums[i]);

		args[i + 1] = null ? (Datum) 0 : lead->values[attnums[i] - 1];
		nulls[i + 1] = null ? 'n' : ' ';
		any |= !null;
	}
	if (!any)
		return;

	SPI_connect();
	rc = LeadflowExecute(&references_plan, args, nulls, true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "leadflow: reference check failed: %s", SPI_result_code_string(rc));
	for (i = 0; i < NREFERENCES; i++)
	{
		bool		isnull;

		if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &isnull)))
			ereport(ERROR,
					(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
					 errmsg("%s " INT64_FORMAT " does not exist in org " INT64_FORMAT "%s",
							names[i], DatumGetInt64(args[i + 1]), lead->org_id,
							attnums[i] == leadflow_cols.merged_into ? " as a live lead" : ""),
					 errdetail("Lead " INT64_FORMAT ".", lead->lead_id)));
	}
	SPI_finish();
}

static void
journal_created(LeadflowLead *lead)
{
	StringInfoData detail;

	initStringInfo(&detail);
	appendStringInfoChar(&detail, '{');
	LeadflowDetailText(&detail, "source", LeadflowLeadText(lead, leadflow_cols.source));
	LeadflowDetailInt(&detail, "workflow_id", LeadflowLeadInt64(lead, leadflow_cols.workflow_id));
	LeadflowDetailInt(&detail, "stage_id", LeadflowLeadInt64(lead, leadflow_cols.stage_id));
	appendStringInfoChar(&detail, '}');
	LeadflowJourneyStartChain(lead->org_id, lead->lead_id);
	LeadflowJourneyAppend(lead->org_id, lead->lead_id, "created", detail.data);
}

/* which fields normalization produced; never their values */
static void
journal_normalized(LeadflowLead *lead)
{
	StringInfoData detail;

	initStringInfo(&detail);
	appendStringInfoString(&detail, "{\"fields\": [");
	if (!LeadflowLeadIsNull(lead, leadflow_cols.email_normalized))
		appendStringInfoString(&detail, "\"email_normalized\"");
	if (!LeadflowLeadIsNull(lead, leadflow_cols.phone_e164))
		appendStringInfoString(&detail, detail.data[detail.len - 1] == '[' ?
							   "\"phone_e164\"" : ", \"phone_e164\"");
	appendStringInfoChar(&detail, ']');
	LeadflowDetailText(&detail, "company_domain_from",
					   !LeadflowLeadIsNull(lead, leadflow_cols.company_domain) ? "email" :
					   LeadflowLeadIsNull(lead, leadflow_cols.email) ? "none" : "free_mail");
	appendStringInfoChar(&detail, '}');
	LeadflowJourneyAppend(lead->org_id, lead->lead_id, "normalized", detail.data);
}

/*
 * NOT NULL columns the stages read before the table's own constraints are
 * checked (after BEFORE triggers): refuse a null there the way the
 * constraint would (23502), rather than read it as 0 or dereference it.
 * Called first by lead_insert and lead_update.
 */
static void
refuse_null_keys(const LeadflowLead *lead)
{
	const int	attnums[3] = {leadflow_cols.org_id, leadflow_cols.lead_id, leadflow_cols.status};
	int			i;

	for (i = 0; i < (int) lengthof(attnums); i++)
		if (LeadflowLeadIsNull(lead, attnums[i]))
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("null value in column \"%s\" of relation \"leads\" violates not-null constraint",
							NameStr(TupleDescAttr(lead->desc, attnums[i] - 1)->attname)),
					 errdetail("Every lead needs an org_id, a lead_id and a status.")));
}

/* BEFORE INSERT: the pipeline. */
static HeapTuple
lead_insert(TriggerData *td)
{
	LeadflowLead lead;
	TimestampTz now = LeadflowNow();
	char	   *email_normalized;
	bool		changed;
	int64		survivor;
	int			crossed;

	LeadflowLeadFromTuple(&lead, RelationGetDescr(td->tg_relation), td->tg_trigtuple);
	refuse_null_keys(&lead);
	lead.org = LeadflowGetOrg(lead.org_id);

	trim_text_columns(&lead);
	changed = normalize_lead(&lead);
	LeadflowFailpoint("normalize");
	place_in_workflow(&lead);
	LeadflowLeadSet(&lead, leadflow_cols.created_at, TimestampTzGetDatum(now), false);
	LeadflowLeadSet(&lead, leadflow_cols.updated_at, TimestampTzGetDatum(now), false);
	LeadflowLeadSet(&lead, leadflow_cols.stage_entered_at, TimestampTzGetDatum(now), false);
	if (!LeadflowLeadIsNull(&lead, leadflow_cols.merged_into))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("merged_into cannot be set on insert"),
				 errdetail("Lead " INT64_FORMAT " of org " INT64_FORMAT ".", lead.lead_id, lead.org_id),
				 errhint("Deduplication sets it; to merge two leads use leadflow.merge_leads().")));

	{
		/* the workflow was placed above; dedup sets merged_into below */
		const bool	all[NREFERENCES] = {true, true, true, false, false};

		check_references(&lead, all);
	}
	journal_created(&lead);

	email_normalized = LeadflowLeadText(&lead, leadflow_cols.email_normalized);
	if (email_normalized != NULL)
	{
		survivor = LeadflowDedupClaim(&lead, email_normalized);
		LeadflowFailpoint("dedup");
		if (survivor != lead.lead_id)
		{
			LeadflowDedupTouchSurvivor(&lead, survivor);
			return heap_modify_tuple(td->tg_trigtuple, lead.desc, lead.values,
									 lead.nulls, lead.replace);
		}
	}

	if (changed)
		journal_normalized(&lead);
	LeadflowEnrich(&lead);
	LeadflowFailpoint("enrich");
	crossed = LeadflowScoreApply(&lead, 0, false, "created");
	LeadflowPredictLead(NULL, &lead);
	LeadflowFailpoint("score");
	if (!LeadflowLeadIsNull(&lead, leadflow_cols.owner_rep_id))
		keep_given_owner(&lead);
	else if (LeadflowStatusIsOpen(LeadflowLeadText(&lead, leadflow_cols.status)))
		LeadflowRouteLead(&lead, 0, "created");
	LeadflowFailpoint("route");
	LeadflowScoreNotify(&lead, crossed);

	return heap_modify_tuple(td->tg_trigtuple, lead.desc, lead.values, lead.nulls, lead.replace);
}

/*
 * Whether a column has the same value in two rows: varlena values by
 * content, as one may be stored with a short header and the other not.
 */
static bool
same_value(const LeadflowLead *a, const LeadflowLead *b, int attnum)
{
	Form_pg_attribute att = TupleDescAttr(b->desc, attnum - 1);
	Datum		x = a->values[attnum - 1];
	Datum		y = b->values[attnum - 1];

	if (a->nulls[attnum - 1] || b->nulls[attnum - 1])
		return a->nulls[attnum - 1] == b->nulls[attnum - 1];
	if (att->attlen == -1)
	{
		struct varlena *vx = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(x));
		struct varlena *vy = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(y));

		return VARSIZE_ANY_EXHDR(vx) == VARSIZE_ANY_EXHDR(vy) &&
			memcmp(VARDATA_ANY(vx), VARDATA_ANY(vy), VARSIZE_ANY_EXHDR(vx)) == 0;
	}
	return datumIsEqual(x, y, att->attbyval, att->attlen);
}

/*
 * Whether a user-visible field changed: anything but what scoring and the
 * trigger itself write.  Scoring rules may read any other column.
 */
static bool
data_changed(const LeadflowLead *old, const LeadflowLead *lead)
{
	const int	derived[] = {
		leadflow_cols.score_demographic, leadflow_cols.score_firmographic,
		leadflow_cols.score_behavioral, leadflow_cols.score_engagement,
		leadflow_cols.score, leadflow_cols.score_decay, leadflow_cols.temperature, leadflow_cols.updated_at,
		leadflow_cols.escalated_at
	};
	int			i;
	int			j;

	for (i = 0; i < lead->desc->natts; i++)
	{
		bool		skip = TupleDescAttr(lead->desc, i)->attisdropped;

		for (j = 0; j < (int) lengthof(derived) && !skip; j++)
			skip = derived[j] == i + 1;
		if (!skip && !same_value(old, lead, i + 1))
			return true;
	}
	return false;
}

/*
 * A user's change to a lead is journaled as "updated": which fields, by
 * whom (the journal's actor), never their values, except the ids of the
 * owner, team and account.  Status and stage moves have their own
 * stage_changed rows; what the pipeline derives is not listed.
 */
static void
journal_user_changes(const LeadflowLead *old, const LeadflowLead *lead)
{
	const int	fields[] = {
		leadflow_cols.first_name, leadflow_cols.last_name, leadflow_cols.email,
		leadflow_cols.phone, leadflow_cols.company, leadflow_cols.job_title,
		leadflow_cols.industry, leadflow_cols.company_size, leadflow_cols.annual_revenue,
		leadflow_cols.country, leadflow_cols.state, leadflow_cols.city,
		leadflow_cols.postal_code, leadflow_cols.source, leadflow_cols.campaign,
		leadflow_cols.attributes, leadflow_cols.priority, leadflow_cols.score_manual,
		leadflow_cols.budget_confirmed, leadflow_cols.authority_confirmed,
		leadflow_cols.need_confirmed, leadflow_cols.timeline_confirmed,
		leadflow_cols.workflow_id, leadflow_cols.owner_rep_id, leadflow_cols.team_id,
		leadflow_cols.account_id
	};
	StringInfoData detail;
	int			nchanged = 0;
	int			i;

	initStringInfo(&detail);
	appendStringInfoString(&detail, "{\"fields\": [");
	for (i = 0; i < (int) lengthof(fields); i++)
	{
		if (same_value(old, lead, fields[i]))
			continue;
		appendStringInfo(&detail, "%s\"%s\"", nchanged++ > 0 ? ", " : "",
						 NameStr(TupleDescAttr(lead->desc, fields[i] - 1)->attname));
	}
	if (nchanged == 0)
		return;
	appendStringInfoChar(&detail, ']');
	if (LeadflowLeadInt64(old, leadflow_cols.owner_rep_id) != LeadflowLeadInt64(lead, leadflow_cols.owner_rep_id))
		appendStringInfo(&detail, ", \"from_rep_id\": %s, \"to_rep_id\": %s",
						 old->nulls[leadflow_cols.owner_rep_id - 1] ? "null" :
						 psprintf(INT64_FORMAT, LeadflowLeadInt64(old, leadflow_cols.owner_rep_id)),
						 lead->nulls[leadflow_cols.owner_rep_id - 1] ? "null" :
						 psprintf(INT64_FORMAT, LeadflowLeadInt64(lead, leadflow_cols.owner_rep_id)));
	appendStringInfoChar(&detail, '}');
	LeadflowJourneyAppend(lead->org_id, lead->lead_id, "updated", detail.data);
}

/*
 * BEFORE UPDATE: keys stay; a changed email or phone is normalized again
 * and a live lead's email claim moves with it; a live lead is rescored
 * when its data changed or scoring asked for it (new signal, rescore);
 * updated_at moves.
 */
static HeapTuple
lead_update(TriggerData *td)
{
	LeadflowLead old;
	LeadflowLead lead;

	LeadflowLeadFromTuple(&old, RelationGetDescr(td->tg_relation), td->tg_trigtuple);
	LeadflowLeadFromTuple(&lead, RelationGetDescr(td->tg_relation), td->tg_newtuple);
	refuse_null_keys(&lead);
	if (lead.org_id != old.org_id || lead.lead_id != old.lead_id)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot change org_id or lead_id of lead " INT64_FORMAT, old.lead_id)));

	if (LeadflowLeadIsNull(&lead, leadflow_cols.erased_at) &&
		(!same_value(&old, &lead, leadflow_cols.email) || !same_value(&old, &lead, leadflow_cols.phone)))
	{
		lead.org = LeadflowGetOrg(lead.org_id);
		normalize_lead(&lead);
		if (LeadflowLeadIsNull(&old, leadflow_cols.merged_into) &&
			LeadflowLeadIsNull(&lead, leadflow_cols.merged_into) &&
			!same_value(&old, &lead, leadflow_cols.email_normalized))
			LeadflowDedupMoveClaim(&lead,
								   LeadflowLeadText(&old, leadflow_cols.email_normalized),
								   LeadflowLeadText(&lead, leadflow_cols.email_normalized));
	}
	LeadflowDedupFollowLifecycle(&old, &lead);
	LeadflowWorkflowUpdate(&old, &lead);
	{
		const bool	changed[NREFERENCES] = {
			LeadflowLeadInt64(&lead, leadflow_cols.owner_rep_id) != LeadflowLeadInt64(&old, leadflow_cols.owner_rep_id),
			LeadflowLeadInt64(&lead, leadflow_cols.team_id) != LeadflowLeadInt64(&old, leadflow_cols.team_id),
			LeadflowLeadInt64(&lead, leadflow_cols.account_id) != LeadflowLeadInt64(&old, leadflow_cols.account_id),
			LeadflowLeadInt64(&lead, leadflow_cols.workflow_id) != LeadflowLeadInt64(&old, leadflow_cols.workflow_id),
			LeadflowLeadInt64(&lead, leadflow_cols.merged_into) != LeadflowLeadInt64(&old, leadflow_cols.merged_into)
		};

		check_references(&lead, changed);
	}
	/* open-lead counts follow owner and status changes made by the user */
	{
		int64		was = counted_owner(&old);
		int64		is = counted_owner(&lead);

		if (was != is)
		{
			if (was != 0)
				LeadflowRouteAdjustLoad(lead.org_id, was, -1);
			if (is != 0)
				LeadflowRouteAdjustLoad(lead.org_id, is, +1);
		}
		if (is != 0 && is != was)
			LeadflowLeadSet(&lead, leadflow_cols.assigned_at,
							TimestampTzGetDatum(LeadflowNow()), false);
	}

	if (LeadflowLeadIsNull(&lead, leadflow_cols.merged_into) &&
		LeadflowLeadIsNull(&lead, leadflow_cols.erased_at))
	{
		int			crossed = 0;

		if (leadflow_rescore_reason != NULL || data_changed(&old, &lead))
			crossed = LeadflowScoreApply(&lead, DatumGetInt32(old.values[leadflow_cols.score - 1]), true,
										 leadflow_rescore_reason ? leadflow_rescore_reason : "update");
		LeadflowNurtureRecycle(&old, &lead, crossed);
		/* reassign_lead; or a hot lead nobody owns gets an owner now */
		if (leadflow_reroute_reason != NULL)
			LeadflowRouteLead(&lead, LeadflowLeadInt64(&lead, leadflow_cols.owner_rep_id), leadflow_reroute_reason);
		else if ((crossed & LEADFLOW_CROSSED_HOT) && LeadflowLeadIsNull(&lead, leadflow_cols.owner_rep_id) &&
				 LeadflowStatusIsOpen(LeadflowLeadText(&lead, leadflow_cols.status)))
			LeadflowRouteLead(&lead, 0, "hot");
		LeadflowScoreNotify(&lead, crossed);
	}
	LeadflowPredictLead(&old, &lead);
	/* nested updates are the pipeline's own; erasure journals itself */
	if (leadflow_pipeline_depth == 1 && LeadflowLeadIsNull(&lead, leadflow_cols.erased_at))
		journal_user_changes(&old, &lead);
	LeadflowLeadSet(&lead, leadflow_cols.updated_at,
					TimestampTzGetDatum(LeadflowNow()), false);
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
	HeapTuple	result;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		elog(ERROR, "lead_pipeline: must be a BEFORE ROW trigger");

	LeadflowResolveColumns(RelationGetDescr(td->tg_relation), RelationGetRelid(td->tg_relation));
	if (!TRIGGER_FIRED_BY_INSERT(td->tg_event) && !TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		elog(ERROR, "lead_pipeline: must fire on INSERT or UPDATE");

	leadflow_pipeline_depth++;
	PG_TRY();
	{
		result = TRIGGER_FIRED_BY_INSERT(td->tg_event) ? lead_insert(td) : lead_update(td);
	}
	PG_FINALLY();
	{
		leadflow_pipeline_depth--;
	}
	PG_END_TRY();
	return PointerGetDatum(result);
}

/*
 * leadflow.contact_problem(email, phone, country, default_region) RETURNS text
 *
 * What the pipeline would refuse about a lead's contact fields, as the
 * same message it would raise, or NULL when they pass.  process_import
 * uses it to reject rows up front instead of failing the whole batch.
 */
PG_FUNCTION_INFO_V1(leadflow_contact_problem);
Datum
leadflow_contact_problem(PG_FUNCTION_ARGS)
{
	char	   *email = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *phone = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *country = PG_ARGISNULL(2) ? NULL : trim_cstring(text_to_cstring(PG_GETARG_TEXT_PP(2)));
	const char *region = phone_region(country, PG_ARGISNULL(3) ? "US" : text_to_cstring(PG_GETARG_TEXT_PP(3)));
	char		e164[64];
	const char *reason;
	char	   *domain;

	email = trim_cstring(email);
	phone = trim_cstring(phone);
	if (email == NULL && phone == NULL)
		PG_RETURN_TEXT_P(cstring_to_text("neither email nor phone"));
	if (email != NULL && LeadflowNormalizeEmail(email, &domain, &reason) == NULL)
		PG_RETURN_TEXT_P(cstring_to_text(psprintf("invalid email %s: %s",
												  LeadflowQuote(email), reason)));
	if (phone != NULL && !leadflow_phone_e164(phone, region, e164, sizeof(e164), &reason))
		PG_RETURN_TEXT_P(cstring_to_text(psprintf("invalid phone %s: %s",
												  LeadflowQuote(phone), reason)));
	PG_RETURN_NULL();
}

/*
 * leadflow.statement_end(): AFTER INSERT OR UPDATE FOR EACH STATEMENT on
 * leads.
 *
 * Writes what the statement's rows left in the transaction buffers: the
 * journey rows, the rotation state and rule hits, the prediction counts
 * (TxbufFlushAll; each buffer registered itself when it first buffered).
 * Statements the pipeline runs for a row (a survivor's update) end inside
 * the outer statement, which flushes once when it ends: flushing there
 * would rewrite the same rows once per duplicate.  Runs in the trigger's
 * memory context and subtransaction: if that aborts, the writes are rolled
 * back and the buffers give back what they held.  The row locks are those
 * the buffers took when they read the state (rep_load, team_rotation)
 * plus the upserts' (routing_rule_stats, prediction_counts, in key order).
 */
PG_FUNCTION_INFO_V1(leadflow_statement_end);
Datum
leadflow_statement_end(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "statement_end: not called as a trigger");
	if (leadflow_pipeline_depth == 0)
		TxbufFlushAll();
	return PointerGetDatum(NULL);
}

/*
 * leadflow_routing_flush, leadflow_prediction_flush: the two statement
 * triggers of 0.1.0, which statement_end replaced.  The 0.1.0 install
 * script still names them, and a database keeps firing them between
 * installing this library and ALTER EXTENSION leadflow UPDATE: each does
 * what statement_end does (the second of them finds nothing left).
 */
PG_FUNCTION_INFO_V1(leadflow_routing_flush);
Datum
leadflow_routing_flush(PG_FUNCTION_ARGS)
{
	return leadflow_statement_end(fcinfo);
}

PG_FUNCTION_INFO_V1(leadflow_prediction_flush);
Datum
leadflow_prediction_flush(PG_FUNCTION_ARGS)
{
	return leadflow_statement_end(fcinfo);
}
