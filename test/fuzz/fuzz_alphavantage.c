/*
 * fuzz_alphavantage.c
 *		libFuzzer harness: any bytes as an Alpha Vantage TIME_SERIES reply,
 *		and as a SPLITS or DIVIDENDS reply, under every HTTP status that
 *		steers the parsers (fuzz_parser in fuzz.h).
 */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_parser(parse_alphavantage, "alphavantage", (const char *) data, size);
	fuzz_parser(parse_alphavantage_actions, "alphavantage actions", (const char *) data, size);
	return 0;
}
