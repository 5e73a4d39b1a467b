#!/usr/bin/env bash
# `make test`: every layer, then one summary line "N passed, N failed".
#   0. cargo fmt --check and cargo clippy -D warnings
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

# layer NAME LOG SHOWN -- COMMAND...: run one layer, keep its log, show the lines matching SHOWN,
# count its "test result:" lines; a layer that printed none did not run, which is a failure.
layer() {
  local name=$1 log="$logs/$2" shown=$3
  shift 4
  echo "== $name"
  "$@" 2>&1 | tee "$log" | grep -E "$shown" || true
  count_cargo "$log"
  if ! grep -q "^test result:" "$log"; then echo "$name did not run (see $log)"; failed=$((failed + 1)); fi
}

echo "== lint: cargo fmt --check, cargo clippy -D warnings"
for check in "cargo fmt --all -- --check" \
  "cargo clippy -p postgrest-core -p postgrest-ext-e2e --lib --tests -- -D warnings" \
  "cargo clippy -p postgrest_ext --lib -- -D warnings"; do
  if $check > "$logs/lint.log" 2>&1; then passed=$((passed + 1)); else tail -30 "$logs/lint.log"; echo "lint failed: $check"; failed=$((failed + 1)); fi
done

layer "core unit tests" core.log "^test result:|FAILED|panicked" -- cargo test --no-fail-fast -p postgrest-core
layer "end-to-end tests" e2e.log "^test |^test result:|panicked|FAILED" -- "$here/e2e.sh"
layer "replicas" replica.log "^test |^test result:" -- "$here/replica.sh"
layer "clients" clients.log "^test |^test result:|^clients:" -- "$here/clients.sh"

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
