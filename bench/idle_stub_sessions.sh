#!/bin/bash
# Idle memory per session through the whole stack at scale, with the scale-test
# stub upstream: N idle sessions (hold 1, wait 60, no messages) logged in by
# switchboard-soak through switchboard (W workers) to switchboard-stub, read SETTLE
# seconds after the last login (130 s: every session's login answers have been
# replaced by two empty poll answers). Prints, per switchboard binary given (run in
# turn in the same invocation, so they can be compared): RSS and RssAnon per
# session over every switchboard process (against their own figures before the
# first login), and from malloc_stats() in each worker (needs gdb) the heap in use
# and the heap taken from the kernel, per session.
#
#   N=20000 W=3 RATE=500 SETTLE=130 bench/idle_stub_sessions.sh [SWITCHBOARD_BIN ...]
#
# Default binary: build/src/switchboard; the stub and soak come from build/.
# Loopback only; every process started is stopped by PID.
set -u
repo=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-20000}; W=${W:-3}; RATE=${RATE:-500}; SETTLE=${SETTLE:-130}
STUB=${STUB_BIN:-$repo/build/src/tools/stub/switchboard-stub}
SOAK=${SOAK_BIN:-$repo/build/src/tools/soak/switchboard-soak}
[ $# -eq 0 ] && set -- "$repo/build/src/switchboard"
out=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$out"' EXIT

sum_status() {  # FIELD PID: the field summed over PID and its children, in kB
  local t=0 r
  for x in $2 $(pgrep -P "$2"); do
    r=$(awk -v f="$1:" '$1==f{print $2}' "/proc/$x/status" 2>/dev/null); t=$((t + ${r:-0}))
  done
  echo $t
}
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

for bin in "$@"; do
  sp=$(free_port); bp=$(free_port)
  "$STUB" --listen 127.0.0.1:$sp --procs 2 --log-level warn > "$out/stub.log" 2>&1 & stub=$!
  "$bin" --listen 127.0.0.1:$bp --upstream 127.0.0.1:$sp --workers $W --set max_sessions=$((N * 2)) \
    --set upstream_source_addresses=127.0.0.2-127.0.0.9 --log-level warn > "$out/sb.log" 2>&1 & sb=$!
  pids=($stub $sb)
  sleep 2
  r0=$(sum_status VmRSS $sb); a0=$(sum_status RssAnon $sb)
  hold=$((N / RATE + SETTLE))
  "$SOAK" --url http://127.0.0.1:$bp/http-bind --sessions $N --rate $RATE --duration $((hold + 10)) \
    --procs $(( (N + 8999) / 9000 )) --user-pattern 'u%d' --password 'p%d' --quiet --json "$out/soak.json" \
    > "$out/soak.log" 2>&1 & soak=$!
  pids+=($soak)
  sleep $hold
  r1=$(sum_status VmRSS $sb); a1=$(sum_status RssAnon $sb)
  : > "$out/sb.log"
  for w in $(pgrep -P $sb); do gdb -p $w -batch -ex 'call (void)malloc_stats()' > /dev/null 2>&1; done
  sleep 1
  inuse=$(grep -A3 '^Total' "$out/sb.log" | awk '/in use/{s+=$5} END{print s+0}')
  system=$(grep -A3 '^Total' "$out/sb.log" | awk '/system bytes/{s+=$4} END{print s+0}')
  echo "$bin: $N sessions, $W workers: RSS $(( (r1 - r0) * 1024 / N )) B/session," \
       "RssAnon $(( (a1 - a0) * 1024 / N )) B/session, heap in use $((inuse / N)), heap from the kernel $((system / N))"
  kill $soak; sleep 1; kill $sb $stub; wait $sb $stub 2>/dev/null
done
