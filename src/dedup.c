/*-------------------------------------------------------------------------
 *
 * dedup.c
 *	  Deduplication on insert: one live lead per normalized email and org.
 *
 *	  leadflow.lead_emails maps (org_id, email_normalized) to the live lead
 *	  that owns the email.  A new lead claims its email with
 *	  INSERT ... ON CONFLICT DO UPDATE, which at READ COMMITTED waits for a
 *	  concurrent claimant to finish and then returns the winner, so any
 *	  number of sessions inserting one email end with one live lead and no
 *	  error; under a transaction snapshot the same statement raises a
 *	  serialization failure instead.  The claim takes no heavyweight lock
 *	  that lasts, so a million-row load fits the default lock table.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "dedup.h"
#include "journey.h"
#include "lead.h"
#include "notify.h"
#include "request.h"
#include "spi.h"
#include "text.h"


static LeadflowPlan claim_plan = {
	NULL,
	"INSERT INTO leadflow.lead_emails AS e (org_id, email_normalized, lead_id)"
	" VALUES ($1, $2, $3)"
	" ON CONFLICT (org_id, email_normalized) DO UPDATE SET lead_id = e.lead_id"
	" RETURNING e.lead_id",
	3, {INT8OID, TEXTOID, INT8OID}
};

static LeadflowPlan release_plan = {
	NULL,
	"DELETE FROM leadflow.lead_emails WHERE org_id OPERATOR(pg_catalog.=) $1"
	" AND email_normalized OPERATOR(pg_catalog.=) $2 AND lead_id OPERATOR(pg_catalog.=) $3",
	3, {INT8OID, TEXTOID, INT8OID}
};

static LeadflowPlan take_plan = {
	NULL,
	"INSERT INTO leadflow.lead_emails (org_id, email_normalized, lead_id) VALUES ($1, $2, $3)"
	" ON CONFLICT (org_id, email_normalized) DO NOTHING RETURNING lead_id",
	3, {INT8OID, TEXTOID, INT8OID}
};

static LeadflowPlan owner_plan = {
	NULL,
	"SELECT lead_id FROM leadflow.lead_emails WHERE org_id OPERATOR(pg_catalog.=) $1"
	" AND email_normalized OPERATOR(pg_catalog.=) $2",
	2, {INT8OID, TEXTOID}
};

/*
 * A claim of the key exists (conflict): lock it and read its lead, as
 * INSERT ... ON CONFLICT DO UPDATE SET lead_id = lead_id does, and write
 * the same row again as that statement does (a new version: concurrent
 * claimants under a transaction snapshot fail to serialize as they would).
 * Returns false when the row changed meanwhile at READ COMMITTED: look
 * again.  Under a new command and snapshot, as the statement.
 */
static bool
take_existing(LeadflowDirect *d, ItemPointer conflict, int64 *owner)
{
	TupleTableSlot *existing = table_slot_create(d->rel, NULL);
	TM_FailureData tmfd;
	TM_Result	res;
	bool		isnull;
	bool		done = false;

	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	UpdateActiveSnapshotCommandId();
	res = table_tuple_lock(d->rel, conflict, GetActiveSnapshot(), existing, GetCurrentCommandId(true),
						   LockTupleNoKeyExclusive, LockWaitBlock, 0, &tmfd);
	if (res == TM_Ok)
		done = true;
	else if (res == TM_Updated || res == TM_Deleted)
	{
		if (IsolationUsesXactSnapshot())
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to concurrent %s",
							res == TM_Updated ? "update" : "delete")));
	}
	else
		elog(ERROR, "leadflow: unexpected result %d locking a claim", (int) res);
	if (done)
	{
		/* a claim this transaction cannot see was made concurrently */
		if (IsolationUsesXactSnapshot() &&
			!table_tuple_satisfies_snapshot(d->rel, existing, GetActiveSnapshot()) &&
			!TransactionIdIsCurrentTransactionId(DatumGetTransactionId(slot_getsysattr(existing, MinTransactionIdAttributeNumber, &isnull))))
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to concurrent update")));
		*owner = DatumGetInt64(slot_getattr(existing, LeadflowDirectAttnum(d, "lead_id"), &isnull));
		LeadflowDirectUpdate(d, &existing->tts_tid, ExecCopySlotHeapTuple(existing));
	}
	PopActiveSnapshot();
	ExecDropSingleTupleTableSlot(existing);
	return done;
}

/*
 * Claims an email (or phone: table lead_phones, column phone_e164) for
 * lead_id without an executor, into the table opened once for the
 * statement (spi.c): the speculative insertion of INSERT ... ON CONFLICT
 * (ExecInsert) for a key no lead owns yet, else the existing claim taken
 * as its DO UPDATE would (take_existing).  Returns the claim's lead
 * (lead_id when new), or 0, having written nothing, when only the SQL
 * statement claims exactly (LeadflowDirectAllowed): the caller runs it.
 * Waits for a concurrent claimant of the key.
 */
static int64
claim(const char *table, const char *column, int64 org_id, const char *key, int64 lead_id)
{
	static const char *const known[] = {"lead_emails_leadflow_only", "lead_phones_leadflow_only"};
	LeadflowDirect once;
	LeadflowDirect *d = LeadflowDirectBegin(table, org_id, true, &once);
	Relation	rel = d->rel;
	EState	   *estate = d->estate;
	ResultRelInfo *rri = d->rri;
	TupleTableSlot *slot;
	ItemPointerData conflict;
	int64		owner = 0;

	slot = MakeSingleTupleTableSlot(RelationGetDescr(rel), table_slot_callbacks(rel));
	ExecClearTuple(slot);
	memset(slot->tts_isnull, false, sizeof(bool) * slot->tts_tupleDescriptor->natts);
	slot->tts_values[LeadflowDirectAttnum(d, "org_id") - 1] = Int64GetDatum(org_id);
	slot->tts_values[LeadflowDirectAttnum(d, column) - 1] = CStringGetTextDatum(key);
	slot->tts_values[LeadflowDirectAttnum(d, "lead_id") - 1] = Int64GetDatum(lead_id);
	ExecStoreVirtualTuple(slot);
	if (rel->rd_att->constr)
		ExecConstraints(rri, slot, estate);

	for (;;)
	{
		uint32		token;
		bool		conflicted = false;
		List	   *recheck;

		CHECK_FOR_INTERRUPTS();
		/* waits for an in-progress inserter of the same key */
		if (!LeadflowCheckIndexConstraints(rri, slot, estate, &conflict))
		{
			if (!LeadflowDirectAllowed(rel, ACL_UPDATE, known, lengthof(known), InvalidOid) ||
				take_existing(d, &conflict, &owner))
				break;
			continue;			/* the claim changed meanwhile: look again */
		}
		token = SpeculativeInsertionLockAcquire(GetCurrentTransactionId());
		table_tuple_insert_speculative(rel, slot, GetCurrentCommandId(true), 0, NULL, token);
		recheck = LeadflowInsertIndexTuples(rri, slot, estate, true, &conflicted);
		table_tuple_complete_speculative(rel, slot, token, !conflicted);
		SpeculativeInsertionLockRelease(GetCurrentTransactionId());
		list_free(recheck);
		if (!conflicted)
		{
			owner = lead_id;
			break;
		}
		/* lost a race for the key: look again, now the other row is there */
	}

	ExecDropSingleTupleTableSlot(slot);
	LeadflowDirectEnd(d, &once);
	return owner;
}

static LeadflowPlan phone_claim_plan = {
	NULL,
	"INSERT INTO leadflow.lead_phones AS p (org_id, phone_e164, lead_id)"
	" VALUES ($1, $2, $3)"
	" ON CONFLICT (org_id, phone_e164) DO UPDATE SET lead_id = p.lead_id"
	" RETURNING p.lead_id",
	3, {INT8OID, TEXTOID, INT8OID}
};

static LeadflowPlan has_email_plan = {
	NULL,
	"SELECT email_normalized IS NOT NULL FROM leadflow.leads"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 AND lead_id OPERATOR(pg_catalog.=) $2",
	2, {INT8OID, INT8OID}
};

/*
 * The claim of a key when the direct claim found no row it could take
 * (claim(): 0), through the upsert plan, which takes the key whoever
 * inserted it meanwhile; returns its owner.
 */
static int64
upsert_claim(LeadflowPlan *plan, const LeadflowLead *lead, const char *key, const char *what)
{
	Datum		args[3];
	bool		isnull;
	int64		owner;
	int			rc;

	args[0] = Int64GetDatum(lead->org_id);
	args[1] = CStringGetTextDatum(key);
	args[2] = Int64GetDatum(lead->lead_id);
	SPI_connect();
	rc = LeadflowExecute(plan, args, NULL, false, 0);
	if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "leadflow: %s claim failed: %s", what, SPI_result_code_string(rc));
	owner = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return owner;
}

/* the row being inserted becomes a duplicate merged into owner */
static void
mark_merged(LeadflowLead *lead, int64 owner)
{
	LeadflowLeadSetText(lead, leadflow_cols.status, "merged");
	LeadflowLeadSet(lead, leadflow_cols.merged_into, Int64GetDatum(owner), false);
	LeadflowLeadSet(lead, leadflow_cols.stage_id, (Datum) 0, true);
}

/*
 * LeadflowDedupClaim
 *		Claims email_normalized for the lead being inserted and returns the
 *		live lead that owns it: the lead itself, or an earlier lead, in
 *		which case the new row is marked merged into it.
 *
 * Waits for a concurrent claimant of the same email; holds the claim row
 * lock until commit.
 */
int64
LeadflowDedupClaim(LeadflowLead *lead, const char *email_normalized)
{
	int64		owner;

	owner = claim("lead_emails", "email_normalized", lead->org_id, email_normalized, lead->lead_id);
	if (owner == 0)
		owner = upsert_claim(&claim_plan, lead, email_normalized, "email");
	if (owner != lead->lead_id)
		mark_merged(lead, owner);
	return owner;
}

/*
 * Whether leadflow.lead_phones exists: not before ALTER EXTENSION UPDATE
 * to 0.2.0, when the module already runs against the 0.1.0 schema (phone
 * deduplication starts with the update).  A syscache lookup.
 */
static bool
phones_ready(void)
{
	return OidIsValid(get_relname_relid("lead_phones", get_namespace_oid("leadflow", false)));
}

/* whether the live lead owner has a usable email */
static bool
lead_has_email(int64 org_id, int64 owner)
{
	Datum		args[2];
	bool		isnull;
	bool		result;
	int			rc;

	args[0] = Int64GetDatum(org_id);
	args[1] = Int64GetDatum(owner);
	SPI_connect();
	rc = LeadflowExecute(&has_email_plan, args, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "leadflow: phone owner lookup failed: %s", SPI_result_code_string(rc));
	result = SPI_processed == 1 &&
		DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return result;
}

/*
 * LeadflowDedupPhoneClaim
 *		With the org's dedup_on_phone, after the email claim found no
 *		duplicate: claims phone_e164 for the lead being inserted and returns
 *		the live lead it merges into, or the lead itself.  The phone's owner
 *		is that lead when one of the two has no usable email (has_email:
 *		the newcomer's); two different valid emails sharing a phone (a
 *		switchboard) stay two leads, listed in possible_duplicates.
 *
 * Waits for a concurrent claimant of the same phone, as the email claim
 * does, and holds the claim row lock until commit; a million-row load
 * takes no lasting heavyweight lock per row.
 */
int64
LeadflowDedupPhoneClaim(LeadflowLead *lead, const char *phone_e164, bool has_email)
{
	int64		owner;

	if (!phones_ready())
		return lead->lead_id;
	owner = claim("lead_phones", "phone_e164", lead->org_id, phone_e164, lead->lead_id);
	if (owner == 0)
		owner = upsert_claim(&phone_claim_plan, lead, phone_e164, "phone");
	/* both have an email? then they are two people sharing a line */
	if (owner != lead->lead_id && has_email && lead_has_email(lead->org_id, owner))
		owner = lead->lead_id;
	if (owner != lead->lead_id)
		mark_merged(lead, owner);
	return owner;
}

static LeadflowPlan phone_release_plan = {
	NULL,
	"DELETE FROM leadflow.lead_phones WHERE org_id OPERATOR(pg_catalog.=) $1"
	" AND phone_e164 OPERATOR(pg_catalog.=) $2 AND lead_id OPERATOR(pg_catalog.=) $3",
	3, {INT8OID, TEXTOID, INT8OID}
};

static LeadflowPlan phone_take_plan = {
	NULL,
	"INSERT INTO leadflow.lead_phones (org_id, phone_e164, lead_id) VALUES ($1, $2, $3)"
	" ON CONFLICT (org_id, phone_e164) DO NOTHING",
	3, {INT8OID, TEXTOID, INT8OID}
};

/*
 * LeadflowDedupMovePhone
 *		A live lead's phone changed (or it became live again): it releases
 *		the claim of its old phone if it held it and takes the new phone's
 *		if no live lead holds it.  Never an error: several live leads may
 *		share a phone.
 */
void
LeadflowDedupMovePhone(const LeadflowLead *lead, const char *old_phone, const char *new_phone)
{
	Datum		args[3];
	int			rc;

	if (!phones_ready())
		return;
	args[0] = Int64GetDatum(lead->org_id);
	args[2] = Int64GetDatum(lead->lead_id);
	SPI_connect();
	if (old_phone != NULL)
	{
		args[1] = CStringGetTextDatum(old_phone);
		rc = LeadflowExecute(&phone_release_plan, args, NULL, false, 0);
		if (rc != SPI_OK_DELETE)
			elog(ERROR, "leadflow: phone release failed: %s", SPI_result_code_string(rc));
	}
	if (new_phone != NULL)
	{
		args[1] = CStringGetTextDatum(new_phone);
		rc = LeadflowExecute(&phone_take_plan, args, NULL, false, 0);
		if (rc != SPI_OK_INSERT)
			elog(ERROR, "leadflow: phone claim failed: %s", SPI_result_code_string(rc));
	}
	SPI_finish();
}

/*
 * LeadflowDedupReleaseEmail
 *		A newcomer that claimed its email merges by phone after all: its
 *		claim goes, so that the survivor, filled with the email, takes it.
 */
void
LeadflowDedupReleaseEmail(const LeadflowLead *lead, const char *email_normalized)
{
	Datum		args[3];
	int			rc;

	args[0] = Int64GetDatum(lead->org_id);
	args[1] = CStringGetTextDatum(email_normalized);
	args[2] = Int64GetDatum(lead->lead_id);
	SPI_connect();
	rc = LeadflowExecute(&release_plan, args, NULL, false, 0);
	if (rc != SPI_OK_DELETE)
		elog(ERROR, "leadflow: email release failed: %s", SPI_result_code_string(rc));
	SPI_finish();
}

/*
 * LeadflowDedupMoveClaim
 *		A live lead's email changed: release the old claim, take the new
 *		one, or refuse (23505) when another live lead owns that email.
 */
void
LeadflowDedupMoveClaim(LeadflowLead *lead, const char *old_email, const char *new_email)
{
	Datum		args[3];
	bool		isnull;
	int			rc;

	args[0] = Int64GetDatum(lead->org_id);
	args[2] = Int64GetDatum(lead->lead_id);
	SPI_connect();
	if (old_email != NULL)
	{
		args[1] = CStringGetTextDatum(old_email);
		rc = LeadflowExecute(&release_plan, args, NULL, false, 0);
		if (rc != SPI_OK_DELETE)
			elog(ERROR, "leadflow: email release failed: %s", SPI_result_code_string(rc));
	}
	if (new_email != NULL)
	{
		args[1] = CStringGetTextDatum(new_email);
		rc = LeadflowExecute(&take_plan, args, NULL, false, 0);
		if (rc != SPI_OK_INSERT_RETURNING)
			elog(ERROR, "leadflow: email claim failed: %s", SPI_result_code_string(rc));
		if (SPI_processed == 0)
		{
			int64		owner = 0;

			rc = LeadflowExecute(&owner_plan, args, NULL, false, 1);
			if (rc == SPI_OK_SELECT && SPI_processed == 1)
				owner = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
													SPI_tuptable->tupdesc, 1, &isnull));
			ereport(ERROR,
					(errcode(ERRCODE_UNIQUE_VIOLATION),
					 errmsg("email %s already belongs to lead " INT64_FORMAT,
							LeadflowQuote(new_email), owner),
					 errdetail("Lead " INT64_FORMAT " of org " INT64_FORMAT ", field email.",
							   lead->lead_id, lead->org_id),
					 errhint("Merge the two leads with leadflow.merge_leads() instead.")));
		}
	}
	SPI_finish();
}

static LeadflowPlan hand_over_plan = {
	NULL,
	"UPDATE leadflow.lead_emails SET lead_id = $3"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 AND lead_id OPERATOR(pg_catalog.=) $2",
	3, {INT8OID, INT8OID, INT8OID}
};

static LeadflowPlan phone_hand_over_plan = {
	NULL,
	"UPDATE leadflow.lead_phones SET lead_id = $3"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 AND lead_id OPERATOR(pg_catalog.=) $2",
	3, {INT8OID, INT8OID, INT8OID}
};

static LeadflowPlan phone_release_all_plan = {
	NULL,
	"DELETE FROM leadflow.lead_phones"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 AND lead_id OPERATOR(pg_catalog.=) $2",
	2, {INT8OID, INT8OID}
};

static LeadflowPlan release_all_plan = {
	NULL,
	"DELETE FROM leadflow.lead_emails"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 AND lead_id OPERATOR(pg_catalog.=) $2",
	2, {INT8OID, INT8OID}
};

/*
 * LeadflowDedupFollowLifecycle
 *		Keeps the email and phone claims right when a lead stops or starts
 *		being live: merged (its emails and phones now lead to the survivor),
 *		unmerged (it takes its email back, 23505 if another live lead has it,
 *		and its phone if free), erased (its claims go).  Called by the leads
 *		update trigger.
 */
void
LeadflowDedupFollowLifecycle(const LeadflowLead *old, LeadflowLead *lead)
{
	bool		was_merged = !LeadflowLeadIsNull(old, leadflow_cols.merged_into);
	bool		is_merged = !LeadflowLeadIsNull(lead, leadflow_cols.merged_into);
	bool		was_erased = !LeadflowLeadIsNull(old, leadflow_cols.erased_at);
	bool		is_erased = !LeadflowLeadIsNull(lead, leadflow_cols.erased_at);
	Datum		args[3];
	int			rc;

	args[0] = Int64GetDatum(lead->org_id);
	args[1] = Int64GetDatum(lead->lead_id);
	if (!was_merged && !was_erased && (is_merged || is_erased))
	{
		SPI_connect();
		if (is_erased)
		{
			rc = LeadflowExecute(&release_all_plan, args, NULL, false, 0);
			if (rc == SPI_OK_DELETE && phones_ready())
				rc = LeadflowExecute(&phone_release_all_plan, args, NULL, false, 0);
		}
		else
		{
			args[2] = lead->values[leadflow_cols.merged_into - 1];
			rc = LeadflowExecute(&hand_over_plan, args, NULL, false, 0);
			if (rc == SPI_OK_UPDATE && phones_ready())
				rc = LeadflowExecute(&phone_hand_over_plan, args, NULL, false, 0);
		}
		if (rc != SPI_OK_UPDATE && rc != SPI_OK_DELETE)
			elog(ERROR, "leadflow: claim update failed: %s", SPI_result_code_string(rc));
		SPI_finish();
	}
	else if (was_merged && !is_merged && !is_erased)
	{
		if (!LeadflowLeadIsNull(lead, leadflow_cols.email_normalized))
			LeadflowDedupMoveClaim(lead, NULL, LeadflowLeadText(lead, leadflow_cols.email_normalized));
		if (!LeadflowLeadIsNull(lead, leadflow_cols.phone_e164))
			LeadflowDedupMovePhone(lead, NULL, LeadflowLeadText(lead, leadflow_cols.phone_e164));
	}
}
