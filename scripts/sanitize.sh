#!/usr/bin/env bash
# Builds Switchboard with AddressSanitizer + UndefinedBehaviorSanitizer (and
# LeakSanitizer, part of ASan) in build-asan/, and runs the whole ctest suite
# there: unit tests, the fuzz corpus replays, the conformance suite and the
# integration tests, whose
# switchboard daemon is the instrumented binary of this build talking to real
# Prosody, ejabberd and Chromium. Any report stops the process that made it
# with a non-zero status (halt on error; UBSan does not recover).
#
#   scripts/sanitize.sh               # installs dependencies first (install-deps.sh)
#   SKIP_INSTALL=1 scripts/sanitize.sh -L unit
#
# Extra arguments go to ctest. BUILD_DIR builds elsewhere than build-asan/.
# No leak suppressions are used: none has been needed so far. If a third-party
# library ever forces one, add tests/sanitize/lsan.supp with a comment saying
# why, and point LSAN_OPTIONS=suppressions=... at it here.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

[ "${SKIP_INSTALL:-0}" = 1 ] || scripts/install-deps.sh
# llvm-symbolizer turns sanitizer stacks into file:line.
if ! command -v llvm-symbolizer >/dev/null; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "sanitize.sh: installing llvm (llvm-symbolizer)"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get install -y llvm || { "${sudo[@]}" apt-get update && "${sudo[@]}" apt-get install -y llvm; }
fi

# Inherited by every test and by the daemons the integration tests start.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export ASAN_SYMBOLIZER_PATH="${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer || true)}"

build="${BUILD_DIR:-build-asan}"
cmake -S . -B "$build" -DSWITCHBOARD_SANITIZE=ON -DSWITCHBOARD_WERROR=ON
cmake --build "$build" -j2
ctest --test-dir "$build" --output-on-failure -j2 "$@"
