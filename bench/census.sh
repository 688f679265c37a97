#!/usr/bin/env bash
# Figure 5: census board render time with 300 open episodes and 5 years of history, as a
# supervisor: App::census in-process, GET /census (HTML) and GET /api/v1/census (JSON) over HTTP,
# sequentially (bench-census) and with wrk at 8 connections.
# Environment (besides common.sh): CENSUS_BACKENDS ("sqlite postgres"), CENSUS_HISTORY (3600
# discharged episodes), CENSUS_OPEN (300), CENSUS_REQUESTS (200), PG_URL
# (postgres://postgres@127.0.0.1:5432), REGEN=1 to regenerate the SQLite database (the PostgreSQL
# one is always created fresh and dropped).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need wrk
OUT=$WORK/out
mkdir -p "$OUT"
BACKENDS=${CENSUS_BACKENDS:-sqlite postgres}
HISTORY=${CENSUS_HISTORY:-3600}
OPEN=${CENSUS_OPEN:-300}
REQUESTS=${CENSUS_REQUESTS:-200}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
PG_DB=stepdown_bench_census
PORT=${CENSUS_PORT:-18285}
D=$WORK/census-sqlite

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
            "$REL/bench-gen-census" "${DB_ARGS[@]}" --history "$HISTORY" --open "$OPEN" | tee "$OUT/gen-census-sqlite.txt"
        fi
        ;;
    postgres)
        need psql
        DB_ARGS=(--database-url "$PG_URL/$PG_DB")
        if [ "${KEEP_PG:-0}" != 1 ] || ! psql "$PG_URL/$PG_DB" -qc 'SELECT 1' >/dev/null 2>&1; then
            psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)"
            psql "$PG_URL/postgres" -qc "CREATE DATABASE $PG_DB"
            "$REL/bench-gen-census" "${DB_ARGS[@]}" --history "$HISTORY" --open "$OPEN" | tee "$OUT/gen-census-postgres.txt"
        fi
        psql "$PG_URL/$PG_DB" -qc 'VACUUM ANALYZE' >/dev/null
        ;;
    *)
        echo "error: unknown backend $backend" >&2
        exit 1
        ;;
    esac

    # A counselor on no care team sees the same board with every name hidden: the same reads, but
    # none of the 300 audit events, which splits the use case's cost in two.
    printf '%s\n' "$PASSWORD" | "$REL/stepdown" "${DB_ARGS[@]}" user add --username couns --name "Casey Lindqvist" \
        --role counselor --password-stdin >/dev/null 2>&1 || true

    echo "== $backend: in-process App::census"
    wait_quiet
    "$REL/bench-census" "${DB_ARGS[@]}" --in-process --requests "$REQUESTS" --label "$backend" \
        | tee "$OUT/census-$backend-inproc.txt"
    "$REL/bench-census" "${DB_ARGS[@]}" --in-process --requests "$REQUESTS" --label "$backend-hidden" \
        --username couns | tee "$OUT/census-$backend-inproc-hidden.txt"

    "$REL/stepdown" "${DB_ARGS[@]}" serve --listen "127.0.0.1:$PORT" --metrics-listen off \
        >/dev/null 2>>"$OUT/census-$backend-server.log" &
    SERVER=$!
    BASE=http://127.0.0.1:$PORT
    wait_for "$BASE/readyz"
    echo "== $backend: sequential GET /census and GET /api/v1/census"
    wait_quiet
    "$REL/bench-census" --http "127.0.0.1:$PORT" --requests "$REQUESTS" --label "$backend" \
        | tee "$OUT/census-$backend-http.txt"
    "$REL/bench-census" --http "127.0.0.1:$PORT" --requests "$REQUESTS" --label "$backend-hidden" --username couns \
        | tee "$OUT/census-$backend-http-hidden.txt"
    TOKEN=$("$REL/bench-census" --http "127.0.0.1:$PORT" --print-token)
    for c in 1 8; do
        echo "== $backend: wrk -c$c GET /census (HTML, cookie)"
        wait_quiet
        wrk_checked -t1 -c"$c" -d3s -H "Cookie: __Host-stepdown_session=$TOKEN" "$BASE/census" >/dev/null
        wrk_checked -t"$((c > 1 ? 2 : 1))" -c"$c" -d"${SECONDS_PER_RUN}"s --latency -H "Cookie: __Host-stepdown_session=$TOKEN" \
            "$BASE/census" | tee "$OUT/census-$backend-wrk-ui-c$c.txt"
        echo "== $backend: wrk -c$c GET /api/v1/census (JSON, bearer)"
        wait_quiet
        wrk_checked -t"$((c > 1 ? 2 : 1))" -c"$c" -d"${SECONDS_PER_RUN}"s --latency -H "Authorization: Bearer $TOKEN" \
            "$BASE/api/v1/census" | tee "$OUT/census-$backend-wrk-api-c$c.txt"
    done
    stop_pid "$SERVER"
    SERVER=
done

{
    echo "census board ($OPEN open episodes, $HISTORY discharged over 5 years), ms:"
    for backend in $BACKENDS; do
        cat "$OUT/census-$backend"-{inproc,inproc-hidden,http,http-hidden}.txt | grep '^RESULT' \
            | sed -E 's/^RESULT label=([^ ]*) what=(.*) n=([0-9]+) mean=([^ ]*) p50=([^ ]*) p95=([^ ]*) p99=([^ ]*) max=([^ ]*)$/\1|\2|\5|\6|\7|\8/' \
            | awk -F'|' '{ printf "  %-16s %-28s p50 %8s  p95 %8s  p99 %8s  max %8s\n", $1, $2, $3, $4, $5, $6 }'
        for c in 1 8; do
            for what in ui api; do
                read -r rps p50 p99 <<<"$(wrk_figures "$OUT/census-$backend-wrk-$what-c$c.txt")"
                printf '  %-16s wrk -c%s %-20s %8s req/s  p50 %-9s p99 %s\n' "$backend" "$c" "$what" "$rps" "$p50" "$p99"
            done
        done
    done
} | tee "$OUT/census-summary.txt"
