/*
 * fuzz_url.c
 *		libFuzzer harness: request URLs built from outside text, and their
 *		redaction for logs (provider_common.c and the providers' *_url).
 *
 * Symbols come from feed definitions and the key from a setting: a symbol
 * or key holding '&', '#', '%', spaces or any other byte must not change
 * the request's shape, and url_redact must hide every key.  The input is
 * lines: symbols, then the API key as the last line when a flag says so.
 * From its end (fuzz_take): the flag, provider, bar length, range,
 * outputsize and buffer size.  Checked:
 *  - provider_url returns NULL or a sentence (capital first, '.' last) and
 *    then no URL, never half a URL;
 *  - a URL starts with the base URL and holds only
 *    unreserved characters, %XX escapes and the delimiters : / ? & = , with
 *    as many '?', '&', '=' and ',' as the same request for the symbols "A"
 *    and the key "k";
 *  - url_redact of the URL is the redaction of the same request with the
 *    key "k": nothing of the key is left; URL_REDACT_SIZE bytes hold it all;
 *  - url_redact of the whole input as a URL, into a buffer of any size:
 *    NUL-terminated, a prefix of the redaction into a large buffer, where
 *    every apikey=, api_key= and token= parameter's value is "***".
 */
#include <strings.h>

#include "fuzz.h"

#define BASE_URL "https://api.example.com/"
#define BIG 65536
#define MAX_LINES 130

static const char *const secrets[] = {"apikey=", "api_key=", "token="};

/* Every secret parameter of a redacted URL has the value "***". */
static void
check_redacted(const char *url, const char *shown)
{
	for (const char *p = shown + 1; *p; p++)
	{
		if (p[-1] != '?' && p[-1] != '&')
			continue;
		for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		{
			size_t		n = strlen(secrets[i]);

			if (strncasecmp(p, secrets[i], n) == 0)
				FUZZ_REQUIRE(strncmp(p + n, "***", 3) == 0 && strchr("&#", p[n + 3]) != NULL,
							 "url_redact(\"%s\") shows \"%s\"", url, shown);
		}
	}
}

/* url_redact into a buffer of exactly size bytes; the caller frees it. */
static char *
redact(const char *url, size_t size)
{
	char	   *buf = malloc(size ? size : 1);

	FUZZ_REQUIRE(buf != NULL, "out of memory");
	url_redact(url, buf, size);
	return buf;
}

static size_t
count(const char *s, const char *chars)
{
	size_t		n = 0;

	for (; *s; s++)
		n += strchr(chars, *s) != NULL;
	return n;
}

static bool
hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

static void
check_url(const char *url)
{
	size_t		len = strlen(url);

	FUZZ_REQUIRE(strncmp(url, "https://api.example.com/", strlen(BASE_URL)) == 0 &&
				 url[strlen(BASE_URL)] != '/', "provider_url: \"%s\" does not start with the base URL", url);
	for (size_t i = 0; i < len; i++)
	{
		char		c = url[i];

		if (c == '%')
			FUZZ_REQUIRE(i + 2 < len && hex(url[i + 1]) && hex(url[i + 2]), "provider_url: bad escape in \"%s\"", url);
		else
			FUZZ_REQUIRE((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
						 strchr("-._~:/?&=,", c) != NULL, "provider_url: byte 0x%02x in \"%s\"",
						 (unsigned char) c, url);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int intervals[] = {60, 120, 300, 900, 1800, 2700, 3600, 5400, 7200, 14400,
	86400, 604800, 0, 59};
	char	   *lines[MAX_LINES];
	const char *plain[MAX_LINES];
	int			nlines = 0;
	int			flags = (int) fuzz_take(data, &size, 1);
	ProviderRequest req = {BASE_URL, NULL, 0, 0, 0, 0, 0, NULL, 0};
	ProviderRequest alt;
	static const Provider *const providers[] = {&provider_twelvedata, &provider_alphavantage,
	&provider_yahoo};
	const Provider *p = providers[fuzz_take(data, &size, 1) % 3];
	size_t		bufsize;
	char	   *buf,
			   *other,
			   *input;
	const char *why,
			   *other_why;

	req.interval_secs = intervals[fuzz_take(data, &size, 1) % (sizeof(intervals) / sizeof(intervals[0]))];
	switch (fuzz_take(data, &size, 1) % 4)
	{
		case 2:					/* any range: provider_url's checks */
			req.start = (int64_t) fuzz_take(data, &size, 8);
			req.stop = (int64_t) fuzz_take(data, &size, 8);
			break;
		case 3:					/* a range of the years 1970 to 9999 */
			req.start = (int64_t) (fuzz_take(data, &size, 5) % (uint64_t) PC_MAX_EPOCH);
			req.stop = req.start + 1 + (int64_t) fuzz_take(data, &size, 3);
			break;
	}
	req.outputsize = (int) (int32_t) fuzz_take(data, &size, 4);
	/* Bars, or a corporate-actions request (3 is one no provider has). */
	req.actions = (flags >> 1) % 4;
	bufsize = fuzz_take(data, &size, 2);
	bufsize = bufsize % 2 ? bufsize / 2 % 700 : 8192;	/* url_redact's buffer */

	/* The lines, as C strings (a NUL ends one early, as it would in C). */
	for (size_t start = 0, i = 0; i <= size && nlines < MAX_LINES; i++)
	{
		if (i == size || data[i] == '\n')
		{
			lines[nlines] = fuzz_cstring(data + start, i - start);
			plain[nlines] = "A";
			nlines++;
			start = i + 1;
		}
	}
	req.symbols = (const char *const *) lines;
	req.nsymbols = nlines;
	if ((flags & 1) && nlines > 0)
		req.api_key = lines[--req.nsymbols];

	why = provider_url(p, &req, &buf);
	if (why != NULL)
		FUZZ_REQUIRE(why[0] >= 'A' && why[0] <= 'Z' && why[strlen(why) - 1] == '.' && buf == NULL,
					 "provider_url: \"%s\", URL \"%s\"", why, buf ? buf : "");
	else
	{
		char	   *shown,
				   *shown_k,
				   *fitted;

		check_url(buf);

		/* The same shape as with plain symbols and key. */
		alt = req;
		alt.symbols = plain;
		alt.api_key = req.api_key ? "k" : NULL;
		other_why = provider_url(p, &alt, &other);
		FUZZ_REQUIRE(other_why == NULL, "provider_url refused plain symbols: %s", other_why);
		FUZZ_REQUIRE(count(buf, "?") == count(other, "?") && count(buf, "&") == count(other, "&") &&
					 count(buf, "=") == count(other, "=") && count(buf, ",") == count(other, ","),
					 "provider_url: \"%s\" is not shaped like \"%s\"", buf, other);
		free(other);

		/* Redacted, the key is gone: the same text as with the key "k". */
		alt.symbols = req.symbols;
		other_why = provider_url(p, &alt, &other);
		FUZZ_REQUIRE(other_why == NULL, "provider_url refused the key \"k\": %s", other_why);
		shown = redact(buf, BIG);
		shown_k = redact(other, BIG);
		FUZZ_REQUIRE(strcmp(shown, shown_k) == 0, "url_redact(\"%s\") is \"%s\", with the key \"k\" \"%s\"",
					 buf, shown, shown_k);
		fitted = redact(buf, URL_REDACT_SIZE(strlen(buf)));
		FUZZ_REQUIRE(strcmp(shown, fitted) == 0, "url_redact(\"%s\") is cut short in URL_REDACT_SIZE: \"%s\"",
					 buf, fitted);
		free(fitted);
		free(shown);
		free(shown_k);
		free(other);
	}
	free(buf);

	/* The whole input as a URL, shown in full and cut to bufsize. */
	input = fuzz_cstring(data, size);
	{
		char	   *full = redact(input, BIG);
		char	   *cut = redact(input, bufsize);

		check_redacted(input, full);
		if (bufsize > 0)
			FUZZ_REQUIRE(strlen(cut) == (strlen(full) < bufsize ? strlen(full) : bufsize - 1) &&
						 strncmp(cut, full, strlen(cut)) == 0,
						 "url_redact(\"%s\") into %zu bytes is \"%s\", not a prefix of \"%s\"",
						 input, bufsize, cut, full);
		free(full);
		free(cut);
	}
	free(input);
	for (int i = 0; i < nlines; i++)
		free(lines[i]);
	return 0;
}
