#!/usr/bin/env python3
"""conformance_configs.py IN OUT DBNAME: write the runner's configs without PostgREST's
free-form app.settings.* keys, and print SQL that sets them on the database instead.

PostgreSQL 15 cannot hold a GUC name with more than one dot in a config file, so
`ALTER SYSTEM SET postgrest.app.settings.x` (the runner's way) cannot work: the name is
rejected, and written by hand it makes postgresql.auto.conf unparsable. The extension reads
`postgrest.app.settings.*` from database/role settings, the way PostgreSQL 15 can store them.
Every config must then use the same app settings (they do); otherwise this fails."""
import json
import sys

src, dst, db = sys.argv[1:4]
configs = json.load(open(src, encoding="utf-8"))
app = None
for name, cfg in configs.items():
    mine = {k: v for k, v in cfg.items() if k.startswith("app.settings.")}
    if app is None:
        app = mine
    elif mine != app:
        sys.exit("config %s has other app.settings than the rest; they cannot be set per config on PostgreSQL 15" % name)
    for k in mine:
        del cfg[k]
json.dump(configs, open(dst, "w", encoding="utf-8"), indent=1)
for k, v in sorted((app or {}).items()):
    print('ALTER DATABASE "%s" SET "postgrest.%s" = \'%s\';' % (db, k.replace("-", "_"), v.replace("'", "''")))
