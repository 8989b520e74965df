/*
 * fetch.h
 *		Polling the HTTP providers: requests, replies, bars.
 */
#ifndef STOCKEXT_FETCH_H
#define STOCKEXT_FETCH_H

#include "nodes/pg_list.h"
#include "utils/palloc.h"

/*
 * Polls the given feeds (of HTTP providers) concurrently within the request
 * limits: a feed the limits do not allow now is left for a later round.
 * Each reply is stored in its own transaction, and each feed's outcome is
 * recorded; nothing here raises an error to the caller but an interrupt.
 */
extern void fetch_feeds(List *feeds, MemoryContext ctx);

#endif							/* STOCKEXT_FETCH_H */
