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

-- Turns a payload of any supported shape into one flat object of field
-- name -> text value, plus "_extra" with what is not a form field.
CREATE FUNCTION @extschema@.capture_flatten(payload jsonb)
RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    flat jsonb := '{}';
    extra jsonb := '{}';
    item jsonb;
    i int := 0;
    k text;
    v jsonb;
BEGIN
    IF payload IS NULL OR pg_catalog.jsonb_typeof(payload) <> 'object' THEN
        RAISE EXCEPTION 'capture payload must be a JSON object, not %', COALESCE(pg_catalog.jsonb_typeof(payload), 'null')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    IF payload ? 'field_data' THEN                      -- Meta Lead Ads
        IF pg_catalog.jsonb_typeof(payload -> 'field_data') <> 'array' THEN
            RAISE EXCEPTION 'capture payload field_data must be an array'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        FOR item IN SELECT * FROM pg_catalog.jsonb_array_elements(payload -> 'field_data') LOOP
            IF pg_catalog.jsonb_typeof(item) <> 'object' OR pg_catalog.jsonb_typeof(item -> 'name') IS DISTINCT FROM 'string' THEN
                RAISE EXCEPTION 'capture payload field_data[%] has no name', i
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            IF pg_catalog.jsonb_typeof(item -> 'values') = 'array' AND pg_catalog.jsonb_array_length(item -> 'values') > 0 THEN
                flat := flat || pg_catalog.jsonb_build_object(pg_catalog.lower(item ->> 'name'), item -> 'values' ->> 0);
            ELSIF pg_catalog.jsonb_typeof(item -> 'values') IS DISTINCT FROM 'array' THEN
                RAISE EXCEPTION 'capture payload field_data[%] ("%") has no values array', i, item ->> 'name'
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            i := i + 1;
        END LOOP;
        extra := payload - 'field_data';
        IF extra ? 'id' THEN
            extra := (extra - 'id') || pg_catalog.jsonb_build_object('meta_lead_id', extra -> 'id');
        END IF;
    ELSIF payload ? 'user_column_data' THEN             -- Google Ads lead form
        IF pg_catalog.jsonb_typeof(payload -> 'user_column_data') <> 'array' THEN
            RAISE EXCEPTION 'capture payload user_column_data must be an array'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        FOR item IN SELECT * FROM pg_catalog.jsonb_array_elements(payload -> 'user_column_data') LOOP
            IF pg_catalog.jsonb_typeof(item) <> 'object' OR pg_catalog.jsonb_typeof(item -> 'column_id') IS DISTINCT FROM 'string' THEN
                RAISE EXCEPTION 'capture payload user_column_data[%] has no column_id', i
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            flat := flat || pg_catalog.jsonb_build_object(pg_catalog.lower(item ->> 'column_id'), item ->> 'string_value');
            i := i + 1;
        END LOOP;
        extra := payload - 'user_column_data';
        IF extra ? 'lead_id' THEN
            extra := (extra - 'lead_id') || pg_catalog.jsonb_build_object('google_lead_id', extra -> 'lead_id');
        END IF;
    ELSE                                                -- a flat object
        FOR k, v IN SELECT * FROM pg_catalog.jsonb_each(payload) LOOP
            IF pg_catalog.jsonb_typeof(v) IN ('object', 'array') THEN
                extra := extra || pg_catalog.jsonb_build_object(k, v);
            ELSE
                flat := flat || pg_catalog.jsonb_build_object(pg_catalog.lower(k), v #>> '{}');
            END IF;
        END LOOP;
    END IF;
    RETURN flat || pg_catalog.jsonb_build_object('_extra', extra);
END
$$;
COMMENT ON FUNCTION @extschema@.capture_flatten(jsonb) IS
    'Internal to capture(): a flat, Meta Lead Ads or Google Ads payload as one object of lower-case field names.';

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
                attrs := attrs || pg_catalog.jsonb_build_object(k, v);
            END IF;
        ELSIF col = 'full_name' THEN
            full_name := pg_catalog.btrim(v);
        ELSIF col IN ('company_size', 'annual_revenue') THEN
            -- "1,200", "$5M" read; "51-200" kept as typed with a data issue, not guessed
            problem := leadflow.number_problem(v, col = 'company_size');
            IF problem IS NOT NULL THEN
                attrs := attrs || pg_catalog.jsonb_build_object(k, v);
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
    outcome := CASE WHEN new_status = 'merged' THEN 'merged' ELSE 'created' END;
    RETURN NEXT;
END
$$;
COMMENT ON FUNCTION @extschema@.capture(bigint, text, jsonb) IS
    'Captures a lead from a web form (flat object), Meta Lead Ads (field_data) or Google Ads (user_column_data) payload; returns the live lead and whether it was created, merged into an existing one, or unchanged (a submission with the same source and external id, Meta leadgen_id/id, Google lead_id or external_id, was captured before: nothing is stored).';

-- the org of a \copy into lead_imports without an org_id column: the
-- setting leadflow.org_id, else an error that says so
CREATE FUNCTION @extschema@.import_org_id()
RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    setting text := NULLIF(pg_catalog.current_setting('leadflow.org_id', true), '');
BEGIN
    IF setting IS NULL THEN
        RAISE EXCEPTION 'lead_imports needs an org_id: the setting leadflow.org_id is not set'
            USING ERRCODE = 'not_null_violation',
                  HINT = 'SET leadflow.org_id = <your org id> before the \copy, or load an org_id column.';
    END IF;
    RETURN setting::bigint;
END
$$;
COMMENT ON FUNCTION @extschema@.import_org_id() IS
    'Default of lead_imports.org_id: the setting leadflow.org_id; 23502 with a hint when it is not set.';

-- CSV import staging: \copy fills it, process_import reads it
CREATE TABLE @extschema@.lead_imports (
    org_id          bigint NOT NULL DEFAULT @extschema@.import_org_id()
                    REFERENCES @extschema@.orgs (org_id) ON DELETE CASCADE,
    batch_id        bigint NOT NULL DEFAULT pg_catalog.txid_current(),
    row_number      bigint GENERATED BY DEFAULT AS IDENTITY,
    first_name      text,
    last_name       text,
    email           text,
    phone           text,
    company         text,
    job_title       text,
    industry        text,
    company_size    text,
    annual_revenue  text,
    country         text,
    state           text,
    city            text,
    postal_code     text,
    source          text,
    campaign        text,
    error           text,
    lead_id         bigint,
    processed_at    timestamptz,
    external_id     text,
    fingerprint     text,
    unchanged       boolean NOT NULL DEFAULT false,
    PRIMARY KEY (org_id, batch_id, row_number)
);
-- a row imported before (same fields, any batch) is found by its fingerprint
CREATE INDEX lead_imports_fingerprint ON @extschema@.lead_imports (org_id, fingerprint)
    WHERE fingerprint IS NOT NULL;
COMMENT ON TABLE @extschema@.lead_imports IS 'Staging table for CSV imports (\copy ... CSV HEADER), all text; process_import moves valid rows through the pipeline.';
COMMENT ON COLUMN @extschema@.lead_imports.org_id IS 'Org; defaults to the setting leadflow.org_id, so a \copy need not carry it.';
COMMENT ON COLUMN @extschema@.lead_imports.batch_id IS 'Import batch; defaults to the loading transaction id, so the rows of one \copy form one batch.';
COMMENT ON COLUMN @extschema@.lead_imports.row_number IS 'Row order within the batch.';
COMMENT ON COLUMN @extschema@.lead_imports.first_name IS 'CSV field first_name, as text; checked and converted by process_import.';
COMMENT ON COLUMN @extschema@.lead_imports.last_name IS 'CSV field last_name, as text; checked and converted by process_import.';
COMMENT ON COLUMN @extschema@.lead_imports.email IS 'CSV field email, as text; checked and converted by process_import.';
COMMENT ON COLUMN @extschema@.lead_imports.phone IS 'CSV field phone, as text; checked and converted by process_import.';
COMMENT ON COLUMN @extschema@.lead_imports.company IS 'CSV field company, as text; checked and converted by process_import.';
COMMENT ON COLUMN @extschema@.lead_imports.job_title IS 'CSV field job_title, as text; checked and converted by process_import.';
COMMENT ON COLUMN @extschema@.lead_imports.industry IS 'CSV field industry, as text; checked and converted by process_import.';
COMMENT ON COLUMN @extschema@.lead_imports.company_size IS 'CSV field company_size, as text; checked and converted by process_import.';
COMMENT ON COLUMN @extschema@.lead_imports.annual_revenue IS 'CSV field annual_revenue, as text; checked and converted by process_import.';
COMMENT ON COLUMN @extschema@.lead_imports.country IS 'CSV field country, as text; checked and converted by process_import.';
COMMENT ON COLUMN @extschema@.lead_imports.state IS 'CSV field state, as text; checked and converted by process_import.';
COMMENT ON COLUMN @extschema@.lead_imports.city IS 'CSV field city, as text; checked and converted by process_import.';
COMMENT ON COLUMN @extschema@.lead_imports.postal_code IS 'CSV field postal_code, as text; checked and converted by process_import.';
COMMENT ON COLUMN @extschema@.lead_imports.source IS 'CSV field source, as text; checked and converted by process_import.';
COMMENT ON COLUMN @extschema@.lead_imports.campaign IS 'CSV field campaign, as text; checked and converted by process_import.';
COMMENT ON COLUMN @extschema@.lead_imports.error IS 'Why the row was rejected; NULL when imported.';
COMMENT ON COLUMN @extschema@.lead_imports.lead_id IS 'The lead created or merged into.';
COMMENT ON COLUMN @extschema@.lead_imports.processed_at IS 'When process_import handled the row.';
COMMENT ON COLUMN @extschema@.lead_imports.external_id IS 'CSV field external_id: the lead''s id in the system it comes from (leads.external_id); a row whose source and external_id are already stored is unchanged.';
COMMENT ON COLUMN @extschema@.lead_imports.fingerprint IS 'Set by process_import: md5 of the row''s fields; a row with the fingerprint of a row imported before (in any batch) is unchanged.';
COMMENT ON COLUMN @extschema@.lead_imports.unchanged IS 'Set by process_import: the row was imported before (same external_id, or same fields) and stored nothing; lead_id is the lead it was.';

-- what makes two CSV rows the same row (process_import: re-importing a
-- file changes nothing); NULL and empty are told apart
CREATE FUNCTION @extschema@.import_fingerprint(r @extschema@.lead_imports)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.md5(pg_catalog.concat_ws(pg_catalog.chr(31),
               r.first_name, r.last_name, r.email, r.phone, r.company, r.job_title, r.industry,
               r.company_size, r.annual_revenue, r.country, r.state, r.city, r.postal_code,
               r.source, r.campaign, NULLIF(pg_catalog.btrim(r.external_id), ''),
               pg_catalog.concat((r.first_name IS NULL)::int, (r.last_name IS NULL)::int, (r.email IS NULL)::int,
                                 (r.phone IS NULL)::int, (r.company IS NULL)::int, (r.job_title IS NULL)::int,
                                 (r.industry IS NULL)::int, (r.company_size IS NULL)::int,
                                 (r.annual_revenue IS NULL)::int, (r.country IS NULL)::int,
                                 (r.state IS NULL)::int, (r.city IS NULL)::int, (r.postal_code IS NULL)::int,
                                 (r.source IS NULL)::int, (r.campaign IS NULL)::int)))
$$;
COMMENT ON FUNCTION @extschema@.import_fingerprint(@extschema@.lead_imports) IS
    'md5 of a CSV row''s fields (lead_imports.fingerprint): process_import treats a row with the fingerprint of a row imported before as unchanged.';

-- CSV import: rows are checked first, then every valid row goes through
-- the pipeline in one INSERT ... SELECT, so a batch of any size runs as one
-- statement (no per-row subtransactions to fill the lock table).
CREATE FUNCTION @extschema@.process_import(org_id bigint, batch_id bigint)
RETURNS TABLE (created integer, merged integer, rejected integer, unchanged integer)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    region text;
BEGIN
    IF process_import.org_id IS NULL OR process_import.batch_id IS NULL THEN
        RAISE EXCEPTION 'process_import needs an org_id and a batch_id, got org_id % and batch_id %',
            COALESCE(process_import.org_id::text, 'NULL'), COALESCE(process_import.batch_id::text, 'NULL')
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM leadflow.check_org_access(process_import.org_id);
    SELECT COALESCE(o.settings ->> 'default_region', 'US') INTO region
      FROM leadflow.orgs o WHERE o.org_id OPERATOR(pg_catalog.=) process_import.org_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'org % does not exist', process_import.org_id USING ERRCODE = 'foreign_key_violation';
    END IF;

    -- take the batch: a second process_import of it waits, then finds it done
    PERFORM FROM leadflow.lead_imports i
      WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
        AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
        AND i.processed_at IS NULL
      FOR UPDATE;
    IF NOT FOUND AND NOT EXISTS (SELECT FROM leadflow.lead_imports i
                                  WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
                                    AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id) THEN
        RAISE EXCEPTION 'import batch % of org % not found', process_import.batch_id, process_import.org_id
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The rows of one \copy share a batch_id: SELECT batch_id, count(*) FROM leadflow.lead_imports WHERE processed_at IS NULL GROUP BY 1.';
    END IF;

    -- a row is rejected only when no usable email or phone remains; an
    -- unusable optional value is kept and noted (leads.data_issues)
    UPDATE leadflow.lead_imports i
       SET error = leadflow.contact_problem(i.email, i.phone, i.country, region),
           processed_at = pg_catalog.now()
     WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
       AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
       AND i.processed_at IS NULL;

    -- Re-importing changes nothing: a row whose source and external_id are
    -- stored, or with the fields of a row imported before (its
    -- fingerprint), or repeating an earlier row of the batch, is unchanged
    UPDATE leadflow.lead_imports i
       SET external_id = NULLIF(pg_catalog.btrim(i.external_id), ''),
           -- import_fingerprint(i), written out: a function call per row costs
           fingerprint = pg_catalog.md5(pg_catalog.concat_ws(pg_catalog.chr(31),
                   i.first_name, i.last_name, i.email, i.phone, i.company, i.job_title, i.industry,
                   i.company_size, i.annual_revenue, i.country, i.state, i.city, i.postal_code,
                   i.source, i.campaign, NULLIF(pg_catalog.btrim(i.external_id), ''),
                   pg_catalog.concat((i.first_name IS NULL)::int, (i.last_name IS NULL)::int, (i.email IS NULL)::int,
                                     (i.phone IS NULL)::int, (i.company IS NULL)::int, (i.job_title IS NULL)::int,
                                     (i.industry IS NULL)::int, (i.company_size IS NULL)::int,
                                     (i.annual_revenue IS NULL)::int, (i.country IS NULL)::int,
                                     (i.state IS NULL)::int, (i.city IS NULL)::int, (i.postal_code IS NULL)::int,
                                     (i.source IS NULL)::int, (i.campaign IS NULL)::int)))
     WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
       AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
       AND i.error IS NULL AND i.lead_id IS NULL;

    -- stored before: by the claim of its external_id, or a row of an
    -- earlier batch with the same fields (set-based: hash joins, no
    -- search per row)
    UPDATE leadflow.lead_imports i
       SET unchanged = true, lead_id = leadflow.survivor_of(x.org_id, x.lead_id)
      FROM leadflow.lead_external_ids x
     WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
       AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
       AND i.error IS NULL AND i.lead_id IS NULL AND i.external_id IS NOT NULL
       AND x.org_id OPERATOR(pg_catalog.=) i.org_id
       AND x.source OPERATOR(pg_catalog.=) COALESCE(leadflow.org_source(i.org_id,
               COALESCE(NULLIF(pg_catalog.btrim(i.source), ''), 'csv_import')), '')
       AND x.external_id OPERATOR(pg_catalog.=) i.external_id;
    UPDATE leadflow.lead_imports i
       SET unchanged = true, lead_id = leadflow.survivor_of(i.org_id, h.lead_id)
      FROM (SELECT DISTINCT ON (p.fingerprint) p.fingerprint, p.lead_id
              FROM leadflow.lead_imports p
             WHERE p.org_id OPERATOR(pg_catalog.=) process_import.org_id
               AND p.batch_id OPERATOR(pg_catalog.<>) process_import.batch_id
               AND p.fingerprint IS NOT NULL AND p.lead_id IS NOT NULL
             ORDER BY p.fingerprint, p.batch_id, p.row_number) h
     WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
       AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
       AND i.error IS NULL AND i.lead_id IS NULL
       AND i.fingerprint OPERATOR(pg_catalog.=) h.fingerprint;

    -- a repeat of an earlier row of the batch (same fields, or the same
    -- source and external_id): one pass with window functions
    IF pg_catalog.to_regclass('pg_temp.leadflow_import_repeats') IS NULL THEN
        CREATE TEMP TABLE leadflow_import_repeats (row_number bigint PRIMARY KEY, first_row bigint NOT NULL)
            ON COMMIT DROP;
    END IF;
    TRUNCATE pg_temp.leadflow_import_repeats;
    INSERT INTO pg_temp.leadflow_import_repeats (row_number, first_row)
    SELECT w.row_number, LEAST(w.first_fp, COALESCE(w.first_ext, w.first_fp))
      FROM (SELECT e.row_number,
                   pg_catalog.min(e.row_number) OVER (PARTITION BY e.fingerprint) AS first_fp,
                   CASE WHEN e.external_id IS NOT NULL
                        THEN pg_catalog.min(e.row_number) OVER (PARTITION BY e.source, e.external_id) END AS first_ext
              FROM (SELECT i.row_number, i.fingerprint, i.external_id,
                           CASE WHEN i.external_id IS NOT NULL
                                THEN leadflow.org_source(i.org_id, COALESCE(NULLIF(pg_catalog.btrim(i.source), ''), 'csv_import'))
                           END AS source
                      FROM leadflow.lead_imports i
                     WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
                       AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
                       AND i.error IS NULL AND (i.lead_id IS NULL OR i.unchanged)) e) w
     WHERE LEAST(w.first_fp, COALESCE(w.first_ext, w.first_fp)) OPERATOR(pg_catalog.<) w.row_number;
    UPDATE leadflow.lead_imports i SET unchanged = true
      FROM pg_temp.leadflow_import_repeats r
     WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
       AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
       AND i.row_number OPERATOR(pg_catalog.=) r.row_number AND i.lead_id IS NULL;

    UPDATE leadflow.lead_imports i
       SET lead_id = pg_catalog.nextval(pg_catalog.pg_get_serial_sequence('leadflow.leads', 'lead_id'))
     WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
       AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
       AND i.error IS NULL AND i.lead_id IS NULL AND NOT i.unchanged;

    -- company_size and annual_revenue as people type them ("1,200",
    -- "$5M"); what cannot be read stays as typed in attributes, noted
    INSERT INTO leadflow.leads (org_id, lead_id, first_name, last_name, email, phone, company, job_title,
                                industry, company_size, annual_revenue, country, state, city,
                                postal_code, source, campaign, attributes, data_issues, external_id)
    SELECT i.org_id, i.lead_id, i.first_name, i.last_name, i.email, i.phone, i.company, i.job_title,
           i.industry, leadflow.parse_number(i.company_size, true)::integer, leadflow.parse_number(i.annual_revenue),
           i.country, i.state, i.city, i.postal_code, COALESCE(NULLIF(pg_catalog.btrim(i.source), ''), 'csv_import'), i.campaign,
           CASE WHEN p.size_problem IS NULL AND p.revenue_problem IS NULL THEN '{}'::jsonb
                ELSE pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                         'company_size', CASE WHEN p.size_problem IS NOT NULL THEN i.company_size END,
                         'annual_revenue', CASE WHEN p.revenue_problem IS NOT NULL THEN i.annual_revenue END)) END,
           CASE WHEN p.size_problem IS NOT NULL OR p.revenue_problem IS NOT NULL
                THEN pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                         'company_size', p.size_problem, 'annual_revenue', p.revenue_problem)) END,
           i.external_id
      FROM leadflow.lead_imports i
     CROSS JOIN LATERAL (SELECT leadflow.number_problem(i.company_size, true) AS size_problem,
                                leadflow.number_problem(i.annual_revenue) AS revenue_problem) p
     WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
       AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
       AND i.error IS NULL AND NOT i.unchanged
       AND NOT EXISTS (SELECT FROM leadflow.leads l
                        WHERE l.org_id OPERATOR(pg_catalog.=) i.org_id AND l.lead_id OPERATOR(pg_catalog.=) i.lead_id)
     -- the pipeline claims emails (then phones) in the order of the rows:
     -- one order for every batch, so two imports sharing addresses in
     -- different file orders wait for each other instead of deadlocking
     -- (the key is computed only where normalizing cannot fail; a phone is
     -- read, which costs, only for a row without a usable email)
     ORDER BY COALESCE(CASE WHEN leadflow.contact_problem(i.email, NULL, NULL) IS NULL
                            THEN leadflow.normalize_email(i.email) END,
                       CASE WHEN leadflow.contact_problem(NULL, i.phone, NULL, region) IS NULL
                            THEN leadflow.normalize_phone(i.phone, region) END) COLLATE pg_catalog."C",
              i.row_number;

    -- a repeat within the batch is the lead of the row it repeats
    UPDATE leadflow.lead_imports i
       SET lead_id = leadflow.survivor_of(f.org_id, f.lead_id)
      FROM pg_temp.leadflow_import_repeats r
      JOIN leadflow.lead_imports f ON f.org_id OPERATOR(pg_catalog.=) process_import.org_id
                                  AND f.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
                                  AND f.row_number OPERATOR(pg_catalog.=) r.first_row
     WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
       AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id
       AND i.row_number OPERATOR(pg_catalog.=) r.row_number
       AND i.unchanged AND i.lead_id IS NULL;
    TRUNCATE pg_temp.leadflow_import_repeats;

    RETURN QUERY
    SELECT pg_catalog.count(*) FILTER (WHERE l.status <> 'merged' AND NOT i.unchanged)::integer,
           pg_catalog.count(*) FILTER (WHERE l.status = 'merged' AND NOT i.unchanged)::integer,
           (pg_catalog.count(*) FILTER (WHERE i.error IS NOT NULL))::integer,
           (pg_catalog.count(*) FILTER (WHERE i.unchanged))::integer
      FROM leadflow.lead_imports i
      LEFT JOIN leadflow.leads l ON l.org_id OPERATOR(pg_catalog.=) i.org_id AND l.lead_id OPERATOR(pg_catalog.=) i.lead_id
     WHERE i.org_id OPERATOR(pg_catalog.=) process_import.org_id
       AND i.batch_id OPERATOR(pg_catalog.=) process_import.batch_id;
END
$$;
COMMENT ON FUNCTION @extschema@.process_import(bigint, bigint) IS
    'Moves every valid row of an import batch through the lead pipeline; rejected rows (no usable email or phone) keep their error; a row imported before (same source and external_id, or the same fields as a row of any earlier batch, or a repeat within the batch) is unchanged and stores nothing. Returns counts for the whole batch. 22023 when the batch does not exist.';

-- pg_dump keeps the user data of these tables
SELECT pg_catalog.pg_extension_config_dump('leadflow.lead_imports', '');
