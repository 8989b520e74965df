/*
 * distributed.c
 *		What stockext's C asks of a Citus cluster its bars are distributed
 *		over (stockext.distribute(), install/parts/90-citus.sql).
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "storage/proc.h"
#include "utils/lsyscache.h"

#include "distributed.h"

bool
ticks_distributed(void)
{
	static LocalTransactionId asked = InvalidLocalTransactionId;
	static bool distributed = false;

	/* Where Citus is not installed, a catalog cache miss. */
	if (!OidIsValid(get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE)))
		return false;
	if (asked != MyProc->lxid)
	{
		Oid			type = REGCLASSOID;
		Datum		relid = ObjectIdGetDatum(get_relname_relid("ticks",
															   get_namespace_oid("stockext", false)));
		bool		isnull;

		/* As stockext.is_distributed(), which a 0.2.0 database lacks. */
		if (SPI_execute_with_args("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition p"
								  "               WHERE p.logicalrelid = $1)",
								  1, &type, &relid, NULL, true, 1) != SPI_OK_SELECT ||
			SPI_processed != 1)
			elog(ERROR, "reading the Citus metadata of stockext.ticks failed");
		distributed = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
												 SPI_tuptable->tupdesc, 1, &isnull));
		asked = MyProc->lxid;
	}
	return distributed;
}
