#!/usr/bin/env bash
# Installs what building and testing Metalplane needs on a fresh Debian 12 machine:
# the system libraries behind the CSQLite/COpenSSL/CLDAP shims, wrk for the benchmarks,
# and the Python peers the tests use (PyJWT verifies our tokens; openapi-spec-validator checks docs/openapi.json).
set -euo pipefail

need_apt=()
for pkg in libsqlite3-dev libssl-dev libldap-dev wrk curl; do
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

if ! python3 -c "import jwt, cryptography, openapi_spec_validator" >/dev/null 2>&1; then
  echo "installing Python packages: pyjwt[crypto] openapi-spec-validator"
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore "pyjwt[crypto]" openapi-spec-validator
fi

# The Redfish BMC emulator (OpenStack sushy-tools), in a venv cached outside the repo.
CACHE=${METALPLANE_CACHE:-$HOME/.cache/metalplane}
if [ ! -x "$CACHE/sushy/bin/sushy-emulator" ]; then
  echo "installing sushy-tools (Redfish BMC emulator) into $CACHE/sushy"
  python3 -m venv "$CACHE/sushy"
  "$CACHE/sushy/bin/pip" install -q --disable-pip-version-check sushy-tools
fi
