#!/usr/bin/env python3
"""Exact solver for the schedule builder's instances (domain::iop::builder), with OR-Tools CP-SAT.

Reads an instance written by `bench-schedule` (the builder's own serde JSON), builds the same
model the builder works on, optimises the same objective, and prints one JSON object: status
(OPTIMAL or FEASIBLE when the time limit stopped it), objective of the best solution found, the
best proven bound, time, and the parts of the objective. Given the builder's result file too
(--builder), it also re-checks the builder's proposal against every hard constraint and
recomputes its objective, independently of the Rust code.

Install (not done by this script):   python3.11 -m pip install ortools
(measured with ortools 9.15). Usage:
    python3.11 bench/schedule_exact.py INSTANCE.json [--builder BUILDER.json]
        [--time-limit 60] [--workers 2] [--out RESULT.json]

The model, stated once (it must stay the builder's; see crates/domain/src/iop/builder.rs):
  x[c,s] in {0,1} for each session s open to client c: s lies inside one of c's availability
      windows (same weekday, start >= window start, end <= window end), is not one of c's fixed
      sessions and does not overlap one. Fixed sessions are assigned, constants.
  p[c] in {0,1}: c is placed. x[c,s] <= p[c]: an unplaced client keeps only fixed sessions.
  No two overlapping sessions per client: at each session start, at most one session of c
      running (the maximal cliques of an interval graph).
  Seats: sum_c x[c,s] <= cap(s) - fixed(s), cap(s) = 1 for one-to-one modalities (individual,
      family, case management), else min(session capacity, room capacity).
  Load: sum over s of facilitator f of sum_c x[c,s] <= max_load(f) - fixed load(f).
  Requirement when placed: clinical minutes (all modalities but case management) >= required
      minutes, and count per required modality >= its count (fixed sessions included).
  Maximise sum over placed c of 10000 + 20 * continuity(c) - (total minutes(c) - required(c)),
      continuity(c) = number of c's sessions whose series is in c's last_week.
"""

import argparse
import datetime as dt
import json
import sys
import time

PLACED_WEIGHT = 10_000
CONTINUITY_WEIGHT = 20
ONE_TO_ONE = {"individual", "family", "case_management"}
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def parse_date(v):
    """`time::Date` as serde writes it: [year, ordinal] or "YYYY-MM-DD"."""
    if isinstance(v, list):
        return dt.date(v[0], 1, 1) + dt.timedelta(days=v[1] - 1)
    return dt.date.fromisoformat(v)


def parse_minute(v):
    """`time::Time` as minutes since midnight: [h, m, s, ns] or "HH:MM:SS[.f]"."""
    if isinstance(v, list):
        return v[0] * 60 + v[1]
    h, m = v.split(":")[:2]
    return int(h) * 60 + int(m)


def parse_weekday(v):
    """`time::Weekday`: its number from Monday (1..7) or its name; returns 0 = Monday."""
    if isinstance(v, int):
        return v - 1
    return WEEKDAYS.index(v)


class Model:
    def __init__(self, inst):
        self.rooms = [r["capacity"] for r in inst["rooms"]]
        self.max_load = [f["max_load"] for f in inst["facilitators"]]
        self.sessions = []
        for s in inst["sessions"]:
            date = parse_date(s["slot"]["date"])
            start = parse_minute(s["slot"]["start"])
            minutes = s["slot"]["minutes"]
            mod = s["modality"]
            self.sessions.append(
                {
                    "date": date,
                    "weekday": date.weekday(),
                    "start": start,
                    "end": start + minutes,
                    "minutes": minutes,
                    "modality": mod,
                    "clinical": minutes if mod != "case_management" else 0,
                    "cap": 1 if mod in ONE_TO_ONE else min(s["capacity"], self.rooms[s["room"]]),
                    "fac": s["facilitator"],
                    "series": s["series"],
                }
            )
        self.clients = []
        for c in inst["clients"]:
            windows = [(parse_weekday(w["weekday"]), parse_minute(w["start"]), parse_minute(w["end"])) for w in c["availability"]]
            self.clients.append(
                {
                    "required": c["required_minutes"],
                    "needs": {n["modality"]: n["count"] for n in c.get("required_modalities", [])},
                    "windows": windows,
                    "fixed": list(c.get("fixed", [])),
                    "last_week": set(c.get("last_week", [])),
                }
            )

    def overlaps(self, a, b):
        sa, sb = self.sessions[a], self.sessions[b]
        return sa["date"] == sb["date"] and sa["start"] < sb["end"] and sb["start"] < sa["end"]

    def inside(self, c, s):
        ss = self.sessions[s]
        return any(wd == ss["weekday"] and a <= ss["start"] and ss["end"] <= b for wd, a, b in self.clients[c]["windows"])

    def open_sessions(self, c):
        cl = self.clients[c]
        fixed = set(cl["fixed"])
        return [
            s
            for s in range(len(self.sessions))
            if s not in fixed and self.inside(c, s) and not any(self.overlaps(s, f) for f in fixed)
        ]

    def dose(self, c, sessions):
        cl = self.clients[c]
        clinical = sum(self.sessions[s]["clinical"] for s in sessions)
        total = sum(self.sessions[s]["minutes"] for s in sessions)
        cont = sum(1 for s in sessions if self.sessions[s]["series"] in cl["last_week"])
        counts = {}
        for s in sessions:
            m = self.sessions[s]["modality"]
            counts[m] = counts.get(m, 0) + 1
        meets = clinical >= cl["required"] and all(counts.get(m, 0) >= k for m, k in cl["needs"].items())
        return meets, clinical, total, cont

    def evaluate(self, assignments):
        """Objective of any assignment, and its hard-constraint violations (as text)."""
        violations = []
        placed = continuity = excess = 0
        seats = [0] * len(self.sessions)
        loads = [0] * len(self.max_load)
        for c, lst in enumerate(assignments):
            for i, s in enumerate(lst):
                if not 0 <= s < len(self.sessions):
                    violations.append(f"client {c}: unknown session {s}")
                    continue
                if s in lst[:i]:
                    violations.append(f"client {c}: session {s} twice")
                if not self.inside(c, s):
                    violations.append(f"client {c}: session {s} outside availability")
                for t in lst[:i]:
                    if 0 <= t < len(self.sessions) and t != s and self.overlaps(s, t):
                        violations.append(f"client {c}: sessions {t} and {s} overlap")
                seats[s] += 1
                loads[self.sessions[s]["fac"]] += 1
            for f in self.clients[c]["fixed"]:
                if f not in lst:
                    violations.append(f"client {c}: fixed session {f} dropped")
            meets, _clinical, total, cont = self.dose(c, [s for s in lst if 0 <= s < len(self.sessions)])
            if meets:
                placed += 1
                continuity += cont
                excess += total - self.clients[c]["required"]
        for s, n in enumerate(seats):
            if n > self.sessions[s]["cap"]:
                violations.append(f"session {s}: {n} clients for {self.sessions[s]['cap']} seats")
        for f, n in enumerate(loads):
            if n > self.max_load[f]:
                violations.append(f"facilitator {f}: load {n} over {self.max_load[f]}")
        objective = PLACED_WEIGHT * placed + CONTINUITY_WEIGHT * continuity - excess
        return {"objective": objective, "placed": placed, "continuity": continuity, "excess_minutes": excess}, violations


def formulate(model):
    """The 0-1 programme as plain data: variables (client, session or None for p[c]),
    constraints (list of (var index, coefficient), lower bound, upper bound), objective
    coefficients and constant. Shared by both back ends."""
    variables = []  # (client, session) for x, (client, None) for p
    cons = []
    objective = []
    seat_terms = [[] for _ in model.sessions]
    fixed_seats = [0] * len(model.sessions)
    load_terms = [[] for _ in model.max_load]
    fixed_load = [0] * len(model.max_load)
    opened_by = []
    inf = float("inf")
    for c, cl in enumerate(model.clients):
        pc = len(variables)
        variables.append((c, None))
        for f in cl["fixed"]:
            fixed_seats[f] += 1
            fixed_load[model.sessions[f]["fac"]] += 1
        _, fixed_clin, fixed_total, fixed_cont = model.dose(c, cl["fixed"])
        fixed_counts = {}
        for f in cl["fixed"]:
            m = model.sessions[f]["modality"]
            fixed_counts[m] = fixed_counts.get(m, 0) + 1
        opened = model.open_sessions(c)
        opened_by.append(opened)
        xs = {}
        for s in opened:
            xs[s] = len(variables)
            variables.append((c, s))
            cons.append(([(xs[s], 1), (pc, -1)], -inf, 0))  # x <= p
            seat_terms[s].append(xs[s])
            load_terms[model.sessions[s]["fac"]].append(xs[s])
            ss = model.sessions[s]
            objective.append((xs[s], (CONTINUITY_WEIGHT if ss["series"] in cl["last_week"] else 0) - ss["minutes"]))
        # Overlaps: the sessions running at each session's start form a clique (sweep per day).
        by_day = {}
        for s in opened:
            by_day.setdefault(model.sessions[s]["date"], []).append(s)
        cliques = set()
        for day in by_day.values():
            day.sort(key=lambda s: model.sessions[s]["start"])
            for s in day:
                at = model.sessions[s]["start"]
                clique = tuple(t for t in day if model.sessions[t]["start"] <= at < model.sessions[t]["end"])
                if len(clique) > 1:
                    cliques.add(clique)
        for clique in cliques:
            cons.append(([(xs[t], 1) for t in clique], -inf, 1))
        rest = max(0, cl["required"] - fixed_clin)
        if rest > 0:
            terms = [(xs[s], model.sessions[s]["clinical"]) for s in opened if model.sessions[s]["clinical"]]
            cons.append((terms + [(pc, -rest)], 0, inf))
        for m, k in cl["needs"].items():
            r = max(0, k - fixed_counts.get(m, 0))
            if r > 0:
                terms = [(xs[s], 1) for s in opened if model.sessions[s]["modality"] == m]
                cons.append((terms + [(pc, -r)], 0, inf))
        objective.append((pc, PLACED_WEIGHT + cl["required"] + CONTINUITY_WEIGHT * fixed_cont - fixed_total))
    for s, terms in enumerate(seat_terms):
        if terms:
            cons.append(([(v, 1) for v in terms], -inf, model.sessions[s]["cap"] - fixed_seats[s]))
    for f, terms in enumerate(load_terms):
        if terms:
            cons.append(([(v, 1) for v in terms], -inf, model.max_load[f] - fixed_load[f]))
    return variables, cons, objective, opened_by


def solve_cpsat(variables, cons, objective, time_limit, workers, hint):
    from ortools.sat.python import cp_model

    cp = cp_model.CpModel()
    v = [cp.NewBoolVar(f"v{i}") for i in range(len(variables))]
    for terms, lo, hi in cons:
        expr = cp_model.LinearExpr.WeightedSum([v[i] for i, _ in terms], [a for _, a in terms])
        if lo == float("-inf"):
            cp.Add(expr <= int(hi))
        else:
            cp.Add(expr >= int(lo))
    cp.Maximize(cp_model.LinearExpr.WeightedSum([v[i] for i, _ in objective], [a for _, a in objective]))
    if hint is not None:
        # Warm start (e.g. from the builder): changes where the search starts, not the optimum.
        for i, val in enumerate(hint):
            cp.AddHint(v[i], val)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = workers
    status = solver.Solve(cp)
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    return {
        "status": solver.StatusName(status),
        "bound": solver.BestObjectiveBound() if found else None,
        "values": [solver.Value(x) for x in v] if found else None,
    }


def solve_scip(variables, cons, objective, time_limit, hint, gap):
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver("SCIP")
    v = [solver.BoolVar(f"v{i}") for i in range(len(variables))]
    inf = solver.infinity()
    for terms, lo, hi in cons:
        ct = solver.Constraint(-inf if lo == float("-inf") else lo, inf if hi == float("inf") else hi)
        for i, a in terms:
            ct.SetCoefficient(v[i], a)
    obj = solver.Objective()
    for i, a in objective:
        obj.SetCoefficient(v[i], a)
    obj.SetMaximization()
    if hint is not None:
        solver.SetHint(v, [float(x) for x in hint])
    solver.SetTimeLimit(int(time_limit * 1000))
    params = pywraplp.MPSolverParameters()
    # OR-Tools' default stops within 0.01 % of the bound; --gap sets it (0: prove exactly).
    params.SetDoubleParam(pywraplp.MPSolverParameters.RELATIVE_MIP_GAP, gap)
    status = solver.Solve(params)
    found = status in (pywraplp.Solver.OPTIMAL, pywraplp.Solver.FEASIBLE)
    names = {pywraplp.Solver.OPTIMAL: "OPTIMAL", pywraplp.Solver.FEASIBLE: "FEASIBLE"}
    return {
        "status": names.get(status, f"status {status}"),
        "bound": obj.BestBound() if found else None,
        "values": [round(x.solution_value()) for x in v] if found else None,
    }


def lp_bound(variables, cons, objective, time_limit):
    """The linear relaxation (GLOP): a valid upper bound on the optimum even when the integer
    solve stops early (on these weeks it is within a fraction of a percent of the optimum)."""
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver("GLOP")
    v = [solver.NumVar(0.0, 1.0, f"v{i}") for i in range(len(variables))]
    inf = solver.infinity()
    for terms, lo, hi in cons:
        ct = solver.Constraint(-inf if lo == float("-inf") else lo, inf if hi == float("inf") else hi)
        for i, a in terms:
            ct.SetCoefficient(v[i], a)
    obj = solver.Objective()
    for i, a in objective:
        obj.SetCoefficient(v[i], a)
    obj.SetMaximization()
    solver.SetTimeLimit(int(time_limit * 1000))
    started = time.perf_counter()
    status = solver.Solve()
    took = time.perf_counter() - started
    if status != pywraplp.Solver.OPTIMAL:
        return None, took
    return int(obj.Value() + 1e-6), took


def solve(model, solver_name, time_limit, workers, gap, hint=None, lp_limit=0.0):
    started = time.perf_counter()
    variables, cons, objective, opened_by = formulate(model)
    hint_values = None
    if hint is not None:
        hint_values = []
        for c, s in variables:
            placed = model.dose(c, hint[c])[0]
            hint_values.append(int(placed) if s is None else int(placed and s in hint[c]))
    built = time.perf_counter()
    if solver_name == "cpsat":
        out = solve_cpsat(variables, cons, objective, time_limit, workers, hint_values)
    else:
        out = solve_scip(variables, cons, objective, time_limit, hint_values, gap)
    finished = time.perf_counter()
    values = out.pop("values")
    result = dict(out, solver=solver_name, model_s=built - started, time_s=finished - built, variables=len(variables), constraints=len(cons))
    if lp_limit > 0:
        result["lp_bound"], result["lp_time_s"] = lp_bound(variables, cons, objective, lp_limit)
    if values is not None:
        assignments = [sorted(cl["fixed"]) for cl in model.clients]
        for (c, s), val in zip(variables, values):
            if s is not None and val:
                assignments[c].append(s)
        assignments = [sorted(a) for a in assignments]
        score, violations = model.evaluate(assignments)
        result.update(score)
        result["violations"] = violations
        # The bound of an integer objective can be rounded down.
        if result["bound"] is not None:
            result["bound"] = int(result["bound"] + 1e-6) if result["bound"] >= 0 else result["bound"]
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("instance")
    ap.add_argument("--builder", help="the builder's result JSON, to re-check independently")
    ap.add_argument("--time-limit", type=float, default=120.0, help="seconds for the solver (model building not included)")
    ap.add_argument("--solver", choices=["scip", "cpsat"], default="scip", help="SCIP (MILP, default) or CP-SAT")
    ap.add_argument(
        "--workers",
        type=int,
        default=8,
        help="CP-SAT search workers (default 8 even on fewer cores: its portfolio of LP-based and "
        "local-search workers matters more than parallelism here); SCIP uses one thread",
    )
    ap.add_argument(
        "--gap",
        type=float,
        default=1e-4,
        help="SCIP: stop once within this relative gap of the bound (reported as OPTIMAL; the bound is "
        "reported too). Default 1e-4 (0.01 %%, OR-Tools' own default); 0 proves the optimum exactly",
    )
    ap.add_argument("--hint", action="store_true", help="warm-start the solver from the --builder proposal")
    ap.add_argument(
        "--lp-time-limit",
        type=float,
        default=600.0,
        help="seconds for the linear relaxation, solved after the integer programme as a second upper "
        "bound (0 to skip)",
    )
    ap.add_argument("--out")
    args = ap.parse_args()
    with open(args.instance) as f:
        model = Model(json.load(f))
    built = None
    if args.builder:
        with open(args.builder) as f:
            built = json.load(f)
    if args.hint and built is None:
        ap.error("--hint needs --builder")
    hint = built["assignments"] if args.hint else None
    out = {"exact": solve(model, args.solver, args.time_limit, args.workers, args.gap, hint, args.lp_time_limit)}
    if built is not None:
        score, violations = model.evaluate(built["assignments"])
        out["builder_rechecked"] = dict(score, violations=violations)
    text = json.dumps(out)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
