#!/usr/bin/env bash
# The one command to try Switchboard: installs what is needed, builds, and
# serves a small web chat through Switchboard at http://127.0.0.1:5280/.
#
#   scripts/demo.sh
#
# With no SWITCHBOARD_UPSTREAM, a private Prosody is started on a free loopback
# port with users alice/alice and bob/bob, each in the other's roster, and
# stopped again when the demo ends. Stop it with Ctrl-C, or SIGTERM or SIGINT to
# this script's PID: Switchboard and Prosody both end, nothing is left listening.
# Set SWITCHBOARD_UPSTREAM=host:port to use an XMPP server of your own instead
# (plain c2s, PLAIN auth allowed). SWITCHBOARD_PORT changes the web port;
# SKIP_INSTALL=1 skips the installs; BUILD_DIR builds elsewhere than build/;
# SWITCHBOARD_WERROR=ON makes warnings errors (CI does, to keep -O3 clean).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
port="${SWITCHBOARD_PORT:-5280}"
upstream="${SWITCHBOARD_UPSTREAM:-}"
build="${BUILD_DIR:-build}"

[ "${SKIP_INSTALL:-0}" = 1 ] || scripts/install-deps.sh

# A Release build of its own folder; scripts/test.sh builds elsewhere (build-test/)
# with other settings, so the two never reconfigure each other's folder.
# SWITCHBOARD_BIN names a binary that is already built (the demo's own test uses it).
binary="${SWITCHBOARD_BIN:-}"
if [ -z "$binary" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DSWITCHBOARD_SANITIZE=OFF \
    -DSWITCHBOARD_WERROR="${SWITCHBOARD_WERROR:-OFF}"
  cmake --build "$build" -j2 --target switchboard
  binary="$build/src/switchboard"
fi
[ -x "$binary" ] || { echo "demo.sh: no switchboard binary at $binary" >&2; exit 1; }

# The web root: the chat page and Strophe.js's browser build, same origin as BOSH.
mkdir -p "$build"
demo_root="$(cd "$build" && pwd)/demo-root"
rm -rf "$demo_root"
mkdir -p "$demo_root"
cp deploy/demo/* "$demo_root/"
cp tests/integration/node_modules/strophe.js/dist/strophe.umd.min.js{,.map} "$demo_root/"

# Everything the demo starts runs in the background and is stopped by PID here,
# whichever way the demo ends: Ctrl-C, SIGTERM or SIGINT to this script, or a
# child that dies. (Bash runs a trap only between commands, so a foreground
# child would keep a SIGTERM waiting; `wait` on a background one returns at once.)
switchboard_pid=""
prosody_pid=""
port_file=""
stop_demo() {
  trap - EXIT INT TERM HUP
  local pid
  for pid in $switchboard_pid $prosody_pid; do kill -TERM "$pid" 2>/dev/null || true; done
  # Switchboard drains its sessions in about a second, Prosody stops in a few.
  for _ in $(seq 100); do
    local alive=0
    for pid in $switchboard_pid $prosody_pid; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in $switchboard_pid $prosody_pid; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -z "$port_file" ] || rm -f "$port_file"
}
trap 'stop_demo; exit 130' INT
trap 'stop_demo; exit 143' TERM
trap 'stop_demo; exit 129' HUP
trap 'stop_demo' EXIT

if [ -z "$upstream" ]; then
  port_file="$(mktemp)"
  node tests/integration/lib/prosody_cli.js --users alice:alice,bob:bob \
    --friends alice,bob --port-file "$port_file" &
  prosody_pid=$!
  for _ in $(seq 100); do
    [ -s "$port_file" ] && break
    kill -0 "$prosody_pid" 2>/dev/null || { echo "demo.sh: the demo Prosody did not start" >&2; exit 1; }
    sleep 0.2
  done
  [ -s "$port_file" ] || { echo "demo.sh: the demo Prosody did not start in time" >&2; exit 1; }
  upstream="127.0.0.1:$(cat "$port_file")"
  echo
  echo "open http://127.0.0.1:$port/ and log in as alice@localhost / alice (bob@localhost / bob in another tab)"
else
  echo
  echo "open http://127.0.0.1:$port/ and log in with an account of $upstream"
fi
echo "(Ctrl-C, or kill $$, stops the demo and everything it started)"
echo

"$binary" --listen "127.0.0.1:$port" --upstream "$upstream" --set "demo_root=$demo_root" &
switchboard_pid=$!
# Ends when Switchboard or the demo Prosody ends, or when a signal arrives.
if [ -n "$prosody_pid" ]; then
  wait -n "$switchboard_pid" "$prosody_pid" && status=0 || status=$?
else
  wait "$switchboard_pid" && status=0 || status=$?
fi
echo "demo.sh: Switchboard or the demo Prosody stopped (status $status); stopping the demo" >&2
exit "$status"
