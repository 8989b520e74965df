/*
 * win_ema.c
 *		Exponential moving averages as window functions: by span, seeded with
 *		the first value (pandas) or with the mean of the first span values
 *		(TA-Lib), and decayed by elapsed time with a half-life.
 */
#include "postgres.h"

#include <math.h>

#include "datatype/timestamp.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "win_common.h"

typedef enum EmaSeed
{
	EMA_SEED_FIRST,				/* pandas ewm(span, adjust=False) */
	EMA_SEED_SMA				/* TA-Lib: mean of the first span values */
} EmaSeed;

typedef struct EmaState
{
	int64		rows;
	int32		span;
	EmaSeed		seed;
	bool		has_value;		/* value holds the current EMA */
	double		alpha;
	double		value;
	TaAvg		ta;
} EmaState;

static EmaSeed
check_seed(WindowObject winobj, int argno)
{
	bool		isnull;
	Datum		d = WinGetFuncArgCurrent(winobj, argno, &isnull);
	char	   *s;

	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("seed of ema must not be NULL")));
	s = TextDatumGetCString(d);
	if (strcmp(s, "first") == 0)
		return EMA_SEED_FIRST;
	if (strcmp(s, "sma") == 0)
		return EMA_SEED_SMA;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid seed of ema \"%s\"", s),
			 errhint("Use 'first' (seeded with the first value, as pandas) or 'sma' (seeded with the mean of the first span values, as TA-Lib).")));
	pg_unreachable();
}

/* ema(x, span [, seed]): exponential moving average with alpha = 2/(span+1). */
PG_FUNCTION_INFO_V1(stockext_ema);
Datum
stockext_ema(PG_FUNCTION_ARGS)
{
	WindowObject winobj = PG_WINDOW_OBJECT();
	EmaState   *st = WinGetPartitionLocalMemory(winobj, sizeof(EmaState));
	int32		span = win_int_param(fcinfo, 1, "ema", "span", PG_INT32_MAX,
									 st->rows, &st->span);
	EmaSeed		seed = PG_NARGS() > 2 ? check_seed(winobj, 2) : EMA_SEED_FIRST;
	bool		isnull;
	double		x;

	if (st->rows == 0)
	{
		st->seed = seed;
		st->alpha = 2.0 / ((double) span + 1.0);
		ta_avg_init(&st->ta, span, false);
	}
	else if (seed != st->seed)
		win_param_changed("ema", "seed", st->seed == EMA_SEED_SMA ? "sma" : "first",
						  seed == EMA_SEED_SMA ? "sma" : "first");
	win_next_row(winobj, &st->rows, 0);

	x = DatumGetFloat8(WinGetFuncArgCurrent(winobj, 0, &isnull));
	if (!isnull)
	{
		if (st->seed == EMA_SEED_SMA)
		{
			st->has_value = ta_avg_push(&st->ta, x);
			st->value = st->ta.value;
		}
		else if (st->has_value)
			st->value = st->alpha * x + (1.0 - st->alpha) * st->value;
		else
		{
			st->value = x;
			st->has_value = true;
		}
	}
	if (!st->has_value)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(st->value);
}

typedef struct EmaDecayState
{
	int64		rows;
	Interval	half_life;
	double		half_life_us;
	bool		has_value;
	TimestampTz last_ts;		/* ts of the last row that entered */
	double		value;
} EmaDecayState;

static double
check_half_life(const Interval *iv)
{
	double		us;

	/* A month has no fixed length in absolute time. */
	if (iv->month != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("half_life of ema must not contain months or years"),
				 errdetail("A month has no fixed length; use days, which count as 24 hours.")));
	us = (double) iv->day * USECS_PER_DAY + (double) iv->time;
	if (!(us > 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("half_life of ema must be positive")));
	return us;
}

/* ema(x, ts, half_life): EMA whose weight on the past halves every half_life. */
PG_FUNCTION_INFO_V1(stockext_ema_decay);
Datum
stockext_ema_decay(PG_FUNCTION_ARGS)
{
	WindowObject winobj = PG_WINDOW_OBJECT();
	EmaDecayState *st = WinGetPartitionLocalMemory(winobj, sizeof(EmaDecayState));
	bool		isnull;
	bool		ts_null;
	Datum		hl = WinGetFuncArgCurrent(winobj, 2, &isnull);
	Interval   *half_life;
	double		x;
	TimestampTz ts;

	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("half_life of ema must not be NULL")));
	half_life = DatumGetIntervalP(hl);
	if (st->rows == 0)
	{
		st->half_life_us = check_half_life(half_life);
		st->half_life = *half_life;
	}
	else if (memcmp(&st->half_life, half_life, sizeof(Interval)) != 0)
		win_param_changed("ema", "half_life",
						  DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(&st->half_life))),
						  DatumGetCString(DirectFunctionCall1(interval_out, hl)));
	win_next_row(winobj, &st->rows, 0);

	x = DatumGetFloat8(WinGetFuncArgCurrent(winobj, 0, &isnull));
	ts = DatumGetTimestampTz(WinGetFuncArgCurrent(winobj, 1, &ts_null));
	if (!isnull && !ts_null)
	{
		if (TIMESTAMP_NOT_FINITE(ts))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("ts of ema must be finite")));
		if (!st->has_value)
		{
			st->value = x;
			st->has_value = true;
		}
		else
		{
			double		w;

			if (ts < st->last_ts)
				report_decreasing_ts("ema", "within a partition", ts, st->last_ts,
									 "Order the window by the ts argument.");
			/* In double: far-apart instants would overflow int64. */
			w = pow(0.5, ((double) ts - (double) st->last_ts) / st->half_life_us);
			st->value = w * st->value + (1.0 - w) * x;
		}
		st->last_ts = ts;
	}
	if (!st->has_value)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(st->value);
}
