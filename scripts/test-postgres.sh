#!/usr/bin/env bash
# Makes sure a throw-away PostgreSQL 15 runs for the tests (127.0.0.1:54329, trust auth, C collation so
# text sorts as SQLite sorts it) and prints its URL. Idempotent and safe to call from tests in parallel.
# `scripts/test-postgres.sh stop` stops it; `crash` stops it at once. METALPLANE_TEST_PG_PORT and _DIR pick another instance;
# METALPLANE_TEST_PG_HOST, an address of a test fleet's host (run the script there with `ip netns exec`), serves the fleet's
# management network (10.66.0.0/16) instead of loopback.
set -euo pipefail
PORT=${METALPLANE_TEST_PG_PORT:-54329}
DIR=${METALPLANE_TEST_PG_DIR:-/var/tmp/metalplane-test-pg}
HOST=${METALPLANE_TEST_PG_HOST:-127.0.0.1}
BIN=/usr/lib/postgresql/15/bin
URL="postgresql://postgres@$HOST:$PORT/postgres"
# initdb and pg_ctl refuse to run as root: run them as the postgres user Debian's package creates.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

mkdir -p "$DIR"
[ "$(id -u)" = 0 ] && chown postgres "$DIR"
exec 9>"$DIR.lock"
flock 9
if [ "${1:-}" = stop ] || [ "${1:-}" = crash ]; then
  # crash: an immediate stop, as a power cut would leave it (the tests of failures use it).
  [ -f "$DIR/data/postmaster.pid" ] && as_pg "$BIN/pg_ctl" -D "$DIR/data" -m "$([ "$1" = crash ] && echo immediate || echo fast)" -w stop >/dev/null
  exit 0
fi
if "$BIN/pg_isready" -q -h "$HOST" -p "$PORT"; then echo "$URL"; exit 0; fi
# The server must not inherit a caller's descriptors (Foundation's Process leaves them open in its
# children): a pipe the caller reads to its end would then never end. Keep 0-2 and the lock (9).
for fd in /proc/$$/fd/*; do
  n=${fd##*/}
  if [ "$n" -gt 2 ] && [ "$n" != 9 ]; then eval "exec $n>&-" 2>/dev/null || true; fi
done
if [ ! -f "$DIR/data/PG_VERSION" ]; then
  as_pg "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust --locale=C -E UTF8 >/dev/null
  if [ "$HOST" != 127.0.0.1 ]; then echo "host all all 10.66.0.0/16 trust" >>"$DIR/data/pg_hba.conf"; fi
fi
as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
  -o "-p $PORT -k $DIR -c listen_addresses=$HOST -c max_connections=400 -c shared_buffers=64MB" start >/dev/null 2>&1 9>&-
echo "$URL"
