#!/usr/bin/env bash
# Figure 4: client search p99 over 100,000 clients, on SQLite and on PostgreSQL, in-process
# (App::search_clients) and over HTTP (POST /api/v1/clients/search), at concurrency 1 and 8.
# Environment (besides common.sh): SEARCH_CLIENTS (100000), SEARCH_QUERIES (2000),
# SEARCH_BACKENDS ("sqlite postgres"), PG_URL (postgres://postgres@127.0.0.1:5432), REGEN=1 to
# regenerate the SQLite register (the PostgreSQL database is always created fresh and dropped).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need jq
OUT=$WORK/out
mkdir -p "$OUT"
CLIENTS=${SEARCH_CLIENTS:-100000}
QUERIES=${SEARCH_QUERIES:-2000}
BACKENDS=${SEARCH_BACKENDS:-sqlite postgres}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
PG_DB=stepdown_bench_search
PORT=${SEARCH_PORT:-18284}
D=$WORK/search-sqlite

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
            "$REL/bench-gen-clients" "${DB_ARGS[@]}" --clients "$CLIENTS" | tee "$OUT/gen-clients-sqlite.txt"
        fi
        echo "SQLite file: $(du -m "$D/stepdown.db" | cut -f1) MB"
        ;;
    postgres)
        need psql
        DB_ARGS=(--database-url "$PG_URL/$PG_DB")
        if [ "${KEEP_PG:-0}" != 1 ] || ! psql "$PG_URL/$PG_DB" -qc 'SELECT 1' >/dev/null 2>&1; then
            psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)"
            psql "$PG_URL/postgres" -qc "CREATE DATABASE $PG_DB"
            "$REL/bench-gen-clients" "${DB_ARGS[@]}" --clients "$CLIENTS" | tee "$OUT/gen-clients-postgres.txt"
        fi
        psql "$PG_URL/$PG_DB" -qc 'VACUUM ANALYZE' >/dev/null
        echo "PostgreSQL database: $(psql "$PG_URL/$PG_DB" -Atc "SELECT pg_size_pretty(pg_database_size('$PG_DB'))")"
        ;;
    *)
        echo "error: unknown backend $backend" >&2
        exit 1
        ;;
    esac

    echo "== $backend: in-process App::search_clients"
    wait_quiet
    "$REL/bench-search" "${DB_ARGS[@]}" --queries "$QUERIES" --in-process --concurrency 1,8 --label "$backend" \
        | tee "$OUT/search-$backend-inproc.txt"

    echo "== $backend: HTTP POST /api/v1/clients/search"
    "$REL/stepdown" "${DB_ARGS[@]}" serve --listen "127.0.0.1:$PORT" --metrics-listen off \
        >/dev/null 2>>"$OUT/search-$backend-server.log" &
    SERVER=$!
    wait_for "http://127.0.0.1:$PORT/readyz"
    wait_quiet
    "$REL/bench-search" "${DB_ARGS[@]}" --queries "$QUERIES" --http "127.0.0.1:$PORT" --concurrency 1,8 \
        --label "$backend" | tee "$OUT/search-$backend-http.txt"
    stop_pid "$SERVER"
    SERVER=
done

{
    echo "client search over $CLIENTS clients, $QUERIES queries per run (ms):"
    printf '  %-9s %-11s %3s %9s %8s %8s %8s %8s\n' backend mode conc "req/s" p50 p95 p99 max
    for backend in $BACKENDS; do
        cat "$OUT/search-$backend-inproc.txt" "$OUT/search-$backend-http.txt" | grep '^RESULT' \
            | sed 's/[a-z0-9]*=//g' | while read -r _ label mode c _ rps _ p50 p95 p99 max; do
                printf '  %-9s %-11s %3s %9s %8s %8s %8s %8s\n' "$label" "$mode" "$c" "$rps" "$p50" "$p95" "$p99" "$max"
            done
    done
} | tee "$OUT/search-summary.txt"
