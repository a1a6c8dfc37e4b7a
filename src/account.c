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
 *	  owner).  leadflow.account_hot_state remembers which accounts are hot,
 *	  so a crossing is announced once; an account that falls below is
 *	  announced again when it crosses again.  Idempotent for one as_of.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "leadflow.h"

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
	"           AND l.status IN ('new', 'contacted', 'qualified', 'nurture', 'converted')" \
	"           AND (l.account_id IS NOT NULL OR l.company_domain IS NOT NULL)" \
	"         GROUP BY 1, 2, 3) e" \
	"  JOIN leadflow.orgs o ON o.org_id OPERATOR(pg_catalog.=) e.org_id"

/*
 * Accounts that reached the threshold and were not hot: now they are.  With
 * each, its open live leads, best first (one row with lead NULL when it has
 * none); joined by account_id or by company domain, so that a hash join
 * reads the leads once however many accounts turn hot.
 */
#define HOT_LEADS(key_join, key_filter) \
	" SELECT h.org_id, h.account_id, h.company_domain, h.account_score, a.owner_rep_id," \
	"        l.lead_id, l.owner_rep_id, l.score" \
	"   FROM h LEFT JOIN leadflow.accounts a" \
	"     ON a.org_id OPERATOR(pg_catalog.=) h.org_id AND a.account_id OPERATOR(pg_catalog.=) h.account_id" \
	"   LEFT JOIN leadflow.leads l ON l.org_id OPERATOR(pg_catalog.=) h.org_id AND " key_join \
	"    AND l.merged_into IS NULL AND l.erased_at IS NULL" \
	"    AND l.status IN ('new', 'contacted', 'qualified', 'nurture')" \
	"  WHERE " key_filter

static LeadflowPlan heat_plan = {
	NULL,
	"WITH e AS (" ENGAGEMENT_AS_OF "),"
	" h AS ("
	"  INSERT INTO leadflow.account_hot_state AS s (org_id, account_id, company_domain, hot_since, account_score)"
	"  SELECT e.org_id, e.account_id, e.company_domain, $2, e.account_score FROM e"
	"   WHERE e.account_score OPERATOR(pg_catalog.>=) e.hot_at"
	"  ON CONFLICT (org_id, account_id, company_domain) DO UPDATE"
	"     SET hot_since = EXCLUDED.hot_since, account_score = EXCLUDED.account_score"
	"   WHERE s.hot_since IS NULL"
	"  RETURNING s.org_id, s.account_id, s.company_domain, s.account_score)"
	HOT_LEADS("l.account_id OPERATOR(pg_catalog.=) h.account_id", "h.account_id IS NOT NULL")
	" UNION ALL"
	HOT_LEADS("l.account_id IS NULL AND l.company_domain OPERATOR(pg_catalog.=) h.company_domain",
			  "h.account_id IS NULL")
	" ORDER BY 1, 2, 3, 8 DESC, 6",
	2, {INT8OID, TIMESTAMPTZOID}
};

/* hot accounts now below their threshold: cooled, may cross again */
static LeadflowPlan cool_plan = {
	NULL,
	"WITH e AS (" ENGAGEMENT_AS_OF ")"
	" UPDATE leadflow.account_hot_state h SET hot_since = NULL, account_score = COALESCE(e.account_score, 0)"
	"   FROM leadflow.account_hot_state h2 LEFT JOIN e"
	"     ON e.org_id OPERATOR(pg_catalog.=) h2.org_id"
	"    AND e.account_id IS NOT DISTINCT FROM h2.account_id AND e.company_domain IS NOT DISTINCT FROM h2.company_domain"
	"  WHERE h.org_id OPERATOR(pg_catalog.=) h2.org_id AND h.state_id OPERATOR(pg_catalog.=) h2.state_id"
	"    AND ($1 IS NULL OR h.org_id OPERATOR(pg_catalog.=) $1) AND h.hot_since IS NOT NULL"
	"    AND h.hot_since OPERATOR(pg_catalog.<=) $2"
	"    AND (e.org_id IS NULL OR e.account_score OPERATOR(pg_catalog.<) e.hot_at)",
	2, {INT8OID, TIMESTAMPTZOID}
};

/* whether two result rows are of the same account (or domain) */
static bool
equal_key(HeapTuple a, HeapTuple b, TupleDesc desc)
{
	bool		an;
	bool		bn;
	Datum		x = SPI_getbinval(a, desc, 2, &an);
	Datum		y = SPI_getbinval(b, desc, 2, &bn);

	if (an != bn || (!an && DatumGetInt64(x) != DatumGetInt64(y)))
		return false;
	if (an)
	{
		char	   *p = SPI_getvalue(a, desc, 3);
		char	   *q = SPI_getvalue(b, desc, 3);

		return p != NULL && q != NULL && strcmp(p, q) == 0;
	}
	return true;
}

/*
 * Runs a kept plan with the planner's defaults: these statements read
 * whole orgs (aggregates, joins of many rows), where a sequential scan and
 * a hash join are right; LeadflowExecute, made for key lookups, would
 * disable sequential scans.
 */
static int
execute_set(LeadflowPlan *plan, Datum *args, const char *nulls)
{
	return SPI_execute_plan(LeadflowPrepare(plan), args, nulls, false, 0);
}

static void
emit(ReturnSetInfo *rsinfo, const char *action, uint64 n)
{
	Datum		values[2];
	bool		nulls[2] = {false, false};

	values[0] = CStringGetTextDatum(action);
	values[1] = Int32GetDatum((int32) Min(n, (uint64) PG_INT32_MAX));
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * LeadflowAccountMaintain
 *		run_maintenance's account actions (args: org_id or NULL, as_of);
 *		emits account_hot (accounts that crossed) and account_cooled.  The
 *		caller is connected to SPI.
 */
void
LeadflowAccountMaintain(ReturnSetInfo *rsinfo, Datum *args, const char *nulls)
{
	SPITupleTable *rows;
	uint64		n;
	uint64		i;
	uint64		cooled;
	uint64		nhot = 0;
	char	   *detail = NULL;
	int			rc;

	rc = execute_set(&cool_plan, args, nulls);
	if (rc != SPI_OK_UPDATE)
		elog(ERROR, "leadflow: account statement failed: %s", SPI_result_code_string(rc));
	cooled = SPI_processed;

	rc = execute_set(&heat_plan, args, nulls);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "leadflow: account statement failed: %s", SPI_result_code_string(rc));
	rows = SPI_tuptable;
	n = SPI_processed;
	for (i = 0; i < n; i++)
	{
		TupleDesc	desc = rows->tupdesc;
		HeapTuple	row = rows->vals[i];
		bool		isnull;
		bool		first;
		int64		org_id = DatumGetInt64(SPI_getbinval(row, desc, 1, &isnull));
		Datum		lead_id;
		bool		no_lead;

		/* rows come by account; the first row of each is its best lead */
		first = i == 0 ||
			org_id != DatumGetInt64(SPI_getbinval(rows->vals[i - 1], desc, 1, &isnull)) ||
			!equal_key(rows->vals[i - 1], row, desc);
		if (first)
		{
			StringInfoData buf;
			bool		account_null;
			Datum		account = SPI_getbinval(row, desc, 2, &account_null);

			nhot++;
			initStringInfo(&buf);
			appendStringInfoChar(&buf, '{');
			if (!account_null)
				LeadflowDetailInt(&buf, "account_id", DatumGetInt64(account));
			else
				LeadflowDetailText(&buf, "company_domain", SPI_getvalue(row, desc, 3));
			LeadflowDetailInt(&buf, "account_score", DatumGetInt32(SPI_getbinval(row, desc, 4, &isnull)));
			appendStringInfoChar(&buf, '}');
			detail = buf.data;
		}
		lead_id = SPI_getbinval(row, desc, 6, &no_lead);
		if (no_lead)
			continue;
		LeadflowJourneyAppend(org_id, DatumGetInt64(lead_id), "account_hot", detail);
		if (first)
		{
			bool		owner_null;
			bool		lead_owner_null;
			Datum		owner = SPI_getbinval(row, desc, 5, &owner_null);
			Datum		lead_owner = SPI_getbinval(row, desc, 7, &lead_owner_null);

			LeadflowNotify("account_hot", org_id, DatumGetInt64(lead_id),
						   !owner_null ? DatumGetInt64(owner) :
						   lead_owner_null ? 0 : DatumGetInt64(lead_owner));
		}
	}
	emit(rsinfo, "account_hot", nhot);
	emit(rsinfo, "account_cooled", cooled);
}
