/*
 * fetch.c
 *		Polling the feeds of every provider, through the Provider interface.
 *
 * A round: plan each due feed's requests (key, how many bars to ask for)
 * in a transaction; take the requests from the providers' shared allowance;
 * run them all at once over libcurl's multi interface; as each reply
 * arrives, parse it (plain C), copy the bars into palloc'd memory, free
 * every libcurl and json-c byte, and only then store it in a transaction of
 * its own.  A local provider (the simulated feed) takes the same road
 * without HTTP: each of its requests is stored by its store() in a
 * transaction of its own.  A feed's outcome is recorded when its last reply
 * is in.
 *
 * API keys appear only in the request URL handed to libcurl; messages and
 * the log get url_redact()'s copy.
 */
#include "postgres.h"

#include <stdlib.h>

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "pgtime.h"
#include "portability/instr_time.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "distributed.h"
#include "fetch.h"
#include "guc.h"
#include "http.h"
#include "ingest.h"
#include "poll.h"
#include "providers.h"
#include "rate_limit.h"

/* Bars asked for when a symbol has none stored yet. */
#define FIRST_POLL_BARS 100
#define MAX_POLL_BARS 5000

struct FeedPoll;

/* A provider's parser: of bars (parse) or of corporate actions. */
typedef void (*ParseFn) (const char *body, size_t len, int http_status,
						 const char *symbol, ParseResult *out);

/* One request of a poll. */
typedef struct Call
{
	struct FeedPoll *poll;
	char	   *symbol;			/* the symbol asked for; NULL for a batch */
	char	   *url;			/* holds the key: never shown; NULL: local */
	char	   *shown;			/* the URL with the key redacted */
} Call;

typedef struct FeedPoll
{
	Feed	   *feed;
	const Provider *provider;
	MemoryContext ctx;
	List	   *calls;
	int			pending;
	int64		stored;
	char	   *error;			/* the first failure */
	int			http_status;
} FeedPoll;

/* A reply turned into palloc'd data. */
typedef struct Reply
{
	char	   *error;
	int			http_status;
	IngestBar  *bars;
	int			nbars;
	List	   *symbol_errors;	/* of char *, one message each */
	IngestAction *actions;		/* splits and dividends the reply carried */
	int			nactions;
	char	   *raw;			/* the body, when it is kept */
	/* what to store it under */
	int			feed_id;
	const Provider *provider;
	Interval   *resolution;
	/* a local provider's request: its store() makes the bars */
	const Feed *local_feed;
	const char *local_symbol;
	int64		stored;
	/* where read_reply's time went, for fetch_history's DEBUG1 line */
	double		parse_ms;
	double		convert_ms;
} Reply;

static const Provider *
http_provider(const char *name)
{
	const Provider *p = provider_find(name);

	if (p == NULL || p->url == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("provider \"%s\" is not an HTTP provider", name)));
	return p;
}

static int
resolution_seconds(const Interval *res)
{
	return (int) (res->time / USECS_PER_SEC + (int64) res->day * SECS_PER_DAY);
}

/* ---------- from provider bars to stored bars ---------- */

/* The instant of a parsed bar, converted by PostgreSQL's time zone code. */
static bool
parsed_instant(const ParsedBar *pb, TimestampTz *ts)
{
	struct pg_tm tm;
	pg_tz	   *tz;
	int			tzoff;

	if (pb->has_epoch)
	{
		if (pb->epoch < -(INT64CONST(1) << 40) || pb->epoch > (INT64CONST(1) << 40))
			return false;
		*ts = time_t_to_timestamptz((pg_time_t) pb->epoch);
		return IS_VALID_TIMESTAMP(*ts);
	}
	tz = pg_tzset(pb->zone);
	if (tz == NULL || pb->mon < 1 || pb->mon > 12 || pb->mday < 1 || pb->mday > 31 ||
		pb->hour < 0 || pb->hour > 23 || pb->min < 0 || pb->min > 59 ||
		pb->sec < 0 || pb->sec > 60)
		return false;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = pb->year;
	tm.tm_mon = pb->mon;
	tm.tm_mday = pb->mday;
	tm.tm_hour = pb->hour;
	tm.tm_min = pb->min;
	tm.tm_sec = pb->sec;
	/* A fall-back wall time that happens twice gets PostgreSQL's reading. */
	tzoff = DetermineTimeZoneOffset(&tm, tz);
	return tm2timestamp(&tm, 0, &tzoff, ts) == 0 && IS_VALID_TIMESTAMP(*ts);
}

static void
copy_parse_result(const ParseResult *pr, Reply *r)
{
	static const char *const what[] = {
		[PARSE_OK] = "ok",
		[PARSE_RATE_LIMITED] = "rate limited by the provider",
		[PARSE_PROVIDER_ERROR] = "refused by the provider",
		[PARSE_SERVER_ERROR] = "provider server error",
		[PARSE_MALFORMED] = "malformed reply",
	};

	if (pr->status != PARSE_OK)
	{
		r->error = psprintf("%s: %s", what[pr->status], pr->message);
		return;
	}
	r->bars = palloc(Max(pr->nbars, 1) * sizeof(IngestBar));
	r->nbars = (int) pr->nbars;
	for (size_t i = 0; i < pr->nbars; i++)
	{
		const ParsedBar *pb = &pr->bars[i];
		IngestBar  *b = &r->bars[i];

		strlcpy(b->symbol, pb->symbol, sizeof(b->symbol));
		b->has_ts = parsed_instant(pb, &b->ts);
		b->open = pb->open;
		b->high = pb->high;
		b->low = pb->low;
		b->close = pb->close;
		b->has_volume = pb->has_volume;
		b->volume = pb->volume;
		b->problem = pb->problem ? pstrdup(pb->problem) : NULL;
		if (b->problem == NULL && !b->has_ts)
			b->problem = "time cannot be converted to an instant";
	}
	r->actions = palloc(Max(pr->nactions, 1) * sizeof(IngestAction));
	r->nactions = (int) pr->nactions;
	for (size_t i = 0; i < pr->nactions; i++)
	{
		const ParsedAction *pa = &pr->actions[i];
		IngestAction *a = &r->actions[i];

		strlcpy(a->symbol, pa->symbol, sizeof(a->symbol));
		a->ex_date = (DateADT) (pa->ex_day - (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE));
		a->is_split = pa->is_split;
		a->split_from = pa->split_from;
		a->split_to = pa->split_to;
		a->cash_amount = pa->cash_amount;
		strlcpy(a->currency, pa->currency, sizeof(a->currency));
	}
	for (size_t i = 0; i < pr->nsymbol_errors; i++)
		r->symbol_errors = lappend(r->symbol_errors,
								   psprintf("symbol \"%s\": %s (code %d)",
											pr->symbol_errors[i].symbol,
											pr->symbol_errors[i].message,
											pr->symbol_errors[i].code));
}

static const char *
outcome_text(HttpOutcome outcome)
{
	switch (outcome)
	{
		case HTTP_TIMEOUT:
			return "timed out";
		case HTTP_TOO_LARGE:
			return "reply too large";
		case HTTP_TRUNCATED:
			return "reply cut off";
		case HTTP_FAILED:
			return "request failed";
		default:
			return "request unfinished";
	}
}

/*
 * Reads a finished request into r and frees it: every libcurl and json-c
 * byte is gone before anything can raise an error past this function.
 */
static void
read_reply(HttpRequest *req, ParseFn parse, const char *symbol,
		   bool keep_raw, const char *shown, Reply *r)
{
	ParseResult pr;
	instr_time	t0,
				t1;

	r->http_status = (int) req->status;
	if (req->outcome != HTTP_DONE)
	{
		r->error = psprintf("%s: %s (GET %s)", outcome_text(req->outcome), req->error, shown);
		http_request_free(req);
		return;
	}
	INSTR_TIME_SET_CURRENT(t0);
	parse(req->body, req->len, (int) req->status, symbol, &pr);
	INSTR_TIME_SET_CURRENT(t1);
	r->parse_ms = INSTR_TIME_GET_MILLISEC(t1) - INSTR_TIME_GET_MILLISEC(t0);
	PG_TRY();
	{
		copy_parse_result(&pr, r);
		if (r->error != NULL)
			r->error = psprintf("%s (HTTP %ld, GET %s)", r->error, req->status, shown);
		else if (keep_raw && req->body != NULL)
			r->raw = pnstrdup(req->body, req->len);
	}
	PG_CATCH();
	{
		parse_result_free(&pr);
		http_request_free(req);
		PG_RE_THROW();
	}
	PG_END_TRY();
	INSTR_TIME_SET_CURRENT(t0);
	r->convert_ms = INSTR_TIME_GET_MILLISEC(t0) - INSTR_TIME_GET_MILLISEC(t1);
	parse_result_free(&pr);
	http_request_free(req);
	INSTR_TIME_SET_CURRENT(t1);
	r->parse_ms += INSTR_TIME_GET_MILLISEC(t1) - INSTR_TIME_GET_MILLISEC(t0);
}

/*
 * Stores a reply's bars, its symbol errors and raw body, or has a local
 * provider store its request; in a transaction.
 */
static void
store_reply(void *arg)
{
	Reply	   *r = arg;
	ListCell   *lc;

	if (r->local_feed != NULL)
		r->stored = r->provider->store(r->local_feed, r->local_symbol);
	else
	{
		r->stored = ingest_bars(r->bars, r->nbars, r->resolution, r->provider->name,
								r->feed_id, NULL);
		ingest_actions(r->actions, r->nactions, r->provider->name);
	}
	if (r->symbol_errors == NIL && r->raw == NULL)
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	foreach(lc, r->symbol_errors)
	{
		Oid			types[4] = {INT4OID, TEXTOID, INT4OID, TEXTOID};
		Datum		args[4] = {Int32GetDatum(r->feed_id), CStringGetTextDatum(r->provider->name),
		Int32GetDatum(r->http_status), CStringGetTextDatum(lfirst(lc))};
		char		nulls[4] = {r->feed_id ? ' ' : 'n', ' ', ' ', ' '};

		if (SPI_execute_with_args("INSERT INTO stockext.errors (feed_id, provider, http_status, message)"
								  " VALUES ($1, $2, $3, $4)", 4, types, args, nulls,
								  false, 0) != SPI_OK_INSERT)
			elog(ERROR, "recording a symbol error failed");
	}
	if (r->raw != NULL)
	{
		Oid			types[2] = {INT4OID, TEXTOID};
		Datum		args[2] = {Int32GetDatum(r->feed_id), CStringGetTextDatum(r->raw)};

		if (SPI_execute_with_args("SELECT stockext.keep_raw_reply($1, $2)", 2, types, args,
								  NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "keeping the raw reply failed");
	}
	SPI_finish();
}

/* ---------- planning ---------- */

/* The API key of a feed (or of the provider's first keyed feed), or NULL. */
static char *
api_key(int feed_id, const char *provider)
{
	Oid			types[2] = {INT4OID, TEXTOID};
	Datum		args[2] = {Int32GetDatum(feed_id), CStringGetTextDatum(provider)};
	char	   *key = NULL;

	if (SPI_execute_with_args("SELECT k.api_key FROM stockext.feed_keys k"
							  " JOIN stockext.feeds f ON f.id = k.feed_id"
							  " WHERE f.id = $1 OR ($1 = 0 AND f.provider = $2)"
							  " ORDER BY f.id LIMIT 1", 2, types, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "reading the API key failed");
	if (SPI_processed == 1)
		key = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	/* "env:NAME": the key is the server's environment variable NAME. */
	if (key != NULL && strncmp(key, "env:", 4) == 0)
	{
		const char *value = getenv(key + 4);

		if (value == NULL || value[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("environment variable \"%s\" named by the API key is not set", key + 4),
					 errhint("Set it in the environment of the server, or store the key itself.")));
		key = pstrdup(value);
	}
	return key;
}

/*
 * How many of the newest bars to ask for: all since the oldest of the
 * symbols' newest stored bars (filling a gap after a restart, up to
 * stockext.max_gap_fill days and 5000 bars), or 100 for a new symbol.
 */
static int
bars_wanted(Feed *f)
{
	Oid			types[2] = {TEXTARRAYOID, INTERVALOID};
	Datum	   *elems = palloc(f->nsymbols * sizeof(Datum));
	Datum		args[2];
	bool		isnull;
	int64		res = resolution_seconds(&f->resolution);
	int64		oldest;
	int64		wanted;

	for (int i = 0; i < f->nsymbols; i++)
		elems[i] = CStringGetTextDatum(f->symbols[i]);
	args[0] = PointerGetDatum(construct_array(elems, f->nsymbols, TEXTOID, -1, false, TYPALIGN_INT));
	args[1] = IntervalPGetDatum(&f->resolution);
	/*
	 * Citus plans no lateral join of distributed bars to a function: there
	 * the newest bars come from stockext.latest_ticks, which the triggers
	 * of the shards keep, with one multi-shard SELECT.
	 */
	if (SPI_execute_with_args(ticks_distributed()
							  ? "SELECT extract(epoch FROM now() - min(l.ts))::int8, count(l.ts)"
							  " FROM stockext.latest_ticks l"
							  " WHERE l.symbol = ANY ($1) AND l.resolution = $2"
							  : "SELECT extract(epoch FROM now() - min(last.ts))::int8, count(last.ts)"
							  " FROM unnest($1::text[]) AS sym"
							  " LEFT JOIN LATERAL (SELECT ts FROM stockext.ticks t"
							  "   WHERE t.symbol = sym AND t.resolution = $2"
							  "   ORDER BY ts DESC LIMIT 1) AS last ON true",
							  2, types, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "reading the newest bars failed");
	if (DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull)) < f->nsymbols)
		return FIRST_POLL_BARS;
	oldest = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	oldest = Min(oldest, (int64) stockext_max_gap_fill_days * SECS_PER_DAY);
	wanted = oldest / Max(res, 1) + 2;
	return (int) Max(2, Min(wanted, MAX_POLL_BARS));
}

/*
 * The request URL of req, palloc'd in ctx, and its redacted copy for
 * messages; errors when the provider cannot build it.
 */
static void
request_url(const Provider *p, const ProviderRequest *req, MemoryContext ctx,
			int feed_id, char **url, char **shown)
{
	char	   *built;
	const char *why = provider_url(p, req, &built);
	size_t		len;

	if (why != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 feed_id ? errmsg("cannot build a request to \"%s\" for feed %d", p->name, feed_id)
				 : errmsg("cannot build a request to \"%s\"", p->name),
				 errdetail("%s", why)));
	/* libcurl's copy is freed before anything here can raise an error. */
	len = strlen(built);
	*url = MemoryContextAllocExtended(ctx, len + 1, MCXT_ALLOC_NO_OOM);
	*shown = MemoryContextAllocExtended(ctx, URL_REDACT_SIZE(len), MCXT_ALLOC_NO_OOM);
	if (*url != NULL && *shown != NULL)
	{
		memcpy(*url, built, len + 1);
		url_redact(built, *shown, URL_REDACT_SIZE(len));
	}
	free(built);
	if (*url == NULL || *shown == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
}

static Call *
plan_call(FeedPoll *fp, const char *const *symbols, int nsymbols, int outputsize,
		  const char *key)
{
	Call	   *c = MemoryContextAllocZero(fp->ctx, sizeof(Call));

	c->poll = fp;
	c->symbol = nsymbols == 1 ? MemoryContextStrdup(fp->ctx, symbols[0]) : NULL;
	if (fp->provider->url != NULL)
	{
		ProviderRequest req = {0};

		req.base_url = fp->provider->settings->url;
		req.symbols = symbols;
		req.nsymbols = nsymbols;
		req.interval_secs = resolution_seconds(&fp->feed->resolution);
		req.outputsize = outputsize;
		req.api_key = key;
		request_url(fp->provider, &req, fp->ctx, fp->feed->id, &c->url, &c->shown);
	}
	return c;
}

/* Plans the requests of a feed; runs in a transaction. */
static void
plan_feed(void *arg)
{
	FeedPoll   *fp = arg;
	Feed	   *f = fp->feed;
	char	   *key;
	int			outputsize;
	MemoryContext old;

	const Provider *p = fp->provider;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	key = p->takes_key ? api_key(f->id, f->provider) : NULL;
	/* A local provider reads what it has stored itself. */
	outputsize = p->url != NULL ? bars_wanted(f) : 0;
	old = MemoryContextSwitchTo(fp->ctx);
	/* As many requests as the provider needs: max_symbols symbols each. */
	for (int i = 0; i < f->nsymbols; i += p->max_symbols)
		fp->calls = lappend(fp->calls,
							plan_call(fp, (const char *const *) &f->symbols[i],
									  Min(p->max_symbols, f->nsymbols - i), outputsize, key));
	MemoryContextSwitchTo(old);
	SPI_finish();
}

/* ---------- a round of polls ---------- */


static void
record_outcome(void *arg)
{
	FeedPoll   *fp = arg;

	record_poll(fp->feed->id, fp->stored, fp->error, fp->http_status);
}

static void
finish_poll(FeedPoll *fp)
{
	char	   *error;

	if (fp->error != NULL)
		ereport(WARNING,
				(errmsg("stockext feed %d (%s) failed: %s", fp->feed->id, fp->feed->provider, fp->error)));
	error = in_transaction(record_outcome, fp, fp->ctx);
	if (error != NULL)
		ereport(WARNING,
				(errmsg("stockext could not record the poll of feed %d: %s", fp->feed->id, error)));
}

static void
call_done(Call *c, Reply *r)
{
	FeedPoll   *fp = c->poll;

	if (r->error == NULL)
	{
		r->feed_id = fp->feed->id;
		r->provider = fp->provider;
		r->resolution = &fp->feed->resolution;
		r->error = in_transaction(store_reply, r, fp->ctx);
		fp->stored += r->stored;
	}
	if (r->error != NULL && fp->error == NULL)
	{
		fp->error = r->error;
		fp->http_status = r->http_status;
	}
	if (--fp->pending == 0)
		finish_poll(fp);
}

/* Runs the planned requests, storing each reply as it arrives. */
static void
run_requests(HttpClient *client, List *polls)
{
	HttpRequest *req;
	ListCell   *lc;

	foreach(lc, polls)
	{
		FeedPoll   *fp = lfirst(lc);
		ListCell   *cc;

		foreach(cc, fp->calls)
		{
			Call	   *c = lfirst(cc);

			if (c->url == NULL)
				call_done(c, &(Reply) {.local_feed = fp->feed, .local_symbol = c->symbol});
			else if (client == NULL || http_add(client, c->url, fp->provider->browser_ua, c) == NULL)
				call_done(c, &(Reply) {.error = psprintf("cannot start a request (GET %s)", c->shown)});
		}
	}
	while (client != NULL)
	{
		while ((req = http_next_done(client)) != NULL)
		{
			Call	   *c = req->user;
			Reply		r = {0};

			read_reply(req, c->poll->provider->parse, c->symbol, c->poll->feed->keep_raw, c->shown, &r);
			call_done(c, &r);
		}
		if (http_wait(client, 100) == 0)
			break;
		CHECK_FOR_INTERRUPTS();
	}
}

static void fetch_planned(List *polls);

void
fetch_feeds(List *feeds, MemoryContext ctx)
{
	List	   *polls = NIL;
	ListCell   *lc;

	foreach(lc, feeds)
	{
		Feed	   *f = lfirst(lc);
		FeedPoll   *fp = MemoryContextAllocZero(ctx, sizeof(FeedPoll));
		const ProviderSettings *set;
		bool		daily;

		fp->feed = f;
		fp->provider = provider_find(f->provider);
		fp->ctx = ctx;
		if (fp->provider == NULL)
			fp->error = psprintf("provider \"%s\" is unknown", f->provider);
		else
			fp->error = in_transaction(plan_feed, fp, ctx);
		/* Limits hold for HTTP providers; a local one has no settings. */
		set = fp->provider ? fp->provider->settings : NULL;
		if (fp->error == NULL && set != NULL && f->nsymbols > set->per_minute)
			fp->error = psprintf("a poll needs %d requests but stockext.%s_requests_per_minute is %d",
								 f->nsymbols, f->provider, set->per_minute);
		if (fp->error == NULL && set != NULL &&
			!rate_limit_take(provider_index(fp->provider), f->nsymbols, set->per_minute,
							 set->per_day, &daily))
		{
			/* Over the last minute's allowance: due again next round. */
			if (!daily)
				continue;
			fp->error = psprintf("the daily request limit of %s (stockext.%s_requests_per_day = %d) is spent",
								 f->provider, f->provider, set->per_day);
		}
		if (fp->error != NULL)
		{
			fp->pending = 1;
			call_done(&(Call) {.poll = fp}, &(Reply) {.error = fp->error});
			continue;
		}
		fp->pending = list_length(fp->calls);
		polls = lappend(polls, fp);
	}
	if (polls != NIL)
		fetch_planned(polls);
}

/* Runs the planned polls over one libcurl multi handle. */
static void
fetch_planned(List *polls)
{
	HttpOptions opts = {0};
	HttpClient *client;

	opts.connect_timeout_ms = stockext_http_connect_timeout;
	opts.total_timeout_ms = stockext_http_timeout;
	client = http_client_new(&opts);
	PG_TRY();
	{
		run_requests(client, polls);
	}
	PG_CATCH();
	{
		if (client != NULL)
			http_client_free(client);
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (client != NULL)
		http_client_free(client);
}

/* ---------- backfill ---------- */

/*
 * Takes cost requests from the provider's allowance.  wait: waits for the
 * per-minute allowance (a backend); otherwise false when it does not hold
 * them now (the worker tries again next round).  Errors when the day's
 * allowance is spent or the limits can never hold them.
 */
static bool
take_allowance(const Provider *p, int cost, bool wait)
{
	const ProviderSettings *set = p->settings;
	bool		daily;
	bool		told = false;

	if (cost > set->per_minute || cost > set->per_day)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("request limits of provider \"%s\" cannot hold a cost of %d", p->name, cost),
				 errdetail("stockext.%s_requests_per_minute is %d and stockext.%s_requests_per_day is %d.",
						   p->name, set->per_minute, p->name, set->per_day),
				 errhint("Set them to the limits of your plan.")));
	while (!rate_limit_take(provider_index(p), cost, set->per_minute, set->per_day, &daily))
	{
		if (daily)
			ereport(ERROR,
					(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
					 errmsg("request limit of provider \"%s\" reached", p->name),
					 errdetail("stockext.%s_requests_per_day is %d and stockext.%s_requests_per_minute is %d.",
							   p->name, set->per_day, p->name, set->per_minute)));
		if (!wait)
			return false;
		if (!told)
			ereport(NOTICE,
					(errmsg("waiting for the per-minute allowance of provider \"%s\"", p->name)));
		told = true;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 1000, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	return true;
}

/* The API key of feed_id (0: of the provider's first keyed feed), in the caller's context. */
static char *
api_key_copy(int feed_id, const Provider *p)
{
	MemoryContext caller = CurrentMemoryContext;
	char	   *key;

	if (!p->takes_key)
		return NULL;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	key = api_key(feed_id, p->name);
	/* SPI_finish frees what was allocated since SPI_connect. */
	key = key ? MemoryContextStrdup(caller, key) : NULL;
	SPI_finish();
	return key;
}

/*
 * Runs one request to p outside the worker's rounds (a backend, or the
 * worker's refresh of corporate actions) and reads its reply into *r with
 * parse.  Errors when it cannot start.
 */
static void
fetch_one(const Provider *p, const char *url, const char *shown, const char *symbol,
		  ParseFn parse, Reply *r, double *transfer_ms, size_t *body_len)
{
	HttpOptions opts = {0};
	HttpClient *client;
	HttpRequest *done = NULL;
	instr_time	t0,
				t1;

	opts.connect_timeout_ms = stockext_http_connect_timeout;
	opts.total_timeout_ms = stockext_http_timeout;
	INSTR_TIME_SET_CURRENT(t0);
	client = http_client_new(&opts);
	if (client == NULL || http_add(client, url, p->browser_ua, NULL) == NULL)
	{
		if (client != NULL)
			http_client_free(client);
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("cannot start a request to \"%s\"", p->name)));
	}
	PG_TRY();
	{
		while (http_wait(client, 100) > 0 && (done = http_next_done(client)) == NULL)
			CHECK_FOR_INTERRUPTS();
	}
	PG_CATCH();
	{
		http_client_free(client);
		PG_RE_THROW();
	}
	PG_END_TRY();
	http_client_free(client);
	if (done == NULL)
		elog(ERROR, "request to \"%s\" vanished", p->name);
	INSTR_TIME_SET_CURRENT(t1);
	*transfer_ms = INSTR_TIME_GET_MILLISEC(t1) - INSTR_TIME_GET_MILLISEC(t0);
	*body_len = done->len;
	read_reply(done, parse, symbol, false, shown, r);
}

/*
 * For a provider whose bars come adjusted for every split up to now
 * (adjusted_to_now): undoes in r's bars the splits recorded in
 * stockext.corporate_actions, dated from stop's (UTC) date to today, that
 * the reply did not list, so that a range ending before a later split is
 * stored as traded too.  A split adjusts the bars before 00:00 UTC of its
 * ex-date, as everywhere in stockext.  backfill fetches the symbol's
 * actions before its bars, so the table knows them.
 */
static void
undo_unlisted_splits(Reply *r, const char *symbol, TimestampTz stop)
{
	MemoryContext caller = CurrentMemoryContext;
	Oid			types[2] = {TEXTOID, TIMESTAMPTZOID};
	Datum		args[2] = {CStringGetTextDatum(symbol), TimestampTzGetDatum(stop)};
	int			nsplits = 0;
	TimestampTz *cutoff = NULL;
	double	   *factor = NULL;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT a.ex_date, (a.split_to / a.split_from)::float8"
							  " FROM stockext.corporate_actions a"
							  " WHERE a.symbol = $1 AND a.kind = 'split'"
							  "   AND a.ex_date >= ($2 AT TIME ZONE 'UTC')::date"
							  "   AND a.ex_date <= (now() AT TIME ZONE 'UTC')::date",
							  2, types, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "reading the splits of \"%s\" failed", symbol);
	if (SPI_processed > 0)
	{
		cutoff = MemoryContextAlloc(caller, SPI_processed * sizeof(TimestampTz));
		factor = MemoryContextAlloc(caller, SPI_processed * sizeof(double));
	}
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		DateADT		ex_date = DatumGetDateADT(SPI_getbinval(SPI_tuptable->vals[i],
															SPI_tuptable->tupdesc, 1, &isnull));
		bool		listed = false;

		for (int j = 0; j < r->nactions && !listed; j++)
			listed = r->actions[j].is_split && r->actions[j].ex_date == ex_date;
		if (listed)
			continue;
		cutoff[nsplits] = (TimestampTz) ex_date * USECS_PER_DAY;
		factor[nsplits] = DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[i],
													   SPI_tuptable->tupdesc, 2, &isnull));
		nsplits++;
	}
	SPI_finish();

	for (int i = 0; i < r->nbars && nsplits > 0; i++)
	{
		IngestBar  *bar = &r->bars[i];
		double		f = 1;
		const char *problem;

		if (!bar->has_ts || bar->problem != NULL)
			continue;
		for (int k = 0; k < nsplits; k++)
		{
			if (bar->ts < cutoff[k])
				f *= factor[k];
		}
		if (f == 1)
			continue;
		problem = undo_splits(f, &bar->open, &bar->high, &bar->low, &bar->close, &bar->volume);
		if (problem != NULL)
			bar->problem = problem;
	}
}

/* Fetches the bars of [start, stop) of one symbol and stores them. */
PG_FUNCTION_INFO_V1(stockext_fetch_history);
Datum
stockext_fetch_history(PG_FUNCTION_ARGS)
{
	const Provider *p = http_provider(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	char	   *symbol = text_to_cstring(PG_GETARG_TEXT_PP(1));
	TimestampTz start = PG_GETARG_TIMESTAMPTZ(2);
	TimestampTz stop = PG_GETARG_TIMESTAMPTZ(3);
	Interval   *res = PG_GETARG_INTERVAL_P(4);
	ProviderRequest req = {0};
	char	   *url;
	char	   *shown;
	Reply		r = {0};
	instr_time	t0,
				t1;
	double		transfer_ms;
	size_t		body_len;
	int64		stored;

	/* Asked and stored as the upper-case symbol, like every symbol. */
	symbol_normalize(symbol);
	req.api_key = api_key_copy(0, p);
	req.base_url = p->settings->url;
	req.symbols = (const char *const *) &symbol;
	req.nsymbols = 1;
	req.interval_secs = resolution_seconds(res);
	req.start = timestamptz_to_time_t(start);
	req.stop = timestamptz_to_time_t(stop);
	request_url(p, &req, CurrentMemoryContext, 0, &url, &shown);
	take_allowance(p, 1, true);
	fetch_one(p, url, shown, symbol, p->parse, &r, &transfer_ms, &body_len);
	if (r.error != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("backfill from \"%s\" failed: %s", p->name, r.error)));
	/* Errors naming symbols are all this reply holds when it has no bars. */
	if (r.nbars == 0 && r.symbol_errors != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("backfill from \"%s\" failed: %s", p->name, (char *) linitial(r.symbol_errors))));
	INSTR_TIME_SET_CURRENT(t0);
	if (p->adjusted_to_now)
		undo_unlisted_splits(&r, symbol, stop);
	stored = ingest_bars(r.bars, r.nbars, res, p->name, 0, NULL);
	ingest_actions(r.actions, r.nactions, p->name);
	INSTR_TIME_SET_CURRENT(t1);
	elog(DEBUG1, "fetch_history: %d bars, %zu bytes of body: transfer (with decompression) %.1f ms, parse %.1f ms, conversion %.1f ms, write %.1f ms",
		 r.nbars, body_len, transfer_ms, r.parse_ms, r.convert_ms,
		 INSTR_TIME_GET_MILLISEC(t1) - INSTR_TIME_GET_MILLISEC(t0));
	PG_RETURN_INT64(stored);
}

/* ---------- corporate actions ---------- */

/*
 * Records a refresh of symbol's corporate actions from p in
 * stockext.action_refreshes: a success is due again after
 * stockext.actions_refresh_interval, a failure (error set) after at most
 * an hour.  Needs SPI.
 */
static void
record_actions_refresh(const Provider *p, const char *symbol, int64 stored, const char *error)
{
	Oid			types[5] = {TEXTOID, TEXTOID, INT8OID, INT4OID, TEXTOID};
	Datum		args[5] = {CStringGetTextDatum(p->name), CStringGetTextDatum(symbol), Int64GetDatum(stored),
	Int32GetDatum(stockext_actions_refresh_min), error ? CStringGetTextDatum(error) : (Datum) 0};
	char		nulls[5] = {' ', ' ', ' ', ' ', error ? ' ' : 'n'};

	if (SPI_execute_with_args(error == NULL
							  ? "INSERT INTO stockext.action_refreshes AS r"
							  " (provider, symbol, last_refresh, actions_stored, next_refresh_at)"
							  " VALUES ($1, $2, now(), $3, now() + make_interval(mins => $4))"
							  " ON CONFLICT (provider, symbol) DO UPDATE SET last_refresh = now(),"
							  " actions_stored = excluded.actions_stored, next_refresh_at = excluded.next_refresh_at"
							  : "INSERT INTO stockext.action_refreshes AS r"
							  " (provider, symbol, last_error, last_error_message, next_refresh_at)"
							  " VALUES ($1, $2, now(), $5, now() + least(make_interval(mins => $4), interval '1 hour'))"
							  " ON CONFLICT (provider, symbol) DO UPDATE SET last_error = now(),"
							  " last_error_message = excluded.last_error_message,"
							  " next_refresh_at = excluded.next_refresh_at",
							  5, types, args, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "recording the refresh of corporate actions failed");
}

/*
 * Fetches every split and dividend of symbol from p, which offers them
 * (its actions_requests requests, one after another), stores them in the
 * caller's transaction (rows already there are kept: ingest_actions) and
 * records the refresh.  The key is feed_id's (0: the provider's first
 * keyed feed's).  A backend (wait) waits for the per-minute allowance; the
 * worker does not: false when the allowance does not hold the requests now,
 * nothing fetched.  Errors when a request or reply fails.
 */
static bool
fetch_actions(const Provider *p, int feed_id, const char *symbol, bool wait, int64 *stored)
{
	ProviderRequest req = {0};
	char	  **urls = palloc(p->actions_requests * sizeof(char *));
	char	  **shown = palloc(p->actions_requests * sizeof(char *));

	*stored = 0;
	req.api_key = api_key_copy(feed_id, p);
	req.base_url = p->settings->url;
	req.symbols = &symbol;
	req.nsymbols = 1;
	for (int i = 0; i < p->actions_requests; i++)
	{
		req.actions = i + 1;
		request_url(p, &req, CurrentMemoryContext, feed_id, &urls[i], &shown[i]);
	}
	if (!take_allowance(p, p->actions_requests * p->actions_cost, wait))
		return false;
	for (int i = 0; i < p->actions_requests; i++)
	{
		Reply		r = {0};
		double		transfer_ms;
		size_t		body_len;

		fetch_one(p, urls[i], shown[i], symbol, p->parse_actions, &r, &transfer_ms, &body_len);
		if (r.error != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("corporate actions of \"%s\" from \"%s\" failed: %s", symbol, p->name, r.error)));
		*stored += ingest_actions(r.actions, r.nactions, p->name);
	}
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	record_actions_refresh(p, symbol, *stored, NULL);
	SPI_finish();
	return true;
}

/*
 * Fetches the corporate actions of a symbol from a provider and stores
 * them; returns the rows added, or NULL when the provider offers none.
 */
PG_FUNCTION_INFO_V1(stockext_fetch_actions);
Datum
stockext_fetch_actions(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *symbol = text_to_cstring(PG_GETARG_TEXT_PP(1));
	const Provider *p = provider_find(name);
	int64		stored;

	if (p == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("provider \"%s\" is unknown", name)));
	if (p->actions_requests == 0)
		PG_RETURN_NULL();
	symbol_normalize(symbol);
	fetch_actions(p, 0, symbol, true, &stored);
	PG_RETURN_INT64(stored);
}

/* A feed symbol whose corporate actions are due, for the worker. */
typedef struct DueActions
{
	int			feed_id;
	const Provider *provider;
	char	   *symbol;
	char	   *error;
} DueActions;

/*
 * The due pairs: for each provider that offers actions and whose limits
 * can hold a refresh (not TwelveData's free plan: 8 a minute, a refresh
 * costs 40), the symbol of an unpaused feed whose refresh is due longest.
 * None in a database whose stockext is not yet updated to 0.3.0.
 */
typedef struct DueList
{
	MemoryContext ctx;			/* where the list is copied */
	List	   *due;			/* of DueActions */
} DueList;

static void
read_due_actions(void *arg)
{
	DueList    *list = arg;
	Datum	   *names = palloc(provider_count * sizeof(Datum));
	int			n = 0;
	Oid			types[1] = {TEXTARRAYOID};
	Datum		args[1];

	/* A catalog cache lookup, as ingest_bars finds stockext.conflicts. */
	if (!OidIsValid(get_relname_relid("action_refreshes", get_namespace_oid("stockext", true))))
		return;
	for (int i = 0; i < provider_count; i++)
	{
		const Provider *p = provider_list[i];
		int			cost = p->actions_requests * p->actions_cost;

		if (cost > 0 && cost <= p->settings->per_minute && cost <= p->settings->per_day)
			names[n++] = CStringGetTextDatum(p->name);
	}
	args[0] = PointerGetDatum(construct_array(names, n, TEXTOID, -1, false, TYPALIGN_INT));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT DISTINCT ON (f.provider) f.id, f.provider, sym"
							  " FROM stockext.feeds f CROSS JOIN unnest(f.symbols) AS sym"
							  " LEFT JOIN stockext.action_refreshes r ON r.provider = f.provider AND r.symbol = sym"
							  " WHERE NOT f.paused AND f.provider = ANY ($1)"
							  "   AND coalesce(r.next_refresh_at, '-infinity') <= now()"
							  " ORDER BY f.provider, coalesce(r.next_refresh_at, '-infinity'), f.id, sym",
							  1, types, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "reading the corporate actions due failed");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		MemoryContext old = MemoryContextSwitchTo(list->ctx);
		DueActions *d = palloc0(sizeof(DueActions));

		d->feed_id = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
		d->provider = provider_find(SPI_getvalue(tup, desc, 2));
		d->symbol = SPI_getvalue(tup, desc, 3);
		list->due = lappend(list->due, d);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
}

static void
refresh_due(void *arg)
{
	DueActions *d = arg;
	int64		stored;

	fetch_actions(d->provider, d->feed_id, d->symbol, false, &stored);
}

static void
record_due_failure(void *arg)
{
	DueActions *d = arg;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	record_actions_refresh(d->provider, d->symbol, 0, d->error);
	SPI_finish();
}

void
fetch_due_actions(MemoryContext ctx)
{
	DueList		list = {ctx, NIL};
	char	   *error;
	ListCell   *lc;

	if (stockext_actions_refresh_min == 0)
		return;
	error = in_transaction(read_due_actions, &list, ctx);
	if (error != NULL)
	{
		ereport(WARNING, (errmsg("stockext could not read the corporate actions due: %s", error)));
		return;
	}
	foreach(lc, list.due)
	{
		DueActions *d = lfirst(lc);

		if (d->provider == NULL)
			continue;
		d->error = in_transaction(refresh_due, d, ctx);
		if (d->error == NULL)
			continue;
		ereport(WARNING,
				(errmsg("stockext could not refresh the corporate actions of \"%s\" from %s: %s",
						d->symbol, d->provider->name, d->error)));
		error = in_transaction(record_due_failure, d, ctx);
		if (error != NULL)
			ereport(WARNING,
					(errmsg("stockext could not record a failed refresh of corporate actions: %s", error)));
	}
}

/*
 * Each HTTP provider's requests in the last minute and day, against its
 * limits, and those spared while feeds' markets were closed.
 */
PG_FUNCTION_INFO_V1(stockext_provider_requests);
Datum
stockext_provider_requests(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < provider_count; i++)
	{
		const Provider *p = provider_list[i];
		Datum		values[6];
		bool		nulls[6] = {false};
		int			minute_count,
					day_count;

		if (p->settings == NULL)
			continue;
		rate_limit_counts(i, &minute_count, &day_count);
		values[0] = CStringGetTextDatum(p->name);
		values[1] = Int32GetDatum(minute_count);
		values[2] = Int32GetDatum(p->settings->per_minute);
		values[3] = Int32GetDatum(day_count);
		values[4] = Int32GetDatum(p->settings->per_day);
		/* The declaration of a database not yet updated to 0.3.0 has 5. */
		values[5] = Int64GetDatum(rate_limit_skipped(i));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
