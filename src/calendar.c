/*
 * calendar.c
 *		The dates trading-calendar rules give (stockext.calendar_holidays):
 *		Easter by the Gregorian computus, nth and last weekdays of a month,
 *		and the weekend shifts of observed holidays.  In C because every
 *		session lookup (is_open, the worker's due feeds) evaluates each rule
 *		for each year it spans.
 */
#include "postgres.h"

#include "datatype/timestamp.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"

/* The Gregorian calendar's first whole year, and the last date's. */
#define MIN_YEAR 1583
#define MAX_YEAR 9999

static void
check_year(int32 year)
{
	if (year < MIN_YEAR || year > MAX_YEAR)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("year %d is outside the range of trading calendars", year),
				 errdetail("Calendar rules give dates of the Gregorian years %d to %d.",
						   MIN_YEAR, MAX_YEAR)));
}

/* ISO day of the week of a Julian day: 1 Monday .. 7 Sunday. */
static int
iso_dow(int j)
{
	int			d = j2day(j);

	return d == 0 ? 7 : d;
}

/*
 * Easter Sunday as a Julian day: the anonymous Gregorian algorithm (Meeus,
 * Astronomical Algorithms, chapter 8).
 */
static int
easter_j(int year)
{
	int			a = year % 19,
				b = year / 100,
				c = year % 100,
				h = (19 * a + b - b / 4 - (b - (b + 8) / 25 + 1) / 3 + 15) % 30,
				l = (32 + 2 * (b % 4) + 2 * (c / 4) - h - c % 4) % 7,
				m = (a + 11 * h + 22 * l) / 451;

	return date2j(year, (h + l - 7 * m + 114) / 31, (h + l - 7 * m + 114) % 31 + 1);
}

/* easter(year): Easter Sunday of a Gregorian year. */
PG_FUNCTION_INFO_V1(stockext_easter);
Datum
stockext_easter(PG_FUNCTION_ARGS)
{
	int32		year = PG_GETARG_INT32(0);

	check_year(year);
	PG_RETURN_DATEADT(easter_j(year) - POSTGRES_EPOCH_JDATE);
}

/* An integer field of a rule; *isnull when NULL. */
static int32
rule_int(HeapTupleHeader rule, const char *field, bool *isnull)
{
	Datum		d = GetAttributeByName(rule, field, isnull);

	return *isnull ? 0 : DatumGetInt32(d);
}

static bool
rule_text_is(HeapTupleHeader rule, const char *field, const char *value)
{
	bool		isnull;
	Datum		d = GetAttributeByName(rule, field, &isnull);

	return !isnull && strcmp(TextDatumGetCString(d), value) == 0;
}

/*
 * holiday_date(rule, year): the date a row of stockext.calendar_holidays
 * gives in a year, after offset_days and its weekend shift; NULL when the
 * rule is not in force that year, names a day the month lacks (a fifth
 * Monday, February 30), or is a Saturday whose Friday is in the month
 * before under nearest_same_month.
 */
PG_FUNCTION_INFO_V1(stockext_holiday_date);
Datum
stockext_holiday_date(PG_FUNCTION_ARGS)
{
	HeapTupleHeader rule = PG_GETARG_HEAPTUPLEHEADER(0);
	int32		year = PG_GETARG_INT32(1);
	bool		isnull;
	int32		first_year = rule_int(rule, "first_year", &isnull);
	bool		no_first = isnull;
	int32		last_year = rule_int(rule, "last_year", &isnull);
	bool		no_last = isnull;
	int32		month = rule_int(rule, "month", &isnull);
	int32		weekday = rule_int(rule, "weekday", &isnull);
	int32		offset_days = rule_int(rule, "offset_days", &isnull);
	int			j;
	int			y,
				m,
				d;

	check_year(year);
	if ((!no_first && year < first_year) || (!no_last && year > last_year))
		PG_RETURN_NULL();
	if (rule_text_is(rule, "kind", "easter"))
		j = easter_j(year);
	else if (month < 1 || month > 12)
		PG_RETURN_NULL();		/* the table's CHECK forbids it */
	else if (rule_text_is(rule, "kind", "fixed"))
	{
		int32		day = rule_int(rule, "day", &isnull);

		j = date2j(year, month, day);
		j2date(j, &y, &m, &d);
		if (m != month)
			PG_RETURN_NULL();
	}
	else if (rule_text_is(rule, "kind", "nth_weekday"))
	{
		int			first = date2j(year, month, 1);

		j = first + (weekday - iso_dow(first) + 7) % 7 + 7 * (rule_int(rule, "nth", &isnull) - 1);
		j2date(j, &y, &m, &d);
		if (m != month)
			PG_RETURN_NULL();
	}
	else
	{
		/* last_weekday: back from the month's last day */
		int			last = (month == 12 ? date2j(year + 1, 1, 1) : date2j(year, month + 1, 1)) - 1;

		j = last - (iso_dow(last) - weekday + 7) % 7;
	}
	j += offset_days;
	if (!rule_text_is(rule, "observed", "none"))
	{
		if (iso_dow(j) == 7)
			j += 1;
		else if (iso_dow(j) == 6)
		{
			j2date(j, &y, &m, &d);
			if (d == 1 && rule_text_is(rule, "observed", "nearest_same_month"))
				PG_RETURN_NULL();
			j -= 1;
		}
	}
	PG_RETURN_DATEADT(j - POSTGRES_EPOCH_JDATE);
}
