/*-------------------------------------------------------------------------
 * policy_support.c
 *		The read policies' membership tests and their planner support.
 *
 * A read policy arm such as "tab_id may be seen" is written as a call,
 * introw.can_see_tab(tab_id), and not as tab_id = ANY (array): the planner
 * hashes only constant arrays, so an array computed at run time is searched
 * element by element for every row a filter looks at.  The calls here look
 * a value up in a copy of the principal's ids kept for the statement (a
 * bitmap over their range when they are dense, else a binary search of the
 * sorted ids), and their support function, introw.policy_support, tells
 * the planner two things:
 *
 *	 - an index condition exactly equivalent to the call (lossy = false):
 *	   tab_id = ANY (introw.visible_tab_ids()), or for the whole-tenant arm
 *	   object_id BETWEEN whole_tenant_from() AND whole_tenant_to(), so
 *	   that every arm can still be served from an index, BitmapOr
 *	   included.  reads_whole_tenant(id, reads) answers its argument: the
 *	   range is offered for the policy's own argument (the initplan of
 *	   current_reads_whole_tenant(), recognised in the plan) and for a
 *	   constant, and for nothing else;
 *	 - a selectivity computed from the principal planning the statement
 *	   (how many ids it holds), so that a contact's listing is planned as a
 *	   contact's and an admin's as an admin's.  visibility_cache.c resets
 *	   the plan cache when the kind of principal changes, so a plan made
 *	   for one kind is not reused for another.
 *
 * Estimates never change what a statement returns: only the calls decide.
 *-------------------------------------------------------------------------
 */
#include "introw.h"
#include "scans.h"

#include "access/stratnum.h"
#include "catalog/pg_am.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/supportnodes.h"
#include "optimizer/optimizer.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/selfuncs.h"
#include "utils/syscache.h"

PG_FUNCTION_INFO_V1(introw_policy_support);
PG_FUNCTION_INFO_V1(introw_can_see_tab);
PG_FUNCTION_INFO_V1(introw_reads_whole_tenant);
PG_FUNCTION_INFO_V1(introw_whole_tenant_arm);
PG_FUNCTION_INFO_V1(introw_reads_org_objects);
PG_FUNCTION_INFO_V1(introw_collaborates_on);

static PolicyTest PolicyTestOf(Oid funcid);

/*
 * What one call site remembers between rows (fn_extra).  The principal's
 * ids are searched as a bitmap over their range when they are dense (one
 * bit per id of the range, at most DENSE_BITS_PER_ID bits per id held: an
 * internal user's tabs or organisations), else as a sorted array.
 */
typedef struct MembershipMemo
{
	SnapshotState state;		/* the statement it was taken for */
	uint64		generation;		/* principal generation */
	Oid			outer_user;
	bool		whole_tenant;
	ArrayType  *ids;			/* sorted copy in fn_mcxt, or NULL */
	uint64	   *bits;			/* or this bitmap in fn_mcxt ... */
	int64		low;			/* ... of the ids low .. low + span - 1 */
	uint64		span;
} MembershipMemo;

#define DENSE_BITS_PER_ID 64
#define DENSE_MIN_IDS 8

static ArrayType *
TestIds(const VisibilityCache *cache, PolicyTest test)
{
	switch (test)
	{
		case TEST_TAB:
			return cache->tab_ids;
		case TEST_ORG_OBJECTS:
			return cache->object_org_ids;
		case TEST_COLLABORATION:
			return cache->collab_object_ids;
		default:
			return NULL;
	}
}

/* Keep the ids (sorted, no NULLs) in the memo, as a bitmap if dense. */
static void
MemoIds(MembershipMemo *memo, ArrayType *ids, MemoryContext cxt)
{
	int			n = ArrayGetNItems(ARR_NDIM(ids), ARR_DIMS(ids));
	int64	   *data = (int64 *) ARR_DATA_PTR(ids);
	uint64		range;
	int			i;

	if (n >= DENSE_MIN_IDS)
	{
		range = (uint64) data[n - 1] - (uint64) data[0];
		if (range < (uint64) n * DENSE_BITS_PER_ID)
		{
			memo->low = data[0];
			memo->span = range + 1;
			memo->bits = MemoryContextAllocZero(cxt, (memo->span + 63) / 64 * sizeof(uint64));
			for (i = 0; i < n; i++)
			{
				uint64		offset = (uint64) data[i] - (uint64) memo->low;

				if (offset >= memo->span)
					break;		/* not sorted after all: keep the array */
				memo->bits[offset / 64] |= UINT64CONST(1) << (offset % 64);
			}
			if (i == n)
				return;
			pfree(memo->bits);
			memo->bits = NULL;
		}
	}
	memo->ids = MemoryContextAlloc(cxt, VARSIZE(ids));
	memcpy(memo->ids, ids, VARSIZE(ids));
}

static bool
MemoContains(const MembershipMemo *memo, int64 id)
{
	if (memo->bits != NULL)
	{
		/* below low wraps around to a large offset */
		uint64		offset = (uint64) id - (uint64) memo->low;

		return offset < memo->span && (memo->bits[offset / 64] >> (offset % 64)) & 1;
	}
	return memo->ids != NULL && SortedInt64ArrayContains(memo->ids, id);
}

/*
 * The call site's memo, valid for the statement being run: the first row
 * of a scan reads the cache (and validates it), the others reuse the copy
 * for as long as the statement's snapshot and the principal are the same.
 * A statement's snapshot does not change while it runs, so a scan judges
 * every row by the rules in force when it started, as an initplan would.
 */
static MembershipMemo *
Memo(FunctionCallInfo fcinfo, PolicyTest test)
{
	MembershipMemo *memo = (MembershipMemo *) fcinfo->flinfo->fn_extra;
	const VisibilityCache *cache;

	if (memo != NULL && memo->generation == PrincipalGeneration() &&
		memo->outer_user == GetOuterUserId() && StatementStateHolds(&memo->state))
		return memo;

	if (memo == NULL)
		memo = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(MembershipMemo));
	else
	{
		if (memo->ids != NULL)
			pfree(memo->ids);
		if (memo->bits != NULL)
			pfree(memo->bits);
	}
	memo->ids = NULL;
	memo->bits = NULL;
	fcinfo->flinfo->fn_extra = memo;

	cache = GetVisibilityCache();
	memo->whole_tenant = CacheReadsWholeTenant(cache);
	if (TestIds(cache, test) != NULL)
		MemoIds(memo, TestIds(cache, test), fcinfo->flinfo->fn_mcxt);
	/* after the cache call: building it may have taken a new snapshot */
	SnapshotStateOf(StatementSnapshot(), &memo->state);
	memo->generation = PrincipalGeneration();
	memo->outer_user = GetOuterUserId();
	return memo;
}

static Datum
MembershipTest(FunctionCallInfo fcinfo, PolicyTest test)
{
	MembershipMemo *memo = Memo(fcinfo, test);

	PG_RETURN_BOOL(MemoContains(memo, PG_GETARG_INT64(0)));
}

/* May the principal see this tab?  (introw.can_see_tab) */
Datum
introw_can_see_tab(PG_FUNCTION_ARGS)
{
	return MembershipTest(fcinfo, TEST_TAB);
}

/* Does the principal read the CRM objects of this organisation? */
Datum
introw_reads_org_objects(PG_FUNCTION_ARGS)
{
	return MembershipTest(fcinfo, TEST_ORG_OBJECTS);
}

/* Does the contact principal collaborate on this CRM object? */
Datum
introw_collaborates_on(PG_FUNCTION_ARGS)
{
	return MembershipTest(fcinfo, TEST_COLLABORATION);
}

/*
 * Does the principal read every row of its tenant (admin, member)?  The
 * argument is the row's id: it only lets the planner use the id's index
 * (the range whole_tenant_from()..whole_tenant_to()).
 */
Datum
introw_reads_whole_tenant(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(Memo(fcinfo, TEST_WHOLE_TENANT)->whole_tenant);
}

/*
 * The same arm from version 1.4 on, reads_whole_tenant(id, reads): the
 * policy passes (SELECT introw.current_reads_whole_tenant()) as reads,
 * evaluated once per statement, and the answer is that argument, so a row
 * costs one call and no memo check.  The id only serves the planner, as
 * above.
 */
Datum
introw_whole_tenant_arm(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PG_GETARG_BOOL(1));
}

/* ------------------------------------------------------------------------
 * Planner support
 * ------------------------------------------------------------------------
 */

/*
 * Is node a call of one of the arms, with its arguments (one, the key; the
 * whole-tenant arm also two: the key and the answer)?  Which, and the key.
 */
PolicyTest
PolicyArmOf(Node *node, Node **key)
{
	FuncExpr   *call = (FuncExpr *) node;
	PolicyTest	test;

	if (!IsA(node, FuncExpr) || call->args == NIL)
		return TEST_UNKNOWN;
	test = PolicyTestOf(call->funcid);
	if (list_length(call->args) != 1 &&
		!(test == TEST_WHOLE_TENANT && list_length(call->args) == 2))
		return TEST_UNKNOWN;
	*key = linitial(call->args);
	return test;
}

/* Which membership test is this function? */
static PolicyTest
PolicyTestOf(Oid funcid)
{
	char	   *name;
	PolicyTest	test = TEST_UNKNOWN;

	if (get_func_namespace(funcid) != IntrowNamespace())
		return TEST_UNKNOWN;
	name = get_func_name(funcid);
	if (name == NULL)
		return TEST_UNKNOWN;
	if (strcmp(name, "can_see_tab") == 0)
		test = TEST_TAB;
	else if (strcmp(name, "reads_org_objects") == 0)
		test = TEST_ORG_OBJECTS;
	else if (strcmp(name, "collaborates_on") == 0)
		test = TEST_COLLABORATION;
	else if (strcmp(name, "reads_whole_tenant") == 0)
		test = TEST_WHOLE_TENANT;
	pfree(name);
	return test;
}

/*
 * The function introw.<name>() (no arguments), or InvalidOid.  Looked up in
 * the catalog, not by name resolution: the planner asks on behalf of the
 * querying role, which may read a table of schema introw through a view
 * without the right to look names up in the schema.
 */
static Oid
IntrowFunction(const char *name)
{
	return GetSysCacheOid3(PROCNAMEARGSNSP, Anum_pg_proc_oid, CStringGetDatum(name),
						   PointerGetDatum(buildoidvector(NULL, 0)),
						   ObjectIdGetDatum(IntrowNamespace()));
}

/* A call of introw.<name>() (no arguments), for an index condition. */
static Expr *
IntrowCall(const char *name, Oid result_type)
{
	Oid			funcid = IntrowFunction(name);

	if (!OidIsValid(funcid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("function introw.%s() does not exist", name),
				 errhint("Update the extension \"introw_roles\".")));
	return (Expr *) makeFuncExpr(funcid, result_type, NIL, InvalidOid, InvalidOid,
								 COERCE_EXPLICIT_CALL);
}

static Expr *
Comparison(Oid opfamily, int strategy, Node *key, Expr *value)
{
	Oid			opno = get_opfamily_member(opfamily, INT8OID, INT8OID, strategy);

	if (!OidIsValid(opno))
		return NULL;
	return make_opclause(opno, BOOLOID, false, (Expr *) copyObject(key), value,
						 InvalidOid, InvalidOid);
}

/* key = ANY (array), with the bigint equality of the operator family */
static Expr *
AnyOf(Oid opfamily, Node *key, Expr *array)
{
	Oid			eq = get_opfamily_member(opfamily, INT8OID, INT8OID, BTEqualStrategyNumber);
	ScalarArrayOpExpr *saop;

	if (!OidIsValid(eq))
		return NULL;
	saop = makeNode(ScalarArrayOpExpr);
	saop->opno = eq;
	saop->opfuncid = get_opcode(eq);
	saop->hashfuncid = InvalidOid;
	saop->negfuncid = InvalidOid;
	saop->useOr = true;
	saop->inputcollid = InvalidOid;
	saop->args = list_make2(copyObject(key), array);
	saop->location = -1;
	return (Expr *) saop;
}

/*
 * The call f() of initplan (SELECT f()), f of no arguments, plan its plan:
 * a Result of that one column, with no input, filter, parameters or
 * initplans of its own; NULL for any other initplan.
 */
FuncExpr *
InitplanCall(SubPlan *initplan, Plan *plan)
{
	TargetEntry *result;

	if (plan == NULL || initplan->subLinkType != EXPR_SUBLINK ||
		list_length(initplan->setParam) != 1 || initplan->parParam != NIL ||
		initplan->args != NIL)
		return NULL;
	if (!IsA(plan, Result) || plan->lefttree != NULL || plan->qual != NIL ||
		((Result *) plan)->resconstantqual != NULL || plan->initPlan != NIL ||
		!bms_is_empty(plan->extParam) || list_length(plan->targetlist) != 1)
		return NULL;
	result = linitial_node(TargetEntry, plan->targetlist);
	if (!IsA(result->expr, FuncExpr) || ((FuncExpr *) result->expr)->args != NIL)
		return NULL;
	return (FuncExpr *) result->expr;
}

/*
 * The call f() of the initplan (SELECT f()) of this query level whose
 * output node is, f a function of no arguments; NULL when node is not such
 * an output.
 */
FuncExpr *
PolicyInitplanCall(PlannerInfo *root, Node *node)
{
	Param	   *param = (Param *) node;
	ListCell   *lc;

	if (!IsA(node, Param) || param->paramkind != PARAM_EXEC)
		return NULL;
	foreach(lc, root->init_plans)
	{
		SubPlan    *initplan = lfirst_node(SubPlan, lc);

		if (list_member_int(initplan->setParam, param->paramid))
			return InitplanCall(initplan, planner_subplan_get_plan(root, initplan));
	}
	return NULL;
}

/*
 * Is node the output of the initplan (SELECT introw.<function>()) of this
 * query level, as the read policies write their identity helpers?  For
 * current_reads_whole_tenant, the answer the policy passes the
 * whole-tenant arm: then it is what whole_tenant_from() and
 * whole_tenant_to() say too, both from the principal's cache for the
 * statement.
 */
bool
PolicyInitplanOf(PlannerInfo *root, Node *node, const char *function)
{
	FuncExpr   *call = PolicyInitplanCall(root, node);

	return call != NULL && call->funcid == IntrowFunction(function);
}

/*
 * Does the relation have another plain btree index whose first column is
 * column indexcol of index, with the same operator family?  (An id's own
 * unique index, next to the tenant's (tenant_id, id) key.)
 */
static bool
HasIndexLedBy(IndexOptInfo *index, int indexcol)
{
	AttrNumber	attno = index->indexkeys[indexcol];
	ListCell   *lc;

	if (attno == 0)
		return false;			/* an expression */
	foreach(lc, index->rel->indexlist)
	{
		IndexOptInfo *other = lfirst_node(IndexOptInfo, lc);

		if (other != index && ScanIndexLeads(other, &attno, 1) &&
			other->opfamily[0] == index->opfamily[indexcol])
			return true;
	}
	return false;
}

/*
 * The index condition equivalent to a call: key = ANY (ids()) for the
 * membership tests, key BETWEEN whole_tenant_from() AND whole_tenant_to()
 * for the whole-tenant one (the two-argument form: the policy's answer, or
 * a constant's whole or empty range).  Only for a btree column of bigint.
 *
 * key = ANY (ids()) is not offered on a later column of an index when
 * another index leads with the key.  Each id is a descent of the index:
 * one led by the key compares one column at each level, one led by
 * tenant_id two; and the planner, which cannot know how many ids a
 * function's array holds, counts ten descents, so it may prefer the wider
 * index for an index-only scan that costs more than fetching the rows.
 */
static List *
IndexCondition(SupportRequestIndexCondition *req, PolicyTest test)
{
	Node	   *key;
	Expr	   *any;

	if (PolicyArmOf(req->node, &key) != test || req->indexarg != 0 ||
		req->index->relam != BTREE_AM_OID || exprType(key) != INT8OID)
		return NIL;
	if (test != TEST_WHOLE_TENANT && req->indexcol > 0 &&
		HasIndexLedBy(req->index, req->indexcol))
		return NIL;

	if (test == TEST_WHOLE_TENANT)
	{
		List	   *args = ((FuncExpr *) req->node)->args;
		Node	   *reads = list_length(args) == 2 ? lsecond(args) : NULL;
		Expr	   *from;
		Expr	   *to;

		if (reads == NULL || PolicyInitplanOf(req->root, reads, "current_reads_whole_tenant"))
		{
			from = IntrowCall("whole_tenant_from", INT8OID);
			to = IntrowCall("whole_tenant_to", INT8OID);
		}
		else if (IsA(reads, Const))
		{
			bool		all = !((Const *) reads)->constisnull &&
				DatumGetBool(((Const *) reads)->constvalue);

			from = (Expr *) makeConst(INT8OID, -1, InvalidOid, sizeof(int64),
									  Int64GetDatum(all ? PG_INT64_MIN : 1), false,
									  FLOAT8PASSBYVAL);
			to = (Expr *) makeConst(INT8OID, -1, InvalidOid, sizeof(int64),
									Int64GetDatum(all ? PG_INT64_MAX : 0), false,
									FLOAT8PASSBYVAL);
		}
		else
			return NIL;			/* an answer of the caller's own */
		from = Comparison(req->opfamily, BTGreaterEqualStrategyNumber, key, from);
		to = Comparison(req->opfamily, BTLessEqualStrategyNumber, key, to);
		if (from == NULL || to == NULL)
			return NIL;
		req->lossy = false;
		return list_make2(from, to);
	}

	any = AnyOf(req->opfamily, key,
				IntrowCall(test == TEST_TAB ? "visible_tab_ids" :
						   test == TEST_ORG_OBJECTS ? "object_org_ids" :
						   "collab_object_ids", INT8ARRAYOID));
	if (any == NULL)
		return NIL;
	req->lossy = false;
	return list_make1(any);
}

/* Arrays up to this size are estimated value by value (MCVs included). */
#define EXACT_ESTIMATE_LIMIT 100

/*
 * The fraction of rows whose key is one of ids: value by value for a short
 * array, else the number of ids over the column's distinct values.
 */
static Selectivity
ArraySelectivity(SupportRequestSelectivity *req, Node *key, ArrayType *ids)
{
	int			n = ArrayGetNItems(ARR_NDIM(ids), ARR_DIMS(ids));
	VariableStatData vardata;
	bool		isdefault;
	double		ndistinct;

	if (n == 0)
		return 0.0;
	if (n <= EXACT_ESTIMATE_LIMIT)
	{
		Expr	   *any = AnyOf(INTEGER_BTREE_FAM_OID, key,
									(Expr *) makeConst(INT8ARRAYOID, -1, InvalidOid, -1,
													   PointerGetDatum(ids), false, false));

		return scalararraysel(req->root, (ScalarArrayOpExpr *) any, req->is_join, req->varRelid,
							  req->jointype, req->sjinfo);
	}
	examine_variable(req->root, key, req->varRelid, &vardata);
	ndistinct = get_variable_numdistinct(&vardata, &isdefault);
	ReleaseVariableStats(vardata);
	return Min(1.0, n / Max(ndistinct, 1.0));
}

static Selectivity
TestSelectivity(SupportRequestSelectivity *req, PolicyTest test)
{
	const VisibilityCache *cache = GetVisibilityCache();
	ArrayType  *ids;

	if (test == TEST_WHOLE_TENANT)
	{
		Node	   *reads = list_length(req->args) == 2 ? lsecond(req->args) : NULL;

		if (reads != NULL && IsA(reads, Const))
			return !((Const *) reads)->constisnull && DatumGetBool(((Const *) reads)->constvalue) ?
				1.0 : 0.0;
		return CacheReadsWholeTenant(cache) ? 1.0 : 0.0;
	}
	ids = TestIds(cache, test);
	if (ids == NULL || list_length(req->args) != 1)
		return 0.0;
	return ArraySelectivity(req, (Node *) linitial(req->args), ids);
}

Datum
introw_policy_support(PG_FUNCTION_ARGS)
{
	Node	   *raw = (Node *) PG_GETARG_POINTER(0);

	if (IsA(raw, SupportRequestIndexCondition))
	{
		SupportRequestIndexCondition *req = (SupportRequestIndexCondition *) raw;
		PolicyTest	test = PolicyTestOf(req->funcid);

		if (test != TEST_UNKNOWN)
			PG_RETURN_POINTER(IndexCondition(req, test));
	}
	else if (IsA(raw, SupportRequestSelectivity))
	{
		SupportRequestSelectivity *req = (SupportRequestSelectivity *) raw;
		PolicyTest	test = PolicyTestOf(req->funcid);

		if (test != TEST_UNKNOWN)
		{
			req->selectivity = TestSelectivity(req, test);
			CLAMP_PROBABILITY(req->selectivity);
			PG_RETURN_POINTER(req);
		}
	}
	PG_RETURN_POINTER(NULL);
}
