#!/usr/bin/env bash
# Figure 1: cold start to ready on an existing ~1 GB SQLite database.
# Generates the database once into $BENCH_WORK/big (set REGEN=1 to rebuild it).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
OUT=$WORK/out
mkdir -p "$OUT"
D=$WORK/big
PORT=${COLD_PORT:-18181}

if [ ! -f "$D/stepdown.db" ] || [ "${REGEN:-0}" = 1 ]; then
    rm -rf "$D"
    "$REL/bench-gen-db" --data-dir "$D" --target-mb "${TARGET_MB:-1024}" | tee "$OUT/gen-db.txt"
fi
if command -v sqlite3 >/dev/null; then
    sqlite3 "$D/stepdown.db" "SELECT 'users', count(*) FROM users UNION ALL SELECT 'clients', count(*) FROM clients \
        UNION ALL SELECT 'care_team_members', count(*) FROM care_team_members \
        UNION ALL SELECT 'audit_events', count(*) FROM audit_events" | tee "$OUT/big-counts.txt"
fi

wait_quiet
# Page cache warm (the file was just written or read): the usual restart.
"$REL/bench-cold-start" --bin "$REL/stepdown" --data-dir "$D" --runs 5 --listen "127.0.0.1:$PORT" \
    --log "$OUT/cold-start-server.log" | tee "$OUT/cold-start-warm.txt"
# Page cache dropped before each run: a reboot or a database that was not touched for a while.
if [ -w /proc/sys/vm/drop_caches ] && [ "${DROP_CACHES:-1}" = 1 ]; then
    wait_quiet
    "$REL/bench-cold-start" --bin "$REL/stepdown" --data-dir "$D" --runs 5 --listen "127.0.0.1:$PORT" \
        --log "$OUT/cold-start-server.log" --drop-caches | tee "$OUT/cold-start-dropped.txt"
else
    echo "(skipping the dropped-page-cache runs: /proc/sys/vm/drop_caches is not writable or DROP_CACHES=0)"
fi
