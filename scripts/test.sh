#!/usr/bin/env bash
# Runs the whole test suite: unit tests, in-process API tests against real SQLite files,
# and system tests that start the real metalplane binary and real peers (PyJWT, sushy-tools, llama-server).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build --build-tests
# The OpenAPI document in docs/ must be what the code serves; a test compares them.
log=$(mktemp)
set +e
swift test 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
summary=$( (grep -E "Test run with [0-9]+ tests" "$log" || true) | tail -1)
total=$(echo "$summary" | sed -E 's/.*Test run with ([0-9]+) tests.*/\1/')
# grep finds nothing when all pass; under pipefail that must not end the script.
failed_tests=$( (grep -E "^✘ Test " "$log" || true) | sed -E 's/ (failed|recorded).*//' | sort -u | wc -l)
rm -f "$log"
if [ -n "$total" ]; then
  echo "tests: $((total - failed_tests)) passed, $failed_tests failed"
fi
exit "$status"
