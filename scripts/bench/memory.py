#!/usr/bin/env python3
"""The `memory` bench scenario: PostgREST's test/memory/memory-tests.sh cases, measured as the
peak growth of anonymous RSS (RssAnon, sampled from /proc every millisecond) of the front and
of the executors while one request runs. Each case starts on a fresh server (the front is
terminated and comes back with new executors), so memory kept by an earlier case hides nothing.

    memory.py URL PSQL...      (PSQL: a command that runs SQL from stdin as a superuser)
"""
import base64
import http.client
import json
import subprocess
import sys
import threading
import time
import urllib.parse

MB = 1000 * 1000


def psql(cmd, sql):
    return subprocess.run(cmd + ["-At"], input=sql, text=True, capture_output=True, check=True).stdout.strip()


def processes(cmd):
    """pid -> 'front' | 'executor' for this server's processes."""
    rows = psql(cmd, "SELECT pid, backend_type FROM pg_stat_activity WHERE backend_type LIKE 'postgrest_ext %'")
    found = {}
    for line in rows.splitlines():
        pid, kind = line.split("|")
        found[int(pid)] = "front" if kind.endswith("front") else "executor"
    return found


def rss_anon(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class Sampler(threading.Thread):
    def __init__(self, pids):
        super().__init__(daemon=True)
        self.base = {p: rss_anon(p) or 0 for p in pids}
        self.peak = dict(self.base)
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            for p in self.base:
                v = rss_anon(p)
                if v is not None and v > self.peak[p]:
                    self.peak[p] = v
            time.sleep(0.001)

    def growth(self):
        return {p: self.peak[p] - self.base[p] for p in self.base}


def request(url, method, path, body=None, headers=None):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=300)
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, data


def fresh_server(url, cmd):
    """Terminate the front; wait for its successor and a connected executor."""
    old = set(processes(cmd))
    psql(cmd, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'postgrest_ext front'")
    deadline = time.time() + 60
    while time.time() < deadline:
        procs = processes(cmd)
        fronts = [p for p, k in procs.items() if k == "front" and p not in old]
        execs = [p for p, k in procs.items() if k == "executor" and p not in old]
        if fronts and execs:
            try:
                if request(url, "GET", "/")[0] == 200:
                    return procs
            except OSError:
                pass
        time.sleep(0.2)
    sys.exit("memory: the server did not come back")


def measure(url, cmd, method, path, body, setup=None):
    if setup:
        psql(cmd, setup)
    procs = fresh_server(url, cmd)
    sampler = Sampler(list(procs))
    sampler.start()
    status, data = request(url, method, path, body, {"Content-Type": "application/json", "Prefer": "return=minimal"})
    time.sleep(0.05)
    sampler.stop.set()
    sampler.join()
    g = sampler.growth()
    front = sum(v for p, v in g.items() if procs[p] == "front")
    executor = max([v for p, v in g.items() if procs[p] == "executor"] or [0])
    return status, front, executor, data


def blob_body(size):
    # PostgREST's jsonKeyTest: base64 of zeros, 3/4 of the size so the text is `size` long
    return b'{"blob" : "' + base64.b64encode(bytes(3 * size // 4)) + b'"}'


def array_body(n):
    return ("[" + ",".join(f'{{"id": {i}, "body": "xxxxxxx"}}' for i in range(1, n + 1)) + "]").encode()


SETUP = """
CREATE TABLE IF NOT EXISTS api.leak(id serial primary key, blob bytea);
CREATE OR REPLACE FUNCTION api.leak(blob bytea) RETURNS void LANGUAGE plpgsql AS $$ begin end; $$;
CREATE TABLE IF NOT EXISTS api.perf_articles(id integer not null, body text not null);
GRANT SELECT, INSERT, UPDATE, DELETE ON api.leak, api.perf_articles TO web_anon;
GRANT USAGE ON SEQUENCE api.leak_id_seq TO web_anon;
GRANT EXECUTE ON FUNCTION api.leak(bytea) TO web_anon;
TRUNCATE api.leak, api.perf_articles;
INSERT INTO api.leak(id, blob) VALUES (1, '\\x00');
"""


def main():
    url, cmd = sys.argv[1], sys.argv[2:]
    psql(cmd, SETUP)
    cases = []
    for size, bound in [("1M", 22), ("10M", 32), ("50M", 78)]:
        n = int(size[:-1]) * MB
        body = blob_body(n)
        for method, path, b in [
            ("POST", "/rpc/leak?columns=blob", bound),
            ("POST", "/leak?columns=blob", bound),
            ("PATCH", "/leak?id=eq.1&columns=blob", 50 if size == "10M" else bound),
        ]:
            cases.append((f"{method} {path} ({size} field)", method, path, body, b))
        cases.append((f"POST /leak ({size} field, no ?columns)", "POST", "/leak", body, None))
    for n, bound in [(1000, 21), (10000, 22), (100000, 25)]:
        cases.append((f"POST /perf_articles?columns=id,body ({n} rows)", "POST", "/perf_articles?columns=id,body", array_body(n), bound))
    cases.append(("POST /perf_articles (100000 rows, no ?columns)", "POST", "/perf_articles", array_body(100000), None))

    print("| request | status | front MB | executor MB | total MB | PostgREST's bound MB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, method, path, body, bound in cases:
        status, front, executor, data = measure(url, cmd, method, path, body)
        row = [name, str(status), f"{front / MB:.1f}", f"{executor / MB:.1f}", f"{(front + executor) / MB:.1f}", str(bound or "")]
        print("| " + " | ".join(row) + " |", flush=True)
        if status >= 300:
            print(f"  ({data[:200]!r})", flush=True)
    # reading the 50 MB row back
    psql(cmd, "UPDATE api.leak SET blob = convert_to(repeat('x', 50000000), 'UTF8') WHERE id = 1")
    status, front, executor, data = measure(url, cmd, "GET", "/leak?id=eq.1", None)
    print(f"| GET /leak?id=eq.1 (50M row back, {len(data) // MB} MB JSON) | {status} | {front / MB:.1f} | {executor / MB:.1f} | {(front + executor) / MB:.1f} | |")


if __name__ == "__main__":
    main()
