#!/usr/bin/env bash
# Issue 5's figure: the schedule builder (domain::iop::builder) against an exact solver on the
# same generated IOP weeks of 50, 200 and 500 clients (60–150 group sessions plus one-to-one
# slots). bench-schedule generates each week (fixed seed), writes it as JSON, times the builder
# (median of 5 runs, release build) and checks its proposal; bench/schedule_exact.py solves the
# same JSON with SCIP (OR-Tools' MILP; or CP-SAT) under a time limit, re-checks the builder's
# proposal independently of the Rust code, and this script prints both side by side.
# Needs OR-Tools in the Python it runs:   python3.11 -m pip install ortools
# Environment (besides common.sh): SCHEDULE_CLIENTS (50,200,500), SCHEDULE_SEED (11),
# SCHEDULE_TIME_LIMIT (120 s per exact solve), SCHEDULE_SOLVER (scip or cpsat), PYTHON
# (python3.11), SKIP_BUILD=1 to use the bench-schedule binary already built.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"
OUT=$WORK/schedule
mkdir -p "$OUT"
CLIENTS=${SCHEDULE_CLIENTS:-50,200,500}
SEED=${SCHEDULE_SEED:-11}
LIMIT=${SCHEDULE_TIME_LIMIT:-120}
SOLVER=${SCHEDULE_SOLVER:-scip}
PY=${PYTHON:-python3.11}
"$PY" -c 'import ortools' 2>/dev/null || { echo "error: $PY has no ortools; run: $PY -m pip install ortools" >&2; exit 1; }
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    cargo build --release -p bench --bin bench-schedule
fi

wait_quiet
"$REL/bench-schedule" --clients "$CLIENTS" --seed "$SEED" --out "$OUT" | tee "$OUT/builder.txt"
for n in ${CLIENTS//,/ }; do
    echo "exact solve, $n clients ($SOLVER, at most $LIMIT s)..." >&2
    "$PY" bench/schedule_exact.py "$OUT/n$n.instance.json" --builder "$OUT/n$n.builder.json" \
        --solver "$SOLVER" --time-limit "$LIMIT" --out "$OUT/n$n.exact.json" >/dev/null
done

"$PY" - "$OUT" ${CLIENTS//,/ } <<'PY'
import json, sys
out, sizes = sys.argv[1], sys.argv[2:]
print()
print("| clients | sessions (groups + 1:1) | builder time (median) | builder objective (placed) | exact objective (placed) | exact status, time | upper bound | builder / exact | builder / bound | violations (Rust check / Python re-check / exact) |")
print("|---|---|---|---|---|---|---|---|---|---|")
for n in sizes:
    b = json.load(open(f"{out}/n{n}.builder.json"))
    e = json.load(open(f"{out}/n{n}.exact.json"))
    x, r = e["exact"], e["builder_rechecked"]
    assert r["objective"] == b["objective"], "the Python re-check disagrees with the builder's objective"
    have = "objective" in x
    ratio = f"{b['objective'] / x['objective']:.4f}" if have else "-"
    # The smaller of the solver's proven bound and the linear relaxation's (both valid).
    bounds = [(x.get("bound"), "solver"), (x.get("lp_bound"), "LP")]
    bounds = [(v, k) for v, k in bounds if v is not None]
    ub, which = min(bounds) if bounds else (None, "")
    bound = f"{b['objective'] / ub:.4f}" if ub else "-"
    exact = f"{x['objective']} ({x['placed']})" if have else "none found"
    print(
        f"| {n} | {b['sessions']} ({b['groups']} + {b['one_to_one']}) | {b['time_ms_median']:.0f} ms "
        f"| {b['objective']} ({b['placed']}) | {exact} | {x['status']}, {x['time_s']:.0f} s "
        f"| {ub if ub else '-'} ({which}) | {ratio} | {bound} "
        f"| {len(b['violations'])} / {len(r['violations'])} / {len(x.get('violations', []))} |"
    )
print()
print("objective = 10000 x placed + 20 x continuity - excess minutes (crates/domain/src/iop/builder.rs)")
PY
