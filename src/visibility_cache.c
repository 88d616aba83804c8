/*-------------------------------------------------------------------------
 * visibility_cache.c
 *		Per-backend cache of what the current principal may see.
 *
 * For each principal recently in force the cache holds its access kind,
 * tenant, organisation, role and the sorted id arrays the row-level
 * security policies compare with, in a memory context of its own.  An
 * entry is built with SPI as a privileged user (privileged.c) from the
 * statement's own snapshot, and carries the tenant's and the contact's
 * visibility stamps read under that snapshot (visibility_epoch.c).
 *
 * A later statement uses the entry of the principal in force when its own
 * snapshot reads the same stamps (checked once per snapshot); otherwise the
 * entry is rebuilt from that snapshot.  So every statement sees visibility
 * rules that belong to the very data it reads: a change committed before
 * the statement's snapshot is honoured, one committed after is not
 * (cursors, REPEATABLE READ), and a rolled-back change leaves nothing
 * behind.  Entries of other principals stay, least recently used dropped
 * first, so that a pooled connection switching between the people it
 * serves rebuilds only what changed.
 *
 * The per-tenant default-role map used by the default-role trigger, and
 * the tabs of shared rooms kept per role (contact_tabs.c), follow the same
 * rule.
 *-------------------------------------------------------------------------
 */
#include "introw.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "lib/ilist.h"
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

/*
 * One entry per principal (kind, tenant, id) recently in force, most
 * recently used first; at most introw.principal_cache_size of them.  An
 * entry holds the stamps it was built at and is checked against them when
 * its principal is set again, so switching back and forth between the
 * principals of a pooled connection costs one or two index probes, not a
 * rebuild.
 */
typedef struct PrincipalKey
{
	int64		kind;
	int64		tenant_id;
	int64		id;
} PrincipalKey;

typedef struct CacheEntry
{
	PrincipalKey key;			/* hash key */
	MemoryContext context;		/* the arrays; NULL until built */
	bool		built;
	VisibilityCache cache;
	int64		epoch;			/* the tenant's stamp */
	int64		contact_epoch;	/* the contact's own stamp (collaborations) */
	Oid			epochs_relid;	/* the stamps it was built against */
	/* built by a transaction that had written: it holds only in there */
	bool		provisional;
	LocalTransactionId lxid;	/* that transaction */
	uint64		subxact_aborts; /* subtransactions rolled back before */
	dlist_node	lru;
} CacheEntry;

static int	PrincipalCacheSize = 1000;

/* The tenant of each principal with a built entry, to find it by id. */
typedef struct KnownKey
{
	int64		kind;
	int64		id;
} KnownKey;

typedef struct KnownPrincipal
{
	KnownKey	key;			/* hash key */
	int64		tenant_id;
} KnownPrincipal;

static uint64 subxact_aborts = 0;	/* in this backend, ever */

static MemoryContext VisibilityContext = NULL;	/* parent of the entries' */
static HTAB *entries;
static HTAB *known;
static dlist_head lru_list = DLIST_STATIC_INIT(lru_list);
static long n_entries;
static CacheEntry no_access;	/* no principal, or one not in force */

/* The entry in force, checked for the snapshot state below. */
static CacheEntry *current;
static uint64 cache_generation;
static Oid	cache_outer_user;
static SnapshotState cache_checked;
static uint64 cache_checked_invals;

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

#define ONE_ID {INT8OID}
#define TWO_IDS {INT8OID, INT8OID}
static PrivilegedStatement q_contact = {Q_CONTACT, 1, ONE_ID};
static PrivilegedStatement q_user = {Q_USER, 1, ONE_ID};
static PrivilegedStatement q_contact_rooms = {Q_CONTACT_ROOMS, 2, TWO_IDS};
static PrivilegedStatement q_all_tabs = {Q_ALL_TABS, 1, ONE_ID};
static PrivilegedStatement q_all_rooms = {Q_ALL_ROOMS, 1, ONE_ID};
static PrivilegedStatement q_all_orgs = {Q_ALL_ORGS, 1, ONE_ID};
static PrivilegedStatement q_all_users = {Q_ALL_USERS, 1, ONE_ID};
static PrivilegedStatement q_managed_orgs = {Q_MANAGED_ORGS, 2, TWO_IDS};
static PrivilegedStatement q_collaborations = {Q_COLLABORATIONS, 2, TWO_IDS};
static PrivilegedStatement q_default_role = {Q_DEFAULT_ROLE, 1, ONE_ID};

/* Open SPI and make snap the snapshot of the queries that follow. */
void
LookupBegin(Snapshot snap)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "introw: SPI_connect failed");
	PushActiveSnapshot(snap);
}

void
LookupEnd(void)
{
	PopActiveSnapshot();
	SPI_finish();
}

/* Run a query returning one bigint[]; copy it into target. */
ArrayType *
LookupIdArray(PrivilegedStatement *stmt, Datum *values, const char *nulls,
			 MemoryContext target)
{
	bool		isnull;
	Datum		d;
	MemoryContext old;
	ArrayType  *result;

	if (PrivilegedQuery(stmt, values, nulls) != 1)
		elog(ERROR, "introw: id list query returned no row");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	Assert(!isnull);
	old = MemoryContextSwitchTo(target);
	result = DatumGetArrayTypePCopy(d);
	MemoryContextSwitchTo(old);
	return result;
}

/* A one-element bigint[] in target. */
static ArrayType *
SingletonArray(int64 value, MemoryContext target)
{
	MemoryContext old = MemoryContextSwitchTo(target);
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

/* Inside LookupBegin/LookupEnd. */
static bool
FetchContact(int64 contact_id, int64 *tenant_id, int64 *org_id,
			 bool *has_role, int64 *role_id, bool *restricted)
{
	Datum		values[1] = {Int64GetDatum(contact_id)};

	if (PrivilegedQuery(&q_contact, values, NULL) != 1)
		return false;
	SpiGetInt64(0, 1, tenant_id);
	SpiGetInt64(0, 2, org_id);
	*has_role = SpiGetInt64(0, 3, role_id);
	SpiGetBool(0, 4, restricted);
	return true;
}

/* Inside LookupBegin/LookupEnd. */
static bool
FetchUser(int64 user_id, int64 *tenant_id, AccessKind *access, bool *active)
{
	Datum		values[1] = {Int64GetDatum(user_id)};
	bool		isnull;

	if (PrivilegedQuery(&q_user, values, NULL) != 1)
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

	LookupBegin(StatementSnapshot());
	found = FetchContact(contact_id, tenant_id, org_id, has_role, role_id, restricted);
	LookupEnd();
	return found;
}

bool
LookupUser(int64 user_id, int64 *tenant_id, AccessKind *access, bool *active)
{
	bool		found;

	LookupBegin(StatementSnapshot());
	found = FetchUser(user_id, tenant_id, access, active);
	LookupEnd();
	return found;
}

/* The tabs a contact with that organisation and role sees (for reports). */
ArrayType *
ContactTabIds(int64 tenant_id, int64 org_id, bool has_role, int64 role_id)
{
	MemoryContext caller = CurrentMemoryContext;
	ArrayType  *result;

	LookupBegin(StatementSnapshot());
	result = FetchContactTabs(tenant_id, org_id, has_role, role_id, false, 0, caller);
	LookupEnd();
	return result;
}

/*
 * Inside LookupBegin/LookupEnd.  The caller's snapshot read the tenant's
 * stamp `epoch`; use_memo when this transaction wrote no visibility data.
 */
static void
BuildContactCache(const Principal *p, VisibilityCache *cache, MemoryContext cxt,
				  bool use_memo, int64 epoch)
{
	Datum		values[2] = {Int64GetDatum(p->tenant_id), Int64GetDatum(p->id)};
	int64		tenant_id;

	if (!FetchContact(p->id, &tenant_id, &cache->org_id, &cache->has_role,
					  &cache->role_id, &cache->restricted) ||
		tenant_id != p->tenant_id)
		return;					/* gone: no access */
	cache->access = ACCESS_CONTACT;
	cache->tenant_id = tenant_id;
	cache->principal_id = p->id;
	cache->tab_ids = FetchContactTabs(tenant_id, cache->org_id, cache->has_role,
									  cache->role_id, use_memo, epoch, cxt);
	cache->collab_object_ids = LookupIdArray(&q_collaborations, values, NULL, cxt);
	values[1] = Int64GetDatum(cache->org_id);
	cache->room_ids = LookupIdArray(&q_contact_rooms, values, NULL, cxt);
	cache->org_ids = SingletonArray(cache->org_id, cxt);
	cache->task_org_ids = cache->org_ids;
	/* a restricted or role-less contact sees only its collaborations */
	if (cache->has_role && !cache->restricted)
		cache->object_org_ids = cache->org_ids;
}

static void
BuildUserCache(const Principal *p, VisibilityCache *cache, MemoryContext cxt)
{
	Datum		values[2] = {Int64GetDatum(p->tenant_id), Int64GetDatum(p->id)};
	int64		tenant_id;
	AccessKind	access;
	bool		active;

	if (!FetchUser(p->id, &tenant_id, &access, &active) ||
		!active || tenant_id != p->tenant_id || access == ACCESS_NONE)
		return;					/* gone or deactivated: no access */
	cache->access = access;
	cache->tenant_id = tenant_id;
	cache->principal_id = p->id;
	cache->restricted = false;
	cache->tab_ids = LookupIdArray(&q_all_tabs, values, NULL, cxt);
	cache->room_ids = LookupIdArray(&q_all_rooms, values, NULL, cxt);
	cache->org_ids = LookupIdArray(&q_all_orgs, values, NULL, cxt);
	if (access == ACCESS_CRM_USER)
		cache->user_ids = SingletonArray(p->id, cxt);
	else
		cache->user_ids = LookupIdArray(&q_all_users, values, NULL, cxt);
	switch (access)
	{
		case ACCESS_PARTNER_MANAGER:
			cache->managed_org_ids = LookupIdArray(&q_managed_orgs, values, NULL, cxt);
			cache->object_org_ids = cache->managed_org_ids;
			cache->task_org_ids = cache->managed_org_ids;
			break;
		case ACCESS_CRM_USER:
			/* the partner-submitted and attributed pipeline */
			cache->object_org_ids = cache->org_ids;
			break;
		default:
			break;
	}
}

/* Arrays not set for this principal are empty, never NULL. */
static void
FillEmptyArrays(VisibilityCache *cache, MemoryContext cxt)
{
	ArrayType **arrays[] = {&cache->tab_ids, &cache->room_ids, &cache->org_ids,
		&cache->managed_org_ids, &cache->user_ids,
		&cache->object_org_ids, &cache->collab_object_ids, &cache->task_org_ids};
	MemoryContext old = MemoryContextSwitchTo(cxt);

	for (size_t i = 0; i < lengthof(arrays); i++)
		if (*arrays[i] == NULL)
			*arrays[i] = construct_empty_array(INT8OID);
	MemoryContextSwitchTo(old);
}

/*
 * Plans are estimated for the principal that planned them (policy_support.c):
 * when the kind of principal changes (a contact, a restricted contact, an
 * admin, ...), the plans cached in this backend are made again.  Principals
 * of one kind share plans; a statement never returns other rows for it.
 */
static void
ForgetPlansOfOtherKinds(const VisibilityCache *cache)
{
	static int	planned_kind = -1;
	int			kind = (int) cache->access * 2 + (cache->restricted ? 1 : 0);

	if (planned_kind != -1 && planned_kind != kind)
		ResetPlanCache();
	planned_kind = kind;
}

static void
EnsureEntries(void)
{
	HASHCTL		ctl;

	if (entries != NULL)
		return;
	VisibilityContext = AllocSetContextCreate(TopMemoryContext,
											  "introw visibility cache",
											  ALLOCSET_SMALL_SIZES);
	ctl.keysize = sizeof(PrincipalKey);
	ctl.entrysize = sizeof(CacheEntry);
	ctl.hcxt = VisibilityContext;
	entries = hash_create("introw visibility cache", 64, &ctl,
						  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	ctl.keysize = sizeof(KnownKey);
	ctl.entrysize = sizeof(KnownPrincipal);
	known = hash_create("introw known principals", 64, &ctl,
						HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	no_access.context = AllocSetContextCreate(VisibilityContext,
											  "introw no access",
											  ALLOCSET_SMALL_SIZES);
	no_access.cache.restricted = true;
	FillEmptyArrays(&no_access.cache, no_access.context);
	no_access.built = true;
}

static void
PrincipalKeyOf(PrincipalKey *key, int64 kind, int64 tenant_id, int64 id)
{
	memset(key, 0, sizeof(*key));
	key->kind = kind;
	key->tenant_id = tenant_id;
	key->id = id;
}

static void
KnownKeyOf(KnownKey *key, int64 kind, int64 id)
{
	memset(key, 0, sizeof(*key));
	key->kind = kind;
	key->id = id;
}

/* Record or forget (the entry of) a principal under its tenant. */
static void
SetKnown(const CacheEntry *entry, bool record)
{
	KnownKey	key;
	KnownPrincipal *k;

	KnownKeyOf(&key, entry->key.kind, entry->key.id);
	if (record)
	{
		k = hash_search(known, &key, HASH_ENTER, NULL);
		k->tenant_id = entry->key.tenant_id;
	}
	else
	{
		k = hash_search(known, &key, HASH_FIND, NULL);
		if (k != NULL && k->tenant_id == entry->key.tenant_id)
			hash_search(known, &key, HASH_REMOVE, NULL);
	}
}

static void
EvictEntry(CacheEntry *entry)
{
	Assert(entry != current);
	SetKnown(entry, false);
	dlist_delete(&entry->lru);
	if (entry->context != NULL)
		MemoryContextDelete(entry->context);
	hash_search(entries, &entry->key, HASH_REMOVE, NULL);
	n_entries--;
}

/* The principal's entry, most recently used now; built or not. */
static CacheEntry *
EntryFor(const Principal *p)
{
	PrincipalKey key;
	CacheEntry *entry;
	bool		found;

	PrincipalKeyOf(&key, p->kind, p->tenant_id, p->id);
	entry = hash_search(entries, &key, HASH_FIND, NULL);
	if (entry != NULL)
	{
		dlist_move_head(&lru_list, &entry->lru);
		/* a lowered introw.principal_cache_size holds from the next switch */
		while (n_entries > PrincipalCacheSize)
			EvictEntry(dlist_tail_element(CacheEntry, lru, &lru_list));
		return entry;
	}
	while (n_entries > 0 && n_entries >= PrincipalCacheSize)
		EvictEntry(dlist_tail_element(CacheEntry, lru, &lru_list));
	entry = hash_search(entries, &key, HASH_ENTER, &found);
	Assert(!found);
	entry->context = NULL;
	entry->built = false;
	dlist_push_head(&lru_list, &entry->lru);
	n_entries++;
	return entry;
}

/* Build the entry of principal p from snap. */
static void
BuildEntry(CacheEntry *entry, const Principal *p, Snapshot snap)
{
	VisibilityCache *cache = &entry->cache;

	entry->built = false;
	if (entry->context == NULL)
		entry->context = AllocSetContextCreate(VisibilityContext,
											   "introw principal",
											   ALLOCSET_SMALL_SIZES);
	MemoryContextReset(entry->context);
	memset(cache, 0, sizeof(*cache));
	cache->restricted = true;
	entry->epoch = ReadEpoch(p->tenant_id, 0, snap);
	entry->contact_epoch = p->kind == PRINCIPAL_CONTACT ?
		ReadEpoch(p->tenant_id, p->id, snap) : 0;
	entry->epochs_relid = EpochRelation();

	/*
	 * A transaction that has written may see rows of its own that are not
	 * stamped (a new contact is not) and may yet be rolled back: what it
	 * builds holds only in it, and not past a rolled-back savepoint.
	 */
	entry->provisional = TransactionIdIsValid(GetTopTransactionIdIfAny());
	entry->lxid = MyProc->lxid;
	entry->subxact_aborts = subxact_aborts;
	/* SPI calls switch memory contexts: every copy names its target */
	LookupBegin(snap);
	if (p->kind == PRINCIPAL_CONTACT)
		BuildContactCache(p, cache, entry->context, !EpochWrittenThisTransaction(), entry->epoch);
	else
		BuildUserCache(p, cache, entry->context);
	LookupEnd();
	FillEmptyArrays(cache, entry->context);
	entry->built = true;
	SetKnown(entry, cache->access != ACCESS_NONE);
}

/* Do the stamps snap reads still match those the entry was built at? */
static bool
EntryHolds(const CacheEntry *entry, Snapshot snap)
{
	const PrincipalKey *key = &entry->key;

	if (entry == &no_access)
		return true;
	/* this transaction may have written what the entry holds */
	if (!entry->built || EpochWrittenThisTransaction())
		return false;
	if (entry->provisional &&
		(entry->lxid != MyProc->lxid || entry->subxact_aborts != subxact_aborts))
		return false;
	/* stamps of a reinstalled extension start again: never compare across */
	if (entry->epochs_relid != EpochRelation())
		return false;
	if (ReadEpoch(key->tenant_id, 0, snap) != entry->epoch)
		return false;
	if (key->kind == PRINCIPAL_CONTACT &&
		ReadEpoch(key->tenant_id, key->id, snap) != entry->contact_epoch)
		return false;
	return true;
}

/* Does the entry in force hold for the statement reading with snap? */
static bool
CurrentHolds(Snapshot snap)
{
	if (current == NULL || cache_generation != PrincipalGeneration() ||
		cache_outer_user != GetOuterUserId())
		return false;
	if (current == &no_access)
		return true;
	if (EpochWrittenThisTransaction())
		return false;
	if (SnapshotStateHolds(snap, &cache_checked) &&
		cache_checked_invals == EpochInvalidations())
		return true;
	if (!EntryHolds(current, snap))
		return false;
	SnapshotStateOf(snap, &cache_checked);
	cache_checked_invals = EpochInvalidations();
	return true;
}

/* Put the principal's entry in force for snap, building it if stale. */
static void
SwitchEntry(Snapshot snap)
{
	const Principal *p = CurrentPrincipal();
	CacheEntry *entry;

	current = NULL;
	EnsureEntries();
	/* a principal set under another database role is not in force */
	if (p->kind == PRINCIPAL_NONE || p->outer_user != GetOuterUserId())
		entry = &no_access;
	else
	{
		entry = EntryFor(p);
		if (!EntryHolds(entry, snap))
			BuildEntry(entry, p, snap);
	}
	current = entry;
	cache_generation = PrincipalGeneration();
	cache_outer_user = GetOuterUserId();
	SnapshotStateOf(snap, &cache_checked);
	cache_checked_invals = EpochInvalidations();
	ForgetPlansOfOtherKinds(&entry->cache);
}

/*
 * The tenant of principal (kind, id) when its entry was built with access
 * and still holds for the statement's snapshot: then the principal exists
 * (and a user is active) as a lookup under that snapshot would say, for a
 * committed delete, move or deactivation stamps the tenant, and an entry
 * built after its transaction wrote (a new contact, unstamped, may yet be
 * rolled back) holds only in that transaction.  False: look it up.
 * Spares set_contact and set_user their query on a cached switch.
 */
bool
CachedPrincipalTenant(PrincipalKind kind, int64 id, int64 *tenant_id)
{
	KnownKey	key;
	KnownPrincipal *k;
	PrincipalKey pkey;
	CacheEntry *entry;

	if (known == NULL)
		return false;
	KnownKeyOf(&key, kind, id);
	k = hash_search(known, &key, HASH_FIND, NULL);
	if (k == NULL)
		return false;
	PrincipalKeyOf(&pkey, kind, k->tenant_id, id);
	entry = hash_search(entries, &pkey, HASH_FIND, NULL);
	if (entry == NULL || !entry->built || entry->cache.access == ACCESS_NONE ||
		!EntryHolds(entry, StatementSnapshot()))
		return false;
	*tenant_id = k->tenant_id;
	return true;
}

static void
CacheSubXactCallback(SubXactEvent event, SubTransactionId mySubid,
					 SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		subxact_aborts++;
}

void
VisibilityCacheRegisterCallbacks(void)
{
	RegisterSubXactCallback(CacheSubXactCallback, NULL);
}

void
VisibilityCacheDefineSetting(void)
{
	DefineCustomIntVariable("introw.principal_cache_size",
							"Principals whose visibility each backend keeps cached.",
							"The least recently used one is dropped to make room.",
							&PrincipalCacheSize, 1000, 1, 1000000, PGC_SUSET, 0,
							NULL, NULL, NULL);
}

const VisibilityCache *
GetVisibilityCache(void)
{
	Snapshot	snap;

	AcceptInvalidationMessages();
	snap = StatementSnapshot();
	if (!CurrentHolds(snap))
		SwitchEntry(snap);
	return &current->cache;
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
	if (!SnapshotStateHolds(snap, &defaults_checked) ||
		defaults_checked_invals != EpochInvalidations())
	{
		verify_round++;			/* every entry must be checked again */
		SnapshotStateOf(snap, &defaults_checked);
		defaults_checked_invals = EpochInvalidations();
	}
	entry = hash_search(default_roles, &tenant_id, HASH_FIND, NULL);
	if (entry == NULL || entry->verified != verify_round)
	{
		epoch = ReadEpoch(tenant_id, 0, snap);
		if (entry == NULL || entry->epoch != epoch)
		{
			Datum		values[1] = {Int64GetDatum(tenant_id)};
			int64		role = 0;
			bool		has_default;

			LookupBegin(snap);
			has_default = PrivilegedQuery(&q_default_role, values, NULL) == 1 &&
				SpiGetInt64(0, 1, &role);
			LookupEnd();
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

/* Does the cached principal read every row of its tenant (admin, member)? */
bool
CacheReadsWholeTenant(const VisibilityCache *cache)
{
	return cache->access == ACCESS_ADMIN || cache->access == ACCESS_MEMBER;
}

/*
 * Sorted bigint[] (no NULLs, as built above) membership by binary search.
 */
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

