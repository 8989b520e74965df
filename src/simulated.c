/*
 * simulated.c
 *		The simulated market: a seeded random walk that needs no network.
 *
 * The log price of a symbol is a sum of value-noise layers whose knot
 * spacing runs from 15 seconds to half a year, each layer's amplitude
 * growing with the square root of its spacing as a Brownian motion's does.
 * Knot values are hashed from (seed, symbol, layer, knot), so the price at
 * any instant is computed directly, without walking from some origin: a bar
 * backfilled today and the same bar produced live yesterday agree, and so
 * do a forming bar and the finished one.  exp() keeps prices positive.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "bar.h"
#include "guc.h"
#include "ingest.h"
#include "poll.h"
#include "simulated.h"

#define UNIX_EPOCH_USEC ((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)
#define YEAR_SECONDS	(365.25 * 86400.0)

/* Knot spacing of each noise layer, in seconds. */
static const double layer_seconds[] = {
	15, 60, 300, 1800, 7200, 28800, 86400, 432000, 2592000, 15552000
};
#define NLAYERS lengthof(layer_seconds)

/* Samples taken inside a bar for its high and low. */
#define INTRABAR_SAMPLES 32

/* Bars written per statement. */
#define INGEST_CHUNK 20000

typedef struct SymbolProfile
{
	const char *symbol;
	double		price;			/* typical price */
	double		volatility;		/* annualized */
	double		volume_per_minute;
} SymbolProfile;

static const SymbolProfile profiles[] = {
	{"AAPL", 190.0, 0.28, 120000},
	{"AMZN", 185.0, 0.33, 90000},
	{"GOOGL", 165.0, 0.30, 60000},
	{"META", 510.0, 0.38, 40000},
	{"MSFT", 415.0, 0.25, 55000},
	{"NVDA", 120.0, 0.50, 900000},
	{"TSLA", 240.0, 0.55, 250000},
};

/* splitmix64's finalizer: a good 64-bit mixing function. */
static inline uint64
mix64(uint64 x)
{
	x += UINT64CONST(0x9E3779B97F4A7C15);
	x = (x ^ (x >> 30)) * UINT64CONST(0xBF58476D1CE4E5B9);
	x = (x ^ (x >> 27)) * UINT64CONST(0x94D049BB133111EB);
	return x ^ (x >> 31);
}

static inline uint64
hash2(uint64 a, uint64 b)
{
	return mix64(a ^ mix64(b));
}

/* A uniform number in [0, 1). */
static inline double
unit(uint64 h)
{
	return (double) (h >> 11) * (1.0 / 9007199254740992.0);
}

/* A standard normal number (Box-Muller). */
static double
gaussian(uint64 h)
{
	double		u1 = 1.0 - unit(h);	/* (0, 1]: log() stays finite */
	double		u2 = unit(mix64(h));

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* FNV-1a of the symbol, mixed with the seed. */
static uint64
symbol_key(const char *symbol, int64 seed)
{
	uint64		h = UINT64CONST(0xcbf29ce484222325);

	for (const char *p = symbol; *p; p++)
		h = (h ^ (unsigned char) *p) * UINT64CONST(0x100000001b3);
	return hash2(h, (uint64) seed);
}

static SymbolProfile
profile_of(const char *symbol, uint64 key)
{
	SymbolProfile p;

	for (size_t i = 0; i < lengthof(profiles); i++)
		if (strcmp(profiles[i].symbol, symbol) == 0)
			return profiles[i];
	/* Anything else: a price between 10 and 500, volatility 20-50%. */
	p.symbol = symbol;
	p.price = 10.0 * exp(unit(hash2(key, 1)) * log(50.0));
	p.volatility = 0.2 + 0.3 * unit(hash2(key, 2));
	p.volume_per_minute = 5000.0 + 95000.0 * unit(hash2(key, 3));
	return p;
}

/* The knots last used per layer: a bar's samples share most of them. */
typedef struct KnotCache
{
	bool		valid;
	int64		knot;
	double		a, b;			/* values at knot and knot + 1 */
} KnotCache;

/* The price at t (microseconds since the Unix epoch). */
static double
price_at(uint64 key, const SymbolProfile *p, int64 t, KnotCache *cache)
{
	double		seconds = (double) t / USECS_PER_SEC;
	double		logp = log(p->price);

	for (size_t k = 0; k < NLAYERS; k++)
	{
		double		x = seconds / layer_seconds[k];
		int64		knot = (int64) floor(x);
		double		frac = x - (double) knot;
		double		amplitude = p->volatility * sqrt(layer_seconds[k] / YEAR_SECONDS) * 0.7;
		KnotCache  *c = &cache[k];

		if (!c->valid || c->knot != knot)
		{
			uint64		lk = hash2(key, (uint64) k + 100);

			c->a = gaussian(hash2(lk, (uint64) knot));
			c->b = gaussian(hash2(lk, (uint64) (knot + 1)));
			c->knot = knot;
			c->valid = true;
		}
		logp += amplitude * (c->a + (c->b - c->a) * frac);
	}
	return exp(logp);
}

TimestampTz
simulate_align(TimestampTz t, int64 res_usec)
{
	int64		u = t + UNIX_EPOCH_USEC;
	int64		r = u % res_usec;

	if (r < 0)
		r += res_usec;
	return t - r;
}

void
simulate_bar(const char *symbol, int64 seed, TimestampTz ts, int64 res_usec,
			 TimestampTz as_of, IngestBar *out)
{
	uint64		key = symbol_key(symbol, seed);
	SymbolProfile p = profile_of(symbol, key);
	int64		t0 = ts + UNIX_EPOCH_USEC;
	int64		end = Min(ts + res_usec, Max(as_of, ts)) + UNIX_EPOCH_USEC;
	uint64		bar_key = hash2(key, (uint64) t0);
	double		formed = (double) (end - t0) / res_usec;
	double		volume;
	KnotCache	cache[NLAYERS] = {{0}};

	strlcpy(out->symbol, symbol, sizeof(out->symbol));
	out->has_ts = true;
	out->ts = ts;
	out->has_volume = true;
	out->problem = NULL;
	out->open = price_at(key, &p, t0, cache);
	out->close = price_at(key, &p, end, cache);
	out->high = Max(out->open, out->close);
	out->low = Min(out->open, out->close);
	for (int i = 1; i < INTRABAR_SAMPLES; i++)
	{
		int64		t = t0 + res_usec * i / INTRABAR_SAMPLES;
		double		price;

		if (t >= end)
			break;
		price = price_at(key, &p, t, cache);
		out->high = Max(out->high, price);
		out->low = Min(out->low, price);
	}
	/* Trades print a little beyond the sampled path. */
	out->high *= 1.0 + 0.0004 * unit(hash2(bar_key, 1)) * sqrt(formed);
	out->low *= 1.0 - 0.0004 * unit(hash2(bar_key, 2)) * sqrt(formed);

	/*
	 * Volume: log-normal around the symbol's typical rate, busier when the
	 * price moves, with a burst of 3-8 times the usual in about one bar of
	 * 60.
	 */
	volume = p.volume_per_minute * ((double) res_usec / (60.0 * USECS_PER_SEC))
		* exp(0.35 * gaussian(hash2(bar_key, 3)))
		* (1.0 + 40.0 * fabs(log(out->close / out->open)));
	if (unit(hash2(bar_key, 4)) < 1.0 / 60.0)
		volume *= 3.0 + 5.0 * unit(hash2(bar_key, 5));
	out->volume = (int64) (volume * formed);
}

int64
simulate_check_resolution(const Interval *res)
{
	int64		usec = res->time + (int64) res->day * USECS_PER_DAY;

	if (res->month != 0 || usec < provider_simulated.min_secs * USECS_PER_SEC ||
		usec > provider_simulated.max_secs * USECS_PER_SEC || usec % USECS_PER_SEC != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("resolution \"%s\" is not supported by provider \"simulated\"",
						DatumGetCString(DirectFunctionCall1(interval_out,
															IntervalPGetDatum(res)))),
				 errdetail("The simulated feed serves %s.", provider_simulated.serves)));
	return usec;
}

/* The symbol in upper case, as stored; errors when it is refused. */
static char *
checked_symbol(text *symbol)
{
	const char *why = symbol_problem(VARDATA_ANY(symbol), VARSIZE_ANY_EXHDR(symbol));
	char	   *s = text_to_cstring(symbol);

	if (why != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid symbol \"%s\"", s),
				 errdetail("The symbol is refused: %s.", why)));
	symbol_normalize(s);
	return s;
}

static void
check_finite_range(TimestampTz start, TimestampTz stop)
{
	if (TIMESTAMP_NOT_FINITE(start) || TIMESTAMP_NOT_FINITE(stop))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("simulated range must be finite")));
}

typedef struct SimulateState
{
	char	   *symbol;
	int64		seed;
	int64		res_usec;
	TimestampTz next;
	TimestampTz stop;
} SimulateState;

/*
 * Not STRICT, so that a NULL argument is an error naming it rather than an
 * empty result that looks like a quiet market.
 */
static void
check_not_null(FunctionCallInfo fcinfo)
{
	static const char *const names[] = {"symbol", "start", "stop", "resolution", "seed"};

	for (size_t i = 0; i < lengthof(names); i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be NULL", names[i])));
}

/* The simulated bars starting in [start, stop), complete. */
PG_FUNCTION_INFO_V1(stockext_simulate_bars);
Datum
stockext_simulate_bars(PG_FUNCTION_ARGS)
{
	FuncCallContext *funcctx;
	SimulateState *st;

	if (SRF_IS_FIRSTCALL())
	{
		text	   *symbol;
		TimestampTz start;
		TimestampTz stop;
		Interval   *res;
		MemoryContext old;
		TupleDesc	tupdesc;

		check_not_null(fcinfo);
		symbol = PG_GETARG_TEXT_PP(0);
		start = PG_GETARG_TIMESTAMPTZ(1);
		stop = PG_GETARG_TIMESTAMPTZ(2);
		res = PG_GETARG_INTERVAL_P(3);
		funcctx = SRF_FIRSTCALL_INIT();
		old = MemoryContextSwitchTo(funcctx->multi_call_memory_ctx);
		if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "return type must be a row type");
		funcctx->tuple_desc = BlessTupleDesc(tupdesc);
		st = palloc(sizeof(SimulateState));
		st->symbol = checked_symbol(symbol);
		st->seed = PG_GETARG_INT64(4);
		st->res_usec = simulate_check_resolution(res);
		check_finite_range(start, stop);
		st->next = simulate_align(start, st->res_usec);
		if (st->next < start)
			st->next += st->res_usec;
		st->stop = stop;
		funcctx->user_fctx = st;
		MemoryContextSwitchTo(old);
	}
	funcctx = SRF_PERCALL_SETUP();
	st = funcctx->user_fctx;
	if (st->next < st->stop)
	{
		IngestBar	bar;
		Datum		values[6];
		bool		nulls[6] = {false};

		simulate_bar(st->symbol, st->seed, st->next, st->res_usec, DT_NOEND, &bar);
		st->next += st->res_usec;
		values[0] = TimestampTzGetDatum(bar.ts);
		values[1] = Float8GetDatum(bar.open);
		values[2] = Float8GetDatum(bar.high);
		values[3] = Float8GetDatum(bar.low);
		values[4] = Float8GetDatum(bar.close);
		values[5] = Int64GetDatum(bar.volume);
		SRF_RETURN_NEXT(funcctx,
						HeapTupleGetDatum(heap_form_tuple(funcctx->tuple_desc, values, nulls)));
	}
	SRF_RETURN_DONE(funcctx);
}

int64
simulate_ingest(const char *symbol, int64 seed, TimestampTz start,
				TimestampTz stop, const Interval *res, TimestampTz as_of,
				int feed_id)
{
	int64		res_usec = simulate_check_resolution(res);
	TimestampTz ts = simulate_align(start, res_usec);
	TimestampTz end = Min(stop, as_of);
	IngestBar  *bars = palloc(INGEST_CHUNK * sizeof(IngestBar));
	int64		stored = 0;

	if (ts < start)
		ts += res_usec;
	while (ts < end)
	{
		int			n = 0;

		for (; n < INGEST_CHUNK && ts < end; n++, ts += res_usec)
			simulate_bar(symbol, seed, ts, res_usec, as_of, &bars[n]);
		stored += ingest_bars(bars, n, res, "simulated", feed_id, NULL);
		CHECK_FOR_INTERRUPTS();
	}
	pfree(bars);
	return stored;
}

/* Stores the simulated bars starting in [start, stop) that have begun by now. */
PG_FUNCTION_INFO_V1(stockext_ingest_simulated);
Datum
stockext_ingest_simulated(PG_FUNCTION_ARGS)
{
	char	   *symbol = checked_symbol(PG_GETARG_TEXT_PP(0));
	TimestampTz start = PG_GETARG_TIMESTAMPTZ(1);
	TimestampTz stop = PG_GETARG_TIMESTAMPTZ(2);
	Interval   *res = PG_GETARG_INTERVAL_P(3);
	int64		seed = PG_GETARG_INT64(4);

	check_finite_range(start, stop);
	PG_RETURN_INT64(simulate_ingest(symbol, seed, start, stop, res, GetCurrentTimestamp(), 0));
}

/*
 * A poll of the simulated feed, for one symbol: from its newest stored bar
 * (or the bar now forming, for a new symbol) to now.  After a restart this
 * fills the gap, up to stockext.max_gap_fill days back.
 */
static int64_t
simulated_store(const Feed *f, const char *symbol)
{
	TimestampTz now = GetCurrentTimestamp();
	int64		res_usec = simulate_check_resolution(&f->resolution);
	TimestampTz earliest = simulate_align(now - (int64) stockext_max_gap_fill_days * USECS_PER_DAY,
										  res_usec);
	TimestampTz start = simulate_align(now, res_usec);
	Oid			types[2] = {TEXTOID, INTERVALOID};
	Datum		args[2] = {CStringGetTextDatum(symbol), IntervalPGetDatum(&f->resolution)};
	bool		isnull;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT ts FROM stockext.ticks"
							  " WHERE symbol = $1 AND resolution = $2"
							  " ORDER BY ts DESC LIMIT 1",
							  2, types, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "reading the newest bar failed");
	if (SPI_processed == 1)
	{
		TimestampTz newest = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0],
															   SPI_tuptable->tupdesc,
															   1, &isnull));

		start = Max(Min(newest, start), earliest);
	}
	SPI_finish();
	return simulate_ingest(symbol, f->seed, start, now, &f->resolution, now, f->id);
}

const Provider provider_simulated = {
	.name = "simulated",
	.title = "the simulated feed",
	.min_secs = 1,
	.max_secs = 7 * SECS_PER_DAY,
	.serves = "whole numbers of seconds from 1 second to 7 days",
	.max_symbols = 1,
	/* a backfill chunk (one NOTICE) */
	.history_bars = 10000,
	.store = simulated_store,
};
