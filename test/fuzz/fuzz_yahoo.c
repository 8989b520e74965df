/*
 * fuzz_yahoo.c
 *		libFuzzer harness: any bytes as a Yahoo /v8/finance/chart reply,
 *		under every HTTP status that steers the parser (fuzz_parser in
 *		fuzz.h).  Yahoo's checks for its plain-text 429 and its maintenance
 *		page scan the raw body, so they run on non-JSON input too.
 */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_parser(parse_yahoo, "yahoo", (const char *) data, size);
	return 0;
}
