/*-------------------------------------------------------------------------
 *
 * leadflow.c
 *	  Module entry: PG_MODULE_MAGIC, _PG_init and the settings, and the
 *	  failpoint the tests break the pipeline with.
 *
 *	  The layers of src/ and which way they may depend are listed in the
 *	  README ("Development"); test/layers.sh enforces them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "optimizer/cost.h"
#include "parser/parse_relation.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "leadflow.h"

PG_MODULE_MAGIC;

char	   *leadflow_actor = NULL;

char	   *leadflow_org_id = NULL;
char	   *leadflow_fail_at = NULL;
int			leadflow_capture_max_bytes = 1024 * 1024;
int			leadflow_capture_max_keys = 1000;
int			leadflow_notify_limit = 10000;
bool		leadflow_notify = true;

void		_PG_init(void);

/*
 * leadflow.org_id must be empty or a whole number: row-level security casts
 * it to bigint, and a typo should fail at SET time, not in a policy.
 */
static bool
check_org_id(char **newval, void **extra, GucSource source)
{
	const char *p = *newval;

	if (p == NULL || *p == '\0')
		return true;
	if (*p == '-')
		p++;
	if (*p == '\0' || strlen(p) > 18)
		goto bad;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			goto bad;
	return true;

bad:
	GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
	GUC_check_errdetail("leadflow.org_id must be empty or an org id (a whole number).");
	return false;
}

void
_PG_init(void)
{
	DefineCustomStringVariable("leadflow.actor",
							   "Who signs journey rows written by this session.",
							   "An application or agent sets it, e.g. 'agent:lead-scoring'; "
							   "when empty the session user signs.",
							   &leadflow_actor,
							   "",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("leadflow.org_id",
							   "The org an application session works for.",
							   "With tenant isolation enabled, row-level security shows "
							   "and accepts only rows of this org; empty shows nothing.",
							   &leadflow_org_id,
							   "",
							   PGC_USERSET,
							   0,
							   check_org_id, NULL, NULL);

	DefineCustomStringVariable("leadflow.fail_at",
							   "Makes the lead pipeline fail at one stage (for tests).",
							   "normalize, dedup, enrich, score, route or journey: an insert "
							   "fails there, to show that nothing partial remains.",
							   &leadflow_fail_at,
							   "",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomBoolVariable("leadflow.notify",
							 "Whether events are announced by NOTIFY leadflow on commit.",
							 "The event outbox (leadflow.events) holds them either way; "
							 "leadflow.distribute() turns it off on Citus workers, whose "
							 "notifications no listener on the coordinator would hear.",
							 &leadflow_notify,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("leadflow.notify_limit",
							"Notifications one transaction sends before a single \"bulk\" one.",
							"Pending notifications stay in memory until commit; a bulk load "
							"sends this many, then one {\"event\": \"bulk\"} for the rest.",
							&leadflow_notify_limit,
							10000, 0, INT_MAX,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("leadflow.capture_max_bytes",
							"Largest payload capture() accepts, in bytes (as jsonb).",
							"A larger payload is refused with SQLSTATE 54000 before any "
							"work, so one request cannot hold a backend's time or memory.",
							&leadflow_capture_max_bytes,
							1024 * 1024, 1024, MaxAllocSize / 4,
							PGC_USERSET,
							GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("leadflow.capture_max_keys",
							"Most fields a capture() payload may carry.",
							"Top-level keys plus the entries of Meta field_data or Google "
							"user_column_data; more is refused with SQLSTATE 54000.",
							&leadflow_capture_max_keys,
							1000, 1, INT_MAX,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("leadflow");
}

/*
 * LeadflowFailpoint
 *		Raises an error when leadflow.fail_at names this stage.  Only a
 *		superuser can set it; tests use it to break the pipeline midway.
 */
void
LeadflowFailpoint(const char *stage)
{
	if (leadflow_fail_at != NULL && strcmp(leadflow_fail_at, stage) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
				 errmsg("leadflow.fail_at: failing at %s", stage)));
}
