/*-------------------------------------------------------------------------
 *
 * validate.c
 *	  The first stage: a lead needs an email or a phone; white space is
 *	  trimmed, the email normalized (its company domain derived, none for
 *	  free mail), the phone parsed to E.164.  An unusable email or phone
 *	  beside a usable other one is kept as typed and noted in
 *	  leads.data_issues; a lead with no usable contact is refused with
 *	  22023 naming the value.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"

#include "lead.h"
#include "normalize.h"
#include "rulecache.h"
#include "spi.h"
#include "text.h"
#include "validate.h"

static void check_given_issues(LeadflowLead *lead);

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

/*
 * LeadflowTrimLead
 *		Trims what people type around names and places (spaces, tabs, line
 *		breaks) off the text columns of a new lead; blank becomes NULL.
 *		Checks the data_issues the insert gives (check_given_issues), then
 *		normalizes country and state (LeadflowNormalizePlace).
 */
void
LeadflowTrimLead(LeadflowLead *lead)
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
	check_given_issues(lead);
	LeadflowNormalizePlace(lead);
	LeadflowNormalizeSource(lead);
}

/*
 * LeadflowNormalizeSource
 *		source in its canonical spelling ("Web Form" -> web_form), then the
 *		org's alias of it ("fb" -> meta_ads): SLA policies, routing rules
 *		and reports see one source however it was typed.
 */
void
LeadflowNormalizeSource(LeadflowLead *lead)
{
	char	   *source = LeadflowLeadText(lead, leadflow_cols.source);
	const char *canonical;

	if (source == NULL)
		return;
	canonical = LeadflowSourceKey(source);
	if (*canonical == '\0')
		canonical = NULL;
	else
	{
		if (lead->org == NULL)
			lead->org = LeadflowGetOrg(lead->org_id);
		canonical = LeadflowOrgSource(lead->org, canonical);
	}
	if (canonical == NULL || strcmp(canonical, source) != 0)
		LeadflowLeadSetText(lead, leadflow_cols.source, canonical);
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
 * when it is one (a "030 ..." number from Germany is a Berlin number
 * whatever the org's home; "Germany", "DEU" and "DE" alike), else the
 * org's default_region.
 */
static const char *
phone_region(const char *country, const char *default_region)
{
	const char *alpha2 = country != NULL ? LeadflowCountryCode(country) : NULL;

	return alpha2 != NULL ? alpha2 : default_region;
}

/*
 * A phone number in E.164 (into e164) and, when number_region is not NULL,
 * the region it belongs to (3 bytes, "" for none), or false with *reason
 * the phrase of the refusal.  Letters for digits ("555-CALL-NOW") are not a
 * number: libphonenumber would dial them.
 */
static bool
parse_phone(const char *phone, const char *region, char *e164, size_t len,
			char *number_region, const char **reason)
{
	if (!leadflow_phone_e164_region(phone, region, e164, len, number_region, reason))
		return false;
	if (LeadflowPhoneHasLetters(phone))
	{
		*reason = "letters for digits";
		return false;
	}
	return true;
}

/*
 * The problem code of data_issues for a refusal phrase of email.c or
 * phone.cpp: lower case words joined by "_", "@" spelled "at"
 * ("missing @" -> missing_at); "not a phone number" is not_a_number and
 * "letters for digits" vanity_number.
 */
static const char *
problem_code(const char *reason)
{
	StringInfoData code;
	const char *p;

	if (strcmp(reason, "not a phone number") == 0)
		return "not_a_number";
	if (strcmp(reason, "letters for digits") == 0)
		return "vanity_number";
	initStringInfo(&code);
	for (p = reason; *p; p++)
	{
		if (*p == '@')
			appendStringInfoString(&code, "at");
		else if (isalnum((unsigned char) *p))
			appendStringInfoChar(&code, pg_ascii_tolower(*p));
		else if (code.len > 0 && code.data[code.len - 1] != '_')
			appendStringInfoChar(&code, '_');
	}
	return code.data;
}

/* the fields whose data issues validate.c decides (recomputed, never kept as given) */
static const char *const checked_fields[] = {"email", "phone"};

/* the fields LeadflowNormalizePlace decides */
static const char *const place_fields[] = {"country", "state"};

/* fields capture() and process_import note and the codes they may give */
static const char *const number_fields[] = {"company_size", "annual_revenue"};
static const char *const number_codes[] = {
	"not_a_number", "range", "ambiguous", "negative", "not_whole", "too_large"
};

/* what process_import notes of a migration's columns: field and code */
static const struct
{
	const char *field;
	const char *code;
}			import_issues[] = {
	{"owner", "unknown"},		/* no rep of the org by that id or email */
	{"created_at", "not_a_date"},
	{"created_at", "in_future"},
	{"attributes", "not_an_object"}
};

static bool
is_import_issue(const char *field, const char *code)
{
	int			i;

	for (i = 0; i < (int) lengthof(import_issues); i++)
		if (strcmp(field, import_issues[i].field) == 0 && strcmp(code, import_issues[i].code) == 0)
			return true;
	return false;
}

static bool
in_list(const char *s, const char *const *list, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

/*
 * Sets the data issues of the given fields in leads.data_issues: a field
 * with a code is noted, one without is cleared; other fields' issues stay.
 * NULL when no issue is left.  Nothing to do (no jsonb built) for a clean
 * lead, the common case.
 */
static void
set_issues(LeadflowLead *lead, const char *const *fields, const char *const *codes, int n)
{
	Datum		issues;
	LeadflowJson added;
	bool		any = false;
	int			i;

	if (leadflow_cols.data_issues == 0)
		return;					/* before ALTER EXTENSION UPDATE */
	for (i = 0; i < n; i++)
		any |= codes[i] != NULL;
	if (!any && LeadflowLeadIsNull(lead, leadflow_cols.data_issues))
		return;

	issues = LeadflowLeadIsNull(lead, leadflow_cols.data_issues) ?
		DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")) :
		lead->values[leadflow_cols.data_issues - 1];
	LeadflowJsonBegin(&added);
	for (i = 0; i < n; i++)
	{
		issues = DirectFunctionCall2(jsonb_delete, issues, CStringGetTextDatum(fields[i]));
		if (codes[i] != NULL)
			LeadflowJsonText(&added, fields[i], codes[i]);
	}
	if (any)
		issues = DirectFunctionCall2(jsonb_concat, issues,
									 DirectFunctionCall1(jsonb_in, CStringGetDatum(LeadflowJsonFinish(&added))));
	if (JB_ROOT_COUNT(DatumGetJsonbP(issues)) == 0)
		LeadflowLeadSet(lead, leadflow_cols.data_issues, (Datum) 0, true);
	else
		LeadflowLeadSet(lead, leadflow_cols.data_issues, issues, false);
}

/*
 * The data_issues an INSERT gives: capture() and process_import note there
 * the company_size or annual_revenue they could not read (the columns are
 * numbers; the value as typed is in attributes), process_import also a
 * migration's unknown owner, unreadable created_at or attributes.  The
 * fields the pipeline checks itself are decided again; anything else is
 * refused, so that only problem codes, never free text, reach the row and
 * the journey.
 */
static void
check_given_issues(LeadflowLead *lead)
{
	Jsonb	   *given;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key = NULL;

	if (leadflow_cols.data_issues == 0 || LeadflowLeadIsNull(lead, leadflow_cols.data_issues))
		return;
	given = DatumGetJsonbP(lead->values[leadflow_cols.data_issues - 1]);
	if (!JB_ROOT_IS_OBJECT(given))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("data_issues must be a JSON object of field -> problem code"),
				 errdetail("Lead " INT64_FORMAT " of org " INT64_FORMAT ".", lead->lead_id, lead->org_id)));
	it = JsonbIteratorInit(&given->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		char	   *code;

		if (tok == WJB_KEY)
		{
			key = pnstrdup(v.val.string.val, v.val.string.len);
			continue;
		}
		if (tok != WJB_VALUE || key == NULL)
			continue;
		if (in_list(key, checked_fields, lengthof(checked_fields)) ||
			in_list(key, place_fields, lengthof(place_fields)))
			continue;
		code = v.type == jbvString ? pnstrdup(v.val.string.val, v.val.string.len) : NULL;
		if (code != NULL && is_import_issue(key, code))
			continue;
		if (!in_list(key, number_fields, lengthof(number_fields)) || code == NULL ||
			!in_list(code, number_codes, lengthof(number_codes)))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("data_issues member %s is not a problem the pipeline knows", LeadflowQuote(key)),
					 errdetail("Lead " INT64_FORMAT " of org " INT64_FORMAT ".", lead->lead_id, lead->org_id),
					 errhint("data_issues is written by the pipeline; on insert only company_size and annual_revenue may be given, with one of not_a_number, range, ambiguous, negative, not_whole, too_large, and process_import's owner (unknown), created_at (not_a_date, in_future) and attributes (not_an_object).")));
	}
}

/*
 * LeadflowNormalizePlace
 *		country to ISO 3166-1 alpha-2 ("Germany", "Deutschland", "DEU",
 *		"UK" -> DE, DE, DE, GB) and, when the country is known, state to its
 *		ISO 3166-2 code without the country prefix ("California" -> CA,
 *		"Bayern" -> BY).  An unknown value stays as typed and is noted in
 *		data_issues ("unknown"); a state is judged only in a known country.
 *		Runs before the phone is parsed: the lead's country is its region.
 */
void
LeadflowNormalizePlace(LeadflowLead *lead)
{
	const char *codes[2] = {NULL, NULL};
	char	   *country = LeadflowLeadText(lead, leadflow_cols.country);
	char	   *state = LeadflowLeadText(lead, leadflow_cols.state);
	const char *alpha2 = NULL;

	if (country != NULL)
	{
		alpha2 = LeadflowCountryCode(country);
		if (alpha2 == NULL)
			codes[0] = "unknown";
		else if (strcmp(alpha2, country) != 0)
			LeadflowLeadSetText(lead, leadflow_cols.country, alpha2);
	}
	if (state != NULL && alpha2 != NULL)
	{
		const char *sub = LeadflowSubdivisionCode(alpha2, state);

		if (sub == NULL)
			codes[1] = "unknown";
		else if (strcmp(sub, state) != 0)
			LeadflowLeadSetText(lead, leadflow_cols.state, sub);
	}
	set_issues(lead, place_fields, codes, lengthof(place_fields));
}

static LeadflowPlan claim_external_plan = {
	NULL,
	"INSERT INTO leadflow.lead_external_ids (org_id, source, external_id, lead_id)"
	" VALUES ($1, COALESCE($2, ''), $3, $4) ON CONFLICT DO NOTHING RETURNING 1",
	4, {INT8OID, TEXTOID, TEXTOID, INT8OID}
};

/*
 * LeadflowAlreadyCaptured
 *		Claims the lead's external_id (Meta's leadgen_id, Google's lead_id,
 *		a CSV external_id) for its org and source in lead_external_ids;
 *		true when another lead holds it: the insert is a replay of a
 *		submission captured before, and the trigger stores nothing for it
 *		(no row, no journey, no signal).  ON CONFLICT waits for a concurrent
 *		claimer, so of two sessions capturing the same webhook one stores
 *		it and the other finds it, without error.  Called once the source
 *		is canonical.
 */
bool
LeadflowAlreadyCaptured(LeadflowLead *lead)
{
	char	   *external_id;
	Datum		args[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	bool		claimed;
	int			rc;

	if (leadflow_cols.external_id == 0)
		return false;			/* before ALTER EXTENSION UPDATE */
	external_id = trim_column(lead, leadflow_cols.external_id);
	if (external_id == NULL)
		return false;
	args[0] = Int64GetDatum(lead->org_id);
	if (LeadflowLeadIsNull(lead, leadflow_cols.source))
		nulls[1] = 'n';
	else
		args[1] = lead->values[leadflow_cols.source - 1];
	args[2] = CStringGetTextDatum(external_id);
	args[3] = Int64GetDatum(lead->lead_id);
	SPI_connect();
	rc = LeadflowExecute(&claim_external_plan, args, nulls, false, 1);
	if (rc != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "leadflow: external_id claim failed: %s", SPI_result_code_string(rc));
	claimed = SPI_processed > 0;
	SPI_finish();
	return !claimed;
}

/*
 * An empty country is the region of a phone number written with its
 * country code ("+49 30 ..." -> DE), not a data issue.  A national number
 * says only where the org assumed it is (default_region), so it fills
 * nothing.  Decided before the parse: the region is looked up only when it
 * fills something (GetRegionCodeForNumber matches the number against each
 * region of its country code, ~20k instructions).
 */
static bool
country_from_phone_wanted(LeadflowLead *lead, const char *phone)
{
	return LeadflowLeadIsNull(lead, leadflow_cols.country) &&
		(phone[0] == '+' || strncmp(phone, "00", 2) == 0);
}

/* the empty country from the phone's region; the state is judged again */
static void
fill_country_from_phone(LeadflowLead *lead, const char *number_region)
{
	if (number_region[0] == '\0')
		return;
	LeadflowLeadSetText(lead, leadflow_cols.country, number_region);
	if (!LeadflowLeadIsNull(lead, leadflow_cols.state))
		LeadflowNormalizePlace(lead);
}

/*
 * LeadflowValidateLead
 *		Validate and normalize: email_normalized, phone_e164 (see
 * phone_region) and company_domain (registrable domain, NULL for free mail).
 * A lead with one usable way to reach the person is never refused: an
 * unusable email or phone beside a usable other one is kept as typed, its
 * normalized column NULL, and noted in data_issues (field -> problem code).
 * Refused only when none is usable: 23514 when neither was given, else
 * 22023 naming the value (the email when both are unusable).
 * Returns true when normalization changed what was typed.
 */
bool
LeadflowValidateLead(LeadflowLead *lead)
{
	char	   *email = trim_column(lead, leadflow_cols.email);
	char	   *phone = trim_column(lead, leadflow_cols.phone);
	char	   *normalized = NULL;
	char	   *domain = NULL;
	char	   *company_domain = NULL;
	char		e164[64];
	char		number_region[3] = "";
	const char *email_reason = NULL;
	const char *phone_reason = NULL;
	const char *region = NULL;
	const char *codes[lengthof(checked_fields)];
	bool		phone_ok = false;
	bool		want_region = false;
	bool		changed = false;

	if (email == NULL && phone == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("lead " INT64_FORMAT " has neither email nor phone", lead->lead_id),
				 errdetail("Every lead needs an email or a phone (org " INT64_FORMAT ").",
						   lead->org_id)));

	if (email != NULL)
		normalized = LeadflowNormalizeEmail(email, &domain, &email_reason);
	if (phone != NULL)
	{
		region = phone_region(LeadflowLeadText(lead, leadflow_cols.country),
							  lead->org->default_region);
		want_region = country_from_phone_wanted(lead, phone);
		phone_ok = parse_phone(phone, region, e164, sizeof(e164),
							   want_region ? number_region : NULL, &phone_reason);
	}

	/* nothing left to reach the person by: refused, naming the value */
	if (normalized == NULL && !phone_ok)
	{
		if (email != NULL)
			refuse_email(lead, email, email_reason);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid phone %s: %s", LeadflowQuote(phone), phone_reason),
				 errdetail("Lead " INT64_FORMAT " of org " INT64_FORMAT ", field phone, region %s.",
						   lead->lead_id, lead->org_id, region)));
	}

	if (normalized != NULL)
	{
		changed |= strcmp(normalized, email) != 0;
		if (!LeadflowOrgIsFreeMailDomain(lead->org, domain))
		{
			company_domain = LeadflowRegistrableDomain(domain);
			if (company_domain != NULL && LeadflowOrgIsFreeMailDomain(lead->org, company_domain))
				company_domain = NULL;
		}
	}
	LeadflowLeadSetText(lead, leadflow_cols.email_normalized, normalized);
	LeadflowLeadSetText(lead, leadflow_cols.company_domain, company_domain);

	if (phone_ok)
	{
		changed |= strcmp(e164, phone) != 0;
		LeadflowLeadSetText(lead, leadflow_cols.phone_e164, e164);
		if (want_region)
			fill_country_from_phone(lead, number_region);
	}
	else
		LeadflowLeadSetText(lead, leadflow_cols.phone_e164, NULL);

	codes[0] = email != NULL && normalized == NULL ? problem_code(email_reason) : NULL;
	codes[1] = phone != NULL && !phone_ok ? problem_code(phone_reason) : NULL;
	set_issues(lead, checked_fields, codes, lengthof(checked_fields));
	return changed;
}

/*
 * leadflow.contact_problem(email, phone, country, default_region) RETURNS text
 *
 * What the pipeline would refuse about a lead's contact fields, as the
 * same message it would raise, or NULL when it would take the lead: only
 * a lead with neither a usable email nor a usable phone is refused (an
 * unusable one beside a usable other is a data issue).  process_import
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
	const char *email_reason = NULL;
	const char *phone_reason = NULL;
	char	   *domain;

	email = trim_cstring(email);
	phone = trim_cstring(phone);
	if (email == NULL && phone == NULL)
		PG_RETURN_TEXT_P(cstring_to_text("neither email nor phone"));
	if (email != NULL && LeadflowNormalizeEmail(email, &domain, &email_reason) != NULL)
		PG_RETURN_NULL();
	if (phone != NULL && parse_phone(phone, region, e164, sizeof(e164), NULL, &phone_reason))
		PG_RETURN_NULL();
	if (email != NULL)
		PG_RETURN_TEXT_P(cstring_to_text(psprintf("invalid email %s: %s",
												  LeadflowQuote(email), email_reason)));
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("invalid phone %s: %s",
											  LeadflowQuote(phone), phone_reason)));
}
