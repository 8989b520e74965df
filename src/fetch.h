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

/*
 * The worker's schedule of corporate actions: for each provider that
 * offers them (and whose limits can hold a refresh), refreshes the feed
 * symbol due longest (each is due
 * stockext.actions_refresh_interval after its last refresh), when the
 * provider's allowance holds the requests after the round's polls; one
 * request after another, stored and recorded in a transaction per symbol.
 * A failure is a WARNING and a row of stockext.action_refreshes, retried
 * within the hour.
 */
extern void fetch_due_actions(MemoryContext ctx);

#endif							/* STOCKEXT_FETCH_H */
