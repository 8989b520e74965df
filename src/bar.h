/*
 * bar.h
 *		Validation of one OHLCV bar, shared by SQL callers and the ingester.
 */
#ifndef STOCKEXT_BAR_H
#define STOCKEXT_BAR_H

#include <stdbool.h>
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

/* Longest symbol accepted, in bytes. */
#define STOCKEXT_SYMBOL_MAXLEN 32

#endif							/* STOCKEXT_BAR_H */
