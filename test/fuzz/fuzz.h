/*
 * fuzz.h
 *		Shared by the libFuzzer harnesses in test/fuzz (built and run by
 *		test/suites/22-fuzz): how a harness reports a broken invariant, how
 *		it takes parameters from its input, and the checks every parse
 *		result must pass.
 *
 * A harness aborts on an incoherent result: libFuzzer reports the abort as
 * a crash and writes the input to a file, like a sanitizer report.
 */
#ifndef STOCKEXT_FUZZ_H
#define STOCKEXT_FUZZ_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "provider_common.h"

/* Checks cond; otherwise says which check and why on stderr, and aborts. */
#define FUZZ_REQUIRE(cond, ...) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "fuzz: %s:%d: check failed: %s\nfuzz: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__); \
			fputc('\n', stderr); \
			abort(); \
		} \
	} while (0)

/*
 * Parameters are taken from the end of the input, one byte at a time (0
 * once it is used up), so the front stays whatever text the seed corpus
 * started from, as libFuzzer's FuzzedDataProvider does.
 */
static inline uint64_t
fuzz_take(const uint8_t *data, size_t *size, int bytes)
{
	uint64_t	v = 0;

	for (int i = 0; i < bytes; i++)
	{
		v <<= 8;
		if (*size > 0)
			v |= data[--*size];
	}
	return v;
}

/* A NUL-terminated malloc'd copy of the input (for APIs that take strings). */
static inline char *
fuzz_cstring(const uint8_t *data, size_t size)
{
	char	   *s = malloc(size + 1);

	FUZZ_REQUIRE(s != NULL, "out of memory");
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Whether a NUL-terminated char array holds a NUL. */
#define FUZZ_TERMINATED(arr) (memchr((arr), '\0', sizeof(arr)) != NULL)

/*
 * Whether the fields are a real UTC calendar time, by libc's own calendar:
 * timegm() normalises an impossible date (February 30) to another one,
 * which gmtime_r() then reads back differently.  *epoch gets timegm's
 * answer.  time_t is 64 bits on every Debian target this runs on.
 */
static inline int
fuzz_real_time(int year, int mon, int mday, int hour, int min, int sec, int64_t *epoch)
{
	struct tm	tm = {0},
				back;
	time_t		t;

	if (mon < 1 || mon > 12 || mday < 1 || mday > 31 || hour < 0 || hour > 23 ||
		min < 0 || min > 59 || sec < 0 || sec > 59)
		return 0;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = mday;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if (gmtime_r(&t, &back) == NULL)
		return 0;
	*epoch = (int64_t) t;
	return back.tm_year == year - 1900 && back.tm_mon == mon - 1 && back.tm_mday == mday &&
		back.tm_hour == hour && back.tm_min == min && back.tm_sec == sec;
}

/* The same bar, field by field (the problem by its text). */
static inline int
fuzz_same_bar(const ParsedBar *a, const ParsedBar *b)
{
	return strcmp(a->symbol, b->symbol) == 0 && a->has_epoch == b->has_epoch &&
		a->epoch == b->epoch && a->year == b->year && a->mon == b->mon &&
		a->mday == b->mday && a->hour == b->hour && a->min == b->min && a->sec == b->sec &&
		strcmp(a->zone, b->zone) == 0 &&
		memcmp(&a->open, &b->open, sizeof(double)) == 0 &&
		memcmp(&a->high, &b->high, sizeof(double)) == 0 &&
		memcmp(&a->low, &b->low, sizeof(double)) == 0 &&
		memcmp(&a->close, &b->close, sizeof(double)) == 0 &&
		a->has_volume == b->has_volume && a->volume == b->volume &&
		(a->problem == NULL) == (b->problem == NULL) &&
		(a->problem == NULL || strcmp(a->problem, b->problem) == 0);
}

/*
 * Whether two parses of the same body told the same story; with any_code,
 * whatever provider_code (Yahoo's errors carry the HTTP status there).
 */
static inline int
fuzz_same_result(const ParseResult *a, const ParseResult *b, bool any_code)
{
	if (a->status != b->status || (!any_code && a->provider_code != b->provider_code) ||
		strcmp(a->message, b->message) != 0 || a->nbars != b->nbars ||
		a->nsymbol_errors != b->nsymbol_errors || a->nactions != b->nactions ||
		a->nskipped_null != b->nskipped_null || a->nskipped_partial != b->nskipped_partial)
		return 0;
	for (size_t i = 0; i < a->nbars; i++)
	{
		if (!fuzz_same_bar(&a->bars[i], &b->bars[i]))
			return 0;
	}
	for (size_t i = 0; i < a->nsymbol_errors; i++)
	{
		const SymbolError *x = &a->symbol_errors[i];
		const SymbolError *y = &b->symbol_errors[i];

		if (strcmp(x->symbol, y->symbol) != 0 || x->code != y->code ||
			strcmp(x->message, y->message) != 0)
			return 0;
	}
	return 1;
}

/*
 * What every result must be, whatever the body (what = "twelvedata at
 * HTTP 404" for the report):
 *  - a known status; a failure has a message and no bars (no half batch);
 *  - counts within capacities, every string NUL-terminated;
 *  - a bar's problem NULL or a non-empty reason;
 *  - a bar without a problem is one stockext.ticks accepts: bar_problem and
 *    symbol_problem pass, its wall time is a real calendar time (years
 *    1000 to 10000: 9999-12-31 plus at most a day of exchange offset), its
 *    zone a name; an epoch bar is in UTC and its wall time is the epoch's,
 *    by libc's gmtime;
 *  - a failure holds no actions; an action is one stockext.corporate_actions
 *    accepts: a valid symbol, a split's ratio positive and finite, a
 *    dividend's amount finite and not negative, a currency of three capitals
 *    or none.
 */
static inline void
fuzz_check_result(const ParseResult *r, const char *what)
{
	FUZZ_REQUIRE(r->status >= PARSE_OK && r->status <= PARSE_MALFORMED, "%s: status %d", what, (int) r->status);
	FUZZ_REQUIRE(FUZZ_TERMINATED(r->message), "%s: message not terminated", what);
	FUZZ_REQUIRE(r->status == PARSE_OK || (r->nbars == 0 && r->message[0] != '\0'),
				 "%s: failure (status %d) with %zu bars or no message", what, (int) r->status, r->nbars);
	FUZZ_REQUIRE(r->nbars <= r->bars_cap && r->nbars <= PROVIDER_MAX_BARS, "%s: %zu bars, room for %zu",
				 what, r->nbars, r->bars_cap);
	FUZZ_REQUIRE(r->nsymbol_errors <= r->symbol_errors_cap, "%s: symbol errors past capacity", what);
	FUZZ_REQUIRE(r->nactions <= r->actions_cap && (r->status == PARSE_OK || r->nactions == 0),
				 "%s: %zu actions, room for %zu, status %d", what, r->nactions, r->actions_cap, (int) r->status);
	for (size_t i = 0; i < r->nactions; i++)
	{
		const ParsedAction *a = &r->actions[i];

		FUZZ_REQUIRE(FUZZ_TERMINATED(a->symbol) && FUZZ_TERMINATED(a->currency) &&
					 symbol_problem(a->symbol, strlen(a->symbol)) == NULL,
					 "%s: action %zu: bad symbol or currency", what, i);
		FUZZ_REQUIRE(a->is_split
					 ? (isfinite(a->split_from) && a->split_from > 0 &&
						isfinite(a->split_to) && a->split_to > 0)
					 : (isfinite(a->cash_amount) && a->cash_amount >= 0 &&
						(a->currency[0] == '\0' ||
						 (strlen(a->currency) == 3 && strspn(a->currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 3))),
					 "%s: action %zu: a ratio or amount corporate_actions refuses", what, i);
	}
	for (size_t i = 0; i < r->nsymbol_errors; i++)
		FUZZ_REQUIRE(FUZZ_TERMINATED(r->symbol_errors[i].symbol) &&
					 FUZZ_TERMINATED(r->symbol_errors[i].message),
					 "%s: symbol error %zu not terminated", what, i);
	for (size_t i = 0; i < r->nbars; i++)
	{
		const ParsedBar *b = &r->bars[i];
		int64_t		epoch = 0;
		const char *why;

		FUZZ_REQUIRE(FUZZ_TERMINATED(b->symbol) && FUZZ_TERMINATED(b->zone),
					 "%s: bar %zu: symbol or zone not terminated", what, i);
		FUZZ_REQUIRE(b->problem == NULL || b->problem[0] != '\0', "%s: bar %zu: empty problem", what, i);
		if (b->problem != NULL)
			continue;
		why = bar_problem(b->open, b->high, b->low, b->close, b->has_volume, b->volume);
		FUZZ_REQUIRE(why == NULL, "%s: bar %zu has no problem but bar_problem says \"%s\"", what, i, why);
		why = symbol_problem(b->symbol, strlen(b->symbol));
		FUZZ_REQUIRE(why == NULL, "%s: bar %zu has no problem but symbol \"%s\": %s", what, i, b->symbol, why);
		FUZZ_REQUIRE(b->zone[0] != '\0', "%s: bar %zu: no problem and no zone", what, i);
		FUZZ_REQUIRE(b->year >= 1000 && b->year <= 10000 &&
					 fuzz_real_time(b->year, b->mon, b->mday, b->hour, b->min, b->sec, &epoch),
					 "%s: bar %zu: no problem and wall time %d-%d-%d %d:%d:%d", what, i,
					 b->year, b->mon, b->mday, b->hour, b->min, b->sec);
		if (b->has_epoch)
			FUZZ_REQUIRE(strcmp(b->zone, "UTC") == 0 && epoch == b->epoch,
						 "%s: bar %zu: epoch %lld but UTC wall time %04d-%02d-%02d %02d:%02d:%02d (%lld) in \"%s\"",
						 what, i, (long long) b->epoch, b->year, b->mon, b->mday,
						 b->hour, b->min, b->sec, (long long) epoch, b->zone);
	}
}

/* A provider parser, as in provider.h. */
typedef void (*FuzzParseFn) (const char *body, size_t len, int http_status,
							 const char *symbol, ParseResult *out);

/*
 * Feeds one body to a parser under the HTTP statuses that steer it, with
 * and without a symbol hint, and checks each result:
 *  - 200 and 0 (status unknown) read the body alike (but for the code
 *    of a Yahoo error, which is the HTTP status), and a second parse
 *    gives the same result (no uninitialised or stale state);
 *  - under 404, 429 and 503 a reply never lands bars: it is a failure;
 *  - without a symbol hint (Yahoo's 404s name none) the result is coherent.
 * body is libFuzzer's exact-length buffer, not NUL-terminated, so a parser
 * that reads past len trips AddressSanitizer.
 */
static inline void
fuzz_parser(FuzzParseFn parse, const char *name, const char *body, size_t len)
{
	static const struct
	{
		int			http;
		const char *symbol;
		bool		failure;	/* the result must be a failure */
	}			runs[] = {{200, NULL, false}, {404, NULL, true}, {429, "AAPL", true},
	{503, NULL, true}, {503, "AAPL", true}};
	ParseResult ok,
				again;
	char		what[64];

	snprintf(what, sizeof(what), "%s at HTTP 200", name);
	parse(body, len, 200, "AAPL", &ok);
	fuzz_check_result(&ok, what);
	parse(body, len, 0, "AAPL", &again);
	fuzz_check_result(&again, "at HTTP 0");
	FUZZ_REQUIRE(fuzz_same_result(&ok, &again, true), "%s: HTTP 0 read the body otherwise than HTTP 200", name);
	parse_result_free(&again);
	parse(body, len, 200, "AAPL", &again);
	FUZZ_REQUIRE(fuzz_same_result(&ok, &again, false), "%s: two parses of one body differ", name);
	parse_result_free(&again);
	parse_result_free(&ok);

	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
	{
		ParseResult r;

		snprintf(what, sizeof(what), "%s at HTTP %d", name, runs[i].http);
		parse(body, len, runs[i].http, runs[i].symbol, &r);
		fuzz_check_result(&r, what);
		FUZZ_REQUIRE(!runs[i].failure || r.status != PARSE_OK,
					 "%s: a reply under an error status landed as OK with %zu bars", what, r.nbars);
		parse_result_free(&r);
	}
}

#endif							/* STOCKEXT_FUZZ_H */
