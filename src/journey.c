/*-------------------------------------------------------------------------
 *
 * journey.c
 *	  The lead journey: an append-only, hash-chained history per lead.
 *
 *	  Every row stores hash = SHA-256(prev_hash, content), where content is
 *	  the row's org, lead, seq, time, kind, actor and canonical jsonb
 *	  detail, each length-prefixed so that no two rows serialize alike.
 *	  leadflow.journey_hash() exposes the same function so verify_journey
 *	  can recompute every chain in SQL.
 *
 *	  Appenders must hold the lead: the row lock of the lead, or the lead
 *	  is being inserted by this transaction.  Under that rule the chain head
 *	  (last seq and hash) cannot change behind our back until commit, so we
 *	  cache it per transaction; the primary key (org_id, lead_id, seq)
 *	  still refuses a fork should a caller break the rule.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/cryptohash.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "leadflow.h"

/* entries beyond this are dropped and re-read from the table on demand */
#define JOURNEY_HEADS_MAX 8192

typedef struct JourneyKey
{
	int64		org_id;
	int64		lead_id;
} JourneyKey;

typedef struct JourneyHead
{
	JourneyKey	key;
	int32		seq;			/* 0: no row yet */
	uint8		hash[LEADFLOW_HASH_LEN];
} JourneyHead;

static HTAB *journey_heads = NULL;
static bool callbacks_registered = false;

static LeadflowPlan head_plan = {
	NULL,
	"SELECT seq, hash FROM leadflow.lead_journey"
	" WHERE org_id OPERATOR(pg_catalog.=) $1 AND lead_id OPERATOR(pg_catalog.=) $2"
	" ORDER BY seq DESC LIMIT 1",
	2, {INT8OID, INT8OID}
};

static LeadflowPlan insert_plan = {
	NULL,
	"INSERT INTO leadflow.lead_journey"
	" (org_id, lead_id, seq, occurred_at, kind, actor, detail, prev_hash, hash)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
	9, {INT8OID, INT8OID, INT4OID, TIMESTAMPTZOID, TEXTOID, TEXTOID, JSONBOID, BYTEAOID, BYTEAOID}
};

static LeadflowPlan lock_lead_plan = {
	NULL,
	"SELECT org_id FROM leadflow.leads WHERE lead_id OPERATOR(pg_catalog.=) $1"
	" FOR NO KEY UPDATE",
	1, {INT8OID}
};

/*
 * The head cache lives in TopTransactionContext; it is forgotten at the
 * end of the transaction and on any subtransaction abort (rows it counted
 * may have been rolled back).
 */
static void
journey_xact_callback(XactEvent event, void *arg)
{
	journey_heads = NULL;		/* memory goes with TopTransactionContext */
}

static void
journey_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB && journey_heads != NULL)
	{
		hash_destroy(journey_heads);
		journey_heads = NULL;
	}
}

static HTAB *
heads_table(void)
{
	if (!callbacks_registered)
	{
		RegisterXactCallback(journey_xact_callback, NULL);
		RegisterSubXactCallback(journey_subxact_callback, NULL);
		callbacks_registered = true;
	}
	if (journey_heads != NULL && hash_get_num_entries(journey_heads) >= JOURNEY_HEADS_MAX)
	{
		hash_destroy(journey_heads);
		journey_heads = NULL;
	}
	if (journey_heads == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(JourneyKey);
		ctl.entrysize = sizeof(JourneyHead);
		ctl.hcxt = TopTransactionContext;
		journey_heads = hash_create("leadflow journey heads", 256, &ctl,
									HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	return journey_heads;
}

/*
 * LeadflowActor
 *		Who signs journey rows: leadflow.actor when set, else the session
 *		user.  Result is palloc'd in the current context or static.
 */
const char *
LeadflowActor(void)
{
	if (leadflow_actor != NULL && leadflow_actor[0] != '\0')
		return leadflow_actor;
	return GetUserNameFromId(GetSessionUserId(), false);
}

static void
append_field(StringInfo buf, const char *data, int len)
{
	appendStringInfo(buf, "%d:", len);
	appendBinaryStringInfo(buf, data, len);
}

/*
 * journey_row_hash
 *		SHA-256 of one journey row into out[LEADFLOW_HASH_LEN].
 *
 * prev is NULL for the first row of a chain.  Allocates only in the
 * current memory context.
 */
static void
journey_row_hash(const uint8 *prev, int prev_len, int64 org_id, int64 lead_id,
				 int32 seq, TimestampTz occurred_at, const char *kind,
				 const char *actor, const char *detail, uint8 *out)
{
	StringInfoData buf;
	pg_cryptohash_ctx *ctx;

	initStringInfo(&buf);
	if (prev != NULL)
		append_field(&buf, (const char *) prev, prev_len);
	else
		appendStringInfoString(&buf, "-:");
	appendStringInfo(&buf, INT64_FORMAT ":" INT64_FORMAT ":%d:" INT64_FORMAT ":",
					 org_id, lead_id, seq, (int64) occurred_at);
	append_field(&buf, kind, strlen(kind));
	append_field(&buf, actor, strlen(actor));
	append_field(&buf, detail, strlen(detail));

	ctx = pg_cryptohash_create(PG_SHA256);
	if (pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (uint8 *) buf.data, buf.len) < 0 ||
		pg_cryptohash_final(ctx, out, LEADFLOW_HASH_LEN) < 0)
		elog(ERROR, "leadflow: could not compute SHA-256: %s",
			 pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
	pfree(buf.data);
}

static bytea *
hash_to_bytea(const uint8 *hash)
{
	bytea	   *b = palloc(VARHDRSZ + LEADFLOW_HASH_LEN);

	SET_VARSIZE(b, VARHDRSZ + LEADFLOW_HASH_LEN);
	memcpy(VARDATA(b), hash, LEADFLOW_HASH_LEN);
	return b;
}

/*
 * LeadflowJourneyStartChain
 *		Tells the journey that lead has no rows yet: the pipeline calls it
 *		for a lead it is inserting, which saves a lookup per new lead.
 */
void
LeadflowJourneyStartChain(int64 org_id, int64 lead_id)
{
	JourneyKey	key = {org_id, lead_id};
	JourneyHead *head;

	head = hash_search(heads_table(), &key, HASH_ENTER, NULL);
	head->seq = 0;
}

/* Finds the chain head, reading it from the table on a cache miss. */
static JourneyHead *
chain_head(int64 org_id, int64 lead_id)
{
	JourneyKey	key = {org_id, lead_id};
	JourneyHead *head;
	bool		found;
	Datum		args[2];
	int			rc;

	head = hash_search(heads_table(), &key, HASH_ENTER, &found);
	if (found)
		return head;

	args[0] = Int64GetDatum(org_id);
	args[1] = Int64GetDatum(lead_id);
	rc = SPI_execute_plan(LeadflowPrepare(&head_plan), args, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "leadflow: journey head lookup failed: %s", SPI_result_code_string(rc));
	head->seq = 0;
	if (SPI_processed == 1)
	{
		bool		isnull;
		Datum		d;
		bytea	   *h;

		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		head->seq = DatumGetInt32(d);
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
		h = DatumGetByteaPP(d);
		if (VARSIZE_ANY_EXHDR(h) != LEADFLOW_HASH_LEN)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("journey of lead " INT64_FORMAT " has a malformed hash at seq %d",
							lead_id, head->seq)));
		memcpy(head->hash, VARDATA_ANY(h), LEADFLOW_HASH_LEN);
	}
	SPI_freetuptable(SPI_tuptable);
	return head;
}

/*
 * LeadflowJourneyAppend
 *		Appends one row to a lead's journey and returns its seq.
 *
 * detail_json is a JSON object as text, holding no personal data.  The
 * caller must hold the lead (see the file header).  Connects to SPI itself,
 * so it may be called with or without an SPI connection; allocates in the
 * caller's memory context.
 */
int32
LeadflowJourneyAppend(int64 org_id, int64 lead_id, const char *kind,
					  const char *detail_json)
{
	JourneyHead *head;
	Jsonb	   *detail;
	char	   *canonical;
	const char *actor = LeadflowActor();
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	uint8		hash[LEADFLOW_HASH_LEN];
	Datum		values[9];
	char		nulls[9] = "         ";
	int32		seq;
	int			rc;

	detail = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(detail_json)));
	canonical = JsonbToCString(NULL, &detail->root, VARSIZE(detail));

	SPI_connect();
	head = chain_head(org_id, lead_id);
	seq = head->seq + 1;
	journey_row_hash(head->seq > 0 ? head->hash : NULL, LEADFLOW_HASH_LEN,
					 org_id, lead_id, seq, now, kind, actor, canonical, hash);

	values[0] = Int64GetDatum(org_id);
	values[1] = Int64GetDatum(lead_id);
	values[2] = Int32GetDatum(seq);
	values[3] = TimestampTzGetDatum(now);
	values[4] = CStringGetTextDatum(kind);
	values[5] = CStringGetTextDatum(actor);
	values[6] = JsonbPGetDatum(detail);
	if (head->seq > 0)
		values[7] = PointerGetDatum(hash_to_bytea(head->hash));
	else
	{
		values[7] = (Datum) 0;
		nulls[7] = 'n';
	}
	values[8] = PointerGetDatum(hash_to_bytea(hash));

	/*
	 * Under a transaction snapshot a concurrent appender's row can be
	 * invisible to us; the primary key refuses our fork.  Report that as the
	 * serialization failure it is, so applications retry.
	 */
	PG_TRY();
	{
		rc = SPI_execute_plan(LeadflowPrepare(&insert_plan), values, nulls, false, 0);
	}
	PG_CATCH();
	{
		if (geterrcode() == ERRCODE_UNIQUE_VIOLATION && IsolationUsesXactSnapshot())
		{
			FlushErrorState();
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access due to a concurrent journey append"),
					 errdetail("Lead " INT64_FORMAT " got journey row %d in another transaction.",
							   lead_id, seq),
					 errhint("The transaction might succeed if retried.")));
		}
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "leadflow: journey insert failed: %s", SPI_result_code_string(rc));

	/* only now: had the insert failed, the head must stay as it was */
	head->seq = seq;
	memcpy(head->hash, hash, LEADFLOW_HASH_LEN);
	SPI_finish();
	pfree(canonical);
	return seq;
}

void
LeadflowDetailInt(StringInfo buf, const char *key, int64 value)
{
	if (buf->len > 0 && buf->data[buf->len - 1] != '{')
		appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfo(buf, ": " INT64_FORMAT, value);
}

void
LeadflowDetailText(StringInfo buf, const char *key, const char *value)
{
	if (buf->len > 0 && buf->data[buf->len - 1] != '{')
		appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfoString(buf, ": ");
	if (value == NULL)
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, value);
}

/*
 * leadflow.journey_hash(prev_hash, org_id, lead_id, seq, occurred_at, kind,
 *						 actor, detail) RETURNS bytea
 *
 * The hash a journey row must carry; verify_journey compares.
 */
PG_FUNCTION_INFO_V1(leadflow_journey_hash);
Datum
leadflow_journey_hash(PG_FUNCTION_ARGS)
{
	uint8		hash[LEADFLOW_HASH_LEN];
	bytea	   *prev = NULL;
	Jsonb	   *detail;
	char	   *canonical;
	int			i;

	for (i = 1; i < 8; i++)
		if (PG_ARGISNULL(i))
			PG_RETURN_NULL();
	if (!PG_ARGISNULL(0))
		prev = PG_GETARG_BYTEA_PP(0);
	detail = PG_GETARG_JSONB_P(7);
	canonical = JsonbToCString(NULL, &detail->root, VARSIZE(detail));

	journey_row_hash(prev ? (uint8 *) VARDATA_ANY(prev) : NULL,
					 prev ? VARSIZE_ANY_EXHDR(prev) : 0,
					 PG_GETARG_INT64(1), PG_GETARG_INT64(2), PG_GETARG_INT32(3),
					 PG_GETARG_TIMESTAMPTZ(4),
					 text_to_cstring(PG_GETARG_TEXT_PP(5)),
					 text_to_cstring(PG_GETARG_TEXT_PP(6)),
					 canonical, hash);
	PG_RETURN_BYTEA_P(hash_to_bytea(hash));
}

/* a journey kind is a short lower-case word, like the ones leadflow writes */
static bool
valid_kind(const char *kind)
{
	const char *p;

	if (kind[0] < 'a' || kind[0] > 'z' || strlen(kind) > 63)
		return false;
	for (p = kind; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

/*
 * leadflow.append_journey(lead_id, kind, detail) RETURNS integer
 *
 * For applications and agents that record their own steps.  Locks the lead
 * row (FOR NO KEY UPDATE) so concurrent appenders queue instead of forking
 * the chain; row-level security applies to finding the lead.
 */
PG_FUNCTION_INFO_V1(leadflow_append_journey);
Datum
leadflow_append_journey(PG_FUNCTION_ARGS)
{
	int64		lead_id = PG_GETARG_INT64(0);
	char	   *kind = text_to_cstring(PG_GETARG_TEXT_PP(1));
	Jsonb	   *detail = PG_GETARG_JSONB_P(2);
	int64		org_id;
	bool		isnull;
	int32		seq;

	if (!valid_kind(kind))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid journey kind: \"%s\"", kind),
				 errdetail("A kind is a lower-case word of letters, digits and underscores, at most 63 characters.")));
	if (!JB_ROOT_IS_OBJECT(detail) || JB_ROOT_IS_SCALAR(detail))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("journey detail must be a JSON object")));

	SPI_connect();
	LeadflowFetchLead(&lock_lead_plan, lead_id, false);
	org_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	seq = LeadflowJourneyAppend(org_id, lead_id, kind,
								JsonbToCString(NULL, &detail->root, VARSIZE(detail)));
	SPI_finish();
	PG_RETURN_INT32(seq);
}

/*
 * Trigger on lead_journey (BEFORE UPDATE OR DELETE per row, BEFORE TRUNCATE
 * per statement, all ENABLE ALWAYS): the journey is append-only for every
 * role, also under session_replication_role = replica.
 */
PG_FUNCTION_INFO_V1(leadflow_journey_refuse_change);
Datum
leadflow_journey_refuse_change(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const char *op;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "journey_refuse_change: not called as a trigger");

	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		op = "TRUNCATE";
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		op = "DELETE";
	else
		op = "UPDATE";

	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("leadflow.lead_journey is append-only"),
			 errdetail("%s of journey rows is refused for every role.", op),
			 errhint("To remove a person's data use leadflow.erase_lead(); journey rows hold none.")));
	PG_RETURN_NULL();
}
