/*-------------------------------------------------------------------------
 * scan_support.c
 *		What the ordered scans share: their setting, the planner hook that
 *		offers them, recognising a scan's columns, order and indexes, and
 *		the query's bounds on the ordering column (a page of a listing).
 *
 * Two custom scans read a principal's rows in created_at order without
 * reading all of them: ordered_scan.c (CRM objects: the organisation's
 * index merged with the collaborations and submissions) and item_merge.c
 * (content items: the visible tabs' indexes merged).  Both are offered by
 * one set_rel_pathlist_hook, beside the planner's own paths, and chosen on
 * cost; introw.ordered_scan (superuser) turns both off.  Their plans carry
 * the policy's quals, which decide every row, but for those a scan's own
 * arms imply (ScanMakePlan); the scans only choose which rows to read, and
 * in which order.
 *-------------------------------------------------------------------------
 */
#include "scans.h"

#include "access/stratnum.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "catalog/pg_am.h"
#include "catalog/pg_attribute.h"
#include "nodes/extensible.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/restrictinfo.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"

static List *FindBounds(PlannerInfo *root, RelOptInfo *rel, AttrNumber attnum, Oid opfamily,
						List **strategies, List **used);

static bool ordered_scans_enabled = true;
static set_rel_pathlist_hook_type prev_set_rel_pathlist = NULL;

/* Offer introw.crm_objects and introw.content_items their scans. */
static void
SetRelPathlist(PlannerInfo *root, RelOptInfo *rel, Index rti, RangeTblEntry *rte)
{
	Oid			nsp;
	char	   *name;

	if (prev_set_rel_pathlist)
		prev_set_rel_pathlist(root, rel, rti, rte);
	if (!ordered_scans_enabled || !ScanMayBeOrdered(root, rel, rti, rte))
		return;
	nsp = get_namespace_oid("introw", true);
	if (!OidIsValid(nsp) || get_rel_namespace(rte->relid) != nsp)
		return;
	name = get_rel_name(rte->relid);
	if (strcmp(name, "crm_objects") == 0)
		OrderedScanAddPath(root, rel, rte);
	else if (strcmp(name, "content_items") == 0)
		ItemMergeAddPath(root, rel, rte);
}

void
OrderedScansInit(void)
{
	DefineCustomBoolVariable("introw.ordered_scan",
							 "Offers the planner a principal's CRM objects and content items merged in created_at order.",
							 "Off leaves the planner its own paths (results are the same).",
							 &ordered_scans_enabled, true, PGC_SUSET, 0, NULL, NULL, NULL);
	OrderedScanInit();
	ItemMergeInit();
	prev_set_rel_pathlist = set_rel_pathlist_hook;
	set_rel_pathlist_hook = SetRelPathlist;
}

/*
 * May a scan of this relation be read in an order of our own?  A plain
 * table (no inheritance, no sample, no lateral reference, not the target
 * of the statement), under row-level security, in an ordered query.
 */
bool
ScanMayBeOrdered(PlannerInfo *root, RelOptInfo *rel, Index rti, RangeTblEntry *rte)
{
	return rel->reloptkind == RELOPT_BASEREL && rte->rtekind == RTE_RELATION && !rte->inh &&
		rte->tablesample == NULL && rte->securityQuals != NIL && !IS_DUMMY_REL(rel) &&
		bms_is_empty(rel->lateral_relids) && rti != (Index) root->parse->resultRelation &&
		root->query_pathkeys != NIL;
}

/* Is node a plain Var of the scanned relation's column attnum? */
bool
ScanColumnIs(Node *node, Index relid, AttrNumber attnum)
{
	Var		   *var = (Var *) node;

	return node != NULL && IsA(node, Var) && var->varno == (int) relid &&
		var->varattno == attnum && var->varlevelsup == 0;
}

/*
 * column = something that does not refer to the relation nor is volatile,
 * with the operator whose function is eqfunc (int8eq, texteq): that
 * something, or NULL.
 */
Node *
ScanEqualityValue(PlannerInfo *root, Node *clause, Index relid, AttrNumber attnum, Oid eqfunc)
{
	OpExpr	   *op = (OpExpr *) clause;
	Node	   *value;

	if (!IsA(clause, OpExpr) || get_opcode(op->opno) != eqfunc || list_length(op->args) != 2 ||
		!ScanColumnIs(linitial(op->args), relid, attnum))
		return NULL;
	value = lsecond(op->args);
	if (bms_is_member(relid, pull_varnos(root, value)) || contain_volatile_functions(value))
		return NULL;
	return value;
}

/*
 * The columns by name, each of its expected type, into attnums; and the
 * column ordered by (created_at) NOT NULL: the merges order by it, and a
 * path claims its order whatever NULLS FIRST says.
 */
bool
ScanFindColumns(Oid relid, const char *const *names, const Oid *types, int n,
				AttrNumber *attnums, AttrNumber not_null)
{
	HeapTuple	tuple;
	bool		notnull;

	for (int i = 0; i < n; i++)
	{
		attnums[i] = get_attnum(relid, names[i]);
		if (attnums[i] == InvalidAttrNumber || get_atttype(relid, attnums[i]) != types[i])
			return false;
	}
	tuple = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(attnums[not_null]));
	if (!HeapTupleIsValid(tuple))
		return false;
	notnull = ((Form_pg_attribute) GETSTRUCT(tuple))->attnotnull;
	ReleaseSysCache(tuple);
	return notnull;
}

/*
 * Is the index a plain btree (no predicate, tuple by tuple) whose leading
 * key columns are these attributes, in order?
 */
bool
ScanIndexLeads(IndexOptInfo *index, const AttrNumber *attnums, int n)
{
	if (index->relam != BTREE_AM_OID || index->indpred != NIL || !index->amhasgettuple ||
		index->nkeycolumns < n)
		return false;
	for (int i = 0; i < n; i++)
		if (index->indexkeys[i] != attnums[i])
			return false;
	return true;
}

/*
 * Is the query (which has an order) ordered first by the relation's column
 * attnum, with the sort operator family opfamily?  *descending: which way.
 */
bool
ScanOrderedBy(PlannerInfo *root, RelOptInfo *rel, AttrNumber attnum, Oid opfamily,
			  bool *descending)
{
	PathKey    *pathkey = linitial_node(PathKey, root->query_pathkeys);
	ListCell   *lc;

	if (pathkey->pk_eclass->ec_has_volatile || pathkey->pk_opfamily != opfamily ||
		(pathkey->pk_strategy != BTLessStrategyNumber &&
		 pathkey->pk_strategy != BTGreaterStrategyNumber))
		return false;
	*descending = pathkey->pk_strategy == BTGreaterStrategyNumber;
	foreach(lc, pathkey->pk_eclass->ec_members)
	{
		EquivalenceMember *member = (EquivalenceMember *) lfirst(lc);

		if (ScanColumnIs((Node *) member->em_expr, rel->relid, attnum))
			return true;
	}
	return false;
}

/*
 * System columns other than ctid and tableoid cannot be read from the
 * scans' slots: no path when the query's output or the scan's quals need
 * one.
 */
bool
ScanNeedsSystemColumns(RelOptInfo *rel)
{
	Bitmapset  *attrs = NULL;
	ListCell   *lc;
	int			x = -1;

	pull_varattnos((Node *) rel->reltarget->exprs, rel->relid, &attrs);
	foreach(lc, rel->baserestrictinfo)
		pull_varattnos((Node *) lfirst_node(RestrictInfo, lc)->clause, rel->relid, &attrs);
	while ((x = bms_next_member(attrs, x)) >= 0)
	{
		AttrNumber	attno = x + FirstLowInvalidHeapAttributeNumber;

		if (attno < 0 && attno != SelfItemPointerAttributeNumber &&
			attno != TableOidAttributeNumber)
			return true;
	}
	return false;
}

/*
 * A custom path over rel, ordered by the query's first sort key, not
 * parallel, projecting; the caller costs it and adds it.  Its private list
 * is private followed by the query's bounds on the ordering column attnum
 * (a timestamptz, of the index operator family opfamily), which the plan
 * evaluates when it starts; *bound_quals: their quals, for the estimate.
 */
CustomPath *
ScanMakePath(PlannerInfo *root, RelOptInfo *rel, const CustomPathMethods *methods, List *private,
			 AttrNumber attnum, Oid opfamily, List **bound_quals)
{
	CustomPath *path = makeNode(CustomPath);
	List	   *strategies;
	List	   *values = FindBounds(root, rel, attnum, opfamily, &strategies, bound_quals);

	path->path.pathtype = T_CustomScan;
	path->path.parent = rel;
	path->path.pathtarget = rel->reltarget;
	path->path.param_info = NULL;
	path->path.parallel_aware = false;
	path->path.parallel_safe = false;
	path->path.parallel_workers = 0;
	path->path.pathkeys = list_make1(linitial(root->query_pathkeys));
	path->flags = CUSTOMPATH_SUPPORT_PROJECTION;
	path->custom_paths = NIL;
	path->custom_private = lappend(private, list_make2(values, strategies));
	path->methods = methods;
	return path;
}

/*
 * The plan of such a path: every qual but those in implied is checked on
 * every row.  implied (some of clauses) holds the quals every row of the
 * scan's own arms passes: the scan tests them only on rows it reads
 * otherwise (ScanInitImplied), as tested_instead writes them (one
 * expression each).  The bounds' values, then those, become its
 * custom_exprs (setrefs makes their parameters the executor's); the
 * bounds' strategies are the last item of its private list.
 */
Plan *
ScanMakePlan(RelOptInfo *rel, CustomPath *best_path, List *tlist, List *clauses,
			 List *implied, List *tested_instead, const CustomScanMethods *methods)
{
	CustomScan *cscan = makeNode(CustomScan);
	List	   *bounds = llast(best_path->custom_private);

	cscan->scan.plan.targetlist = tlist;
	/* already in execution order, the policy's quals first */
	cscan->scan.plan.qual = extract_actual_clauses(list_difference_ptr(clauses, implied), false);
	cscan->scan.scanrelid = rel->relid;
	cscan->flags = best_path->flags;
	cscan->custom_plans = NIL;
	Assert(list_length(implied) == list_length(tested_instead));
	cscan->custom_exprs = list_concat_copy(linitial(bounds), tested_instead);
	cscan->custom_private = list_copy(best_path->custom_private);
	llast(cscan->custom_private) = lsecond(bounds);
	cscan->custom_scan_tlist = NIL;
	cscan->methods = methods;
	return &cscan->scan.plan;
}

/*
 * A scan's state, of size bytes (a CustomScanState first), zeroed, with
 * its methods.
 */
CustomScanState *
ScanNewState(Size size, const CustomExecMethods *methods)
{
	CustomScanState *css = palloc0(size);

	NodeSetTag(css, T_CustomScanState);
	css->methods = methods;
	return css;
}

/*
 * A row tested again after a concurrent update (EvalPlanQual), in a slot
 * of the table's kind: its values read out of its tuple, for the quals,
 * compiled for the scan's own virtual slot, read values without deforming
 * a tuple; then the implied quals (NULL: none), since the row may have
 * left the arms it was read from.  ExecScan tests the quals after.
 */
bool
ScanRecheckRow(CustomScanState *node, ExprState *implied, TupleTableSlot *slot)
{
	slot_getallattrs(slot);
	return ScanPassesImplied(node, implied, slot);
}

/* A scan with no implied quals: the row's values only. */
static bool
RecheckValues(ScanState *ss, TupleTableSlot *slot)
{
	return ScanRecheckRow((CustomScanState *) ss, NULL, slot);
}

/*
 * The next row of a scan whose rows come from next, its quals checked;
 * recheck (NULL: the row's values only) tests a row again after a
 * concurrent update, before its quals.
 */
TupleTableSlot *
ScanExec(CustomScanState *node, ExecScanAccessMtd next, ExecScanRecheckMtd recheck)
{
	return ExecScan(&node->ss, next, recheck ? recheck : RecheckValues);
}

/*
 * The row in slot, a copy of the scan's relation's row tid, as a row of
 * the scan: its tid and its table set (the slot is the scan's own).
 */
TupleTableSlot *
ScanRowOf(ScanState *ss, TupleTableSlot *slot, ItemPointer tid)
{
	slot->tts_tid = *tid;
	slot->tts_tableOid = RelationGetRelid(ss->ss_currentRelation);
	return slot;
}

/* column = value, with the equality of the index column's operator family */
void
ScanEqualityKey(ScanKey key, Relation index, int column, Oid type, Datum value, int flags)
{
	ScanComparisonKey(key, index, column, type, BTEqualStrategyNumber, value, flags);
}

/* column <op> value, op the strategy's of the index column's family */
void
ScanComparisonKey(ScanKey key, Relation index, int column, Oid type, StrategyNumber strategy,
				  Datum value, int flags)
{
	Oid			opfamily = index->rd_opfamily[column];
	Oid			opno = get_opfamily_member(opfamily, type, type, strategy);

	if (!OidIsValid(opno))
		elog(ERROR, "no operator of strategy %d for type %u in operator family %u",
			 strategy, type, opfamily);
	ScanKeyEntryInitialize(key, flags, column + 1, strategy, type,
						   index->rd_indcollation[column], get_opcode(opno), value);
}

int
ScanCompareTimes(TimestampTz a, TimestampTz b)
{
	return a < b ? -1 : a > b ? 1 : 0;
}

/* An index read in the query's order: forwards, or backwards. */
ScanDirection
ScanDirectionFor(bool query_descending, bool index_descending)
{
	return query_descending == index_descending ? ForwardScanDirection : BackwardScanDirection;
}

static int
CompareTids(const void *a, const void *b)
{
	return ItemPointerCompare((ItemPointer) a, (ItemPointer) b);
}

/* Sort TIDs, for ScanTidIn. */
void
ScanSortTids(ItemPointerData *tids, int n)
{
	qsort(tids, n, sizeof(ItemPointerData), CompareTids);
}

/* Is tid among these n sorted TIDs? */
bool
ScanTidIn(const ItemPointerData *tids, int n, ItemPointer tid)
{
	return n > 0 && bsearch(tid, tids, n, sizeof(ItemPointerData), CompareTids) != NULL;
}

/* ------------------------------------------------------------------------
 * Bounds of the ordering column (a page of a listing: created_at < $1)
 * ------------------------------------------------------------------------
 */

/* Neither of the relation nor volatile: a value fixed for the scan. */
static bool
IsScanConstant(PlannerInfo *root, Node *value, Index relid)
{
	return !bms_is_member(relid, pull_varnos(root, value)) &&
		!contain_volatile_functions(value);
}

/*
 * The strategy of column OP value in clause, as a bound: an operator of
 * opfamily comparing type with type, the column on either side, or a row
 * comparison led by the column ((column, x) < (value, y) bounds the column
 * by <= value).  0 when clause is no such bound; *value its value.
 */
static StrategyNumber
BoundOf(PlannerInfo *root, Node *clause, Index relid, AttrNumber attnum, Oid opfamily,
		Oid type, Expr **value)
{
	Oid			opno;
	Node	   *left;
	Node	   *right;
	int			strategy;
	Oid			lefttype;
	Oid			righttype;
	bool		row = false;

	if (IsA(clause, OpExpr) && list_length(((OpExpr *) clause)->args) == 2)
	{
		opno = ((OpExpr *) clause)->opno;
		left = linitial(((OpExpr *) clause)->args);
		right = lsecond(((OpExpr *) clause)->args);
	}
	else if (IsA(clause, RowCompareExpr))
	{
		RowCompareExpr *rc = (RowCompareExpr *) clause;

		opno = linitial_oid(rc->opnos);
		left = linitial(rc->largs);
		right = linitial(rc->rargs);
		row = true;
	}
	else
		return 0;
	if (!row && ScanColumnIs(right, relid, attnum) && !ScanColumnIs(left, relid, attnum))
	{
		Node	   *swap = left;

		left = right;
		right = swap;
		opno = get_commutator(opno);
		if (!OidIsValid(opno))
			return 0;
	}
	if (!ScanColumnIs(left, relid, attnum) || !IsScanConstant(root, right, relid) ||
		!op_in_opfamily(opno, opfamily))
		return 0;
	get_op_opfamily_properties(opno, opfamily, false, &strategy, &lefttype, &righttype);
	if (lefttype != type || righttype != type)
		return 0;
	if (row)
	{
		/* the later columns decide at the leading column's value */
		if (strategy == BTLessStrategyNumber)
			strategy = BTLessEqualStrategyNumber;
		else if (strategy == BTGreaterStrategyNumber)
			strategy = BTGreaterEqualStrategyNumber;
		else if (strategy == BTEqualStrategyNumber)
			return 0;
	}
	*value = (Expr *) copyObject(right);
	return (StrategyNumber) strategy;
}

/*
 * The bounds the query's own quals put on the timestamptz column: their
 * values and, in *strategies, their strategies (column OP value).  Only
 * quals that may be applied before the row-level security quals (leakproof
 * operators) are taken, as the planner takes index quals.  *used: their
 * RestrictInfos.
 */
static List *
FindBounds(PlannerInfo *root, RelOptInfo *rel, AttrNumber attnum, Oid opfamily,
		   List **strategies, List **used)
{
	List	   *values = NIL;
	ListCell   *lc;

	*strategies = NIL;
	*used = NIL;
	foreach(lc, rel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		Expr	   *value = NULL;
		StrategyNumber strategy;

		if (rinfo->pseudoconstant || !restriction_is_securely_promotable(rinfo, rel))
			continue;
		strategy = BoundOf(root, (Node *) rinfo->clause, rel->relid, attnum, opfamily,
						   TIMESTAMPTZOID, &value);
		if (strategy == 0)
			continue;
		values = lappend(values, value);
		*strategies = lappend_int(*strategies, strategy);
		*used = lappend(*used, rinfo);
	}
	return values;
}

/* Tighten an upper (upper) or lower bound of the range by value. */
static void
Tighten(ScanTimeRange *range, bool upper, TimestampTz value, bool strict)
{
	bool	   *has = upper ? &range->has_upper : &range->has_lower;
	TimestampTz *bound = upper ? &range->upper : &range->lower;
	bool	   *bound_strict = upper ? &range->upper_strict : &range->lower_strict;
	int			c = *has ? ScanCompareTimes(value, *bound) : 0;

	if (!*has || (upper ? c < 0 : c > 0))
	{
		*has = true;
		*bound = value;
		*bound_strict = strict;
	}
	else if (c == 0)
		*bound_strict = *bound_strict || strict;
}

/* How many of the plan's custom_exprs are the bounds' values (the first). */
static int
BoundCount(CustomScan *cscan)
{
	return list_length(llast(cscan->custom_private));
}

/* The bounds' values, ready to evaluate (ScanEvalTimeRange). */
List *
ScanInitBounds(CustomScanState *node)
{
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;

	return ExecInitExprList(list_copy_head(cscan->custom_exprs, BoundCount(cscan)), &node->ss.ps);
}

/*
 * The implied quals (ScanMakePlan), ready to test on a row read other
 * than from the scan's arms, the calls of the principal's functions in
 * them evaluated now, once (PrincipalCallsAsConstants); NULL if there are
 * none.
 */
ExprState *
ScanInitImplied(CustomScanState *node)
{
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;

	return ExecInitQual(PrincipalCallsAsConstants(list_copy_tail(cscan->custom_exprs, BoundCount(cscan)),
												  node->ss.ps.ps_ExprContext),
						&node->ss.ps);
}

/*
 * Does the row in slot pass the implied quals (NULL: none)?  The row is
 * copied into the scan's own slot first and tested there, in the scan's
 * per-row memory (reset first): the quals are compiled for that slot, a
 * virtual one, whose values they read without deforming a tuple.
 */
bool
ScanPassesImplied(CustomScanState *node, ExprState *implied, TupleTableSlot *slot)
{
	ExprContext *econtext = node->ss.ps.ps_ExprContext;

	if (implied == NULL)
		return true;
	ResetExprContext(econtext);
	econtext->ecxt_scantuple = ExecCopySlot(node->ss.ss_ScanTupleSlot, slot);
	return ExecQual(implied, econtext);
}

/*
 * The range of the ordering column's values the plan's bounds allow, their
 * values (value_states, from ScanInitBounds) evaluated now.  A NULL value,
 * or bounds that cross, allow no row (range->empty).
 */
void
ScanEvalTimeRange(CustomScanState *node, List *value_states, ScanTimeRange *range)
{
	List	   *strategies = llast(((CustomScan *) node->ss.ps.plan)->custom_private);
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	ListCell   *lv;
	ListCell   *ls;

	memset(range, 0, sizeof(*range));
	forboth(lv, value_states, ls, strategies)
	{
		bool		isnull;
		Datum		d = ExecEvalExprSwitchContext(lfirst(lv), econtext, &isnull);
		StrategyNumber strategy = lfirst_int(ls);
		TimestampTz value;

		if (isnull)
		{
			range->empty = true;
			return;
		}
		value = DatumGetTimestampTz(d);
		if (strategy != BTGreaterStrategyNumber && strategy != BTGreaterEqualStrategyNumber)
			Tighten(range, true, value, strategy == BTLessStrategyNumber);
		if (strategy != BTLessStrategyNumber && strategy != BTLessEqualStrategyNumber)
			Tighten(range, false, value, strategy == BTGreaterStrategyNumber);
	}
	if (range->has_upper && range->has_lower)
	{
		int			c = ScanCompareTimes(range->lower, range->upper);

		range->empty = c > 0 || (c == 0 && (range->lower_strict || range->upper_strict));
	}
}

/*
 * The key on the index column where a read in the query's order starts
 * (start) or stops: the range's upper bound for a descending order, its
 * lower bound for an ascending one.  False if the range has no such bound.
 */
bool
ScanTimeRangeKey(ScanKey key, Relation index, int column, const ScanTimeRange *range,
				 bool descending, bool start)
{
	bool		upper = descending == start;

	if (!(upper ? range->has_upper : range->has_lower))
		return false;
	if (upper)
		ScanComparisonKey(key, index, column, TIMESTAMPTZOID,
						  range->upper_strict ? BTLessStrategyNumber : BTLessEqualStrategyNumber,
						  TimestampTzGetDatum(range->upper), 0);
	else
		ScanComparisonKey(key, index, column, TIMESTAMPTZOID,
						  range->lower_strict ? BTGreaterStrategyNumber :
						  BTGreaterEqualStrategyNumber,
						  TimestampTzGetDatum(range->lower), 0);
	return true;
}

/* The range's keys on the index column, start then stop, into keys: how many. */
int
ScanTimeRangeKeys(ScanKey keys, Relation index, int column, const ScanTimeRange *range,
				  bool descending)
{
	int			n = 0;

	if (ScanTimeRangeKey(&keys[n], index, column, range, descending, true))
		n++;
	if (ScanTimeRangeKey(&keys[n], index, column, range, descending, false))
		n++;
	return n;
}

/* For EXPLAIN: the bounds, as "column OP value AND ...". */
void
ScanExplainBounds(CustomScanState *node, List *ancestors, ExplainState *es, const char *column)
{
	static const char *const ops[] = {"", "<", "<=", "=", ">=", ">"};
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	List	   *strategies = llast(cscan->custom_private);
	List	   *context;
	StringInfoData text;
	ListCell   *lv;
	ListCell   *ls;

	if (strategies == NIL)
		return;
	context = set_deparse_context_plan(es->deparse_cxt, &cscan->scan.plan, ancestors);
	initStringInfo(&text);
	forboth(lv, cscan->custom_exprs, ls, strategies)
		appendStringInfo(&text, "%s%s %s %s", text.len > 0 ? " AND " : "", column,
						 ops[lfirst_int(ls)],
						 deparse_expression(lfirst(lv), context, false, false));
	ExplainPropertyText("Bounds", text.data, es);
}

/* For EXPLAIN: the implied quals, under label, as a filter is shown. */
void
ScanExplainImplied(CustomScanState *node, List *ancestors, ExplainState *es, const char *label)
{
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	List	   *implied = list_copy_tail(cscan->custom_exprs, BoundCount(cscan));
	List	   *context;

	if (implied == NIL)
		return;
	context = set_deparse_context_plan(es->deparse_cxt, &cscan->scan.plan, ancestors);
	ExplainPropertyText(label,
						deparse_expression((Node *) make_ands_explicit(implied), context,
										   es->verbose, false), es);
}
