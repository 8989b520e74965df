/*
 * guc.h
 *		stockext.* settings.
 */
#ifndef STOCKEXT_GUC_H
#define STOCKEXT_GUC_H

/* Provider endpoints; request paths are appended to them. */
extern char *stockext_twelvedata_url;
extern char *stockext_alphavantage_url;
extern char *stockext_yahoo_url;

/* Requests allowed per provider in any 60 seconds and any 24 hours (0: none). */
extern int	stockext_twelvedata_per_minute;
extern int	stockext_twelvedata_per_day;
extern int	stockext_alphavantage_per_minute;
extern int	stockext_alphavantage_per_day;
extern int	stockext_yahoo_per_minute;
extern int	stockext_yahoo_per_day;

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

/* DROP EXTENSION stockext may delete stored bars without CASCADE. */
extern bool stockext_allow_drop;

/* Alerts: grace after a bar's close, in seconds; lateness allowed, in bars. */
extern int	stockext_alert_close_grace_s;
extern int	stockext_alert_max_age_bars;

extern void stockext_define_gucs(void);

#endif							/* STOCKEXT_GUC_H */
