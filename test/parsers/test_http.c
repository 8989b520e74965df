/*
 * test_http.c
 *		src/http.c against the mock provider: concurrent transfers, each
 *		failure outcome, and the replies fed to the parsers.
 *
 * Usage: test_http MOCK_BASE_URL   (the mock started with --hang 5)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "provider.h"
#include "tap.h"


static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Run together; T_BIG runs alone, on a client with a patient timeout. */
enum
{
	T_TD, T_AV, T_YAHOO, T_YAHOO_BOT, T_TRUNC, T_HANG, T_HANG2, T_REFUSED, T_N, T_BIG = T_N
};

static const char *const names[] = {
	"twelvedata", "alphavantage", "yahoo (browser agent)", "yahoo (stockext agent)",
	"truncated body", "hang past the total timeout", "a second hang", "connection refused"
};

/* Runs one request on client to its end. */
static HttpRequest *
fetch(HttpClient *client, const char *u, bool browser)
{
	HttpRequest *req;

	if (http_add(client, u, browser, NULL) == NULL)
		return NULL;
	while ((req = http_next_done(client)) == NULL && http_wait(client, 50) > 0)
		;
	return req;
}

static void
url(char *buf, size_t size, const Provider *p, const char *base, const char *symbol, int secs)
{
	const char *syms[] = {symbol};
	ProviderRequest req = {base, syms, 1, secs, 0, 0, 30, "test-key", 0};
	char	   *built;
	const char *problem = provider_url(p, &req, &built);

	if (problem != NULL || strlen(built) >= size)
	{
		fprintf(stderr, "provider_url: %s\n", problem ? problem : "URL too long for the test");
		exit(2);
	}
	strcpy(buf, built);
	free(built);
}

int
main(int argc, char **argv)
{
	HttpOptions opts = {2000, 3000, 0};
	HttpOptions small = {2000, 30000, 1000};
	HttpOptions patient = {2000, 30000, 0};
	HttpClient *client;
	HttpRequest *got[T_N] = {0};
	HttpRequest *req;
	char		u[T_N + 1][1024];
	double		t0, elapsed;
	ParseResult r;
	int			n;

	if (argc != 2)
	{
		fprintf(stderr, "usage: %s MOCK_BASE_URL\n", argv[0]);
		return 2;
	}
	url(u[T_TD], 1024, &provider_twelvedata, argv[1], "AAPL", 60);
	url(u[T_AV], 1024, &provider_alphavantage, argv[1], "IBM", 300);
	url(u[T_YAHOO], 1024, &provider_yahoo, argv[1], "AAPL", 60);
	url(u[T_YAHOO_BOT], 1024, &provider_yahoo, argv[1], "AAPL", 60);
	url(u[T_TRUNC], 1024, &provider_twelvedata, argv[1], "FAULT_TRUNCATED", 60);
	url(u[T_HANG], 1024, &provider_twelvedata, argv[1], "FAULT_HANG", 60);
	url(u[T_HANG2], 1024, &provider_alphavantage, argv[1], "FAULT_HANG", 60);
	url(u[T_BIG], 1024, &provider_yahoo, argv[1], "FAULT_BIG", 60);
	url(u[T_REFUSED], 1024, &provider_yahoo, "http://127.0.0.1:1", "AAPL", 60);

	client = http_client_new(&opts);
	ok(client != NULL, "http client created");
	t0 = now();
	for (int i = 0; i < T_N; i++)
	{
		bool		browser = (i == T_YAHOO || i == T_REFUSED);

		ok(http_add(client, u[i], browser, &got[i]) != NULL, "queued %s", names[i]);
	}
	/* The worker's loop: short waits, taking replies as they come. */
	while ((n = http_wait(client, 50)) > 0)
	{
		while ((req = http_next_done(client)) != NULL)
			*(HttpRequest **) req->user = req;
		if (now() - t0 > 20)
			break;
	}
	elapsed = now() - t0;
	ok(n == 0, "every transfer finished");
	/* One after the other, the two hangs alone would take 6 s. */
	ok(elapsed < 5.5, "8 transfers, two hanging past a 3 s timeout, ran concurrently in %.2f s", elapsed);
	for (int i = 0; i < T_N; i++)
	{
		if (got[i] == NULL)
		{
			ok(0, "%s: no result", names[i]);
			return 1;
		}
	}

	ok(got[T_TD]->outcome == HTTP_DONE && got[T_TD]->status == 200, "twelvedata: HTTP 200");
	parse_twelvedata(got[T_TD]->body, got[T_TD]->len, (int) got[T_TD]->status, "AAPL", &r);
	ok(r.status == PARSE_OK && r.nbars == 3 && r.bars[2].epoch == 1749562200, "twelvedata: fetched reply parses to 3 bars");
	parse_result_free(&r);

	ok(got[T_AV]->outcome == HTTP_DONE && got[T_AV]->status == 200, "alphavantage: HTTP 200");
	parse_alphavantage(got[T_AV]->body, got[T_AV]->len, (int) got[T_AV]->status, "IBM", &r);
	ok(r.status == PARSE_OK && r.nbars == 3, "alphavantage: fetched reply parses to 3 bars");
	parse_result_free(&r);

	parse_yahoo(got[T_YAHOO]->body, got[T_YAHOO]->len, (int) got[T_YAHOO]->status, "AAPL", &r);
	ok(got[T_YAHOO]->status == 200 && r.status == PARSE_OK && r.nbars == 3,
	   "yahoo with the browser User-Agent: 3 bars");
	parse_result_free(&r);
	parse_yahoo(got[T_YAHOO_BOT]->body, got[T_YAHOO_BOT]->len, (int) got[T_YAHOO_BOT]->status, "AAPL", &r);
	ok(got[T_YAHOO_BOT]->status == 429 && r.status == PARSE_RATE_LIMITED,
	   "yahoo with the stockext User-Agent: plain-text 429 read as a rate limit");
	parse_result_free(&r);

	ok(got[T_TRUNC]->outcome == HTTP_TRUNCATED && got[T_TRUNC]->len > 0,
	   "truncated body: HTTP_TRUNCATED after %zu bytes (%s)", got[T_TRUNC]->len, got[T_TRUNC]->error);
	parse_twelvedata(got[T_TRUNC]->body, got[T_TRUNC]->len, (int) got[T_TRUNC]->status, "AAPL", &r);
	ok(r.status == PARSE_MALFORMED, "truncated body: the parser agrees (%s)", r.message);
	parse_result_free(&r);

	ok(got[T_HANG]->outcome == HTTP_TIMEOUT && got[T_HANG2]->outcome == HTTP_TIMEOUT &&
	   got[T_HANG]->seconds < 4.5,
	   "hang: HTTP_TIMEOUT after %.2f s (%s)", got[T_HANG]->seconds, got[T_HANG]->error);
	ok(strstr(got[T_HANG]->error, "test-key") == NULL && strstr(got[T_HANG2]->error, "test-key") == NULL,
	   "hang: the errors name no API key");

	ok(got[T_REFUSED]->outcome == HTTP_FAILED && got[T_REFUSED]->status == 0,
	   "connection refused: HTTP_FAILED (%s)", got[T_REFUSED]->error);

	for (int i = 0; i < T_N; i++)
		http_request_free(got[i]);
	http_client_free(client);

	client = http_client_new(&patient);
	req = fetch(client, u[T_BIG], true);
	ok(req != NULL && req->outcome == HTTP_DONE && req->status == 200,
	   "50,000 bars: HTTP_DONE, %zu bytes", req ? req->len : 0);
	if (req != NULL)
	{
		parse_yahoo(req->body, req->len, (int) req->status, NULL, &r);
		ok(r.status == PARSE_OK && r.nbars == 50000, "50,000 bars: all parsed");
		parse_result_free(&r);
	}
	http_request_free(req);
	http_client_free(client);

	/* max_body: a reply past the cap is dropped, not buffered. */
	client = http_client_new(&small);
	req = fetch(client, u[T_BIG], true);
	ok(req != NULL && req->outcome == HTTP_TOO_LARGE && req->len <= 1000,
	   "a reply over max_body (1000 bytes) is HTTP_TOO_LARGE with %zu bytes kept", req ? req->len : 0);
	http_request_free(req);

	/* Freeing a client with a transfer running aborts it cleanly. */
	http_add(client, u[T_HANG], false, NULL);
	http_wait(client, 10);
	http_client_free(client);
	ok(1, "a client freed with a transfer running");
	return failures ? 1 : 0;
}
