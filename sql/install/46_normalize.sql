------------------------------------------------------------------------------
-- Normalization functions (normalize.c, phone.cpp)
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.normalize_email(email text)
RETURNS text
AS 'MODULE_PATHNAME', 'leadflow_normalize_email'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.normalize_email(text) IS
    'The canonical form of an email, as stored in leads.email_normalized: trimmed, lower case, IDN domain in ASCII (IDNA2008), +tag removed, dots removed for Gmail, googlemail.com as gmail.com. Error 22023 naming the value and the reason when it is no address.';

CREATE FUNCTION @extschema@.company_domain(email_or_domain text)
RETURNS text
AS 'MODULE_PATHNAME', 'leadflow_company_domain'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.company_domain(text) IS
    'Registrable domain (public suffix list, ICANN and private sections) of an email''s domain or of a host name: mail.eu.acme.co.uk gives acme.co.uk. NULL for a public suffix or an IP address. Free-mail providers are not filtered here. Error 22023 for input that is neither an email nor a host name.';

CREATE FUNCTION @extschema@.normalize_phone(phone text, region text DEFAULT 'US')
RETURNS text
AS 'MODULE_PATHNAME', 'leadflow_normalize_phone'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.normalize_phone(text, text) IS
    'A phone number in E.164 (+14155550100), read with libphonenumber; region (ISO 3166 alpha-2) applies to numbers without a country code. Error 22023 naming the value and the reason when it is not a possible number.';

CREATE FUNCTION @extschema@.name_similarity(a text, b text)
RETURNS double precision
AS 'MODULE_PATHNAME', 'leadflow_name_similarity'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.name_similarity(text, text) IS
    'Jaro-Winkler similarity of two names in [0,1], by characters, ignoring case and extra white space: 1 for equal names, 1 when both are empty, 0 when one is.';

-- Countries and states as ISO codes (country.c), from Debian's iso-codes
CREATE FUNCTION @extschema@.country_code(country text)
RETURNS text
AS 'MODULE_PATHNAME', 'leadflow_country_code'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.country_code(text) IS
    'The ISO 3166-1 alpha-2 code the pipeline stores in leads.country for a country as typed: English and local names (Germany, Deutschland, Allemagne), alpha-2 and alpha-3 codes, aliases such as UK, USA, Holland; case, accents, dots and a leading "the" do not matter. NULL when unknown (the lead keeps the value as typed, with data issue country: unknown).';

CREATE FUNCTION @extschema@.subdivision_code(country text, state text)
RETURNS text
AS 'MODULE_PATHNAME', 'leadflow_subdivision_code'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.subdivision_code(text, text) IS
    'The ISO 3166-2 subdivision code without the country prefix the pipeline stores in leads.state for a state as typed in a country (California -> CA, Bayern or Bavaria -> BY, Ontario -> ON). NULL when the country or the state is unknown.';
