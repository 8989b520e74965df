/*
 * provider.h
 *		Parsing of market-data provider replies into bars.
 *
 * The parsers are plain C over json-c: no palloc, no ereport, no SPI, so
 * they are unit-tested outside the server (test/parsers) and never leave
 * json-c or libcurl memory behind an error.  The caller owns the result and
 * frees it with parse_result_free(); the worker copies what it keeps into
 * palloc'd memory before it can raise an error.
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
 * One bar as the provider sent it.  The instant is either an epoch (Yahoo)
 * or a naive wall-clock time in the IANA zone "zone" (TwelveData, Alpha
 * Vantage): the caller converts it with PostgreSQL's time zone library.
 */
typedef struct ParsedBar
{
	char		symbol[STOCKEXT_SYMBOL_MAXLEN + 1];
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
	char		message[512];	/* reason when status != PARSE_OK */
	ParsedBar  *bars;			/* malloc'd */
	size_t		nbars;
	size_t		bars_cap;
	SymbolError *symbol_errors; /* malloc'd */
	size_t		nsymbol_errors;
	size_t		symbol_errors_cap;
} ParseResult;

/*
 * Parse one reply.  http_status is the HTTP status code (0 when unknown);
 * symbol is the symbol that was asked for when the reply does not name it
 * (Alpha Vantage daily errors, Yahoo 404s), or NULL.  Never fails: every
 * outcome is described in *out, which must be freed with parse_result_free.
 */
extern void parse_twelvedata(const char *body, size_t len, int http_status,
							 const char *symbol, ParseResult *out);
extern void parse_alphavantage(const char *body, size_t len, int http_status,
							   const char *symbol, ParseResult *out);
extern void parse_yahoo(const char *body, size_t len, int http_status,
						const char *symbol, ParseResult *out);
extern void parse_result_free(ParseResult *out);

#endif							/* STOCKEXT_PROVIDER_H */
