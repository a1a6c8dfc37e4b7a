/*-------------------------------------------------------------------------
 *
 * journey_hash.c
 *	  The hash of a journey row, pure: SHA-256 over the previous row's hash
 *	  and this row's fields, each length-prefixed so no two rows hash the
 *	  same input; and journey_hash(), the same in SQL, which verify_journey
 *	  compares with.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <openssl/evp.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "journey_hash.h"

/* an integer and a colon; pg_lltoa, not printf: this runs for every row */
static void
append_int(StringInfo buf, int64 value)
{
	char		digits[MAXINT8LEN + 1];
	int			len = pg_lltoa(value, digits);

	digits[len] = ':';
	appendBinaryStringInfo(buf, digits, len + 1);
}

static void
append_field(StringInfo buf, const char *data, int len)
{
	append_int(buf, len);
	appendBinaryStringInfo(buf, data, len);
}

/*
 * SHA-256 of data into out, through one OpenSSL context for the backend
 * whose algorithm is fetched once: pg_cryptohash allocates a context,
 * fetches the algorithm and registers with the resource owner for every
 * call, 7k of the 12k instructions a journey row's hash took.  OpenSSL
 * allocates both itself, outside any memory context; they live as long
 * as the backend.  An error leaves the context to the next Init, which
 * resets it.
 */
static void
sha256(const uint8 *data, size_t len, uint8 *out)
{
	static EVP_MD *md = NULL;
	static EVP_MD_CTX *ctx = NULL;
	unsigned int out_len = 0;

	if (ctx == NULL)
	{
		if (md == NULL)
			md = EVP_MD_fetch(NULL, "SHA256", NULL);
		if (md != NULL)
			ctx = EVP_MD_CTX_new();
		if (ctx == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("leadflow: could not set up SHA-256")));
	}
	if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 ||
		EVP_DigestUpdate(ctx, data, len) != 1 ||
		EVP_DigestFinal_ex(ctx, out, &out_len) != 1 ||
		out_len != LEADFLOW_HASH_LEN)
		elog(ERROR, "leadflow: could not compute SHA-256");
}

/*
 * LeadflowJourneyRowHash
 *		SHA-256 of one journey row into out[LEADFLOW_HASH_LEN].
 *
 * prev is NULL for the first row of a chain.  Allocates only in the
 * current memory context.
 */
void
LeadflowJourneyRowHash(const uint8 *prev, int prev_len, int64 org_id, int64 lead_id,
				 int32 seq, TimestampTz occurred_at, const char *kind,
				 const char *actor, const char *detail, uint8 *out)
{
	StringInfoData buf;

	initStringInfo(&buf);
	if (prev != NULL)
		append_field(&buf, (const char *) prev, prev_len);
	else
		appendStringInfoString(&buf, "-:");
	append_int(&buf, org_id);
	append_int(&buf, lead_id);
	append_int(&buf, seq);
	append_int(&buf, (int64) occurred_at);
	append_field(&buf, kind, strlen(kind));
	append_field(&buf, actor, strlen(actor));
	append_field(&buf, detail, strlen(detail));

	sha256((const uint8 *) buf.data, buf.len, out);
	pfree(buf.data);
}

bytea *
LeadflowHashToBytea(const uint8 *hash)
{
	bytea	   *b = palloc(VARHDRSZ + LEADFLOW_HASH_LEN);

	SET_VARSIZE(b, VARHDRSZ + LEADFLOW_HASH_LEN);
	memcpy(VARDATA(b), hash, LEADFLOW_HASH_LEN);
	return b;
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

	LeadflowJourneyRowHash(prev ? (uint8 *) VARDATA_ANY(prev) : NULL,
					 prev ? VARSIZE_ANY_EXHDR(prev) : 0,
					 PG_GETARG_INT64(1), PG_GETARG_INT64(2), PG_GETARG_INT32(3),
					 PG_GETARG_TIMESTAMPTZ(4),
					 text_to_cstring(PG_GETARG_TEXT_PP(5)),
					 text_to_cstring(PG_GETARG_TEXT_PP(6)),
					 canonical, hash);
	PG_RETURN_BYTEA_P(LeadflowHashToBytea(hash));
}
