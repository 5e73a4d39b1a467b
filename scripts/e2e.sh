#!/usr/bin/env bash
# End-to-end tests: a fresh cluster with the extension preloaded and the demo shop (plus
# pgrx-tests/fixtures.sql) on free ports, then `cargo test -p postgrest-ext-e2e` over real HTTP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
dir=$(mktemp -d /tmp/postgrest-ext-e2e.XXXXXX)
pg_port=$(python3 "$here/free_port.py")
http_port=$(python3 "$here/free_port.py")
cleanup() { "$here/cluster.sh" stop "$dir"; mkdir -p "$root/target/test-logs"; cp "$dir/server.log" "$root/target/test-logs/e2e-server.log" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

set -e
"$here/cluster.sh" init "$dir" "$pg_port" "$http_port" \
  "postgrest.db_name = 'shop'" \
  "postgrest.db_schemas = 'api'" \
  "postgrest.db_anon_role = 'web_anon'" \
  "postgrest.db_authenticator_role = 'authenticator'" \
  "postgrest.jwt_secret = 'e2e-jwt-secret-that-is-long-enough-0123'" \
  "postgrest.testing_panic_path = '/__panic'" \
  "statement_timeout = '2s'"
"$here/cluster.sh" start "$dir"
"$here/cluster.sh" psql "$dir" -q -d postgres -c "CREATE DATABASE shop"
"$here/cluster.sh" psql "$dir" -q -d shop -f "$root/demo/shop.sql"
"$here/cluster.sh" psql "$dir" -q -d shop -f "$root/pgrx-tests/fixtures.sql"
"$here/cluster.sh" psql "$dir" -q -d shop -c "CREATE EXTENSION postgrest_ext"
python3 "$here/wait_http.py" "http://127.0.0.1:$http_port/" 30
set +e

export PGRST_URL="http://127.0.0.1:$http_port"
export PGRST_PSQL="psql -X -q -At -h $dir -p $pg_port -U postgres -d shop"
export PGRST_SERVER_LOG="$dir/server.log"
cd "$root" && cargo test --no-fail-fast -p postgrest-ext-e2e -- --test-threads=1
