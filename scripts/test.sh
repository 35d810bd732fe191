#!/usr/bin/env bash
# Builds Switchboard with warnings as errors and runs every test with ctest:
# the unit tests and the integration tests (real ejabberd, Prosody, Strophe.js
# and Chromium, see tests/integration/README.md).
#
#   scripts/test.sh              # installs dependencies first (scripts/install-deps.sh)
#   SKIP_INSTALL=1 scripts/test.sh
#
# Extra arguments go to ctest, e.g. `scripts/test.sh -L integration`.
# BUILD_DIR builds elsewhere than build/.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

[ "${SKIP_INSTALL:-0}" = 1 ] || scripts/install-deps.sh

build="${BUILD_DIR:-build}"
cmake -S . -B "$build" -DSWITCHBOARD_WERROR=ON
cmake --build "$build" -j2
ctest --test-dir "$build" --output-on-failure -j2 "$@"
