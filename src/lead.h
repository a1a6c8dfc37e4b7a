/*-------------------------------------------------------------------------
 *
 * lead.h
 *	  The lead row (lead.c): the columns of leadflow.leads, resolved once
 *	  per backend, and the accessors every stage reads and changes a row
 *	  through.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_LEAD_H
#define LEADFLOW_LEAD_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"

/*
 * The lead row being written.  The stages read and change its values in
 * place; the trigger forms the tuple once at the end.
 */
#define LEADFLOW_LEAD_COLUMNS(X) \
	X(org_id) X(lead_id) X(first_name) X(last_name) X(email) X(phone) \
	X(company) X(job_title) X(industry) X(company_size) X(annual_revenue) \
	X(country) X(state) X(city) X(postal_code) X(source) X(campaign) \
	X(attributes) X(status) X(workflow_id) X(stage_id) X(owner_rep_id) \
	X(team_id) X(account_id) X(merged_into) X(assigned_at) \
	X(email_normalized) X(phone_e164) X(company_domain) X(score_demographic) \
	X(score_firmographic) X(score_behavioral) X(score_engagement) \
	X(score_manual) X(score_decay) X(score) X(temperature) X(created_at) X(updated_at) \
	X(last_activity_at) X(stage_entered_at) X(escalated_at) X(erased_at) \
	X(priority) X(budget_confirmed) X(authority_confirmed) X(need_confirmed) \
	X(timeline_confirmed) X(first_touch_at) X(qualified_at) X(converted_at) \
	X(archived_at) X(archive_reason)

typedef struct LeadflowLeadColumns
{
	Oid			relid;
	int			natts;			/* ALTER EXTENSION UPDATE may add columns */
#define LEADFLOW_COLUMN_FIELD(c) int c;
	LEADFLOW_LEAD_COLUMNS(LEADFLOW_COLUMN_FIELD)
#undef LEADFLOW_COLUMN_FIELD
	/* columns added after 0.1.0: 0 until ALTER EXTENSION UPDATE adds them */
	int			data_issues;
	int			external_id;
	int			email_status;
	int			search_words;
} LeadflowLeadColumns;

/* attribute numbers of the leads table, resolved by the trigger */
extern LeadflowLeadColumns leadflow_cols;

typedef struct LeadflowLead
{
	int64		org_id;
	int64		lead_id;
	const struct LeadflowOrg *org;	/* rulecache.h; NULL until looked up */
	TupleDesc	desc;
	Datum	   *values;
	bool	   *nulls;
	bool	   *replace;
} LeadflowLead;

extern void LeadflowResolveColumns(TupleDesc leads_desc, Oid relid);
extern void LeadflowLeadFromTuple(LeadflowLead *lead, TupleDesc desc, HeapTuple tuple);
extern void LeadflowLeadFromRecord(LeadflowLead *lead, Datum record);
extern bool LeadflowLeadIsNull(const LeadflowLead *lead, int attnum);
extern char *LeadflowLeadText(const LeadflowLead *lead, int attnum);
extern int64 LeadflowLeadInt64(const LeadflowLead *lead, int attnum);
extern void LeadflowLeadSet(LeadflowLead *lead, int attnum, Datum value, bool isnull);
extern void LeadflowLeadSetText(LeadflowLead *lead, int attnum, const char *value);
extern void LeadflowLeadCopy(LeadflowLead *copy, const LeadflowLead *lead);

/* the lead a row for this lead belongs to (its survivor, or itself); in SPI */
extern int64 LeadflowSurvivorOf(int64 org_id, int64 lead_id);

/* the pipeline's own lock and update of a stored lead (a survivor) */
extern HeapTuple LeadflowLeadLock(int64 org_id, int64 lead_id);
extern void LeadflowLeadUpdate(int64 org_id, HeapTuple old, HeapTuple tuple);
extern bool LeadflowLeadCompanyOwner(int64 org_id, const char *domain, int64 exclude, int64 *owner);

/* thresholds a rescore crossed upward (scoring reports, routing and nurture act) */
#define LEADFLOW_CROSSED_HOT		1
#define LEADFLOW_CROSSED_ESCALATE	2

/* new, contacted, qualified, nurture: the statuses that are routed and counted */
extern bool LeadflowStatusIsOpen(const char *status);

#endif							/* LEADFLOW_LEAD_H */
