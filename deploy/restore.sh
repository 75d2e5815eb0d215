#!/usr/bin/env bash
# Restore a backup made by deploy/backup.sh: database and upload directory together.
#
#   deploy/restore.sh BACKUP_DIR [--force]
#
# Same environment as backup.sh. The target database must exist and have been made by
# the migrations' roles (PostgreSQL: `portal_app` exists, so the dump's grants and
# row-level security policies apply again); its objects are replaced (`pg_restore
# --clean`). The upload directory must be empty unless --force is given. Stop the app
# first (systemctl stop portal). Afterwards the audit chains are verified.
set -euo pipefail

src=${1:?usage: restore.sh BACKUP_DIR [--force]}
force=${2:-}
here=$(cd "$(dirname "$0")/.." && pwd)
url=${PORTAL_MIGRATE_DATABASE_URL:-${PORTAL_DATABASE_URL:-sqlite:///$here/instance/portal.sqlite3}}
uploads=${PORTAL_UPLOAD_DIR:-$here/instance/uploads}

(cd "$src" && sha256sum --check --quiet SHA256SUMS) || {
  echo "restore.sh: checksums do not match; nothing was changed" >&2
  exit 1
}
mkdir -p "$uploads"
if [ -n "$(ls -A "$uploads")" ] && [ "$force" != "--force" ]; then
  echo "restore.sh: $uploads is not empty (use --force to restore over it)" >&2
  exit 1
fi

case "$url" in
  sqlite:///*)
    db_file=${url#sqlite:///}
    cp "$src/database.sqlite3" "$db_file.restoring"
    mv "$db_file.restoring" "$db_file"
    ;;
  postgresql*)
    libpq_url=${url/+psycopg/}
    pg_restore --clean --if-exists --no-owner --exit-on-error --single-transaction \
      --dbname="$libpq_url" "$src/database.dump"
    ;;
  *) echo "restore.sh: unsupported database URL" >&2; exit 2 ;;
esac

tar -C "$uploads" -xzf "$src/uploads.tar.gz"
portal_cli=${PORTAL_CLI:-$here/.venv/bin/portal}
if [ -x "$portal_cli" ] || command -v "$portal_cli" >/dev/null 2>&1; then
  "$portal_cli" audit verify
fi
echo "restored from $src"
