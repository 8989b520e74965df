/*
 * adjust.c
 *		Split and dividend adjustment factors of bars, derived from
 *		stockext.corporate_actions at read time.
 *
 * A symbol's factor is a step function of time, constant between two
 * ex-dates: the product of the ratios of the actions after the bar.  A
 * query loads a symbol's steps once (one SPI query), into a cache
 * that all its call sites share; each call site remembers the symbol and
 * step it used last, and the symbols it saw by a cheap hash of their bytes,
 * so that a scan over one symbol's bars, or over bars that alternate
 * between symbols, costs a comparison or two per bar, not a look-up.
 * adjust_price and adjust_volume apply the factor in the same call:
 * ticks_adjusted reads six adjusted columns per row, and a call per column
 * is the whole cost of the view.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

#include "bar.h"
#include "distributed.h"

/* Which factor a caller asks for. */
typedef enum AdjustKind
{
	ADJUST_NONE,
	ADJUST_SPLITS,
	ADJUST_ALL
} AdjustKind;

/*
 * One symbol's steps: n ex-date cutoffs, ascending, and n + 1 factors;
 * step k holds for bars in [cutoff[k - 1], cutoff[k]) and step n, after
 * the last action, is 1.  A symbol without actions has n = 0: one step.
 */
typedef struct Steps
{
	char		symbol[STOCKEXT_SYMBOL_MAXLEN + 1];	/* hash key */
	int			len;			/* of symbol */
	int			n;
	int			last_k;			/* the step found last */
	TimestampTz *cutoff;
	double	   *split;			/* product of the later splits' from/to */
	double	   *all;			/* the same times the later dividends' factors */
} Steps;

/*
 * The steps of the symbols one query has read, shared by its call sites
 * (the view has six per row, and a partitioned scan repeats them per
 * partition), in the query's memory: it lives as long as the query, which
 * is as long as a STABLE function may assume corporate_actions unchanged.
 */
typedef struct AdjustCache
{
	MemoryContext mcxt;			/* the query's: the call sites' fn_mcxt */
	MemoryContextCallback forget;	/* clears current_cache when mcxt goes */
	HTAB	   *symbols;		/* of Steps */
} AdjustCache;

/*
 * Symbols a call site remembers without a hash look-up, by a cheap hash of
 * their bytes: bars stored by a live feed alternate between its symbols
 * from one row to the next.
 */
#define SITE_SLOTS 64

/* A call site's state, in fn_extra. */
typedef struct CallSite
{
	AdjustCache *cache;
	Steps	   *last;			/* the symbol seen last */
	Steps	   *slot[SITE_SLOTS];	/* symbols seen, at slot_of() */
} CallSite;

/* The cache of the query that called last, which its other call sites find. */
static AdjustCache *current_cache = NULL;

/* The single node's steps query, prepared on first use. */
static SPIPlanPtr steps_plan = NULL;

/*
 * The actions of a symbol $1, from %1$s, with %2$s as a fifth column.  The
 * ex-date starts at 00:00 UTC (README, "Corporate actions").
 */
static const char *const steps_sql =
"SELECT c.cutoff, a.kind, a.split_from::float8 / a.split_to::float8, a.cash_amount::float8, %2$s"
" FROM %1$s a,"
"      LATERAL (SELECT a.ex_date::timestamp AT TIME ZONE 'UTC' AS cutoff) c"
" WHERE a.symbol = $1 ORDER BY a.ex_date";

/*
 * What a dividend is relative to: the close of the last bar of symbol %2$s
 * before %3$s at any resolution (the last price traded cum dividend), from
 * the bars of %1$s.
 */
static const char *const close_before_sql =
"SELECT t.close FROM %1$s t WHERE t.symbol = %2$s AND t.ts < %3$s"
" ORDER BY t.ts DESC, t.resolution DESC LIMIT 1";

/*
 * Where the bars are distributed over Citus, this may run inside the query
 * of a shard on a worker, where a distributed query fails, and a statement
 * joining a node's own tables to distributed ones is refused anywhere.
 * The actions come from the node's placement of them (a reference table,
 * on every node); each dividend's close, by a query of its own, from the
 * node's shard of the symbol's bars when it holds it, else through Citus
 * (stockext.local_shard()).  Returns the bars' relation then, else NULL,
 * the actions being in SPI_tuptable.
 */
static char *
run_steps_sql(Datum *args)
{
	Oid			argtypes[1] = {TEXTOID};

	if (ticks_distributed())
	{
		char	   *actions;
		char	   *bars;
		bool		isnull;

		if (SPI_execute_with_args("SELECT stockext.local_shard('stockext.corporate_actions', $1),"
								  "       stockext.local_shard('stockext.ticks', $1)",
								  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT ||
			SPI_processed != 1)
			elog(ERROR, "finding the shards of a symbol's actions and bars failed");
		actions = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0],
													SPI_tuptable->tupdesc, 1, &isnull));
		bars = TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0],
												 SPI_tuptable->tupdesc, 2, &isnull));
		if (SPI_execute_with_args(psprintf(steps_sql, actions, "NULL::float8"),
								  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
			elog(ERROR, "reading the corporate actions of a symbol failed");
		return bars;
	}
	if (steps_plan == NULL)
	{
		char	   *prev = psprintf("CASE WHEN a.kind = 'dividend' THEN (%s) END",
									psprintf(close_before_sql, "stockext.ticks", "a.symbol", "c.cutoff"));
		SPIPlanPtr	plan = SPI_prepare(psprintf(steps_sql, "stockext.corporate_actions", prev),
									   1, argtypes);

		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		steps_plan = plan;
	}
	if (SPI_execute_plan(steps_plan, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed");
	return NULL;
}

/* The close before a dividend's cutoff, from bars (run_steps_sql). */
static Datum
close_before(const char *bars, Datum symbol, TimestampTz cutoff, bool *isnull)
{
	Oid			argtypes[2] = {TEXTOID, TIMESTAMPTZOID};
	Datum		args[2] = {symbol, TimestampTzGetDatum(cutoff)};

	if (SPI_execute_with_args(psprintf(close_before_sql, bars, "$1", "$2"),
							  2, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "reading the close before a dividend failed");
	*isnull = true;
	if (SPI_processed == 0)
		return (Datum) 0;
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isnull);
}

/* Reads the steps of symbol into s, allocated in ctx. */
static void
load_steps(Steps *s, MemoryContext ctx)
{
	Datum		args[1];
	char	   *bars;
	SPITupleTable *actions;
	double	   *rs;
	double	   *rd;
	int			rows;

	args[0] = CStringGetTextDatum(s->symbol);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	bars = run_steps_sql(args);
	actions = SPI_tuptable;
	rows = (int) SPI_processed;
	/* Outside SPI's memory, which SPI_finish frees. */
	s->cutoff = MemoryContextAlloc(ctx, sizeof(TimestampTz) * Max(rows, 1));
	s->split = MemoryContextAlloc(ctx, sizeof(double) * (rows + 1));
	s->all = MemoryContextAlloc(ctx, sizeof(double) * (rows + 1));
	rs = MemoryContextAlloc(ctx, sizeof(double) * Max(rows, 1));
	rd = MemoryContextAlloc(ctx, sizeof(double) * Max(rows, 1));

	/* The ratio of each distinct ex-date: a split and a dividend may share one. */
	s->n = 0;
	for (int i = 0; i < rows; i++)
	{
		HeapTuple	tup = actions->vals[i];
		TupleDesc	desc = actions->tupdesc;
		bool		isnull;
		TimestampTz cutoff = DatumGetTimestampTz(SPI_getbinval(tup, desc, 1, &isnull));
		bool		split = strcmp(TextDatumGetCString(SPI_getbinval(tup, desc, 2, &isnull)), "split") == 0;

		if (s->n == 0 || s->cutoff[s->n - 1] != cutoff)
		{
			s->cutoff[s->n] = cutoff;
			rs[s->n] = 1.0;
			rd[s->n] = 1.0;
			s->n++;
		}
		if (split)
			rs[s->n - 1] *= DatumGetFloat8(SPI_getbinval(tup, desc, 3, &isnull));
		else
		{
			double		cash = DatumGetFloat8(SPI_getbinval(tup, desc, 4, &isnull));
			Datum		prev = bars != NULL ? close_before(bars, args[0], cutoff, &isnull)
				: SPI_getbinval(tup, desc, 5, &isnull);

			/*
			 * No bar before the ex-date: nothing to adjust.  A dividend not
			 * below the close before it would make the factor 0 or
			 * negative: it is left out (README).
			 */
			if (!isnull && cash < DatumGetFloat8(prev))
				rd[s->n - 1] *= 1.0 - cash / DatumGetFloat8(prev);
		}
	}
	SPI_finish();

	s->split[s->n] = 1.0;
	s->all[s->n] = 1.0;
	for (int k = s->n - 1; k >= 0; k--)
	{
		s->split[k] = s->split[k + 1] * rs[k];
		s->all[k] = s->all[k + 1] * rs[k] * rd[k];
	}
	pfree(rs);
	pfree(rd);
}

/* The step of ts: how many cutoffs are at or before it. */
static int
find_step(const Steps *s, TimestampTz ts)
{
	int			lo = 0;
	int			hi = s->n;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (s->cutoff[mid] <= ts)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Reset callback of a query's memory: its cache is no longer to be found. */
static void
forget_cache(void *arg)
{
	if (current_cache == arg)
		current_cache = NULL;
}

/* The slot of symbol (len bytes) in a call site. */
static inline int
slot_of(const char *symbol, int len)
{
	uint32		h = len;

	for (int i = 0; i < len; i++)
		h = h * 31 + (unsigned char) symbol[i];
	return h % SITE_SLOTS;
}

/* Whether s holds the steps of symbol (len bytes). */
static inline bool
same_symbol(const Steps *s, const char *symbol, int len)
{
	if (s == NULL || s->len != len)
		return false;
	/* A loop: symbols are a few bytes, shorter than a call to memcmp. */
	for (int i = 0; i < len; i++)
		if (s->symbol[i] != symbol[i])
			return false;
	return true;
}

/*
 * The steps of symbol (len bytes, at most STOCKEXT_SYMBOL_MAXLEN) when it is
 * not the one the call site saw last: from the site's slots, else from the
 * query's cache, loaded on the query's first use of the symbol.
 */
static pg_noinline Steps *
symbol_steps(FmgrInfo *flinfo, const char *symbol, int len)
{
	CallSite   *site = flinfo->fn_extra;
	int			slot = slot_of(symbol, len);
	char		key[STOCKEXT_SYMBOL_MAXLEN + 1] = {0};
	Steps	   *s;

	if (site != NULL && same_symbol(site->slot[slot], symbol, len))
	{
		site->last = site->slot[slot];
		return site->last;
	}

	if (site == NULL)
	{
		site = MemoryContextAllocZero(flinfo->fn_mcxt, sizeof(CallSite));
		flinfo->fn_extra = site;
	}
	if (site->cache == NULL)
	{
		if (current_cache == NULL || current_cache->mcxt != flinfo->fn_mcxt)
		{
			AdjustCache *cache = MemoryContextAllocZero(flinfo->fn_mcxt, sizeof(AdjustCache));
			HASHCTL		ctl = {0};

			cache->mcxt = flinfo->fn_mcxt;
			ctl.keysize = sizeof(key);
			ctl.entrysize = sizeof(Steps);
			ctl.hcxt = flinfo->fn_mcxt;
			cache->symbols = hash_create("stockext adjustment steps", 16, &ctl,
										 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
			cache->forget.func = forget_cache;
			cache->forget.arg = cache;
			MemoryContextRegisterResetCallback(flinfo->fn_mcxt, &cache->forget);
			current_cache = cache;
		}
		site->cache = current_cache;
	}
	memcpy(key, symbol, len);
	s = hash_search(site->cache->symbols, key, HASH_FIND, NULL);
	if (s == NULL)
	{
		Steps		loaded = {0};

		/* Entered once loaded: an error while loading leaves no half entry. */
		memcpy(loaded.symbol, key, sizeof(key));
		loaded.len = len;
		load_steps(&loaded, site->cache->mcxt);
		s = hash_search(site->cache->symbols, key, HASH_ENTER, NULL);
		*s = loaded;
	}
	site->last = s;
	site->slot[slot] = s;
	return s;
}

/*
 * A text argument, detoasted in place when it needs to be: symbols and
 * adjust are short, never toasted in practice, and this is read per bar.
 */
static inline struct varlena *
text_arg(Datum d)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(d);

	if (unlikely(VARATT_IS_EXTERNAL(v) || VARATT_IS_COMPRESSED(v)))
		v = pg_detoast_datum_packed(v);
	return v;
}

/*
 * The factors of symbol's bar at ts: split_out gets the splits factor,
 * the return value is that of all.  Consecutive bars of one symbol, the
 * common case in a scan, cost a comparison of the symbol and of ts against
 * the step found last.
 */
static pg_attribute_always_inline double
factors(FunctionCallInfo fcinfo, Datum symbol, TimestampTz ts, double *split_out)
{
	struct varlena *v = text_arg(symbol);
	const char *sym = VARDATA_ANY(v);
	int			len = VARSIZE_ANY_EXHDR(v);
	CallSite   *site = fcinfo->flinfo->fn_extra;
	Steps	   *s = site ? site->last : NULL;
	int			k;

	/* Only valid symbols have actions (corporate_actions_symbol_valid). */
	if (unlikely(len > STOCKEXT_SYMBOL_MAXLEN))
	{
		*split_out = 1.0;
		return 1.0;
	}
	if (unlikely(!same_symbol(s, sym, len)))
		s = symbol_steps(fcinfo->flinfo, sym, len);
	k = s->last_k;
	if (unlikely((k > 0 && ts < s->cutoff[k - 1]) || (k < s->n && ts >= s->cutoff[k])))
		k = s->last_k = find_step(s, ts);
	*split_out = s->split[k];
	return s->all[k];
}

static pg_noinline void
invalid_adjust(text *adjust)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid adjust \"%s\"", text_to_cstring(adjust)),
			 errhint("Use none, splits or all.")));
}

/* The kind adjust names; compared in place, as it is read once per bar. */
static inline AdjustKind
check_adjust(text *adjust)
{
	const char *a = VARDATA_ANY(adjust);
	int			len = VARSIZE_ANY_EXHDR(adjust);

	if (len == 6 && memcmp(a, "splits", 6) == 0)
		return ADJUST_SPLITS;
	if (len == 3 && memcmp(a, "all", 3) == 0)
		return ADJUST_ALL;
	if (len == 4 && memcmp(a, "none", 4) == 0)
		return ADJUST_NONE;
	invalid_adjust(adjust);
	pg_unreachable();
}

/* The factor of kind for symbol's bar at ts. */
static pg_attribute_always_inline double
factor(FunctionCallInfo fcinfo, AdjustKind kind, Datum symbol, TimestampTz ts)
{
	double		split;
	double		all;

	if (kind == ADJUST_NONE)
		return 1.0;
	all = factors(fcinfo, symbol, ts, &split);
	return kind == ADJUST_SPLITS ? split : all;
}

/*
 * The factor that turns the as-traded prices of symbol's bar at ts into
 * adjusted ones: splits (the product of split_from / split_to of the later
 * splits), all (that times 1 - cash / previous close of each later
 * dividend) or none (1).  A volume is divided by the splits factor.
 */
PG_FUNCTION_INFO_V1(stockext_adjustment_factor);
Datum
stockext_adjustment_factor(PG_FUNCTION_ARGS)
{
	AdjustKind	kind = check_adjust(text_arg(PG_GETARG_DATUM(2)));

	PG_RETURN_FLOAT8(factor(fcinfo, kind, PG_GETARG_DATUM(0), PG_GETARG_TIMESTAMPTZ(1)));
}

/* price times adjustment_factor(symbol, ts, adjust), in one call. */
PG_FUNCTION_INFO_V1(stockext_adjust_price);
Datum
stockext_adjust_price(PG_FUNCTION_ARGS)
{
	float8		price = PG_GETARG_FLOAT8(0);
	AdjustKind	kind = check_adjust(text_arg(PG_GETARG_DATUM(3)));

	PG_RETURN_FLOAT8(float8_mul(price, factor(fcinfo, kind, PG_GETARG_DATUM(1), PG_GETARG_TIMESTAMPTZ(2))));
}

/*
 * (volume / adjustment_factor(symbol, ts, 'splits'))::bigint, in one call:
 * the float8 operations of that expression, so the same whole shares.
 */
PG_FUNCTION_INFO_V1(stockext_adjust_volume);
Datum
stockext_adjust_volume(PG_FUNCTION_ARGS)
{
	float8		volume = (float8) PG_GETARG_INT64(0);
	float8		shares = rint(float8_div(volume, factor(fcinfo, ADJUST_SPLITS, PG_GETARG_DATUM(1),
													   PG_GETARG_TIMESTAMPTZ(2))));

	if (unlikely(isnan(shares) || !FLOAT8_FITS_IN_INT64(shares)))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("bigint out of range")));
	PG_RETURN_INT64((int64) shares);
}
