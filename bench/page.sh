#!/usr/bin/env bash
# Figure 3 (and the HTTP half of figure 2): an authenticated client page with its audit event,
# against a bare axum handler doing the same SQLite read; then sign-ins per second over HTTP.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need wrk
need jq
OUT=$WORK/out
mkdir -p "$OUT"
D=$WORK/page
PORT=${PAGE_PORT:-18282}
BARE_PORT=${BARE_PORT:-18283}
BASE=http://127.0.0.1:$PORT
rm -rf "$D"
mkdir -p "$D"

SERVER=
BARE=
cleanup() {
    [ -n "$SERVER" ] && stop_pid "$SERVER"
    [ -n "$BARE" ] && stop_pid "$BARE"
    return 0
}
trap cleanup EXIT

# start_server [ENV=VALUE...]: the release server on the fresh data dir, its log in $D/server.log.
start_server() {
    env "$@" "$REL/stepdown" --data-dir "$D" serve --listen "127.0.0.1:$PORT" --metrics-listen off \
        >>"$D/stdout.log" 2>>"$D/server.log" &
    SERVER=$!
    wait_for "$BASE/readyz"
}

stop_server() {
    stop_pid "$SERVER"
    SERVER=
}

add_user() { # USERNAME "FULL NAME" ROLE
    printf '%s\n' "$PASSWORD" | "$REL/stepdown" --data-dir "$D" user add --username "$1" --name "$2" --role "$3" \
        --password-stdin >/dev/null 2>>"$D/cli.log"
}
api() { curl -fsS -H 'Content-Type: application/json' "$@"; }
login() { api -X POST -d "{\"username\":\"$1\",\"password\":\"$PASSWORD\"}" "$BASE/api/v1/session" | jq -er .token; }

start_server
add_user supervisor "Sam Okafor" supervisor
add_user counselor "Casey Lindqvist" counselor
add_user loginbench "Lee Moreau" counselor

SUP=$(login supervisor)
CLIENT=$(api -H "Authorization: Bearer $SUP" -X POST \
    -d '{"given_name":"Ada","family_name":"Lovelace","date_of_birth":"1990-02-27"}' \
    "$BASE/api/v1/clients" | jq -er .id)
COU=$(login counselor)
COU_ID=$(api -H "Authorization: Bearer $COU" "$BASE/api/v1/session" | jq -er .user.id)
api -H "Authorization: Bearer $SUP" -X PUT -d '{"team_role":"primary_counselor"}' \
    "$BASE/api/v1/clients/$CLIENT/care-team/$COU_ID" >/dev/null
COOKIE="Cookie: __Host-stepdown_session=$COU"

code=$(curl -s -o "$OUT/page.html" -w '%{http_code}' -H "$COOKIE" "$BASE/clients/$CLIENT")
if [ "$code" != 200 ] || ! grep -q Lovelace "$OUT/page.html"; then
    echo "error: GET /clients/$CLIENT as the counselor gave $code, not the chart" >&2
    exit 1
fi
echo "client $CLIENT, counselor $COU_ID; page is $(wc -c <"$OUT/page.html") bytes"

# client.read events in the log (0 without the sqlite3 shell).
reads() {
    if command -v sqlite3 >/dev/null; then
        sqlite3 "$D/stepdown.db" "SELECT count(*) FROM audit_events WHERE action = 'client.read'"
    else
        echo 0
    fi
}
before=$(reads)
echo "== stack: GET /clients/{id} (HTML, session cookie)"
run_wrk stack-ui -H "$COOKIE" "$BASE/clients/$CLIENT"
echo "client.read audit events written during the UI runs: $(($(reads) - before))"
echo "== stack: GET /api/v1/clients/{id} (JSON, bearer token)"
run_wrk stack-api -H "Authorization: Bearer $COU" "$BASE/api/v1/clients/$CLIENT"
echo "== stack, part of the request: GET /healthz (router and middleware only)"
run_wrk stack-healthz "$BASE/healthz"
echo "== stack, part of the request: GET /api/v1/session (authentication only: no client read, no audit)"
run_wrk stack-session -H "Authorization: Bearer $COU" "$BASE/api/v1/session"

echo "== sign-in over HTTP: POST /api/v1/session, right password"
for c in 2 8; do
    wait_quiet
    wrk_checked -t2 -c$c -d"${SECONDS_PER_RUN}"s --latency -s "$ROOT/bench/login.lua" "$BASE/api/v1/session" \
        | tee "$OUT/login-http-c$c.txt"
done
stop_server

echo "== stack with request logging off (STEPDOWN_LOG=warn): GET /clients/{id}"
start_server STEPDOWN_LOG=warn
run_wrk stack-ui-quiet -H "$COOKIE" "$BASE/clients/$CLIENT"
stop_server

echo "== audit chain after the runs"
"$REL/stepdown" --data-dir "$D" audit verify 2>>"$D/cli.log" | tee "$OUT/audit-verify.txt"

echo "== bare axum + SQLite: GET /clients/{id}"
"$REL/bench-bare" --data-dir "$D" --listen "127.0.0.1:$BARE_PORT" >/dev/null &
BARE=$!
wait_for "http://127.0.0.1:$BARE_PORT/clients/$CLIENT"
run_wrk bare "http://127.0.0.1:$BARE_PORT/clients/$CLIENT"
stop_pid "$BARE"
BARE=

read -r s_rps s_p50 s_p99 <<<"$(wrk_figures "$OUT/stack-ui.txt")"
read -r a_rps a_p50 a_p99 <<<"$(wrk_figures "$OUT/stack-api.txt")"
read -r q_rps q_p50 q_p99 <<<"$(wrk_figures "$OUT/stack-ui-quiet.txt")"
read -r b_rps b_p50 b_p99 <<<"$(wrk_figures "$OUT/bare.txt")"
read -r h_rps h_p50 h_p99 <<<"$(wrk_figures "$OUT/stack-healthz.txt")"
read -r n_rps n_p50 n_p99 <<<"$(wrk_figures "$OUT/stack-session.txt")"
{
    echo "page render at 32 connections (wrk -t2 -c32 -d${SECONDS_PER_RUN}s):"
    printf '  %-34s %10s req/s  p50 %-9s p99 %s\n' "stack UI /clients/{id}" "$s_rps" "$s_p50" "$s_p99"
    printf '  %-34s %10s req/s  p50 %-9s p99 %s\n' "stack API /api/v1/clients/{id}" "$a_rps" "$a_p50" "$a_p99"
    printf '  %-34s %10s req/s  p50 %-9s p99 %s\n' "stack UI, request log off" "$q_rps" "$q_p50" "$q_p99"
    printf '  %-34s %10s req/s  p50 %-9s p99 %s\n' "bare axum + SQLite" "$b_rps" "$b_p50" "$b_p99"
    printf '  %-34s %10s req/s  p50 %-9s p99 %s\n' "stack /healthz (no DB)" "$h_rps" "$h_p50" "$h_p99"
    printf '  %-34s %10s req/s  p50 %-9s p99 %s\n' "stack GET /api/v1/session (auth)" "$n_rps" "$n_p50" "$n_p99"
    awk -v s="$s_rps" -v a="$a_rps" -v b="$b_rps" 'BEGIN {
        printf "  throughput ratio stack/bare: UI %.3f, API %.3f\n", s / b, a / b }'
    for c in 2 8; do
        echo "  HTTP sign-in at $c connections: $(awk '/Requests\/sec:/ {print $2}' "$OUT/login-http-c$c.txt") req/s"
    done
} | tee "$OUT/page-summary.txt"
