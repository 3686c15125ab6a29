"""Packaging-line and pharmacist-verification schedule: :func:`solve_packing`.

The steps (times in integer minutes from local midnight):

1. batches that cannot be packed and verified today at all (an order received after the last
   pharmacist leaves) are split off and returned in ``PackingResult.unpacked`` with the reason;
2. the batches become jobs and verification sessions (:mod:`~ltc_scheduler.packing.jobs`); on busy
   days a few job structures (:data:`~ltc_scheduler.packing.params.STRUCTURES`) are tried and the
   one whose greedy schedule is best is kept;
3. the greedy start (:mod:`~ltc_scheduler.packing.greedy`) is the hint of the CP-SAT model
   (:mod:`~ltc_scheduler.packing.model`), and the answer when CP-SAT finds nothing better in the
   time limit (status ``GREEDY`` or ``FEASIBLE/GREEDY``);
4. the jobs' times become the batches' line, packing and verification times.

Impossible inputs raise :class:`PlanningError` naming the cause.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from ortools.sat.python import cp_model

from ltc_scheduler.errors import PlanningError
from ltc_scheduler.packing.greedy import (
    Schedule,
    best_greedy,
    choice_cost,
    fit,
    objective_of,
    urgent_wait,
    weighted_lateness,
)
from ltc_scheduler.packing.jobs import (
    Job,
    Session,
    job_setup,
    line_free_segments,
    make_jobs,
    pharmacist_capacity,
)
from ltc_scheduler.packing.model import ModelData, build_model, relaxation_bound, run_solver, status_name
from ltc_scheduler.packing.params import STRUCTURES, PackingParams
from ltc_scheduler.plan.model import Batch, SolveStats
from ltc_scheduler.problem.clock import clock
from ltc_scheduler.problem.model import PackagingLine, PlanningProblem

__all__ = ["PackingParams", "PackingResult", "line_free_segments", "solve_packing"]


@dataclass(frozen=True, slots=True)
class PackingResult:
    batches: tuple[Batch, ...]  # every packed batch with line, start/end and verification times
    stats: SolveStats
    mode: str  # "exact" | "aggregated"
    jobs: int
    weighted_lateness: int
    makespan: int
    changeovers: int
    greedy_weighted_lateness: int  # -1 when the greedy could not place everything
    extra: dict[str, float] = field(default_factory=dict)
    #: batches that cannot be packed and verified today, with the reason (reported unserved)
    unpacked: tuple[tuple[Batch, str], ...] = ()


@dataclass
class _Day:
    """The day's frame: free line segments, horizon, the earliest start, pharmacists on shift and
    busy with frozen work, and when each line is free after its frozen work."""

    segs: dict[int, list[tuple[int, int]]]
    horizon: int
    earliest: int
    cap: np.ndarray
    usage: np.ndarray
    line_ready: dict[int, int]
    line_last: dict[int, Batch | None]


@dataclass
class _Variant:
    """One job structure with its best greedy schedule."""

    jobs: list[Job]
    sessions: list[Session]
    mode: str
    cand: dict[int, list[Job]]
    circuit_lines: set[int]
    campaign_lines: set[int]
    greedy: Schedule


def _check_input(problem: PlanningProblem, batches: Sequence[Batch], params: PackingParams) -> None:
    """Bad input in plain words (:class:`ValueError`)."""
    if params.time_limit_s <= 0:
        raise ValueError(f"the packing time limit must be positive, got {params.time_limit_s} s")
    if params.workers < 1:
        raise ValueError(f"the packing solver needs at least 1 worker, got {params.workers}")
    keys: set[str] = set()
    for b in batches:
        if b.cards <= 0:
            raise ValueError(f"batch {b.key} has {b.cards} cards: a batch needs at least one card")
        if b.key in keys:
            raise ValueError(f"batch key {b.key} is used twice: every batch needs its own key")
        keys.add(b.key)


def _day(problem: PlanningProblem, frozen: Sequence[Batch]) -> _Day:
    lines = problem.lines
    now = problem.now_min
    segs = {i: line_free_segments(ln) for i, ln in enumerate(lines)}
    starts = [a for v in segs.values() for a, _ in v]
    if not starts:
        raise PlanningError("no packaging line is available on this day (check line hours and downtime)")
    if not problem.verification.shifts:
        raise PlanningError("no pharmacist is on shift for verification on this day")
    ends = [b for v in segs.values() for _, b in v]
    shift_ends = [s.end for s in problem.verification.shifts]
    horizon = max(max(ends), max(shift_ends), (now or 0)) + 1
    earliest = max(0, min(min(starts), min(s.start for s in problem.verification.shifts)))
    if now is not None:
        earliest = max(earliest, now)

    cap = pharmacist_capacity(problem.verification, horizon)
    usage = np.zeros(horizon, dtype=np.int32)
    line_ready: dict[int, int] = {i: 0 for i in range(len(lines))}
    line_last: dict[int, Batch | None] = dict.fromkeys(range(len(lines)))
    line_index = {ln.id: i for i, ln in enumerate(lines)}
    for fb in frozen:
        if fb.verify_start_min is not None and fb.verify_end_min is not None:
            a, b = max(0, fb.verify_start_min), min(horizon, fb.verify_end_min)
            usage[a:b] += 1
        li = line_index.get(fb.line_id) if fb.line_id is not None else None
        if li is not None and fb.end_min is not None and fb.end_min >= line_ready[li]:
            line_ready[li] = fb.end_min
            line_last[li] = fb
    # a line whose last frozen batch is known starts the new work after a full changeover
    for li, fb in line_last.items():
        if fb is not None and fb.end_min is not None:
            line_ready[li] = fb.end_min + lines[li].changeover_kind_min
    return _Day(segs, horizon, earliest, cap, usage, line_ready, line_last)


def _best_variant(
    problem: PlanningProblem,
    batches: Sequence[Batch],
    params: PackingParams,
    day: _Day,
    hint_lines: Mapping[str, int] | None,
) -> _Variant:
    """Aggregated days: try a few job structures (:data:`STRUCTURES`) and keep the one whose
    greedy schedule is best; CP-SAT then improves that one."""
    lines = problem.lines
    line_index = {ln.id: i for i, ln in enumerate(lines)}
    variants = STRUCTURES if len(batches) > params.exact_max_batches else STRUCTURES[:1]
    best: _Variant | None = None
    best_key = None
    for wave, per_kind in variants:
        v_jobs, v_sessions, v_mode = make_jobs(problem, batches, params, day.earliest, wave, per_kind)
        v_cand: dict[int, list[Job]] = {i: [] for i in range(len(lines))}
        for j in v_jobs:
            for li in j.lines:
                v_cand[li].append(j)
        v_circuit = {li for li, js in v_cand.items() if 0 < len(js) <= params.circuit_max_jobs}
        v_campaign = {
            li for li, js in v_cand.items() if li not in v_circuit and len({x.kind for x in js}) > 1
        }
        for j in v_jobs:
            for li in j.lines:
                j.pre[li] = 0 if li in v_circuit else lines[li].changeover_facility_min
        preferred = None
        if hint_lines:
            preferred = {
                j.idx: line_index[hint_lines[j.key]]
                for j in v_jobs
                if hint_lines.get(j.key) in line_index and line_index[hint_lines[j.key]] in j.lines
            }
        v_greedy = best_greedy(
            problem,
            v_jobs,
            v_sessions,
            v_circuit,
            day.line_ready,
            day.line_last,
            day.cap,
            day.usage,
            preferred,
        )
        left_out = sum(len(v_jobs[jid].batches) for jid in v_greedy.failed)
        key = (left_out, choice_cost(v_sessions, v_greedy))
        if best_key is None or key < best_key:
            best_key = key
            best = _Variant(v_jobs, v_sessions, v_mode, v_cand, v_circuit, v_campaign, v_greedy)
    assert best is not None
    return best


def solve_packing(
    problem: PlanningProblem,
    batches: Sequence[Batch],
    params: PackingParams | None = None,
    *,
    frozen: Sequence[Batch] = (),
    hint_lines: Mapping[str, int] | None = None,
) -> PackingResult:
    """Schedule ``batches`` on the lines and the pharmacists; returns them with times filled in.

    ``frozen`` batches (re-planning: already started, packed or on a departed route) keep their
    line and times; they occupy their line and the pharmacists, and nothing new starts before
    ``problem.now_min``. ``hint_lines`` (batch key -> line id) keeps the previous plan's line
    choice as a tie-breaker and a hint. Raises :class:`ValueError` for bad input and
    :class:`PlanningError` when no schedule can be made.
    """
    params = params or PackingParams()
    _check_input(problem, batches, params)
    t0 = time.perf_counter()
    if not batches:
        return PackingResult(
            tuple(frozen), SolveStats("packing", "EMPTY", 0.0, 0.0, 0.0), "exact", 0, 0, 0, 0, 0
        )
    day = _day(problem, frozen)
    batches, unpacked = _packable(problem, batches, day.cap, day.usage, day.line_ready, day.earliest)
    batches, over, capacity = _trim_to_capacity(problem, batches, day)
    unpacked += over
    if not batches:
        return PackingResult(
            tuple(frozen),
            SolveStats("packing", "EMPTY", time.perf_counter() - t0, 0.0, 0.0),
            "exact",
            0,
            0,
            0,
            0,
            0,
            unpacked=tuple(unpacked),
        )
    v = _best_variant(problem, batches, params, day, hint_lines)
    jobs, sessions, greedy = v.jobs, v.sessions, v.greedy
    greedy_lat = weighted_lateness(sessions, greedy) if not greedy.failed else -1
    ctx = _Ctx(problem, jobs, sessions, frozen, v.mode, greedy_lat, v.circuit_lines, unpacked, capacity)
    if params.greedy_only and greedy.line:
        return ctx.result(greedy, "GREEDY", time.perf_counter() - t0, None, None)

    data = ModelData(
        problem.lines,
        jobs,
        sessions,
        v.cand,
        v.circuit_lines,
        v.campaign_lines,
        greedy,
        day.segs,
        day.line_ready,
        day.cap,
        day.usage,
        day.horizon,
        params,
    )
    pm = build_model(data)
    code, solver = run_solver(pm, data, params.time_limit_s - (time.perf_counter() - t0))
    status = status_name(code)
    wall = time.perf_counter() - t0

    def greedy_objective() -> float:
        return objective_of(
            jobs, sessions, greedy, problem.lines, v.circuit_lines, v.campaign_lines, pm.coefs
        )

    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        placed = [j for j in jobs if not solver.boolean_value(pm.U[j.idx])]
        sched = Schedule(
            line={
                j.idx: next(li for li in j.lines if solver.boolean_value(pm.pres[j.idx, li])) for j in placed
            },
            start={j.idx: solver.value(pm.S[j.idx]) for j in placed},
            verify={s.idx: solver.value(pm.V[s.idx]) for s in sessions if solver.boolean_value(pm.PS[s.idx])},
            failed={
                j.idx: greedy.failed.get(j.idx, "no room left on the lines or for verification today")
                for j in jobs
                if solver.boolean_value(pm.U[j.idx])
            },
        )
        objective = solver.objective_value
        if greedy.line:
            g_obj = greedy_objective()
            if g_obj < objective:  # CP-SAT did not get past its warm start in time: keep the greedy
                sched, objective, status = greedy, g_obj, status + "/GREEDY"
        relaxed = relaxation_bound(data, pm.coefs)
        bound = max(solver.best_objective_bound, relaxed)
        return ctx.result(sched, status, wall, objective, min(bound, objective), relaxed)
    if code == cp_model.INFEASIBLE:
        raise PlanningError(
            "the packaging schedule is infeasible: "
            + (greedy.failure or "the lines' hours and the pharmacists' shifts cannot hold every batch")
        )
    if code == cp_model.MODEL_INVALID:  # pragma: no cover - a bug, not an input problem
        raise PlanningError(f"internal error: invalid packaging model ({pm.m.validate()})")
    # UNKNOWN: time ran out before CP-SAT found a schedule: the greedy one (what it could not place
    # is reported, not silently dropped)
    if greedy.line:
        g_obj = greedy_objective()
        relaxed = relaxation_bound(data, pm.coefs)
        bound = max(solver.best_objective_bound, relaxed)
        return ctx.result(greedy, "GREEDY", wall, g_obj, min(bound, g_obj), relaxed)
    raise PlanningError(f"no packaging schedule found within {params.time_limit_s:.0f} s: {greedy.failure}")


def _packable(
    problem, batches, cap, usage, line_ready, earliest
) -> tuple[list[Batch], list[tuple[Batch, str]]]:
    """Split off batches that cannot be packed and verified today even on an empty line."""
    received = {o.id: o.received_min for o in problem.orders}
    free = (cap - usage) > 0
    horizon = len(cap)
    last_shift = max(sh.end for sh in problem.verification.shifts)
    ok: list[Batch] = []
    bad: list[tuple[Batch, str]] = []
    for b in batches:
        rel = max([earliest] + [received.get(i, earliest) for i in b.order_line_ids])
        best_end: int | None = None
        for li, ln in enumerate(problem.lines):
            if b.kind not in ln.kinds:
                continue
            st = fit(line_free_segments(ln), max(rel, line_ready[li]), ln.process_minutes(b.cards))
            if st is not None:
                e = st + ln.process_minutes(b.cards)
                best_end = e if best_end is None else min(best_end, e)
        if best_end is None:
            if any(b.kind in ln.kinds for ln in problem.lines):
                bad.append((b, f"received {clock(rel)}, after the {b.kind} lines close: packed tomorrow"))
            else:
                ok.append(b)  # no line makes this kind at all: make_jobs names the cause
            continue
        need = problem.verification.verify_minutes(b.cards)
        run = 0
        found = False
        for t in range(max(0, best_end), horizon):
            run = run + 1 if free[t] else 0
            if run >= need:
                found = True
                break
        if not found:
            bad.append(
                (
                    b,
                    f"received {clock(rel)}: ready to verify at {clock(best_end)} but the last "
                    f"pharmacist shift ends {clock(last_shift)}: needs an on-call pharmacist",
                )
            )
            continue
        ok.append(b)
    return ok, bad


def _fix_line_hours(lines: list[PackagingLine], short: float) -> str:
    fastest = max(lines, key=lambda ln: (ln.cards_per_hour, -ln.id))
    return f"keep {fastest.name} open {math.ceil(short):,} minutes longer, or move orders to another day"


def _trim_to_capacity(
    problem: PlanningProblem, batches: list[Batch], day: _Day
) -> tuple[list[Batch], list[tuple[Batch, str]], dict[str, str]]:
    """Overload gives a plan: when a packaging kind needs more line-minutes than its lines are open
    (or verification more pharmacist-minutes than are on shift), keep what fits in priority order
    (urgent and overdue first, then by ready-by deadline) and report the rest with the numbers and
    the cheapest fix. Minutes are counted unrounded at the fastest line's rate (a lower bound of
    the need), so nothing is left out that could fit; the schedule leaves out what still does not
    (rounding, changeovers): those are reported with the same sentence (returned per kind)."""
    received = {o.id: o.received_min for o in problem.orders}
    lines = problem.lines

    def release(b: Batch) -> int:
        return max([day.earliest] + [received.get(i, day.earliest) for i in b.order_line_ids])

    def rate(kind) -> int:
        return max((ln.cards_per_hour for ln in lines if kind in ln.kinds), default=1)

    def line_min(b: Batch) -> float:
        return b.cards * 60 / rate(b.kind)

    def priority(b: Batch) -> tuple:
        overdue = b.deadline_min < release(b) + line_min(b)
        return (not b.stat, not overdue, b.deadline_min, b.key)

    def keep_in_order(group: list[Batch], cost, have: float) -> tuple[list[Batch], list[Batch]]:
        kept, dropped, used = [], [], 0.0
        for b in sorted(group, key=priority):
            if used + cost(b) <= have + 1e-9:
                kept.append(b)
                used += cost(b)
            else:
                dropped.append(b)
        return kept, dropped

    out: list[tuple[Batch, str]] = []
    reasons: dict[str, str] = {}  # packaging kind ("" = verification) -> why its work is left out
    keep: list[Batch] = []
    by_kind: dict[object, list[Batch]] = {}
    for b in batches:
        by_kind.setdefault(b.kind, []).append(b)
    for kind in sorted(by_kind, key=str):
        group = by_kind[kind]
        makers = [li for li, ln in enumerate(lines) if kind in ln.kinds]
        avail = sum(
            max(0, b - max(a, day.line_ready[li], day.earliest)) for li in makers for a, b in day.segs[li]
        )
        need = sum(line_min(b) for b in group)
        if not makers or need <= avail:
            keep.extend(group)
            continue
        names = ", ".join(lines[li].name for li in makers)
        why = (
            f"packaging capacity ({names}: {math.ceil(need):,} minutes needed, {avail:,} open): "
            f"cheapest fix: {_fix_line_hours([lines[li] for li in makers], need - avail)}"
        )
        kept, dropped = keep_in_order(group, line_min, avail)
        keep.extend(kept)
        out.extend((b, why) for b in dropped)
        reasons[str(kind)] = why
    mpc = problem.verification.minutes_per_card
    have = float((day.cap[day.earliest :] - day.usage[day.earliest :]).clip(min=0).sum())
    need = sum(b.cards * mpc for b in keep)
    if need > have:
        why = (
            f"verification capacity (pharmacists: {math.ceil(need):,} minutes needed, {int(have):,} on "
            f"shift): cheapest fix: one more pharmacist shift of {math.ceil(need - have):,} minutes, "
            "or move orders to another day"
        )
        keep, dropped = keep_in_order(keep, lambda b: b.cards * mpc, have)
        out.extend((b, why) for b in dropped)
        reasons[""] = why
    order = {b.key: n for n, b in enumerate(batches)}
    keep.sort(key=lambda b: order[b.key])
    return keep, out, reasons


@dataclass
class _Ctx:
    problem: PlanningProblem
    jobs: list[Job]
    sessions: list[Session]
    frozen: Sequence[Batch]
    mode: str
    greedy_lat: int
    circuit_lines: set[int]
    unpacked: list[tuple[Batch, str]]
    #: packaging kind ("" = verification) -> the capacity sentence of an overloaded resource
    capacity: dict[str, str] = field(default_factory=dict)

    def reason(self, job: Job, why: str) -> str:
        if "packaging capacity" in why and str(job.kind) in self.capacity:
            return self.capacity[str(job.kind)]
        if "verification capacity" in why and "" in self.capacity:
            return self.capacity[""]
        return why

    def result(
        self, sched: Schedule, status: str, wall: float, objective, bound, relaxed: float | None = None
    ) -> PackingResult:
        """Batches with their times: packed back to back inside a job (minutes rounded up on the
        running card count: a tiny batch inside a run may take 0 whole minutes, the run takes what
        its cards need); the batches of one session share one verification interval."""
        lines = self.problem.lines
        out: list[Batch] = list(self.frozen)
        unpacked = list(self.unpacked)
        packed: dict[str, tuple[int, int, int]] = {}  # key -> (line id, start, end)
        by_line: dict[int, list[tuple[int, Job]]] = {}
        for j in self.jobs:
            if j.idx in sched.failed or j.idx not in sched.line or j.session not in sched.verify:
                reason = self.reason(j, sched.failed.get(j.idx, "not scheduled"))
                unpacked.extend((b, reason) for b in j.batches)
                continue
            li = sched.line[j.idx]
            ln = lines[li]
            t0 = sched.start[j.idx] + j.pre[li]
            t, cum = t0, 0
            for n, b in enumerate(j.batches, start=1):
                cum += b.cards
                end = (
                    t0 + j.proc[li]
                    if n == len(j.batches)
                    else min(t0 + j.proc[li], max(t, t0 + -(-cum * 60 // ln.cards_per_hour)))
                )
                packed[b.key] = (ln.id, t, end)
                t = end
            by_line.setdefault(li, []).append((sched.start[j.idx], j))
        for s in self.sessions:
            if s.idx not in sched.verify:
                continue
            members = [b for jid in s.jobs for b in self.jobs[jid].batches if b.key in packed]
            v0 = sched.verify[s.idx]
            for b in sorted(members, key=lambda b: b.key):  # one check of the session's batches
                lid, st, en = packed[b.key]
                out.append(
                    replace(
                        b,
                        line_id=lid,
                        start_min=st,
                        end_min=en,
                        verify_start_min=v0,
                        verify_end_min=v0 + s.verify,
                    )
                )
        changeovers = 0
        for li, seq in by_line.items():
            seq.sort(key=lambda x: x[0])
            changeovers += sum(
                1 for (_, a), (_, b) in zip(seq, seq[1:], strict=False) if job_setup(lines[li], a, b) > 0
            )
        ready = [sched.verify[s.idx] + s.verify for s in self.sessions if s.idx in sched.verify]
        out.sort(key=lambda b: b.key)
        return PackingResult(
            tuple(out),
            SolveStats("packing", status, wall, objective, bound),
            self.mode,
            len(self.jobs),
            weighted_lateness(self.sessions, sched),
            max(ready, default=0),
            changeovers,
            self.greedy_lat,
            {
                "circuit_lines": float(len(self.circuit_lines)),
                "sessions": float(len(self.sessions)),
                "urgent_wait_min": float(urgent_wait(self.sessions, sched)),
                **({"relaxation_bound": relaxed} if relaxed is not None else {}),
            },
            tuple(unpacked),
        )
