/*
 * providers.c
 *		The registry: every provider stockext knows, and their facts for SQL.
 *
 * A provider is one const Provider (provider.h) in a file of its own; this
 * list is the only place that names them all.  Its order is the order of
 * stockext.providers() and of the saved request counts (rate_limit.c), so a
 * new provider goes at the end.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "provider.h"
#include "providers.h"
#include "simulated.h"

const Provider *const provider_list[] = {
	&provider_twelvedata,
	&provider_alphavantage,
	&provider_yahoo,
	&provider_simulated,
};

const int	provider_count = lengthof(provider_list);

const Provider *
provider_find(const char *name)
{
	for (int i = 0; i < provider_count; i++)
		if (strcmp(provider_list[i]->name, name) == 0)
			return provider_list[i];
	return NULL;
}

int
provider_index(const Provider *p)
{
	for (int i = 0; i < provider_count; i++)
		if (provider_list[i] == p)
			return i;
	elog(ERROR, "provider \"%s\" is not registered", p->name);
	pg_unreachable();
}

static Datum
seconds_interval(int64 secs)
{
	Interval   *iv = palloc0(sizeof(Interval));

	/*
	 * Whole days as days ('1 day', '7 days'), the rest as time ('90 min'):
	 * added to a timestamptz, a day is a calendar day of the session's zone.
	 */
	if (secs % SECS_PER_DAY == 0)
		iv->day = (int32) (secs / SECS_PER_DAY);
	else
		iv->time = secs * USECS_PER_SEC;
	return IntervalPGetDatum(iv);
}

/* One row per provider: its facts. */
PG_FUNCTION_INFO_V1(stockext_providers);
Datum
stockext_providers(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < provider_count; i++)
	{
		const Provider *p = provider_list[i];
		Datum		values[11];
		bool		nulls[11] = {false};
		bool		http = p->settings != NULL;

		values[0] = CStringGetTextDatum(p->name);
		values[1] = BoolGetDatum(http);
		values[2] = BoolGetDatum(p->takes_key);
		values[3] = Int32GetDatum(p->max_symbols);
		values[4] = Int32GetDatum(p->history_bars);
		nulls[5] = p->intervals != NULL;
		nulls[6] = p->intervals != NULL;
		nulls[7] = p->intervals != NULL;
		if (p->intervals == NULL)
		{
			values[5] = seconds_interval(p->min_secs);
			values[6] = seconds_interval(p->max_secs);
			values[7] = CStringGetTextDatum(p->serves);
		}
		nulls[8] = !http;
		nulls[9] = !http;
		nulls[10] = !http;
		if (http)
		{
			values[8] = CStringGetTextDatum(p->default_url);
			values[9] = Int32GetDatum(p->default_per_minute);
			values[10] = Int32GetDatum(p->default_per_day);
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* One row per bar length a provider lists: its spelling, its history requests. */
PG_FUNCTION_INFO_V1(stockext_provider_intervals);
Datum
stockext_provider_intervals(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < provider_count; i++)
	{
		const Provider *p = provider_list[i];

		for (int j = 0; j < p->nintervals; j++)
		{
			const ProviderInterval *iv = &p->intervals[j];
			Datum		values[5];
			bool		nulls[5] = {false};

			values[0] = CStringGetTextDatum(p->name);
			values[1] = seconds_interval(iv->secs);
			values[2] = CStringGetTextDatum(iv->name);
			/* NULL: history_bars bars of the resolution */
			nulls[3] = iv->history_days == 0;
			if (iv->history_days > 0)
				values[3] = seconds_interval((int64) iv->history_days * SECS_PER_DAY);
			values[4] = BoolGetDatum(iv->history_by_month);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}
