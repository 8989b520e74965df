#!/usr/bin/env python3
"""Loopback mock of TwelveData, Alpha Vantage and Yahoo Finance for the tests.

    mock_provider.py [--port N] [--port-file PATH] [--hang SECONDS]

Listens on 127.0.0.1 only (port 0 = a free one), prints the port on its
first stdout line (and writes it to --port-file), and serves the fixtures
of test/fixtures at each provider's path, so a URL built by provider_url()
with base http://127.0.0.1:PORT works for all three:

    GET /time_series?symbol=A[,B...]&interval=1min&apikey=K   TwelveData
    GET /query?function=TIME_SERIES_INTRADAY|DAILY&symbol=..  Alpha Vantage
    GET /v8/finance/chart/SYM?interval=1m                     Yahoo
and the corporate actions:
    GET /splits, /dividends?symbol=SYM&range=full            TwelveData
    GET /query?function=SPLITS|DIVIDENDS&symbol=SYM           Alpha Vantage
    GET /v8/finance/chart/SYM?interval=1mo&range=max          Yahoo
(twelvedata/NVDA_splits.json, alphavantage/AAPL_DIVIDENDS.json, yahoo/
NVDA_1mo.json, ...; a symbol without a file has none).

A symbol with a fixture file (twelvedata/AAPL_1min.json, alphavantage/
IBM_5min.json, yahoo/AAPL_1m.json, ...) gets that file; any other symbol gets
5 generated bars (test/fixtures/generate.py).  Yahoo answers 429 in plain
text to a User-Agent without "Mozilla", as the real one does.

Faults, chosen per request by a symbol or an API key named FAULT_<MODE>
(symbol=FAULT_500, apikey=FAULT_RATELIMIT), or for the next requests by the
control endpoint:

    POST /_mock/mode   {"mode": "500", "provider": "yahoo", "count": 2}
                       (provider and count optional: all providers, until reset)
    POST /_mock/reset  forget modes, counters and stats
    GET  /_mock/stats  {"total", "by_path", "by_key", "by_provider", "gzip",
                        "user_agents", "requests": [last 1000]}; each request
                       records "basis": its adjust / adjusted / events
                       parameters (the price basis it asked for), its
                       "path" and "function" (Alpha Vantage's, else the
                       interval)

Modes: ok, 500, 429 (TwelveData JSON body, plain text otherwise), hang (no
reply for --hang seconds), truncated (Content-Length larger than what is
sent), malformed (invalid JSON), ratelimit (TwelveData code 429 under 200;
Alpha Vantage "Note"), ratelimit_daily / ratelimit_burst (Alpha Vantage
"Information"), premium, badkey (TwelveData 401, Alpha Vantage "Error
Message"), empty, notfound, maintenance (Yahoo page), big
(50,000 bars), overlap (consecutive replies share 5 bars), dst (the DST
fixtures), skew (the 5 generated bars, Yahoo's prices 10% above the
others', as from a provider on another price basis).

API keys are never logged or shown: stats count them by fingerprint, the
first 12 hex digits of their SHA-256 (SQL: left(encode(sha256(convert_to(
key, 'UTF8')), 'hex'), 12)).  Bodies are gzip-compressed when the client
accepts it (counted in "gzip").
"""
import argparse
import gzip
import hashlib
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
sys.path.insert(0, FIXTURES)
import generate  # noqa: E402

MODES = {"ok", "500", "429", "hang", "truncated", "malformed", "ratelimit", "ratelimit_daily",
         "ratelimit_burst", "premium", "empty", "notfound", "maintenance", "big", "overlap", "dst",
         "badkey", "skew"}
# Mode skew: Yahoo's prices this much above the others' (another price basis).
SKEW = 1.1
BIG_BARS = 50000

lock = threading.Lock()
state = {}


def reset():
    with lock:
        state.clear()
        state.update(mode=None, mode_provider=None, mode_count=None, total=0, by_path={}, by_key={},
                     by_provider={}, gzip=0, user_agents={}, requests=[], overlap={})


reset()
cache = {}
gz_cache = {}
cache_lock = threading.Lock()


def compressed(body):
    """gzip of body; the cached big replies are compressed once, not per request."""
    hit = gz_cache.get(id(body))
    if hit is not None and hit[0] is body:
        return hit[1]
    out = gzip.compress(body, 1)
    if len(body) > 1 << 20:
        with cache_lock:
            gz_cache[id(body)] = (body, out)
    return out


def fixture(name):
    path = os.path.join(FIXTURES, name)
    if not os.path.isfile(path):
        return None
    with open(path, "rb") as f:
        return f.read()


def fingerprint(key):
    return hashlib.sha256(key.encode()).hexdigest()[:12] if key else "none"


def symbol_fault(symbol):
    return symbol[6:].lower() if symbol.upper().startswith("FAULT_") and symbol[6:].lower() in MODES else None


def take_mode(provider, symbols, key):
    """The fault for this request: a FAULT_ symbol or key, else the control mode."""
    for s in symbols + [key or ""]:
        if symbol_fault(s):
            return symbol_fault(s)
    with lock:
        mode = state["mode"]
        if mode is None or state["mode_provider"] not in (None, provider):
            return "ok"
        if state["mode_count"] is not None:
            state["mode_count"] -= 1
            if state["mode_count"] <= 0:
                state["mode"] = None
        return mode


def big(provider, symbol):
    """The 50,000-bar reply, generated once (seconds of CPU) and cached."""
    with cache_lock:
        key = (provider, symbol)
        if key not in cache:
            cache[key] = generate.big(provider, BIG_BARS, symbol).encode()
        return cache[key]


def generated(provider, mode, symbol):
    if mode == "big":
        return big(provider, symbol)
    if mode == "overlap":
        with lock:
            k = state["overlap"].get((provider, symbol), 0)
            state["overlap"][(provider, symbol)] = k + 1
        return generate.overlap(provider, k, symbol).encode()
    return generate.big(provider, 5, symbol, SKEW if mode == "skew" and provider == "yahoo" else 1).encode()


# Per provider: fixture file names, ok series and fault bodies.
TD_ERRORS = {"badkey": (401, "twelvedata/error_401.json"), "500": (500, "twelvedata/error_500.json"), "429": (429, "twelvedata/error_429.json"),
             "ratelimit": (200, "twelvedata/error_429.json"), "premium": (200, "twelvedata/error_403.json"),
             "empty": (200, "twelvedata/empty_nodata.json")}
AV_ERRORS = {"badkey": "alphavantage/error_apikey.json", "ratelimit": "alphavantage/note.json", "ratelimit_daily": "alphavantage/information_daily.json",
             "ratelimit_burst": "alphavantage/information_burst.json",
             "premium": "alphavantage/information_premium.json", "notfound": "alphavantage/error_message.json",
             "empty": "alphavantage/empty_5min.json"}


def twelvedata_one(symbol, interval, mode):
    """One symbol's reply (bytes, the fixture as it is) and its status."""
    if mode == "empty":
        return 200, fixture("twelvedata/empty_nodata.json")
    if mode == "notfound":
        return 400, json.dumps({"code": 404, "message": "**symbol** not found: %s. Please specify it "
                                "correctly according to API Documentation." % symbol,
                                "status": "error"}).encode()
    if mode == "dst":
        return 200, fixture("twelvedata/utc_dst_1min.json")
    if mode in ("big", "overlap"):
        return 200, generated("twelvedata", mode, symbol)
    body = fixture("twelvedata/%s_%s.json" % (symbol.replace("/", "_"), interval))
    return 200, body if body else generated("twelvedata", mode, symbol)


def twelvedata_actions(path, q, mode):
    """/splits or /dividends: the fixture, or none; faults as for /time_series."""
    symbol = q.get("symbol", [""])[0]
    kind = path.strip("/")
    if mode in TD_ERRORS:
        status, name = TD_ERRORS[mode]
        return status, "application/json", fixture(name)
    body = fixture("twelvedata/%s_%s.json" % (symbol, kind))
    return 200, "application/json", body if body else json.dumps(
        {"meta": {"symbol": symbol, "currency": "USD", "exchange_timezone": "America/New_York"},
         kind: []}).encode()


def twelvedata(q, mode):
    symbols = q.get("symbol", [""])[0].split(",")
    interval = q.get("interval", ["1min"])[0]
    if mode in TD_ERRORS and (len(symbols) == 1 or mode != "empty"):
        status, name = TD_ERRORS[mode]
        return status, "application/json", fixture(name)
    if len(symbols) == 1:
        status, body = twelvedata_one(symbols[0], interval, mode)
        return status, "application/json", body
    # In a batch, FAULT_NOTFOUND / _EMPTY / _BIG ... fail only their own entry.
    faulted = any(symbol_fault(s) for s in symbols)
    batch = {}
    for s in symbols:
        smode = symbol_fault(s) or ("ok" if faulted else mode)
        batch[s] = json.loads(twelvedata_one(s, interval, smode)[1])
    return 200, "application/json", json.dumps(batch).encode()


def alphavantage(q, mode):
    symbol = q.get("symbol", [""])[0]
    function = q.get("function", [""])[0]
    interval = "daily" if function == "TIME_SERIES_DAILY" else q.get("interval", ["5min"])[0]
    if mode in AV_ERRORS:
        return 200, "application/json", fixture(AV_ERRORS[mode])
    if mode == "500":
        return 500, "text/plain", b"Internal Server Error"
    if mode == "429":
        return 429, "text/plain", b"Too Many Requests"
    if function in ("SPLITS", "DIVIDENDS"):
        body = fixture("alphavantage/%s_%s.json" % (symbol, function))
        return 200, "application/json", body if body else json.dumps({"symbol": symbol, "data": []}).encode()
    if function not in ("TIME_SERIES_INTRADAY", "TIME_SERIES_DAILY"):
        return 200, "application/json", fixture("alphavantage/error_message.json")
    if mode == "dst":
        return 200, "application/json", fixture("alphavantage/dst_5min.json")
    if mode in ("big", "overlap"):
        return 200, "application/json", generated("alphavantage", mode, symbol)
    body = fixture("alphavantage/%s_%s.json" % (symbol, interval))
    return 200, "application/json", body if body else generated("alphavantage", mode, symbol)


def yahoo(symbol, q, mode, agent):
    interval = q.get("interval", ["1m"])[0]
    if mode == "429" or "Mozilla" not in agent:
        return 429, "text/plain", fixture("yahoo/429.txt")
    if mode == "500":
        return 500, "text/plain", b"Internal Server Error"
    if mode == "maintenance":
        return 503, "text/html", fixture("yahoo/maintenance.html")
    if mode == "notfound":
        return 404, "application/json", fixture("yahoo/notfound.json")
    if mode == "empty":
        return 200, "application/json", fixture("yahoo/empty.json")
    if mode == "dst":
        return 200, "application/json", fixture("yahoo/BTC-USD_1h_fallback.json")
    if mode in ("big", "overlap"):
        return 200, "application/json", generated("yahoo", mode, symbol)
    body = fixture("yahoo/%s_%s.json" % (symbol, interval))
    return 200, "application/json", yahoo_period(body, q) if body else generated("yahoo", mode, symbol)


def yahoo_period(body, q):
    """A request with period1 and period2 gets the bars and the events in
    [period1, period2) alone, as Yahoo answers: the prices stay adjusted for
    the splits after it."""
    if "period1" not in q or "period2" not in q:
        return body
    lo, hi = int(q["period1"][0]), int(q["period2"][0])
    doc = json.loads(body)
    for r in doc["chart"]["result"] or []:
        keep = [i for i, t in enumerate(r.get("timestamp", [])) if lo <= t < hi]
        r["timestamp"] = [r["timestamp"][i] for i in keep]
        for series in (s for block in r["indicators"].values() for s in block):
            for k in series:
                series[k] = [series[k][i] for i in keep]
        for kind, events in r.get("events", {}).items():
            r["events"][kind] = {k: e for k, e in events.items() if lo <= int(k) < hi}
    return json.dumps(doc).encode()


def basis(q):
    """The parameters that choose adjusted or as-traded prices, as asked."""
    return {k: q[k][0] for k in ("adjust", "adjusted", "events") if k in q}


class Handler(BaseHTTPRequestHandler):
    server_version = "stockext-mock/1"

    def log_message(self, fmt, *args):
        pass  # requests carry API keys: log nothing

    def reply(self, status, ctype, body, truncate=False):
        if "gzip" in self.headers.get("Accept-Encoding", "") and not truncate:
            body = compressed(body)
            with lock:
                state["gzip"] += 1
            encoding = "gzip"
        else:
            encoding = None
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[:len(body) // 2] if truncate else body)
        self.wfile.flush()
        self.close_connection = True

    def do_POST(self):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(min(length, 65536)) if length else b"{}"
        if url.path == "/_mock/reset":
            reset()
            return self.reply(200, "application/json", b'{"reset":true}')
        if url.path == "/_mock/mode":
            try:
                req = json.loads(raw or b"{}")
                mode = str(req.get("mode", "ok")).lower()
                if mode not in MODES:
                    raise ValueError(mode)
            except ValueError:
                return self.reply(400, "application/json", b'{"error":"unknown mode"}')
            with lock:
                state["mode"] = None if mode == "ok" else mode
                state["mode_provider"] = req.get("provider")
                state["mode_count"] = req.get("count")
            return self.reply(200, "application/json", json.dumps({"mode": mode}).encode())
        self.reply(404, "application/json", b'{"error":"no such control"}')

    def do_GET(self):
        url = urlsplit(self.path)
        q = parse_qs(url.query)
        if url.path == "/_mock/stats":
            with lock:
                out = {k: v for k, v in state.items() if k not in ("overlap",)}
                body = json.dumps(out).encode()
            return self.reply(200, "application/json", body)
        agent = self.headers.get("User-Agent", "")
        if url.path in ("/time_series", "/splits", "/dividends"):
            provider, symbols = "twelvedata", q.get("symbol", [""])[0].split(",")
        elif url.path == "/query":
            provider, symbols = "alphavantage", q.get("symbol", [""])
        elif url.path.startswith("/v8/finance/chart/"):
            provider, symbols = "yahoo", [url.path[len("/v8/finance/chart/"):]]
        else:
            return self.reply(404, "text/plain", b"Not Found")
        mode = take_mode(provider, symbols, q.get("apikey", [None])[0])
        key = fingerprint(q.get("apikey", [None])[0])
        with lock:
            state["total"] += 1
            state["by_path"][url.path] = state["by_path"].get(url.path, 0) + 1
            state["by_key"][key] = state["by_key"].get(key, 0) + 1
            state["by_provider"][provider] = state["by_provider"].get(provider, 0) + 1
            state["user_agents"][agent] = state["user_agents"].get(agent, 0) + 1
            state["requests"].append({"t": time.time(), "provider": provider, "symbols": symbols,
                                      "key": key, "mode": mode, "basis": basis(q), "path": url.path,
                                      "function": q.get("function", q.get("interval", [None]))[0]})
            del state["requests"][:-1000]
        if mode == "hang":
            time.sleep(self.server.hang)
            mode = "ok"
        if mode == "malformed":
            return self.reply(200, "application/json", b'{"meta": {"symbol": "AAPL"}, "values": [{"open": "1",, ]}')
        if provider == "twelvedata" and url.path != "/time_series":
            status, ctype, body = twelvedata_actions(url.path, q, "ok" if mode == "truncated" else mode)
        elif provider == "twelvedata":
            status, ctype, body = twelvedata(q, "ok" if mode == "truncated" else mode)
        elif provider == "alphavantage":
            status, ctype, body = alphavantage(q, "ok" if mode == "truncated" else mode)
        else:
            status, ctype, body = yahoo(symbols[0], q, "ok" if mode == "truncated" else mode, agent)
        self.reply(status, ctype, body, truncate=(mode == "truncated"))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # A worker opens one connection per due feed at once; past the default
    # backlog of 5 the kernel drops SYNs and connects wait for a resend.
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A client that gave up (timeout, hang mode) is expected, not news.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description="stockext mock market-data provider (loopback only)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--hang", type=float, default=60.0, help="seconds a 'hang' request waits")
    args = ap.parse_args()
    server = Server(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.hang = args.hang
    port = server.server_address[1]
    # Warm the big replies in the background: a test's first one is quick.
    threading.Thread(target=lambda: [big(p, s) for s in ("FAULT_BIG",) for p in generate.SHAPES],
                     daemon=True).start()
    print(port, flush=True)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    server.server_close()


if __name__ == "__main__":
    main()
