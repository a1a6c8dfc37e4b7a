-- Normalization: emails, company domains, phone numbers, name similarity
-- (normalize.c, phone.cpp).  Pure functions: no org, no tables.
--
-- Results with non-ASCII text are printed unaligned: psql pads aligned
-- columns by the client encoding's character widths, and this file must
-- give the same output in a UTF8 and in an SQL_ASCII database (the
-- functions read SQL_ASCII bytes as UTF-8).  Non-ASCII characters that
-- cannot be seen are written with convert_from for the same reason.
\set VERBOSITY terse
\pset null '(null)'

-- the four functions: immutable, strict, parallel safe
SELECT p.oid::regprocedure AS function, p.provolatile, p.proisstrict, p.proparallel,
       obj_description(p.oid, 'pg_proc') IS NOT NULL AS commented
  FROM pg_proc p
 WHERE p.pronamespace = 'leadflow'::regnamespace
   AND p.proname IN ('normalize_email', 'company_domain', 'normalize_phone', 'name_similarity')
 ORDER BY 1::text;

------------------------------------------------------------------------------
-- normalize_email: good addresses
------------------------------------------------------------------------------

SELECT input, leadflow.normalize_email(input) AS normalized
  FROM (VALUES
    ('John.Doe@Example.COM'),           -- lower case; dots kept
    ('  ann@example.com  '),            -- surrounding spaces
    ('Ann+news@Example.com'),           -- +tag removed
    ('ann+a+b@example.com'),            -- from the first +
    ('+1234@example.com'),              -- a leading + is no tag
    ('J.Doe+news@gmail.com'),           -- Gmail ignores dots
    ('J.D.o.e@GoogleMail.com'),         -- googlemail.com is gmail.com
    ('j.doe@mail.gmail.com'),           -- only gmail.com itself
    ('j.doe@acme.com'),                 -- dots kept elsewhere
    ('o''brien_2{x}@example.ie'),       -- RFC 5322 atext
    ('.a..b.@example.com'),             -- dots anywhere (HTML5's rule)
    ('User+tag@Mail.Example.co.uk'),
    ('a@XN--MLLER-KVA.DE')              -- A-label checked, lower-cased
  ) v(input);

-- white space other than spaces is trimmed too
SELECT leadflow.normalize_email(E'\t ann@example.com \r\n') AS trimmed;

-- 254 bytes is the limit, in bytes after trimming
SELECT length(leadflow.normalize_email(
         '  ' || repeat('a', 64) || '@' || repeat('b', 63) || '.' || repeat('c', 63) || '.'
         || repeat('d', 57) || '.com  ')) AS longest;

-- IDN: the domain goes to ASCII (IDNA2008, UTS #46 non-transitional); the
-- local part stays UTF-8, lower-cased (whatever the database locale) and in NFC
\pset format unaligned
SELECT input, leadflow.normalize_email(input) AS normalized
  FROM (VALUES
    ('Jörg@Müller.de'),
    ('ÖZIL@Bücher.Example.de'),
    ('faß@Faß.de'),                     -- non-transitional: ß stays ß
    ('ann@ＥＸＡＭＰＬＥ。com'),         -- full-width letters and dot mapped
    ('用户@例子.广告')
  ) v(input);
\pset format aligned

-- decomposed and precomposed ö give the same address
SELECT leadflow.normalize_email('J' || convert_from('\x6fcc88', 'UTF8') || 'rg@example.de')
     = leadflow.normalize_email('J' || convert_from('\xc3b6', 'UTF8') || 'rg@example.de') AS nfc;

------------------------------------------------------------------------------
-- normalize_email: refused with 22023, the value and the reason
------------------------------------------------------------------------------

SELECT leadflow.normalize_email('john.doe@');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.normalize_email('@x.com');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.normalize_email('jane@@x.com');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.normalize_email('no-at-sign.com');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.normalize_email('   ');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.normalize_email('a b@x.com');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.normalize_email('John Doe <john@x.com>');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
-- a no-break space (U+00A0) is no character of an address
SELECT leadflow.normalize_email('a' || convert_from('\xc2a0', 'UTF8') || 'b@x.com');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
-- nothing left once Gmail's dots are gone
SELECT leadflow.normalize_email('.@gmail.com');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.normalize_email('a@x..com');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.normalize_email('a@example.com.');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.normalize_email('a@-x.com');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.normalize_email('a@x');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.normalize_email('a@x_y.com');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.normalize_email('a@example.123');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.normalize_email('a@[192.168.0.1]');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.normalize_email('a@192.168.0.1');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
-- emoji are not allowed in IDNA2008 domains
SELECT leadflow.normalize_email('ann@💩.la');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
-- an A-label that is not Punycode
SELECT leadflow.normalize_email('a@xn--zz.com');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.normalize_email(repeat('a', 65) || '@x.com');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.normalize_email('a@' || repeat('b', 64) || '.com');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
-- 255 bytes; the message cuts the value after 80 bytes
SELECT leadflow.normalize_email(repeat('a', 64) || '@' || repeat('b', 63) || '.' || repeat('c', 63)
                                || '.' || repeat('d', 58) || '.com');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.normalize_email(repeat('x', 1000000) || '@example.com');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

-- a megabyte is refused before any other work: refusing 20 of them costs
-- at most ten times what building the same 20 strings and catching an
-- error costs, both timed in this run (a ratio: a loaded machine slows
-- both alike; parsing or normalizing a megabyte would cost far more)
DO $$
DECLARE
    started timestamptz;
    refusing interval;
    baseline interval;
BEGIN
    started := clock_timestamp();
    FOR i IN 1..20 LOOP
        BEGIN
            PERFORM leadflow.normalize_email(repeat(' ', i) || repeat('x', 1000000) || '@example.com');
            RAISE 'a megabyte of email was accepted';
        EXCEPTION WHEN invalid_parameter_value THEN
            NULL;
        END;
    END LOOP;
    refusing := clock_timestamp() - started;
    started := clock_timestamp();
    FOR i IN 1..20 LOOP
        BEGIN
            PERFORM length(repeat(' ', i) || repeat('x', 1000000) || '@example.com');
            RAISE invalid_parameter_value;
        EXCEPTION WHEN invalid_parameter_value THEN
            NULL;
        END;
    END LOOP;
    baseline := clock_timestamp() - started;
    IF refusing > 10 * baseline THEN
        RAISE 'refusing 20 huge emails took %, building and catching them %', refusing, baseline;
    END IF;
END
$$;

-- the full report: value, reason, hint
\set VERBOSITY default
SELECT leadflow.normalize_email('jane@@x.com');
\set VERBOSITY terse

------------------------------------------------------------------------------
-- company_domain: registrable domain of an email or a host name
------------------------------------------------------------------------------

-- libpsl's built-in list, ICANN and private sections: github.io is a
-- public suffix, so foo.github.io is a company of its own; unknown
-- top-level domains follow the "*" rule; free mail is not filtered here
SELECT input, leadflow.company_domain(input) AS company_domain
  FROM (VALUES
    ('mail.eu.acme.co.uk'),
    ('x.y.example.com.au'),
    ('  WWW.Example.ORG  '),
    ('Ann.Lee+x@Sales.ACME.com'),
    ('ann@googlemail.com'),
    ('foo.github.io'),
    ('a.b.foo.github.io'),
    ('github.io'),
    ('co.uk'),
    ('mail.example.local'),
    ('192.168.0.1'),
    ('[192.168.0.1]'),
    ('2001:db8::1')
  ) v(input);

\pset format unaligned
SELECT input, leadflow.company_domain(input) AS company_domain
  FROM (VALUES
    ('shop.Bücher.de'),
    ('Jörg@mail.Müller.de')
  ) v(input);
\pset format aligned

SELECT leadflow.company_domain('');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.company_domain('x..com');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.company_domain('localhost');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.company_domain('https://acme.com/about');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.company_domain('ann@x');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.company_domain('ann@[192.168.0.1]');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

------------------------------------------------------------------------------
-- normalize_phone: E.164 with a default region
------------------------------------------------------------------------------

SELECT input, region, leadflow.normalize_phone(input, region) AS e164
  FROM (VALUES
    ('(415) 555-0100', 'US'),
    ('415.555.0100', 'US'),
    ('+1 415 555 0100', 'US'),
    ('1-415-555-0100', 'US'),
    ('415-555-0100 ext. 12', 'US'),     -- E.164 has no extension
    ('(415) 555-0100', 'us'),           -- region in any case
    ('1-800-FLOWERS', 'US'),            -- letters of a vanity number
    ('030 1234567', 'DE'),
    ('+49 30 1234567', 'DE'),
    ('020 7946 0958', 'GB'),
    ('+44 20 7946 0958', 'US'),         -- international format wins
    ('0044 20 7946 0958', 'DE'),        -- so does the region's exit code
    ('+44 20 7946 0958', '')            -- no region: international only
  ) v(input, region);

-- the default region is US
SELECT leadflow.normalize_phone('(415) 555-0100') AS default_region;
-- strict: no region, no answer
SELECT leadflow.normalize_phone('(415) 555-0100', NULL) AS null_region;

\pset format unaligned
SELECT leadflow.normalize_phone('（４１５）５５５－０１００') AS full_width;
\pset format aligned

SELECT leadflow.normalize_phone('12');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.normalize_phone('call me');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.normalize_phone('');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.normalize_phone('+999 123');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
-- a local number without its area code cannot be written in E.164
SELECT leadflow.normalize_phone('555-0100', 'US');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.normalize_phone('+1 415 555 0100 1234 5678');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.normalize_phone(repeat('1', 1000000));
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.normalize_phone('020 7946 0958', '');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.normalize_phone('030 1234567', 'ZZ');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
SELECT leadflow.normalize_phone('030 1234567', 'Germany');
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;

\set VERBOSITY default
SELECT leadflow.normalize_phone('555-0100', 'US');
SELECT leadflow.normalize_phone('030 1234567', 'ZZ');
\set VERBOSITY terse

------------------------------------------------------------------------------
-- name_similarity: Jaro-Winkler, case-folded, white space collapsed
------------------------------------------------------------------------------

SELECT a, b, round(leadflow.name_similarity(a, b)::numeric, 3) AS similarity,
       leadflow.name_similarity(a, b) = leadflow.name_similarity(b, a) AS symmetric
  FROM (VALUES
    ('martha', 'marhta'),
    ('dwayne', 'duane'),
    ('dixon', 'dicksonx'),
    ('Ann Lee', 'Ann Lee'),
    ('MARTHA', 'martha'),
    ('  Mary   Ann ', 'mary ann'),
    ('Mary Ann', 'MaryAnn'),
    ('abc', 'xyz'),
    ('', ''),
    ('', 'x'),
    ('   ', 'x')
  ) v(a, b);

-- by characters, not bytes: ü is one character
\pset format unaligned
SELECT a, b, round(leadflow.name_similarity(a, b)::numeric, 3) AS similarity
  FROM (VALUES
    ('Jürgen', 'Jurgen'),
    ('JÜRGEN', 'jürgen'),
    ('Zoë', 'ZOË'),
    ('Jürgen', 'Jxrgen')
  ) v(a, b);
\pset format aligned

-- decomposed and precomposed ü are the same character
SELECT leadflow.name_similarity('J' || convert_from('\x75cc88', 'UTF8') || 'rgen',
                                'J' || convert_from('\xc3bc', 'UTF8') || 'rgen') AS nfc;
