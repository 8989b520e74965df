/*
 * agg_moments.h
 *		Count, mean and variance that can add and remove values without
 *		drift; shared by sma, mstddev_* (agg_moments.c) and volatility.
 */
#ifndef STOCKEXT_AGG_MOMENTS_H
#define STOCKEXT_AGG_MOMENTS_H

#include "agg_state.h"

/*
 * Finite values are summed as offsets from a shift (the first finite value
 * seen), s1 = sum(x - shift) and s2 = sum((x - shift)^2) in double-double:
 * near the data the offsets are small, so the variance s2 - s1^2/n does
 * not cancel the way E[x^2] - E[x]^2 does, and a removal subtracts exactly
 * the terms its addition added.  NaN and infinities are counted apart, so
 * they leave the frame as cleanly as they entered it.
 *
 * Plain-mode SQL type stockext.moments_state; the moving-aggregate state
 * wraps it (MomentsState first, so final functions take either).
 */
typedef struct MomentsState
{
	int64		n;				/* finite values */
	int64		nnan;
	int64		npinf;
	int64		nninf;
	double		shift;
	DD			s1;
	DD			s2;
} MomentsState;

#define MOMENTS_LAYOUT_SLOTS "nnnnddddd"

extern void moments_add(MomentsState *s, double x);
extern void moments_merge(MomentsState *a, const MomentsState *b);
extern void moments_remove(MomentsState *s, double x);

/*
 * After a removal: true when the shift has drifted so far from the data
 * that sums would start to cancel, and at least as many values were
 * removed since the state began as it now holds (so recomputing the frame
 * from scratch costs O(1) per row amortized).  The inverse transition then
 * returns NULL and the executor recomputes with a fresh shift.
 */
extern bool moments_should_restart(const MomentsState *s, int64 removed);

#endif							/* STOCKEXT_AGG_MOMENTS_H */
