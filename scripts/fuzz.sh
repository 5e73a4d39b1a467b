#!/usr/bin/env bash
# Fuzz core/ (cargo-fuzz crate core/fuzz) for a bounded time: every target, one after the
# other, FUZZ_SECONDS each (default 60). FUZZ_TARGETS="request jwt" picks some.
# Each target starts from its hand-written seeds (core/fuzz/seeds/<target>/, committed) and
# writes what it generates to core/fuzz/corpus/<target>/ (not committed). A crash stops the
# script with the fuzzer's exit status; the input is in core/fuzz/artifacts/<target>/.
# cargo-fuzz needs nightly features: RUSTC_BOOTSTRAP=1 enables them on the stable toolchain.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
seconds="${FUZZ_SECONDS:-60}"
targets="${FUZZ_TARGETS:-query_params request headers payload jwt}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --quiet
cd "$here/../core/fuzz"
RUSTC_BOOTSTRAP=1 cargo fuzz build
for target in $targets; do
  echo "== fuzz $target for ${seconds}s"
  mkdir -p "corpus/$target"
  seeds=()
  [ -d "seeds/$target" ] && seeds=("seeds/$target")
  # -max_len: the request target needs room for a body and several headers
  max_len=512
  [ "$target" = request ] && max_len=4096
  RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "corpus/$target" "${seeds[@]}" -- \
    -max_total_time="$seconds" -max_len="$max_len" -print_final_stats=1
done
