#!/usr/bin/env bash
# PostgREST's official clients, unchanged, against the extension: @supabase/postgrest-js
# (node --test) and postgrest-py (PyPI `postgrest`), on a fresh cluster set up exactly like
# scripts/e2e.sh (demo shop + pgrx-tests/fixtures.sql, the same JWT secret).
# Installs what is missing: `npm ci` into pgrx-tests/clients/node_modules and a venv in
# target/clients-venv (pinned versions). If a client cannot be installed the script fails.
# Prints `test <name> ... ok|FAILED` lines and one `test result:` line per suite.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
clients="$root/pgrx-tests/clients"
venv="$root/target/clients-venv"
. "$here/shop_cluster.sh"

die() { echo "clients: $*" >&2; echo "clients: FAILED (no client tests ran)" >&2; exit 1; }

# ---- install the clients (before starting a cluster: a registry outage fails here, loudly)
command -v node >/dev/null || die "node is not installed"
command -v npm >/dev/null || die "npm is not installed"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "node >= 20 is needed (found $(node --version))"
if ! cmp -s "$clients/package-lock.json" "$clients/node_modules/.clients-lock" 2>/dev/null; then
  echo "clients: npm ci (pgrx-tests/clients)"
  (cd "$clients" && npm ci --no-audit --no-fund --loglevel=error) \
    || die "npm ci failed: cannot install @supabase/postgrest-js (is the npm registry reachable?)"
  cp "$clients/package-lock.json" "$clients/node_modules/.clients-lock"
fi
[ -f "$clients/node_modules/@supabase/postgrest-js/package.json" ] || die "@supabase/postgrest-js is missing after npm ci"

python=${PYTHON:-$(command -v python3.11 || command -v python3)}  # postgrest-py needs >= 3.11
if ! cmp -s "$clients/requirements.txt" "$venv/.clients-requirements" 2>/dev/null; then
  echo "clients: creating $venv (postgrest-py)"
  rm -rf "$venv"
  "$python" -m venv "$venv" || die "cannot create a venv with $python"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$clients/requirements.txt" \
    || { rm -rf "$venv"; die "pip install failed: cannot install postgrest-py (is PyPI reachable?)"; }
  cp "$clients/requirements.txt" "$venv/.clients-requirements"
fi
"$venv/bin/python" -c "import postgrest" || die "postgrest-py does not import from $venv"

# ---- a fresh cluster, as for scripts/e2e.sh (without the panic hook)
shop_cluster_start clients || die "the test cluster did not start"
export PGRST_JWT_SECRET="$E2E_JWT_SECRET"
status=0
out="$dir/suite.out"
# a suite that dies before its summary still counts as a failure
suite() {
  local name=$1; shift
  "$@" 2>&1 | tee "$out"
  local rc=${PIPESTATUS[0]}
  if ! grep -q "^test result:" "$out"; then
    echo "test $name ... FAILED (exit $rc, no test result)"
    echo "test result: FAILED. 0 passed; 1 failed"
    rc=1
  fi
  [ "$rc" = 0 ] || status=1
}

echo "-- postgrest-js $(node -p "require('$clients/node_modules/@supabase/postgrest-js/package.json').version")"
suite js::suite bash -c 'cd "$1" && node --test --test-reporter=./reporter.mjs postgrest-js.test.mjs' _ "$clients"

echo "-- postgrest-py $("$venv/bin/python" -c 'import postgrest; print(postgrest.__version__)')"
suite py::suite "$venv/bin/python" "$clients/postgrest_py_test.py"

exit $status
