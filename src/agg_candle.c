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
 * The high and the low carry their time (high_ts, low_ts: the trade's ts,
 * or the start of the bar holding them): among equal highs (lows) the
 * earliest wins, and values that tie in SQL (-0 and +0) are ordered as for
 * the open, so the extremes and their times are order-independent too and
 * merge exactly.  A candle made by hand (or by 0.2.0) without them rolls up with its
 * extremes' times unknown, kept as DT_NOEND (which loses every tie) and
 * shown as NULL.
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
	int64		high_ts;		/* DT_NOEND: unknown */
	int64		low_ts;
} CandleState;

static const StateLayout candle_layout = {"stockext.candle_state", "nnttddddddddtt"};

StaticAssertDecl(sizeof(CandleState) == 14 * 8, "CandleState must be made of 8-byte slots");

/*
 * The state of 0.1.0 and 0.2.0: the first 12 slots, without the extremes'
 * times.  Their install scripts name the C functions without the _v3
 * suffix, which keep serving that state between the installation of this
 * library and ALTER EXTENSION UPDATE (a base type's length cannot change,
 * so the update makes the type again with the _v3 functions).
 */
#define CANDLE_V2_SIZE offsetof(CandleState, high_ts)
static const StateLayout candle_v2_layout = {"stockext.candle_state", "nnttdddddddd"};

/* Columns of the composite type stockext.candle, in order. */
enum
{
	C_OPEN, C_HIGH, C_LOW, C_CLOSE, C_VOLUME, C_VWAP, C_COUNT,
	C_FIRST_TS, C_LAST_TS, C_TURNOVER, C_VOLUME_ERR, C_TURNOVER_ERR,
	C_HIGH_TS, C_LOW_TS,
	C_NCOLS
};

/*
 * Whether a candidate extreme replaces the one kept: it is beyond it (cmp
 * > 0 in the extreme's direction), or equal and earlier.
 */
static inline bool
extreme_wins(int cmp, int64 ts, int64 kept_ts)
{
	return cmp > 0 || (cmp == 0 && ts < kept_ts);
}

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
	if (extreme_wins(float_tiebreak(r->high, s->high), r->high_ts, s->high_ts))
	{
		s->high = r->high;
		s->high_ts = r->high_ts;
	}
	if (extreme_wins(-float_tiebreak(r->low, s->low), r->low_ts, s->low_ts))
	{
		s->low = r->low;
		s->low_ts = r->low_ts;
	}
	s->count += r->count;
	if (r->has_volume)
	{
		s->has_volume = 1;
		s->volume = dd_add(s->volume, r->volume);
		s->turnover = dd_add(s->turnover, r->turnover);
	}
}

/* A state of size bytes (either layout) as a whole CandleState. */
static void
candle_load(CandleState *full, const void *state, Size size)
{
	memcpy(full, state, size);
	if (size < sizeof(CandleState))
		full->high_ts = full->low_ts = DT_NOEND;
}

/*
 * Folds r into the state of size bytes in argument 0 (a new state when
 * NULL) and returns it.
 */
static Datum
candle_fold(FunctionCallInfo fcinfo, const CandleState *r, Size size)
{
	void	   *s = state_for_update(fcinfo, size);

	if (s == NULL)
	{
		s = state_new(size);
		memcpy(s, r, size);
	}
	else if (size == sizeof(CandleState))
		candle_merge(s, r);
	else
	{
		CandleState full;

		candle_load(&full, s, size);
		candle_merge(&full, r);
		memcpy(s, &full, size);
	}
	PG_RETURN_POINTER(s);
}

/* Adds one row; vwap_price is the price the row's volume traded at. */
static Datum
candle_add_row(FunctionCallInfo fcinfo, Size size, Timestamp ts, double open,
			   double high, double low, double close, bool has_volume,
			   double volume, double vwap_price)
{
	CandleState r;

	r.count = 1;
	r.has_volume = has_volume;
	r.first_ts = r.last_ts = r.high_ts = r.low_ts = ts;
	r.open = open;
	r.close = close;
	r.high = high;
	r.low = low;
	r.volume = dd_from(has_volume ? volume : 0);
	r.turnover = has_volume ? dd_two_prod(vwap_price, volume) : dd_from(0);
	return candle_fold(fcinfo, &r, size);
}

/* Transition of candle(ts, price, volume): rows without ts or price are skipped. */
static Datum
candle_trans(FunctionCallInfo fcinfo, Size size)
{
	double		price;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return state_unchanged(fcinfo);
	price = PG_GETARG_FLOAT8(2);
	return candle_add_row(fcinfo, size, PG_GETARG_TIMESTAMPTZ(1), price, price, price, price,
						  !PG_ARGISNULL(3), PG_ARGISNULL(3) ? 0 : PG_GETARG_FLOAT8(3),
						  price);
}

/*
 * Transition of candle(ts, open, high, low, close, volume): rows missing
 * ts or a price are skipped; volume trades at the typical price
 * (high + low + close) / 3.
 */
static Datum
candle_bar_trans(FunctionCallInfo fcinfo, Size size)
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
	return candle_add_row(fcinfo, size, PG_GETARG_TIMESTAMPTZ(1), PG_GETARG_FLOAT8(2),
						  high, low, close,
						  !PG_ARGISNULL(6), PG_ARGISNULL(6) ? 0 : PG_GETARG_FLOAT8(6),
						  (high + low + close) / 3);
}

/* Combine: merges two partial candles. */
static Datum
candle_combine(FunctionCallInfo fcinfo, Size size)
{
	CandleState r;

	candle_load(&r, PG_GETARG_POINTER(1), size);
	return candle_fold(fcinfo, &r, size);
}

static void
invalid_candle(const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid candle for rollup: %s", why),
			 errhint("Roll up candles made by stockext.candle() or stockext.rollup().")));
}

/*
 * A candle value as a state; rejects candles no aggregate could produce.
 * The candle type of 0.2.0 lacks the last two columns: times unknown.
 */
static void
check_candle(HeapTupleHeader t, CandleState *r)
{
	TupleDesc	desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(t),
											  HeapTupleHeaderGetTypMod(t));
	HeapTupleData tuple;
	Datum		v[C_NCOLS];
	bool		isnull[C_NCOLS];

	if (desc->natts != C_NCOLS && desc->natts != C_HIGH_TS)
		elog(ERROR, "stockext.candle has %d columns, expected %d", desc->natts, C_NCOLS);
	tuple.t_len = HeapTupleHeaderGetDatumLength(t);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = t;
	memset(isnull, true, sizeof(isnull));
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
	r->high_ts = isnull[C_HIGH_TS] ? DT_NOEND : DatumGetTimestampTz(v[C_HIGH_TS]);
	r->low_ts = isnull[C_LOW_TS] ? DT_NOEND : DatumGetTimestampTz(v[C_LOW_TS]);
	if ((r->high_ts != DT_NOEND && (r->high_ts < r->first_ts || r->high_ts > r->last_ts)) ||
		(r->low_ts != DT_NOEND && (r->low_ts < r->first_ts || r->low_ts > r->last_ts)))
		invalid_candle("high_ts or low_ts lies outside [first_ts, last_ts]");
}

/* Transition of rollup(candle): merges one candle into the state. */
static Datum
candle_rollup_trans(FunctionCallInfo fcinfo, Size size)
{
	CandleState r;

	if (PG_ARGISNULL(1))
		return state_unchanged(fcinfo);
	check_candle(PG_GETARG_HEAPTUPLEHEADER(1), &r);
	return candle_fold(fcinfo, &r, size);
}

/*
 * Transition of candle(ts, open, high, low, close, volume, seed): adds a
 * bar to the seed candle (0.3.0's state only: the seeded form is new).
 */
PG_FUNCTION_INFO_V1(stockext_candle_bar_seeded_trans);
Datum
stockext_candle_bar_seeded_trans(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) && !PG_ARGISNULL(7))
	{
		CandleState seed;

		check_candle(PG_GETARG_HEAPTUPLEHEADER(7), &seed);
		state_seed(fcinfo, &seed, sizeof(CandleState));
	}
	return candle_bar_trans(fcinfo, sizeof(CandleState));
}

/* Final: the stockext.candle of the state (0.2.0's has 12 columns). */
static Datum
candle_final(FunctionCallInfo fcinfo, Size size)
{
	CandleState state;
	CandleState *s = &state;
	TupleDesc	desc = (TupleDesc) fcinfo->flinfo->fn_extra;
	Datum		v[C_NCOLS];
	bool		isnull[C_NCOLS] = {0};

	candle_load(s, PG_GETARG_POINTER(0), size);
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
	v[C_HIGH_TS] = TimestampTzGetDatum(s->high_ts);
	v[C_LOW_TS] = TimestampTzGetDatum(s->low_ts);
	isnull[C_HIGH_TS] = s->high_ts == DT_NOEND;
	isnull[C_LOW_TS] = s->low_ts == DT_NOEND;
	isnull[C_VOLUME] = isnull[C_TURNOVER] = isnull[C_VOLUME_ERR] =
		isnull[C_TURNOVER_ERR] = !s->has_volume;
	if (s->has_volume && s->volume.hi != 0)
		v[C_VWAP] = Float8GetDatum(dd_div(s->turnover, s->volume).hi);
	else
		isnull[C_VWAP] = true;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, v, isnull)));
}

/*
 * The SQL entry points: the _v3 functions for the state of 0.3.0, the
 * others for 0.2.0's (see CANDLE_V2_SIZE).
 */
#define CANDLE_ENTRY(name) \
	PG_FUNCTION_INFO_V1(stockext_##name); \
	Datum stockext_##name(PG_FUNCTION_ARGS) \
	{ return name(fcinfo, CANDLE_V2_SIZE); } \
	PG_FUNCTION_INFO_V1(stockext_##name##_v3); \
	Datum stockext_##name##_v3(PG_FUNCTION_ARGS) \
	{ return name(fcinfo, sizeof(CandleState)); }

CANDLE_ENTRY(candle_trans)
CANDLE_ENTRY(candle_bar_trans)
CANDLE_ENTRY(candle_combine)
CANDLE_ENTRY(candle_rollup_trans)
CANDLE_ENTRY(candle_final)

/* Text and binary input and output of stockext.candle_state. */
STATE_TYPE_IO(candle_state, candle_v2_layout)
STATE_TYPE_IO(candle_state_v3, candle_layout)
