/*-------------------------------------------------------------------------
 * visibility_epoch.c
 *		Version stamps that tell a cache built under one snapshot whether it
 *		still holds under another.
 *
 * Every statement that changes data visibility depends on (roles, tab
 * limits, rooms, tabs, organisations, internal users, a contact's role or
 * organisation) stamps the tenants it touched in introw.visibility_epochs
 * (scope 0) with a fresh value of the sequence introw.visibility_epoch, in
 * the same transaction.  A change to a contact's collaborations stamps only
 * that contact (scope = contact_id), so that registering a deal neither
 * invalidates the whole tenant nor serialises its writers.  The stamp therefore becomes visible atomically with the
 * change, under exactly the snapshots that see the change: two snapshots
 * that read the same stamp for a tenant see the same visibility data of that
 * tenant.  Sequence values are never reused, so a stamp written by a
 * transaction that rolled back can never be mistaken for a later one.
 *
 * Readers compare the stamp read under the statement's own snapshot with
 * the stamp their cache was built at.  This is exact under READ COMMITTED,
 * REPEATABLE READ, cursors, imported snapshots and on hot standbys (the
 * stamps replicate like any row), and has no window at commit.
 *
 * The same trigger also queues a relcache invalidation of the sequence
 * (the pattern Citus uses for its metadata cache), so that other backends
 * drop stale caches promptly; correctness does not depend on its timing.
 *
 * A BEFORE ... FOR EACH STATEMENT trigger (introw_visibility_changing)
 * marks the transaction as writing visibility data: a snapshot taken
 * inside such a statement (by a volatile function, or a cursor it opens
 * and reads later) may see its rows but not yet its stamp, so no cache is
 * trusted, nor kept for other principals, until the transaction ends; a
 * statement then builds its principal's afresh.  When a principal
 * writes, it also stamps the principal's tenant right away, so that the
 * stamp row is locked before any data row of the statement (writers of one
 * tenant then queue on the stamp instead of deadlocking on it).
 *
 * Reading the stamp is a direct index lookup (no SPI, no row-level
 * security: the table has no policies and is private).  It is skipped when
 * the snapshot is known to see the same data as the one last checked.
 *-------------------------------------------------------------------------
 */
#include "introw.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "parser/parse_relation.h"
#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(introw_visibility_changing);
PG_FUNCTION_INFO_V1(introw_visibility_changed);

static Oid	sentinel_oid = InvalidOid;
static uint64 inval_counter = 1;
static bool written_this_xact = false;	/* visibility data written in this
										 * transaction */

static Oid	IntrowRelation(const char *name);

/*
 * Relcache callback: a (possibly remote, already committed) change to
 * visibility data, or a full cache reset.  Only counts; the caches decide.
 * While the sentinel is unknown every message counts, so none is missed.
 */
static void
EpochRelcacheCallback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || !OidIsValid(sentinel_oid) || relid == sentinel_oid)
	{
		inval_counter++;
		sentinel_oid = InvalidOid;	/* look it up again: it may be dropped */
	}
}

/* The transaction's writes end with it (committed: stamped; aborted: gone). */
static void
EpochXactCallback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT ||
		event == XACT_EVENT_PREPARE)
		written_this_xact = false;
}

void
EpochRegisterCallbacks(void)
{
	CacheRegisterRelcacheCallback(EpochRelcacheCallback, (Datum) 0);
	RegisterXactCallback(EpochXactCallback, NULL);
}

/*
 * Has this transaction written visibility data (a statement running now,
 * and a savepoint rolled back, included)?  Its snapshots may see its own
 * rows without their stamp: no cache is trusted or shared meanwhile.
 */
bool
EpochWrittenThisTransaction(void)
{
	return written_this_xact;
}

/* The stamps table the caches were built against (changes on reinstall). */
Oid
EpochRelation(void)
{
	return IntrowRelation("visibility_epochs");
}

/* Number of sentinel invalidations this backend has received. */
uint64
EpochInvalidations(void)
{
	return inval_counter;
}

Oid
IntrowNamespace(void)
{
	Oid			nsp = get_namespace_oid("introw", true);

	if (!OidIsValid(nsp))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"introw_roles\" is not installed in this database")));
	return nsp;
}

static Oid
IntrowRelation(const char *name)
{
	Oid			relid = get_relname_relid(name, IntrowNamespace());

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("relation \"introw.%s\" is missing", name),
				 errhint("Reinstall the extension \"introw_roles\".")));
	return relid;
}

static Oid
SentinelOid(void)
{
	if (!OidIsValid(sentinel_oid))
		sentinel_oid = IntrowRelation("visibility_epoch");
	return sentinel_oid;
}

/* The snapshot the current statement reads with. */
Snapshot
StatementSnapshot(void)
{
	return ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot();
}

/*
 * Remember what a snapshot sees.  Two MVCC snapshots taken in the same
 * (sub)transaction, with the same command id, the same horizons and as
 * many transactions in progress, see the same rows.  A snapshot's xmax is
 * one past the latest completed transaction (on a standby too, where every
 * id below it is already known to recovery), so a transaction that
 * completed between two snapshots either moved xmax or was in progress
 * for the first one; and no transaction id below xmax can start later.
 * With the same xmax, the in-progress set can only shrink: the same count
 * means the same set.  (PostgreSQL's own completion counter would say the
 * same, but copies of a snapshot, active snapshots among them, reset it.)
 * An overflowed subtransaction list is not counted: never equal then.
 */
void
SnapshotStateOf(Snapshot snap, SnapshotState *state)
{
	state->usable = snap->snapshot_type == SNAPSHOT_MVCC && !snap->suboverflowed;
	state->xmin = snap->xmin;
	state->xmax = snap->xmax;
	state->xcnt = snap->xcnt;
	state->subxcnt = snap->subxcnt;
	state->curcid = snap->curcid;
	state->lxid = MyProc->lxid;
	state->subxid = GetCurrentSubTransactionId();
}

/*
 * Does snap see what the snapshot state was taken from saw?  (As
 * SnapshotStateOf(snap) compared with it, without the copy: policy
 * functions ask this for every row.)
 */
bool
SnapshotStateHolds(Snapshot snap, const SnapshotState *state)
{
	return state->usable &&
		snap->snapshot_type == SNAPSHOT_MVCC && !snap->suboverflowed &&
		snap->xmin == state->xmin && snap->xmax == state->xmax &&
		snap->xcnt == state->xcnt && snap->subxcnt == state->subxcnt &&
		snap->curcid == state->curcid &&
		MyProc->lxid == state->lxid && GetCurrentSubTransactionId() == state->subxid;
}

/* The same for the statement's snapshot. */
bool
StatementStateHolds(const SnapshotState *state)
{
	return SnapshotStateHolds(StatementSnapshot(), state);
}

/*
 * The stamp of (tenant, scope) as the snapshot sees it; 0 when never stamped.
 */
int64
ReadEpoch(int64 tenant_id, int64 scope, Snapshot snap)
{
	Relation	rel = table_open(IntrowRelation("visibility_epochs"), AccessShareLock);
	Relation	idx = index_open(IntrowRelation("visibility_epochs_pkey"), AccessShareLock);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	IndexScanDesc scan;
	ScanKeyData keys[2];
	int64		epoch = 0;

	if (RelationGetDescr(rel)->natts != 3)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("relation \"introw.visibility_epochs\" has an unexpected layout"),
				 errhint("Reinstall the extension \"introw_roles\".")));

	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(tenant_id));
	ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(scope));
	scan = index_beginscan(rel, idx, snap, 2, 0);
	index_rescan(scan, keys, 2, NULL, 0);
	if (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		Datum		d = slot_getattr(slot, 3, &isnull);

		if (!isnull)
			epoch = DatumGetInt64(d);
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(idx, NoLock);
	table_close(rel, NoLock);
	return epoch;
}

/*
 * Stamp the (tenant, scope) pairs a statement touched.  The transition
 * tables are named changed_old and changed_new by the CREATE TRIGGER
 * statements; the first trigger argument, when present, names a narrower
 * rule.
 */
#define STAMP_PREFIX \
	"INSERT INTO introw.visibility_epochs AS e (tenant_id, scope, epoch) " \
	"SELECT t, sc, nextval('introw.visibility_epoch') FROM ("
#define STAMP_SUFFIX \
	") s(t, sc) WHERE t IS NOT NULL AND sc IS NOT NULL ORDER BY t, sc " \
	"ON CONFLICT (tenant_id, scope) DO UPDATE SET epoch = EXCLUDED.epoch"

static const char *
ChangedScopesQuery(TriggerData *trigdata)
{
	Trigger    *trigger = trigdata->tg_trigger;
	TriggerEvent event = trigdata->tg_event;
	const char *rule = trigger->tgnargs > 0 ? trigger->tgargs[0] : "";

	if (strcmp(rule, "collaborators") == 0)
	{
		/* a contact's collaborations: that contact only */
		if (TRIGGER_FIRED_BY_TRUNCATE(event))
			return "SELECT tenant_id, contact_id FROM introw.partner_contacts "
				"UNION SELECT tenant_id, scope FROM introw.visibility_epochs";
		if (TRIGGER_FIRED_BY_INSERT(event))
			return "SELECT DISTINCT tenant_id, contact_id FROM changed_new";
		if (TRIGGER_FIRED_BY_DELETE(event))
			return "SELECT DISTINCT tenant_id, contact_id FROM changed_old";
		return "SELECT tenant_id, contact_id FROM changed_new "
			"UNION SELECT tenant_id, contact_id FROM changed_old";
	}
	if (TRIGGER_FIRED_BY_TRUNCATE(event))
		return "SELECT tenant_id, 0::bigint FROM introw.tenants "
			"UNION SELECT tenant_id, 0::bigint FROM introw.visibility_epochs";
	if (TRIGGER_FIRED_BY_INSERT(event))
		return "SELECT DISTINCT tenant_id, 0::bigint FROM changed_new";
	if (TRIGGER_FIRED_BY_DELETE(event))
		return "SELECT DISTINCT tenant_id, 0::bigint FROM changed_old";
	if (strcmp(rule, "role_or_org") == 0)
		return "SELECT DISTINCT x.t, 0::bigint FROM changed_new n JOIN changed_old o USING (contact_id), "
			"LATERAL (VALUES (n.tenant_id), (o.tenant_id)) x(t) "
			"WHERE n.tenant_id <> o.tenant_id OR n.org_id <> o.org_id "
			"OR n.role_id IS DISTINCT FROM o.role_id";
	return "SELECT tenant_id, 0::bigint FROM changed_new "
		"UNION SELECT tenant_id, 0::bigint FROM changed_old";
}

/* Run a stamping statement as a privileged user, inside SPI. */
static void
RunStamp(const char *sql, int nargs, Oid *argtypes, Datum *values)
{
	(void) PrivilegedExecute(sql, nargs, argtypes, values, NULL, false, SPI_OK_INSERT);
}

static void
CheckStatementTrigger(FunctionCallInfo fcinfo, const char *name, bool after)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" was not called by trigger manager", name)));
	if (!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event) ||
		(after ? !TRIGGER_FIRED_AFTER(trigdata->tg_event) : !TRIGGER_FIRED_BEFORE(trigdata->tg_event)))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" must be fired %s ... FOR EACH STATEMENT",
						name, after ? "AFTER" : "BEFORE")));
}

/*
 * BEFORE ... FOR EACH STATEMENT: the statement's writes are pending until
 * its AFTER trigger; a principal's tenant is stamped before any row lock.
 * The trigger argument "contact_scope" (collaborators) skips the early
 * stamp: those changes stamp single contacts, not the tenant.
 */
Datum
introw_visibility_changing(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const Principal *p = CurrentPrincipal();

	CheckStatementTrigger(fcinfo, "introw.visibility_changing", false);
	written_this_xact = true;
	if (p->kind != PRINCIPAL_NONE && p->outer_user == GetOuterUserId() &&
		!(trigdata->tg_trigger->tgnargs > 0 &&
		  strcmp(trigdata->tg_trigger->tgargs[0], "contact_scope") == 0))
	{
		Oid			argtypes[1] = {INT8OID};
		Datum		values[1] = {Int64GetDatum(p->tenant_id)};

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "introw: SPI_connect failed");
		RunStamp(STAMP_PREFIX "SELECT $1, 0::bigint" STAMP_SUFFIX, 1, argtypes, values);
		SPI_finish();
	}
	return PointerGetDatum(NULL);	/* ignored for statement triggers */
}

static bool
NothingChanged(TriggerData *trigdata)
{
	if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		return false;
	return (trigdata->tg_newtable == NULL || tuplestore_tuple_count(trigdata->tg_newtable) == 0) &&
		(trigdata->tg_oldtable == NULL || tuplestore_tuple_count(trigdata->tg_oldtable) == 0);
}

/*
 * AFTER ... FOR EACH STATEMENT trigger on the tables visibility depends on:
 * stamp what the statement touched, and tell the other backends.
 */
Datum
introw_visibility_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	StringInfoData sql;

	CheckStatementTrigger(fcinfo, "introw.visibility_changed", true);
	if (NothingChanged(trigdata))
		return PointerGetDatum(NULL);

	initStringInfo(&sql);
	appendStringInfo(&sql, "%s%s%s", STAMP_PREFIX, ChangedScopesQuery(trigdata), STAMP_SUFFIX);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "introw: SPI_connect failed");
	if (SPI_register_trigger_data(trigdata) != SPI_OK_TD_REGISTER)
		elog(ERROR, "introw: SPI_register_trigger_data failed");
	RunStamp(sql.data, 0, NULL, NULL);
	SPI_finish();
	pfree(sql.data);

	CacheInvalidateRelcacheByRelid(SentinelOid());
	return PointerGetDatum(NULL);	/* ignored for statement triggers */
}

/*
 * A CRM object's tenant and organisation as the snapshot sees them, by a
 * direct lookup on its unique id (for point checks).  false if not found.
 */
bool
FetchObjectOrg(int64 object_id, Snapshot snap, int64 *tenant_id,
			   bool *has_org, int64 *org_id)
{
	Relation	rel = table_open(IntrowRelation("crm_objects"), AccessShareLock);
	Relation	idx = index_open(IntrowRelation("crm_objects_object_id_key"), AccessShareLock);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	AttrNumber	tenant_att = attnameAttNum(rel, "tenant_id", false);
	AttrNumber	org_att = attnameAttNum(rel, "org_id", false);
	IndexScanDesc scan;
	ScanKeyData key;
	bool		found;

	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(object_id));
	scan = index_beginscan(rel, idx, snap, 1, 0);
	index_rescan(scan, &key, 1, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	if (found)
	{
		bool		isnull;

		*tenant_id = DatumGetInt64(slot_getattr(slot, tenant_att, &isnull));
		*org_id = DatumGetInt64(slot_getattr(slot, org_att, &isnull));
		*has_org = !isnull;
	}
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(idx, NoLock);
	table_close(rel, NoLock);
	return found;
}
