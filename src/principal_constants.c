/*-------------------------------------------------------------------------
 * principal_constants.c
 *		The principal's values as constants in scans compiled by JIT.
 *
 * A read policy takes the principal's tenant, its contact id and whether
 * it reads the whole tenant from initplans, (SELECT
 * introw.current_tenant_id()) and the like: each is called once an
 * execution, and one plan serves every principal.  A scan's filter then
 * reads them as parameters on every row.  Interpreted, a parameter costs
 * about what a constant costs; compiled by JIT (a scan large enough: an
 * admin's or a CRM user's whole pipeline), a parameter is a call on every
 * row where a constant is written into the code, and the policy's
 * "$1 OR ..." is tested on every row where the constant decides it once.
 *
 * So, in a plan compiled by JIT, a sequential scan whose filter reads
 * initplans of the principal compiles its filter again on its first call,
 * with their values as constants and an AND, OR or NOT they decide
 * reduced; a Gather whose workers run such a scan sends them that filter,
 * in a copy of its child plan, on its first call (the plan itself is
 * cached and shared, and EXPLAIN shows it: the copy is put back once the
 * workers have it).
 *
 * What a statement sees does not change:
 *	 - the initplans run at the scan's first call, just before its filter
 *	   reads its first row, or when the Gather starts its workers, which is
 *	   when the Gather evaluates them itself; they have no parameters of
 *	   their own, so they never run again.  They also run where PostgreSQL
 *	   would not have run them (an empty table; an initplan the filter
 *	   skips, the contact's id once the whole tenant is read): EXPLAIN
 *	   ANALYZE shows them run;
 *	 - only the extension's own C functions of the principal are
 *	   recognised (by address): they read the principal in force and have
 *	   no side effects, so running one sooner in the same run returns the
 *	   same answer;
 *	 - a filter holding a subplan is left as it is.
 *
 * Their Result nodes project by the interpreter: running one must not
 * emit the statement's compiled code before the new filters join it (one
 * compilation for the statement where possible, not one more a scan).
 *
 * introw.principal_constants (superuser, default on) turns it off for the
 * executions that start after.
 *-------------------------------------------------------------------------
 */
#include "introw.h"

#include "access/parallel.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "executor/executor.h"
#include "executor/nodeSubplan.h"
#include "jit/jit.h"
#include "lib/ilist.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

static bool principal_constants_enabled = true;
static ExecutorStart_hook_type prev_ExecutorStart = NULL;

/* A statement's initplans of the principal. */
typedef struct Inlining
{
	EState	   *estate;
	Bitmapset  *params;			/* the parameters they set */
	List	   *initplans;		/* their SubPlanStates */
	int			scans;			/* scans given a first call */
} Inlining;

/* A node whose first call compiles or sends the filters again. */
typedef struct FirstCall
{
	dlist_node	node;
	PlanState  *ps;
	ExecProcNodeMtd real;		/* the node's own ExecProcNode */
	Inlining   *inl;
	bool		done;			/* called once */
} FirstCall;

/* The nodes wrapped, of every execution in progress. */
static dlist_head first_calls = DLIST_STATIC_INIT(first_calls);

/* the functions of the principal (principal.c, visibility.c) */
extern Datum introw_current_tenant_id(PG_FUNCTION_ARGS);
extern Datum introw_current_contact_id(PG_FUNCTION_ARGS);
extern Datum introw_current_user_id(PG_FUNCTION_ARGS);
extern Datum introw_current_reads_whole_tenant(PG_FUNCTION_ARGS);

/* Is funcid one of the extension's C functions of the principal? */
bool
IsPrincipalFunction(Oid funcid)
{
	HeapTuple	tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	bool		in_c;
	FmgrInfo	flinfo;

	if (!HeapTupleIsValid(tuple))
		return false;
	in_c = ((Form_pg_proc) GETSTRUCT(tuple))->prolang == ClanguageId &&
		((Form_pg_proc) GETSTRUCT(tuple))->pronargs == 0;
	ReleaseSysCache(tuple);
	if (!in_c)
		return false;
	fmgr_info(funcid, &flinfo);
	return flinfo.fn_addr == introw_current_tenant_id ||
		flinfo.fn_addr == introw_current_contact_id ||
		flinfo.fn_addr == introw_current_user_id ||
		flinfo.fn_addr == introw_current_reads_whole_tenant;
}

/*
 * Is sstate an initplan (SELECT f()) of such a function, of no parameters
 * of its own (so never evaluated again), not run yet?
 */
static bool
IsPrincipalInitplan(SubPlanState *sstate, EState *estate)
{
	SubPlan    *subplan = sstate->subplan;
	FuncExpr   *call = InitplanCall(subplan, sstate->planstate ? sstate->planstate->plan : NULL);

	return call != NULL &&
		estate->es_param_exec_vals[linitial_int(subplan->setParam)].execPlan == sstate &&
		IsPrincipalFunction(call->funcid);
}

static bool
FindInitplans(PlanState *ps, Inlining *inl)
{
	ListCell   *lc;

	if (ps == NULL)
		return false;
	foreach(lc, ps->initPlan)
	{
		SubPlanState *sstate = lfirst_node(SubPlanState, lc);

		if (IsPrincipalInitplan(sstate, inl->estate))
		{
			PlanState  *result = sstate->planstate;

			inl->params = bms_add_member(inl->params, linitial_int(sstate->subplan->setParam));
			inl->initplans = lappend(inl->initplans, sstate);
			/* interpreted: running it must not emit the statement's code */
			result->ps_ProjInfo = ExecBuildProjectionInfo(result->plan->targetlist,
														  result->ps_ExprContext,
														  result->ps_ResultTupleSlot,
														  NULL, NULL);
		}
	}
	return planstate_tree_walker(ps, FindInitplans, inl);
}

/* The PARAM_EXEC ids an expression reads. */
static bool
ParamsOf(Node *node, Bitmapset **params)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXEC)
		*params = bms_add_member(*params, ((Param *) node)->paramid);
	return expression_tree_walker(node, ParamsOf, params);
}

/* The parameters of params a sequential scan's filter reads (none: NULL). */
static Bitmapset *
FilterReads(Plan *plan, Bitmapset *params)
{
	Bitmapset  *read = NULL;

	if (!IsA(plan, SeqScan))
		return NULL;
	if (plan->qual == NIL || contain_subplans((Node *) plan->qual))
		return NULL;
	ParamsOf((Node *) plan->qual, &read);
	read = bms_int_members(read, params);
	return bms_is_empty(read) ? NULL : read;
}

/* An AND, OR or NOT some of whose arguments are now constants, reduced. */
static Node *
Reduce(BoolExpr *expr)
{
	bool		is_and = expr->boolop == AND_EXPR;
	List	   *args = NIL;
	ListCell   *lc;

	if (expr->boolop == NOT_EXPR)
	{
		Node	   *arg = linitial(expr->args);

		if (IsA(arg, Const) && !((Const *) arg)->constisnull)
			return makeBoolConst(!DatumGetBool(((Const *) arg)->constvalue), false);
		return (Node *) expr;
	}
	foreach(lc, expr->args)
	{
		Node	   *arg = lfirst(lc);

		if (!IsA(arg, Const) || ((Const *) arg)->constisnull)
			args = lappend(args, arg);
		else if (DatumGetBool(((Const *) arg)->constvalue) != is_and)
			return makeBoolConst(!is_and, false);	/* true decides an OR */
		/* else: false in an OR, true in an AND, drops out */
	}
	if (args == NIL)
		return makeBoolConst(is_and, false);
	if (list_length(args) == 1)
		return linitial(args);
	expr->args = args;
	return (Node *) expr;
}

/*
 * What becomes a constant: the parameters of params, their values read
 * from values; with econtext, the calls f() of the principal's functions,
 * evaluated there.
 */
typedef struct Substitution
{
	Bitmapset  *params;
	ParamExecData *values;
	ExprContext *econtext;
} Substitution;

static Node *
ConstantOf(Oid type, int32 typmod, Oid collation, Datum value, bool isnull)
{
	int16		typlen;
	bool		typbyval;

	get_typlenbyval(type, &typlen, &typbyval);
	return (Node *) makeConst(type, typmod, collation, typlen,
							  isnull ? (Datum) 0 : datumCopy(value, typbyval, typlen),
							  isnull, typbyval);
}

static Node *
WithConstantsMutator(Node *node, Substitution *sub)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXEC &&
		bms_is_member(((Param *) node)->paramid, sub->params))
	{
		Param	   *param = (Param *) node;
		ParamExecData *prm = &sub->values[param->paramid];

		return ConstantOf(param->paramtype, param->paramtypmod, param->paramcollid,
						  prm->value, prm->isnull);
	}
	if (sub->econtext != NULL && IsA(node, FuncExpr) && ((FuncExpr *) node)->args == NIL &&
		IsPrincipalFunction(((FuncExpr *) node)->funcid))
	{
		FuncExpr   *call = (FuncExpr *) node;
		bool		isnull;
		Datum		value = ExecEvalExprSwitchContext(ExecInitExpr((Expr *) call, NULL),
													  sub->econtext, &isnull);

		return ConstantOf(call->funcresulttype, -1, call->funccollid, value, isnull);
	}
	node = expression_tree_mutator(node, WithConstantsMutator, sub);
	if (IsA(node, BoolExpr))
		return Reduce((BoolExpr *) node);
	return node;
}

/* A filter (implicit AND) with the values of params, which have run. */
static List *
WithConstants(List *qual, Bitmapset *params, EState *estate)
{
	Substitution sub = {params, estate->es_param_exec_vals, NULL};
	Node	   *explicit = (Node *) make_ands_explicit(qual);

	return make_ands_implicit((Expr *) WithConstantsMutator(explicit, &sub));
}

/*
 * A filter (implicit AND) whose calls f() of the principal's functions are
 * evaluated now, in econtext, and become constants, the AND, OR and NOT
 * they decide reduced: as the initplans (SELECT f()) the planner would
 * have made of them, each evaluated once (ordered_scan.c, whose test of
 * the rows it reads instead of its arms has the calls in their place).
 */
List *
PrincipalCallsAsConstants(List *qual, ExprContext *econtext)
{
	Substitution sub = {NULL, NULL, econtext};
	Node	   *explicit = (Node *) make_ands_explicit(qual);

	return make_ands_implicit((Expr *) WithConstantsMutator(explicit, &sub));
}

/* Run the initplans that set params and have not run. */
static void
RunInitplans(Bitmapset *params, Inlining *inl)
{
	ExprContext *econtext = GetPerTupleExprContext(inl->estate);
	ListCell   *lc;

	foreach(lc, inl->initplans)
	{
		SubPlanState *sstate = lfirst_node(SubPlanState, lc);
		int			paramid = linitial_int(sstate->subplan->setParam);

		if (bms_is_member(paramid, params) &&
			inl->estate->es_param_exec_vals[paramid].execPlan != NULL)
			ExecSetParamPlan(sstate, econtext);
	}
}

/*
 * ps's entry.  The node's own ExecProcNode goes back in place of the
 * wrapper; where another module wrapped the node after this one, its
 * wrapper keeps calling this one, which then passes the call on.
 */
static FirstCall *
FirstCallOf(PlanState *ps, ExecProcNodeMtd wrapper)
{
	dlist_iter	iter;

	dlist_foreach(iter, &first_calls)
	{
		FirstCall  *fc = dlist_container(FirstCall, node, iter.cur);

		if (fc->ps != ps)
			continue;
		if (ps->ExecProcNodeReal == wrapper)
		{
			if (ps->ExecProcNode == wrapper)
				ps->ExecProcNode = fc->real;
			ps->ExecProcNodeReal = fc->real;
		}
		return fc;
	}
	elog(ERROR, "introw: no first call registered for a plan node");
	return NULL;				/* keep compiler quiet */
}

/* A scan's first call: its filter compiled with the principal's values. */
static TupleTableSlot *
ScanFirstCall(PlanState *ps)
{
	FirstCall  *fc = FirstCallOf(ps, ScanFirstCall);
	EState	   *estate = fc->inl->estate;
	Bitmapset  *read;
	MemoryContext old;

	if (fc->done)
		return fc->real(ps);
	fc->done = true;
	read = FilterReads(ps->plan, fc->inl->params);
	RunInitplans(read, fc->inl);
	old = MemoryContextSwitchTo(estate->es_query_cxt);
	ps->qual = ExecInitQual(WithConstants(ps->plan->qual, read, estate), ps);
	MemoryContextSwitchTo(old);
	return fc->real(ps);
}

/* In a copy of a plan tree, the scans' filters with the values of params. */
static int
PatchPlan(Plan *plan, Bitmapset *params, EState *estate)
{
	ListCell   *lc;
	int			patched = 0;
	Bitmapset  *read;

	if (plan == NULL)
		return 0;
	check_stack_depth();
	read = FilterReads(plan, params);
	if (read != NULL)
	{
		plan->qual = WithConstants(plan->qual, read, estate);
		patched++;
	}
	foreach(lc, PlanChildren(plan))
		patched += PatchPlan(lfirst(lc), params, estate);
	return patched + PatchPlan(plan->lefttree, params, estate) +
		PatchPlan(plan->righttree, params, estate);
}

/*
 * A Gather's first call: where it starts workers, it evaluates the
 * initplans it sends them and sends its child plan; the child plan it
 * sends is a copy with their values in the scans' filters.
 */
static TupleTableSlot *
GatherFirstCall(PlanState *ps)
{
	FirstCall  *fc = FirstCallOf(ps, GatherFirstCall);
	EState	   *estate = fc->inl->estate;
	PlanState  *child = outerPlanState(ps);
	Plan	   *original = child->plan;
	Bitmapset  *sent;
	int			workers;
	TupleTableSlot *slot;

	if (fc->done)
		return fc->real(ps);
	fc->done = true;
	if (IsA(ps, GatherState))
	{
		sent = ((Gather *) ps->plan)->initParam;
		workers = ((Gather *) ps->plan)->num_workers;
	}
	else
	{
		sent = ((GatherMerge *) ps->plan)->initParam;
		workers = ((GatherMerge *) ps->plan)->num_workers;
	}
	sent = bms_intersect(sent, fc->inl->params);
	if (!bms_is_empty(sent) && workers > 0 && estate->es_use_parallel_mode)
	{
		MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);
		Plan	   *copy = copyObject(original);

		RunInitplans(sent, fc->inl);
		if (PatchPlan(copy, sent, estate) > 0)
			child->plan = copy;
		MemoryContextSwitchTo(old);
	}
	PG_TRY();
	{
		slot = fc->real(ps);
	}
	PG_FINALLY();
	{
		child->plan = original;
	}
	PG_END_TRY();
	return slot;
}

/* The execution's state is freed: its nodes leave the list. */
static void
ForgetFirstCalls(void *arg)
{
	dlist_mutable_iter iter;

	dlist_foreach_modify(iter, &first_calls)
	{
		FirstCall  *fc = dlist_container(FirstCall, node, iter.cur);

		if (fc->inl == arg)
			dlist_delete(&fc->node);
	}
}

static void
AddFirstCall(PlanState *ps, ExecProcNodeMtd function, Inlining *inl)
{
	FirstCall  *fc;

	/* a subplan set up twice is walked twice */
	if (ps->ExecProcNodeReal == ScanFirstCall || ps->ExecProcNodeReal == GatherFirstCall)
		return;
	fc = palloc0(sizeof(FirstCall));
	fc->ps = ps;
	fc->real = ps->ExecProcNodeReal;
	fc->inl = inl;
	dlist_push_head(&first_calls, &fc->node);
	ExecSetExecProcNode(ps, function);
}

/* Scans whose filters read the principal, and the Gathers above them. */
static bool
AddFirstCalls(PlanState *ps, Inlining *inl)
{
	int			before = inl->scans;

	if (ps == NULL)
		return false;
	/* every child: the walker stops at the first that returns true */
	planstate_tree_walker(ps, AddFirstCalls, inl);
	if (FilterReads(ps->plan, inl->params) != NULL)
	{
		AddFirstCall(ps, ScanFirstCall, inl);
		inl->scans++;
	}
	else if (inl->scans > before && (IsA(ps, GatherState) || IsA(ps, GatherMergeState)))
		AddFirstCall(ps, GatherFirstCall, inl);
	return false;
}

static void
PrincipalConstantsStart(QueryDesc *queryDesc, int eflags)
{
	EState	   *estate;
	Inlining   *inl;
	MemoryContext old;

	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
	estate = queryDesc->estate;
	if (!principal_constants_enabled || IsParallelWorker() ||
		(eflags & EXEC_FLAG_EXPLAIN_ONLY) || queryDesc->planstate == NULL ||
		!(estate->es_jit_flags & PGJIT_PERFORM) || !(estate->es_jit_flags & PGJIT_EXPR))
		return;
	old = MemoryContextSwitchTo(estate->es_query_cxt);
	inl = palloc0(sizeof(Inlining));
	inl->estate = estate;
	FindInitplans(queryDesc->planstate, inl);
	if (inl->params != NULL)
	{
		MemoryContextCallback *forget = palloc0(sizeof(MemoryContextCallback));

		forget->func = ForgetFirstCalls;
		forget->arg = inl;
		MemoryContextRegisterResetCallback(estate->es_query_cxt, forget);
		AddFirstCalls(queryDesc->planstate, inl);
	}
	MemoryContextSwitchTo(old);
}

void
PrincipalConstantsInit(void)
{
	DefineCustomBoolVariable("introw.principal_constants",
							 "Scans compiled by JIT read the principal's values as constants.",
							 "Off leaves their filters reading the policy's initplans on every row (results are the same).",
							 &principal_constants_enabled, true, PGC_SUSET, 0, NULL, NULL, NULL);
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = PrincipalConstantsStart;
}
