/*
 * fuzz_twelvedata.c
 *		libFuzzer harness: any bytes as a TwelveData /time_series reply, and
 *		as a /splits or /dividends reply.
 *
 * The body goes to parse_twelvedata (timezone=UTC, as provider_url asks)
 * under every HTTP status that steers it (fuzz_parser in fuzz.h), then to
 * parse_twelvedata_zone for the other two ways a request can set the time
 * zone: left at "Exchange" (meta.exchange_timezone) and a named zone.
 */
#include "fuzz.h"

static void
parse_exchange(const char *body, size_t len, int http_status, const char *symbol, ParseResult *out)
{
	parse_twelvedata_zone(body, len, http_status, symbol, NULL, out);
}

static void
parse_new_york(const char *body, size_t len, int http_status, const char *symbol, ParseResult *out)
{
	parse_twelvedata_zone(body, len, http_status, symbol, "America/New_York", out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *) data;
	ParseResult r;

	fuzz_parser(parse_twelvedata, "twelvedata", body, size);
	fuzz_parser(parse_twelvedata_actions, "twelvedata actions", body, size);

	/* The zone variants differ only in how a time is read: HTTP 200 suffices. */
	parse_exchange(body, size, 200, "AAPL", &r);
	fuzz_check_result(&r, "twelvedata (exchange zone)");
	parse_result_free(&r);
	parse_new_york(body, size, 200, NULL, &r);
	fuzz_check_result(&r, "twelvedata (America/New_York)");
	parse_result_free(&r);
	return 0;
}
