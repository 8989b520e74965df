/*
 * fuzz_names.c
 *		libFuzzer harness: the checks on names a provider sends, against
 *		specifications written out here.
 *
 *  - symbol_problem (bar.c) on the whole input: NULL exactly when it is 1
 *    to 32 bytes of ASCII letters, digits and . - ^ = _ / : (the rule of
 *    stockext.ticks), else the reason for the first rule broken.
 *  - pc_set_symbol keeps the first 32 bytes, NUL-terminated, with the ASCII
 *    letters before any NUL in upper case, and makes symbol_problem's
 *    reason the bar's problem.
 *  - pc_set_zone on the input as a C string: the legacy US/ aliases mapped,
 *    the name kept (cut to 63 bytes), and no problem exactly when it is 1
 *    to 63 bytes of letters, digits and / _ + -; a problem already set stays.
 */
#include "fuzz.h"

static bool
symbol_byte(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		(c != '\0' && strchr(".-^=_/:", c) != NULL);
}

static bool
zone_byte(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		(c != '\0' && strchr("/_+-", c) != NULL);
}

static void
check_symbol(const uint8_t *data, size_t size)
{
	const char *why = symbol_problem((const char *) data, size);
	const char *want = NULL;
	ParsedBar	bar;
	size_t		kept = size < STOCKEXT_SYMBOL_MAXLEN ? size : STOCKEXT_SYMBOL_MAXLEN;

	if (size == 0)
		want = "symbol is empty";
	else if (size > STOCKEXT_SYMBOL_MAXLEN)
		want = "symbol is longer than 32 bytes";
	else
	{
		for (size_t i = 0; i < size && want == NULL; i++)
			if (!symbol_byte(data[i]))
				want = "symbol contains a character other than letters, digits and . - ^ = _ / :";
	}
	FUZZ_REQUIRE(want ? why != NULL && strcmp(why, want) == 0 : why == NULL,
				 "symbol_problem(\"%.*s\") is \"%s\", should be \"%s\"", (int) size, (const char *) data,
				 why ? why : "(none)", want ? want : "(none)");

	memset(&bar, 0x5a, sizeof(bar));
	bar.problem = NULL;
	pc_set_symbol(&bar, (const char *) data, size);
	for (size_t i = 0; i < kept; i++)
	{
		uint8_t		c = data[i];

		if (c >= 'a' && c <= 'z' && memchr(data, '\0', i) == NULL)
			c = (uint8_t) (c - 'a' + 'A');
		FUZZ_REQUIRE((uint8_t) bar.symbol[i] == c,
					 "pc_set_symbol(\"%.*s\") kept \"%s\": byte %zu is not the input's, upper-cased",
					 (int) size, (const char *) data, bar.symbol, i);
	}
	FUZZ_REQUIRE(bar.symbol[kept] == '\0' && bar.problem == why,
				 "pc_set_symbol(\"%.*s\") kept \"%s\", problem \"%s\"", (int) size, (const char *) data,
				 bar.symbol, bar.problem ? bar.problem : "(none)");
}

static void
check_zone(const uint8_t *data, size_t size)
{
	static const char *const aliases[][2] = {
		{"US/Eastern", "America/New_York"}, {"US/Central", "America/Chicago"},
		{"US/Mountain", "America/Denver"}, {"US/Pacific", "America/Los_Angeles"},
	};
	char	   *zone = fuzz_cstring(data, size);
	const char *mapped = zone;
	size_t		len;
	bool		valid;
	ParsedBar	bar;

	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcmp(zone, aliases[i][0]) == 0)
			mapped = aliases[i][1];
	len = strlen(mapped);
	valid = len > 0 && len < sizeof(bar.zone);
	for (size_t i = 0; i < len && valid; i++)
		valid = zone_byte((uint8_t) mapped[i]);

	memset(&bar, 0x5a, sizeof(bar));
	bar.problem = NULL;
	pc_set_zone(&bar, zone);
	FUZZ_REQUIRE(FUZZ_TERMINATED(bar.zone) && strncmp(bar.zone, mapped, sizeof(bar.zone) - 1) == 0 &&
				 strlen(bar.zone) == (len < sizeof(bar.zone) ? len : sizeof(bar.zone) - 1),
				 "pc_set_zone(\"%s\") kept \"%.64s\"", zone, bar.zone);
	FUZZ_REQUIRE(valid ? bar.problem == NULL
				 : bar.problem != NULL && strcmp(bar.problem, "time zone name is not valid") == 0,
				 "pc_set_zone(\"%s\"): problem \"%s\"", zone, bar.problem ? bar.problem : "(none)");

	/* The first problem found is the one a bar keeps. */
	bar.problem = "earlier problem";
	pc_set_zone(&bar, zone);
	FUZZ_REQUIRE(strcmp(bar.problem, "earlier problem") == 0, "pc_set_zone(\"%s\") replaced a problem", zone);
	free(zone);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_symbol(data, size);
	check_zone(data, size);
	return 0;
}
