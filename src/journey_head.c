/*-------------------------------------------------------------------------
 *
 * journey_head.c
 *	  Chain heads read from lead_journey's primary key below the executor,
 *	  for the head cache of journey.c: a lead's last row, read backwards,
 *	  as "ORDER BY seq DESC LIMIT 1" would, or, for leads whose ids lie
 *	  close together (maintenance journaling most leads of an org), one
 *	  forward pass over the rows between them.  Each read starts a new
 *	  command and snapshot, as the SQL statement it replaces did, so that
 *	  the rows this transaction wrote count.  No privilege or policy of
 *	  lead_journey is consulted: its rows are written the same way
 *	  (journey.c), and the head must be the true one whatever a policy
 *	  hides, or the chain would fork.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/stratnum.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "executor/executor.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "compat.h"
#include "journey_head.h"
#include "spi.h"

/* leads of one org at most this many ids apart are read in one pass */
#define HEAD_GAP 4

/* Sets a head from a (seq, hash) pair read from the table. */
static void
set_head(LeadflowJourneyHead *head, int64 lead_id, Datum seq, Datum hash)
{
	bytea	   *h = DatumGetByteaPP(hash);

	head->seq = DatumGetInt32(seq);
	if (VARSIZE_ANY_EXHDR(h) != LEADFLOW_HASH_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("journey of lead " INT64_FORMAT " has a malformed hash at seq %d",
						lead_id, head->seq)));
	memcpy(head->hash, VARDATA_ANY(h), LEADFLOW_HASH_LEN);
}

/* one index scan of lead_journey's primary key, for many reads */
typedef struct HeadScan
{
	LeadflowDirect once;
	LeadflowDirect *d;
	TupleTableSlot *slot;
	IndexScanDesc scan;
	AttrNumber	lead_att;
	AttrNumber	seq_att;
	AttrNumber	hash_att;
} HeadScan;

static void
head_scan_begin(HeadScan *hs, int64 org_id)
{
	Relation	pkey = NULL;
	int			i;

	hs->d = LeadflowDirectBegin("lead_journey", org_id, false, &hs->once);
	for (i = 0; i < hs->d->rri->ri_NumIndices; i++)
		if (hs->d->rri->ri_IndexRelationDescs[i]->rd_index->indisprimary)
			pkey = hs->d->rri->ri_IndexRelationDescs[i];
	if (pkey == NULL)
		elog(ERROR, "leadflow: lead_journey has no primary key");
	hs->lead_att = LeadflowDirectAttnum(hs->d, "lead_id");
	hs->seq_att = LeadflowDirectAttnum(hs->d, "seq");
	hs->hash_att = LeadflowDirectAttnum(hs->d, "hash");
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	UpdateActiveSnapshotCommandId();
	hs->slot = table_slot_create(hs->d->rel, NULL);
	hs->scan = LeadflowIndexBeginScan(hs->d->rel, pkey, GetActiveSnapshot(), 3);
}

/* positions the scan on the rows of org_id's leads lo..hi, in dir */
static bool
head_scan_start(HeadScan *hs, int64 org_id, int64 lo, int64 hi, ScanDirection dir)
{
	ScanKeyData key[3];

	ScanKeyInit(&key[0], 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(org_id));
	ScanKeyInit(&key[1], 2, BTGreaterEqualStrategyNumber, F_INT8GE, Int64GetDatum(lo));
	ScanKeyInit(&key[2], 2, BTLessEqualStrategyNumber, F_INT8LE, Int64GetDatum(hi));
	index_rescan(hs->scan, key, 3, NULL, 0);
	return index_getnext_slot(hs->scan, dir, hs->slot);
}

/* the head of one lead: its last row, read backwards */
static void
head_scan_read(HeadScan *hs, LeadflowJourneyHead *head, int64 org_id, int64 lead_id)
{
	if (head_scan_start(hs, org_id, lead_id, lead_id, BackwardScanDirection))
	{
		bool		isnull;

		set_head(head, lead_id, slot_getattr(hs->slot, hs->seq_att, &isnull),
				 slot_getattr(hs->slot, hs->hash_att, &isnull));
	}
}

static int
read_order(const void *a, const void *b)
{
	const LeadflowHeadRead *x = (const LeadflowHeadRead *) a;
	const LeadflowHeadRead *y = (const LeadflowHeadRead *) b;

	if (x->org_id != y->org_id)
		return x->org_id < y->org_id ? -1 : 1;
	return x->lead_id < y->lead_id ? -1 : (x->lead_id > y->lead_id ? 1 : 0);
}

/*
 * The heads of m leads of one org, in lead order, by one forward pass over
 * the rows of the leads between the first and the last (each lead's rows
 * come in seq order: its last one is its head), merged with the list:
 * for leads that lie close together (maintenance journaling most leads of
 * an org), where a descent of the index per lead costs several times more.
 */
static void
head_scan_range(HeadScan *hs, LeadflowHeadRead *reads, int m)
{
	bool		more = head_scan_start(hs, reads[0].org_id, reads[0].lead_id, reads[m - 1].lead_id,
									   ForwardScanDirection);
	int			p = 0;

	for (; more; more = index_getnext_slot(hs->scan, ForwardScanDirection, hs->slot))
	{
		bool		isnull;
		int64		lead_id = DatumGetInt64(slot_getattr(hs->slot, hs->lead_att, &isnull));

		while (p < m && reads[p].lead_id < lead_id)
			p++;
		if (p == m)
			break;
		if (reads[p].lead_id == lead_id)
			set_head(reads[p].head, lead_id, slot_getattr(hs->slot, hs->seq_att, &isnull),
					 slot_getattr(hs->slot, hs->hash_att, &isnull));
	}
}

static void
head_scan_end(HeadScan *hs)
{
	index_endscan(hs->scan);
	ExecDropSingleTupleTableSlot(hs->slot);
	PopActiveSnapshot();
	LeadflowDirectEnd(hs->d, &hs->once);
}

/*
 * LeadflowJourneyReadHeads
 *		Reads the chain heads of n leads (in any order; reorders reads) into
 *		their heads: seq 0 when a lead has no row yet.
 */
void
LeadflowJourneyReadHeads(LeadflowHeadRead *reads, int n)
{
	HeadScan	hs;
	int			i;
	int			j;
	int			k;
	int			len;

	if (n <= 0)
		return;
	for (i = 0; i < n; i++)
		reads[i].head->seq = 0;
	qsort(reads, n, sizeof(LeadflowHeadRead), read_order);
	/* one scan per relation: under Citus, per shard of the orgs read */
	for (k = 0; k < n; k += len)
	{
		len = LeadflowDirectRunLength("lead_journey", reads + k, sizeof(LeadflowHeadRead),
									  offsetof(LeadflowHeadRead, org_id), n - k);
		head_scan_begin(&hs, reads[k].org_id);
		for (i = k; i < k + len; i = j)
		{
			/*
			 * A run of leads of one org at most HEAD_GAP ids apart is read
			 * in one pass (reading the rows of a lead in between costs less
			 * than a descent of the index); a lead alone by one descent.
			 */
			for (j = i + 1; j < k + len && reads[j].org_id == reads[i].org_id &&
				 reads[j].lead_id - reads[j - 1].lead_id <= HEAD_GAP; j++)
				;
			if (j - i > 1)
				head_scan_range(&hs, &reads[i], j - i);
			else
				head_scan_read(&hs, reads[i].head, reads[i].org_id, reads[i].lead_id);
		}
		head_scan_end(&hs);
	}
}
