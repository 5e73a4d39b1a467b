#!/usr/bin/env bash
# ../shared/bench against the extension: the bench cluster restarted with postgrest_ext
# preloaded, CREATE EXTENSION in database "bench", then run.sh with the project as a target.
# The installed library's checksum is part of the settings, so that setup.sh restarts a running
# bench cluster after a new build (a running postmaster keeps the library it loaded).
#
# Scenarios of our own (scripts/bench/), not in ../shared/bench: memory, latency, conns,
# overload, schema. `--scenarios` takes
# both kinds; without it, every scenario runs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bench="$here/../../shared/bench"
port="${BENCH_HTTP_PORT:-3099}"
ours_all="memory,latency,conns,overload,schema"

shared=() ours="" picked=""
while [ $# -gt 0 ]; do
  case "$1" in
    --scenarios) picked="$2"; shift 2 ;;
    *) shared+=("$1"); shift ;;
  esac
done
theirs=""
if [ -z "$picked" ]; then
  ours="$ours_all"
else
  for s in ${picked//,/ }; do
    if [[ ",$ours_all," == *",$s,"* ]]; then ours="$ours,$s"; else theirs="$theirs,$s"; fi
  done
  ours="${ours#,}" theirs="${theirs#,}"
fi

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
BENCH_EXTRA_CONF="shared_preload_libraries = 'postgrest_ext'
postgrest.db_name = '${BENCH_DB:-bench}'
postgrest.db_schemas = 'api'
postgrest.db_anon_role = 'web_anon'
postgrest.db_authenticator_role = 'authenticator'
postgrest.jwt_secret = 'reallyreallyreallyreallyverysafe'
postgrest.server_host = '127.0.0.1'
postgrest.server_port = $port
# room for postgrest.db_pool executors (the overload scenario sets 16)
max_worker_processes = 32
# library $(sha256sum "$(/usr/lib/postgresql/15/bin/pg_config --pkglibdir)/postgrest_ext.so" 2>/dev/null | cut -c1-16)" "$bench/setup.sh"
. "$bench/lib.sh"
# created afresh: the extension's SQL may have changed without a new version
bpsql -d "$BENCH_DB" -c "DROP EXTENSION IF EXISTS postgrest_ext" -c "CREATE EXTENSION postgrest_ext"
# what an earlier run left to write (the schema scenario's 10,000 tables: an 87 s checkpoint
# syncing 40,986 files) is written now, not during the next measurement
bpsql -d "$BENCH_DB" -c "CHECKPOINT" >/dev/null
python3 "$here/wait_http.py" "http://127.0.0.1:$port/" 30
if [ -z "$picked" ] || [ -n "$theirs" ]; then
  "$bench/run.sh" --target project "http://127.0.0.1:$port" ${theirs:+--scenarios "$theirs"} "${shared[@]}"
fi
psql_cmd=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGSOCK_DIR" -p "$BENCH_PORT" -U postgres -d "$BENCH_DB")
for s in ${ours//,/ }; do
  echo "## $s"
  case "$s" in
    memory) python3 "$here/bench/memory.py" "http://127.0.0.1:$port" "${psql_cmd[@]}" ;;
    schema) python3 "$here/bench/schema.py" "http://127.0.0.1:$port" "$here/bench/schema" "${psql_cmd[@]}" ;;
    *) PGBENCH="$PG_BIN/pgbench" BENCH_PORT="$BENCH_PORT" python3 "$here/bench/dispatch.py" "$s" "http://127.0.0.1:$port" "$bench" "${psql_cmd[@]}" ;;
  esac
done
