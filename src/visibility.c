/*-------------------------------------------------------------------------
 * visibility.c
 *		SQL-callable visibility functions (PRODUCT.md section 4).
 *
 * Policies call these inside (SELECT ...) so each runs once per statement;
 * all of them read the per-backend cache of visibility_cache.c.
 *-------------------------------------------------------------------------
 */
#include "introw.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(introw_visible_tab_ids);
PG_FUNCTION_INFO_V1(introw_contact_visible_tab_ids);
PG_FUNCTION_INFO_V1(introw_visible_room_ids);
PG_FUNCTION_INFO_V1(introw_readable_org_ids);
PG_FUNCTION_INFO_V1(introw_managed_org_ids);
PG_FUNCTION_INFO_V1(introw_readable_user_ids);
PG_FUNCTION_INFO_V1(introw_reads_configuration);
PG_FUNCTION_INFO_V1(introw_current_principal_kind);
PG_FUNCTION_INFO_V1(introw_object_org_ids);
PG_FUNCTION_INFO_V1(introw_collab_object_ids);
PG_FUNCTION_INFO_V1(introw_task_org_ids);
PG_FUNCTION_INFO_V1(introw_can_see_object);
PG_FUNCTION_INFO_V1(introw_current_org_id);
PG_FUNCTION_INFO_V1(introw_bypasses_row_security);
PG_FUNCTION_INFO_V1(introw_whole_tenant_from);
PG_FUNCTION_INFO_V1(introw_whole_tenant_to);
PG_FUNCTION_INFO_V1(introw_current_reads_whole_tenant);

/* A copy in the caller's memory: the cache may be rebuilt at any time. */
static Datum
CopyArray(ArrayType *array)
{
	Size		size = VARSIZE(array);
	ArrayType  *copy = palloc(size);

	memcpy(copy, array, size);
	PG_RETURN_ARRAYTYPE_P(copy);
}

Datum
introw_visible_tab_ids(PG_FUNCTION_ARGS)
{
	return CopyArray(GetVisibilityCache()->tab_ids);
}

Datum
introw_visible_room_ids(PG_FUNCTION_ARGS)
{
	return CopyArray(GetVisibilityCache()->room_ids);
}

Datum
introw_readable_org_ids(PG_FUNCTION_ARGS)
{
	return CopyArray(GetVisibilityCache()->org_ids);
}

Datum
introw_managed_org_ids(PG_FUNCTION_ARGS)
{
	return CopyArray(GetVisibilityCache()->managed_org_ids);
}

Datum
introw_readable_user_ids(PG_FUNCTION_ARGS)
{
	return CopyArray(GetVisibilityCache()->user_ids);
}

/*
 * The whole-tenant arm of a read policy as an id range: every id for admin
 * and member, the empty range 1..0 for everyone else.  A range of parameters
 * gets the planner's small default estimate, where tenant_id = ANY(...)
 * would be estimated to match the whole tenant and turn a contact's
 * listing into a sequential scan.
 */
Datum
introw_whole_tenant_from(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(CacheReadsWholeTenant(GetVisibilityCache()) ? PG_INT64_MIN : 1);
}

Datum
introw_whole_tenant_to(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(CacheReadsWholeTenant(GetVisibilityCache()) ? PG_INT64_MAX : 0);
}

/*
 * Does the principal read every row of its tenant (admin, member)?  The
 * read policies take it once per statement, as an initplan, and hand it to
 * the arm reads_whole_tenant(id, reads) (policy_support.c).
 */
Datum
introw_current_reads_whole_tenant(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(CacheReadsWholeTenant(GetVisibilityCache()));
}

Datum
introw_object_org_ids(PG_FUNCTION_ARGS)
{
	return CopyArray(GetVisibilityCache()->object_org_ids);
}

Datum
introw_collab_object_ids(PG_FUNCTION_ARGS)
{
	return CopyArray(GetVisibilityCache()->collab_object_ids);
}

Datum
introw_task_org_ids(PG_FUNCTION_ARGS)
{
	return CopyArray(GetVisibilityCache()->task_org_ids);
}

/* The contact principal's organisation, NULL for anyone else. */
Datum
introw_current_org_id(PG_FUNCTION_ARGS)
{
	const VisibilityCache *cache = GetVisibilityCache();

	if (cache->access != ACCESS_CONTACT)
		PG_RETURN_NULL();
	PG_RETURN_INT64(cache->org_id);
}

/*
 * May the current principal see this CRM object?  The same rule as the
 * read policy of introw.crm_objects, for one object.
 */
Datum
introw_can_see_object(PG_FUNCTION_ARGS)
{
	int64		object_id = PG_GETARG_INT64(0);
	const VisibilityCache *cache = GetVisibilityCache();
	int64		tenant_id;
	int64		org_id;
	bool		has_org;

	if (cache->access == ACCESS_NONE ||
		!FetchObjectOrg(object_id, StatementSnapshot(), &tenant_id, &has_org, &org_id) ||
		tenant_id != cache->tenant_id)
		PG_RETURN_BOOL(false);
	if (CacheReadsWholeTenant(cache))
		PG_RETURN_BOOL(true);
	if (SortedInt64ArrayContains(cache->collab_object_ids, object_id))
		PG_RETURN_BOOL(true);
	PG_RETURN_BOOL(has_org && SortedInt64ArrayContains(cache->object_org_ids, org_id));
}

/*
 * Is the caller a superuser or a BYPASSRLS role?  The outer user, not the
 * current one: inside a SECURITY DEFINER function (explain_access,
 * partner_card) the current user is the function's owner.
 */
bool
BypassesRowSecurity(void)
{
	Oid			caller = GetOuterUserId();

	return superuser_arg(caller) || has_bypassrls_privilege(caller);
}

Datum
introw_bypasses_row_security(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(BypassesRowSecurity());
}

Datum
introw_reads_configuration(PG_FUNCTION_ARGS)
{
	AccessKind	access;

	if (BypassesRowSecurity())
		PG_RETURN_BOOL(true);
	access = GetVisibilityCache()->access;
	PG_RETURN_BOOL(access == ACCESS_ADMIN || access == ACCESS_MEMBER ||
				   access == ACCESS_PARTNER_MANAGER);
}

Datum
introw_current_principal_kind(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(AccessKindName(GetVisibilityCache()->access)));
}

/*
 * The tabs a given contact sees, for reports.  Allowed to superusers,
 * BYPASSRLS roles and an admin principal (of the contact's tenant: a contact
 * of another tenant does not exist for it).
 */
Datum
introw_contact_visible_tab_ids(PG_FUNCTION_ARGS)
{
	int64		contact_id;
	int64		tenant_id;
	int64		org_id;
	int64		role_id;
	bool		has_role;
	bool		restricted;
	bool		bypass = BypassesRowSecurity();
	const VisibilityCache *cache = GetVisibilityCache();

	if (!bypass && cache->access != ACCESS_ADMIN)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for function %s", "contact_visible_tab_ids"),
				 errdetail("Only an admin principal, a superuser or a BYPASSRLS role may report on other contacts.")));
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	contact_id = PG_GETARG_INT64(0);
	if (!LookupContact(contact_id, &tenant_id, &org_id, &has_role, &role_id, &restricted) ||
		(!bypass && tenant_id != cache->tenant_id))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("partner contact " INT64_FORMAT " does not exist", contact_id)));
	PG_RETURN_ARRAYTYPE_P(ContactTabIds(tenant_id, org_id, has_role, role_id));
}
