/*
 * fuzz_time.c
 *		libFuzzer harness: the time readers the parsers share
 *		(provider_common.c), against specifications written out here and
 *		libc's calendar.
 *
 *  - pc_wall_time on the whole input: accepted exactly when the input is
 *    "YYYY-MM-DD", "YYYY-MM-DD HH:MM" or "YYYY-MM-DD HH:MM:SS" naming a real
 *    time of the years 1000 to 9999, and then read field by field;
 *    pc_utc_epoch of what it read is timegm's epoch.
 *  - pc_wall_from_epoch on an epoch within 2^40 s of 1970 and an offset of
 *    at most a day (the last 11 bytes, fuzz_take): the wall time is
 *    gmtime's, and pc_utc_epoch takes it back to epoch + offset.
 */
#include "fuzz.h"

/* Two or four ASCII digits (no locale), or -1. */
static int
number(const uint8_t *s, int n)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static void
check_wall_time(const uint8_t *data, size_t size)
{
	static const char shape[] = "####-##-## ##:##:##";
	ParsedBar	bar;
	bool		date_only = false;
	bool		got;
	bool		want = (size == 10 || size == 16 || size == 19);
	int			y = 0,
				mo = 0,
				d = 0,
				h = 0,
				mi = 0,
				s = 0;
	int64_t		epoch = 0;

	memset(&bar, 0, sizeof(bar));
	got = pc_wall_time((const char *) data, size, &bar, &date_only);
	for (size_t i = 0; want && i < size; i++)
		want = shape[i] == '#' ? data[i] >= '0' && data[i] <= '9' : data[i] == (uint8_t) shape[i];
	if (want)
	{
		y = number(data, 4);
		mo = number(data + 5, 2);
		d = number(data + 8, 2);
		if (size >= 16)
		{
			h = number(data + 11, 2);
			mi = number(data + 14, 2);
		}
		if (size == 19)
			s = number(data + 17, 2);
		want = y >= 1000 && fuzz_real_time(y, mo, d, h, mi, s, &epoch);
	}
	FUZZ_REQUIRE(got == want, "pc_wall_time(\"%.*s\") is %s", (int) size, (const char *) data,
				 got ? "accepted" : "refused");
	if (!got)
		return;
	FUZZ_REQUIRE(bar.year == y && bar.mon == mo && bar.mday == d && bar.hour == h &&
				 bar.min == mi && bar.sec == s && date_only == (size == 10),
				 "pc_wall_time(\"%.*s\") read %d-%d-%d %d:%d:%d (date only %d)", (int) size,
				 (const char *) data, bar.year, bar.mon, bar.mday, bar.hour, bar.min, bar.sec, date_only);
	FUZZ_REQUIRE(pc_utc_epoch(y, mo, d, h, mi, s) == epoch, "pc_utc_epoch(\"%.*s\") is %lld, timegm says %lld",
				 (int) size, (const char *) data, (long long) pc_utc_epoch(y, mo, d, h, mi, s),
				 (long long) epoch);
}

static void
check_epoch(const uint8_t *data, size_t size)
{
	const int64_t span = INT64_C(1) << 40;
	int64_t		epoch = (int64_t) (fuzz_take(data, &size, 8) % (uint64_t) (2 * span + 1)) - span;
	int64_t		offset = (int64_t) (fuzz_take(data, &size, 3) % 172801) - 86400;
	int64_t		t = epoch + offset;
	int64_t		libc = 0;
	ParsedBar	bar;

	memset(&bar, 0, sizeof(bar));
	pc_wall_from_epoch(&bar, epoch, offset);
	FUZZ_REQUIRE(fuzz_real_time(bar.year, bar.mon, bar.mday, bar.hour, bar.min, bar.sec, &libc) && libc == t,
				 "pc_wall_from_epoch(%lld, %lld) is %d-%d-%d %d:%d:%d, gmtime's epoch of it %lld",
				 (long long) epoch, (long long) offset, bar.year, bar.mon, bar.mday,
				 bar.hour, bar.min, bar.sec, (long long) libc);
	FUZZ_REQUIRE(pc_utc_epoch(bar.year, bar.mon, bar.mday, bar.hour, bar.min, bar.sec) == t,
				 "pc_utc_epoch does not take pc_wall_from_epoch(%lld, %lld) back",
				 (long long) epoch, (long long) offset);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_wall_time(data, size);
	check_epoch(data, size);
	return 0;
}
