/*
 * bar.c
 *		Validation of OHLCV bars and symbols.
 *
 * Plain C with no backend dependencies, so the provider parsers' unit tests
 * link it as is.  The rules mirror the CHECK constraints of stockext.ticks
 * (the regression test "ticks" cross-checks both): the ingester uses them to
 * route a bad bar to the rejects table without a failed insert.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "bar.h"

const char *
bar_problem(double open, double high, double low, double close,
			bool has_volume, int64_t volume)
{
	/* NaN fails every comparison, so "!(x > 0)" also rejects NaN. */
	if (!(open > 0))
		return "open is not a positive number";
	if (!(high > 0))
		return "high is not a positive number";
	if (!(low > 0))
		return "low is not a positive number";
	if (!(close > 0))
		return "close is not a positive number";
	if (isinf(open) || isinf(high) || isinf(low) || isinf(close))
		return "price is infinite";
	if (high < low)
		return "high is below low";
	if (high < open)
		return "high is below open";
	if (high < close)
		return "high is below close";
	if (low > open)
		return "low is above open";
	if (low > close)
		return "low is above close";
	if (has_volume && volume < 0)
		return "volume is negative";
	return NULL;
}

const char *
symbol_problem(const char *symbol, size_t len)
{
	static const char allowed[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-^=_/:";

	if (len == 0)
		return "symbol is empty";
	if (len > STOCKEXT_SYMBOL_MAXLEN)
		return "symbol is longer than 32 bytes";
	for (size_t i = 0; i < len; i++)
	{
		if (symbol[i] == '\0' || strchr(allowed, symbol[i]) == NULL)
			return "symbol contains a character other than letters, digits and . - ^ = _ / :";
	}
	return NULL;
}
