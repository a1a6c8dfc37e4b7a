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

/* accounts that reached the threshold and were not hot: now they are */
static LeadflowPlan heat_plan = {
	NULL,
	"WITH e AS (" ENGAGEMENT_AS_OF ")"
	" INSERT INTO leadflow.account_hot_state AS h (org_id, account_id, company_domain, hot_since, account_score)"
	" SELECT e.org_id, e.account_id, e.company_domain, $2, e.account_score FROM e"
	"  WHERE e.account_score OPERATOR(pg_catalog.>=) e.hot_at"
	" ON CONFLICT (org_id, account_id, company_domain) DO UPDATE"
	"    SET hot_since = EXCLUDED.hot_since, account_score = EXCLUDED.account_score"
	"  WHERE h.hot_since IS NULL"
	" RETURNING h.org_id, h.account_id, h.company_domain, h.account_score,"
	"   (SELECT a.owner_rep_id FROM leadflow.accounts a"
	"     WHERE a.org_id OPERATOR(pg_catalog.=) h.org_id AND a.account_id OPERATOR(pg_catalog.=) h.account_id)",
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

/* the open live leads of an account (or domain), best first */
static LeadflowPlan leads_plan = {
	NULL,
	"SELECT l.lead_id, l.owner_rep_id FROM leadflow.leads l"
	" WHERE l.org_id OPERATOR(pg_catalog.=) $1"
	"   AND ((l.account_id OPERATOR(pg_catalog.=) $2)"
	"        OR ($2 IS NULL AND l.account_id IS NULL AND l.company_domain OPERATOR(pg_catalog.=) $3))"
	"   AND l.merged_into IS NULL AND l.erased_at IS NULL"
	"   AND l.status IN ('new', 'contacted', 'qualified', 'nurture')"
	" ORDER BY l.score DESC, l.lead_id",
	3, {INT8OID, INT8OID, TEXTOID}
};

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
	SPITupleTable *hot;
	uint64		nhot;
	uint64		i;
	uint64		cooled;
	int			rc;

	rc = LeadflowExecute(&cool_plan, args, nulls, false, 0);
	if (rc != SPI_OK_UPDATE)
		elog(ERROR, "leadflow: account statement failed: %s", SPI_result_code_string(rc));
	cooled = SPI_processed;

	rc = LeadflowExecute(&heat_plan, args, nulls, false, 0);
	if (rc != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "leadflow: account statement failed: %s", SPI_result_code_string(rc));
	hot = SPI_tuptable;
	nhot = SPI_processed;
	for (i = 0; i < nhot; i++)
	{
		Datum		largs[3];
		char		lnulls[3] = "   ";
		bool		isnull;
		bool		owner_null;
		int64		org_id = DatumGetInt64(SPI_getbinval(hot->vals[i], hot->tupdesc, 1, &isnull));
		char	   *domain = SPI_getvalue(hot->vals[i], hot->tupdesc, 3);
		int32		score = DatumGetInt32(SPI_getbinval(hot->vals[i], hot->tupdesc, 4, &isnull));
		Datum		owner = SPI_getbinval(hot->vals[i], hot->tupdesc, 5, &owner_null);
		StringInfoData detail;
		SPITupleTable *leads;
		uint64		nleads;
		uint64		j;

		largs[0] = Int64GetDatum(org_id);
		largs[1] = SPI_getbinval(hot->vals[i], hot->tupdesc, 2, &isnull);
		lnulls[1] = isnull ? 'n' : ' ';
		largs[2] = domain ? CStringGetTextDatum(domain) : (Datum) 0;
		lnulls[2] = domain ? ' ' : 'n';

		initStringInfo(&detail);
		appendStringInfoChar(&detail, '{');
		if (!isnull)
			LeadflowDetailInt(&detail, "account_id", DatumGetInt64(largs[1]));
		else
			LeadflowDetailText(&detail, "company_domain", domain);
		LeadflowDetailInt(&detail, "account_score", score);
		appendStringInfoChar(&detail, '}');

		rc = LeadflowExecute(&leads_plan, largs, lnulls, false, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "leadflow: account leads lookup failed: %s", SPI_result_code_string(rc));
		leads = SPI_tuptable;
		nleads = SPI_processed;
		for (j = 0; j < nleads; j++)
		{
			int64		lead_id = DatumGetInt64(SPI_getbinval(leads->vals[j], leads->tupdesc, 1, &isnull));

			LeadflowJourneyAppend(org_id, lead_id, "account_hot", detail.data);
		}
		if (nleads > 0)
		{
			Datum		lead_owner = SPI_getbinval(leads->vals[0], leads->tupdesc, 2, &isnull);
			int64		rep = !owner_null ? DatumGetInt64(owner) : isnull ? 0 : DatumGetInt64(lead_owner);

			LeadflowNotify("account_hot",
						   org_id, DatumGetInt64(SPI_getbinval(leads->vals[0], leads->tupdesc, 1, &isnull)), rep);
		}
	}
	emit(rsinfo, "account_hot", nhot);
	emit(rsinfo, "account_cooled", cooled);
}
