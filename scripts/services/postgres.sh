#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests (Debian's `postgresql` server binaries).
#   scripts/services/postgres.sh start   initdb + start on a free 127.0.0.1 port; prints the URL
#                                        (postgresql+psycopg://veribot@127.0.0.1:PORT/veribot) on stdout
#   scripts/services/postgres.sh stop    stop it and remove its files
#   scripts/services/postgres.sh url     print the URL of the running cluster
# The cluster lives in $VERIBOT_PG_DIR (default /tmp/veribot-pg-<uid>-<hash of this checkout>).
# Nested starts share one cluster (reference count); the last stop removes it.
# As root the server runs as the `postgres` user (it refuses to run as root).
set -euo pipefail
cd "$(dirname "$0")/../.."
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$PGBIN/initdb" ] || { echo "postgres.sh: no PostgreSQL server binaries (apt-get install postgresql)" >&2; exit 1; }
DIR=${VERIBOT_PG_DIR:-/tmp/veribot-pg-$(id -u)-$(pwd | md5sum | cut -c1-8)}
RUNAS=()
if [ "$(id -u)" -eq 0 ]; then RUNAS=(runuser -u postgres --); fi
as_pg() { "${RUNAS[@]}" "$@"; }

url() { echo "postgresql+psycopg://veribot@127.0.0.1:$(cat "$DIR/port")/veribot"; }
running() { [ -f "$DIR/data/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; }

start() {
  if running; then
    echo $(( $(cat "$DIR/refs" 2>/dev/null || echo 1) + 1 )) > "$DIR/refs"
    url; return 0
  fi
  rm -rf "$DIR"; mkdir -p "$DIR"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  echo "$port" > "$DIR/port"; echo 1 > "$DIR/refs"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$DIR"
  as_pg "$PGBIN/initdb" -D "$DIR/data" -U veribot --auth=trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
    || { cat "$DIR/initdb.log" >&2; exit 1; }
  as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 start 9>&- \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $DIR -c max_connections=200 -c fsync=on" >/dev/null \
    || { cat "$DIR/server.log" >&2; exit 1; }
  as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U veribot veribot
  url
}

stop() {
  [ -d "$DIR" ] || return 0
  refs=$(cat "$DIR/refs" 2>/dev/null || echo 1)
  if [ "$refs" -gt 1 ] && running; then echo $((refs - 1)) > "$DIR/refs"; return 0; fi
  if running; then as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null; fi
  rm -rf "$DIR"
}

# the lock guards start/stop; the server must not inherit it (9>&- above)
exec 9>"/tmp/.veribot-pg-$(id -u).lck"; flock 9
case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) running && url ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
