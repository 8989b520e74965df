/*
 * provider_series.c
 *		Reading a reply's series one bar at a time.
 *
 * json-c builds about 11 bytes of tree per byte of a TwelveData or Alpha
 * Vantage reply, and glibc gives that tree back to the kernel when it is
 * freed, so a process that parses large replies over and over spends most
 * of its parse faulting the tree in again (provider.h, bench/README.md).
 * Here the reply's outer objects are built as usual, but a series member
 * (TwelveData's "values" array, Alpha Vantage's "Time Series (...)" object)
 * in the root or in an object directly under it is left out: the tree holds
 * an empty container in its place that knows the series' span in the body,
 * and the parser reads the series one element at a time with json-c, each
 * element's small tree freed before the next is read.  The heap stays a few
 * kilobytes whatever the reply's size.
 *
 * Only the structure is read by hand here (braces, brackets, commas, colons
 * and whitespace); every name and value is json-c's.  A series is scanned
 * once to find its end (strings and nesting respected) and checked in full
 * as it is read; one that no parser reads is checked only for its nesting.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "provider_common.h"

/* Where a series lies in the body: the placeholder's json-c userdata. */
typedef struct SeriesSpan
{
	size_t		open;			/* offset of its '[' or '{' */
	size_t		close;			/* offset of the matching ']' or '}' */
	size_t		count;			/* elements, at most (commas at its level + 1) */
} SeriesSpan;

typedef struct Walk
{
	const char *body;
	size_t		len;
	size_t		pos;
	json_tokener *tok;
	PcSeriesName is_series;
	ParseResult *out;
} Walk;

static bool
is_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
skip_space(const char *body, size_t end, size_t *pos)
{
	while (*pos < end && is_json_space(body[*pos]))
		(*pos)++;
}

/* Fails out for a body that ends early or breaks JSON's syntax; false. */
static bool
fail_syntax(ParseResult *out, bool truncated, const char *what)
{
	if (truncated)
		pc_fail(out, PARSE_MALFORMED, 0, "reply ends in the middle of its JSON (truncated)");
	else
		pc_fail(out, PARSE_MALFORMED, 0, "reply is not valid JSON (%s)", what);
	return false;
}

/*
 * One value parsed by json-c from body[*pos] up to end (exclusive); *pos
 * moves past it.  False when it is not a whole valid value (out failed);
 * *v is NULL for JSON null.
 */
static bool
parse_value(json_tokener *tok, const char *body, size_t end, size_t *pos,
			json_object **v, ParseResult *out)
{
	enum json_tokener_error err;

	json_tokener_reset(tok);
	*v = json_tokener_parse_ex(tok, body + *pos, (int) (end - *pos));
	err = json_tokener_get_error(tok);
	if (err != json_tokener_success)
	{
		json_object_put(*v);
		*v = NULL;
		return fail_syntax(out, err == json_tokener_continue, json_tokener_error_desc(err));
	}
	*pos += json_tokener_get_parse_end(tok);
	return true;
}

/*
 * A member's name and its ':' from body[*pos] up to end, *pos left at the
 * value.  False when they are not there (out failed); running into end is
 * truncation when end is the body's end, else a syntax error.
 */
static bool
parse_name(json_tokener *tok, const char *body, size_t end, bool end_of_body,
		   size_t *pos, json_object **name, ParseResult *out)
{
	*name = NULL;
	skip_space(body, end, pos);
	if (*pos >= end || body[*pos] != '"')
		return fail_syntax(out, end_of_body && *pos >= end, "expected a member name");
	if (!parse_value(tok, body, end, pos, name, out))
		return false;
	skip_space(body, end, pos);
	if (*pos >= end || body[*pos] != ':')
	{
		json_object_put(*name);
		*name = NULL;
		return fail_syntax(out, end_of_body && *pos >= end, "expected ':' after a member name");
	}
	(*pos)++;
	skip_space(body, end, pos);
	if (*pos >= end)
	{
		json_object_put(*name);
		*name = NULL;
		return fail_syntax(out, end_of_body, "expected a value");
	}
	return true;
}

static void
free_span(json_object *obj, void *userdata)
{
	(void) obj;					/* json-c's callback signature */
	free(userdata);
}

/*
 * The series starting at w->pos: its span found and attached to an empty
 * container of its kind, which is returned (NULL when out failed).
 */
static json_object *
walk_series(Walk *w)
{
	const char *body = w->body;
	char		open = body[w->pos];
	int			depth = 0;
	size_t		commas = 0;
	SeriesSpan *span;
	json_object *placeholder;

	for (size_t p = w->pos; p < w->len; p++)
	{
		switch (body[p])
		{
			case '"':
				/* Past the string: a backslash always escapes one byte. */
				for (p++; p < w->len && body[p] != '"'; p++)
				{
					if (body[p] == '\\')
						p++;
				}
				break;
			case '[':
			case '{':
				depth++;
				break;
			case ']':
			case '}':
				if (--depth > 0)
					break;
				if ((open == '[') != (body[p] == ']'))
				{
					fail_syntax(w->out, false, "mismatched brackets");
					return NULL;
				}
				span = malloc(sizeof(SeriesSpan));
				placeholder = open == '[' ? json_object_new_array() : json_object_new_object();
				if (span == NULL || placeholder == NULL)
				{
					free(span);
					json_object_put(placeholder);
					pc_fail(w->out, PARSE_MALFORMED, 0, "out of memory");
					return NULL;
				}
				span->open = w->pos;
				span->close = p;
				span->count = commas + 1;
				json_object_set_userdata(placeholder, span, free_span);
				w->pos = p + 1;
				return placeholder;
			case ',':
				if (depth == 1)
					commas++;
				break;
		}
	}
	fail_syntax(w->out, true, NULL);
	return NULL;
}

/*
 * The object at w->pos, built with its series left out when it is the root
 * (depth 0) or directly under it (depth 1); deeper values are json-c's.
 */
static json_object *
walk_object(Walk *w, int depth)
{
	json_object *obj = json_object_new_object();
	json_object *key = NULL;

	if (obj == NULL)
	{
		pc_fail(w->out, PARSE_MALFORMED, 0, "out of memory");
		return NULL;
	}
	w->pos++;					/* '{' */
	skip_space(w->body, w->len, &w->pos);
	if (w->pos < w->len && w->body[w->pos] == '}')
	{
		w->pos++;
		return obj;
	}
	for (;;)
	{
		json_object *value;
		char		c;

		if (!parse_name(w->tok, w->body, w->len, true, &w->pos, &key, w->out))
			goto failed;
		c = w->body[w->pos];
		if ((c == '[' || c == '{') && w->is_series(json_object_get_string(key)))
			value = walk_series(w);
		else if (c == '{' && depth < 1)
			value = walk_object(w, depth + 1);
		else if (!parse_value(w->tok, w->body, w->len, &w->pos, &value, w->out))
			goto failed;
		if (value == NULL && w->out->status != PARSE_OK)
			goto failed;
		/* As json-c: a repeated name keeps the last value. */
		if (json_object_object_add(obj, json_object_get_string(key), value) != 0)
		{
			json_object_put(value);
			pc_fail(w->out, PARSE_MALFORMED, 0, "out of memory");
			goto failed;
		}
		json_object_put(key);
		key = NULL;

		skip_space(w->body, w->len, &w->pos);
		if (w->pos >= w->len)
		{
			fail_syntax(w->out, true, NULL);
			goto failed;
		}
		c = w->body[w->pos++];
		if (c == '}')
			return obj;
		if (c != ',')
		{
			fail_syntax(w->out, false, "expected ',' or '}' in an object");
			goto failed;
		}
	}

failed:
	json_object_put(key);
	json_object_put(obj);
	return NULL;
}

json_object *
pc_parse_object_series(const char *body, size_t len, int http_status,
					   PcSeriesName is_series, ParseResult *out)
{
	Walk		w = {body, len, 0, NULL, is_series, out};
	json_object *root;

	skip_space(body, len, &w.pos);
	/* Anything but an object is small or no reply: json-c whole. */
	if (body == NULL || w.pos >= len || body[w.pos] != '{' || len > INT_MAX)
		return pc_parse_object(body, len, http_status, out);
	w.tok = json_tokener_new_ex(PC_JSON_MAX_DEPTH);
	if (w.tok == NULL)
	{
		pc_fail(out, PARSE_MALFORMED, 0, "out of memory");
		return NULL;
	}
	root = walk_object(&w, 0);
	json_tokener_free(w.tok);
	if (root != NULL)
	{
		skip_space(body, len, &w.pos);
		if (w.pos < len)
		{
			json_object_put(root);
			root = NULL;
			pc_fail(out, PARSE_MALFORMED, 0, "reply has bytes after its JSON value");
		}
	}
	/* A 429 or 5xx with a broken body says more than "malformed". */
	if (root == NULL)
		pc_http_failure(http_status, out);
	return root;
}

bool
pc_series_open(json_object *container, const char *body, PcSeries *s, ParseResult *out)
{
	SeriesSpan *span = container ? json_object_get_userdata(container) : NULL;

	memset(s, 0, sizeof(*s));
	/* The parsers open only what pc_parse_object_series left out. */
	if (span == NULL)
	{
		pc_fail(out, PARSE_MALFORMED, 0, "reply's series was not read apart");
		return false;
	}
	if (!pc_reserve(out, span->count))
		return false;
	s->tok = json_tokener_new_ex(PC_JSON_MAX_DEPTH);
	if (s->tok == NULL)
	{
		pc_fail(out, PARSE_MALFORMED, 0, "out of memory");
		return false;
	}
	s->body = body;
	s->pos = span->open + 1;
	s->close = span->close;
	s->members = body[span->open] == '{';
	return true;
}

bool
pc_series_next(PcSeries *s, const char **name, json_object **value, ParseResult *out)
{
	const char *body = s->body;

	json_object_put(s->value);
	json_object_put(s->name);
	s->value = s->name = NULL;
	*value = NULL;
	if (name)
		*name = NULL;

	skip_space(body, s->close, &s->pos);
	if (s->pos >= s->close)
		return false;
	if (s->started)
	{
		if (body[s->pos] != ',')
			return fail_syntax(out, false, "expected ',' between elements");
		s->pos++;
		skip_space(body, s->close, &s->pos);
	}
	s->started = true;
	if (s->members)
	{
		if (!parse_name(s->tok, body, s->close, false, &s->pos, &s->name, out))
			return false;
		if (name)
			*name = json_object_get_string(s->name);
	}
	/* The closing bracket bounds json-c: an element cannot run past it. */
	if (s->pos >= s->close)
		return fail_syntax(out, false, "expected a value");
	if (!parse_value(s->tok, body, s->close + 1, &s->pos, &s->value, out))
		return false;
	/* json-c read the closing bracket as part of a bare word. */
	if (s->pos > s->close)
		return fail_syntax(out, false, "unexpected end of a series");
	*value = s->value;
	return true;
}

void
pc_series_close(PcSeries *s)
{
	json_object_put(s->value);
	json_object_put(s->name);
	if (s->tok)
		json_tokener_free(s->tok);
	memset(s, 0, sizeof(*s));
}
