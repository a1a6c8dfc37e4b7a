/*-------------------------------------------------------------------------
 *
 * phone.cpp
 *	  Phone numbers to E.164 through libphonenumber, behind one plain C
 *	  function.
 *
 *	  This file calls no PostgreSQL function: palloc and ereport may
 *	  longjmp, which must never cross C++ frames, and a C++ exception must
 *	  never reach PostgreSQL.  So the caller passes a buffer, gets a status
 *	  and a static reason, and every exception is caught here.
 *	  libphonenumber's log goes to a NullLogger, never to the server's
 *	  stderr.
 *
 *-------------------------------------------------------------------------
 */
#include <cstring>
#include <string>

#include <phonenumbers/logger.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include "normalize.h"

using i18n::phonenumbers::NullLogger;
using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

/* libphonenumber refuses longer input too (kMaxInputStringLength) */
#define PHONE_MAX_INPUT_LEN		250

static bool phone_e164_parsed(const char *raw, const char *region, char *out,
							  size_t outlen, char *number_region, const char **reason);

/*
 * The libphonenumber singleton, its logger muted on first use.  Called
 * inside a try block; the instance lives for the backend (libphonenumber
 * owns it).
 */
static const PhoneNumberUtil *
phone_util(void)
{
	static PhoneNumberUtil *util = NULL;

	if (util == NULL)
	{
		PhoneNumberUtil *u = PhoneNumberUtil::GetInstance();

		u->SetLogger(new NullLogger());		/* takes ownership */
		util = u;
	}
	return util;
}

/*
 * The digits of raw with the separators between them removed, into buf
 * (at least strlen(raw) + 1 bytes), when raw is written the plain way: an
 * optional "+" first, then only ASCII digits, spaces, "(", ")", "-" and
 * ".", with at least 3 digits.  libphonenumber's Parse reads such a number
 * exactly as its compact form -- every step that sees the separators
 * (start and end trimming, the viability pattern, which needs 3 digits
 * with or without them, the extension patterns, which need a letter or
 * one of #,;~) treats them as punctuation that Normalize drops -- but
 * runs its ICU regular expressions over every separator: the compact form
 * costs about 40% less.  False for anything else, which is parsed as typed.
 */
static bool
compact_plain_number(const char *raw, char *buf)
{
	const char *s = raw;
	char	   *d = buf;
	int			digits = 0;

	if (*s == '+')
		*d++ = *s++;
	for (; *s; s++)
	{
		if (*s >= '0' && *s <= '9')
		{
			*d++ = *s;
			digits++;
		}
		else if (strchr(" ().-", *s) == NULL)
			return false;
	}
	*d = '\0';
	return digits >= 3;
}

/*
 * leadflow_phone_e164_region
 *		Parses raw (UTF-8) with the default region and writes E.164 into
 *		out (outlen bytes, NUL-terminated) and, when number_region is not
 *		NULL, the number's own region into it (3 bytes).
 *
 * Called by the lead pipeline (through leadflow_phone_e164 too) and
 * leadflow_normalize_phone.  region is an ISO 3166 alpha-2 code in any
 * case; NULL or "" means numbers must be in international format.  A
 * number is accepted when it parses and is a possible number with its area
 * code (IsPossibleNumberWithReason says IS_POSSIBLE; IS_POSSIBLE_LOCAL_ONLY,
 * a number without its area code, is "too short").  An extension ("ext.
 * 12") is dropped: E.164 has none.  The number's region is the ISO 3166-1
 * alpha-2 code it belongs to ("DE" for +49 30 ..., "US" or "CA" for +1 by
 * area code), "" when it belongs to no single region (a non-geographic +800
 * number): read from the same parse, not by parsing the result again.
 * Returns false with *reason a static phrase otherwise; allocates nothing
 * the caller must free.
 */
extern "C" bool
leadflow_phone_e164_region(const char *raw, const char *region, char *out, size_t outlen,
						   char *number_region, const char **reason)
{
	char		compact[PHONE_MAX_INPUT_LEN + 1];

	*reason = NULL;
	if (number_region != NULL)
		number_region[0] = '\0';
	if (out == NULL || outlen == 0)
	{
		*reason = "no room for the result";
		return false;
	}
	out[0] = '\0';
	if (raw == NULL)
	{
		*reason = "not a phone number";
		return false;
	}
	if (strlen(raw) > PHONE_MAX_INPUT_LEN)
	{
		*reason = "too long";
		return false;
	}
	return phone_e164_parsed(compact_plain_number(raw, compact) ? compact : raw,
							 region, out, outlen, number_region, reason);
}

/* leadflow_phone_e164_region without the number's region */
extern "C" bool
leadflow_phone_e164(const char *raw, const char *region, char *out, size_t outlen,
					const char **reason)
{
	return leadflow_phone_e164_region(raw, region, out, outlen, NULL, reason);
}

/*
 * leadflow_phone_e164_region after its checks of the arguments: raw as
 * Parse reads it (see compact_plain_number), at most PHONE_MAX_INPUT_LEN
 * bytes.
 */
static bool
phone_e164_parsed(const char *raw, const char *region, char *out, size_t outlen,
				  char *number_region, const char **reason)
{
	char		region_code[3] = "ZZ";	/* libphonenumber's "unknown" */

	try
	{
		const PhoneNumberUtil *util = phone_util();
		PhoneNumber number;
		std::string e164;

		if (region != NULL && region[0] != '\0')
		{
			int			i;

			for (i = 0; i < 2; i++)
			{
				char		c = region[i];

				if (c >= 'a' && c <= 'z')
					c -= 'a' - 'A';
				if (c < 'A' || c > 'Z')
					break;
				region_code[i] = c;
			}
			if (i < 2 || region[2] != '\0' ||
				util->GetCountryCodeForRegion(region_code) == 0)
			{
				*reason = "unknown region";
				return false;
			}
		}

		switch (util->Parse(raw, region_code, &number))
		{
			case PhoneNumberUtil::NO_PARSING_ERROR:
				break;
			case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
				*reason = "invalid country code";
				return false;
			case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
			case PhoneNumberUtil::TOO_SHORT_NSN:
				*reason = "too short";
				return false;
			case PhoneNumberUtil::TOO_LONG_NSN:
				*reason = "too long";
				return false;
			case PhoneNumberUtil::NOT_A_NUMBER:
			default:
				*reason = "not a phone number";
				return false;
		}

		switch (util->IsPossibleNumberWithReason(number))
		{
			case PhoneNumberUtil::IS_POSSIBLE:
				break;
			case PhoneNumberUtil::INVALID_COUNTRY_CODE:
				*reason = "invalid country code";
				return false;
			case PhoneNumberUtil::IS_POSSIBLE_LOCAL_ONLY:
			case PhoneNumberUtil::TOO_SHORT:
				*reason = "too short";
				return false;
			case PhoneNumberUtil::TOO_LONG:
				*reason = "too long";
				return false;
			case PhoneNumberUtil::INVALID_LENGTH:
			default:
				*reason = "invalid length";
				return false;
		}

		util->Format(number, PhoneNumberUtil::E164, &e164);
		if (e164.size() >= outlen)
		{
			*reason = "no room for the result";
			return false;
		}
		memcpy(out, e164.c_str(), e164.size() + 1);
		if (number_region != NULL)
		{
			std::string own;

			util->GetRegionCodeForNumber(number, &own);
			if (own.size() == 2 && own != "ZZ")
				memcpy(number_region, own.c_str(), 3);
		}
		return true;
	}
	catch (...)
	{
		out[0] = '\0';
		if (number_region != NULL)
			number_region[0] = '\0';
		*reason = "phone number library error";
		return false;
	}
}

/*
 * LeadflowPhoneHasLetters
 *		Whether raw spells letters for digits, as vanity numbers do
 * ("555-CALL-NOW", which libphonenumber would read as 555-2255-669).  A
 * run of ASCII letters is allowed only as a label in front ("tel", "phone",
 * "mobile", "cell", "fax") or as an extension mark ("ext", "x"), after
 * which the rest is the extension.
 */
extern "C" bool
LeadflowPhoneHasLetters(const char *raw)
{
	static const char *const labels[] = {"tel", "phone", "ph", "mobile", "mob", "cell", "fax", "t", "m"};
	bool		seen_digit = false;
	const char *s = raw;

	while (*s)
	{
		char		run[16];
		size_t		len = 0;

		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		{
			if (*s >= '0' && *s <= '9')
				seen_digit = true;
			s++;
			continue;
		}
		while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))
		{
			if (len < sizeof(run) - 1)
				run[len++] = (*s >= 'A' && *s <= 'Z') ? *s - 'A' + 'a' : *s;
			else
				len = sizeof(run);	/* too long for any allowed word */
			s++;
		}
		if (len >= sizeof(run))
			return true;
		run[len] = '\0';
		if (seen_digit)
		{
			/* after digits only an extension mark; the rest is the extension */
			if (strcmp(run, "ext") == 0 || strcmp(run, "extension") == 0 || strcmp(run, "x") == 0)
				return false;
			return true;
		}
		{
			bool		label = false;

			for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
				label |= strcmp(run, labels[i]) == 0;
			if (!label)
				return true;
		}
	}
	return false;
}
