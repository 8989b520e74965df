/*
 * guc.c
 *		The stockext.* settings.
 *
 * Endpoints and limits can only be set by superusers: a URL decides where
 * API keys are sent.  API keys are never settings (pg_settings is readable
 * by everyone); they live in stockext.feed_keys.
 */
#include "postgres.h"

#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/varlena.h"

#include "guc.h"

char	   *stockext_twelvedata_url = NULL;
char	   *stockext_alphavantage_url = NULL;
char	   *stockext_yahoo_url = NULL;

int			stockext_twelvedata_per_minute = 8;
int			stockext_twelvedata_per_day = 800;
int			stockext_alphavantage_per_minute = 5;
int			stockext_alphavantage_per_day = 25;
int			stockext_yahoo_per_minute = 30;
int			stockext_yahoo_per_day = 2000;

int			stockext_http_connect_timeout = 5000;
int			stockext_http_timeout = 20000;

char	   *stockext_database_names = NULL;

int			stockext_launcher_naptime_ms = 10000;
int			stockext_worker_naptime_ms = 1000;
int			stockext_max_backoff_s = 3600;
int			stockext_max_gap_fill_days = 31;
int			stockext_actions_refresh_min = 1440;
/* Only SQL reads it (stockext.default_calendar). */
static char *feed_calendar = NULL;

bool		stockext_allow_drop = false;

double		stockext_conflict_tolerance = 0.005;

int			stockext_alert_close_grace_s = 10;
int			stockext_alert_max_age_bars = 3;

/* stockext.database_names must be a list of names. */
static bool
check_database_names(char **newval, void **extra pg_attribute_unused(), GucSource source pg_attribute_unused())
{
	char	   *raw = pstrdup(*newval);
	List	   *names = NIL;
	bool		ok = SplitIdentifierString(raw, ',', &names);

	list_free(names);
	pfree(raw);
	if (!ok)
		GUC_check_errdetail("List syntax is invalid.");
	return ok;
}

/* A setting's name, kept for the life of the process as GUCs need. */
static char *
setting_name(const Provider *p, const char *suffix)
{
	return MemoryContextStrdup(TopMemoryContext, psprintf("stockext.%s_%s", p->name, suffix));
}

void
stockext_define_provider_gucs(const Provider *p)
{
	ProviderSettings *set = p->settings;

	DefineCustomStringVariable(setting_name(p, "url"),
							   MemoryContextStrdup(TopMemoryContext,
												   psprintf("Base URL of the %s.", p->api_title)),
							   "Request paths are appended to it; point it at a proxy or a test server.",
							   &set->url, p->default_url, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable(setting_name(p, "requests_per_minute"),
							MemoryContextStrdup(TopMemoryContext,
												psprintf("Most %s requests in any 60 seconds.", p->title)),
							"Shared by all workers; 0 forbids requests to this provider.",
							&set->per_minute, p->default_per_minute, 0, 1000000, PGC_SIGHUP, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable(setting_name(p, "requests_per_day"),
							MemoryContextStrdup(TopMemoryContext,
												psprintf("Most %s requests in any 24 hours.", p->title)),
							"Shared by all workers; 0 forbids requests to this provider.",
							&set->per_day, p->default_per_day, 0, 1000000, PGC_SIGHUP, 0,
							NULL, NULL, NULL);
}

void
stockext_define_gucs(void)
{
	DefineCustomIntVariable("stockext.http_connect_timeout",
							"Longest wait for a provider connection.", NULL,
							&stockext_http_connect_timeout, 5000, 100, 600000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("stockext.http_timeout",
							"Longest a whole provider request may take.", NULL,
							&stockext_http_timeout, 20000, 100, 3600000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);

	DefineCustomStringVariable("stockext.database_names",
							   "Databases the ingestion launcher starts workers for.",
							   "A comma-separated list; empty means every database where the extension is created.",
							   &stockext_database_names, "",
							   PGC_SIGHUP, GUC_LIST_INPUT, check_database_names, NULL, NULL);
	DefineCustomIntVariable("stockext.launcher_naptime",
							"How often the launcher looks for databases that need a worker.", NULL,
							&stockext_launcher_naptime_ms, 10000, 100, 3600000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("stockext.worker_naptime",
							"Longest a worker sleeps before looking for due feeds.",
							"Feed changes are noticed within this time.",
							&stockext_worker_naptime_ms, 1000, 10, 600000,
							PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("stockext.max_backoff",
							"Longest delay between retries of a failing feed.", NULL,
							&stockext_max_backoff_s, 3600, 1, 86400,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("stockext.max_gap_fill",
							"Most days of history a worker fetches to fill a gap after a restart.", NULL,
							&stockext_max_gap_fill_days, 31, 0, 3660,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("stockext.actions_refresh_interval",
							"How often the worker refreshes the corporate actions of each feed symbol.",
							"0: never (refresh_corporate_actions() and backfill still fetch them).",
							&stockext_actions_refresh_min, 1440, 0, 527040,
							PGC_SIGHUP, GUC_UNIT_MIN, NULL, NULL, NULL);
	/* Checked by add_feed, which reads it through stockext.default_calendar. */
	DefineCustomStringVariable("stockext.feed_calendar",
							   "Trading calendar of new feeds that name none.",
							   "Empty: the default per provider and symbol (stockext.default_calendar).",
							   &feed_calendar, "",
							   PGC_SUSET, 0, NULL, NULL, NULL);

	/* Superusers only: the drop it allows deletes every stored bar. */
	DefineCustomBoolVariable("stockext.allow_drop",
							 "Lets DROP EXTENSION stockext without CASCADE delete stored bars.",
							 "Off: DROP EXTENSION stockext is refused while stockext.ticks holds bars, unless it says CASCADE.",
							 &stockext_allow_drop, false,
							 PGC_SUSET, 0, NULL, NULL, NULL);

	/*
	 * Alert timing.  Superuser-settable rather than server-wide so that an
	 * evaluation can be tried with other values, and a database can have
	 * its own (ALTER DATABASE ... SET, which the worker reads).
	 */
	DefineCustomIntVariable("stockext.alert_close_grace",
							"How long after a bar ends a provider serves its final values.",
							"Alert rules take a bar as closed once the next bar of its series is stored, once it was written this long after its end, or once a poll of its feed succeeded this long after its end (a bar of no feed: once this long has passed).",
							&stockext_alert_close_grace_s, 10, 0, 7 * 86400,
							PGC_SUSET, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("stockext.alert_max_age_bars",
							"How many bar widths late a bar may land and still be evaluated by alert rules without max_age.",
							"Counted after the bar's close, the poll interval of its feed and stockext.alert_close_grace; later bars are history (backfill, gap fill) and fire no alert.",
							&stockext_alert_max_age_bars, 3, 0, 1000000,
							PGC_SUSET, 0, NULL, NULL, NULL);

	/* Superuser-settable, like the alert timing: a backfill may use its own. */
	DefineCustomRealVariable("stockext.conflict_tolerance",
							 "Largest relative price difference at which two providers' bars agree.",
							 "A provider's bar that differs by more from another provider's stored bar of the same key is kept out and recorded in stockext.conflicts; volumes are not compared.",
							 &stockext_conflict_tolerance, 0.005, 0.0, 1.0,
							 PGC_SUSET, 0, NULL, NULL, NULL);
}
