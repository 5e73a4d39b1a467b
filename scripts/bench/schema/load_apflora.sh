#!/usr/bin/env bash
# Load PostgREST's big test schema "apflora" (test/io/fixtures/big_schema.sql: 45 tables,
# 281 views, 12 functions) into database `apflora` of a scratch cluster.
#
#   load_apflora.sh CLUSTER_DIR [AUTHENTICATOR]
#
# The file starts with `\ir ../../orioledb.sql` (not needed here) and drops/recreates the
# cluster-wide role postgrest_test_anonymous, which fails when the PostgREST fixtures are
# loaded in another database of the same cluster: both are skipped, the role is created
# only if missing. AUTHENTICATOR (default Postgrest_Test_Authenticator) is granted it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
dir=$1; auth=${2:-Postgrest_Test_Authenticator}
git_dir=${POSTGREST_GIT_DIR:-/work/.mirror/PostgREST+postgrest/repo}
psql_() { "$root/scripts/cluster.sh" psql "$dir" -X -q -v ON_ERROR_STOP=1 "$@"; }

psql_ -d postgres -c "DROP DATABASE IF EXISTS apflora" -c "CREATE DATABASE apflora"
psql_ -d postgres -v auth="$auth" <<'SQL'
select format('create role %I noinherit login', :'auth')
where not exists (select 1 from pg_roles where rolname = :'auth') \gexec
select 'create role postgrest_test_anonymous'
where not exists (select 1 from pg_roles where rolname = 'postgrest_test_anonymous') \gexec
SQL
git --git-dir="$git_dir" show HEAD:test/io/fixtures/big_schema.sql \
  | grep -v -e '^\\ir ' -e '^DROP ROLE IF EXISTS postgrest_test_anonymous;' -e '^CREATE ROLE postgrest_test_anonymous;' \
  | psql_ -d apflora -v PGUSER="$auth" >/dev/null
psql_ -d apflora -c "VACUUM ANALYZE"
echo "apflora loaded"
