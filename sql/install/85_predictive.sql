------------------------------------------------------------------------------
-- Predictive scoring (predict.c)
------------------------------------------------------------------------------

ALTER TABLE @extschema@.leads
    ADD COLUMN conversion_probability double precision
    CONSTRAINT leads_conversion_probability_check CHECK (conversion_probability BETWEEN 0 AND 1);
COMMENT ON COLUMN @extschema@.leads.conversion_probability IS 'Predicted probability (0..1) that the lead converts, from the org''s model (train_model): computed when the lead is inserted or changes (signals included) while open, and for every open lead by train_model; kept as it was once the lead is closed; NULL without a model. explain_prediction computes it afresh.';

CREATE TABLE @extschema@.prediction_models (
    org_id          bigint PRIMARY KEY REFERENCES @extschema@.orgs (org_id) ON DELETE CASCADE,
    features        text[] NOT NULL,
    alpha           double precision NOT NULL DEFAULT 1 CHECK (alpha > 0),
    trained_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    training_leads  bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE @extschema@.prediction_models IS 'Predictive scoring model per org (naive Bayes), made by train_model; its counts are in prediction_counts.';
COMMENT ON COLUMN @extschema@.prediction_models.features IS 'Features the model uses: source, industry, company_size, country, seniority, activity.';
COMMENT ON COLUMN @extschema@.prediction_models.alpha IS 'Laplace smoothing.';
COMMENT ON COLUMN @extschema@.prediction_models.trained_at IS 'When train_model last counted from scratch.';
COMMENT ON COLUMN @extschema@.prediction_models.training_leads IS 'Closed leads counted then.';

CREATE TABLE @extschema@.prediction_counts (
    org_id     bigint NOT NULL REFERENCES @extschema@.orgs (org_id) ON DELETE CASCADE,
    feature    text NOT NULL,
    value      text NOT NULL,
    converted  bigint NOT NULL,
    lost       bigint NOT NULL,
    PRIMARY KEY (org_id, feature, value)
);
COMMENT ON TABLE @extschema@.prediction_counts IS 'Per org, feature and value: closed leads that converted and that were lost (unqualified, archived); feature _total holds the class totals. Counted by train_model, then kept up to date by the leads trigger as leads close, reopen or change.';
COMMENT ON COLUMN @extschema@.prediction_counts.feature IS 'Feature name, or _total.';
COMMENT ON COLUMN @extschema@.prediction_counts.value IS 'Feature value (see lead_features); empty for _total.';
COMMENT ON COLUMN @extschema@.prediction_counts.converted IS 'Converted leads with this value.';
COMMENT ON COLUMN @extschema@.prediction_counts.lost IS 'Unqualified or archived leads with this value.';


CREATE FUNCTION @extschema@.lead_features(lead @extschema@.leads)
RETURNS TABLE (feature text, value text)
AS 'MODULE_PATHNAME', 'leadflow_lead_features'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lead_features(@extschema@.leads) IS
    'The features predictive scoring sees in a lead: source, industry (lower case), company_size band (1-49, 50-199, 200-999, 1000-4999, 5000+), country (upper case), seniority of the job title (c_level, vp, director, manager, student, other), activity (behavioral + engagement points: none, low < 10, medium < 25, high); (none) when missing.';

CREATE FUNCTION @extschema@.explain_prediction(lead_id bigint)
RETURNS TABLE (factor text, value text, converted bigint, lost bigint, weight double precision)
AS 'MODULE_PATHNAME', 'leadflow_explain_prediction'
LANGUAGE C STABLE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.explain_prediction(bigint) IS
    'Why the model predicts what it does for a lead: the prior (class totals), then per feature the lead''s value, how many closed leads with it converted and were lost, and its weight of evidence (log-odds); the weights sum to the last row''s weight, whose value is the probability. No rows without a model.';

CREATE FUNCTION @extschema@.train_model(org_id bigint, features text[] DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    all_features constant text[] := ARRAY['source', 'industry', 'company_size', 'country', 'seniority', 'activity'];
    chosen text[] := COALESCE(features, all_features);
    bad text;
    n bigint;
BEGIN
    IF NOT EXISTS (SELECT FROM leadflow.orgs o WHERE o.org_id OPERATOR(pg_catalog.=) train_model.org_id) THEN
        RAISE EXCEPTION 'org % does not exist', train_model.org_id USING ERRCODE = 'foreign_key_violation';
    END IF;
    SELECT f INTO bad FROM pg_catalog.unnest(chosen) f WHERE f IS NULL OR f OPERATOR(pg_catalog.<>) ALL (all_features) LIMIT 1;
    IF FOUND OR pg_catalog.cardinality(chosen) OPERATOR(pg_catalog.=) 0 THEN
        RAISE EXCEPTION 'invalid prediction feature: %', COALESCE(pg_catalog.quote_ident(bad), 'none given')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Features are source, industry, company_size, country, seniority and activity.';
    END IF;
    -- no lead closes while the counts are rebuilt
    LOCK TABLE leadflow.prediction_counts IN SHARE ROW EXCLUSIVE MODE;
    DELETE FROM leadflow.prediction_counts c WHERE c.org_id OPERATOR(pg_catalog.=) train_model.org_id;
    INSERT INTO leadflow.prediction_counts (org_id, feature, value, converted, lost)
    SELECT train_model.org_id, f.feature, f.value,
           pg_catalog.count(*) FILTER (WHERE l.status OPERATOR(pg_catalog.=) 'converted'),
           pg_catalog.count(*) FILTER (WHERE l.status OPERATOR(pg_catalog.<>) 'converted')
      FROM leadflow.leads l CROSS JOIN LATERAL leadflow.lead_features(l) f
     WHERE l.org_id OPERATOR(pg_catalog.=) train_model.org_id
       AND l.status IN ('converted', 'unqualified', 'archived')
       AND f.feature OPERATOR(pg_catalog.=) ANY (chosen)
     GROUP BY f.feature, f.value;
    INSERT INTO leadflow.prediction_counts (org_id, feature, value, converted, lost)
    SELECT train_model.org_id, '_total', '',
           pg_catalog.count(*) FILTER (WHERE l.status OPERATOR(pg_catalog.=) 'converted'),
           pg_catalog.count(*) FILTER (WHERE l.status OPERATOR(pg_catalog.<>) 'converted')
      FROM leadflow.leads l
     WHERE l.org_id OPERATOR(pg_catalog.=) train_model.org_id
       AND l.status IN ('converted', 'unqualified', 'archived')
    HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 0;
    SELECT COALESCE(pg_catalog.sum(c.converted OPERATOR(pg_catalog.+) c.lost), 0) INTO n
      FROM leadflow.prediction_counts c
     WHERE c.org_id OPERATOR(pg_catalog.=) train_model.org_id AND c.feature OPERATOR(pg_catalog.=) '_total';
    INSERT INTO leadflow.prediction_models AS m (org_id, features, trained_at, training_leads)
    VALUES (train_model.org_id, chosen, pg_catalog.now(), n)
    ON CONFLICT ON CONSTRAINT prediction_models_pkey DO UPDATE
       SET features = EXCLUDED.features, trained_at = EXCLUDED.trained_at, training_leads = EXCLUDED.training_leads;
    -- every open live lead gets its probability (the leads trigger computes it)
    UPDATE leadflow.leads l SET updated_at = l.updated_at
     WHERE l.org_id OPERATOR(pg_catalog.=) train_model.org_id AND l.merged_into IS NULL AND l.erased_at IS NULL
       AND l.status OPERATOR(pg_catalog.=) ANY (leadflow.open_statuses());
    RETURN n;
END
$$;
COMMENT ON FUNCTION @extschema@.train_model(bigint, text[]) IS
    'Counts, from scratch, the org''s closed leads (converted vs. unqualified or archived) per feature value (all six features unless named), stores the model, and gives every open live lead its conversion_probability; returns the number of closed leads counted. From then on the counts follow every lead that closes, reopens or changes, and probabilities follow every insert and update.';
REVOKE EXECUTE ON FUNCTION @extschema@.train_model(bigint, text[]) FROM PUBLIC;

CREATE VIEW @extschema@.report_prediction_calibration WITH (security_invoker = true) AS
SELECT l.org_id,
       LEAST(pg_catalog.floor(l.conversion_probability * 10)::integer, 9) + 1 AS decile,
       pg_catalog.count(*) AS leads,
       pg_catalog.avg(l.conversion_probability) AS predicted,
       pg_catalog.count(*) FILTER (WHERE l.status = 'converted') AS converted,
       pg_catalog.count(*) FILTER (WHERE l.status = 'converted')::double precision / pg_catalog.count(*) AS actual
  FROM leadflow.leads l
 WHERE l.merged_into IS NULL AND l.conversion_probability IS NOT NULL
   AND l.status IN ('converted', 'unqualified', 'archived')
 GROUP BY l.org_id, LEAST(pg_catalog.floor(l.conversion_probability * 10)::integer, 9) + 1;
COMMENT ON VIEW @extschema@.report_prediction_calibration IS 'Per org and probability decile: predicted vs. actual conversion of closed leads (their probability as it was before the outcome). A trustworthy model has predicted close to actual in every decile.';
COMMENT ON COLUMN @extschema@.report_prediction_calibration.org_id IS 'Org.';
COMMENT ON COLUMN @extschema@.report_prediction_calibration.decile IS 'Probability band: 1 = [0, 0.1), 2 = [0.1, 0.2), ..., 10 = [0.9, 1].';
COMMENT ON COLUMN @extschema@.report_prediction_calibration.leads IS 'Closed live leads with a probability in the band.';
COMMENT ON COLUMN @extschema@.report_prediction_calibration.predicted IS 'Their average conversion_probability.';
COMMENT ON COLUMN @extschema@.report_prediction_calibration.converted IS 'How many of them converted.';
COMMENT ON COLUMN @extschema@.report_prediction_calibration.actual IS 'converted / leads.';

-- every backend reloads its cached configuration when these change
CREATE TRIGGER prediction_models_config_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.prediction_models
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.config_changed();

-- pg_dump keeps the user data of these tables
SELECT pg_catalog.pg_extension_config_dump('leadflow.prediction_models', '');
SELECT pg_catalog.pg_extension_config_dump('leadflow.prediction_counts', '');
