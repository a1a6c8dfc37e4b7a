/*
 * phone_compact.cpp
 *	  leadflow_phone_e164 parses a number written the plain way in its
 *	  compact form (phone.cpp, compact_plain_number).  This checks that the
 *	  shortcut changes nothing: for a table of numbers and random strings,
 *	  in several regions, libphonenumber's Parse gives the same outcome and
 *	  the same PhoneNumber for the compact form as for the number as typed,
 *	  and leadflow_phone_e164 the same E.164 or reason as the as-typed path.
 *	  The region of the number, read from that parse, is the one of the
 *	  E.164 result parsed again (how validate.c found it before), also for
 *	  the example numbers of every region libphonenumber knows.
 *	  Run by test/phone.sh; prints the differences, exits 1 on any.
 */
#include "../src/phone.cpp"

#include <cstdio>
#include <cstdlib>
#include <set>

static int	failures = 0;
static int	compared = 0;

/* the region of an E.164 number parsed again, "" for none */
static std::string
region_of_e164(const char *e164)
{
	PhoneNumber number;
	std::string region;

	if (phone_util()->Parse(e164, "ZZ", &number) != PhoneNumberUtil::NO_PARSING_ERROR)
		return "";
	phone_util()->GetRegionCodeForNumber(number, &region);
	return region.size() == 2 && region != "ZZ" ? region : "";
}

static void
check(const char *raw, const char *region)
{
	char		compact[PHONE_MAX_INPUT_LEN + 1];
	char		out_typed[LEADFLOW_E164_BUFSIZE];
	char		out_now[LEADFLOW_E164_BUFSIZE];
	const char *reason_typed = NULL;
	const char *reason_now = NULL;
	char		number_region[3];
	bool		ok_typed;
	bool		ok_now;

	if (strlen(raw) > PHONE_MAX_INPUT_LEN)
		return;
	out_typed[0] = '\0';
	ok_typed = phone_e164_parsed(raw, region, out_typed, sizeof(out_typed), NULL, &reason_typed);
	ok_now = leadflow_phone_e164_region(raw, region, out_now, sizeof(out_now), number_region, &reason_now);
	if (ok_typed != ok_now || strcmp(out_typed, out_now) != 0 ||
		(reason_typed == NULL) != (reason_now == NULL) ||
		(reason_typed != NULL && strcmp(reason_typed, reason_now) != 0))
	{
		printf("differs: \"%s\" in %s: as typed %s \"%s\" (%s), now %s \"%s\" (%s)\n", raw, region,
			   ok_typed ? "ok" : "refused", out_typed, reason_typed ? reason_typed : "",
			   ok_now ? "ok" : "refused", out_now, reason_now ? reason_now : "");
		failures++;
	}
	if (ok_now && region_of_e164(out_now) != number_region)
	{
		printf("region differs: \"%s\" in %s: %s parsed again is in \"%s\", the parse said \"%s\"\n",
			   raw, region, out_now, region_of_e164(out_now).c_str(), number_region);
		failures++;
	}
	if (compact_plain_number(raw, compact))
	{
		PhoneNumber a;
		PhoneNumber b;
		PhoneNumberUtil::ErrorType ea = phone_util()->Parse(raw, region, &a);
		PhoneNumberUtil::ErrorType eb = phone_util()->Parse(compact, region, &b);

		if (ea != eb || a.SerializePartialAsString() != b.SerializePartialAsString())
		{
			printf("Parse differs: \"%s\" and \"%s\" in %s: errors %d and %d, +%d %llu and +%d %llu\n",
				   raw, compact, region, (int) ea, (int) eb,
				   a.country_code(), (unsigned long long) a.national_number(),
				   b.country_code(), (unsigned long long) b.national_number());
			failures++;
		}
		compared++;
	}
}

int
main(void)
{
	static const char *const table[] = {
		/* national and international forms */
		"(212) 555-0123", "212-555-0123", "212.555.0123", "2125550123", "1 (212) 555-0123",
		"+1 212 555 0123", "+1 (212) 555-0123", "+12125550123", "001 212 555 0123", "011 44 20 7946 0000",
		"020 7946 0000", "+44 20 7946 0000", "+44 (0) 20 7946 0000", "+44 (0)20 7946 0000", "07911 123456",
		"030 1234567", "+49 30 1234567", "0049 30 1234567", "+49 (0)30 1234567", "0 30 12 34 56 7",
		"06 1234 5678", "+39 06 1234 5678", "+39 333 123 4567", "06.1234.5678", "+33 1 23 45 67 89",
		"01 23 45 67 89", "(11) 91234-5678", "+55 11 91234-5678", "+55 (11) 91234-5678", "0800 123 456",
		"+800 1234 5678", "+882 1234 5678", "+1-800-555-0199", "1-800-555-0199", "(02) 1234 5678",
		/* extensions */
		"212 555 0123 ext. 12", "212 555 0123 x12", "+1 212 555 0123 #12", "212-555-0123 ext 7",
		"+1 212 555 0123;ext=12", "212 555 0123 - 503#", "212 555 0123,,12", "212 555 0123 ;12",
		"tel:+1-212-555-0123", "tel:+1-212-555-0123;ext=5", "+1 212 555 0123 / x 5",
		/* vanity numbers */
		"1-800-FLOWERS", "555-CALL-NOW", "+1 800 FLOWERS", "1 800 GOT JUNK", "tel 212 555 0123",
		/* short, long, odd and invalid */
		"", " ", "+", "++", "+1", "12", "1 2", "1-2", "123", "1 2 3", "(1)(2)(3)", "+1 2", "+12", "+123",
		"911", "112", "+999 123 456", "+0 123 456", "0000000", "---", "()", ". . .", "+-1-2-3-4-5-6-7",
		"-212-555-0123-", "(212 555 0123", "212) 555 0123", "+ 1 212 555 0123", "+(1) 212 555 0123",
		" +1 212 555 0123", "+1 212 555 0123 ", "12345678901234567890", "+123456789012345678901",
		"1234567890123456789012345678901234567890", "abc", "phone", "n/a", "none", "0", "00", "000",
		"+1 212 555 0123 +1 212 555 0124", "212/555/0123", "212 555 0123 / 212 555 0124",
		"\xef\xbc\x8b\x31 212 555 0123", "\xd9\xa2\xd9\xa1\xd9\xa2 555 0123", "212\t555\t0123",
		"212\xc2\xa0" "555 0123",
	};
	static const char *const regions[] = {"US", "GB", "DE", "IT", "FR", "BR", "AU", "ZZ", "", "us", "XX"};
	/* the plain way (even rounds) and with what is not plain (odd rounds) */
	static const char plain[] = "+0123456789 ().-";
	static const char alphabet[] = "+0123456789 ().-x#,;a/";
	unsigned int seed = 21;

	for (const char *raw : table)
		for (const char *region : regions)
			check(raw, region);
	/* random strings over the characters that matter, fixed seed */
	for (int i = 0; i < 4000; i++)
	{
		const char *chars = i % 2 == 0 ? plain : alphabet;
		size_t		nchars = strlen(chars);
		char		raw[24];
		int			len = rand_r(&seed) % 20;

		for (int j = 0; j < len; j++)
			raw[j] = chars[rand_r(&seed) % nchars];
		raw[len] = '\0';
		check(raw, regions[i % 8]);
	}
	/* every region's example numbers, international and with the IDD 00 */
	{
		std::set<std::string> supported;
		static const PhoneNumberUtil::PhoneNumberType types[] = {
			PhoneNumberUtil::FIXED_LINE, PhoneNumberUtil::MOBILE, PhoneNumberUtil::TOLL_FREE,
			PhoneNumberUtil::PREMIUM_RATE, PhoneNumberUtil::VOIP, PhoneNumberUtil::UAN};

		phone_util()->GetSupportedRegions(&supported);
		for (const std::string &r : supported)
			for (PhoneNumberUtil::PhoneNumberType type : types)
			{
				PhoneNumber example;
				std::string text;

				if (!phone_util()->GetExampleNumberForType(r, type, &example))
					continue;
				phone_util()->Format(example, PhoneNumberUtil::INTERNATIONAL, &text);
				check(text.c_str(), "US");
				check(("00" + text.substr(1)).c_str(), "DE");
				phone_util()->Format(example, PhoneNumberUtil::NATIONAL, &text);
				check(text.c_str(), r.c_str());
			}
	}
	printf("phone compact form: %d compared with Parse, %d differences\n", compared, failures);
	return failures > 0 || compared == 0;
}
