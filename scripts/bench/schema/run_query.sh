#!/usr/bin/env bash
# Run the schema cache catalog query as scripts/schema_fixture.sh does (read-only transaction,
# as the authenticator, PREPARE + EXECUTE) and print the document.
#
#   run_query.sh CLUSTER_DIR DB PARAM_JSON [SQL_FILE] > doc.json
#   TIMING=5 run_query.sh ...    # instead: EXECUTE 5 times under \timing, print the times (ms)
#   CPUTIME=5 run_query.sh ...   # instead: the backend's CPU time per EXECUTE (ms, mean of 5
#                                  after a warm-up), which a busy machine disturbs less
#   EXPLAIN=1 run_query.sh ...   # instead: EXPLAIN (ANALYZE, BUFFERS) the EXECUTE (after one
#                                  warm-up EXECUTE: relcache entries are built once per session)
#   RULES=1 run_query.sh ...     # instead: run view_rules.sql and print the rules as the JSON
#                                  that SchemaCache::from_saved reads ([[view oid, text], ...])
#   PARTIAL=1 run_query.sh ...   # the queries' partial form (their --partial lines in), for a
#                                  PARAM_JSON with "relations"
#
# ROLE (default Postgrest_Test_Authenticator) is the role the query runs as; SETUP is SQL run
# first in the transaction (e.g. SETUP='SET LOCAL jit = off').
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
dir=$1; db=$2; param=$3; sql=${4:-$root/core/src/schema_cache/catalog.sql}
strip() { if [ -n "${PARTIAL:-}" ]; then sed 's/^--partial//' "$1"; else cat "$1"; fi; }
if [ -n "${RULES:-}" ]; then
  rules=$(mktemp)
  { echo "SELECT coalesce(json_agg(json_build_array(ev_class::int8, ev_action) ORDER BY ev_class, ev_action), '[]') FROM ("
    strip "$root/core/src/schema_cache/view_rules.sql"; echo ') r'; } > "$rules"
  sql=$rules
elif [ -n "${PARTIAL:-}" ]; then
  partial=$(mktemp)
  strip "$sql" > "$partial"
  sql=$partial
fi
role=${ROLE:-Postgrest_Test_Authenticator}
q=$(printf '%s' "$param" | sed "s/'/''/g")
{
  echo "BEGIN READ ONLY; ${SETUP:+$SETUP;} SET ROLE \"$role\";"
  echo 'PREPARE q(text) AS'
  cat "$sql"
  echo ';'
  if [ -n "${EXPLAIN:-}" ]; then
    echo '\o /dev/null'; echo "EXECUTE q('$q');"; echo '\o'
    echo "EXPLAIN (ANALYZE, BUFFERS) EXECUTE q('$q');"
  elif [ -n "${CPUTIME:-}" ]; then
    # utime + stime of the backend (/proc/PID/stat fields 14 and 15, in clock ticks)
    echo '\o /dev/null'; echo "EXECUTE q('$q');"; echo '\o'
    echo 'SELECT pg_backend_pid() AS pid \gset'
    echo '\setenv BACKEND_PID :pid'
    echo "\\! awk '{print \$14 + \$15}' /proc/\$BACKEND_PID/stat"
    echo '\o /dev/null'
    for _ in $(seq "$CPUTIME"); do echo "EXECUTE q('$q');"; done
    echo '\o'
    echo "\\! awk '{print \$14 + \$15}' /proc/\$BACKEND_PID/stat"
  elif [ -n "${TIMING:-}" ]; then
    echo '\o /dev/null'
    echo '\timing on'
    for _ in $(seq "$TIMING"); do echo "EXECUTE q('$q');"; done
  else
    echo "EXECUTE q('$q');"
  fi
  if [ -n "${TIMING:-}" ]; then echo '\timing off'; fi
  echo 'COMMIT;'
} | "$root/scripts/cluster.sh" psql "$dir" -q -At -d "$db" -v ON_ERROR_STOP=1 \
  | if [ -n "${TIMING:-}" ]; then sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
    elif [ -n "${CPUTIME:-}" ]; then
      hz=$(getconf CLK_TCK); awk -v n="$CPUTIME" -v hz="$hz" 'NR == 1 {a = $1} NR == 2 {printf "%.1f\n", ($1 - a) * 1000 / hz / n}'
    else cat; fi
