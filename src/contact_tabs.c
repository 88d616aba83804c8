/*-------------------------------------------------------------------------
 * contact_tabs.c
 *		Which tabs a contact sees, for the visibility cache and reports.
 *
 * A contact sees the tabs of the tenant's shared rooms (org_id NULL) and
 * of its organisation's rooms that either name no role or name its role.
 * The two parts are read apart.  The shared rooms' part depends only on
 * the tenant and the role, so every contact of that role in a backend
 * shares it: it is kept per (tenant, role) with the tenant's visibility
 * stamp it was read at, and reused by a build that reads the same stamp
 * under its own snapshot (visibility_epoch.c gives the argument: rooms,
 * tabs and tab roles stamp their tenant in the same transaction).  A
 * cold principal switch then reads only its organisation's few rooms.
 *-------------------------------------------------------------------------
 */
#include "introw.h"

#include "catalog/pg_type.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

/* the tabs of some of a tenant's rooms that a role may see (NULL: no role) */
#define Q_TABS(rooms, role) \
	"SELECT coalesce(array_agg(t.tab_id ORDER BY t.tab_id), '{}') " \
	"FROM introw.rooms r " \
	"JOIN introw.tabs t ON t.tenant_id = r.tenant_id AND t.room_id = r.room_id " \
	"WHERE r.tenant_id = $1 AND " rooms " " \
	"  AND (NOT EXISTS (SELECT 1 FROM introw.tab_roles x " \
	"                   WHERE x.tenant_id = t.tenant_id AND x.tab_id = t.tab_id) " \
	"       OR EXISTS (SELECT 1 FROM introw.tab_roles x " \
	"                  WHERE x.tenant_id = t.tenant_id AND x.tab_id = t.tab_id " \
	"                    AND x.role_id = " role "))"

static PrivilegedStatement q_shared_tabs = {
	Q_TABS("r.org_id IS NULL", "$2"), 2, {INT8OID, INT8OID}
};
static PrivilegedStatement q_org_tabs = {
	Q_TABS("r.org_id = $3", "$2"), 3, {INT8OID, INT8OID, INT8OID}
};

/* The shared rooms' tabs of one role (has_role false: no role). */
typedef struct SharedTabsKey
{
	int64		tenant_id;
	int64		role_id;		/* 0 without a role */
	int64		has_role;
} SharedTabsKey;

typedef struct SharedTabs
{
	SharedTabsKey key;			/* hash key */
	int64		epoch;			/* the tenant's stamp it was read at */
	Oid			epochs_relid;	/* the stamps' table then */
	ArrayType  *tab_ids;		/* sorted, in SharedTabsContext */
} SharedTabs;

/* Tenants times roles kept; beyond it all are dropped and read again. */
#define SHARED_TABS_MAX 1024

static MemoryContext SharedTabsContext = NULL;
static HTAB *shared_tabs = NULL;

/* The shared rooms' tabs, or (with has_org) the organisation's rooms'. */
static ArrayType *
QueryTabs(int64 tenant_id, bool has_role, int64 role_id, bool has_org, int64 org_id,
		  MemoryContext target)
{
	Datum		values[3] = {Int64GetDatum(tenant_id), Int64GetDatum(role_id),
	Int64GetDatum(org_id)};
	char		nulls[3] = {' ', has_role ? ' ' : 'n', ' '};

	return LookupIdArray(has_org ? &q_org_tabs : &q_shared_tabs, values, nulls, target);
}

static HTAB *
SharedTabsTable(void)
{
	HASHCTL		ctl;

	if (shared_tabs != NULL && hash_get_num_entries(shared_tabs) < SHARED_TABS_MAX)
		return shared_tabs;
	if (SharedTabsContext == NULL)
		SharedTabsContext = AllocSetContextCreate(TopMemoryContext,
												  "introw shared tabs",
												  ALLOCSET_SMALL_SIZES);
	shared_tabs = NULL;			/* an error below leaves no dangling table */
	MemoryContextReset(SharedTabsContext);
	ctl.keysize = sizeof(SharedTabsKey);
	ctl.entrysize = sizeof(SharedTabs);
	ctl.hcxt = SharedTabsContext;
	shared_tabs = hash_create("introw shared tabs", 16, &ctl,
							  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	return shared_tabs;
}

/*
 * The shared rooms' tabs of the role, from the memo when it was read at
 * the stamp `epoch` the caller's snapshot reads, else read now and kept.
 * The result belongs to the memo: copy it before the next call.
 */
static ArrayType *
SharedRoomTabs(int64 tenant_id, bool has_role, int64 role_id, int64 epoch)
{
	SharedTabsKey key;
	SharedTabs *entry;
	bool		found;
	ArrayType  *tabs;
	Oid			epochs_relid = EpochRelation();

	memset(&key, 0, sizeof(key));
	key.tenant_id = tenant_id;
	key.role_id = has_role ? role_id : 0;
	key.has_role = has_role;
	entry = hash_search(SharedTabsTable(), &key, HASH_FIND, NULL);
	if (entry != NULL && entry->epoch == epoch && entry->epochs_relid == epochs_relid)
		return entry->tab_ids;

	/* read before entering: an error leaves no half-made entry */
	tabs = QueryTabs(tenant_id, has_role, role_id, false, 0, SharedTabsContext);
	entry = hash_search(shared_tabs, &key, HASH_ENTER, &found);
	if (found && entry->tab_ids != NULL)
		pfree(entry->tab_ids);
	entry->epoch = epoch;
	entry->epochs_relid = epochs_relid;
	entry->tab_ids = tabs;
	return tabs;
}

/* The sorted union of two sorted bigint[], in target. */
static ArrayType *
MergeSortedIds(ArrayType *a, ArrayType *b, MemoryContext target)
{
	int			na = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));
	int			nb = ArrayGetNItems(ARR_NDIM(b), ARR_DIMS(b));
	const int64 *x = (const int64 *) ARR_DATA_PTR(a);
	const int64 *y = (const int64 *) ARR_DATA_PTR(b);
	Datum	   *ids = palloc(sizeof(Datum) * Max(na + nb, 1));
	int			i = 0,
				j = 0,
				n = 0;
	MemoryContext old;
	ArrayType  *result;

	while (i < na || j < nb)
	{
		int64		next;

		if (j >= nb || (i < na && x[i] <= y[j]))
			next = x[i++];
		else
			next = y[j++];
		if (n == 0 || DatumGetInt64(ids[n - 1]) != next)
			ids[n++] = Int64GetDatum(next);
	}
	old = MemoryContextSwitchTo(target);
	result = construct_array(ids, n, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	MemoryContextSwitchTo(old);
	pfree(ids);
	return result;
}

/*
 * The sorted tab ids a contact of that organisation and role sees, in
 * target.  Inside LookupBegin/LookupEnd.  With use_memo, the caller's
 * snapshot reads the tenant's stamp `epoch` and this transaction has
 * written no visibility data: the shared rooms' part may come from the
 * memo.
 */
ArrayType *
FetchContactTabs(int64 tenant_id, int64 org_id, bool has_role, int64 role_id,
				 bool use_memo, int64 epoch, MemoryContext target)
{
	ArrayType  *shared;
	ArrayType  *own;
	ArrayType  *result;

	own = QueryTabs(tenant_id, has_role, role_id, true, org_id, CurrentMemoryContext);
	if (use_memo)
		shared = SharedRoomTabs(tenant_id, has_role, role_id, epoch);
	else
		shared = QueryTabs(tenant_id, has_role, role_id, false, 0, CurrentMemoryContext);
	result = MergeSortedIds(shared, own, target);
	pfree(own);
	if (!use_memo)
		pfree(shared);
	return result;
}
