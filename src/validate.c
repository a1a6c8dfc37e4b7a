/*-------------------------------------------------------------------------
 *
 * validate.c
 *	  The first stage: a lead needs an email or a phone; white space is
 *	  trimmed, the email normalized (its company domain derived, none for
 *	  free mail), the phone parsed to E.164.  An unusable email or phone is
 *	  refused with 22023 naming the value.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "lead.h"
#include "normalize.h"
#include "rulecache.h"
#include "text.h"
#include "validate.h"

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
 * when it is a two-letter code (a "030 ..." number from Germany is a Berlin
 * number whatever the org's home), else the org's default_region.
 */
static const char *
phone_region(const char *country, const char *default_region)
{
	if (country != NULL && strlen(country) == 2 &&
		isalpha((unsigned char) country[0]) && isalpha((unsigned char) country[1]))
		return psprintf("%c%c", pg_ascii_toupper(country[0]), pg_ascii_toupper(country[1]));
	return default_region;
}

/*
 * LeadflowValidateLead
 *		Validate and normalize: email_normalized, phone_e164 (see
 * phone_region) and company_domain (registrable domain, NULL for free mail).
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
	const char *reason;
	bool		changed = false;

	if (email == NULL && phone == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("lead " INT64_FORMAT " has neither email nor phone", lead->lead_id),
				 errdetail("Every lead needs an email or a phone (org " INT64_FORMAT ").",
						   lead->org_id)));

	if (email != NULL)
	{
		normalized = LeadflowNormalizeEmail(email, &domain, &reason);
		if (normalized == NULL)
			refuse_email(lead, email, reason);
		changed |= strcmp(normalized, email) != 0;
		if (!LeadflowIsFreeMailDomain(domain))
		{
			company_domain = LeadflowRegistrableDomain(domain);
			if (company_domain != NULL && LeadflowIsFreeMailDomain(company_domain))
				company_domain = NULL;
		}
	}
	LeadflowLeadSetText(lead, leadflow_cols.email_normalized, normalized);
	LeadflowLeadSetText(lead, leadflow_cols.company_domain, company_domain);

	if (phone != NULL)
	{
		const char *region = phone_region(LeadflowLeadText(lead, leadflow_cols.country),
										  lead->org->default_region);

		if (!leadflow_phone_e164(phone, region, e164, sizeof(e164), &reason))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid phone %s: %s", LeadflowQuote(phone), reason),
					 errdetail("Lead " INT64_FORMAT " of org " INT64_FORMAT ", field phone, region %s.",
							   lead->lead_id, lead->org_id, region)));
		changed |= strcmp(e164, phone) != 0;
		LeadflowLeadSetText(lead, leadflow_cols.phone_e164, e164);
	}
	else
		LeadflowLeadSetText(lead, leadflow_cols.phone_e164, NULL);
	return changed;
}

/*
 * leadflow.contact_problem(email, phone, country, default_region) RETURNS text
 *
 * What the pipeline would refuse about a lead's contact fields, as the
 * same message it would raise, or NULL when they pass.  process_import
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
	const char *reason;
	char	   *domain;

	email = trim_cstring(email);
	phone = trim_cstring(phone);
	if (email == NULL && phone == NULL)
		PG_RETURN_TEXT_P(cstring_to_text("neither email nor phone"));
	if (email != NULL && LeadflowNormalizeEmail(email, &domain, &reason) == NULL)
		PG_RETURN_TEXT_P(cstring_to_text(psprintf("invalid email %s: %s",
												  LeadflowQuote(email), reason)));
	if (phone != NULL && !leadflow_phone_e164(phone, region, e164, sizeof(e164), &reason))
		PG_RETURN_TEXT_P(cstring_to_text(psprintf("invalid phone %s: %s",
												  LeadflowQuote(phone), reason)));
	PG_RETURN_NULL();
}
