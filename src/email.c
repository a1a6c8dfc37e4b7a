/*-------------------------------------------------------------------------
 *
 * email.c
 *	  Emails and company domains, pure: no SPI, no table access, no locks;
 *	  results are palloc'd in the caller's memory context.  With their SQL
 *	  functions, and the one over phone.cpp.
 *
 *	  Emails.  Trimmed of ASCII white space; at most 254 bytes, checked
 *	  before anything else so a megabyte of input costs nothing.  The local
 *	  part is HTML5's (RFC 5322 atext and dots, dots anywhere) plus UTF-8
 *	  (RFC 6531); it is case-folded with the C.UTF-8 locale's Unicode case
 *	  map, whatever the database locale, and put in NFC.  The domain goes
 *	  to ASCII with libidn2 (IDNA2008, UTS #46 non-transitional mapping,
 *	  which also lower-cases it), then must be a host name of letters,
 *	  digits and hyphens with at least one dot.  "+tag" is removed unless
 *	  the local part starts with "+"; Gmail ignores dots, and googlemail.com
 *	  is gmail.com.
 *
 *	  Company domains: libpsl's built-in public suffix list, ICANN and
 *	  private sections alike, so foo.github.io is its own company.
 *
 *	  Text in a database whose encoding is neither UTF-8 nor SQL_ASCII is
 *	  converted to UTF-8 for the work and back for the result; SQL_ASCII
 *	  bytes are taken as UTF-8.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <idn2.h>
#include <libpsl.h>

#include "common/unicode_norm.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "normalize.h"
#include "text.h"

/* RFC 5321 limits */
#define EMAIL_LOCAL_MAX_LEN		64
#define DOMAIN_MAX_LEN			253
#define DOMAIN_LABEL_MAX_LEN	63

/*
 * longer host names are refused before libidn2 sees them: an ASCII form of
 * 253 bytes comes from at most 253 characters of 4 UTF-8 bytes each
 * (characters that UTS #46 maps to nothing aside)
 */
#define DOMAIN_MAX_INPUT_LEN	(4 * DOMAIN_MAX_LEN)

/* RFC 5322 atext plus the dot, in ASCII */
static bool
is_local_part_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') ||
		(c != '\0' && strchr(".!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/*
 * normalize_local_part
 *		Checks the local part of an email and returns it case-folded: ASCII
 *		in place (local itself), else a palloc'd copy in NFC.  NULL with
 *		*reason when it holds a character an address cannot have.  Called by
 *		LeadflowNormalizeEmail.
 */
static char *
normalize_local_part(char *local, const char **reason)
{
	const unsigned char *p = (const unsigned char *) local;
	const unsigned char *end = p + strlen(local);
	pg_wchar   *chars;
	pg_wchar   *nfc;
	char	   *result;
	unsigned char *out;
	int			n = 0;
	int			i;

	if (LeadflowIsAscii(local))
	{
		for (; p < end; p++)
			if (!is_local_part_char(*p))
			{
				*reason = "invalid character in local part";
				return NULL;
			}
		LeadflowAsciiLower(local);
		return local;
	}

	chars = palloc((end - p + 1) * sizeof(pg_wchar));
	while (p < end)
	{
		pg_wchar	c;
		int			len = LeadflowDecodeUtf8(p, end, &c);

		if (len < 0 || (c < 0x80 && !is_local_part_char((unsigned char) c)) ||
			(c >= 0x80 && LeadflowIsInvisible(c)))
		{
			*reason = "invalid character in local part";
			return NULL;
		}
		chars[n++] = LeadflowFoldChar(c);
		p += len;
	}
	chars[n] = 0;

	nfc = unicode_normalize(UNICODE_NFC, chars);
	for (n = 0; nfc[n] != 0; n++)
		;
	result = palloc(n * MAX_MULTIBYTE_CHAR_LEN + 1);
	out = (unsigned char *) result;
	for (i = 0; i < n; i++)
	{
		unicode_to_utf8(nfc[i], out);
		out += pg_utf_mblen(out);
	}
	*out = '\0';
	pfree(chars);
	pfree(nfc);
	return result;
}

/*
 * is_ip_literal
 *		True for an address where a host name should be: "[...]" (RFC 5321
 *		address literal), a bare IPv6 address, or a dotted IPv4 quad.
 */
static bool
is_ip_literal(const char *host)
{
	size_t		len = strlen(host);
	const char *p;
	int			colons = 0;
	int			parts = 0;

	if (len >= 2 && host[0] == '[' && host[len - 1] == ']')
		return true;

	/* IPv6: hex digits and at least two colons (dots for an IPv4 tail) */
	for (p = host; *p; p++)
	{
		if (*p == ':')
			colons++;
		else if (!isxdigit((unsigned char) *p) && *p != '.')
			break;
	}
	if (*p == '\0' && colons >= 2)
		return true;

	/* IPv4: four numbers 0 to 255, dot-separated */
	for (p = host;;)
	{
		int			digits = 0;
		int			value = 0;

		while (*p >= '0' && *p <= '9' && digits <= 3)
		{
			value = value * 10 + (*p++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || value > 255)
			return false;
		parts++;
		if (*p == '\0')
			return parts == 4;
		if (*p != '.' || parts == 4)
			return false;
		p++;
	}
}

/*
 * check_ascii_host
 *		NULL when host (lower-case ASCII) is a host name: labels of letters,
 *		digits and hyphens, none empty or longer than 63 bytes, no hyphen at
 *		either end, at least two labels, a top-level label that is not all
 *		digits, at most 253 bytes.  Else the reason.
 */
static const char *
check_ascii_host(const char *host)
{
	const char *p = host;
	const char *label = host;
	bool		all_digits = true;
	int			labels = 1;

	if (*host == '\0')
		return "empty domain";
	if (strlen(host) > DOMAIN_MAX_LEN)
		return "domain too long";
	for (;; p++)
	{
		if (*p == '.' || *p == '\0')
		{
			if (p == label)
				return "empty label in domain";
			if (p - label > DOMAIN_LABEL_MAX_LEN)
				return "domain label too long";
			if (*label == '-' || p[-1] == '-')
				return "hyphen at start or end of a domain label";
			if (*p == '\0')
				break;
			labels++;
			label = p + 1;
			all_digits = true;
		}
		else if (*p >= '0' && *p <= '9')
			continue;
		else if ((*p >= 'a' && *p <= 'z') || *p == '-')
			all_digits = false;
		else
			return "invalid character in domain";
	}
	if (labels < 2)
		return "domain has no dot";
	if (all_digits)
		return "invalid top-level domain";
	return NULL;
}

/* an "xn--" label anywhere in an ASCII host name, in any case */
static bool
has_ace_label(const char *host)
{
	const char *p = host;

	for (;;)
	{
		if (pg_strncasecmp(p, "xn--", 4) == 0)
			return true;
		p = strchr(p, '.');
		if (p == NULL)
			return false;
		p++;
	}
}

/* the reason for a libidn2 error */
static const char *
idn2_reason(int rc)
{
	switch (rc)
	{
		case IDN2_MALLOC:
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory")));
			break;
		case IDN2_ENCODING_ERROR:
			return "invalid character in domain";
		case IDN2_TOO_BIG_DOMAIN:
			return "domain too long";
		case IDN2_TOO_BIG_LABEL:
			return "domain label too long";
		case IDN2_HYPHEN_STARTEND:
			return "hyphen at start or end of a domain label";
	}
	return "invalid international domain name";
}

/*
 * host_to_ascii
 *		A host name (UTF-8, any case) as lower-case ASCII, checked; palloc'd.
 *		NULL with *reason when it is no host name.  Pure ASCII without
 *		"xn--" labels is only lower-cased; the rest goes through libidn2,
 *		which also checks that xn-- labels decode.  Called for the domain of
 *		an email and for a bare host in leadflow_company_domain.
 */
static char *
host_to_ascii(const char *host, const char **reason)
{
	char	   *ascii;

	if (*host == '\0')
	{
		*reason = "empty domain";
		return NULL;
	}
	if (is_ip_literal(host))
	{
		*reason = "domain is an ip address";
		return NULL;
	}
	if (LeadflowIsAscii(host) && !has_ace_label(host))
	{
		ascii = pstrdup(host);
		LeadflowAsciiLower(ascii);
	}
	else
	{
		char	   *idn = NULL;
		int			rc;

		if (strlen(host) > DOMAIN_MAX_INPUT_LEN)
		{
			*reason = "domain too long";
			return NULL;
		}
		rc = idn2_to_ascii_8z(host, &idn, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
		if (rc != IDN2_OK)
		{
			*reason = idn2_reason(rc);
			return NULL;
		}
		ascii = pstrdup(idn);
		idn2_free(idn);
		LeadflowAsciiLower(ascii);
	}

	*reason = check_ascii_host(ascii);
	if (*reason != NULL)
	{
		pfree(ascii);
		return NULL;
	}
	return ascii;
}

/*
 * LeadflowNormalizeEmail
 *		An email in its canonical form, or NULL with *reason (a static
 *		phrase) when it is no address.
 *
 * Called by the lead pipeline, leadflow_normalize_email and
 * leadflow_company_domain.  The result and *domain_out (the ASCII domain
 * of the result, gmail.com for googlemail.com) are palloc'd in the current
 * memory context.
 */
char *
LeadflowNormalizeEmail(const char *raw, char **domain_out, const char **reason)
{
	const char *start = raw;
	const char *end;
	char	   *copy;
	char	   *email;
	char	   *at;
	char	   *local;
	char	   *domain;
	char	   *plus;
	char	   *result;

	*reason = NULL;
	if (domain_out != NULL)
		*domain_out = NULL;

	while (LeadflowIsAsciiSpace((unsigned char) *start))
		start++;
	end = start + strlen(start);
	while (end > start && LeadflowIsAsciiSpace((unsigned char) end[-1]))
		end--;
	if (end == start)
	{
		*reason = "empty";
		return NULL;
	}
	if (end - start > LEADFLOW_EMAIL_MAX_LEN)
	{
		*reason = "too long";
		return NULL;
	}

	copy = pnstrdup(start, end - start);
	email = unconstify(char *, LeadflowServerToUtf8(copy));	/* ours either way */

	at = strchr(email, '@');
	if (at == NULL)
	{
		*reason = "missing @";
		return NULL;
	}
	if (strchr(at + 1, '@') != NULL)
	{
		*reason = "more than one @";
		return NULL;
	}
	*at = '\0';
	local = email;
	domain = at + 1;
	if (*local == '\0')
	{
		*reason = "empty local part";
		return NULL;
	}
	if (strlen(local) > EMAIL_LOCAL_MAX_LEN)
	{
		*reason = "local part too long";
		return NULL;
	}
	if (*domain == '\0')
	{
		*reason = "empty domain";
		return NULL;
	}

	local = normalize_local_part(local, reason);
	if (local == NULL)
		return NULL;
	domain = host_to_ascii(domain, reason);
	if (domain == NULL)
		return NULL;

	/* "ann+news" is ann; "+1234" stays what it is */
	plus = strchr(local, '+');
	if (plus != NULL && plus != local)
		*plus = '\0';

	if (strcmp(domain, "gmail.com") == 0 || strcmp(domain, "googlemail.com") == 0)
	{
		char	   *src;
		char	   *dst = local;

		for (src = local; *src; src++)
			if (*src != '.')
				*dst++ = *src;
		*dst = '\0';
		domain = "gmail.com";
		if (*local == '\0')
		{
			*reason = "empty local part";
			return NULL;
		}
	}

	result = LeadflowUtf8ToServer(psprintf("%s@%s", local, domain));
	if (domain_out != NULL)
		*domain_out = pstrdup(domain);
	return result;
}

/*
 * public_suffixes
 *		libpsl's built-in list (static, shared), or the system's list file
 *		when the library was built without one (loaded once, kept for the
 *		backend's life).
 */
static const psl_ctx_t *
public_suffixes(void)
{
	static const psl_ctx_t *psl = NULL;

	if (psl == NULL)
	{
		psl = psl_builtin();
		if (psl == NULL)
			psl = psl_latest(NULL);
		if (psl == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("public suffix list not available"),
					 errdetail("libpsl has no built-in list and found no list file."),
					 errhint("Install the publicsuffix package.")));
	}
	return psl;
}

/*
 * LeadflowRegistrableDomain
 *		The registrable domain of an ASCII host name, palloc'd in the
 *		current memory context; NULL when it has none.
 *
 * Called by the lead pipeline (with the domain LeadflowNormalizeEmail
 * returned) and leadflow_company_domain.
 */
char *
LeadflowRegistrableDomain(const char *ascii_host)
{
	char	   *host;
	const char *registrable;
	char	   *result = NULL;

	if (ascii_host == NULL || !LeadflowIsAscii(ascii_host) || is_ip_literal(ascii_host))
		return NULL;
	host = pstrdup(ascii_host);
	LeadflowAsciiLower(host);
	if (check_ascii_host(host) == NULL)
	{
		registrable = psl_registrable_domain(public_suffixes(), host);
		if (registrable != NULL)
			result = pstrdup(registrable);
	}
	pfree(host);
	return result;
}

/*
 * leadflow.normalize_email(email text) RETURNS text
 *		The canonical form of an email; error 22023 naming the value and the
 *		reason when it is no address.  Result in the function's context.
 */
PG_FUNCTION_INFO_V1(leadflow_normalize_email);
Datum
leadflow_normalize_email(PG_FUNCTION_ARGS)
{
	char	   *raw = text_to_cstring(PG_GETARG_TEXT_PP(0));
	const char *reason;
	char	   *email = LeadflowNormalizeEmail(raw, NULL, &reason);

	if (email == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid email %s: %s", LeadflowQuote(raw), reason),
				 errhint("An email address looks like name@example.com.")));
	PG_RETURN_TEXT_P(cstring_to_text(email));
}

/*
 * leadflow.company_domain(email_or_domain text) RETURNS text
 *		The registrable domain of an email's domain or of a host name; NULL
 *		when there is none (a public suffix, an IP address).  Free-mail
 *		providers are not filtered here.  Error 22023 for input that is
 *		neither.  Result in the function's context.
 */
PG_FUNCTION_INFO_V1(leadflow_company_domain);
Datum
leadflow_company_domain(PG_FUNCTION_ARGS)
{
	char	   *raw = text_to_cstring(PG_GETARG_TEXT_PP(0));
	const char *reason;
	char	   *host;
	char	   *registrable;

	if (strchr(raw, '@') != NULL)
	{
		if (LeadflowNormalizeEmail(raw, &host, &reason) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid email %s: %s", LeadflowQuote(raw), reason),
					 errhint("An email address looks like name@example.com.")));
	}
	else
	{
		char	   *start = raw;
		char	   *end;

		while (LeadflowIsAsciiSpace((unsigned char) *start))
			start++;
		end = start + strlen(start);
		while (end > start && LeadflowIsAsciiSpace((unsigned char) end[-1]))
			end--;
		*end = '\0';

		if (is_ip_literal(start))
			PG_RETURN_NULL();
		if (end - start > DOMAIN_MAX_INPUT_LEN)
		{
			host = NULL;
			reason = "domain too long";
		}
		else
			host = host_to_ascii(LeadflowServerToUtf8(start), &reason);
		if (host == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid domain %s: %s", LeadflowQuote(raw), reason),
					 errhint("Pass an email address or a host name such as mail.example.co.uk.")));
	}

	registrable = LeadflowRegistrableDomain(host);
	if (registrable == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(registrable));
}

/*
 * leadflow.normalize_phone(phone text, region text) RETURNS text
 *		The E.164 form of a phone number read with a default region; error
 *		22023 naming the value and the reason when it is none.  Result in
 *		the function's context.
 */
PG_FUNCTION_INFO_V1(leadflow_normalize_phone);
Datum
leadflow_normalize_phone(PG_FUNCTION_ARGS)
{
	char	   *raw = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *region = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char		e164[LEADFLOW_E164_BUFSIZE];
	const char *reason;

	if (!leadflow_phone_e164(LeadflowServerToUtf8(raw), region, e164, sizeof(e164), &reason))
	{
		if (strcmp(reason, "unknown region") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid phone %s: %s", LeadflowQuote(raw), reason),
					 errdetail("The default region is %s.", LeadflowQuote(region)),
					 errhint("A region is a two-letter ISO 3166 country code such as US, GB or DE.")));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid phone %s: %s", LeadflowQuote(raw), reason),
				 errdetail("The default region is %s.", LeadflowQuote(region)),
				 errhint("Give the number with its area code, or in international format starting with + and the country code.")));
	}
	PG_RETURN_TEXT_P(cstring_to_text(e164));
}
