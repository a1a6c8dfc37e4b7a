/*-------------------------------------------------------------------------
 *
 * account.c
 *	  Account-based scoring: engagement per account (or per company domain
 *	  of leads without an account).  leadflow.report_account_engagement
 *	  shows it as of now; run_maintenance (LeadflowAccountMaintain)
 *	  computes it as of as_of and, when an account's score reaches the
 *	  org's account_hot_at (default 150), journals account_hot on each of
 *	  its open live leads and notifies once (event account_hot, the lead
 *	  with the highest score and the account owner, else that lead's
 *	  owner).  The leads are read in one pass over the companies' open
 *	  leads of the orgs concerned, matched in a hash table: no query per
 *	  account.  leadflow.account_hot_state remembers which accounts are hot,
 *	  so a crossing is announced once; an account that falls below is
 *	  announced again when it crosses again.  Idempotent for one as_of.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "account.h"
#include "journey.h"
#include "notify.h"
#include "request.h"
#include "spi.h"
#include "text.h"


/*
 * Engagement of every account of one org or all ($1) as of $2; the same
 * arithmetic as the view report_account_engagement, with $2 for now().
 */
#define ENGAGEMENT_AS_OF \
	"SELECT e.org_id, e.account_id, e.company_domain, leadflow.account_score(e.people, e.score_sum, e.score_max, e.signals_30d) AS account_score," \
	"       COALESCE((o.settings OPERATOR(pg_catalog.->>) 'account_hot_at')::integer, 150) AS hot_at" \
	"  FROM (SELECT l.org_id, l.account_id," \
	"               CASE WHEN l.account_id IS NULL THEN l.company_domain END AS company_domain," \
	"               pg_catalog.count(DISTINCT COALESCE(l.email_normalized, l.phone_e164, l.lead_id::text))::integer AS people," \
	"               pg_catalog.sum(l.score)::bigint AS score_sum, pg_catalog.max(l.score) AS score_max," \
	"               COALESCE(pg_catalog.sum(s.n), 0)::bigint AS signals_30d" \
	"          FROM leadflow.leads l" \
	"          LEFT JOIN (SELECT s.org_id, s.lead_id, pg_catalog.count(*) AS n FROM leadflow.lead_signals s" \
	"                      WHERE ($1 IS NULL OR s.org_id OPERATOR(pg_catalog.=) $1)" \
	"                        AND s.occurred_at OPERATOR(pg_catalog.>) ($2 OPERATOR(pg_catalog.-) '30 days'::interval)" \
	"                        AND s.occurred_at OPERATOR(pg_catalog.<=) $2" \
	"                      GROUP BY s.org_id, s.lead_id) s" \
	"            ON s.org_id OPERATOR(pg_catalog.=) l.org_id AND s.lead_id OPERATOR(pg_catalog.=) l.lead_id" \
	"         WHERE ($1 IS NULL OR l.org_id OPERATOR(pg_catalog.=) $1)" \
	"           AND l.merged_into IS NULL AND l.erased_at IS NULL" \
	"           AND (l.status OPERATOR(pg_catalog.=) ANY (leadflow.open_statuses())" \
	"                OR l.status OPERATOR(pg_catalog.=) 'converted')" \
	"           AND (l.account_id IS NOT NULL OR l.company_domain IS NOT NULL)" \
	"         GROUP BY 1, 2, 3) e" \
	"  JOIN leadflow.orgs o ON o.org_id OPERATOR(pg_catalog.=) e.org_id"

/*
 * One statement, the engagement computed once: hot accounts now below
 * their threshold are cooled (they may cross again); accounts that reached
 * it and were not hot are now.  The two sets are disjoint.  Returns the
 * newly hot accounts, every row with the number cooled (a row of NULLs
 * carries it when none turned hot).
 */
static LeadflowPlan heat_plan = {
	NULL,
	"WITH e AS MATERIALIZED (" ENGAGEMENT_AS_OF "),"
	" cooled AS ("
	"  UPDATE leadflow.account_hot_state h SET hot_since = NULL, account_score = COALESCE(x.account_score, 0)"
	"    FROM (SELECT h2.org_id, h2.state_id, e.account_score"
	"            FROM leadflow.account_hot_state h2 LEFT JOIN e"
	"              ON e.org_id OPERATOR(pg_catalog.=) h2.org_id"
	"             AND COALESCE(e.account_id, 0) OPERATOR(pg_catalog.=) COALESCE(h2.account_id, 0)"
	"             AND COALESCE(e.company_domain, '') OPERATOR(pg_catalog.=) COALESCE(h2.company_domain, '')"
	"           WHERE ($1 IS NULL OR h2.org_id OPERATOR(pg_catalog.=) $1) AND h2.hot_since IS NOT NULL"
	"             AND h2.hot_since OPERATOR(pg_catalog.<=) $2"
	"             AND (e.org_id IS NULL OR e.account_score OPERATOR(pg_catalog.<) e.hot_at)) x"
	"   WHERE h.org_id OPERATOR(pg_catalog.=) x.org_id AND h.state_id OPERATOR(pg_catalog.=) x.state_id"
	"  RETURNING h.state_id),"
	" heated AS ("
	"  INSERT INTO leadflow.account_hot_state AS s (org_id, account_id, company_domain, hot_since, account_score)"
	"  SELECT e.org_id, e.account_id, e.company_domain, $2, e.account_score FROM e"
	"   WHERE e.account_score OPERATOR(pg_catalog.>=) e.hot_at"
	"  ON CONFLICT (org_id, account_id, company_domain) DO UPDATE"
	"     SET hot_since = EXCLUDED.hot_since, account_score = EXCLUDED.account_score"
	"   WHERE s.hot_since IS NULL"
	"  RETURNING s.org_id, s.account_id, s.company_domain, s.account_score,"
	"    (SELECT a.owner_rep_id FROM leadflow.accounts a"
	"      WHERE a.org_id OPERATOR(pg_catalog.=) s.org_id AND a.account_id OPERATOR(pg_catalog.=) s.account_id) AS owner)"
	" SELECT h.org_id, h.account_id, h.company_domain, h.account_score, h.owner,"
	"        (SELECT pg_catalog.count(*) FROM cooled) FROM heated h"
	" UNION ALL"
	" SELECT NULL, NULL, NULL, NULL, NULL, (SELECT pg_catalog.count(*) FROM cooled)"
	"  WHERE NOT EXISTS (SELECT FROM heated)",
	2, {INT8OID, TIMESTAMPTZOID}
};

/*
 * the open live leads with a company of the orgs that have a newly hot
 * account: read once (the caller picks those of hot accounts), so the
 * work stays linear however many accounts turn hot
 */
static LeadflowPlan company_leads_plan = {
	NULL,
	"SELECT l.org_id, l.account_id, l.company_domain, l.lead_id, l.owner_rep_id, l.score"
	"  FROM leadflow.leads l"
	" WHERE l.org_id OPERATOR(pg_catalog.=) ANY ($1::bigint[])"
	"   AND l.merged_into IS NULL AND l.erased_at IS NULL"
	"   AND l.status OPERATOR(pg_catalog.=) ANY (leadflow.open_statuses())"
	"   AND (l.account_id IS NOT NULL OR l.company_domain IS NOT NULL)",
	1, {INT8ARRAYOID}
};

typedef struct HotKey
{
	int64		org_id;
	int64		account_id;		/* 0: by domain */
	char		domain[256];
} HotKey;

typedef struct HotAccount
{
	HotKey		key;
	LeadflowJourneyDetail detail;	/* of its account_hot rows */
	int64		owner;			/* account owner, 0: none */
	int64		best_lead;		/* 0: no open lead */
	int64		best_owner;
	int32		best_score;
} HotAccount;

/*
 * The key of a row whose first columns are org_id, account_id and
 * company_domain (both queries below): the account, or the domain of leads
 * without one.
 */
static void
row_hot_key(HotKey *key, HeapTuple row, TupleDesc desc)
{
	bool		isnull;
	bool		account_null;
	Datum		account;

	memset(key, 0, sizeof(HotKey));
	key->org_id = DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull));
	account = SPI_getbinval(row, desc, 2, &account_null);
	if (!account_null)
		key->account_id = DatumGetInt64(account);
	else
	{
		char	   *domain = SPI_getvalue(row, desc, 3);

		if (domain != NULL)
			strlcpy(key->domain, domain, sizeof(key->domain));
	}
}

/*
 * LeadflowAccountMaintain
 *		run_maintenance's account actions (args: org_id or NULL, as_of);
 *		returns the counts of account_hot (accounts that crossed) and
 *		account_cooled.  The
 *		caller is connected to SPI.
 */
void
LeadflowAccountMaintain(Datum *args, const char *nulls, uint64 *hot_out, uint64 *cooled_out)
{
	SPITupleTable *rows;
	uint64		nhot;
	uint64		cooled;
	uint64		i;
	HTAB	   *hot;
	HASHCTL		ctl;
	HASH_SEQ_STATUS seq;
	HotAccount *acc;
	Datum	   *orgs;
	int			norgs = 0;
	int			rc;

	rc = LeadflowExecuteSet(&heat_plan, args, nulls);
	if (rc != SPI_OK_SELECT || SPI_processed == 0)
		elog(ERROR, "leadflow: account statement failed: %s", SPI_result_code_string(rc));
	rows = SPI_tuptable;
	{
		bool		isnull;

		cooled = (uint64) DatumGetInt64(SPI_getbinval(rows->vals[0], rows->tupdesc, 6, &isnull));
		(void) SPI_getbinval(rows->vals[0], rows->tupdesc, 1, &isnull);
		nhot = isnull ? 0 : SPI_processed;
	}
	*hot_out = nhot;
	*cooled_out = cooled;
	if (nhot == 0)
		return;

	ctl.keysize = sizeof(HotKey);
	ctl.entrysize = sizeof(HotAccount);
	ctl.hcxt = CurrentMemoryContext;
	hot = hash_create("leadflow hot accounts", (long) nhot, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	orgs = palloc(sizeof(Datum) * nhot);
	for (i = 0; i < nhot; i++)
	{
		TupleDesc	desc = rows->tupdesc;
		HeapTuple	row = rows->vals[i];
		bool		isnull;
		bool		owner_null;
		Datum		owner = SPI_getbinval(row, desc, 5, &owner_null);
		HotKey		key;
		int64		org_id;
		LeadflowJson buf;
		int			j;

		row_hot_key(&key, row, desc);
		org_id = key.org_id;
		acc = hash_search(hot, &key, HASH_ENTER, NULL);
		LeadflowJsonBegin(&buf);
		if (key.account_id != 0)
			LeadflowJsonInt(&buf, "account_id", key.account_id);
		else
			LeadflowJsonText(&buf, "company_domain", key.domain);
		LeadflowJsonInt(&buf, "account_score", DatumGetInt32(SPI_getbinval(row, desc, 4, &isnull)));
		LeadflowJourneyParseDetail(&acc->detail, LeadflowJsonFinish(&buf));
		acc->owner = owner_null ? 0 : DatumGetInt64(owner);
		acc->best_lead = 0;
		for (j = 0; j < norgs && DatumGetInt64(orgs[j]) != org_id; j++)
			;
		if (j == norgs)
			orgs[norgs++] = Int64GetDatum(org_id);
	}

	/*
	 * One pass over the companies' open leads of those orgs, a fetch of
	 * LEADFLOW_JOURNEY_PREFETCH_MAX at a time: their chain heads read in one
	 * query, their rows written in batches.
	 */
	{
		Datum		arg = PointerGetDatum(construct_array(orgs, norgs, INT8OID, sizeof(int64),
														  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		Portal		portal = SPI_cursor_open(NULL, LeadflowPrepare(&company_leads_plan), &arg, NULL, false);
		int64	   *org_ids = palloc(sizeof(int64) * LEADFLOW_JOURNEY_PREFETCH_MAX);
		int64	   *lead_ids = palloc(sizeof(int64) * LEADFLOW_JOURNEY_PREFETCH_MAX);
		HotAccount **accs = palloc(sizeof(HotAccount *) * LEADFLOW_JOURNEY_PREFETCH_MAX);

		LeadflowJourneyHold();
		for (;;)
		{
			int			n = 0;
			int			k;

			SPI_cursor_fetch(portal, true, LEADFLOW_JOURNEY_PREFETCH_MAX);
			if (SPI_processed == 0)
				break;
			rows = SPI_tuptable;
			for (i = 0; i < SPI_processed; i++)
			{
				TupleDesc	desc = rows->tupdesc;
				HeapTuple	row = rows->vals[i];
				bool		isnull;
				bool		owner_null;
				int64		lead_id = DatumGetInt64(SPI_getbinval(row, desc, 4, &isnull));
				Datum		owner = SPI_getbinval(row, desc, 5, &owner_null);
				int32		score = DatumGetInt32(SPI_getbinval(row, desc, 6, &isnull));
				HotKey		key;

				row_hot_key(&key, row, desc);
				acc = hash_search(hot, &key, HASH_FIND, NULL);
				if (acc == NULL)
					continue;
				if (acc->best_lead == 0 || score > acc->best_score ||
					(score == acc->best_score && lead_id < acc->best_lead))
				{
					acc->best_lead = lead_id;
					acc->best_score = score;
					acc->best_owner = owner_null ? 0 : DatumGetInt64(owner);
				}
				org_ids[n] = key.org_id;
				lead_ids[n] = lead_id;
				accs[n++] = acc;
			}
			SPI_freetuptable(rows);
			LeadflowJourneyPrefetch(org_ids, lead_ids, n);
			for (k = 0; k < n; k++)
				LeadflowJourneyAppendDetail(org_ids[k], lead_ids[k], "account_hot", &accs[k]->detail);
		}
		LeadflowJourneyRelease();
		SPI_cursor_close(portal);
	}

	hash_seq_init(&seq, hot);
	while ((acc = hash_seq_search(&seq)) != NULL)
		if (acc->best_lead != 0)
			LeadflowNotify("account_hot", acc->key.org_id, acc->best_lead,
						   acc->owner != 0 ? acc->owner : acc->best_owner);
}

/*
 * leadflow.account_score(people, score_sum, score_max, signals_30d) RETURNS integer
 *
 * The best lead's score, plus half the other leads' scores (rounded down),
 * plus 10 per person beyond the first, plus 2 per signal in the last 30
 * days (at most 50 count).  NULLs count as 0.  In C because the view
 * calls it per account, where an SQL function with its own search_path
 * cannot be inlined.
 */
PG_FUNCTION_INFO_V1(leadflow_account_score);
Datum
leadflow_account_score(PG_FUNCTION_ARGS)
{
	int64		people = PG_ARGISNULL(0) ? 0 : PG_GETARG_INT32(0);
	int64		score_sum = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT64(1);
	int64		score_max = PG_ARGISNULL(2) ? 0 : PG_GETARG_INT32(2);
	int64		signals = PG_ARGISNULL(3) ? 0 : PG_GETARG_INT64(3);
	int64		score;

	score = score_max + (score_sum - score_max) / 2 + 10 * Max(people - 1, 0) + 2 * Min(signals, 50);
	PG_RETURN_INT32((int32) Max(Min(score, PG_INT32_MAX), PG_INT32_MIN));
}

