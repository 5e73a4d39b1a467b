#!/usr/bin/env python3
"""Request-level dispatch scenarios of our own (the concurrency issue), beside ../shared/bench:

  latency   one connection, closed loop, `pk`: wrk -c1 against pgbench -c1 -M prepared (TCP)
  conns     10,000 idle keep-alive connections open while `pk` runs; memory per idle connection
  overload  200 concurrent 1 s calls with postgrest.db_pool = 16: every call completes or gets
            504 PGRST003; the `pk` rate in the 2 s after the burst, and during it

    dispatch.py SCENARIO URL BENCH_DIR PSQL...   (PSQL: runs SQL from stdin as a superuser)

Only ratios within one run mean anything (../shared/bench/README.md).
"""
import asyncio
import json
import os
import re
import resource
import subprocess
import sys
import threading
import time
import urllib.parse

PK_LUA = "wrk/postgrest/pk.lua"


def psql(cmd, sql):
    return subprocess.run(cmd + ["-At"], input=sql, text=True, capture_output=True, check=True).stdout.strip()


def wrk(url, bench, seconds, conns=32, threads=2):
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency", "-s", os.path.join(bench, PK_LUA), url],
        text=True, capture_output=True, timeout=seconds + 30,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)", out, re.M))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    return rate, ms(lat.get("50", "0ms")), ms(lat.get("99", "0ms")), errors


def ms(v):
    for unit, f in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if v.endswith(unit):
            return float(v[: -len(unit)]) * f
    return float(v)


def pgbench(bench, port, seconds, clients):
    out = subprocess.run(
        [os.environ.get("PGBENCH", "pgbench"), "-n", "-M", "prepared", "-h", "127.0.0.1", "-p", port, "-U", "postgres",
         "-d", os.environ.get("BENCH_DB", "bench"), "-c", str(clients), "-j", "1", "-T", str(seconds), "-r",
         "-f", os.path.join(bench, "pgbench/pk.sql")],
        text=True, capture_output=True, timeout=seconds + 30,
    ).stdout
    rate = float(re.search(r"tps = ([\d.]+)", out).group(1))
    lat = float(re.search(r"latency average = ([\d.]+) ms", out).group(1))
    return rate, lat


def front_pid(cmd):
    return int(psql(cmd, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'postgrest_ext front'"))


def rss(pid, field="RssAnon"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def latency(url, bench, cmd):
    port = os.environ.get("BENCH_PORT", "5499")
    print("| target | req/s | latency (mean / p50 ms) | × pgbench -c 1 |")
    print("| --- | ---: | ---: | ---: |")
    pg_rate, pg_lat = pgbench(bench, port, 10, 1)
    rate, p50, p99, errors = wrk(url, bench, 10, conns=1, threads=1)
    print(f"| pgbench -c 1 (tcp) | {pg_rate:.0f} | {pg_lat:.3f} | 1.00 |")
    print(f"| project, 1 connection | {rate:.0f} | {p50:.3f} (p99 {p99:.2f}) | {rate / pg_rate:.2f} |")


async def open_idle(host, port, n):
    """n keep-alive connections, each after one answered request, left idle."""
    conns = []
    sem = asyncio.Semaphore(200)

    async def one():
        async with sem:
            r, w = await asyncio.open_connection(host, port)
            w.write(f"GET /items?id=eq.1 HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            await w.drain()
            head = await r.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))
            await r.readexactly(length)
            conns.append((r, w))

    results = await asyncio.gather(*(one() for _ in range(n)), return_exceptions=True)
    failed = [e for e in results if isinstance(e, Exception)]
    return conns, failed


async def still_open(conns):
    """How many of the idle connections still answer."""
    ok = 0
    for r, w in conns[:: max(1, len(conns) // 200)]:
        try:
            w.write(b"GET /items?id=eq.2 HTTP/1.1\r\nHost: x\r\n\r\n")
            await w.drain()
            head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 5)
            ok += head.startswith(b"HTTP/1.1 200")
            length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))
            await r.readexactly(length)
        except Exception:
            pass
    return ok, len(conns[:: max(1, len(conns) // 200)])


def conns(url, bench, cmd):
    n = int(os.environ.get("IDLE_CONNS", "10000"))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 1000)), hard))
    u = urllib.parse.urlsplit(url)
    base_rate, base_p50, base_p99, _ = wrk(url, bench, 10)
    pid = front_pid(cmd)
    before = rss(pid)
    loop = asyncio.new_event_loop()
    t0 = time.time()
    idle, failed = loop.run_until_complete(open_idle(u.hostname, u.port, n))
    opened = time.time() - t0
    time.sleep(1)
    after = rss(pid)
    rate, p50, p99, errors = wrk(url, bench, 10)
    alive, sampled = loop.run_until_complete(still_open(idle))
    per_conn = (after - before) / max(1, len(idle))
    print("| | req/s (pk, 32 conns) | p50 ms | p99 ms |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| without idle connections | {base_rate:.0f} | {base_p50:.2f} | {base_p99:.2f} |")
    print(f"| with {len(idle)} idle keep-alive connections | {rate:.0f} | {p50:.2f} | {p99:.2f} |")
    print(f"ratio {rate / base_rate:.2f}; {len(failed)} failed to open (opened in {opened:.1f} s); "
          f"front RssAnon +{(after - before) / 1e6:.1f} MB = {per_conn / 1024:.1f} kB per idle connection; "
          f"{alive}/{sampled} sampled idle connections still answer after the run; wrk non-2xx {errors}")
    for _, w in idle:
        w.close()


async def slow_burst(host, port, n, seconds):
    """n concurrent GET /rpc/nap?seconds=...: (status, code, elapsed) of each."""

    async def one():
        t = time.time()
        try:
            r, w = await asyncio.open_connection(host, port)
            w.write(f"GET /rpc/pgrst_bench_nap?seconds={seconds} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            await w.drain()
            data = await asyncio.wait_for(r.read(), 120)
            w.close()
            status = int(data.split(b" ", 2)[1])
            body = data.split(b"\r\n\r\n", 1)[1]
            code = json.loads(body).get("code") if status >= 400 else None
            return status, code, time.time() - t
        except Exception as e:
            return 0, repr(e), time.time() - t

    return await asyncio.gather(*(one() for _ in range(n)))


def overload(url, bench, cmd):
    u = urllib.parse.urlsplit(url)
    psql(cmd, """
CREATE OR REPLACE FUNCTION api.pgrst_bench_nap(seconds float8) RETURNS text LANGUAGE sql STABLE AS $$ SELECT pg_sleep(seconds)::text $$;
GRANT EXECUTE ON FUNCTION api.pgrst_bench_nap(float8) TO web_anon;
ALTER SYSTEM SET postgrest.db_pool = '16';
SELECT pg_reload_conf();
""")
    time.sleep(2)
    try:
        normal, _, _, _ = wrk(url, bench, 5)
        results = []
        t0 = time.time()
        burst = threading.Thread(target=lambda: results.extend(asyncio.run(slow_burst(u.hostname, u.port, 200, 1))))
        burst.start()
        time.sleep(0.2)
        # pk during the burst (the stretch goal: fast requests keep flowing)
        during, _, during_p99, _ = wrk(url, bench, 4)
        burst.join()
        took = time.time() - t0
        after, _, after_p99, _ = wrk(url, bench, 2)
        by = {}
        for status, code, _ in results:
            by[(status, code)] = by.get((status, code), 0) + 1
        ok = by.get((200, None), 0)
        timeouts = by.get((504, "PGRST003"), 0)
        other = {k: v for k, v in by.items() if k not in ((200, None), (504, "PGRST003"))}
        print("| | req/s (pk, 32 conns) | × normal |")
        print("| --- | ---: | ---: |")
        print(f"| normal | {normal:.0f} | 1.00 |")
        print(f"| during the burst (first 4 s) | {during:.0f} | {during / normal:.2f} |")
        print(f"| the 2 s after the burst | {after:.0f} | {after / normal:.2f} |")
        print(f"burst of 200 × 1 s calls, db_pool 16: {ok} completed, {timeouts} got 504 PGRST003, "
              f"other outcomes {other or 'none'}; the burst took {took:.1f} s")
    finally:
        psql(cmd, "ALTER SYSTEM RESET postgrest.db_pool; SELECT pg_reload_conf();")


def main():
    scenario, url, bench, cmd = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    {"latency": latency, "conns": conns, "overload": overload}[scenario](url, bench, cmd)


if __name__ == "__main__":
    main()
