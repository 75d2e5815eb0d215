#!/usr/bin/env bash
# Runs the whole suite on SQLite, then on PostgreSQL. Under CI=true the PostgreSQL run
# is never skipped: a server is started or installed when none answers.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export PYTHONPATH="$PWD"

tests/ensure_system.sh || { [ "${CI:-}" = "true" ] && exit 1; }

status=0
echo "=== SQLite run ==="
PORTAL_TEST_BACKEND=sqlite $BIN/pytest "$@" || status=1

echo "=== PostgreSQL run ==="
if tests/ensure_postgres.sh; then
  PORTAL_TEST_BACKEND=postgres $BIN/pytest "$@" || status=1
else
  if [ "${CI:-}" = "true" ]; then
    echo "PostgreSQL is required under CI=true but could not be started" >&2
    status=1
  else
    echo "!!! PostgreSQL run SKIPPED: no server reachable and none could be started" >&2
  fi
fi
exit $status
