#!/usr/bin/env bash
# ../shared/bench against the extension: the bench cluster restarted with postgrest_ext
# preloaded, CREATE EXTENSION in database "bench", then run.sh with the project as a target.
# The installed library's checksum is part of the settings, so that setup.sh restarts a running
# bench cluster after a new build (a running postmaster keeps the library it loaded).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bench="$here/../../shared/bench"
port="${BENCH_HTTP_PORT:-3099}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
BENCH_EXTRA_CONF="shared_preload_libraries = 'postgrest_ext'
postgrest.db_name = '${BENCH_DB:-bench}'
postgrest.db_schemas = 'api'
postgrest.db_anon_role = 'web_anon'
postgrest.db_authenticator_role = 'authenticator'
postgrest.jwt_secret = 'reallyreallyreallyreallyverysafe'
postgrest.server_host = '127.0.0.1'
postgrest.server_port = $port
# library $(sha256sum "$(/usr/lib/postgresql/15/bin/pg_config --pkglibdir)/postgrest_ext.so" 2>/dev/null | cut -c1-16)" "$bench/setup.sh"
. "$bench/lib.sh"
bpsql -d "$BENCH_DB" -c "CREATE EXTENSION IF NOT EXISTS postgrest_ext"
python3 "$here/wait_http.py" "http://127.0.0.1:$port/" 30
"$bench/run.sh" --target project "http://127.0.0.1:$port" "$@"
