/*-------------------------------------------------------------------------
 * introw.h
 *		Declarations shared by the C files of introw_roles.
 *
 * principal.c         who is asking (backend memory, transactional)
 * token.c             principals from signed tokens and trusted JWT claims
 * parallel.c          the principal in parallel workers
 * privileged.c        catalog-style lookups that bypass row-level security
 * visibility_epoch.c  version stamps of visibility data, read per snapshot
 * visibility_cache.c  per-backend cache of what the principal may see
 * contact_tabs.c      the tabs a contact sees (shared rooms' part kept per role)
 * visibility.c        SQL-callable visibility functions used by policies
 * policy_support.c    read policies' membership tests and planner support
 * unread_initplans.c  the principal's initplans nothing reads, out of plans
 * principal_constants.c  the principal as constants in scans compiled by JIT
 * scan_support.c      what the ordered scans share (scans.h)
 * ordered_scan.c      a contact's CRM objects merged in created_at order
 * item_merge.c        a principal's content items merged from its tabs
 * default_role.c      BEFORE INSERT/UPDATE trigger on partner_contacts
 * restore.c           restore mode: the derived-row triggers off while a dump loads
 *-------------------------------------------------------------------------
 */
#ifndef INTROW_H
#define INTROW_H

#include "postgres.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/snapshot.h"

/* What kind of person the principal is, as set by set_contact/set_user. */
typedef enum PrincipalKind
{
	PRINCIPAL_NONE = 0,
	PRINCIPAL_CONTACT,
	PRINCIPAL_USER
} PrincipalKind;

typedef struct Principal
{
	PrincipalKind kind;
	int64		tenant_id;
	int64		id;				/* contact_id or user_id */
	Oid			outer_user;		/* database role that set it */
} Principal;

/* What the principal may do, resolved from the tables (cache). */
typedef enum AccessKind
{
	ACCESS_NONE = 0,
	ACCESS_CONTACT,
	ACCESS_ADMIN,
	ACCESS_MEMBER,
	ACCESS_PARTNER_MANAGER,
	ACCESS_CRM_USER
} AccessKind;

/* principal.c */
extern const Principal *CurrentPrincipal(void);
extern uint64 PrincipalGeneration(void);
extern void PrincipalChanged(void);
extern void SetPrincipal(PrincipalKind kind, int64 tenant_id, int64 id, bool is_local);
extern void ClearPrincipalCompletely(void);
extern void PrincipalRegisterCallbacks(void);
extern void PrincipalInstallHooks(void);
extern void InstallWorkerPrincipal(PrincipalKind kind, int64 tenant_id, int64 id, Oid outer_user);

/* token.c */
extern void TokenDefineSetting(void);
extern const Principal *ClaimsPrincipal(void);

/* parallel.c */
extern void ParallelDefineSetting(void);
extern void ParallelInstallHooks(void);

/* privileged.c */
typedef struct PrivilegedState
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
} PrivilegedState;

extern void BeginPrivileged(PrivilegedState *state);
extern void EndPrivileged(PrivilegedState *state);
extern int	PrivilegedExecute(const char *sql, int nargs, Oid *argtypes, Datum *values,
							  const char *nulls, bool read_only, int expected_rc);
/* A fixed read-only query; its plan is prepared once per backend. */
typedef struct PrivilegedStatement
{
	const char *sql;
	int			nargs;
	Oid			argtypes[3];
	SPIPlanPtr	plan;			/* kept plan, NULL until first use */
} PrivilegedStatement;

extern int	PrivilegedQuery(PrivilegedStatement *stmt, Datum *values, const char *nulls);
extern bool SpiGetInt64(int row, int col, int64 *result);
extern bool SpiGetBool(int row, int col, bool *result);

/* visibility_cache.c */
typedef struct VisibilityCache
{
	AccessKind	access;
	int64		tenant_id;
	int64		principal_id;	/* contact_id or user_id */
	int64		org_id;			/* contact's organisation */
	bool		has_role;
	int64		role_id;
	bool		restricted;		/* collaboration restricted (or no role) */
	ArrayType  *tab_ids;		/* sorted bigint[] */
	ArrayType  *room_ids;
	ArrayType  *org_ids;		/* organisations readable */
	ArrayType  *managed_org_ids;
	ArrayType  *user_ids;		/* internal users readable */
	ArrayType  *object_org_ids; /* organisations whose CRM objects are readable */
	ArrayType  *collab_object_ids;	/* sorted; the contact's collaborations */
	ArrayType  *task_org_ids;	/* organisations whose tasks are readable */
} VisibilityCache;

extern void VisibilityCacheDefineSetting(void);
extern void VisibilityCacheRegisterCallbacks(void);
extern const VisibilityCache *GetVisibilityCache(void);
extern bool CacheReadsWholeTenant(const VisibilityCache *cache);
extern bool TenantDefaultRole(int64 tenant_id, int64 *role_id);
extern ArrayType *ContactTabIds(int64 tenant_id, int64 org_id, bool has_role, int64 role_id);
extern void LookupBegin(Snapshot snap);
extern void LookupEnd(void);
extern ArrayType *LookupIdArray(PrivilegedStatement *stmt, Datum *values, const char *nulls,
								MemoryContext target);

/* contact_tabs.c */
extern ArrayType *FetchContactTabs(int64 tenant_id, int64 org_id, bool has_role, int64 role_id,
								   bool use_memo, int64 epoch, MemoryContext target);
extern bool LookupContact(int64 contact_id, int64 *tenant_id, int64 *org_id,
						  bool *has_role, int64 *role_id, bool *restricted);
extern bool LookupUser(int64 user_id, int64 *tenant_id, AccessKind *access, bool *active);
extern bool CachedPrincipalTenant(PrincipalKind kind, int64 id, int64 *tenant_id);

/* visibility.c */
extern bool BypassesRowSecurity(void);

/* restore.c */
extern bool Restoring(void);

/* policy_support.c: the read policies' arms */
typedef enum PolicyTest
{
	TEST_UNKNOWN = 0,
	TEST_TAB,					/* can_see_tab(tab_id) */
	TEST_ORG_OBJECTS,			/* reads_org_objects(org_id) */
	TEST_COLLABORATION,			/* collaborates_on(object_id) */
	TEST_WHOLE_TENANT,			/* reads_whole_tenant(id[, reads]) */
	TEST_SUBMITTER				/* submitted_by_contact_id = the contact */
} PolicyTest;

extern PolicyTest PolicyArmOf(Node *node, Node **key);
struct PlannerInfo;
extern bool PolicyInitplanOf(struct PlannerInfo *root, Node *node, const char *function);
struct Plan;
extern FuncExpr *InitplanCall(SubPlan *initplan, struct Plan *plan);
extern FuncExpr *PolicyInitplanCall(struct PlannerInfo *root, Node *node);

/* implied_quals.c */
extern bool implied_quals_enabled;
extern void ImpliedQualsInit(void);
struct Plan;
extern List *PlanChildren(struct Plan *plan);
struct PlannedStmt;
typedef void (*PlanVisitor) (struct Plan *plan, void *arg);
extern void WalkStatementPlans(struct PlannedStmt *stmt, PlanVisitor visit, void *arg);

/* unread_initplans.c */
extern void DropUnreadInitplans(struct PlannedStmt *stmt);

/* principal_constants.c */
extern void PrincipalConstantsInit(void);
extern bool IsPrincipalFunction(Oid funcid);
struct ExprContext;
extern List *PrincipalCallsAsConstants(List *qual, struct ExprContext *econtext);

/* scan_support.c: the ordered scans (scans.h) */
extern void OrderedScansInit(void);

/* ordered_scan.c */
extern List *OrderedScanCalledParams(struct Plan *plan);

/* visibility_epoch.c */
typedef struct SnapshotState
{
	bool		usable;			/* MVCC, subtransactions not overflowed */
	TransactionId xmin;
	TransactionId xmax;
	uint32		xcnt;			/* transactions in progress */
	int32		subxcnt;
	CommandId	curcid;
	LocalTransactionId lxid;
	SubTransactionId subxid;
} SnapshotState;

extern void EpochRegisterCallbacks(void);
extern uint64 EpochInvalidations(void);
extern bool EpochWrittenThisTransaction(void);
extern Oid	EpochRelation(void);
extern Oid	IntrowNamespace(void);
extern Snapshot StatementSnapshot(void);
extern void SnapshotStateOf(Snapshot snap, SnapshotState *state);
extern bool SnapshotStateHolds(Snapshot snap, const SnapshotState *state);
extern bool StatementStateHolds(const SnapshotState *state);
extern int64 ReadEpoch(int64 tenant_id, int64 scope, Snapshot snap);

/* object lookups for point checks (visibility_epoch.c) */
extern bool FetchObjectOrg(int64 object_id, Snapshot snap, int64 *tenant_id,
						   bool *has_org, int64 *org_id);

/* crm_worker.c, crm_sync.c, http_client.c */
extern char *crm_database;
extern int	crm_naptime;
extern int	crm_timeout;
extern int	crm_page_size;
extern int	crm_max_response_kb;
extern int	crm_min_interval;
extern int	crm_overlap;
extern int	crm_max_retries;
extern void CrmDefineSettings(void);
extern void CrmRegisterWorker(void);
extern void CrmRegisterCallbacks(void);
extern bool CrmShouldStop(void);
extern void CrmSyncDueConnections(void);
extern int	HttpPostJson(const char *url, const char *token, const char *json,
						 int timeout_ms, size_t max_body,
						 StringInfo body, int *retry_after, char **error, bool *retryable);

/* shared helpers */
extern bool SortedInt64ArrayContains(ArrayType *array, int64 value);
extern const char *AccessKindName(AccessKind kind);

#endif							/* INTROW_H */
