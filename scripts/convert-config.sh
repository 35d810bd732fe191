#!/usr/bin/env bash
# Converts a config file of switchboard 0.1 (`key = value` lines) to the TOML
# format of 0.2 and later, on stdout:
#
#   scripts/convert-config.sh /etc/switchboard.conf [SWITCHBOARD_BINARY] > switchboard.toml
#   switchboard --check-config --config switchboard.toml
#
# It asks switchboard itself: `--check-config` answers every old-format line with
# the TOML line to write ("FILE:LINE:COL: not TOML; write: ..."). Those lines are
# replaced; every other line (comments, blank lines, numbers, true/false, which
# TOML reads as they are) is kept. Problems that are not about the format (a bad
# value, a repeated key) are left for --check-config to report on the result.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 OLD_CONFIG [SWITCHBOARD_BINARY]" >&2; exit 2; }
old="$1"
binary="${2:-switchboard}"
[ -r "$old" ] || { echo "$0: cannot read $old" >&2; exit 1; }
fixes="$(mktemp)"
trap 'rm -f "$fixes"' EXIT
"$binary" --check-config --config "$old" >/dev/null 2>"$fixes" || true
marker=': not TOML; write: '
awk -v file="$old" -v marker="$marker" -v fixes="$fixes" '
  BEGIN {
    prefix = file ":"
    while ((getline line < fixes) > 0) {
      if (index(line, prefix) != 1) continue
      rest = substr(line, length(prefix) + 1)
      at = index(rest, marker)
      if (at == 0) continue
      split(rest, parts, ":")
      fix = substr(rest, at + length(marker))
      sub(/ \(the config file is TOML since.*$/, "", fix)
      replacement[parts[1] + 0] = fix
    }
  }
  { if (NR in replacement) print replacement[NR]; else print }
' "$old"
