/*
 * provider_twelvedata.c
 *		TwelveData /time_series: request URLs and replies.
 *
 * A single-symbol reply is {"meta":{...},"values":[{...}],"status":"ok"};
 * a batch (symbol=A,B) is an object keyed by symbol whose values are single
 * replies or per-symbol errors.  Errors are {"code","message","status":
 * "error"} under HTTP 200 as often as under 4xx, so the body decides.
 * Values are strings and come newest first.
 *
 * Corporate actions come from /splits and /dividends (TwelveData's API
 * reference): {"meta":{"symbol",...,"currency",...},"splits":[{"date",
 * "description","ratio","from_factor","to_factor"}]} and {"meta":{...},
 * "dividends":[{"ex_date","amount"}]}, numbers as JSON numbers.  A split
 * "10-for-1" has from_factor 10 and to_factor 1 (ratio 0.1, the price
 * multiplier): to_factor shares before become from_factor after.
 */
#include <stdio.h>
#include <string.h>

#include "provider_common.h"

/* TwelveData allows 120 symbols per batch. */
#define TD_MAX_SYMBOLS 120

/* The "no rows match" reply: an empty series, not a failure. */
#define TD_NO_DATA "No data is available"

/* Bars one request returns at most (outputsize). */
#define TD_MAX_BARS 5000

static const ProviderInterval td_intervals[] = {
	{60, "1min", 0, false}, {300, "5min", 0, false}, {900, "15min", 0, false},
	{1800, "30min", 0, false}, {2700, "45min", 0, false}, {3600, "1h", 0, false},
	{7200, "2h", 0, false}, {14400, "4h", 0, false}, {86400, "1day", 0, false},
	{604800, "1week", 0, false},
};

/* Series are streamed (provider_series.c). */
static bool
td_is_series(const char *name)
{
	return strcmp(name, "values") == 0;
}

/* A member as a string, or NULL. */
static const char *
td_string(json_object *obj, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool
td_is_error(json_object *obj)
{
	const char *status = td_string(obj, "status");

	return status != NULL && strcmp(status, "error") == 0;
}

static int
td_code(json_object *obj)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, "code", &v) || !json_object_is_type(v, json_type_int))
		return 0;
	return json_object_get_int(v);
}

static bool
td_no_data(json_object *obj)
{
	const char *msg = td_string(obj, "message");

	return td_code(obj) == 400 && msg != NULL &&
		strncmp(msg, TD_NO_DATA, strlen(TD_NO_DATA)) == 0;
}

/* A whole-reply error body: classified by its code. */
static void
td_fail(json_object *obj, ParseResult *out)
{
	int			code = td_code(obj);
	const char *msg = td_string(obj, "message");
	ParseStatus status;

	if (msg == NULL)
		msg = "(no message)";
	if (td_no_data(obj))
	{
		/* An empty series: OK with no bars, the message kept as a note. */
		snprintf(out->message, sizeof(out->message), "%s", msg);
		out->provider_code = code;
		return;
	}
	if (code == 429)
		status = PARSE_RATE_LIMITED;
	else if (code >= 500)
		status = PARSE_SERVER_ERROR;
	else
		status = PARSE_PROVIDER_ERROR;
	pc_fail(out, status, code, "TwelveData error %d: %s", code, msg);
}

/* One value of "values" into a bar. */
static bool
td_bar(json_object *val, const char *symbol, size_t symlen,
	   const char *exchange_zone, const char *request_zone, ParseResult *out)
{
	static const char *const fields[] = {"open", "high", "low", "close"};
	ParsedBar  *bar = pc_add_bar(out);
	double	   *prices[4];
	json_object *v;
	bool		date_only = false;

	if (bar == NULL)
		return false;
	prices[0] = &bar->open;
	prices[1] = &bar->high;
	prices[2] = &bar->low;
	prices[3] = &bar->close;
	pc_set_symbol(bar, symbol, symlen);
	if (!json_object_is_type(val, json_type_object))
	{
		bar->problem = "value is not an object";
		return true;
	}
	if (!json_object_object_get_ex(val, "datetime", &v) ||
		!json_object_is_type(v, json_type_string) ||
		!pc_wall_time(json_object_get_string(v), (size_t) json_object_get_string_len(v),
					  bar, &date_only))
	{
		if (bar->problem == NULL)
			bar->problem = "datetime is not a valid time";
	}
	else if (date_only || request_zone == NULL)
	{
		/* Dates are trading dates of the exchange, whatever was asked. */
		const char *zone = exchange_zone ? exchange_zone : request_zone;

		if (zone == NULL)
			bar->problem = "reply names no time zone";
		else
			pc_set_zone(bar, zone);
	}
	else if (strcmp(request_zone, "UTC") == 0)
	{
		bar->has_epoch = true;
		bar->epoch = pc_utc_epoch(bar->year, bar->mon, bar->mday,
								  bar->hour, bar->min, bar->sec);
		pc_set_zone(bar, "UTC");
	}
	else
		pc_set_zone(bar, request_zone);

	for (int i = 0; i < 4; i++)
	{
		const char *problem;

		problem = json_object_object_get_ex(val, fields[i], &v)
			? pc_price(v, fields[i], prices[i])
			: pc_price(NULL, fields[i], prices[i]);
		if (problem != NULL && bar->problem == NULL)
			bar->problem = problem;
	}
	/* Forex and some indices have no volume at all. */
	if (json_object_object_get_ex(val, "volume", &v))
	{
		const char *problem = pc_volume(v, &bar->volume);

		bar->has_volume = true;
		if (problem != NULL && bar->problem == NULL)
			bar->problem = problem;
	}
	pc_check_bar(bar);
	return true;
}

/*
 * One symbol's series.  Returns false when the reply cannot be read (out
 * already failed) and sets *why for a batch entry without a series.
 */
static bool
td_series(json_object *obj, const char *body, const char *symbol_hint,
		  const char *request_zone, ParseResult *out, const char **why)
{
	json_object *meta = NULL;
	json_object *values;
	json_object *v;
	const char *symbol = symbol_hint;
	size_t		symlen = symbol ? strlen(symbol) : 0;
	const char *exchange_zone = NULL;
	PcSeries	series;

	*why = NULL;
	if (json_object_object_get_ex(obj, "meta", &meta) &&
		json_object_is_type(meta, json_type_object))
	{
		if (json_object_object_get_ex(meta, "symbol", &v) &&
			json_object_is_type(v, json_type_string))
		{
			symbol = json_object_get_string(v);
			symlen = (size_t) json_object_get_string_len(v);
		}
		exchange_zone = td_string(meta, "exchange_timezone");
	}
	if (!json_object_object_get_ex(obj, "values", &values) ||
		!json_object_is_type(values, json_type_array))
	{
		*why = "reply has no \"values\" array";
		return true;
	}
	if (symbol == NULL)
		symbol = "";
	if (pc_series_open(values, body, &series, out))
	{
		while (pc_series_next(&series, NULL, &v, out))
		{
			if (!td_bar(v, symbol, symlen, exchange_zone, request_zone, out))
				break;
		}
	}
	pc_series_close(&series);
	return out->status == PARSE_OK;
}

/* A batch: symbol -> single reply or per-symbol error. */
static void
td_batch(json_object *root, const char *body, const char *request_zone, ParseResult *out)
{
	size_t		entries = 0,
				limited = 0;

	json_object_object_foreach(root, key, val)
	{
		const char *why;

		entries++;
		if (td_is_error(val))
		{
			const char *msg = td_string(val, "message");

			if (td_no_data(val))
				continue;
			if (td_code(val) == 429)
				limited++;
			if (!pc_add_symbol_error(out, key, td_code(val), msg ? msg : "(no message)"))
			{
				pc_fail(out, PARSE_MALFORMED, 0, "out of memory");
				return;
			}
			continue;
		}
		if (!td_series(val, body, key, request_zone, out, &why))
			return;
		if (why != NULL && !pc_add_symbol_error(out, key, 0, why))
		{
			pc_fail(out, PARSE_MALFORMED, 0, "out of memory");
			return;
		}
	}
	/* Every symbol out of credits: the whole request was rate-limited. */
	if (entries > 0 && limited == entries)
		pc_fail(out, PARSE_RATE_LIMITED, 429, "TwelveData error 429 for every symbol of the batch");
}

/* Whether root looks like a batch: every member an object with "status". */
static bool
td_looks_batch(json_object *root)
{
	size_t		n = 0;

	json_object_object_foreach(root, key, val)
	{
		(void) key;
		if (!json_object_is_type(val, json_type_object) ||
			!json_object_object_get_ex(val, "status", NULL))
			return false;
		n++;
	}
	return n > 0;
}

void
parse_twelvedata_zone(const char *body, size_t len, int http_status,
					  const char *symbol, const char *request_zone,
					  ParseResult *out)
{
	json_object *root;
	const char *why;

	pc_begin(out);
	root = pc_parse_object_series(body, len, http_status, td_is_series, out);
	if (root == NULL)
		return;
	if (td_is_error(root))
		td_fail(root, out);
	else if (json_object_object_get_ex(root, "values", NULL) ||
			 json_object_object_get_ex(root, "meta", NULL))
	{
		if (td_series(root, body, symbol, request_zone, out, &why) && why != NULL)
			pc_fail(out, PARSE_MALFORMED, 0, "%s", why);
	}
	else if (td_looks_batch(root))
		td_batch(root, body, request_zone, out);
	else if (!pc_http_failure(http_status, out))
		pc_fail(out, PARSE_MALFORMED, 0, "reply has neither \"values\" nor an error status");

	pc_http_decides(http_status, out);
	json_object_put(root);
}

void
parse_twelvedata(const char *body, size_t len, int http_status,
				 const char *symbol, ParseResult *out)
{
	parse_twelvedata_zone(body, len, http_status, symbol, "UTC", out);
}

static const char *
td_url(const ProviderRequest *req, ProviderUrl *u)
{
	const char *interval = provider_interval_name(&provider_twelvedata, req->interval_secs);

	if (interval == NULL)
		return "TwelveData has no bars of this length; it offers 1, 5, 15, 30 and 45 minutes, 1, 2 and 4 hours, 1 day and 1 week.";
	if (req->nsymbols < 1 || req->nsymbols > TD_MAX_SYMBOLS)
		return "A TwelveData request takes 1 to 120 symbols.";
	pc_url_path(u, "/time_series", NULL);
	pc_url_param_list(u, "symbol", req->symbols, req->nsymbols);
	pc_url_param(u, "interval", interval);
	/* UTC wall times are unambiguous; see parse_twelvedata. */
	pc_url_param(u, "timezone", "UTC");
	/* As traded: daily and longer bars are split-adjusted by default. */
	pc_url_param(u, "adjust", "none");
	if (req->start != 0 || req->stop != 0)
	{
		ParsedBar	t;

		/* end_date is inclusive: stop names the first bar not wanted. */
		pc_wall_from_epoch(&t, req->start, 0);
		pc_url_param_raw(u, "start_date", "%04d-%02d-%02d%%20%02d:%02d:%02d",
						 t.year, t.mon, t.mday, t.hour, t.min, t.sec);
		pc_wall_from_epoch(&t, req->stop - 1, 0);
		pc_url_param_raw(u, "end_date", "%04d-%02d-%02d%%20%02d:%02d:%02d",
						 t.year, t.mon, t.mday, t.hour, t.min, t.sec);
	}
	if (req->outputsize > 0)
		pc_url_param_raw(u, "outputsize", "%d",
						 req->outputsize > TD_MAX_BARS ? TD_MAX_BARS : req->outputsize);
	pc_url_key(u, req->api_key);
	return NULL;
}

/* A positive factor or amount from a JSON number or numeric string. */
static bool
td_number(json_object *obj, const char *key, double lo, double hi, double *d)
{
	json_object *v;

	return json_object_object_get_ex(obj, key, &v) && pc_price(v, key, d) == NULL &&
		*d >= lo && *d <= hi;
}

/*
 * The rows of "splits" or "dividends".  A split that cannot be read fails
 * the reply (a split left out would misadjust every earlier bar); a
 * dividend that cannot be read is left out, as Yahoo's are.
 */
static void
td_actions(json_object *rows, bool splits, const char *symbol, size_t symlen,
		   const char *currency, ParseResult *out)
{
	size_t		n = json_object_array_length(rows);

	for (size_t i = 0; i < n; i++)
	{
		json_object *row = json_object_array_get_idx(rows, i);
		json_object *date = NULL;
		int64_t		day;
		double		a,
					b;
		ParsedAction *act;
		bool		is_object = json_object_is_type(row, json_type_object);

		if (is_object)
			json_object_object_get_ex(row, splits ? "date" : "ex_date", &date);
		if (splits)
		{
			if (!is_object || !pc_action_day(date, &day) ||
				!td_number(row, "from_factor", 1 / PC_MAX_SPLIT_FACTOR, PC_MAX_SPLIT_FACTOR, &a) ||
				!td_number(row, "to_factor", 1 / PC_MAX_SPLIT_FACTOR, PC_MAX_SPLIT_FACTOR, &b))
			{
				pc_fail(out, PARSE_MALFORMED, 0,
						"a split lacks a valid date, from_factor or to_factor");
				return;
			}
		}
		else if (!is_object || !pc_action_day(date, &day) ||
				 !td_number(row, "amount", 0, PC_MAX_DIVIDEND, &a))
			continue;
		if ((act = pc_add_action(out, symbol, symlen)) == NULL)
			return;
		act->ex_day = day;
		act->is_split = splits;
		if (splits)
		{
			act->split_from = b;
			act->split_to = a;
		}
		else
		{
			act->cash_amount = a;
			pc_action_currency(act, currency);
		}
	}
}

void
parse_twelvedata_actions(const char *body, size_t len, int http_status,
						 const char *symbol, ParseResult *out)
{
	json_object *root;
	json_object *meta = NULL;
	json_object *rows = NULL;
	json_object *v;
	bool		splits = false;
	size_t		symlen = symbol ? strlen(symbol) : 0;

	pc_begin(out);
	root = pc_parse_object(body, len, http_status, out);
	if (root == NULL)
		return;
	if (td_is_error(root))
	{
		td_fail(root, out);
		pc_http_decides(http_status, out);
		json_object_put(root);
		return;
	}
	if (json_object_object_get_ex(root, "meta", &meta) &&
		json_object_is_type(meta, json_type_object) &&
		json_object_object_get_ex(meta, "symbol", &v) && json_object_is_type(v, json_type_string))
	{
		symbol = json_object_get_string(v);
		symlen = (size_t) json_object_get_string_len(v);
	}
	if (json_object_object_get_ex(root, "splits", &rows))
		splits = true;
	else
		json_object_object_get_ex(root, "dividends", &rows);
	if (rows == NULL || !json_object_is_type(rows, json_type_array))
	{
		if (!pc_http_failure(http_status, out))
			pc_fail(out, PARSE_MALFORMED, 0, "reply has neither a \"splits\" nor a \"dividends\" array");
	}
	else if (json_object_array_length(rows) > 0 &&
			 pc_action_symbol(symbol ? symbol : "", symlen, out))
		td_actions(rows, splits, symbol, symlen, meta ? td_string(meta, "currency") : NULL, out);
	pc_http_decides(http_status, out);
	json_object_put(root);
}

/* Request 1 is /splits, 2 /dividends: all of the symbol's history. */
static const char *
td_actions_url(const ProviderRequest *req, ProviderUrl *u)
{
	pc_url_path(u, req->actions == 1 ? "/splits" : "/dividends", NULL);
	pc_url_param(u, "symbol", req->symbols[0]);
	/* The default is the last one only. */
	pc_url_param(u, "range", "full");
	/* As paid, not split-adjusted (the default adjusts). */
	if (req->actions == 2)
		pc_url_param(u, "adjust", "false");
	pc_url_key(u, req->api_key);
	return NULL;
}

static ProviderSettings td_settings;

const Provider provider_twelvedata = {
	.name = "twelvedata",
	.title = "TwelveData",
	.api_title = "TwelveData API",
	.intervals = td_intervals,
	.nintervals = sizeof(td_intervals) / sizeof(td_intervals[0]),
	.max_symbols = TD_MAX_SYMBOLS,
	.history_bars = TD_MAX_BARS,
	.takes_key = true,
	.settings = &td_settings,
	.default_url = "https://api.twelvedata.com",
	/* The free plan's limits. */
	.default_per_minute = 8,
	.default_per_day = 800,
	.url = td_url,
	.parse = parse_twelvedata,
	/* /splits and /dividends cost 20 credits each. */
	.actions_requests = 2,
	.actions_cost = 20,
	.actions_url = td_actions_url,
	.parse_actions = parse_twelvedata_actions,
};
