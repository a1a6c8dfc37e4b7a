/*-------------------------------------------------------------------------
 *
 * normalize.h
 *	  The pure normalization layer: emails, company domains, phone numbers
 *	  and name similarity.  No SPI, no table access; the lead pipeline and
 *	  the SQL functions of the same names call these.
 *
 *	  email.c (emails, company domains) and names.c implement everything
 *	  but the phone number, which lives in phone.cpp behind a plain C
 *	  interface.  This header is included
 *	  from C (after postgres.h) and from C++ (phone.cpp, without any
 *	  PostgreSQL header), so it uses only <stdbool.h> and <stddef.h>.
 *	  Across the C/C++ boundary "bool" is C99 _Bool, which PostgreSQL 15's
 *	  c.h also uses, and is the same type as C++ bool on every platform
 *	  PostgreSQL supports.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LEADFLOW_NORMALIZE_H
#define LEADFLOW_NORMALIZE_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C"
{
#endif

/* longest email we accept, in bytes after trimming (RFC 5321 path limit) */
#define LEADFLOW_EMAIL_MAX_LEN		254

/*
 * room for any number libphonenumber formats as E.164: "+", a country code
 * of up to 3 digits, a national number of up to 17 digits, NUL
 */
#define LEADFLOW_E164_BUFSIZE		32

/*
 * Normalizes an email: trim, lower case, IDN domain to ASCII (libidn2,
 * IDNA2008 non-transitional, NFC input), "+tag" removed from the local part,
 * dots removed from the local part for gmail.com and googlemail.com, and
 * googlemail.com mapped to gmail.com.  Returns a palloc'd string, or NULL
 * with *reason set to a static English phrase (lower case, no period).
 * If domain_out != NULL, *domain_out receives the palloc'd ASCII domain of
 * the result.
 */
extern char *LeadflowNormalizeEmail(const char *raw, char **domain_out, const char **reason);

/*
 * Registrable domain (lower-case ASCII) of an ASCII host name, from
 * libpsl's built-in list, ICANN and private sections.  NULL when there is
 * none (the name is itself a public suffix, an IP literal, or invalid).
 * palloc'd.
 */
extern char *LeadflowRegistrableDomain(const char *ascii_host);

/*
 * Name similarity in [0,1]: Jaro-Winkler over case-folded,
 * whitespace-collapsed strings, by characters.  Both empty -> 1, one
 * empty -> 0.
 */
extern double LeadflowNameSimilarity(const char *a, const char *b);

/*
 * numbers.c: a human number ("1,200", "500+", "1.5k", "$5M") as a plain
 * palloc'd decimal; NULL for blank (*problem NULL) or with *problem one of
 * not_a_number, range, ambiguous, negative, not_whole, too_large.
 */
extern char *LeadflowParseNumber(const char *raw, bool whole, const char **problem);

/*
 * country.c: the comparison key of a place name (palloc'd); the ISO
 * 3166-1 alpha-2 code of a country as typed, the ISO 3166-2 subdivision
 * code (no country prefix) of a state as typed in a country: static
 * strings, NULL when unknown.
 */
extern char *LeadflowPlaceKey(const char *raw);
extern const char *LeadflowCountryCode(const char *raw);
extern const char *LeadflowSubdivisionCode(const char *country, const char *raw);

/* source.c: a source's canonical spelling ("Web Form" -> web_form), palloc'd */
extern char *LeadflowSourceKey(const char *raw);

/*
 * Whether a phone number spells letters for digits ("555-CALL-NOW"):
 * letters other than an extension mark ("ext", "x") or a label ("tel").
 */
extern bool LeadflowPhoneHasLetters(const char *raw);

/*
 * phone.cpp: parses raw (UTF-8) with a default region (ISO 3166 alpha-2;
 * NULL or "" accepts international numbers only) and writes E.164 into
 * out.  Returns true on success, false with *reason a static phrase.
 * Never throws, never calls PostgreSQL.
 */
extern bool leadflow_phone_e164(const char *raw, const char *region,
								char *out, size_t outlen, const char **reason);

/*
 * phone.cpp: leadflow_phone_e164 that also writes the region the number
 * belongs to (ISO 3166-1 alpha-2, into number_region of 3 bytes; "" for
 * none, such as +800) when number_region is not NULL.  Never throws.
 */
extern bool leadflow_phone_e164_region(const char *raw, const char *region,
									   char *out, size_t outlen,
									   char *number_region, const char **reason);

#ifdef __cplusplus
}
#endif

#endif							/* LEADFLOW_NORMALIZE_H */
