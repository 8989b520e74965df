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

#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/tuplestore.h"

/*
 * New and updated bars replace the row of their series when they are at
 * least as new: a late bar changes nothing.  In key order, so that
 * concurrent writers lock the rows in the same order.
 */
static const char *const add_sql =
"INSERT INTO stockext.latest_ticks AS l (symbol, resolution, ts, open, high, low, close, volume)"
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
"SELECT stockext.latest_ticks_renew(array_agg(l.symbol), array_agg(l.resolution), array_agg(l.ts))" \
" FROM stockext.latest_ticks l" \
" JOIN old_rows o ON o.symbol = l.symbol AND o.resolution = l.resolution AND o.ts = l.ts" \
gone \
" HAVING count(*) > 0"

/* An updated bar is gone when its key changed. */
static const char *const renew_updated_sql = RENEW_SQL(
" WHERE NOT EXISTS (SELECT FROM new_rows n"
"                   WHERE n.symbol = o.symbol AND n.resolution = o.resolution AND n.ts = o.ts)");

static const char *const renew_deleted_sql = RENEW_SQL("");

static const char *const truncate_sql = "DELETE FROM stockext.latest_ticks";

enum
{
	ADD,
	RENEW_UPDATED,
	RENEW_DELETED,
	TRUNCATE,
	NSTATEMENTS
};

static SPIPlanPtr plans[NSTATEMENTS];

/* Runs statement which (prepared on first use) in the current SPI connection. */
static void
run(int which, const char *sql)
{
	if (plans[which] == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(sql, 0, NULL);

		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "preparing \"%s\" failed: %s", sql, SPI_result_code_string(SPI_result));
		plans[which] = plan;
	}
	if (SPI_execute_plan(plans[which], NULL, NULL, false, 0) < 0)
		elog(ERROR, "running \"%s\" failed", sql);
}

static bool
has_rows(Tuplestorestate *table)
{
	return table != NULL && tuplestore_tuple_count(table) > 0;
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
	if (truncate)
		run(TRUNCATE, truncate_sql);
	if (added)
		run(ADD, add_sql);
	if (removed && TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		run(RENEW_UPDATED, renew_updated_sql);
	else if (removed)
		run(RENEW_DELETED, renew_deleted_sql);
	SPI_finish();
	return PointerGetDatum(NULL);
}
