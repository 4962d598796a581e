#!/usr/bin/env bash
# Runs every fuzz target for SECONDS_PER_TARGET seconds (default 60) over a
# scratch copy of its seed corpus, prints the executions per target, and exits
# non-zero if any target crashed, hung or ran out of memory.
#
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Environment:
#   FUZZ_TOOLCHAIN   nightly | stable   (default: nightly when installed)
#   FUZZ_TARGET_DIR  cargo target dir   (default: fuzz/target)
#   FUZZ_KEEP=1      keep the scratch corpora and logs (printed at the end)
set -euo pipefail

seconds="${1:-60}"
shift || true
case "$seconds" in
'' | *[!0-9]*) echo "usage: $0 [SECONDS_PER_TARGET] [TARGET...]" >&2; exit 2 ;;
esac

root="$(cd "$(dirname "$0")/.." && pwd)"
fuzz="$root/fuzz"
cd "$root"
started=$(date +%s)

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz..." >&2
    cargo install cargo-fuzz --locked
fi

toolchain="${FUZZ_TOOLCHAIN:-}"
if [ -z "$toolchain" ]; then
    if cargo +nightly --version >/dev/null 2>&1; then toolchain=nightly; else toolchain=stable; fi
fi
flags=(-O) # release + the debug assertions of fuzz/Cargo.toml's profile
if [ "$toolchain" = nightly ]; then
    cargo=(cargo +nightly fuzz)
else
    # cargo-fuzz needs unstable rustc flags; stable has no sanitizers.
    export RUSTC_BOOTSTRAP=1
    cargo=(cargo fuzz)
    flags+=(--sanitizer none)
fi
if [ -n "${FUZZ_TARGET_DIR:-}" ]; then
    flags+=(--target-dir "$FUZZ_TARGET_DIR")
fi

if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <("${cargo[@]}" list)
fi

echo "building ${#targets[@]} targets (${cargo[*]} ${flags[*]})..." >&2
"${cargo[@]}" build "${flags[@]}" >&2

work="$(mktemp -d "${TMPDIR:-/tmp}/sf-fuzz.XXXXXX")"
if [ "${FUZZ_KEEP:-0}" != 1 ]; then
    trap 'rm -rf "$work"' EXIT
fi

failed=0
summary=()
for t in "${targets[@]}"; do
    mkdir -p "$work/$t"
    args=(-max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048)
    if [ -f "$fuzz/dict/$t.dict" ]; then
        args+=(-dict="$fuzz/dict/$t.dict")
    fi
    log="$work/$t.log"
    echo "fuzzing $t for ${seconds}s..." >&2
    # New inputs go to the scratch dir (the first); the seeds are only read.
    # Seeds that are key material live apart, under fixtures/.
    seeds=()
    for dir in "$fuzz/corpus/$t" "$fuzz/fixtures/$t-test-keys"; do
        if [ -d "$dir" ]; then seeds+=("$dir"); fi
    done
    set +e
    "${cargo[@]}" run "${flags[@]}" "$t" "$work/$t" "${seeds[@]}" -- "${args[@]}" >"$log" 2>&1
    rc=$?
    set -e
    execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    if [ -z "$execs" ]; then
        execs=$(sed -n 's/^#\([0-9]*\)[[:space:]]*DONE.*/\1/p' "$log" | tail -n 1)
    fi
    rate=$(sed -n 's/^stat::average_exec_per_sec: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    if [ "$rc" -eq 0 ]; then
        line=$(printf '%-16s ok     %10s execs  %7s exec/s' "$t" "${execs:-?}" "${rate:-?}")
    else
        failed=1
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        line=$(printf '%-16s FAILED %10s execs  (exit %s) %s' "$t" "${execs:-?}" "$rc" "${artifact:-see log}")
        echo "---- $t: last lines of the log ----" >&2
        grep -m1 -A12 -E 'panicked at|ERROR: libFuzzer|==[0-9]+==ERROR' "$log" >&2 || tail -n 40 "$log" >&2
    fi
    echo "$line"
    summary+=("$line")
done

echo
echo "== fuzz summary (${seconds}s per target, $toolchain, $(($(date +%s) - started))s wall) =="
printf '%s\n' "${summary[@]}"
if [ "${FUZZ_KEEP:-0}" = 1 ]; then
    echo "scratch corpora and logs kept in $work"
fi
if [ "$failed" -ne 0 ]; then
    echo "crash inputs are under fuzz/artifacts/<target>/; see fuzz/README.md to replay" >&2
    exit 1
fi
