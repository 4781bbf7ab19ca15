# shellcheck shell=bash
# StillOnTime backup and restore: the environment both scripts read, in one place. Sourced by
# backup.sh and restore.sh from the directory they run from (/scripts in the Jobs, where the
# operator mounts all three from the ConfigMap N-backup-scripts); not run on its own.
#
# The sourcing script sets LOG_TAG (its name in log lines) first, and may define its own die()
# after sourcing.
#
# Environment (credentials only from here, never from the command line):
#   BACKUP_DIR        where dumps live (the N-backups PVC, /backups in the Jobs; default /backups)
#   PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE   from the Secret N-postgres-credentials, or
#   DATABASE_URL      postgresql://user:pass@host:port/db[?sslmode=...] (the external database's
#                     secretRef); turned into the PG* variables and unset
#   PGCONNECT_TIMEOUT seconds for each connection attempt (default 10)
#   TERMINATION_LOG   where the one-line result goes for the operator (default
#                     /dev/termination-log when writable: Kubernetes reports it in the pod status)

BACKUP_DIR=${BACKUP_DIR:-/backups}

log() { printf '%s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${LOG_TAG:?}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Leaves TEXT as the pod's termination message, when the file is there to write.
termination_message() {
  local termination=${TERMINATION_LOG:-/dev/termination-log}
  if [[ -w "$termination" ]]; then printf '%s' "$1" >"$termination" || true; fi
}

# Percent-decoding for the parts of DATABASE_URL.
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

# The connection settings pg_dump, pg_restore and psql read, checked before any of them runs.
pg_env() {
  if [[ -n "${DATABASE_URL:-}" ]]; then url_to_pgenv "$DATABASE_URL"; fi
  [[ -n "${PGHOST:-}" && -n "${PGDATABASE:-}" ]] || die "set PGHOST and PGDATABASE (or DATABASE_URL)"
  export PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-10}
}
