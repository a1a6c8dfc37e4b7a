------------------------------------------------------------------------------
-- Lead search (search.c) and re-enrichment
------------------------------------------------------------------------------

-- pg_trgm and unaccent are required extensions (leadflow.control): the
-- trigram index below is part of lead_words, so they must exist before it.
CREATE FUNCTION @extschema@.search_key(first_name text, last_name text, company text)
RETURNS text
AS 'MODULE_PATHNAME', 'leadflow_search_key'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.search_key(text, text, text) IS
    'The parts without accents (unaccent), in lower case, joined by a space; NULL when all are NULL. search_leads compares its query with the names and the company of the leads it returns this way, to tell a name match from a company match.';

CREATE FUNCTION @extschema@.search_words(first_name text, last_name text, company text)
RETURNS text[]
AS 'MODULE_PATHNAME', 'leadflow_search_words'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.search_words(text, text, text) IS
    'The distinct words of the parts as lead search compares them: without accents (unaccent), in lower case, split at ASCII characters other than letters and digits, each cut to 47 bytes; NULL when there is none. The pipeline keeps leads.search_words so for each lead.';

-- A lead's 3 or 4 words, not its ~22 trigrams, go into the leads' GIN
-- index: the trigrams are indexed once per org and word, in lead_words,
-- which a bulk load of names the org has seen before leaves alone (README
-- "Performance" has both costs).  Set by the leads trigger
-- (search_words.c), not a stored generated column, whose upkeep copies
-- every value of the row on every insert and update.
ALTER TABLE @extschema@.leads ADD COLUMN search_words text[];
COMMENT ON COLUMN @extschema@.leads.search_words IS 'The words of first name, last name and company as lead search compares them (search_words(): unaccented, lower case); set by the pipeline, whatever is written.';
CREATE INDEX leads_search ON @extschema@.leads USING gin (search_words);

-- Every org's distinct words, written by the pipeline at the end of each
-- statement (search_words.c); erase_lead removes those no lead holds any
-- more.
CREATE TABLE @extschema@.lead_words (
    org_id  bigint NOT NULL,
    word    text NOT NULL,
    PRIMARY KEY (org_id, word)
);
COMMENT ON TABLE @extschema@.lead_words IS 'Internal: each org''s distinct words of lead names and companies (leads.search_words), which lead search compares its query with by trigram similarity.';
COMMENT ON COLUMN @extschema@.lead_words.word IS 'A word as search_words makes it (personal data: erase_lead removes it with the last lead that holds it).';
CREATE INDEX lead_words_trgm ON @extschema@.lead_words USING gin (word gin_trgm_ops);
SELECT pg_catalog.pg_extension_config_dump('leadflow.lead_words', '');

-- The org's words no lead holds any more: after an erasure (erase_lead),
-- or names changed by UPDATE, which leave their old words behind.
CREATE FUNCTION @extschema@.prune_search_words(org_id bigint, words text[] DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n bigint;
BEGIN
    IF prune_search_words.org_id IS NULL THEN
        RAISE EXCEPTION 'org_id must not be null' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    PERFORM leadflow.check_org_access(prune_search_words.org_id);
    -- the org's words lock, which every transaction that wrote words of the
    -- org holds (shared) until commit: the next statement sees the leads
    -- they wrote, and those written later write their words again
    PERFORM pg_catalog.pg_advisory_xact_lock(1279677271,
                                             (prune_search_words.org_id OPERATOR(pg_catalog.&) 2147483647)::integer);
    DELETE FROM leadflow.lead_words w
     WHERE w.org_id OPERATOR(pg_catalog.=) prune_search_words.org_id
       AND (prune_search_words.words IS NULL OR w.word OPERATOR(pg_catalog.=) ANY (prune_search_words.words))
       AND NOT EXISTS (SELECT FROM leadflow.leads y
                        WHERE y.org_id OPERATOR(pg_catalog.=) w.org_id
                          AND y.search_words OPERATOR(pg_catalog.@>) ARRAY[w.word]);
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION @extschema@.prune_search_words(bigint, text[]) IS
    'Removes the org''s words (of the given words, or all) that no lead of the org holds from lead_words, under the org''s words lock; returns how many. erase_lead calls it for the erased person''s words; run it for all after names were changed, whose old words stay otherwise.';
REVOKE EXECUTE ON FUNCTION @extschema@.prune_search_words(bigint, text[]) FROM PUBLIC;

CREATE FUNCTION @extschema@.search_score(words text[], candidates text[], query_word integer[],
                                         similarity real[], weights real[])
RETURNS real
AS 'MODULE_PATHNAME', 'leadflow_search_score'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.search_score(text[], text[], integer[], real[], real[]) IS
    'A lead''s score for a query of cardinality(weights) words: the weighted mean over the query''s words of the best similarity of one of the lead''s words (words) among the candidates of that query word (candidates[i] is similar to query word query_word[i] by similarity[i]), 0 where none is. search_leads ranks by it.';

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
    qwords text[];
    cand text[] := '{}';
    cand_word integer[] := '{}';
    cand_sim real[] := '{}';
    weights real[] := '{}';
    ws text[];
    ss real[];
    conds text := '';
    top text[] := '{}';
    top_conds text := '';
    top_score real := 0;
    top_score_i real;
    tw text[];
    matched text;
    tier record;
    done text[] := '{}';
    nfound integer := 0;
    got integer;
    i integer;
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

    -- names and company: each word of the query is compared with the org's
    -- distinct words by trigram word similarity (lead_words; pg_trgm, in
    -- whatever schema it was installed: its operator is named with that
    -- schema); a lead must hold a similar word for every query word that
    -- has one, and is scored by the weighted mean similarity (weight: the
    -- query word's length; 0 for a query word with no similar word)
    qwords := leadflow.search_words(q, NULL, NULL);
    IF qwords IS NULL THEN
        RETURN;
    END IF;
    SELECT n.nspname INTO trgm
      FROM pg_catalog.pg_extension x JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) x.extnamespace
     WHERE x.extname OPERATOR(pg_catalog.=) 'pg_trgm';
    FOR i IN 1 .. pg_catalog.cardinality(qwords) LOOP
        weights := weights OPERATOR(pg_catalog.||) pg_catalog.length(qwords[i])::real;
        EXECUTE pg_catalog.format(
            'SELECT pg_catalog.array_agg(w.word ORDER BY w.word),
                    pg_catalog.array_agg(%1$I.word_similarity($2, w.word) ORDER BY w.word)
               FROM leadflow.lead_words w
              WHERE w.org_id OPERATOR(pg_catalog.=) $1 AND w.word OPERATOR(%1$I.%%>) $2', trgm)
            INTO ws, ss USING search_leads.org_id, qwords[i];
        CONTINUE WHEN ws IS NULL;
        -- the slice of the candidates of this query word (an integer, not a value)
        conds := conds OPERATOR(pg_catalog.||) pg_catalog.format(
            ' AND l.search_words OPERATOR(pg_catalog.&&) $4[%s:%s]',
            pg_catalog.cardinality(cand) OPERATOR(pg_catalog.+) 1,
            pg_catalog.cardinality(cand) OPERATOR(pg_catalog.+) pg_catalog.cardinality(ws));
        cand := cand OPERATOR(pg_catalog.||) ws;
        cand_sim := cand_sim OPERATOR(pg_catalog.||) ss;
        cand_word := cand_word OPERATOR(pg_catalog.||) pg_catalog.array_fill(i, ARRAY[pg_catalog.cardinality(ws)]);
        -- and its most similar words (the best a lead can hold)
        SELECT pg_catalog.max(x), pg_catalog.array_agg(ws[k] ORDER BY k) FILTER (WHERE ss[k] OPERATOR(pg_catalog.=) (SELECT pg_catalog.max(y) FROM pg_catalog.unnest(ss) y))
          INTO top_score_i, tw
          FROM pg_catalog.generate_subscripts(ss, 1) k, LATERAL (SELECT ss[k] AS x) z;
        top_conds := top_conds OPERATOR(pg_catalog.||) pg_catalog.format(
            ' AND l.search_words OPERATOR(pg_catalog.&&) $5[%s:%s]',
            pg_catalog.cardinality(top) OPERATOR(pg_catalog.+) 1,
            pg_catalog.cardinality(top) OPERATOR(pg_catalog.+) pg_catalog.cardinality(tw));
        top := top OPERATOR(pg_catalog.||) tw;
        top_score := top_score OPERATOR(pg_catalog.+) weights[i] OPERATOR(pg_catalog.*) top_score_i;
    END LOOP;
    top_score := top_score OPERATOR(pg_catalog./) (SELECT pg_catalog.sum(x) FROM pg_catalog.unnest(weights) x);
    IF conds OPERATOR(pg_catalog.=) ''
       OR top_score OPERATOR(pg_catalog.<) pg_catalog.current_setting('pg_trgm.word_similarity_threshold')::real THEN
        RETURN;
    END IF;
    key := leadflow.search_key(q, NULL, NULL);
    -- which of name and company matched is worked out for the rows
    -- returned only
    matched := pg_catalog.format(
        'CASE WHEN COALESCE(%1$I.word_similarity($1, leadflow.search_key(s.first_name, s.last_name, NULL)), 0)
                   OPERATOR(pg_catalog.>=)
                   COALESCE(%1$I.word_similarity($1, leadflow.search_key(NULL, NULL, s.company)), 0)
              THEN %2$L ELSE %3$L END', trgm, 'name', 'company');

    -- the best first: the leads holding a most similar word for each query
    -- word (all of the highest score), in lead_id order, so that a common
    -- name is read in that order until max are found, not all of it
    RETURN QUERY EXECUTE pg_catalog.format(
        'SELECT s.lead_id, $4, %s
           FROM (SELECT l.lead_id, l.first_name, l.last_name, l.company
                   FROM leadflow.leads l
                  WHERE l.org_id OPERATOR(pg_catalog.=) $2
                    AND ($3 OR l.merged_into IS NULL) %s
                  ORDER BY l.lead_id
                  LIMIT $6) s
          ORDER BY s.lead_id', matched, top_conds)
        USING key, search_leads.org_id, search_leads.include_merged, top_score, top, search_leads.max;
    GET DIAGNOSTICS nfound = ROW_COUNT;
    IF nfound OPERATOR(pg_catalog.>=) search_leads.max THEN
        RETURN;
    END IF;

    IF pg_catalog.cardinality(qwords) OPERATOR(pg_catalog.=) 1 THEN
        -- one word: a lead's score is that of the most similar word it
        -- holds, so the others come tier by tier (the words of one
        -- similarity, best first), each tier in lead_id order
        done := top;
        FOR tier IN
            SELECT c.sim, pg_catalog.array_agg(c.word) AS words
              FROM ROWS FROM (pg_catalog.unnest(cand), pg_catalog.unnest(cand_sim)) c(word, sim)
             WHERE NOT c.word OPERATOR(pg_catalog.=) ANY (top)
             GROUP BY c.sim ORDER BY c.sim DESC
        LOOP
            RETURN QUERY EXECUTE pg_catalog.format(
                'SELECT s.lead_id, $6, %s
                   FROM (SELECT l.lead_id, l.first_name, l.last_name, l.company
                           FROM leadflow.leads l
                          WHERE l.org_id OPERATOR(pg_catalog.=) $2
                            AND ($3 OR l.merged_into IS NULL)
                            AND l.search_words OPERATOR(pg_catalog.&&) $4
                            AND NOT l.search_words OPERATOR(pg_catalog.&&) $5
                          ORDER BY l.lead_id
                          LIMIT $7) s
                  ORDER BY s.lead_id', matched)
                USING key, search_leads.org_id, search_leads.include_merged, tier.words, done, tier.sim,
                      search_leads.max OPERATOR(pg_catalog.-) nfound;
            GET DIAGNOSTICS got = ROW_COUNT;
            nfound := nfound OPERATOR(pg_catalog.+) got;
            EXIT WHEN nfound OPERATOR(pg_catalog.>=) search_leads.max;
            done := done OPERATOR(pg_catalog.||) tier.words;
        END LOOP;
        RETURN;
    END IF;

    -- several words: the other leads holding a candidate of each, scored
    RETURN QUERY EXECUTE pg_catalog.format(
        'SELECT s.lead_id, s.score, %s
           FROM (SELECT l.lead_id, l.first_name, l.last_name, l.company,
                        leadflow.search_score(l.search_words, $4, $5, $6, $7) AS score
                   FROM leadflow.leads l
                  WHERE l.org_id OPERATOR(pg_catalog.=) $2
                    AND ($3 OR l.merged_into IS NULL) %s
                    AND NOT (true %s)) s
          WHERE s.score OPERATOR(pg_catalog.>=) pg_catalog.current_setting(%L)::real
          ORDER BY s.score DESC, s.lead_id
          LIMIT $8', matched, conds, pg_catalog.replace(top_conds, '$5[', '$9['), 'pg_trgm.word_similarity_threshold')
        USING key, search_leads.org_id, search_leads.include_merged,
              cand, cand_word, cand_sim, weights, search_leads.max OPERATOR(pg_catalog.-) nfound, top;
END
$$;
COMMENT ON FUNCTION @extschema@.search_leads(bigint, text, integer, boolean) IS
    'Finds an org''s leads, best first, at most max (1..1000): an email in the query matches the normalized email exactly (case, +tag, Gmail dots do not matter), a phone number the E.164 phone read with the org''s default_region (format does not matter); any other text is cut into words, each compared with the words of first name, last name and company by trigram word similarity (pg_trgm, threshold pg_trgm.word_similarity_threshold), case and accent insensitive; a lead holds a similar word for each query word that has one in the org, and its score (the mean similarity weighted by query word length) reaches the threshold. Score 1 for an exact match, else that mean; matched is email, phone, name or company. Merged leads only with include_merged (by email: the merged duplicates of the lead that holds it).';

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
