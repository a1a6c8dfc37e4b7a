
-- Keep this last: the sequences behind the identity columns of every table
-- above, so that a restored database numbers on where the dumped one stopped
-- (one call per statement: each updates the extension's catalog row).
DO $$
DECLARE
    seq pg_catalog.regclass;
BEGIN
    FOR seq IN SELECT c.oid FROM pg_catalog.pg_class c
                WHERE c.relkind OPERATOR(pg_catalog.=) 'S'
                  AND c.relnamespace OPERATOR(pg_catalog.=) 'leadflow'::pg_catalog.regnamespace
                ORDER BY c.relname
    LOOP
        PERFORM pg_catalog.pg_extension_config_dump(seq, '');
    END LOOP;
END
$$;
