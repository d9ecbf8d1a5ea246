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
#   patroni-cluster.sh query DIR NAME SQL  run SQL with psql on member NAME's metalplane database (unaligned rows)
#   patroni-cluster.sh down DIR            kill everything and remove DIR
#
# Ports from BASEPORT: etcd client +0 and peer +1; pg1 PostgreSQL +10 and REST +20; pg2 +11 and +21.
# Hosts: everything on this machine's loopback, unless `up` is given hosts of the test fleet
# (scripts/fleet-net.sh) as NAME=NAMESPACE:ADDRESS in METALPLANE_PATRONI_HOSTS, e.g.
# "dcs=mpf1-dcs:10.66.30.2 pg1=mpf1-db1:10.66.21.2 pg2=mpf1-db2:10.66.22.2": each member then runs on
# its host, listens on its address, and replicates across the fabric.
# Timings (bootstrap.dcs): ttl 6 s, loop_wait 1 s, retry_timeout 2 s, so a lost leader's key expires
# within 6 s and the synchronous standby, the only member allowed to take over, is promoted.
set -euo pipefail
BIN=/usr/lib/postgresql/15/bin
COMMAND=${1:?usage: patroni-cluster.sh up|leader|kill-leader|wait-leader|rejoin|down DIR [BASEPORT|NAME]}
DIR=${2:?DIR}

# A member's (or dcs's) namespace and address, as `up` recorded them.
ns_of() { local entry; entry=$(grep "^$1=" "$DIR/hosts" 2>/dev/null | cut -d= -f2); echo "${entry%%:*}"; }
addr_of() { local entry; entry=$(grep "^$1=" "$DIR/hosts" 2>/dev/null | cut -d= -f2); echo "${entry#*:}"; }
# Runs a command on NAME's host (its namespace), or here.
on() { local ns; ns=$(ns_of "$1"); shift; if [ -n "$ns" ]; then ip netns exec "$ns" "$@"; else "$@"; fi; }

rest_port() { echo $(( $(cat "$DIR/baseport") + 20 + ${1#pg} - 1 )); }
pg_port() { echo $(( $(cat "$DIR/baseport") + 10 + ${1#pg} - 1 )); }

# The cluster as Patroni's REST API of any live member sees it: one line per member, "name role state".
members() {
  local name
  for name in pg1 pg2; do
    if on "$name" python3 - "$(addr_of "$name")" "$(rest_port "$name")" 2>/dev/null <<'EOF'; then return 0; fi
import json, sys, urllib.request
cluster = json.load(urllib.request.urlopen(f"http://{sys.argv[1]}:{sys.argv[2]}/cluster", timeout=1))
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
    on "$name" setsid runuser -u postgres -- /bin/sh -c 'echo $$ >"$1.patroni.pid"; exec /usr/bin/patroni "$1.yml"' sh "$DIR/$name" \
      >>"$DIR/$name.log" 2>&1 </dev/null & )
  wait_for 10 "$name to start" test -s "$DIR/$name.patroni.pid"
}

write_member_config() {
  local name=$1 base=$2 address dcs
  address=$(addr_of "$name"); dcs=$(addr_of dcs)
  cat >"$DIR/$name.yml" <<EOF
scope: metalplane-test
name: $name
log:
  level: WARNING
restapi:
  listen: $address:$(rest_port "$name")
  connect_address: $address:$(rest_port "$name")
etcd3:
  hosts: $dcs:$base
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
    - host replication replicator 10.66.0.0/16 trust
    - host all all 10.66.0.0/16 trust
postgresql:
  listen: $address:$(pg_port "$name")
  connect_address: $address:$(pg_port "$name")
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
    : >"$DIR/hosts"
    for name in dcs pg1 pg2; do
      entry=$(printf '%s\n' ${METALPLANE_PATRONI_HOSTS:-} | grep "^$name=" | cut -d= -f2 || true)
      echo "$name=${entry:-:127.0.0.1}" >>"$DIR/hosts"
    done
    DCS=$(addr_of dcs)
    ( close_inherited
      on dcs setsid /usr/bin/etcd --name etcd1 --data-dir "$DIR/etcd" \
        --listen-client-urls "http://$DCS:$BASE" --advertise-client-urls "http://$DCS:$BASE" \
        --listen-peer-urls "http://$DCS:$((BASE + 1))" --initial-advertise-peer-urls "http://$DCS:$((BASE + 1))" \
        --initial-cluster "etcd1=http://$DCS:$((BASE + 1))" >"$DIR/etcd.log" 2>&1 </dev/null & )
    wait_for 30 etcd on dcs curl -sf "http://$DCS:$BASE/health" -o /dev/null
    for name in pg1 pg2; do write_member_config "$name" "$BASE"; chown postgres "$DIR/$name.yml"; done
    start_member pg1
    wait_for 60 "pg1 to lead" has_leader
    start_member pg2
    wait_for 90 "a synchronous standby" healthy
    PRIMARY=$(leader)
    on "$PRIMARY" "$BIN/psql" -h "$(addr_of "$PRIMARY")" -p "$(pg_port "$PRIMARY")" -U postgres -q -c "CREATE DATABASE metalplane" postgres
    echo "postgresql://postgres@$(addr_of pg1):$(pg_port pg1),$(addr_of pg2):$(pg_port pg2)/metalplane?connect_timeout=1"
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
  query)
    NAME=${3:?NAME}
    on "$NAME" "$BIN/psql" -h "$(addr_of "$NAME")" -p "$(pg_port "$NAME")" -U postgres -At -v ON_ERROR_STOP=1 -c "${4:?SQL}" metalplane
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
