#!/usr/bin/env bash
# StillOnTime backup: what the N-backup CronJob (and each on-demand backup Job) runs.
# The operator mounts this file from the ConfigMap N-backup-scripts at /scripts, beside env.sh.
#
#   backup.sh            dump PostgreSQL, verify, publish, attach the Redis snapshot, prune
#   backup.sh redis      only take the Redis snapshot into $BACKUP_DIR/.staging (the Job's
#                        init container runs this in the redis image, which has redis-cli)
#   backup.sh all        both steps in one process (when redis-cli and pg_dump are both present)
#
# Environment (credentials only from here, never from the command line): env.sh's (BACKUP_DIR,
# PGHOST... or DATABASE_URL, TERMINATION_LOG: the published file name goes there), plus
#   REDIS_HOST REDIS_PORT REDIS_PASSWORD         Redis snapshot (REDIS_HOST empty: no snapshot)
#   RETENTION_DAYS    delete dumps older than this many days (0 or empty: no age limit)
#   KEEP              keep at most this many dumps (0 or empty: no count limit)
#
# Guarantees: a file named stillontime-YYYYmmddTHHMMSSZ.dump exists only when pg_dump succeeded
# and pg_restore --list could read it; any failure exits non-zero and removes the partial file;
# pruning never deletes the newest good dump. The last line on stdout is the file name written.
set -euo pipefail
umask 077

LOG_TAG=backup
# shellcheck source-path=SCRIPTDIR source=env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

STAGING="$BACKUP_DIR/.staging"
RETENTION_DAYS=${RETENTION_DAYS:-0}
KEEP=${KEEP:-0}
POD=${HOSTNAME:-local}

redis_snapshot() {
  if [[ -z "${REDIS_HOST:-}" ]]; then
    log "REDIS_HOST not set: no Redis snapshot"
    return 0
  fi
  command -v redis-cli >/dev/null || die "redis-cli not found"
  mkdir -p "$STAGING"
  local partial="$STAGING/redis-$POD.rdb.partial" final="$STAGING/redis-$POD.rdb"
  rm -f "$partial"
  # REDISCLI_AUTH keeps the password off the command line (ps would show -a).
  if ! REDISCLI_AUTH=${REDIS_PASSWORD:-} redis-cli -h "$REDIS_HOST" -p "${REDIS_PORT:-6379}" --no-auth-warning \
      --rdb "$partial" >&2; then
    rm -f "$partial"
    die "redis snapshot from $REDIS_HOST:${REDIS_PORT:-6379} failed"
  fi
  [[ -s "$partial" ]] || { rm -f "$partial"; die "redis snapshot is empty"; }
  mv -f "$partial" "$final"
  log "redis snapshot staged ($(stat -c %s "$final") bytes)"
}

# Prints the dumps, newest first (names sort by their UTC timestamp).
list_dumps() {
  find "$BACKUP_DIR" -maxdepth 1 -type f -name 'stillontime-*.dump' -printf '%f\n' | sort -r
}

# Seconds since the epoch from a dump name stillontime-YYYYmmddTHHMMSSZ.dump.
dump_epoch() {
  local stamp=${1#stillontime-}
  stamp=${stamp%.dump}
  [[ "$stamp" =~ ^([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z$ ]] || return 1
  date -u -d "${BASH_REMATCH[1]}-${BASH_REMATCH[2]}-${BASH_REMATCH[3]} ${BASH_REMATCH[4]}:${BASH_REMATCH[5]}:${BASH_REMATCH[6]}" +%s
}

remove_dump() {
  local name=$1
  rm -f "$BACKUP_DIR/$name" "$BACKUP_DIR/${name%.dump}.rdb"
  log "pruned $name"
}

# Age and count limits; the newest dump (the one just written) always stays.
prune() {
  local newest="" name epoch now index=0
  now=$(date -u +%s)
  while IFS= read -r name; do
    [[ -n "$name" ]] || continue
    index=$((index + 1))
    if [[ -z "$newest" ]]; then newest=$name; continue; fi
    if [[ "$KEEP" =~ ^[0-9]+$ && "$KEEP" -gt 0 && "$index" -gt "$KEEP" ]]; then remove_dump "$name"; continue; fi
    if [[ "$RETENTION_DAYS" =~ ^[0-9]+$ && "$RETENTION_DAYS" -gt 0 ]] && epoch=$(dump_epoch "$name"); then
      if (( now - epoch > RETENTION_DAYS * 86400 )); then remove_dump "$name"; fi
    fi
  done < <(list_dumps)
  # Leftovers of crashed runs: partial files older than a day.
  find "$BACKUP_DIR" -maxdepth 1 -type f -name '.stillontime-*.partial' -mmin +1440 -delete 2>/dev/null || true
  find "$STAGING" -maxdepth 1 -type f -name 'redis-*' -mmin +1440 -delete 2>/dev/null || true
}

backup_postgres() {
  pg_env
  mkdir -p "$BACKUP_DIR"
  local stamp name partial
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  name="stillontime-$stamp.dump"
  partial="$BACKUP_DIR/.$name.partial"
  # Anything that fails from here on leaves no partial file behind.
  trap 'rm -f "$partial"' EXIT
  [[ ! -e "$BACKUP_DIR/$name" ]] || die "$name already exists (two backups in the same second)"
  log "dumping database $PGDATABASE on $PGHOST:${PGPORT:-5432} to $name"
  pg_dump -Fc --no-password --file="$partial" || die "pg_dump failed"
  pg_restore --list "$partial" >/dev/null || die "pg_restore --list cannot read the dump"
  sync "$partial" 2>/dev/null || true
  mv -f "$partial" "$BACKUP_DIR/$name"
  trap - EXIT
  log "wrote $name ($(stat -c %s "$BACKUP_DIR/$name") bytes)"
  if [[ -f "$STAGING/redis-$POD.rdb" ]]; then
    mv -f "$STAGING/redis-$POD.rdb" "$BACKUP_DIR/stillontime-$stamp.rdb"
    log "wrote stillontime-$stamp.rdb"
  fi
  prune
  termination_message "$name"
  printf '%s\n' "$name"
}

case "${1:-}" in
  redis) redis_snapshot ;;
  all) redis_snapshot; backup_postgres ;;
  ""|postgres) backup_postgres ;;
  prune) prune ;;
  *) die "unknown step ${1}: use redis, postgres, all or prune" ;;
esac
