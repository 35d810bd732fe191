#!/usr/bin/env bash
# Upgrade in place across versions (docs/upgrade.md, "What moves"): the session
# records are versioned, and a release must read the records of the one before
# it, and the one before must read ours when an upgrade is rolled back by hand
# (the old binary put back at the path, SIGUSR2 again).
#
# This script checks it with two real builds:
#   1. builds the daemon of an older commit of this repository (default ffebf5b,
#      whose records are all version 1, like today's) from `git archive` into a
#      temporary folder, Release, the `switchboard` target only, and keeps the
#      binary in ${XDG_CACHE_HOME:-~/.cache}/switchboard-old/<commit>/switchboard
#      (a second run reuses it);
#   2. takes the current binary from SWITCHBOARD_BIN, or builds the working tree's
#      (the `switchboard` target of CURRENT_BUILD_DIR, default build/, configured
#      Release if it is not configured yet);
#   3. runs tests/upgrade_versions/across_versions.test.js with OLD_SWITCHBOARD_BIN
#      and SWITCHBOARD_BIN set: a lone daemon (workers = 1) started from a copy of
#      the old binary holds a BOSH session (a held long poll, an early request
#      waiting for its predecessor) and a WebSocket session; the file at its path
#      is replaced with the current binary and SIGUSR2 moves both sessions to it;
#      then the old binary goes back at the path and SIGUSR2 moves them back
#      (old -> new -> old). After each move: 2 sessions moved, 0 ended, the held
#      poll still held and answered by the server's next stanza, the early
#      request answered in order, both sessions chat both ways.
#
#   scripts/upgrade_across_versions.sh              # against ffebf5b
#   scripts/upgrade_across_versions.sh 1081359      # against another commit
#   SWITCHBOARD_BIN=build/src/switchboard scripts/upgrade_across_versions.sh
#
# It prints how long the old build and the test took; its exit status is the
# test's (or the build's, when a build fails). JOBS (default 2) is the build's
# parallelism. It needs what scripts/install-deps.sh installs (the compiler,
# cmake, the libraries, node) and no network.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

commit_arg="${1:-ffebf5b}"
jobs="${JOBS:-2}"
commit="$(git -C "$repo" rev-parse --verify --quiet "${commit_arg}^{commit}")" || {
  echo "upgrade_across_versions: no commit '${commit_arg}' in ${repo}" >&2
  exit 2
}
cache="${XDG_CACHE_HOME:-$HOME/.cache}/switchboard-old/${commit}"
old_bin="${cache}/switchboard"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# 1. The old commit's daemon, built once per commit.
build_seconds="0 (cached)"
if [ -x "$old_bin" ]; then
  echo "== old binary: ${old_bin} (commit ${commit:0:12}, cached) =="
else
  echo "== building the daemon of commit ${commit:0:12} (Release, target switchboard) =="
  started="$(now)"
  work="$(mktemp -d "${TMPDIR:-/tmp}/switchboard-old-${commit:0:12}.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  git -C "$repo" archive --format=tar "$commit" | tar -x -C "$work"
  # The tests' own CMake (doctest, node, the fuzz corpora) is not needed for the
  # daemon alone; an older commit without that option just ignores it.
  cmake -S "$work" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DSWITCHBOARD_TESTS=OFF >"$work/configure.log" 2>&1 || {
    cat "$work/configure.log" >&2
    echo "upgrade_across_versions: configuring commit ${commit:0:12} failed" >&2
    exit 2
  }
  cmake --build "$work/build" -j "$jobs" --target switchboard
  mkdir -p "$cache"
  cp "$work/build/src/switchboard" "${old_bin}.tmp"
  git -C "$repo" log -1 --format='%H %s' "$commit" >"${cache}/commit.txt"
  mv "${old_bin}.tmp" "$old_bin"
  rm -rf "$work"
  trap - EXIT
  build_seconds="$(since "$started")"
  echo "== old binary built in ${build_seconds} s: ${old_bin} =="
fi

# 2. The current daemon.
current_seconds="0 (SWITCHBOARD_BIN)"
if [ -n "${SWITCHBOARD_BIN:-}" ]; then
  current_bin="$(cd "$(dirname "$SWITCHBOARD_BIN")" && pwd)/$(basename "$SWITCHBOARD_BIN")"
else
  build_dir="${CURRENT_BUILD_DIR:-build}"
  echo "== building the working tree's daemon in ${build_dir} =="
  started="$(now)"
  [ -f "$build_dir/CMakeCache.txt" ] || cmake -S "$repo" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release
  cmake --build "$build_dir" -j "$jobs" --target switchboard
  current_bin="$(cd "$build_dir/src" && pwd)/switchboard"
  current_seconds="$(since "$started")"
fi
[ -x "$current_bin" ] || { echo "upgrade_across_versions: no current binary at ${current_bin}" >&2; exit 2; }

# 3. The sessions, old -> new -> old.
echo "== upgrade across versions: ${commit:0:12} -> ${current_bin} -> ${commit:0:12} =="
started="$(now)"
status=0
OLD_SWITCHBOARD_BIN="$old_bin" SWITCHBOARD_BIN="$current_bin" \
  node --test "$repo/tests/upgrade_versions/across_versions.test.js" || status=$?
test_seconds="$(since "$started")"

echo "upgrade_across_versions: old build ${build_seconds} s, current build ${current_seconds} s, test ${test_seconds} s, status ${status}"
exit "$status"
