/*-------------------------------------------------------------------------
 * item_merge.c
 *		A principal's newest (or oldest) content items, merged from the
 *		indexes of the tabs it sees.
 *
 * A contact sees the items of a few tabs of the tenant's many.  For
 * "ORDER BY created_at DESC LIMIT n" the planner has two plans: walk the
 * tenant's (tenant_id, created_at DESC) index and filter out the items of
 * tabs it does not see (at 50,000 tabs, tens of thousands of rows for 50),
 * or read every item of its tabs and sort them.  The query one would write
 * by hand for the least work is a merge: each visible tab's items are in
 * order in the (tenant_id, tab_id, created_at DESC) index, so the newest
 * of all is the newest of the tabs' newest.
 *
 * This custom scan of content_items does that merge.  For each visible tab
 * it reads a small batch of index entries (created_at comes from the index
 * tuple, the heap is not touched), keeps the tabs in a binary heap by
 * their next entry's created_at, and fetches from the heap only the rows
 * it returns.  A tab whose batch runs out is read again from its last
 * created_at on, in batches twice as large, skipping the entries it has
 * already read.  The query's own bounds on created_at (a page: created_at
 * < $1) are where each tab's read starts and stops (scan_support.c).  It
 * is offered beside the planner's own paths, and chosen on cost, when:
 *
 *	 - the scan's row-level security quals hold the read policy's tenant
 *	   test and can_see_tab(tab_id) as quals of their own: every row the
 *	   scan may return is then of a tab the principal sees (another
 *	   permissive policy, an analyst's, ORs its arm into the policy, and
 *	   the scan is not offered);
 *	 - the query is ordered by created_at first (NOT NULL);
 *	 - the indexes (tenant_id, tab_id, created_at) and (tenant_id,
 *	   created_at) exist, with the same order of created_at;
 *	 - the planning principal sees at most introw.item_merge_max_tabs tabs.
 *
 * Every row still passes all of the scan's quals, the policy first.  The
 * tabs are those of the principal in force when the scan starts; a plan
 * may start for a principal who sees more tabs than the setting allows (a
 * generic plan, a cursor after a switch): it then reads the tenant's
 * items in order from the (tenant_id, created_at) index, as the planner
 * would, and the quals decide.  With no principal there is no tab, and
 * nothing is read.  A cursor read on after the principal changes keeps
 * reading the tabs it started with, under the new principal's quals: it
 * returns only rows both may see.  Like an index-only scan, the scan keeps
 * a pin on the one index leaf page it last read until it reads the next.
 *-------------------------------------------------------------------------
 */
#include "scans.h"

#include <math.h>

#include "access/genam.h"
#include "access/itup.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/tableam.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "lib/binaryheap.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/restrictinfo.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/selfuncs.h"

#define SCAN_NAME "introw_item_merge"
#define FIRST_BATCH 8
#define LAST_BATCH 1024

static int	item_merge_max_tabs = 1000;

typedef enum Column
{
	COL_TENANT,
	COL_TAB,
	COL_CREATED,
	NUM_COLUMNS
} Column;

static const char *const column_names[NUM_COLUMNS] = {"tenant_id", "tab_id", "created_at"};
static const Oid column_types[NUM_COLUMNS] = {INT8OID, INT8OID, TIMESTAMPTZOID};

enum
{
	IDX_TAB,					/* (tenant_id, tab_id, created_at) */
	IDX_NEWEST,					/* (tenant_id, created_at) */
	NUM_INDEXES
};

/* What the plan carries (custom_private). */
typedef struct MergeInfo
{
	AttrNumber	attnums[NUM_COLUMNS];
	Oid			indexes[NUM_INDEXES];
	bool		descending;		/* the query's order */
	bool		index_descending;	/* both indexes' order of created_at */
} MergeInfo;

/* One visible tab: its batch of index entries, in the query's order. */
typedef struct TabStream
{
	int64		tab_id;
	int			size;			/* the batch's capacity */
	int			count;			/* entries in the batch */
	int			next;			/* the next entry to return */
	bool		more;			/* the batch was full: the tab may hold more */
	ItemPointerData *tids;
	TimestampTz *created;
	/* the entries read at the last batch's created_at, sorted */
	TimestampTz boundary;
	ItemPointerData *seen;
	int			nseen;
} TabStream;

typedef struct ItemMergeState
{
	CustomScanState css;
	MergeInfo	info;
	bool		started;
	MemoryContext cxt;			/* the tabs' batches, reset on rescan */
	int			ntabs;
	TabStream  *tabs;
	binaryheap *heap;			/* tab numbers, the next entry's created_at
								 * first */
	Relation	index;			/* the index read: the tabs', or the newest */
	IndexScanDesc scan;
	int			nkeys;			/* of each read of the tabs' index */
	ScanKeyData stop_key;		/* its fourth key, where the bounds stop */
	List	   *bound_states;	/* the created_at bounds' values */
	ScanTimeRange range;		/* the values they allow, at the start */
	IndexFetchTableData *fetch; /* the heap rows of the merged entries */
	TupleTableSlot *fetched;	/* of the table's access method */
	bool		walking;		/* reading the newest index instead */
	int64		tenant_id;
	/* for EXPLAIN ANALYZE, over all of the scan's loops */
	int64		tabs_merged;
	int64		batches;
} ItemMergeState;

static Plan *PlanMergePath(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
						   List *tlist, List *clauses, List *custom_plans);
static Node *CreateMergeState(CustomScan *cscan);
static void BeginMerge(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *ExecMerge(CustomScanState *node);
static void EndMerge(CustomScanState *node);
static void ReScanMerge(CustomScanState *node);
static void ExplainMerge(CustomScanState *node, List *ancestors, ExplainState *es);

static const CustomPathMethods path_methods = {
	.CustomName = SCAN_NAME,
	.PlanCustomPath = PlanMergePath,
};

static const CustomScanMethods scan_methods = {
	.CustomName = SCAN_NAME,
	.CreateCustomScanState = CreateMergeState,
};

static const CustomExecMethods exec_methods = {
	.CustomName = SCAN_NAME,
	.BeginCustomScan = BeginMerge,
	.ExecCustomScan = ExecMerge,
	.EndCustomScan = EndMerge,
	.ReScanCustomScan = ReScanMerge,
	.ExplainCustomScan = ExplainMerge,
};

void
ItemMergeInit(void)
{
	DefineCustomIntVariable("introw.item_merge_max_tabs",
							"The most visible tabs whose content items are merged in created_at order.",
							"A principal who sees more reads the tenant's items in order; 0 turns the merge off.",
							&item_merge_max_tabs, 1000, 0, 100000, PGC_SUSET, 0, NULL, NULL, NULL);
	RegisterCustomScanMethods(&scan_methods);
}

/* ------------------------------------------------------------------------
 * Planning
 * ------------------------------------------------------------------------
 */

/*
 * The two indexes, found by their key columns; the tabs' index must
 * return created_at from its tuples.
 */
static bool
FindIndexes(RelOptInfo *rel, MergeInfo *info, IndexOptInfo **tab_index)
{
	AttrNumber	tab_keys[] = {info->attnums[COL_TENANT], info->attnums[COL_TAB],
	info->attnums[COL_CREATED]};
	AttrNumber	newest_keys[] = {info->attnums[COL_TENANT], info->attnums[COL_CREATED]};
	IndexOptInfo *newest = NULL;
	ListCell   *lc;

	*tab_index = NULL;
	foreach(lc, rel->indexlist)
	{
		IndexOptInfo *index = lfirst_node(IndexOptInfo, lc);

		if (*tab_index == NULL && ScanIndexLeads(index, tab_keys, lengthof(tab_keys)) &&
			index->canreturn[2])
			*tab_index = index;
		else if (newest == NULL && ScanIndexLeads(index, newest_keys, lengthof(newest_keys)))
			newest = index;
	}
	if (*tab_index == NULL || newest == NULL ||
		newest->sortopfamily[1] != (*tab_index)->sortopfamily[2] ||
		newest->reverse_sort[1] != (*tab_index)->reverse_sort[2])
		return false;
	info->indexes[IDX_TAB] = (*tab_index)->indexoid;
	info->indexes[IDX_NEWEST] = newest->indexoid;
	info->index_descending = (*tab_index)->reverse_sort[2];
	return true;
}

/* Is clause introw.can_see_tab(tab_id)? */
static bool
IsTabTest(Node *clause, const MergeInfo *info, Index relid)
{
	Node	   *key = NULL;

	return PolicyArmOf(clause, &key) == TEST_TAB &&
		ScanColumnIs(key, relid, info->attnums[COL_TAB]);
}

/*
 * The row-level security quals (security_level below the query's own)
 * hold the tenant test and can_see_tab(tab_id).  The query's own quals are
 * returned in *user_quals, for the estimate.
 */
static bool
RestrictionQualifies(PlannerInfo *root, RelOptInfo *rel, RangeTblEntry *rte,
					 const MergeInfo *info, List **user_quals)
{
	Index		policy_level = list_length(rte->securityQuals);
	bool		tenant = false;
	bool		tab = false;
	ListCell   *lc;

	*user_quals = NIL;
	foreach(lc, rel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		Node	   *clause = (Node *) rinfo->clause;

		if (rinfo->pseudoconstant)
			continue;
		if (rinfo->security_level >= policy_level)
			*user_quals = lappend(*user_quals, rinfo);
		else if (ScanEqualityValue(root, clause, rel->relid, info->attnums[COL_TENANT], F_INT8EQ))
			tenant = true;
		else if (IsTabTest(clause, info, rel->relid))
			tab = true;
	}
	return tenant && tab;
}

/* The statistics' correlation of the heap's order with created_at. */
static double
CreatedCorrelation(PlannerInfo *root, RelOptInfo *rel, const MergeInfo *info)
{
	Var		   *var = makeVar(rel->relid, info->attnums[COL_CREATED], TIMESTAMPTZOID, -1,
							  InvalidOid, 0);
	VariableStatData vardata;
	AttStatsSlot sslot;
	double		correlation = 0.0;

	examine_variable(root, (Node *) var, 0, &vardata);
	if (HeapTupleIsValid(vardata.statsTuple) &&
		get_attstatsslot(&sslot, vardata.statsTuple, STATISTIC_KIND_CORRELATION, InvalidOid,
						 ATTSTATSSLOT_NUMBERS))
	{
		correlation = sslot.numbers[0];
		free_attstatsslot(&sslot);
	}
	ReleaseVariableStats(vardata);
	return correlation;
}

/*
 * Cost, in the terms btcostestimate and cost_index use: before the first
 * row, one descent of the tabs' index per tab (its CPU and a leaf page)
 * and the heap built; then per row read, an index tuple, the heap's sift,
 * the quals, and a heap page -- random, or as the newest index reads
 * them where the heap follows created_at (the rows come out in that
 * order).  The rows read are the rows returned over the selectivity of
 * the query's own quals; a LIMIT takes its fraction of them.
 */
static void
CostPath(PlannerInfo *root, RelOptInfo *rel, CustomPath *path, IndexOptInfo *tab_index,
		 const MergeInfo *info, int ntabs, List *user_quals, List *bounds)
{
	double		tabs = Max(ntabs, 1);
	Selectivity filtered = clauselist_selectivity(root,
												  extract_actual_clauses(list_difference_ptr(user_quals, bounds),
																		 false),
												  rel->relid, JOIN_INNER, NULL);
	double		read = Min(rel->tuples, rel->rows / Max(filtered, 1e-6));
	double		correlation = CreatedCorrelation(root, rel, info);
	Cost		descent = (ceil(log(Max(tab_index->tuples, 2.0)) / log(2.0)) +
						   (Max(tab_index->tree_height, 0) + 1) * 50.0) * cpu_operator_cost;
	Cost		leaves = index_pages_fetched(tabs, tab_index->pages, (double) tab_index->pages,
											 root) * random_page_cost;
	Cost		heap_page = random_page_cost -
		correlation * correlation * (random_page_cost - seq_page_cost);
	Cost		per_row = cpu_index_tuple_cost + cpu_tuple_cost + heap_page +
		rel->baserestrictcost.per_tuple + cpu_operator_cost * log(tabs + 1.0) / log(2.0);

	path->path.rows = rel->rows;
	path->path.startup_cost = rel->baserestrictcost.startup + tabs * descent + leaves +
		cpu_operator_cost * tabs * log(tabs + 1.0) / log(2.0);
	path->path.total_cost = path->path.startup_cost + read * per_row +
		rel->reltarget->cost.per_tuple * rel->rows;
}

static List *
InfoToList(const MergeInfo *info)
{
	List	   *ints = NIL;

	for (int i = 0; i < NUM_COLUMNS; i++)
		ints = lappend_int(ints, info->attnums[i]);
	ints = lappend_int(ints, info->descending);
	ints = lappend_int(ints, info->index_descending);
	return list_make2(ints, list_make2_oid(info->indexes[IDX_TAB], info->indexes[IDX_NEWEST]));
}

static void
InfoFromList(List *list, MergeInfo *info)
{
	List	   *ints = linitial(list);
	List	   *oids = lsecond(list);

	for (int i = 0; i < NUM_COLUMNS; i++)
		info->attnums[i] = list_nth_int(ints, i);
	info->descending = list_nth_int(ints, NUM_COLUMNS);
	info->index_descending = list_nth_int(ints, NUM_COLUMNS + 1);
	for (int i = 0; i < NUM_INDEXES; i++)
		info->indexes[i] = list_nth_oid(oids, i);
}

/* Offer the path on introw.content_items (scan_support.c calls this for it). */
void
ItemMergeAddPath(PlannerInfo *root, RelOptInfo *rel, RangeTblEntry *rte)
{
	MergeInfo	info;
	IndexOptInfo *tab_index;
	const VisibilityCache *cache;
	CustomPath *path;
	List	   *user_quals;
	List	   *bounds;
	int			ntabs;

	if (!ScanFindColumns(rte->relid, column_names, column_types, NUM_COLUMNS, info.attnums,
						 COL_CREATED) ||
		!FindIndexes(rel, &info, &tab_index) ||
		!ScanOrderedBy(root, rel, info.attnums[COL_CREATED], tab_index->sortopfamily[2],
					   &info.descending) ||
		ScanNeedsSystemColumns(rel) ||
		!RestrictionQualifies(root, rel, rte, &info, &user_quals))
		return;
	cache = GetVisibilityCache();
	ntabs = ArrayGetNItems(ARR_NDIM(cache->tab_ids), ARR_DIMS(cache->tab_ids));
	if (item_merge_max_tabs == 0 || ntabs > item_merge_max_tabs)
		return;

	path = ScanMakePath(root, rel, &path_methods, InfoToList(&info), info.attnums[COL_CREATED],
						tab_index->opfamily[2], &bounds);
	CostPath(root, rel, path, tab_index, &info, ntabs, user_quals, bounds);
	add_path(rel, &path->path);
}

static Plan *
PlanMergePath(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
			  List *tlist, List *clauses, List *custom_plans)
{
	return ScanMakePlan(rel, best_path, tlist, clauses, NIL, NIL, &scan_methods);
}

/* ------------------------------------------------------------------------
 * Execution
 * ------------------------------------------------------------------------
 */

static Node *
CreateMergeState(CustomScan *cscan)
{
	ItemMergeState *state = (ItemMergeState *) ScanNewState(sizeof(ItemMergeState), &exec_methods);

	InfoFromList(cscan->custom_private, &state->info);
	return (Node *) state;
}

static void
BeginMerge(CustomScanState *node, EState *estate, int eflags)
{
	ItemMergeState *state = (ItemMergeState *) node;

	state->cxt = AllocSetContextCreate(estate->es_query_cxt, "introw item merge",
									   ALLOCSET_DEFAULT_SIZES);
	state->fetched = table_slot_create(node->ss.ss_currentRelation, NULL);
	state->bound_states = ScanInitBounds(node);
}

/* The index read in the query's order. */
static ScanDirection
Direction(ItemMergeState *state)
{
	return ScanDirectionFor(state->info.descending, state->info.index_descending);
}

/* Has the tab already read this entry of its boundary's created_at? */
static bool
AlreadyRead(TabStream *tab, ItemPointer tid, TimestampTz created)
{
	return created == tab->boundary && ScanTidIn(tab->seen, tab->nseen, tid);
}

/*
 * Remember the entries of the batch at its last created_at (the next
 * batch starts there and reads them again), with those remembered before
 * if the boundary has not moved.  Returns whether it has not (the batch
 * was all ties).
 */
static bool
RememberBoundary(ItemMergeState *state, TabStream *tab)
{
	TimestampTz last = tab->created[tab->count - 1];
	int			first = tab->count - 1;
	int			keep = tab->nseen > 0 && tab->boundary == last ? tab->nseen : 0;

	while (first > 0 && tab->created[first - 1] == last)
		first--;
	if (keep == 0 && tab->seen != NULL)
		pfree(tab->seen);
	tab->seen = keep > 0 ?
		repalloc_huge(tab->seen, sizeof(ItemPointerData) * (keep + tab->count - first)) :
		MemoryContextAllocHuge(state->cxt, sizeof(ItemPointerData) * (tab->count - first));
	memcpy(tab->seen + keep, tab->tids + first, sizeof(ItemPointerData) * (tab->count - first));
	tab->nseen = keep + tab->count - first;
	tab->boundary = last;
	ScanSortTids(tab->seen, tab->nseen);
	return keep > 0;
}

/*
 * Read the tab's next batch of entries, TIDs and created_at from the index
 * tuples: the first from where the query's bounds start (else from
 * infinity: the scan keeps its number of keys), the others from the last
 * batch's created_at on; all up to where the bounds stop.
 */
static void
ReadBatch(ItemMergeState *state, TabStream *tab)
{
	ScanKeyData keys[4];
	TimestampTz from = state->info.descending ? DT_NOEND : DT_NOBEGIN;
	bool		first = tab->count == 0;
	ItemPointer tid;

	if (!first)
	{
		/*
		 * Twice as large, up to LAST_BATCH; without limit while the batches
		 * stay inside one created_at, so that a run of ties is read again
		 * a number of times logarithmic in its length, not linear.
		 */
		bool		all_ties = RememberBoundary(state, tab);

		from = tab->boundary;
		if (tab->size < LAST_BATCH || all_ties)
		{
			tab->size *= 2;
			tab->tids = repalloc_huge(tab->tids, sizeof(ItemPointerData) * tab->size);
			tab->created = repalloc_huge(tab->created, sizeof(TimestampTz) * tab->size);
		}
	}
	ScanEqualityKey(&keys[0], state->index, 0, INT8OID, Int64GetDatum(state->tenant_id), 0);
	ScanEqualityKey(&keys[1], state->index, 1, INT8OID, Int64GetDatum(tab->tab_id), 0);
	if (!first || !ScanTimeRangeKey(&keys[2], state->index, 2, &state->range,
									state->info.descending, true))
		ScanComparisonKey(&keys[2], state->index, 2, TIMESTAMPTZOID,
						  state->info.descending ? BTLessEqualStrategyNumber :
						  BTGreaterEqualStrategyNumber, TimestampTzGetDatum(from), 0);
	if (state->nkeys > 3)
		keys[3] = state->stop_key;
	tab->count = 0;
	tab->next = 0;
	state->batches++;
	index_rescan(state->scan, keys, state->nkeys, NULL, 0);
	while (tab->count < tab->size &&
		   (tid = index_getnext_tid(state->scan, Direction(state))) != NULL)
	{
		bool		isnull;
		TimestampTz created = DatumGetTimestampTz(index_getattr(state->scan->xs_itup, 3,
																state->scan->xs_itupdesc,
																&isnull));

		CHECK_FOR_INTERRUPTS();
		if (isnull)
			elog(ERROR, "content_items.created_at is NULL in its index");
		if (AlreadyRead(tab, tid, created))
			continue;
		tab->tids[tab->count] = *tid;
		tab->created[tab->count] = created;
		tab->count++;
	}
	tab->more = tab->count == tab->size;
}

/* The heap's order: the tab whose next entry comes first is on top. */
static int
CompareTabs(Datum a, Datum b, void *arg)
{
	ItemMergeState *state = (ItemMergeState *) arg;
	TabStream  *x = &state->tabs[DatumGetInt32(a)];
	TabStream  *y = &state->tabs[DatumGetInt32(b)];
	int			c = ScanCompareTimes(x->created[x->next], y->created[y->next]);

	return state->info.descending ? c : -c;
}

/*
 * Begin the merge of these n tabs (from the cache's array: their ids are
 * taken before any index is read), a first batch of each.
 */
static void
StartMerge(ItemMergeState *state, const int64 *ids, int n)
{
	Relation	heap = state->css.ss.ss_currentRelation;
	MemoryContext old = MemoryContextSwitchTo(state->cxt);

	state->ntabs = n;
	state->tabs_merged += state->ntabs;
	state->tabs = palloc0(sizeof(TabStream) * Max(state->ntabs, 1));
	for (int i = 0; i < state->ntabs; i++)
		state->tabs[i].tab_id = ids[i];
	state->heap = binaryheap_allocate(Max(state->ntabs, 1), CompareTabs, state);
	MemoryContextSwitchTo(old);

	state->index = index_open(state->info.indexes[IDX_TAB], AccessShareLock);
	state->nkeys = 3 + ScanTimeRangeKey(&state->stop_key, state->index, 2, &state->range,
										state->info.descending, false);
	state->scan = index_beginscan(heap, state->index, state->css.ss.ps.state->es_snapshot,
								  state->nkeys, 0);
	state->scan->xs_want_itup = true;
	state->fetch = table_index_fetch_begin(heap);
	for (int i = 0; i < state->ntabs; i++)
	{
		TabStream  *tab = &state->tabs[i];

		tab->size = FIRST_BATCH;
		tab->tids = MemoryContextAlloc(state->cxt, sizeof(ItemPointerData) * tab->size);
		tab->created = MemoryContextAlloc(state->cxt, sizeof(TimestampTz) * tab->size);
		ReadBatch(state, tab);
		if (tab->count > 0)
			binaryheap_add_unordered(state->heap, Int32GetDatum(i));
	}
	binaryheap_build(state->heap);
}

/* Read the tenant's items in order from the newest index instead. */
static void
StartWalk(ItemMergeState *state)
{
	Relation	heap = state->css.ss.ss_currentRelation;
	ScanKeyData keys[3];
	int			nkeys;

	state->walking = true;
	state->index = index_open(state->info.indexes[IDX_NEWEST], AccessShareLock);
	ScanEqualityKey(&keys[0], state->index, 0, INT8OID, Int64GetDatum(state->tenant_id), 0);
	nkeys = 1 + ScanTimeRangeKeys(&keys[1], state->index, 1, &state->range,
								  state->info.descending);
	state->scan = index_beginscan(heap, state->index, state->css.ss.ps.state->es_snapshot,
								  nkeys, 0);
	index_rescan(state->scan, keys, nkeys, NULL, 0);
}

/*
 * Read the tabs of the principal in force now: merged if there are at most
 * introw.item_merge_max_tabs of them, else the tenant's items in order.
 */
static void
StartScan(ItemMergeState *state)
{
	const VisibilityCache *cache = GetVisibilityCache();

	state->started = true;
	state->tenant_id = cache->tenant_id;
	ScanEvalTimeRange(&state->css, state->bound_states, &state->range);
	if (state->range.empty)
		StartMerge(state, NULL, 0);
	else if (item_merge_max_tabs == 0 ||
		ArrayGetNItems(ARR_NDIM(cache->tab_ids), ARR_DIMS(cache->tab_ids)) > item_merge_max_tabs)
		StartWalk(state);
	else
		StartMerge(state, (const int64 *) ARR_DATA_PTR(cache->tab_ids),
				   ArrayGetNItems(ARR_NDIM(cache->tab_ids), ARR_DIMS(cache->tab_ids)));
}

/*
 * The top tab's next entry has been taken: move on to the one after it,
 * reading the tab's next batch if need be.
 */
static void
AdvanceTop(ItemMergeState *state)
{
	int			top = DatumGetInt32(binaryheap_first(state->heap));
	TabStream  *tab = &state->tabs[top];

	tab->next++;
	if (tab->next == tab->count && tab->more)
		ReadBatch(state, tab);
	if (tab->next < tab->count)
		binaryheap_replace_first(state->heap, Int32GetDatum(top));
	else
		(void) binaryheap_remove_first(state->heap);
}

/* The next merged row visible to the snapshot, into slot; false at the end. */
static bool
NextMerged(ItemMergeState *state, TupleTableSlot *slot)
{
	Snapshot	snapshot = state->css.ss.ps.state->es_snapshot;

	while (!binaryheap_empty(state->heap))
	{
		TabStream  *tab = &state->tabs[DatumGetInt32(binaryheap_first(state->heap))];
		ItemPointerData tid = tab->tids[tab->next];
		bool		call_again = false;
		bool		found;

		CHECK_FOR_INTERRUPTS();
		AdvanceTop(state);
		found = table_index_fetch_tuple(state->fetch, &tid, snapshot, slot, &call_again, NULL);
		if (found)
			return true;
	}
	return false;
}

static TupleTableSlot *
NextRow(ScanState *ss)
{
	ItemMergeState *state = (ItemMergeState *) ss;
	TupleTableSlot *slot = ss->ss_ScanTupleSlot;
	bool		found;

	if (!state->started)
		StartScan(state);
	if (state->walking)
		found = index_getnext_slot(state->scan, Direction(state), state->fetched);
	else
		found = NextMerged(state, state->fetched);
	if (!found)
		return ExecClearTuple(slot);
	return ScanRowOf(ss, ExecCopySlot(slot, state->fetched), &state->fetched->tts_tid);
}

static TupleTableSlot *
ExecMerge(CustomScanState *node)
{
	return ScanExec(node, NextRow, NULL);
}

static void
EndScan(ItemMergeState *state)
{
	if (state->fetch != NULL)
		table_index_fetch_end(state->fetch);
	if (state->scan != NULL)
		index_endscan(state->scan);
	if (state->index != NULL)
		index_close(state->index, AccessShareLock);
	state->fetch = NULL;
	state->scan = NULL;
	state->index = NULL;
}

static void
EndMerge(CustomScanState *node)
{
	ItemMergeState *state = (ItemMergeState *) node;

	EndScan(state);
	if (state->fetched != NULL)
		ExecDropSingleTupleTableSlot(state->fetched);
	state->fetched = NULL;
}

static void
ReScanMerge(CustomScanState *node)
{
	ItemMergeState *state = (ItemMergeState *) node;

	EndScan(state);
	ExecClearTuple(state->fetched);
	MemoryContextReset(state->cxt);
	state->tabs = NULL;
	state->heap = NULL;
	state->ntabs = 0;
	state->walking = false;
	state->started = false;
	ExecScanReScan(&node->ss);
}

static void
ExplainMerge(CustomScanState *node, List *ancestors, ExplainState *es)
{
	ItemMergeState *state = (ItemMergeState *) node;
	char	   *tab = get_rel_name(state->info.indexes[IDX_TAB]);
	char	   *newest = get_rel_name(state->info.indexes[IDX_NEWEST]);

	ExplainPropertyText("Order", state->info.descending ? "created_at DESC" : "created_at", es);
	ExplainPropertyText("Merged", psprintf("visible tabs (%s)", tab ? tab : "?"), es);
	ScanExplainBounds(node, ancestors, es, "created_at");
	if (!es->analyze || !state->started)
		return;
	if (state->walking)
		ExplainPropertyText("Read Instead", psprintf("tenant's items (%s)", newest ? newest : "?"), es);
	else
	{
		ExplainPropertyInteger("Tabs", NULL, state->tabs_merged, es);
		ExplainPropertyInteger("Batches", NULL, state->batches, es);
	}
}
