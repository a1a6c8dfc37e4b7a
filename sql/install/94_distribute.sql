
------------------------------------------------------------------------------
-- Scale out on Citus (README "Scaling out"): every org table distributed by
-- org_id, colocated with orgs, so that one org's rows live on one worker and
-- the pipeline's queries, all filtered by a constant org_id, run there; the
-- tables without org_id (shared reference data) replicated to every node.
------------------------------------------------------------------------------

CREATE FUNCTION @extschema@.distribute(shard_count integer DEFAULT 32)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    moved boolean;
    left_over text;
BEGIN
    IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER) THEN
        RAISE EXCEPTION 'leadflow.distribute() needs a superuser'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_extension e WHERE e.extname OPERATOR(pg_catalog.=) 'citus') THEN
        RAISE EXCEPTION 'leadflow.distribute() needs the citus extension in this database'
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Load Citus (shared_preload_libraries), CREATE EXTENSION citus on the coordinator and every worker, add the workers, then call leadflow.distribute() on the coordinator.';
    END IF;
    IF shard_count IS NULL OR shard_count OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'shard_count must be a positive number, not %', shard_count
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- Citus's own objects are named in EXECUTE only: the function must
    -- install and plan where Citus is absent
    EXECUTE 'SELECT pg_catalog.citus_is_coordinator()' INTO moved;
    IF NOT moved THEN
        RAISE EXCEPTION 'leadflow.distribute() runs on the Citus coordinator'
            USING ERRCODE = 'feature_not_supported';
    END IF;
    -- the pipeline is made of triggers; they run on the shards, where every
    -- statement they run stays on the row's org (README "Scaling out")
    PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
    -- tables with foreign keys to reference tables, distributed in one
    -- transaction, must be created over one connection per node
    PERFORM pg_catalog.set_config('citus.multi_shard_modify_mode', 'sequential', true);

    -- shared reference data: no org_id
    FOR t IN SELECT c.oid::pg_catalog.regclass AS rel
               FROM pg_catalog.pg_class c
              WHERE c.relnamespace OPERATOR(pg_catalog.=) 'leadflow'::pg_catalog.regnamespace
                AND c.relkind OPERATOR(pg_catalog.=) 'r'
                AND NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a
                                 WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid AND a.attname OPERATOR(pg_catalog.=) 'org_id'
                                   AND NOT a.attisdropped)
              ORDER BY c.relname LOOP
        IF NOT leadflow.is_distributed(t.rel) THEN
            EXECUTE 'SELECT pg_catalog.create_reference_table($1)' USING t.rel;
        END IF;
    END LOOP;

    -- Citus enforces no unique index without org_id: lead ids stay unique
    -- across orgs by their sequence (made on the coordinator), and an
    -- explicit lead_id is no longer checked against other orgs' (README
    -- "Scaling out")
    IF NOT leadflow.is_distributed('leadflow.leads') AND EXISTS
       (SELECT FROM pg_catalog.pg_index i
         WHERE i.indexrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass('leadflow.leads_lead_id') AND i.indisunique) THEN
        DROP INDEX leadflow.leads_lead_id;
        CREATE INDEX leads_lead_id ON leadflow.leads (lead_id);
    END IF;

    IF NOT leadflow.is_distributed('leadflow.orgs') THEN
        EXECUTE 'SELECT pg_catalog.create_distributed_table($1, ''org_id'', shard_count => $2, colocate_with => ''none'')'
            USING 'leadflow.orgs'::pg_catalog.regclass, shard_count;
    END IF;

    -- every other table, each once the tables it refers to are distributed
    LOOP
        moved := false;
        FOR t IN SELECT c.oid::pg_catalog.regclass AS rel
                   FROM pg_catalog.pg_class c
                  WHERE c.relnamespace OPERATOR(pg_catalog.=) 'leadflow'::pg_catalog.regnamespace
                    AND c.relkind OPERATOR(pg_catalog.=) 'r'
                    AND NOT leadflow.is_distributed(c.oid::pg_catalog.regclass)
                    AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint k
                                     WHERE k.conrelid OPERATOR(pg_catalog.=) c.oid AND k.contype OPERATOR(pg_catalog.=) 'f'
                                       AND k.confrelid OPERATOR(pg_catalog.<>) c.oid
                                       AND NOT leadflow.is_distributed(k.confrelid::pg_catalog.regclass))
                  ORDER BY c.relname LOOP
            EXECUTE 'SELECT pg_catalog.create_distributed_table($1, ''org_id'', colocate_with => ''leadflow.orgs'')'
                USING t.rel;
            moved := true;
        END LOOP;
        EXIT WHEN NOT moved;
    END LOOP;
    SELECT pg_catalog.string_agg(c.relname, ', ' ORDER BY c.relname) INTO left_over
      FROM pg_catalog.pg_class c
     WHERE c.relnamespace OPERATOR(pg_catalog.=) 'leadflow'::pg_catalog.regnamespace
       AND c.relkind OPERATOR(pg_catalog.=) 'r'
       AND NOT leadflow.is_distributed(c.oid::pg_catalog.regclass);
    IF left_over IS NOT NULL THEN
        RAISE EXCEPTION 'leadflow.distribute() could not distribute %', left_over
            USING ERRCODE = 'invalid_table_definition',
                  DETAIL = 'Their foreign keys form a cycle or refer to tables outside leadflow.';
    END IF;

    -- Ids made on a worker (an org's defaults, journey step ids, events)
    -- come from that worker's own sequences: each node numbers from
    -- group id * 2^48 on, so that no two nodes hand out the same id.
    -- Listeners are on the coordinator: the workers send no NOTIFY (the
    -- event outbox, leadflow.events, is the way to consume events).
    EXECUTE $cmd$SELECT pg_catalog.string_agg(w.nodename OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) w.nodeport
                                        OPERATOR(pg_catalog.||) ': ' OPERATOR(pg_catalog.||) w.result, '; ')
                   FROM pg_catalog.run_command_on_workers($w$
        DO $d$
        DECLARE
            s pg_catalog.regclass;
            floor_id bigint := (SELECT g.groupid FROM pg_catalog.pg_dist_local_group g)::bigint OPERATOR(pg_catalog.<<) 48;
            last_id bigint;
        BEGIN
            FOR s IN SELECT c.oid FROM pg_catalog.pg_class c
                      WHERE c.relkind OPERATOR(pg_catalog.=) 'S'
                        AND c.relnamespace OPERATOR(pg_catalog.=) 'leadflow'::pg_catalog.regnamespace LOOP
                EXECUTE pg_catalog.format('SELECT last_value FROM %s', s) INTO last_id;
                IF last_id OPERATOR(pg_catalog.<) floor_id THEN
                    PERFORM pg_catalog.setval(s, floor_id);
                END IF;
            END LOOP;
            -- this node's setting alone
            PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', 'off', true);
            EXECUTE pg_catalog.format('ALTER DATABASE %I SET leadflow.notify = off', pg_catalog.current_database());
        END
        $d$
    $w$) w WHERE NOT w.success$cmd$ INTO left_over;
    IF left_over IS NOT NULL THEN
        RAISE EXCEPTION 'leadflow.distribute() could not set up every worker: %', left_over
            USING ERRCODE = 'connection_failure';
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.distribute(integer) IS
    'Citus: makes the tables without org_id reference tables and every org table distributed by org_id, colocated with orgs (shard_count shards); numbers ids per worker and turns NOTIFY off on the workers. Superuser, on the coordinator; idempotent (call it again after adding a worker).';
REVOKE EXECUTE ON FUNCTION @extschema@.distribute(integer) FROM PUBLIC;

-- whether a table is a Citus table (false where Citus is absent)
CREATE FUNCTION @extschema@.is_distributed(rel regclass)
RETURNS boolean
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    found boolean;
BEGIN
    IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE 'SELECT EXISTS (SELECT FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1)'
       INTO found USING rel;
    RETURN found;
END
$$;
COMMENT ON FUNCTION @extschema@.is_distributed(regclass) IS 'Whether a table is a Citus table (distributed or reference); false where Citus is absent.';
REVOKE EXECUTE ON FUNCTION @extschema@.is_distributed(regclass) FROM PUBLIC;
