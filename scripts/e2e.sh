#!/usr/bin/env bash
# End-to-end tests: a fresh cluster with the extension preloaded and the demo shop (plus
# pgrx-tests/fixtures.sql) on free ports, then `cargo test -p postgrest-ext-e2e` over real HTTP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$here/shop_cluster.sh"
shop_cluster_start e2e "postgrest.testing_panic_path = '/__panic'" || exit 1
cd "$root" && cargo test --no-fail-fast -p postgrest-ext-e2e ${E2E_TEST:+--test $E2E_TEST} -- --test-threads=1
