#!/usr/bin/python3
"""stockext's read-only REST API and live dashboard (README: REST API).

Debian's python3-fastapi, python3-uvicorn and python3-psycopg (psycopg 3);
run with /usr/bin/python3:

    /usr/bin/python3 api/stockext_api.py --dsn "host=127.0.0.1 port=5499 dbname=stockext user=stockext_api"

It connects as a role made with stockext.grant_reader() (every session is
also read-only), listens on 127.0.0.1 unless told otherwise, sends every
value as a bound parameter (no SQL is built from strings), caps the rows of
each request and serves its OpenAPI description and the dashboard's files
itself: nothing is loaded from elsewhere.
"""
import argparse
import asyncio
import contextlib
import datetime
import decimal
import json
import logging
import math
import os
import select
import threading
from typing import Optional

import psycopg
import uvicorn
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles

HERE = os.path.dirname(os.path.abspath(__file__))
CHARTS = os.path.join(HERE, "node_modules", "lightweight-charts", "dist",
                      "lightweight-charts.standalone.production.js")
log = logging.getLogger("stockext_api")

# SQLSTATEs answered with a status of their own: the request is wrong (4xx),
# or asks more than the statement timeout allows (503).
CLIENT_ERRORS = {
    "P0002": 404,   # no_data_found: a symbol without a single bar
    "22023": 400,   # invalid_parameter_value
    "22004": 400,   # null_value_not_allowed
    "22007": 400,   # invalid_datetime_format: a width that is no interval
    "22008": 400,   # datetime_field_overflow
    "22015": 400,   # interval_field_overflow
    "22P02": 400,   # invalid_text_representation
    "54000": 400,   # program_limit_exceeded: more buckets than bars() serves
    "57014": 503,   # query_canceled: the statement timeout
}


class ApiError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def plain(value):
    """A database value as JSON: instants in ISO 8601, intervals in seconds,
    non-finite floats as null (JSON has no NaN)."""
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def create_app(dsn, max_rows=5000):
    app = FastAPI(
        title="stockext read-only API",
        version="0.3.0",
        description="Bars, indicators, feeds and alerts of a stockext database, read as a "
                    "role made with stockext.grant_reader(). Errors are JSON: {\"error\": message}.",
        docs_url=None, redoc_url=None)  # their pages load scripts from a CDN
    # Every session is read-only, whatever the role may do, in UTC, and a
    # statement cannot hold a connection for long.
    options = "-c default_transaction_read_only=on -c TimeZone=UTC -c statement_timeout=15s"

    def connect():
        return psycopg.connect(dsn, options=options, autocommit=True, connect_timeout=10)

    @contextlib.contextmanager
    def session():
        """A connection for one request; database errors that mean a bad
        request become ApiError."""
        try:
            with connect() as conn:
                yield conn
        except psycopg.Error as e:
            status = CLIENT_ERRORS.get(e.sqlstate)
            if status is None:
                raise
            raise ApiError(status, e.diag.message_primary or str(e))

    def query(conn, sql, params=None):
        cur = conn.execute(sql, params or {})
        names = [d.name for d in cur.description]
        return [{n: plain(v) for n, v in zip(names, row)} for row in cur.fetchall()]

    def check_limit(limit):
        if limit > max_rows:
            raise ApiError(400, f"limit {limit} is above the {max_rows} rows a request may return")

    def window(conn, width, start, stop, limit):
        """start and stop as given, or the last limit buckets up to now; a
        range of more buckets than limit is refused before bars() computes
        them."""
        check_limit(limit)
        row = query(conn, """
            SELECT w.start, w.stop,
                   extract(epoch FROM w.stop - w.start) / nullif(extract(epoch FROM %(width)s::interval), 0) AS buckets
            FROM (SELECT coalesce(%(start)s::timestamptz,
                                  coalesce(%(stop)s::timestamptz, now()) - %(width)s::interval * %(limit)s) AS start,
                         coalesce(%(stop)s::timestamptz, now()) AS stop) w""",
                    {"width": width, "start": start, "stop": stop, "limit": limit})[0]
        if row["buckets"] is not None and row["buckets"] > limit:
            raise ApiError(400, f"the range holds up to {math.ceil(row['buckets'])} buckets of "
                                f"{width}, more than the limit of {limit} rows: ask a shorter "
                                f"range, a wider width or a higher limit (at most {max_rows})")
        return row["start"], row["stop"]

    @app.exception_handler(ApiError)
    async def api_error(request, exc):
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def bad_parameter(request, exc):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if p != "query")
        return JSONResponse({"error": f"parameter {where}: {first['msg']}"}, status_code=400)

    @app.exception_handler(psycopg.OperationalError)
    async def database_down(request, exc):
        log.warning("database unreachable: %s", exc)
        return JSONResponse({"error": "the database is unreachable"}, status_code=503)

    width_q = Query("1 minute", max_length=40, description="bucket width, a PostgreSQL interval ('1 minute', '5 minutes', '1 hour')")
    symbol_q = Query(..., min_length=1, max_length=32, description="symbol, in any case")
    start_q = Query(None, description="first bucket (ISO 8601; default: limit buckets before stop)")
    stop_q = Query(None, description="end of the range, exclusive (ISO 8601; default: now)")

    def limit_q(default):
        return Query(default, ge=1, description=f"most rows to return (at most {max_rows})")

    @app.get("/api/symbols", summary="symbols with bars, and the feeds polling them")
    def symbols():
        # A loose index scan on the key of ticks: one probe per symbol.
        with session() as conn:
            rows = query(conn, """
            WITH RECURSIVE s AS (
                SELECT min(symbol) AS symbol FROM stockext.ticks
                UNION ALL
                SELECT (SELECT min(t.symbol) FROM stockext.ticks t WHERE t.symbol > s.symbol)
                FROM s WHERE s.symbol IS NOT NULL)
            SELECT s.symbol,
                   coalesce((SELECT array_agg(f.id ORDER BY f.id) FROM stockext.feed_status f
                             WHERE s.symbol = ANY (f.symbols)), '{}') AS feeds
            FROM s WHERE s.symbol IS NOT NULL ORDER BY s.symbol""")
        return {"symbols": rows}

    @app.get("/api/feeds", summary="the feeds with their status (stockext.feed_status)")
    def feeds():
        with session() as conn:
            return {"feeds": query(conn, "SELECT * FROM stockext.feed_status ORDER BY id")}

    @app.get("/api/bars", summary="OHLCV bars of any width (stockext.bars)")
    def bars(symbol: str = symbol_q, width: str = width_q,
             start: Optional[datetime.datetime] = start_q, stop: Optional[datetime.datetime] = stop_q,
             fill: str = Query("none", regex="^(none|null|previous|locf)$", description="none, null, previous or locf"),
             limit: int = limit_q(1000)):
        with session() as conn:
            start, stop = window(conn, width, start, stop, limit)
            rows = query(conn, """SELECT * FROM stockext.bars(%(symbol)s, %(width)s::interval, %(start)s, %(stop)s, %(fill)s)
                        LIMIT %(limit)s""",
                     {"symbol": symbol, "width": width, "start": start, "stop": stop, "fill": fill, "limit": limit})
        return {"symbol": symbol.upper(), "width": width, "start": start, "stop": stop, "bars": rows}

    @app.get("/api/indicators", summary="bars with sma, ema, rsi, macd, Bollinger bands and volume spikes (stockext.indicators)")
    def indicators(symbol: str = symbol_q, width: str = width_q,
                   start: Optional[datetime.datetime] = start_q, stop: Optional[datetime.datetime] = stop_q,
                   sma_n: int = 20, ema_n: int = 20, rsi_n: int = 14, fast_n: int = 12, slow_n: int = 26,
                   signal_n: int = 9, bb_n: int = 20, bb_k: float = 2.0, spike_n: int = 3,
                   spike_factor: float = 2.0, limit: int = limit_q(1000)):
        params = {"symbol": symbol, "width": width, "start": start, "stop": stop, "limit": limit,
                  "sma_n": sma_n, "ema_n": ema_n, "rsi_n": rsi_n, "fast_n": fast_n, "slow_n": slow_n,
                  "signal_n": signal_n, "bb_n": bb_n, "bb_k": bb_k, "spike_n": spike_n,
                  "spike_factor": spike_factor}
        for name in ("sma_n", "ema_n", "rsi_n", "fast_n", "slow_n", "signal_n", "bb_n", "spike_n"):
            # int4 parameters: a larger number is refused here, not by the driver.
            if not 1 <= params[name] <= 10000:
                raise ApiError(400, f"{name} must be between 1 and 10000, not {params[name]}")
        with session() as conn:
            params["start"], params["stop"] = window(conn, width, start, stop, limit)
            rows = query(conn, """SELECT * FROM stockext.indicators(%(symbol)s, %(width)s::interval, %(start)s, %(stop)s,
                            sma_n => %(sma_n)s, ema_n => %(ema_n)s, rsi_n => %(rsi_n)s, fast_n => %(fast_n)s,
                            slow_n => %(slow_n)s, signal_n => %(signal_n)s, bb_n => %(bb_n)s, bb_k => %(bb_k)s,
                            spike_n => %(spike_n)s, spike_factor => %(spike_factor)s)
                        LIMIT %(limit)s""", params)
        return {"symbol": symbol.upper(), "width": width, "start": params["start"], "stop": params["stop"],
                "rows": rows}

    @app.get("/api/alerts", summary="fired alerts and feed events, newest first (stockext.alert_list)")
    def alerts(symbol: Optional[str] = Query(None, min_length=1, max_length=32),
               start: Optional[datetime.datetime] = Query(None, description="bars from (ISO 8601)"),
               stop: Optional[datetime.datetime] = Query(None, description="bars before (ISO 8601)"),
               after: int = Query(0, ge=0, description="only alerts with a larger id"),
               before: Optional[int] = Query(None, ge=1, description="only alerts with a smaller id"),
               limit: int = limit_q(100)):
        check_limit(limit)
        if start is not None and stop is not None and start > stop:
            raise ApiError(400, "the range ends before it starts")
        with session() as conn:
            rows = query(conn, """SELECT * FROM stockext.alert_list a
                        WHERE (%(symbol)s::text IS NULL OR a.symbol = upper(%(symbol)s::text))
                          AND (%(start)s::timestamptz IS NULL OR a.bar_ts >= %(start)s::timestamptz)
                          AND (%(stop)s::timestamptz IS NULL OR a.bar_ts < %(stop)s::timestamptz)
                          AND a.id > %(after)s AND (%(before)s::bigint IS NULL OR a.id < %(before)s::bigint)
                        ORDER BY a.id DESC LIMIT %(limit)s""",
                     {"symbol": symbol, "start": start, "stop": stop, "after": after, "before": before,
                      "limit": limit})
        return {"alerts": rows}

    hub = AlertHub(dsn, options)

    @app.get("/api/alerts/stream", summary="alerts as they fire: Server-Sent Events of NOTIFY stockext_alerts",
             response_class=StreamingResponse)
    async def alert_stream(request: Request):
        queue = hub.subscribe(asyncio.get_running_loop())

        async def events():
            try:
                yield ": stockext alerts\n\n"
                while not await request.is_disconnected():
                    try:
                        payload = await asyncio.wait_for(queue.get(), timeout=15)
                    except asyncio.TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    try:
                        event_id = json.loads(payload).get("id")
                    except ValueError:
                        event_id = None
                    yield (f"id: {event_id}\n" if event_id is not None else "") + f"event: alert\ndata: {payload}\n\n"
            finally:
                hub.unsubscribe(queue)

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @app.get("/", include_in_schema=False)
    def dashboard():
        return FileResponse(os.path.join(HERE, "static", "index.html"))

    @app.get("/vendor/lightweight-charts.js", include_in_schema=False)
    def charts():
        if not os.path.exists(CHARTS):
            raise ApiError(404, "lightweight-charts is not installed: run npm ci in api/")
        return FileResponse(CHARTS, media_type="text/javascript")

    app.mount("/static", StaticFiles(directory=os.path.join(HERE, "static")), name="static")
    return app


class AlertHub:
    """One LISTEN stockext_alerts connection (a thread, started with the
    first subscriber) whose notifications go to every subscriber's queue."""

    def __init__(self, dsn, options):
        self.dsn = dsn
        self.options = options
        self.lock = threading.Lock()
        self.subscribers = {}
        self.thread = None

    def subscribe(self, loop):
        queue = asyncio.Queue(maxsize=1000)
        with self.lock:
            self.subscribers[queue] = loop
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self.listen, daemon=True, name="stockext-listen")
                self.thread.start()
        return queue

    def unsubscribe(self, queue):
        with self.lock:
            self.subscribers.pop(queue, None)

    def publish(self, payload):
        with self.lock:
            targets = list(self.subscribers.items())
        for queue, loop in targets:
            loop.call_soon_threadsafe(self.offer, queue, payload)

    @staticmethod
    def offer(queue, payload):
        if not queue.full():   # a client that stopped reading loses alerts, not memory
            queue.put_nowait(payload)

    def listen(self):
        delay = 1
        while True:
            with self.lock:
                if not self.subscribers:
                    self.thread = None
                    return
            try:
                with psycopg.connect(self.dsn, options=self.options, autocommit=True, connect_timeout=10) as conn:
                    conn.execute("LISTEN stockext_alerts")
                    delay = 1
                    pgconn = conn.pgconn
                    while True:
                        with self.lock:
                            if not self.subscribers:
                                self.thread = None
                                return
                        ready, _, _ = select.select([pgconn.socket], [], [], 1.0)
                        if ready:
                            pgconn.consume_input()
                            while (n := pgconn.notifies()) is not None:
                                self.publish(n.extra.decode())
            except psycopg.Error as e:
                log.warning("LISTEN stockext_alerts: %s; again in %d s", e, delay)
                threading.Event().wait(delay)
                delay = min(delay * 2, 30)


def main():
    ap = argparse.ArgumentParser(description="stockext's read-only REST API and dashboard")
    ap.add_argument("--dsn", default=os.environ.get("STOCKEXT_API_DSN", ""),
                    help="libpq connection string of a reader role (default: $STOCKEXT_API_DSN, then the PG* variables)")
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=8499)
    ap.add_argument("--max-rows", type=int, default=5000, help="most rows one request may return")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    uvicorn.run(create_app(args.dsn, args.max_rows), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
