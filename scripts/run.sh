#!/usr/bin/env bash
# The main job: install what is missing, build, and run a controller on the embedded
# SQLite store in ./data, listening on 127.0.0.1:8080 (override with METALPLANE_LISTEN).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
echo "building metalplane (first build of the dependencies takes 3-9 minutes on 2 cores)…"
swift build -c release --product metalplane
BIN=.build/release/metalplane
DATA=${METALPLANE_DATA_DIR:-./data}
LISTEN=${METALPLANE_LISTEN:-127.0.0.1:8080}
cat <<MSG

Starting the controller on http://$LISTEN with its store in $DATA.
On first start the super-admin 'admin' gets a generated password in $DATA/bootstrap-admin-password
(or set METALPLANE_BOOTSTRAP_PASSWORD before the first start). In another shell:

  $BIN login --server http://$LISTEN --password-stdin < $DATA/bootstrap-admin-password
  $BIN whoami
  $BIN api POST /api/v1/api-keys --data '{"name":"my-app","roles":["viewer"]}'
  $BIN api GET '/api/v1/audit?limit=5'

Stop with Ctrl-C (graceful: in-flight requests finish, then the store closes).
MSG
exec "$BIN" controller --data-dir "$DATA" --listen "$LISTEN"
