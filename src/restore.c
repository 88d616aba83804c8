/*-------------------------------------------------------------------------
 * restore.c
 *		Restore mode: is this session loading a dump?  (introw.restoring())
 *
 * pg_dump's scripts and pg_restore set row_security = off.  With it off, a
 * query that row-level security would filter fails instead, and every
 * table of the extension forces its policies, so only a superuser or a
 * BYPASSRLS role can then read or write them.  Such a session is in
 * restore mode, and the extension's triggers that derive rows take the
 * rows as they come, since a dump holds the derived rows already: a new
 * tenant gets no preconfigured roles, a contact keeps the role and
 * role_source it has, a CRM object adds no collaborator, and a partner
 * organisation whose champion is not loaded yet waits for it
 * (sql/introw_roles--1.4--1.5.sql).
 *
 * The role judged is the outer user, as for BypassesRowSecurity(): an
 * application role that turns row_security off and calls a SECURITY
 * DEFINER function writing the tables leaves the triggers on.
 *-------------------------------------------------------------------------
 */
#include "introw.h"

#include "fmgr.h"
#include "utils/rls.h"

PG_FUNCTION_INFO_V1(introw_restoring);

Datum
introw_restoring(PG_FUNCTION_ARGS)
{
	/* row_security first: the usual session answers without a lookup */
	PG_RETURN_BOOL(!row_security && BypassesRowSecurity());
}
