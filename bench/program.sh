#!/usr/bin/env bash
# Figure 7 (issue 5): the dose-compliance dashboard for 300 active IOP clients with 2 years of
# weekly attendance, as a supervisor: App::compliance_dashboard in-process, GET /program/dose
# (HTML) and GET /api/v1/iop/compliance (JSON) over HTTP, sequentially (bench-program) and with
# wrk at 8 connections; this week (open, with a forecast) and a closed week a year ago.
# Environment (besides common.sh): PROGRAM_BACKENDS ("sqlite postgres"), PROGRAM_CLIENTS (300),
# PROGRAM_WEEKS (104), PROGRAM_REQUESTS (100), PG_URL (postgres://postgres@127.0.0.1:5432),
# REGEN=1 to regenerate the SQLite database (the PostgreSQL one is created fresh and dropped
# unless KEEP_PG=1). Generation goes through the real use cases: ~10 min on SQLite.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need wrk
OUT=$WORK/out
mkdir -p "$OUT"
BACKENDS=${PROGRAM_BACKENDS:-sqlite postgres}
CLIENTS=${PROGRAM_CLIENTS:-300}
WEEKS=${PROGRAM_WEEKS:-104}
REQUESTS=${PROGRAM_REQUESTS:-100}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
PG_DB=stepdown_bench_program
PORT=${PROGRAM_PORT:-18287}
D=$WORK/program-sqlite
# A closed week: the same week number a year ago.
YEAR_AGO=$(date -u -d '-364 days' +%G-W%V)

SERVER=
cleanup() {
    [ -n "$SERVER" ] && stop_pid "$SERVER"
    if [[ " $BACKENDS " == *" postgres "* ]] && [ "${KEEP_PG:-0}" != 1 ]; then
        psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" 2>/dev/null || true
    fi
    return 0
}
trap cleanup EXIT

for backend in $BACKENDS; do
    case $backend in
    sqlite)
        DB_ARGS=(--data-dir "$D")
        if [ "${REGEN:-0}" = 1 ] || [ ! -f "$D/stepdown.db" ]; then
            rm -rf "$D"
            "$REL/bench-gen-program" "${DB_ARGS[@]}" --clients "$CLIENTS" --weeks "$WEEKS" \
                | tee "$OUT/gen-program-sqlite.txt"
        fi
        ;;
    postgres)
        need psql
        DB_ARGS=(--database-url "$PG_URL/$PG_DB")
        if [ "${KEEP_PG:-0}" != 1 ] || ! psql "$PG_URL/$PG_DB" -qc 'SELECT 1' >/dev/null 2>&1; then
            psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)"
            psql "$PG_URL/postgres" -qc "CREATE DATABASE $PG_DB"
            "$REL/bench-gen-program" "${DB_ARGS[@]}" --clients "$CLIENTS" --weeks "$WEEKS" \
                | tee "$OUT/gen-program-postgres.txt"
        fi
        psql "$PG_URL/$PG_DB" -qc 'VACUUM ANALYZE' >/dev/null
        ;;
    *)
        echo "error: unknown backend $backend" >&2
        exit 1
        ;;
    esac

    echo "== $backend: in-process App::compliance_dashboard"
    wait_quiet
    "$REL/bench-program" "${DB_ARGS[@]}" --in-process --requests "$REQUESTS" --label "$backend" \
        | tee "$OUT/program-$backend-inproc.txt"
    "$REL/bench-program" "${DB_ARGS[@]}" --in-process --requests "$REQUESTS" --label "$backend-$YEAR_AGO" \
        --week "$YEAR_AGO" | tee "$OUT/program-$backend-inproc-past.txt"

    "$REL/stepdown" "${DB_ARGS[@]}" serve --listen "127.0.0.1:$PORT" --metrics-listen off \
        >/dev/null 2>>"$OUT/program-$backend-server.log" &
    SERVER=$!
    BASE=http://127.0.0.1:$PORT
    wait_for "$BASE/readyz"
    echo "== $backend: sequential GET /program/dose and GET /api/v1/iop/compliance"
    wait_quiet
    "$REL/bench-program" --http "127.0.0.1:$PORT" --requests "$REQUESTS" --label "$backend" \
        | tee "$OUT/program-$backend-http.txt"
    "$REL/bench-program" --http "127.0.0.1:$PORT" --requests "$REQUESTS" --label "$backend-$YEAR_AGO" \
        --week "$YEAR_AGO" | tee "$OUT/program-$backend-http-past.txt"
    TOKEN=$("$REL/bench-program" --http "127.0.0.1:$PORT" --print-token)
    echo "== $backend: wrk -c8 GET /program/dose (HTML, cookie)"
    wait_quiet
    wrk_checked -t1 -c8 -d3s -H "Cookie: __Host-stepdown_session=$TOKEN" "$BASE/program/dose" >/dev/null
    wrk_checked -t2 -c8 -d"${SECONDS_PER_RUN}"s --latency -H "Cookie: __Host-stepdown_session=$TOKEN" \
        "$BASE/program/dose" | tee "$OUT/program-$backend-wrk-ui-c8.txt"
    echo "== $backend: wrk -c8 GET /api/v1/iop/compliance (JSON, bearer)"
    wait_quiet
    wrk_checked -t2 -c8 -d"${SECONDS_PER_RUN}"s --latency -H "Authorization: Bearer $TOKEN" \
        "$BASE/api/v1/iop/compliance" | tee "$OUT/program-$backend-wrk-api-c8.txt"
    stop_pid "$SERVER"
    SERVER=
done

{
    echo "dose-compliance dashboard ($CLIENTS clients, $WEEKS weeks of attendance), ms:"
    for backend in $BACKENDS; do
        cat "$OUT/program-$backend"-{inproc,inproc-past,http,http-past}.txt | grep '^RESULT' \
            | sed -E 's/^RESULT label=([^ ]*) what=(.*) n=([0-9]+) mean=([^ ]*) p50=([^ ]*) p95=([^ ]*) p99=([^ ]*) max=([^ ]*)$/\1|\2|\5|\6|\7|\8/' \
            | awk -F'|' '{ printf "  %-20s %-40s p50 %8s  p95 %8s  p99 %8s  max %8s\n", $1, $2, $3, $4, $5, $6 }'
        for what in ui api; do
            read -r rps p50 p99 <<<"$(wrk_figures "$OUT/program-$backend-wrk-$what-c8.txt")"
            printf '  %-20s wrk -c8 %-32s %8s req/s  p50 %-9s p99 %s\n' "$backend" "$what" "$rps" "$p50" "$p99"
        done
    done
} | tee "$OUT/program-summary.txt"
