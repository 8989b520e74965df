/*
 * ticks.c
 *		SQL-callable validation of bars and symbols for stockext.ticks.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "bar.h"

/* Reason a bar is impossible, or NULL; a NULL price is itself a reason. */
PG_FUNCTION_INFO_V1(stockext_bar_problem);
Datum
stockext_bar_problem(PG_FUNCTION_ARGS)
{
	static const char *const names[] = {"open", "high", "low", "close"};
	double		price[4];
	const char *why;

	for (int i = 0; i < 4; i++)
	{
		if (PG_ARGISNULL(i))
			PG_RETURN_TEXT_P(cstring_to_text(psprintf("%s is missing", names[i])));
		price[i] = PG_GETARG_FLOAT8(i);
	}
	why = bar_problem(price[0], price[1], price[2], price[3],
					  !PG_ARGISNULL(4), PG_ARGISNULL(4) ? 0 : PG_GETARG_INT64(4));
	if (why == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(why));
}

/* Reason a symbol is unacceptable, or NULL. */
PG_FUNCTION_INFO_V1(stockext_symbol_problem);
Datum
stockext_symbol_problem(PG_FUNCTION_ARGS)
{
	text	   *symbol = PG_GETARG_TEXT_PP(0);
	const char *why = symbol_problem(VARDATA_ANY(symbol), VARSIZE_ANY_EXHDR(symbol));

	if (why == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(why));
}

/* Reason a bar of the resolution cannot start at ts, or NULL. */
PG_FUNCTION_INFO_V1(stockext_ts_problem);
Datum
stockext_ts_problem(PG_FUNCTION_ARGS)
{
	TimestampTz ts = PG_GETARG_TIMESTAMPTZ(0);
	Interval   *res = PG_GETARG_INTERVAL_P(1);
	Interval	zero = {0};
	char		buf[BAR_REASON_LEN];
	const char *why;

	/* A resolution that is not positive has no grid: ticks_resolution_positive refuses it. */
	if (!DatumGetBool(DirectFunctionCall2(interval_gt, IntervalPGetDatum(res),
										  IntervalPGetDatum(&zero))))
		PG_RETURN_NULL();
	why = bar_grid_problem(ts, res->month, res->day, res->time, buf, sizeof(buf));
	if (why == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(why));
}
