------------------------------------------------------------------------------
-- Lead search (search.c) and re-enrichment
------------------------------------------------------------------------------

-- pg_trgm and unaccent are required extensions (leadflow.control): the
-- trigram index below is part of leads, so they must exist before it.
CREATE FUNCTION @extschema@.search_key(first_name text, last_name text, company text)
RETURNS text
AS 'MODULE_PATHNAME', 'leadflow_search_key'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.search_key(text, text, text) IS
    'What lead search compares by trigram similarity: the non-null parts joined by a space, without accents (unaccent), in lower case; NULL when all are NULL. leads.search_text holds it for each lead.';

-- Stored, not an index expression: a trigram search of a common name
-- rechecks tens of thousands of candidate rows, and computing the key for
-- each (unaccent) made a search of an org of 1M leads 5-10 times slower
-- (bench/search_reports.sh).  One GIN trigram index over the one column
-- (names and company together) is the cheapest index that serves the
-- search (README "Performance" has its cost to a bulk load).
ALTER TABLE @extschema@.leads ADD COLUMN search_text text
    GENERATED ALWAYS AS (@extschema@.search_key(first_name, last_name, company)) STORED;
COMMENT ON COLUMN @extschema@.leads.search_text IS 'First name, last name and company as lead search compares them (search_key: unaccented, lower case); kept by PostgreSQL.';
CREATE INDEX leads_search ON @extschema@.leads USING gin (search_text gin_trgm_ops);

CREATE FUNCTION @extschema@.search_leads(org_id bigint, query text, max integer DEFAULT 20,
                                         include_merged boolean DEFAULT false)
RETURNS TABLE (lead_id bigint, score real, matched text)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    q text := pg_catalog.btrim(search_leads.query);
    key text;
    region text;
    trgm name;
BEGIN
    IF search_leads.org_id IS NULL THEN
        RAISE EXCEPTION 'org_id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF search_leads.max IS NULL OR search_leads.max NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'max must be between 1 and 1000, not %', COALESCE(search_leads.max::text, 'null')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM leadflow.check_org_access(search_leads.org_id);
    IF q IS NULL OR q OPERATOR(pg_catalog.=) '' THEN
        RETURN;
    END IF;

    -- an email: the normalized form, exactly (the live lead holding it,
    -- and on request its merged duplicates with that email)
    IF pg_catalog.strpos(q, '@') OPERATOR(pg_catalog.>) 0 THEN
        BEGIN
            key := leadflow.normalize_email(q);
        EXCEPTION WHEN invalid_parameter_value THEN
            key := NULL;
        END;
        IF key IS NOT NULL THEN
            RETURN QUERY
            SELECT e.lead_id, 1::real, 'email'::text
              FROM leadflow.lead_emails e
             WHERE e.org_id OPERATOR(pg_catalog.=) search_leads.org_id
               AND e.email_normalized OPERATOR(pg_catalog.=) key
            UNION ALL
            SELECT l.lead_id, 1::real, 'email'::text
              FROM leadflow.lead_emails e
              JOIN leadflow.leads l ON l.org_id OPERATOR(pg_catalog.=) e.org_id
                                   AND l.merged_into OPERATOR(pg_catalog.=) e.lead_id
             WHERE search_leads.include_merged
               AND e.org_id OPERATOR(pg_catalog.=) search_leads.org_id
               AND e.email_normalized OPERATOR(pg_catalog.=) key
               AND l.email_normalized OPERATOR(pg_catalog.=) key
             ORDER BY 1
             LIMIT search_leads.max;
            RETURN;
        END IF;
    END IF;

    -- a phone number (digits and phone punctuation only), read with the
    -- org's default region as the pipeline reads leads' phones
    IF q OPERATOR(pg_catalog.~) '^\+?[0-9 ().\-/]+$'
       AND pg_catalog.length(pg_catalog.regexp_replace(q, '[^0-9]', '', 'g')) OPERATOR(pg_catalog.>=) 5 THEN
        SELECT COALESCE(o.settings OPERATOR(pg_catalog.->>) 'default_region', 'US') INTO region
          FROM leadflow.orgs o WHERE o.org_id OPERATOR(pg_catalog.=) search_leads.org_id;
        BEGIN
            key := leadflow.normalize_phone(q, COALESCE(region, 'US'));
        EXCEPTION WHEN invalid_parameter_value THEN
            key := NULL;
        END;
        IF key IS NOT NULL THEN
            RETURN QUERY
            SELECT l.lead_id, 1::real, 'phone'::text
              FROM leadflow.leads l
             WHERE l.org_id OPERATOR(pg_catalog.=) search_leads.org_id
               AND l.phone_e164 OPERATOR(pg_catalog.=) key
               AND (search_leads.include_merged OR l.merged_into IS NULL)
             ORDER BY l.merged_into NULLS FIRST, l.lead_id
             LIMIT search_leads.max;
            RETURN;
        END IF;
    END IF;

    -- names and company by trigram word similarity (pg_trgm, in whatever
    -- schema it was installed: its operator is named with that schema)
    SELECT n.nspname INTO trgm
      FROM pg_catalog.pg_extension x JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) x.extnamespace
     WHERE x.extname OPERATOR(pg_catalog.=) 'pg_trgm';
    key := leadflow.search_key(q, NULL, NULL);
    -- which of name and company matched is worked out for the best rows only
    RETURN QUERY EXECUTE pg_catalog.format(
        'SELECT s.lead_id, s.score,
                CASE WHEN COALESCE(%1$I.word_similarity($1, leadflow.search_key(s.first_name, s.last_name, NULL)), 0)
                          OPERATOR(pg_catalog.>=)
                          COALESCE(%1$I.word_similarity($1, leadflow.search_key(NULL, NULL, s.company)), 0)
                     THEN %2$L ELSE %3$L END
           FROM (SELECT l.lead_id, l.first_name, l.last_name, l.company,
                        %1$I.word_similarity($1, l.search_text) AS score
                   FROM leadflow.leads l
                  WHERE l.search_text OPERATOR(%1$I.%%>) $1
                    AND l.org_id OPERATOR(pg_catalog.=) $2
                    AND ($3 OR l.merged_into IS NULL)
                  ORDER BY 5 DESC, l.lead_id
                  LIMIT $4) s
          ORDER BY s.score DESC, s.lead_id', trgm, 'name', 'company')
        USING key, search_leads.org_id, search_leads.include_merged, search_leads.max;
END
$$;
COMMENT ON FUNCTION @extschema@.search_leads(bigint, text, integer, boolean) IS
    'Finds an org''s leads, best first, at most max (1..1000): an email in the query matches the normalized email exactly (case, +tag, Gmail dots do not matter), a phone number the E.164 phone read with the org''s default_region (format does not matter); any other text matches first name, last name and company by trigram word similarity (pg_trgm, threshold pg_trgm.word_similarity_threshold), case and accent insensitive. Score 1 for an exact match, else the similarity; matched is email, phone, name or company. Merged leads only with include_merged (by email: the merged duplicates of the lead that holds it).';

-- Re-enrichment: what the pipeline does at insert (enrich.c), for the
-- leads that were there before a vendor's profiles arrived
CREATE FUNCTION @extschema@.enrich(org_id bigint, domain text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    dom text;
    r record;
    n bigint := 0;
BEGIN
    IF enrich.org_id IS NULL THEN
        RAISE EXCEPTION 'org_id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM leadflow.check_org_access(enrich.org_id);
    IF enrich.domain IS NOT NULL THEN
        -- a host name or an email gives its registrable domain, as leads store it
        dom := leadflow.company_domain(enrich.domain);
        IF dom IS NULL THEN
            RAISE EXCEPTION 'invalid domain: "%"', pg_catalog.left(enrich.domain, 100)
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'It is a public suffix or an IP address.';
        END IF;
    END IF;
    -- per domain and field the value of the best profile that has one:
    -- higher priority, then newer updated_at (the order of enrich.c)
    FOR r IN
        WITH p AS (
            SELECT c.domain,
                   (pg_catalog.array_agg(c.industry ORDER BY c.priority DESC, c.updated_at DESC, c.provider)
                        FILTER (WHERE c.industry IS NOT NULL))[1] AS industry,
                   (pg_catalog.array_agg(c.provider ORDER BY c.priority DESC, c.updated_at DESC, c.provider)
                        FILTER (WHERE c.industry IS NOT NULL))[1] AS industry_by,
                   (pg_catalog.array_agg(c.company_size ORDER BY c.priority DESC, c.updated_at DESC, c.provider)
                        FILTER (WHERE c.company_size IS NOT NULL))[1] AS company_size,
                   (pg_catalog.array_agg(c.provider ORDER BY c.priority DESC, c.updated_at DESC, c.provider)
                        FILTER (WHERE c.company_size IS NOT NULL))[1] AS company_size_by,
                   (pg_catalog.array_agg(c.annual_revenue ORDER BY c.priority DESC, c.updated_at DESC, c.provider)
                        FILTER (WHERE c.annual_revenue IS NOT NULL))[1] AS annual_revenue,
                   (pg_catalog.array_agg(c.provider ORDER BY c.priority DESC, c.updated_at DESC, c.provider)
                        FILTER (WHERE c.annual_revenue IS NOT NULL))[1] AS annual_revenue_by,
                   (pg_catalog.array_agg(c.country ORDER BY c.priority DESC, c.updated_at DESC, c.provider)
                        FILTER (WHERE c.country IS NOT NULL))[1] AS country,
                   (pg_catalog.array_agg(c.provider ORDER BY c.priority DESC, c.updated_at DESC, c.provider)
                        FILTER (WHERE c.country IS NOT NULL))[1] AS country_by
              FROM leadflow.company_profiles c
             WHERE c.org_id OPERATOR(pg_catalog.=) enrich.org_id
               AND (dom IS NULL OR c.domain OPERATOR(pg_catalog.=) dom)
             GROUP BY c.domain)
        SELECT l.lead_id,
               CASE WHEN l.industry IS NULL THEN p.industry END AS industry,
               CASE WHEN l.company_size IS NULL THEN p.company_size END AS company_size,
               CASE WHEN l.annual_revenue IS NULL THEN p.annual_revenue END AS annual_revenue,
               CASE WHEN l.country IS NULL THEN p.country END AS country,
               pg_catalog.jsonb_build_object('filled', pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                   'industry', CASE WHEN l.industry IS NULL THEN p.industry_by END,
                   'company_size', CASE WHEN l.company_size IS NULL THEN p.company_size_by END,
                   'annual_revenue', CASE WHEN l.annual_revenue IS NULL THEN p.annual_revenue_by END,
                   'country', CASE WHEN l.country IS NULL THEN p.country_by END))) AS detail
          FROM leadflow.leads l
          JOIN p ON p.domain OPERATOR(pg_catalog.=) l.company_domain
         WHERE l.org_id OPERATOR(pg_catalog.=) enrich.org_id
           AND l.merged_into IS NULL AND l.erased_at IS NULL
           AND ((l.industry IS NULL AND p.industry IS NOT NULL)
                OR (l.company_size IS NULL AND p.company_size IS NOT NULL)
                OR (l.annual_revenue IS NULL AND p.annual_revenue IS NOT NULL)
                OR (l.country IS NULL AND p.country IS NOT NULL))
         ORDER BY l.lead_id
           FOR NO KEY UPDATE OF l
    LOOP
        UPDATE leadflow.leads l
           SET industry = COALESCE(l.industry, r.industry),
               company_size = COALESCE(l.company_size, r.company_size),
               annual_revenue = COALESCE(l.annual_revenue, r.annual_revenue),
               country = COALESCE(l.country, r.country)
         WHERE l.org_id OPERATOR(pg_catalog.=) enrich.org_id AND l.lead_id OPERATOR(pg_catalog.=) r.lead_id;
        PERFORM leadflow.append_journey(r.lead_id, 'enriched', r.detail);
        n := n OPERATOR(pg_catalog.+) 1;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION @extschema@.enrich(bigint, text) IS
    'Re-applies company_profiles to the org''s live leads (of one company domain, or all): fills only empty industry, company_size, annual_revenue and country, field by field from the best profile (higher priority, then newer updated_at), as the pipeline does at insert; journals enriched with the provider of each filled field per lead (the update rescores it). Returns how many leads it changed.';
