/*
 * win_oscillators.c
 *		Bar indicators as window functions, with TA-Lib's formulas, default
 *		periods and warm-up: stoch, willr, adx, cci, mfi, obv.
 *
 * As in win_indicators.c, a bar with a NULL input does not enter the
 * indicator and returns the previous row's result, so warm-ups count
 * complete bars.  The rolling high and low of stoch and willr come from
 * plain rings up to 32 bars and from monotonic deques beyond (O(1)
 * amortized per row), the moving averages and money flow sums from
 * SlidingWindow (win_common.h), ADX from Wilder's recursion;
 * CCI's mean deviation has no running form and costs O(period) per row.
 */
#include "postgres.h"

#include <math.h>

#include "ring.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "win_common.h"

/*
 * The highest high and lowest low of the last n complete bars, and whether
 * a NaN is among their highs, lows and closes (max and min would let a NaN
 * low or close pass unseen; a NaN makes these indicators NaN instead).
 *
 * Up to BAR_RANGE_SCAN_MAX bars (the default periods are 14), the highs and
 * lows sit in plain rings and each extreme is kept with the bar it came
 * from: a new bar that reaches it replaces it, and only when its bar leaves
 * the window are the n bars scanned again.  On random data that happens
 * on about 1 row in n; on a steady trend, on every row: n compares, cheaper
 * than the deque's bookkeeping at these n.  Longer windows use monotonic
 * deques (O(1) amortized a row).  Both give the newest of equal extremes
 * (-0 or +0), and which finite extreme a NaN leaves behind does not matter:
 * the result is NaN while a NaN is in the window, and a scan or the deque
 * gives the extreme of the window once it left.
 */
#define BAR_RANGE_SCAN_MAX 32

typedef struct BarRange
{
	int32		n;
	int32		slot;			/* ring slot of the next bar (rings only) */
	int64		bars;			/* complete bars pushed */
	int64		nan_until;		/* bars count up to which a NaN is in the window */
	/* n <= BAR_RANGE_SCAN_MAX: */
	double	   *highs;			/* the last n highs and lows, by bar % n */
	double	   *lows;
	double		highest;		/* the window's extremes, excluding NaN */
	double		lowest;
	int64		highest_bar;	/* the bars (counted from 1) they came from */
	int64		lowest_bar;
	/* else: */
	MonoDeque	high;
	MonoDeque	low;
} BarRange;

static void
bar_range_init(BarRange *r, int32 n, MemoryContext cxt)
{
	r->n = n;
	r->slot = 0;
	r->bars = 0;
	r->nan_until = 0;
	if (n <= BAR_RANGE_SCAN_MAX)
	{
		r->highs = MemoryContextAlloc(cxt, sizeof(double) * n);
		r->lows = MemoryContextAlloc(cxt, sizeof(double) * n);
		/* Both expired: the first bar replaces them. */
		r->highest = -get_float8_infinity();
		r->lowest = get_float8_infinity();
		r->highest_bar = r->lowest_bar = 0;
	}
	else
	{
		mono_deque_init(&r->high, 1, cxt);
		mono_deque_init(&r->low, -1, cxt);
	}
}

/*
 * The extremes of the window, the last n bars of the rings, oldest first so
 * that >= and <= leave the newest of equal ones; a NaN never enters them.
 */
static pg_noinline void
bar_range_scan_high(BarRange *r)
{
	double		best = -get_float8_infinity();
	int64		bar = r->bars - r->n + 1;	/* the oldest bar: expires first */

	for (int32 i = 0; i < r->n; i++)
	{
		int32		j = r->slot + i < r->n ? r->slot + i : r->slot + i - r->n;

		if (r->highs[j] >= best)
		{
			best = r->highs[j];
			bar = r->bars - r->n + 1 + i;
		}
	}
	r->highest = best;
	r->highest_bar = bar;
}

static pg_noinline void
bar_range_scan_low(BarRange *r)
{
	double		best = get_float8_infinity();
	int64		bar = r->bars - r->n + 1;

	for (int32 i = 0; i < r->n; i++)
	{
		int32		j = r->slot + i < r->n ? r->slot + i : r->slot + i - r->n;

		if (r->lows[j] <= best)
		{
			best = r->lows[j];
			bar = r->bars - r->n + 1 + i;
		}
	}
	r->lowest = best;
	r->lowest_bar = bar;
}

/* Adds a bar; true once n bars were seen, with the range's extremes. */
static pg_attribute_always_inline bool
bar_range_push(BarRange *r, const double *hlc, double *highest, double *lowest)
{
	r->bars++;
	if (isnan(hlc[0]) || isnan(hlc[1]) || isnan(hlc[2]))
		r->nan_until = r->bars + r->n - 1;
	if (r->n <= BAR_RANGE_SCAN_MAX)
	{
		r->highs[r->slot] = hlc[0];
		r->lows[r->slot] = hlc[1];
		if (++r->slot == r->n)
			r->slot = 0;
		if (hlc[0] >= r->highest)
		{
			r->highest = hlc[0];
			r->highest_bar = r->bars;
		}
		else if (r->highest_bar <= r->bars - r->n)
			bar_range_scan_high(r);
		if (hlc[1] <= r->lowest)
		{
			r->lowest = hlc[1];
			r->lowest_bar = r->bars;
		}
		else if (r->lowest_bar <= r->bars - r->n)
			bar_range_scan_low(r);
	}
	else
	{
		mono_deque_push(&r->high, hlc[0]);
		mono_deque_push(&r->low, hlc[1]);
		mono_deque_expire(&r->high, r->bars - r->n);
		mono_deque_expire(&r->low, r->bars - r->n);
	}
	if (r->bars < r->n)
		return false;
	if (r->bars <= r->nan_until)
		*highest = *lowest = get_float8_nan();
	else if (r->n <= BAR_RANGE_SCAN_MAX)
	{
		*highest = r->highest;
		*lowest = r->lowest;
	}
	else
	{
		*highest = mono_deque_front(&r->high);
		*lowest = mono_deque_front(&r->low);
	}
	return true;
}

typedef struct StochState
{
	int64		rows;
	int32		k;
	int32		k_smooth;
	int32		d;
	BarRange	range;
	SlidingWindow fast_k;		/* the last k_smooth fast %K */
	SlidingWindow slow_k;		/* the last d slow %K */
	bool		has_result;
	double		result[2];
} StochState;

/* stoch(high, low, close, k, k_smooth, d): TA-Lib's slow stochastic (slow %K, slow %D). */
PG_FUNCTION_INFO_V1(stockext_stoch);
Datum
stockext_stoch(PG_FUNCTION_ARGS)
{
	WindowObject winobj = PG_WINDOW_OBJECT();
	StochState *st = WinGetPartitionLocalMemory(winobj, sizeof(StochState));
	int32		k = win_int_param(fcinfo, 3, "stoch", "k", WIN_MAX_BUFFERED,
								  st->rows, &st->k);
	int32		k_smooth = win_int_param(fcinfo, 4, "stoch", "k_smooth", WIN_MAX_BUFFERED,
										 st->rows, &st->k_smooth);
	int32		d = win_int_param(fcinfo, 5, "stoch", "d", WIN_MAX_BUFFERED,
								  st->rows, &st->d);
	double		hlc[3];
	double		highest;
	double		lowest;
	bool		isnull;

	if (st->rows == 0)
	{
		MemoryContext cxt = GetMemoryChunkContext(st);

		bar_range_init(&st->range, k, cxt);
		sw_init(&st->fast_k, k_smooth, false, cxt);
		sw_init(&st->slow_k, d, false, cxt);
	}
	win_next_row(winobj, &st->rows, 0);

	if (win_float_args(winobj, 0, 3, hlc) &&
		bar_range_push(&st->range, hlc, &highest, &lowest))
	{
		/* TA-Lib's operations; a flat range is neutral (TA-Lib: 0). */
		double		diff = (highest - lowest) / 100.0;

		sw_push(&st->fast_k, diff != 0.0 ? (hlc[2] - lowest) / diff : 50.0, false);
		if (st->fast_k.pushed >= k_smooth)
		{
			st->result[0] = sw_mean(&st->fast_k, &isnull);
			sw_push(&st->slow_k, st->result[0], false);
			if (st->slow_k.pushed >= d)
			{
				st->result[1] = sw_mean(&st->slow_k, &isnull);
				st->has_result = true;
			}
		}
	}
	if (!st->has_result)
		PG_RETURN_NULL();
	return win_result_row(fcinfo, st->result, NULL);
}

typedef struct WillrState
{
	int64		rows;
	int32		n;
	BarRange	range;
	bool		has_result;
	double		result;
} WillrState;

/* willr(high, low, close, n): Williams' %R, -100 to 0. */
PG_FUNCTION_INFO_V1(stockext_willr);
Datum
stockext_willr(PG_FUNCTION_ARGS)
{
	WindowObject winobj = PG_WINDOW_OBJECT();
	WillrState *st = WinGetPartitionLocalMemory(winobj, sizeof(WillrState));
	int32		n = win_int_param(fcinfo, 3, "willr", "n", WIN_MAX_BUFFERED,
								  st->rows, &st->n);
	double		hlc[3];
	double		highest;
	double		lowest;

	if (st->rows == 0)
		bar_range_init(&st->range, n, GetMemoryChunkContext(st));
	win_next_row(winobj, &st->rows, 0);

	if (win_float_args(winobj, 0, 3, hlc) &&
		bar_range_push(&st->range, hlc, &highest, &lowest))
	{
		/* TA-Lib's operations; a flat range is neutral (TA-Lib: 0). */
		double		diff = (highest - lowest) / -100.0;

		st->result = diff != 0.0 ? (highest - hlc[2]) / diff : -50.0;
		st->has_result = true;
	}
	if (!st->has_result)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(st->result);
}

typedef struct AdxState
{
	int64		rows;
	int32		n;
	int64		bars;			/* complete bars seen */
	double		prev_high;
	double		prev_low;
	double		prev_close;
	double		plus_dm;		/* Wilder-smoothed sums, TA-Lib's seeding */
	double		minus_dm;
	double		tr;
	double		sum_dx;			/* DX of bars n + 1 .. 2n, for the first ADX */
	double		result[3];		/* adx, plus_di, minus_di */
	bool		nulls[3];
} AdxState;

/*
 * One bar of TA-Lib's ADX: the directional movements and true range from
 * the previous bar, summed over the first n - 1 changes, then smoothed as
 * sum - sum / n + x; the DIs are the smoothed DMs over the smoothed TR, the
 * first ADX is the mean of the first n DX, then Wilder's average.
 */
static void
adx_push(AdxState *st, const double *hlc)
{
	double		n = st->n;
	double		diff_p = hlc[0] - st->prev_high;
	double		diff_m = st->prev_low - hlc[1];
	double		plus = 0.0;
	double		minus = 0.0;
	double		tr = ta_true_range(hlc[0], hlc[1], st->prev_close);

	if (diff_m > 0 && diff_p < diff_m)
		minus = diff_m;
	else if (diff_p > 0 && diff_p > diff_m)
		plus = diff_p;
	st->prev_high = hlc[0];
	st->prev_low = hlc[1];
	st->prev_close = hlc[2];

	if (st->bars < st->n)
	{
		/* Changes 1 .. n - 1: TA-Lib seeds with their sums. */
		st->plus_dm += plus;
		st->minus_dm += minus;
		st->tr += tr;
		return;
	}
	st->minus_dm -= st->minus_dm / n;
	st->plus_dm -= st->plus_dm / n;
	st->minus_dm += minus;
	st->plus_dm += plus;
	st->tr = st->tr - (st->tr / n) + tr;

	/* A zero true range leaves the DIs 0 and no DX (TA-Lib: below 1e-8). */
	st->result[1] = st->result[2] = 0.0;
	st->nulls[1] = st->nulls[2] = false;
	if (st->tr != 0.0)
	{
		double		minus_di = 100.0 * (st->minus_dm / st->tr);
		double		plus_di = 100.0 * (st->plus_dm / st->tr);
		double		sum = minus_di + plus_di;

		st->result[1] = plus_di;
		st->result[2] = minus_di;
		if (sum != 0.0)
		{
			double		dx = 100.0 * (fabs(minus_di - plus_di) / sum);

			if (st->bars < 2 * (int64) st->n)
				st->sum_dx += dx;
			else
				st->result[0] = ((st->result[0] * (n - 1)) + dx) / n;
		}
	}
	/* A DX that does not exist counts as 0 in the first ADX, as in TA-Lib. */
	if (st->bars == 2 * (int64) st->n - 1)
	{
		st->result[0] = st->sum_dx / n;
		st->nulls[0] = false;
	}
}

/* adx(high, low, close, n): (adx, plus_di, minus_di), TA-Lib's ADX, PLUS_DI, MINUS_DI. */
PG_FUNCTION_INFO_V1(stockext_adx);
Datum
stockext_adx(PG_FUNCTION_ARGS)
{
	WindowObject winobj = PG_WINDOW_OBJECT();
	AdxState   *st = WinGetPartitionLocalMemory(winobj, sizeof(AdxState));
	double		hlc[3];

	/* Kept in st->n, which adx_push reads. */
	(void) win_int_param(fcinfo, 3, "adx", "n", PG_INT32_MAX, st->rows, &st->n);
	if (st->rows == 0)
		st->nulls[0] = st->nulls[1] = st->nulls[2] = true;
	win_next_row(winobj, &st->rows, 0);

	if (win_float_args(winobj, 0, 3, hlc))
	{
		if (st->bars > 0)
			adx_push(st, hlc);
		else
		{
			st->prev_high = hlc[0];
			st->prev_low = hlc[1];
			st->prev_close = hlc[2];
		}
		st->bars++;
	}
	if (st->nulls[1])
		PG_RETURN_NULL();
	return win_result_row(fcinfo, st->result, st->nulls);
}

typedef struct CciState
{
	int64		rows;
	int32		n;
	SlidingWindow typical;		/* the last n typical prices */
	bool		has_result;
	double		result;
} CciState;

/* cci(high, low, close, n): Lambert's commodity channel index. */
PG_FUNCTION_INFO_V1(stockext_cci);
Datum
stockext_cci(PG_FUNCTION_ARGS)
{
	WindowObject winobj = PG_WINDOW_OBJECT();
	CciState   *st = WinGetPartitionLocalMemory(winobj, sizeof(CciState));
	int32		n = win_int_param(fcinfo, 3, "cci", "n", WIN_MAX_BUFFERED,
								  st->rows, &st->n);
	double		hlc[3];

	if (st->rows == 0)
		sw_init(&st->typical, n, true, GetMemoryChunkContext(st));
	win_next_row(winobj, &st->rows, 0);

	if (win_float_args(winobj, 0, 3, hlc))
	{
		double		tp = (hlc[0] + hlc[1] + hlc[2]) / 3.0;

		sw_push(&st->typical, tp, false);
		if (st->typical.pushed >= n)
		{
			bool		isnull;
			double		mean = sw_mean(&st->typical, &isnull);
			double		dev = 0.0;
			double		num = tp - mean;

			/* The window holds only complete bars: no NULL slot. */
			for (int32 i = 0; i < n; i++)
				dev += fabs(st->typical.values[i] - mean);
			/* TA-Lib: 0 when the price is at its mean or the window is flat. */
			st->result = num != 0.0 && dev != 0.0 ? num / (0.015 * (dev / n)) : 0.0;
			st->has_result = true;
		}
	}
	if (!st->has_result)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(st->result);
}

typedef struct MfiState
{
	int64		rows;
	int32		n;
	bool		started;		/* prev holds the last complete bar's typical price */
	double		prev;
	SlidingWindow positive;		/* money flows of the last n changes */
	SlidingWindow negative;
	bool		has_result;
	double		result;
} MfiState;

/* mfi(high, low, close, volume, n): money flow index, 0 to 100. */
PG_FUNCTION_INFO_V1(stockext_mfi);
Datum
stockext_mfi(PG_FUNCTION_ARGS)
{
	WindowObject winobj = PG_WINDOW_OBJECT();
	MfiState   *st = WinGetPartitionLocalMemory(winobj, sizeof(MfiState));
	int32		n = win_int_param(fcinfo, 4, "mfi", "n", WIN_MAX_BUFFERED,
								  st->rows, &st->n);
	double		hlcv[4];

	if (st->rows == 0)
	{
		sw_init(&st->positive, n, false, GetMemoryChunkContext(st));
		sw_init(&st->negative, n, false, GetMemoryChunkContext(st));
	}
	win_next_row(winobj, &st->rows, 0);

	if (win_float_args(winobj, 0, 4, hlcv))
	{
		double		tp = (hlcv[0] + hlcv[1] + hlcv[2]) / 3.0;

		if (st->started)
		{
			double		change = tp - st->prev;
			double		flow = tp * hlcv[3];

			/* A NaN price or volume: NaN flows (TA-Lib would count none). */
			if (isnan(change) || isnan(flow))
				change = flow = get_float8_nan();
			sw_push(&st->positive, change > 0 || isnan(change) ? flow : 0.0, false);
			sw_push(&st->negative, change < 0 || isnan(change) ? flow : 0.0, false);
			if (st->positive.pushed >= n)
			{
				bool		isnull;
				double		pos = sw_mean(&st->positive, &isnull);
				double		total = pos + sw_mean(&st->negative, &isnull);

				/* No flow either way is neutral (TA-Lib: 0 below a total of 1). */
				st->result = total != 0.0 ? 100.0 * (pos / total) : 50.0;
				st->has_result = true;
			}
		}
		st->started = true;
		st->prev = tp;
	}
	if (!st->has_result)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(st->result);
}

typedef struct ObvState
{
	bool		started;
	int64		rows;
	double		prev;
	double		obv;
} ObvState;

/* obv(close, volume): on-balance volume, seeded with the first volume as TA-Lib. */
PG_FUNCTION_INFO_V1(stockext_obv);
Datum
stockext_obv(PG_FUNCTION_ARGS)
{
	WindowObject winobj = PG_WINDOW_OBJECT();
	ObvState   *st = WinGetPartitionLocalMemory(winobj, sizeof(ObvState));
	double		cv[2];

	win_next_row(winobj, &st->rows, 0);
	if (win_float_args(winobj, 0, 2, cv))
	{
		if (!st->started)
			st->obv = cv[1];
		else if (cv[0] > st->prev)
			st->obv += cv[1];
		else if (cv[0] < st->prev)
			st->obv -= cv[1];
		st->started = true;
		st->prev = cv[0];
	}
	if (!st->started)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(st->obv);
}
