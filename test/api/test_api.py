#!/usr/bin/python3
"""API checks for test/suites/70-api: every endpoint against the throwaway
cluster, bad parameters answered 4xx with a message (never 500), the row
limit, an alert fired during the test arriving over Server-Sent Events, and
the reader role unable to read keys or write.

    test_api.py BASE_URL ADMIN_DSN READER_DSN SYMBOL WIDTH
"""
import json
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import psycopg

BASE, ADMIN_DSN, READER_DSN, SYMBOL, WIDTH = sys.argv[1:6]


def ok(what):
    print(f"ok - api: {what}", flush=True)


def nok(what):
    print(f"not ok - api: {what}", flush=True)


def check(what, cond, detail=""):
    (ok if cond else nok)(what if cond or not detail else f"{what} ({detail})")
    return cond


def get(path, **params):
    url = BASE + path + ("?" + urllib.parse.urlencode(params) if params else "")
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def get_json(path, **params):
    status, _, body = get(path, **params)
    try:
        return status, json.loads(body)
    except ValueError:
        return status, {"raw": body.decode(errors="replace")}


def db(dsn, sql, params=None):
    with psycopg.connect(dsn, autocommit=True, options="-c TimeZone=UTC") as conn:
        return conn.execute(sql, params or ()).fetchall()


# The OpenAPI description, served by the service; no page pulling a CDN.
status, spec = get_json("/openapi.json")
paths = set(spec.get("paths", {}))
check("GET /openapi.json describes every endpoint", status == 200 and {
    "/api/symbols", "/api/feeds", "/api/bars", "/api/indicators", "/api/alerts", "/api/alerts/stream"} <= paths,
    f"{status} {sorted(paths)}")
check("no /docs page (FastAPI's loads swagger-ui from a CDN)", get("/docs")[0] == 404)
status, _, page = get("/")
html = page.decode()
check("GET / serves the dashboard, every script from the service itself",
      status == 200 and "/vendor/lightweight-charts.js" in html and "http://" not in html and "https://" not in html)
status, headers, js = get("/vendor/lightweight-charts.js")
check("GET /vendor/lightweight-charts.js serves the npm package", status == 200 and b"createChart" in js
      and "javascript" in headers.get("Content-Type", ""), f"{status}")

# Symbols and feeds.
status, body = get_json("/api/symbols")
syms = {s["symbol"]: s["feeds"] for s in body.get("symbols", [])}
check("GET /api/symbols lists the stored symbols with their feeds", status == 200 and SYMBOL in syms and syms[SYMBOL],
      f"{status} {body}")
status, body = get_json("/api/feeds")
feeds = body.get("feeds", [])
check("GET /api/feeds gives feed_status (status, lag, no key)", status == 200 and len(feeds) == 1
      and feeds[0]["provider"] == "simulated" and feeds[0]["lag"] is not None
      and "api_key" not in feeds[0] and feeds[0]["has_api_key"] is False, f"{status} {body}")

# Bars: the last 50 buckets equal bars() read directly, closed ones at least.
status, body = get_json("/api/bars", symbol=SYMBOL.lower(), width=WIDTH, limit=50)
bars = body.get("bars", [])
check("GET /api/bars gives the last `limit` buckets by default", status == 200 and 45 <= len(bars) <= 50,
      f"{status} {len(bars)}")
if bars:
    direct = db(ADMIN_DSN, "SELECT bucket, open, high, low, close, volume FROM stockext.bars(%s, %s::interval, %s, %s)",
                (SYMBOL, WIDTH, bars[0]["bucket"], bars[-1]["bucket"]))
    api_rows = [(b["bucket"], b["open"], b["high"], b["low"], b["close"], b["volume"]) for b in bars[:-1]]
    direct_rows = [(r[0].isoformat(), r[1], r[2], r[3], r[4], r[5]) for r in direct]
    check("its bars equal stockext.bars() read directly", api_rows == direct_rows,
          f"{api_rows[:2]} vs {direct_rows[:2]}")
first = db(ADMIN_DSN, "SELECT min(ts) FROM stockext.ticks WHERE symbol = %s", (SYMBOL,))[0][0]
status, body = get_json("/api/bars", symbol=SYMBOL, width="1 minute", fill="null",
                        start=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(first.timestamp() - 300)),
                        stop=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(first.timestamp() + 300)))
rows = body.get("bars", [])
check("fill=null returns the empty buckets before the first bar as NULL rows",
      status == 200 and len(rows) == 10 and rows[0]["close"] is None and rows[-1]["close"] is not None,
      f"{status} {body}")

# Indicators: plain numbers, equal to stockext.indicators().
status, body = get_json("/api/indicators", symbol=SYMBOL, width=WIDTH, limit=30, sma_n=5, ema_n=10)
rows = body.get("rows", [])
want = {"bucket", "open", "high", "low", "close", "volume", "vwap", "sma", "ema", "rsi", "macd", "macd_signal",
        "macd_histogram", "bb_middle", "bb_upper", "bb_lower", "volume_spike"}
check("GET /api/indicators gives every indicator as a plain value", status == 200 and len(rows) >= 25
      and set(rows[0]) == want and all(isinstance(r["rsi"], float) and isinstance(r["macd_signal"], float) for r in rows),
      f"{status} {rows[:1]}")
if rows:
    direct = db(ADMIN_DSN, """SELECT bucket, sma, ema, rsi, macd_histogram, bb_upper FROM stockext.indicators(
                                  %s, %s::interval, %s, %s, sma_n => 5, ema_n => 10)""",
                (SYMBOL, WIDTH, rows[0]["bucket"], rows[-1]["bucket"]))
    check("its values equal stockext.indicators() read directly",
          [(r["bucket"], r["sma"], r["ema"], r["rsi"], r["macd_histogram"], r["bb_upper"]) for r in rows[:-1]]
          == [(d[0].isoformat(), *d[1:]) for d in direct])

# Alerts (the list): what alert_list holds, newest first.
status, body = get_json("/api/alerts", symbol=SYMBOL, limit=500)
alerts = body.get("alerts", [])
n = db(ADMIN_DSN, "SELECT count(*) FROM stockext.alerts WHERE symbol = %s", (SYMBOL,))[0][0]
check("GET /api/alerts lists the alerts, newest first", status == 200 and len(alerts) == min(n, 500)
      and [a["id"] for a in alerts] == sorted((a["id"] for a in alerts), reverse=True)
      and all("last_error" not in a for a in alerts), f"{status} {len(alerts)} vs {n}")

# Bad parameters: 4xx with a message saying what is wrong, never a 500.
injection = "A';DROP TABLE stockext.ticks;--"
cases = [
    ("unknown symbol", "/api/bars", dict(symbol="NOPE"), 404, 'symbol "NOPE" has no bars'),
    ("injection attempt in the symbol", "/api/bars", dict(symbol=injection[:32]), 404, "has no bars"),
    ("injection attempt in the width", "/api/bars", dict(symbol=SYMBOL, width="1 minute'); DROP TABLE x; --"), 400, "interval"),
    ("symbol too long", "/api/bars", dict(symbol="X" * 33), 400, "symbol"),
    ("width that is no interval", "/api/bars", dict(symbol=SYMBOL, width="fortnight"), 400, "interval"),
    ("negative width", "/api/bars", dict(symbol=SYMBOL, width="-1 minute"), 400, "invalid bar width"),
    ("width of 2 months (calendar widths are 1 month, 3 months, 1 year)", "/api/indicators", dict(symbol=SYMBOL, width="2 mon", start="2025-01-01T00:00:00Z", stop="2025-06-01T00:00:00Z"), 400, "invalid bar width"),
    ("start after stop", "/api/bars", dict(symbol=SYMBOL, start="2025-03-04T00:00:00Z", stop="2025-03-03T00:00:00Z"), 400, "ends before it starts"),
    ("start that is no date", "/api/bars", dict(symbol=SYMBOL, start="yesterday-ish"), 400, "start"),
    ("huge range", "/api/bars", dict(symbol=SYMBOL, width="1 second", start="2000-01-01T00:00:00Z"), 400, "more than the limit"),
    ("limit above the maximum", "/api/bars", dict(symbol=SYMBOL, limit=10 ** 7), 400, "limit"),
    ("limit of 0", "/api/bars", dict(symbol=SYMBOL, limit=0), 400, "limit"),
    ("unknown fill", "/api/bars", dict(symbol=SYMBOL, fill="bogus"), 400, "fill"),
    ("sma_n 0", "/api/indicators", dict(symbol=SYMBOL, sma_n=0), 400, "sma_n must be between 1 and 10000"),
    ("sma_n beyond int4", "/api/indicators", dict(symbol=SYMBOL, sma_n=10 ** 12), 400, "sma_n"),
    ("fast above slow", "/api/indicators", dict(symbol=SYMBOL, fast_n=40), 400, "fast period"),
    ("NaN band width", "/api/indicators", dict(symbol=SYMBOL, bb_k="nan"), 400, "k of bbands"),
    ("unknown symbol (indicators)", "/api/indicators", dict(symbol="NOPE"), 404, "has no bars"),
    ("alerts range upside down", "/api/alerts", dict(start="2025-03-04T00:00:00Z", stop="2025-03-03T00:00:00Z"), 400, "ends before it starts"),
    ("alerts after -1", "/api/alerts", dict(after=-1), 400, "after"),
]
for name, path, params, want_status, want_text in cases:
    status, body = get_json(path, **params)
    check(f"{name}: {want_status} with the reason", status == want_status and want_text in body.get("error", ""),
          f"{status} {body}")
check("ticks still there after the injection attempts",
      db(ADMIN_DSN, "SELECT to_regclass('stockext.ticks') IS NOT NULL")[0][0] is True)


def post_status(path):
    try:
        with urllib.request.urlopen(urllib.request.Request(BASE + path, data=b"{}", method="POST"), timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


check("POST is refused (405): the API only reads", post_status("/api/bars") == 405)

# The row limit.
# In the backfilled history, so that the live feed's lag cannot leave a gap.
stop = db(ADMIN_DSN, "SELECT to_char(now() - interval '5 minutes', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")[0][0]
status, body = get_json("/api/bars", symbol=SYMBOL, width=WIDTH, limit=10, stop=stop)
check("limit=10 returns 10 bars", status == 200 and len(body.get("bars", [])) == 10, f"{status}")
# The rule fires on the live feed's closed bars: wait for the first.
deadline = time.time() + 60
while time.time() < deadline and not db(ADMIN_DSN, "SELECT count(*) > 0 FROM stockext.alerts")[0][0]:
    time.sleep(0.5)
status, body = get_json("/api/alerts", limit=1)
check("limit=1 returns 1 alert", status == 200 and len(body.get("alerts", [])) == 1, f"{status} {body}")

# Server-Sent Events: an alert fired while the stream is open arrives, the
# same as the list's row.
u = urllib.parse.urlparse(BASE)
sock = socket.create_connection((u.hostname, u.port), timeout=60)
sock.sendall(f"GET /api/alerts/stream HTTP/1.1\r\nHost: {u.netloc}\r\nAccept: text/event-stream\r\n\r\n".encode())
buf = b""
event = None
deadline = time.time() + 60
start_id = db(ADMIN_DSN, "SELECT coalesce(max(id), 0) FROM stockext.alerts")[0][0]
while time.time() < deadline and event is None:
    sock.settimeout(max(1, deadline - time.time()))
    try:
        chunk = sock.recv(65536)
    except socket.timeout:
        break
    if not chunk:
        break
    buf += chunk
    for block in buf.split(b"\n\n")[:-1]:
        lines = dict(l.split(": ", 1) for l in block.decode().splitlines() if ": " in l and not l.startswith(":"))
        if lines.get("event") == "alert":
            p = json.loads(lines["data"])
            if p.get("kind") == "alert" and p["id"] > start_id:
                event = p
                break
    buf = buf.split(b"\n\n")[-1] if event is None else buf
who = db(ADMIN_DSN, "SELECT array_agg(DISTINCT usename::text) FROM pg_stat_activity WHERE query = 'LISTEN stockext_alerts'")[0][0]
sock.close()
check("the service's database sessions (its LISTEN) are the reader role's", who == [READER_DSN.split("user=")[1].split()[0]],
      f"{who}")
if check("GET /api/alerts/stream delivers an alert fired during the test (within 60 s)", event is not None):
    status, body = get_json("/api/alerts", after=event["id"] - 1, before=event["id"] + 1)
    rows = body.get("alerts", [])
    check("the streamed alert is the stored one (after= and before= select it)", len(rows) == 1
          and rows[0]["id"] == event["id"] and rows[0]["message"] == event["message"]
          and rows[0]["symbol"] == event["symbol"] and rows[0]["condition"] == "pct_change", f"{rows} vs {event}")

# The reader role itself: no keys, no webhooks, no write, read-only sessions.
with psycopg.connect(READER_DSN, autocommit=True) as conn:
    for name, sql in [("read feed_keys", "SELECT * FROM stockext.feed_keys"),
                      ("read webhooks", "SELECT * FROM stockext.webhooks"),
                      ("write bars", "INSERT INTO stockext.ticks (symbol, ts, resolution, open, high, low, close, volume, source) "
                                     "VALUES ('X', '2025-01-01', '1 minute', 1, 1, 1, 1, 1, 'x')"),
                      ("add a feed", "SELECT stockext.add_feed('simulated', '{X}', '1 minute', '1 minute')"),
                      ("delete alerts", "DELETE FROM stockext.alert_list")]:
        try:
            conn.execute(sql)
            nok(f"the reader role cannot {name}")
        except psycopg.Error as e:
            # 42501 insufficient_privilege; a view refuses a DELETE (0A000, 55000)
            check(f"the reader role cannot {name} ({e.diag.message_primary})",
                  e.sqlstate in ("42501", "0A000", "55000"), e.sqlstate)
