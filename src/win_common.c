/*
 * win_common.c
 *		Shared plumbing of the analytic window functions: parameter checks,
 *		row order, bar arguments, composite results, TA-Lib's true range and
 *		seeded averages (EMA and Wilder's) and a sliding window with
 *		numerically stable sums.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/float.h"
#include "utils/timestamp.h"
#include "win_common.h"

void
win_next_row(WindowObject winobj, int64 *rows, int32 keep)
{
	int64		pos = WinGetCurrentPosition(winobj);

	/* WindowAgg calls a window function once per row, in order. */
	if (pos != *rows)
		elog(ERROR, "window function called for row " INT64_FORMAT " after row " INT64_FORMAT,
			 pos, *rows - 1);
	/*
	 * Rows before that will not be read again: the store may drop them.
	 * Moved every 64 rows only: moving it costs more than keeping 63 rows.
	 */
	if (pos >= keep && pos % 64 == 0)
		WinSetMarkPosition(winobj, pos - keep);
	(*rows)++;
}

WinCall *
win_call_init(FunctionCallInfo fcinfo)
{
	FmgrInfo   *flinfo = fcinfo->flinfo;
	WinCall    *call = MemoryContextAllocZero(flinfo->fn_mcxt, sizeof(WinCall));

	for (int i = 0; i < Min(PG_NARGS(), 64); i++)
		if (get_fn_expr_arg_stable(flinfo, i))
			call->stable |= UINT64CONST(1) << i;
	flinfo->fn_extra = call;
	return call;
}

static Datum
win_param(FunctionCallInfo fcinfo, int argno, const char *fn, const char *name)
{
	bool		isnull;
	Datum		d = WinGetFuncArgCurrent(PG_WINDOW_OBJECT(), argno, &isnull);

	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s of %s must not be NULL", name, fn)));
	return d;
}

void
win_param_changed(const char *fn, const char *name, const char *first, const char *now)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s of %s must be the same for every row of a partition", name, fn),
			 errdetail("It changed from \"%s\" to \"%s\".", first, now)));
}

/* win_int_param when the argument must be read. */
int32
win_int_param_read(FunctionCallInfo fcinfo, int argno, const char *fn, const char *name,
				   int32 max, int64 rows, int32 *first)
{
	int32		v;

	v = DatumGetInt32(win_param(fcinfo, argno, fn, name));
	if (v < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s of %s must be positive, not \"%d\"", name, fn, v)));
	if (v > max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s of %s must be at most %d, not \"%d\"", name, fn, max, v),
				 errdetail("The function keeps that many values in memory.")));
	if (rows == 0)
		*first = v;
	else if (v != *first)
		win_param_changed(fn, name, psprintf("%d", *first), psprintf("%d", v));
	return v;
}

/* win_float_param when the argument must be read. */
double
win_float_param_read(FunctionCallInfo fcinfo, int argno, const char *fn, const char *name,
					 bool zero_ok, int64 rows, double *first)
{
	double		v;

	v = DatumGetFloat8(win_param(fcinfo, argno, fn, name));
	/* NaN fails both comparisons. */
	if (!(zero_ok ? v >= 0 : v > 0) || isinf(v))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s of %s must be a finite number %s 0, not \"%g\"",
						name, fn, zero_ok ? "at least" : "above", v)));
	if (rows == 0)
		*first = v;
	else if (v != *first)
		win_param_changed(fn, name, psprintf("%.17g", *first), psprintf("%.17g", v));
	return v;
}

/*
 * Forms, in the query's memory, the row that result rows with these NULLs
 * (nulls NULL: none) copy, and checks the layout win_result_row relies on:
 * every field a float8, those present packed from t_hoff on (8 bytes each,
 * aligned to at most 8, so none pads another).
 */
static void
win_result_layout(FunctionCallInfo fcinfo, WinCall *call, const bool *nulls)
{
	MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	TupleDesc	desc = call->desc;
	Datum	   *zeros = palloc(sizeof(Datum) * desc->natts);
	HeapTuple	tuple;
	int			present = 0;

	for (int i = 0; i < desc->natts; i++)
	{
		zeros[i] = Float8GetDatum(0.0);
		call->row_nulls[i] = nulls != NULL && nulls[i];
		present += !call->row_nulls[i];
	}
	tuple = heap_form_tuple(desc, zeros, call->row_nulls);
	pfree(zeros);
	if (tuple->t_len != tuple->t_data->t_hoff + present * sizeof(double))
		elog(ERROR, "unexpected layout of a window function's result row");
	if (call->row != NULL)
		heap_freetuple(call->row);
	call->row = tuple;
	MemoryContextSwitchTo(old);
}

static void
win_result_init(FunctionCallInfo fcinfo, WinCall *call)
{
	MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
	TupleDesc	desc;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "window function must return a composite type");
	for (int i = 0; i < desc->natts; i++)
		if (TupleDescAttr(desc, i)->atttypid != FLOAT8OID)
			elog(ERROR, "window function's result must have float8 fields only");
	call->desc = BlessTupleDesc(desc);
	call->row_nulls = palloc(sizeof(bool) * desc->natts);
	MemoryContextSwitchTo(old);
	win_result_layout(fcinfo, call, NULL);
}

Datum
win_result_row(FunctionCallInfo fcinfo, const double *values, const bool *nulls)
{
	WinCall    *call = win_call(fcinfo);
	HeapTupleHeader row;
	char	   *field;
	int			natts;

	if (call->desc == NULL)
		win_result_init(fcinfo, call);
	natts = call->desc->natts;
	for (int i = 0; i < natts; i++)
	{
		if ((nulls != NULL && nulls[i]) != call->row_nulls[i])
		{
			win_result_layout(fcinfo, call, nulls);
			break;
		}
	}

	/*
	 * A copy of the row formed with the same NULLs, its fields overwritten:
	 * the bytes heap_form_tuple would give, without working out the layout
	 * on every row.
	 */
	row = palloc(call->row->t_len);
	memcpy(row, call->row->t_data, call->row->t_len);
	field = (char *) row + row->t_hoff;
	for (int i = 0; i < natts; i++)
	{
		if (!call->row_nulls[i])
		{
			memcpy(field, &values[i], sizeof(double));
			field += sizeof(double);
		}
	}
	return HeapTupleHeaderGetDatum(row);
}

bool
win_float_args(WindowObject winobj, int argno, int n, double *out)
{
	bool		complete = true;

	for (int i = 0; i < n; i++)
	{
		bool		isnull;

		out[i] = DatumGetFloat8(WinGetFuncArgCurrent(winobj, argno + i, &isnull));
		complete &= !isnull;
	}
	return complete;
}

void
report_decreasing_ts(const char *fn, const char *where, int64 ts, int64 last_ts,
					 const char *hint)
{
	/* timestamptz_to_str() returns a static buffer: copy one first. */
	char	   *later = pstrdup(timestamptz_to_str(last_ts));

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("ts of %s must not decrease %s", fn, where),
			 errdetail("A row at \"%s\" follows a row at \"%s\".",
					   timestamptz_to_str(ts), later),
			 errhint("%s", hint)));
}

double
ta_true_range(double high, double low, double prev_close)
{
	double		range = high - low;
	double		up = fabs(prev_close - high);
	double		down = fabs(prev_close - low);

	if (up > range)
		range = up;
	if (down > range)
		range = down;
	return range;
}

void
ta_avg_init(TaAvg *a, int32 period, bool wilder)
{
	a->period = period;
	a->seen = 0;
	a->wilder = wilder;
	a->k = 2.0 / ((double) period + 1.0);
	a->value = 0.0;
}

bool
ta_avg_push(TaAvg *a, double x)
{
	if (a->seen == a->period)
	{
		if (a->wilder)
		{
			a->value *= a->period - 1;
			a->value += x;
			a->value /= a->period;
		}
		else
			a->value = (x - a->value) * a->k + a->value;
		return true;
	}
	a->value += x;
	if (++a->seen < a->period)
		return false;
	a->value /= a->period;
	return true;
}

void
sw_init(SlidingWindow *w, int32 capacity, bool shifted, MemoryContext cxt)
{
	memset(w, 0, sizeof(*w));
	w->capacity = capacity;
	w->shifted = shifted;
	w->values = MemoryContextAlloc(cxt, sizeof(double) * capacity);
	w->nulls = MemoryContextAlloc(cxt, sizeof(bool) * capacity);
}

/* Moves the shift to the mean of the window and recomputes the sums. */
void
sw_rebase(SlidingWindow *w)
{
	double		sum = 0.0;
	double		shift;
	double		s1;
	double		s2;
	int32		i;

	w->removed = 0.0;
	if (w->count == 0)
		return;
	for (i = 0; i < w->capacity; i++)
		if (!w->nulls[i] && isfinite(w->values[i]))
			sum += w->values[i];
	shift = w->shifted ? sum / w->count : 0.0;
	/* Sums in locals: through *w, each addition would wait for a store. */
	s1 = s2 = 0.0;
	for (i = 0; i < w->capacity; i++)
	{
		if (!w->nulls[i] && isfinite(w->values[i]))
		{
			double		d = w->values[i] - shift;

			s1 += d;
			s2 += d * d;
		}
	}
	w->shift = shift;
	w->s1 = s1;
	w->s2 = s2;
}

/* Population variance of the finite values; NaN when a non-finite one is in. */
double
sw_var_pop(const SlidingWindow *w)
{
	double		var;

	if (w->nan > 0 || w->pinf > 0 || w->ninf > 0)
		return get_float8_nan();
	var = (w->s2 - w->s1 * w->s1 / w->count) / w->count;
	return var > 0.0 ? var : 0.0;
}
