/*-------------------------------------------------------------------------
 * privileged.c
 *		Lookups that must see every row regardless of row-level security.
 *
 * Visibility is computed from the very tables it protects, so the lookups
 * run as the bootstrap superuser (which bypasses row-level security, also
 * FORCE'd) with search_path pinned to pg_catalog, as a SECURITY DEFINER
 * function would.  Queries are fixed strings with parameters; nothing of
 * the caller reaches them but the parameter values.
 *
 * An error inside leaves the user id and GUC nest level to be restored by
 * (sub)transaction abort, as for SECURITY DEFINER functions.
 *-------------------------------------------------------------------------
 */
#include "introw.h"

#include "catalog/pg_authid.h"
#include "miscadmin.h"
#include "utils/guc.h"

void
BeginPrivileged(PrivilegedState *state)
{
	GetUserIdAndSecContext(&state->save_userid, &state->save_sec_context);
	SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID,
						   state->save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	state->save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

void
EndPrivileged(PrivilegedState *state)
{
	AtEOXact_GUC(true, state->save_nestlevel);
	SetUserIdAndSecContext(state->save_userid, state->save_sec_context);
}

/*
 * Run a statement inside an SPI connection the caller opened, as a
 * privileged user; read-only statements use the active snapshot.  Fails
 * unless SPI answers expected_rc.  Returns the row count; results are in
 * SPI_tuptable.
 */
int
PrivilegedExecute(const char *sql, int nargs, Oid *argtypes, Datum *values,
				  const char *nulls, bool read_only, int expected_rc)
{
	PrivilegedState state;
	int			rc;

	BeginPrivileged(&state);
	rc = SPI_execute_with_args(sql, nargs, argtypes, values, nulls, read_only, 0);
	EndPrivileged(&state);
	if (rc != expected_rc)
		elog(ERROR, "introw: internal statement failed: %s", SPI_result_code_string(rc));
	return (int) SPI_processed;
}

/*
 * A read-only query of the extension's own, as PrivilegedExecute, from a
 * plan prepared on first use and kept for the backend's life.  The plan
 * cache re-plans it after DDL on the tables it reads (a reinstalled
 * extension included); it is always run as the same user with the same
 * search_path, so it never needs re-planning for those.
 */
int
PrivilegedQuery(PrivilegedStatement *stmt, Datum *values, const char *nulls)
{
	PrivilegedState state;
	int			rc;

	BeginPrivileged(&state);
	if (stmt->plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(stmt->sql, stmt->nargs, stmt->argtypes);

		if (plan == NULL)
			elog(ERROR, "introw: could not prepare internal query: %s",
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "introw: could not keep internal query plan");
		stmt->plan = plan;
	}
	rc = SPI_execute_plan(stmt->plan, values, nulls, true, 0);
	EndPrivileged(&state);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "introw: internal query failed: %s", SPI_result_code_string(rc));
	return (int) SPI_processed;
}

bool
SpiGetInt64(int row, int col, int64 *result)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc,
								  col, &isnull);

	if (!isnull)
		*result = DatumGetInt64(d);
	return !isnull;
}

bool
SpiGetBool(int row, int col, bool *result)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc,
								  col, &isnull);

	if (!isnull)
		*result = DatumGetBool(d);
	return !isnull;
}
