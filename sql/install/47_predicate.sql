------------------------------------------------------------------------------
-- Rule language (predicate.c)
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.check_predicate(predicate jsonb)
RETURNS boolean
AS 'MODULE_PATHNAME', 'leadflow_check_predicate'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.check_predicate(jsonb) IS
    'Validates a rule predicate against the leads table: true, or error 22023 naming the problem and its JSON path.';

CREATE FUNCTION @extschema@.predicate_matches(predicate jsonb, lead @extschema@.leads)
RETURNS boolean
AS 'MODULE_PATHNAME', 'leadflow_predicate_matches'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.predicate_matches(jsonb, @extschema@.leads) IS
    'Whether a lead row matches a rule predicate (the rule language of scoring and routing rules).';
