/*
 * fuzz_parsers.c
 *		Seeded mutation fuzzing of the provider parsers, built with
 *		AddressSanitizer and UBSan by test/suites/20-parsers.
 *
 * Usage: fuzz_parsers ROUNDS FIXTURE...
 * Every fixture is mutated ROUNDS times (byte flips, cuts, spliced JSON
 * tokens, repeats) and fed to all three parsers under every HTTP status of
 * interest.  A crash or sanitizer report fails the suite; each result must
 * also be coherent (a failure holds no bars, every bar's problem is NULL or
 * a non-empty string, symbols and zones NUL-terminated).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider.h"
#include "tap.h"

typedef void (*ParseFn) (const char *, size_t, int, const char *, ParseResult *);

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t
next(void)
{
	/* xorshift64*: the same mutations on every run. */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1du;
}

static const char *const tokens[] = {
	"null", "\"\"", "\"abc\"", "1e999", "-1", "0", "9223372036854775808", "-9223372036854775809",
	"[]", "{}", "\"2025-02-30 25:61:61\"", "\"\\u0000\"", "true", "[[[[[[[[[[", "}}}}", ",",
	"\"status\":\"error\"", "\"code\":429", "\"values\":[", "\"timestamp\":[", "\"Time Series (1min)\":{",
	"1.7976931348623157e308", "\"NaN\"", "\"-0\"",
};

/* Writes a mutation of src into dst (capacity cap); returns its length. */
static size_t
mutate(const char *src, size_t len, char *dst, size_t cap)
{
	size_t		n = len < cap ? len : cap;
	int			edits = 1 + (int) (next() % 4);

	memcpy(dst, src, n);
	while (edits-- > 0 && n > 0)
	{
		size_t		at = next() % n;

		switch (next() % 5)
		{
			case 0:				/* flip a byte */
				dst[at] = (char) next();
				break;
			case 1:				/* cut */
				n = at;
				break;
			case 2:				/* splice a token */
				{
					const char *t = tokens[next() % (sizeof(tokens) / sizeof(tokens[0]))];
					size_t		tl = strlen(t);

					if (n + tl < cap)
					{
						memmove(dst + at + tl, dst + at, n - at);
						memcpy(dst + at, t, tl);
						n += tl;
					}
					break;
				}
			case 3:				/* delete a run */
				{
					size_t		run = next() % 16;

					if (at + run > n)
						run = n - at;
					memmove(dst + at, dst + at + run, n - at - run);
					n -= run;
					break;
				}
			case 4:				/* repeat a run */
				{
					size_t		run = next() % 64;

					if (at + run > n)
						run = n - at;
					if (n + run < cap)
					{
						memmove(dst + at + run, dst + at, n - at);
						n += run;
					}
					break;
				}
		}
	}
	return n;
}

static int
coherent(const ParseResult *r)
{
	if (r->status != PARSE_OK && r->nbars != 0)
		return 0;
	if (r->nbars > r->bars_cap || r->nsymbol_errors > r->symbol_errors_cap)
		return 0;
	if (r->nactions > r->actions_cap || (r->status != PARSE_OK && r->nactions != 0))
		return 0;
	/* An action is one stockext.corporate_actions accepts. */
	for (size_t i = 0; i < r->nactions; i++)
	{
		const ParsedAction *a = &r->actions[i];

		if (symbol_problem(a->symbol, strlen(a->symbol)) != NULL ||
			(a->is_split ? !(a->split_from > 0 && a->split_to > 0 && isfinite(a->split_from) &&
							 isfinite(a->split_to))
			 : !(a->cash_amount >= 0 && isfinite(a->cash_amount))))
			return 0;
	}
	if (memchr(r->message, '\0', sizeof(r->message)) == NULL)
		return 0;
	for (size_t i = 0; i < r->nbars; i++)
	{
		const ParsedBar *b = &r->bars[i];

		if ((b->problem != NULL && b->problem[0] == '\0') ||
			memchr(b->symbol, '\0', sizeof(b->symbol)) == NULL ||
			memchr(b->zone, '\0', sizeof(b->zone)) == NULL)
			return 0;
		/* A bar without a problem is a bar the ticks table accepts. */
		if (b->problem == NULL &&
			(bar_problem(b->open, b->high, b->low, b->close, b->has_volume, b->volume) != NULL ||
			 symbol_problem(b->symbol, strlen(b->symbol)) != NULL ||
			 (!b->has_epoch && b->zone[0] == '\0')))
			return 0;
	}
	return 1;
}

int
main(int argc, char **argv)
{
	static const ParseFn fns[] = {parse_twelvedata, parse_alphavantage, parse_yahoo};
	static const ParseFn actions[] = {parse_twelvedata_actions, parse_alphavantage_actions};
	static const int statuses[] = {200, 404, 429, 503};
	long		rounds;
	long		runs = 0,
				incoherent = 0;

	if (argc < 3)
	{
		fprintf(stderr, "usage: %s ROUNDS FIXTURE...\n", argv[0]);
		return 2;
	}
	rounds = atol(argv[1]);
	for (int f = 2; f < argc; f++)
	{
		FILE	   *fp = fopen(argv[f], "rb");
		char	   *src;
		char	   *buf;
		long		len;

		if (fp == NULL)
			return 2;
		fseek(fp, 0, SEEK_END);
		len = ftell(fp);
		fseek(fp, 0, SEEK_SET);
		src = malloc(len + 1);
		buf = malloc(2 * len + 256);
		if (src == NULL || buf == NULL || fread(src, 1, len, fp) != (size_t) len)
			return 2;
		fclose(fp);
		for (long i = 0; i < rounds; i++)
		{
			size_t		n = mutate(src, (size_t) len, buf, 2 * len + 256);
			/* Exact length, no terminator: a parser that reads past it trips ASan. */
			char	   *exact = malloc(n ? n : 1);

			memcpy(exact, buf, n);
			for (size_t p = 0; p < 3; p++)
			{
				ParseResult r;

				parse_twelvedata_zone(exact, n, statuses[i % 4], "X", p ? "UTC" : NULL, &r);
				incoherent += !coherent(&r);
				parse_result_free(&r);
				fns[p] (exact, n, statuses[(i + p) % 4], p == 2 ? NULL : "AAPL", &r);
				incoherent += !coherent(&r);
				parse_result_free(&r);
				runs += 2;
			}
			for (size_t p = 0; p < 2; p++)
			{
				ParseResult r;

				actions[p] (exact, n, statuses[(i + p) % 4], p ? NULL : "AAPL", &r);
				incoherent += !coherent(&r);
				parse_result_free(&r);
				runs++;
			}
			free(exact);
		}
		free(src);
		free(buf);
	}
	ok(incoherent == 0, "fuzz: %ld parses of mutated fixtures, no crash, no sanitizer report, %ld incoherent results",
	   runs, incoherent);
	return failures ? 1 : 0;
}
