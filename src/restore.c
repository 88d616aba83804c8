/*-------------------------------------------------------------------------
 * restore.c
 *		Restore mode: is this session loading a dump?  (introw.restoring())
 *
 * pg_dump's scripts and pg_restore SET row_security = off.  With it off, a
 * query that row-level security would filter fails instead, and every
 * table of the extension forces its policies, so only a superuser or a
 * BYPASSRLS role can then read or write them.  Such a session is in
 * restore mode, and the extension's triggers that derive rows on INSERT
 * take the rows as they come, since a dump holds the derived rows
 * already: a new tenant gets no preconfigured roles, a contact keeps the
 * role and role_source it has (src/default_role.c), a CRM object adds no
 * collaborator, and a partner organisation's champion waits for its
 * contact (sql/introw_roles--1.4--1.5.sql).
 *
 * Only a SET in the session counts: row_security off by default (ALTER
 * DATABASE or ALTER ROLE ... SET, which a database owner or a CREATEROLE
 * role may run, PGOPTIONS, postgresql.conf) does not turn the triggers
 * off for every privileged session, nor does anything in a background
 * worker (the CRM sync).  The role judged is the outer user, as for
 * BypassesRowSecurity(): an application role that sets row_security off
 * and calls a SECURITY DEFINER function writing the tables leaves the
 * triggers on.
 *-------------------------------------------------------------------------
 */
#include "introw.h"

#include "access/parallel.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/rls.h"

PG_FUNCTION_INFO_V1(introw_restoring);

bool
Restoring(void)
{
	const char *reset;

	/* row_security first: the usual session answers without a lookup */
	if (row_security)
		return false;
	if (IsBackgroundWorker && !IsParallelWorker())
		return false;
	reset = GetConfigOptionResetString("row_security");
	if (reset == NULL || strcmp(reset, "on") != 0)
		return false;
	return BypassesRowSecurity();
}

Datum
introw_restoring(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(Restoring());
}
