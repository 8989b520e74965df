/*
 * latest.c
 *		Keeps stockext.latest_ticks, the newest bar of each (symbol,
 *		resolution) of stockext.ticks, current from the statement-level
 *		triggers of ticks.
 *
 * The work is SQL over the statement's transition tables, prepared once per
 * backend.  It is C for what a plpgsql trigger cannot do without a query of
 * its own: see that a transition table is empty and return at once.  Every
 * upsert fires both the INSERT and the UPDATE triggers, and one of the two
 * tables is empty unless the statement both inserted and updated bars.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/tuplestore.h"

/*
 * The statements, over the relation named by %1$s (stockext.latest_ticks,
 * or on a Citus node the shard of it co-located with the shard of ticks the
 * trigger fired on, %2$s).  New and updated bars replace the row of their
 * series when they are at least as new: a late bar changes nothing.  In key
 * order, so that concurrent writers lock the rows in the same order.
 */
static const char *const add_sql =
"INSERT INTO %1$s AS l (symbol, resolution, ts, open, high, low, close, volume)"
" SELECT DISTINCT ON (n.symbol, n.resolution)"
"        n.symbol, n.resolution, n.ts, n.open, n.high, n.low, n.close, n.volume"
" FROM new_rows n"
" ORDER BY n.symbol, n.resolution, n.ts DESC"
" ON CONFLICT (symbol, resolution) DO UPDATE"
" SET ts = excluded.ts, open = excluded.open, high = excluded.high, low = excluded.low,"
"     close = excluded.close, volume = excluded.volume"
" WHERE excluded.ts >= l.ts";

/* The rows showing a bar that is gone get the newest bar left. */
#define RENEW_SQL(gone) \
"SELECT stockext.latest_ticks_renew(array_agg(l.symbol), array_agg(l.resolution), array_agg(l.ts)," \
"                                   '%2$s', '%1$s')" \
" FROM %1$s l" \
" JOIN old_rows o ON o.symbol = l.symbol AND o.resolution = l.resolution AND o.ts = l.ts" \
gone \
" HAVING count(*) > 0"

/* An updated bar is gone when its key changed. */
static const char *const renew_updated_sql = RENEW_SQL(
" WHERE NOT EXISTS (SELECT FROM new_rows n"
"                   WHERE n.symbol = o.symbol AND n.resolution = o.resolution AND n.ts = o.ts)");

static const char *const renew_deleted_sql = RENEW_SQL("");

static const char *const truncate_sql = "DELETE FROM %1$s";

enum
{
	ADD,
	RENEW_UPDATED,
	RENEW_DELETED,
	TRUNCATE,
	NSTATEMENTS
};

static const char *const *const statements[NSTATEMENTS] = {
	[ADD] = &add_sql,
	[RENEW_UPDATED] = &renew_updated_sql,
	[RENEW_DELETED] = &renew_deleted_sql,
	[TRUNCATE] = &truncate_sql,
};

/* The statements on stockext.ticks, prepared on first use. */
static SPIPlanPtr plans[NSTATEMENTS];

/*
 * Runs statement which in the current SPI connection: on stockext.ticks
 * (shard NULL) its kept plan, on a shard of it the statement for the
 * co-located shard of latest_ticks.
 */
static void
run(int which, const char *shard, const char *latest_shard)
{
	char	   *sql;

	if (shard != NULL)
	{
		sql = psprintf(*statements[which], latest_shard, shard);
		if (SPI_execute(sql, false, 0) < 0)
			elog(ERROR, "running \"%s\" failed", sql);
		return;
	}
	if (plans[which] == NULL)
	{
		SPIPlanPtr	plan;

		sql = psprintf(*statements[which], "stockext.latest_ticks", "stockext.ticks");
		plan = SPI_prepare(sql, 0, NULL);
		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "preparing \"%s\" failed: %s", sql, SPI_result_code_string(SPI_result));
		plans[which] = plan;
	}
	if (SPI_execute_plan(plans[which], NULL, NULL, false, 0) < 0)
		elog(ERROR, "running statement %d on stockext.latest_ticks failed", which);
}

static bool
has_rows(Tuplestorestate *table)
{
	return table != NULL && tuplestore_tuple_count(table) > 0;
}

/*
 * The shard of stockext.latest_ticks co-located with the shard of ticks
 * relid (stockext.colocated_shard), quoted as a relation name.
 */
static char *
colocated_latest(Oid relid)
{
	Datum		arg = ObjectIdGetDatum(relid);
	Oid			argtype = REGCLASSOID;
	bool		isnull;
	Datum		name;

	if (SPI_execute_with_args("SELECT stockext.colocated_shard('stockext.latest_ticks', $1)::text",
							  1, &argtype, &arg, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "finding the shard of stockext.latest_ticks failed");
	name = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no shard of stockext.latest_ticks is co-located with \"%s\"",
						get_rel_name(relid)),
				 errhint("Distribute stockext's tables with stockext.distribute().")));
	return TextDatumGetCString(name);
}

/* Trigger: keeps stockext.latest_ticks current through a statement on stockext.ticks. */
PG_FUNCTION_INFO_V1(stockext_latest_ticks_track);
Datum
stockext_latest_ticks_track(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	bool		truncate;
	bool		added;
	bool		removed;
	Oid			relid;
	char	   *shard = NULL;
	char	   *latest_shard = NULL;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event)
		|| !TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event))
		elog(ERROR, "stockext_latest_ticks_track: not fired AFTER ... FOR EACH STATEMENT");
	truncate = TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event);
	added = has_rows(trigdata->tg_newtable);
	removed = has_rows(trigdata->tg_oldtable);
	if (!truncate && !added && !removed)
		return PointerGetDatum(NULL);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_register_trigger_data(trigdata) != SPI_OK_TD_REGISTER)
		elog(ERROR, "registering the transition tables failed");
	/* Not stockext.ticks itself: a shard of it on a Citus node. */
	relid = RelationGetRelid(trigdata->tg_relation);
	if (relid != get_relname_relid("ticks", RelationGetNamespace(trigdata->tg_relation)))
	{
		shard = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(trigdata->tg_relation)),
										   RelationGetRelationName(trigdata->tg_relation));
		latest_shard = colocated_latest(relid);
	}
	if (truncate)
		run(TRUNCATE, shard, latest_shard);
	if (added)
		run(ADD, shard, latest_shard);
	if (removed && TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		run(RENEW_UPDATED, shard, latest_shard);
	else if (removed)
		run(RENEW_DELETED, shard, latest_shard);
	SPI_finish();
	return PointerGetDatum(NULL);
}
