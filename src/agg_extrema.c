/*
 * agg_extrema.c
 *		mmax and mmin: rolling high and low with moving-aggregate support.
 *
 * Plain mode is max/min over a one-double SQL state type.  Moving mode keeps
 * a monotonic deque: the values of the frame that some later value has not
 * already beaten, oldest first, so the front is the frame's extreme.  Each
 * value is pushed once and popped at most once, so a frame sliding forward
 * costs O(1) amortized per row whatever its width; built-in max/min have
 * no inverse and rescan the frame, O(W) per row.
 *
 * The order is PostgreSQL's float8 order, NaN above every number, so the
 * results are those of max() and min().
 */
#include "postgres.h"

#include "agg_state.h"

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

/* The moving-mode state: a ring buffer holding the deque. */
typedef struct DequeEntry
{
	double		value;
	int64		seq;			/* position among the non-NULL values added */
} DequeEntry;

typedef struct Deque
{
	int64		added;			/* non-NULL values added so far */
	int64		removed;		/* ... and removed */
	int			head;			/* ring index of the front */
	int			len;
	int			cap;
	DequeEntry *ring;
} Deque;

#define DEQUE_INITIAL_CAP 64

static inline DequeEntry *
deque_at(Deque *d, int i)
{
	return &d->ring[(d->head + i) & (d->cap - 1)];
}

/* Doubles the ring (capacity stays a power of two), keeping the order. */
static void
deque_grow(Deque *d)
{
	DequeEntry *ring = MemoryContextAllocHuge(GetMemoryChunkContext(d),
										  sizeof(DequeEntry) * d->cap * 2);

	for (int i = 0; i < d->len; i++)
		ring[i] = *deque_at(d, i);
	pfree(d->ring);
	d->ring = ring;
	d->head = 0;
	d->cap *= 2;
}

/* Adds x at the back, first dropping the values x beats (dir 1: max, -1: min). */
static Datum
deque_push(FunctionCallInfo fcinfo, int dir)
{
	Deque	   *d = agg_internal_state(fcinfo, sizeof(Deque), "mmax/mmin");
	double		x;

	if (d->ring == NULL)
	{
		d->cap = DEQUE_INITIAL_CAP;
		d->ring = MemoryContextAlloc(GetMemoryChunkContext(d), sizeof(DequeEntry) * d->cap);
	}
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(d);
	x = PG_GETARG_FLOAT8(1);
	while (d->len > 0 && float_cmp(deque_at(d, d->len - 1)->value, x) * dir <= 0)
		d->len--;
	if (d->len == d->cap)
		deque_grow(d);
	deque_at(d, d->len)->value = x;
	deque_at(d, d->len)->seq = d->added++;
	d->len++;
	PG_RETURN_POINTER(d);
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
 * so the value leaving is the one with sequence number "removed"; it is
 * still in the deque only if it is the front.
 */
PG_FUNCTION_INFO_V1(stockext_extremum_minv);
Datum
stockext_extremum_minv(PG_FUNCTION_ARGS)
{
	Deque	   *d = agg_inverse_state(fcinfo, "extremum_minv");

	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(d);
	if (d->removed >= d->added)
		PG_RETURN_NULL();		/* out of step: let the executor recompute */
	if (d->len > 0 && d->ring[d->head].seq == d->removed)
	{
		d->head = (d->head + 1) & (d->cap - 1);
		d->len--;
	}
	d->removed++;
	PG_RETURN_POINTER(d);
}

/* Final of mmax/mmin in moving mode: the front of the deque. */
PG_FUNCTION_INFO_V1(stockext_extremum_mfinal);
Datum
stockext_extremum_mfinal(PG_FUNCTION_ARGS)
{
	Deque	   *d = (Deque *) PG_GETARG_POINTER(0);

	if (d->len == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(d->ring[d->head].value);
}
