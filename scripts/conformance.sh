#!/usr/bin/env bash
# PostgREST's converted test suite against a fresh cluster loaded with its fixtures.
# Writes target/conformance/report.json and prints the per-module table.
#   CONFORMANCE_CASES=<dir>   cases to run (default ../shared/conformance/cases)
#   CONFORMANCE_ONLY=A,B      only these modules
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
shared="$root/../shared/conformance"
cases="${CONFORMANCE_CASES:-$shared/cases}"
cases=$(realpath "$cases")
out="$root/target/conformance"
mkdir -p "$out"
rm -f "$out/report.json"

dir=$(mktemp -d /tmp/postgrest-ext-conformance.XXXXXX)
pg_port=$(python3 "$here/free_port.py")
http_port=$(python3 "$here/free_port.py")
cleanup() { "$here/cluster.sh" stop "$dir"; cp "$dir/server.log" "$out/server.log" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT

"$here/cluster.sh" init "$dir" "$pg_port" "$http_port" \
  "postgrest.db_name = 'postgrest_test'" \
  "postgrest.db_authenticator_role = 'Postgrest_Test_Authenticator'" \
  "timezone = 'UTC'"
"$here/cluster.sh" start "$dir"
psql_cmd="psql -X -q -h $dir -p $pg_port -U postgres -d postgrest_test"
"$here/cluster.sh" psql "$dir" -q -d postgres -c "CREATE DATABASE postgrest_test" >/dev/null
# before the fixtures create the authenticator role, so the workers connect with them
python3 "$here/conformance_configs.py" "$shared/configs.json" "$out/configs.json" postgrest_test \
  | "$here/cluster.sh" psql "$dir" -q -d postgres >/dev/null
echo "conformance: loading PostgREST's fixtures"
PGHOST="$dir" PGPORT="$pg_port" PGUSER=postgres PGDATABASE=postgrest_test "$shared/fixtures/load.sh" >"$out/load.log" 2>&1 || {
  echo "conformance: loading the fixtures failed:"; tail -20 "$out/load.log"; exit 1; }
$psql_cmd -c "CREATE EXTENSION postgrest_ext" >/dev/null
python3 "$here/wait_http.py" "http://127.0.0.1:$http_port/" 30

only=()
if [ -n "${CONFORMANCE_ONLY:-}" ]; then only=(--only "$CONFORMANCE_ONLY"); fi
python3 "$shared/run.py" --url "http://127.0.0.1:$http_port" --cases "$cases" --psql "$psql_cmd" \
  --configs "$out/configs.json" --report "$out/report.json" "${only[@]}" | tee "$out/summary.txt" || true
# failing cases are expected (the ratchet judges them); a missing report is not
[ -s "$out/report.json" ] || { echo "conformance: the runner wrote no report"; exit 1; }

if grep -q "terminated by signal\|was terminated" "$dir/server.log"; then
  echo "conformance: the server log shows a cluster restart:"; grep "terminated" "$dir/server.log" | head
  exit 1
fi
