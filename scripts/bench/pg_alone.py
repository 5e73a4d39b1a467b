#!/usr/bin/env python3
"""PostgreSQL's own share of the `memory` scenario: a plain backend runs the statement our
executor runs for a request (the shape core generates), with the same body as one text
parameter over the extended protocol, and the peak growth of that backend's RssAnon is what
PostgreSQL itself needs for it. The executor's figure minus this one is our executor's own.

    pg_alone.py SOCKET_DIR PORT DB USER
"""
import base64
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from memory import Sampler  # noqa: E402

STATEMENTS = {
    "POST /rpc/leak?columns=blob": 'WITH pgrst_source AS (SELECT "pgrst_call".* FROM (SELECT $1::json AS json_data) pgrst_payload, '
    'LATERAL (SELECT "blob" FROM json_to_record(pgrst_payload.json_data) AS _("blob" bytea) LIMIT 1) pgrst_body, '
    'LATERAL "api"."leak"("blob" := pgrst_body."blob") pgrst_call) SELECT pg_catalog.count(_postgrest_t) FROM pgrst_source _postgrest_t',
    "POST /leak?columns=blob": 'WITH pgrst_source AS (INSERT INTO "api"."leak"("blob") SELECT pgrst_body."blob" FROM '
    '(SELECT $1::json AS json_data) pgrst_payload, LATERAL (SELECT "blob" FROM json_populate_recordset(null::"api"."leak", '
    'CASE WHEN json_typeof(pgrst_payload.json_data) = \'array\' THEN pgrst_payload.json_data ELSE json_build_array(pgrst_payload.json_data) END)) pgrst_body '
    'RETURNING 1) SELECT pg_catalog.count(*) FROM pgrst_source',
}


class Pg:
    def __init__(self, sockdir, port, db, user):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(f"{sockdir}/.s.PGSQL.{port}")
        params = b"user\0" + user.encode() + b"\0database\0" + db.encode() + b"\0\0"
        self.s.sendall(struct.pack("!ii", 8 + len(params), 196608) + params)
        self.until_ready()

    def read(self):
        head = self.recv(5)
        kind, n = head[:1], struct.unpack("!i", head[1:])[0]
        return kind, self.recv(n - 4)

    def recv(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def until_ready(self):
        rows = []
        while True:
            kind, body = self.read()
            if kind == b"E":
                raise RuntimeError(body)
            if kind == b"D":
                rows.append(body)
            if kind == b"Z":
                return rows

    def msg(self, kind, body):
        return kind + struct.pack("!i", len(body) + 4) + body

    def pid(self):
        self.s.sendall(self.msg(b"Q", b"SELECT pg_backend_pid()\0"))
        row = self.until_ready()[0]
        n = struct.unpack("!i", row[2:6])[0]
        return int(row[6:6 + n])

    def run(self, sql, param):
        parse = self.msg(b"P", b"\0" + sql.encode() + b"\0" + struct.pack("!h", 0))
        bind = self.msg(b"B", b"\0\0" + struct.pack("!hhi", 0, 1, len(param)) + param + struct.pack("!h", 0))
        execute = self.msg(b"E", b"\0" + struct.pack("!i", 0))
        self.s.sendall(parse + bind + execute + self.msg(b"S", b""))
        return self.until_ready()


def main():
    sockdir, port, db, user = sys.argv[1:5]
    print("| statement, as core generates it | body | PostgreSQL alone: backend RssAnon growth (MB) |")
    print("| --- | ---: | ---: |")
    for size in (1, 10, 50):
        body = b'{"blob" : "' + base64.b64encode(bytes(3 * size * 1000 * 1000 // 4)) + b'"}'
        for name, sql in STATEMENTS.items():
            pg = Pg(sockdir, port, db, user)
            pid = pg.pid()
            sampler = Sampler([pid])
            sampler.start()
            pg.run(sql, body)
            time.sleep(0.05)
            sampler.stop.set()
            sampler.join()
            print(f"| {name} | {size} MB | {sampler.growth()[pid] / 1e6:.1f} |", flush=True)
            pg.s.close()


if __name__ == "__main__":
    main()
