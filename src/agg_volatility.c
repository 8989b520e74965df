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
 *
 * log_returns(ts, price) is volatility's summary for rollups: the returns'
 * moments with the first and last price and their times, a fixed-size state
 * (stockext.returns_state).  Two summaries of periods that do not
 * interleave join exactly: the earlier one's last price and the later one's
 * first make the return across their boundary, so an hour's summary rolled
 * up from its half hours equals the hour's from the bars.
 */
#include "postgres.h"

#include <math.h>

#include "agg_moments.h"
#include "utils/timestamp.h"

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

/* The state of log_returns, SQL type stockext.returns_state. */
typedef struct ReturnsState
{
	MomentsState returns;		/* first: mstddev_samp's final reads it */
	int64		nprices;
	TimestampTz first_ts;
	TimestampTz last_ts;
	double		first;			/* price at first_ts */
	double		last;			/* price at last_ts */
} ReturnsState;

static const StateLayout returns_layout = {"stockext.returns_state", MOMENTS_LAYOUT_SLOTS "nttdd"};

StaticAssertDecl(sizeof(ReturnsState) == 14 * 8, "ReturnsState must be made of 8-byte slots");

/* Transition of log_returns(ts, price): rows in ts order, NULLs skipped. */
PG_FUNCTION_INFO_V1(stockext_returns_trans);
Datum
stockext_returns_trans(PG_FUNCTION_ARGS)
{
	ReturnsState *s;
	TimestampTz ts;
	double		x;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return state_unchanged(fcinfo);
	ts = PG_GETARG_TIMESTAMPTZ(1);
	x = PG_GETARG_FLOAT8(2);
	check_price(x);
	s = state_for_update(fcinfo, sizeof(ReturnsState));
	if (s == NULL)
	{
		s = state_new(sizeof(ReturnsState));
		s->nprices = 1;
		s->first_ts = s->last_ts = ts;
		s->first = s->last = x;
		PG_RETURN_POINTER(s);
	}
	if (ts < s->last_ts)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rows of log_returns must come in ts order"),
				 errdetail("\"%s\" came after \"%s\".",
						   pstrdup(timestamptz_to_str(ts)), pstrdup(timestamptz_to_str(s->last_ts))),
				 errhint("Write log_returns(ts, price ORDER BY ts).")));
	moments_add(&s->returns, log(x / s->last));
	s->nprices++;
	s->last_ts = ts;
	s->last = x;
	PG_RETURN_POINTER(s);
}

/* Transition of log_returns(ts, price, seed): continues the seed's summary. */
PG_FUNCTION_INFO_V1(stockext_returns_seeded_trans);
Datum
stockext_returns_seeded_trans(PG_FUNCTION_ARGS)
{
	state_seed(fcinfo, PG_ARGISNULL(3) ? NULL : PG_GETARG_POINTER(3), sizeof(ReturnsState));
	return stockext_returns_trans(fcinfo);
}

/*
 * Joins summary b into the state in argument 0 (a copy of b when NULL):
 * the earlier one's returns, the return across the boundary, the later
 * one's returns.
 */
static Datum
returns_join(FunctionCallInfo fcinfo, const ReturnsState *b)
{
	ReturnsState *s = state_for_update(fcinfo, sizeof(ReturnsState));
	const ReturnsState *early,
			   *late;
	ReturnsState r;

	if (s == NULL)
	{
		s = state_new(sizeof(ReturnsState));
		*s = *b;
		PG_RETURN_POINTER(s);
	}
	if (s->last_ts <= b->first_ts)
		early = s, late = b;
	else if (b->last_ts <= s->first_ts)
		early = b, late = s;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot join log_returns summaries whose prices interleave in time"),
				 errdetail("One runs from \"%s\" to \"%s\", the other from \"%s\" to \"%s\".",
						   pstrdup(timestamptz_to_str(s->first_ts)), pstrdup(timestamptz_to_str(s->last_ts)),
						   pstrdup(timestamptz_to_str(b->first_ts)), pstrdup(timestamptz_to_str(b->last_ts))),
				 errhint("Roll summaries up in time order: rollup(summary ORDER BY bucket).")));
	r = *early;
	moments_add(&r.returns, log(late->first / early->last));
	moments_merge(&r.returns, &late->returns);
	r.nprices += late->nprices;
	r.last_ts = late->last_ts;
	r.last = late->last;
	*s = r;
	PG_RETURN_POINTER(s);
}

/* Combine of log_returns and rollup(returns_state). */
PG_FUNCTION_INFO_V1(stockext_returns_combine);
Datum
stockext_returns_combine(PG_FUNCTION_ARGS)
{
	return returns_join(fcinfo, (const ReturnsState *) PG_GETARG_POINTER(1));
}

/* Transition of rollup(returns_state): joins a summary (NULL skipped). */
PG_FUNCTION_INFO_V1(stockext_returns_rollup_trans);
Datum
stockext_returns_rollup_trans(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(1))
		return state_unchanged(fcinfo);
	return returns_join(fcinfo, (const ReturnsState *) PG_GETARG_POINTER(1));
}

/* Text and binary input and output of stockext.returns_state. */
STATE_TYPE_IO(returns_state, returns_layout)
STATE_TYPE_EQ(returns_state, returns_layout)
