/*
 * identity.c
 *		Which running database this is, to tell the live database from its
 *		copies.
 *
 * A restored dump, a template copy and a base backup started as a cluster
 * of its own all carry the original's feeds, keys and webhooks.  The
 * identity below differs between the original and each of them:
 * CREATE DATABASE and a restore give a new database OID, a dump restored
 * elsewhere a new cluster, and a base backup, which keeps the cluster's
 * system identifier and the OIDs, another data directory or another host.
 */
#include "postgres.h"

#include <unistd.h>

#include "access/htup_details.h"
#include "access/xlog.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

/* The cluster's system identifier, database OID, host name, data directory. */
PG_FUNCTION_INFO_V1(stockext_instance_identity);
Datum
stockext_instance_identity(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	char		host[256];
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	if (gethostname(host, sizeof(host)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not read the host name: %m")));
	/* POSIX leaves a truncated name unterminated. */
	host[sizeof(host) - 1] = '\0';

	/* int8, as pg_control_system() shows it. */
	values[0] = Int64GetDatum((int64) GetSystemIdentifier());
	values[1] = ObjectIdGetDatum(MyDatabaseId);
	values[2] = CStringGetTextDatum(host);
	values[3] = CStringGetTextDatum(DataDir);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}
