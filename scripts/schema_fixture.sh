#!/usr/bin/env bash
# Regenerate core/src/schema_cache/testdata/fixtures_test.json and fixtures_test_rules.json:
# the catalog query's document and the view rules ([[view oid, rule text], ...]) for
# PostgREST's fixtures (schema "test"), read as the authenticator, for core's unit tests.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
dir=$(mktemp -d /tmp/postgrest-ext-schema.XXXXXX)
pg_port=$(python3 "$here/free_port.py")
trap '"$here/cluster.sh" stop "$dir"; rm -rf "$dir"' EXIT
"$here/cluster.sh" init "$dir" "$pg_port" "$(python3 "$here/free_port.py")" "shared_preload_libraries = ''" "timezone = 'UTC'"
"$here/cluster.sh" start "$dir"
"$here/cluster.sh" psql "$dir" -q -d postgres -c "CREATE DATABASE postgrest_test"
PGHOST="$dir" PGPORT="$pg_port" PGUSER=postgres PGDATABASE=postgrest_test \
  "$root/../shared/conformance/fixtures/load.sh" >/dev/null
{
  echo 'BEGIN READ ONLY; SET ROLE "Postgrest_Test_Authenticator";'
  echo 'PREPARE q(text) AS'
  cat "$root/core/src/schema_cache/catalog.sql"
  echo ';'
  echo "EXECUTE q('[\"test\"]');"
  echo 'PREPARE r(text) AS SELECT json_agg(json_build_array(ev_class::int8, ev_action) ORDER BY ev_class, ev_action) FROM ('
  cat "$root/core/src/schema_cache/view_rules.sql"
  echo ') r;'
  echo "\\o $dir/rules.json"
  echo "EXECUTE r('[\"test\"]');"
  echo 'COMMIT;'
} | "$here/cluster.sh" psql "$dir" -q -At -d postgrest_test -v ON_ERROR_STOP=1 > "$dir/out.json"
for f in out:fixtures_test rules:fixtures_test_rules; do
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); json.dump(d, open(sys.argv[2], "w"), indent=None, separators=(",", ":"))' \
    "$dir/${f%%:*}.json" "$root/core/src/schema_cache/testdata/${f#*:}.json"
done
echo "schema fixture written"
