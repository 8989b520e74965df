/*
 * privileges.c
 *		The rollups are readable by exactly the roles that can read the bars.
 *
 * The rollup tables, their partitions, the live views and the invalidation
 * keys all show what stockext.ticks holds, so their SELECT privilege
 * follows that of ticks: stockext.rollup_privilege_fixes() lists the GRANT
 * and REVOKE statements that would make them match, and
 * stockext.sync_rollup_privileges() runs them.  It runs when a rollup is
 * added and, through the event trigger stockext_rollup_privileges
 * (ddl_command_end), after every GRANT or REVOKE on a table of the schema
 * stockext, so a GRANT SELECT ON stockext.ticks reaches the rollups in the
 * same transaction; a grant made on a rollup directly is undone, with a
 * NOTICE.
 *
 * Copying the grants keeps the rollups ordinary tables: a role that cannot
 * read ticks gets "permission denied" rather than silently empty rows (a
 * row-level policy calling has_table_privilege() would give those, per
 * row and per partition), and nothing is checked at query time.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "commands/event_trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/lsyscache.h"

/* Set while the sync runs, so its own GRANTs do not start it again. */
static bool syncing = false;

/* Runs the statements of stockext.rollup_privilege_fixes(); returns how many. */
PG_FUNCTION_INFO_V1(stockext_sync_rollup_privileges);
Datum
stockext_sync_rollup_privileges(PG_FUNCTION_ARGS)
{
	uint64		n = 0;

	if (syncing)
		PG_RETURN_INT64(0);
	syncing = true;
	PG_TRY();
	{
		char	  **fixes;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute("SELECT f FROM stockext.rollup_privilege_fixes() f", true, 0) != SPI_OK_SELECT)
			elog(ERROR, "listing the rollup privileges to fix failed");
		n = SPI_processed;
		fixes = palloc(Max(n, 1) * sizeof(char *));
		for (uint64 i = 0; i < n; i++)
			fixes[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		for (uint64 i = 0; i < n; i++)
			if (SPI_execute(fixes[i], false, 0) != SPI_OK_UTILITY)
				elog(ERROR, "could not run \"%s\"", fixes[i]);
		SPI_finish();
	}
	PG_FINALLY();
	{
		syncing = false;
	}
	PG_END_TRY();
	PG_RETURN_INT64((int64) n);
}

/* What a GRANT or REVOKE is about, for the event trigger. */
typedef enum GrantTarget
{
	GRANT_ELSEWHERE,			/* nothing of the schema stockext */
	GRANT_TICKS,				/* stockext.ticks, maybe among others */
	GRANT_OTHER					/* tables of stockext other than ticks */
} GrantTarget;

static GrantTarget
grant_target(Node *parsetree)
{
	GrantStmt  *stmt;
	Oid			nsp = get_namespace_oid("stockext", true);
	GrantTarget target = GRANT_ELSEWHERE;
	ListCell   *lc;

	if (parsetree == NULL || !IsA(parsetree, GrantStmt) || !OidIsValid(nsp))
		return GRANT_ELSEWHERE;
	stmt = (GrantStmt *) parsetree;
	if (stmt->objtype != OBJECT_TABLE)
		return GRANT_ELSEWHERE;
	foreach(lc, stmt->objects)
	{
		if (stmt->targtype == ACL_TARGET_ALL_IN_SCHEMA)
		{
			if (strcmp(strVal(lfirst(lc)), "stockext") == 0)
				return GRANT_TICKS;
		}
		else if (stmt->targtype == ACL_TARGET_OBJECT)
		{
			Oid			rel = RangeVarGetRelid((RangeVar *) lfirst(lc), NoLock, true);

			if (OidIsValid(rel) && get_rel_namespace(rel) == nsp)
			{
				if (rel == get_relname_relid("ticks", nsp))
					return GRANT_TICKS;
				target = GRANT_OTHER;
			}
		}
	}
	return target;
}

/* Event trigger: after a GRANT or REVOKE on stockext's tables, the rollups follow ticks. */
PG_FUNCTION_INFO_V1(stockext_rollup_privileges_trigger);
Datum
stockext_rollup_privileges_trigger(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	GrantTarget target;
	bool		isnull;
	int64		fixed;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		elog(ERROR, "stockext_rollup_privileges_trigger: not fired by an event trigger");
	trigdata = (EventTriggerData *) fcinfo->context;
	/* pg_upgrade restores the privileges as they were. */
	if (syncing || IsBinaryUpgrade)
		PG_RETURN_VOID();
	target = grant_target(trigdata->parsetree);
	if (target == GRANT_ELSEWHERE)
		PG_RETURN_VOID();
	/* Through SQL: the sync is SECURITY DEFINER, as only the owner may grant on the rollups. */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT stockext.sync_rollup_privileges()", false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not make the rollup privileges follow stockext.ticks");
	fixed = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	if (fixed > 0 && target == GRANT_OTHER)
		ereport(NOTICE,
				(errmsg("privileges on the rollups follow those on stockext.ticks"),
				 errdetail("The rollups were given back the SELECT grants of stockext.ticks."),
				 errhint("GRANT SELECT ON stockext.ticks to let a role read the bars and their rollups.")));
	PG_RETURN_VOID();
}
