/*
 * stockext.c
 *		Module entry point.
 *
 * The library is loaded either from shared_preload_libraries (where the
 * ingestion worker gets registered) or on first use of one of its SQL
 * functions; both must work.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "guc.h"
#include "providers.h"
#include "worker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	/* pg_upgrade loads libraries only to check that they exist. */
	if (IsBinaryUpgrade)
		return;

	stockext_define_gucs();
	for (int i = 0; i < provider_count; i++)
		if (provider_list[i]->settings != NULL)
			stockext_define_provider_gucs(provider_list[i]);
	stockext_worker_init();

	/* Settings are defined above this line by the features that read them. */
	MarkGUCPrefixReserved("stockext");
}
