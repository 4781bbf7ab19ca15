#!/usr/bin/env bash
# StillOnTime restore: what the restore Job (spec.restore) and the bootstrap Job
# (spec.postgres.bootstrap.fromBackup) run. Mounted from the ConfigMap N-backup-scripts.
#
#   restore.sh NAME|latest
#
# Environment: the same as backup.sh (BACKUP_DIR, PGHOST... or DATABASE_URL), plus
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

BACKUP_DIR=${BACKUP_DIR:-/backups}
RESTORE_MODE=${RESTORE_MODE:-restore}
WAIT_SECONDS=${WAIT_SECONDS:-120}

log() { printf '%s restore: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() {
  log "ERROR: $*"
  local termination=${TERMINATION_LOG:-/dev/termination-log}
  if [[ -w "$termination" ]]; then printf 'restore failed: %s' "$*" >"$termination" || true; fi
  exit 1
}

urldecode() { local s=${1//+/ }; printf '%b' "${s//%/\\x}"; }

# DATABASE_URL -> PG* variables, so the password never appears on a command line.
url_to_pgenv() {
  local url=$1 rest userinfo hostport query
  [[ "$url" =~ ^postgres(ql)?:// ]] || die "DATABASE_URL must start with postgresql://"
  rest=${url#*://}
  query=""
  if [[ "$rest" == *\?* ]]; then query=${rest#*\?}; rest=${rest%%\?*}; fi
  if [[ "$rest" == *@* ]]; then
    userinfo=${rest%@*}
    rest=${rest##*@}
    if [[ "$userinfo" == *:* ]]; then
      PGUSER=$(urldecode "${userinfo%%:*}")
      PGPASSWORD=$(urldecode "${userinfo#*:}")
    else
      PGUSER=$(urldecode "$userinfo")
    fi
  fi
  hostport=${rest%%/*}
  if [[ "$rest" == */* ]]; then PGDATABASE=$(urldecode "${rest#*/}"); fi
  if [[ "$hostport" == *:* ]]; then PGHOST=${hostport%%:*}; PGPORT=${hostport##*:}; else PGHOST=$hostport; fi
  local kv
  IFS='&' read -r -a kvs <<<"$query"
  for kv in "${kvs[@]}"; do
    case "$kv" in
      sslmode=*) PGSSLMODE=${kv#sslmode=}; export PGSSLMODE ;;
    esac
  done
  export PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE
  unset DATABASE_URL
}

pg_env() {
  if [[ -n "${DATABASE_URL:-}" ]]; then url_to_pgenv "$DATABASE_URL"; fi
  [[ -n "${PGHOST:-}" && -n "${PGDATABASE:-}" ]] || die "set PGHOST and PGDATABASE (or DATABASE_URL)"
  export PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-10}
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
  local termination=${TERMINATION_LOG:-/dev/termination-log}
  if [[ -w "$termination" ]]; then printf 'restored %s' "$name" >"$termination" || true; fi
  printf 'restored %s\n' "$name"
}

main "$@"
