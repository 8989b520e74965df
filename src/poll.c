/*
 * poll.c
 *		What every poll of a feed shares, whoever makes it: the feed as the
 *		worker read it, a transaction of its own per step, and the record of
 *		the outcome (stockext.record_poll: success, or error with backoff).
 *
 * The worker's loop (worker.c) calls the pollers (fetch.c for HTTP feeds,
 * simulated feeds in worker.c) and the alert step (alerts.c); all of them
 * call down to here, and nothing here calls back up.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "ingest.h"
#include "poll.h"

void
record_poll(int feed_id, int64 stored, const char *error, int http_status)
{
	Oid			types[5] = {INT4OID, INT8OID, TEXTOID, INT4OID, INTERVALOID};
	Interval	backoff = {0};
	Datum		args[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	backoff.time = (int64) stockext_max_backoff_s * USECS_PER_SEC;
	args[0] = Int32GetDatum(feed_id);
	args[1] = Int64GetDatum(stored);
	args[2] = error ? CStringGetTextDatum(error) : (Datum) 0;
	nulls[2] = error ? ' ' : 'n';
	args[3] = Int32GetDatum(http_status);
	nulls[3] = http_status ? ' ' : 'n';
	args[4] = IntervalPGetDatum(&backoff);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT stockext.record_poll($1, $2, $3, $4, $5)",
							  5, types, args, nulls, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "stockext.record_poll failed");
	SPI_finish();
}

/*
 * Runs fn in a transaction of its own.  On error: the message (copied into
 * ctx) is returned and the transaction is rolled back; NULL on success.
 */
char *
in_transaction(void (*fn) (void *), void *arg, MemoryContext ctx)
{
	MemoryContext caller = CurrentMemoryContext;
	char	   *volatile error = NULL;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	PG_TRY();
	{
		fn(arg);
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(ctx);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		ingest_forget_partitions();
		error = edata->message;
	}
	PG_END_TRY();
	/* Commit and abort leave TopMemoryContext current: never allocate there. */
	MemoryContextSwitchTo(caller);
	return error;
}
