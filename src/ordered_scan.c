/*-------------------------------------------------------------------------
 * ordered_scan.c
 *		A contact's newest (or oldest) CRM objects, merged in order.
 *
 * A contact reads the CRM objects of its organisation, those it
 * collaborates on and those it submitted: arms OR'ed in the read policy of
 * crm_objects.  For "ORDER BY created_at DESC LIMIT n" the best plan
 * PostgreSQL can make of an OR is a BitmapOr of the arms: every row of
 * every arm is fetched, then sorted for the first n.  The query one writes
 * by hand is a UNION: the organisation's n newest, read in order from the
 * (tenant_id, org_id, object_type, created_at DESC) index, and the few
 * collaborations and submissions; it reads n rows, not all of the
 * organisation's.
 *
 * This custom scan of crm_objects does the same inside one scan.  It
 * fetches the contact's collaborations and submissions (by index; a
 * submission whose index entry points where a collaboration's did is not
 * fetched again), sorts them in memory, walks the organisation's index in
 * order and merges the two, each row once.  A restricted contact has no
 * organisation to walk: its listing costs its collaborations.  The
 * query's own bounds on created_at (a page: created_at < $1) are where the
 * walk starts and stops (scan_support.c).
 * It is offered beside the planner's own paths, and chosen on cost, only
 * when all of these hold:
 *
 *	 - the planning principal is a contact;
 *	 - the scan's row-level security quals hold the read policy's OR of
 *	   exactly its four arms (reads_whole_tenant, reads_org_objects,
 *	   collaborates_on, the submitter) and its tenant test, and the query
 *	   asks for object_type = a constant (deterministic collation): then
 *	   every row the scan may return is in one of the arms it reads (a
 *	   contact never reads the whole tenant), so nothing is missed.
 *	   Another permissive policy (an analyst's) adds an arm to the OR, and
 *	   the scan is not offered;
 *	 - the query is ordered by created_at first, and the indexes it reads
 *	   exist: (tenant_id, org_id, object_type, created_at), (object_id),
 *	   (tenant_id, submitted_by_contact_id) and (tenant_id, object_type,
 *	   created_at).
 *
 * Every row it returns passes the scan's quals, the policy's tenant test
 * first (the planner orders them by security level; only leakproof
 * conditions of the query may come before it).  The policy's OR is not
 * among them: every row of an arm passes it, as a row an index condition
 * returned does (implied_quals.c; introw.implied_quals off keeps it).  The
 * arms are those of the principal in force when the scan starts.  A plan
 * made for a contact may start for another kind of principal (a cursor
 * read after a switch, a cached plan before the backend's plans are made
 * again): then it reads the tenant's rows of the type from the (tenant_id,
 * object_type, created_at) index in order, as the planner would for an
 * internal user, tests the OR on each before the quals, and the quals
 * decide.  With no principal it reads nothing (nothing is visible).
 * introw.ordered_scan (superuser) turns the path off, to compare.
 *-------------------------------------------------------------------------
 */
#include "scans.h"

#include <math.h>

#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/restrictinfo.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#define SCAN_NAME "introw_ordered"

/* The columns of crm_objects the scan reads, and its three indexes. */
typedef enum Column
{
	COL_TENANT,
	COL_OBJECT,
	COL_ORG,
	COL_TYPE,
	COL_SUBMITTER,
	COL_CREATED,
	NUM_COLUMNS
} Column;

static const char *const column_names[NUM_COLUMNS] = {
	"tenant_id", "object_id", "org_id", "object_type", "submitted_by_contact_id", "created_at"
};
static const Oid column_types[NUM_COLUMNS] = {
	INT8OID, INT8OID, INT8OID, TEXTOID, INT8OID, TIMESTAMPTZOID
};

enum
{
	IDX_ORG,					/* (tenant_id, org_id, object_type, created_at) */
	IDX_OBJECT,					/* (object_id) */
	IDX_SUBMITTER,				/* (tenant_id, submitted_by_contact_id) */
	IDX_TENANT,					/* (tenant_id, object_type, created_at) */
	NUM_INDEXES
};

/*
 * What the plan carries (custom_private): the ScanInfo (InfoToList), then
 * the parameters its calls replace (PRIVATE_CALLED), then the bounds'
 * strategies (scan_support.c).
 */
#define PRIVATE_CALLED 3

/* What a path carries (custom_private), built by InfoToList/InfoFromList. */
typedef struct ScanInfo
{
	AttrNumber	attnums[NUM_COLUMNS];
	Oid			indexes[NUM_INDEXES];
	bool		descending;		/* the query's order */
	bool		index_descending[NUM_INDEXES];	/* each ordered index's order of
												 * created_at */
	Const	   *object_type;
} ScanInfo;

/*
 * One collaboration or submission of the type, held in memory: a copy of
 * its tuple, deformed once (values point into the copy; the nulls follow
 * the values), returned as a virtual row.
 */
typedef struct HeldRow
{
	TimestampTz created;
	Datum	   *values;
	ItemPointerData tid;
} HeldRow;

/* Tids read from an index, in the scan's memory; sorted on first use. */
typedef struct TidList
{
	ItemPointerData *tids;
	int			n;
	int			allocated;
	bool		sorted;
} TidList;

/* a held row's nulls, after its values */
static inline bool *
HeldNulls(HeldRow *held, TupleDesc desc)
{
	return (bool *) (held->values + desc->natts);
}

static void
TidListAdd(TidList *list, ItemPointer tid)
{
	if (list->n == list->allocated)
	{
		list->allocated *= 2;
		list->tids = repalloc_huge(list->tids, sizeof(ItemPointerData) * list->allocated);
	}
	list->tids[list->n++] = *tid;
	list->sorted = false;
}

static bool
TidListHas(TidList *list, ItemPointer tid)
{
	if (!list->sorted)
	{
		ScanSortTids(list->tids, list->n);
		list->sorted = true;
	}
	return ScanTidIn(list->tids, list->n, tid);
}

typedef struct OrderedScanState
{
	CustomScanState css;
	ScanInfo	info;
	bool		started;
	MemoryContext cxt;			/* the held rows, reset on rescan */
	HeldRow    *held;			/* sorted in the query's order */
	int			nheld;
	int			next_held;
	ItemPointerData *held_tids; /* sorted, to skip them in the org index */
	int			ordered;		/* the index read in order: IDX_ORG or IDX_TENANT */
	Relation	org_index;
	IndexScanDesc org_scan;		/* NULL: no ordered arm, or done */
	TupleTableSlot *org_slot;
	bool		org_pending;	/* org_slot holds the next ordered row */
	List	   *bound_states;	/* the created_at bounds' values */
	ExprState  *implied;		/* the read policy's OR, for rows read
								 * instead of the arms (NULL: none) */
	bool		implied_ready;	/* implied set up (on first use) */
	ScanTimeRange range;		/* the values they allow, at the start */
	/* for EXPLAIN ANALYZE, over all loops */
	int64		total_held;		/* rows held */
	int64		submissions_fetched;	/* submissions fetched (not held
										 * already as collaborations) */
} OrderedScanState;

static Plan *PlanOrderedPath(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
							 List *tlist, List *clauses, List *custom_plans);
static Node *CreateOrderedScanState(CustomScan *cscan);
static void BeginOrderedScan(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *ExecOrderedScan(CustomScanState *node);
static void EndOrderedScan(CustomScanState *node);
static void ReScanOrderedScan(CustomScanState *node);
static void ExplainOrderedScan(CustomScanState *node, List *ancestors, ExplainState *es);

static const CustomPathMethods path_methods = {
	.CustomName = SCAN_NAME,
	.PlanCustomPath = PlanOrderedPath,
};

static const CustomScanMethods scan_methods = {
	.CustomName = SCAN_NAME,
	.CreateCustomScanState = CreateOrderedScanState,
};

static const CustomExecMethods exec_methods = {
	.CustomName = SCAN_NAME,
	.BeginCustomScan = BeginOrderedScan,
	.ExecCustomScan = ExecOrderedScan,
	.EndCustomScan = EndOrderedScan,
	.ReScanCustomScan = ReScanOrderedScan,
	.ExplainCustomScan = ExplainOrderedScan,
};

void
OrderedScanInit(void)
{
	RegisterCustomScanMethods(&scan_methods);
}

/* ------------------------------------------------------------------------
 * Planning
 * ------------------------------------------------------------------------
 */

/* One arm of the read policy's OR: which one, or TEST_UNKNOWN. */
static PolicyTest
ArmOf(PlannerInfo *root, Node *arm, const ScanInfo *info, Index relid)
{
	Node	   *key = NULL;
	PolicyTest	test;
	AttrNumber	expected;

	if (ScanEqualityValue(root, arm, relid, info->attnums[COL_SUBMITTER], F_INT8EQ) != NULL)
		return TEST_SUBMITTER;
	test = PolicyArmOf(arm, &key);
	switch (test)
	{
		case TEST_WHOLE_TENANT:
		case TEST_COLLABORATION:
			expected = info->attnums[COL_OBJECT];
			break;
		case TEST_ORG_OBJECTS:
			expected = info->attnums[COL_ORG];
			break;
		default:
			return TEST_UNKNOWN;
	}
	return ScanColumnIs(key, relid, expected) ? test : TEST_UNKNOWN;
}

/* Is clause the read policy's OR, with each of its four arms once? */
static bool
IsReadPolicy(PlannerInfo *root, Node *clause, const ScanInfo *info, Index relid)
{
	BoolExpr   *or = (BoolExpr *) clause;
	int			seen = 0;
	ListCell   *lc;

	if (!is_orclause(clause) || list_length(or->args) != 4)
		return false;
	foreach(lc, or->args)
	{
		PolicyTest	test = ArmOf(root, lfirst(lc), info, relid);

		if (test == TEST_UNKNOWN || (seen & (1 << test)))
			return false;
		seen |= 1 << test;
	}
	return true;
}

/*
 * The row-level security quals (security_level below the query's own)
 * hold the policy's tenant test and its OR, and the restriction holds
 * object_type = a text constant of a deterministic collation, the org
 * index's (kept in info).  The other quals the query adds are returned
 * in *user_quals, for the estimate.
 */
static bool
RestrictionQualifies(PlannerInfo *root, RelOptInfo *rel, RangeTblEntry *rte,
					 IndexOptInfo *org_index, ScanInfo *info, List **user_quals)
{
	Index		policy_level = list_length(rte->securityQuals);
	bool		tenant = false;
	bool		policy = false;
	ListCell   *lc;

	info->object_type = NULL;
	*user_quals = NIL;
	foreach(lc, rel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		Node	   *clause = (Node *) rinfo->clause;
		Node	   *value;

		if (rinfo->pseudoconstant)
			continue;
		if (rinfo->security_level < policy_level)
		{
			if (ScanEqualityValue(root, clause, rel->relid, info->attnums[COL_TENANT], F_INT8EQ))
				tenant = true;
			else if (IsReadPolicy(root, clause, info, rel->relid))
				policy = true;
			continue;
		}
		if ((value = ScanEqualityValue(root, clause, rel->relid, info->attnums[COL_TYPE],
								   F_TEXTEQ)) != NULL &&
			IsA(value, Const) && !((Const *) value)->constisnull &&
			((OpExpr *) clause)->inputcollid == org_index->indexcollations[2] &&
			get_collation_isdeterministic(org_index->indexcollations[2]))
			info->object_type = (Const *) value;	/* an index key, not a filter */
		else
			*user_quals = lappend(*user_quals, rinfo);
	}
	return tenant && policy && info->object_type != NULL;
}

/* The columns by name and type; created_at NOT NULL. */
static bool
FindColumns(Oid relid, ScanInfo *info)
{
	return ScanFindColumns(relid, column_names, column_types, NUM_COLUMNS, info->attnums,
						   COL_CREATED);
}

/* Are the index's leading key columns these, in order? */
static bool
IndexLeads(IndexOptInfo *index, const ScanInfo *info, const Column *columns, int n)
{
	AttrNumber	attnums[NUM_COLUMNS];

	for (int i = 0; i < n; i++)
		attnums[i] = info->attnums[columns[i]];
	return ScanIndexLeads(index, attnums, n);
}

/* The four indexes, found by their key columns. */
static bool
FindIndexes(RelOptInfo *rel, ScanInfo *info, IndexOptInfo **org_index)
{
	static const Column org[] = {COL_TENANT, COL_ORG, COL_TYPE, COL_CREATED};
	static const Column object[] = {COL_OBJECT};
	static const Column submitter[] = {COL_TENANT, COL_SUBMITTER};
	static const Column tenant[] = {COL_TENANT, COL_TYPE, COL_CREATED};
	IndexOptInfo *tenant_index = NULL;
	ListCell   *lc;

	*org_index = NULL;
	memset(info->indexes, 0, sizeof(info->indexes));
	memset(info->index_descending, 0, sizeof(info->index_descending));
	foreach(lc, rel->indexlist)
	{
		IndexOptInfo *index = lfirst_node(IndexOptInfo, lc);

		if (*org_index == NULL && IndexLeads(index, info, org, lengthof(org)))
			*org_index = index;
		else if (tenant_index == NULL && IndexLeads(index, info, tenant, lengthof(tenant)))
			tenant_index = index;
		else if (!OidIsValid(info->indexes[IDX_OBJECT]) &&
				 IndexLeads(index, info, object, lengthof(object)))
			info->indexes[IDX_OBJECT] = index->indexoid;
		else if (!OidIsValid(info->indexes[IDX_SUBMITTER]) &&
				 IndexLeads(index, info, submitter, lengthof(submitter)))
			info->indexes[IDX_SUBMITTER] = index->indexoid;
	}
	if (*org_index == NULL || tenant_index == NULL ||
		tenant_index->sortopfamily[2] != (*org_index)->sortopfamily[3] ||
		tenant_index->indexcollations[1] != (*org_index)->indexcollations[2])
		return false;
	info->indexes[IDX_ORG] = (*org_index)->indexoid;
	info->index_descending[IDX_ORG] = (*org_index)->reverse_sort[3];
	info->indexes[IDX_TENANT] = tenant_index->indexoid;
	info->index_descending[IDX_TENANT] = tenant_index->reverse_sort[2];
	return OidIsValid(info->indexes[IDX_OBJECT]) && OidIsValid(info->indexes[IDX_SUBMITTER]);
}

/*
 * Cost: the held rows are fetched (one random page each) and sorted before
 * the first row; each of the organisation's rows then costs an index
 * tuple and a random heap page.  The organisation's rows read are the
 * rows returned over the selectivity of the query's own quals (a
 * selective filter reads more of them); a restricted contact's
 * organisation has none.  A LIMIT takes its fraction of the rest.
 */
static void
CostPath(PlannerInfo *root, RelOptInfo *rel, CustomPath *path, int nheld, bool reads_org,
		 List *user_quals, List *bounds)
{
	double		held = nheld + 10.0;
	Selectivity filtered = clauselist_selectivity(root,
												  extract_actual_clauses(list_difference_ptr(user_quals, bounds),
																		 false),
												  rel->relid, JOIN_INNER, NULL);
	double		read = reads_org ? Min(rel->tuples, rel->rows / Max(filtered, 1e-6)) : 0.0;
	Cost		per_row = cpu_index_tuple_cost + cpu_tuple_cost + random_page_cost +
		rel->baserestrictcost.per_tuple;

	path->path.rows = rel->rows;
	path->path.startup_cost = rel->baserestrictcost.startup + held * per_row +
		2.0 * cpu_operator_cost * held * log(held) / log(2.0);
	path->path.total_cost = path->path.startup_cost + read * per_row +
		rel->reltarget->cost.per_tuple * rel->rows;
}

static List *
InfoToList(const ScanInfo *info)
{
	List	   *ints = NIL;
	List	   *oids = NIL;

	for (int i = 0; i < NUM_COLUMNS; i++)
		ints = lappend_int(ints, info->attnums[i]);
	ints = lappend_int(ints, info->descending);
	for (int i = 0; i < NUM_INDEXES; i++)
		ints = lappend_int(ints, info->index_descending[i]);
	for (int i = 0; i < NUM_INDEXES; i++)
		oids = lappend_oid(oids, info->indexes[i]);
	return list_make3(ints, oids, copyObject(info->object_type));
}

static void
InfoFromList(List *list, ScanInfo *info)
{
	List	   *ints = linitial(list);
	List	   *oids = lsecond(list);

	for (int i = 0; i < NUM_COLUMNS; i++)
		info->attnums[i] = list_nth_int(ints, i);
	info->descending = list_nth_int(ints, NUM_COLUMNS);
	for (int i = 0; i < NUM_INDEXES; i++)
		info->index_descending[i] = list_nth_int(ints, NUM_COLUMNS + 1 + i);
	for (int i = 0; i < NUM_INDEXES; i++)
		info->indexes[i] = list_nth_oid(oids, i);
	info->object_type = lthird_node(Const, list);
}

/* Offer the path on introw.crm_objects (scan_support.c calls this for it). */
void
OrderedScanAddPath(PlannerInfo *root, RelOptInfo *rel, RangeTblEntry *rte)
{
	ScanInfo	info;
	IndexOptInfo *org_index;
	const VisibilityCache *cache;
	CustomPath *path;
	List	   *user_quals;
	List	   *bounds;

	if (!FindColumns(rte->relid, &info) ||
		!FindIndexes(rel, &info, &org_index) ||
		!ScanOrderedBy(root, rel, info.attnums[COL_CREATED], org_index->sortopfamily[3],
					   &info.descending) ||
		ScanNeedsSystemColumns(rel) ||
		!RestrictionQualifies(root, rel, rte, org_index, &info, &user_quals))
		return;
	cache = GetVisibilityCache();
	if (cache->access != ACCESS_CONTACT)
		return;

	path = ScanMakePath(root, rel, &path_methods, InfoToList(&info), info.attnums[COL_CREATED],
						org_index->opfamily[3], &bounds);
	CostPath(root, rel, path,
			 ArrayGetNItems(ARR_NDIM(cache->collab_object_ids), ARR_DIMS(cache->collab_object_ids)),
			 ArrayGetNItems(ARR_NDIM(cache->object_org_ids), ARR_DIMS(cache->object_org_ids)) > 0,
			 user_quals, bounds);
	add_path(rel, &path->path);
}

/*
 * Is the read policy's submitter arm submitted_by_contact_id = (SELECT
 * introw.current_contact_id()), the contact whose submissions the scan
 * reads?
 */
static bool
SubmitterIsContact(PlannerInfo *root, BoolExpr *or, const ScanInfo *info, Index relid)
{
	ListCell   *lc;

	foreach(lc, or->args)
	{
		Node	   *value = ScanEqualityValue(root, lfirst(lc), relid,
											  info->attnums[COL_SUBMITTER], F_INT8EQ);

		if (value != NULL)
			return PolicyInitplanOf(root, value, "current_contact_id");
	}
	return false;
}

/*
 * The policy's initplan parameters of the principal, (SELECT f()), become
 * the calls f() in the OR tested on rows read instead: the scan evaluates
 * each once, when it first needs the test (Implied), and nothing else
 * reads those parameters, so their initplans leave the plan
 * (unread_initplans.c) and are not set up at each start.
 */
typedef struct Calls
{
	PlannerInfo *root;
	List	   *replaced;		/* the parameters replaced */
} Calls;

static Node *
PrincipalCalls(Node *node, Calls *calls)
{
	FuncExpr   *call;

	if (node == NULL)
		return NULL;
	call = PolicyInitplanCall(calls->root, node);
	if (call != NULL && IsPrincipalFunction(call->funcid))
	{
		calls->replaced = list_append_unique_int(calls->replaced, ((Param *) node)->paramid);
		return copyObject((Node *) call);
	}
	return expression_tree_mutator(node, PrincipalCalls, calls);
}

/*
 * The parameters whose initplans the ordered scan plan holds the calls
 * of, in place of the parameters (NIL: none, or another plan): the
 * initplans that may leave the plan.
 */
List *
OrderedScanCalledParams(Plan *plan)
{
	CustomScan *cscan = (CustomScan *) plan;

	if (!IsA(plan, CustomScan) || cscan->methods != &scan_methods)
		return NIL;
	return list_nth(cscan->custom_private, PRIVATE_CALLED);
}

/*
 * The plan: the read policy's OR (a row-level security qual) is implied
 * by the arms the scan reads for a contact, and tested only on the rows
 * it reads instead for another principal (ScanMakePlan), with the calls
 * of the principal's functions in place of their initplans' parameters
 * (PrincipalCalls).  Only where each arm of the OR is what the scan
 * reads: the policy's own submitter arm.
 */
static Plan *
PlanOrderedPath(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
				List *tlist, List *clauses, List *custom_plans)
{
	RangeTblEntry *rte = planner_rt_fetch(rel->relid, root);
	Index		policy_level = list_length(rte->securityQuals);
	List	   *implied = NIL;
	ScanInfo	info;
	List	   *tested_instead = NIL;
	Calls		calls = {root, NIL};
	CustomScan *cscan;
	ListCell   *lc;

	InfoFromList(best_path->custom_private, &info);
	foreach(lc, implied_quals_enabled ? clauses : NIL)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);

		if (rinfo->security_level < policy_level &&
			IsReadPolicy(root, (Node *) rinfo->clause, &info, rel->relid) &&
			SubmitterIsContact(root, (BoolExpr *) rinfo->clause, &info, rel->relid))
		{
			implied = list_make1(rinfo);
			tested_instead = list_make1(PrincipalCalls((Node *) rinfo->clause, &calls));
			break;
		}
	}
	cscan = (CustomScan *) ScanMakePlan(rel, best_path, tlist, clauses, implied, tested_instead,
										&scan_methods);
	/* before the bounds' strategies, the last item */
	cscan->custom_private = list_insert_nth(cscan->custom_private, PRIVATE_CALLED, calls.replaced);
	return &cscan->scan.plan;
}

/* ------------------------------------------------------------------------
 * Execution
 * ------------------------------------------------------------------------
 */

static Node *
CreateOrderedScanState(CustomScan *cscan)
{
	OrderedScanState *state = (OrderedScanState *) ScanNewState(sizeof(OrderedScanState), &exec_methods);

	InfoFromList(cscan->custom_private, &state->info);
	return (Node *) state;
}

static void
BeginOrderedScan(CustomScanState *node, EState *estate, int eflags)
{
	OrderedScanState *state = (OrderedScanState *) node;

	state->cxt = AllocSetContextCreate(estate->es_query_cxt, "introw ordered scan",
									   ALLOCSET_DEFAULT_SIZES);
	state->bound_states = ScanInitBounds(node);
}

/*
 * The read policy's OR, ready to test (NULL: none), set up the first time
 * a row is read other than from the arms: a contact's scan never needs it.
 */
static ExprState *
Implied(OrderedScanState *state)
{
	if (!state->implied_ready)
	{
		MemoryContext old = MemoryContextSwitchTo(state->css.ss.ps.state->es_query_cxt);

		state->implied = ScanInitImplied(&state->css);
		MemoryContextSwitchTo(old);
		state->implied_ready = true;
	}
	return state->implied;
}

/* A row's created_at (NOT NULL), read from its value. */
static TimestampTz
CreatedValue(Datum value, bool isnull)
{
	if (isnull)
		elog(ERROR, "crm_objects.created_at is NULL");
	return DatumGetTimestampTz(value);
}

static TimestampTz
CreatedOf(OrderedScanState *state, TupleTableSlot *slot)
{
	bool		isnull;
	Datum		value = slot_getattr(slot, state->info.attnums[COL_CREATED], &isnull);

	return CreatedValue(value, isnull);
}

/* Is the row of the scan's object_type?  (A deterministic collation.) */
static bool
OfType(OrderedScanState *state, TupleTableSlot *slot)
{
	Const	   *type = state->info.object_type;
	bool		isnull;
	Datum		value = slot_getattr(slot, state->info.attnums[COL_TYPE], &isnull);

	return !isnull && DatumGetBool(DirectFunctionCall2Coll(texteq, type->constcollid, value,
														   type->constvalue));
}

/*
 * Hold a copy of the row in slot (a row of the type), deformed once, for
 * NextRow to return as it is.
 */
static void
HoldRow(OrderedScanState *state, TupleTableSlot *slot, int *allocated)
{
	TupleDesc	desc = state->css.ss.ss_ScanTupleSlot->tts_tupleDescriptor;
	MemoryContext old;
	HeapTuple	tuple;
	HeldRow    *held;

	if (state->nheld == *allocated)
	{
		*allocated *= 2;
		state->held = repalloc_huge(state->held, sizeof(HeldRow) * *allocated);
	}
	held = &state->held[state->nheld++];
	old = MemoryContextSwitchTo(state->cxt);
	tuple = ExecCopySlotHeapTuple(slot);
	held->values = palloc(desc->natts * (sizeof(Datum) + sizeof(bool)));
	heap_deform_tuple(tuple, desc, held->values, HeldNulls(held, desc));
	MemoryContextSwitchTo(old);
	held->tid = tuple->t_self;
	held->created = CreatedValue(held->values[state->info.attnums[COL_CREATED] - 1],
								 HeldNulls(held, desc)[state->info.attnums[COL_CREATED] - 1]);
}

/*
 * Hold every row of the type an index scan with these keys returns, but
 * those whose index entry points at a tid in skip (NULL: none).  With
 * seen, every tid the index returns is added to it.  Every index entry of
 * a row points at the root of its HOT chain, so one tid in two indexes is
 * one row.  Rows of other types are left out here only to save memory:
 * the quals decide.  Returns the number of rows fetched.
 */
static int64
HoldRows(OrderedScanState *state, Relation index, ScanKey keys, int nkeys, int *allocated,
		 TidList *skip, TidList *seen)
{
	int64		fetched = 0;
	Relation	heap = state->css.ss.ss_currentRelation;
	EState	   *estate = state->css.ss.ps.state;
	TupleTableSlot *slot = table_slot_create(heap, NULL);
	IndexScanDesc scan = index_beginscan(heap, index, estate->es_snapshot, nkeys, 0);

	index_rescan(scan, keys, nkeys, NULL, 0);
	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		/* as index_getnext_slot does, with skip and seen */
		if (!scan->xs_heap_continue)
		{
			ItemPointer tid = index_getnext_tid(scan, ForwardScanDirection);

			if (tid == NULL)
				break;
			if (skip != NULL && TidListHas(skip, tid))
				continue;
			if (seen != NULL)
				TidListAdd(seen, tid);
		}
		if (!index_fetch_heap(scan, slot))
			continue;
		fetched++;
		if (OfType(state, slot))
			HoldRow(state, slot, allocated);
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	return fetched;
}

/* sort_held_rows(rows, n, &descending): in the query's order of created_at */
#define ST_SORT sort_held_rows
#define ST_ELEMENT_TYPE HeldRow
#define ST_COMPARE_ARG_TYPE bool
#define ST_COMPARE(a, b, descending) \
	((*(descending) ? -1 : 1) * (((a)->created > (b)->created) - ((a)->created < (b)->created)))
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/*
 * The collaborations and the submissions, each row once, sorted in the
 * query's order; and, with_org, their tids sorted, to skip them in the
 * organisation's index.
 */
static void
HoldCollaborationsAndSubmissions(OrderedScanState *state, int64 tenant_id, int64 contact_id,
								 ArrayType *collaborations, bool with_org)
{
	int			allocated = 16;
	ScanKeyData keys[2];
	Relation	index;
	TidList		collaborated;

	state->held = MemoryContextAlloc(state->cxt, sizeof(HeldRow) * allocated);
	state->nheld = 0;
	collaborated.n = 0;
	collaborated.allocated = 16;
	collaborated.sorted = true;
	collaborated.tids = MemoryContextAlloc(state->cxt, sizeof(ItemPointerData) * collaborated.allocated);

	if (ArrayGetNItems(ARR_NDIM(collaborations), ARR_DIMS(collaborations)) > 0)
	{
		index = index_open(state->info.indexes[IDX_OBJECT], AccessShareLock);
		ScanEqualityKey(&keys[0], index, 0, INT8OID, PointerGetDatum(collaborations), SK_SEARCHARRAY);
		HoldRows(state, index, keys, 1, &allocated, NULL, &collaborated);
		index_close(index, AccessShareLock);
	}

	/*
	 * A submitter is a collaborator too (crm_objects_register), unless that
	 * row was taken away: fetch only the submissions not read already.
	 */
	index = index_open(state->info.indexes[IDX_SUBMITTER], AccessShareLock);
	ScanEqualityKey(&keys[0], index, 0, INT8OID, Int64GetDatum(tenant_id), 0);
	ScanEqualityKey(&keys[1], index, 1, INT8OID, Int64GetDatum(contact_id), 0);
	state->submissions_fetched += HoldRows(state, index, keys, 2, &allocated, &collaborated, NULL);
	index_close(index, AccessShareLock);
	pfree(collaborated.tids);

	/*
	 * Each row is held once: under the statement's MVCC snapshot an index
	 * scan returns a row at most once, and the submissions skip what the
	 * collaborations read.  The held rows' tids, sorted, are skipped in the
	 * organisation's index.
	 */
	if (with_org)
	{
		state->held_tids = MemoryContextAlloc(state->cxt, sizeof(ItemPointerData) * Max(state->nheld, 1));
		for (int i = 0; i < state->nheld; i++)
			state->held_tids[i] = state->held[i].tid;
		ScanSortTids(state->held_tids, state->nheld);
	}
	sort_held_rows(state->held, state->nheld, &state->info.descending);
	state->next_held = 0;
	state->total_held += state->nheld;
}

/*
 * Begin the arm read in order: which (IDX_ORG or IDX_TENANT) with its
 * leading key columns equal to values (tenant, [organisation,] type), and
 * created_at within the query's bounds.
 */
static void
BeginOrderedArm(OrderedScanState *state, int which, Datum *values, int nvalues)
{
	Relation	heap = state->css.ss.ss_currentRelation;
	EState	   *estate = state->css.ss.ps.state;
	ScanKeyData keys[5];
	int			nkeys;

	state->ordered = which;
	state->org_index = index_open(state->info.indexes[which], AccessShareLock);
	for (int i = 0; i < nvalues; i++)
		ScanEqualityKey(&keys[i], state->org_index, i, i == nvalues - 1 ? TEXTOID : INT8OID, values[i], 0);
	nkeys = nvalues + ScanTimeRangeKeys(&keys[nvalues], state->org_index, nvalues, &state->range,
										state->info.descending);
	state->org_slot = table_slot_create(heap, NULL);
	state->org_scan = index_beginscan(heap, state->org_index, estate->es_snapshot, nkeys, 0);
	index_rescan(state->org_scan, keys, nkeys, NULL, 0);
}

/*
 * Read the arms of the principal in force now.  A contact's: its
 * organisation (none for a restricted contact) merged with its
 * collaborations and submissions.  Any other principal's: the tenant's
 * rows of the type, in order.  No principal: nothing.
 */
static void
StartScan(OrderedScanState *state)
{
	const VisibilityCache *cache = GetVisibilityCache();
	Datum		values[3];
	ArrayType  *collaborations;
	int			norgs;

	/* one tid, one row: true of MVCC snapshots only (HoldRows) */
	if (!IsMVCCSnapshot(state->css.ss.ps.state->es_snapshot))
		elog(ERROR, "introw_ordered scan needs an MVCC snapshot");
	state->started = true;
	state->ordered = IDX_ORG;
	state->nheld = 0;
	state->next_held = 0;
	state->org_pending = false;
	ScanEvalTimeRange(&state->css, state->bound_states, &state->range);
	if (cache->access == ACCESS_NONE || state->range.empty)
		return;
	values[0] = Int64GetDatum(cache->tenant_id);
	if (cache->access != ACCESS_CONTACT)
	{
		values[1] = state->info.object_type->constvalue;
		BeginOrderedArm(state, IDX_TENANT, values, 2);
		return;
	}
	norgs = ArrayGetNItems(ARR_NDIM(cache->object_org_ids), ARR_DIMS(cache->object_org_ids));
	if (norgs > 1)
		elog(ERROR, "a partner contact reads the CRM objects of %d organisations", norgs);
	if (norgs == 1)
		values[1] = Int64GetDatum(((int64 *) ARR_DATA_PTR(cache->object_org_ids))[0]);
	values[2] = state->info.object_type->constvalue;

	/* a copy: the cache may be rebuilt while the scan runs */
	collaborations = MemoryContextAlloc(state->cxt, VARSIZE(cache->collab_object_ids));
	memcpy(collaborations, cache->collab_object_ids, VARSIZE(cache->collab_object_ids));
	HoldCollaborationsAndSubmissions(state, cache->tenant_id, cache->principal_id, collaborations,
									 norgs == 1);
	if (norgs == 1)
		BeginOrderedArm(state, IDX_ORG, values, 3);
}

static void
EndOrderedArm(OrderedScanState *state)
{
	if (state->org_scan != NULL)
		index_endscan(state->org_scan);
	if (state->org_slot != NULL)
		ExecDropSingleTupleTableSlot(state->org_slot);
	if (state->org_index != NULL)
		index_close(state->org_index, AccessShareLock);
	state->org_scan = NULL;
	state->org_slot = NULL;
	state->org_index = NULL;
	state->org_pending = false;
}

/* Load the next ordered row not among the held ones into org_slot. */
static void
AdvanceOrderedArm(OrderedScanState *state)
{
	ScanDirection dir = ScanDirectionFor(state->info.descending,
										 state->info.index_descending[state->ordered]);

	while (index_getnext_slot(state->org_scan, dir, state->org_slot))
	{
		/* the tenant's rows, read instead of the arms: the OR decides */
		if (state->ordered == IDX_TENANT &&
			!ScanPassesImplied(&state->css, Implied(state), state->org_slot))
			continue;
		if (!ScanTidIn(state->held_tids, state->nheld, &state->org_slot->tts_tid))
		{
			state->org_pending = true;
			return;
		}
	}
	EndOrderedArm(state);
}

/* The next row in order, into the scan slot; an empty slot at the end. */
static TupleTableSlot *
NextRow(ScanState *ss)
{
	OrderedScanState *state = (OrderedScanState *) ss;
	TupleTableSlot *slot = ss->ss_ScanTupleSlot;
	HeldRow    *held;

	if (!state->started)
		StartScan(state);
	if (!state->org_pending && state->org_scan != NULL)
		AdvanceOrderedArm(state);

	held = state->next_held < state->nheld ? &state->held[state->next_held] : NULL;
	if (state->org_pending &&
		(held == NULL ||
		 (state->info.descending ? 1 : -1) *
		 ScanCompareTimes(CreatedOf(state, state->org_slot), held->created) >= 0))
	{
		state->org_pending = false;
		return ScanRowOf(ss, ExecCopySlot(slot, state->org_slot), &state->org_slot->tts_tid);
	}
	if (held != NULL)
	{
		int			natts = slot->tts_tupleDescriptor->natts;

		state->next_held++;
		ExecClearTuple(slot);
		memcpy(slot->tts_values, held->values, natts * sizeof(Datum));
		memcpy(slot->tts_isnull, HeldNulls(held, slot->tts_tupleDescriptor), natts * sizeof(bool));
		return ScanRowOf(ss, ExecStoreVirtualTuple(slot), &held->tid);
	}
	return ExecClearTuple(slot);
}

/* A row tested again after a concurrent update: still in the arms? */
static bool
RecheckRow(ScanState *ss, TupleTableSlot *slot)
{
	OrderedScanState *state = (OrderedScanState *) ss;

	return ScanRecheckRow(&state->css, Implied(state), slot);
}

static TupleTableSlot *
ExecOrderedScan(CustomScanState *node)
{
	return ScanExec(node, NextRow, RecheckRow);
}

static void
ResetScan(OrderedScanState *state)
{
	EndOrderedArm(state);
	MemoryContextReset(state->cxt);
	state->held = NULL;
	state->held_tids = NULL;
	state->nheld = 0;
	state->next_held = 0;
	state->started = false;
}

static void
EndOrderedScan(CustomScanState *node)
{
	EndOrderedArm((OrderedScanState *) node);
}

static void
ReScanOrderedScan(CustomScanState *node)
{
	ResetScan((OrderedScanState *) node);
	ExecScanReScan(&node->ss);
}

static void
ExplainOrderedScan(CustomScanState *node, List *ancestors, ExplainState *es)
{
	OrderedScanState *state = (OrderedScanState *) node;
	char	   *org = get_rel_name(state->info.indexes[IDX_ORG]);
	char	   *object = get_rel_name(state->info.indexes[IDX_OBJECT]);
	char	   *submitter = get_rel_name(state->info.indexes[IDX_SUBMITTER]);

	ExplainPropertyText("Order", state->info.descending ? "created_at DESC" : "created_at", es);
	ExplainPropertyText("Merged",
						psprintf("organisation (%s), collaborations (%s), submissions (%s)",
								 org ? org : "?", object ? object : "?",
								 submitter ? submitter : "?"), es);
	ScanExplainBounds(node, ancestors, es, "created_at");
	ScanExplainImplied(node, ancestors, es, "Filter If Read Instead");
	if (!es->analyze || !state->started)
		return;
	if (state->ordered == IDX_TENANT)
	{
		char	   *tenant = get_rel_name(state->info.indexes[IDX_TENANT]);

		ExplainPropertyText("Read Instead", psprintf("tenant's objects (%s)", tenant ? tenant : "?"), es);
		return;
	}
	ExplainPropertyInteger("Held", NULL, state->total_held, es);
	ExplainPropertyInteger("Submissions Fetched", NULL, state->submissions_fetched, es);
}
