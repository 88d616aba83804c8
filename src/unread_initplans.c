/*-------------------------------------------------------------------------
 * unread_initplans.c
 *		The principal's initplans that nothing reads, taken out of a plan.
 *
 * A read policy writes the principal's values as initplans, (SELECT
 * introw.current_contact_id()) and the like.  PostgreSQL sets up every
 * initplan of a plan at each execution, run or not: a Result node and its
 * projection, the function's permission check.  Where a custom scan of
 * the extension serves the policy's OR by its arms (ordered_scan.c), the
 * OR's calls replace their parameters in the test it keeps for rows read
 * instead (evaluated once, when first needed), and the initplans of the
 * OR are read by nothing: this pass, run by the planner hook
 * (implied_quals.c) on the finished plan, takes them out.
 *
 * An initplan is taken out when all of these hold:
 *	 - an ordered scan of the plan holds the call in place of its parameter
 *	   (OrderedScanCalledParams): an initplan of the query's own stays;
 *	 - it is (SELECT f()), f one of the extension's C functions of the
 *	   principal (principal_constants.c), a Result of one column;
 *	 - no plan node of the statement, its subplans' included, has its
 *	   parameter among the parameters it reads from outside (extParam):
 *	   every node below the one the initplan is attached to that reads it
 *	   would;
 *	 - the node it is attached to does not read it itself: one whose
 *	   expressions are all known here (a Limit, an aggregate, a sort, a
 *	   Result, a Gather, an ordered scan...) whose expressions do not name
 *	   it.  Under any other node it stays.
 * The first condition is needed: finalize_plan() does not put every
 * parameter a node reads in its sets (a WindowAgg's run condition, a
 * ModifyTable's WITH CHECK options).  It leaves its node's list of
 * initplans, and the statement's list of subplans holds NULL in its place,
 * as PostgreSQL's does for a subplan a parallel worker does not run.
 * EXPLAIN no longer shows it.  Were a parameter so taken out read after
 * all, it would read 0 or false, as no principal: no tenant, no contact,
 * not the whole tenant.
 *-------------------------------------------------------------------------
 */
#include "introw.h"

#include "nodes/extensible.h"
#include "nodes/nodeFuncs.h"
#include "nodes/plannodes.h"

/* Does node read the PARAM_EXEC parameter *paramid? */
static bool
ReadsParam(Node *node, int *paramid)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXEC &&
		((Param *) node)->paramid == *paramid)
		return true;
	return expression_tree_walker(node, ReadsParam, paramid);
}

/*
 * Does plan read paramid in its own expressions?  True, to be safe, for
 * a node whose expressions are not all listed here.
 */
static bool
NodeReads(Plan *plan, int paramid)
{
	Node	   *own = NULL;

	switch (nodeTag(plan))
	{
		case T_Limit:
			own = (Node *) list_make2(((Limit *) plan)->limitOffset, ((Limit *) plan)->limitCount);
			break;
		case T_Result:
			own = ((Result *) plan)->resconstantqual;
			break;
		case T_CustomScan:
			/* the extension's own: no expression elsewhere */
			if (strncmp(((CustomScan *) plan)->methods->CustomName, "introw_", 7) != 0)
				return true;
			own = (Node *) ((CustomScan *) plan)->custom_exprs;
			break;
		case T_Agg:
		case T_Sort:
		case T_IncrementalSort:
		case T_Unique:
		case T_Material:
		case T_Gather:
		case T_GatherMerge:
		case T_LockRows:
		case T_SeqScan:
			break;
		default:
			/*
			 * Any other node keeps its initplans: a ModifyTable, for one,
			 * reads its WITH CHECK options' parameters, not in its sets.
			 */
			return true;
	}
	return ReadsParam((Node *) plan->targetlist, &paramid) ||
		ReadsParam((Node *) plan->qual, &paramid) || ReadsParam(own, &paramid);
}


/* What a walk of the plans finds. */
typedef struct Found
{
	Bitmapset  *read;			/* the parameters a node reads from outside it */
	Bitmapset  *called;			/* those an ordered scan holds the calls of */
	List	   *owners;			/* the nodes with initplans */
} Found;

/* What the walk finds in one node. */
static void
Find(Plan *plan, void *arg)
{
	Found	   *found = arg;
	ListCell   *lc;

	found->read = bms_add_members(found->read, plan->extParam);
	foreach(lc, OrderedScanCalledParams(plan))
		found->called = bms_add_member(found->called, lfirst_int(lc));
	if (plan->initPlan != NIL)
		found->owners = lappend(found->owners, plan);
}

/* Is initplan (SELECT f()), f a function of the principal? */
static bool
IsPrincipalInitplan(PlannedStmt *stmt, SubPlan *initplan)
{
	FuncExpr   *call = InitplanCall(initplan, list_nth(stmt->subplans, initplan->plan_id - 1));

	return call != NULL && IsPrincipalFunction(call->funcid);
}

/* Take out of stmt the initplans the ordered scans call that nothing reads. */
void
DropUnreadInitplans(PlannedStmt *stmt)
{
	Found		found = {NULL, NULL, NIL};
	ListCell   *lo;

	WalkStatementPlans(stmt, Find, &found);
	if (bms_is_empty(found.called))
		return;
	foreach(lo, found.owners)
	{
		Plan	   *owner = lfirst(lo);
		List	   *kept = NIL;
		ListCell   *li;

		foreach(li, owner->initPlan)
		{
			SubPlan    *initplan = lfirst_node(SubPlan, li);

			if (IsPrincipalInitplan(stmt, initplan) &&
				bms_is_member(linitial_int(initplan->setParam), found.called) &&
				!bms_is_member(linitial_int(initplan->setParam), found.read) &&
				!NodeReads(owner, linitial_int(initplan->setParam)))
				lfirst(list_nth_cell(stmt->subplans, initplan->plan_id - 1)) = NULL;
			else
				kept = lappend(kept, initplan);
		}
		owner->initPlan = kept;
	}
}
