/*
 * poll.h
 *		A feed being polled, its transactions and the record of its outcome.
 */
#ifndef STOCKEXT_POLL_H
#define STOCKEXT_POLL_H

#include "datatype/timestamp.h"
#include "utils/palloc.h"

/* A feed due for polling, copied out of SPI. */
typedef struct Feed
{
	int			id;
	char	   *provider;
	char	  **symbols;
	int			nsymbols;
	Interval	resolution;
	int64		seed;			/* simulated feeds */
	bool		keep_raw;		/* keep raw replies in stockext.raw_replies */
} Feed;

/*
 * Runs fn(arg) in a transaction of its own.  Returns NULL on success; on
 * error rolls back and returns the message, copied into ctx.
 */
extern char *in_transaction(void (*fn) (void *), void *arg, MemoryContext ctx);

/* Records a poll's outcome (stockext.record_poll); needs a transaction. */
extern void record_poll(int feed_id, int64 stored, const char *error, int http_status);

#endif							/* STOCKEXT_POLL_H */
