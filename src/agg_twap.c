/*
 * agg_twap.c
 *		twap(ts, price [, stop]): time-weighted average price, each price
 *		carried forward until the next observation (last observation carried
 *		forward), in plain and moving-aggregate mode.
 *
 * The result is sum(price_i * (ts_(i+1) - ts_i)) / (ts_last - ts_first):
 * without a stop the last observation weighs nothing; with one it weighs
 * until stop, and the duration runs to stop.  The products are exact
 * (durations in microseconds are exact doubles below 285 years) and summed
 * in double-double.
 *
 * The weights depend on the order of the observations, so rows must arrive
 * in ts order (an ORDER BY ts in the call, a window ordered by ts): a ts
 * going back is an error.  Two states combine when their observations do
 * not interleave in time: the earlier one's last price weighs until the
 * later one's first observation, which is what one pass over both would
 * compute.  Moving mode keeps the frame's observations in a ring, so
 * removing the oldest removes exactly the interval it had added.
 */
#include "postgres.h"

#include <math.h>

#include "common/int.h"
#include "datatype/timestamp.h"
#include "ring.h"
#include "utils/float.h"
#include "utils/timestamp.h"
#include "win_common.h"

/* The plain-mode state, SQL type stockext.twap_state. */
typedef struct TwapState
{
	int64		n;				/* observations */
	int64		nbad;			/* intervals with a non-finite price or product */
	TimestampTz first_ts;
	TimestampTz last_ts;
	TimestampTz stop;			/* DT_NOEND without a stop */
	double		last_price;
	DD			sum;			/* sum of price * microseconds until the next */
} TwapState;

static const StateLayout twap_layout = {"stockext.twap_state", "nntttddd"};

StaticAssertDecl(sizeof(TwapState) == 8 * 8, "TwapState must be made of 8-byte slots");

/* The moving-aggregate state: the sums and the frame's (price, ts) points. */
typedef struct TwapMoving
{
	TwapState	s;				/* first: the final function reads it */
	Ring		points;
} TwapMoving;

/* b - a in microseconds, in double (far-apart instants overflow int64). */
static double
ts_diff(TimestampTz b, TimestampTz a)
{
	int64		d;

	if (pg_sub_s64_overflow(b, a, &d))
		return (double) b - (double) a;
	return (double) d;
}

/* A timestamp's text in its own memory (timestamptz_to_str's buffer is static). */
static char *
ts_text(TimestampTz ts)
{
	return pstrdup(timestamptz_to_str(ts));
}

static void
check_same_stop(TimestampTz a, TimestampTz b)
{
	if (a != b)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("stop of twap must be the same for every row"),
				 errdetail("It changed from \"%s\" to \"%s\".", ts_text(a), ts_text(b))));
}

static void
check_ts(TimestampTz ts, const char *name)
{
	if (TIMESTAMP_NOT_FINITE(ts))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s of twap must be finite", name)));
}

/* Adds (sign 1) or removes (-1) price weighing from a to b. */
static inline void
twap_interval(TwapState *s, double price, TimestampTz a, TimestampTz b, int sign)
{
	DD			pw = dd_two_prod(price, ts_diff(b, a));

	if (!isfinite(price) || !isfinite(pw.hi))
		s->nbad += sign;
	else
		s->sum = dd_add(s->sum, sign > 0 ? pw : dd_neg(pw));
}

/* Adds an observation after the state's last one (s->n > 0). */
static void
twap_append(TwapState *s, TimestampTz ts, double price)
{
	if (ts < s->last_ts)
		report_decreasing_ts("twap", "from row to row", ts, s->last_ts,
							 "Write twap(ts, price ORDER BY ts), or order the window by ts.");
	twap_interval(s, s->last_price, s->last_ts, ts, 1);
	s->last_ts = ts;
	s->last_price = price;
	s->n++;
}

static void
twap_first(TwapState *s, TimestampTz ts, double price, TimestampTz stop)
{
	s->n = 1;
	s->first_ts = s->last_ts = ts;
	s->last_price = price;
	s->stop = stop;
}

/* The plain transitions: the row in arguments 1 and 2, with a stop or DT_NOEND. */
static Datum
twap_add_row(FunctionCallInfo fcinfo, TimestampTz stop)
{
	TwapState  *s;
	TimestampTz ts;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return state_unchanged(fcinfo);
	ts = PG_GETARG_TIMESTAMPTZ(1);
	check_ts(ts, "ts");
	if (stop != DT_NOEND && ts > stop)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ts of twap must not be after its stop"),
				 errdetail("A row at \"%s\" is after the stop, \"%s\".", ts_text(ts), ts_text(stop))));
	s = state_for_update(fcinfo, sizeof(TwapState));
	if (s == NULL)
	{
		s = state_new(sizeof(TwapState));
		twap_first(s, ts, PG_GETARG_FLOAT8(2), stop);
	}
	else
	{
		check_same_stop(s->stop, stop);
		twap_append(s, ts, PG_GETARG_FLOAT8(2));
	}
	PG_RETURN_POINTER(s);
}

/* Plain transition of twap(ts, price): adds an observation; rows with a NULL are skipped. */
PG_FUNCTION_INFO_V1(stockext_twap_trans);
Datum
stockext_twap_trans(PG_FUNCTION_ARGS)
{
	return twap_add_row(fcinfo, DT_NOEND);
}

/* Plain transition of twap(ts, price, stop): the same, the last price weighing until stop. */
PG_FUNCTION_INFO_V1(stockext_twap_stop_trans);
Datum
stockext_twap_stop_trans(PG_FUNCTION_ARGS)
{
	TimestampTz stop;

	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("stop of twap must not be NULL")));
	stop = PG_GETARG_TIMESTAMPTZ(3);
	check_ts(stop, "stop");
	return twap_add_row(fcinfo, stop);
}

/* Combine of twap: joins two partial states whose observations do not interleave. */
PG_FUNCTION_INFO_V1(stockext_twap_combine);
Datum
stockext_twap_combine(PG_FUNCTION_ARGS)
{
	const TwapState *a = (const TwapState *) PG_GETARG_POINTER(0);
	const TwapState *b = (const TwapState *) PG_GETARG_POINTER(1);
	TwapState  *s = palloc(sizeof(TwapState));

	check_same_stop(a->stop, b->stop);
	if (b->last_ts <= a->first_ts && a->last_ts > b->first_ts)
	{
		const TwapState *t = a;

		a = b;
		b = t;
	}
	else if (a->last_ts > b->first_ts)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot combine twap states whose observations interleave in time"),
				 errdetail("One runs from \"%s\" to \"%s\", the other from \"%s\" to \"%s\".",
						   ts_text(a->first_ts), ts_text(a->last_ts),
						   ts_text(b->first_ts), ts_text(b->last_ts)),
				 errhint("Write twap(ts, price ORDER BY ts): it is computed in one pass, in order.")));
	*s = *a;
	twap_interval(s, a->last_price, a->last_ts, b->first_ts, 1);
	s->sum = dd_add(s->sum, b->sum);
	s->nbad += b->nbad;
	s->n += b->n;
	s->last_ts = b->last_ts;
	s->last_price = b->last_price;
	PG_RETURN_POINTER(s);
}

/* Moving transition of twap: adds the observation entering the frame. */
PG_FUNCTION_INFO_V1(stockext_twap_mtrans);
Datum
stockext_twap_mtrans(PG_FUNCTION_ARGS)
{
	TwapMoving *m = agg_internal_state(fcinfo, sizeof(TwapMoving), "twap_mtrans");
	TimestampTz ts;
	double		price;

	if (m->points.cxt == NULL)
		ring_init(&m->points, GetMemoryChunkContext(m));
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(m);
	ts = PG_GETARG_TIMESTAMPTZ(1);
	price = PG_GETARG_FLOAT8(2);
	check_ts(ts, "ts");
	if (m->s.n == 0)
		twap_first(&m->s, ts, price, DT_NOEND);
	else
		twap_append(&m->s, ts, price);
	ring_push_back(&m->points, price, ts);
	PG_RETURN_POINTER(m);
}

/*
 * Inverse transition of twap: removes the oldest observation and the
 * interval from it to the next one.
 */
PG_FUNCTION_INFO_V1(stockext_twap_minv);
Datum
stockext_twap_minv(PG_FUNCTION_ARGS)
{
	TwapMoving *m = agg_inverse_state(fcinfo, "twap_minv");
	RingEntry	gone;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(m);
	/* Out of step with the frame: let the executor recompute. */
	if (m->points.len == 0 || ring_at(&m->points, 0)->key != PG_GETARG_TIMESTAMPTZ(1))
		PG_RETURN_NULL();
	gone = *ring_at(&m->points, 0);
	ring_pop_front(&m->points);
	m->s.n--;
	if (m->points.len > 0)
	{
		m->s.first_ts = ring_at(&m->points, 0)->key;
		twap_interval(&m->s, gone.value, gone.key, m->s.first_ts, -1);
	}
	/* One observation or none left: no interval, exactly. */
	if (m->points.len <= 1)
	{
		m->s.nbad = 0;
		m->s.sum = dd_from(0);
	}
	PG_RETURN_POINTER(m);
}

/*
 * Final of twap in both modes: the sum over the duration; NULL when no time
 * passed between the first observation and the last (or the stop), NaN
 * when a price is NaN or infinite or a product overflows.
 */
PG_FUNCTION_INFO_V1(stockext_twap_final);
Datum
stockext_twap_final(PG_FUNCTION_ARGS)
{
	const TwapState *s = (const TwapState *) PG_GETARG_POINTER(0);
	TwapState	t;

	if (s->n == 0)
		PG_RETURN_NULL();
	t = *s;
	if (t.stop != DT_NOEND)
	{
		twap_interval(&t, t.last_price, t.last_ts, t.stop, 1);
		t.last_ts = t.stop;
	}
	if (t.last_ts == t.first_ts)
		PG_RETURN_NULL();
	if (t.nbad > 0 || !isfinite(t.last_price))
		PG_RETURN_FLOAT8(get_float8_nan());
	PG_RETURN_FLOAT8(dd_div(t.sum, dd_from(ts_diff(t.last_ts, t.first_ts))).hi);
}

/* Text and binary input and output of stockext.twap_state. */
STATE_TYPE_IO(twap_state, twap_layout)
