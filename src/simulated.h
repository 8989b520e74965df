/*
 * simulated.h
 *		The simulated market: deterministic OHLCV bars for any symbol.
 */
#ifndef STOCKEXT_SIMULATED_H
#define STOCKEXT_SIMULATED_H

#include "datatype/timestamp.h"

#include "ingest.h"
#include "provider.h"

/* The simulated feed as a provider: a local one (store, no HTTP). */
extern const Provider provider_simulated;

/*
 * The bar of "symbol" (upper case, as stored) starting at ts (a multiple of res_usec since the Unix
 * epoch) as it stands at as_of: complete when as_of >= ts + res_usec, else
 * the part formed so far.  The same arguments always give the same bar.
 */
extern void simulate_bar(const char *symbol, int64 seed, TimestampTz ts,
						 int64 res_usec, TimestampTz as_of, IngestBar *out);

/* The start of the bar containing t. */
extern TimestampTz simulate_align(TimestampTz t, int64 res_usec);

/* The width of a simulated bar in microseconds; errors when unsupported. */
extern int64 simulate_check_resolution(const Interval *res);

/*
 * Stores the bars of "symbol" starting in [start, stop) as they stand at
 * as_of (later ones are left out) through ingest_bars(), in chunks.
 * Returns the rows inserted or changed.
 */
extern int64 simulate_ingest(const char *symbol, int64 seed, TimestampTz start,
							 TimestampTz stop, const Interval *res,
							 TimestampTz as_of, int feed_id);

#endif							/* STOCKEXT_SIMULATED_H */
