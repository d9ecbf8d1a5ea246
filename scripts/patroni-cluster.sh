#!/usr/bin/env bash
# A PostgreSQL 15 primary and a synchronous standby managed by Patroni (Debian's, 3.0) with etcd
# (Debian's etcd-server, 3.4) as its coordination store: the database tier of docs/ha.md, on this
# machine, for the HA tests, `metalplane bench failover` and a person trying it. Root only (postgres
# refuses root: Patroni runs as the postgres user).
#
#   patroni-cluster.sh up DIR BASEPORT     start etcd and two Patroni members, wait for a leader and a
#                                          streaming synchronous standby, create the metalplane database,
#                                          print the controller's --store URL (both members)
#   patroni-cluster.sh leader DIR          print the leader member's name (pg1 or pg2)
#   patroni-cluster.sh kill-leader DIR     kill -9 the leader's Patroni and its postmaster (a host lost
#                                          at once, with no goodbye); prints the killed member's name
#   patroni-cluster.sh wait-leader DIR     wait until a member other than a killed one leads; print it
#   patroni-cluster.sh rejoin DIR NAME     start a killed member again (it rejoins as a standby)
#   patroni-cluster.sh down DIR            kill everything and remove DIR
#
# Ports from BASEPORT: etcd client +0 and peer +1; pg1 PostgreSQL +10 and REST +20; pg2 +11 and +21.
# Timings (bootstrap.dcs): ttl 6 s, loop_wait 1 s, retry_timeout 2 s, so a lost leader's key expires
# within 6 s and the synchronous standby, the only member allowed to take over, is promoted.
set -euo pipefail
BIN=/usr/lib/postgresql/15/bin
COMMAND=${1:?usage: patroni-cluster.sh up|leader|kill-leader|wait-leader|rejoin|down DIR [BASEPORT|NAME]}
DIR=${2:?DIR}

rest_port() { echo $(( $(cat "$DIR/baseport") + 20 + ${1#pg} - 1 )); }
pg_port() { echo $(( $(cat "$DIR/baseport") + 10 + ${1#pg} - 1 )); }

# The cluster as Patroni's REST API of any live member sees it: one line per member, "name role state".
members() {
  local name
  for name in pg1 pg2; do
    if python3 - "$(rest_port "$name")" 2>/dev/null <<'EOF'; then return 0; fi
import json, sys, urllib.request
cluster = json.load(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/cluster", timeout=1))
for m in cluster["members"]:
    print(m["name"], m["role"], m["state"])
EOF
  done
  return 1
}

leader() { members | awk '$2 == "leader" && $3 == "running" { print $1 }'; }

# The server must not inherit a caller's descriptors (Foundation's Process leaves them open in its
# children): a pipe the caller reads to its end would then never end.
close_inherited() {
  local fd n
  for fd in /proc/$$/fd/*; do
    n=${fd##*/}
    if [ "$n" -gt 2 ]; then eval "exec $n>&-" 2>/dev/null || true; fi
  done
}

start_member() {
  local name=$1
  rm -f "$DIR/$name.patroni.pid"
  ( close_inherited
    cd "$DIR"
    # runuser stays as a parent: the pid to kill is the one Patroni's shell writes before it execs.
    setsid runuser -u postgres -- /bin/sh -c 'echo $$ >"$1.patroni.pid"; exec /usr/bin/patroni "$1.yml"' sh "$DIR/$name" \
      >>"$DIR/$name.log" 2>&1 </dev/null & )
  wait_for 10 "$name to start" test -s "$DIR/$name.patroni.pid"
}

write_member_config() {
  local name=$1 base=$2
  cat >"$DIR/$name.yml" <<EOF
scope: metalplane-test
name: $name
log:
  level: WARNING
restapi:
  listen: 127.0.0.1:$(rest_port "$name")
  connect_address: 127.0.0.1:$(rest_port "$name")
etcd3:
  hosts: 127.0.0.1:$base
bootstrap:
  dcs:
    ttl: 6
    loop_wait: 1
    retry_timeout: 2
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      parameters:
        max_connections: 200
        shared_buffers: 64MB
        wal_log_hints: "on"
  initdb:
    - encoding: UTF8
    - locale: C
  pg_hba:
    - local all all trust
    - host replication replicator 127.0.0.1/32 trust
    - host all all 127.0.0.1/32 trust
postgresql:
  listen: 127.0.0.1:$(pg_port "$name")
  connect_address: 127.0.0.1:$(pg_port "$name")
  data_dir: $DIR/$name
  bin_dir: $BIN
  pgpass: $DIR/$name.pgpass
  authentication:
    replication: {username: replicator, password: replicator}
    superuser: {username: postgres, password: postgres}
    rewind: {username: postgres, password: postgres}
  parameters:
    unix_socket_directories: $DIR
EOF
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2; shift 2
  local deadline=$(( $(date +%s) + seconds ))
  until "$@"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then echo "patroni-cluster: timed out waiting for $what" >&2; tail -n 20 "$DIR"/*.log >&2; exit 1; fi
    sleep 0.2
  done
}

has_leader() { [ -n "$(leader)" ]; }
healthy() { members | grep -q ' sync_standby running' && [ -n "$(leader)" ]; }

case "$COMMAND" in
  up)
    BASE=${3:?BASEPORT}
    mkdir -p "$DIR"; chown postgres "$DIR"; chmod 700 "$DIR"
    echo "$BASE" >"$DIR/baseport"
    ( close_inherited
      setsid /usr/bin/etcd --name etcd1 --data-dir "$DIR/etcd" \
        --listen-client-urls "http://127.0.0.1:$BASE" --advertise-client-urls "http://127.0.0.1:$BASE" \
        --listen-peer-urls "http://127.0.0.1:$((BASE + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((BASE + 1))" \
        --initial-cluster "etcd1=http://127.0.0.1:$((BASE + 1))" >"$DIR/etcd.log" 2>&1 </dev/null &
      echo $! >"$DIR/etcd.pid" )
    wait_for 30 etcd curl -sf "http://127.0.0.1:$BASE/health" -o /dev/null
    for name in pg1 pg2; do write_member_config "$name" "$BASE"; chown postgres "$DIR/$name.yml"; done
    start_member pg1
    wait_for 60 "pg1 to lead" has_leader
    start_member pg2
    wait_for 90 "a synchronous standby" healthy
    PRIMARY=$(leader)
    "$BIN/psql" -h 127.0.0.1 -p "$(pg_port "$PRIMARY")" -U postgres -q -c "CREATE DATABASE metalplane" postgres
    echo "postgresql://postgres@127.0.0.1:$(pg_port pg1),127.0.0.1:$(pg_port pg2)/metalplane?connect_timeout=1"
    ;;
  leader)
    leader
    ;;
  kill-leader)
    NAME=$(leader)
    [ -n "$NAME" ] || { echo "patroni-cluster: no leader" >&2; exit 1; }
    POSTMASTER=$(head -1 "$DIR/$NAME/postmaster.pid")
    kill -9 "$(cat "$DIR/$NAME.patroni.pid")" "$POSTMASTER"
    echo "$NAME" >"$DIR/killed"
    echo "$NAME"
    ;;
  wait-leader)
    KILLED=$(cat "$DIR/killed" 2>/dev/null || true)
    deadline=$(( $(date +%s) + 60 ))
    while :; do
      NOW=$(leader || true)
      if [ -n "$NOW" ] && [ "$NOW" != "$KILLED" ]; then echo "$NOW"; exit 0; fi
      [ "$(date +%s)" -lt "$deadline" ] || { echo "patroni-cluster: no new leader" >&2; exit 1; }
      sleep 0.1
    done
    ;;
  rejoin)
    NAME=${3:?NAME}
    start_member "$NAME"
    wait_for 90 "$NAME to stream again" healthy
    rm -f "$DIR/killed"
    ;;
  down)
    # Everything the cluster runs names DIR in its arguments: etcd's data dir, Patroni's config, postgres' -D.
    pkill -9 -f -- "$DIR/" || true
    for _ in $(seq 50); do pgrep -f -- "$DIR/" >/dev/null || break; sleep 0.1; done
    rm -rf "$DIR"
    ;;
  *)
    echo "unknown command $COMMAND" >&2; exit 2
    ;;
esac
