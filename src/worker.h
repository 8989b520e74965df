/*
 * worker.h
 *		The ingestion launcher and per-database workers.
 */
#ifndef STOCKEXT_WORKER_H
#define STOCKEXT_WORKER_H

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

/* From _PG_init: shared memory and the launcher, when preloaded. */
extern void stockext_worker_init(void);

#endif							/* STOCKEXT_WORKER_H */
