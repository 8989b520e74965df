/*
 * bucket.c
 *		The bucket of an instant in a rolled-up width: stockext.rollup_bucket()
 *		and stockext.calendar_unit() (install/parts/50-rollups.sql).
 *
 * PostgreSQL's date_bin, date_trunc and AT TIME ZONE do the work; this file
 * only picks which.  As SQL, rollup_bucket() was inlined into every query
 * calling it, and the planner copied its expression into the scan of each
 * monthly partition of ticks: about a fifth of the planning of a late-bar
 * refresh at 1M bars.  A C call is one node to plan, and no slower to run.
 */
#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/timestamp.h"

/*
 * The date_trunc field of a calendar width (1 month, 3 months, 1 year):
 * month, quarter or year; NULL for any other width.
 */
static const char *
calendar_field(const Interval *width)
{
	if (width->day != 0 || width->time != 0)
		return NULL;
	switch (width->month)
	{
		case 1:
			return "month";
		case 3:
			return "quarter";
		case 12:
			return "year";
	}
	return NULL;
}

PG_FUNCTION_INFO_V1(stockext_calendar_unit);
Datum
stockext_calendar_unit(PG_FUNCTION_ARGS)
{
	const char *field = calendar_field(PG_GETARG_INTERVAL_P(0));

	if (field == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(field));
}

/*
 * rollup_bucket(ts, width, origin, time_zone): date_bin in the width's local
 * time, so a session-aligned bucket starts at the same local time on both
 * sides of a DST change; in UTC date_bin on the instants (the same result
 * without two conversions); a calendar width is date_trunc in the time zone.
 */
PG_FUNCTION_INFO_V1(stockext_rollup_bucket);
Datum
stockext_rollup_bucket(PG_FUNCTION_ARGS)
{
	Datum		ts = PG_GETARG_DATUM(0);
	Interval   *width = PG_GETARG_INTERVAL_P(1);
	Timestamp	origin = PG_GETARG_TIMESTAMP(2);
	text	   *zone = PG_GETARG_TEXT_PP(3);
	const char *field = calendar_field(width);
	Datum		local;

	if (field != NULL)
		return DirectFunctionCall3(timestamptz_trunc_zone, CStringGetTextDatum(field), ts,
								   PointerGetDatum(zone));
	if (VARSIZE_ANY_EXHDR(zone) == 3 && memcmp(VARDATA_ANY(zone), "UTC", 3) == 0)
	{
		/* origin AT TIME ZONE 'UTC': the same microseconds, as an instant. */
		return DirectFunctionCall3(timestamptz_bin, IntervalPGetDatum(width), ts,
								   TimestampTzGetDatum((TimestampTz) origin));
	}
	local = DirectFunctionCall2(timestamptz_zone, PointerGetDatum(zone), ts);
	return DirectFunctionCall2(timestamp_zone, PointerGetDatum(zone),
							   DirectFunctionCall3(timestamp_bin, IntervalPGetDatum(width), local,
												   TimestampGetDatum(origin)));
}
