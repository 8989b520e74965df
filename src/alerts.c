/*
 * alerts.c
 *		Alert evaluation and webhook delivery from the ingestion worker.
 *
 * The rules live in SQL (stockext.evaluate_alerts and friends); this file
 * only drives them from the worker loop.  Webhook posts run on a libcurl
 * multi handle that outlives loop iterations: each round advances the
 * transfers without waiting, so a hanging endpoint costs the loop nothing
 * and its transfer ends at stockext.http_timeout.  Outcomes are recorded
 * in a transaction of their own after every libcurl byte is freed.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "alerts.h"
#include "guc.h"
#include "http.h"
#include "poll.h"

/*
 * Queued bars evaluated per round: a backfill's many cannot stall polling.
 * The call reads no column of the result, so it works with the
 * evaluate_alerts of 0.1.0 (an integer) until ALTER EXTENSION UPDATE.
 */
#define MAX_BARS_PER_ROUND 2000

/* Concurrent webhook posts per worker. */
#define MAX_POSTS 16

/* A post in flight (id > 0) or finished and not yet recorded. */
typedef struct Post
{
	int64		id;				/* stockext.alerts.id; 0 when the slot is free */
	bool		done;
	char		error[300];		/* empty when delivered */
} Post;

static HttpClient *client = NULL;
static Post posts[MAX_POSTS];

/* A due delivery copied out of SPI. */
typedef struct Due
{
	int64		id;
	char	   *url;
	char	   *body;
} Due;

typedef struct Round
{
	MemoryContext ctx;
	List	   *due;			/* of Due, to start */
} Round;

/* The alert timing settings as stockext.evaluate_alerts uses them. */
PG_FUNCTION_INFO_V1(stockext_alert_settings);
Datum
stockext_alert_settings(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Interval   *grace = palloc0(sizeof(Interval));
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	grace->time = (int64) stockext_alert_close_grace_s * USECS_PER_SEC;
	values[0] = IntervalPGetDatum(grace);
	values[1] = Int32GetDatum(stockext_alert_max_age_bars);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

static void
evaluate(void *arg pg_attribute_unused())
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT stockext.evaluate_alerts(" CppAsString2(MAX_BARS_PER_ROUND) ")",
					false, 0) != SPI_OK_SELECT)
		elog(ERROR, "stockext.evaluate_alerts failed");
	SPI_finish();
}

/* Records the finished posts, then claims due ones for the free slots. */
static void
record_and_claim(void *arg)
{
	Round	   *round = arg;
	Oid			rtypes[2] = {INT8OID, TEXTOID};
	Oid			dtypes[2] = {INT8ARRAYOID, INT4OID};
	Datum		busy[MAX_POSTS];
	int			nbusy = 0;
	int			nfree = 0;
	Datum		args[2];
	MemoryContext old;
	uint64		i;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	for (i = 0; i < MAX_POSTS; i++)
	{
		Post	   *p = &posts[i];
		char		nulls[2] = {' ', ' '};

		if (p->id != 0 && p->done)
		{
			args[0] = Int64GetDatum(p->id);
			args[1] = p->error[0] ? CStringGetTextDatum(p->error) : (Datum) 0;
			nulls[1] = p->error[0] ? ' ' : 'n';
			if (SPI_execute_with_args("SELECT stockext.record_delivery($1, $2)", 2, rtypes,
									  args, nulls, false, 0) != SPI_OK_SELECT)
				elog(ERROR, "stockext.record_delivery failed");
		}
		if (p->id != 0 && !p->done)
			busy[nbusy++] = Int64GetDatum(p->id);
		else
			nfree++;
	}
	args[0] = PointerGetDatum(construct_array(busy, nbusy, INT8OID, sizeof(int64),
											  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	args[1] = Int32GetDatum(nfree);
	if (SPI_execute_with_args("SELECT id, url, body FROM stockext.due_deliveries($1, $2)",
							  2, dtypes, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "stockext.due_deliveries failed");
	old = MemoryContextSwitchTo(round->ctx);
	for (i = 0; i < SPI_processed; i++)
	{
		Due		   *d = palloc(sizeof(Due));
		bool		isnull;

		d->id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		d->url = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		d->body = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3);
		round->due = lappend(round->due, d);
	}
	MemoryContextSwitchTo(old);
	SPI_finish();
}

/* Moves the transfers libcurl has finished into their slots' outcome. */
static void
take_finished(void)
{
	HttpRequest *req;

	if (client == NULL)
		return;
	(void) http_wait(client, 0);
	while ((req = http_next_done(client)) != NULL)
	{
		Post	   *p = &posts[(intptr_t) req->user];

		p->done = true;
		if (req->outcome == HTTP_DONE && req->status >= 200 && req->status < 300)
			p->error[0] = '\0';
		else if (req->outcome == HTTP_DONE)
			snprintf(p->error, sizeof(p->error), "HTTP status %ld", req->status);
		else
			snprintf(p->error, sizeof(p->error), "%s", req->error);
		http_request_free(req);
	}
}

/* Starts the posts claimed by record_and_claim in free slots. */
static void
start_due(List *due)
{
	ListCell   *lc;
	intptr_t	slot = 0;

	if (due != NIL && client == NULL)
	{
		HttpOptions opts = {0};

		opts.connect_timeout_ms = stockext_http_connect_timeout;
		opts.total_timeout_ms = stockext_http_timeout;
		opts.max_body = 64 * 1024;	/* the reply is not read */
		client = http_client_new(&opts);
	}
	foreach(lc, due)
	{
		Due		   *d = lfirst(lc);

		while (slot < MAX_POSTS && posts[slot].id != 0)
			slot++;
		if (slot == MAX_POSTS)
			break;
		posts[slot].id = d->id;
		posts[slot].done = false;
		if (client == NULL || http_add_post_json(client, d->url, d->body, (void *) slot) == NULL)
		{
			/* Recorded as a failed attempt next round, then retried. */
			posts[slot].done = true;
			snprintf(posts[slot].error, sizeof(posts[slot].error),
					 "could not start the request (out of memory or an unusable URL)");
		}
	}
}

void
alerts_worker_step(MemoryContext ctx)
{
	Round		round = {ctx, NIL};
	char	   *error;
	int			i;

	error = in_transaction(evaluate, NULL, ctx);
	if (error != NULL)
		ereport(WARNING, (errmsg("stockext could not evaluate alerts: %s", error)));

	take_finished();
	error = in_transaction(record_and_claim, &round, ctx);
	if (error != NULL)
	{
		/* Finished posts stay in their slots and are recorded next round. */
		ereport(WARNING, (errmsg("stockext could not record webhook deliveries: %s", error)));
		return;
	}
	for (i = 0; i < MAX_POSTS; i++)
		if (posts[i].done)
			posts[i].id = 0;
	start_due(round.due);

	/* Idle: drop the client (and its connections); the next gets new GUCs. */
	for (i = 0; i < MAX_POSTS && posts[i].id == 0; i++)
		;
	if (i == MAX_POSTS && client != NULL)
	{
		http_client_free(client);
		client = NULL;
	}
}
