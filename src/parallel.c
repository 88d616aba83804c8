/*-------------------------------------------------------------------------
 * parallel.c
 *		The principal in parallel workers.
 *
 * The visibility functions are PARALLEL SAFE, so a large scan through a
 * read policy may run in parallel workers; each worker needs the leader's
 * principal.  PostgreSQL copies the leader's settings into every worker it
 * starts, and nothing else an extension holds, so the principal travels in
 * one internal setting, introw.parallel_principal:
 *
 *	 - before a parallel plan starts (ExecutorStart), the leader writes its
 *	   principal into the setting;
 *	 - a worker restoring the leader's settings installs it (principal.c),
 *	   and builds its own visibility cache from the tables, under the
 *	   leader's snapshot, as any backend does.
 *
 * Nobody else may write the setting: its check hook refuses every value
 * but the leader's own write and a worker's restore, so SET, set_config(),
 * ALTER ROLE ... SET and the configuration file cannot forge a principal.
 * The leader itself never reads the setting.
 *-------------------------------------------------------------------------
 */
#include "introw.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "utils/guc.h"

static char *parallel_principal = NULL;
static bool writing_parallel_principal = false;
static ExecutorStart_hook_type prev_ExecutorStart = NULL;

static bool
CheckParallelPrincipal(char **newval, void **extra, GucSource source)
{
	if (writing_parallel_principal || InitializingParallelWorker ||
		source == PGC_S_DEFAULT || (*newval != NULL && (*newval)[0] == '\0'))
		return true;
	GUC_check_errcode(ERRCODE_INSUFFICIENT_PRIVILEGE);
	GUC_check_errmsg("introw.parallel_principal cannot be set");
	GUC_check_errhint("Use introw.set_contact() or introw.set_user().");
	return false;
}

/* In a parallel worker: take over the leader's principal. */
static void
AssignParallelPrincipal(const char *newval, void *extra)
{
	int			kind;
	int64		tenant_id;
	int64		id;
	unsigned int outer_user;

	if (!InitializingParallelWorker)
		return;
	if (newval != NULL &&
		sscanf(newval, "%d:" INT64_FORMAT ":" INT64_FORMAT ":%u",
			   &kind, &tenant_id, &id, &outer_user) == 4 &&
		(kind == PRINCIPAL_CONTACT || kind == PRINCIPAL_USER))
		InstallWorkerPrincipal((PrincipalKind) kind, tenant_id, id, (Oid) outer_user);
	else
		InstallWorkerPrincipal(PRINCIPAL_NONE, 0, 0, InvalidOid);
}

/* The leader, before a parallel plan: its principal for the workers. */
static void
WriteParallelPrincipal(void)
{
	const Principal *p = CurrentPrincipal();
	char		value[96];

	if (p->kind == PRINCIPAL_NONE)
		value[0] = '\0';
	else
		snprintf(value, sizeof(value), "%d:" INT64_FORMAT ":" INT64_FORMAT ":%u",
				 (int) p->kind, p->tenant_id, p->id, (unsigned int) p->outer_user);
	if (parallel_principal != NULL && strcmp(parallel_principal, value) == 0)
		return;
	writing_parallel_principal = true;
	PG_TRY();
	{
		(void) set_config_option("introw.parallel_principal", value,
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SET,
								 true, ERROR, false);
	}
	PG_FINALLY();
	{
		writing_parallel_principal = false;
	}
	PG_END_TRY();
}

static void
ParallelExecutorStart(QueryDesc *queryDesc, int eflags)
{
	if (queryDesc->plannedstmt->parallelModeNeeded && !IsInParallelMode() &&
		!IsParallelWorker())
		WriteParallelPrincipal();
	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

void
ParallelDefineSetting(void)
{
	DefineCustomStringVariable("introw.parallel_principal",
							   "Internal: the principal, copied to parallel workers.",
							   "Written by the extension only.",
							   &parallel_principal, "",
							   PGC_USERSET,
							   GUC_NO_SHOW_ALL | GUC_NO_RESET_ALL | GUC_NOT_IN_SAMPLE |
							   GUC_DISALLOW_IN_FILE,
							   CheckParallelPrincipal, AssignParallelPrincipal, NULL);
}

void
ParallelInstallHooks(void)
{
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = ParallelExecutorStart;
}
