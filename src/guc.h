/*
 * guc.h
 *		stockext.* settings.
 */
#ifndef STOCKEXT_GUC_H
#define STOCKEXT_GUC_H

#include "provider.h"

/* HTTP timeouts, in milliseconds. */
extern int	stockext_http_connect_timeout;
extern int	stockext_http_timeout;

/* Databases the launcher serves ("" = every database with the extension). */
extern char *stockext_database_names;

/* Worker timing, in milliseconds or seconds as named. */
extern int	stockext_launcher_naptime_ms;
extern int	stockext_worker_naptime_ms;
extern int	stockext_max_backoff_s;
extern int	stockext_max_gap_fill_days;

/* How often the worker refreshes a feed symbol's corporate actions, in minutes (0: never). */
extern int	stockext_actions_refresh_min;

/* DROP EXTENSION stockext may delete stored bars without CASCADE. */
extern bool stockext_allow_drop;

/* Alerts: grace after a bar's close, in seconds; lateness allowed, in bars. */
extern int	stockext_alert_close_grace_s;
extern int	stockext_alert_max_age_bars;

/*
 * Largest relative price difference, |a - b| / max(a, b) of each of open,
 * high, low and close, at which another provider's bar agrees with a
 * stored one.
 */
extern double stockext_conflict_tolerance;

extern void stockext_define_gucs(void);

/*
 * An HTTP provider's settings, into p->settings: stockext.<name>_url and
 * stockext.<name>_requests_per_minute and _per_day (0 forbids requests),
 * with the provider's defaults.
 */
extern void stockext_define_provider_gucs(const Provider *p);

#endif							/* STOCKEXT_GUC_H */
