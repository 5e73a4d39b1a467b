#!/usr/bin/env python3
"""Checks for a primary + hot standby pair, both serving the demo shop (scripts/replica.sh).
Prints one line per check and a closing "N passed, N failed"."""
import argparse
import json
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.request

ap = argparse.ArgumentParser()
ap.add_argument("--primary", required=True)
ap.add_argument("--standby", required=True)
ap.add_argument("--psql", required=True)
ap.add_argument("--logs", nargs="+", required=True)
args = ap.parse_args()


def http(base, method, path, body=None, headers=None):
    req = urllib.request.Request(base + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def psql(sql):
    out = subprocess.run(shlex.split(args.psql) + ["-c", sql], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return out.stdout.strip()


def eventually(check, seconds=15):
    deadline = time.time() + seconds
    while True:
        try:
            if check():
                return True
        except Exception:
            pass
        if time.time() > deadline:
            return False
        time.sleep(0.2)


results = []


def case(name, ok):
    results.append(ok)
    print("test %s ... %s" % (name, "ok" if ok else "FAILED"))
    return ok


for base in (args.primary, args.standby):
    eventually(lambda: http(base, "GET", "/")[0] == 200, 30)

q = "/products?select=id,name,categories(name)&order=id"
case("standby_answers_reads_like_the_primary", http(args.primary, "GET", q) == http(args.standby, "GET", q) and http(args.standby, "GET", q)[0] == 200)

psql("grant insert on api.categories to web_anon")
# the grant must reach the standby first, or the write fails on permissions instead
eventually(lambda: psql("select 1") == "1")
time.sleep(1)
status, body = http(args.standby, "POST", "/categories", b'{"id":9,"name":"toys"}', {"Content-Type": "application/json"})
err = json.loads(body or b"{}")
case("standby_refuses_writes_as_read_only", status == 405 and err.get("code") == "25006") or print("   got", status, err)
status, _ = http(args.primary, "POST", "/categories", b'{"id":9,"name":"toys"}', {"Content-Type": "application/json"})
case("primary_accepts_the_write", status == 201)
case("standby_sees_the_write_after_replay",
     eventually(lambda: json.loads(http(args.standby, "GET", "/categories?id=eq.9")[1]) == [{"id": 9, "name": "toys"}]))

psql("create table api.replicated (id int primary key); insert into api.replicated values (7); grant select on api.replicated to web_anon")
case("standby_schema_cache_follows_replayed_ddl",
     eventually(lambda: http(args.standby, "GET", "/replicated")[0] == 200 and json.loads(http(args.standby, "GET", "/replicated")[1]) == [{"id": 7}]))

logs = "".join(open(p, encoding="utf-8", errors="replace").read() for p in args.logs)
case("no_cluster_restart", "terminated by signal" not in logs and "was terminated" not in logs)

passed = sum(results)
print("test result: %s. %d passed; %d failed" % ("ok" if passed == len(results) else "FAILED", passed, len(results) - passed))
sys.exit(0 if passed == len(results) else 1)
