/*
 * ingest.h
 *		The write path: validated bars into stockext.ticks, bad ones into
 *		stockext.rejects.
 */
#ifndef STOCKEXT_INGEST_H
#define STOCKEXT_INGEST_H

#include "datatype/timestamp.h"
#include "utils/date.h"

#include "bar.h"

typedef struct IngestBar
{
	char		symbol[STOCKEXT_SYMBOL_MAXLEN + 1];
	bool		has_ts;			/* false: the instant could not be read */
	TimestampTz ts;
	double		open, high, low, close;
	bool		has_volume;
	int64		volume;
	const char *problem;		/* non-NULL: reject with this reason */
} IngestBar;

/*
 * Stores bars of one resolution from one source in the current transaction:
 * one set-based upsert for the valid ones (a bar repeated in the batch
 * counts once, its last copy wins), one insert into stockext.rejects for the
 * others: a bad symbol or price, or a start off the resolution's grid.  A
 * bar stored by another source is overwritten only by the symbol's
 * preferred source; one differing beyond stockext.conflict_tolerance is
 * recorded in stockext.conflicts instead.
 * Symbols come in upper case (the parsers and the SQL entry points
 * normalize them).  Creates the month partitions the batch needs.  feed_id 0 means
 * none.  Returns the rows inserted or changed; *rejected gets the rejects.
 * Reorders bars.
 */
extern int64 ingest_bars(IngestBar *bars, int nbars, const Interval *resolution,
						 const char *source, int feed_id, int64 *rejected);

/* A split or dividend a reply carried, for stockext.corporate_actions. */
typedef struct IngestAction
{
	char		symbol[STOCKEXT_SYMBOL_MAXLEN + 1];	/* upper case, valid */
	DateADT		ex_date;
	bool		is_split;
	double		split_from, split_to;	/* split: from shares become to */
	double		cash_amount;	/* dividend: cash per share, as traded */
	char		currency[4];	/* dividend: ISO 4217, or "" */
} IngestAction;

/*
 * Records actions in stockext.corporate_actions under source, in the
 * current transaction (the one storing the reply's bars).  A row already
 * there for (symbol, ex_date, kind), a user's correction or an earlier
 * fetch, is kept.  Returns the rows added.
 */
extern int64 ingest_actions(const IngestAction *actions, int nactions, const char *source);

/* Forgets which partitions are known to exist (after an aborted write). */
extern void ingest_forget_partitions(void);

#endif							/* STOCKEXT_INGEST_H */
