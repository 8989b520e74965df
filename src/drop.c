/*
 * drop.c
 *		DROP EXTENSION stockext is deliberate and leaves nothing behind.
 *
 * Dropping the extension deletes every stored bar, with the rollups, the
 * feeds and their API keys and the alert history.  The event trigger
 * stockext_drop_guard (ddl_command_start) refuses DROP EXTENSION stockext
 * while stockext.ticks holds bars, unless the statement says CASCADE or
 * stockext.allow_drop is on.  An event trigger rather than the
 * ProcessUtility hook, because it works whether or not the library is
 * preloaded; in C, because only the parse tree tells which extension is
 * dropped and how.  Event triggers fire in name order, so the guard runs
 * before stockext_drop_jobs, whose unscheduling through dblink could not be
 * rolled back.
 *
 * The schema stockext is created by CREATE EXTENSION from the control file;
 * it contains the extension and so cannot be one of its members, and it
 * outlives the DROP together with the grants on it, which then block DROP
 * ROLE.  A drop the guard lets through therefore also asks for the schema
 * to be dropped when the transaction commits, if by then the extension is
 * gone and nothing else lives in the schema.  At commit, not right after
 * the statement in the ProcessUtility hook: the hook exists only in a
 * preloaded library, and at commit a DROP rolled back to a savepoint or
 * followed by a new CREATE EXTENSION is seen for what it is.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_namespace.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/syscache.h"

#include "drop.h"
#include "guc.h"

/* Bars counted at most, so that refusing a drop stays quick on any table. */
#define DROP_COUNT_LIMIT 1000000

bool
drops_stockext(Node *parsetree)
{
	DropStmt   *stmt;
	ListCell   *lc;

	if (parsetree == NULL || !IsA(parsetree, DropStmt))
		return false;
	stmt = (DropStmt *) parsetree;
	if (stmt->removeType != OBJECT_EXTENSION)
		return false;
	foreach(lc, stmt->objects)
	{
		if (strcmp(strVal(lfirst(lc)), "stockext") == 0)
			return true;
	}
	return false;
}

/* Raises an error naming how many bars a drop would delete, if any. */
static void
refuse_if_bars(void)
{
	Oid			types[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(DROP_COUNT_LIMIT + 1)};
	bool		isnull;
	int64		bars;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT pg_catalog.count(*) FROM (SELECT 1 FROM stockext.ticks LIMIT $1) b",
							  1, types, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "counting the bars of stockext.ticks failed");
	bars = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	if (bars == 0)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
			 bars > DROP_COUNT_LIMIT ?
			 errmsg("cannot drop extension stockext because stockext.ticks holds more than %d bars",
					DROP_COUNT_LIMIT) :
			 errmsg_plural("cannot drop extension stockext because stockext.ticks holds %lld bar",
						   "cannot drop extension stockext because stockext.ticks holds %lld bars",
						   (unsigned long) bars, (long long) bars),
			 errdetail("Dropping the extension deletes the bars, the rollups, the feeds with their API keys and the alert history."),
			 errhint("Save what you need first (pg_dump, COPY), then use DROP EXTENSION stockext CASCADE, or SET stockext.allow_drop = on and drop it again.")));
}

/* The schema to drop at commit, set by a drop the guard let through. */
static Oid	schema_to_drop = InvalidOid;

/* Whether anything but default privileges still lives in a schema. */
static bool
schema_in_use(Oid nsp)
{
	Relation	depend = table_open(DependRelationId, AccessShareLock);
	ScanKeyData key[2];
	SysScanDesc scan;
	HeapTuple	tup;
	bool		used = false;

	ScanKeyInit(&key[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(NamespaceRelationId));
	ScanKeyInit(&key[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(nsp));
	scan = systable_beginscan(depend, DependReferenceIndexId, true, NULL, 2, key);
	/* Objects in a schema depend on it normally; default privileges automatically. */
	while (!used && (tup = systable_getnext(scan)) != NULL)
		used = ((Form_pg_depend) GETSTRUCT(tup))->deptype != DEPENDENCY_AUTO;
	systable_endscan(scan);
	table_close(depend, AccessShareLock);
	return used;
}

static bool
owns_schema(Oid nsp)
{
#if PG_VERSION_NUM >= 160000
	return object_ownercheck(NamespaceRelationId, nsp, GetUserId());
#else
	return pg_namespace_ownercheck(nsp, GetUserId());
#endif
}

static void
drop_schema_at_commit(XactEvent event, void *arg pg_attribute_unused())
{
	Oid			nsp = schema_to_drop;

	if (event == XACT_EVENT_PRE_COMMIT || event == XACT_EVENT_PRE_PREPARE)
	{
		ObjectAddress schema;

		schema_to_drop = InvalidOid;
		if (!OidIsValid(nsp))
			return;
		/* See what the transaction's last command did. */
		CommandCounterIncrement();
		if (OidIsValid(get_extension_oid("stockext", true)) ||
			!SearchSysCacheExists1(NAMESPACEOID, ObjectIdGetDatum(nsp)) ||
			!owns_schema(nsp) || schema_in_use(nsp))
			return;
		ObjectAddressSet(schema, NamespaceRelationId, nsp);
		performDeletion(&schema, DROP_RESTRICT, 0);
	}
	else if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
			 event == XACT_EVENT_PREPARE)
		schema_to_drop = InvalidOid;
}

/* Event trigger: refuses DROP EXTENSION stockext while bars are stored, unless meant. */
PG_FUNCTION_INFO_V1(stockext_drop_guard_trigger);
Datum
stockext_drop_guard_trigger(PG_FUNCTION_ARGS)
{
	static bool registered = false;
	EventTriggerData *trigdata;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		elog(ERROR, "stockext_drop_guard_trigger: not fired by an event trigger");
	trigdata = (EventTriggerData *) fcinfo->context;
	if (!drops_stockext(trigdata->parsetree))
		PG_RETURN_VOID();

	if (((DropStmt *) trigdata->parsetree)->behavior != DROP_CASCADE && !stockext_allow_drop)
		refuse_if_bars();

	if (!registered)
	{
		RegisterXactCallback(drop_schema_at_commit, NULL);
		registered = true;
	}
	schema_to_drop = get_namespace_oid("stockext", true);
	PG_RETURN_VOID();
}
