#!/usr/bin/env bash
# Streaming replication end to end: a primary and a hot standby (pg_basebackup -R) on loopback,
# both with postgrest_ext preloaded and the demo shop; pgrx-tests/replica.py checks that the
# standby serves reads, refuses writes cleanly, and follows data and DDL from the primary.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
BIN=/usr/lib/postgresql/15/bin
base=$(mktemp -d /tmp/postgrest-ext-replica.XXXXXX)
[ "$(id -u)" = 0 ] && chown postgres: "$base"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
p_pg=$(python3 "$here/free_port.py"); p_http=$(python3 "$here/free_port.py")
s_pg=$(python3 "$here/free_port.py"); s_http=$(python3 "$here/free_port.py")
primary="$base/primary"; standby="$base/standby"
cleanup() {
  "$here/cluster.sh" stop "$standby"; "$here/cluster.sh" stop "$primary"
  mkdir -p "$root/target/test-logs"
  cat "$primary/server.log" "$standby/server.log" > "$root/target/test-logs/replica-server.log" 2>/dev/null
  rm -rf "$base"
}
trap cleanup EXIT

set -e
"$here/cluster.sh" init "$primary" "$p_pg" "$p_http" \
  "postgrest.db_name = 'shop'" "postgrest.db_schemas = 'api'" \
  "postgrest.db_anon_role = 'web_anon'" "postgrest.db_authenticator_role = 'authenticator'"
"$here/cluster.sh" start "$primary"
"$here/cluster.sh" psql "$primary" -q -d postgres -c "CREATE DATABASE shop"
"$here/cluster.sh" psql "$primary" -q -d shop -f "$root/demo/shop.sql"
"$here/cluster.sh" psql "$primary" -q -d shop -c "CREATE EXTENSION postgrest_ext"
mkdir -p "$standby"; [ "$(id -u)" = 0 ] && chown postgres: "$standby"
as_pg "$BIN/pg_basebackup" -D "$standby/data" -R -X stream -h 127.0.0.1 -p "$p_pg" -U postgres
# the copied postgresql.conf has the primary's lines; later lines win
printf "port = %s\nunix_socket_directories = '%s'\npostgrest.server_port = %s\n" "$s_pg" "$standby" "$s_http" \
  | as_pg tee -a "$standby/data/postgresql.conf" >/dev/null
"$here/cluster.sh" start "$standby"
set +e

python3 "$root/pgrx-tests/replica.py" \
  --primary "http://127.0.0.1:$p_http" --standby "http://127.0.0.1:$s_http" \
  --psql "psql -X -q -At -h $primary -p $p_pg -U postgres -d shop" \
  --logs "$primary/server.log" "$standby/server.log"
