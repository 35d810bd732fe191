#!/usr/bin/env bash
# check_sysctl.sh FILE: every setting of a sysctl.d file names a kernel variable
# that exists here (/proc/sys), so a typo cannot hide in deploy/sysctl.d/. A
# '-'-prefixed setting (its module may be absent) is checked only if its folder
# exists. Nothing is written to the kernel.
set -euo pipefail
file="$1"
status=0
count=0
while IFS= read -r line || [ -n "$line" ]; do
  line="${line%%#*}"
  [[ "$line" =~ ^[[:space:]]*$ ]] && continue
  if [[ ! "$line" =~ ^[[:space:]]*(-?)([a-z0-9_.-]+)[[:space:]]*=[[:space:]]*([^[:space:]].*)$ ]]; then
    echo "$file: not 'key = value': $line" >&2; status=1; continue
  fi
  optional="${BASH_REMATCH[1]}"
  key="${BASH_REMATCH[2]}"
  proc="/proc/sys/${key//.//}"
  count=$((count + 1))
  if [ ! -e "$proc" ]; then
    if [ -n "$optional" ] && [ ! -d "$(dirname "$proc")" ]; then continue; fi
    echo "$file: no such kernel setting: $key" >&2; status=1
  fi
done < "$file"
[ "$count" -gt 0 ] || { echo "$file: no settings" >&2; exit 1; }
[ "$status" -eq 0 ] && echo "$file: $count settings, all known to this kernel"
exit "$status"
