/*-------------------------------------------------------------------------
 * introw.c
 *		Module entry point of introw_roles.
 *
 * Loaded on first use of any of the extension's C functions (or at start
 * when listed in shared_preload_libraries).  Registers, once per backend,
 * the transaction callbacks and utility hook of the principal, the
 * executor hook that hands it to parallel workers, the planner hook of
 * the ordered scans (CRM objects, content items), the executor hook that
 * gives scans compiled by JIT the principal's values as constants
 * (principal_constants.c) and the relcache
 * callback of the visibility stamps, defines the settings (CRM sync, the
 * size of the visibility cache, trust in JWT claims, and the one that
 * carries the principal to parallel workers), and reserves the "introw."
 * GUC prefix; when preloaded, registers the CRM sync launcher
 * (crm_worker.c).
 *-------------------------------------------------------------------------
 */
#include "scans.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	if (IsBinaryUpgrade)
		return;
	CrmDefineSettings();
	ParallelDefineSetting();
	VisibilityCacheDefineSetting();
	TokenDefineSetting();
	OrderedScansInit();
	ImpliedQualsInit();
	PrincipalConstantsInit();
	MarkGUCPrefixReserved("introw");
	PrincipalRegisterCallbacks();
	PrincipalInstallHooks();
	ParallelInstallHooks();
	EpochRegisterCallbacks();
	VisibilityCacheRegisterCallbacks();
	CrmRegisterCallbacks();
	if (process_shared_preload_libraries_in_progress)
		CrmRegisterWorker();
}
