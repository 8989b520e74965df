/*
 * ingest.c
 *		The write path shared by the worker and backfill.
 *
 * A poll's bars go in with one INSERT ... SELECT FROM unnest(arrays) ...
 * ON CONFLICT DO UPDATE, planned once per process: a single executor run
 * for the whole batch, with parameters only, so no provider data is ever
 * part of SQL text.  Unchanged re-polled bars write nothing, and a bar
 * another provider stored is not overwritten: a second statement, run
 * only for a batch that met such bars, records the disagreements in
 * stockext.conflicts.
 *
 * A large batch (a backfill chunk, a long reply) takes a faster road: the
 * bars whose keys are not stored yet go in through COPY's own machinery
 * (binary format from memory, multi-row inserts per partition), the
 * others through the upsert.  Every batch first takes an advisory lock per
 * symbol, so no other ingester adds keys between that look and the COPY.
 *
 * Where Citus distributes stockext.ticks, a batch takes a third road, the
 * same decisions taken on the coordinator against a copy of the stored
 * bars (upsert_distributed).
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/copy.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "libpq/pqformat.h"
#include "nodes/makefuncs.h"
#include "parser/parse_relation.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "distributed.h"
#include "guc.h"
#include "ingest.h"

#define NARGS 12

/* Batches from this size on copy their new bars. */
#define COPY_MIN_BARS 1000

/* Advisory lock class of ingesters ("sTk" in hex) */
#define INGEST_LOCK_CLASS 7558251

/* The batch's bars, from the arrays $1 to $7. */
#define BATCH_ROWS \
" unnest($1::text[], $2::timestamptz[], $3::float8[], $4::float8[]," \
"        $5::float8[], $6::float8[], $7::int8[])" \
" AS u(symbol, ts, open, high, low, close, volume)"

/*
 * Upserts the bars of rows (columns as BATCH_ROWS's) at $8 from $9; a
 * stored bar is updated where it differs and guard holds ("" or
 * "condition AND").
 */
#define TICKS_UPSERT(rows, guard) \
" INSERT INTO stockext.ticks AS t" \
" (symbol, ts, resolution, open, high, low, close, volume, source)" \
" SELECT u.symbol, u.ts, $8, u.open, u.high, u.low, u.close, u.volume, $9" \
" FROM " rows \
" ON CONFLICT (symbol, ts, resolution) DO UPDATE" \
" SET open = excluded.open, high = excluded.high, low = excluded.low," \
"     close = excluded.close, volume = excluded.volume," \
"     source = excluded.source, ingested_at = excluded.ingested_at" \
" WHERE " guard " (t.open, t.high, t.low, t.close, t.volume, t.source)" \
"       IS DISTINCT FROM" \
"       (excluded.open, excluded.high, excluded.low, excluded.close," \
"        excluded.volume, excluded.source)" \
" RETURNING 1"

/* Whether source is the preferred one of symbol. */
#define PREFERRED(symbol, source) \
" EXISTS (SELECT FROM stockext.preferred_sources p" \
"         WHERE p.symbol = " symbol " AND p.source = " source ")"

/* The stored bar t is the offering source's, or that source is preferred. */
#define OWNED_OR_PREFERRED \
"(t.source = excluded.source OR" PREFERRED("excluded.symbol", "excluded.source") ") AND"

/*
 * The batch's bars u, each beside the stored bar t of its key (NULL when
 * none): looked up by key, one index probe as the upsert's, and no join
 * for the planner to choose, which could scan whole partitions for a batch
 * of many bars.
 */
#define WITH_STORED(ticks) \
" FROM " BATCH_ROWS \
" LEFT JOIN LATERAL (SELECT t.source, t.open, t.high, t.low, t.close, t.volume" \
"                    FROM " ticks " t" \
"                    WHERE t.symbol = u.symbol AND t.ts = u.ts AND t.resolution = $8" \
"                    LIMIT 1) t ON true"

/*
 * Stores the bars whose key is new, those of their source (a correction, a
 * bar still forming) that changed, and, over another source's, those of
 * the symbol's preferred source; unchanged bars never reach the INSERT, so
 * they take no row lock.  Returns the rows written and the bars whose key
 * another source had stored, for reconcile_sql.  The stored bars are read
 * after the batch's symbol locks, which every ingester takes, so ingesters
 * decide on committed bars.  A writer by SQL takes no lock: a bar it makes
 * another source's meanwhile is left alone by the ON CONFLICT clause
 * (OWNED_OR_PREFERRED).  CHOSEN(ticks) is v, the batch's bars marked
 * against the stored bars in the relation ticks.
 */
#define CHOSEN(ticks) \
" SELECT u.*, t.source AS kept_source," \
"        t.source IS NULL" \
"        OR (t.source = $9 AND (t.open, t.high, t.low, t.close, t.volume)" \
"                              IS DISTINCT FROM (u.open, u.high, u.low, u.close, u.volume))" \
"        OR (t.source <> $9 AND" PREFERRED("u.symbol", "$9") ") AS write" \
WITH_STORED(ticks)

static const char *const upsert_sql =
"WITH v AS (" CHOSEN("stockext.ticks") "), written AS (" TICKS_UPSERT("v AS u WHERE u.write", OWNED_OR_PREFERRED) ")"
" SELECT (SELECT count(*) FROM written), count(*) FILTER (WHERE v.kept_source <> $9) FROM v";

/*
 * After upsert_sql, for a batch some of whose keys another source had
 * stored: each bar against the bar stored now.  Where that is another
 * source's and a price differs by more than stockext.conflict_tolerance
 * ($12; of a bar still forming, its open alone: the others move until it
 * closes, and each source saw it at another moment), the offer is recorded
 * in stockext.conflicts (rewritten only when a side changed); where the
 * stored bar is now the offering source's, or agrees, the source's
 * conflict of the key ends (found by key too, and deleted by ctid: no
 * join over a conflicts table whose statistics may not be gathered yet).
 */
#define RECONCILE(ticks) \
"WITH v AS (" \
" SELECT u.*, t.source AS kept_source, t.open AS kept_open, t.high AS kept_high," \
"        t.low AS kept_low, t.close AS kept_close, t.volume AS kept_volume," \
"        t.source = $9" \
"        OR greatest(abs(u.open - t.open) / greatest(u.open, t.open)," \
"                    CASE WHEN u.ts + $8 <= now() THEN" \
"                         greatest(abs(u.high - t.high) / greatest(u.high, t.high)," \
"                                  abs(u.low - t.low) / greatest(u.low, t.low)," \
"                                  abs(u.close - t.close) / greatest(u.close, t.close))" \
"                    ELSE 0 END) <= $12 AS agrees" \
WITH_STORED(ticks) \
" WHERE t.source IS NOT NULL" \
"), recorded AS (" \
" INSERT INTO stockext.conflicts AS c" \
" (symbol, ts, resolution, kept_source, kept_open, kept_high, kept_low, kept_close," \
"  kept_volume, offered_source, offered_open, offered_high, offered_low, offered_close," \
"  offered_volume, feed_id)" \
" SELECT v.symbol, v.ts, $8, v.kept_source, v.kept_open, v.kept_high, v.kept_low," \
"        v.kept_close, v.kept_volume, $9, v.open, v.high, v.low, v.close, v.volume, $10" \
" FROM v WHERE NOT v.agrees" \
" ON CONFLICT (symbol, ts, resolution, offered_source) DO UPDATE" \
" SET kept_source = excluded.kept_source, kept_open = excluded.kept_open," \
"     kept_high = excluded.kept_high, kept_low = excluded.kept_low," \
"     kept_close = excluded.kept_close, kept_volume = excluded.kept_volume," \
"     offered_open = excluded.offered_open, offered_high = excluded.offered_high," \
"     offered_low = excluded.offered_low, offered_close = excluded.offered_close," \
"     offered_volume = excluded.offered_volume, feed_id = excluded.feed_id," \
"     detected_at = excluded.detected_at" \
" WHERE (c.kept_source, c.kept_open, c.kept_high, c.kept_low, c.kept_close, c.kept_volume," \
"        c.offered_open, c.offered_high, c.offered_low, c.offered_close, c.offered_volume)" \
"       IS DISTINCT FROM" \
"       (excluded.kept_source, excluded.kept_open, excluded.kept_high, excluded.kept_low," \
"        excluded.kept_close, excluded.kept_volume, excluded.offered_open," \
"        excluded.offered_high, excluded.offered_low, excluded.offered_close," \
"        excluded.offered_volume)" \
")" \
" DELETE FROM stockext.conflicts c" \
" WHERE c.ctid = ANY (ARRAY(SELECT (SELECT k.ctid FROM stockext.conflicts k" \
"                                   WHERE k.symbol = v.symbol AND k.ts = v.ts" \
"                                     AND k.resolution = $8 AND k.offered_source = $9)" \
"                           FROM v WHERE v.agrees))"

static const char *const reconcile_sql = RECONCILE("stockext.ticks");

/*
 * The write where Citus distributes stockext.ticks (stockext.distribute()),
 * which plans none of the statements above: their CTEs join the batch's
 * parameters to a distributed table, and an ON CONFLICT clause on one may
 * hold no subquery.  The same decisions are taken on the coordinator, by
 * the same SQL: after the symbol locks, one multi-shard SELECT copies the
 * stored bars of the batch's symbols and range into a temporary table;
 * CHOSEN runs against it, and the bars it chose go in with an INSERT ...
 * SELECT FROM unnest(...) ON CONFLICT that Citus routes to the shards,
 * whose guard names the symbols of which this source is the preferred one
 * instead of looking them up; RECONCILE runs against the bars read
 * again after the write.  The statements on the temporary table are
 * planned once per process, as upsert_sql is (the plan cache plans them
 * again for a table made anew); those Citus runs are planned per batch.
 */
#define STORED_BARS "pg_temp.stockext_stored_bars"

static const char *const stored_bars_create_sql =
"CREATE TEMPORARY TABLE stockext_stored_bars ("
" symbol text NOT NULL, ts timestamptz NOT NULL, resolution interval NOT NULL,"
" source text NOT NULL, open float8 NOT NULL, high float8 NOT NULL, low float8 NOT NULL,"
" close float8 NOT NULL, volume int8, PRIMARY KEY (symbol, ts, resolution))"
" ON COMMIT DELETE ROWS";

static const char *const stored_bars_fill_sql =
"INSERT INTO " STORED_BARS
" (symbol, ts, resolution, source, open, high, low, close, volume)"
" SELECT t.symbol, t.ts, t.resolution, t.source, t.open, t.high, t.low, t.close, t.volume"
" FROM stockext.ticks t"
" WHERE t.symbol = ANY ($1) AND t.resolution = $2 AND t.ts BETWEEN $3 AND $4";

/*
 * The bars to write as arrays ($1 to $7 of dist_upsert_sql) and its $10;
 * v is materialized, else each aggregate would evaluate CHOSEN again.
 */
static const char *const dist_choose_sql =
"WITH v AS MATERIALIZED (" CHOSEN(STORED_BARS) ")"
" SELECT count(*) FILTER (WHERE v.write), count(*) FILTER (WHERE v.kept_source <> $9),"
"        array_agg(v.symbol) FILTER (WHERE v.write), array_agg(v.ts) FILTER (WHERE v.write),"
"        array_agg(v.open) FILTER (WHERE v.write), array_agg(v.high) FILTER (WHERE v.write),"
"        array_agg(v.low) FILTER (WHERE v.write), array_agg(v.close) FILTER (WHERE v.write),"
"        array_agg(v.volume) FILTER (WHERE v.write),"
"        ARRAY(SELECT DISTINCT p.symbol FROM unnest($1::text[]) AS p(symbol)"
"              WHERE" PREFERRED("p.symbol", "$9") ")"
" FROM v";

/*
 * Its parameters are $1 to $9 of upsert_sql and the symbols as $10.  The
 * INSERT is a CTE's: Citus then plans it as a statement of its own, while
 * for the bare INSERT ... SELECT ... ON CONFLICT ... RETURNING it sent the
 * shards parameters without their types ("could not determine data type
 * of parameter $1").
 */
#define OWNED_OR_LISTED \
"(t.source = excluded.source OR excluded.symbol = ANY ($10)) AND"

static const char *const dist_upsert_sql =
"WITH written AS (" TICKS_UPSERT(BATCH_ROWS, OWNED_OR_LISTED) ") SELECT count(*) FROM written";

static const char *const dist_reconcile_sql = RECONCILE(STORED_BARS);

/*
 * The write of a database whose extension is not updated to 0.3.0 yet,
 * which has no stockext.conflicts: the last writer wins, as it did then.
 */
static const char *const legacy_upsert_sql =
"WITH written AS (" TICKS_UPSERT(BATCH_ROWS, "") ") SELECT count(*), 0::bigint FROM written";

static const char *const reject_sql =
"INSERT INTO stockext.rejects"
" (feed_id, source, symbol, ts, resolution, open, high, low, close, volume, reason)"
" SELECT $10, $9, u.symbol, u.ts, $8, u.open, u.high, u.low, u.close, u.volume, u.reason"
" FROM unnest($1::text[], $2::timestamptz[], $3::float8[], $4::float8[],"
"             $5::float8[], $6::float8[], $7::int8[], $11::text[])"
"      AS u(symbol, ts, open, high, low, close, volume, reason)";

static const Oid argtypes[NARGS] = {
	TEXTARRAYOID, TIMESTAMPTZARRAYOID, FLOAT8ARRAYOID, FLOAT8ARRAYOID,
	FLOAT8ARRAYOID, FLOAT8ARRAYOID, INT8ARRAYOID, INTERVALOID, TEXTOID,
	INT4OID, TEXTARRAYOID, FLOAT8OID
};

static SPIPlanPtr upsert_plan = NULL;
static SPIPlanPtr reconcile_plan = NULL;
static SPIPlanPtr legacy_upsert_plan = NULL;
static SPIPlanPtr reject_plan = NULL;
static SPIPlanPtr dist_choose_plan = NULL;
static SPIPlanPtr dist_reconcile_plan = NULL;

/* Months known to have a partition: [covered_lo, covered_hi] in this extension. */
static Oid	covered_ext = InvalidOid;
static TimestampTz covered_lo;
static TimestampTz covered_hi;

void
ingest_forget_partitions(void)
{
	covered_ext = InvalidOid;
}

static void
ensure_partitions(TimestampTz lo, TimestampTz hi)
{
	Oid			ext = get_extension_oid("stockext", false);
	Oid			types[2] = {TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		values[2] = {TimestampTzGetDatum(lo), TimestampTzGetDatum(hi)};
	bool		skipped;

	if (ext == covered_ext && lo >= covered_lo && hi <= covered_hi)
		return;
	/*
	 * Without waiting: this transaction may already hold locks on ticks, and
	 * two writers waiting for each other's would deadlock.  When another
	 * transaction is creating partitions the bars go to the default
	 * partition this time, and the next batch tries again.
	 */
	if (SPI_execute_with_args("SELECT stockext.create_partitions($1, $2, wait => false)",
							  2, types, values, NULL, false, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "stockext.create_partitions failed");
	SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &skipped);
	if (skipped)
		return;
	if (ext != covered_ext || hi < covered_lo || lo > covered_hi)
	{
		covered_lo = lo;
		covered_hi = hi;
	}
	else
	{
		covered_lo = Min(lo, covered_lo);
		covered_hi = Max(hi, covered_hi);
	}
	covered_ext = ext;
}

static int
compare_bars(const void *a, const void *b, void *arg)
{
	const IngestBar *bars = arg;
	const IngestBar *x = &bars[*(const int *) a];
	const IngestBar *y = &bars[*(const int *) b];
	int			c = strcmp(x->symbol, y->symbol);

	if (c != 0)
		return c;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	/* Equal keys keep their arrival order, so the last copy is last. */
	return *(const int *) a - *(const int *) b;
}

/* Arrays of the given bars, in the argument order of both statements. */
static void
bars_to_args(IngestBar *bars, const int *idx, int n, const char *const *reasons,
			 Datum *values, char *nulls)
{
	Datum	   *symbol = palloc(n * sizeof(Datum));
	Datum	   *ts = palloc(n * sizeof(Datum));
	Datum	   *price[4];
	Datum	   *volume = palloc(n * sizeof(Datum));
	bool	   *ts_null = palloc(n * sizeof(bool));
	bool	   *volume_null = palloc(n * sizeof(bool));
	int			dims[1] = {n};
	int			lbs[1] = {1};

	for (int p = 0; p < 4; p++)
		price[p] = palloc(n * sizeof(Datum));
	for (int i = 0; i < n; i++)
	{
		IngestBar  *b = &bars[idx[i]];

		symbol[i] = CStringGetTextDatum(b->symbol);
		ts[i] = TimestampTzGetDatum(b->ts);
		ts_null[i] = !b->has_ts;
		price[0][i] = Float8GetDatum(b->open);
		price[1][i] = Float8GetDatum(b->high);
		price[2][i] = Float8GetDatum(b->low);
		price[3][i] = Float8GetDatum(b->close);
		volume[i] = Int64GetDatum(b->volume);
		volume_null[i] = !b->has_volume;
	}
	values[0] = PointerGetDatum(construct_array(symbol, n, TEXTOID, -1, false, TYPALIGN_INT));
	values[1] = PointerGetDatum(construct_md_array(ts, ts_null, 1, dims, lbs, TIMESTAMPTZOID,
												   sizeof(TimestampTz), FLOAT8PASSBYVAL,
												   TYPALIGN_DOUBLE));
	for (int p = 0; p < 4; p++)
		values[2 + p] = PointerGetDatum(construct_array(price[p], n, FLOAT8OID, sizeof(float8),
														FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[6] = PointerGetDatum(construct_md_array(volume, volume_null, 1, dims, lbs, INT8OID,
												   sizeof(int64), FLOAT8PASSBYVAL,
												   TYPALIGN_DOUBLE));
	if (reasons != NULL)
	{
		Datum	   *reason = palloc(n * sizeof(Datum));

		for (int i = 0; i < n; i++)
			reason[i] = CStringGetTextDatum(reasons[i]);
		values[10] = PointerGetDatum(construct_array(reason, n, TEXTOID, -1, false, TYPALIGN_INT));
		nulls[10] = ' ';
	}
}

static SPIPlanPtr
keep_plan(SPIPlanPtr *plan, const char *sql)
{
	if (*plan == NULL)
	{
		/*
		 * Planned once: every bar is found by key whatever the batch's size,
		 * and a custom plan per batch would cost more than a poll's write.
		 */
		SPIPlanPtr	p = SPI_prepare_cursor(sql, NARGS, (Oid *) argtypes,
										   CURSOR_OPT_GENERIC_PLAN);

		if (p == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		*plan = p;
	}
	return *plan;
}

/* ---------- the COPY road ---------- */

static StringInfo copy_data;
static int	copy_pos;

static int
copy_read(void *outbuf, int minread pg_attribute_unused(), int maxread)
{
	int			n = Min(maxread, copy_data->len - copy_pos);

	memcpy(outbuf, copy_data->data + copy_pos, n);
	copy_pos += n;
	return n;
}

static void
send_text(StringInfo buf, const char *s)
{
	int			len = strlen(s);

	pq_sendint32(buf, len);
	appendBinaryStringInfo(buf, s, len);
}

/* Appends COPY BINARY rows of the given bars to buf. */
static void
copy_rows(StringInfo buf, IngestBar *bars, const int *idx, int n,
		  const Interval *resolution, const char *source)
{
	for (int i = 0; i < n; i++)
	{
		IngestBar  *b = &bars[idx[i]];

		pq_sendint16(buf, 9);
		send_text(buf, b->symbol);
		pq_sendint32(buf, 8);
		pq_sendint64(buf, b->ts);
		pq_sendint32(buf, 16);
		pq_sendint64(buf, resolution->time);
		pq_sendint32(buf, resolution->day);
		pq_sendint32(buf, resolution->month);
		pq_sendint32(buf, 8);
		pq_sendfloat8(buf, b->open);
		pq_sendint32(buf, 8);
		pq_sendfloat8(buf, b->high);
		pq_sendint32(buf, 8);
		pq_sendfloat8(buf, b->low);
		pq_sendint32(buf, 8);
		pq_sendfloat8(buf, b->close);
		if (b->has_volume)
		{
			pq_sendint32(buf, 8);
			pq_sendint64(buf, b->volume);
		}
		else
			pq_sendint32(buf, -1);
		send_text(buf, source);
	}
}

/* COPYs the given bars (none of whose keys is stored) into stockext.ticks. */
static uint64
copy_bars(IngestBar *bars, const int *idx, int n, const Interval *resolution,
		  const char *source)
{
	static const char *const columns[] = {
		"symbol", "ts", "resolution", "open", "high", "low", "close", "volume", "source"
	};
	Oid			relid = get_relname_relid("ticks", get_namespace_oid("stockext", false));
	Relation	rel;
	ParseState *pstate;
	CopyFromState cstate;
	List	   *attnames = NIL;
	StringInfoData buf;
	uint64		copied;

	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, "PGCOPY\n\377\r\n\0", 11);
	pq_sendint32(&buf, 0);		/* flags */
	pq_sendint32(&buf, 0);		/* header extension */
	copy_rows(&buf, bars, idx, n, resolution, source);
	pq_sendint16(&buf, -1);

	for (size_t i = 0; i < lengthof(columns); i++)
		attnames = lappend(attnames, makeString(pstrdup(columns[i])));
	rel = table_open(relid, RowExclusiveLock);
	pstate = make_parsestate(NULL);
	(void) addRangeTableEntryForRelation(pstate, rel, RowExclusiveLock, NULL, false, false);
	copy_data = &buf;
	copy_pos = 0;
	cstate = BeginCopyFrom(pstate, rel, NULL, NULL, false, copy_read, attnames,
						   list_make1(makeDefElem("format", (Node *) makeString("binary"), -1)));
	copied = CopyFrom(cstate);
	EndCopyFrom(cstate);
	free_parsestate(pstate);
	table_close(rel, NoLock);
	pfree(buf.data);
	return copied;
}

/*
 * Locks the symbols of the sorted batch good[0..n), in order, for this
 * transaction: ingesters of the same symbols take turns, so that none adds
 * a key another has just found missing.  Returns the symbols as text[].
 */
static Datum
lock_symbols(IngestBar *bars, const int *good, int n)
{
	Oid			type = TEXTARRAYOID;
	Datum	   *symbols = palloc(n * sizeof(Datum));
	int			nsymbols = 0;
	Datum		array;

	for (int i = 0; i < n; i++)
		if (i == 0 || strcmp(bars[good[i]].symbol, bars[good[i - 1]].symbol) != 0)
			symbols[nsymbols++] = CStringGetTextDatum(bars[good[i]].symbol);
	array = PointerGetDatum(construct_array(symbols, nsymbols, TEXTOID, -1, false, TYPALIGN_INT));
	if (SPI_execute_with_args("SELECT pg_advisory_xact_lock(" CppAsString2(INGEST_LOCK_CLASS) ", hashtext(s))"
							  " FROM unnest($1::text[]) WITH ORDINALITY AS u(s, n) ORDER BY n",
							  1, &type, &array, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "locking the batch's symbols failed");
	return array;
}

/*
 * Splits the sorted, deduplicated batch good[0..n) of the given symbols
 * and time range [lo, hi] into the bars whose keys
 * are not stored (*fresh) and the others (*known, which the upsert handles:
 * unchanged ones write nothing).  The batch's symbols are locked.
 */
static void
split_fresh(IngestBar *bars, const int *good, int n, Datum symbols,
			const Interval *resolution, TimestampTz lo, TimestampTz hi,
			int *fresh, int *nfresh, int *known, int *nknown)
{
	Oid			types[4] = {TEXTARRAYOID, INTERVALOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		args[4];
	uint64		j = 0;

	args[0] = symbols;
	args[1] = IntervalPGetDatum(resolution);
	args[2] = TimestampTzGetDatum(lo);
	args[3] = TimestampTzGetDatum(hi);
	/* Keys stored in the batch's range, in the batch's order. */
	if (SPI_execute_with_args("SELECT symbol, ts FROM stockext.ticks"
							  " WHERE symbol = ANY ($1) AND resolution = $2 AND ts BETWEEN $3 AND $4"
							  " ORDER BY symbol COLLATE \"C\", ts",
							  4, types, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "reading stored keys failed");
	*nfresh = *nknown = 0;
	for (int i = 0; i < n; i++)
	{
		IngestBar  *b = &bars[good[i]];
		int			c = 1;

		while (j < SPI_processed)
		{
			HeapTuple	tup = SPI_tuptable->vals[j];
			bool		isnull;
			char	   *sym = TextDatumGetCString(SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &isnull));
			TimestampTz ts = DatumGetTimestampTz(SPI_getbinval(tup, SPI_tuptable->tupdesc, 2, &isnull));

			c = strcmp(sym, b->symbol);
			if (c == 0)
				c = ts < b->ts ? -1 : ts > b->ts ? 1 : 0;
			pfree(sym);
			if (c >= 0)
				break;
			j++;
		}
		if (j < SPI_processed && c == 0)
			known[(*nknown)++] = good[i];
		else
			fresh[(*nfresh)++] = good[i];
	}
}

/* ---------- the distributed write ---------- */

/*
 * Fills the coordinator's temporary table of stored bars with those of the
 * given symbols and range [lo, hi]: made on the session's first use, kept
 * empty between transactions, emptied before a second fill in one.
 */
static void
read_stored_bars(Datum symbols, const Interval *resolution, TimestampTz lo, TimestampTz hi)
{
	static LocalTransactionId filled = InvalidLocalTransactionId;
	Oid			types[4] = {TEXTARRAYOID, INTERVALOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		args[4];
	Oid			temp_ns = LookupExplicitNamespace("pg_temp", true);

	if (!OidIsValid(temp_ns) || !OidIsValid(get_relname_relid("stockext_stored_bars", temp_ns)))
	{
		if (SPI_execute(stored_bars_create_sql, false, 0) != SPI_OK_UTILITY)
			elog(ERROR, "creating the table of stored bars failed");
	}
	else if (filled == MyProc->lxid &&
			 SPI_execute("TRUNCATE " STORED_BARS, false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "emptying the table of stored bars failed");
	filled = MyProc->lxid;
	args[0] = symbols;
	args[1] = IntervalPGetDatum(resolution);
	args[2] = TimestampTzGetDatum(lo);
	args[3] = TimestampTzGetDatum(hi);
	if (SPI_execute_with_args(stored_bars_fill_sql, 4, types, args, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "reading the stored bars failed");
}

/*
 * The write of the batch in values (the arguments of upsert_sql) over a
 * distributed stockext.ticks, of the given symbols and range; its symbols
 * are locked.  Returns the rows written.
 */
static int64
upsert_distributed(Datum *values, char *nulls, Datum symbols, const Interval *resolution,
				   TimestampTz lo, TimestampTz hi)
{
	Oid			upsert_types[10];
	Datum		chosen[10];
	char		chosen_nulls[10];
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;
	int64		nwrite;
	int64		nother;
	int64		stored = 0;

	read_stored_bars(symbols, resolution, lo, hi);
	if (SPI_execute_plan(keep_plan(&dist_choose_plan, dist_choose_sql), values, nulls,
						 false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "choosing the bars to write failed");
	/* The tuple and its arrays stay until SPI_finish. */
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	nwrite = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
	nother = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
	if (nwrite > 0)
	{
		memcpy(upsert_types, argtypes, sizeof(upsert_types));
		upsert_types[9] = TEXTARRAYOID;
		memcpy(chosen, values, sizeof(chosen));
		memcpy(chosen_nulls, nulls, sizeof(chosen_nulls));
		for (int c = 0; c < 7; c++)
			chosen[c] = SPI_getbinval(tup, desc, 3 + c, &isnull);
		chosen[9] = SPI_getbinval(tup, desc, 10, &isnull);
		chosen_nulls[9] = ' ';
		if (SPI_execute_with_args(dist_upsert_sql, 10, upsert_types, chosen,
								  chosen_nulls, false, 0) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "upsert of bars failed");
		stored = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	/* Another source's bars met: against the bars stored now. */
	if (nother > 0)
	{
		if (stored > 0)
			read_stored_bars(symbols, resolution, lo, hi);
		if (SPI_execute_plan(keep_plan(&dist_reconcile_plan, dist_reconcile_sql), values, nulls,
							 false, 0) != SPI_OK_DELETE)
			elog(ERROR, "recording conflicting bars failed");
	}
	return stored;
}

int64
ingest_bars(IngestBar *bars, int nbars, const Interval *resolution,
			const char *source, int feed_id, int64 *rejected)
{
	int		   *good = palloc(Max(nbars, 1) * sizeof(int));
	int		   *bad = palloc(Max(nbars, 1) * sizeof(int));
	const char **reasons = palloc(Max(nbars, 1) * sizeof(char *));
	int			ngood = 0;
	int			nbad = 0;
	int			nkept = 0;
	int64		stored = 0;
	const char *off_grid = NULL;
	Datum		values[NARGS];
	char		nulls[NARGS];
	bool		isnull;

	for (int i = 0; i < nbars; i++)
	{
		IngestBar  *b = &bars[i];

		if (b->problem == NULL)
			b->problem = symbol_problem(b->symbol, strlen(b->symbol));
		if (b->problem == NULL && !b->has_ts)
			b->problem = "time is missing";
		if (b->problem == NULL)
		{
			char		buf[BAR_REASON_LEN];
			const char *why = bar_grid_problem(b->ts, resolution->month, resolution->day,
											   resolution->time, buf, sizeof(buf));

			/* The reason names only the resolution: one copy serves the batch. */
			if (why == buf)
				why = off_grid ? off_grid : (off_grid = pstrdup(buf));
			b->problem = why;
		}
		if (b->problem == NULL)
			b->problem = bar_problem(b->open, b->high, b->low, b->close,
									 b->has_volume, b->volume);
		if (b->problem == NULL)
			good[ngood++] = i;
		else
		{
			reasons[nbad] = b->problem;
			bad[nbad++] = i;
		}
	}

	/* One row per key, else ON CONFLICT would meet a row twice. */
	qsort_arg(good, ngood, sizeof(int), compare_bars, bars);
	for (int i = 0; i < ngood; i++)
	{
		if (i + 1 < ngood && strcmp(bars[good[i]].symbol, bars[good[i + 1]].symbol) == 0 &&
			bars[good[i]].ts == bars[good[i + 1]].ts)
			continue;
		good[nkept++] = good[i];
	}

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	memset(nulls, ' ', sizeof(nulls));
	values[7] = IntervalPGetDatum(resolution);
	values[8] = CStringGetTextDatum(source);
	values[9] = Int32GetDatum(feed_id);
	nulls[9] = feed_id == 0 ? 'n' : ' ';
	nulls[10] = 'n';
	values[10] = (Datum) 0;
	values[11] = Float8GetDatum(stockext_conflict_tolerance);

	if (nkept > 0)
	{
		TimestampTz lo = DT_NOEND;
		TimestampTz hi = DT_NOBEGIN;
		Datum		symbols;

		/* Looked up per batch: the extension may be updated meanwhile. */
		bool		updated = OidIsValid(get_relname_relid("conflicts",
															get_namespace_oid("stockext", false)));
		bool		distributed = updated && ticks_distributed();

		for (int i = 0; i < nkept; i++)
		{
			lo = Min(lo, bars[good[i]].ts);
			hi = Max(hi, bars[good[i]].ts);
		}
		ensure_partitions(lo, hi);
		symbols = lock_symbols(bars, good, nkept);
		if (distributed)
		{
			/*
			 * No COPY road: CopyFrom would write into the coordinator's own,
			 * empty, stockext.ticks, whose triggers fail there.
			 */
			bars_to_args(bars, good, nkept, NULL, values, nulls);
			stored += upsert_distributed(values, nulls, symbols, resolution, lo, hi);
		}
		else if (nkept >= COPY_MIN_BARS)
		{
			int		   *fresh = palloc(nkept * sizeof(int));
			int			nfresh;

			split_fresh(bars, good, nkept, symbols, resolution, lo, hi,
						fresh, &nfresh, good, &nkept);
			if (nfresh > 0)
				stored += copy_bars(bars, fresh, nfresh, resolution, source);
		}
		if (!distributed && nkept > 0)
		{
			SPIPlanPtr	plan = updated ? keep_plan(&upsert_plan, upsert_sql)
				: keep_plan(&legacy_upsert_plan, legacy_upsert_sql);

			bars_to_args(bars, good, nkept, NULL, values, nulls);
			if (SPI_execute_plan(plan, values, nulls, false, 0) != SPI_OK_SELECT ||
				SPI_processed != 1)
				elog(ERROR, "upsert of bars failed");
			stored += DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												  SPI_tuptable->tupdesc, 1, &isnull));
			/* Another source's bars met: most batches meet none. */
			if (DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
											SPI_tuptable->tupdesc, 2, &isnull)) > 0 &&
				SPI_execute_plan(keep_plan(&reconcile_plan, reconcile_sql), values, nulls,
								 false, 0) != SPI_OK_DELETE)
				elog(ERROR, "recording conflicting bars failed");
		}
	}
	if (nbad > 0)
	{
		bars_to_args(bars, bad, nbad, reasons, values, nulls);
		if (SPI_execute_plan(keep_plan(&reject_plan, reject_sql), values, nulls,
							 false, 0) != SPI_OK_INSERT)
			elog(ERROR, "insert of rejected bars failed");
	}
	SPI_finish();
	if (rejected)
		*rejected = nbad;
	return stored;
}

int64
ingest_actions(const IngestAction *actions, int nactions, const char *source)
{
	Oid			types[8] = {TEXTOID, DATEOID, TEXTOID, FLOAT8OID, FLOAT8OID, FLOAT8OID,
	TEXTOID, TEXTOID};
	SPIPlanPtr	plan;
	int64		added = 0;

	if (nactions == 0)
		return 0;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = SPI_prepare("INSERT INTO stockext.corporate_actions"
					   " (symbol, ex_date, kind, split_from, split_to, cash_amount, currency, source)"
					   " VALUES ($1, $2, $3, $4::numeric, $5::numeric, $6::numeric, $7, $8)"
					   " ON CONFLICT (symbol, ex_date, kind) DO NOTHING", 8, types);
	if (plan == NULL)
		elog(ERROR, "preparing the corporate actions insert failed");
	for (int i = 0; i < nactions; i++)
	{
		const IngestAction *a = &actions[i];
		Datum		args[8] = {
			CStringGetTextDatum(a->symbol), DateADTGetDatum(a->ex_date),
			CStringGetTextDatum(a->is_split ? "split" : "dividend"),
			Float8GetDatum(a->split_from), Float8GetDatum(a->split_to),
			Float8GetDatum(a->cash_amount), CStringGetTextDatum(a->currency),
			CStringGetTextDatum(source)
		};
		char		nulls[8] = {' ', ' ', ' ', a->is_split ? ' ' : 'n', a->is_split ? ' ' : 'n',
			a->is_split ? 'n' : ' ', a->is_split || a->currency[0] == '\0' ? 'n' : ' ', ' '};

		if (SPI_execute_plan(plan, args, nulls, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "recording a corporate action failed");
		added += SPI_processed;
	}
	SPI_finish();
	return added;
}
