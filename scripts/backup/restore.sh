#!/usr/bin/env bash
# StillOnTime restore: what the restore Job (spec.restore) and the bootstrap Job
# (spec.postgres.bootstrap.fromBackup) run. Mounted from the ConfigMap N-backup-scripts, beside
# env.sh.
#
#   restore.sh NAME|latest
#
# Environment: env.sh's (BACKUP_DIR, PGHOST... or DATABASE_URL, TERMINATION_LOG), plus
#   RESTORE_MODE   "restore" (default): take a safety dump first, then replace the database;
#                  "bootstrap": load only into an empty database (no tables in public);
#                  a database that already has tables is left alone and the run succeeds.
#   WAIT_SECONDS   how long to wait for the database to accept connections (default 120)
#
# The restore runs in one transaction (pg_restore --single-transaction --clean --if-exists
# --no-owner): it either replaces everything or changes nothing. It then verifies that every
# table in the dump exists again. Exit status non-zero on any failure.
set -euo pipefail
umask 077

LOG_TAG=restore
# shellcheck source-path=SCRIPTDIR source=env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

RESTORE_MODE=${RESTORE_MODE:-restore}
WAIT_SECONDS=${WAIT_SECONDS:-120}

# A failed restore says why in the pod status too.
die() {
  log "ERROR: $*"
  termination_message "restore failed: $*"
  exit 1
}

psql_value() { psql --no-password -X -v ON_ERROR_STOP=1 -At -c "$1"; }

wait_for_database() {
  local deadline=$((SECONDS + WAIT_SECONDS))
  until psql_value 'SELECT 1' >/dev/null 2>&1; do
    (( SECONDS < deadline )) || die "database $PGDATABASE on $PGHOST:${PGPORT:-5432} not reachable after ${WAIT_SECONDS}s"
    sleep 2
  done
}

resolve() {
  local want=$1
  if [[ "$want" == latest ]]; then
    want=$(find "$BACKUP_DIR" -maxdepth 1 -type f -name 'stillontime-*.dump' -printf '%f\n' | sort -r | head -n 1)
    [[ -n "$want" ]] || die "no backups in $BACKUP_DIR"
  fi
  [[ "$want" != */* && "$want" != .* ]] || die "backup name must be a file name in $BACKUP_DIR"
  [[ -f "$BACKUP_DIR/$want" ]] || die "backup $want not found in $BACKUP_DIR"
  printf '%s\n' "$want"
}

table_count() {
  psql_value "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname NOT IN ('pg_catalog','information_schema')"
}

main() {
  [[ $# -eq 1 ]] || die "usage: restore.sh NAME|latest"
  pg_env
  local name file
  name=$(resolve "$1")
  file="$BACKUP_DIR/$name"
  pg_restore --list "$file" >/dev/null || die "$name is not a readable dump"
  wait_for_database

  if [[ "$RESTORE_MODE" == bootstrap ]]; then
    local existing
    existing=$(table_count) || die "cannot inspect database $PGDATABASE"
    if [[ "$existing" != 0 ]]; then
      log "database $PGDATABASE already has $existing tables: bootstrap skipped, nothing changed"
      printf 'skipped %s\n' "$name"
      return 0
    fi
  elif [[ "$RESTORE_MODE" == restore ]]; then
    local safety partial
    safety="pre-restore-$(date -u +%Y%m%dT%H%M%SZ).dump"
    partial="$BACKUP_DIR/.$safety.partial"
    log "safety dump of the current database to $safety"
    if ! pg_dump -Fc --no-password --file="$partial" || ! pg_restore --list "$partial" >/dev/null; then
      rm -f "$partial"
      die "safety dump failed: nothing restored"
    fi
    mv -f "$partial" "$BACKUP_DIR/$safety"
  else
    die "RESTORE_MODE must be restore or bootstrap"
  fi

  log "restoring $name into $PGDATABASE on $PGHOST:${PGPORT:-5432}"
  if ! pg_restore --no-password --single-transaction --clean --if-exists --no-owner --no-privileges \
      --exit-on-error --dbname="$PGDATABASE" "$file"; then
    die "pg_restore of $name failed; the transaction was rolled back and the database is unchanged"
  fi

  # Verify: every table in the dump exists again.
  local missing=0 schema table
  while read -r schema table; do
    [[ -n "$table" ]] || continue
    if [[ $(psql_value "SELECT to_regclass('\"$schema\".\"$table\"') IS NOT NULL") != t ]]; then
      log "table $schema.$table missing after restore"
      missing=$((missing + 1))
    fi
  done < <(pg_restore --list "$file" | awk '$4 == "TABLE" && $5 != "DATA" {print $5, $6}')
  (( missing == 0 )) || die "$missing tables missing after restoring $name"
  log "restored $name"
  termination_message "restored $name"
  printf 'restored %s\n' "$name"
}

main "$@"
