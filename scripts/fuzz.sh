#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan, coverage
# from every library) in build-fuzz/, then runs each one for SECONDS (default 60)
# on a scratch copy of its seed corpus, with its dictionary. The committed corpus
# is never written to.
#
#   scripts/fuzz.sh              # 60 s per target
#   scripts/fuzz.sh 600          # 10 minutes per target
#   TARGETS="framer" scripts/fuzz.sh 30
#   KEEP_CORPUS=1 scripts/fuzz.sh  # keep the grown corpora (path printed) to merge
#   SKIP_BUILD=1 scripts/fuzz.sh   # run the binaries already in build-fuzz/
#
# Fails if any target crashed, leaked, hit undefined behaviour, broke an invariant
# (FUZZ_CHECK), ran out of memory or timed out; the reproducer is saved under
# build-fuzz/crashes/<target>/ and its path printed. Replay one with
#   build-fuzz/tests/fuzz/fuzz_<target> <file>          (SB_FUZZ_TRACE=1 for a trace)
# and once the bug is fixed, commit it to tests/fuzz/corpus/<target>/ so ctest
# replays it for ever. Needs clang 14, its runtimes and llvm-symbolizer: installed
# here if missing (apt).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

seconds="${1:-60}"
build="${BUILD_DIR:-build-fuzz}"
targets=(${TARGETS:-http_bosh framer body_parser ws_frames tls_server proxy_header records})

# --- tools ------------------------------------------------------------------
packages=(clang libclang-rt-14-dev llvm)
missing=()
for p in "${packages[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "fuzz.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get install -y "${missing[@]}" || {
    "${sudo[@]}" apt-get update && "${sudo[@]}" apt-get install -y "${missing[@]}"; }
fi

# --- build ------------------------------------------------------------------
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DSWITCHBOARD_FUZZ=ON -DSWITCHBOARD_WERROR=ON >/dev/null
  cmake --build "$build" -j2 --target "${targets[@]/#/fuzz_}"
fi

# --- run --------------------------------------------------------------------
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export ASAN_SYMBOLIZER_PATH="${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer || true)}"

max_len_of() {
  case "$1" in
    http_bosh) echo 8192 ;;  # a script of a few dozen requests
    framer) echo 6000 ;;     # 2 option bytes + a stream; byte-per-feed only up to 4 KiB
    ws_frames) echo 6000 ;;  # 2 option bytes + a client's frames; byte-per-feed up to 4 KiB
    *) echo 4096 ;;          # a BOSH body
  esac
}

failed=()
summary=()
for target in "${targets[@]}"; do
  work="$(mktemp -d "${TMPDIR:-/tmp}/sb-fuzz-$target.XXXXXX")"
  crashes="$repo/$build/crashes/$target"
  mkdir -p "$work/corpus" "$crashes"
  cp tests/fuzz/corpus/"$target"/* "$work/corpus/"
  echo "== fuzz_$target: ${seconds}s on $(ls "$work/corpus" | wc -l) seeds (log: $work/fuzz.log)"
  status=0
  "$build/tests/fuzz/fuzz_$target" "$work/corpus" \
    -dict="tests/fuzz/dict/$target.dict" \
    -max_total_time="$seconds" -max_len="$(max_len_of "$target")" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$crashes/" >"$work/fuzz.log" 2>&1 || status=$?

  fuzz_stat() { sed -n "s/^stat::$1: *//p" "$work/fuzz.log" | tail -1; }
  line="fuzz_$target: $(fuzz_stat number_of_executed_units) runs, $(fuzz_stat average_exec_per_sec) exec/s, $(fuzz_stat new_units_added) new units, corpus $(ls "$work/corpus" | wc -l) files, peak rss $(fuzz_stat peak_rss_mb) MB"
  if [ "$status" -ne 0 ]; then
    artifact="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$work/fuzz.log" | tail -1)"
    line="$line -- FAILED (exit $status): ${artifact:-no artifact, see $work/fuzz.log}"
    failed+=("$target")
    echo "---- last lines of $work/fuzz.log"
    grep -v '^#[0-9]' "$work/fuzz.log" | tail -60
  elif [ "${KEEP_CORPUS:-0}" = 1 ]; then
    line="$line (grown corpus kept in $work/corpus)"
  else
    rm -rf "$work"
  fi
  echo "$line"
  summary+=("$line")
done

echo
echo "== summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
