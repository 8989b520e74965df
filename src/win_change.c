/*
 * win_change.c
 *		Change between rows as window functions: percentage change against
 *		the n-th previous row, and volume spikes against the mean volume of
 *		the n previous rows.
 */
#include "postgres.h"

#include "utils/float.h"
#include "utils/memutils.h"
#include "win_common.h"

typedef struct PctChangeState
{
	int64		rows;
	int32		n;
} PctChangeState;

/* pct_change(x, n): 100 * (x - x[n rows back]) / x[n rows back]. */
PG_FUNCTION_INFO_V1(stockext_pct_change);
Datum
stockext_pct_change(PG_FUNCTION_ARGS)
{
	WindowObject winobj = PG_WINDOW_OBJECT();
	PctChangeState *st = WinGetPartitionLocalMemory(winobj, sizeof(PctChangeState));
	int32		n = win_int_param(fcinfo, 1, "pct_change", "n", PG_INT32_MAX,
								  st->rows, &st->n);
	bool		isnull;
	bool		isout;
	double		x;
	double		prev;

	win_next_row(winobj, &st->rows, n);

	x = DatumGetFloat8(WinGetFuncArgCurrent(winobj, 0, &isnull));
	if (isnull)
		PG_RETURN_NULL();
	prev = DatumGetFloat8(WinGetFuncArgInPartition(winobj, 0, -n, WINDOW_SEEK_CURRENT,
												   false, &isnull, &isout));
	if (isout || isnull || prev == 0.0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(100.0 * (x - prev) / prev);
}

typedef struct VolumeSpikeState
{
	int64		rows;
	int32		n;
	double		factor;
	SlidingWindow window;		/* volumes of the n previous rows */
} VolumeSpikeState;

/*
 * volume_spike(volume, n, factor [, skip_open]): volume > factor * mean of
 * the n previous volumes.  A row whose skip_open is true (a session's first
 * bar, whose opening auction trades several times a usual bar's volume) is
 * neither judged nor counted in the means after it.
 */
PG_FUNCTION_INFO_V1(stockext_volume_spike);
Datum
stockext_volume_spike(PG_FUNCTION_ARGS)
{
	WindowObject winobj = PG_WINDOW_OBJECT();
	VolumeSpikeState *st = WinGetPartitionLocalMemory(winobj, sizeof(VolumeSpikeState));
	int32		n = win_int_param(fcinfo, 1, "volume_spike", "n", WIN_MAX_BUFFERED,
								  st->rows, &st->n);
	double		factor = win_float_param(fcinfo, 2, "volume_spike", "factor", false,
										 st->rows, &st->factor);
	bool		isnull;
	bool		mean_null;
	double		volume;
	double		mean;
	bool		result = false;
	bool		result_null = true;

	if (st->rows == 0)
		sw_init(&st->window, n, false, GetMemoryChunkContext(st));
	win_next_row(winobj, &st->rows, 0);

	volume = DatumGetFloat8(WinGetFuncArgCurrent(winobj, 0, &isnull));
	if (PG_NARGS() > 3)
	{
		bool		skip_null;
		bool		skip = DatumGetBool(WinGetFuncArgCurrent(winobj, 3, &skip_null));

		if (skip && !skip_null)
		{
			sw_push(&st->window, 0, true);
			PG_RETURN_NULL();
		}
	}
	if (!isnull && st->window.pushed >= n)
	{
		mean = sw_mean(&st->window, &mean_null);
		if (!mean_null)
		{
			/* PostgreSQL's float order, where NaN is above everything. */
			result = float8_gt(volume, factor * mean);
			result_null = false;
		}
	}
	sw_push(&st->window, volume, isnull);
	if (result_null)
		PG_RETURN_NULL();
	PG_RETURN_BOOL(result);
}
