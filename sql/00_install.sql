-- Install, uninstall and reinstall; what CREATE EXTENSION creates.
\set VERBOSITY terse

SELECT extname, extversion, extrelocatable, n.nspname AS schema
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname = 'leadflow';

-- the contract's tables, all in schema leadflow
SELECT c.relname
  FROM pg_class c JOIN pg_depend d ON d.objid = c.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'leadflow'
 WHERE c.relkind = 'r'
 ORDER BY 1;

-- not trusted: the control file says so
SELECT trusted, relocatable, schema FROM pg_available_extension_versions
 WHERE name = 'leadflow';

-- uninstall leaves nothing behind; reinstall works
DROP EXTENSION leadflow;
SELECT count(*) AS leftover_objects FROM pg_class WHERE relnamespace = 'leadflow'::regnamespace;
DROP SCHEMA leadflow;
CREATE EXTENSION leadflow;
SELECT count(*) > 3000 AS free_mail_list_shipped FROM leadflow.free_email_domains;
SELECT domain FROM leadflow.free_email_domains
 WHERE domain IN ('gmail.com', 'googlemail.com', 'yahoo.com', 'outlook.com', 'gmx.de')
 ORDER BY 1;

-- settings the module defines
SHOW leadflow.actor;
SET leadflow.org_id = '42';
SHOW leadflow.org_id;
SET leadflow.org_id = 'acme';
SELECT :'LAST_ERROR_SQLSTATE' AS sqlstate;
RESET leadflow.org_id;
SET leadflow.no_such_setting = 'x';
