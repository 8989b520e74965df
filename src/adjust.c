/*
 * adjust.c
 *		Split and dividend adjustment factors of bars, derived from
 *		stockext.corporate_actions at read time.
 *
 * A symbol's factor is a step function of time, constant between two
 * ex-dates: the product of the ratios of the actions after the bar.  Each
 * call site loads a symbol's steps once per query (one SPI query, copied
 * into fn_mcxt) and remembers the step it used last, so that a scan over a
 * symbol's bars costs a comparison or two per bar, not a look-up.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/timestamp.h"

#include "bar.h"

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
 * the last action, is 1.
 */
typedef struct Steps
{
	char		symbol[STOCKEXT_SYMBOL_MAXLEN + 1];	/* hash key */
	int			n;
	TimestampTz *cutoff;
	double	   *split;			/* product of the later splits' from/to */
	double	   *all;			/* the same times the later dividends' factors */
} Steps;

typedef struct AdjustCache
{
	HTAB	   *symbols;		/* of Steps */
	Steps	   *last;			/* the steps used last, and which step */
	int			last_k;
} AdjustCache;

/*
 * The actions of a symbol with, for a dividend, the close of the last bar
 * before its ex-date at any resolution (the last price traded cum
 * dividend).  The ex-date starts at 00:00 UTC (README, "Corporate
 * actions").
 */
static const char *const steps_sql =
"SELECT c.cutoff, a.kind, a.split_from::float8 / a.split_to::float8, a.cash_amount::float8,"
"       CASE WHEN a.kind = 'dividend' THEN"
"           (SELECT t.close FROM stockext.ticks t"
"            WHERE t.symbol = a.symbol AND t.ts < c.cutoff"
"            ORDER BY t.ts DESC, t.resolution DESC LIMIT 1) END"
" FROM stockext.corporate_actions a,"
"      LATERAL (SELECT a.ex_date::timestamp AT TIME ZONE 'UTC' AS cutoff) c"
" WHERE a.symbol = $1 ORDER BY a.ex_date";

/* Reads the steps of symbol into s, allocated in ctx. */
static void
load_steps(Steps *s, MemoryContext ctx)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	double	   *rs;
	double	   *rd;
	int			rows;

	args[0] = CStringGetTextDatum(s->symbol);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(steps_sql, 1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
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
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
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
			Datum		prev = SPI_getbinval(tup, desc, 5, &isnull);

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

static bool
in_step(const Steps *s, int k, TimestampTz ts)
{
	return (k == 0 || s->cutoff[k - 1] <= ts) && (k == s->n || ts < s->cutoff[k]);
}

/* The kind adjust names; compared in place, as it is read once per bar. */
static AdjustKind
check_adjust(text *adjust)
{
	const char *a = VARDATA_ANY(adjust);
	int			len = VARSIZE_ANY_EXHDR(adjust);

	if (len == 4 && memcmp(a, "none", 4) == 0)
		return ADJUST_NONE;
	if (len == 6 && memcmp(a, "splits", 6) == 0)
		return ADJUST_SPLITS;
	if (len == 3 && memcmp(a, "all", 3) == 0)
		return ADJUST_ALL;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid adjust \"%s\"", text_to_cstring(adjust)),
			 errhint("Use none, splits or all.")));
	pg_unreachable();
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
	text	   *symbol = PG_GETARG_TEXT_PP(0);
	TimestampTz ts = PG_GETARG_TIMESTAMPTZ(1);
	AdjustKind	kind = check_adjust(PG_GETARG_TEXT_PP(2));
	int			len = VARSIZE_ANY_EXHDR(symbol);
	AdjustCache *cache = fcinfo->flinfo->fn_extra;
	Steps	   *s;
	int			k;

	/* Only valid symbols have actions (corporate_actions_symbol_valid). */
	if (kind == ADJUST_NONE || len > STOCKEXT_SYMBOL_MAXLEN)
		PG_RETURN_FLOAT8(1.0);

	s = cache ? cache->last : NULL;
	if (s == NULL || strncmp(s->symbol, VARDATA_ANY(symbol), len) != 0 || s->symbol[len] != '\0')
	{
		char		key[STOCKEXT_SYMBOL_MAXLEN + 1] = {0};
		bool		found;

		if (cache == NULL)
		{
			HASHCTL		ctl = {0};

			cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(AdjustCache));
			ctl.keysize = sizeof(key);
			ctl.entrysize = sizeof(Steps);
			ctl.hcxt = fcinfo->flinfo->fn_mcxt;
			cache->symbols = hash_create("stockext adjustment steps", 16, &ctl,
										 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
			fcinfo->flinfo->fn_extra = cache;
		}
		memcpy(key, VARDATA_ANY(symbol), len);
		s = hash_search(cache->symbols, key, HASH_ENTER, &found);
		if (!found)
			load_steps(s, fcinfo->flinfo->fn_mcxt);
		cache->last = s;
		cache->last_k = find_step(s, ts);
	}
	else if (!in_step(s, cache->last_k, ts))
		cache->last_k = find_step(s, ts);
	k = cache->last_k;
	PG_RETURN_FLOAT8(kind == ADJUST_SPLITS ? s->split[k] : s->all[k]);
}
