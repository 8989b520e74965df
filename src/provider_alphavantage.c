/*
 * provider_alphavantage.c
 *		Alpha Vantage TIME_SERIES_INTRADAY / TIME_SERIES_DAILY: URLs and replies.
 *
 * A reply is {"Meta Data":{...,"6. Time Zone":"US/Eastern"},"Time Series
 * (5min)":{"YYYY-MM-DD HH:MM:SS":{"1. open":"...",...},...}}: the series is
 * an object keyed by wall time (order meaningless), every value a string.
 * Errors and limits come back as HTTP 200 with one key, checked in the
 * reference client's order: "Error Message", "Information", "Note".
 *
 * Corporate actions come from function=SPLITS and function=DIVIDENDS
 * (Alpha Vantage's documentation, "Fundamental Data"): {"symbol":"IBM",
 * "data":[{"effective_date":"1999-05-27","split_factor":"2.0000"}]} and
 * {"symbol":"IBM","data":[{"ex_dividend_date","declaration_date",
 * "record_date","payment_date","amount"}]}, every value a string and a
 * date not known "None".  split_factor is shares after per share before.
 */
#include <string.h>
#include <strings.h>

#include "provider_common.h"

/* Intraday history comes one calendar month of UTC per request. */
static const ProviderInterval av_intervals[] = {
	{60, "1min", 0, true}, {300, "5min", 0, true}, {900, "15min", 0, true},
	{1800, "30min", 0, true}, {3600, "60min", 0, true}, {86400, "daily", 0, false},
};

/* Case-insensitive substring test on a NUL-terminated message. */
static bool
contains(const char *s, const char *word)
{
	size_t		n = strlen(word);

	for (; *s; s++)
	{
		if (strncasecmp(s, word, n) == 0)
			return true;
	}
	return false;
}

/*
 * An "Information" body is either a limit (daily cap, burst) or the
 * premium gate ("This is a premium endpoint", "outputsize=full is a premium
 * feature").  The limit texts mention premium plans too, so only "is a
 * premium" marks the gate.  Anything else is read as a limit: backing off
 * is the safe answer to a notice we do not know.
 */
static ParseStatus
av_information_status(const char *msg)
{
	if (contains(msg, "is a premium"))
		return PARSE_PROVIDER_ERROR;
	return PARSE_RATE_LIMITED;
}

/* Handles an error or limit body; false when root is none. */
static bool
av_error(json_object *root, ParseResult *out)
{
	static const char *const keys[] = {"Error Message", "Information", "Note"};

	for (int i = 0; i < 3; i++)
	{
		json_object *v;
		const char *msg;
		ParseStatus status;

		if (!json_object_object_get_ex(root, keys[i], &v))
			continue;
		msg = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "(no message)";
		if (i == 0)
			status = PARSE_PROVIDER_ERROR;
		else if (i == 1)
			status = av_information_status(msg);
		else
			status = PARSE_RATE_LIMITED;
		pc_fail(out, status, 0, "Alpha Vantage %s: %s", keys[i], msg);
		return true;
	}
	return false;
}

/* The series is streamed (provider_series.c). */
static bool
av_is_series(const char *name)
{
	return strncmp(name, "Time Series", 11) == 0;
}

static void
av_bar(const char *key, json_object *val, const char *symbol, size_t symlen,
	   const char *zone, ParseResult *out)
{
	static const char *const fields[] = {"open", "high", "low", "close"};
	ParsedBar  *bar = pc_add_bar(out);
	double	   *prices[4];
	json_object *v;
	bool		date_only;

	if (bar == NULL)
		return;
	prices[0] = &bar->open;
	prices[1] = &bar->high;
	prices[2] = &bar->low;
	prices[3] = &bar->close;
	pc_set_symbol(bar, symbol, symlen);
	if (!pc_wall_time(key, strlen(key), bar, &date_only) && bar->problem == NULL)
		bar->problem = "datetime is not a valid time";
	if (zone == NULL)
	{
		if (bar->problem == NULL)
			bar->problem = "reply names no time zone";
	}
	else
		pc_set_zone(bar, zone);
	if (!json_object_is_type(val, json_type_object))
	{
		if (bar->problem == NULL)
			bar->problem = "value is not an object";
		return;
	}
	for (int i = 0; i < 4; i++)
	{
		const char *problem = pc_price(pc_member_suffix(val, fields[i]), fields[i], prices[i]);

		if (problem != NULL && bar->problem == NULL)
			bar->problem = problem;
	}
	v = pc_member_suffix(val, "volume");
	if (v != NULL)
	{
		const char *problem = pc_volume(v, &bar->volume);

		bar->has_volume = true;
		if (problem != NULL && bar->problem == NULL)
			bar->problem = problem;
	}
	pc_check_bar(bar);
}

void
parse_alphavantage(const char *body, size_t len, int http_status,
				   const char *symbol, ParseResult *out)
{
	json_object *root;
	json_object *meta = NULL;
	json_object *series = NULL;
	json_object *v;
	const char *zone = NULL;
	const char *when;
	size_t		symlen = symbol ? strlen(symbol) : 0;
	PcSeries	stream;

	pc_begin(out);
	root = pc_parse_object_series(body, len, http_status, av_is_series, out);
	if (root == NULL)
		return;
	if (av_error(root, out))
	{
		json_object_put(root);
		return;
	}
	{
		json_object_object_foreach(root, key, val)
		{
			if (strncmp(key, "Time Series", 11) == 0 && json_object_is_type(val, json_type_object))
				series = val;
			else if (strcmp(key, "Meta Data") == 0 && json_object_is_type(val, json_type_object))
				meta = val;
		}
	}
	if (series == NULL)
	{
		if (!pc_http_failure(http_status, out))
			pc_fail(out, PARSE_MALFORMED, 0, "reply has no \"Time Series\" object");
		json_object_put(root);
		return;
	}
	if (meta != NULL)
	{
		v = pc_member_suffix(meta, "Symbol");
		if (v != NULL && json_object_is_type(v, json_type_string))
		{
			symbol = json_object_get_string(v);
			symlen = (size_t) json_object_get_string_len(v);
		}
		v = pc_member_suffix(meta, "Time Zone");
		if (v != NULL && json_object_is_type(v, json_type_string))
			zone = json_object_get_string(v);
	}
	if (symbol == NULL)
		symbol = "";
	if (pc_series_open(series, body, &stream, out))
	{
		while (pc_series_next(&stream, &when, &v, out))
		{
			av_bar(when, v, symbol, symlen, zone, out);
			if (out->status != PARSE_OK)
				break;
		}
	}
	pc_series_close(&stream);
	pc_http_decides(http_status, out);
	json_object_put(root);
}

static const char *
av_url(const ProviderRequest *req, ProviderUrl *u)
{
	const char *interval = provider_interval_name(&provider_alphavantage, req->interval_secs);
	bool		daily = req->interval_secs == 86400;
	bool		range = req->start != 0 || req->stop != 0;

	if (interval == NULL)
		return "Alpha Vantage has no bars of this length; it offers 1, 5, 15, 30 and 60 minutes and 1 day.";
	if (req->nsymbols != 1)
		return "An Alpha Vantage request takes exactly one symbol.";
	pc_url_path(u, "/query", NULL);
	pc_url_param(u, "function", daily ? "TIME_SERIES_DAILY" : "TIME_SERIES_INTRADAY");
	pc_url_param(u, "symbol", req->symbols[0]);
	/*
	 * As traded: intraday is split- and dividend-adjusted unless asked not
	 * to be; TIME_SERIES_DAILY is the raw series and takes no such option.
	 */
	if (!daily)
	{
		pc_url_param(u, "interval", interval);
		pc_url_param(u, "adjusted", "false");
	}
	if (!daily && range)
	{
		ParsedBar	first,
					last;

		/* History comes a calendar month (of UTC) per request. */
		pc_wall_from_epoch(&first, req->start, 0);
		pc_wall_from_epoch(&last, req->stop - 1, 0);
		if (first.year != last.year || first.mon != last.mon)
			return "Alpha Vantage returns intraday history one calendar month per request; split the range by month.";
		pc_url_param_raw(u, "month", "%04d-%02d", first.year, first.mon);
	}
	/* compact is the newest 100 bars; a range needs the whole series. */
	pc_url_param(u, "outputsize", range || req->outputsize > 100 ? "full" : "compact");
	pc_url_key(u, req->api_key);
	return NULL;
}

/*
 * A row of "data": a split (effective_date, split_factor) or a dividend
 * (ex_dividend_date, amount), whichever function it answers.  A split that
 * cannot be read fails the reply; a dividend is left out (as Yahoo's).
 */
static void
av_action(json_object *row, const char *symbol, size_t symlen, ParseResult *out)
{
	json_object *v = NULL;
	int64_t		day;
	double		d;
	ParsedAction *a;

	if (json_object_is_type(row, json_type_object) &&
		json_object_object_get_ex(row, "split_factor", &v))
	{
		json_object *date = NULL;

		json_object_object_get_ex(row, "effective_date", &date);
		if (!pc_action_day(date, &day) || pc_price(v, "split_factor", &d) != NULL ||
			d < 1 / PC_MAX_SPLIT_FACTOR || d > PC_MAX_SPLIT_FACTOR)
		{
			pc_fail(out, PARSE_MALFORMED, 0, "a split lacks a valid effective_date or split_factor");
			return;
		}
		if ((a = pc_add_action(out, symbol, symlen)) == NULL)
			return;
		a->ex_day = day;
		a->is_split = true;
		a->split_from = 1;
		a->split_to = d;
		return;
	}
	if (!json_object_is_type(row, json_type_object) ||
		!json_object_object_get_ex(row, "ex_dividend_date", &v) || !pc_action_day(v, &day) ||
		!json_object_object_get_ex(row, "amount", &v) || pc_price(v, "amount", &d) != NULL ||
		d < 0 || d > PC_MAX_DIVIDEND)
		return;
	if ((a = pc_add_action(out, symbol, symlen)) == NULL)
		return;
	a->ex_day = day;
	a->cash_amount = d;
}

void
parse_alphavantage_actions(const char *body, size_t len, int http_status,
						   const char *symbol, ParseResult *out)
{
	json_object *root;
	json_object *rows;
	json_object *v;
	size_t		symlen = symbol ? strlen(symbol) : 0;

	pc_begin(out);
	root = pc_parse_object(body, len, http_status, out);
	if (root == NULL)
		return;
	if (av_error(root, out))
	{
		json_object_put(root);
		return;
	}
	if (json_object_object_get_ex(root, "symbol", &v) && json_object_is_type(v, json_type_string))
	{
		symbol = json_object_get_string(v);
		symlen = (size_t) json_object_get_string_len(v);
	}
	if (!json_object_object_get_ex(root, "data", &rows) || !json_object_is_type(rows, json_type_array))
	{
		if (!pc_http_failure(http_status, out))
			pc_fail(out, PARSE_MALFORMED, 0, "reply has no \"data\" array");
	}
	else if (json_object_array_length(rows) > 0 &&
			 pc_action_symbol(symbol ? symbol : "", symlen, out))
	{
		size_t		n = json_object_array_length(rows);

		for (size_t i = 0; i < n && out->status == PARSE_OK; i++)
			av_action(json_object_array_get_idx(rows, i), symbol, symlen, out);
	}
	pc_http_decides(http_status, out);
	json_object_put(root);
}

/* Request 1 is function=SPLITS, 2 DIVIDENDS: all of the symbol's history. */
static const char *
av_actions_url(const ProviderRequest *req, ProviderUrl *u)
{
	pc_url_path(u, "/query", NULL);
	pc_url_param(u, "function", req->actions == 1 ? "SPLITS" : "DIVIDENDS");
	pc_url_param(u, "symbol", req->symbols[0]);
	pc_url_key(u, req->api_key);
	return NULL;
}

static ProviderSettings av_settings;

const Provider provider_alphavantage = {
	.name = "alphavantage",
	.title = "Alpha Vantage",
	.api_title = "Alpha Vantage API",
	.intervals = av_intervals,
	.nintervals = sizeof(av_intervals) / sizeof(av_intervals[0]),
	.max_symbols = 1,
	.history_bars = 5000,
	.takes_key = true,
	.settings = &av_settings,
	.default_url = "https://www.alphavantage.co",
	/* The free plan's limits. */
	.default_per_minute = 5,
	.default_per_day = 25,
	.url = av_url,
	.parse = parse_alphavantage,
	.actions_requests = 2,
	.actions_cost = 1,
	.actions_url = av_actions_url,
	.parse_actions = parse_alphavantage_actions,
};
