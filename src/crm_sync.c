/*-------------------------------------------------------------------------
 * crm_sync.c
 *		One run of the CRM role sync: every due connection, page by page.
 *
 * HubSpot's contact search (POST {base_url}/crm/v3/objects/contacts/search)
 * is read with one filter lastmodifieddate >= from, sorted ascending, from
 * the connection's watermark minus introw.crm_overlap.  Each page is applied
 * by introw.crm_apply_contacts() in one transaction together with the
 * advanced watermark and the run's counters, so a crash never leaves half a
 * page applied or the watermark ahead of the data.  A query stops at 10,000
 * results, so a long sync restarts from the last lastmodifieddate seen.
 * Requests are paced (introw.crm_min_interval); 429 waits for Retry-After
 * or backs off; 5xx and transport errors back off exponentially; 401/403
 * stop the connection until its row changes.  Every run leaves one
 * crm_sync_runs row with its counters, HTTP status and error; the access
 * token appears in none of them, nor in the server log.
 *-------------------------------------------------------------------------
 */
#include "introw.h"

#include "access/xact.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#define HUBSPOT_MAX_RESULTS 10000

typedef struct CrmConnection
{
	int64		tenant_id;
	char	   *url;
	char	   *token;
	char	   *role_property;
	bool		has_watermark;
	TimestampTz watermark;
} CrmConnection;

typedef struct RunState
{
	int64		run_id;
	int			http_status;
	char	   *error;			/* NULL: succeeded */
	bool		auth_failed;
} RunState;

static TimestampTz last_request = 0;

/*
 * Begin a transaction with SPI and a snapshot, as worker_spi does.  When the
 * extension is not installed in the database (never, or dropped during this
 * run: DROP EXTENSION never waits for the sync), the run ends here.
 */
static void
BeginWork(const char *activity)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (!OidIsValid(get_extension_oid("introw_roles", true)))
	{
		ereport(DEBUG1,
				(errmsg("introw: extension \"introw_roles\" is not installed in database \"%s\", the CRM sync run ends",
						get_database_name(MyDatabaseId))));
		CommitTransactionCommand();
		proc_exit(0);
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "introw: SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, activity);
}

static void
EndWork(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
}

static char *
CopyText(int row, int col, MemoryContext cxt)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);
	MemoryContext old;
	char	   *s;

	if (isnull)
		return NULL;
	old = MemoryContextSwitchTo(cxt);
	s = TextDatumGetCString(d);
	MemoryContextSwitchTo(old);
	return s;
}

/* Wait on the latch (never sleep()): SIGTERM and postmaster death end us. */
static void
Pause(long ms)
{
	while (ms > 0)
	{
		long		step = Min(ms, 100);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 step, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (CrmShouldStop())
			proc_exit(0);
		ms -= step;
	}
}

/* At most one request per introw.crm_min_interval. */
static void
Pace(void)
{
	long		secs;
	int			usecs;

	if (last_request != 0)
	{
		TimestampDifference(last_request, GetCurrentTimestamp(), &secs, &usecs);
		if (secs * 1000 + usecs / 1000 < crm_min_interval)
			Pause(crm_min_interval - (secs * 1000 + usecs / 1000));
	}
	last_request = GetCurrentTimestamp();
}

static int64
EpochMillis(TimestampTz t)
{
	return t / 1000 + (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * 1000;
}

static char *
SearchBody(const CrmConnection *c, int64 from_ms, const char *after)
{
	StringInfoData b;

	initStringInfo(&b);
	appendStringInfo(&b,
					 "{\"filterGroups\":[{\"filters\":[{\"propertyName\":\"lastmodifieddate\","
					 "\"operator\":\"GTE\",\"value\":\"" INT64_FORMAT "\"}]}],"
					 "\"sorts\":[{\"propertyName\":\"lastmodifieddate\",\"direction\":\"ASCENDING\"}],"
					 "\"properties\":[\"email\",\"lastmodifieddate\",",
					 from_ms);
	escape_json(&b, c->role_property);
	appendStringInfo(&b, "],\"limit\":%d", crm_page_size);
	if (after != NULL)
	{
		appendStringInfoString(&b, ",\"after\":");
		escape_json(&b, after);
	}
	appendStringInfoChar(&b, '}');
	return b.data;
}

/* Own transactions: mark runs a crash left 'running'; list due connections. */
static List *
DueConnections(MemoryContext cxt)
{
	List	   *due = NIL;

	BeginWork("introw: looking for due CRM connections");
	SPI_execute("UPDATE introw.crm_sync_runs SET status = 'failed', finished_at = now(), "
				"error = 'interrupted: the sync worker stopped during this run' "
				"WHERE status = 'running'", false, 0);
	if (SPI_execute("SELECT c.tenant_id, c.base_url, c.access_token, c.role_property, c.watermark "
					"FROM introw.crm_connections c "
					"WHERE c.enabled "
					"  AND NOT (c.auth_failed_at IS NOT NULL AND c.updated_at <= c.auth_failed_at) "
					"  AND (c.sync_requested_at IS NOT NULL "
					"       OR NOT EXISTS (SELECT 1 FROM introw.crm_sync_runs r "
					"                      WHERE r.tenant_id = c.tenant_id "
					"                        AND r.started_at > now() - c.poll_interval)) "
					"ORDER BY c.tenant_id", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "introw: listing CRM connections failed");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);
		CrmConnection *c = palloc0(sizeof(CrmConnection));
		bool		isnull;
		char	   *base;

		MemoryContextSwitchTo(old);
		c->tenant_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		base = CopyText(i, 2, cxt);
		c->token = CopyText(i, 3, cxt);
		c->role_property = CopyText(i, 4, cxt);
		c->watermark = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 5, &isnull));
		c->has_watermark = !isnull;
		old = MemoryContextSwitchTo(cxt);
		c->url = psprintf("%s/crm/v3/objects/contacts/search",
						  base[strlen(base) - 1] == '/' ? pnstrdup(base, strlen(base) - 1) : base);
		due = lappend(due, c);
		MemoryContextSwitchTo(old);
	}
	EndWork();
	return due;
}

static int64
StartRun(const CrmConnection *c)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(c->tenant_id)};
	bool		isnull;
	int64		run_id;

	BeginWork("introw: starting a CRM sync run");
	SPI_execute_with_args("UPDATE introw.crm_connections SET sync_requested_at = NULL "
						  "WHERE tenant_id = $1", 1, types, values, NULL, false, 0);
	if (SPI_execute_with_args("INSERT INTO introw.crm_sync_runs (tenant_id) VALUES ($1) RETURNING run_id",
							  1, types, values, NULL, false, 0) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "introw: could not record a CRM sync run");
	run_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	EndWork();
	return run_id;
}

static void
FinishRun(const CrmConnection *c, const RunState *run)
{
	Oid			types[5] = {INT8OID, INT4OID, TEXTOID, BOOLOID, INT8OID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	values[0] = Int64GetDatum(run->run_id);
	values[1] = Int32GetDatum(run->http_status);
	if (run->http_status == 0)
		nulls[1] = 'n';
	values[2] = run->error ? CStringGetTextDatum(run->error) : (Datum) 0;
	if (run->error == NULL)
		nulls[2] = 'n';
	values[3] = BoolGetDatum(run->auth_failed);
	values[4] = Int64GetDatum(c->tenant_id);
	BeginWork("introw: finishing a CRM sync run");
	SPI_execute_with_args("UPDATE introw.crm_sync_runs SET finished_at = clock_timestamp(), "
						  "status = CASE WHEN $3 IS NULL THEN 'succeeded' ELSE 'failed' END, "
						  "http_status = $2, error = $3 WHERE run_id = $1",
						  5, types, values, nulls, false, 0);
	if (run->auth_failed)
		SPI_execute_with_args("UPDATE introw.crm_connections SET auth_failed_at = now() "
							  "WHERE tenant_id = $5 AND $4",
							  5, types, values, nulls, false, 0);
	EndWork();
}

#define Q_APPLY_PAGE \
	"WITH p AS (SELECT $2::jsonb AS page), " \
	"a AS (SELECT x.* FROM p, introw.crm_apply_contacts($1, p.page, $3) x), " \
	"w AS (UPDATE introw.crm_connections c SET watermark = greatest(c.watermark, a.last_modified) " \
	"      FROM a WHERE c.tenant_id = $1 AND a.last_modified IS NOT NULL RETURNING 1), " \
	"r AS (UPDATE introw.crm_sync_runs x SET pages = x.pages + 1, fetched = x.fetched + a.fetched, " \
	"      applied = x.applied + a.applied, unchanged = x.unchanged + a.unchanged, " \
	"      rejected = x.rejected + a.rejected FROM a WHERE x.run_id = $3 RETURNING 1) " \
	"SELECT p.page #>> '{paging,next,after}', a.fetched, a.last_modified, " \
	"       (SELECT count(*) FROM w) + (SELECT count(*) FROM r) " \
	"FROM p, a"

/*
 * Apply one response body in one transaction.  Returns false (with the
 * error in run) when the body is not a page we can apply.
 */
static bool
ApplyPage(const CrmConnection *c, RunState *run, const char *body,
		  char **next_after, int *fetched, TimestampTz *last_modified,
		  MemoryContext cxt)
{
	MemoryContext caller = CurrentMemoryContext;
	Oid			types[3] = {INT8OID, TEXTOID, INT8OID};
	Datum		values[3] = {Int64GetDatum(c->tenant_id), CStringGetTextDatum(body),
	Int64GetDatum(run->run_id)};
	bool		ok = true;

	PG_TRY();
	{
		bool		isnull;
		Datum		d;

		BeginWork("introw: applying a CRM page");
		if (SPI_execute_with_args(Q_APPLY_PAGE, 3, types, values, NULL, false, 0) != SPI_OK_SELECT ||
			SPI_processed != 1)
			elog(ERROR, "introw: applying a CRM page returned no row");
		*next_after = CopyText(0, 1, cxt);
		*fetched = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);
		*last_modified = isnull ? 0 : DatumGetTimestampTz(d);
		EndWork();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(caller);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		/* the message of a malformed page, never its content */
		run->error = MemoryContextStrdup(cxt, psprintf("CRM page not applied: %s", edata->message));
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

/* Exponential backoff: 1 s, 2 s, 4 s ... at most 60 s. */
static long
BackoffMillis(int attempt)
{
	return Min(60000L, 1000L << Min(attempt, 6));
}

static void
SyncConnection(const CrmConnection *c, MemoryContext cxt)
{
	RunState	run = {0};
	TimestampTz from = 0;
	char	   *after = NULL;
	int			attempt = 0;
	int64		in_query = 0;
	int			pages = 0;
	StringInfoData body;

	run.run_id = StartRun(c);
	if (c->has_watermark)
		from = c->watermark - (TimestampTz) crm_overlap * USECS_PER_SEC;
	initStringInfo(&body);

	for (;;)
	{
		char	   *json = SearchBody(c, from > 0 ? EpochMillis(from) : 0, after);
		char	   *transport_error;
		bool		retryable;
		int			retry_after;
		int			status;
		char	   *next_after = NULL;
		int			fetched = 0;
		TimestampTz page_last = 0;

		CHECK_FOR_INTERRUPTS();
		if (CrmShouldStop())
			proc_exit(0);
		pgstat_report_activity(STATE_RUNNING,
								psprintf("introw: syncing tenant " INT64_FORMAT ", page %d", c->tenant_id, pages + 1));
		Pace();
		resetStringInfo(&body);
		status = HttpPostJson(c->url, c->token, json, crm_timeout,
							  (size_t) crm_max_response_kb * 1024, &body, &retry_after,
							  &transport_error, &retryable);
		CHECK_FOR_INTERRUPTS();
		if (CrmShouldStop())
			proc_exit(0);
		run.http_status = status;

		if (transport_error != NULL && !retryable)
		{
			run.error = transport_error;
			break;
		}
		if (transport_error != NULL || status == 429 || status >= 500)
		{
			if (attempt >= crm_max_retries)
			{
				run.error = transport_error ? transport_error
					: psprintf("HTTP %d after %d retries", status, attempt);
				break;
			}
			Pause(status == 429 && retry_after >= 0 ? retry_after * 1000L : BackoffMillis(attempt));
			attempt++;
			continue;
		}
		if (status == 401 || status == 403)
		{
			run.error = psprintf("HTTP %d: the CRM refused the access token; "
								 "syncing resumes when the connection is changed", status);
			run.auth_failed = true;
			break;
		}
		if (status != 200)
		{
			run.error = psprintf("HTTP %d from the CRM", status);
			break;
		}
		attempt = 0;
		if (!ApplyPage(c, &run, body.data, &next_after, &fetched, &page_last, cxt))
			break;
		pages++;
		in_query += fetched;
		if (next_after == NULL)
			break;				/* last page */
		if (in_query + crm_page_size > HUBSPOT_MAX_RESULTS)
		{
			/* a query yields at most 10,000 results: start again from here */
			if (page_last == 0 || page_last <= from)
			{
				run.error = psprintf("more than %d CRM contacts share one lastmodifieddate",
									 HUBSPOT_MAX_RESULTS);
				break;
			}
			from = page_last;
			after = NULL;
			in_query = 0;
			continue;
		}
		after = next_after;
	}
	FinishRun(c, &run);
}

/* The run worker's body: every due connection of this database. */
void
CrmSyncDueConnections(void)
{
	MemoryContext cxt = AllocSetContextCreate(TopMemoryContext, "introw crm sync",
											  ALLOCSET_DEFAULT_SIZES);
	List	   *due = DueConnections(cxt);
	ListCell   *lc;

	foreach(lc, due)
		SyncConnection((CrmConnection *) lfirst(lc), cxt);
	MemoryContextDelete(cxt);
}
