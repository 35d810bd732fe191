#!/usr/bin/env bash
# deb_package.sh BUILD_DIR CPACK SANITIZED: the Debian package of this build, end
# to end (docs/operations.md, "Installing"):
#
#   1. cpack -G DEB packs what BUILD_DIR built (no compile of its own);
#   2. lintian: any error fails the test (the warnings left are listed and
#      justified in docs/operations.md);
#   3. dpkg --root installs it into a fresh, empty root (its maintainer scripts run
#      chrootless with DPKG_ROOT set, so nothing changes on this host) and the
#      files are checked where the package puts them, the unit is verified;
#   4. the installed daemon starts from that root with the installed example
#      configuration, its listener moved to a free loopback port and its upstream
#      to the installed switchboard-stub; a BOSH session creation on its BOSH path
#      must come back with a sid and the stub's stream features; SIGTERM to its
#      PID must end it with status 0;
#   5. dpkg --purge must leave no file in the root but dpkg's own database.
#
# Everything lives in one temporary directory, removed at the end with every
# process the test started. A sanitizer build is not packaged: exit 77 (skipped).
set -euo pipefail

build="$(realpath "$1")"
cpack="$2"
sanitized="$3"

if [ "$sanitized" = ON ]; then
  echo "skipped: this is a sanitizer build (ASan/UBSan); a package of instrumented binaries is nothing anyone installs"
  exit 77
fi
for tool in lintian dpkg dpkg-deb curl; do
  command -v "$tool" >/dev/null || { echo "deb_package.sh: $tool not found (scripts/install-deps.sh installs it)" >&2; exit 1; }
done

work="$(mktemp -d /tmp/switchboard-package.XXXXXX)"
stub=""
daemon=""
# Ends what this script started and has not reaped yet (a reaped pid may be reused).
stop() {
  local pid="$1"
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop "$daemon"
  stop "$stub"
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "deb_package.sh: $*" >&2
  exit 1
}
started=$SECONDS

# 1. The package, staged and written in the temporary directory.
(cd "$work" && "$cpack" -G DEB --config "$build/CPackConfig.cmake" -B "$work/cpack") > "$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log" >&2; fail "cpack failed"; }
debs=("$work"/cpack/switchboard_*.deb)
[ "${#debs[@]}" = 1 ] && [ -f "${debs[0]}" ] || fail "cpack wrote no single switchboard_*.deb"
deb="${debs[0]}"
echo "built $(basename "$deb") in $((SECONDS - started)) s"

# 2. lintian.
if ! lintian --fail-on error "$deb" > "$work/lintian.log" 2>&1; then
  cat "$work/lintian.log" >&2
  fail "lintian reports errors"
fi
sed 's/^/  lintian: /' "$work/lintian.log" | grep -v 'running with root privileges' || true
echo "lintian: no error ($(grep -c '^W:' "$work/lintian.log" || true) warnings)"

# 3. Into a fresh root.
root="$work/root"
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/triggers"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
dpkg_root=(dpkg "--root=$root" --force-depends --force-not-root --force-script-chrootless --log=/dev/null)
"${dpkg_root[@]}" -i "$deb" > "$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -i failed"; }
"${dpkg_root[@]}" -s switchboard | grep -qx 'Status: install ok installed' || fail "not installed"

for file in usr/sbin/switchboard usr/bin/switchboard-soak usr/bin/switchboard-stub; do
  [ -x "$root/$file" ] || fail "$file missing or not executable"
done
for file in usr/lib/systemd/system/switchboard.service etc/switchboard/switchboard.conf \
            etc/logrotate.d/switchboard usr/share/man/man8/switchboard.8.gz \
            usr/share/man/man5/switchboard.conf.5.gz usr/share/man/man1/switchboard-soak.1.gz \
            usr/share/man/man1/switchboard-stub.1.gz usr/share/doc/switchboard/copyright \
            usr/share/doc/switchboard/changelog.Debian.gz \
            usr/share/doc/switchboard/examples/switchboard.conf.example \
            usr/share/doc/switchboard/examples/sysctl.d/60-switchboard.conf; do
  [ -f "$root/$file" ] || fail "$file missing"
done
dpkg-deb -f "$deb" Depends | grep -q adduser || fail "Depends lacks adduser"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/switchboard/switchboard.conf ||
  fail "/etc/switchboard/switchboard.conf is not a conffile"
# The unit names the installed daemon and the user the postinst creates; the
# postinst enabled it (deb-systemd-helper, inside the root).
unit="$root/usr/lib/systemd/system/switchboard.service"
grep -qx 'ExecStart=/usr/sbin/switchboard --config /etc/switchboard/switchboard.conf' "$unit" ||
  fail "the unit's ExecStart is not the installed daemon: $(grep ExecStart= "$unit")"
grep -qx 'User=switchboard' "$unit" || fail "the unit does not run as User=switchboard"
[ -L "$root/etc/systemd/system/multi-user.target.wants/switchboard.service" ] || fail "the unit is not enabled"
for page in "$root"/usr/share/man/man*/*.gz; do
  warnings="$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)"
  [ -z "$warnings" ] || fail "man warns about $(basename "$page"): $warnings"
done
if command -v systemd-analyze >/dev/null; then
  # verify wants ExecStart's program to exist: the copy names the one in the root.
  sed "s#/usr/sbin/switchboard#$root/usr/sbin/switchboard#g" "$unit" > "$work/switchboard.service"
  out="$(systemd-analyze verify --man=no "$work/switchboard.service" 2>&1)" || { echo "$out" >&2; fail "systemd-analyze verify failed"; }
  if grep -q switchboard.service <<<"$out"; then echo "$out" >&2; fail "systemd-analyze verify complained"; fi
fi
"$root/usr/sbin/switchboard" --version | grep -qx 'switchboard [0-9.]*' || fail "--version"
echo "installed into a fresh root: files, conffile, unit (enabled, verified), man pages ok"

# 4. The installed daemon, in front of the installed stub.
"$root/usr/bin/switchboard-stub" --listen 127.0.0.1:0 > "$work/stub.out" 2> "$work/stub.err" &
stub=$!
for _ in $(seq 100); do grep -q '^listening on ' "$work/stub.out" && break; sleep 0.1; done
upstream="$(sed -n 's/^listening on //p' "$work/stub.out")"
[ -n "$upstream" ] || { cat "$work/stub.err" >&2; fail "the stub did not start"; }

config="$work/switchboard.conf"
answer=""
for _ in 1 2 3 4 5; do
  # A free port: a random one, and another try if the daemon cannot listen on it.
  port=$((20000 + RANDOM % 20000))
  sed -e "s|^listen = .*|listen = \"127.0.0.1:$port\"|" -e "s|^upstream = .*|upstream = \"$upstream\"|" \
    "$root/etc/switchboard/switchboard.conf" > "$config"
  grep -qx "listen = \"127.0.0.1:$port\"" "$config" || fail "no listen line in the installed config"
  "$root/usr/sbin/switchboard" --check-config --config "$config" | grep -qx 'configuration ok' ||
    fail "--check-config refuses the installed config: $("$root/usr/sbin/switchboard" --check-config --config "$config" 2>&1)"
  "$root/usr/sbin/switchboard" --config "$config" 2> "$work/switchboard.err" &
  daemon=$!
  for _ in $(seq 100); do
    kill -0 "$daemon" 2>/dev/null || break
    if answer="$(curl -sS --max-time 10 -H 'Content-Type: text/xml; charset=utf-8' \
        --data "<body rid='1000' to='localhost' xml:lang='en' wait='10' hold='1' ver='1.6' xmlns='http://jabber.org/protocol/httpbind' xmlns:xmpp='urn:xmpp:xbosh' xmpp:version='1.0'/>" \
        "http://127.0.0.1:$port/http-bind" 2>/dev/null)"; then
      break
    fi
    answer=""
    sleep 0.1
  done
  [ -n "$answer" ] && break
  stop "$daemon"
  daemon=""
done
[ -n "$answer" ] || { cat "$work/switchboard.err" >&2; fail "the installed daemon never answered on its BOSH path"; }
grep -q "sid=" <<<"$answer" && grep -q "mechanisms" <<<"$answer" ||
  fail "the BOSH session creation got no session with the stub's features: $answer"
echo "the installed daemon answered on 127.0.0.1:$port/http-bind with a session (upstream: the stub on $upstream)"
kill -TERM "$daemon"
status=0
wait "$daemon" || status=$?
daemon=""
[ "$status" = 0 ] || { cat "$work/switchboard.err" >&2; fail "switchboard exited with $status after SIGTERM"; }

stop "$stub"
stub=""

# 5. Purged, nothing of it stays.
"${dpkg_root[@]}" --purge switchboard > "$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg --purge failed"; }
left="$(cd "$root" && find . -path ./var/lib/dpkg -prune -o ! -type d -print)"
[ -z "$left" ] || fail "left after purge: $left"
echo "purged: nothing left; $((SECONDS - started)) s in all"
