#!/bin/bash
# Entry point of the postgres image. `postgres [OPTIONS]` (the default command):
#   - PGDATA empty or missing: initdb with POSTGRES_USER (default postgres) as superuser and
#     POSTGRES_PASSWORD as its password (required), scram-sha-256 for TCP from any address,
#     trust on the pod-local socket, listen on all addresses; then create POSTGRES_DB
#     (default: POSTGRES_USER) with a server that listens on the socket only.
#   - then replace this shell with postgres in the foreground (signals reach it directly).
# Any other command (bash /scripts/backup.sh, psql, ...) runs as given.
# The password goes to initdb through a pipe and to SQL as a psql variable: never on a
# command line, never in the log.
set -euo pipefail

log() { printf '%s postgres-entrypoint: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [[ $# -eq 0 || ${1:0:1} == - ]]; then set -- postgres "$@"; fi
if [[ $1 != postgres ]]; then exec "$@"; fi

: "${PGDATA:?PGDATA must be set}"
POSTGRES_USER=${POSTGRES_USER:-postgres}
POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}
[[ $(id -u) -ne 0 ]] || die "refusing to run as root"

mkdir -p "$PGDATA" 2>/dev/null || die "cannot create $PGDATA (uid $(id -u) needs write access to $(dirname "$PGDATA"))"
chmod 0700 "$PGDATA" 2>/dev/null || true
mkdir -p /var/run/postgresql 2>/dev/null || true

if [[ ! -s $PGDATA/PG_VERSION ]]; then
  [[ -n ${POSTGRES_PASSWORD:-} ]] || die "POSTGRES_PASSWORD is empty: the database would accept no password logins"
  if [[ -n $(find "$PGDATA" -mindepth 1 -maxdepth 1 -print -quit) ]]; then
    die "$PGDATA is not empty but holds no database (no PG_VERSION): refusing to initialise over it"
  fi
  log "initialising a new database cluster in $PGDATA"
  # initdb reads the password from a file; a pipe through /dev/fd keeps it off disk.
  initdb --pgdata="$PGDATA" --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
    --auth-host=scram-sha-256 --auth-local=trust --encoding=UTF8 --locale=C.UTF-8 >&2
  {
    echo "# StillOnTime image: password logins over TCP from anywhere (the NetworkPolicy decides who reaches it)."
    echo "host all all 0.0.0.0/0 scram-sha-256"
    echo "host all all ::/0 scram-sha-256"
  } >>"$PGDATA/pg_hba.conf"
  {
    echo "listen_addresses = '*'"
    echo "unix_socket_directories = '/var/run/postgresql'"
  } >>"$PGDATA/postgresql.conf"

  if [[ $POSTGRES_DB != postgres ]]; then
    # A server on the socket only, so nothing can connect before the database exists.
    pg_ctl --pgdata="$PGDATA" --wait --silent -o "-c listen_addresses=''" start >&2
    psql --no-psqlrc --quiet -v ON_ERROR_STOP=1 --host=/var/run/postgresql --username="$POSTGRES_USER" \
      --dbname=postgres -v db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";' >&2
    pg_ctl --pgdata="$PGDATA" --wait --silent --mode=fast stop >&2
  fi
  log "database cluster ready (superuser ${POSTGRES_USER}, database ${POSTGRES_DB})"
fi

exec postgres "${@:2}"
