#!/usr/bin/env bash
# Figure 6: measurement. Scoring throughput (bench-scoring), one trend chart of two years of
# weekly scores (bench-chart), and the measures tab of a chart holding two years of weekly
# PHQ-9 and GAD-7 scores: App::measures with both charts in-process, and GET
# /clients/{id}/measures over HTTP (bench-measures), on SQLite.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
OUT=$WORK/out
mkdir -p "$OUT"
PORT=${MEASURES_PORT:-18286}
D=$WORK/measures-sqlite
SERVER=
cleanup() { [ -n "$SERVER" ] && stop_pid "$SERVER"; return 0; }
trap cleanup EXIT

wait_quiet
"$REL/bench-scoring" | tee "$OUT/scoring.txt"
"$REL/bench-chart" | tee "$OUT/chart.txt"
rm -rf "$D"
"$REL/bench-measures" --data-dir "$D" --generate --in-process | tee "$OUT/measures-in-process.txt"
"$REL/stepdown" --data-dir "$D" serve --listen "127.0.0.1:$PORT" --metrics-listen off >"$OUT/measures-server.log" 2>&1 &
SERVER=$!
wait_for "http://127.0.0.1:$PORT/readyz"
"$REL/bench-measures" --data-dir "$D" --http "127.0.0.1:$PORT" | tee "$OUT/measures-http.txt"

# End to end: a complete PHQ-9 POSTed over HTTP (checked, scored, stored with its audit event in
# one transaction), wrk at 32 connections.
need wrk
read -r TOKEN CLIENT < <("$REL/bench-measures" --data-dir "$D" --http "127.0.0.1:$PORT" --print-token)
cat >"$WORK/post-phq9.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
wrk.body = '{"form":"phq-9","answers":{"1":1,"2":2,"3":1,"4":0,"5":1,"6":0,"7":1,"8":0,"9":0}}'
LUA
run_wrk measures-post-phq9 -s "$WORK/post-phq9.lua" "http://127.0.0.1:$PORT/api/v1/clients/$CLIENT/responses"
