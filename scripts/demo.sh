#!/usr/bin/env bash
# The one command to try Switchboard: installs what is needed, builds, and
# serves a small web chat through Switchboard at http://127.0.0.1:5280/.
#
#   scripts/demo.sh
#
# With no SWITCHBOARD_UPSTREAM, a private Prosody is started on a free loopback
# port with users alice/alice and bob/bob, each in the other's roster, and
# stopped again when the demo ends (Ctrl-C). Set SWITCHBOARD_UPSTREAM=host:port
# to use an XMPP server of your own instead (plain c2s, PLAIN auth allowed).
# SWITCHBOARD_PORT changes the web port; SKIP_INSTALL=1 skips the installs;
# BUILD_DIR builds elsewhere than build/.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
port="${SWITCHBOARD_PORT:-5280}"
upstream="${SWITCHBOARD_UPSTREAM:-}"
build="${BUILD_DIR:-build}"

[ "${SKIP_INSTALL:-0}" = 1 ] || scripts/install-deps.sh

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j2 --target switchboard
binary=""
for candidate in "$build/switchboard" "$build/src/switchboard"; do
  [ -x "$candidate" ] && binary="$candidate" && break
done
[ -n "$binary" ] || { echo "demo.sh: no switchboard binary in $build/" >&2; exit 1; }

# The web root: the chat page and Strophe.js's browser build, same origin as BOSH.
demo_root="$(cd "$build" && pwd)/demo-root"
rm -rf "$demo_root"
mkdir -p "$demo_root"
cp deploy/demo/* "$demo_root/"
cp tests/integration/node_modules/strophe.js/dist/strophe.umd.min.js{,.map} "$demo_root/"

if [ -z "$upstream" ]; then
  port_file="$(mktemp)"
  node tests/integration/lib/prosody_cli.js --users alice:alice,bob:bob \
    --friends alice,bob --port-file "$port_file" &
  prosody_pid=$!
  trap 'kill "$prosody_pid" 2>/dev/null; wait "$prosody_pid" 2>/dev/null; rm -f "$port_file"' EXIT
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
echo "(Ctrl-C stops the demo)"
echo

# In the foreground, so Ctrl-C reaches Switchboard; the trap then stops Prosody.
"$binary" --listen "127.0.0.1:$port" --upstream "$upstream" --set "demo_root=$demo_root"
