#!/usr/bin/env bash
# Back up the portal: the database AND the upload directory, together, into one folder.
#
#   deploy/backup.sh DEST_DIR            → DEST_DIR/portal-YYYYmmddTHHMMSSZ/
#
# Reads the same environment as the app (/etc/portal/portal.env):
#   PORTAL_MIGRATE_DATABASE_URL  the schema owner's URL (PostgreSQL; pg_dump needs to read
#                                every row, which RLS hides from portal_app), else
#   PORTAL_DATABASE_URL          (SQLite: the file is copied with sqlite3's online backup)
#   PORTAL_UPLOAD_DIR            default instance/uploads
#
# Order matters: the database first, then the files. Evidence files are written before
# the transaction that references them commits and are never rewritten, so every file
# the dump references is already on disk when the archive is taken; a file written
# after the dump is an unreferenced extra, harmless. The reverse order could lose files.
# The folder holds database.dump (pg_dump -Fc) or database.sqlite3, uploads.tar.gz and
# SHA256SUMS; restore.sh checks the sums before touching anything.
set -euo pipefail

dest_root=${1:?usage: backup.sh DEST_DIR}
here=$(cd "$(dirname "$0")/.." && pwd)
url=${PORTAL_MIGRATE_DATABASE_URL:-${PORTAL_DATABASE_URL:-sqlite:///$here/instance/portal.sqlite3}}
uploads=${PORTAL_UPLOAD_DIR:-$here/instance/uploads}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
dest="$dest_root/portal-$stamp"
mkdir -p "$dest"
umask 077

case "$url" in
  sqlite:///*)
    db_file=${url#sqlite:///}
    sqlite3 "$db_file" ".backup '$dest/database.sqlite3'"
    ;;
  postgresql*)
    libpq_url=${url/+psycopg/}
    pg_dump --format=custom --no-owner --file="$dest/database.dump" "$libpq_url"
    ;;
  *) echo "backup.sh: unsupported database URL" >&2; exit 2 ;;
esac

mkdir -p "$uploads"
tar -C "$uploads" -czf "$dest/uploads.tar.gz" .
(cd "$dest" && sha256sum database.* uploads.tar.gz > SHA256SUMS)
echo "$dest"
