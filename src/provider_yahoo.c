/*
 * provider_yahoo.c
 *		Yahoo Finance /v8/finance/chart/SYMBOL: URLs and replies.
 *
 * A reply is {"chart":{"result":[{"meta":{...},"timestamp":[epochs],
 * "indicators":{"quote":[{"open":[...],...,"volume":[...]}]}}],"error":null}}.
 * Prices are JSON numbers, timestamps UTC epochs of the bar's open.  Rules:
 *  - a bar with a null in any field is left out (counted), never zeros;
 *  - at an intraday granularity, a last bar off the minute or inside the
 *    previous bar's interval is the live partial bar: left out (counted),
 *    because it would be stored under a time no complete bar has;
 *  - a daily or longer bar is midnight of its trading date in
 *    exchangeTimezoneName, the date read with meta.gmtoffset (the offset in
 *    force now: off by at most the DST hour, which does not move a bar
 *    stamped at the session's open to another date).
 * A 429 has a plain-text body and an outage a "Will be right back" page,
 * both checked before JSON.
 *
 * Yahoo's OHLC and volume are split-adjusted (dividends only touch
 * adjclose, which is not read).  Bars are stored as traded, so the request
 * asks for events=div,splits and each bar dated before a split's date is
 * turned back: prices times numerator / denominator, volume divided by it.
 * The events come out as ParsedActions for stockext.corporate_actions.
 * Yahoo lists only the events inside the range asked for, while it adjusts
 * for every split up to now: fetch_history undoes the later splits that
 * stockext.corporate_actions records (adjusted_to_now).
 */
#include <math.h>
#include <string.h>

#include "provider_common.h"

/* History of bars under an hour: 7 days per request. */
static const ProviderInterval yahoo_intervals[] = {
	{60, "1m", 7, false}, {120, "2m", 7, false}, {300, "5m", 7, false},
	{900, "15m", 7, false}, {1800, "30m", 7, false}, {3600, "60m", 0, false},
	{5400, "90m", 0, false}, {86400, "1d", 0, false}, {604800, "1wk", 0, false},
};

/* dataGranularity in seconds ("1h" is an alias of "60m"), or 0. */
static int
yahoo_granularity(const char *name)
{
	if (name == NULL)
		return 0;
	if (strcmp(name, "1h") == 0)
		return 3600;
	if (strcmp(name, "1mo") == 0 || strcmp(name, "3mo") == 0 || strcmp(name, "5d") == 0)
		return 86400 * 5;		/* longer than a day: dated bars */
	for (size_t i = 0; i < sizeof(yahoo_intervals) / sizeof(yahoo_intervals[0]); i++)
	{
		if (strcmp(yahoo_intervals[i].name, name) == 0)
			return yahoo_intervals[i].secs;
	}
	return 0;
}

static json_object *
member(json_object *obj, const char *key, json_type type)
{
	json_object *v;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, type))
		return NULL;
	return v;
}

static const char *
member_string(json_object *obj, const char *key)
{
	json_object *v = member(obj, key, json_type_string);

	return v ? json_object_get_string(v) : NULL;
}

/* An epoch from a JSON integer (or integral double); false if none. */
static bool
yahoo_epoch(json_object *v, int64_t *epoch)
{
	if (json_object_is_type(v, json_type_int))
		*epoch = json_object_get_int64(v);
	else if (json_object_is_type(v, json_type_double))
	{
		double		d = json_object_get_double(v);

		/*
		 * Range first: converting a double outside int64_t (1e300, NaN) is
		 * undefined behaviour, found by test/fuzz/fuzz_yahoo.c.
		 */
		if (!(d >= 0 && d <= (double) PC_MAX_EPOCH) || d != floor(d))
			return false;
		*epoch = (int64_t) d;
	}
	else
		return false;
	return *epoch >= 0 && *epoch <= PC_MAX_EPOCH;
}

static bool
yahoo_chart_error(json_object *chart, int http_status, ParseResult *out)
{
	json_object *err;
	const char *code;
	const char *desc;

	if (!json_object_object_get_ex(chart, "error", &err) || json_object_is_type(err, json_type_null))
		return false;
	code = member_string(err, "code");
	desc = member_string(err, "description");
	pc_fail(out, http_status >= 500 ? PARSE_SERVER_ERROR : PARSE_PROVIDER_ERROR,
			http_status, "Yahoo error %s: %s", code ? code : "(no code)",
			desc ? desc : "(no description)");
	return true;
}

typedef struct YahooArrays
{
	json_object *ts,
			   *open,
			   *high,
			   *low,
			   *close,
			   *volume;
	size_t		n;
} YahooArrays;

/* The five quote arrays, each as long as the timestamps; false if not. */
static bool
yahoo_arrays(json_object *result, YahooArrays *a, ParseResult *out)
{
	json_object *quotes = member(member(result, "indicators", json_type_object),
								 "quote", json_type_array);
	json_object *quote = quotes && json_object_array_length(quotes) > 0
		? json_object_array_get_idx(quotes, 0) : NULL;
	json_object **arrays[] = {&a->open, &a->high, &a->low, &a->close, &a->volume};
	static const char *const names[] = {"open", "high", "low", "close", "volume"};

	a->n = json_object_array_length(a->ts);
	for (int i = 0; i < 5; i++)
	{
		*arrays[i] = member(quote, names[i], json_type_array);
		if (*arrays[i] == NULL || json_object_array_length(*arrays[i]) != a->n)
		{
			pc_fail(out, PARSE_MALFORMED, 0,
					"reply's \"%s\" array is missing or not as long as \"timestamp\"", names[i]);
			return false;
		}
	}
	return true;
}

/* A member of any type, or NULL: the readers below check the type. */
static json_object *
field(json_object *obj, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(obj, key, &v) ? v : NULL;
}

/* Days since 1970-01-01 of the date at epoch, read offset seconds east. */
static int64_t
yahoo_day(int64_t epoch, int64_t offset)
{
	int64_t		t = epoch + offset;

	return t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
}

/* A finite JSON number in [lo, hi]; false if none. */
static bool
yahoo_number(json_object *v, double lo, double hi, double *d)
{
	if (v == NULL ||
		!(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
		return false;
	*d = json_object_get_double(v);
	return *d >= lo && *d <= hi;
}

/*
 * events.splits and events.dividends, objects keyed by epoch, into
 * out->actions.  A split that cannot be read fails the reply, since its
 * bars could not be turned back to as traded; a dividend that cannot be
 * read is left out (the bars do not depend on it).
 */
static void
yahoo_events(json_object *result, const char *symbol, size_t symlen,
			 int64_t offset, const char *currency, ParseResult *out)
{
	json_object *events = member(result, "events", json_type_object);
	json_object *splits = member(events, "splits", json_type_object);
	json_object *dividends = member(events, "dividends", json_type_object);

	/* Its bars are rejected, naming the symbol's problem. */
	if (symbol_problem(symbol, symlen) != NULL)
		return;
	if (splits != NULL)
	{
		json_object_object_foreach(splits, key, val)
		{
			int64_t		epoch;
			double		num,
						den;
			ParsedAction *a;
			bool		seen = false;

			(void) key;
			if (!json_object_is_type(val, json_type_object) ||
				!yahoo_epoch(field(val, "date"), &epoch) ||
				!yahoo_number(field(val, "numerator"), 1 / PC_MAX_SPLIT_FACTOR, PC_MAX_SPLIT_FACTOR, &num) ||
				!yahoo_number(field(val, "denominator"), 1 / PC_MAX_SPLIT_FACTOR, PC_MAX_SPLIT_FACTOR, &den))
			{
				pc_fail(out, PARSE_MALFORMED, 0,
						"a split event lacks a valid date, numerator or denominator");
				return;
			}
			for (size_t i = 0; i < out->nactions; i++)
				seen |= out->actions[i].ex_day == yahoo_day(epoch, offset);
			if (seen)
				continue;		/* one split a day: listed twice, undone once */
			if ((a = pc_add_action(out, symbol, symlen)) == NULL)
				return;
			a->ex_day = yahoo_day(epoch, offset);
			a->is_split = true;
			a->split_from = den;
			a->split_to = num;
		}
	}
	if (dividends != NULL)
	{
		json_object_object_foreach(dividends, key, val)
		{
			int64_t		epoch;
			double		amount;
			ParsedAction *a;

			(void) key;
			if (!json_object_is_type(val, json_type_object) ||
				!yahoo_epoch(field(val, "date"), &epoch) ||
				!yahoo_number(field(val, "amount"), 0, PC_MAX_DIVIDEND, &amount))
				continue;
			if ((a = pc_add_action(out, symbol, symlen)) == NULL)
				return;
			a->ex_day = yahoo_day(epoch, offset);
			a->cash_amount = amount;
			pc_action_currency(a, currency);
		}
	}
}

/*
 * Turns a split-adjusted bar dated day back into as traded: the product
 * of numerator / denominator of the splits dated after it.
 */
static void
yahoo_as_traded(ParsedBar *bar, int64_t day, const ParseResult *out)
{
	double		f = 1;
	const char *problem;

	for (size_t i = 0; i < out->nactions; i++)
	{
		if (out->actions[i].is_split && out->actions[i].ex_day > day)
			f *= out->actions[i].split_to / out->actions[i].split_from;
	}
	if (f == 1)
		return;
	problem = undo_splits(f, &bar->open, &bar->high, &bar->low, &bar->close, &bar->volume);
	if (bar->problem == NULL)
		bar->problem = problem;
}

static bool
is_null_at(json_object *array, size_t i)
{
	return json_object_array_get_idx(array, i) == NULL;
}

static void
yahoo_bars(json_object *result, const char *symbol, size_t symlen, ParseResult *out)
{
	json_object *meta = member(result, "meta", json_type_object);
	json_object *offset_v = member(meta, "gmtoffset", json_type_int);
	const char *zone = member_string(meta, "exchangeTimezoneName");
	int			granularity = yahoo_granularity(member_string(meta, "dataGranularity"));
	int64_t		offset = offset_v ? json_object_get_int64(offset_v) : 0;
	YahooArrays a;
	json_object *sym = member(meta, "symbol", json_type_string);

	if (sym != NULL)
	{
		symbol = json_object_get_string(sym);
		symlen = (size_t) json_object_get_string_len(sym);
	}
	/* No trades: no "timestamp" at all, and quote is [{}]. */
	a.ts = member(result, "timestamp", json_type_array);
	if (a.ts == NULL)
		return;
	if (!yahoo_arrays(result, &a, out))
		return;
	if (!pc_reserve(out, a.n))
		return;
	if (offset < -86400 || offset > 86400)
		offset = 0;
	yahoo_events(result, symbol, symlen, offset, member_string(meta, "currency"), out);
	if (out->status != PARSE_OK)
		return;
	for (size_t i = 0; i < a.n; i++)
	{
		json_object *tsv = json_object_array_get_idx(a.ts, i);
		ParsedBar  *bar;
		int64_t		epoch = 0;
		bool		epoch_ok = yahoo_epoch(tsv, &epoch);
		const char *problem;

		if (is_null_at(a.open, i) || is_null_at(a.high, i) || is_null_at(a.low, i) ||
			is_null_at(a.close, i) || is_null_at(a.volume, i))
		{
			out->nskipped_null++;
			continue;
		}
		if (granularity > 0 && granularity < 86400 && i == a.n - 1 && epoch_ok)
		{
			int64_t		prev = 0;

			if (epoch % 60 != 0 ||
				(i > 0 && yahoo_epoch(json_object_array_get_idx(a.ts, i - 1), &prev) &&
				 epoch - prev < granularity))
			{
				out->nskipped_partial++;
				continue;
			}
		}
		bar = pc_add_bar(out);
		if (bar == NULL)
			return;
		pc_set_symbol(bar, symbol, symlen);
		if (!epoch_ok)
			bar->problem = "timestamp is not a valid epoch";
		else if (granularity >= 86400)
		{
			/* A dated bar: midnight of the local trading date. */
			pc_wall_from_epoch(bar, epoch, offset);
			bar->hour = bar->min = bar->sec = 0;
			if (zone == NULL)
			{
				if (bar->problem == NULL)
					bar->problem = "reply names no exchange time zone";
			}
			else
				pc_set_zone(bar, zone);
		}
		else
		{
			bar->has_epoch = true;
			bar->epoch = epoch;
			pc_wall_from_epoch(bar, epoch, 0);
			pc_set_zone(bar, "UTC");
		}
		if ((problem = pc_price(json_object_array_get_idx(a.open, i), "open", &bar->open)) ||
			(problem = pc_price(json_object_array_get_idx(a.high, i), "high", &bar->high)) ||
			(problem = pc_price(json_object_array_get_idx(a.low, i), "low", &bar->low)) ||
			(problem = pc_price(json_object_array_get_idx(a.close, i), "close", &bar->close)))
		{
			if (bar->problem == NULL)
				bar->problem = problem;
		}
		bar->has_volume = true;
		problem = pc_volume(json_object_array_get_idx(a.volume, i), &bar->volume);
		if (problem != NULL && bar->problem == NULL)
			bar->problem = problem;
		if (epoch_ok && bar->problem == NULL)
			yahoo_as_traded(bar, yahoo_day(epoch, offset), out);
		pc_check_bar(bar);
	}
}

/* memmem over a body that need not be NUL-terminated. */
static bool
body_contains(const char *body, size_t len, const char *word)
{
	size_t		n = strlen(word);

	for (size_t i = 0; body != NULL && i + n <= len; i++)
	{
		if (memcmp(body + i, word, n) == 0)
			return true;
	}
	return false;
}

void
parse_yahoo(const char *body, size_t len, int http_status,
			const char *symbol, ParseResult *out)
{
	json_object *root;
	json_object *chart;
	json_object *results;
	json_object *result;

	pc_begin(out);
	if (http_status == 429)
	{
		pc_fail(out, PARSE_RATE_LIMITED, 429, "HTTP 429 from Yahoo (too many requests, or an unwelcome User-Agent)");
		return;
	}
	if (body_contains(body, len, "Will be right back"))
	{
		pc_fail(out, PARSE_SERVER_ERROR, http_status, "Yahoo is down for maintenance (\"Will be right back\")");
		return;
	}
	root = pc_parse_object(body, len, http_status, out);
	if (root == NULL)
		return;
	chart = member(root, "chart", json_type_object);
	if (chart == NULL)
	{
		if (!pc_http_failure(http_status, out))
			pc_fail(out, PARSE_MALFORMED, 0, "reply has no \"chart\" object");
	}
	else if (!yahoo_chart_error(chart, http_status, out))
	{
		results = member(chart, "result", json_type_array);
		result = results && json_object_array_length(results) > 0
			? json_object_array_get_idx(results, 0) : NULL;
		if (result == NULL || !json_object_is_type(result, json_type_object))
		{
			if (!pc_http_failure(http_status, out))
				pc_fail(out, PARSE_MALFORMED, 0, "reply has no chart result");
		}
		else
		{
			yahoo_bars(result, symbol ? symbol : "", symbol ? strlen(symbol) : 0, out);
			if (out->status == PARSE_OK && http_status >= 400)
				pc_http_failure(http_status, out);
		}
	}
	json_object_put(root);
}

/* The smallest Yahoo range that covers n bars of secs each. */
static const char *
yahoo_range(int64_t span)
{
	static const struct
	{
		int64_t		secs;
		const char *name;
	}			ranges[] = {
		{86400, "1d"}, {5 * 86400, "5d"}, {31 * 86400, "1mo"}, {92 * 86400, "3mo"},
		{183 * 86400, "6mo"}, {366 * 86400, "1y"}, {731 * 86400, "2y"},
		{1827 * 86400, "5y"}, {3653 * 86400, "10y"},
	};

	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
	{
		if (span <= ranges[i].secs)
			return ranges[i].name;
	}
	return "max";
}

static const char *
yahoo_url(const ProviderRequest *req, ProviderUrl *u)
{
	const char *interval = provider_interval_name(&provider_yahoo, req->interval_secs);

	if (interval == NULL)
		return "Yahoo has no bars of this length; it offers 1, 2, 5, 15, 30, 60 and 90 minutes, 1 day and 1 week.";
	if (req->nsymbols != 1)
		return "A Yahoo request takes exactly one symbol.";
	pc_url_path(u, "/v8/finance/chart/", req->symbols[0]);
	pc_url_param(u, "interval", interval);
	if (req->start != 0 || req->stop != 0)
	{
		pc_url_param_raw(u, "period1", "%lld", (long long) req->start);
		pc_url_param_raw(u, "period2", "%lld", (long long) req->stop);
	}
	else
		pc_url_param(u, "range",
					 yahoo_range((int64_t) (req->outputsize > 0 ? req->outputsize : 1) *
								 req->interval_secs));
	pc_url_param(u, "includePrePost", "false");
	/* The splits turn the split-adjusted prices back into as traded. */
	pc_url_param_raw(u, "events", "div,splits");
	return NULL;
}

/*
 * A symbol's corporate actions: the chart's events over its whole history,
 * asked at monthly bars, the fewest (read by parse_yahoo, not stored).
 */
static const char *
yahoo_actions_url(const ProviderRequest *req, ProviderUrl *u)
{
	pc_url_path(u, "/v8/finance/chart/", req->symbols[0]);
	pc_url_param(u, "interval", "1mo");
	pc_url_param(u, "range", "max");
	pc_url_param_raw(u, "events", "div,splits");
	return NULL;
}

static ProviderSettings yahoo_settings;

const Provider provider_yahoo = {
	.name = "yahoo",
	.title = "Yahoo Finance",
	.api_title = "Yahoo Finance chart API",
	.intervals = yahoo_intervals,
	.nintervals = sizeof(yahoo_intervals) / sizeof(yahoo_intervals[0]),
	.max_symbols = 1,
	.history_bars = 5000,
	.takes_key = false,
	.browser_ua = true,
	.adjusted_to_now = true,
	.settings = &yahoo_settings,
	.default_url = "https://query1.finance.yahoo.com",
	/* Yahoo publishes no limits: these stay well under what it tolerates. */
	.default_per_minute = 30,
	.default_per_day = 2000,
	.url = yahoo_url,
	.parse = parse_yahoo,
	.actions_requests = 1,
	.actions_cost = 1,
	.actions_url = yahoo_actions_url,
	.parse_actions = parse_yahoo,
};
