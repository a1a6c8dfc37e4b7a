/*-------------------------------------------------------------------------
 *
 * tenant.c
 *	  May this session act for an org.
 *
 *	  Row-level security (enable_tenant_isolation) keeps an application
 *	  role to the rows of leadflow.org_id, but the pipeline and the SQL
 *	  functions do more than read rows: they claim emails below the
 *	  executor, keep a per-backend configuration cache keyed by org, and
 *	  answer with errors.  Each of them asks here first, before any cache
 *	  or data access, so that a session bound by row-level security acts
 *	  only for the org of leadflow.org_id, and is refused with one message
 *	  that depends on nothing but the org asked for and the setting: not
 *	  on what another org holds (an email, a domain, a lead id, a rule).
 *
 *	  leadflow's internal tables (the journey, the email claims, the routing
 *	  and prediction state) are written by leadflow alone: a statement
 *	  trigger refuses every other writer but a superuser and the tables'
 *	  owner, and the pipeline's own statements on them run as that owner,
 *	  so an application role needs no privilege on them and cannot plant
 *	  a claim, a journey row or a rotation.
 *
 *	  A role that row-level security does not bind (a superuser, a role
 *	  with BYPASSRLS, the table owner without FORCE, or any role while
 *	  tenant isolation is off) sees every org's rows anyway and may act
 *	  for any org.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <errno.h>
#include <stdlib.h>

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/syscache.h"

#include "leadflow.h"
#include "shard.h"
#include "tenant.h"

/*
 * session_bound
 *		Whether row-level security binds the current role on leadflow.leads
 *		(the table every org's data hangs from); if so, *org is the org of
 *		leadflow.org_id and *has_org whether it names one.
 */
static bool
session_bound(int64 *org, bool *has_org)
{
	Oid			nsp = get_namespace_oid("leadflow", true);
	Oid			leads = OidIsValid(nsp) ? get_relname_relid("leads", nsp) : InvalidOid;
	const char *setting = leadflow_org_id;
	char	   *end;
	long long	v;

	*has_org = false;
	*org = 0;
	/* without the table nothing can be read: nothing to protect yet */
	if (!OidIsValid(leads) || check_enable_rls(leads, InvalidOid, true) != RLS_ENABLED)
		return false;
	if (setting == NULL || *setting == '\0')
		return true;
	errno = 0;
	v = strtoll(setting, &end, 10);
	if (errno == 0 && *end == '\0')
	{
		*org = (int64) v;
		*has_org = true;
	}
	return true;
}

/* the one refusal: names the org asked for and the setting, nothing else */
static void
refuse(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("this session may not act for %s", what),
			 errdetail("Tenant isolation is on and leadflow.org_id is \"%s\".",
					   leadflow_org_id ? leadflow_org_id : ""),
			 errhint("Set leadflow.org_id to the org (SET LOCAL leadflow.org_id per transaction on a pooled connection).")));
}

/*
 * LeadflowCheckOrg
 *		Errors 42501 unless this session may act for org_id: a role bound by
 *		row-level security only for the org of leadflow.org_id.
 */
void
LeadflowCheckOrg(int64 org_id)
{
	int64		org;
	bool		has_org;

	if (!session_bound(&org, &has_org))
		return;
	if (has_org && org == org_id)
		return;
	refuse(psprintf("org " INT64_FORMAT, org_id));
}

/*
 * LeadflowCheckAllOrgs
 *		Errors 42501 unless this session may act for every org at once (a
 *		function called with org_id NULL): a role bound by row-level
 *		security may not.
 */
void
LeadflowCheckAllOrgs(void)
{
	int64		org;
	bool		has_org;

	if (session_bound(&org, &has_org))
		refuse("every org");
}

/*
 * leadflow.check_org_access(org_id bigint) RETURNS boolean
 *
 * The same check for the SQL and PL/pgSQL functions of the extension (and
 * for applications that want to ask first): true, or error 42501.  A
 * boolean so that an SQL function can make it a condition of its query.
 */
PG_FUNCTION_INFO_V1(leadflow_check_org_access);
Datum
leadflow_check_org_access(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		LeadflowCheckAllOrgs();
	else
		LeadflowCheckOrg(PG_GETARG_INT64(0));
	PG_RETURN_BOOL(true);
}

/*
 * The one list of the tables leadflow alone writes: its internal tables
 * (journey, claims, routing and prediction state, the event outbox, merge
 * records) and the reference data every org shares.  The pipeline's
 * statements on an internal table run as its owner (spi.c); the install
 * script puts the refuse_app_write trigger on each, and grant_app_role
 * grants only SELECT on them, both reading internal_tables().
 */
typedef struct LeadflowOnlyTable
{
	const char *name;
	bool		shared;			/* reference data of every org (no org_id) */
} LeadflowOnlyTable;

static const LeadflowOnlyTable leadflow_only_tables[] = {
	{"account_hot_state", false},
	{"events", false},
	{"lead_emails", false},
	{"lead_external_ids", false},
	{"lead_journey", false},
	{"lead_merges", false},
	{"lead_phones", false},
	{"lead_words", false},
	{"prediction_counts", false},
	{"rep_load", false},
	{"routing_rule_stats", false},
	{"team_rotation", false},
	{"capture_field_names", true},
	{"free_email_domains", true}
};

/*
 * LeadflowIsInternalTable
 *		Whether relid is one of leadflow's internal tables (not the shared
 *		reference data: the pipeline only reads that), or under Citus a
 *		shard of one.
 */
bool
LeadflowIsInternalTable(Oid relid)
{
	Oid			nsp = get_namespace_oid("leadflow", true);
	char	   *name;
	int			i;

	if (!OidIsValid(nsp) || get_rel_namespace(relid) != nsp)
		return false;
	name = get_rel_name(relid);
	for (i = 0; name != NULL && i < (int) lengthof(leadflow_only_tables); i++)
		if (!leadflow_only_tables[i].shared && LeadflowSameName(name, leadflow_only_tables[i].name))
			return true;
	return false;
}

/*
 * leadflow.internal_tables() RETURNS TABLE (table_name text, shared boolean)
 *
 * The tables leadflow alone writes (the list above), for the install
 * script's triggers, grant_app_role and the tests.
 */
PG_FUNCTION_INFO_V1(leadflow_internal_tables);
Datum
leadflow_internal_tables(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < (int) lengthof(leadflow_only_tables); i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = CStringGetTextDatum(leadflow_only_tables[i].name);
		values[1] = BoolGetDatum(leadflow_only_tables[i].shared);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* the owner of a relation */
static Oid
rel_owner(Oid relid)
{
	HeapTuple	tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "leadflow: cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tuple))->relowner;
	ReleaseSysCache(tuple);
	return owner;
}

/*
 * LeadflowInternalWriter
 *		The role the pipeline's statements on internal tables run as: their
 *		owner (the owner of leadflow.leads), unless the current role is a
 *		superuser or has the owner's privileges already (InvalidOid: run as
 *		is).  The statements are leadflow's own, fully qualified, keyed by
 *		an org the session was found to act for.
 */
Oid
LeadflowInternalWriter(void)
{
	Oid			nsp = get_namespace_oid("leadflow", true);
	Oid			leads = OidIsValid(nsp) ? get_relname_relid("leads", nsp) : InvalidOid;
	Oid			owner;

	if (!OidIsValid(leads) || superuser())
		return InvalidOid;
	owner = rel_owner(leads);
	if (has_privs_of_role(GetUserId(), owner))
		return InvalidOid;
	return owner;
}

/*
 * leadflow.refuse_app_write(): BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE
 * FOR EACH STATEMENT on the internal tables and the shared reference
 * tables (free_email_domains, capture_field_names), ENABLE ALWAYS.
 *
 * Whatever was granted, only a superuser and the table's owner (and
 * leadflow's own statements, which run as the owner) write them: an
 * application role cannot plant an email claim or a journey row, nor
 * change the reference data every org shares.
 */
PG_FUNCTION_INFO_V1(leadflow_refuse_app_write);
Datum
leadflow_refuse_app_write(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_FOR_STATEMENT(td->tg_event))
		elog(ERROR, "refuse_app_write: must be a statement trigger");
	if (superuser() || has_privs_of_role(GetUserId(), td->tg_relation->rd_rel->relowner))
		return PointerGetDatum(NULL);
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("leadflow.%s is written by leadflow alone", RelationGetRelationName(td->tg_relation)),
			 errhint("Applications write leads, activities, consents and signals; journey steps through leadflow.append_journey().")));
	PG_RETURN_NULL();
}
