#!/usr/bin/env bash
# Makes sure a throw-away PostgreSQL 15 runs for the tests (127.0.0.1:54329, trust auth, C collation so
# text sorts as SQLite sorts it) and prints its URL. Idempotent and safe to call from tests in parallel.
# `scripts/test-postgres.sh stop` stops it.
set -euo pipefail
PORT=${METALPLANE_TEST_PG_PORT:-54329}
DIR=${METALPLANE_TEST_PG_DIR:-/var/tmp/metalplane-test-pg}
BIN=/usr/lib/postgresql/15/bin
URL="postgresql://postgres@127.0.0.1:$PORT/postgres"
# initdb and pg_ctl refuse to run as root: run them as the postgres user Debian's package creates.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

mkdir -p "$DIR"
[ "$(id -u)" = 0 ] && chown postgres "$DIR"
exec 9>"$DIR.lock"
flock 9
if [ "${1:-}" = stop ]; then
  [ -f "$DIR/data/postmaster.pid" ] && as_pg "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null
  exit 0
fi
if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then echo "$URL"; exit 0; fi
if [ ! -f "$DIR/data/PG_VERSION" ]; then
  as_pg "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust --locale=C -E UTF8 >/dev/null
fi
as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
  -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=400 -c shared_buffers=64MB" start >/dev/null 9>&-
echo "$URL"
