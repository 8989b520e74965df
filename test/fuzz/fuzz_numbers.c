/*
 * fuzz_numbers.c
 *		libFuzzer harness: pc_price and pc_volume (provider_common.c), the
 *		readers of every price and volume a provider sends, against the
 *		grammar written out here.
 *
 * The input is read twice: as the bytes of a JSON string (providers quote
 * their numbers; NULs included), and as a JSON document when it is one
 * (a number, null, true, a string with escapes...).
 *  - A price string is accepted exactly when it is at most 64 bytes of
 *    [+-]digits[.digits][(e|E)[+-]digits] (digits on at least one side of
 *    the point) that strtod reads as a finite normal double, with strtod's
 *    value; a JSON number when finite.
 *  - A volume string is accepted exactly when it is at most 64 bytes of
 *    [+-]digits within int64, with that value; a JSON number when it is an
 *    integer within int64.
 *  - Every refusal gives the documented reason for the field.
 */
#include <errno.h>
#include <math.h>

#include "fuzz.h"

static const char *const fields[] = {"open", "high", "low", "close"};

static bool
digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The decimal grammar above; *integer: no point and no exponent. */
static bool
decimal(const char *s, size_t n, bool *integer)
{
	size_t		i = 0,
				before = 0,
				after = 0;

	*integer = false;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	for (; i < n && digit(s[i]); i++)
		before++;
	*integer = (i == n && before > 0);
	if (i < n && s[i] == '.')
		for (i++; i < n && digit(s[i]); i++)
			after++;
	if (before + after == 0)
		return false;
	if (i < n && (s[i] == 'e' || s[i] == 'E'))
	{
		size_t		exp = 0;

		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (; i < n && digit(s[i]); i++)
			exp++;
		if (exp == 0)
			return false;
	}
	return i == n;
}

static void
check_price_string(json_object *v, const char *s, size_t n)
{
	bool		integer;
	double		want = 0;
	bool		ok = n <= 64 && decimal(s, n, &integer);

	if (ok)
	{
		char		buf[65];

		memcpy(buf, s, n);
		buf[n] = '\0';
		errno = 0;
		want = strtod(buf, NULL);
		ok = errno == 0 && isfinite(want);
	}
	for (int f = 0; f < 4; f++)
	{
		double		got = -1;
		const char *why = pc_price(v, fields[f], &got);
		char		reason[32];

		snprintf(reason, sizeof(reason), "%s is not a number", fields[f]);
		FUZZ_REQUIRE(ok ? why == NULL && got == want : why != NULL && strcmp(why, reason) == 0,
					 "pc_price(\"%.*s\") gives %g, \"%s\"; should be %s", (int) n, s, got,
					 why ? why : "(accepted)", ok ? "accepted" : reason);
	}
}

static void
check_volume_string(json_object *v, const char *s, size_t n)
{
	const char *want = NULL;
	int64_t		value = 0;
	int64_t		got = -1;
	const char *why = pc_volume(v, &got);
	bool		integer = false;

	if (n == 0 || n > 64 || strspn(s, "0123456789+-.eE") < n)
		want = "volume is not a number";
	else if (memchr(s, '.', n) || memchr(s, 'e', n) || memchr(s, 'E', n))
		want = "volume is not a whole number";
	else if (!decimal(s, n, &integer) || !integer)
		want = "volume is not a number";
	else
	{
		/* Accumulate negatively: INT64_MIN has no positive twin. */
		bool		negative = s[0] == '-';

		for (size_t i = (s[0] == '+' || s[0] == '-'); i < n && want == NULL; i++)
		{
			if (value < (INT64_MIN + (s[i] - '0')) / 10)
				want = "volume is out of range";
			else
				value = value * 10 - (s[i] - '0');
		}
		if (want == NULL && !negative)
		{
			if (value == INT64_MIN)
				want = "volume is out of range";
			else
				value = -value;
		}
	}
	FUZZ_REQUIRE(want ? why != NULL && strcmp(why, want) == 0 : why == NULL && got == value,
				 "pc_volume(\"%.*s\") gives %lld, \"%s\"; should be %lld, \"%s\"", (int) n, s,
				 (long long) got, why ? why : "(accepted)", (long long) value, want ? want : "(accepted)");
}

/* A JSON value of any type. */
static void
check_value(json_object *v)
{
	const char *why;
	double		d = 0;
	int64_t		vol = 0;

	switch (json_object_get_type(v))
	{
		case json_type_string:
			check_price_string(v, json_object_get_string(v), (size_t) json_object_get_string_len(v));
			check_volume_string(v, json_object_get_string(v), (size_t) json_object_get_string_len(v));
			return;
		case json_type_double:
			{
				double		x = json_object_get_double(v);
				bool		whole = isfinite(x) && x == floor(x);

				why = pc_price(v, "low", &d);
				FUZZ_REQUIRE(isfinite(x) ? why == NULL && d == x : why && strcmp(why, "low is not a number") == 0,
							 "pc_price(JSON %g) gives %g, \"%s\"", x, d, why ? why : "(accepted)");
				why = pc_volume(v, &vol);
				if (!whole)
					FUZZ_REQUIRE(why && strcmp(why, "volume is not a whole number") == 0,
								 "pc_volume(JSON %g) gives \"%s\"", x, why ? why : "(accepted)");
				else if (x >= 9.2e18 || x <= -9.2e18)
					FUZZ_REQUIRE(why && strcmp(why, "volume is out of range") == 0,
								 "pc_volume(JSON %g) gives \"%s\"", x, why ? why : "(accepted)");
				else
					FUZZ_REQUIRE(why == NULL && (double) vol == x, "pc_volume(JSON %g) gives %lld, \"%s\"",
								 x, (long long) vol, why ? why : "(accepted)");
				return;
			}
		case json_type_int:
			{
				int64_t		x = json_object_get_int64(v);

				why = pc_price(v, "open", &d);
				FUZZ_REQUIRE(why == NULL && d == (double) x, "pc_price(JSON %lld) gives %g, \"%s\"",
							 (long long) x, d, why ? why : "(accepted)");
				/* json-c saturates at INT64_MAX (and INT64_MIN): the former is refused. */
				why = pc_volume(v, &vol);
				FUZZ_REQUIRE(x == INT64_MAX ? why && strcmp(why, "volume is out of range") == 0
							 : why == NULL && vol == x,
							 "pc_volume(JSON %lld) gives %lld, \"%s\"", (long long) x, (long long) vol,
							 why ? why : "(accepted)");
				return;
			}
		case json_type_null:
			why = pc_price(v, "close", &d);
			FUZZ_REQUIRE(why && strcmp(why, "close is missing") == 0, "pc_price(null): \"%s\"", why ? why : "(accepted)");
			why = pc_volume(v, &vol);
			FUZZ_REQUIRE(why && strcmp(why, "volume is missing") == 0, "pc_volume(null): \"%s\"", why ? why : "(accepted)");
			return;
		default:
			why = pc_price(v, "high", &d);
			FUZZ_REQUIRE(why && strcmp(why, "high is not a number") == 0, "pc_price(%s): \"%s\"",
						 json_object_to_json_string(v), why ? why : "(accepted)");
			why = pc_volume(v, &vol);
			FUZZ_REQUIRE(why && strcmp(why, "volume is not a number") == 0, "pc_volume(%s): \"%s\"",
						 json_object_to_json_string(v), why ? why : "(accepted)");
			return;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *v;
	json_tokener *tok;
	char	   *text;

	if (size > 4096)
		return 0;				/* a number is short; long inputs only slow the search */
	v = json_object_new_string_len((const char *) data, (int) size);
	FUZZ_REQUIRE(v != NULL, "out of memory");
	check_value(v);
	json_object_put(v);

	/* With its NUL: json-c reads a bare number only once something ends it. */
	text = fuzz_cstring(data, size);
	tok = json_tokener_new();
	FUZZ_REQUIRE(tok != NULL, "out of memory");
	v = json_tokener_parse_ex(tok, text, (int) size + 1);
	if (v != NULL)
		check_value(v);
	json_object_put(v);
	json_tokener_free(tok);
	free(text);
	return 0;
}
