#!/bin/sh
# Entry point of the redis image: `redis-server ...` (what the operator renders) and any
# other command run as given; bare options or a config file are handed to redis-server.
set -eu
case "${1:-}" in
  "" ) set -- redis-server ;;
  -* | *.conf) set -- redis-server "$@" ;;
esac
exec "$@"
