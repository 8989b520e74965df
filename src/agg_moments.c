/*
 * agg_moments.c
 *		sma, mstddev_samp, mstddev_pop (one state: count, mean, variance) and
 *		vwap (volume and turnover sums), in plain and moving-aggregate mode.
 *
 * Plain mode keeps its state in a fixed-size SQL type updated in place;
 * moving mode (sliding window frames) keeps the same sums in an internal
 * state and removes the rows leaving the frame with an inverse transition,
 * so each row costs O(1) whatever the frame's width.
 */
#include "postgres.h"

#include <math.h>

#include "agg_moments.h"
#include "utils/float.h"

static const StateLayout moments_layout = {"stockext.moments_state", MOMENTS_LAYOUT_SLOTS};

StaticAssertDecl(sizeof(MomentsState) == 9 * 8, "MomentsState must be made of 8-byte slots");

/* The moving-aggregate state: the sums and how many values left them. */
typedef struct MomentsMoving
{
	MomentsState m;
	int64		removed;
} MomentsMoving;

/* Adds (sign 1) or removes (sign -1) x; inlined into the per-row transitions. */
static pg_attribute_always_inline void
moments_update(MomentsState *s, double x, int sign)
{
	DD			d,
				sq;

	if (unlikely(!isfinite(x)))
	{
		if (isnan(x))
			s->nnan += sign;
		else if (x > 0)
			s->npinf += sign;
		else
			s->nninf += sign;
		return;
	}
	if (s->n == 0)
		s->shift = x;
	/* x - shift exactly, and its square to about 2^-106. */
	d = dd_two_sum(x, -s->shift);
	/* Usually exact in one double: its square is then one exact product. */
	sq = likely(d.lo == 0) ? dd_two_prod(d.hi, d.hi) : dd_mul(d, d);
	if (sign < 0)
	{
		d = dd_neg(d);
		sq = dd_neg(sq);
	}
	s->s1 = dd_add(s->s1, d);
	s->s2 = dd_add(s->s2, sq);
	s->n += sign;
	if (s->n == 0)
		s->s1 = s->s2 = dd_from(0);
}

void
moments_add(MomentsState *s, double x)
{
	moments_update(s, x, 1);
}

void
moments_remove(MomentsState *s, double x)
{
	moments_update(s, x, -1);
}

bool
moments_should_restart(const MomentsState *s, int64 removed)
{
	double		off,
				spread;

	if (s->n == 0 || removed < s->n)
		return false;
	off = s->s1.hi / s->n;
	spread = s->s2.hi / s->n - off * off;
	/* The offset's square swamps the variance by more than 26 bits. */
	return off * off > 0x1p26 * spread;
}

/* Folds b into a, re-expressing b's sums around a's shift. */
void
moments_merge(MomentsState *a, const MomentsState *b)
{
	DD			d,
				nb,
				s1,
				s2;

	a->nnan += b->nnan;
	a->npinf += b->npinf;
	a->nninf += b->nninf;
	if (b->n == 0)
		return;
	if (a->n == 0)
	{
		a->n = b->n;
		a->shift = b->shift;
		a->s1 = b->s1;
		a->s2 = b->s2;
		return;
	}
	/* sum(y + d) = s1 + n d;  sum((y + d)^2) = s2 + 2 d s1 + n d^2 */
	d = dd_two_sum(b->shift, -a->shift);
	nb = dd_from((double) b->n);
	s1 = dd_add(b->s1, dd_mul(nb, d));
	s2 = dd_add(b->s2, dd_add(dd_mul(dd_from(2), dd_mul(d, b->s1)),
							   dd_mul(nb, dd_mul(d, d))));
	a->s1 = dd_add(a->s1, s1);
	a->s2 = dd_add(a->s2, s2);
	a->n += b->n;
}

static inline int64
moments_count(const MomentsState *s)
{
	return s->n + s->nnan + s->npinf + s->nninf;
}

/*
 * The variance with ddof degrees of freedom removed into *out; false when
 * there are not more than ddof values.  NaN when a NaN or an infinity is
 * among the values.
 */
static bool
moments_variance(const MomentsState *s, int ddof, double *out)
{
	DD			m2;

	if (moments_count(s) <= ddof)
		return false;
	if (s->n != moments_count(s))
	{
		*out = get_float8_nan();
		return true;
	}
	m2 = dd_add(s->s2, dd_neg(dd_div_d(dd_mul(s->s1, s->s1), (double) s->n)));
	*out = m2.hi > 0 ? m2.hi / (s->n - ddof) : 0;
	return true;
}

/* Plain transition of sma/mstddev_*: adds x in place; NULLs are skipped. */
PG_FUNCTION_INFO_V1(stockext_moments_trans);
Datum
stockext_moments_trans(PG_FUNCTION_ARGS)
{
	MomentsState *s;

	if (PG_ARGISNULL(1))
		return state_unchanged(fcinfo);
	s = state_for_update(fcinfo, sizeof(MomentsState));
	if (s == NULL)
		s = state_new(sizeof(MomentsState));
	moments_add(s, PG_GETARG_FLOAT8(1));
	PG_RETURN_POINTER(s);
}

/* Combine of sma/mstddev_*: merges two partial states. */
PG_FUNCTION_INFO_V1(stockext_moments_combine);
Datum
stockext_moments_combine(PG_FUNCTION_ARGS)
{
	MomentsState *s = state_for_update(fcinfo, sizeof(MomentsState));

	moments_merge(s, (MomentsState *) PG_GETARG_POINTER(1));
	PG_RETURN_POINTER(s);
}

/* Transition of moments(x, seed): adds x to the seed's values; NULLs are skipped. */
PG_FUNCTION_INFO_V1(stockext_moments_seeded_trans);
Datum
stockext_moments_seeded_trans(PG_FUNCTION_ARGS)
{
	state_seed(fcinfo, PG_ARGISNULL(2) ? NULL : PG_GETARG_POINTER(2), sizeof(MomentsState));
	return stockext_moments_trans(fcinfo);
}

/* Moving transition of sma/mstddev_*: adds x entering the frame. */
PG_FUNCTION_INFO_V1(stockext_moments_mtrans);
Datum
stockext_moments_mtrans(PG_FUNCTION_ARGS)
{
	MomentsMoving *s = agg_internal_state(fcinfo, sizeof(MomentsMoving), "moments_mtrans");

	if (!PG_ARGISNULL(1))
		moments_update(&s->m, PG_GETARG_FLOAT8(1), 1);
	PG_RETURN_POINTER(s);
}

/* Inverse transition of sma/mstddev_*: removes x leaving the frame. */
PG_FUNCTION_INFO_V1(stockext_moments_minv);
Datum
stockext_moments_minv(PG_FUNCTION_ARGS)
{
	MomentsMoving *s = agg_inverse_state(fcinfo, "moments_minv");

	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(s);
	moments_update(&s->m, PG_GETARG_FLOAT8(1), -1);
	s->removed++;
	if (moments_should_restart(&s->m, s->removed))
		PG_RETURN_NULL();
	PG_RETURN_POINTER(s);
}

/* Final of sma: the mean; NaN with a NaN or both infinities, else an infinity wins. */
PG_FUNCTION_INFO_V1(stockext_sma_final);
Datum
stockext_sma_final(PG_FUNCTION_ARGS)
{
	const MomentsState *s = (const MomentsState *) PG_GETARG_POINTER(0);

	if (moments_count(s) == 0)
		PG_RETURN_NULL();
	if (s->nnan > 0 || (s->npinf > 0 && s->nninf > 0))
		PG_RETURN_FLOAT8(get_float8_nan());
	if (s->npinf > 0)
		PG_RETURN_FLOAT8(get_float8_infinity());
	if (s->nninf > 0)
		PG_RETURN_FLOAT8(-get_float8_infinity());
	PG_RETURN_FLOAT8(dd_add(dd_from(s->shift), dd_div_d(s->s1, (double) s->n)).hi);
}

/* Final of mstddev_samp: sample standard deviation, NULL below 2 values. */
PG_FUNCTION_INFO_V1(stockext_mstddev_samp_final);
Datum
stockext_mstddev_samp_final(PG_FUNCTION_ARGS)
{
	double		var;

	if (!moments_variance((const MomentsState *) PG_GETARG_POINTER(0), 1, &var))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(sqrt(var));
}

/* Final of mstddev_pop: population standard deviation, NULL without values. */
PG_FUNCTION_INFO_V1(stockext_mstddev_pop_final);
Datum
stockext_mstddev_pop_final(PG_FUNCTION_ARGS)
{
	double		var;

	if (!moments_variance((const MomentsState *) PG_GETARG_POINTER(0), 0, &var))
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(sqrt(var));
}

/* Text and binary input and output of stockext.moments_state. */
STATE_TYPE_IO(moments_state, moments_layout)
STATE_TYPE_EQ(moments_state, moments_layout)

/*
 * vwap: rows with both price and volume; turnover sums the exact products.
 * A row with a NaN or infinite price, volume or product is counted apart
 * and makes the result NaN while it is in the frame.
 */
typedef struct VwapState
{
	int64		n;
	int64		nbad;
	DD			volume;
	DD			turnover;
} VwapState;

static const StateLayout vwap_layout = {"stockext.vwap_state", "nndddd"};

StaticAssertDecl(sizeof(VwapState) == 6 * 8, "VwapState must be made of 8-byte slots");

static inline void
vwap_update(VwapState *s, double price, double volume, int sign)
{
	DD			pv = dd_two_prod(price, volume);

	if (!isfinite(price) || !isfinite(volume) || !isfinite(pv.hi))
		s->nbad += sign;
	else if (sign > 0)
	{
		s->volume = dd_add(s->volume, dd_from(volume));
		s->turnover = dd_add(s->turnover, pv);
	}
	else
	{
		s->volume = dd_add(s->volume, dd_from(-volume));
		s->turnover = dd_add(s->turnover, dd_neg(pv));
	}
	s->n += sign;
	if (s->n == s->nbad)
		s->volume = s->turnover = dd_from(0);
}

/* Plain transition of vwap: adds a row in place; rows with a NULL are skipped. */
PG_FUNCTION_INFO_V1(stockext_vwap_trans);
Datum
stockext_vwap_trans(PG_FUNCTION_ARGS)
{
	VwapState  *s;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		return state_unchanged(fcinfo);
	s = state_for_update(fcinfo, sizeof(VwapState));
	if (s == NULL)
		s = state_new(sizeof(VwapState));
	vwap_update(s, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2), 1);
	PG_RETURN_POINTER(s);
}

/* Combine of vwap: adds the sums of two partial states. */
PG_FUNCTION_INFO_V1(stockext_vwap_combine);
Datum
stockext_vwap_combine(PG_FUNCTION_ARGS)
{
	VwapState  *s = state_for_update(fcinfo, sizeof(VwapState));
	const VwapState *b = (const VwapState *) PG_GETARG_POINTER(1);

	s->n += b->n;
	s->nbad += b->nbad;
	s->volume = dd_add(s->volume, b->volume);
	s->turnover = dd_add(s->turnover, b->turnover);
	PG_RETURN_POINTER(s);
}

/* Moving transition of vwap: adds the row entering the frame. */
PG_FUNCTION_INFO_V1(stockext_vwap_mtrans);
Datum
stockext_vwap_mtrans(PG_FUNCTION_ARGS)
{
	VwapState  *s = agg_internal_state(fcinfo, sizeof(VwapState), "vwap_mtrans");

	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2))
		vwap_update(s, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2), 1);
	PG_RETURN_POINTER(s);
}

/* Inverse transition of vwap: removes the row leaving the frame. */
PG_FUNCTION_INFO_V1(stockext_vwap_minv);
Datum
stockext_vwap_minv(PG_FUNCTION_ARGS)
{
	VwapState  *s = agg_inverse_state(fcinfo, "vwap_minv");

	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2))
		vwap_update(s, PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2), -1);
	PG_RETURN_POINTER(s);
}

/* Final of vwap: turnover / volume; NULL without rows or with zero volume. */
PG_FUNCTION_INFO_V1(stockext_vwap_final);
Datum
stockext_vwap_final(PG_FUNCTION_ARGS)
{
	const VwapState *s = (const VwapState *) PG_GETARG_POINTER(0);

	if (s->n == 0)
		PG_RETURN_NULL();
	if (s->nbad > 0)
		PG_RETURN_FLOAT8(get_float8_nan());
	if (s->volume.hi == 0)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(dd_div(s->turnover, s->volume).hi);
}

/* Text and binary input and output of stockext.vwap_state. */
STATE_TYPE_IO(vwap_state, vwap_layout)
