#!/usr/bin/env bash
# A fleet on this one machine, for a person to try what crosses machines (root only): the hosts of
# scripts/fleet-net.sh (network namespaces around a routed, filtered fabric; prefix "mpdemo"), with
#   - the controller on the host ctl (management 10.66.1.2:8080, data 10.67.1.2);
#   - on each node host nK: a BMC (sushy-tools' Redfish emulator, a stand-in: no real BMC here) on
#     10.66.(10+K).3:8000, the node agent (node API on 10.66.(10+K).2:52415, engines on 10.67.(10+K).2);
#   - a tenant "demo" whose project holds every node, and SmolLM2 served by llama-server on one of them;
#   - the operator host op, from which you reach all of it as a person on the rack would.
#
#   sudo scripts/fleet.sh up [NODES]   build, stand the fleet up (3 nodes by default), print how to reach it
#   sudo scripts/fleet.sh down         stop every process and remove the namespaces
# The README's main command (scripts/run.sh) stays the one-machine demo; docs/deploy.md explains the layout.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=mpdemo
DIR=${METALPLANE_FLEET_DIR:-/tmp/metalplane-fleet}
CACHE=${METALPLANE_CACHE:-$HOME/.cache/metalplane}
MODEL=HuggingFaceTB/SmolLM2-135M-Instruct
CTL=10.66.1.2:8080

on() { local host=$1; shift; ip netns exec "$PREFIX-$host" "$@"; }
# Runs a command on its host in the background, its pid recorded for `down`.
spawn() {
  local host=$1 log=$2; shift 2
  nohup ip netns exec "$PREFIX-$host" "$@" >"$log" 2>&1 &
  echo $! >> "$DIR/pids"
}

down() {
  if [ -f "$DIR/pids" ]; then
    while read -r pid; do kill "$pid" 2>/dev/null || true; done < "$DIR/pids"
    sleep 2
    while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done < "$DIR/pids"
    rm -f "$DIR/pids"
  fi
  # Engines the agents started are their children (and die with them); anything left in a namespace goes with it.
  bash scripts/fleet-net.sh down "$PREFIX"
  echo "fleet $PREFIX is down (state kept in $DIR; delete it for a fresh start)"
}

up() {
  local nodes=${1:-3}
  [ "$(id -u)" = 0 ] || { echo "fleet.sh needs root (network namespaces)" >&2; exit 1; }
  if ip netns list | grep -q "^$PREFIX-"; then echo "a fleet is already up: scripts/fleet.sh down first" >&2; exit 1; fi
  bash scripts/install-deps.sh
  swift build -c release --product metalplane
  local bin; bin=$(pwd)/.build/release/metalplane
  # shellcheck disable=SC1091
  source "$CACHE/peers.env"
  rm -rf "$DIR"; mkdir -p "$DIR"
  bash scripts/fleet-net.sh up "$PREFIX" "$nodes"

  local store="$DIR/controller/models/HuggingFaceTB--SmolLM2-135M-Instruct"
  mkdir -p "$store"
  ln "$SMOLLM2_GGUF" "$store/model.gguf" 2>/dev/null || cp "$SMOLLM2_GGUF" "$store/model.gguf"
  echo '{"layers": 30, "tensorSharding": false, "overheadFactor": 1.5, "engines": ["llama-server"]}' > "$store/metalplane-model.json"
  local password; password=$(python3 -c "import secrets; print(secrets.token_urlsafe(16))")
  echo "$password" > "$DIR/admin-password"; chmod 600 "$DIR/admin-password"
  METALPLANE_BOOTSTRAP_PASSWORD=$password spawn ctl "$DIR/controller.log" "$bin" controller --data-dir "$DIR/controller" --listen "$CTL"

  # The BMCs, one per node host, on the node's BMC address.
  for k in $(seq 1 "$nodes"); do
    local bmc="10.66.$((10 + k)).3"
    mkdir -p "$DIR/bmc-n$k/state"
    cat > "$DIR/bmc-n$k/emulator.conf" <<CONF
SUSHY_EMULATOR_LISTEN_IP = '$bmc'
SUSHY_EMULATOR_LISTEN_PORT = 8000
SUSHY_EMULATOR_FAKE_DRIVER = True
SUSHY_EMULATOR_STATE_DIR = '$DIR/bmc-n$k/state'
SUSHY_EMULATOR_FAKE_SYSTEMS = [{'uuid': '$(python3 -c "import uuid; print(uuid.uuid4())")', 'name': 'n$k', 'power_state': 'Off', 'nics': [{'mac': '00:5c:52:31:3a:$((10 + k))', 'ip': '$bmc'}]}]
CONF
    spawn "n$k" "$DIR/bmc-n$k/emulator.log" "$CACHE/sushy/bin/sushy-emulator" --config "$DIR/bmc-n$k/emulator.conf"
  done

  # lldpd on the switch and on every node's data port, so the agents can check their cabling (LLDP every second).
  lldp() {
    local host=$1 name=$2 interfaces=$3
    printf 'configure system hostname %s\nconfigure lldp portidsubtype ifname\nconfigure lldp tx-interval 1\n' "$name" > "$DIR/lldp-$host.conf"
    spawn "$host" "$DIR/lldp-$host.log" lldpd -d -u "$DIR/lldp-$host.sock" -O "$DIR/lldp-$host.conf" -I "$interfaces"
  }
  lldp fab leaf1 "$(seq 1 "$nodes" | sed 's/^/n/; s/$/-d/' | paste -sd, -)"
  for k in $(seq 1 "$nodes"); do lldp "n$k" "n$k" data0; done

  # The top-of-rack switch's agent, in the fabric namespace, on the controller's side of the fabric.
  [ -f "$DIR/switch.token" ] || { head -c 24 /dev/urandom | base64 | tr -d '/+=' > "$DIR/switch.token"; chmod 600 "$DIR/switch.token"; }
  spawn fab "$DIR/switch.log" "$bin" switch --listen 10.66.1.1:7830 --token-file "$DIR/switch.token"

  # Everything below is done from the operator host, over the fabric.
  json() { python3 -c "import sys, json; print(json.load(sys.stdin)$1)"; }
  op() { on op curl -fsS -m 30 "$@"; }
  for _ in $(seq 1 150); do op "http://$CTL/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
  token() { op "http://$CTL/realms/$1/protocol/openid-connect/token" -d grant_type=password -d client_id=metalplane-cli \
    -d username="$2" --data-urlencode "password=$3" | json "['access_token']"; }
  local admin; admin=$(token platform admin "$password")
  api() { op -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' "$@"; }
  for k in $(seq 1 "$nodes"); do
    local system; system=$(op "http://10.66.$((10 + k)).3:8000/redfish/v1/Systems" | json "['Members'][0]['@odata.id']")
    api -X POST "http://$CTL/api/v1/nodes" -d "{\"name\": \"n$k\", \"fabric\": \"rack-a\", \"bmc\": {\"address\": \"http://10.66.$((10 + k)).3:8000$system\", \"username\": \"root\", \"password\": \"bmc\"}}" >/dev/null
  done
  echo "enrolling the nodes over Redfish…"
  for _ in $(seq 1 300); do
    [ "$(api "http://$CTL/api/v1/nodes?state=available" | json "['items'].__len__()")" = "$nodes" ] && break; sleep 0.2
  done
  local invite; invite=$(api -X POST "http://$CTL/api/v1/tenants" -d '{"name": "Demo", "slug": "demo", "admin": {"username": "demo-admin"}, "quota": {"nodes": 16}, "network": {"vrfs": 1, "vlansPerVrf": 2}}' | json "['adminInvitation']['token']")
  local boss_password; boss_password=$(python3 -c "import secrets; print(secrets.token_urlsafe(12))")
  op "http://$CTL/api/v1/invitations/accept" -H 'Content-Type: application/json' -d "{\"token\": \"$invite\", \"password\": \"$boss_password\"}" >/dev/null
  local boss; boss=$(token demo demo-admin "$boss_password")
  tapi() { op -H "Authorization: Bearer $boss" -H 'Content-Type: application/json' "$@"; }
  local org project key names
  org=$(tapi -X POST "http://$CTL/api/v1/tenants/demo/orgs" -d '{"name": "Demo org", "slug": "demo-org"}' | json "['id']")
  project=$(tapi -X POST "http://$CTL/api/v1/tenants/demo/orgs/$org/projects" -d '{"name": "Chat", "slug": "chat"}' | json "['id']")
  names=$(seq 1 "$nodes" | sed 's/^/"n/; s/$/"/' | paste -sd, -)
  tapi -X POST "http://$CTL/api/v1/tenants/demo/projects/$project/nodes" -d "{\"nodeNames\": [$names]}" >/dev/null
  local cabling; cabling=$(for k in $(seq 1 "$nodes"); do printf '{"port": "n%s-d", "node": "n%s", "nodeInterface": "data0"},' "$k" "$k"; done)
  api -X POST "http://$CTL/api/v1/fabric/switches" -d "{\"name\": \"leaf1\", \"driver\": \"linux\", \"endpoint\": \"http://10.66.1.1:7830\", \"token\": \"$(cat "$DIR/switch.token")\", \"cabling\": [${cabling%,}]}" >/dev/null
  key=$(tapi -X POST "http://$CTL/api/v1/api-keys" -d "{\"name\": \"demo\", \"projectId\": \"$project\", \"roles\": [\"member\"]}" | json "['key']")

  for k in $(seq 1 "$nodes"); do
    local join; join=$(api -X POST "http://$CTL/api/v1/join-tokens" -d '{}' | json "['token']")
    METALPLANE_LLAMA_SERVER="$LLAMA_SERVER" METALPLANE_LLDP_SOCKET="$DIR/lldp-n$k.sock" spawn "n$k" "$DIR/agent-n$k.log" "$bin" node --controller "http://$CTL" --join-token "$join" \
      --node-name "n$k" --hostname "n$k" --state-dir "$DIR/agent-n$k" --node-cache-path "$DIR/agent-n$k/staging" \
      --listen "10.66.$((10 + k)).2:52415" --data-address "10.67.$((10 + k)).2"
  done
  local base="http://$CTL/api/v1/tenants/demo/projects/$project"
  echo "waiting for the agents to join…"
  for _ in $(seq 1 300); do
    [ "$(tapi "$base/state" | json "['nodeIdentities'].__len__()")" = "$nodes" ] && break; sleep 0.2
  done
  tapi -X POST "$base/place_instance" -d "{\"model_id\": \"$MODEL\"}" >/dev/null
  echo "waiting for llama-server to load $MODEL on a node (staged across the fabric)…"
  local chat="{\"model\": \"$MODEL\", \"messages\": [{\"role\": \"user\", \"content\": \"Say hello\"}], \"max_tokens\": 16}"
  for _ in $(seq 1 600); do
    op "http://$CTL/v1/chat/completions" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$chat" >/dev/null 2>&1 && break; sleep 0.5
  done
  printf 'PROJECT=%s\nKEY=%s\nBOSS_PASSWORD=%s\n' "$project" "$key" "$boss_password" > "$DIR/demo.env"; chmod 600 "$DIR/demo.env"

  cat <<MSG

The fleet $PREFIX is up ($nodes nodes; logs and state in $DIR):
  controller  http://$CTL on host ctl (super-admin 'admin', password in $DIR/admin-password)
  nodes       n1..n$nodes: node API http://10.66.(10+K).2:52415, engines on 10.67.(10+K).2, BMC http://10.66.(10+K).3:8000
  tenant      demo (project $project, API key in $DIR/demo.env); $MODEL placed on one node

Open a shell on the operator host:   sudo ip netns exec $PREFIX-op bash
and, from there:

  curl -s http://$CTL/v1/chat/completions -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \\
       -d '{"model": "$MODEL", "messages": [{"role": "user", "content": "Say hello"}], "max_tokens": 16}'
  TOKEN=\$(curl -s http://$CTL/realms/platform/protocol/openid-connect/token -d grant_type=password -d client_id=metalplane-cli \\
       -d username=admin --data-urlencode password=\$(cat $DIR/admin-password) | python3 -c 'import sys, json; print(json.load(sys.stdin)["access_token"])')
  curl -s -H "Authorization: Bearer \$TOKEN" http://10.66.11.2:52415/state      # a node's API needs an operator's token
  curl -s http://$CTL/api/v1/tenants/demo/projects/$project/state -H "Authorization: Bearer \$TOKEN"

The tenant's network (VRF, VLANs, each node's address on them, programmed on the switch leaf1):
  curl -s http://$CTL/api/v1/tenants/demo/network -H "Authorization: Bearer \$TOKEN"
  curl -s http://$CTL/api/v1/fabric/switches/leaf1 -H "Authorization: Bearer \$TOKEN"

Cut a node's cables and watch it be lost within a second, then come back by itself:
  sudo scripts/fleet-net.sh cut $PREFIX n1;  sudo scripts/fleet-net.sh mend $PREFIX n1
Stop everything:  sudo scripts/fleet.sh down
MSG
}

case "${1:-}" in
  up) up "${2:-3}" ;;
  down) down ;;
  *) sed -n '2,13p' "$0"; exit 2 ;;
esac
