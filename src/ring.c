/*
 * ring.c
 *		Growth of the ring buffer of ring.h.
 */
#include "postgres.h"

#include "ring.h"

#define RING_INITIAL_CAP 64

void
ring_init(Ring *r, MemoryContext cxt)
{
	memset(r, 0, sizeof(*r));
	r->cxt = cxt;
}

/* Doubles the ring (the capacity stays a power of two), keeping the order. */
void
ring_grow(Ring *r)
{
	int			cap = r->cap ? r->cap * 2 : RING_INITIAL_CAP;
	RingEntry  *entries = MemoryContextAllocHuge(r->cxt, sizeof(RingEntry) * cap);

	for (int i = 0; i < r->len; i++)
		entries[i] = *ring_at(r, i);
	if (r->entries)
		pfree(r->entries);
	r->entries = entries;
	r->head = 0;
	r->cap = cap;
}

void
mono_deque_init(MonoDeque *d, int dir, MemoryContext cxt)
{
	ring_init(&d->ring, cxt);
	d->dir = dir;
	d->pushed = 0;
}
