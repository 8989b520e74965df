/*
 * agg_candle.c
 *		candle(ts, price, volume), candle(ts, open, high, low, close, volume)
 *		and rollup(candle): OHLCV candles that merge exactly.
 *
 * Open and close are chosen by timestamp, never by arrival order: rows are
 * ordered by (ts, price) -- (ts, open) for the open, (ts, close) for the
 * close in the bar form -- with PostgreSQL's float order (NaN last, -0
 * before +0 here), and the open is the first row, the close the last.
 * That order is total on what SQL can see, so a candle is the same however
 * its rows arrive or are split between parallel workers, and merging
 * candles picks the same open and close as one pass over the raw rows.
 *
 * Volume and turnover (sum of price * volume, the products exact) are
 * double-double sums; the candle type carries their rounding residuals
 * (volume_err, turnover_err) so that rollup() continues the same sums and
 * its volume, turnover and vwap equal those computed from the raw rows.
 * When the exact sums need at most 106 significant bits (integer volumes
 * and prices of one magnitude do: a price near 100 has bits down to 2^-46,
 * a turnover below 2^50 then spans 96 bits) every step is exact, and
 * candles are bit-identical as whole rows however they are merged.  Beyond
 * that the sums carry errors near 2^-104 of their value: the rounded
 * fields still agree, the residuals' last bits may not.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "agg_state.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

/* The plain-mode state, SQL type stockext.candle_state. */
typedef struct CandleState
{
	int64		count;			/* rows */
	int64		has_volume;		/* 1 when some row had a volume */
	int64		first_ts;
	int64		last_ts;
	double		open;
	double		close;
	double		high;
	double		low;
	DD			volume;
	DD			turnover;
} CandleState;

static const StateLayout candle_layout = {"stockext.candle_state", "nnttdddddddd"};

StaticAssertDecl(sizeof(CandleState) == 12 * 8, "CandleState must be made of 8-byte slots");

/* Columns of the composite type stockext.candle, in order. */
enum
{
	C_OPEN, C_HIGH, C_LOW, C_CLOSE, C_VOLUME, C_VWAP, C_COUNT,
	C_FIRST_TS, C_LAST_TS, C_TURNOVER, C_VOLUME_ERR, C_TURNOVER_ERR,
	C_NCOLS
};

/* Folds candle r into s. */
static inline void
candle_merge(CandleState *s, const CandleState *r)
{
	if (r->first_ts < s->first_ts ||
		(r->first_ts == s->first_ts && float_tiebreak(r->open, s->open) < 0))
	{
		s->first_ts = r->first_ts;
		s->open = r->open;
	}
	if (r->last_ts > s->last_ts ||
		(r->last_ts == s->last_ts && float_tiebreak(r->close, s->close) > 0))
	{
		s->last_ts = r->last_ts;
		s->close = r->close;
	}
	if (float_cmp(r->high, s->high) > 0)
		s->high = r->high;
	if (float_cmp(r->low, s->low) < 0)
		s->low = r->low;
	s->count += r->count;
	if (r->has_volume)
	{
		s->has_volume = 1;
		s->volume = dd_add(s->volume, r->volume);
		s->turnover = dd_add(s->turnover, r->turnover);
	}
}

/* Folds r into the state in argument 0 (a new state when NULL) and returns it. */
static Datum
candle_fold(FunctionCallInfo fcinfo, const CandleState *r)
{
	CandleState *s = state_for_update(fcinfo, sizeof(CandleState));

	if (s == NULL)
	{
		s = state_new(sizeof(CandleState));
		*s = *r;
	}
	else
		candle_merge(s, r);
	PG_RETURN_POINTER(s);
}

/* Adds one row; vwap_price is the price the row's volume traded at. */
static Datum
candle_add_row(FunctionCallInfo fcinfo, Timestamp ts, double open, double high,
			   double low, double close, bool has_volume, double volume,
			   double vwap_price)
{
	CandleState r;

	r.count = 1;
	r.has_volume = has_volume;
	r.first_ts = r.last_ts = ts;
	r.open = open;
	r.close = close;
	r.high = high;
	r.low = low;
	r.volume = dd_from(has_volume ? volume : 0);
	r.turnover = has_volume ? dd_two_prod(vwap_price, volume) : dd_from(0);
	return candle_fold(fcinfo, &r);
}

/* Transition of candle(ts, price, volume): rows without ts or price are skipped. */
PG_FUNCTION_INFO_V1(stockext_candle_trans);
Datum
stockext_candle_trans(PG_FUNCTION_ARGS)
{
	double		price;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return state_unchanged(fcinfo);
	price = PG_GETARG_FLOAT8(2);
	return candle_add_row(fcinfo, PG_GETARG_TIMESTAMPTZ(1), price, price, price, price,
						  !PG_ARGISNULL(3), PG_ARGISNULL(3) ? 0 : PG_GETARG_FLOAT8(3),
						  price);
}

/*
 * Transition of candle(ts, open, high, low, close, volume): rows missing
 * ts or a price are skipped; volume trades at the typical price
 * (high + low + close) / 3.
 */
PG_FUNCTION_INFO_V1(stockext_candle_bar_trans);
Datum
stockext_candle_bar_trans(PG_FUNCTION_ARGS)
{
	double		high,
				low,
				close;

	for (int i = 1; i <= 5; i++)
	{
		if (PG_ARGISNULL(i))
			return state_unchanged(fcinfo);
	}
	high = PG_GETARG_FLOAT8(3);
	low = PG_GETARG_FLOAT8(4);
	close = PG_GETARG_FLOAT8(5);
	return candle_add_row(fcinfo, PG_GETARG_TIMESTAMPTZ(1), PG_GETARG_FLOAT8(2),
						  high, low, close,
						  !PG_ARGISNULL(6), PG_ARGISNULL(6) ? 0 : PG_GETARG_FLOAT8(6),
						  (high + low + close) / 3);
}

/* Combine: merges two partial candles. */
PG_FUNCTION_INFO_V1(stockext_candle_combine);
Datum
stockext_candle_combine(PG_FUNCTION_ARGS)
{
	CandleState *s = state_for_update(fcinfo, sizeof(CandleState));

	candle_merge(s, (CandleState *) PG_GETARG_POINTER(1));
	PG_RETURN_POINTER(s);
}

static void
invalid_candle(const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid candle for rollup: %s", why),
			 errhint("Roll up candles made by stockext.candle() or stockext.rollup().")));
}

/* A candle value as a state; rejects candles no aggregate could produce. */
static void
check_candle(HeapTupleHeader t, CandleState *r)
{
	TupleDesc	desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(t),
											  HeapTupleHeaderGetTypMod(t));
	HeapTupleData tuple;
	Datum		v[C_NCOLS];
	bool		isnull[C_NCOLS];

	if (desc->natts != C_NCOLS)
		elog(ERROR, "stockext.candle has %d columns, expected %d", desc->natts, C_NCOLS);
	tuple.t_len = HeapTupleHeaderGetDatumLength(t);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = t;
	heap_deform_tuple(&tuple, desc, v, isnull);
	ReleaseTupleDesc(desc);

	if (isnull[C_OPEN] || isnull[C_HIGH] || isnull[C_LOW] || isnull[C_CLOSE] ||
		isnull[C_COUNT] || isnull[C_FIRST_TS] || isnull[C_LAST_TS])
		invalid_candle("open, high, low, close, count, first_ts and last_ts must not be NULL");
	r->count = DatumGetInt64(v[C_COUNT]);
	if (r->count <= 0)
		invalid_candle("count is not positive");
	r->first_ts = DatumGetTimestampTz(v[C_FIRST_TS]);
	r->last_ts = DatumGetTimestampTz(v[C_LAST_TS]);
	if (r->first_ts > r->last_ts)
		invalid_candle("first_ts is after last_ts");
	r->open = DatumGetFloat8(v[C_OPEN]);
	r->high = DatumGetFloat8(v[C_HIGH]);
	r->low = DatumGetFloat8(v[C_LOW]);
	r->close = DatumGetFloat8(v[C_CLOSE]);
	r->has_volume = !isnull[C_VOLUME];
	if (r->has_volume && isnull[C_TURNOVER])
		invalid_candle("turnover is NULL while volume is not");
	/* Missing residuals (a hand-made candle) count as zero. */
	r->volume.hi = r->has_volume ? DatumGetFloat8(v[C_VOLUME]) : 0;
	r->volume.lo = r->has_volume && !isnull[C_VOLUME_ERR] ? DatumGetFloat8(v[C_VOLUME_ERR]) : 0;
	r->turnover.hi = r->has_volume ? DatumGetFloat8(v[C_TURNOVER]) : 0;
	r->turnover.lo = r->has_volume && !isnull[C_TURNOVER_ERR] ? DatumGetFloat8(v[C_TURNOVER_ERR]) : 0;
}

/* Transition of rollup(candle): merges one candle into the state. */
PG_FUNCTION_INFO_V1(stockext_candle_rollup_trans);
Datum
stockext_candle_rollup_trans(PG_FUNCTION_ARGS)
{
	CandleState r;

	if (PG_ARGISNULL(1))
		return state_unchanged(fcinfo);
	check_candle(PG_GETARG_HEAPTUPLEHEADER(1), &r);
	return candle_fold(fcinfo, &r);
}

/* Final: the stockext.candle of the state. */
PG_FUNCTION_INFO_V1(stockext_candle_final);
Datum
stockext_candle_final(PG_FUNCTION_ARGS)
{
	CandleState *s = (CandleState *) PG_GETARG_POINTER(0);
	TupleDesc	desc = (TupleDesc) fcinfo->flinfo->fn_extra;
	Datum		v[C_NCOLS];
	bool		isnull[C_NCOLS] = {0};

	if (desc == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "candle_final must return a composite type");
		desc = BlessTupleDesc(CreateTupleDescCopy(desc));
		MemoryContextSwitchTo(old);
		fcinfo->flinfo->fn_extra = desc;
	}
	v[C_OPEN] = Float8GetDatum(s->open);
	v[C_HIGH] = Float8GetDatum(s->high);
	v[C_LOW] = Float8GetDatum(s->low);
	v[C_CLOSE] = Float8GetDatum(s->close);
	v[C_COUNT] = Int64GetDatum(s->count);
	v[C_FIRST_TS] = TimestampTzGetDatum(s->first_ts);
	v[C_LAST_TS] = TimestampTzGetDatum(s->last_ts);
	v[C_VOLUME] = Float8GetDatum(s->volume.hi);
	v[C_TURNOVER] = Float8GetDatum(s->turnover.hi);
	v[C_VOLUME_ERR] = Float8GetDatum(s->volume.lo);
	v[C_TURNOVER_ERR] = Float8GetDatum(s->turnover.lo);
	isnull[C_VOLUME] = isnull[C_TURNOVER] = isnull[C_VOLUME_ERR] =
		isnull[C_TURNOVER_ERR] = !s->has_volume;
	if (s->has_volume && s->volume.hi != 0)
		v[C_VWAP] = Float8GetDatum(dd_div(s->turnover, s->volume).hi);
	else
		isnull[C_VWAP] = true;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, v, isnull)));
}

/* Text and binary input and output of stockext.candle_state. */
STATE_TYPE_IO(candle_state, candle_layout)
