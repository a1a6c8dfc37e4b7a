/*-------------------------------------------------------------------------
 *
 * lead.c
 *	  The lead row (lead.h): attribute numbers of the leads columns, the
 *	  accessors the stages read and change a row through, which statuses
 *	  are open, and the pipeline's own lock and update of a stored lead
 *	  (a duplicate's survivor) below the executor.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/nbtree.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/typcache.h"

#include "compat.h"
#include "lead.h"
#include "spi.h"
#include "tenant.h"

LeadflowLeadColumns leadflow_cols;

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
 *		for a table, so this is done once per backend (relid is the key),
 *		again when an update of the extension added a column.
 */
void
LeadflowResolveColumns(TupleDesc desc, Oid relid)
{
	if (leadflow_cols.relid == relid && leadflow_cols.natts == desc->natts)
		return;
#define RESOLVE(c) leadflow_cols.c = column(desc, #c);
	LEADFLOW_LEAD_COLUMNS(RESOLVE)
#undef RESOLVE
	leadflow_cols.data_issues = Max(SPI_fnumber(desc, "data_issues"), 0);
	leadflow_cols.external_id = Max(SPI_fnumber(desc, "external_id"), 0);
	leadflow_cols.email_status = Max(SPI_fnumber(desc, "email_status"), 0);
	leadflow_cols.search_words = Max(SPI_fnumber(desc, "search_words"), 0);
	leadflow_cols.relid = relid;
	leadflow_cols.natts = desc->natts;
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
 * LeadflowLeadCopy
 *		A copy of the lead's values (the datums themselves are shared: the
 *		copy is for comparing before and after a change).
 */
void
LeadflowLeadCopy(LeadflowLead *copy, const LeadflowLead *lead)
{
	int			natts = lead->desc->natts;

	*copy = *lead;
	copy->values = palloc(natts * sizeof(Datum));
	copy->nulls = palloc(natts * sizeof(bool));
	memcpy(copy->values, lead->values, natts * sizeof(Datum));
	memcpy(copy->nulls, lead->nulls, natts * sizeof(bool));
}

static LeadflowPlan merged_into_plan = {
	NULL,
	"SELECT merged_into FROM leadflow.leads"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 AND lead_id OPERATOR(pg_catalog.=) $2",
	2, {INT8OID, INT8OID}
};

/*
 * LeadflowSurvivorOf
 *		The lead a row written for this lead belongs to: the lead it was
 *		merged into, else the lead itself (also when there is no such
 *		lead).  The one survivor redirect: the signal trigger calls it, the
 *		activity and consent triggers through leadflow.survivor_of().  The
 *		caller is connected to SPI.
 */
int64
LeadflowSurvivorOf(int64 org_id, int64 lead_id)
{
	Datum		args[2] = {Int64GetDatum(org_id), Int64GetDatum(lead_id)};
	int			rc = LeadflowExecute(&merged_into_plan, args, NULL, true, 1);

	if (rc != SPI_OK_SELECT)
		elog(ERROR, "leadflow: lead lookup failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 1)
	{
		bool		isnull;
		Datum		survivor = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			return DatumGetInt64(survivor);
	}
	return lead_id;
}

/* leadflow.survivor_of(org_id, lead_id) RETURNS bigint */
PG_FUNCTION_INFO_V1(leadflow_survivor_of);
Datum
leadflow_survivor_of(PG_FUNCTION_ARGS)
{
	int64		survivor;

	LeadflowCheckOrg(PG_GETARG_INT64(0));
	SPI_connect();
	survivor = LeadflowSurvivorOf(PG_GETARG_INT64(0), PG_GETARG_INT64(1));
	SPI_finish();
	PG_RETURN_INT64(survivor);
}

/*
 * The open statuses: a lead in one of them may still be worked, counts
 * toward its owner's load and can be routed.  The one definition: SQL sees
 * it as leadflow.open_statuses().
 */
static const char *const open_statuses[] = {"new", "contacted", "qualified", "nurture"};

bool
LeadflowStatusIsOpen(const char *status)
{
	int			i;

	for (i = 0; i < (int) lengthof(open_statuses); i++)
		if (strcmp(status, open_statuses[i]) == 0)
			return true;
	return false;
}

/*
 * leadflow.open_statuses() RETURNS text[]
 *		IMMUTABLE: the planner folds a call into the constant array, so
 *		status = ANY (leadflow.open_statuses()) plans as the literal list.
 */
PG_FUNCTION_INFO_V1(leadflow_open_statuses);
Datum
leadflow_open_statuses(PG_FUNCTION_ARGS)
{
	Datum		elems[lengthof(open_statuses)];
	int			i;

	for (i = 0; i < (int) lengthof(open_statuses); i++)
		elems[i] = CStringGetTextDatum(open_statuses[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, lengthof(open_statuses), TEXTOID, -1, false, TYPALIGN_INT));
}


/*
 * LeadflowLeadLock
 *		Reads lead (org_id, lead_id) through the primary key of leads and
 *		locks it FOR NO KEY UPDATE, with the semantics of SELECT ... FOR NO
 *		KEY UPDATE under the active snapshot (spi.c
 *		LeadflowDirectLockByKey).  Returns NULL when there is no such lead,
 *		else a copy of the locked version in the current memory context
 *		(t_self: where it is).
 */
HeapTuple
LeadflowLeadLock(int64 org_id, int64 lead_id)
{
	LeadflowDirect once;
	LeadflowDirect *d = LeadflowDirectBegin("leads", org_id, false, &once);
	TupleTableSlot *slot = table_slot_create(d->rel, NULL);
	HeapTuple	row = NULL;

	if (LeadflowDirectLockByKey(d, org_id, lead_id, slot))
	{
		row = ExecCopySlotHeapTuple(slot);
		row->t_self = slot->tts_tid;
	}
	ExecDropSingleTupleTableSlot(slot);
	LeadflowDirectEnd(d, &once);
	return row;
}

/*
 * LeadflowLeadUpdate
 *		Writes the new version of a lead locked by LeadflowLeadLock
 *		(old->t_self), of org org_id, below the executor (spi.c LeadflowDirectUpdate).
 *		What an UPDATE's triggers would do is the caller's
 *		(pipeline_update.c).
 */
void
LeadflowLeadUpdate(int64 org_id, HeapTuple old, HeapTuple tuple)
{
	LeadflowDirect once;
	LeadflowDirect *d = LeadflowDirectBegin("leads", org_id, false, &once);

	LeadflowDirectUpdateFrom(d, old, tuple);
	LeadflowDirectEnd(d, &once);
}

/*
 * LeadflowLeadCompanyOwner
 *		Company affinity's probe: into *owner the owner of the org's live
 *		lead at company_domain domain (other than lead exclude) assigned
 *		last, 0 if none, read through leads_company_owner in its order, as
 *		the SQL query it replaces: a new command and snapshot first, so that
 *		the leads this statement inserted before count.  Returns false when
 *		it cannot answer so (the index missing, the role may not read
 *		leads): the caller asks SQL.
 */
bool
LeadflowLeadCompanyOwner(int64 org_id, const char *domain, int64 exclude, int64 *owner)
{
	LeadflowDirect once;
	LeadflowDirect *d;
	Relation	index = NULL;
	TupleTableSlot *slot;
	ScanKeyData key[2];
	IndexScanDesc scan;
	int			i;

	*owner = 0;
	if (pg_class_aclcheck(leadflow_cols.relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		return false;
	d = LeadflowDirectBegin("leads", org_id, false, &once);
	for (i = 0; i < d->rri->ri_NumIndices; i++)
		if (LeadflowIndexNamed(d->rri->ri_IndexRelationDescs[i], "leads_company_owner"))
			index = d->rri->ri_IndexRelationDescs[i];
	if (index == NULL)
	{
		LeadflowDirectEnd(d, &once);
		return false;
	}
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	UpdateActiveSnapshotCommandId();
	ScanKeyInit(&key[0], 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(org_id));
	ScanKeyEntryInitialize(&key[1], 0, 2, BTEqualStrategyNumber, InvalidOid,
						   index->rd_indcollation[1], F_TEXTEQ, CStringGetTextDatum(domain));
	slot = table_slot_create(d->rel, NULL);
	scan = LeadflowIndexBeginScan(d->rel, index, GetActiveSnapshot(), 2);
	index_rescan(scan, key, 2, NULL, 0);
	while (*owner == 0 && index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		no_owner;
		bool		merged;
		bool		erased;
		bool		isnull;
		Datum		rep = slot_getattr(slot, leadflow_cols.owner_rep_id, &no_owner);

		(void) slot_getattr(slot, leadflow_cols.merged_into, &merged);
		(void) slot_getattr(slot, leadflow_cols.erased_at, &erased);
		/* the index predicate holds; erased and the excluded lead are not */
		if (!no_owner && merged && erased &&
			DatumGetInt64(slot_getattr(slot, leadflow_cols.lead_id, &isnull)) != exclude)
			*owner = DatumGetInt64(rep);
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	PopActiveSnapshot();
	LeadflowDirectEnd(d, &once);
	return true;
}
