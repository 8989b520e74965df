/*
 * provider_common.h
 *		Helpers shared by the provider parsers and URL builders (internal).
 */
#ifndef STOCKEXT_PROVIDER_COMMON_H
#define STOCKEXT_PROVIDER_COMMON_H

#include <json-c/json.h>

#include "provider.h"

/* Latest epoch accepted anywhere: 9999-12-31 23:59:59 UTC. */
#define PC_MAX_EPOCH INT64_C(253402300799)

/*
 * A split's factors beyond a million to one, or a dividend of more than
 * 1e12 a share, are no corporate action: the reply is misread.
 */
#define PC_MAX_SPLIT_FACTOR 1e6
#define PC_MAX_DIVIDEND 1e12

/* Deeper JSON than this is not a provider reply; it bounds json-c's stack. */
#define PC_JSON_MAX_DEPTH 32

/* Starts a result: all zero, status PARSE_OK. */
extern void pc_begin(ParseResult *out);

/* Sets status, code and a printf-style message; frees bars already read. */
extern void pc_fail(ParseResult *out, ParseStatus status, int code,
					const char *fmt,...) __attribute__((format(printf, 4, 5)));

/*
 * Parses the whole body as one JSON value.  On failure returns NULL after
 * pc_fail(PARSE_MALFORMED) naming what was wrong (truncated, bad syntax,
 * trailing bytes).
 */
extern json_object *pc_parse_json(const char *body, size_t len, ParseResult *out);

/*
 * pc_parse_json, then: a body that is no JSON object gets its status from
 * the HTTP status (a plain-text 429 is a rate limit) or PARSE_MALFORMED.
 */
extern json_object *pc_parse_object(const char *body, size_t len, int http_status,
									ParseResult *out);

/*
 * pc_parse_object for replies whose series may be large: a member of the
 * root object, or of an object directly under it, whose name is_series()
 * accepts and whose value is an array or object is left out of the tree
 * (provider_series.c).  Its place holds an empty container of the same kind
 * that pc_series_open() reads the series from, one element at a time.
 */
typedef bool (*PcSeriesName) (const char *name);
extern json_object *pc_parse_object_series(const char *body, size_t len, int http_status,
										   PcSeriesName is_series, ParseResult *out);

/* Reading one series left out by pc_parse_object_series. */
typedef struct PcSeries
{
	const char *body;
	size_t		pos;			/* next byte to read */
	size_t		close;			/* offset of the closing bracket */
	bool		members;		/* an object: elements have names */
	bool		started;
	json_tokener *tok;
	json_object *name;			/* the current element, freed by the next call */
	json_object *value;
} PcSeries;

/*
 * Starts reading the series that container (a member of the tree) stands
 * for, with room made in out for as many bars as it has elements.  False
 * when it cannot (out failed).  pc_series_close() must follow either way.
 */
extern bool pc_series_open(json_object *container, const char *body, PcSeries *s,
						   ParseResult *out);

/*
 * The next element: true with *value (NULL for JSON null) and, for an
 * object, *name; both are valid until the next call.  False at the end of
 * the series, or when it is malformed (out failed: check out->status).
 */
extern bool pc_series_next(PcSeries *s, const char **name, json_object **value,
						   ParseResult *out);
extern void pc_series_close(PcSeries *s);

/* The status a non-JSON or unrecognised reply gets from its HTTP status. */
extern bool pc_http_failure(int http_status, ParseResult *out);

/*
 * The end of a parse whose series were read apart: under an HTTP error
 * status bars are not to be trusted, and a 429 or 5xx says more than a
 * series found malformed while it was read.
 */
extern void pc_http_decides(int http_status, ParseResult *out);

/*
 * Makes room for n more bars at once, so a large reply takes one allocation
 * rather than a doubling series interleaved with json-c's small objects
 * (which fragmented the heap: several times slower on repeated parses).
 * False when out of memory or past PROVIDER_MAX_BARS (out already failed).
 */
extern bool pc_reserve(ParseResult *out, size_t n);

/* A new zeroed bar at the end of out->bars, or NULL (out already failed). */
extern ParsedBar *pc_add_bar(ParseResult *out);

/* Records a failed symbol of a batch, upper-cased; false when out of memory. */
extern bool pc_add_symbol_error(ParseResult *out, const char *symbol,
								int code, const char *message);

/*
 * A new zeroed action of symbol (upper-cased; the caller has checked it) at
 * the end of out->actions, or NULL (out already failed).
 */
extern ParsedAction *pc_add_action(ParseResult *out, const char *symbol, size_t len);

/*
 * Whether symbol may carry corporate actions; if not, fails out
 * (PARSE_MALFORMED: no action can be stored under it).
 */
extern bool pc_action_symbol(const char *symbol, size_t len, ParseResult *out);

/*
 * An ex-date: a JSON string "YYYY-MM-DD" (a real date), as days since
 * 1970-01-01.  False for anything else (Alpha Vantage's "None", a time).
 */
extern bool pc_action_day(json_object *v, int64_t *day);

/* Sets a dividend's currency: an ISO 4217 code of three capitals, else none. */
extern void pc_action_currency(ParsedAction *a, const char *currency);

/* Copies a JSON string's symbol into bar->symbol, upper-cased, checking it. */
extern void pc_set_symbol(ParsedBar *bar, const char *symbol, size_t len);

/*
 * A price from a JSON number or a numeric string.  Returns NULL and sets *v,
 * or a static reason naming the field ("open is not a number").
 */
extern const char *pc_price(json_object *v, const char *field, double *d);

/* A volume from a JSON integer or an integer string; as pc_price. */
extern const char *pc_volume(json_object *v, int64_t *vol);

/*
 * Reads "YYYY-MM-DD" (a daily bar: midnight) or "YYYY-MM-DD HH:MM[:SS]"
 * into bar's wall time.  Returns false when it is no valid time.  *date_only
 * tells which form it was.
 */
extern bool pc_wall_time(const char *s, size_t len, ParsedBar *bar, bool *date_only);

/* Seconds since the epoch of a UTC wall time (timegm). */
extern int64_t pc_utc_epoch(int year, int mon, int mday, int hour, int min, int sec);

/* Sets bar's wall time from a UTC epoch shifted by offset seconds (gmtime_r). */
extern void pc_wall_from_epoch(ParsedBar *bar, int64_t epoch, int64_t offset);

/*
 * Copies an IANA zone name into bar->zone, mapping legacy US/ aliases; an
 * empty, overlong or oddly spelled name is the bar's problem.
 */
extern void pc_set_zone(ParsedBar *bar, const char *zone);

/* Runs bar_problem() on a bar whose fields are all read. */
extern void pc_check_bar(ParsedBar *bar);

/* A member of an object whose key, after an optional "N. " prefix, is name. */
extern json_object *pc_member_suffix(json_object *obj, const char *name);

/*
 * Building a request URL (struct ProviderUrl in provider_common.c): a
 * provider's url() adds path and query to the base that provider_url has
 * set.  These never fail on their own: a failure (out of memory) is kept in
 * u, and provider_url reports it.
 */

/* Appends literal to the path, then segment escaped when it is not NULL. */
extern void pc_url_path(ProviderUrl *u, const char *literal, const char *segment);

/* Appends name=value to the query, the value escaped (curl_easy_escape). */
extern void pc_url_param(ProviderUrl *u, const char *name, const char *value);

/* Appends name=v1,v2,... with each value escaped. */
extern void pc_url_param_list(ProviderUrl *u, const char *name, const char *const *values, int n);

/* Appends name=value with a printf-style value written as it is (safe text). */
extern void pc_url_param_raw(ProviderUrl *u, const char *name, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/* Appends apikey=KEY (escaped) when api_key is set. */
extern void pc_url_key(ProviderUrl *u, const char *api_key);

#endif							/* STOCKEXT_PROVIDER_COMMON_H */
