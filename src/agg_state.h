/*
 * agg_state.h
 *		What the aggregates share: the fixed-size SQL state types, double-double
 *		arithmetic for sums that must not drift, and float ordering.
 *
 * Every order-independent aggregate keeps its plain-mode state in a real SQL
 * base type (not "internal") so that sharded engines can ship partial
 * states as text.  Such a state is a C struct made only of 8-byte slots
 * (int64 or double) described by a short layout string, one letter per slot:
 *
 *   'n'  a count: int64, never negative
 *   't'  a timestamp or other int64
 *   'd'  a double
 *
 * The text form is "(slot,slot,...)" with doubles in their shortest exact
 * decimal form (whatever extra_float_digits says), the binary form the
 * slots in order; both round-trip every value exactly.
 */
#ifndef STOCKEXT_AGG_STATE_H
#define STOCKEXT_AGG_STATE_H

#include <math.h>

#include "fmgr.h"
#include "utils/memutils.h"
#include "lib/stringinfo.h"

typedef struct StateLayout
{
	const char *type_name;		/* for error messages */
	const char *slots;			/* one letter per 8-byte slot */
} StateLayout;

extern Datum state_in(const StateLayout *layout, const char *str);
extern Datum state_out(const StateLayout *layout, const void *state);
extern Datum state_recv(const StateLayout *layout, StringInfo buf);
extern Datum state_send(const StateLayout *layout, const void *state);

/*
 * Defines the four I/O functions of state type NAME (SQL functions
 * stockext.NAME_in/_out/_recv/_send, C symbols stockext_NAME_in/...).
 */
#define STATE_TYPE_IO(name, layout) \
	PG_FUNCTION_INFO_V1(stockext_##name##_in); \
	Datum stockext_##name##_in(PG_FUNCTION_ARGS) \
	{ return state_in(&(layout), PG_GETARG_CSTRING(0)); } \
	PG_FUNCTION_INFO_V1(stockext_##name##_out); \
	Datum stockext_##name##_out(PG_FUNCTION_ARGS) \
	{ return state_out(&(layout), PG_GETARG_POINTER(0)); } \
	PG_FUNCTION_INFO_V1(stockext_##name##_recv); \
	Datum stockext_##name##_recv(PG_FUNCTION_ARGS) \
	{ return state_recv(&(layout), (StringInfo) PG_GETARG_POINTER(0)); } \
	PG_FUNCTION_INFO_V1(stockext_##name##_send); \
	Datum stockext_##name##_send(PG_FUNCTION_ARGS) \
	{ return state_send(&(layout), PG_GETARG_POINTER(0)); }

extern Datum state_eq(const StateLayout *layout, const void *a, const void *b);
extern Datum state_hash(const StateLayout *layout, const void *state);

/*
 * Defines equality and hashing of state type NAME (SQL functions
 * stockext.NAME_eq/_hash): slot by slot, bit for bit, so that a table
 * column of the type works with EXCEPT, DISTINCT and IS DISTINCT FROM.
 */
#define STATE_TYPE_EQ(name, layout) \
	PG_FUNCTION_INFO_V1(stockext_##name##_eq); \
	Datum stockext_##name##_eq(PG_FUNCTION_ARGS) \
	{ return state_eq(&(layout), PG_GETARG_POINTER(0), PG_GETARG_POINTER(1)); } \
	PG_FUNCTION_INFO_V1(stockext_##name##_hash); \
	Datum stockext_##name##_hash(PG_FUNCTION_ARGS) \
	{ return state_hash(&(layout), PG_GETARG_POINTER(0)); }

/*
 * The state a plain-mode transition function may update: its first
 * argument when the executor owns it (it lives in the aggregate context),
 * else a copy.  NULL when the argument is NULL.
 */
extern void *state_for_update(FunctionCallInfo fcinfo, Size size);

/*
 * A plain-mode transition's result for a row it skips: the state in
 * argument 0 as it is, NULL included.
 */
static inline Datum
state_unchanged(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(PG_GETARG_DATUM(0));
}

/* A zeroed state of size bytes for a plain-mode transition's first row. */
extern void *state_new(Size size);

/*
 * The seeded forms of aggregates (moments(x, seed), ...) continue a stored
 * state.  On a group's first row (argument 0 NULL) a copy of seed, when
 * not NULL, becomes argument 0, so that the plain transition called next
 * adds the row to it as if the row had followed the seed's own.
 */
extern void state_seed(FunctionCallInfo fcinfo, const void *seed, Size size);

/*
 * An "internal" state (moving-aggregate mode, volatility) of size bytes
 * in the aggregate context, zeroed; its first argument when not NULL.
 */
extern void *agg_internal_state(FunctionCallInfo fcinfo, Size size, const char *fname);

/*
 * The state an inverse transition works on: its first argument, which only
 * the executor can supply (never NULL in a window aggregate).
 */
extern void *agg_inverse_state(FunctionCallInfo fcinfo, const char *fname);

/*
 * Double-double numbers: hi + lo with |lo| <= ulp(hi)/2, about 106 bits.
 * Sums kept this way lose about 2^-104 of their magnitude per operation,
 * so adding and later removing the same terms ten million times leaves
 * them exact to far below what a double can show.
 */
typedef struct DD
{
	double		hi;
	double		lo;
} DD;

static inline DD
dd_two_sum(double a, double b)
{
	DD			r;
	double		bb;

	r.hi = a + b;
	bb = r.hi - a;
	r.lo = (a - (r.hi - bb)) + (b - bb);
	return r;
}

static inline DD
dd_quick_two_sum(double a, double b)
{
	DD			r;

	r.hi = a + b;
	r.lo = b - (r.hi - a);
	return r;
}

/* The exact product a*b as a double-double. */
static inline DD
dd_two_prod(double a, double b)
{
	DD			r;

	r.hi = a * b;
#ifdef FP_FAST_FMA
	r.lo = fma(a, b, -r.hi);
#else
	{
		/* Dekker's split: each half has at most 26 significant bits. */
		const double split = 134217729.0;	/* 2^27 + 1 */
		double		ta = split * a,
					tb = split * b;
		double		ah = ta - (ta - a),
					al = a - ah;
		double		bh = tb - (tb - b),
					bl = b - bh;

		r.lo = ((ah * bh - r.hi) + ah * bl + al * bh) + al * bl;
	}
#endif
	return r;
}

/* a + b, accurate even when they cancel. */
static inline DD
dd_add(DD a, DD b)
{
	DD			s = dd_two_sum(a.hi, b.hi);
	DD			t = dd_two_sum(a.lo, b.lo);

	s.lo += t.hi;
	s = dd_quick_two_sum(s.hi, s.lo);
	s.lo += t.lo;
	return dd_quick_two_sum(s.hi, s.lo);
}

static inline DD
dd_neg(DD a)
{
	a.hi = -a.hi;
	a.lo = -a.lo;
	return a;
}

static inline DD
dd_mul(DD a, DD b)
{
	DD			p = dd_two_prod(a.hi, b.hi);

	p.lo += a.hi * b.lo + a.lo * b.hi;
	return dd_quick_two_sum(p.hi, p.lo);
}

static inline DD
dd_from(double x)
{
	return (DD) {x, 0};
}

/* a / b: one long-division step refines the double quotient. */
static inline DD
dd_div(DD a, DD b)
{
	double		q = a.hi / b.hi;
	DD			r = dd_add(a, dd_neg(dd_mul(dd_from(q), b)));

	return dd_quick_two_sum(q, r.hi / b.hi);
}

/*
 * a / b for a double b (a count): dd_div without the double-double
 * product, the remainder a - q b exact up to the last rounding of a.lo.
 */
static inline DD
dd_div_d(DD a, double b)
{
	double		q = a.hi / b;
	DD			p = dd_two_prod(q, b);

	return dd_quick_two_sum(q, (((a.hi - p.hi) - p.lo) + a.lo) / b);
}

/*
 * PostgreSQL's float8 order: NaN above everything, NaNs equal.  Zeros of
 * either sign tie here as they do in SQL; callers that need a total order
 * for determinism break that tie with float_tiebreak().
 */
static inline int
float_cmp(double a, double b)
{
	if (isnan(a))
		return isnan(b) ? 0 : 1;
	if (isnan(b))
		return -1;
	return (a > b) - (a < b);
}

/* float_cmp, then -0 before +0: a total order on the values SQL can show. */
static inline int
float_tiebreak(double a, double b)
{
	int			c = float_cmp(a, b);

	if (c == 0 && a == 0 && b == 0)
		c = (signbit(b) != 0) - (signbit(a) != 0);
	return c;
}

#endif							/* STOCKEXT_AGG_STATE_H */
