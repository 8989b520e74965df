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
 * "stockext_rates" LWLock, and saved to RATES_FILE so that neither a server
 * restart nor crash recovery (which both start shared memory afresh) hands
 * out a window's requests twice.  Saving at every grant would put a file
 * write under that lock per request; instead each save also records a
 * reserve per provider, as nextval() WAL-logs SEQ_LOG_VALS values ahead:
 * grants within the reserve and its time (RESERVE_SECONDS) need no write,
 * because a load after a crash counts the whole reserve as made at load
 * time, which covers every grant it may have hidden in every window that
 * can still contain it.  A crash therefore costs at most one reserve of
 * allowance; a clean shutdown saves exact counts with no reserve.  The file
 * is written outside the rates lock, under a lock of its own, and a grant
 * made from a reserve still being written waits for that write before its
 * request is made.
 */
#include "postgres.h"

#include <unistd.h>

#include "miscadmin.h"
#include "port/atomics.h"
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

/*
 * Grants a save lets through without another: a quarter of the per-minute
 * allowance and at most a 64th of the daily one (so a crash or a copy of
 * the data directory costs little of either), at least the grant at hand;
 * for RESERVE_SECONDS after the save.
 */
#define RESERVE_SECONDS 60
#define RESERVE_MINUTE_SHARE 4
#define RESERVE_DAY_SHARE 64

typedef struct RateReserve
{
	int64		until;			/* the last second its grants may be made in */
	int32		count;			/* grants it covers, counted by a load */
	int32		used;			/* of them granted (not saved) */
	uint64		gen;			/* reserve_gen of the save that made it */
} RateReserve;

/*
 * In the data directory: the magic number, the number of providers, their
 * reserves (until and count), then their windows.  "SER2" (0.2.0) had the
 * magic number and the windows only.
 */
#define RATES_FILE "stockext_rate_limits"
#define RATES_MAGIC 0x53455233		/* "SER3" */
#define RATES_MAGIC_V2 0x53455232	/* "SER2" */

typedef struct SavedReserve
{
	int64		until;
	int32		count;
} SavedReserve;

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

/*
 * One window and one reserve per provider, at its position in
 * provider_list: rates[provider_count], then the reserves.
 */
typedef struct RateShared
{
	LWLock	   *lock;			/* guards all but the file */
	LWLock	   *file_lock;		/* held exclusive while RATES_FILE is written */
	uint64		reserve_gen;	/* bumped by each save that makes reserves */
	pg_atomic_uint64 saved_gen; /* the last reserve_gen written */
	RateWindow	rates[FLEXIBLE_ARRAY_MEMBER];
} RateShared;

#define RATES_SIZE (sizeof(RateWindow) * provider_count)
#define RESERVES_SIZE (sizeof(RateReserve) * provider_count)
#define SHARED_SIZE (offsetof(RateShared, rates) + RATES_SIZE + RESERVES_SIZE)

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
static void rates_shutdown(int code, Datum arg);

static RateReserve *
reserves(void)
{
	return (RateReserve *) &shared->rates[provider_count];
}

void
rate_limit_shmem_request(void)
{
	RequestAddinShmemSpace(SHARED_SIZE);
	RequestAddinShmemSpace(SKIPPED_SIZE);
	RequestNamedLWLockTranche("stockext_rates", 2);
}

void
rate_limit_shmem_startup(void)
{
	bool		found;
	bool		skipped_found;

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("stockext_rates", SHARED_SIZE, &found);
	if (!found)
	{
		LWLockPadded *locks = GetNamedLWLockTranche("stockext_rates");

		memset(shared, 0, SHARED_SIZE);
		shared->lock = &locks[0].lock;
		shared->file_lock = &locks[1].lock;
		pg_atomic_init_u64(&shared->saved_gen, 0);
	}
	skipped = ShmemInitStruct("stockext_skipped", SKIPPED_SIZE, &skipped_found);
	if (!skipped_found)
		memset(skipped, 0, SKIPPED_SIZE);
	LWLockRelease(AddinShmemInitLock);
	/* In the postmaster: load once, save exact counts when it exits. */
	if (!found)
		rates_load();
	if (!IsUnderPostmaster)
		on_shmem_exit(rates_shutdown, (Datum) 0);
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

/*
 * A reserve read back: its grants may have been made up to its last second
 * and were not saved, so they count as made now, in every window that can
 * still hold one of them.
 */
static void
reserve_count_now(RateWindow *w, const SavedReserve *r, int64 now)
{
	if (r->count <= 0)
		return;
	if (now <= r->until + SECOND_BUCKETS - 1)
		bucket_add(w->seconds, SECOND_BUCKETS, now, r->count);
	if (now / 60 <= r->until / 60 + MINUTE_BUCKETS - 1)
		bucket_add(w->minutes, MINUTE_BUCKETS, now / 60, r->count);
}

/*
 * Reads a "SER3" file after its magic number: its providers' reserves, then
 * their windows; a stockext that knew fewer providers saved fewer.
 */
static bool
rates_read(FILE *file)
{
	int32		nsaved;
	int			n;
	SavedReserve *saved;
	int64		now = GetCurrentTimestamp() / USECS_PER_SEC;

	if (fread(&nsaved, 1, sizeof(nsaved), file) != sizeof(nsaved) || nsaved <= 0 || nsaved > 1024)
		return false;
	saved = palloc0(sizeof(SavedReserve) * nsaved);
	n = Min(nsaved, provider_count);
	if (fread(saved, sizeof(SavedReserve), nsaved, file) != (size_t) nsaved ||
		fread(shared->rates, sizeof(RateWindow), n, file) != (size_t) n)
	{
		pfree(saved);
		return false;
	}
	for (int i = 0; i < n; i++)
		reserve_count_now(&shared->rates[i], &saved[i], now);
	pfree(saved);
	return true;
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

		if (magic == RATES_MAGIC)
			read = rates_read(file);
		else if (magic == RATES_MAGIC_V2)
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
 * Writes windows and reserves to a temporary file renamed over the last, so
 * a crash leaves one whole state or the other.  Not fsync'd: it outlives the
 * server, not the machine.  A failure is logged, not raised: the request it
 * counts was granted and is made.
 */
static bool
rates_write(const RateWindow *rates, const SavedReserve *saved)
{
	uint32		magic = RATES_MAGIC;
	int32		n = provider_count;
	char		tmp[MAXPGPATH];
	FILE	   *file;

	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", RATES_FILE, MyProcPid);
	file = AllocateFile(tmp, PG_BINARY_W);
	if (file != NULL)
	{
		bool		written = fwrite(&magic, 1, sizeof(magic), file) == sizeof(magic) &&
			fwrite(&n, 1, sizeof(n), file) == sizeof(n) &&
			fwrite(saved, sizeof(SavedReserve), n, file) == (size_t) n &&
			fwrite(rates, 1, RATES_SIZE, file) == RATES_SIZE;

		if (FreeFile(file) == 0 && written && rename(tmp, RATES_FILE) == 0)
			return true;
	}
	ereport(LOG,
			(errcode_for_file_access(),
			 errmsg("could not save provider request counts to \"%s\": %m", RATES_FILE)));
	if (file != NULL)
		unlink(tmp);
	return false;
}

/*
 * Makes the reserve of generation gen durable, unless a save already did:
 * under the file lock, from a copy taken under the shared rates lock, so
 * grants go on while the file is written.  A later copy holds every earlier
 * one's grants and reserves, so whichever save comes first serves all.
 */
static void
rates_save(uint64 gen)
{
	static RateWindow *copy = NULL;
	static SavedReserve *saved = NULL;
	uint64		copied;

	if (pg_atomic_read_u64(&shared->saved_gen) >= gen)
		return;
	if (copy == NULL)
	{
		copy = MemoryContextAlloc(TopMemoryContext, RATES_SIZE);
		saved = MemoryContextAllocZero(TopMemoryContext, sizeof(SavedReserve) * provider_count);
	}
	LWLockAcquire(shared->file_lock, LW_EXCLUSIVE);
	if (pg_atomic_read_u64(&shared->saved_gen) < gen)
	{
		LWLockAcquire(shared->lock, LW_SHARED);
		memcpy(copy, shared->rates, RATES_SIZE);
		for (int i = 0; i < provider_count; i++)
		{
			saved[i].until = reserves()[i].until;
			saved[i].count = reserves()[i].count;
		}
		copied = shared->reserve_gen;
		LWLockRelease(shared->lock);
		if (rates_write(copy, saved))
			pg_atomic_write_u64(&shared->saved_gen, copied);
	}
	LWLockRelease(shared->file_lock);
}

/*
 * When the postmaster exits cleanly, every grant is in the windows: save
 * them with no reserve.  After a crash (code != 0) shared memory is not to
 * be trusted, and the last save stands.
 */
static void
rates_shutdown(int code, Datum arg pg_attribute_unused())
{
	SavedReserve *none;

	if (code != 0 || shared == NULL)
		return;
	none = palloc0(sizeof(SavedReserve) * provider_count);
	rates_write(shared->rates, none);
	pfree(none);
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

/* Charges a grant to the provider's reserve, making a new one if spent. */
static uint64
reserve_take(int provider, int cost, int per_minute, int per_day, int64 second)
{
	RateReserve *r = &reserves()[provider];

	if (second > r->until || r->used + cost > r->count)
	{
		r->count = Max(cost, Min(per_minute / RESERVE_MINUTE_SHARE, per_day / RESERVE_DAY_SHARE));
		r->until = second + RESERVE_SECONDS;
		r->used = 0;
		r->gen = ++shared->reserve_gen;
	}
	r->used += cost;
	return r->gen;
}

bool
rate_limit_take(int provider, int cost, int per_minute, int per_day, bool *daily)
{
	int64		second = GetCurrentTimestamp() / USECS_PER_SEC;
	RateWindow *w;
	bool		granted;
	uint64		gen = 0;

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
			gen = reserve_take(provider, cost, per_minute, per_day, second);
	}
	if (shared)
		LWLockRelease(shared->lock);
	/* The request is made only once its grant would survive a crash. */
	if (gen != 0)
		rates_save(gen);
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
