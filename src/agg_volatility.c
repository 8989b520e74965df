/*
 * agg_volatility.c
 *		volatility(x): sample standard deviation of the log returns
 *		ln(x_i / x_{i-1}) between consecutive non-NULL values, in order.
 *
 * The returns' moments are those of mstddev_samp (agg_moments.h), so the
 * result is NULL below two returns, i.e. below three values.  The result
 * depends on the order of the values, so there is no combine function and
 * the state is "internal" in both modes.  In moving mode the returns of the
 * frame are kept in a queue: removing the oldest value removes the return
 * between it and the next one, the very double that was added.
 */
#include "postgres.h"

#include <math.h>

#include "agg_moments.h"

typedef struct VolState
{
	MomentsState returns;		/* first: the final function reads it */
	double		last;			/* last value added */
	int64		nvalues;		/* non-NULL values in the frame */
	int64		removed;		/* returns removed since the state began */
	/* the frame's returns, oldest first (moving mode only) */
	double	   *queue;
	int			head;
	int			len;
	int			cap;
} VolState;

#define VOL_QUEUE_INITIAL_CAP 64

static void
check_price(double x)
{
	/* NaN and +Infinity pass: their returns are NaN or infinite, so is the result. */
	if (x <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("volatility needs positive values, got \"%g\"", x),
				 errdetail("Log returns ln(x_i / x_(i-1)) are defined for positive values only.")));
}

static void
queue_push(VolState *s, double r)
{
	if (s->len == s->cap)
	{
		int			cap = s->cap ? s->cap * 2 : VOL_QUEUE_INITIAL_CAP;
		double	   *queue = MemoryContextAllocHuge(GetMemoryChunkContext(s),
												   sizeof(double) * cap);

		for (int i = 0; i < s->len; i++)
			queue[i] = s->queue[(s->head + i) & (s->cap - 1)];
		if (s->queue)
			pfree(s->queue);
		s->queue = queue;
		s->head = 0;
		s->cap = cap;
	}
	s->queue[(s->head + s->len) & (s->cap - 1)] = r;
	s->len++;
}

/* Adds the value in argument 1, queueing its return when queued is true. */
static Datum
volatility_add(FunctionCallInfo fcinfo, bool queued)
{
	VolState   *s = agg_internal_state(fcinfo, sizeof(VolState), "volatility");
	double		x;

	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(s);
	x = PG_GETARG_FLOAT8(1);
	check_price(x);
	if (s->nvalues > 0)
	{
		double		r = log(x / s->last);

		moments_add(&s->returns, r);
		if (queued)
			queue_push(s, r);
	}
	s->last = x;
	s->nvalues++;
	PG_RETURN_POINTER(s);
}

/* Plain transition of volatility: adds the return from the previous value. */
PG_FUNCTION_INFO_V1(stockext_volatility_trans);
Datum
stockext_volatility_trans(PG_FUNCTION_ARGS)
{
	return volatility_add(fcinfo, false);
}

/* Moving transition of volatility: adds and queues the new return. */
PG_FUNCTION_INFO_V1(stockext_volatility_mtrans);
Datum
stockext_volatility_mtrans(PG_FUNCTION_ARGS)
{
	return volatility_add(fcinfo, true);
}

/* Inverse transition of volatility: removes the oldest value and its return. */
PG_FUNCTION_INFO_V1(stockext_volatility_minv);
Datum
stockext_volatility_minv(PG_FUNCTION_ARGS)
{
	VolState   *s = agg_inverse_state(fcinfo, "volatility_minv");

	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(s);
	if (s->nvalues <= 1 || s->len == 0)
	{
		/* The last value leaves: nothing is left to pair with. */
		if (s->nvalues != 1)
			PG_RETURN_NULL();	/* out of step: let the executor recompute */
		s->nvalues = 0;
		PG_RETURN_POINTER(s);
	}
	moments_remove(&s->returns, s->queue[s->head]);
	s->head = (s->head + 1) & (s->cap - 1);
	s->len--;
	s->nvalues--;
	s->removed++;
	if (moments_should_restart(&s->returns, s->removed))
		PG_RETURN_NULL();
	PG_RETURN_POINTER(s);
}
