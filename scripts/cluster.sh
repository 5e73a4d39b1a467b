#!/usr/bin/env bash
# A local PostgreSQL 15 cluster with postgrest_ext preloaded, in a directory of its own.
#
#   cluster.sh init  DIR PG_PORT HTTP_PORT [postgresql.conf lines...]
#   cluster.sh start DIR
#   cluster.sh stop  DIR
#   cluster.sh psql  DIR [psql args...]      (as the superuser postgres, database from $PGDATABASE)
#
# PostgreSQL refuses to run as root: as root, the cluster runs as the `postgres` user and DIR
# is handed to it. The unix socket lives in DIR; TCP listens on 127.0.0.1:PG_PORT.
set -euo pipefail

BIN=/usr/lib/postgresql/15/bin
cmd=$1; dir=$(realpath -m "$2"); shift 2

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  init)
    pg_port=$1; http_port=$2; shift 2
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
    as_pg "$BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log"
    {
      echo "# postgrest_ext local cluster"
      echo "port = $pg_port"
      echo "listen_addresses = '127.0.0.1'"
      echo "unix_socket_directories = '$dir'"
      echo "shared_preload_libraries = 'postgrest_ext'"
      echo "max_worker_processes = 16"
      echo "postgrest.server_host = '127.0.0.1'"
      echo "postgrest.server_port = $http_port"
      for line in "$@"; do echo "$line"; done
    } | as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
    ;;
  start)
    as_pg "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_pg "$BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null || true
    fi
    ;;
  psql)
    port=$(sed -n "s/^port = //p" "$dir/data/postgresql.conf" | tail -1)
    exec psql -X -h "$dir" -p "$port" -U postgres "$@"
    ;;
  *)
    echo "usage: cluster.sh init|start|stop|psql DIR ..." >&2; exit 2 ;;
esac
