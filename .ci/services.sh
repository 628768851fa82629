#!/usr/bin/env bash
# Postgres and Redis for the scaled-out layout (`make cluster`) and its tests, on this
# machine: installs Debian's packages when they are missing, starts Postgres as its own
# user (it refuses to run as root) and redis-server, each on a private port bound to
# 127.0.0.1, and prints the URLs as `export` lines. Idempotent: running it again only
# prints the URLs of what already runs.
#
#   eval "$(.ci/services.sh)"      # start (or find) both, export DATABASE_URL_POSTGRES, REDIS_URL
#   .ci/services.sh stop           # stop both
#
# Settings: SERVICES_DIR (/var/tmp/shingleai-services), PG_PORT (55432), REDIS_PORT (56379).
set -euo pipefail
DIR=${SERVICES_DIR:-/var/tmp/shingleai-services}
PG_PORT=${PG_PORT:-55432}
REDIS_PORT=${REDIS_PORT:-56379}
PG_DATABASE=shingleai

say() { echo "$@" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

install_missing() {
  local packages=()
  [ -n "$(pg_bin)" ] || packages+=(postgresql)
  command -v redis-server >/dev/null || packages+=(redis-server)
  if [ ${#packages[@]} -gt 0 ]; then
    say "Installing Debian's ${packages[*]}…"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >&2
  fi
}

# Postgres runs as the `postgres` user when we are root, else as ourselves.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
  local bin data="$DIR/postgres"
  bin=$(pg_bin)
  mkdir -p "$DIR"
  chmod 1777 "$DIR"  # the postgres user writes its socket and log here
  if [ ! -s "$data/PG_VERSION" ]; then
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown postgres: "$data"
    as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  if ! as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$data" -l "$DIR/postgres.log" -w -t 60 start \
      -o "-p $PG_PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off" >/dev/null
  fi
  if ! "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -Atc \
      "SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE'" | grep -q 1; then
    "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$PG_DATABASE"
  fi
}

start_redis() {
  mkdir -p "$DIR"
  if ! redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --dir "$DIR" \
      --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log" --save '' --appendonly no
    for _ in $(seq 100); do
      redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
      sleep 0.1
    done
  fi
}

stop_all() {
  local bin
  bin=$(pg_bin)
  if [ -n "$bin" ] && [ -s "$DIR/postgres/PG_VERSION" ]; then
    as_pg "$bin/pg_ctl" -D "$DIR/postgres" -m fast stop >/dev/null 2>&1 || true
  fi
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
}

case "${1:-start}" in
  start)
    install_missing
    start_postgres
    start_redis
    echo "export DATABASE_URL_POSTGRES=postgresql://postgres@127.0.0.1:$PG_PORT/$PG_DATABASE"
    echo "export REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
    ;;
  stop) stop_all ;;
  *) say "usage: $0 [start|stop]"; exit 2 ;;
esac
