/*
 * rate_limit.c
 *		Providers' request allowances, shared by all workers and backends.
 *
 * Each limit holds in every sliding window, not per calendar minute or
 * day: a provider counting credits per minute of its own clock (TwelveData)
 * sees at most the limit in any of its minutes, whatever the skew between
 * its clock and ours.  Grants are counted in buckets: per second over the
 * last minute (61 buckets: the current second and the 60 before) and per
 * minute over the last day (1441 buckets).  A grant is made only when the
 * grants in those buckets plus it fit the limit, so
 *
 *		every 60-second window holds at most per_minute grants, and every
 *		24-hour window at most per_day,
 *
 * because all grants of a window lie within 60 s (24 h) before its last
 * one, in the buckets its check counted.  The price of whole buckets: a
 * request's allowance comes back up to 1 second (1 minute) later than an
 * exact sliding window would return it.  Memory is fixed whatever the
 * limits (counters, not a ring of one timestamp per request), so a limit
 * raised at reload needs nothing more.
 *
 * The buckets are kept in shared memory, read and written under the
 * "stockext_rates" LWLock, and saved to RATES_FILE at every grant, so that
 * neither a server restart nor crash recovery (which both start shared
 * memory afresh) hands out a window's requests twice.
 */
#include "postgres.h"

#include <unistd.h>

#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "providers.h"
#include "rate_limit.h"

#define SECOND_BUCKETS 61		/* the current second and the 60 before */
#define MINUTE_BUCKETS 1441		/* the current minute and the 1440 before */

/* Grants of one second or minute: stamp counts them since the epoch. */
typedef struct RateBucket
{
	int64		stamp;
	int32		count;
} RateBucket;

typedef struct RateWindow
{
	RateBucket	seconds[SECOND_BUCKETS];	/* at stamp % SECOND_BUCKETS */
	RateBucket	minutes[MINUTE_BUCKETS];	/* at stamp % MINUTE_BUCKETS */
} RateWindow;

/* In the data directory: the magic number, then the windows. */
#define RATES_FILE "stockext_rate_limits"
#define RATES_MAGIC 0x53455232		/* "SER2" */

/*
 * What 0.1.0 saved: counts of the calendar minute and day of its last grant,
 * for its three providers (the first three of provider_list).
 */
#define RATES_MAGIC_V1 0x53455231	/* "SER1" */
#define RATES_V1_PROVIDERS 3
typedef struct RateWindowV1
{
	int64		minute;			/* minutes since the epoch */
	int			minute_count;
	int64		day;			/* days since the epoch */
	int			day_count;
} RateWindowV1;

typedef struct RatesFileV1
{
	uint32		magic;
	RateWindowV1 rates[RATES_V1_PROVIDERS];
} RatesFileV1;

/* One window per provider, at its position in provider_list. */
typedef struct RateShared
{
	LWLock	   *lock;			/* guards rates */
	RateWindow	rates[FLEXIBLE_ARRAY_MEMBER];
} RateShared;

#define RATES_SIZE (sizeof(RateWindow) * provider_count)

/* NULL when not preloaded: limits then hold for this process only. */
static RateShared *shared = NULL;
static RateWindow *local_rates = NULL;

/*
 * Requests not made because a feed's market was closed, per provider, since
 * the server started (under the rates lock; not saved: no limit depends on
 * them).
 */
#define SKIPPED_SIZE (sizeof(int64) * provider_count)
static int64 *skipped = NULL;

static void rates_load(void);

void
rate_limit_shmem_request(void)
{
	RequestAddinShmemSpace(offsetof(RateShared, rates) + RATES_SIZE);
	RequestAddinShmemSpace(SKIPPED_SIZE);
	RequestNamedLWLockTranche("stockext_rates", 1);
}

void
rate_limit_shmem_startup(void)
{
	bool		found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("stockext_rates", offsetof(RateShared, rates) + RATES_SIZE, &found);
	if (!found)
	{
		memset(shared, 0, offsetof(RateShared, rates) + RATES_SIZE);
		shared->lock = &GetNamedLWLockTranche("stockext_rates")->lock;
	}
	skipped = ShmemInitStruct("stockext_skipped", SKIPPED_SIZE, &found);
	if (!found)
		memset(skipped, 0, SKIPPED_SIZE);
	LWLockRelease(AddinShmemInitLock);
	if (!found)
		rates_load();
}

/* The grants of buckets[0..n) stamped now - (n - 1) or later. */
static int64
bucket_sum(const RateBucket *buckets, int n, int64 now)
{
	int64		sum = 0;

	/* A later stamp (the clock went back) counts as now: never less. */
	for (int i = 0; i < n; i++)
		if (buckets[i].stamp > now - n)
			sum += buckets[i].count;
	return sum;
}

/* Adds cost to the bucket of now. */
static void
bucket_add(RateBucket *buckets, int n, int64 now, int cost)
{
	RateBucket *b = &buckets[now % n];

	if (b->stamp < now)
		b->count = 0;
	b->stamp = Max(b->stamp, now);
	b->count += cost;
}

/*
 * Converts what an earlier stockext saved: its counts are put in the last
 * second of their minute and the minute of the last grant, as late as they
 * can have been made, so none is forgotten early.
 */
static void
rates_convert_v1(const RatesFileV1 *old)
{
	for (int i = 0; i < RATES_V1_PROVIDERS; i++)
	{
		const RateWindowV1 *w = &old->rates[i];

		if (w->minute_count > 0)
			bucket_add(shared->rates[i].seconds, SECOND_BUCKETS, w->minute * 60 + 59, w->minute_count);
		if (w->day_count > 0)
			bucket_add(shared->rates[i].minutes, MINUTE_BUCKETS, w->minute, w->day_count);
	}
}

/* At shared memory creation (postmaster): the counts a previous run saved. */
static void
rates_load(void)
{
	uint32		magic;
	RatesFileV1 v1;
	FILE	   *file = AllocateFile(RATES_FILE, PG_BINARY_R);
	bool		read = false;

	if (file == NULL)
	{
		if (errno != ENOENT)
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("could not read file \"%s\": %m", RATES_FILE)));
		return;
	}
	if (fread(&magic, 1, sizeof(magic), file) == sizeof(magic))
	{
		size_t		got;

		/* A stockext that knew fewer providers saved fewer windows. */
		if (magic == RATES_MAGIC)
		{
			got = fread(shared->rates, 1, RATES_SIZE, file);
			read = got > 0 && got % sizeof(RateWindow) == 0;
		}
		else if (magic == RATES_MAGIC_V1 && fseek(file, 0, SEEK_SET) == 0 &&
				 fread(&v1, 1, sizeof(v1), file) == sizeof(v1))
		{
			rates_convert_v1(&v1);
			read = true;
		}
	}
	if (!read)
	{
		memset(shared->rates, 0, RATES_SIZE);
		ereport(LOG,
				(errmsg("ignoring file \"%s\": not a saved state of this stockext", RATES_FILE)));
	}
	FreeFile(file);
}

/*
 * Writes the windows under the rates lock: to a temporary file renamed over
 * the last, so a crash leaves one whole state or the other.  Not fsync'd: it
 * outlives the server, not the machine.  A failure is logged, not raised:
 * the request it counts was granted and is made.
 */
static void
rates_save(void)
{
	uint32		magic = RATES_MAGIC;
	char		tmp[MAXPGPATH];
	FILE	   *file;

	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", RATES_FILE, MyProcPid);
	file = AllocateFile(tmp, PG_BINARY_W);
	if (file != NULL)
	{
		bool		written = fwrite(&magic, 1, sizeof(magic), file) == sizeof(magic) &&
			fwrite(shared->rates, 1, RATES_SIZE, file) == RATES_SIZE;

		if (FreeFile(file) == 0 && written && rename(tmp, RATES_FILE) == 0)
			return;
	}
	ereport(LOG,
			(errcode_for_file_access(),
			 errmsg("could not save provider request counts to \"%s\": %m", RATES_FILE)));
	if (file != NULL)
		unlink(tmp);
}

static RateWindow *
window_of(int provider)
{
	Assert(provider >= 0 && provider < provider_count);
	if (shared)
		return &shared->rates[provider];
	if (local_rates == NULL)
		local_rates = MemoryContextAllocZero(TopMemoryContext, RATES_SIZE);
	return &local_rates[provider];
}

bool
rate_limit_take(int provider, int cost, int per_minute, int per_day, bool *daily)
{
	int64		second = GetCurrentTimestamp() / USECS_PER_SEC;
	RateWindow *w;
	bool		granted;

	if (shared)
		LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	w = window_of(provider);
	*daily = bucket_sum(w->minutes, MINUTE_BUCKETS, second / 60) + cost > per_day;
	granted = !*daily && bucket_sum(w->seconds, SECOND_BUCKETS, second) + cost <= per_minute;
	if (granted)
	{
		bucket_add(w->seconds, SECOND_BUCKETS, second, cost);
		bucket_add(w->minutes, MINUTE_BUCKETS, second / 60, cost);
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
	int64		second = GetCurrentTimestamp() / USECS_PER_SEC;
	RateWindow *w;

	if (shared)
		LWLockAcquire(shared->lock, LW_SHARED);
	w = window_of(provider);
	*minute_count = (int) bucket_sum(w->seconds, SECOND_BUCKETS, second);
	*day_count = (int) bucket_sum(w->minutes, MINUTE_BUCKETS, second / 60);
	if (shared)
		LWLockRelease(shared->lock);
}

void
rate_limit_skip(int provider, int requests)
{
	Assert(provider >= 0 && provider < provider_count);
	if (skipped == NULL)
		skipped = MemoryContextAllocZero(TopMemoryContext, SKIPPED_SIZE);
	if (shared)
		LWLockAcquire(shared->lock, LW_EXCLUSIVE);
	skipped[provider] += requests;
	if (shared)
		LWLockRelease(shared->lock);
}

int64
rate_limit_skipped(int provider)
{
	int64		n;

	Assert(provider >= 0 && provider < provider_count);
	if (skipped == NULL)
		return 0;
	if (shared)
		LWLockAcquire(shared->lock, LW_SHARED);
	n = skipped[provider];
	if (shared)
		LWLockRelease(shared->lock);
	return n;
}
