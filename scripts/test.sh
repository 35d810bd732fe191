#!/usr/bin/env bash
# Runs every test of Switchboard, as CI does:
#   1. build with warnings as errors and run the whole ctest suite: unit tests,
#      fuzz corpus replays, the conformance suite, the integration tests (real
#      ejabberd, Prosody, Strophe.js and Chromium, see tests/integration/README.md),
#      the tools' tests and small soaks, and a minute of the hostile soak
#      (tests/hostile/README.md);
#   2. the same suite again in an ASan + UBSan (+ LeakSanitizer) build, the daemon
#      under test included (scripts/sanitize.sh);
#   3. each libFuzzer target for FUZZ_SECONDS (default 60) (scripts/fuzz.sh).
#
#   scripts/test.sh              # installs dependencies first (scripts/install-deps.sh)
#   SKIP_INSTALL=1 scripts/test.sh
#   QUICK=1 scripts/test.sh      # step 1 only
#
# Extra arguments go to ctest, e.g. `QUICK=1 scripts/test.sh -L integration`.
# It builds in build-test/ (BUILD_DIR changes that) with its own settings, never in
# the demo's build/, so running the demo and the tests in either order rebuilds
# nothing twice and cannot leave one with the other's build type.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

[ "${SKIP_INSTALL:-0}" = 1 ] || scripts/install-deps.sh

stages=0
build="${BUILD_DIR:-build-test}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSWITCHBOARD_WERROR=ON -DSWITCHBOARD_CHECKS=ON
cmake --build "$build" -j2
ctest --test-dir "$build" --output-on-failure -j2 "$@"
stages=$((stages + 1))

if [ "${QUICK:-0}" != 1 ]; then
  echo "== the whole suite again under ASan + UBSan =="
  SKIP_INSTALL=1 scripts/sanitize.sh "$@"
  stages=$((stages + 1))
  echo "== fuzzing, ${FUZZ_SECONDS:-60} s per target =="
  SKIP_INSTALL=1 scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
  stages=$((stages + 1))
fi
# set -e stopped at the first failing stage; reaching here means all passed.
echo "stages: ${stages} passed, 0 failed"
