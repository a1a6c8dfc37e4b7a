-- The capture parsers of issue 18, table-driven: human numbers
-- (parse_number / number_problem), what makes a phone unusable, countries
-- and states, the CSV reader and header mapping of stage_import.
BEGIN;
SELECT plan(129);

-- value, whole, expected number, expected problem
CREATE TEMP TABLE number_cases (value text, whole boolean, num numeric, problem text);
INSERT INTO number_cases VALUES
    ('1,200', true, 1200, NULL), ('500+', true, 500, NULL), ('1.5k', true, 1500, NULL),
    ('$5M', false, 5000000, NULL), ('5,000,000', false, 5000000, NULL), ('  42 ', true, 42, NULL),
    ('€2.5 million', false, 2500000, NULL), ('1 200', true, 1200, NULL), ('1.234,56', false, 1234.56, NULL),
    ('$1.2bn', false, 1200000000, NULL), ('10k+', true, 10000, NULL), ('USD 750K', false, 750000, NULL),
    ('0.125', false, 0.125, NULL), ('12.345k', true, 12345, NULL), ('2.5', false, 2.5, NULL),
    ('250 EUR', false, 250, NULL), ('~300', true, 300, NULL),
    ('11-50', true, NULL, 'range'), ('51 – 200', true, NULL, 'range'), ('1.200', true, NULL, 'ambiguous'),
    ('1,5', false, NULL, 'ambiguous'), ('1,2345', true, NULL, 'ambiguous'), ('-3', true, NULL, 'negative'),
    ('abc', true, NULL, 'not_a_number'), ('n/a', false, NULL, 'not_a_number'), ('2.5', true, NULL, 'not_whole'),
    ('3000000000', true, NULL, 'too_large'), ('1e9', true, NULL, 'not_a_number'),
    ('1,000,00', true, NULL, 'ambiguous'), ('', true, NULL, NULL), ('   ', false, NULL, NULL);

SELECT is(leadflow.parse_number(value, whole), num, format('parse_number(%L, %s)', value, whole))
  FROM number_cases ORDER BY value, whole;
SELECT is(leadflow.number_problem(value, whole), problem, format('number_problem(%L, %s)', value, whole))
  FROM number_cases ORDER BY value, whole;

-- contact fields: refused (the message) only when nothing usable remains
SELECT is(leadflow.contact_problem(email, phone, country, 'US'), problem,
          format('contact_problem(%L, %L, %L)', email, phone, country))
  FROM (VALUES
    ('a@x.example', 'n/a', NULL, NULL::text),
    ('bad', '+1 415 555 0100', NULL, NULL),
    (NULL, '555-CALL-NOW', NULL, 'invalid phone "555-CALL-NOW": letters for digits')
  ) v(email, phone, country, problem);

-- countries: English and local names, codes, aliases; unknown is NULL
SELECT is(leadflow.country_code(value), code, format('country_code(%L)', value))
  FROM (VALUES
    ('Germany', 'DE'), ('Deutschland', 'DE'), ('DEU', 'DE'), ('de', 'DE'), ('Allemagne', 'DE'),
    ('UK', 'GB'), ('U.K.', 'GB'), ('United Kingdom', 'GB'), ('England', 'GB'), ('Great Britain', 'GB'),
    ('USA', 'US'), ('U.S.A.', 'US'), ('United States', 'US'), ('united states of america', 'US'),
    ('India', 'IN'), ('IND', 'IN'), ('The Netherlands', 'NL'), ('Holland', 'NL'), ('Nederland', 'NL'),
    ('Österreich', 'AT'), ('ÖSTERREICH', 'AT'), ('Osterreich', 'AT'), ('España', 'ES'), ('espana', 'ES'),
    ('Brasil', 'BR'), ('日本', 'JP'), ('Россия', 'RU'), ('  france ', 'FR'), ('Korea, Republic of', 'KR'),
    ('South Korea', 'KR'), ('Côte d''Ivoire', 'CI'), ('Ivory Coast', 'CI'), ('Schweiz', 'CH'),
    ('Narnia', NULL), ('', NULL), ('XX', NULL)
  ) v(value, code);

-- states: ISO 3166-2 without the country prefix, in a known country
SELECT is(leadflow.subdivision_code(country, value), code, format('subdivision_code(%L, %L)', country, value))
  FROM (VALUES
    ('US', 'California', 'CA'), ('USA', 'ca', 'CA'), ('US', 'US-CA', 'CA'), ('DE', 'Bayern', 'BY'),
    ('Germany', 'Bavaria', 'BY'), ('CA', 'Ontario', 'ON'), ('IN', 'Maharashtra', 'MH'),
    ('United Kingdom', 'England', 'ENG'), ('FR', 'Île-de-France', 'IDF'), ('CH', 'Zürich', 'ZH'),
    ('AU', 'New South Wales', 'NSW'), ('ES', 'Cataluña', 'CT'), ('US', 'Narnia', NULL), ('Narnia', 'Oz', NULL)
  ) v(country, value, code);

-- CSV records (csv_records): as COPY ... CSV reads them
SELECT is((SELECT array_agg(r::text ORDER BY n) FROM leadflow.csv_records(csv) WITH ORDINALITY t(r, n)), records,
          format('csv_records(%L)', csv))
  FROM (VALUES
    (E'a,b\nc,d\n', ARRAY['{a,b}', '{c,d}']),
    (E'a,b\r\nc,d', ARRAY['{a,b}', '{c,d}']),
    (E'"a,1","b""q"""\n', ARRAY['{"a,1","b\"q\""}']),
    (E'x,,""\n', ARRAY['{x,NULL,""}']),
    (E'"multi\nline",z\n\n\nlast\n', ARRAY[E'{"multi\nline",z}', '{last}']),
    (E'\n\n', NULL::text[]),
    (E'only', ARRAY['{only}'])
  ) v(csv, records);

-- CSV headers (import_column): lead_imports columns and capture field
-- names in any case and spacing; NULL keeps the column in attributes
SELECT is(leadflow.import_column(header), col, format('import_column(%L)', header))
  FROM (VALUES
    ('Email', 'email'), ('E-mail', 'email'), ('Phone Number', 'phone'), ('Company Name', 'company'),
    ('Owner Email', 'owner_email'), ('Created At', 'created_at'), ('Lead Score (old CRM)', NULL::text)
  ) v(header, col);

SELECT * FROM finish();
ROLLBACK;
