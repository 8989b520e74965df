/*
 * win_indicators.c
 *		Traders' indicators as window functions, with TA-Lib's formulas and
 *		warm-up: rsi, macd, bbands, atr.
 *
 * A row whose input is NULL does not enter the indicator: it returns the
 * previous row's result.  So the warm-up counts non-NULL rows.
 */
#include "postgres.h"

#include <math.h>

#include "utils/memutils.h"
#include "win_common.h"

typedef struct RsiState
{
	int64		rows;
	int32		period;
	bool		started;		/* prev holds the last non-NULL x */
	double		prev;
	TaAvg		gain;
	TaAvg		loss;
	bool		has_result;
	double		result;
} RsiState;

static double
rsi_value(double gain, double loss)
{
	double		total = gain + loss;

	/* No move at all since the start: neutral, not "oversold" (TA-Lib: 0). */
	if (total == 0.0)
		return 50.0;
	return 100.0 * (gain / total);
}

/* rsi(x, period): Wilder's relative strength index, 0 to 100. */
PG_FUNCTION_INFO_V1(stockext_rsi);
Datum
stockext_rsi(PG_FUNCTION_ARGS)
{
	WindowObject winobj = PG_WINDOW_OBJECT();
	RsiState   *st = WinGetPartitionLocalMemory(winobj, sizeof(RsiState));
	int32		period = win_int_param(fcinfo, 1, "rsi", "period", PG_INT32_MAX,
									   st->rows, &st->period);
	bool		isnull;
	double		x;

	if (st->rows == 0)
	{
		ta_avg_init(&st->gain, period, true);
		ta_avg_init(&st->loss, period, true);
	}
	win_next_row(winobj, &st->rows, 0);

	x = DatumGetFloat8(WinGetFuncArgCurrent(winobj, 0, &isnull));
	if (!isnull)
	{
		if (st->started)
		{
			double		diff = x - st->prev;

			/* As TA-Lib: a NaN change counts as a gain. */
			st->has_result = ta_avg_push(&st->gain, diff < 0 ? 0.0 : diff);
			(void) ta_avg_push(&st->loss, diff < 0 ? -diff : 0.0);
			if (st->has_result)
				st->result = rsi_value(st->gain.value, st->loss.value);
		}
		st->started = true;
		st->prev = x;
	}
	if (!st->has_result)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(st->result);
}

typedef struct AtrState
{
	int64		rows;
	int32		period;
	bool		started;		/* prev_close holds the last complete bar's */
	double		prev_close;
	TaAvg		atr;
	bool		has_result;
} AtrState;

/* atr(high, low, close, period): Wilder's average true range. */
PG_FUNCTION_INFO_V1(stockext_atr);
Datum
stockext_atr(PG_FUNCTION_ARGS)
{
	WindowObject winobj = PG_WINDOW_OBJECT();
	AtrState   *st = WinGetPartitionLocalMemory(winobj, sizeof(AtrState));
	int32		period = win_int_param(fcinfo, 3, "atr", "period", PG_INT32_MAX,
									   st->rows, &st->period);
	double		hlc[3];

	if (st->rows == 0)
		ta_avg_init(&st->atr, period, true);
	win_next_row(winobj, &st->rows, 0);

	if (win_float_args(winobj, 0, 3, hlc))
	{
		if (st->started)
			st->has_result = ta_avg_push(&st->atr, ta_true_range(hlc[0], hlc[1], st->prev_close));
		st->started = true;
		st->prev_close = hlc[2];
	}
	if (!st->has_result)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(st->atr.value);
}

typedef struct MacdState
{
	int64		rows;
	int32		fast;
	int32		slow;
	int32		signal;
	int64		seen;			/* non-NULL values */
	TaAvg		fast_ema;
	TaAvg		slow_ema;
	TaAvg		signal_ema;
	bool		has_result;
	double		line;
} MacdState;

static void
check_macd_periods(int32 fast, int32 slow)
{
	if (fast > slow)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("fast period of macd must not exceed its slow period"),
				 errdetail("fast is %d, slow is %d.", fast, slow)));
}

/* Builds a row of three float8. */
static Datum
triple_datum(FunctionCallInfo fcinfo, double a, double b, double c)
{
	double		values[3] = {a, b, c};

	return win_result_row(fcinfo, values, NULL);
}

/* macd(x, fast, slow, signal): (line, signal, histogram) with TA-Lib's seeding. */
PG_FUNCTION_INFO_V1(stockext_macd);
Datum
stockext_macd(PG_FUNCTION_ARGS)
{
	WindowObject winobj = PG_WINDOW_OBJECT();
	MacdState  *st = WinGetPartitionLocalMemory(winobj, sizeof(MacdState));
	int32		fast = win_int_param(fcinfo, 1, "macd", "fast", PG_INT32_MAX,
									 st->rows, &st->fast);
	int32		slow = win_int_param(fcinfo, 2, "macd", "slow", PG_INT32_MAX,
									 st->rows, &st->slow);
	int32		signal = win_int_param(fcinfo, 3, "macd", "signal", PG_INT32_MAX,
									   st->rows, &st->signal);
	bool		isnull;
	double		x;

	if (st->rows == 0)
	{
		check_macd_periods(fast, slow);
		ta_avg_init(&st->fast_ema, fast, false);
		ta_avg_init(&st->slow_ema, slow, false);
		ta_avg_init(&st->signal_ema, signal, false);
	}
	win_next_row(winobj, &st->rows, 0);

	x = DatumGetFloat8(WinGetFuncArgCurrent(winobj, 0, &isnull));
	if (!isnull)
	{
		bool		slow_ready = ta_avg_push(&st->slow_ema, x);

		/*
		 * TA-Lib seeds the fast EMA with the mean of the `fast` values that
		 * end where the slow EMA's seed ends, so both start on one row.
		 */
		if (st->seen >= (int64) slow - fast)
			(void) ta_avg_push(&st->fast_ema, x);
		st->seen++;
		if (slow_ready)
		{
			st->line = st->fast_ema.value - st->slow_ema.value;
			st->has_result = ta_avg_push(&st->signal_ema, st->line);
		}
	}
	if (!st->has_result)
		PG_RETURN_NULL();
	return triple_datum(fcinfo, st->line, st->signal_ema.value,
						st->line - st->signal_ema.value);
}

typedef struct BbandsState
{
	int64		rows;
	int32		period;
	double		k;
	SlidingWindow window;		/* the last period non-NULL values */
} BbandsState;

/* bbands(x, period, k): (middle, upper, lower) = mean and mean +- k population stddevs. */
PG_FUNCTION_INFO_V1(stockext_bbands);
Datum
stockext_bbands(PG_FUNCTION_ARGS)
{
	WindowObject winobj = PG_WINDOW_OBJECT();
	BbandsState *st = WinGetPartitionLocalMemory(winobj, sizeof(BbandsState));
	int32		period = win_int_param(fcinfo, 1, "bbands", "period", WIN_MAX_BUFFERED,
									   st->rows, &st->period);
	double		k = win_float_param(fcinfo, 2, "bbands", "k", true, st->rows, &st->k);
	bool		isnull;
	double		x;
	double		middle;
	double		width;

	if (st->rows == 0)
		sw_init(&st->window, period, true, GetMemoryChunkContext(st));
	win_next_row(winobj, &st->rows, 0);

	x = DatumGetFloat8(WinGetFuncArgCurrent(winobj, 0, &isnull));
	if (!isnull)
		sw_push(&st->window, x, false);
	if (st->window.pushed < period)
		PG_RETURN_NULL();
	/* The window holds only non-NULL values, so the mean is never NULL. */
	middle = sw_mean(&st->window, &isnull);
	width = k * sqrt(sw_var_pop(&st->window));
	return triple_datum(fcinfo, middle, middle + width, middle - width);
}
