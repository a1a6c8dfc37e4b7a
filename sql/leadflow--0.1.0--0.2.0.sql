\echo Use "ALTER EXTENSION leadflow UPDATE TO '0.2.0'" to load this file. \quit

-- Issue 16: one statement-end trigger on leads writes what a statement's
-- rows left in the transaction buffers (journey rows, rotation state and
-- rule hits, prediction count changes); it replaces routing_flush and
-- prediction_flush.  The buffers are subtransaction-exact in the library.
DROP TRIGGER leads_routing_flush ON @extschema@.leads;
DROP TRIGGER leads_prediction_flush ON @extschema@.leads;
DROP FUNCTION @extschema@.routing_flush();
DROP FUNCTION @extschema@.prediction_flush();

CREATE FUNCTION @extschema@.statement_end()
RETURNS trigger
AS 'MODULE_PATHNAME', 'leadflow_statement_end'
LANGUAGE C;
COMMENT ON FUNCTION @extschema@.statement_end() IS 'Trigger: writes the journey rows, rotation state, rule hits and prediction count changes a statement on leads buffered.';

CREATE TRIGGER leads_statement_end
    AFTER INSERT OR UPDATE ON @extschema@.leads
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.statement_end();
