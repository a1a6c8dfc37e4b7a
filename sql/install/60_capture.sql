------------------------------------------------------------------------------
-- Entry points: capture, CSV import
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.contact_problem(email text, phone text, country text, default_region text DEFAULT 'US')
RETURNS text
AS 'MODULE_PATHNAME', 'leadflow_contact_problem'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.contact_problem(text, text, text, text) IS
    'Why the pipeline would refuse these contact fields (the message it would raise), or NULL when it would take the lead: refused only when neither a usable email nor a usable phone remains. A national phone number is read in the country''s region when country is a two-letter code, else in default_region.';

-- Human numbers (numbers.c) for company_size and annual_revenue
CREATE FUNCTION @extschema@.parse_number(value text, whole boolean DEFAULT false)
RETURNS numeric
AS 'MODULE_PATHNAME', 'leadflow_parse_number'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.parse_number(text, boolean) IS
    'The number a person typed: thousands separators, k/m/b and thousand/million/billion, currency marks and a trailing + ("1,200", "500+", "1.5k", "$5M") read; NULL when blank or not read (number_problem says why). whole asks for a whole number (company_size).';

CREATE FUNCTION @extschema@.number_problem(value text, whole boolean DEFAULT false)
RETURNS text
AS 'MODULE_PATHNAME', 'leadflow_number_problem'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.number_problem(text, boolean) IS
    'Why parse_number reads no number from a value that is not blank: not_a_number, range ("11-50"), ambiguous ("1.200", "1,5"), negative, not_whole or too_large; NULL when it reads one or the value is blank.';

-- Sources: the pipeline stores a source in its canonical spelling (lower
-- case, spaces and dashes as "_": source.c), then as the org's alias says
CREATE FUNCTION @extschema@.source_key(source text)
RETURNS text
AS 'MODULE_PATHNAME', 'leadflow_source_key'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.source_key(text) IS
    'The canonical spelling of a source: trimmed, lower case, runs of spaces, dashes and underscores as one "_" ("Web Form" and "web-form" give web_form); NULL when nothing is left. The pipeline stores it, or the org''s alias of it (source_aliases).';

CREATE TABLE @extschema@.source_aliases (
    org_id  bigint NOT NULL REFERENCES @extschema@.orgs (org_id) ON DELETE CASCADE,
    alias   text NOT NULL CHECK (alias OPERATOR(pg_catalog.=) @extschema@.source_key(alias)),
    source  text NOT NULL CHECK (source OPERATOR(pg_catalog.=) @extschema@.source_key(source)),
    PRIMARY KEY (org_id, alias)
);
COMMENT ON TABLE @extschema@.source_aliases IS 'Per org: spellings of a source stored as another (fb -> meta_ads); a new org gets default_source_aliases(). SLA policies, routing rules and reports see the source.';
COMMENT ON COLUMN @extschema@.source_aliases.org_id IS 'Org.';
COMMENT ON COLUMN @extschema@.source_aliases.alias IS 'The spelling, canonical (source_key): facebook, fb, adwords, website_form.';
COMMENT ON COLUMN @extschema@.source_aliases.source IS 'The source stored for it, canonical: meta_ads, google_ads, web_form.';
CREATE TRIGGER source_aliases_config_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.source_aliases
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.config_changed();
SELECT pg_catalog.pg_extension_config_dump('leadflow.source_aliases', '');

CREATE FUNCTION @extschema@.default_source_aliases()
RETURNS TABLE (alias text, source text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT a.alias, a.source FROM (VALUES
        ('facebook', 'meta_ads'), ('fb', 'meta_ads'), ('facebook_ads', 'meta_ads'),
        ('facebook_lead_ads', 'meta_ads'), ('instagram', 'meta_ads'), ('instagram_ads', 'meta_ads'),
        ('ig', 'meta_ads'), ('meta', 'meta_ads'), ('meta_lead_ads', 'meta_ads'),
        ('adwords', 'google_ads'), ('google_adwords', 'google_ads'), ('google_ad', 'google_ads'),
        ('google_lead_form', 'google_ads'), ('google_ads_lead_form', 'google_ads'),
        ('webform', 'web_form'), ('website_form', 'web_form'), ('web_site_form', 'web_form'),
        ('contact_form', 'web_form'), ('online_form', 'web_form'),
        ('tradeshow', 'trade_show'), ('trade_fair', 'trade_show'), ('trade_show_booth', 'trade_show'),
        ('referal', 'referral'), ('referrals', 'referral'), ('partner_referral', 'referral'),
        ('linkedin', 'linkedin_ads'), ('linkedin_lead_gen', 'linkedin_ads')
    ) a(alias, source)
$$;
COMMENT ON FUNCTION @extschema@.default_source_aliases() IS
    'The source aliases every new org gets: common spellings of meta_ads, google_ads, web_form, trade_show, referral and linkedin_ads.';

-- The source the pipeline stores for a source as given in an org: the
-- same as source.c and the org's aliases (capture and process_import look
-- up a replayed submission with it)
CREATE FUNCTION @extschema@.org_source(org_id bigint, source text)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT COALESCE((SELECT a.source FROM leadflow.source_aliases a
                      WHERE a.org_id OPERATOR(pg_catalog.=) org_source.org_id
                        AND a.alias OPERATOR(pg_catalog.=) leadflow.source_key(org_source.source)),
                    leadflow.source_key(org_source.source))
$$;
COMMENT ON FUNCTION @extschema@.org_source(bigint, text) IS
    'The source the pipeline stores in the org for a source as given: source_key, then the org''s alias (source_aliases).';

-- Field names of web forms, Meta Lead Ads (field_data) and Google Ads lead
-- forms (user_column_data, lower-cased) mapped to leads columns.
CREATE TABLE @extschema@.capture_field_names (
    name    text PRIMARY KEY,
    column_name text NOT NULL CHECK (column_name IN (
        'first_name', 'last_name', 'full_name', 'email', 'phone', 'company', 'job_title',
        'industry', 'company_size', 'annual_revenue', 'country', 'state', 'city',
        'postal_code', 'campaign'))
);
COMMENT ON TABLE @extschema@.capture_field_names IS 'Payload field names capture() maps to lead columns (global, editable); other keys go to attributes.';
COMMENT ON COLUMN @extschema@.capture_field_names.name IS 'Field name as sent, lower case.';
COMMENT ON COLUMN @extschema@.capture_field_names.column_name IS 'The leads column it fills (full_name is split into first and last name).';
INSERT INTO @extschema@.capture_field_names (name, column_name) VALUES
    ('first_name', 'first_name'), ('firstname', 'first_name'), ('given_name', 'first_name'), ('fname', 'first_name'),
    ('last_name', 'last_name'), ('lastname', 'last_name'), ('family_name', 'last_name'), ('surname', 'last_name'), ('lname', 'last_name'),
    ('full_name', 'full_name'), ('fullname', 'full_name'), ('name', 'full_name'),
    ('email', 'email'), ('email_address', 'email'), ('work_email', 'email'), ('e-mail', 'email'),
    ('phone', 'phone'), ('phone_number', 'phone'), ('work_phone', 'phone'), ('mobile', 'phone'),
    ('mobile_phone', 'phone'), ('telephone', 'phone'), ('tel', 'phone'),
    ('company', 'company'), ('company_name', 'company'), ('organization', 'company'), ('organisation', 'company'),
    ('job_title', 'job_title'), ('jobtitle', 'job_title'), ('title', 'job_title'),
    ('industry', 'industry'),
    ('company_size', 'company_size'), ('employees', 'company_size'), ('number_of_employees', 'company_size'),
    ('annual_revenue', 'annual_revenue'), ('revenue', 'annual_revenue'),
    ('country', 'country'), ('country_code', 'country'),
    ('state', 'state'), ('region', 'state'), ('province', 'state'),
    ('city', 'city'),
    ('postal_code', 'postal_code'), ('zip', 'postal_code'), ('zip_code', 'postal_code'),
    ('post_code', 'postal_code'), ('postcode', 'postal_code'),
    ('campaign', 'campaign'), ('utm_campaign', 'campaign'), ('campaign_name', 'campaign');

-- An org's own form field names (a form in its language, a custom
-- field), read before the shared ones for that org's captures only.
CREATE TABLE @extschema@.org_capture_field_names (
    org_id      bigint NOT NULL REFERENCES @extschema@.orgs (org_id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (name = pg_catalog.lower(name) AND pg_catalog.length(name) BETWEEN 1 AND 200),
    column_name text NOT NULL CHECK (column_name IN (
        'first_name', 'last_name', 'full_name', 'email', 'phone', 'company', 'job_title',
        'industry', 'company_size', 'annual_revenue', 'country', 'state', 'city',
        'postal_code', 'campaign')),
    PRIMARY KEY (org_id, name)
);
COMMENT ON TABLE @extschema@.org_capture_field_names IS 'Per org: payload field names capture() maps to lead columns for this org, before the shared capture_field_names.';
COMMENT ON COLUMN @extschema@.org_capture_field_names.name IS 'Field name as sent, lower case.';
COMMENT ON COLUMN @extschema@.org_capture_field_names.column_name IS 'The leads column it fills (full_name is split into first and last name).';
SELECT pg_catalog.pg_extension_config_dump('leadflow.org_capture_field_names', '');

-- The column a payload field fills in an org: the org's own name first,
-- then the shared one; NULL for an attribute.
CREATE FUNCTION @extschema@.capture_column(org_id bigint, name text)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT COALESCE((SELECT o.column_name FROM leadflow.org_capture_field_names o
                      WHERE o.org_id OPERATOR(pg_catalog.=) capture_column.org_id
                        AND o.name OPERATOR(pg_catalog.=) capture_column.name),
                    (SELECT m.column_name FROM leadflow.capture_field_names m
                      WHERE m.name OPERATOR(pg_catalog.=) capture_column.name))
$$;
COMMENT ON FUNCTION @extschema@.capture_column(bigint, text) IS
    'The leads column a payload field name fills in capture() for an org: the org''s own (org_capture_field_names) first, then the shared capture_field_names; NULL: an attribute.';

-- capture() refuses a payload over leadflow.capture_max_bytes or with more
-- fields than leadflow.capture_max_keys (54000) before any work (capture.c)
CREATE FUNCTION @extschema@.capture_check_limits(payload jsonb)
RETURNS void
AS 'MODULE_PATHNAME', 'leadflow_capture_check_limits'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.capture_check_limits(jsonb) IS
    'Internal to capture(): 54000 when the payload is larger than leadflow.capture_max_bytes or has more fields (top-level keys plus field_data or user_column_data entries) than leadflow.capture_max_keys.';

-- Turns a payload of any supported shape into one flat object of field
-- name -> text value, plus "_extra" with what is not a form field.  Each
-- shape is one aggregate over the payload's entries: linear in its size
-- (adding keys one by one copied the object once per key).
CREATE FUNCTION @extschema@.capture_flatten(payload jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    flat jsonb;
    extra jsonb;
    bad int;
BEGIN
    IF payload IS NULL OR pg_catalog.jsonb_typeof(payload) <> 'object' THEN
        RAISE EXCEPTION 'capture payload must be a JSON object, not %', COALESCE(pg_catalog.jsonb_typeof(payload), 'null')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM leadflow.capture_check_limits(payload);

    IF payload ? 'field_data' THEN                      -- Meta Lead Ads
        IF pg_catalog.jsonb_typeof(payload -> 'field_data') <> 'array' THEN
            RAISE EXCEPTION 'capture payload field_data must be an array'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        SELECT pg_catalog.min(e.n) - 1 INTO bad
          FROM pg_catalog.jsonb_array_elements(payload -> 'field_data') WITH ORDINALITY e(item, n)
         WHERE pg_catalog.jsonb_typeof(e.item) <> 'object' OR pg_catalog.jsonb_typeof(e.item -> 'name') IS DISTINCT FROM 'string';
        IF bad IS NOT NULL THEN
            RAISE EXCEPTION 'capture payload field_data[%] has no name', bad
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        SELECT pg_catalog.min(e.n) - 1 INTO bad
          FROM pg_catalog.jsonb_array_elements(payload -> 'field_data') WITH ORDINALITY e(item, n)
         WHERE pg_catalog.jsonb_typeof(e.item -> 'values') IS DISTINCT FROM 'array';
        IF bad IS NOT NULL THEN
            RAISE EXCEPTION 'capture payload field_data[%] ("%") has no values array', bad, payload -> 'field_data' -> bad ->> 'name'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        -- the later of two fields of one name wins, as it did
        SELECT pg_catalog.jsonb_object_agg(pg_catalog.lower(e.item ->> 'name'), e.item -> 'values' ->> 0 ORDER BY e.n)
          INTO flat
          FROM pg_catalog.jsonb_array_elements(payload -> 'field_data') WITH ORDINALITY e(item, n)
         WHERE pg_catalog.jsonb_array_length(e.item -> 'values') > 0;
        extra := payload - 'field_data';
        IF extra ? 'id' THEN
            extra := (extra - 'id') || pg_catalog.jsonb_build_object('meta_lead_id', extra -> 'id');
        END IF;
    ELSIF payload ? 'user_column_data' THEN             -- Google Ads lead form
        IF pg_catalog.jsonb_typeof(payload -> 'user_column_data') <> 'array' THEN
            RAISE EXCEPTION 'capture payload user_column_data must be an array'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        SELECT pg_catalog.min(e.n) - 1 INTO bad
          FROM pg_catalog.jsonb_array_elements(payload -> 'user_column_data') WITH ORDINALITY e(item, n)
         WHERE pg_catalog.jsonb_typeof(e.item) <> 'object' OR pg_catalog.jsonb_typeof(e.item -> 'column_id') IS DISTINCT FROM 'string';
        IF bad IS NOT NULL THEN
            RAISE EXCEPTION 'capture payload user_column_data[%] has no column_id', bad
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        SELECT pg_catalog.jsonb_object_agg(pg_catalog.lower(e.item ->> 'column_id'), e.item ->> 'string_value' ORDER BY e.n)
          INTO flat
          FROM pg_catalog.jsonb_array_elements(payload -> 'user_column_data') WITH ORDINALITY e(item, n);
        extra := payload - 'user_column_data';
        IF extra ? 'lead_id' THEN
            extra := (extra - 'lead_id') || pg_catalog.jsonb_build_object('google_lead_id', extra -> 'lead_id');
        END IF;
    ELSE                                                -- a flat object
        SELECT pg_catalog.jsonb_object_agg(pg_catalog.lower(e.key), e.value #>> '{}' ORDER BY e.n)
                   FILTER (WHERE pg_catalog.jsonb_typeof(e.value) NOT IN ('object', 'array')),
               pg_catalog.jsonb_object_agg(e.key, e.value)
                   FILTER (WHERE pg_catalog.jsonb_typeof(e.value) IN ('object', 'array'))
          INTO flat, extra
          FROM pg_catalog.jsonb_each(payload) WITH ORDINALITY e(key, value, n);
    END IF;
    RETURN COALESCE(flat, '{}') || pg_catalog.jsonb_build_object('_extra', COALESCE(extra, '{}'));
END
$$;
COMMENT ON FUNCTION @extschema@.capture_flatten(jsonb) IS
    'Internal to capture(): a flat, Meta Lead Ads or Google Ads payload as one object of lower-case field names; refuses (54000) a payload over the capture limits.';

CREATE FUNCTION @extschema@.capture(org_id bigint, source text, payload jsonb)
RETURNS TABLE (lead_id bigint, outcome text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    flat jsonb := leadflow.capture_flatten(payload);
    f jsonb := '{}';            -- leads column -> value
    attrs jsonb := flat -> '_extra';
    k text;
    v text;
    col text;
    full_name text;
    new_id bigint;
    new_status text;
    survivor bigint;
    issues jsonb := '{}';       -- field -> problem code (leads.data_issues)
    problem text;
    external text;              -- the submission's id at its source
    stored_source text;
    google_key text;
    submitted timestamptz;
    attr_keys text[] := '{}';   -- keys for attributes, gathered then added at once
    attr_values text[] := '{}';
    events_before bigint;
BEGIN
    -- Meta's leadgen_id (or the webhook's id), Google's lead_id, a form's external_id
    external := NULLIF(pg_catalog.btrim(COALESCE(
        payload ->> 'leadgen_id',
        CASE WHEN payload ? 'field_data' THEN payload ->> 'id' END,
        CASE WHEN payload ? 'user_column_data' THEN payload ->> 'lead_id' END,
        flat ->> 'external_id')), '');
    stored_source := leadflow.org_source(capture.org_id, capture.source);
    IF payload ? 'user_column_data' THEN
        -- Google Ads: the org's webhook key when it set one; test leads are not stored
        SELECT o.settings ->> 'google_ads_key' INTO google_key
          FROM leadflow.orgs o WHERE o.org_id OPERATOR(pg_catalog.=) capture.org_id;
        IF google_key IS NOT NULL AND (payload ->> 'google_key') IS DISTINCT FROM google_key THEN
            RAISE EXCEPTION 'capture payload google_key does not match the org''s google_ads_key'
                USING ERRCODE = 'invalid_authorization_specification',
                      HINT = 'Send the key set in the Google Ads lead form webhook; the org setting google_ads_key holds it.';
        END IF;
        IF pg_catalog.jsonb_typeof(payload -> 'is_test') = 'boolean' AND (payload ->> 'is_test')::boolean THEN
            lead_id := NULL;
            outcome := 'test';
            RETURN NEXT;
            RETURN;
        END IF;
    END IF;
    -- a submission captured before is not stored again
    SELECT leadflow.survivor_of(x.org_id, x.lead_id) INTO survivor
      FROM leadflow.lead_external_ids x
     WHERE external IS NOT NULL AND x.org_id OPERATOR(pg_catalog.=) capture.org_id
       AND x.source OPERATOR(pg_catalog.=) COALESCE(stored_source, '') AND x.external_id OPERATOR(pg_catalog.=) external;
    IF FOUND THEN
        lead_id := survivor;
        outcome := 'unchanged';
        RETURN NEXT;
        RETURN;
    END IF;

    FOR k, v IN SELECT e.key, e.value #>> '{}' FROM pg_catalog.jsonb_each(flat - '_extra') e LOOP
        col := leadflow.capture_column(capture.org_id, k);
        IF k = 'external_id' THEN
            CONTINUE;                                   -- the lead's external_id
        ELSIF col IS NULL OR NULLIF(pg_catalog.btrim(v), '') IS NULL THEN
            IF NULLIF(pg_catalog.btrim(v), '') IS NOT NULL THEN
                attr_keys := attr_keys || k;
                attr_values := attr_values || v;
            END IF;
        ELSIF col = 'full_name' THEN
            full_name := pg_catalog.btrim(v);
        ELSIF col IN ('company_size', 'annual_revenue') THEN
            -- "1,200", "$5M" read; "51-200" kept as typed with a data issue, not guessed
            problem := leadflow.number_problem(v, col = 'company_size');
            IF problem IS NOT NULL THEN
                attr_keys := attr_keys || k;
                attr_values := attr_values || v;
                IF NOT issues ? col THEN
                    issues := issues || pg_catalog.jsonb_build_object(col, problem);
                END IF;
            ELSIF NOT f ? col THEN
                f := f || pg_catalog.jsonb_build_object(col, leadflow.parse_number(v, col = 'company_size')::text);
            END IF;
        ELSIF NOT f ? col THEN
            f := f || pg_catalog.jsonb_build_object(col, pg_catalog.btrim(v));
        END IF;
    END LOOP;
    -- one object built once (appending key by key copied it per key)
    IF pg_catalog.cardinality(attr_keys) > 0 THEN
        attrs := attrs || (SELECT pg_catalog.jsonb_object_agg(a.k, a.v ORDER BY a.n)
                             FROM ROWS FROM (pg_catalog.unnest(attr_keys), pg_catalog.unnest(attr_values)) WITH ORDINALITY a(k, v, n));
    END IF;
    -- Meta's top-level campaign_name is the campaign; created_time is when
    -- the person submitted (ad_name, adset_name, form_id, platform stay in
    -- attributes); Google's google_key is not kept
    IF NOT f ? 'campaign' AND NULLIF(pg_catalog.btrim(attrs ->> 'campaign_name'), '') IS NOT NULL THEN
        f := f || pg_catalog.jsonb_build_object('campaign', pg_catalog.btrim(attrs ->> 'campaign_name'));
        attrs := attrs - 'campaign_name';
    END IF;
    IF (attrs ->> 'created_time') ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)$' THEN
        submitted := (attrs ->> 'created_time')::timestamptz;
        attrs := attrs - 'created_time';
    END IF;
    attrs := attrs - 'google_key';
    IF full_name IS NOT NULL AND NOT f ? 'first_name' AND NOT f ? 'last_name' THEN
        f := f || pg_catalog.jsonb_build_object('first_name', pg_catalog.split_part(full_name, ' ', 1),
                                     'last_name', NULLIF(pg_catalog.btrim(pg_catalog.substr(full_name, pg_catalog.length(pg_catalog.split_part(full_name, ' ', 1)) + 1)), ''));
    END IF;
    IF NOT f ? 'email' AND NOT f ? 'phone' THEN
        RAISE EXCEPTION 'capture payload has neither an email nor a phone field'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Send an email or phone field (e.g. "email", "phone_number", Google "EMAIL").';
    END IF;

    -- a reactivation by this insert is an event after the org's last one
    SELECT pg_catalog.max(e.event_id) INTO events_before
      FROM leadflow.events e WHERE e.org_id OPERATOR(pg_catalog.=) capture.org_id;
    INSERT INTO leadflow.leads (org_id, first_name, last_name, email, phone, company, job_title,
                                industry, company_size, annual_revenue, country, state, city,
                                postal_code, source, campaign, attributes, data_issues, external_id,
                                submitted_at)
    VALUES (capture.org_id, f ->> 'first_name', f ->> 'last_name', f ->> 'email', f ->> 'phone',
            f ->> 'company', f ->> 'job_title', f ->> 'industry', (f ->> 'company_size')::integer,
            (f ->> 'annual_revenue')::numeric, f ->> 'country', f ->> 'state', f ->> 'city',
            f ->> 'postal_code', capture.source, f ->> 'campaign', attrs,
            NULLIF(issues, '{}'), external, submitted)
    RETURNING leads.lead_id, leads.status, leads.merged_into INTO new_id, new_status, survivor;
    IF new_id IS NULL THEN
        -- the pipeline stored nothing: a concurrent session captured it first
        SELECT leadflow.survivor_of(x.org_id, x.lead_id) INTO survivor
          FROM leadflow.lead_external_ids x
         WHERE x.org_id OPERATOR(pg_catalog.=) capture.org_id
           AND x.source OPERATOR(pg_catalog.=) COALESCE(stored_source, '') AND x.external_id OPERATOR(pg_catalog.=) external;
        lead_id := survivor;
        outcome := 'unchanged';
        RETURN NEXT;
        RETURN;
    END IF;

    lead_id := COALESCE(survivor, new_id);
    outcome := CASE WHEN new_status <> 'merged' THEN 'created'
                    WHEN EXISTS (SELECT FROM leadflow.events e
                                  WHERE e.org_id OPERATOR(pg_catalog.=) capture.org_id
                                    AND e.event_id OPERATOR(pg_catalog.>) COALESCE(events_before, 0)
                                    AND e.event OPERATOR(pg_catalog.=) 'reactivated'
                                    AND e.lead_id OPERATOR(pg_catalog.=) survivor) THEN 'reactivated'
                    ELSE 'merged' END;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION @extschema@.capture(bigint, text, jsonb) IS
    'Captures a lead from a web form (flat object), Meta Lead Ads (field_data) or Google Ads (user_column_data) payload; returns the live lead and whether it was created, merged into an existing one, reactivated (merged into an archived or unqualified lead, which it reopened), test (a Google test lead, not stored) or unchanged (a submission with the same source and external id, Meta leadgen_id/id, Google lead_id or external_id, was captured before: nothing is stored).';

