/*
 * provider_common.c
 *		Number, time, result and URL helpers shared by the providers, and
 *		provider_url(), which builds any HTTP provider's request through its
 *		url operation.
 *
 * Plain C over json-c (see provider.h).  Providers send numbers both as JSON
 * numbers and as strings; one strict reader handles both, so an empty or
 * invalid string is a problem with that bar, never a silent zero.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "provider_common.h"

void
pc_begin(ParseResult *out)
{
	memset(out, 0, sizeof(*out));
	out->status = PARSE_OK;
}

void
parse_result_free(ParseResult *out)
{
	free(out->bars);
	free(out->symbol_errors);
	free(out->actions);
	out->bars = NULL;
	out->symbol_errors = NULL;
	out->actions = NULL;
	out->nbars = out->bars_cap = 0;
	out->nsymbol_errors = out->symbol_errors_cap = 0;
	out->nactions = out->actions_cap = 0;
}

const char *
undo_splits(double factor, double *open, double *high, double *low, double *close,
			int64_t *volume)
{
	double		v = round((double) *volume / factor);

	*open *= factor;
	*high *= factor;
	*low *= factor;
	*close *= factor;
	/* Range first: a cast of a value past int64_t is undefined. */
	if (!(v >= 0 && v < 9.2e18))
		return "volume is out of range once the splits are undone";
	*volume = (int64_t) v;
	return NULL;
}

void
pc_fail(ParseResult *out, ParseStatus status, int code, const char *fmt,...)
{
	va_list		ap;

	/* A failed reply lands nothing: no half-read batch. */
	free(out->bars);
	free(out->actions);
	out->bars = NULL;
	out->actions = NULL;
	out->nbars = out->bars_cap = 0;
	out->nactions = out->actions_cap = 0;
	out->status = status;
	out->provider_code = code;
	va_start(ap, fmt);
	vsnprintf(out->message, sizeof(out->message), fmt, ap);
	va_end(ap);
}

json_object *
pc_parse_json(const char *body, size_t len, ParseResult *out)
{
	json_tokener *tok;
	json_object *root;
	enum json_tokener_error err;
	size_t		end;

	if (body == NULL || len == 0)
	{
		pc_fail(out, PARSE_MALFORMED, 0, "reply is empty");
		return NULL;
	}
	if (len > INT_MAX)
	{
		pc_fail(out, PARSE_MALFORMED, 0, "reply is larger than 2 GB");
		return NULL;
	}
	tok = json_tokener_new_ex(PC_JSON_MAX_DEPTH);
	if (tok == NULL)
	{
		pc_fail(out, PARSE_MALFORMED, 0, "out of memory");
		return NULL;
	}
	root = json_tokener_parse_ex(tok, body, (int) len);
	err = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (err == json_tokener_continue)
	{
		json_object_put(root);
		pc_fail(out, PARSE_MALFORMED, 0, "reply ends in the middle of its JSON (truncated)");
		return NULL;
	}
	if (err != json_tokener_success || root == NULL)
	{
		json_object_put(root);
		pc_fail(out, PARSE_MALFORMED, 0, "reply is not valid JSON (%s)",
				json_tokener_error_desc(err));
		return NULL;
	}
	for (; end < len; end++)
	{
		if (!isspace((unsigned char) body[end]))
		{
			json_object_put(root);
			pc_fail(out, PARSE_MALFORMED, 0, "reply has bytes after its JSON value");
			return NULL;
		}
	}
	return root;
}

json_object *
pc_parse_object(const char *body, size_t len, int http_status, ParseResult *out)
{
	json_object *root = pc_parse_json(body, len, out);

	if (root == NULL)
	{
		/* A 429 or 5xx with a non-JSON body says more than "malformed". */
		pc_http_failure(http_status, out);
		return NULL;
	}
	if (!json_object_is_type(root, json_type_object))
	{
		json_object_put(root);
		if (!pc_http_failure(http_status, out))
			pc_fail(out, PARSE_MALFORMED, 0, "reply is not a JSON object");
		return NULL;
	}
	return root;
}

bool
pc_http_failure(int http_status, ParseResult *out)
{
	if (http_status == 429)
		pc_fail(out, PARSE_RATE_LIMITED, 429, "HTTP 429 (too many requests)");
	else if (http_status >= 500)
		pc_fail(out, PARSE_SERVER_ERROR, http_status, "HTTP %d from the provider", http_status);
	else if (http_status >= 400)
		pc_fail(out, PARSE_PROVIDER_ERROR, http_status, "HTTP %d from the provider", http_status);
	else
		return false;
	return true;
}

void
pc_http_decides(int http_status, ParseResult *out)
{
	if ((out->status == PARSE_OK || out->status == PARSE_MALFORMED) && http_status >= 400)
		pc_http_failure(http_status, out);
}

bool
pc_reserve(ParseResult *out, size_t n)
{
	ParsedBar  *grown;

	if (n > PROVIDER_MAX_BARS || out->nbars > PROVIDER_MAX_BARS - n)
	{
		pc_fail(out, PARSE_MALFORMED, 0, "reply holds more than %d bars", PROVIDER_MAX_BARS);
		return false;
	}
	if (out->nbars + n <= out->bars_cap)
		return true;
	grown = realloc(out->bars, (out->nbars + n) * sizeof(ParsedBar));
	if (grown == NULL)
	{
		pc_fail(out, PARSE_MALFORMED, 0, "out of memory reading %zu bars", out->nbars + n);
		return false;
	}
	out->bars = grown;
	out->bars_cap = out->nbars + n;
	return true;
}

/*
 * The array of n elements of size bytes, in room for *cap, given room for
 * one more: doubled from first, at most PROVIDER_MAX_BARS elements.  NULL,
 * the reply marked malformed, past that or out of memory.
 */
static void *
grow_for_one(ParseResult *out, void *array, size_t n, size_t *cap, size_t size, size_t first,
			 const char *what)
{
	size_t		want;
	void	   *grown;

	if (n < *cap)
		return array;
	if (n >= PROVIDER_MAX_BARS)
	{
		pc_fail(out, PARSE_MALFORMED, 0, "reply holds more than %d %s", PROVIDER_MAX_BARS, what);
		return NULL;
	}
	want = *cap ? *cap * 2 : first;
	if (want > PROVIDER_MAX_BARS)
		want = PROVIDER_MAX_BARS;
	grown = realloc(array, want * size);
	if (grown == NULL)
	{
		pc_fail(out, PARSE_MALFORMED, 0, "out of memory reading %zu %s", n, what);
		return NULL;
	}
	*cap = want;
	return grown;
}

ParsedBar *
pc_add_bar(ParseResult *out)
{
	ParsedBar  *bars = grow_for_one(out, out->bars, out->nbars, &out->bars_cap, sizeof(ParsedBar), 64, "bars");
	ParsedBar  *bar;

	if (bars == NULL)
		return NULL;
	out->bars = bars;
	bar = &out->bars[out->nbars++];
	memset(bar, 0, sizeof(*bar));
	return bar;
}

static void
copy_bounded(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

bool
pc_add_symbol_error(ParseResult *out, const char *symbol, int code, const char *message)
{
	SymbolError *e;

	if (out->nsymbol_errors == out->symbol_errors_cap)
	{
		size_t		cap = out->symbol_errors_cap ? out->symbol_errors_cap * 2 : 8;
		SymbolError *grown = realloc(out->symbol_errors, cap * sizeof(SymbolError));

		if (grown == NULL)
			return false;
		out->symbol_errors = grown;
		out->symbol_errors_cap = cap;
	}
	e = &out->symbol_errors[out->nsymbol_errors++];
	copy_bounded(e->symbol, sizeof(e->symbol), symbol, strlen(symbol));
	symbol_normalize(e->symbol);
	e->code = code;
	copy_bounded(e->message, sizeof(e->message), message, strlen(message));
	return true;
}

ParsedAction *
pc_add_action(ParseResult *out, const char *symbol, size_t len)
{
	ParsedAction *actions = grow_for_one(out, out->actions, out->nactions, &out->actions_cap,
										 sizeof(ParsedAction), 8, "events");
	ParsedAction *a;

	if (actions == NULL)
		return NULL;
	out->actions = actions;
	a = &out->actions[out->nactions++];
	memset(a, 0, sizeof(*a));
	copy_bounded(a->symbol, sizeof(a->symbol), symbol, len);
	symbol_normalize(a->symbol);
	return a;
}

bool
pc_action_symbol(const char *symbol, size_t len, ParseResult *out)
{
	if (symbol_problem(symbol, len) == NULL)
		return true;
	pc_fail(out, PARSE_MALFORMED, 0, "reply names no valid symbol for its corporate actions");
	return false;
}

void
pc_action_currency(ParsedAction *a, const char *currency)
{
	if (currency != NULL && strlen(currency) == 3 &&
		strspn(currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 3)
		memcpy(a->currency, currency, 4);
}

bool
pc_action_day(json_object *v, int64_t *day)
{
	ParsedBar	t;
	bool		date_only = false;

	if (v == NULL || !json_object_is_type(v, json_type_string) ||
		!pc_wall_time(json_object_get_string(v), (size_t) json_object_get_string_len(v),
					  &t, &date_only) || !date_only)
		return false;
	*day = pc_utc_epoch(t.year, t.mon, t.mday, 0, 0, 0) / 86400;
	return true;
}

void
pc_set_symbol(ParsedBar *bar, const char *symbol, size_t len)
{
	const char *problem = symbol_problem(symbol, len);

	copy_bounded(bar->symbol, sizeof(bar->symbol), symbol, len);
	symbol_normalize(bar->symbol);
	/* A NUL inside the JSON string would hide the rest: keep the reason. */
	if (problem != NULL && bar->problem == NULL)
		bar->problem = problem;
}

/* The characters a decimal number may hold: no hex, inf, nan or spaces. */
static bool
decimal_chars(const char *s, size_t len)
{
	if (len == 0 || len > 64)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		if (!isdigit((unsigned char) s[i]) && strchr("+-.eE", s[i]) == NULL)
			return false;
		if (s[i] == '\0')
			return false;
	}
	return true;
}

/*
 * Static reasons per field: the result must outlive the call and bar_problem
 * returns static strings too.
 */
static const char *
price_reason(const char *field, bool missing)
{
	static const char *const names[] = {"open", "high", "low", "close"};
	static const char *const absent[] = {
		"open is missing", "high is missing", "low is missing", "close is missing"
	};
	static const char *const bad[] = {
		"open is not a number", "high is not a number",
		"low is not a number", "close is not a number"
	};

	for (int i = 0; i < 4; i++)
	{
		if (strcmp(field, names[i]) == 0)
			return missing ? absent[i] : bad[i];
	}
	return missing ? "price is missing" : "price is not a number";
}

const char *
pc_price(json_object *v, const char *field, double *d)
{
	switch (json_object_get_type(v))
	{
		case json_type_double:
			*d = json_object_get_double(v);
			break;
		case json_type_int:
			*d = (double) json_object_get_int64(v);
			break;
		case json_type_string:
			{
				const char *s = json_object_get_string(v);
				size_t		len = (size_t) json_object_get_string_len(v);
				char		buf[65];
				char	   *end;

				if (!decimal_chars(s, len))
					return price_reason(field, false);
				memcpy(buf, s, len);
				buf[len] = '\0';
				errno = 0;
				*d = strtod(buf, &end);
				if (end != buf + len || errno == ERANGE)
					return price_reason(field, false);
				break;
			}
		case json_type_null:
			return price_reason(field, true);
		default:
			return price_reason(field, false);
	}
	if (!isfinite(*d))
		return price_reason(field, false);
	return NULL;
}

const char *
pc_volume(json_object *v, int64_t *vol)
{
	switch (json_object_get_type(v))
	{
		case json_type_int:
			/* json-c saturates: INT64_MAX stands for "did not fit". */
			*vol = json_object_get_int64(v);
			if (*vol == INT64_MAX)
				return "volume is out of range";
			return NULL;
		case json_type_double:
			{
				double		d = json_object_get_double(v);

				if (!isfinite(d) || d != floor(d))
					return "volume is not a whole number";
				if (d >= 9.2e18 || d <= -9.2e18)
					return "volume is out of range";
				*vol = (int64_t) d;
				return NULL;
			}
		case json_type_string:
			{
				const char *s = json_object_get_string(v);
				size_t		len = (size_t) json_object_get_string_len(v);
				char		buf[65];
				char	   *end;
				long long	n;

				if (!decimal_chars(s, len))
					return "volume is not a number";
				if (strpbrk(s, ".eE") != NULL)
					return "volume is not a whole number";
				memcpy(buf, s, len);
				buf[len] = '\0';
				errno = 0;
				n = strtoll(buf, &end, 10);
				if (end != buf + len || end == buf)
					return "volume is not a number";
				if (errno == ERANGE)
					return "volume is out of range";
				*vol = (int64_t) n;
				return NULL;
			}
		case json_type_null:
			return "volume is missing";
		default:
			return "volume is not a number";
	}
}

/* n digits at s as a number, or -1. */
static int
digits(const char *s, int n)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
	{
		if (!isdigit((unsigned char) s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Whether the day exists: timegm() moves a 31 April to 1 May. */
static bool
real_date(int year, int mon, int mday)
{
	ParsedBar	t;

	pc_wall_from_epoch(&t, pc_utc_epoch(year, mon, mday, 0, 0, 0), 0);
	return t.mday == mday;
}

bool
pc_wall_time(const char *s, size_t len, ParsedBar *bar, bool *date_only)
{
	int			year, mon, mday, hour = 0, min = 0, sec = 0;

	if (len != 10 && len != 16 && len != 19)
		return false;
	year = digits(s, 4);
	mon = digits(s + 5, 2);
	mday = digits(s + 8, 2);
	if (s[4] != '-' || s[7] != '-' || year < 1000 || mon < 1 || mon > 12 ||
		mday < 1 || !real_date(year, mon, mday))
		return false;
	if (len > 10)
	{
		hour = digits(s + 11, 2);
		min = digits(s + 14, 2);
		if (s[10] != ' ' || s[13] != ':' || hour < 0 || hour > 23 || min < 0 || min > 59)
			return false;
		if (len == 19)
		{
			sec = digits(s + 17, 2);
			if (s[16] != ':' || sec < 0 || sec > 59)
				return false;
		}
	}
	bar->year = year;
	bar->mon = mon;
	bar->mday = mday;
	bar->hour = hour;
	bar->min = min;
	bar->sec = sec;
	*date_only = (len == 10);
	return true;
}

int64_t
pc_utc_epoch(int year, int mon, int mday, int hour, int min, int sec)
{
	struct tm	tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = mday;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	return (int64_t) timegm(&tm);
}

void
pc_wall_from_epoch(ParsedBar *bar, int64_t epoch, int64_t offset)
{
	time_t		t = (time_t) (epoch + offset);
	struct tm	tm;

	/* Callers pass epochs within 2^40 s of 1970: gmtime_r cannot fail. */
	memset(&tm, 0, sizeof(tm));
	gmtime_r(&t, &tm);
	bar->year = tm.tm_year + 1900;
	bar->mon = tm.tm_mon + 1;
	bar->mday = tm.tm_mday;
	bar->hour = tm.tm_hour;
	bar->min = tm.tm_min;
	bar->sec = tm.tm_sec;
}

void
pc_set_zone(ParsedBar *bar, const char *zone)
{
	/* Legacy aliases that newer tzdata packages no longer install. */
	static const char *const aliases[][2] = {
		{"US/Eastern", "America/New_York"},
		{"US/Central", "America/Chicago"},
		{"US/Mountain", "America/Denver"},
		{"US/Pacific", "America/Los_Angeles"},
	};

	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
	{
		if (strcmp(zone, aliases[i][0]) == 0)
		{
			zone = aliases[i][1];
			break;
		}
	}
	copy_bounded(bar->zone, sizeof(bar->zone), zone, strlen(zone));
	if (bar->problem == NULL &&
		(zone[0] == '\0' || strlen(zone) >= sizeof(bar->zone) ||
		 strspn(zone, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") != strlen(zone)))
		bar->problem = "time zone name is not valid";
}

void
pc_check_bar(ParsedBar *bar)
{
	if (bar->problem == NULL)
		bar->problem = bar_problem(bar->open, bar->high, bar->low, bar->close,
								   bar->has_volume, bar->volume);
}

json_object *
pc_member_suffix(json_object *obj, const char *name)
{
	json_object_object_foreach(obj, key, val)
	{
		const char *k = key;

		/* "1. open" -> "open"; "6. Time Zone" -> "Time Zone" */
		while (isdigit((unsigned char) *k))
			k++;
		if (k != key && k[0] == '.' && k[1] == ' ')
			k += 2;
		else
			k = key;
		if (strcmp(k, name) == 0)
			return val;
	}
	return NULL;
}

void
url_redact(const char *url, char *buf, size_t bufsize)
{
	static const char *const secret[] = {"apikey=", "api_key=", "token="};
	size_t		pos = 0;
	const char *p = url;

	if (bufsize == 0)
		return;
	while (*p && pos + 1 < bufsize)
	{
		bool		redacted = false;

		/* A parameter starts after '?' or '&'. */
		if (p != url && (p[-1] == '?' || p[-1] == '&'))
		{
			for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
			{
				size_t		n = strlen(secret[i]);

				if (strncasecmp(p, secret[i], n) == 0)
				{
					for (size_t j = 0; j < n && pos + 1 < bufsize; j++)
						buf[pos++] = p[j];
					for (const char *m = "***"; *m && pos + 1 < bufsize; m++)
						buf[pos++] = *m;
					p += n;
					while (*p && *p != '&' && *p != '#')
						p++;
					redacted = true;
					break;
				}
			}
		}
		if (!redacted)
			buf[pos++] = *p++;
	}
	buf[pos] = '\0';
}

/* ---------- request URLs, over libcurl's URL API ---------- */

/*
 * The path and query are put together here from pieces escaped by
 * curl_easy_escape, which keeps RFC 3986's unreserved characters and writes
 * %XX (upper case) for every other byte; libcurl's URL API reads the base
 * URL and checks the result.  Parts set one by one with curl_url_set would
 * be normalised by libcurl (lower-case hex in 7.88, and with
 * CURLU_URLENCODE spaces as '+' and '/' left alone), so the same request
 * would be spelled differently from one libcurl to the next.
 */
struct ProviderUrl
{
	char	   *path;			/* malloc'd: the base path, then ours */
	char	   *query;			/* malloc'd: the base query, then ours */
	bool		failed;			/* out of memory */
};

/* Appends s (NULL: out of memory) to *text, joined by sep when not empty. */
static void
url_append(ProviderUrl *u, char **text, const char *sep, const char *s)
{
	size_t		had = strlen(*text);
	char	   *grown;

	if (u->failed || s == NULL)
	{
		u->failed = true;
		return;
	}
	if (had == 0)
		sep = "";
	grown = realloc(*text, had + strlen(sep) + strlen(s) + 1);
	if (grown == NULL)
	{
		u->failed = true;
		return;
	}
	strcpy(grown + had, sep);
	strcat(grown, s);
	*text = grown;
}

/* Appends s escaped. */
static void
url_append_escaped(ProviderUrl *u, char **text, const char *sep, const char *s)
{
	char	   *escaped = curl_easy_escape(NULL, s, 0);

	url_append(u, text, sep, escaped);
	curl_free(escaped);
}

void
pc_url_path(ProviderUrl *u, const char *literal, const char *segment)
{
	url_append(u, &u->path, "", literal);
	if (segment != NULL)
		url_append_escaped(u, &u->path, "", segment);
}

void
pc_url_param(ProviderUrl *u, const char *name, const char *value)
{
	pc_url_param_list(u, name, &value, 1);
}

void
pc_url_param_list(ProviderUrl *u, const char *name, const char *const *values, int n)
{
	url_append(u, &u->query, "&", name);
	url_append(u, &u->query, "", "=");
	for (int i = 0; i < n; i++)
		url_append_escaped(u, &u->query, i > 0 ? "," : "", values[i]);
}

void
pc_url_param_raw(ProviderUrl *u, const char *name, const char *fmt,...)
{
	char		value[128];
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	url_append(u, &u->query, "&", name);
	url_append(u, &u->query, "", "=");
	url_append(u, &u->query, "", n < 0 || (size_t) n >= sizeof(value) ? NULL : value);
}

void
pc_url_key(ProviderUrl *u, const char *api_key)
{
	if (api_key != NULL)
		pc_url_param(u, "apikey", api_key);
}

/*
 * Reads base into u (its path without trailing slashes, its query) and
 * *origin (scheme, host and port, malloc'd).  NULL, or why it cannot.
 */
static const char *
url_base(const char *base, ProviderUrl *u, char **origin)
{
	CURLU	   *h = curl_url();
	char	   *scheme = NULL,
			   *path = NULL,
			   *query = NULL,
			   *got = NULL;
	const char *problem = NULL;
	size_t		len;

	if (h == NULL)
		return "The request URL cannot be built: out of memory.";
	if (curl_url_set(h, CURLUPART_URL, base, 0) != CURLUE_OK ||
		curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
		(strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
		problem = "The provider's base URL is not an http or https URL.";
	else if (curl_url_get(h, CURLUPART_PATH, &path, 0) != CURLUE_OK ||
			 (curl_url_get(h, CURLUPART_QUERY, &query, 0) != CURLUE_OK && query != NULL) ||
			 curl_url_set(h, CURLUPART_PATH, NULL, 0) != CURLUE_OK ||
			 curl_url_set(h, CURLUPART_QUERY, NULL, 0) != CURLUE_OK ||
			 curl_url_set(h, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
			 curl_url_get(h, CURLUPART_URL, &got, 0) != CURLUE_OK)
		problem = "The request URL cannot be built: out of memory.";
	else
	{
		/* "https://host/" and "https://host" name the same base. */
		len = strlen(path);
		while (len > 0 && path[len - 1] == '/')
			len--;
		u->path = strndup(path, len);
		u->query = strdup(query ? query : "");
		len = strlen(got);
		if (len > 0 && got[len - 1] == '/')
			len--;
		*origin = strndup(got, len);
		if (u->path == NULL || u->query == NULL || *origin == NULL)
			problem = "The request URL cannot be built: out of memory.";
	}
	curl_free(scheme);
	curl_free(path);
	curl_free(query);
	curl_free(got);
	curl_url_cleanup(h);
	return problem;
}

const char *
provider_url(const Provider *p, const ProviderRequest *req, char **url)
{
	ProviderUrl u = {0};
	char	   *origin = NULL;
	char	   *whole = NULL;
	char	   *got = NULL;
	CURLU	   *h = NULL;
	const char *problem;

	*url = NULL;
	if (req->base_url == NULL || req->base_url[0] == '\0')
		return "The provider's base URL is empty.";
	if (req->nsymbols < 1 || req->symbols == NULL)
		return "The request names no symbol.";
	if ((req->start != 0 || req->stop != 0) &&
		(req->stop <= req->start || req->start < 0 || req->stop > PC_MAX_EPOCH))
		return "The request's range is empty or outside the years 1970 to 9999.";
	if (req->actions != 0 &&
		(req->actions < 0 || req->actions > p->actions_requests || req->nsymbols != 1))
		return "The provider has no such corporate-actions request, or it names more than one symbol.";
	problem = url_base(req->base_url, &u, &origin);
	if (problem == NULL)
		problem = req->actions ? p->actions_url(req, &u) : p->url(req, &u);
	if (problem == NULL)
	{
		/* The whole URL, read back by libcurl: what it will request. */
		if (!u.failed && (whole = malloc(strlen(origin) + strlen(u.path) + strlen(u.query) + 2)) != NULL)
			sprintf(whole, "%s%s%s%s", origin, u.path, u.query[0] ? "?" : "", u.query);
		if (u.failed || whole == NULL || (h = curl_url()) == NULL ||
			curl_url_set(h, CURLUPART_URL, whole, 0) != CURLUE_OK ||
			curl_url_get(h, CURLUPART_URL, &got, 0) != CURLUE_OK ||
			(*url = strdup(got)) == NULL)
			problem = "The request URL cannot be built: out of memory.";
	}
	curl_free(got);
	curl_url_cleanup(h);
	free(whole);
	free(origin);
	free(u.path);
	free(u.query);
	return problem;
}

const char *
provider_interval_name(const Provider *p, int interval_secs)
{
	for (int i = 0; i < p->nintervals; i++)
	{
		if (p->intervals[i].secs == interval_secs)
			return p->intervals[i].name;
	}
	return NULL;
}
