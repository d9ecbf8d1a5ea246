#!/usr/bin/env bash
# The test fleet's network: hosts made of Linux network namespaces around a fabric namespace that
# plays the top-of-rack switch. Root only. Used by scripts/fleet.sh (a fleet for a person) and by
# the multi-host system tests (Tests/SystemTests/Fleet), so both run on the same topology.
#
#   fleet-net.sh up PREFIX [NODES] [HOST…]  make PREFIX-fab, PREFIX-ctl, PREFIX-op and PREFIX-n1..nNODES (default 3), and
#                                    the control plane's other hosts named (management port only): cp2..cp9 (more
#                                    controller replicas), db1..db9 (PostgreSQL members), dcs (etcd), dir (an LDAP directory)
#   fleet-net.sh down PREFIX         remove them (and everything running in them is cut off)
#   fleet-net.sh cut PREFIX HOST     drop every packet to and from HOST's ports at the fabric (a cut cable)
#   fleet-net.sh mend PREFIX HOST    undo cut
#   fleet-net.sh reap                remove fleets whose owner (the pid in the prefix: mpfPID… tests, mpbPID… benches) has exited
#
# Addresses (each host port is a routed point-to-point /24 on the fabric, k = host number):
#   management  10.66.k.2 on the host's mgmt0, fabric side 10.66.k.1; a node's BMC answers on 10.66.k.3
#   data        10.67.k.2 on the host's data0, fabric side 10.67.k.1 (the controller's router and the nodes' engines)
#   hosts: ctl k=1, op k=2, cp2..cp9 k=3..10, n1.. k=11.., db1..db9 k=21..29, dcs k=30, dir k=31
# This machine's kernel has no bridge, 802.1Q or VRF devices, so the fabric routes between its ports
# and its nftables forward chain decides what passes: management ports reach each other; the
# controller's and the operator's ports reach node data ports; node data ports never reach each
# other except on their tenant's segments, which the switch agent (`metalplane switch`, run in the
# fabric namespace on 10.66.1.1:7830) programs; a port only sends from its own addresses (no
# spoofing). Nothing is added outside the fleet's own namespaces.
set -euo pipefail

# The tenant supernet the switch agent carves segments from (the controller's fabric.tenantNetwork).
TENANT_NETWORK=${METALPLANE_FABRIC_TENANT_NETWORK:-10.128.0.0/12}

host_number() {
  case "$1" in
    ctl) echo 1 ;;
    op) echo 2 ;;
    cp[2-9]) echo $((1 + ${1#cp})) ;;
    n*) echo $((10 + ${1#n})) ;;
    db[1-9]) echo $((20 + ${1#db})) ;;
    dcs) echo 30 ;;
    dir) echo 31 ;;
    *) echo "unknown host $1" >&2; exit 2 ;;
  esac
}

# Hosts with a data port: the controller and its replicas (their routers reach the engines) and the nodes.
has_data_port() { case "$1" in ctl|cp*|n*) return 0 ;; *) return 1 ;; esac; }

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# One host port: veth HOST-SUFFIX on the fabric, IFNAME in the host; NET is 10.66 or 10.67.
add_port() {
  local prefix=$1 host=$2 ifname=$3 suffix=$4 net=$5
  local k; k=$(host_number "$host")
  local fabric_end="${host}-${suffix}" host_ns="${prefix}-${host}" fabric_ns="${prefix}-fab"
  # The host end is born in this namespace for a moment: a name unique to the fleet and port (15 characters at most).
  local temporary; temporary="v$(printf '%s' "$prefix/$host/$suffix" | md5sum | cut -c1-13)"
  ip link add "$temporary" type veth peer name "$fabric_end" netns "$fabric_ns"
  ip link set "$temporary" netns "$host_ns"
  in_ns "$host_ns" ip link set "$temporary" name "$ifname"
  in_ns "$host_ns" ip addr add "$net.$k.2/24" dev "$ifname"
  in_ns "$host_ns" ip link set "$ifname" up
  in_ns "$fabric_ns" ip addr add "$net.$k.1/24" dev "$fabric_end"
  in_ns "$fabric_ns" ip link set "$fabric_end" up
}

up() {
  local prefix=$1 nodes=${2:-3}
  shift 2 || shift $#
  local hosts=(ctl op) node_hosts=() router_hosts=(ctl) extra
  for i in $(seq 1 "$nodes"); do hosts+=("n$i"); node_hosts+=("n$i"); done
  for extra in "$@"; do
    host_number "$extra" >/dev/null
    hosts+=("$extra")
    case "$extra" in cp*) router_hosts+=("$extra") ;; esac
  done
  ip netns add "${prefix}-fab"
  in_ns "${prefix}-fab" ip link set lo up
  in_ns "${prefix}-fab" sysctl -qw net.ipv4.ip_forward=1
  # Tenant segments are routed by policy (a VRF's table per ingress port); strict reverse-path
  # checks against the main table would drop them.
  in_ns "${prefix}-fab" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
  for host in "${hosts[@]}"; do
    ip netns add "${prefix}-${host}"
    in_ns "${prefix}-${host}" ip link set lo up
    add_port "$prefix" "$host" mgmt0 m 10.66
    in_ns "${prefix}-${host}" ip route add default via "10.66.$(host_number "$host").1"
    # Data ports: the controllers' (their routers: ctl and the replicas cp*) and the nodes'; db* and dcs have management only.
    if has_data_port "$host"; then
      add_port "$prefix" "$host" data0 d 10.67
      in_ns "${prefix}-${host}" ip route add 10.67.0.0/16 via "10.67.$(host_number "$host").1" dev data0
      # Answers from a data address leave by the data port (policy routing), as a dual-homed server's do.
      in_ns "${prefix}-${host}" ip route add default via "10.67.$(host_number "$host").1" dev data0 table 100
      in_ns "${prefix}-${host}" ip rule add from "10.67.$(host_number "$host").2" table 100
    fi
    # A node's BMC: a second management address on the node (sushy-tools listens there in the tests).
    case "$host" in n*) in_ns "${prefix}-${host}" ip addr add "10.66.$(host_number "$host").3/24" dev mgmt0 ;; esac
  done
  {
    echo "table inet fabric {"
    echo "  set cut { type ifname; }"
    echo "  chain forward {"
    echo "    type filter hook forward priority 0; policy drop;"
    echo "    iifname @cut drop"
    echo "    oifname @cut drop"
    # Tenant traffic (the tenant supernet on both ends) was judged by the switch agent's table
    # (inet mp_tenants, an earlier hook priority): only members of one VRF pass it, by port and address.
    echo "    ip saddr $TENANT_NETWORK ip daddr $TENANT_NETWORK accept"
    for host in "${hosts[@]}"; do
      local k; k=$(host_number "$host")
      echo "    iifname \"${host}-m\" ip saddr != 10.66.$k.0/24 drop"
      if has_data_port "$host"; then echo "    iifname \"${host}-d\" ip saddr != 10.67.$k.0/24 drop"; fi
    done
    # nft wildcards only match a name's end, so the port groups are listed.
    local management node_data
    management=$(printf '"%s-m", ' "${hosts[@]}"); management="{ ${management%, } }"
    node_data=$(printf '"%s-d", ' "${node_hosts[@]}"); node_data="{ ${node_data%, } }"
    echo "    iifname $management oifname $management accept"
    # The routers (the controller's and its replicas') and the operator reach node data ports; answers come back.
    local routers
    routers=$(printf '"%s-d", ' "${router_hosts[@]}"); routers="{ ${routers}\"op-m\" }"
    echo "    iifname $routers oifname $node_data accept"
    echo "    iifname $node_data oifname $routers ct state established,related accept"
    echo "  }"
    # The switch agent's API (port 7830 on the switch's addresses) answers the controller's port only.
    echo "  chain input {"
    echo "    type filter hook input priority 0; policy accept;"
    echo "    tcp dport 7830 iifname != \"ctl-m\" drop"
    echo "  }"
    echo "}"
  } | in_ns "${prefix}-fab" nft -f -
}

down() {
  local prefix=$1
  for ns in $(ip netns list | awk '{print $1}' | grep -E "^${prefix}-" || true); do
    # Whatever still runs on the host goes with it (a crashed test leaves its agents and engines behind).
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns delete "$ns" 2>/dev/null || true
  done
}

cut_host() {
  local prefix=$1 host=$2 verb=$3
  in_ns "${prefix}-fab" nft "$verb" element inet fabric cut "{ \"${host}-m\", \"${host}-d\" }"
}

reap() {
  for prefix in $(ip netns list | awk '{print $1}' | grep -oE "^mp[fb][0-9]+x[0-9a-z]+" | sort -u); do
    local pid=${prefix#mp?}; pid=${pid%%x*}
    if ! kill -0 "$pid" 2>/dev/null; then down "$prefix"; fi
  done
}

case "${1:-}" in
  up) shift; prefix=$1; shift; up "$prefix" "${1:-3}" "${@:2}" ;;
  down) down "$2" ;;
  cut) cut_host "$2" "$3" add ;;
  mend) cut_host "$2" "$3" delete ;;
  reap) reap ;;
  *) sed -n '2,10p' "$0"; exit 2 ;;
esac
