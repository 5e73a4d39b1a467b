#!/usr/bin/env python3
"""The `schema` bench scenario (the schema-cache issue), against the running bench server:
PostgREST's big test schema (apflora: 45 tables, 281 nested views) and a generated one of
10,000 tables (scripts/bench/schema/gen_tables.sql) are loaded into the bench database once,
then served in turn (postgrest.db_schemas). For each:

  full build what the request after a configuration reload costs over a warm one (a full
             read: the catalog read in executors + decode + derivation in the front), median of 5
             after three (the first of them, on fresh executors, is reported apart)
  function   the same after CREATE OR REPLACE FUNCTION in the exposed schema (median of 5): the
             functions are read again, and the relationships derived again
  small      the same after COMMENT ON TABLE (median of 5) and ADD COLUMN (median of 3) on one
             table: the relation alone is read again, the relationships derived again
  no build   a temporary table, a role, ANALYZE of a table elsewhere, 5 times each: builds
             counted (postgrest_ext.schema_cache_builds()), and the next request's extra cost
             (median), beside that after a psql that changes nothing
  memory     anonymous RSS of the front (which holds the cache) and of the executors, 2 s
             after the last build (the front trims its memory once builds stop for a second);
             the executors are started afresh for each schema (`fresh_executors`)
  churn      a view created and dropped every 100 ms for 10 s while 8 clients GET a table:
             errors and the p99

    schema.py URL SCHEMA_DIR PSQL...    (PSQL: runs SQL from stdin as a superuser)
"""
import http.client
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from memory import rss_anon  # noqa: E402

BUILDS = "SELECT postgrest_ext.schema_cache_builds()"


def psql(cmd, sql, db=None):
    c = list(cmd)
    if db:
        c += ["-d", db]
    return subprocess.run(c + ["-At"], input=sql, text=True, capture_output=True, check=True).stdout.strip()


class Client:
    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)

    def get(self, path):
        t = time.perf_counter()
        self.conn.request("GET", path)
        r = self.conn.getresponse()
        r.read()
        return r.status, (time.perf_counter() - t) * 1000



def load(cmd, schema_dir):
    """apflora and wide in the bench database, once."""
    have = psql(cmd, "SELECT string_agg(nspname, ',') FROM pg_namespace WHERE nspname IN ('apflora', 'wide')")
    if "apflora" not in have:
        src = subprocess.run(
            ["git", "--git-dir", os.environ.get("POSTGREST_GIT_DIR", "/work/.mirror/PostgREST+postgrest/repo"), "show",
             "HEAD:test/io/fixtures/big_schema.sql"], text=True, capture_output=True, check=True).stdout
        src = "\n".join(l for l in src.splitlines() if not l.startswith("\\ir ") and "ROLE IF EXISTS postgrest_test_anonymous" not in l
                        and "CREATE ROLE postgrest_test_anonymous" not in l)
        psql(cmd, "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'postgrest_test_anonymous') "
                  "THEN CREATE ROLE postgrest_test_anonymous; END IF; END $$;")
        subprocess.run(cmd + ["-v", "PGUSER=authenticator", "-v", "ON_ERROR_STOP=0"], input=src, text=True, capture_output=True)
        psql(cmd, "GRANT postgrest_test_anonymous TO authenticator; GRANT USAGE ON SCHEMA apflora TO web_anon; "
                  "GRANT SELECT ON ALL TABLES IN SCHEMA apflora TO web_anon;")
    if "wide" not in have:
        subprocess.run(cmd + ["-q", "-f", os.path.join(schema_dir, "gen_tables.sql")], text=True, capture_output=True, check=True)


def serve(cmd, url, schema, table):
    """Serve `schema`; wait until `table` answers (not GET /: the OpenAPI document of a big
    schema costs far more than its cache, and would be measured instead)."""
    psql(cmd, f"ALTER SYSTEM SET postgrest.db_schemas = '{schema}'; SELECT pg_reload_conf();")
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if Client(url).get(f"/{table}?limit=1")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    sys.exit(f"schema: the server did not serve {schema}")


def warm(client, path, n=20):
    return statistics.median(client.get(path)[1] for _ in range(n))


def fresh_executors(cmd, url, table):
    """Stop the executors; the front starts its warm ones again. An executor keeps
    PostgreSQL's caches of what it read (the relcache of the views whose updatability it
    asked), and a server serves one set of schemas: without this, each schema's memory
    figure would hold the other's."""
    warm_ones = int(psql(cmd, "SELECT current_setting('postgrest.workers')"))
    psql(cmd, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'postgrest_ext worker'")
    deadline = time.time() + 30
    while time.time() < deadline:
        n = int(psql(cmd, "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'postgrest_ext worker'"))
        if n >= warm_ones and Client(url).get(f"/{table}?limit=1")[0] == 200:
            return
        time.sleep(0.2)
    sys.exit("schema: the executors did not come back")


def scenario(cmd, url, schema, table):
    serve(cmd, url, schema, table)
    fresh_executors(cmd, url, table)
    client = Client(url)
    path = f"/{table}?limit=1"
    assert client.get(path)[0] == 200, f"GET {path}"
    base = warm(client, path)

    def full_build():
        # the front takes the reload in within its one-second tick, and reads everything again
        # at the next request
        psql(cmd, "SELECT pg_reload_conf()")
        time.sleep(1.5)
        return client.get(path)[1] - base

    # the first on executors that have not read these catalogs yet (they plan the reads and
    # build PostgreSQL's caches of the views), then two more before the measured ones
    cold = [full_build() for _ in range(3)][0]
    builds = [full_build() for _ in range(5)]
    functions = []
    for i in range(5):
        psql(cmd, f"CREATE OR REPLACE FUNCTION {schema}.pgrst_bench_f() RETURNS int LANGUAGE sql AS 'SELECT {i}'")
        functions.append(client.get(path)[1] - base)
    psql(cmd, f"DROP FUNCTION {schema}.pgrst_bench_f()")
    client.get(path)
    comments = []
    for i in range(5):
        psql(cmd, f"COMMENT ON TABLE {schema}.{table} IS 'bench {i} {time.time()}'")
        comments.append(client.get(path)[1] - base)
    small = []
    for i in range(3):
        psql(cmd, f"ALTER TABLE {schema}.{table} ADD COLUMN pgrst_bench_{i} int")
        small.append(client.get(path)[1] - base)
    psql(cmd, "; ".join(f"ALTER TABLE {schema}.{table} DROP COLUMN pgrst_bench_{i}" for i in range(3)))
    client.get(path)
    # what must not rebuild; "nothing" (a psql that changes nothing) is what any request right
    # after a psql costs more than a warm one on this machine, the others' baseline
    quiet = {}
    for name, sql in [
        ("nothing", "SELECT 1;"),
        ("temporary table", "CREATE TEMP TABLE pgrst_bench_tmp(x int); DROP TABLE pgrst_bench_tmp;"),
        ("role", "CREATE ROLE pgrst_bench_role; DROP ROLE pgrst_bench_role;"),
        ("ANALYZE elsewhere", "ANALYZE api.categories;"),
    ]:
        before = int(psql(cmd, BUILDS))
        extras = []
        for _ in range(5):
            psql(cmd, sql)
            extras.append(client.get(path)[1] - base)
        quiet[name] = (int(psql(cmd, BUILDS)) - before, statistics.median(extras))
    # the front gives the builds' memory back once they stop for a second
    time.sleep(2)
    pids = psql(cmd, "SELECT pid, backend_type FROM pg_stat_activity WHERE backend_type LIKE 'postgrest_ext %'").splitlines()
    front = [rss_anon(int(p.split("|")[0])) or 0 for p in pids if p.endswith("front")]
    execs = [rss_anon(int(p.split("|")[0])) or 0 for p in pids if not p.endswith("front")]
    churn = ddl_churn(cmd, url, schema, path)
    return base, cold, builds, functions, comments, small, quiet, max(front or [0]), max(execs or [0]), churn


def ddl_churn(cmd, url, schema, path):
    stop = threading.Event()
    lat, errors = [], []

    def reader():
        c = Client(url)
        while not stop.is_set():
            try:
                status, ms = c.get(path)
                lat.append(ms)
                if status != 200:
                    errors.append(status)
            except Exception as e:
                errors.append(repr(e))
                c = Client(url)

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for t in threads:
        t.start()
    ddl = subprocess.Popen(cmd + ["-q"], stdin=subprocess.PIPE, text=True)
    t0 = time.time()
    n = 0
    while time.time() - t0 < 10:
        ddl.stdin.write(f"CREATE VIEW {schema}.pgrst_bench_churn AS SELECT 1 AS x; DROP VIEW {schema}.pgrst_bench_churn;\n")
        ddl.stdin.flush()
        n += 1
        time.sleep(0.1)
    ddl.stdin.close()
    ddl.wait()
    stop.set()
    for t in threads:
        t.join()
    lat.sort()
    p99 = lat[int(len(lat) * 0.99)] if lat else 0
    return n, len(lat), p99, errors


def main():
    url, schema_dir, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
    load(cmd, schema_dir)
    first = lambda s: psql(cmd, f"SELECT tablename FROM pg_tables WHERE schemaname = '{s}' ORDER BY tablename LIMIT 1")
    try:
        print("| schema | warm GET ms | full build: + ms (median of 5) | after CREATE FUNCTION: + ms | after COMMENT ON TABLE: + ms | after ADD COLUMN: + ms | front RssAnon MB | executor RssAnon MB |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        notes = []
        for schema in ("apflora", "wide"):
            table = "t05000" if schema == "wide" else first(schema)
            base, cold, builds, functions, comments, small, quiet, front, execs, churn = scenario(cmd, url, schema, table)
            print(f"| {schema} | {base:.2f} | {statistics.median(builds):.0f} ({min(builds):.0f}–{max(builds):.0f}) | "
                  f"{statistics.median(functions):.0f} ({min(functions):.0f}–{max(functions):.0f}) | "
                  f"{statistics.median(comments):.0f} ({min(comments):.0f}–{max(comments):.0f}) | "
                  f"{statistics.median(small):.0f} | {front / 1e6:.0f} | {execs / 1e6:.0f} |", flush=True)
            q = "; ".join(f"{k}: {b} builds, +{ms:.1f} ms" for k, (b, ms) in quiet.items())
            n, reqs, p99, errors = churn
            notes.append(f"{schema}: first full build on fresh executors +{cold:.0f} ms; {q}. DDL churn ({n} create+drop in 10 s): {reqs} GETs, p99 {p99:.0f} ms, "
                         f"{len(errors)} errors{(' ' + str(errors[:3])) if errors else ''}")
        for n in notes:
            print(n)
    finally:
        psql(cmd, "ALTER SYSTEM RESET postgrest.db_schemas; SELECT pg_reload_conf();")


if __name__ == "__main__":
    main()
