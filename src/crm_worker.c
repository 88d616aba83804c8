/*-------------------------------------------------------------------------
 * crm_worker.c
 *		The CRM role-sync background workers and their settings.
 *
 * A static "launcher" worker, registered when the library is preloaded,
 * is connected to no database (it starts on standbys too, and idles there).  It sleeps on its latch for
 * introw.crm_naptime (woken early at the commit of introw.crm_sync_now()),
 * idles while the server is in recovery (a standby), reloads settings on
 * SIGHUP and exits on SIGTERM.  When awake on a primary it starts one
 * short-lived "run" worker connected to introw.database and waits for it;
 * the run worker syncs every due CRM connection (crm_sync.c) and exits.
 * Because no process stays connected to the database between runs, and a
 * run gives up within a tick when someone waits to drop its database,
 * neither DROP DATABASE nor DROP EXTENSION is ever blocked by the sync.
 * The postmaster restarts the launcher after a crash (bgw_restart_time).
 *-------------------------------------------------------------------------
 */
#include "introw.h"

#include "access/xact.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/wait_event.h"

PG_FUNCTION_INFO_V1(introw_crm_wake_at_commit);

/* Settings (see README) */
char	   *crm_database = NULL;
int			crm_naptime = 60;			/* s */
int			crm_timeout = 30000;		/* ms per request */
int			crm_page_size = 100;
int			crm_max_response_kb = 16384;
int			crm_min_interval = 250;		/* ms between requests (< 5/s) */
int			crm_overlap = 60;			/* s re-read before the watermark */
int			crm_max_retries = 5;

typedef struct CrmShared
{
	pid_t		launcher_pid;
	Latch	   *launcher_latch;
} CrmShared;

static CrmShared *crm_shared = NULL;
static shmem_request_hook_type prev_shmem_request = NULL;
static shmem_startup_hook_type prev_shmem_startup = NULL;
static bool wake_requested = false;	/* by this transaction */

PGDLLEXPORT void introw_crm_launcher_main(Datum arg);
PGDLLEXPORT void introw_crm_run_main(Datum arg);

void
CrmDefineSettings(void)
{
	DefineCustomStringVariable("introw.database",
							   "Database in which the CRM sync worker runs.",
							   NULL, &crm_database, "postgres", PGC_SIGHUP, 0,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("introw.crm_naptime",
							"Seconds the CRM sync worker sleeps between runs.",
							NULL, &crm_naptime, 60, 1, 86400, PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("introw.crm_timeout",
							"Time limit of one CRM request.",
							NULL, &crm_timeout, 30000, 100, 600000, PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("introw.crm_page_size",
							"Contacts asked for per CRM search request (HubSpot allows 200).",
							NULL, &crm_page_size, 100, 1, 200, PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("introw.crm_max_response",
							"Largest CRM response body accepted.",
							NULL, &crm_max_response_kb, 16384, 64, 1048576, PGC_SIGHUP, GUC_UNIT_KB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("introw.crm_min_interval",
							"Least time between two CRM requests (HubSpot allows 5 searches per second).",
							NULL, &crm_min_interval, 250, 0, 60000, PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("introw.crm_overlap",
							"Seconds re-read before the watermark (recent CRM edits reach search late).",
							NULL, &crm_overlap, 60, 0, 86400, PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("introw.crm_max_retries",
							"Retries of a request that failed with 429, 5xx or a transport error.",
							NULL, &crm_max_retries, 5, 0, 100, PGC_SIGHUP, 0,
							NULL, NULL, NULL);
}

static void
CrmShmemRequest(void)
{
	if (prev_shmem_request)
		prev_shmem_request();
	RequestAddinShmemSpace(MAXALIGN(sizeof(CrmShared)));
}

static void
CrmShmemStartup(void)
{
	bool		found;

	if (prev_shmem_startup)
		prev_shmem_startup();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	crm_shared = ShmemInitStruct("introw crm sync", sizeof(CrmShared), &found);
	if (!found)
		memset(crm_shared, 0, sizeof(CrmShared));
	LWLockRelease(AddinShmemInitLock);
}

/* Called from _PG_init while shared_preload_libraries are loaded. */
void
CrmRegisterWorker(void)
{
	BackgroundWorker worker;

	prev_shmem_request = shmem_request_hook;
	shmem_request_hook = CrmShmemRequest;
	prev_shmem_startup = shmem_startup_hook;
	shmem_startup_hook = CrmShmemStartup;

	memset(&worker, 0, sizeof(worker));
	/* connected to no database (so that it shows in pg_stat_activity) */
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_ConsistentState;
	worker.bgw_restart_time = 5;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "introw_roles");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "introw_crm_launcher_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "introw crm sync launcher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "introw crm sync launcher");
	RegisterBackgroundWorker(&worker);
}

/*
 * Should a run stop now?  Someone is dropping (or renaming) our database
 * when an AccessShareLock on it cannot be had at once.
 */
bool
CrmShouldStop(void)
{
	LOCKTAG		tag;
	LockAcquireResult res;

	if (!OidIsValid(MyDatabaseId) || IsBackgroundWorker == false)
		return false;
	SET_LOCKTAG_OBJECT(tag, InvalidOid, DatabaseRelationId, MyDatabaseId, 0);
	res = LockAcquire(&tag, AccessShareLock, true, true);
	if (res == LOCKACQUIRE_NOT_AVAIL)
		return true;
	LockRelease(&tag, AccessShareLock, true);
	return false;
}

/* Start one run worker and wait for it to finish. */
static void
RunOnce(void)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	pid_t		pid;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "introw_roles");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "introw_crm_run_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "introw crm sync");
	snprintf(worker.bgw_type, BGW_MAXLEN, "introw crm sync");
	strlcpy(worker.bgw_extra, crm_database, BGW_EXTRALEN);
	worker.bgw_notify_pid = MyProcPid;

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		ereport(LOG, (errmsg("introw: could not start a CRM sync run: no background worker slot free"),
					  errhint("Raise max_worker_processes.")));
		return;
	}
	if (WaitForBackgroundWorkerStartup(handle, &pid) != BGWH_STARTED)
		return;
	pgstat_report_activity(STATE_RUNNING, "waiting for a CRM sync run");
	(void) WaitForBackgroundWorkerShutdown(handle);
	pfree(handle);
}

void
introw_crm_launcher_main(Datum arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	crm_shared->launcher_pid = MyProcPid;
	crm_shared->launcher_latch = MyLatch;

	for (;;)
	{
		pgstat_report_activity(STATE_IDLE, RecoveryInProgress() ? "standby: idle" : "sleeping");
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 crm_naptime * 1000L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (RecoveryInProgress())
			continue;			/* a standby syncs nothing */
		RunOnce();
	}
}

void
introw_crm_run_main(Datum arg)
{
	char		dbname[BGW_EXTRALEN];

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	strlcpy(dbname, MyBgworkerEntry->bgw_extra, sizeof(dbname));
	BackgroundWorkerInitializeConnection(dbname, NULL, 0);
	pgstat_report_appname("introw crm sync");
	CrmSyncDueConnections();
	proc_exit(0);
}

/* Wake the launcher when a transaction that asked for a sync commits. */
static void
WakeAtCommit(XactEvent event, void *arg)
{
	if (!wake_requested)
		return;
	if (event == XACT_EVENT_COMMIT && crm_shared != NULL && crm_shared->launcher_latch != NULL)
		SetLatch(crm_shared->launcher_latch);
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE)
		wake_requested = false;
}

void
CrmRegisterCallbacks(void)
{
	RegisterXactCallback(WakeAtCommit, NULL);
}

/* SQL: introw.crm_worker_wake_at_commit(); true when a launcher runs. */
Datum
introw_crm_wake_at_commit(PG_FUNCTION_ARGS)
{
	wake_requested = true;
	PG_RETURN_BOOL(crm_shared != NULL && crm_shared->launcher_latch != NULL);
}
