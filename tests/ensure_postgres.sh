#!/usr/bin/env bash
# Make sure a PostgreSQL server answers for the tests: PORTAL_TEST_DATABASE_URL, or
# 127.0.0.1:5432 (user postgres, trust auth); start a local cluster or install
# Debian's postgresql package when none answers.
set -uo pipefail
URL="${PORTAL_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}"
probe() { .venv/bin/python - "$URL" <<'PY'
import sys, sqlalchemy as sa
try:
    e = sa.create_engine(sys.argv[1], connect_args={"connect_timeout": 3})
    with e.connect() as c:
        c.exec_driver_sql("select 1")
except Exception as exc:
    print(f"postgres not reachable: {exc.__class__.__name__}", file=sys.stderr)
    sys.exit(1)
PY
}
probe && exit 0
if [ -n "${PORTAL_TEST_DATABASE_URL:-}" ]; then exit 1; fi
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "installing postgresql (Debian package)…" >&2
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null || exit 1
fi
ver=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1)
[ -n "$ver" ] || exit 1
hba=/etc/postgresql/$ver/main/pg_hba.conf
if ! grep -q "^host all all 127.0.0.1/32 trust" "$hba" 2>/dev/null; then
  $SUDO sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
fi
$SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main start 2>/dev/null || $SUDO pg_ctlcluster "$ver" main restart || true
for _ in $(seq 1 20); do probe 2>/dev/null && exit 0; sleep 1; done
probe
