#!/usr/bin/env bash
# The whole test suite: set up, lint, type-check, test.  Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
echo "== ruff"; .venv/bin/ruff check src tests bench
echo "== mypy"; .venv/bin/mypy
echo "== import layers"; .venv/bin/lint-imports --no-cache
# one worker per core (INFRALEASH_TEST_WORKERS overrides; 0 = in this process), whole files per worker so
# module-scoped fixtures (an applied sandbox, a server process) are built once
echo "== pytest"; .venv/bin/python -m pytest -n "${INFRALEASH_TEST_WORKERS:-auto}" --dist loadfile "$@"
