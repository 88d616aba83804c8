/*-------------------------------------------------------------------------
 * visibility_cache.c
 *		Per-backend cache of what the current principal may see.
 *
 * The cache holds the principal's access kind, tenant, organisation, role
 * and the sorted id arrays the row-level security policies compare with,
 * in a memory context of its own.  It is built with SPI as a privileged
 * user (privileged.c) from the statement's own snapshot, and carries the
 * tenant's visibility stamp read under that snapshot (visibility_epoch.c).
 *
 * A later statement uses it when the principal and the database role are
 * the same and its own snapshot reads the same stamp; otherwise the cache
 * is rebuilt from that snapshot.  So every statement sees visibility rules
 * that belong to the very data it reads: a change committed before the
 * statement's snapshot is honoured, one committed after is not (cursors,
 * REPEATABLE READ), and a rolled-back change leaves nothing behind.
 *
 * The per-tenant default-role map used by the default-role trigger follows
 * the same rule.
 *-------------------------------------------------------------------------
 */
#include "introw.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/snapmgr.h"

typedef struct DefaultRoleEntry
{
	int64		tenant_id;		/* hash key */
	int64		epoch;			/* stamp the entry was read at */
	uint64		verified;		/* round in which the stamp was checked */
	bool		has_default;
	int64		role_id;
} DefaultRoleEntry;

static MemoryContext VisibilityContext = NULL;
static VisibilityCache cache;
static bool cache_built = false;
static uint64 cache_generation;
static Oid	cache_outer_user;
static int64 cache_epoch;		/* the tenant's stamp */
static int64 cache_contact_epoch;	/* the contact's own stamp (collaborations) */
static SnapshotState cache_checked;
static uint64 cache_checked_invals;
static Oid	cache_epochs_relid;	/* the stamps the cache was built against */

static MemoryContext DefaultsContext = NULL;
static HTAB *default_roles;
static SnapshotState defaults_checked;
static uint64 defaults_checked_invals;
static Oid	defaults_epochs_relid;
static uint64 verify_round = 1;

#define Q_CONTACT \
	"SELECT c.tenant_id, c.org_id, c.role_id, " \
	"       coalesce(r.collaboration_restricted, true) " \
	"FROM introw.partner_contacts c " \
	"LEFT JOIN introw.partner_roles r " \
	"  ON r.tenant_id = c.tenant_id AND r.role_id = c.role_id " \
	"WHERE c.contact_id = $1"

#define Q_USER \
	"SELECT tenant_id, user_role, active FROM introw.internal_users WHERE user_id = $1"

#define Q_CONTACT_TABS \
	"SELECT coalesce(array_agg(t.tab_id ORDER BY t.tab_id), '{}') " \
	"FROM introw.tabs t " \
	"JOIN introw.rooms r ON r.tenant_id = t.tenant_id AND r.room_id = t.room_id " \
	"WHERE t.tenant_id = $1 AND (r.org_id IS NULL OR r.org_id = $2) " \
	"  AND (NOT EXISTS (SELECT 1 FROM introw.tab_roles x " \
	"                   WHERE x.tenant_id = t.tenant_id AND x.tab_id = t.tab_id) " \
	"       OR EXISTS (SELECT 1 FROM introw.tab_roles x " \
	"                  WHERE x.tenant_id = t.tenant_id AND x.tab_id = t.tab_id " \
	"                    AND x.role_id = $3))"

#define Q_CONTACT_ROOMS \
	"SELECT coalesce(array_agg(room_id ORDER BY room_id), '{}') FROM introw.rooms " \
	"WHERE tenant_id = $1 AND (org_id IS NULL OR org_id = $2)"

#define Q_ALL_TABS \
	"SELECT coalesce(array_agg(tab_id ORDER BY tab_id), '{}') FROM introw.tabs WHERE tenant_id = $1"
#define Q_ALL_ROOMS \
	"SELECT coalesce(array_agg(room_id ORDER BY room_id), '{}') FROM introw.rooms WHERE tenant_id = $1"
#define Q_ALL_ORGS \
	"SELECT coalesce(array_agg(org_id ORDER BY org_id), '{}') " \
	"FROM introw.partner_organizations WHERE tenant_id = $1"
#define Q_ALL_USERS \
	"SELECT coalesce(array_agg(user_id ORDER BY user_id), '{}') " \
	"FROM introw.internal_users WHERE tenant_id = $1"
#define Q_MANAGED_ORGS \
	"SELECT coalesce(array_agg(org_id ORDER BY org_id), '{}') " \
	"FROM introw.partner_organizations WHERE tenant_id = $1 AND partner_manager_id = $2"

#define Q_COLLABORATIONS \
	"SELECT coalesce(array_agg(object_id ORDER BY object_id), '{}') " \
	"FROM introw.collaborators WHERE tenant_id = $1 AND contact_id = $2"

#define Q_DEFAULT_ROLE \
	"SELECT role_id FROM introw.partner_roles WHERE tenant_id = $1 AND is_default"

/* Open SPI and make snap the snapshot of the queries that follow. */
static void
BeginLookup(Snapshot snap)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "introw: SPI_connect failed");
	PushActiveSnapshot(snap);
}

static void
EndLookup(void)
{
	PopActiveSnapshot();
	SPI_finish();
}

/* Run a query returning one bigint[]; copy it into target. */
static ArrayType *
QueryIdArray(const char *sql, int nargs, Datum *values, const char *nulls,
			 MemoryContext target)
{
	Oid			argtypes[3] = {INT8OID, INT8OID, INT8OID};
	bool		isnull;
	Datum		d;
	MemoryContext old;
	ArrayType  *result;

	Assert(nargs <= 3);
	if (PrivilegedQuery(sql, nargs, argtypes, values, nulls) != 1)
		elog(ERROR, "introw: id list query returned no row");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	Assert(!isnull);
	old = MemoryContextSwitchTo(target);
	result = DatumGetArrayTypePCopy(d);
	MemoryContextSwitchTo(old);
	return result;
}

/* A one-element bigint[] in the cache's context. */
static ArrayType *
SingletonArray(int64 value)
{
	MemoryContext old = MemoryContextSwitchTo(VisibilityContext);
	Datum		d = Int64GetDatum(value);
	ArrayType  *result = construct_array(&d, 1, INT8OID, sizeof(int64),
										 FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);

	MemoryContextSwitchTo(old);
	return result;
}

static AccessKind
ParseUserRole(const char *user_role)
{
	if (strcmp(user_role, "admin") == 0)
		return ACCESS_ADMIN;
	if (strcmp(user_role, "member") == 0)
		return ACCESS_MEMBER;
	if (strcmp(user_role, "partner_manager") == 0)
		return ACCESS_PARTNER_MANAGER;
	if (strcmp(user_role, "crm_user") == 0)
		return ACCESS_CRM_USER;
	return ACCESS_NONE;
}

const char *
AccessKindName(AccessKind kind)
{
	switch (kind)
	{
		case ACCESS_CONTACT:
			return "contact";
		case ACCESS_ADMIN:
			return "admin";
		case ACCESS_MEMBER:
			return "member";
		case ACCESS_PARTNER_MANAGER:
			return "partner_manager";
		case ACCESS_CRM_USER:
			return "crm_user";
		case ACCESS_NONE:
			break;
	}
	return "none";
}

/* Inside BeginLookup/EndLookup. */
static bool
FetchContact(int64 contact_id, int64 *tenant_id, int64 *org_id,
			 bool *has_role, int64 *role_id, bool *restricted)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(contact_id)};

	if (PrivilegedQuery(Q_CONTACT, 1, argtypes, values, NULL) != 1)
		return false;
	SpiGetInt64(0, 1, tenant_id);
	SpiGetInt64(0, 2, org_id);
	*has_role = SpiGetInt64(0, 3, role_id);
	SpiGetBool(0, 4, restricted);
	return true;
}

/* Inside BeginLookup/EndLookup. */
static bool
FetchUser(int64 user_id, int64 *tenant_id, AccessKind *access, bool *active)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(user_id)};
	bool		isnull;

	if (PrivilegedQuery(Q_USER, 1, argtypes, values, NULL) != 1)
		return false;
	SpiGetInt64(0, 1, tenant_id);
	*access = ParseUserRole(TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0],
															  SPI_tuptable->tupdesc,
															  2, &isnull)));
	SpiGetBool(0, 3, active);
	return true;
}

bool
LookupContact(int64 contact_id, int64 *tenant_id, int64 *org_id,
			  bool *has_role, int64 *role_id, bool *restricted)
{
	bool		found;

	BeginLookup(StatementSnapshot());
	found = FetchContact(contact_id, tenant_id, org_id, has_role, role_id, restricted);
	EndLookup();
	return found;
}

bool
LookupUser(int64 user_id, int64 *tenant_id, AccessKind *access, bool *active)
{
	bool		found;

	BeginLookup(StatementSnapshot());
	found = FetchUser(user_id, tenant_id, access, active);
	EndLookup();
	return found;
}

/* Inside BeginLookup/EndLookup. */
static ArrayType *
FetchContactTabs(int64 tenant_id, int64 org_id, bool has_role, int64 role_id,
				 MemoryContext target)
{
	Datum		values[3] = {Int64GetDatum(tenant_id), Int64GetDatum(org_id),
	Int64GetDatum(role_id)};
	char		nulls[3] = {' ', ' ', has_role ? ' ' : 'n'};

	return QueryIdArray(Q_CONTACT_TABS, 3, values, nulls, target);
}

/* The tabs a contact with that organisation and role sees (for reports). */
ArrayType *
ContactTabIds(int64 tenant_id, int64 org_id, bool has_role, int64 role_id)
{
	MemoryContext caller = CurrentMemoryContext;
	ArrayType  *result;

	BeginLookup(StatementSnapshot());
	result = FetchContactTabs(tenant_id, org_id, has_role, role_id, caller);
	EndLookup();
	return result;
}

static void
BuildContactCache(const Principal *p)
{
	Datum		values[2] = {Int64GetDatum(p->tenant_id), Int64GetDatum(p->id)};
	int64		tenant_id;

	if (!FetchContact(p->id, &tenant_id, &cache.org_id, &cache.has_role,
					  &cache.role_id, &cache.restricted) ||
		tenant_id != p->tenant_id)
		return;					/* gone: no access */
	cache.access = ACCESS_CONTACT;
	cache.tenant_id = tenant_id;
	cache.tab_ids = FetchContactTabs(tenant_id, cache.org_id, cache.has_role,
									 cache.role_id, VisibilityContext);
	cache.collab_object_ids = QueryIdArray(Q_COLLABORATIONS, 2, values, NULL, VisibilityContext);
	values[1] = Int64GetDatum(cache.org_id);
	cache.room_ids = QueryIdArray(Q_CONTACT_ROOMS, 2, values, NULL, VisibilityContext);
	cache.org_ids = SingletonArray(cache.org_id);
	cache.task_org_ids = SingletonArray(cache.org_id);
	/* a restricted or role-less contact sees only its collaborations */
	if (cache.has_role && !cache.restricted)
		cache.object_org_ids = SingletonArray(cache.org_id);
}

static void
BuildUserCache(const Principal *p)
{
	Datum		values[2] = {Int64GetDatum(p->tenant_id), Int64GetDatum(p->id)};
	int64		tenant_id;
	AccessKind	access;
	bool		active;

	if (!FetchUser(p->id, &tenant_id, &access, &active) ||
		!active || tenant_id != p->tenant_id || access == ACCESS_NONE)
		return;					/* gone or deactivated: no access */
	cache.access = access;
	cache.tenant_id = tenant_id;
	cache.restricted = false;
	cache.tab_ids = QueryIdArray(Q_ALL_TABS, 1, values, NULL, VisibilityContext);
	cache.room_ids = QueryIdArray(Q_ALL_ROOMS, 1, values, NULL, VisibilityContext);
	cache.org_ids = QueryIdArray(Q_ALL_ORGS, 1, values, NULL, VisibilityContext);
	if (access == ACCESS_CRM_USER)
		cache.user_ids = SingletonArray(p->id);
	else
		cache.user_ids = QueryIdArray(Q_ALL_USERS, 1, values, NULL, VisibilityContext);
	switch (access)
	{
		case ACCESS_PARTNER_MANAGER:
			cache.managed_org_ids = QueryIdArray(Q_MANAGED_ORGS, 2, values, NULL,
												 VisibilityContext);
			cache.object_org_ids = cache.managed_org_ids;
			cache.task_org_ids = cache.managed_org_ids;
			break;
		case ACCESS_CRM_USER:
			/* the partner-submitted and attributed pipeline */
			cache.object_org_ids = cache.org_ids;
			break;
		default:
			break;
	}
}

/* Arrays not set for this principal are empty, never NULL. */
static void
FillEmptyArrays(void)
{
	ArrayType **arrays[] = {&cache.tab_ids, &cache.room_ids, &cache.org_ids,
		&cache.managed_org_ids, &cache.user_ids,
		&cache.object_org_ids, &cache.collab_object_ids, &cache.task_org_ids};

	for (size_t i = 0; i < lengthof(arrays); i++)
		if (*arrays[i] == NULL)
			*arrays[i] = construct_empty_array(INT8OID);
}

/*
 * Plans are estimated for the principal that planned them (policy_support.c):
 * when the kind of principal changes (a contact, a restricted contact, an
 * admin, ...), the plans cached in this backend are made again.  Principals
 * of one kind share plans; a statement never returns other rows for it.
 */
static void
ForgetPlansOfOtherKinds(void)
{
	static int	planned_kind = -1;
	int			kind = (int) cache.access * 2 + (cache.restricted ? 1 : 0);

	if (planned_kind != -1 && planned_kind != kind)
		ResetPlanCache();
	planned_kind = kind;
}

static void
RebuildVisibilityCache(Snapshot snap)
{
	const Principal *p = CurrentPrincipal();
	MemoryContext old;

	cache_built = false;
	if (VisibilityContext == NULL)
		VisibilityContext = AllocSetContextCreate(TopMemoryContext,
												  "introw visibility cache",
												  ALLOCSET_SMALL_SIZES);
	MemoryContextReset(VisibilityContext);
	memset(&cache, 0, sizeof(cache));
	cache.restricted = true;
	cache_epoch = 0;
	cache_contact_epoch = 0;

	/* a principal set under another database role is not in force */
	if (p->kind != PRINCIPAL_NONE && p->outer_user == GetOuterUserId())
	{
		cache_epoch = ReadEpoch(p->tenant_id, 0, snap);
		if (p->kind == PRINCIPAL_CONTACT)
			cache_contact_epoch = ReadEpoch(p->tenant_id, p->id, snap);
		/* SPI calls switch memory contexts: every copy names its target */
		BeginLookup(snap);
		if (p->kind == PRINCIPAL_CONTACT)
			BuildContactCache(p);
		else
			BuildUserCache(p);
		EndLookup();
	}
	old = MemoryContextSwitchTo(VisibilityContext);
	FillEmptyArrays();
	MemoryContextSwitchTo(old);
	cache_generation = PrincipalGeneration();
	cache_outer_user = GetOuterUserId();
	cache_epochs_relid = EpochRelation();
	SnapshotStateOf(snap, &cache_checked);
	cache_checked_invals = EpochInvalidations();
	cache_built = true;
	ForgetPlansOfOtherKinds();
}

/* Does the cache hold for the statement reading with snap? */
static bool
CacheHolds(Snapshot snap)
{
	const Principal *p = CurrentPrincipal();
	SnapshotState now;

	if (!cache_built || cache_generation != PrincipalGeneration() ||
		cache_outer_user != GetOuterUserId())
		return false;
	/* this backend's own statement may be writing what the cache holds */
	if (EpochWritesPending())
		return false;
	if (cache.access == ACCESS_NONE && (p->kind == PRINCIPAL_NONE || p->outer_user != GetOuterUserId()))
		return true;
	SnapshotStateOf(snap, &now);
	if (SnapshotStateEqual(&now, &cache_checked) &&
		cache_checked_invals == EpochInvalidations())
		return true;
	/* stamps of a reinstalled extension start again: never compare across */
	if (EpochRelation() != cache_epochs_relid)
		return false;
	if (ReadEpoch(p->tenant_id, 0, snap) != cache_epoch)
		return false;
	if (p->kind == PRINCIPAL_CONTACT &&
		ReadEpoch(p->tenant_id, p->id, snap) != cache_contact_epoch)
		return false;
	cache_checked = now;
	cache_checked_invals = EpochInvalidations();
	return true;
}

const VisibilityCache *
GetVisibilityCache(void)
{
	Snapshot	snap;

	AcceptInvalidationMessages();
	snap = StatementSnapshot();
	if (!CacheHolds(snap))
		RebuildVisibilityCache(snap);
	return &cache;
}

/*
 * The tenant's default role, from a per-tenant map checked against the
 * tenant's stamp once per snapshot.  The default-role trigger calls it for
 * every row, so a bulk insert costs one check per tenant.
 */
bool
TenantDefaultRole(int64 tenant_id, int64 *role_id)
{
	Snapshot	snap;
	SnapshotState now;
	DefaultRoleEntry *entry;
	int64		epoch;

	AcceptInvalidationMessages();
	if (default_roles != NULL && defaults_epochs_relid != EpochRelation())
	{
		/* a reinstalled extension: stamps start again, forget every entry */
		MemoryContextDelete(DefaultsContext);
		default_roles = NULL;
	}
	if (default_roles == NULL)
	{
		HASHCTL		ctl;

		DefaultsContext = AllocSetContextCreate(TopMemoryContext,
												"introw default roles",
												ALLOCSET_SMALL_SIZES);
		ctl.keysize = sizeof(int64);
		ctl.entrysize = sizeof(DefaultRoleEntry);
		ctl.hcxt = DefaultsContext;
		default_roles = hash_create("introw default roles", 16, &ctl,
									HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		defaults_epochs_relid = EpochRelation();
		verify_round++;
	}
	snap = StatementSnapshot();
	SnapshotStateOf(snap, &now);
	if (!SnapshotStateEqual(&now, &defaults_checked) ||
		defaults_checked_invals != EpochInvalidations())
	{
		verify_round++;			/* every entry must be checked again */
		defaults_checked = now;
		defaults_checked_invals = EpochInvalidations();
	}
	entry = hash_search(default_roles, &tenant_id, HASH_FIND, NULL);
	if (entry == NULL || entry->verified != verify_round)
	{
		epoch = ReadEpoch(tenant_id, 0, snap);
		if (entry == NULL || entry->epoch != epoch)
		{
			Oid			argtypes[1] = {INT8OID};
			Datum		values[1] = {Int64GetDatum(tenant_id)};
			int64		role = 0;
			bool		has_default;

			BeginLookup(snap);
			has_default = PrivilegedQuery(Q_DEFAULT_ROLE, 1, argtypes, values, NULL) == 1 &&
				SpiGetInt64(0, 1, &role);
			EndLookup();
			entry = hash_search(default_roles, &tenant_id, HASH_ENTER, NULL);
			entry->epoch = epoch;
			entry->has_default = has_default;
			entry->role_id = role;
		}
		entry->verified = verify_round;
	}
	*role_id = entry->role_id;
	return entry->has_default;
}

/*
 * Sorted bigint[] (no NULLs, as built above) membership by binary search.
 */
/* Does the cached principal read every row of its tenant (admin, member)? */
bool
CacheReadsWholeTenant(const VisibilityCache *cache)
{
	return cache->access == ACCESS_ADMIN || cache->access == ACCESS_MEMBER;
}

bool
SortedInt64ArrayContains(ArrayType *array, int64 value)
{
	int64	   *data = (int64 *) ARR_DATA_PTR(array);
	int			lo = 0;
	int			hi = ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array)) - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (data[mid] == value)
			return true;
		if (data[mid] < value)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return false;
}

