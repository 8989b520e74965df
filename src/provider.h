/*
 * provider.h
 *		Market-data providers: one interface (Provider), request URLs and
 *		parsing of their replies.
 *
 * Each provider file (provider_twelvedata.c, provider_alphavantage.c,
 * provider_yahoo.c, simulated.c) defines one const Provider: its facts and
 * its operations.  providers.c lists them; nothing else names a provider.
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

struct Feed;					/* poll.h: a local provider's store() reads it */

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

/*
 * A split or cash dividend a reply carries (Yahoo's events, the actions
 * endpoints' rows), for stockext.corporate_actions.  ex_day is the
 * ex-date, in days since 1970-01-01, read in the exchange's zone.
 */
typedef struct ParsedAction
{
	char		symbol[STOCKEXT_SYMBOL_MAXLEN + 1];	/* upper case */
	int64_t		ex_day;
	bool		is_split;
	double		split_from, split_to;	/* split: from shares become to */
	double		cash_amount;	/* dividend: cash per share, as traded */
	char		currency[4];	/* dividend: ISO 4217, or "" */
} ParsedAction;

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
	ParsedAction *actions;		/* malloc'd: splits and dividends */
	size_t		nactions;
	size_t		actions_cap;
	size_t		nskipped_null;	/* Yahoo bars left out for a null field */
	size_t		nskipped_partial;	/* Yahoo live partial bars left out */
} ParseResult;

/* The most bars one reply may hold; more is PARSE_MALFORMED. */
#define PROVIDER_MAX_BARS 1000000

/* One request to build: see provider_url. */
typedef struct ProviderRequest
{
	const char *base_url;		/* e.g. "https://api.twelvedata.com", no path */
	const char *const *symbols; /* up to the provider's max_symbols */
	int			nsymbols;
	int			interval_secs;	/* bar length: 60, 300, ..., 86400 */
	int64_t		start;			/* epoch seconds of the first bar wanted, */
	int64_t		stop;			/* and past the last; both 0 = the newest */
	int			outputsize;		/* bars wanted per symbol (newest ones) */
	const char *api_key;		/* NULL when the provider takes none */
	int			actions;		/* 0: bars; n >= 1: the nth request of the
								 * symbol's corporate actions (actions_url) */
} ProviderRequest;

/* A request URL being built (provider_common.c, over libcurl's URL API). */
typedef struct ProviderUrl ProviderUrl;

/* A bar length a provider serves, and how it spells it. */
typedef struct ProviderInterval
{
	int			secs;
	const char *name;			/* the provider's spelling: "1min", "60m" */
	int			history_days;	/* the longest range one history request
								 * covers, in days; 0: history_bars bars */
	bool		history_by_month;	/* history comes one calendar month (of
									 * UTC) per request */
} ProviderInterval;

/*
 * The settings of an HTTP provider, stockext.<name>_url,
 * stockext.<name>_requests_per_minute and _per_day (guc.c defines them from
 * the facts below); owned by the provider file, read through Provider.
 */
typedef struct ProviderSettings
{
	char	   *url;
	int			per_minute;
	int			per_day;
} ProviderSettings;

/*
 * One provider: what it is and what it does.  An HTTP provider has url and
 * parse (and settings); a local one (the simulated feed) has store instead.
 *
 * Operations added later are optional members, NULL where a provider does
 * not offer them, so that adding one touches no other provider: corporate
 * actions (actions_requests, actions_cost, actions_url, parse_actions)
 * are one; the shape reserved for issue #13 beside them:
 *  - trading calendar: bool (*session) (const char *symbol, int64_t day,
 *    int64_t *open, int64_t *close), the exchange's session of a date, NULL
 *    where the provider cannot tell (a caller then keeps polling around the
 *    clock, as today).
 */
typedef struct Provider
{
	const char *name;			/* stockext.feeds.provider, settings' names */
	const char *title;			/* in messages: "TwelveData" */
	const char *api_title;		/* in settings: "TwelveData API" */

	/*
	 * Bar lengths served: the table intervals[0..nintervals), or, when it is
	 * NULL, every whole number of seconds from min_secs to max_secs, which
	 * "serves" describes ("whole numbers of seconds from 1 second to 7
	 * days").
	 */
	const ProviderInterval *intervals;
	int			nintervals;
	int			min_secs;
	int			max_secs;
	const char *serves;

	int			max_symbols;	/* symbols one request may name */
	int			history_bars;	/* bars one history request returns at most */
	bool		takes_key;		/* feeds carry an API key */
	bool		browser_ua;		/* sends a browser's User-Agent (Yahoo
								 * answers 429 to others) */
	bool		adjusted_to_now;	/* its bars come adjusted for every split
									 * up to now while a reply lists only the
									 * splits in its range (Yahoo): a history
									 * request undoes the later ones recorded
									 * in stockext.corporate_actions */

	/* HTTP providers: settings and their defaults; NULL/0 for local ones. */
	ProviderSettings *settings;
	const char *default_url;
	int			default_per_minute;
	int			default_per_day;

	/*
	 * HTTP: adds the path and query of req to u, whose base (scheme, host,
	 * base path) provider_url has set and checked.  Returns NULL, or a static
	 * reason in the style of an error detail (an unsupported interval, too
	 * many symbols).
	 */
	const char *(*url) (const ProviderRequest *req, ProviderUrl *u);

	/*
	 * HTTP: parses one reply.  http_status is the HTTP status code (0 when
	 * unknown); symbol is the symbol that was asked for when the reply does
	 * not name it (Alpha Vantage daily errors, Yahoo 404s), or NULL.  Never
	 * fails: every outcome is described in *out, which must be freed with
	 * parse_result_free.
	 */
	void		(*parse) (const char *body, size_t len, int http_status,
						  const char *symbol, ParseResult *out);

	/*
	 * Local: stores the bars of symbol of feed (poll.h's Feed) from its
	 * newest stored bar to now, in the caller's transaction, and returns the
	 * rows stored.  Server side: it may raise errors.
	 */
	int64_t		(*store) (const struct Feed *feed, const char *symbol);

	/*
	 * HTTP, optional: a symbol's splits and dividends, all of them, in
	 * actions_requests requests (0: the provider offers none), each taking
	 * actions_cost from the request allowance (TwelveData counts credits:
	 * 20 per request of its /splits and /dividends).  actions_url adds the
	 * path and query of request req->actions (1..actions_requests) of
	 * req->symbols[0], as url does; parse_actions reads its reply into
	 * out->actions, as parse does (bars it may fill are not stored).
	 */
	int			actions_requests;
	int			actions_cost;
	const char *(*actions_url) (const ProviderRequest *req, ProviderUrl *u);
	void		(*parse_actions) (const char *body, size_t len, int http_status,
								  const char *symbol, ParseResult *out);
} Provider;

/* The HTTP providers (defined in their files). */
extern const Provider provider_twelvedata;
extern const Provider provider_alphavantage;
extern const Provider provider_yahoo;

/*
 * The parsers of the HTTP providers, also called by name by the C tests.
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

/*
 * The parsers of the corporate-actions endpoints: TwelveData /splits and
 * /dividends, Alpha Vantage function=SPLITS and DIVIDENDS (either reply to
 * either function: the body tells which it is).
 */
extern void parse_twelvedata_actions(const char *body, size_t len, int http_status,
									 const char *symbol, ParseResult *out);
extern void parse_alphavantage_actions(const char *body, size_t len, int http_status,
									   const char *symbol, ParseResult *out);
extern void parse_result_free(ParseResult *out);

/*
 * Turns a split-adjusted bar back into as traded: prices times factor (the
 * product of split_to / split_from of the splits after the bar), volume
 * divided by it and rounded.  Returns NULL, or why the bar is to be
 * rejected (a volume out of range).
 */
extern const char *undo_splits(double factor, double *open, double *high, double *low,
							   double *close, int64_t *volume);

/*
 * Builds the request URL of req for the HTTP provider p into *url (malloc'd,
 * the caller frees it): of bars, or of its corporate actions when
 * req->actions is set.  Returns NULL on success, else a static reason in
 * the style of an error detail (a bad base URL, an unsupported interval, too
 * many symbols), with *url NULL: never half a URL.
 */
extern const char *provider_url(const Provider *p, const ProviderRequest *req, char **url);

/* The provider's spelling of interval_secs, or NULL when it has none. */
extern const char *provider_interval_name(const Provider *p, int interval_secs);

/*
 * Copies url into buf with the value of every apikey=, api_key= and token=
 * query parameter replaced by "***", for logs and error messages.  Always
 * NUL-terminates; truncates to bufsize - 1 bytes.  URL_REDACT_SIZE(len)
 * bytes hold the whole redaction of a URL of len bytes: each "***" replaces
 * a value after a name of at least 6 bytes and its '?' or '&'.
 */
extern void url_redact(const char *url, char *buf, size_t bufsize);
#define URL_REDACT_SIZE(len) ((len) + 3 * ((len) / 7 + 1) + 1)

#endif							/* STOCKEXT_PROVIDER_H */
