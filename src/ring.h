/*
 * ring.h
 *		A growable ring buffer of (value, key) entries, oldest first, and the
 *		monotonic deque built on it: the rolling high or low of a sliding
 *		window in O(1) amortized per value (mmax/mmin in agg_extrema.c,
 *		stoch and willr in win_oscillators.c).  twap's moving state keeps its
 *		frame's (price, ts) points in a plain ring.
 */
#ifndef STOCKEXT_RING_H
#define STOCKEXT_RING_H

#include "agg_state.h"

typedef struct RingEntry
{
	double		value;
	int64		key;			/* a sequence number or a timestamp */
} RingEntry;

typedef struct Ring
{
	int			head;			/* index of the oldest entry */
	int			len;
	int			cap;			/* a power of two, 0 before the first push */
	RingEntry  *entries;
	MemoryContext cxt;			/* where the entries live */
} Ring;

/* An empty ring whose entries will be allocated in cxt. */
extern void ring_init(Ring *r, MemoryContext cxt);
extern void ring_grow(Ring *r);

/* The i-th oldest entry, 0 <= i < len. */
static inline RingEntry *
ring_at(Ring *r, int i)
{
	return &r->entries[(r->head + i) & (r->cap - 1)];
}

static inline void
ring_push_back(Ring *r, double value, int64 key)
{
	RingEntry  *e;

	if (r->len == r->cap)
		ring_grow(r);
	e = ring_at(r, r->len++);
	e->value = value;
	e->key = key;
}

static inline void
ring_pop_front(Ring *r)
{
	r->head = (r->head + 1) & (r->cap - 1);
	r->len--;
}

/*
 * A monotonic deque: the values of the window that no later value has
 * beaten yet, oldest first, so the front is the window's extreme.  Keys
 * are the values' sequence numbers.  The order is PostgreSQL's float8 order
 * (NaN above every number), so the front is what max() (dir 1) or min()
 * (dir -1) of the window gives.
 */
typedef struct MonoDeque
{
	Ring		ring;
	int			dir;
	int64		pushed;			/* values pushed: the next one's key */
} MonoDeque;

extern void mono_deque_init(MonoDeque *d, int dir, MemoryContext cxt);

/* Adds x at the back, first dropping the values it beats. */
static inline void
mono_deque_push(MonoDeque *d, double x)
{
	while (d->ring.len > 0 &&
		   float_cmp(ring_at(&d->ring, d->ring.len - 1)->value, x) * d->dir <= 0)
		d->ring.len--;
	ring_push_back(&d->ring, x, d->pushed++);
}

/* Drops the values pushed before the one with key first: they left the window. */
static inline void
mono_deque_expire(MonoDeque *d, int64 first)
{
	while (d->ring.len > 0 && ring_at(&d->ring, 0)->key < first)
		ring_pop_front(&d->ring);
}

/* The extreme of the window; the window must not be empty. */
static inline double
mono_deque_front(MonoDeque *d)
{
	return ring_at(&d->ring, 0)->value;
}

#endif							/* STOCKEXT_RING_H */
