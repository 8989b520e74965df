/*
 * rate_limit.h
 *		Providers' request allowances, shared by all workers and backends.
 */
#ifndef STOCKEXT_RATE_LIMIT_H
#define STOCKEXT_RATE_LIMIT_H

/* One allowance per ProviderKind. */
#define RATE_PROVIDERS 3

/*
 * Takes cost requests from a provider's allowance for the current UTC
 * minute and day, shared by all workers.  False when that would exceed a
 * limit; *daily then tells whether the day's allowance is the one spent.
 */
extern bool rate_limit_take(int provider, int cost, int per_minute, int per_day, bool *daily);

/* The requests counted for a provider in the current UTC minute and day. */
extern void rate_limit_counts(int provider, int *minute_count, int *day_count);

/* From the shared memory hooks of worker.c, when preloaded. */
extern void rate_limit_shmem_request(void);
extern void rate_limit_shmem_startup(void);

#endif							/* STOCKEXT_RATE_LIMIT_H */
