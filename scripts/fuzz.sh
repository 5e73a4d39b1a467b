#!/usr/bin/env bash
# Fuzz the URL-language parser (core/fuzz, target query_params) for a bounded time.
# cargo-fuzz needs nightly features: RUSTC_BOOTSTRAP=1 enables them on the stable toolchain.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
seconds="${FUZZ_SECONDS:-60}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --quiet
cd "$here/../core/fuzz"
RUSTC_BOOTSTRAP=1 cargo fuzz run query_params -- -max_total_time="$seconds" -max_len=512
