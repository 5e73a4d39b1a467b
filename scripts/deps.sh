#!/usr/bin/env bash
# Install what building and testing need, only when it is missing: Debian packages
# (PostgreSQL 15 server headers, libclang for bindgen, PostGIS and contrib for the
# conformance fixtures), cargo-pgrx 0.18.1, and pgrx's config for the system PostgreSQL 15.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

need_apt=()
for pkg in postgresql-15 postgresql-server-dev-15 postgresql-contrib libclang-dev clang build-essential pkg-config postgresql-15-postgis-3; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "deps: installing ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# make test checks formatting and lints
for component in rustfmt clippy; do
  if ! rustup component list --installed 2>/dev/null | grep -q "^$component"; then rustup component add "$component"; fi
done

if ! cargo pgrx --version 2>/dev/null | grep -q "0.18.1"; then
  echo "deps: installing cargo-pgrx 0.18.1 (a few minutes)"
  cargo install cargo-pgrx --version 0.18.1 --locked --quiet
fi

PGRX_HOME="${PGRX_HOME:-$HOME/.pgrx}"
if ! grep -q "pg15" "$PGRX_HOME/config.toml" 2>/dev/null; then
  cargo pgrx init --pg15 /usr/lib/postgresql/15/bin/pg_config >/dev/null
fi
