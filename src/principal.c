/*-------------------------------------------------------------------------
 * principal.c
 *		Who is asking: the principal, kept in backend memory.
 *
 * The principal is not a GUC, so no SET or set_config() can forge it; only
 * set_contact()/set_user()/reset_principal() change it, and EXECUTE on them
 * is revoked from PUBLIC.  It behaves like a GUC towards transactions:
 *
 *	- is_local => true lasts until the end of the current transaction;
 *	- a change made in a transaction or subtransaction that aborts is
 *	  undone, as for SET;
 *	- a failed set_contact()/set_user() leaves no principal at all, also
 *	  after the abort that the error causes;
 *	- DISCARD ALL and RESET ALL reset it (a pooler's reset query clears it);
 *	- it is bound to the database role that set it: after SET ROLE or SET
 *	  SESSION AUTHORIZATION to another role it is not in force (it is again
 *	  after switching back).
 *
 * The getters consult the visibility cache, so a principal whose row was
 * deleted (or a user deactivated) reads as no principal: fail closed.
 *-------------------------------------------------------------------------
 */
#include "introw.h"

#include "access/xact.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(introw_set_contact);
PG_FUNCTION_INFO_V1(introw_set_user);
PG_FUNCTION_INFO_V1(introw_reset_principal);
PG_FUNCTION_INFO_V1(introw_current_tenant_id);
PG_FUNCTION_INFO_V1(introw_current_contact_id);
PG_FUNCTION_INFO_V1(introw_current_user_id);

/* Values before a (sub)transaction first changed the principal. */
typedef struct SavedPrincipal
{
	SubTransactionId subid;
	Principal	current;
	Principal	session;
	struct SavedPrincipal *next;
} SavedPrincipal;

static Principal current_principal;		/* in force now */
static Principal session_principal;		/* in force after this transaction */
static SavedPrincipal *saved_stack;
static uint64 principal_generation = 1;
static ProcessUtility_hook_type prev_ProcessUtility = NULL;

/* The principal in force: the one set, else the trusted claims' (token.c). */
const Principal *
CurrentPrincipal(void)
{
	if (current_principal.kind == PRINCIPAL_NONE)
		return ClaimsPrincipal();
	return &current_principal;
}

/* Changes whenever the principal in force changes; keys the cache. */
uint64
PrincipalGeneration(void)
{
	if (current_principal.kind == PRINCIPAL_NONE)
		(void) ClaimsPrincipal();
	return principal_generation;
}

/* The principal in force changed other than through SetPrincipal (claims). */
void
PrincipalChanged(void)
{
	principal_generation++;
}

static void
PopSaved(void)
{
	SavedPrincipal *top = saved_stack;

	saved_stack = top->next;
	pfree(top);
}

static void
ForgetSaved(void)
{
	while (saved_stack != NULL)
		PopSaved();
}

/* Remember the values to restore if the current subtransaction aborts. */
static void
SaveForRollback(void)
{
	SubTransactionId subid = GetCurrentSubTransactionId();
	SavedPrincipal *saved;

	if (saved_stack != NULL && saved_stack->subid == subid)
		return;
	saved = MemoryContextAlloc(TopMemoryContext, sizeof(SavedPrincipal));
	saved->subid = subid;
	saved->current = current_principal;
	saved->session = session_principal;
	saved->next = saved_stack;
	saved_stack = saved;
}

void
SetPrincipal(PrincipalKind kind, int64 tenant_id, int64 id, bool is_local)
{
	SaveForRollback();
	current_principal.kind = kind;
	current_principal.tenant_id = tenant_id;
	current_principal.id = id;
	current_principal.outer_user = kind == PRINCIPAL_NONE ? InvalidOid : GetOuterUserId();
	if (!is_local)
		session_principal = current_principal;
	principal_generation++;
}

/*
 * A parallel worker takes over its leader's principal (parallel.c); it
 * has no transaction of its own to roll back.
 */
void
InstallWorkerPrincipal(PrincipalKind kind, int64 tenant_id, int64 id, Oid outer_user)
{
	ForgetSaved();
	memset(&current_principal, 0, sizeof(Principal));
	current_principal.kind = kind;
	current_principal.tenant_id = tenant_id;
	current_principal.id = id;
	current_principal.outer_user = outer_user;
	session_principal = current_principal;
	principal_generation++;
}

/* No principal, now and after any rollback of this transaction. */
void
ClearPrincipalCompletely(void)
{
	ForgetSaved();
	memset(&current_principal, 0, sizeof(Principal));
	memset(&session_principal, 0, sizeof(Principal));
	principal_generation++;
}

static void
PrincipalXactCallback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PREPARE:
			ForgetSaved();
			if (memcmp(&current_principal, &session_principal, sizeof(Principal)) != 0)
			{
				current_principal = session_principal;
				principal_generation++;
			}
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			if (saved_stack != NULL)
			{
				while (saved_stack->next != NULL)
					PopSaved();
				current_principal = saved_stack->session;
				session_principal = saved_stack->session;
				PopSaved();
				principal_generation++;
			}
			else if (memcmp(&current_principal, &session_principal, sizeof(Principal)) != 0)
			{
				current_principal = session_principal;
				principal_generation++;
			}
			break;
		default:
			break;
	}
}

static void
PrincipalSubXactCallback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	if (saved_stack == NULL || saved_stack->subid != mySubid)
		return;
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		current_principal = saved_stack->current;
		session_principal = saved_stack->session;
		PopSaved();
		principal_generation++;
	}
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		if (saved_stack->next != NULL && saved_stack->next->subid == parentSubid)
			PopSaved();			/* the parent's saved values are older */
		else
			saved_stack->subid = parentSubid;
	}
}

/* DISCARD ALL and RESET ALL also reset the principal, like a setting. */
static void
PrincipalProcessUtility(PlannedStmt *pstmt, const char *queryString,
						bool readOnlyTree, ProcessUtilityContext context,
						ParamListInfo params, QueryEnvironment *queryEnv,
						DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;
	bool		resets = (IsA(stmt, DiscardStmt) &&
						  ((DiscardStmt *) stmt)->target == DISCARD_ALL) ||
		(IsA(stmt, VariableSetStmt) &&
		 ((VariableSetStmt *) stmt)->kind == VAR_RESET_ALL);

	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context,
							params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
	if (resets && current_principal.kind != PRINCIPAL_NONE)
		SetPrincipal(PRINCIPAL_NONE, 0, 0, false);
}

void
PrincipalInstallHooks(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = PrincipalProcessUtility;
}

void
PrincipalRegisterCallbacks(void)
{
	RegisterXactCallback(PrincipalXactCallback, NULL);
	RegisterSubXactCallback(PrincipalSubXactCallback, NULL);
}

static void
CheckArguments(FunctionCallInfo fcinfo, const char *what)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
	{
		ClearPrincipalCompletely();
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s and is_local must not be NULL", what),
				 errdetail("No principal is set now.")));
	}
}

Datum
introw_set_contact(PG_FUNCTION_ARGS)
{
	int64		contact_id;
	int64		tenant_id;
	int64		org_id;
	int64		role_id;
	bool		has_role;
	bool		restricted;

	CheckArguments(fcinfo, "contact_id");
	contact_id = PG_GETARG_INT64(0);
	if (!CachedPrincipalTenant(PRINCIPAL_CONTACT, contact_id, &tenant_id) &&
		!LookupContact(contact_id, &tenant_id, &org_id, &has_role, &role_id, &restricted))
	{
		ClearPrincipalCompletely();
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("partner contact " INT64_FORMAT " does not exist", contact_id),
				 errdetail("No principal is set now.")));
	}
	SetPrincipal(PRINCIPAL_CONTACT, tenant_id, contact_id, PG_GETARG_BOOL(1));
	PG_RETURN_VOID();
}

Datum
introw_set_user(PG_FUNCTION_ARGS)
{
	int64		user_id;
	int64		tenant_id;
	AccessKind	access;
	bool		active;

	CheckArguments(fcinfo, "user_id");
	user_id = PG_GETARG_INT64(0);
	if (CachedPrincipalTenant(PRINCIPAL_USER, user_id, &tenant_id))
		active = true;
	else if (!LookupUser(user_id, &tenant_id, &access, &active))
	{
		ClearPrincipalCompletely();
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("internal user " INT64_FORMAT " does not exist", user_id),
				 errdetail("No principal is set now.")));
	}
	if (!active)
	{
		ClearPrincipalCompletely();
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("internal user " INT64_FORMAT " is not active", user_id),
				 errdetail("No principal is set now.")));
	}
	SetPrincipal(PRINCIPAL_USER, tenant_id, user_id, PG_GETARG_BOOL(1));
	PG_RETURN_VOID();
}

Datum
introw_reset_principal(PG_FUNCTION_ARGS)
{
	SetPrincipal(PRINCIPAL_NONE, 0, 0, false);
	PG_RETURN_VOID();
}

Datum
introw_current_tenant_id(PG_FUNCTION_ARGS)
{
	const VisibilityCache *cache = GetVisibilityCache();

	if (cache->access == ACCESS_NONE)
		PG_RETURN_NULL();
	PG_RETURN_INT64(cache->tenant_id);
}

Datum
introw_current_contact_id(PG_FUNCTION_ARGS)
{
	const VisibilityCache *cache = GetVisibilityCache();

	if (cache->access != ACCESS_CONTACT)
		PG_RETURN_NULL();
	PG_RETURN_INT64(cache->principal_id);
}

Datum
introw_current_user_id(PG_FUNCTION_ARGS)
{
	const VisibilityCache *cache = GetVisibilityCache();

	if (cache->access == ACCESS_NONE || cache->access == ACCESS_CONTACT)
		PG_RETURN_NULL();
	PG_RETURN_INT64(cache->principal_id);
}
