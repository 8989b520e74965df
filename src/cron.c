/*
 * cron.c
 *		DROP EXTENSION stockext removes the extension's pg_cron jobs.
 *
 * pg_cron keeps its jobs in the database named by cron.database_name, outside
 * the extension, so they would outlive it and fail every minute.  An event
 * trigger at ddl_command_start sees the DROP before the extension's objects
 * go and calls stockext.cron_run() to unschedule them.  It must look at the
 * statement itself: a plpgsql event trigger cannot tell which extension a
 * DROP EXTENSION names, and at sql_drop the trigger is already gone.
 */
#include "postgres.h"

#include "commands/event_trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "nodes/parsenodes.h"

#include "drop.h"

/* Event trigger: before DROP EXTENSION stockext, unschedules its pg_cron jobs. */
PG_FUNCTION_INFO_V1(stockext_drop_jobs_trigger);
Datum
stockext_drop_jobs_trigger(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		elog(ERROR, "stockext_drop_jobs_trigger: not fired by an event trigger");
	trigdata = (EventTriggerData *) fcinfo->context;
	if (!drops_stockext(trigdata->parsetree))
		PG_RETURN_VOID();

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT stockext.cron_run(stockext.cron_unschedule_sql(), true)",
					false, 0) != SPI_OK_SELECT)
		elog(ERROR, "stockext_drop_jobs_trigger: could not unschedule the jobs");
	SPI_finish();
	PG_RETURN_VOID();
}
