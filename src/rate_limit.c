/*
 * rate_limit.c
 *		Providers' request allowances, shared by all workers and backends.
 *
 * Requests made to one provider in the current UTC minute and day.  They
 * are kept in shared memory, read and written under the "stockext_rates"
 * LWLock, and saved to RATES_FILE at every grant, so that neither a server
 * restart nor crash recovery (which both start shared memory afresh) hands
 * out a day's requests twice.
 */
#include "postgres.h"

#include <unistd.h>

#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "rate_limit.h"

typedef struct RateWindow
{
	int64		minute;			/* minutes since the epoch */
	int			minute_count;
	int64		day;			/* days since the epoch */
	int			day_count;
} RateWindow;

/* In the data directory; versioned by its size and magic number. */
#define RATES_FILE "stockext_rate_limits"
#define RATES_MAGIC 0x53455231		/* "SER1" */

typedef struct RatesFile
{
	uint32		magic;
	RateWindow	rates[RATE_PROVIDERS];
} RatesFile;

typedef struct RateShared
{
	LWLock	   *lock;			/* guards rates */
	RateWindow	rates[RATE_PROVIDERS];
} RateShared;

/* NULL when not preloaded: limits then hold for this process only. */
static RateShared *shared = NULL;
static RateWindow local_rates[RATE_PROVIDERS];

static void rates_load(void);

void
rate_limit_shmem_request(void)
{
	RequestAddinShmemSpace(sizeof(RateShared));
	RequestNamedLWLockTranche("stockext_rates", 1);
}

void
rate_limit_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("stockext_rates", sizeof(RateShared), &found);
	if (!found)
	{
		memset(shared, 0, sizeof(RateShared));
		shared->lock = &GetNamedLWLockTranche("stockext_rates")->lock;
	}
	LWLockRelease(AddinShmemInitLock);
	if (!found)
		rates_load();
}

/* At shared memory creation (postmaster): the counts a previous run saved. */
static void
rates_load(void)
{
	RatesFile	f;
	FILE	   *file = AllocateFile(RATES_FILE, PG_BINARY_R);

	if (file == NULL)
	{
		if (errno != ENOENT)
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("could not read file \"%s\": %m", RATES_FILE)));
		return;
	}
	if (fread(&f, 1, sizeof(f), file) == sizeof(f) && f.magic == RATES_MAGIC)
		memcpy(shared->rates, f.rates, sizeof(f.rates));
	else
		ereport(LOG,
				(errmsg("ignoring file \"%s\": not a saved state of this stockext", RATES_FILE)));
	FreeFile(file);
}

/*
 * Writes the counts under the rates lock: to a temporary file renamed over
 * the last, so a crash leaves one whole state or the other.  Not fsync'd: it
 * outlives the server, not the machine.  A failure is logged, not raised:
 * the request it counts was granted and is made.
 */
static void
rates_save(void)
{
	RatesFile	f;
	char		tmp[MAXPGPATH];
	FILE	   *file;

	f.magic = RATES_MAGIC;
	memcpy(f.rates, shared->rates, sizeof(f.rates));
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", RATES_FILE, MyProcPid);
	file = AllocateFile(tmp, PG_BINARY_W);
	if (file != NULL)
	{
		bool		written = fwrite(&f, 1, sizeof(f), file) == sizeof(f);

		if (FreeFile(file) == 0 && written && rename(tmp, RATES_FILE) == 0)
			return;
	}
	ereport(LOG,
			(errcode_for_file_access(),
			 errmsg("could not save provider request counts to \"%s\": %m", RATES_FILE)));
	if (file != NULL)
		unlink(tmp);
}

/* Starts w's minute and day afresh when now is past them. */
static void
rate_window_roll(RateWindow *w, TimestampTz now)
{
	int64		minute = now / (60 * USECS_PER_SEC);
	int64		day = now / USECS_PER_DAY;

	if (w->minute != minute)
	{
		w->minute = minute;
		w->minute_count = 0;
	}
	if (w->day != day)
	{
		w->day = day;
		w->day_count = 0;
	}
}

bool
rate_limit_take(int provider, int cost, int per_minute, int per_day, bool *daily)
{
	RateWindow *w;
	bool		granted;

	Assert(provider >= 0 && provider < RATE_PROVIDERS);
	if (shared)
		LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	w = shared ? &shared->rates[provider] : &local_rates[provider];
	rate_window_roll(w, GetCurrentTimestamp());
	*daily = w->day_count + cost > per_day;
	granted = !*daily && w->minute_count + cost <= per_minute;
	if (granted)
	{
		w->minute_count += cost;
		w->day_count += cost;
		if (shared)
			rates_save();
	}
	if (shared)
		LWLockRelease(shared->lock);
	return granted;
}

void
rate_limit_counts(int provider, int *minute_count, int *day_count)
{
	RateWindow	w;

	Assert(provider >= 0 && provider < RATE_PROVIDERS);
	if (shared)
		LWLockAcquire(shared->lock, LW_SHARED);
	w = shared ? shared->rates[provider] : local_rates[provider];
	if (shared)
		LWLockRelease(shared->lock);
	rate_window_roll(&w, GetCurrentTimestamp());
	*minute_count = w.minute_count;
	*day_count = w.day_count;
}
