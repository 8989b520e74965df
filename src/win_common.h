/*
 * win_common.h
 *		Shared plumbing of the analytic window functions (win_*.c).
 *
 * Every window function keeps its state in per-partition memory and sees
 * the rows of a partition once, in order: O(1) work per row.  Parameters
 * (span, period, factor, ...) must not change within a partition; those
 * that are not constants are read and checked on every row.
 */
#ifndef STOCKEXT_WIN_COMMON_H
#define STOCKEXT_WIN_COMMON_H

#include <float.h>
#include <math.h>

#include "access/htup.h"
#include "access/tupdesc.h"
#include "fmgr.h"
#include "utils/float.h"
#include "windowapi.h"

/* Longest window kept in memory (bbands, volume_spike): 9 bytes a slot. */
#define WIN_MAX_BUFFERED 1000000

/*
 * Checks that rows arrive in order; marks the rows more than `keep` before
 * the current one as no longer needed (every 64 rows).
 */
extern void win_next_row(WindowObject winobj, int64 *rows, int32 keep);

/*
 * What one call of a window function in a query keeps across its rows and
 * partitions, in fn_extra: which arguments cannot change between rows, and
 * for a composite result its descriptor and a row formed before, whose
 * layout the next rows copy.
 */
typedef struct WinCall
{
	uint64		stable;			/* bit i: argument i is a constant or a query parameter */
	TupleDesc	desc;			/* the composite result type, blessed; NULL until needed */
	HeapTuple	row;			/* a result row formed with these NULLs: */
	bool	   *row_nulls;
} WinCall;

extern WinCall *win_call_init(FunctionCallInfo fcinfo);

static inline WinCall *
win_call(FunctionCallInfo fcinfo)
{
	WinCall    *call = fcinfo->flinfo->fn_extra;

	return likely(call != NULL) ? call : win_call_init(fcinfo);
}

/*
 * Whether a parameter need not be read on this row: on any row but the
 * partition's first, a constant or a query parameter still has the value
 * checked and kept then.  Evaluating it on every row is a cost next to a
 * cheap indicator's own work; so is calling a function to learn it, hence
 * inline.
 */
static inline bool
win_param_known(FunctionCallInfo fcinfo, int argno, int64 rows)
{
	return rows > 0 && argno < 64 &&
		(win_call(fcinfo)->stable & (UINT64CONST(1) << argno)) != 0;
}

extern int32 win_int_param_read(FunctionCallInfo fcinfo, int argno, const char *fn,
								const char *name, int32 max, int64 rows, int32 *first);
extern double win_float_param_read(FunctionCallInfo fcinfo, int argno, const char *fn,
								   const char *name, bool zero_ok, int64 rows,
								   double *first);

/*
 * A non-NULL integer parameter within [1, max] (a max below PG_INT32_MAX
 * bounds what the function keeps in memory): stored in *first on the first
 * row of a partition (rows == 0); on the others, *first when the argument is
 * a constant or a query parameter, else read again and checked against it.
 */
static inline int32
win_int_param(FunctionCallInfo fcinfo, int argno, const char *fn,
			  const char *name, int32 max, int64 rows, int32 *first)
{
	if (win_param_known(fcinfo, argno, rows))
		return *first;
	return win_int_param_read(fcinfo, argno, fn, name, max, rows, first);
}

/* The same for a finite float parameter, > 0 (or >= 0 when zero_ok). */
static inline double
win_float_param(FunctionCallInfo fcinfo, int argno, const char *fn,
				const char *name, bool zero_ok, int64 rows, double *first)
{
	if (win_param_known(fcinfo, argno, rows))
		return *first;
	return win_float_param_read(fcinfo, argno, fn, name, zero_ok, rows, first);
}

/* Reports a parameter that changed within a partition. */
extern void win_param_changed(const char *fn, const char *name,
							  const char *first, const char *now);

/*
 * A row of the calling function's composite result type, whose fields are
 * all float8, from their values (nulls may be NULL: none).
 */
extern Datum win_result_row(FunctionCallInfo fcinfo, const double *values, const bool *nulls);

/*
 * The float8 arguments argno .. argno + n - 1 of the current row into
 * out[]; false when any of them is NULL (the row does not enter).
 */
extern bool win_float_args(WindowObject winobj, int argno, int n, double *out);

/*
 * Reports a ts argument of fn that went back in time (where: "within a
 * partition", ...): a row at ts after one at last_ts; hint says how to
 * order the rows.
 */
extern void report_decreasing_ts(const char *fn, const char *where, int64 ts,
								 int64 last_ts, const char *hint);

/* TA-Lib's true range: the largest of high - low, |high - prev close|, |low - prev close|. */
extern double ta_true_range(double high, double low, double prev_close);

/*
 * A moving average seeded TA-Lib's way: none until `period` values were
 * seen, then their simple mean, then one recursive step per value, with
 * TA-Lib's operations in TA-Lib's order:
 *   EMA:    prev + k * (x - prev), k = 2 / (period + 1)
 *   Wilder: (prev * (period - 1) + x) / period
 */
typedef struct TaAvg
{
	int32		period;
	int32		seen;			/* values seen, saturating at period */
	bool		wilder;
	double		k;
	double		value;			/* running sum until seeded, then the average */
} TaAvg;

extern void ta_avg_init(TaAvg *a, int32 period, bool wilder);
extern bool ta_avg_push(TaAvg *a, double x);

/*
 * The last `capacity` values pushed (a NULL takes a slot but no value), with
 * sums of their deviations from a shift close to their mean, so the variance
 * of prices near 1e5 moving by 1e-4 does not cancel catastrophically.  Every
 * `capacity` pushes the shift moves to the current mean and the sums are
 * recomputed from the slots, so removals never accumulate rounding error:
 * amortized O(1) per push.  The same happens at once when rounding may
 * have cost the result more than about 1e-10 of itself: when an outlier (a
 * bad tick) left the window, so subtracting its square cancelled the digits
 * of what remains, or when the window's mean moved far from the shift.
 * Non-finite values are counted apart.  Without
 * a shift (for the mean only), sums of integers stay exact, so the mean is
 * bit for bit the built-in avg's.
 */
typedef struct SlidingWindow
{
	int32		capacity;
	bool		shifted;
	int32		next;			/* slot the next push overwrites */
	int64		pushed;
	int32		count;			/* finite values in the window */
	int32		nan;
	int32		pinf;
	int32		ninf;
	double		shift;
	double		s1;				/* sum of (v - shift) over finite values */
	double		s2;				/* sum of (v - shift)^2 */
	double		removed;		/* sum of (v - shift)^2 removed since */
	double	   *values;
	bool	   *nulls;
} SlidingWindow;

/* Allocates the slots in cxt: the partition's memory, where w lives. */
extern void sw_init(SlidingWindow *w, int32 capacity, bool shifted, MemoryContext cxt);
extern void sw_rebase(SlidingWindow *w);

/*
 * sw_push and sw_mean are inline: for a short window (stoch's 3-value
 * smoothings) the calls cost as much as the arithmetic.
 */

/* Adds (sign 1) or removes (sign -1) one value's contribution. */
static inline void
sw_account(SlidingWindow *w, double v, int sign)
{
	double		d;

	if (isnan(v))
		w->nan += sign;
	else if (isinf(v))
	{
		if (v > 0)
			w->pinf += sign;
		else
			w->ninf += sign;
	}
	else if (sign > 0)
	{
		/* An empty window restarts exactly, shifted by its first value. */
		if (w->count == 0)
		{
			w->shift = w->shifted ? v : 0.0;
			w->s1 = w->s2 = 0.0;
		}
		d = v - w->shift;
		w->count++;
		w->s1 += d;
		w->s2 += d * d;
	}
	else
	{
		d = v - w->shift;
		w->count--;
		w->s1 -= d;
		w->s2 -= d * d;
		w->removed += d * d;
	}
}

/*
 * Whether the sums may have lost more than about 1e-10 of the result.  The
 * variance's rounding error is about DBL_EPSILON times the squares it
 * cancelled: (mean - shift)^2 and the squares removed, per value; the floor
 * (1e-13 of the shift, squared) keeps a flat window from recomputing on
 * every row.  Without a shift only the mean counts, whose error is about
 * DBL_EPSILON times the magnitudes removed.
 */
static inline bool
sw_inexact(const SlidingWindow *w)
{
	double		off;
	double		var;
	double		floor;

	if (w->count == 0)
		return false;
	if (!w->shifted)
	{
		double		removed = w->capacity * w->removed;
		double		bound = 1e-12 * fabs(w->s1);
		double		bound2 = bound * bound;

		/*
		 * Without the square root where squares decide it: the product with
		 * DBL_EPSILON^2 (a power of two) is exact but for an underflow worth
		 * at most 2^-53 of a normal bound2, so a margin of 1e-6 covers every
		 * rounding; NaN, or bound2 not normal, takes the exact test.
		 */
		if (bound2 >= DBL_MIN &&
			removed * (DBL_EPSILON * DBL_EPSILON) * (1.0 + 1e-6) < bound2)
			return false;
		return DBL_EPSILON * sqrt(removed) > bound;
	}
	off = w->s1 / w->count;
	var = w->s2 / w->count - off * off;
	floor = 1e-13 * w->shift;
	return DBL_EPSILON * (off * off + w->removed / w->count) > 1e-10 * var + floor * floor;
}

static pg_attribute_always_inline void
sw_push(SlidingWindow *w, double v, bool isnull)
{
	if (w->pushed >= w->capacity && !w->nulls[w->next])
		sw_account(w, w->values[w->next], -1);
	w->values[w->next] = isnull ? 0.0 : v;
	w->nulls[w->next] = isnull;
	if (!isnull)
		sw_account(w, v, 1);
	w->pushed++;
	if (++w->next == w->capacity)
		w->next = 0;
	if (w->next == 0 || sw_inexact(w))
		sw_rebase(w);
}

/* Mean of the window; NaN or an infinity when the window holds them. */
static inline double
sw_mean(const SlidingWindow *w, bool *isnull)
{
	*isnull = false;
	if (w->nan > 0 || (w->pinf > 0 && w->ninf > 0))
		return get_float8_nan();
	if (w->pinf > 0)
		return get_float8_infinity();
	if (w->ninf > 0)
		return -get_float8_infinity();
	if (w->count == 0)
	{
		*isnull = true;
		return 0.0;
	}
	return w->shift + w->s1 / w->count;
}

extern double sw_var_pop(const SlidingWindow *w);

#endif							/* STOCKEXT_WIN_COMMON_H */
