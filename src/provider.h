/*
 * provider.h
 *		Market-data providers: request URLs and parsing of their replies.
 *
 * The parsers are plain C over json-c: no palloc, no ereport, no SPI, so
 * they are unit-tested outside the server (test/parsers) and never leave
 * json-c or libcurl memory behind an error.  The caller owns the result and
 * frees it with parse_result_free(); the worker copies what it keeps into
 * palloc'd memory before it can raise an error.
 *
 * Speed and memory: json-c builds a tree of small malloc'd objects, several
 * times the body's size, which glibc gives back to the kernel when it is
 * freed, so every large reply would fault its tree in again.  The long
 * series (TwelveData's "values", Alpha Vantage's "Time Series") are
 * therefore read one bar at a time (provider_series.c), with a heap of a few
 * kilobytes beyond the bars; bench/parsers.sh measures both routes.  Yahoo's
 * columns of numbers are json-c's as a whole.
 *
 * Time rules (the README's "Providers" section says why):
 *  - An intraday bar is its open instant.  Yahoo sends epochs; TwelveData is
 *    asked for timezone=UTC, so its wall times are UTC and come out as
 *    epochs too; Alpha Vantage sends wall times in its "Time Zone" (US/Eastern
 *    mapped to America/New_York) that the caller converts.
 *  - A daily or longer bar is midnight of its trading date in the exchange's
 *    zone, whatever the provider: a wall time with zone, never an epoch.
 */
#ifndef STOCKEXT_PROVIDER_H
#define STOCKEXT_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bar.h"

typedef enum ProviderKind
{
	PROVIDER_TWELVEDATA,
	PROVIDER_ALPHAVANTAGE,
	PROVIDER_YAHOO
} ProviderKind;

/* What a reply meant, decided from the HTTP status and the body. */
typedef enum ParseStatus
{
	PARSE_OK,					/* bars (possibly none) were read */
	PARSE_RATE_LIMITED,			/* 429 or a rate-limit body: back off */
	PARSE_PROVIDER_ERROR,		/* the provider refused (bad symbol, key, plan) */
	PARSE_SERVER_ERROR,			/* 5xx or a maintenance page: retry later */
	PARSE_MALFORMED				/* not the documented shape: truncated, bad JSON */
} ParseStatus;

/*
 * One bar as the provider sent it.  When has_epoch is set the instant is
 * "epoch"; otherwise it is the naive wall-clock time year..sec in the IANA
 * zone "zone", which the caller converts with PostgreSQL's time zone
 * library (an ambiguous fall-back wall time gets PostgreSQL's reading).
 */
typedef struct ParsedBar
{
	char		symbol[STOCKEXT_SYMBOL_MAXLEN + 1];	/* upper case */
	bool		has_epoch;
	int64_t		epoch;			/* seconds since 1970-01-01 UTC */
	int			year, mon, mday, hour, min, sec;	/* wall time, mon 1-12 */
	char		zone[64];		/* IANA zone of the wall time */
	double		open, high, low, close;
	bool		has_volume;
	int64_t		volume;
	const char *problem;		/* non-NULL: reject this bar with the reason */
} ParsedBar;

/* A symbol that failed inside an otherwise good batch reply. */
typedef struct SymbolError
{
	char		symbol[STOCKEXT_SYMBOL_MAXLEN + 1];
	int			code;
	char		message[256];
} SymbolError;

typedef struct ParseResult
{
	ParseStatus status;
	int			provider_code;	/* the provider's own error code, or 0 */
	char		message[512];	/* reason when status != PARSE_OK, or a note */
	ParsedBar  *bars;			/* malloc'd, in the provider's order */
	size_t		nbars;
	size_t		bars_cap;
	SymbolError *symbol_errors; /* malloc'd */
	size_t		nsymbol_errors;
	size_t		symbol_errors_cap;
	size_t		nskipped_null;	/* Yahoo bars left out for a null field */
	size_t		nskipped_partial;	/* Yahoo live partial bars left out */
} ParseResult;

/* The most bars one reply may hold; more is PARSE_MALFORMED. */
#define PROVIDER_MAX_BARS 1000000

/*
 * Parse one reply.  http_status is the HTTP status code (0 when unknown);
 * symbol is the symbol that was asked for when the reply does not name it
 * (Alpha Vantage daily errors, Yahoo 404s), or NULL.  Never fails: every
 * outcome is described in *out, which must be freed with parse_result_free.
 *
 * parse_twelvedata reads replies to provider_url()'s requests, which ask
 * for timezone=UTC.  parse_twelvedata_zone reads a reply to a request that
 * asked for another zone: request_zone NULL means TwelveData's default
 * ("Exchange"), whose wall times are in meta.exchange_timezone.
 */
extern void parse_twelvedata(const char *body, size_t len, int http_status,
							 const char *symbol, ParseResult *out);
extern void parse_twelvedata_zone(const char *body, size_t len, int http_status,
								  const char *symbol, const char *request_zone,
								  ParseResult *out);
extern void parse_alphavantage(const char *body, size_t len, int http_status,
							   const char *symbol, ParseResult *out);
extern void parse_yahoo(const char *body, size_t len, int http_status,
						const char *symbol, ParseResult *out);
extern void parse_result_free(ParseResult *out);

/* One request to build: see provider_url. */
typedef struct ProviderRequest
{
	const char *base_url;		/* e.g. "https://api.twelvedata.com", no path */
	const char *const *symbols; /* TwelveData takes several, the others one */
	int			nsymbols;
	int			interval_secs;	/* bar length: 60, 300, ..., 86400 */
	int64_t		start;			/* epoch seconds of the first bar wanted, */
	int64_t		stop;			/* and past the last; both 0 = the newest */
	int			outputsize;		/* bars wanted per symbol (newest ones) */
	const char *api_key;		/* NULL when the provider takes none */
} ProviderRequest;

/*
 * Writes the request URL for req into buf (NUL-terminated).  Returns NULL on
 * success, else a static reason in the style of an error detail (an
 * unsupported interval, too many symbols, a URL longer than bufsize).
 */
extern const char *provider_url(ProviderKind kind, const ProviderRequest *req,
								char *buf, size_t bufsize);

/* The provider's name for interval_secs, or NULL when it has none. */
extern const char *provider_interval_name(ProviderKind kind, int interval_secs);

/*
 * Copies url into buf with the value of every apikey=, api_key= and token=
 * query parameter replaced by "***", for logs and error messages.  Always
 * NUL-terminates; truncates to bufsize - 1 bytes.
 */
extern void url_redact(const char *url, char *buf, size_t bufsize);

#endif							/* STOCKEXT_PROVIDER_H */
