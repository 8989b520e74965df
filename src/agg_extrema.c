/*
 * agg_extrema.c
 *		mmax and mmin: rolling high and low with moving-aggregate support.
 *
 * Plain mode is max/min over a one-double SQL state type.  Moving mode keeps
 * a monotonic deque (ring.h): the values of the frame that some later value
 * has not already beaten, oldest first, so the front is the frame's extreme.  Each
 * value is pushed once and popped at most once, so a frame sliding forward
 * costs O(1) amortized per row whatever its width; built-in max/min have
 * no inverse and rescan the frame, O(W) per row.
 *
 * The order is PostgreSQL's float8 order, NaN above every number, so the
 * results are those of max() and min().
 */
#include "postgres.h"

#include "ring.h"

/* The plain-mode state, SQL type stockext.extremum_state. */
typedef struct ExtremumState
{
	double		value;
} ExtremumState;

static const StateLayout extremum_layout = {"stockext.extremum_state", "d"};

/* Folds x into the state in argument 0 keeping the larger (dir 1) or smaller (-1). */
static Datum
extremum_fold(FunctionCallInfo fcinfo, double x, int dir)
{
	ExtremumState *s = state_for_update(fcinfo, sizeof(ExtremumState));

	if (s == NULL)
	{
		s = state_new(sizeof(ExtremumState));
		s->value = x;
	}
	else if (float_cmp(x, s->value) * dir > 0)
		s->value = x;
	PG_RETURN_POINTER(s);
}

/* Plain transition of mmax: keeps the largest non-NULL value. */
PG_FUNCTION_INFO_V1(stockext_mmax_trans);
Datum
stockext_mmax_trans(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(1))
		return state_unchanged(fcinfo);
	return extremum_fold(fcinfo, PG_GETARG_FLOAT8(1), 1);
}

/* Plain transition of mmin: keeps the smallest non-NULL value. */
PG_FUNCTION_INFO_V1(stockext_mmin_trans);
Datum
stockext_mmin_trans(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(1))
		return state_unchanged(fcinfo);
	return extremum_fold(fcinfo, PG_GETARG_FLOAT8(1), -1);
}

/* Combine of mmax: the larger of two partial maxima. */
PG_FUNCTION_INFO_V1(stockext_mmax_combine);
Datum
stockext_mmax_combine(PG_FUNCTION_ARGS)
{
	return extremum_fold(fcinfo, ((ExtremumState *) PG_GETARG_POINTER(1))->value, 1);
}

/* Combine of mmin: the smaller of two partial minima. */
PG_FUNCTION_INFO_V1(stockext_mmin_combine);
Datum
stockext_mmin_combine(PG_FUNCTION_ARGS)
{
	return extremum_fold(fcinfo, ((ExtremumState *) PG_GETARG_POINTER(1))->value, -1);
}

/* Final of mmax/mmin in plain mode: the value kept. */
PG_FUNCTION_INFO_V1(stockext_extremum_final);
Datum
stockext_extremum_final(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(((ExtremumState *) PG_GETARG_POINTER(0))->value);
}

/* Text and binary input and output of stockext.extremum_state. */
STATE_TYPE_IO(extremum_state, extremum_layout)

/* The moving-mode state: the deque and how many values left the frame. */
typedef struct ExtremumMoving
{
	MonoDeque	deque;
	int64		removed;		/* non-NULL values removed so far */
} ExtremumMoving;

/* Adds x at the back, first dropping the values x beats (dir 1: max, -1: min). */
static Datum
deque_push(FunctionCallInfo fcinfo, int dir)
{
	ExtremumMoving *s = agg_internal_state(fcinfo, sizeof(ExtremumMoving), "mmax/mmin");

	if (s->deque.dir == 0)
		mono_deque_init(&s->deque, dir, GetMemoryChunkContext(s));
	if (!PG_ARGISNULL(1))
		mono_deque_push(&s->deque, PG_GETARG_FLOAT8(1));
	PG_RETURN_POINTER(s);
}

/* Moving transition of mmax: pushes the value entering the frame. */
PG_FUNCTION_INFO_V1(stockext_mmax_mtrans);
Datum
stockext_mmax_mtrans(PG_FUNCTION_ARGS)
{
	return deque_push(fcinfo, 1);
}

/* Moving transition of mmin: pushes the value entering the frame. */
PG_FUNCTION_INFO_V1(stockext_mmin_mtrans);
Datum
stockext_mmin_mtrans(PG_FUNCTION_ARGS)
{
	return deque_push(fcinfo, -1);
}

/*
 * Inverse transition of mmax/mmin: the executor removes rows oldest first,
 * so the value leaving is the one with key "removed"; it is still in the
 * deque only if it is the front.
 */
PG_FUNCTION_INFO_V1(stockext_extremum_minv);
Datum
stockext_extremum_minv(PG_FUNCTION_ARGS)
{
	ExtremumMoving *s = agg_inverse_state(fcinfo, "extremum_minv");

	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(s);
	if (s->removed >= s->deque.pushed)
		PG_RETURN_NULL();		/* out of step: let the executor recompute */
	mono_deque_expire(&s->deque, ++s->removed);
	PG_RETURN_POINTER(s);
}

/* Final of mmax/mmin in moving mode: the front of the deque. */
PG_FUNCTION_INFO_V1(stockext_extremum_mfinal);
Datum
stockext_extremum_mfinal(PG_FUNCTION_ARGS)
{
	ExtremumMoving *s = (ExtremumMoving *) PG_GETARG_POINTER(0);

	if (s->deque.ring.len == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(mono_deque_front(&s->deque));
}
