/*-------------------------------------------------------------------------
 * default_role.c
 *		BEFORE INSERT OR UPDATE trigger on introw.partner_contacts
 *		(PRODUCT.md section 5).
 *
 * INSERT (also multi-row, COPY and INSERT ... ON CONFLICT): a row without a
 * role gets the tenant's default role and role_source 'default'; a row with
 * a role keeps it, with role_source 'explicit' unless the writer said
 * 'crm'.  A role_source that is not one of 'explicit', 'default', 'crm' is
 * left alone so that the table's CHECK constraint refuses the row.  Without a default the row stays role-less and one WARNING per
 * statement and tenant says how to fix it.
 *
 * While a dump is restored (restore mode, src/restore.c) an INSERT takes the
 * row as it comes: the dump holds its role and role_source.
 *
 * UPDATE: contact_id cannot change.  A role_source the writer set is kept (the CHECK constraint judges
 * it); otherwise it follows role_id: NULL without a role, 'explicit' when the
 * role changed.  updated_at is the transaction's timestamp.
 *-------------------------------------------------------------------------
 */
#include "introw.h"

#include "access/htup_details.h"
#include "access/sysattr.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "nodes/bitmapset.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(introw_partner_contacts_role);

/* Column numbers, looked up once per relation descriptor. */
typedef struct ContactColumns
{
	Oid			relid;
	TupleDesc	tupdesc;
	int			contact_id;
	int			tenant_id;
	int			role_id;
	int			role_source;
	int			updated_at;
} ContactColumns;

static ContactColumns columns;

/* The tenants warned about "no default role" in the current statement. */
#define MAX_WARNED 32
static LocalTransactionId warned_lxid = InvalidLocalTransactionId;
static CommandId warned_cid;
static int	n_warned;
static int64 warned_tenants[MAX_WARNED];

static int
ColumnNumber(TupleDesc tupdesc, const char *name, Oid type)
{
	int			attnum = SPI_fnumber(tupdesc, name);

	if (attnum <= 0 || TupleDescAttr(tupdesc, attnum - 1)->atttypid != type)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" needs a column \"%s\" of type %s",
						"introw.partner_contacts_role", name, format_type_be(type))));
	return attnum;
}

static void
LoadColumns(Relation rel)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);

	if (columns.relid == RelationGetRelid(rel) && columns.tupdesc == tupdesc)
		return;
	columns.relid = InvalidOid;
	columns.contact_id = ColumnNumber(tupdesc, "contact_id", INT8OID);
	columns.tenant_id = ColumnNumber(tupdesc, "tenant_id", INT8OID);
	columns.role_id = ColumnNumber(tupdesc, "role_id", INT8OID);
	columns.role_source = ColumnNumber(tupdesc, "role_source", TEXTOID);
	columns.updated_at = ColumnNumber(tupdesc, "updated_at", TIMESTAMPTZOID);
	columns.tupdesc = tupdesc;
	columns.relid = RelationGetRelid(rel);
}

/* role_source as a C string, or NULL. */
static char *
GetRoleSource(HeapTuple tuple, TupleDesc tupdesc)
{
	bool		isnull;
	Datum		d = heap_getattr(tuple, columns.role_source, tupdesc, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

static bool
IsRoleSource(const char *source)
{
	return strcmp(source, "explicit") == 0 || strcmp(source, "default") == 0 ||
		strcmp(source, "crm") == 0;
}

static void
WarnNoDefault(int64 tenant_id)
{
	CommandId	cid = GetCurrentCommandId(false);

	if (warned_lxid != MyProc->lxid || warned_cid != cid)
	{
		warned_lxid = MyProc->lxid;
		warned_cid = cid;
		n_warned = 0;
	}
	for (int i = 0; i < n_warned; i++)
		if (warned_tenants[i] == tenant_id)
			return;
	if (n_warned < MAX_WARNED)
		warned_tenants[n_warned++] = tenant_id;
	ereport(WARNING,
			(errmsg("tenant " INT64_FORMAT " has no default partner role: new contacts get no role",
					tenant_id),
			 errdetail("A contact without a role sees only tabs no role limits and only the objects it collaborates on."),
			 errhint("Set one with introw.set_default_role(role_id), then run introw.assign_default_role(" INT64_FORMAT ").",
					 tenant_id)));
}

static HeapTuple
OnInsert(HeapTuple tuple, TupleDesc tupdesc)
{
	bool		isnull;
	int64		tenant_id;
	int64		role_id;
	char	   *source;
	int			cols[2] = {columns.role_id, columns.role_source};
	Datum		values[2];
	bool		nulls[2] = {false, false};

	/* a value that is none of ours is left for the CHECK constraint to refuse */
	source = GetRoleSource(tuple, tupdesc);
	if (source != NULL && !IsRoleSource(source))
		return tuple;
	(void) heap_getattr(tuple, columns.role_id, tupdesc, &isnull);
	if (!isnull)
	{
		if (source != NULL && strcmp(source, "crm") == 0)
			return tuple;
		values[1] = CStringGetTextDatum("explicit");
		return heap_modify_tuple_by_cols(tuple, tupdesc, 1, &cols[1], &values[1], &nulls[1]);
	}
	tenant_id = DatumGetInt64(heap_getattr(tuple, columns.tenant_id, tupdesc, &isnull));
	if (isnull)
		return tuple;			/* NOT NULL will refuse it */
	if (!TenantDefaultRole(tenant_id, &role_id))
	{
		WarnNoDefault(tenant_id);
		nulls[0] = nulls[1] = true;
		values[0] = values[1] = (Datum) 0;
	}
	else
	{
		values[0] = Int64GetDatum(role_id);
		values[1] = CStringGetTextDatum("default");
	}
	return heap_modify_tuple_by_cols(tuple, tupdesc, 2, cols, values, nulls);
}

static bool
ColumnWasSet(const Bitmapset *updatedcols, int attnum)
{
	return bms_is_member(attnum - FirstLowInvalidHeapAttributeNumber, updatedcols);
}

static HeapTuple
OnUpdate(HeapTuple oldtuple, HeapTuple newtuple, TupleDesc tupdesc,
		 const Bitmapset *updatedcols)
{
	bool		old_role_null;
	bool		new_role_null;
	Datum		old_role = heap_getattr(oldtuple, columns.role_id, tupdesc, &old_role_null);
	Datum		new_role = heap_getattr(newtuple, columns.role_id, tupdesc, &new_role_null);
	char	   *new_source = GetRoleSource(newtuple, tupdesc);
	bool		role_changed = old_role_null != new_role_null ||
		(!new_role_null && DatumGetInt64(old_role) != DatumGetInt64(new_role));
	int			cols[2] = {columns.role_source, columns.updated_at};
	Datum		values[2];
	bool		nulls[2] = {false, false};
	bool		isnull;

	/* principals and visibility stamps name contacts by id: ids stay */
	if (DatumGetInt64(heap_getattr(oldtuple, columns.contact_id, tupdesc, &isnull)) !=
		DatumGetInt64(heap_getattr(newtuple, columns.contact_id, tupdesc, &isnull)))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("contact_id of a partner contact cannot change")));

	if (ColumnWasSet(updatedcols, columns.role_source))
	{
		/* the writer's word, for the CHECK constraints to judge */
		nulls[0] = new_source == NULL;
		values[0] = new_source ? CStringGetTextDatum(new_source) : (Datum) 0;
	}
	else if (new_role_null)
		nulls[0] = true;
	else if (role_changed || new_source == NULL)
		values[0] = CStringGetTextDatum("explicit");
	else
		values[0] = CStringGetTextDatum(new_source);
	values[1] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	return heap_modify_tuple_by_cols(newtuple, tupdesc, 2, cols, values, nulls);
}

Datum
introw_partner_contacts_role(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	tupdesc;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" was not called by trigger manager",
						"introw.partner_contacts_role")));
	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) ||
		TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" must be fired BEFORE INSERT OR UPDATE ... FOR EACH ROW",
						"introw.partner_contacts_role")));
	LoadColumns(trigdata->tg_relation);
	tupdesc = RelationGetDescr(trigdata->tg_relation);
	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		return PointerGetDatum(Restoring() ? trigdata->tg_trigtuple :
							   OnInsert(trigdata->tg_trigtuple, tupdesc));
	return PointerGetDatum(OnUpdate(trigdata->tg_trigtuple, trigdata->tg_newtuple, tupdesc,
									trigdata->tg_updatedcols));
}
