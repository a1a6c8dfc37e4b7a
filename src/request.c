/*-------------------------------------------------------------------------
 *
 * request.c
 *	  The request context (request.h): one current request per backend,
 *	  changed only for the duration of a piece of work.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"

#include "request.h"

static LeadflowRequest current;

/*
 * LeadflowCurrentRequest
 *		The request in force, for the trigger and the stages to read.
 */
const LeadflowRequest *
LeadflowCurrentRequest(void)
{
	return &current;
}

/*
 * LeadflowRunUnder
 *		Runs work(arg) with request in force, then puts the outer request
 *		back, also when work raises an error.  Callers copy the current
 *		request and change the fields they mean.
 */
void
LeadflowRunUnder(const LeadflowRequest *request, LeadflowRequestWork work, void *arg)
{
	LeadflowRequest outer = current;

	current = *request;
	PG_TRY();
	{
		work(arg);
	}
	PG_FINALLY();
	{
		current = outer;
	}
	PG_END_TRY();
}

typedef struct ExecuteArgs
{
	LeadflowPlan *plan;
	Datum	   *args;
	const char *nulls;
	int			expected;
	uint64		processed;
} ExecuteArgs;

static void
execute_work(void *arg)
{
	ExecuteArgs *e = (ExecuteArgs *) arg;
	int			rc = LeadflowExecute(e->plan, e->args, e->nulls, false, 0);

	if (rc != e->expected)
		elog(ERROR, "leadflow: statement failed: %s (\"%s\")", SPI_result_code_string(rc), e->plan->sql);
	e->processed = SPI_processed;
}

/*
 * LeadflowExecuteUnder
 *		Runs one kept statement (inside the caller's SPI connection) under
 *		request; errors unless SPI answers expected (SPI_OK_UPDATE, ...).
 *		Returns the rows processed; SPI_tuptable holds any it returned.
 */
uint64
LeadflowExecuteUnder(const LeadflowRequest *request, LeadflowPlan *plan,
					 Datum *args, const char *nulls, int expected)
{
	ExecuteArgs e = {plan, args, nulls, expected, 0};

	LeadflowRunUnder(request, execute_work, &e);
	return e.processed;
}

/*
 * LeadflowNow
 *		The time the pipeline acts at: the transaction's start, or the as_of
 *		of the maintenance run in progress.
 */
TimestampTz
LeadflowNow(void)
{
	return current.as_of != 0 ? current.as_of : GetCurrentTransactionStartTimestamp();
}
