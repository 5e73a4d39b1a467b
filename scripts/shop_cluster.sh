# Sourced by the end-to-end scripts: a fresh cluster on free ports with postgrest_ext
# preloaded, serving the demo shop plus pgrx-tests/fixtures.sql, stopped on exit (its server
# log kept as target/test-logs/<name>-server.log).
#
#   shop_cluster_start NAME [postgresql.conf lines...]
# sets: dir, pg_port, http_port, and exports PGRST_URL, PGRST_PSQL, PGRST_SERVER_LOG.

E2E_JWT_SECRET='e2e-jwt-secret-that-is-long-enough-0123'

shop_cluster_start() {
  local name=$1; shift
  local scripts root
  scripts=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  root=$(cd "$scripts/.." && pwd)
  dir=$(mktemp -d "/tmp/postgrest-ext-$name.XXXXXX")
  pg_port=$(python3 "$scripts/free_port.py")
  http_port=$(python3 "$scripts/free_port.py")
  SHOP_CLUSTER_STOP="\"$scripts/cluster.sh\" stop \"$dir\"; mkdir -p \"$root/target/test-logs\"; cp \"$dir/server.log\" \"$root/target/test-logs/$name-server.log\" 2>/dev/null; rm -rf \"$dir\""
  trap 'eval "$SHOP_CLUSTER_STOP"' EXIT
  "$scripts/cluster.sh" init "$dir" "$pg_port" "$http_port" \
    "postgrest.db_name = 'shop'" \
    "postgrest.db_schemas = 'api'" \
    "postgrest.db_anon_role = 'web_anon'" \
    "postgrest.db_authenticator_role = 'authenticator'" \
    "postgrest.jwt_secret = '$E2E_JWT_SECRET'" \
    "statement_timeout = '2s'" \
    "$@" || return 1
  "$scripts/cluster.sh" start "$dir" || return 1
  "$scripts/cluster.sh" psql "$dir" -q -d postgres -c "CREATE DATABASE shop" || return 1
  "$scripts/cluster.sh" psql "$dir" -q -d shop -f "$root/demo/shop.sql" || return 1
  "$scripts/cluster.sh" psql "$dir" -q -d shop -f "$root/pgrx-tests/fixtures.sql" || return 1
  "$scripts/cluster.sh" psql "$dir" -q -d shop -c "CREATE EXTENSION postgrest_ext" || return 1
  python3 "$scripts/wait_http.py" "http://127.0.0.1:$http_port/" 30 || return 1
  export PGRST_URL="http://127.0.0.1:$http_port"
  export PGRST_PSQL="psql -X -q -At -h $dir -p $pg_port -U postgres -d shop"
  export PGRST_SERVER_LOG="$dir/server.log"
}
