/*
 * worker.c
 *		The ingestion launcher and per-database workers.
 *
 * The launcher, registered at server start, connects to no database: it
 * reads pg_database (a shared catalog) every stockext.launcher_naptime and
 * starts one dynamic worker for each database that has none.  A worker that
 * finds no stockext extension in its database exits at once, so databases
 * without it cost a short-lived process per round and are never held open.
 * CREATE EXTENSION wakes the launcher when it commits.
 *
 * A worker polls its database's due feeds (fetch.c, one road for every
 * provider), each step in its own transaction.  A failed poll is caught,
 * recorded in stockext.errors, logged as a WARNING and backed off: an ERROR
 * must not end the loop.  The launcher restarts
 * workers that die; the postmaster restarts the launcher.
 *
 * A worker whose database is not the live one (stockext.idle_reason(): a
 * restored dump, a template copy, a base backup, or never activated) stays
 * quiet: it polls nothing, evaluates no alert and posts no webhook, and
 * looks again every round, so stockext.activate() starts it at once.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/utility.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/varlena.h"

#include "alerts.h"
#include "fetch.h"
#include "guc.h"
#include "poll.h"
#include "providers.h"
#include "rate_limit.h"
#include "worker.h"

PGDLLEXPORT void stockext_launcher_main(Datum arg);
PGDLLEXPORT void stockext_worker_main(Datum arg);

/* Room for an idle worker's reason, which names a database and a host. */
#define STATE_LEN 256

/* What one launcher or worker is doing, for stockext.worker_status(). */
typedef struct WorkerSlot
{
	pid_t		pid;			/* 0: free */
	bool		is_launcher;
	Oid			dboid;
	Latch	   *latch;			/* sets off its next round */
	TimestampTz since;
	char		state[STATE_LEN];
} WorkerSlot;

/* A database whose worker must stay away for a while (DROP DATABASE). */
typedef struct DatabaseHold
{
	Oid			dboid;
	TimestampTz until;
} DatabaseHold;

#define NHOLDS 8
#define HOLD_USEC (30 * USECS_PER_SEC)

typedef struct StockextShared
{
	slock_t		mutex;
	Latch	   *launcher_latch;
	bool		rescan;			/* look for databases now */
	DatabaseHold holds[NHOLDS];
	int			nslots;
	WorkerSlot	slots[FLEXIBLE_ARRAY_MEMBER];
} StockextShared;

static StockextShared *shared = NULL;
static int	my_slot = -1;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static ProcessUtility_hook_type prev_process_utility_hook = NULL;


/* ---------- shared memory ---------- */

static Size
shared_size(void)
{
	return add_size(offsetof(StockextShared, slots),
					mul_size(max_worker_processes + 1, sizeof(WorkerSlot)));
}

static void
stockext_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(shared_size());
	rate_limit_shmem_request();
}

static void
stockext_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	shared = ShmemInitStruct("stockext", shared_size(), &found);
	if (!found)
	{
		memset(shared, 0, shared_size());
		SpinLockInit(&shared->mutex);
		shared->nslots = max_worker_processes + 1;
	}
	LWLockRelease(AddinShmemInitLock);
	rate_limit_shmem_startup();
}

static void
release_slot(int code pg_attribute_unused(), Datum arg pg_attribute_unused())
{
	SpinLockAcquire(&shared->mutex);
	if (shared->slots[my_slot].is_launcher)
		shared->launcher_latch = NULL;
	shared->slots[my_slot].pid = 0;
	SpinLockRelease(&shared->mutex);
	my_slot = -1;
}

/*
 * Takes a status slot; false when another process already serves this
 * database (or is the launcher), so that there is never more than one.
 */
static bool
claim_slot(bool launcher, Oid dboid)
{
	SpinLockAcquire(&shared->mutex);
	for (int i = 0; i < shared->nslots; i++)
	{
		WorkerSlot *s = &shared->slots[i];

		if (s->pid != 0 && s->is_launcher == launcher && (launcher || s->dboid == dboid))
		{
			SpinLockRelease(&shared->mutex);
			return false;
		}
	}
	for (int i = 0; i < shared->nslots && my_slot < 0; i++)
	{
		WorkerSlot *s = &shared->slots[i];

		if (s->pid == 0)
		{
			s->pid = MyProcPid;
			s->is_launcher = launcher;
			s->dboid = dboid;
			s->latch = MyLatch;
			s->since = GetCurrentTimestamp();
			strlcpy(s->state, "starting", STATE_LEN);
			my_slot = i;
		}
	}
	if (launcher && my_slot >= 0)
		shared->launcher_latch = MyLatch;
	SpinLockRelease(&shared->mutex);
	if (my_slot < 0)
		return false;
	before_shmem_exit(release_slot, 0);
	return true;
}

/* Shows what this process does, in worker_status() and pg_stat_activity. */
static void
set_state(bool busy, const char *fmt,...)
{
	char		buf[STATE_LEN];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* A database or host name cut off mid-character is cut before it. */
	buf[pg_mbcliplen(buf, strlen(buf), strlen(buf))] = '\0';
	SpinLockAcquire(&shared->mutex);
	strlcpy(shared->slots[my_slot].state, buf, STATE_LEN);
	shared->slots[my_slot].since = GetCurrentTimestamp();
	SpinLockRelease(&shared->mutex);
	pgstat_report_activity(busy ? STATE_RUNNING : STATE_IDLE, buf);
}

/* ---------- the launcher ---------- */

typedef struct LaunchedWorker
{
	Oid			dboid;
	BackgroundWorkerHandle *handle;
} LaunchedWorker;

static List *launched = NIL;	/* in TopMemoryContext */

static bool
worker_running(Oid dboid)
{
	ListCell   *lc;

	foreach(lc, launched)
	{
		LaunchedWorker *w = lfirst(lc);
		pid_t		pid;
		BgwHandleStatus st;

		if (w->dboid != dboid)
			continue;
		st = GetBackgroundWorkerPid(w->handle, &pid);
		if (st == BGWH_STARTED || st == BGWH_NOT_YET_STARTED)
			return true;
		launched = foreach_delete_current(launched, lc);
		pfree(w->handle);
		pfree(w);
		return false;
	}
	return false;
}

static void
start_worker(Oid dboid, const char *datname)
{
	BackgroundWorker bgw;
	BackgroundWorkerHandle *handle;
	LaunchedWorker *w;
	MemoryContext old;

	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	/* The launcher restarts it, so that it never runs twice. */
	bgw.bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(bgw.bgw_library_name, "stockext", BGW_MAXLEN);
	strlcpy(bgw.bgw_function_name, "stockext_worker_main", BGW_MAXLEN);
	snprintf(bgw.bgw_name, BGW_MAXLEN, "stockext worker for database \"%s\"", datname);
	strlcpy(bgw.bgw_type, "stockext worker", BGW_MAXLEN);
	bgw.bgw_main_arg = ObjectIdGetDatum(dboid);
	bgw.bgw_notify_pid = MyProcPid;

	old = MemoryContextSwitchTo(TopMemoryContext);
	if (!RegisterDynamicBackgroundWorker(&bgw, &handle))
	{
		MemoryContextSwitchTo(old);
		ereport(LOG,
				(errmsg("stockext could not start a worker for database \"%s\"", datname),
				 errhint("Raise max_worker_processes.")));
		return;
	}
	w = palloc(sizeof(LaunchedWorker));
	w->dboid = dboid;
	w->handle = handle;
	launched = lappend(launched, w);
	MemoryContextSwitchTo(old);
}

static bool
database_held(Oid dboid)
{
	TimestampTz now = GetCurrentTimestamp();
	bool		held = false;

	SpinLockAcquire(&shared->mutex);
	for (int i = 0; i < NHOLDS; i++)
		held |= shared->holds[i].dboid == dboid && shared->holds[i].until > now;
	SpinLockRelease(&shared->mutex);
	return held;
}

/* Whether stockext.database_names lets a worker serve this database. */
static bool
database_listed(const char *datname)
{
	List	   *names = NIL;
	ListCell   *lc;
	bool		listed = false;

	/* The check hook has made sure the list parses. */
	if (stockext_database_names[0] == '\0' ||
		!SplitIdentifierString(pstrdup(stockext_database_names), ',', &names))
		return true;
	foreach(lc, names)
		listed |= strcmp(lfirst(lc), datname) == 0;
	list_free(names);
	return listed;
}

/* Starts a worker for each database that should have one and has none. */
static void
launch_workers(MemoryContext scan_ctx)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	List	   *dbs = NIL;
	List	   *names = NIL;

	MemoryContextReset(scan_ctx);
	set_state(true, "looking for databases");
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	MemoryContextSwitchTo(scan_ctx);
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);

#ifdef DATCONNLIMIT_INVALID_DB
		if (db->datconnlimit == DATCONNLIMIT_INVALID_DB)
			continue;
#endif
		if (!db->datallowconn || db->datistemplate ||
			!database_listed(NameStr(db->datname)))
			continue;
		dbs = lappend_oid(dbs, db->oid);
		names = lappend(names, pstrdup(NameStr(db->datname)));
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();

	for (int i = 0; i < list_length(dbs); i++)
		if (!database_held(list_nth_oid(dbs, i)) && !worker_running(list_nth_oid(dbs, i)))
			start_worker(list_nth_oid(dbs, i), list_nth(names, i));
}

void
stockext_launcher_main(Datum arg pg_attribute_unused())
{
	MemoryContext scan_ctx;
	TimestampTz next_scan = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	if (!claim_slot(true, InvalidOid))
		proc_exit(0);
	scan_ctx = AllocSetContextCreate(TopMemoryContext, "stockext launcher",
									 ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		TimestampTz now;
		bool		rescan;
		long		timeout;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			next_scan = 0;
		}
		SpinLockAcquire(&shared->mutex);
		rescan = shared->rescan;
		shared->rescan = false;
		SpinLockRelease(&shared->mutex);

		now = GetCurrentTimestamp();
		if (rescan || now >= next_scan)
		{
			launch_workers(scan_ctx);
			next_scan = now + (int64) stockext_launcher_naptime_ms * 1000;
			set_state(false, "sleeping");
		}
		timeout = Max(1, (next_scan - now) / 1000);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 timeout, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/* ---------- the worker ---------- */

static bool
extension_exists(void)
{
	return OidIsValid(get_extension_oid("stockext", true));
}

typedef struct DueFeeds
{
	MemoryContext ctx;			/* where the list and idle are copied */
	List	   *feeds;
	bool		exists;			/* false: the extension is gone */
	char	   *idle;			/* why the database is quiet; NULL: live */
} DueFeeds;

/*
 * Whether the database's stockext has the function stockext.fname() (no
 * arguments): one not yet updated to this version may lack it.
 */
static bool
has_function(const char *fname)
{
	List	   *name = list_make2(makeString("stockext"), makeString(pstrdup(fname)));
	Oid			noargs[1] = {InvalidOid};

	return OidIsValid(LookupFuncName(name, 0, noargs, true));
}

/*
 * stockext.idle_reason(), copied into ctx; needs SPI.  A database still on
 * 0.1.0 has no such function and, as before, is live.
 */
static char *
idle_reason(MemoryContext ctx)
{
	bool		isnull;
	Datum		reason;

	if (!has_function("idle_reason"))
		return NULL;
	if (SPI_execute("SELECT stockext.idle_reason()", true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "stockext.idle_reason failed");
	reason = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? NULL : MemoryContextStrdup(ctx, TextDatumGetCString(reason));
}

/*
 * Counts the requests a due feed would have made had its market been open
 * (one per max_symbols symbols), for stockext.provider_requests().
 */
static void
skip_closed(HeapTuple tup, TupleDesc desc)
{
	char	   *name = SPI_getvalue(tup, desc, 2);
	const Provider *p = provider_find(name);
	bool		isnull;
	ArrayType  *symbols = DatumGetArrayTypeP(SPI_getbinval(tup, desc, 3, &isnull));
	int			n = ArrayGetNItems(ARR_NDIM(symbols), ARR_DIMS(symbols));

	if (p != NULL && p->settings != NULL)
		rate_limit_skip(provider_index(p), (n + p->max_symbols - 1) / p->max_symbols);
}

/* The feeds due now, in order of due time; none in a quiet database. */
static void
due_feeds(void *arg)
{
	DueFeeds   *due = arg;
	MemoryContext ctx = due->ctx;
	bool		exists;

	exists = due->exists = extension_exists();
	if (exists)
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		due->idle = idle_reason(ctx);
		if (due->idle != NULL)
		{
			SPI_finish();
			return;
		}
		/*
		 * stockext.due_feeds() (0.3.0) also puts off the feeds whose market
		 * is closed; before the update, every due feed is polled.
		 */
		if (SPI_execute(has_function("due_feeds") ?
						"SELECT * FROM stockext.due_feeds()" :
						"SELECT f.id, f.provider, f.symbols, f.resolution, f.seed, f.keep_raw, false"
						" FROM stockext.feeds f"
						" LEFT JOIN stockext.feed_state s ON s.feed_id = f.id"
						" WHERE NOT f.paused"
						"   AND coalesce(s.next_poll_at, '-infinity') <= now()"
						" ORDER BY coalesce(s.next_poll_at, '-infinity'), f.id",
						false, 0) != SPI_OK_SELECT)
			elog(ERROR, "reading stockext.feeds failed");
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tup = SPI_tuptable->vals[r];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			MemoryContext old;
			Feed	   *f;
			bool		isnull;
			Datum	   *elems;
			ArrayType  *symbols;

			if (DatumGetBool(SPI_getbinval(tup, desc, 7, &isnull)))
			{
				skip_closed(tup, desc);
				continue;
			}
			old = MemoryContextSwitchTo(ctx);
			f = palloc(sizeof(Feed));
			f->id = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
			f->provider = SPI_getvalue(tup, desc, 2);
			symbols = DatumGetArrayTypePCopy(SPI_getbinval(tup, desc, 3, &isnull));
			deconstruct_array(symbols, TEXTOID, -1, false, TYPALIGN_INT,
							  &elems, NULL, &f->nsymbols);
			f->symbols = palloc(f->nsymbols * sizeof(char *));
			for (int i = 0; i < f->nsymbols; i++)
				f->symbols[i] = TextDatumGetCString(elems[i]);
			f->resolution = *DatumGetIntervalP(SPI_getbinval(tup, desc, 4, &isnull));
			f->seed = DatumGetInt64(SPI_getbinval(tup, desc, 5, &isnull));
			f->keep_raw = DatumGetBool(SPI_getbinval(tup, desc, 6, &isnull));
			due->feeds = lappend(due->feeds, f);
			MemoryContextSwitchTo(old);
		}
		SPI_finish();
	}
}

/* Sleeps until the next round: stockext.worker_naptime, or a wake-up. */
static void
nap(void)
{
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 stockext_worker_naptime_ms, PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
}

/*
 * Logs when the worker goes quiet, changes its reason, or goes live again:
 * once per change, not every round.  Returns the reason now, kept in
 * TopMemoryContext (NULL: live).
 */
static char *
note_idle(const char *datname, const char *idle, char *was_idle)
{
	if (idle != NULL && (was_idle == NULL || strcmp(idle, was_idle) != 0))
		ereport(LOG,
				(errmsg("stockext worker for database \"%s\" is idle: %s", datname, idle),
				 errdetail("It polls no feed, evaluates no alert and posts no webhook."),
				 errhint("If this database is the live one, run SELECT stockext.activate() in it.")));
	else if (idle == NULL)
		ereport(LOG,
				(errmsg("stockext worker for database \"%s\" is live: it polls its feeds", datname)));
	else
		return was_idle;
	if (was_idle != NULL)
		pfree(was_idle);
	return idle ? MemoryContextStrdup(TopMemoryContext, idle) : NULL;
}

void
stockext_worker_main(Datum arg)
{
	Oid			dboid = DatumGetObjectId(arg);
	MemoryContext iter_ctx;
	char	   *datname;
	char	   *was_idle = NULL;	/* in TopMemoryContext: the reason last logged */

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(dboid, InvalidOid, 0);
	if (!claim_slot(false, dboid))
		proc_exit(0);
	StartTransactionCommand();
	datname = MemoryContextStrdup(TopMemoryContext, get_database_name(dboid));
	CommitTransactionCommand();
	iter_ctx = AllocSetContextCreate(TopMemoryContext, "stockext worker iteration",
									 ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		DueFeeds	due = {iter_ctx, NIL, true, NULL};
		char	   *error;

		MemoryContextSwitchTo(iter_ctx);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			if (!database_listed(datname))
			{
				ereport(LOG,
						(errmsg("stockext worker for database \"%s\" exits: not in stockext.database_names",
								datname)));
				proc_exit(0);
			}
		}
		set_state(true, "looking for due feeds");
		error = in_transaction(due_feeds, &due, iter_ctx);
		if (error != NULL)
		{
			/* Most likely the extension is being dropped: look again. */
			ereport(WARNING, (errmsg("stockext could not read its feeds: %s", error)));
			due.feeds = NIL;
		}
		if (!due.exists)
		{
			/* Not (or no longer) created here: nothing to do. */
			ereport(DEBUG1, (errmsg("stockext worker exits: extension not in this database")));
			proc_exit(0);
		}
		if (due.idle != NULL || was_idle != NULL)
			was_idle = note_idle(datname, due.idle, was_idle);
		if (due.idle != NULL)
		{
			/* A copy: no poll, no alert, no webhook; look again next round. */
			set_state(false, "idle, %s: SELECT stockext.activate() makes it live", due.idle);
			MemoryContextReset(iter_ctx);
			nap();
			continue;
		}
		if (due.feeds != NIL)
		{
			set_state(true, "polling %d feed%s", list_length(due.feeds),
					  list_length(due.feeds) == 1 ? "" : "s");
			fetch_feeds(due.feeds, iter_ctx);
		}
		set_state(true, "refreshing corporate actions");
		fetch_due_actions(iter_ctx);
		set_state(true, "evaluating alerts, posting webhooks");
		alerts_worker_step(iter_ctx);
		MemoryContextReset(iter_ctx);
		set_state(false, "waiting for due feeds");
		nap();
	}
}

/* ---------- making way for DROP DATABASE ---------- */

/*
 * Stops the worker of a database and keeps the launcher from restarting it
 * for HOLD_USEC, so that commands needing the database to themselves (DROP,
 * RENAME, use as a template) find it free.  They wait up to 5 seconds for
 * other sessions to leave; SIGTERM makes the worker leave at once.
 */
static void
release_database(const char *datname)
{
	Oid			dboid = get_database_oid(datname, true);
	TimestampTz now = GetCurrentTimestamp();
	int			victim = 0;
	pid_t		pid = 0;

	if (!OidIsValid(dboid))
		return;
	SpinLockAcquire(&shared->mutex);
	for (int i = 0; i < NHOLDS; i++)
	{
		if (shared->holds[i].dboid == dboid || shared->holds[i].until < shared->holds[victim].until)
			victim = i;
		if (shared->holds[i].dboid == dboid)
			break;
	}
	shared->holds[victim].dboid = dboid;
	shared->holds[victim].until = now + HOLD_USEC;
	for (int i = 0; i < shared->nslots; i++)
		if (shared->slots[i].pid != 0 && !shared->slots[i].is_launcher &&
			shared->slots[i].dboid == dboid)
			pid = shared->slots[i].pid;
	SpinLockRelease(&shared->mutex);
	if (pid != 0)
		kill(pid, SIGTERM);
}

static void
stockext_process_utility(PlannedStmt *pstmt, const char *queryString,
						 bool readOnlyTree, ProcessUtilityContext context,
						 ParamListInfo params, QueryEnvironment *queryEnv,
						 DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;

	if (IsA(stmt, DropdbStmt))
		release_database(((DropdbStmt *) stmt)->dbname);
	else if (IsA(stmt, RenameStmt) && ((RenameStmt *) stmt)->renameType == OBJECT_DATABASE)
		release_database(((RenameStmt *) stmt)->subname);
	else if (IsA(stmt, CreatedbStmt))
	{
		ListCell   *lc;

		foreach(lc, ((CreatedbStmt *) stmt)->options)
		{
			DefElem    *opt = lfirst(lc);

			if (strcmp(opt->defname, "template") == 0 && opt->arg != NULL)
				release_database(defGetString(opt));
		}
	}
	if (prev_process_utility_hook)
		prev_process_utility_hook(pstmt, queryString, readOnlyTree, context,
								  params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

/* ---------- SQL interface ---------- */

/* Whom to wake when the current transaction commits. */
static bool wake_launcher = false;
static bool wake_worker = false;

static void
wake_at_commit(XactEvent event, void *arg pg_attribute_unused())
{
	Latch	   *latches[2] = {NULL, NULL};

	if (!wake_launcher && !wake_worker)
		return;
	if (event == XACT_EVENT_COMMIT)
	{
		SpinLockAcquire(&shared->mutex);
		if (wake_launcher)
		{
			shared->rescan = true;
			latches[0] = shared->launcher_latch;
		}
		for (int i = 0; wake_worker && i < shared->nslots; i++)
			if (shared->slots[i].pid != 0 && !shared->slots[i].is_launcher &&
				shared->slots[i].dboid == MyDatabaseId)
				latches[1] = shared->slots[i].latch;
		SpinLockRelease(&shared->mutex);
		for (int i = 0; i < 2; i++)
			if (latches[i])
				SetLatch(latches[i]);
	}
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PREPARE)
		wake_launcher = wake_worker = false;
}

/* Arms wake_at_commit; false without shared memory (not preloaded). */
static bool
wake_at_commit_armed(void)
{
	static bool registered = false;

	if (shared == NULL)
		return false;
	if (!registered)
	{
		RegisterXactCallback(wake_at_commit, NULL);
		registered = true;
	}
	return true;
}

/* Asks the launcher to look for databases when this transaction commits. */
PG_FUNCTION_INFO_V1(stockext_wake_launcher);
Datum
stockext_wake_launcher(PG_FUNCTION_ARGS)
{
	if (wake_at_commit_armed())
		wake_launcher = true;
	PG_RETURN_VOID();
}

/* Asks this database's worker to start a round when this transaction commits. */
PG_FUNCTION_INFO_V1(stockext_wake_worker);
Datum
stockext_wake_worker(PG_FUNCTION_ARGS)
{
	if (wake_at_commit_armed())
		wake_worker = true;
	PG_RETURN_VOID();
}

/* The launcher and workers: pid, kind, database, state, since. */
PG_FUNCTION_INFO_V1(stockext_worker_status);
Datum
stockext_worker_status(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	WorkerSlot *copy;
	int			n = 0;

	InitMaterializedSRF(fcinfo, 0);
	if (shared == NULL)
		return (Datum) 0;

	copy = palloc(shared->nslots * sizeof(WorkerSlot));
	SpinLockAcquire(&shared->mutex);
	for (int i = 0; i < shared->nslots; i++)
		if (shared->slots[i].pid != 0)
			copy[n++] = shared->slots[i];
	SpinLockRelease(&shared->mutex);

	for (int i = 0; i < n; i++)
	{
		Datum		values[5];
		bool		nulls[5] = {false};
		char	   *datname = copy[i].is_launcher ? NULL : get_database_name(copy[i].dboid);

		values[0] = Int32GetDatum(copy[i].pid);
		values[1] = CStringGetTextDatum(copy[i].is_launcher ? "launcher" : "worker");
		nulls[2] = datname == NULL;
		values[2] = datname ? DirectFunctionCall1(namein, CStringGetDatum(datname)) : (Datum) 0;
		values[3] = CStringGetTextDatum(copy[i].state);
		values[4] = TimestampTzGetDatum(copy[i].since);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

void
stockext_worker_init(void)
{
	BackgroundWorker bgw;

	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = stockext_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = stockext_shmem_startup;
	prev_process_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = stockext_process_utility;

	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw.bgw_restart_time = 10;
	strlcpy(bgw.bgw_library_name, "stockext", BGW_MAXLEN);
	strlcpy(bgw.bgw_function_name, "stockext_launcher_main", BGW_MAXLEN);
	strlcpy(bgw.bgw_name, "stockext launcher", BGW_MAXLEN);
	strlcpy(bgw.bgw_type, "stockext launcher", BGW_MAXLEN);
	RegisterBackgroundWorker(&bgw);
}
