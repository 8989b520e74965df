/*
 * bar.c
 *		Validation of OHLCV bars and symbols.
 *
 * Plain C with no backend dependencies, so the provider parsers' unit tests
 * link it as is.  The rules mirror the CHECK constraints of stockext.ticks
 * (the regression tests "ticks" and "grid" cross-check both): the ingester
 * uses them to route a bad bar to the rejects table without a failed insert.
 */
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
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

void
symbol_normalize(char *symbol)
{
	for (char *p = symbol; *p; p++)
	{
		if (*p >= 'a' && *p <= 'z')
			*p = (char) (*p - 'a' + 'A');
	}
}

#define USECS_PER_SECOND INT64_C(1000000)
#define QUARTER_HOUR (900 * USECS_PER_SECOND)

int64_t
bar_grid_step(int64_t usecs)
{
	int64_t		a = usecs % QUARTER_HOUR;
	int64_t		b = QUARTER_HOUR;

	if (a < 0)
		a += QUARTER_HOUR;
	while (a != 0)
	{
		int64_t		r = b % a;

		b = a;
		a = r;
	}
	return b;
}

/* Appends " N unit(s)" for a non-zero n. */
static size_t
append_unit(char *buf, size_t size, size_t pos, int64_t n, const char *unit)
{
	int			len;

	if (n == 0 || pos >= size)
		return pos;
	len = snprintf(buf + pos, size - pos, " %" PRId64 " %s%s", n, unit, n == 1 || n == -1 ? "" : "s");
	return len < 0 ? size : pos + (size_t) len;
}

/* "1 minute", "90 minutes", "1 day", "1 month 2 days", "1.5 seconds" */
static void
describe_span(char *buf, size_t size, int32_t months, int32_t days, int64_t usecs)
{
	size_t		pos = 0;

	buf[0] = '\0';
	pos = append_unit(buf, size, pos, months, "month");
	pos = append_unit(buf, size, pos, days, "day");
	if (usecs % (3600 * USECS_PER_SECOND) == 0)
		pos = append_unit(buf, size, pos, usecs / (3600 * USECS_PER_SECOND), "hour");
	else if (usecs % (60 * USECS_PER_SECOND) == 0)
		pos = append_unit(buf, size, pos, usecs / (60 * USECS_PER_SECOND), "minute");
	else if (usecs % USECS_PER_SECOND == 0)
		pos = append_unit(buf, size, pos, usecs / USECS_PER_SECOND, "second");
	else if (pos < size)
	{
		int64_t		frac = usecs % USECS_PER_SECOND;
		int			len = snprintf(buf + pos, size - pos, " %s%" PRId64 ".%06" PRId64,
								   usecs < 0 && usecs > -USECS_PER_SECOND ? "-" : "",
								   usecs / USECS_PER_SECOND, frac < 0 ? -frac : frac);

		/* Trailing zeros of the fraction say nothing. */
		if (len > 0 && pos + (size_t) len < size)
		{
			pos += (size_t) len;
			while (buf[pos - 1] == '0')
				buf[--pos] = '\0';
			snprintf(buf + pos, size - pos, " seconds");
		}
	}
	/* Drop the leading space. */
	if (buf[0] == ' ')
		memmove(buf, buf + 1, strlen(buf));
}

const char *
bar_grid_problem(int64_t ts, int32_t months, int32_t days, int64_t usecs,
				 char *buf, size_t bufsize)
{
	int64_t		step = bar_grid_step(usecs);
	char		resolution[96];
	char		grid[32];

	if (ts == INT64_MIN || ts == INT64_MAX)
		return "ts is not finite";
	/* 2000-01-01 is on every grid: a multiple of 15 minutes after 1970. */
	if (ts % step == 0)
		return NULL;
	describe_span(resolution, sizeof(resolution), months, days, usecs);
	describe_span(grid, sizeof(grid), 0, 0, step);
	snprintf(buf, bufsize, "ts is not on the grid of resolution %s (whole multiples of %s since 1970-01-01 00:00 UTC)",
			 resolution, grid);
	return buf;
}
