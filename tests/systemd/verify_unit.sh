#!/usr/bin/env bash
# verify_unit.sh UNIT BINARY: runs `systemd-analyze verify` on a copy of UNIT in
# which the switchboard path is BINARY (verify insists that ExecStart's program
# exists), and fails on any complaint about the unit. Also checks that the unit
# keeps what docs/operations.md promises (Type=notify, ExecReload, the hardening).
set -euo pipefail
unit="$1"
binary="$2"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
binary="$(realpath "$binary")"
sed "s#/usr/local/bin/switchboard#$binary#g" "$unit" > "$dir/switchboard.service"

# verify prints its findings on stderr and exits non-zero on errors; warnings
# about this unit (a line naming switchboard.service) fail the test too.
if ! out="$(systemd-analyze verify --man=no "$dir/switchboard.service" 2>&1)"; then
  echo "$out" >&2
  echo "verify_unit.sh: systemd-analyze verify failed" >&2
  exit 1
fi
if grep -q "switchboard.service" <<<"$out"; then
  echo "$out" >&2
  echo "verify_unit.sh: systemd-analyze verify complained about the unit" >&2
  exit 1
fi

for line in 'Type=notify' 'NotifyAccess=main' 'ExecReload=/bin/kill -HUP $MAINPID' 'LimitNOFILE=' \
            'DynamicUser=yes' 'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' \
            'NoNewPrivileges=yes' 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
            'CapabilityBoundingSet=CAP_NET_BIND_SERVICE' 'WatchdogSec='; do
  grep -qF -- "$line" "$unit" || { echo "verify_unit.sh: $unit lacks $line" >&2; exit 1; }
done
echo "systemd-analyze verify: ok ($unit)"
