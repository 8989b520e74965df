/*
 * bar.h
 *		Validation of one OHLCV bar, shared by SQL callers and the ingester.
 */
#ifndef STOCKEXT_BAR_H
#define STOCKEXT_BAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Returns NULL when the bar is possible, else a short reason in the style of
 * an error message ("high is below low").  has_volume is false for
 * instruments without volume (forex).  The result is a static string.
 */
extern const char *bar_problem(double open, double high, double low,
							   double close, bool has_volume, int64_t volume);

/* Returns NULL when the symbol is acceptable, else a static reason. */
extern const char *symbol_problem(const char *symbol, size_t len);

/*
 * Upper-cases the ASCII letters of a NUL-terminated symbol in place:
 * providers treat symbols case-insensitively, so "aapl" is stored as "AAPL".
 */
extern void symbol_normalize(char *symbol);

/*
 * The grid the bars of a positive resolution start on: whole multiples of
 * the returned step, in microseconds, since 1970-01-01 00:00 UTC.  The step
 * is gcd(resolution, 15 minutes): bars start at a session open or a
 * midnight plus whole multiples of the resolution, and those are whole
 * quarter hours of UTC in every time zone since 1980, so every real series
 * lies on it (the README's "Bars" section says more).  Only the time part
 * of the resolution (usecs) matters: months and days are whole quarter
 * hours.
 */
extern int64_t bar_grid_step(int64_t usecs);

/*
 * NULL when a bar of the resolution may start at ts, else the reason,
 * written into buf (BAR_REASON_LEN bytes suffice), naming the resolution
 * and its grid.  ts counts microseconds since 2000-01-01 00:00 UTC, a
 * whole number of quarter hours after 1970-01-01 (PostgreSQL's
 * timestamptz); INT64_MIN and INT64_MAX are -infinity and infinity.
 */
extern const char *bar_grid_problem(int64_t ts, int32_t months, int32_t days,
									int64_t usecs, char *buf, size_t bufsize);

#define BAR_REASON_LEN 160

/* Longest symbol accepted, in bytes. */
#define STOCKEXT_SYMBOL_MAXLEN 32

#endif							/* STOCKEXT_BAR_H */
