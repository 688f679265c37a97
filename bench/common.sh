# Shared settings for the benchmark scripts; sourced, not run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/stepdown-target}
REL=$CARGO_TARGET_DIR/release
# Scratch space for data directories and raw outputs (the 1 GB database is kept for reuse).
WORK=${BENCH_WORK:-/tmp/stepdown-bench}
# Seconds per measured wrk run (each is preceded by a 3 s warm-up).
SECONDS_PER_RUN=${BENCH_SECONDS:-15}
PASSWORD="quiet lantern orbits the harbor"
mkdir -p "$WORK"

need() {
    command -v "$1" >/dev/null || { echo "error: $1 is not installed" >&2; exit 1; }
}

# wait_for URL: polls until URL answers 200 (30 s at most).
wait_for() {
    for _ in $(seq 1 600); do
        if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    echo "error: $1 did not answer 200 within 30 s" >&2
    return 1
}

# stop_pid PID: SIGTERM, then wait for the process to exit.
stop_pid() {
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# wait_quiet: this machine has 2 cores and is shared with builds; wait (up to $QUIET_WAIT seconds,
# default 900) until no compiler has run for 5 s, so that a build does not share the measurement.
wait_quiet() {
    local waited=0 calm=0
    while [ "$calm" -lt 5 ]; do
        if pgrep -x rustc >/dev/null || pgrep -x cc1 >/dev/null; then calm=0; else calm=$((calm + 1)); fi
        sleep 1
        waited=$((waited + 1))
        if [ "$waited" -ge "${QUIET_WAIT:-900}" ]; then
            echo "warning: a compiler is still running; measuring anyway" >&2
            return 0
        fi
    done
    [ "$waited" -gt 5 ] && echo "(waited ${waited}s for a running build to finish)" >&2
    return 0
}

# wrk_checked ARGS...: wrk, but a run that did not measure what it meant to fails. For a GET
# (no -s script), the same request is made once before and once after and must answer
# $BENCH_EXPECT (default 200): a session that expired while wait_quiet waited would otherwise
# have the run measure 303s to the sign-in page at a flattering rate. Any response wrk counts
# as an error (non-2xx/3xx, socket errors) fails the run too. Prints wrk's report.
wrk_checked() {
    local args=("$@") url="${*: -1}" headers=() scripted=0 i report
    for ((i = 0; i < ${#args[@]}; i++)); do
        case "${args[i]}" in
            -H) headers+=(-H "${args[i + 1]}") ;;
            -s) scripted=1 ;;
        esac
    done
    if [ "$scripted" -eq 0 ]; then probe_status "$url" "${headers[@]}"; fi
    report=$(wrk "$@")
    printf '%s\n' "$report"
    if grep -qE 'Non-2xx or 3xx responses|Socket errors' <<<"$report"; then
        echo "error: wrk saw unexpected responses or socket errors (above); the figures are not valid" >&2
        return 1
    fi
    if [ "$scripted" -eq 0 ]; then probe_status "$url" "${headers[@]}"; fi
}

# probe_status URL [-H HEADER]...: one request, which must answer $BENCH_EXPECT (default 200).
probe_status() {
    local url=$1 status
    shift
    status=$(curl -s -o /dev/null -w '%{http_code}' "$@" "$url")
    if [ "$status" != "${BENCH_EXPECT:-200}" ]; then
        echo "error: $url answered $status, not ${BENCH_EXPECT:-200}: the run would measure the wrong thing" >&2
        return 1
    fi
}

# run_wrk NAME ARGS...: 3 s warm-up, then the measured run with latency percentiles into $OUT/NAME.txt.
run_wrk() {
    local name=$1
    shift
    wait_quiet
    wrk_checked -t2 -c32 -d3s "$@" >/dev/null
    wrk_checked -t2 -c32 -d"${SECONDS_PER_RUN}"s --latency "$@" | tee "$OUT/$name.txt"
}

# wrk_figures FILE: "req/s p50 p99" from a wrk --latency report.
wrk_figures() {
    awk '/Requests\/sec:/ {rps=$2} $1=="50%" {p50=$2} $1=="99%" {p99=$2} END {print rps, p50, p99}' "$1"
}
