/*
 * rate_limit.h
 *		Providers' request allowances, shared by all workers and backends.
 */
#ifndef STOCKEXT_RATE_LIMIT_H
#define STOCKEXT_RATE_LIMIT_H

/*
 * Takes cost requests from the allowances of a provider (its position in
 * provider_list), shared by all workers:
 * false when the last 60 seconds would then hold more than per_minute
 * requests or the last 24 hours more than per_day; *daily then tells
 * whether the day's allowance is the one spent.
 */
extern bool rate_limit_take(int provider, int cost, int per_minute, int per_day, bool *daily);

/* A provider's requests in the last 60 seconds and the last 24 hours. */
extern void rate_limit_counts(int provider, int *minute_count, int *day_count);

/*
 * Requests a provider was spared because a feed's market was closed: counts
 * them, and returns the count since the server started.
 */
extern void rate_limit_skip(int provider, int requests);
extern int64 rate_limit_skipped(int provider);

/* From the shared memory hooks of worker.c, when preloaded. */
extern void rate_limit_shmem_request(void);
extern void rate_limit_shmem_startup(void);

#endif							/* STOCKEXT_RATE_LIMIT_H */
