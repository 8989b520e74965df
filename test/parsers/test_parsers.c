/*
 * test_parsers.c
 *		C-level tests of the provider parsers and URL builders: body in,
 *		bars or a typed error out.  No server, no HTTP.
 *
 * Usage: test_parsers FIXTURES_DIR GENERATED_DIR
 * GENERATED_DIR holds big_{twelvedata,alphavantage,yahoo}.json (50,000
 * bars each, from test/fixtures/generate.py).  Prints "ok - ..." or
 * "not ok - ..." per check and exits 1 if any failed.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "provider.h"
#include "tap.h"

typedef void (*ParseFn) (const char *, size_t, int, const char *, ParseResult *);

static const char *fixtures;
static const char *generated;

static char *
slurp(const char *dir, const char *name, size_t *len)
{
	char		path[1024];
	FILE	   *f;
	char	   *buf;
	long		n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (f == NULL)
	{
		fprintf(stderr, "cannot open %s\n", path);
		exit(2);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n + 1);
	if (buf == NULL || fread(buf, 1, n, f) != (size_t) n)
		exit(2);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t) n;
	return buf;
}

/* Parses a fixture file; the caller frees r. */
static void
parse_file(ParseFn fn, const char *name, int http, const char *symbol, ParseResult *r)
{
	size_t		len;
	char	   *body = slurp(fixtures, name, &len);

	fn(body, len, http, symbol, r);
	free(body);
}

/* parse_twelvedata for a request that left timezone at "Exchange". */
static void
parse_twelvedata_exchange(const char *body, size_t len, int http, const char *symbol, ParseResult *r)
{
	parse_twelvedata_zone(body, len, http, symbol, NULL, r);
}

static void
parse_text(ParseFn fn, const char *body, int http, ParseResult *r)
{
	fn(body, strlen(body), http, "AAPL", r);
}

static const char *
status_name(ParseStatus s)
{
	static const char *const names[] = {"OK", "RATE_LIMITED", "PROVIDER_ERROR", "SERVER_ERROR", "MALFORMED"};

	return names[s];
}

/* One check of status and bar count. */
static void
expect(const char *what, ParseResult *r, ParseStatus status, size_t nbars)
{
	ok(r->status == status && r->nbars == nbars, "%s: %s with %zu bars (got %s with %zu bars: %s)",
	   what, status_name(status), nbars, status_name(r->status), r->nbars, r->message);
}

static int
wall_is(const ParsedBar *b, int y, int mo, int d, int h, int mi, int s, const char *zone)
{
	return !b->has_epoch && b->year == y && b->mon == mo && b->mday == d &&
		b->hour == h && b->min == mi && b->sec == s && strcmp(b->zone, zone) == 0;
}

static int
no_problems(const ParseResult *r)
{
	for (size_t i = 0; i < r->nbars; i++)
	{
		if (r->bars[i].problem != NULL)
			return 0;
	}
	return 1;
}

static const char *
problem_of(const ParseResult *r, size_t i)
{
	return i < r->nbars && r->bars[i].problem ? r->bars[i].problem : "(none)";
}

static const ParsedBar *
find_wall(const ParseResult *r, int h, int mi)
{
	for (size_t i = 0; i < r->nbars; i++)
	{
		if (r->bars[i].hour == h && r->bars[i].min == mi)
			return &r->bars[i];
	}
	return NULL;
}

static void
test_twelvedata(void)
{
	ParseResult r;
	const ParsedBar *b;

	parse_file(parse_twelvedata, "twelvedata/AAPL_1min.json", 200, NULL, &r);
	expect("twelvedata intraday", &r, PARSE_OK, 3);
	b = &r.bars[2];
	ok(b->has_epoch && b->epoch == 1749562200 && strcmp(b->symbol, "AAPL") == 0 &&
	   b->open == 201.5 && b->high == 202.0 && b->low == 201.4 && b->close == 201.9 &&
	   b->has_volume && b->volume == 2893371 && b->problem == NULL,
	   "twelvedata intraday: strings read as numbers, UTC wall time 13:30 is epoch 1749562200");
	ok(r.bars[0].epoch == 1749562320 && r.bars[0].close == 202.3 && r.bars[0].open == 202.10001,
	   "twelvedata intraday: newest first, exact five-decimal prices");
	parse_result_free(&r);

	parse_file(parse_twelvedata, "twelvedata/AAPL_1day.json", 200, NULL, &r);
	expect("twelvedata daily", &r, PARSE_OK, 2);
	ok(r.nbars == 2 && wall_is(&r.bars[0], 2025, 6, 10, 0, 0, 0, "America/New_York") &&
	   r.bars[0].volume == 54672608 && wall_is(&r.bars[1], 2025, 6, 9, 0, 0, 0, "America/New_York"),
	   "twelvedata daily: a date is midnight in exchange_timezone even when UTC was asked");
	parse_result_free(&r);

	parse_file(parse_twelvedata, "twelvedata/batch_1min.json", 200, NULL, &r);
	expect("twelvedata batch", &r, PARSE_OK, 3);
	ok(r.nsymbol_errors == 1 && strcmp(r.symbol_errors[0].symbol, "NOPE") == 0 &&
	   r.symbol_errors[0].code == 404 && strstr(r.symbol_errors[0].message, "not found") != NULL,
	   "twelvedata batch: the failed symbol is a symbol error, \"No data\" is no error");
	ok(r.nbars == 3 && strcmp(r.bars[0].symbol, "AAPL") == 0 && strcmp(r.bars[2].symbol, "MSFT") == 0 &&
	   r.bars[2].epoch == 1749562200 && r.bars[2].close == 470.5 && no_problems(&r),
	   "twelvedata batch: bars of each symbol carry that symbol");
	parse_result_free(&r);

	parse_file(parse_twelvedata, "twelvedata/error_401.json", 200, NULL, &r);
	expect("twelvedata code 401 under HTTP 200", &r, PARSE_PROVIDER_ERROR, 0);
	ok(r.provider_code == 401 && strstr(r.message, "apikey") != NULL, "twelvedata 401: code and message kept");
	parse_result_free(&r);
	parse_file(parse_twelvedata, "twelvedata/error_403.json", 403, NULL, &r);
	expect("twelvedata code 403 (plan)", &r, PARSE_PROVIDER_ERROR, 0);
	parse_result_free(&r);
	parse_file(parse_twelvedata, "twelvedata/error_429.json", 200, NULL, &r);
	expect("twelvedata code 429 under HTTP 200", &r, PARSE_RATE_LIMITED, 0);
	ok(r.provider_code == 429 && strstr(r.message, "current minute") != NULL, "twelvedata 429: message kept");
	parse_result_free(&r);
	parse_file(parse_twelvedata, "twelvedata/error_429.json", 429, NULL, &r);
	expect("twelvedata code 429 under HTTP 429", &r, PARSE_RATE_LIMITED, 0);
	parse_result_free(&r);
	parse_file(parse_twelvedata, "twelvedata/error_500.json", 200, NULL, &r);
	expect("twelvedata code 500 under HTTP 200", &r, PARSE_SERVER_ERROR, 0);
	parse_result_free(&r);
	parse_file(parse_twelvedata, "twelvedata/AAPL_1min.json", 500, NULL, &r);
	expect("twelvedata series under HTTP 500 is not trusted", &r, PARSE_SERVER_ERROR, 0);
	parse_result_free(&r);

	parse_file(parse_twelvedata, "twelvedata/empty_nodata.json", 200, NULL, &r);
	expect("twelvedata \"No data is available\" (code 400) is an empty series", &r, PARSE_OK, 0);
	ok(strncmp(r.message, "No data is available", 20) == 0 && r.provider_code == 400,
	   "twelvedata empty series: the note is kept");
	parse_result_free(&r);

	parse_file(parse_twelvedata, "twelvedata/utc_dst_1min.json", 200, NULL, &r);
	expect("twelvedata around the 2025-03-09 DST change", &r, PARSE_OK, 2);
	ok(r.nbars == 2 && r.bars[0].epoch == 1741613400 && r.bars[1].epoch == 1741381140,
	   "twelvedata DST: Monday 09:30 EDT and Friday 15:59 EST are exact epochs");
	parse_result_free(&r);

	parse_file(parse_twelvedata, "twelvedata/utc_dst_nov_1min.json", 200, NULL, &r);
	expect("twelvedata around the 2025-11-02 DST change", &r, PARSE_OK, 2);
	ok(r.nbars == 2 && r.bars[0].epoch == 1762180200 && r.bars[1].epoch == 1761940740,
	   "twelvedata DST: Monday 09:30 EST and Friday 15:59 EDT are exact epochs");
	parse_result_free(&r);

	parse_file(parse_twelvedata_exchange, "twelvedata/exchange_fallback_1h.json", 200, NULL, &r);
	ok(r.status == PARSE_OK && r.nbars == 2 &&
	   wall_is(&r.bars[0], 2025, 11, 2, 1, 30, 0, "America/New_York") &&
	   wall_is(&r.bars[1], 2025, 11, 2, 1, 30, 0, "America/New_York") && r.bars[0].open != r.bars[1].open,
	   "twelvedata Exchange zone: the two fall-back 01:30s of a 24h instrument are indistinguishable (why UTC is asked for)");
	parse_result_free(&r);

	parse_file(parse_twelvedata_exchange, "twelvedata/exchange_dst_1min.json", 200, NULL, &r);
	expect("twelvedata in the Exchange zone", &r, PARSE_OK, 2);
	ok(r.nbars == 2 && wall_is(&r.bars[0], 2025, 3, 10, 9, 30, 0, "America/New_York") &&
	   wall_is(&r.bars[1], 2025, 3, 7, 15, 59, 0, "America/New_York"),
	   "twelvedata Exchange zone: wall times with meta.exchange_timezone for the caller to convert");
	parse_result_free(&r);

	parse_file(parse_twelvedata, "twelvedata/fallback_24h_1h.json", 200, NULL, &r);
	expect("twelvedata 24h instrument on 2025-11-02", &r, PARSE_OK, 2);
	ok(r.nbars == 2 && r.bars[0].epoch - r.bars[1].epoch == 3600 && r.bars[1].epoch == 1762061400,
	   "twelvedata fall-back: 01:30 EDT and 01:30 EST stay an hour apart in UTC");
	parse_result_free(&r);

	parse_file(parse_twelvedata, "twelvedata/forex_1min.json", 200, NULL, &r);
	expect("twelvedata forex", &r, PARSE_OK, 1);
	ok(r.nbars == 1 && !r.bars[0].has_volume && r.bars[0].problem == NULL && r.bars[0].close == 1.14225 &&
	   strcmp(r.bars[0].symbol, "EUR/USD") == 0,
	   "twelvedata forex: no volume is no volume, not zero");
	parse_result_free(&r);

	parse_file(parse_twelvedata, "twelvedata/traps_1min.json", 200, NULL, &r);
	expect("twelvedata traps: every bar comes back", &r, PARSE_OK, 10);
	ok(strcmp(problem_of(&r, 0), "open is not a number") == 0, "twelvedata empty open string is a problem, never 0 (%s)", problem_of(&r, 0));
	ok(strcmp(problem_of(&r, 1), "high is below low") == 0, "twelvedata bar_problem applied (%s)", problem_of(&r, 1));
	ok(strcmp(problem_of(&r, 2), "volume is not a number") == 0, "twelvedata volume \"12x\" rejected (%s)", problem_of(&r, 2));
	ok(r.bars[3].problem == NULL && r.bars[3].volume == INT64_C(3000000000), "twelvedata volume above int32 is exact");
	ok(strcmp(problem_of(&r, 4), "datetime is not a valid time") == 0, "twelvedata hour 25 rejected (%s)", problem_of(&r, 4));
	ok(strcmp(problem_of(&r, 5), "open is not a number") == 0, "twelvedata hex float rejected (%s)", problem_of(&r, 5));
	ok(strcmp(problem_of(&r, 6), "open is not a number") == 0, "twelvedata \"nan\" rejected (%s)", problem_of(&r, 6));
	ok(strcmp(problem_of(&r, 7), "open is not a number") == 0, "twelvedata leading space rejected (%s)", problem_of(&r, 7));
	ok(strcmp(problem_of(&r, 8), "datetime is not a valid time") == 0, "twelvedata 2025-02-29 rejected (%s)", problem_of(&r, 8));
	ok(r.bars[9].problem == NULL && r.bars[9].open == 201.25 && r.bars[9].high == 202 && r.bars[9].volume == 7,
	   "twelvedata JSON numbers accepted where strings are usual");
	parse_result_free(&r);

	parse_text(parse_twelvedata,
			   "{\"meta\":{\"symbol\":\"AA PL\",\"exchange_timezone\":\"America/New_York\"},\"values\":"
			   "[{\"datetime\":\"2025-06-10 13:30:00\",\"open\":\"1\",\"high\":\"1\",\"low\":\"1\",\"close\":\"1\",\"volume\":\"-1\"}],\"status\":\"ok\"}",
			   200, &r);
	ok(r.nbars == 1 && strstr(problem_of(&r, 0), "symbol contains") != NULL,
	   "twelvedata symbol_problem applied (%s)", problem_of(&r, 0));
	parse_result_free(&r);
	parse_text(parse_twelvedata,
			   "{\"meta\":{\"symbol\":\"AAPL\"},\"values\":[{\"datetime\":\"2025-06-10 13:30:00\",\"open\":\"1\",\"high\":\"1\",\"low\":\"1\",\"close\":\"1\",\"volume\":\"-1\"}],\"status\":\"ok\"}",
			   200, &r);
	ok(r.nbars == 1 && strcmp(problem_of(&r, 0), "volume is negative") == 0, "twelvedata negative volume rejected");
	parse_result_free(&r);
	parse_text(parse_twelvedata,
			   "{\"A\":{\"code\":429,\"message\":\"out of credits\",\"status\":\"error\"},\"B\":{\"code\":429,\"message\":\"out of credits\",\"status\":\"error\"}}",
			   200, &r);
	expect("twelvedata batch where every symbol got 429", &r, PARSE_RATE_LIMITED, 0);
	parse_result_free(&r);
	{
		/* One value more than PROVIDER_MAX_BARS: refused before any bar is read. */
		size_t		n = PROVIDER_MAX_BARS + 1;
		char	   *big = malloc(2 * n + 64);
		size_t		pos = (size_t) sprintf(big, "{\"meta\":{\"symbol\":\"A\"},\"values\":[");

		for (size_t i = 0; i < n; i++)
		{
			big[pos++] = '0';
			big[pos++] = ',';
		}
		strcpy(big + pos - 1, "]}");
		parse_text(parse_twelvedata, big, 200, &r);
		free(big);
	}
	expect("twelvedata reply over PROVIDER_MAX_BARS", &r, PARSE_MALFORMED, 0);
	ok(strstr(r.message, "more than 1000000 bars") != NULL, "bar cap reported (%s)", r.message);
	parse_result_free(&r);
	parse_text(parse_twelvedata, "{\"meta\":{\"symbol\":\"AAPL\"},\"status\":\"ok\"}", 200, &r);
	expect("twelvedata reply without values", &r, PARSE_MALFORMED, 0);
	parse_result_free(&r);
}

static void
test_malformed(ParseFn fn, const char *provider, const char *good)
{
	ParseResult r;
	size_t		len;
	char	   *body = slurp(fixtures, good, &len);
	char	   *deep;
	const int	depth = 100000;

	fn(body, len / 2, 200, "AAPL", &r);
	expect(provider, &r, PARSE_MALFORMED, 0);
	ok(strstr(r.message, "truncated") != NULL, "%s: a body cut in half is reported as truncated (%s)", provider, r.message);
	parse_result_free(&r);
	fn(body, len, 200, "AAPL", &r);
	ok(r.status == PARSE_OK && r.nbars > 0, "%s: the same body whole parses", provider);
	parse_result_free(&r);
	body[len / 3] = '\0';
	fn(body, len, 200, "AAPL", &r);
	expect("a NUL byte inside the body", &r, PARSE_MALFORMED, 0);
	parse_result_free(&r);
	free(body);

	parse_text(fn, "{\"a\": [1, 2,, 3]}", 200, &r);
	expect("bad JSON syntax", &r, PARSE_MALFORMED, 0);
	parse_result_free(&r);
	parse_text(fn, "{} trailing", 200, &r);
	expect("bytes after the JSON value", &r, PARSE_MALFORMED, 0);
	parse_result_free(&r);
	fn("", 0, 200, "AAPL", &r);
	expect("an empty body", &r, PARSE_MALFORMED, 0);
	parse_result_free(&r);
	fn(NULL, 0, 0, NULL, &r);
	expect("no body at all", &r, PARSE_MALFORMED, 0);
	parse_result_free(&r);
	parse_text(fn, "[1,2,3]", 200, &r);
	expect("a JSON array", &r, PARSE_MALFORMED, 0);
	parse_result_free(&r);
	parse_text(fn, "<html><body>Bad Gateway</body></html>", 502, &r);
	expect("an HTML 502 page", &r, PARSE_SERVER_ERROR, 0);
	parse_result_free(&r);
	parse_text(fn, "Too Many Requests", 429, &r);
	expect("a plain-text 429", &r, PARSE_RATE_LIMITED, 0);
	parse_result_free(&r);

	deep = malloc(2 * depth + 1);
	memset(deep, '[', depth);
	memset(deep + depth, ']', depth);
	deep[2 * depth] = '\0';
	parse_text(fn, deep, 200, &r);
	expect("100,000 nested arrays", &r, PARSE_MALFORMED, 0);
	parse_result_free(&r);
	free(deep);
}

static void
test_alphavantage(void)
{
	ParseResult r;
	const ParsedBar *b;
	static const struct
	{
		const char *file;
		ParseStatus status;
	}			errors[] = {
		{"alphavantage/error_message.json", PARSE_PROVIDER_ERROR},
		{"alphavantage/error_apikey.json", PARSE_PROVIDER_ERROR},
		{"alphavantage/information_daily.json", PARSE_RATE_LIMITED},
		{"alphavantage/information_burst.json", PARSE_RATE_LIMITED},
		{"alphavantage/information_premium.json", PARSE_PROVIDER_ERROR},
		{"alphavantage/information_full.json", PARSE_PROVIDER_ERROR},
		{"alphavantage/note.json", PARSE_RATE_LIMITED},
	};

	parse_file(parse_alphavantage, "alphavantage/IBM_5min.json", 200, NULL, &r);
	expect("alphavantage intraday", &r, PARSE_OK, 3);
	b = find_wall(&r, 9, 30);
	ok(b != NULL && wall_is(b, 2025, 6, 10, 9, 30, 0, "America/New_York") &&
	   strcmp(b->symbol, "IBM") == 0 && b->open == 276.0 && b->close == 276.5 &&
	   b->volume == INT64_C(2147483648) && no_problems(&r),
	   "alphavantage intraday: US/Eastern wall time mapped to America/New_York, volume above int32 exact");
	parse_result_free(&r);

	parse_file(parse_alphavantage, "alphavantage/IBM_daily.json", 200, NULL, &r);
	expect("alphavantage daily", &r, PARSE_OK, 2);
	ok(r.nbars == 2 && (wall_is(&r.bars[0], 2025, 6, 10, 0, 0, 0, "America/New_York") ||
						wall_is(&r.bars[1], 2025, 6, 10, 0, 0, 0, "America/New_York")) &&
	   no_problems(&r),
	   "alphavantage daily: zone from \"5. Time Zone\", a date is midnight");
	parse_result_free(&r);

	parse_file(parse_alphavantage, "alphavantage/dst_5min.json", 200, NULL, &r);
	expect("alphavantage around the 2025-11-02 DST change", &r, PARSE_OK, 2);
	ok(find_wall(&r, 9, 30) && wall_is(find_wall(&r, 9, 30), 2025, 11, 3, 9, 30, 0, "America/New_York") &&
	   find_wall(&r, 15, 55) && wall_is(find_wall(&r, 15, 55), 2025, 10, 31, 15, 55, 0, "America/New_York"),
	   "alphavantage DST: Friday and Monday wall times keep their zone for the caller");
	parse_result_free(&r);

	parse_file(parse_alphavantage, "alphavantage/dst_mar_5min.json", 200, NULL, &r);
	ok(r.status == PARSE_OK && r.nbars == 2 && find_wall(&r, 9, 30) &&
	   wall_is(find_wall(&r, 9, 30), 2025, 3, 10, 9, 30, 0, "America/New_York") && find_wall(&r, 15, 55) &&
	   wall_is(find_wall(&r, 15, 55), 2025, 3, 7, 15, 55, 0, "America/New_York"),
	   "alphavantage around the 2025-03-09 DST change: Friday and Monday wall times with their zone");
	parse_result_free(&r);

	parse_file(parse_alphavantage, "alphavantage/traps_5min.json", 200, NULL, &r);
	expect("alphavantage traps: every bar comes back", &r, PARSE_OK, 4);
	{
		int			empty_open = 0,
					huge = 0,
					novol = 0,
					badtime = 0;

		for (size_t i = 0; i < r.nbars; i++)
		{
			const char *p = problem_of(&r, i);

			empty_open += strcmp(p, "open is not a number") == 0 && r.bars[i].min == 30;
			huge += strcmp(p, "volume is out of range") == 0 && r.bars[i].min == 35;
			novol += r.bars[i].problem == NULL && !r.bars[i].has_volume && r.bars[i].min == 40;
			badtime += strcmp(p, "datetime is not a valid time") == 0;
		}
		ok(empty_open == 1 && huge == 1 && novol == 1 && badtime == 1,
		   "alphavantage: empty open, volume over int64, missing volume and a bad time key each handled");
	}
	parse_result_free(&r);

	parse_file(parse_alphavantage, "alphavantage/empty_5min.json", 200, NULL, &r);
	expect("alphavantage empty series", &r, PARSE_OK, 0);
	parse_result_free(&r);

	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
	{
		parse_file(parse_alphavantage, errors[i].file, 200, "IBM", &r);
		expect(errors[i].file, &r, errors[i].status, 0);
		parse_result_free(&r);
	}
	parse_text(parse_alphavantage,
			   "{\"Meta Data\":{\"2. Symbol\":\"IBM\",\"6. Time Zone\":\"\"},\"Time Series (5min)\":"
			   "{\"2025-06-10 09:30:00\":{\"1. open\":\"1\",\"2. high\":\"1\",\"3. low\":\"1\",\"4. close\":\"1\"}}}",
			   200, &r);
	ok(r.nbars == 1 && strcmp(problem_of(&r, 0), "time zone name is not valid") == 0,
	   "alphavantage empty Time Zone is the bar's problem (%s)", problem_of(&r, 0));
	parse_result_free(&r);
	parse_text(parse_alphavantage, "{}", 200, &r);
	expect("alphavantage {}", &r, PARSE_MALFORMED, 0);
	parse_result_free(&r);
	parse_text(parse_alphavantage, "{\"Information\": \"something new\"}", 200, &r);
	expect("alphavantage unknown Information backs off", &r, PARSE_RATE_LIMITED, 0);
	parse_result_free(&r);
}

static void
test_yahoo(void)
{
	ParseResult r;

	parse_file(parse_yahoo, "yahoo/AAPL_1m.json", 200, NULL, &r);
	expect("yahoo intraday", &r, PARSE_OK, 3);
	ok(r.nskipped_null == 2 && r.nskipped_partial == 1,
	   "yahoo: a null row and a single null open skipped and counted, the live partial bar dropped (null %zu, partial %zu)",
	   r.nskipped_null, r.nskipped_partial);
	ok(r.nbars == 3 && r.bars[0].has_epoch && r.bars[0].epoch == 1749562200 &&
	   r.bars[1].epoch == 1749562260 && r.bars[2].epoch == 1749562440 &&
	   r.bars[1].open == 201.89999389648438 && r.bars[1].volume == 201447 &&
	   strcmp(r.bars[0].symbol, "AAPL") == 0 && no_problems(&r),
	   "yahoo intraday: epochs as sent, float prices exact, no zero bars");
	parse_result_free(&r);

	parse_file(parse_yahoo, "yahoo/AAPL_1d.json", 200, NULL, &r);
	expect("yahoo daily", &r, PARSE_OK, 2);
	ok(r.nbars == 2 && wall_is(&r.bars[0], 2025, 6, 9, 0, 0, 0, "America/New_York") &&
	   wall_is(&r.bars[1], 2025, 6, 10, 0, 0, 0, "America/New_York") && r.bars[1].volume == 54672608,
	   "yahoo daily: midnight of the trading date in exchangeTimezoneName");
	parse_result_free(&r);

	/*
	 * NVDA split 10-for-1 on 2024-06-10: Yahoo's bars before it are divided
	 * by 10 (volume times 10).  As traded, by hand: 120.88800048828125 * 10
	 * = 1208.8800048828125 (exact in a double), 412385000 / 10 = 41238500;
	 * the split day and after as sent.  2024-06-10 is day 19884 since 1970.
	 */
	parse_file(parse_yahoo, "yahoo/NVDA_1d.json", 200, NULL, &r);
	expect("yahoo daily across a split", &r, PARSE_OK, 6);
	ok(r.nbars == 6 && no_problems(&r) &&
	   r.bars[0].high == 1224.4000244140625 && r.bars[0].volume == 41163800 &&
	   r.bars[2].close == 1208.8800048828125 && r.bars[2].volume == 41238500 &&
	   wall_is(&r.bars[3], 2024, 6, 10, 0, 0, 0, "America/New_York") &&
	   r.bars[3].close == 121.79000091552734 && r.bars[3].volume == 314162700 &&
	   r.bars[5].close == 125.19999694824219 && r.bars[5].volume == 299595000,
	   "yahoo split: bars before the split date back to as traded (prices x10, volume /10), later bars as sent");
	ok(r.nactions == 2 && r.actions[0].is_split && strcmp(r.actions[0].symbol, "NVDA") == 0 &&
	   r.actions[0].ex_day == 19884 && r.actions[0].split_from == 1 && r.actions[0].split_to == 10 &&
	   !r.actions[1].is_split && r.actions[1].ex_day == 19885 && r.actions[1].cash_amount == 0.01 &&
	   strcmp(r.actions[1].currency, "USD") == 0,
	   "yahoo events: the split (1 -> 10, 2024-06-10) and the dividend (0.01 USD, 2024-06-11) read");
	parse_result_free(&r);
	parse_text(parse_yahoo,
			   "{\"chart\":{\"result\":[{\"meta\":{\"symbol\":\"NVDA\",\"dataGranularity\":\"1d\",\"exchangeTimezoneName\":\"America/New_York\"},"
			   "\"timestamp\":[1717594200],\"events\":{\"splits\":{\"1718026200\":{\"date\":1718026200,\"denominator\":1}}},"
			   "\"indicators\":{\"quote\":[{\"open\":[1],\"high\":[1],\"low\":[1],\"close\":[1],\"volume\":[1]}]}}],\"error\":null}}",
			   200, &r);
	expect("yahoo split without a numerator: malformed, not bars on the wrong basis", &r, PARSE_MALFORMED, 0);
	parse_result_free(&r);

	parse_file(parse_yahoo, "yahoo/BTC-USD_1h_fallback.json", 200, NULL, &r);
	expect("yahoo 24h instrument over the 2025-11-02 fall-back", &r, PARSE_OK, 3);
	ok(r.nbars == 3 && r.bars[0].epoch == 1762059600 && r.bars[1].epoch == 1762063200 &&
	   r.bars[2].epoch == 1762066800 && r.nskipped_partial == 0,
	   "yahoo fall-back: both 01:00 local hours keep distinct epochs, the last whole bar is kept");
	parse_result_free(&r);

	parse_file(parse_yahoo, "yahoo/notfound.json", 404, "ZZZZ", &r);
	expect("yahoo 404 not found", &r, PARSE_PROVIDER_ERROR, 0);
	ok(strstr(r.message, "No data found") != NULL, "yahoo 404: description kept (%s)", r.message);
	parse_result_free(&r);
	parse_file(parse_yahoo, "yahoo/429.txt", 429, "AAPL", &r);
	expect("yahoo 429 plain text", &r, PARSE_RATE_LIMITED, 0);
	parse_result_free(&r);
	parse_file(parse_yahoo, "yahoo/maintenance.html", 200, "AAPL", &r);
	expect("yahoo maintenance page under 200", &r, PARSE_SERVER_ERROR, 0);
	parse_result_free(&r);
	parse_file(parse_yahoo, "yahoo/maintenance.html", 503, "AAPL", &r);
	expect("yahoo maintenance page under 503", &r, PARSE_SERVER_ERROR, 0);
	parse_result_free(&r);
	parse_file(parse_yahoo, "yahoo/empty.json", 200, "AAPL", &r);
	expect("yahoo no trades (no timestamp, quote [{}])", &r, PARSE_OK, 0);
	parse_result_free(&r);

	parse_text(parse_yahoo,
			   "{\"chart\":{\"result\":[{\"meta\":{\"symbol\":\"AAPL\",\"dataGranularity\":\"1m\"},\"timestamp\":[1749562200,1749562260],"
			   "\"indicators\":{\"quote\":[{\"open\":[1],\"high\":[1,1],\"low\":[1,1],\"close\":[1,1],\"volume\":[1,1]}]}}],\"error\":null}}",
			   200, &r);
	expect("yahoo arrays of different lengths", &r, PARSE_MALFORMED, 0);
	parse_result_free(&r);
	parse_text(parse_yahoo,
			   "{\"chart\":{\"result\":[{\"meta\":{\"symbol\":\"AAPL\",\"dataGranularity\":\"1m\"},\"timestamp\":[\"1749562200\",-5,1749562320],"
			   "\"indicators\":{\"quote\":[{\"open\":[1,1,1],\"high\":[1,1,1],\"low\":[1,1,1],\"close\":[1,1,\"x\"],\"volume\":[1,1,1.5]}]}}],\"error\":null}}",
			   200, &r);
	ok(r.nbars == 3 && strcmp(problem_of(&r, 0), "timestamp is not a valid epoch") == 0 &&
	   strcmp(problem_of(&r, 1), "timestamp is not a valid epoch") == 0 &&
	   strcmp(problem_of(&r, 2), "close is not a number") == 0,
	   "yahoo: string and negative timestamps and a string price are per-bar problems");
	parse_result_free(&r);
	/* 1e300 was cast to int64_t before its range was checked (fuzz_yahoo, UB). */
	parse_text(parse_yahoo,
			   "{\"chart\":{\"result\":[{\"meta\":{\"symbol\":\"AAPL\",\"dataGranularity\":\"1m\"},"
			   "\"timestamp\":[1e300,1749562260.0,1749562320.5,1749562380],"
			   "\"indicators\":{\"quote\":[{\"open\":[1,1,1,1],\"high\":[1,1,1,1],\"low\":[1,1,1,1],"
			   "\"close\":[1,1,1,1],\"volume\":[1,1,1,1]}]}}],\"error\":null}}",
			   200, &r);
	ok(r.nbars == 4 && strcmp(problem_of(&r, 0), "timestamp is not a valid epoch") == 0 &&
	   r.bars[1].problem == NULL && r.bars[1].epoch == 1749562260 &&
	   strcmp(problem_of(&r, 2), "timestamp is not a valid epoch") == 0 &&
	   r.bars[3].problem == NULL && r.bars[3].epoch == 1749562380,
	   "yahoo: a whole double timestamp is read, 1e300 and a fractional one are per-bar problems");
	parse_result_free(&r);
}

/* A parsed bar's instant in microseconds since 2000-01-01 UTC, as PostgreSQL counts. */
static int64_t
bar_instant(const ParsedBar *b)
{
	time_t		t = b->epoch;

	if (!b->has_epoch)
	{
		struct tm	tm = {0};

		setenv("TZ", b->zone, 1);
		tzset();
		tm.tm_year = b->year - 1900;
		tm.tm_mon = b->mon - 1;
		tm.tm_mday = b->mday;
		tm.tm_hour = b->hour;
		tm.tm_min = b->min;
		tm.tm_sec = b->sec;
		tm.tm_isdst = -1;
		t = mktime(&tm);
	}
	return ((int64_t) t - INT64_C(946684800)) * 1000000;
}

/*
 * The grid of each resolution (gcd(resolution, 15 minutes)) holds every bar
 * of every real-format fixture: minute bars, hourly bars starting at :30,
 * and daily bars at midnight of the exchange's zone, converted as the
 * worker converts them; and symbols come out in upper case.
 */
static void
test_grid(void)
{
	static const struct
	{
		ParseFn		fn;
		const char *file;
		int64_t		seconds;
	}			series[] = {
		{parse_twelvedata, "twelvedata/AAPL_1min.json", 60},
		{parse_twelvedata, "twelvedata/AAPL_1day.json", 86400},
		{parse_twelvedata, "twelvedata/batch_1min.json", 60},
		{parse_twelvedata, "twelvedata/utc_dst_nov_1min.json", 60},
		{parse_twelvedata, "twelvedata/fallback_24h_1h.json", 3600},
		{parse_twelvedata_exchange, "twelvedata/exchange_fallback_1h.json", 3600},
		{parse_twelvedata_exchange, "twelvedata/exchange_dst_1min.json", 60},
		{parse_alphavantage, "alphavantage/IBM_5min.json", 300},
		{parse_alphavantage, "alphavantage/IBM_daily.json", 86400},
		{parse_alphavantage, "alphavantage/dst_5min.json", 300},
		{parse_yahoo, "yahoo/AAPL_1m.json", 60},
		{parse_yahoo, "yahoo/AAPL_1d.json", 86400},
		{parse_yahoo, "yahoo/NVDA_1d.json", 86400},
		{parse_yahoo, "yahoo/BTC-USD_1h_fallback.json", 3600},
	};
	ParseResult r;
	char		buf[BAR_REASON_LEN];
	const char *why;

	for (size_t i = 0; i < sizeof(series) / sizeof(series[0]); i++)
	{
		int64_t		days = series[i].seconds / 86400;
		int64_t		usecs = series[i].seconds % 86400 * 1000000;
		size_t		off = 0;

		parse_file(series[i].fn, series[i].file, 200, NULL, &r);
		for (size_t j = 0; j < r.nbars; j++)
			off += bar_grid_problem(bar_instant(&r.bars[j]), 0, (int32_t) days, usecs, buf, sizeof(buf)) != NULL;
		ok(r.status == PARSE_OK && r.nbars > 0 && off == 0, "grid: the %zu bars of %s are on the grid of %" PRId64 " seconds (%zu off)",
		   r.nbars, series[i].file, series[i].seconds, off);
		parse_result_free(&r);
	}

	ok(bar_grid_step(INT64_C(60000000)) == INT64_C(60000000) && bar_grid_step(INT64_C(120000000)) == INT64_C(60000000) &&
	   bar_grid_step(INT64_C(3600000000)) == INT64_C(900000000) && bar_grid_step(0) == INT64_C(900000000) &&
	   bar_grid_step(INT64_C(7000000)) == INT64_C(1000000) && bar_grid_step(INT64_C(-500000)) == INT64_C(500000),
	   "grid: steps are gcd(resolution, 15 minutes): 1 min, 2 min -> 1 min, 1 h -> 15 min, 1 day, 7 s -> 1 s, 0.5 s");
	/* 2026-11-20 23:33:02.77 UTC in a minute series, the bar of the report. */
	why = bar_grid_problem(INT64_C(848532782770000), 0, 0, INT64_C(60000000), buf, sizeof(buf));
	ok(why != NULL && strcmp(why, "ts is not on the grid of resolution 1 minute (whole multiples of 1 minute since 1970-01-01 00:00 UTC)") == 0,
	   "grid: 23:33:02.77 is off a minute series' grid (%s)", why ? why : "(none)");
	why = bar_grid_problem(INT64_C(848532660000000), 0, 0, INT64_C(90) * 60000000, buf, sizeof(buf));
	ok(why != NULL && strstr(why, "resolution 90 minutes (whole multiples of 15 minutes") != NULL,
	   "grid: 23:31 is off a 90-minute series' grid (%s)", why ? why : "(none)");
	why = bar_grid_problem(1, 1, 2, INT64_C(1500000), buf, sizeof(buf));
	ok(why != NULL && strstr(why, "resolution 1 month 2 days 1.5 seconds (whole multiples of 1.5 seconds") != NULL,
	   "grid: mixed resolutions are named whole (%s)", why ? why : "(none)");
	ok(bar_grid_problem(INT64_MAX, 0, 1, 0, buf, sizeof(buf)) != NULL &&
	   strcmp(bar_grid_problem(INT64_MIN, 0, 0, 60000000, buf, sizeof(buf)), "ts is not finite") == 0,
	   "grid: infinite instants are on no grid");

	parse_text(parse_twelvedata,
			   "{\"meta\":{\"symbol\":\"aapl\"},\"values\":[{\"datetime\":\"2025-06-10 13:30:00\",\"open\":\"1\",\"high\":\"1\",\"low\":\"1\",\"close\":\"1\",\"volume\":\"1\"}],\"status\":\"ok\"}",
			   200, &r);
	ok(r.nbars == 1 && strcmp(r.bars[0].symbol, "AAPL") == 0 && r.bars[0].problem == NULL,
	   "symbols: twelvedata meta.symbol \"aapl\" comes out as AAPL (%s)", r.nbars ? r.bars[0].symbol : "");
	parse_result_free(&r);
	parse_text(parse_twelvedata,
			   "{\"brk.b\":{\"meta\":{},\"values\":[{\"datetime\":\"2025-06-10 13:30:00\",\"open\":\"1\",\"high\":\"1\",\"low\":\"1\",\"close\":\"1\",\"volume\":\"1\"}],\"status\":\"ok\"},"
			   "\"nope\":{\"code\":404,\"message\":\"not found\",\"status\":\"error\"}}",
			   200, &r);
	ok(r.nbars == 1 && strcmp(r.bars[0].symbol, "BRK.B") == 0 && r.nsymbol_errors == 1 &&
	   strcmp(r.symbol_errors[0].symbol, "NOPE") == 0,
	   "symbols: twelvedata batch keys and failed symbols come out in upper case");
	parse_result_free(&r);
	parse_text(parse_alphavantage,
			   "{\"Meta Data\":{\"2. Symbol\":\"ibm\",\"6. Time Zone\":\"US/Eastern\"},\"Time Series (5min)\":"
			   "{\"2025-06-10 09:30:00\":{\"1. open\":\"1\",\"2. high\":\"1\",\"3. low\":\"1\",\"4. close\":\"1\",\"5. volume\":\"1\"}}}",
			   200, &r);
	ok(r.nbars == 1 && strcmp(r.bars[0].symbol, "IBM") == 0, "symbols: alphavantage \"ibm\" comes out as IBM (%s)",
	   r.nbars ? r.bars[0].symbol : "");
	parse_result_free(&r);
	parse_text(parse_yahoo,
			   "{\"chart\":{\"result\":[{\"meta\":{\"symbol\":\"eurusd=x\",\"dataGranularity\":\"1m\"},\"timestamp\":[1749562200],"
			   "\"indicators\":{\"quote\":[{\"open\":[1],\"high\":[1],\"low\":[1],\"close\":[1],\"volume\":[1]}]}}],\"error\":null}}",
			   200, &r);
	ok(r.nbars == 1 && strcmp(r.bars[0].symbol, "EURUSD=X") == 0, "symbols: yahoo \"eurusd=x\" comes out as EURUSD=X (%s)",
	   r.nbars ? r.bars[0].symbol : "");
	parse_result_free(&r);
}

static void
test_big(const char *provider, ParseFn fn)
{
	char		name[64];
	size_t		len;
	char	   *body;
	ParseResult r;
	clock_t		t0;
	double		ms;
	const ParsedBar *b = NULL;
	const int64_t start = 1748872800;

	snprintf(name, sizeof(name), "big_%s.json", provider);
	body = slurp(generated, name, &len);
	t0 = clock();
	fn(body, len, 200, NULL, &r);
	ms = (double) (clock() - t0) * 1000.0 / CLOCKS_PER_SEC;
	free(body);
	expect(name, &r, PARSE_OK, 50000);
	for (size_t i = 0; i < r.nbars; i++)
	{
		if ((r.bars[i].has_epoch && r.bars[i].epoch == start + 60 * 49999) ||
			(!r.bars[i].has_epoch && r.bars[i].volume == 1000 + 49999))
			b = &r.bars[i];
	}
	ok(b != NULL && no_problems(&r) && b->open == 109.99 && b->high == 110.49 &&
	   b->low == 109.49 && b->close == 110.24 && b->volume == 50999,
	   "%s: bar 49999 exact", name);
	/* Generous: a loaded 2-core machine; typical is a few tens of ms. */
	ok(ms < 2000, "%s: 50,000 bars parsed in %.0f ms (CPU)", name, ms);
	parse_result_free(&r);
}

/* One check of status and action count. */
static void
expect_actions(const char *what, ParseResult *r, ParseStatus status, size_t nactions)
{
	ok(r->status == status && r->nactions == nactions && r->nbars == 0,
	   "%s: %s with %zu actions (got %s with %zu actions: %s)",
	   what, status_name(status), nactions, status_name(r->status), r->nactions, r->message);
}

/* One reply of a fixture: its status, and no bars. */
static void
actions_file(ParseFn fn, const char *name, int http, const char *symbol, ParseStatus status,
			 size_t nactions, const char *what)
{
	ParseResult r;

	parse_file(fn, name, http, symbol, &r);
	expect_actions(what, &r, status, nactions);
	parse_result_free(&r);
}

/* Days since 1970-01-01 of a date. */
static int64_t
day_of(int y, int m, int d)
{
	struct tm	tm = {.tm_year = y - 1900,.tm_mon = m - 1,.tm_mday = d};

	return (int64_t) timegm(&tm) / 86400;
}

static int
split_is(const ParsedAction *a, const char *symbol, int64_t day, double from, double to)
{
	return a->is_split && strcmp(a->symbol, symbol) == 0 && a->ex_day == day &&
		a->split_from == from && a->split_to == to;
}

static int
dividend_is(const ParsedAction *a, const char *symbol, int64_t day, double amount, const char *currency)
{
	return !a->is_split && strcmp(a->symbol, symbol) == 0 && a->ex_day == day &&
		a->cash_amount == amount && strcmp(a->currency, currency) == 0;
}

/*
 * The corporate-actions endpoints: NVDA's splits (10-for-1 on 2024-06-10,
 * 4-for-1 on 2021-07-20, 3-for-2 on 2007-09-11) and AAPL's 2024 quarterly
 * dividends, from each provider's documented shape, and their errors.
 */
static void
test_actions(void)
{
	ParseResult r;

	parse_file(parse_twelvedata_actions, "twelvedata/NVDA_splits.json", 200, "NVDA", &r);
	expect_actions("twelvedata /splits", &r, PARSE_OK, 3);
	ok(r.nactions == 3 && split_is(&r.actions[0], "NVDA", day_of(2024, 6, 10), 1, 10) &&
	   split_is(&r.actions[1], "NVDA", day_of(2021, 7, 20), 1, 4) &&
	   split_is(&r.actions[2], "NVDA", day_of(2007, 9, 11), 2, 3) && r.actions[0].currency[0] == '\0',
	   "twelvedata /splits: \"10-for-1\" (from_factor 10, to_factor 1) is 1 share becoming 10; 3-for-2 is 2 becoming 3");
	parse_result_free(&r);

	parse_file(parse_twelvedata_actions, "twelvedata/AAPL_dividends.json", 200, NULL, &r);
	expect_actions("twelvedata /dividends", &r, PARSE_OK, 4);
	ok(r.nactions == 4 && dividend_is(&r.actions[0], "AAPL", day_of(2024, 11, 8), 0.25, "USD") &&
	   dividend_is(&r.actions[3], "AAPL", day_of(2024, 2, 9), 0.24, "USD"),
	   "twelvedata /dividends: ex_date and amount, currency from meta, symbol from meta");
	parse_result_free(&r);

	actions_file(parse_twelvedata_actions, "twelvedata/empty_splits.json", 200, "IBM", PARSE_OK, 0, "twelvedata /splits with none");
	actions_file(parse_twelvedata_actions, "twelvedata/error_429.json", 200, "NVDA", PARSE_RATE_LIMITED, 0, "twelvedata code 429 under 200");
	actions_file(parse_twelvedata_actions, "twelvedata/error_429.json", 429, "NVDA", PARSE_RATE_LIMITED, 0, "twelvedata code 429 under 429");
	parse_file(parse_twelvedata_actions, "twelvedata/error_403.json", 200, "NVDA", &r);
	ok(r.status == PARSE_PROVIDER_ERROR && r.provider_code == 403 && r.nactions == 0,
	   "twelvedata code 403 (the plan has no such endpoint): provider error (%s)", r.message);
	parse_result_free(&r);
	actions_file(parse_twelvedata_actions, "twelvedata/error_500.json", 500, "NVDA", PARSE_SERVER_ERROR, 0, "twelvedata code 500");
	actions_file(parse_twelvedata_actions, "twelvedata/empty_nodata.json", 200, "NVDA", PARSE_OK, 0, "twelvedata \"No data is available\"");
	actions_file(parse_twelvedata_actions, "twelvedata/AAPL_1min.json", 200, "AAPL", PARSE_MALFORMED, 0, "twelvedata: a /time_series reply is no actions reply");
	parse_text(parse_twelvedata_actions,
			   "{\"meta\":{\"symbol\":\"X\"},\"splits\":[{\"date\":\"2024-06-10\",\"from_factor\":10,\"to_factor\":0}]}",
			   200, &r);
	expect_actions("twelvedata: a split with to_factor 0 fails the reply", &r, PARSE_MALFORMED, 0);
	parse_result_free(&r);
	parse_text(parse_twelvedata_actions,
			   "{\"meta\":{\"symbol\":\"X\",\"currency\":\"usd\"},\"dividends\":[{\"ex_date\":\"2024-02-30\",\"amount\":1},"
			   "{\"ex_date\":\"2024-03-01\",\"amount\":-1},{\"ex_date\":\"2024-03-02\",\"amount\":\"0.5\"}]}",
			   200, &r);
	ok(r.status == PARSE_OK && r.nactions == 1 && dividend_is(&r.actions[0], "X", day_of(2024, 3, 2), 0.5, ""),
	   "twelvedata: dividends with no real date or a negative amount are left out; a lower-case currency is none (%s)",
	   r.message);
	parse_result_free(&r);
	parse_text(parse_twelvedata_actions,
			   "{\"meta\":{\"symbol\":\"bad symbol\"},\"splits\":[{\"date\":\"2024-06-10\",\"from_factor\":10,\"to_factor\":1}]}",
			   200, &r);
	expect_actions("twelvedata: actions of an invalid symbol", &r, PARSE_MALFORMED, 0);
	parse_result_free(&r);

	parse_file(parse_alphavantage_actions, "alphavantage/NVDA_SPLITS.json", 200, "NVDA", &r);
	expect_actions("alphavantage SPLITS", &r, PARSE_OK, 3);
	ok(r.nactions == 3 && split_is(&r.actions[0], "NVDA", day_of(2024, 6, 10), 1, 10) &&
	   split_is(&r.actions[1], "NVDA", day_of(2021, 7, 20), 1, 4) &&
	   split_is(&r.actions[2], "NVDA", day_of(2007, 9, 11), 1, 1.5),
	   "alphavantage SPLITS: split_factor \"10.0000\" is 1 share becoming 10, \"1.5000\" 1 becoming 1.5");
	parse_result_free(&r);
	parse_file(parse_alphavantage_actions, "alphavantage/AAPL_DIVIDENDS.json", 200, "AAPL", &r);
	expect_actions("alphavantage DIVIDENDS", &r, PARSE_OK, 4);
	ok(r.nactions == 4 && dividend_is(&r.actions[0], "AAPL", day_of(2024, 11, 8), 0.25, "") &&
	   dividend_is(&r.actions[3], "AAPL", day_of(2024, 2, 9), 0.24, ""),
	   "alphavantage DIVIDENDS: the declared one with ex_dividend_date \"None\" left out, no currency");
	parse_result_free(&r);
	parse_text(parse_alphavantage_actions, "{\"symbol\":\"IBM\",\"data\":[]}", 200, &r);
	expect_actions("alphavantage with none", &r, PARSE_OK, 0);
	parse_result_free(&r);
	actions_file(parse_alphavantage_actions, "alphavantage/note.json", 200, "NVDA", PARSE_RATE_LIMITED, 0, "alphavantage Note");
	actions_file(parse_alphavantage_actions, "alphavantage/information_daily.json", 200, "NVDA", PARSE_RATE_LIMITED, 0, "alphavantage Information (daily cap)");
	actions_file(parse_alphavantage_actions, "alphavantage/error_message.json", 200, "NVDA", PARSE_PROVIDER_ERROR, 0, "alphavantage Error Message");
	actions_file(parse_alphavantage_actions, "alphavantage/IBM_daily.json", 200, "IBM", PARSE_MALFORMED, 0, "alphavantage: a TIME_SERIES reply is no actions reply");
	parse_text(parse_alphavantage_actions,
			   "{\"symbol\":\"X\",\"data\":[{\"effective_date\":\"2024-06-10\",\"split_factor\":\"nan\"}]}",
			   200, &r);
	expect_actions("alphavantage: a split_factor that is no number fails the reply", &r, PARSE_MALFORMED, 0);
	parse_result_free(&r);

	/* Yahoo's actions request is a chart at monthly bars over its whole range. */
	parse_file(parse_yahoo, "yahoo/NVDA_1mo.json", 200, "NVDA", &r);
	ok(r.status == PARSE_OK && r.nactions == 4 &&
	   split_is(&r.actions[0], "NVDA", day_of(2021, 7, 20), 1, 4) &&
	   split_is(&r.actions[1], "NVDA", day_of(2024, 6, 10), 1, 10) &&
	   dividend_is(&r.actions[2], "NVDA", day_of(2021, 6, 10), 0.04, "USD"),
	   "yahoo monthly chart: its events, dated in the exchange's zone (%s, %zu actions)",
	   status_name(r.status), r.nactions);
	parse_result_free(&r);

	{
		const char *bodies[] = {"{\"splits\": [", "Too Many Requests", "<html>Bad Gateway</html>", "{}"};
		const int	http[] = {200, 429, 502, 200};
		const ParseStatus want[] = {PARSE_MALFORMED, PARSE_RATE_LIMITED, PARSE_SERVER_ERROR, PARSE_MALFORMED};

		for (int i = 0; i < 4; i++)
		{
			parse_text(parse_twelvedata_actions, bodies[i], http[i], &r);
			expect_actions("twelvedata actions, broken reply", &r, want[i], 0);
			parse_result_free(&r);
			parse_text(parse_alphavantage_actions, bodies[i], http[i], &r);
			expect_actions("alphavantage actions, broken reply", &r, want[i], 0);
			parse_result_free(&r);
		}
	}
}

static void
url_is(const Provider *p, const ProviderRequest *req, const char *want, const char *what)
{
	char	   *buf;
	const char *problem = provider_url(p, req, &buf);

	ok(problem == NULL && strcmp(buf, want) == 0, "url %s (%s)", what, problem ? problem : buf);
	free(buf);
}

static void
url_fails(const Provider *p, const ProviderRequest *req, const char *what)
{
	char	   *buf;
	const char *problem = provider_url(p, req, &buf);

	ok(problem != NULL && buf == NULL, "url refused: %s (%s)", what, problem ? problem : buf);
	free(buf);
}

static void
test_urls(void)
{
	const char *two[] = {"AAPL", "MSFT"};
	const char *many[121];
	const char *one[] = {"IBM"};
	const char *index[] = {"^GSPC"};
	const char *fx[] = {"EUR/USD"};
	ProviderRequest td = {"http://127.0.0.1:1", two, 2, 60, 0, 0, 30, "k&y=1", 0};
	ProviderRequest av = {"https://www.alphavantage.co", one, 1, 300, 0, 0, 30, "demo", 0};
	ProviderRequest y = {"https://query1.finance.yahoo.com", index, 1, 60, 0, 0, 30, NULL, 0};
	ProviderRequest r;
	char		buf[256];

	url_is(&provider_twelvedata, &td,
		   "http://127.0.0.1:1/time_series?symbol=AAPL,MSFT&interval=1min&timezone=UTC&adjust=none&outputsize=30&apikey=k%26y%3D1",
		   "twelvedata batch, key escaped");
	r = td;
	r.symbols = fx;
	r.nsymbols = 1;
	r.start = 1749562200;
	r.stop = 1749565800;
	r.outputsize = 9999;
	r.api_key = NULL;
	url_is(&provider_twelvedata, &r,
		   "http://127.0.0.1:1/time_series?symbol=EUR%2FUSD&interval=1min&timezone=UTC&adjust=none"
		   "&start_date=2025-06-10%2013:30:00&end_date=2025-06-10%2014:29:59&outputsize=5000",
		   "twelvedata range in UTC, end inclusive, outputsize capped at 5000");
	r = td;
	r.interval_secs = 120;
	url_fails(&provider_twelvedata, &r, "twelvedata has no 2min");
	for (int i = 0; i < 121; i++)
		many[i] = "A";
	r = td;
	r.symbols = many;
	r.nsymbols = 121;
	url_fails(&provider_twelvedata, &r, "twelvedata 121 symbols");
	r = td;
	r.base_url = "not a url";
	url_fails(&provider_twelvedata, &r, "a base URL that is no URL");
	r.base_url = "ftp://127.0.0.1:1";
	url_fails(&provider_twelvedata, &r, "a base URL of another scheme");
	r = td;
	r.base_url = "http://127.0.0.1:1/proxy/td/?via=test";
	r.api_key = NULL;
	url_is(&provider_twelvedata, &r,
		   "http://127.0.0.1:1/proxy/td/time_series?via=test&symbol=AAPL,MSFT&interval=1min&timezone=UTC&adjust=none&outputsize=30",
		   "a base URL's path and query kept");
	r = td;
	r.start = 100;
	r.stop = 100;
	url_fails(&provider_twelvedata, &r, "stop not after start");
	r.start = 0;
	r.stop = INT64_MAX;
	url_fails(&provider_twelvedata, &r, "stop past 9999");
	r = td;
	r.base_url = "http://127.0.0.1:1//";
	r.api_key = NULL;
	url_is(&provider_twelvedata, &r, "http://127.0.0.1:1/time_series?symbol=AAPL,MSFT&interval=1min&timezone=UTC&adjust=none&outputsize=30",
		   "twelvedata, trailing slashes of the base dropped, no key");

	url_is(&provider_alphavantage, &av,
		   "https://www.alphavantage.co/query?function=TIME_SERIES_INTRADAY&symbol=IBM&interval=5min&adjusted=false&outputsize=compact&apikey=demo",
		   "alphavantage intraday");
	r = av;
	r.interval_secs = 86400;
	r.outputsize = 1000;
	url_is(&provider_alphavantage, &r,
		   "https://www.alphavantage.co/query?function=TIME_SERIES_DAILY&symbol=IBM&outputsize=full&apikey=demo",
		   "alphavantage daily, full");
	r = av;
	r.start = 1740787200;		/* 2025-03-01 */
	r.stop = 1743465600;		/* 2025-04-01 */
	url_is(&provider_alphavantage, &r,
		   "https://www.alphavantage.co/query?function=TIME_SERIES_INTRADAY&symbol=IBM&interval=5min&adjusted=false&month=2025-03&outputsize=full&apikey=demo",
		   "alphavantage one month of history");
	r.stop = 1743465601;
	url_fails(&provider_alphavantage, &r, "alphavantage range over two months");
	r = av;
	r.symbols = two;
	r.nsymbols = 2;
	url_fails(&provider_alphavantage, &r, "alphavantage two symbols");
	r = av;
	r.interval_secs = 120;
	url_fails(&provider_alphavantage, &r, "alphavantage has no 2min");

	url_is(&provider_yahoo, &y,
		   "https://query1.finance.yahoo.com/v8/finance/chart/%5EGSPC?interval=1m&range=1d&includePrePost=false&events=div,splits",
		   "yahoo intraday, symbol escaped");
	r = y;
	r.interval_secs = 86400;
	r.outputsize = 300;
	url_is(&provider_yahoo, &r,
		   "https://query1.finance.yahoo.com/v8/finance/chart/%5EGSPC?interval=1d&range=1y&includePrePost=false&events=div,splits",
		   "yahoo daily, range covering 300 days");
	r = y;
	r.start = 1749562200;
	r.stop = 1749565800;
	url_is(&provider_yahoo, &r,
		   "https://query1.finance.yahoo.com/v8/finance/chart/%5EGSPC?interval=1m&period1=1749562200&period2=1749565800&includePrePost=false&events=div,splits",
		   "yahoo range as epochs");
	r = y;
	r.interval_secs = 240;
	url_fails(&provider_yahoo, &r, "yahoo has no 4min");
	ok(provider_interval_name(&provider_twelvedata, 3600) && strcmp(provider_interval_name(&provider_twelvedata, 3600), "1h") == 0 &&
	   strcmp(provider_interval_name(&provider_alphavantage, 3600), "60min") == 0 &&
	   strcmp(provider_interval_name(&provider_yahoo, 3600), "60m") == 0 &&
	   provider_interval_name(&provider_yahoo, 61) == NULL,
	   "interval names per provider");

	{
		const char *nvda[] = {"NVDA"};
		ProviderRequest a = {.base_url = "https://api.twelvedata.com",.symbols = nvda,.nsymbols = 1,
		.api_key = "K",.actions = 1};

		url_is(&provider_twelvedata, &a, "https://api.twelvedata.com/splits?symbol=NVDA&range=full&apikey=K",
			   "twelvedata splits");
		a.actions = 2;
		url_is(&provider_twelvedata, &a,
			   "https://api.twelvedata.com/dividends?symbol=NVDA&range=full&adjust=false&apikey=K",
			   "twelvedata dividends, as paid");
		a.actions = 3;
		url_fails(&provider_twelvedata, &a, "a third twelvedata actions request");
		a.base_url = "https://www.alphavantage.co";
		a.actions = 1;
		url_is(&provider_alphavantage, &a, "https://www.alphavantage.co/query?function=SPLITS&symbol=NVDA&apikey=K",
			   "alphavantage SPLITS");
		a.actions = 2;
		url_is(&provider_alphavantage, &a, "https://www.alphavantage.co/query?function=DIVIDENDS&symbol=NVDA&apikey=K",
			   "alphavantage DIVIDENDS");
		a.base_url = "https://query1.finance.yahoo.com";
		a.actions = 1;
		a.api_key = NULL;
		url_is(&provider_yahoo, &a,
			   "https://query1.finance.yahoo.com/v8/finance/chart/NVDA?interval=1mo&range=max&events=div,splits",
			   "yahoo actions: the chart's events over its whole range");
		a.actions = 2;
		url_fails(&provider_yahoo, &a, "a second yahoo actions request");
	}

	url_redact("https://api.twelvedata.com/time_series?symbol=A&apikey=SECRET123&interval=1min", buf, sizeof(buf));
	ok(strcmp(buf, "https://api.twelvedata.com/time_series?symbol=A&apikey=***&interval=1min") == 0,
	   "redact apikey in the middle (%s)", buf);
	url_redact("http://h/q?APIKEY=SECRET123", buf, sizeof(buf));
	ok(strcmp(buf, "http://h/q?APIKEY=***") == 0, "redact APIKEY first and last, any case (%s)", buf);
	url_redact("http://h/q?a=1&token=SECRET123#x&api_key=SECRET123", buf, sizeof(buf));
	ok(strcmp(buf, "http://h/q?a=1&token=***#x&api_key=***") == 0, "redact token and api_key (%s)", buf);
	url_redact("http://h/q?myapikey=visible", buf, sizeof(buf));
	ok(strcmp(buf, "http://h/q?myapikey=visible") == 0, "only whole parameter names are redacted (%s)", buf);
	url_redact("http://h/q?apikey=SECRET123", buf, 16);
	ok(strcmp(buf, "http://h/q?apik") == 0, "redaction truncates safely (%s)", buf);
	url_redact("http://h/q?apikey=SECRET123", buf, 22);
	ok(strstr(buf, "SEC") == NULL, "a truncated redaction never shows the key (%s)", buf);
}

int
main(int argc, char **argv)
{
	if (argc != 3)
	{
		fprintf(stderr, "usage: %s FIXTURES_DIR GENERATED_DIR\n", argv[0]);
		return 2;
	}
	fixtures = argv[1];
	generated = argv[2];
	test_twelvedata();
	test_malformed(parse_twelvedata, "twelvedata", "twelvedata/AAPL_1min.json");
	test_alphavantage();
	test_malformed(parse_alphavantage, "alphavantage", "alphavantage/IBM_5min.json");
	test_yahoo();
	test_malformed(parse_yahoo, "yahoo", "yahoo/AAPL_1m.json");
	test_big("twelvedata", parse_twelvedata);
	test_big("alphavantage", parse_alphavantage);
	test_big("yahoo", parse_yahoo);
	test_actions();
	test_urls();
	test_grid();
	return failures ? 1 : 0;
}
