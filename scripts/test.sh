#!/usr/bin/env bash
# `make test`: every layer, then one summary line "N passed, N failed".
#   1. core unit tests (no database)
#   2. end-to-end tests: a real cluster with the extension preloaded, real HTTP (pgrx-tests/)
#   3. a primary and a hot standby: the standby serves reads and follows data and DDL
#      then PostgREST's official clients (postgrest-js, postgrest-py) against a fresh cluster
#   4. PostgREST's converted suite as a ratchet: every id in conformance/passing.txt must pass
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
logs="$root/target/test-logs"
mkdir -p "$logs"
passed=0; failed=0

count_cargo() {  # add up the "test result: ... N passed; M failed" lines of a cargo test log
  local p f
  read -r p f < <(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } } END { print p+0, f+0 }' "$1")
  passed=$((passed + p)); failed=$((failed + f))
}

echo "== core unit tests"
cargo test --no-fail-fast -p postgrest-core 2>&1 | tee "$logs/core.log" | grep -E "^test result:|FAILED|panicked" || true
count_cargo "$logs/core.log"
if ! grep -q "^test result:" "$logs/core.log"; then echo "core tests did not run"; failed=$((failed + 1)); fi

echo "== end-to-end tests"
"$here/e2e.sh" 2>&1 | tee "$logs/e2e.log" | grep -E "^test |^test result:|panicked|FAILED" || true
count_cargo "$logs/e2e.log"
if ! grep -q "^test result:" "$logs/e2e.log"; then echo "end-to-end tests did not run (see $logs/e2e.log)"; failed=$((failed + 1)); fi

echo "== replicas"
"$here/replica.sh" 2>&1 | tee "$logs/replica.log" | grep -E "^test |^test result:" || true
count_cargo "$logs/replica.log"
if ! grep -q "^test result:" "$logs/replica.log"; then echo "replica tests did not run (see $logs/replica.log)"; failed=$((failed + 1)); fi

echo "== clients"
"$here/clients.sh" 2>&1 | tee "$logs/clients.log" | grep -E "^test |^test result:|^clients:" || true
count_cargo "$logs/clients.log"
if ! grep -q "^test result:" "$logs/clients.log"; then echo "client tests did not run (see $logs/clients.log)"; failed=$((failed + 1)); fi

echo "== conformance ratchet"
if "$here/conformance.sh" > "$logs/conformance.log" 2>&1; then
  grep -v "passed, .* failed" "$logs/conformance.log" | tail -60
  read -r p f < <(python3 "$here/ratchet.py" check "$root/conformance/passing.txt" "$root/target/conformance/report.json")
  passed=$((passed + p)); failed=$((failed + f))
else
  tail -30 "$logs/conformance.log"
  echo "conformance run failed"
  failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
