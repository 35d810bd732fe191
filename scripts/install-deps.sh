#!/usr/bin/env bash
# Installs everything Switchboard needs to build and to run its tests and demo
# on Debian 12, as root (or through sudo). Safe to run again: it does nothing
# when everything is already there.
#
#   build:      cmake g++ pkg-config libuv1-dev libpugixml-dev libssl-dev
#               doctest-dev node-llhttp libtomlplusplus-dev (the TOML config file)
#               libsystemd-dev (sd_notify) zlib1g-dev (the keeper's records)
#   checks:     systemd (systemd-analyze verify of deploy/switchboard.service)
#   package:    dpkg-dev file (cpack's DEB generator: dpkg-shlibdeps for the
#               dependencies), lintian, curl (tests/package: the package is
#               linted, installed into a fresh root and its daemon asked over BOSH)
#   checks:     clang libclang-rt-14-dev llvm (libFuzzer targets, symbolized
#               sanitizer reports)
#   test peers: ejabberd prosody chromium, openssl (the command, for a test's
#               throw-away certificate), prometheus (promtool and a real
#               scraper), haproxy and nginx-light (front proxies sending the PROXY
#               protocol and X-Forwarded-For; nginx also as the TLS benchmark's
#               baseline), and Node.js (+ npm) only when no
#               `node` is installed (an existing Node is never replaced)
#   then:       `npm ci` in tests/integration (pinned Strophe.js, xmldom, ws,
#               saxes, xhr2, playwright-core, converse.js)
#
# The ejabberd and Prosody packages come with system services; the tests and
# the demo run private instances instead, so those services must not run: we
# keep them from starting during installation and stop any that did.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DEBIAN_FRONTEND=noninteractive

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo=(sudo DEBIAN_FRONTEND=noninteractive); else
    echo "install-deps.sh: run as root (or install sudo)" >&2; exit 1
  fi
fi

packages=(cmake g++ pkg-config libuv1-dev libpugixml-dev libssl-dev doctest-dev node-llhttp
          libtomlplusplus-dev  # the config file reader (TOML)
          zlib1g-dev  # the keeper's compact records
          libsystemd-dev systemd  # sd_notify; systemd-analyze verify of the unit
          dpkg-dev file lintian curl  # the Debian package (cpack -G DEB) and its test
          libjs-chart.js  # Chart.js for the soak tool's HTML report
          ejabberd prosody chromium
          openssl  # the command: a self-signed certificate for the Converse.js discovery test
          prometheus haproxy nginx-light  # metrics checks, front proxies in tests
          clang libclang-rt-14-dev llvm  # fuzzing (libFuzzer) and sanitizer stacks
          clang-format)  # the layout of the sources (scripts/format.sh, ctest layout_format)
command -v node >/dev/null || packages+=(nodejs npm)

is_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing=()
for p in "${packages[@]}"; do is_installed "$p" || missing+=("$p"); done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps.sh: installing ${missing[*]}"
  # policy-rc.d exit 101 = "do not start services" for the packages' scripts.
  added_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null
    "${sudo[@]}" chmod 755 /usr/sbin/policy-rc.d
    added_policy=1
  fi
  trap 'if [ "$added_policy" = 1 ]; then "${sudo[@]}" rm -f /usr/sbin/policy-rc.d; fi' EXIT
  "${sudo[@]}" apt-get update
  "${sudo[@]}" apt-get install -y "${missing[@]}"

  # Stop the services of servers installed just now, should one have started
  # anyway (a server that was installed before is the user's own business).
  for service in ejabberd prosody prometheus haproxy nginx; do
    case " ${missing[*]} " in *" $service "*|*" $service-light "*) ;; *) continue ;; esac
    if [ -d /run/systemd/system ]; then
      if systemctl is-active --quiet "$service"; then
        echo "install-deps.sh: stopping the $service system service (tests run their own)"
        "${sudo[@]}" systemctl stop "$service"
      fi
    elif command -v service >/dev/null && service "$service" status >/dev/null 2>&1; then
      echo "install-deps.sh: stopping the $service system service (tests run their own)"
      "${sudo[@]}" service "$service" stop || true
    fi
  done
else
  echo "install-deps.sh: Debian packages already installed"
fi

# Node packages for the integration tests, exactly as pinned in package-lock.json.
# A stamp of the lock file we installed from makes a second run a no-op.
cd "$repo/tests/integration"
if cmp -s package-lock.json node_modules/.installed-from-lock 2>/dev/null; then
  echo "install-deps.sh: tests/integration/node_modules up to date"
else
  npm ci --no-audit --no-fund
  cp package-lock.json node_modules/.installed-from-lock
fi
