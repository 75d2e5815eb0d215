#!/usr/bin/env bash
# Runs the whole suite on SQLite and on PostgreSQL, side by side (each run is one
# process; on a 2-core machine the two overlap instead of waiting for each other).
# Under CI=true the PostgreSQL run is never skipped: a server is started or installed
# when none answers. Each line of output is prefixed with its backend; the summary of
# each run is repeated at the end. Exit status: non-zero when either run fails.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export PYTHONPATH="$PWD"

tests/ensure_system.sh || { [ "${CI:-}" = "true" ] && exit 1; }

logs=$(mktemp -d)
run() {  # run BACKEND ARGS…: one pytest run, output prefixed, status in $logs/BACKEND.rc
  local backend=$1
  shift
  PORTAL_TEST_BACKEND=$backend $BIN/pytest --basetemp="$logs/$backend-tmp" "$@" 2>&1 | tee "$logs/$backend.log" |
    sed -u "s/^/[$backend] /"
  echo "${PIPESTATUS[0]}" >"$logs/$backend.rc"
}

status=0
run sqlite "$@" &
sqlite_job=$!

pg_ran=0
if tests/ensure_postgres.sh; then
  run postgres "$@" &
  pg_job=$!
  pg_ran=1
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL is required under CI=true but could not be started" >&2
  status=1
else
  echo "!!! PostgreSQL run SKIPPED: no server reachable and none could be started" >&2
fi

wait "$sqlite_job"
[ "$pg_ran" = 1 ] && wait "$pg_job"

echo
for backend in sqlite postgres; do
  [ -f "$logs/$backend.rc" ] || continue
  rc=$(cat "$logs/$backend.rc")
  echo "=== $backend: $(tail -n 1 "$logs/$backend.log") (exit $rc) ==="
  [ "$rc" = 0 ] || status=1
done
# A run that died before writing its status counts as failed.
[ -f "$logs/sqlite.rc" ] || status=1
[ "$pg_ran" = 0 ] || [ -f "$logs/postgres.rc" ] || status=1
rm -rf "$logs"
exit $status
