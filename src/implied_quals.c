/*-------------------------------------------------------------------------
 * implied_quals.c
 *		Bitmap heap scans that do not test the read policy's OR again.
 *
 * A read policy of several arms (crm_objects': the whole tenant, the
 * organisation's objects, the collaborations, the submissions) is served
 * by a BitmapOr of one index scan per arm, each arm's index condition
 * exactly equivalent to the arm (policy_support.c: lossy = false).  The
 * bitmap heap scan then returns rows of the arms only, yet PostgreSQL
 * tests the policy's OR again on every row: it drops a qual that the index
 * conditions imply only when the qual calls no function that is not
 * IMMUTABLE (create_bitmap_scan_plan), and the arms are STABLE.  A scan of
 * one arm has no such test: an index clause is not tested again
 * (create_indexscan_plan), whatever its functions.
 *
 * The planner hook here does for the OR what PostgreSQL does for one arm.
 * It drops an OR from a bitmap heap scan's filter when every arm of the
 * bitmap's condition (its Recheck Cond: the clauses its index scans
 * serve, as written, and the predicates of partial indexes) holds, as one
 * of its conjuncts, an arm of the OR that an index serves exactly: a
 * membership call of the policy (policy_support.c) or a bigint equality
 * of a column and a parameter or a constant.  A row of an exact bitmap
 * page matched one arm's index condition; a row of a page flagged for
 * recheck (lossy, or an index that asks for it) is tested against the
 * Recheck Cond, which holds the arms themselves; either way the row
 * passes the OR.  As for any index condition, an arm's ids are those of
 * the principal in force when the scan starts (or starts again, on a
 * rescan), as in a scan of one arm; a row tested again also passes the
 * arms of the principal in force then.  Every other qual stays.
 *
 * The same hook answers the whole-tenant arm in the filters of scans of a
 * table: reads_whole_tenant(id, reads) returns reads (policy_support.c),
 * null only where id is null (it is STRICT), so where id is a NOT NULL
 * column of the scanned table the call is replaced by its argument reads,
 * the policy's initplan parameter.  A scan of the whole tenant (an
 * admin's aggregate) then reads one parameter a row instead of calling a
 * function.  Dropping the column's NOT NULL invalidates the plan, which
 * depends on the table.
 *
 * Then the principal's initplans nothing reads any more are taken out of
 * the plan (unread_initplans.c).
 *
 * introw.implied_quals (superuser) turns all three off for the statements
 * planned after, to compare.
 *-------------------------------------------------------------------------
 */
#include "introw.h"

#include "catalog/namespace.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/plannodes.h"
#include "optimizer/optimizer.h"
#include "optimizer/planner.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

bool		implied_quals_enabled = true;
static planner_hook_type prev_planner = NULL;

/*
 * Is clause an arm an index serves exactly: a membership call of the
 * policy, or column = parameter (or constant) of bigints?
 */
static bool
ServedExactly(Node *clause)
{
	Node	   *key;
	OpExpr	   *op = (OpExpr *) clause;
	Node	   *left;
	Node	   *right;

	if (PolicyArmOf(clause, &key) != TEST_UNKNOWN)
		return true;
	if (!IsA(clause, OpExpr) || get_opcode(op->opno) != F_INT8EQ || list_length(op->args) != 2)
		return false;
	left = linitial(op->args);
	right = lsecond(op->args);
	if (IsA(right, Var))
	{
		Node	   *swap = left;

		left = right;
		right = swap;
	}
	return IsA(left, Var) && (IsA(right, Param) || IsA(right, Const));
}

/* Is one of these conjuncts (an AND flattened) an arm of the OR? */
static bool
HoldsArm(List *conjuncts, List *arms)
{
	ListCell   *lc;

	foreach(lc, conjuncts)
	{
		Node	   *conjunct = lfirst(lc);

		if (is_andclause(conjunct))
		{
			if (HoldsArm(((BoolExpr *) conjunct)->args, arms))
				return true;
		}
		else if (list_member(arms, conjunct) && ServedExactly(conjunct))
			return true;
	}
	return false;
}

/* Does every arm of the bitmap's condition hold an arm of the OR? */
static bool
BitmapImplies(List *bitmapqual, BoolExpr *or)
{
	ListCell   *lc;

	if (bitmapqual == NIL)
		return false;			/* every row: nothing implied */
	if (list_length(bitmapqual) != 1 || !is_orclause(linitial(bitmapqual)))
		return HoldsArm(bitmapqual, or->args);
	foreach(lc, ((BoolExpr *) linitial(bitmapqual))->args)
	{
		if (!HoldsArm(list_make1(lfirst(lc)), or->args))
			return false;
	}
	return true;
}

/* Drop from the scan's filter the ORs its bitmap implies. */
static void
DropImpliedQuals(BitmapHeapScan *scan)
{
	List	   *kept = NIL;
	ListCell   *lc;

	foreach(lc, scan->scan.plan.qual)
	{
		Node	   *qual = lfirst(lc);

		if (is_orclause(qual) && BitmapImplies(scan->bitmapqualorig, (BoolExpr *) qual))
			continue;
		kept = lappend(kept, qual);
	}
	scan->scan.plan.qual = kept;
}

/* The scan whose filter is answered, and the statement's range table. */
typedef struct ScanOf
{
	List	   *rtable;
	Index		scanrelid;
} ScanOf;

/* Is node a column of the scanned table declared NOT NULL? */
static bool
NotNullColumn(Node *node, ScanOf *scan)
{
	Var		   *var = (Var *) node;
	RangeTblEntry *rte;
	HeapTuple	tuple;
	bool		not_null;

	if (!IsA(node, Var) || var->varno != (int) scan->scanrelid || var->varlevelsup != 0 ||
		var->varattno <= 0)
		return false;
	rte = rt_fetch(var->varno, scan->rtable);
	if (rte->rtekind != RTE_RELATION)
		return false;
	tuple = SearchSysCache2(ATTNUM, ObjectIdGetDatum(rte->relid), Int16GetDatum(var->varattno));
	if (!HeapTupleIsValid(tuple))
		return false;
	not_null = ((Form_pg_attribute) GETSTRUCT(tuple))->attnotnull;
	ReleaseSysCache(tuple);
	return not_null;
}

/*
 * Is funcid the extension's own two-argument arm: STRICT, and the C
 * function that returns its second argument (not a function of the same
 * name someone altered or made)?
 */
static bool
IsWholeTenantArm(Oid funcid)
{
	HeapTuple	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	Form_pg_proc proc;
	bool		isnull;
	Datum		src;
	bool		arm = false;

	if (!HeapTupleIsValid(tuple))
		return false;
	proc = (Form_pg_proc) GETSTRUCT(tuple);
	src = SysCacheGetAttr(PROCOID, tuple, Anum_pg_proc_prosrc, &isnull);
	if (proc->proisstrict && proc->prolang == ClanguageId && !isnull)
	{
		char	   *name = TextDatumGetCString(src);

		arm = strcmp(name, "introw_whole_tenant_arm") == 0;
		pfree(name);
	}
	ReleaseSysCache(tuple);
	return arm;
}

/* reads_whole_tenant(id, reads) of a NOT NULL id becomes reads. */
static Node *
AnswerWholeTenant(Node *node, ScanOf *scan)
{
	Node	   *key;

	if (node == NULL)
		return NULL;
	if (IsA(node, FuncExpr) && list_length(((FuncExpr *) node)->args) == 2 &&
		exprType(lsecond(((FuncExpr *) node)->args)) == BOOLOID &&
		PolicyArmOf(node, &key) == TEST_WHOLE_TENANT && NotNullColumn(key, scan) &&
		IsWholeTenantArm(((FuncExpr *) node)->funcid))
		return AnswerWholeTenant(lsecond(((FuncExpr *) node)->args), scan);
	return expression_tree_mutator(node, AnswerWholeTenant, scan);
}

static void
AnswerScanFilter(Plan *plan, List *rtable)
{
	ScanOf		scan = {rtable, ((Scan *) plan)->scanrelid};

	if (scan.scanrelid > 0)
		plan->qual = (List *) AnswerWholeTenant((Node *) plan->qual, &scan);
}

/*
 * The plans below plan besides its left and right trees: an Append's, a
 * MergeAppend's, a SubqueryScan's, a custom scan's.
 */
List *
PlanChildren(Plan *plan)
{
	switch (nodeTag(plan))
	{
		case T_Append:
			return ((Append *) plan)->appendplans;
		case T_MergeAppend:
			return ((MergeAppend *) plan)->mergeplans;
		case T_SubqueryScan:
			return list_make1(((SubqueryScan *) plan)->subplan);
		case T_CustomScan:
			return ((CustomScan *) plan)->custom_plans;
		default:
			return NIL;
	}
}

/*
 * Call visit on every plan of the statement: its tree and its subplans',
 * each node before the plans below it (PlanChildren, left, right).
 */
static void
WalkPlanTree(Plan *plan, PlanVisitor visit, void *arg)
{
	ListCell   *lc;

	if (plan == NULL)
		return;
	check_stack_depth();
	visit(plan, arg);
	foreach(lc, PlanChildren(plan))
		WalkPlanTree(lfirst(lc), visit, arg);
	WalkPlanTree(plan->lefttree, visit, arg);
	WalkPlanTree(plan->righttree, visit, arg);
}

void
WalkStatementPlans(PlannedStmt *stmt, PlanVisitor visit, void *arg)
{
	ListCell   *lc;

	WalkPlanTree(stmt->planTree, visit, arg);
	foreach(lc, stmt->subplans)
		WalkPlanTree(lfirst(lc), visit, arg);
}

/* The rewrites of a scan of a table (rtable: the statement's). */
static void
RewriteScan(Plan *plan, void *rtable)
{
	switch (nodeTag(plan))
	{
		case T_BitmapHeapScan:
			DropImpliedQuals((BitmapHeapScan *) plan);
			AnswerScanFilter(plan, rtable);
			break;
		case T_SeqScan:
		case T_SampleScan:
		case T_IndexScan:
		case T_TidScan:
		case T_TidRangeScan:
			AnswerScanFilter(plan, rtable);
			break;
		default:
			break;
	}
}

static PlannedStmt *
ImpliedQualsPlanner(Query *parse, const char *query_string, int cursor_options,
					ParamListInfo bound_params)
{
	PlannedStmt *stmt;

	if (prev_planner)
		stmt = prev_planner(parse, query_string, cursor_options, bound_params);
	else
		stmt = standard_planner(parse, query_string, cursor_options, bound_params);
	/* the library may be preloaded in databases without the extension */
	if (implied_quals_enabled && OidIsValid(get_namespace_oid("introw", true)))
	{
		WalkStatementPlans(stmt, RewriteScan, stmt->rtable);
		DropUnreadInitplans(stmt);
	}
	return stmt;
}

/* introw.implied_quals, defined once for this hook and the ordered scan */
void
ImpliedQualsInit(void)
{
	DefineCustomBoolVariable("introw.implied_quals",
							 "Bitmap heap scans do not test again the policy arms their index scans served exactly, and scans read the whole-tenant arm's answer without calling it.",
							 "Off leaves every scan its filter as planned (results are the same).",
							 &implied_quals_enabled, true, PGC_SUSET, 0, NULL, NULL, NULL);
	prev_planner = planner_hook;
	planner_hook = ImpliedQualsPlanner;
}
