"""The CP-SAT packing model, one function per constraint family.

Times are integer minutes from local midnight. Every job has a start ``S``, may be left out
(``U``, only when it cannot fit at all), and runs on exactly one compatible line; every session
has a verification start ``V`` and a ready time ``R = V + verify``.

* :func:`add_line_intervals` — one optional fixed-size interval per compatible line
  (``processing = line.process_minutes(cards)``, plus the facility changeover a busy line reserves
  in front of the job); nothing starts before its order lines were received (or ``now``).
* :func:`add_line_hours` — per line a ``no_overlap`` with fixed intervals blocking the time
  outside its availability and inside its downtime.
* :func:`add_verification` — a session is checked after every job of it is packed; sessions are
  fixed-size intervals in a ``cumulative`` whose capacity is the most pharmacists ever on shift,
  fixed intervals eat the capacity of pharmacists not on shift (or busy with frozen work).
* :func:`add_campaigns` — busy lines making several kinds: the jobs of one kind run in
  "campaigns" (up to ``max_runs`` per kind and line, each an optional interval padded by the
  kind changeover, no two overlapping): never less than the real changeover, so always valid.
* :func:`add_circuits` — lines with at most ``circuit_max_jobs`` candidate jobs: exact sequence
  dependent changeovers with ``add_circuit``.
* :func:`add_lateness` — lateness of each session's ready time against its ready-by deadline.
* :func:`set_objective` — lexicographic by weights: jobs left out >> weighted lateness >>
  makespan >> changeovers >> sum of ready times (dropped if the weights would overflow).
* :func:`add_hints` — the greedy schedule as a complete hint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from ltc_scheduler.packing.greedy import Schedule, first_free, fit
from ltc_scheduler.packing.jobs import Job, Session, job_setup
from ltc_scheduler.packing.params import BIG_MODEL_JOBS, PRESOLVE_BIG, PackingParams
from ltc_scheduler.problem.model import PackagingLine

__all__ = [
    "ModelData",
    "PackingModel",
    "build_model",
    "relaxation_bound",
    "run_solver",
    "status_name",
]


@dataclass
class ModelData:
    """What the model is built from (everything already in integer minutes)."""

    lines: Sequence[PackagingLine]
    jobs: list[Job]
    sessions: list[Session]
    cand: dict[int, list[Job]]  # line idx -> jobs that may run on it
    circuit_lines: set[int]
    campaign_lines: set[int]
    greedy: Schedule
    segs: dict[int, list[tuple[int, int]]]  # line idx -> free segments
    line_ready: dict[int, int]
    cap: np.ndarray  # pharmacists on shift per minute
    usage: np.ndarray  # pharmacists busy with frozen work per minute
    horizon: int
    params: PackingParams


@dataclass
class PackingModel:
    """The CP-SAT model and its variables."""

    m: cp_model.CpModel
    big_h: int
    S: list = field(default_factory=list)  # job start (incl. the reserved changeover)
    U: list = field(default_factory=list)  # job left out today
    PS: list = field(default_factory=list)  # session verified
    V: list = field(default_factory=list)  # verification start
    R: list = field(default_factory=list)  # ready = verification end
    pres: dict = field(default_factory=dict)  # (job, line) -> job runs on line
    line_intervals: dict = field(default_factory=dict)
    changeover_lits: list = field(default_factory=list)
    camp_vars: dict = field(default_factory=dict)  # (line, job, run) -> job in that run
    camp_runs: dict = field(default_factory=dict)  # (line, kind, run) -> run variables
    arc_lits: dict = field(default_factory=dict)  # (line, job a, job b) -> b right after a
    ends_lits: dict = field(default_factory=dict)  # line -> (empty, first lits, last lits)
    late_vars: list = field(default_factory=list)
    wait_vars: dict = field(default_factory=dict)  # urgent session -> minutes past its target
    lat_terms: list = field(default_factory=list)
    lat_ub: int = 0
    mk: cp_model.IntVar | None = None
    coefs: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)


def _add_jobs_and_sessions(pm: PackingModel, d: ModelData) -> None:
    """Start, left-out, verified, verification start and ready variables; a session is verified
    exactly when some job of it is packed."""
    m, big_h = pm.m, pm.big_h
    pm.S = [
        m.new_int_var(max(j.earliest, min(d.line_ready[li] for li in j.lines)), big_h, f"s{j.idx}")
        for j in d.jobs
    ]
    pm.U = [m.new_bool_var(f"u{j.idx}") for j in d.jobs]
    pm.PS = [m.new_bool_var(f"ps{s.idx}") for s in d.sessions]
    for s in d.sessions:
        for jid in s.jobs:
            m.add_implication(pm.U[jid].Not(), pm.PS[s.idx])
        m.add_bool_or([pm.U[jid].Not() for jid in s.jobs]).only_enforce_if(pm.PS[s.idx])
    pm.V = [m.new_int_var(0, big_h, f"v{s.idx}") for s in d.sessions]
    for s in d.sessions:
        r = m.new_int_var(0, big_h, f"r{s.idx}")
        m.add(r == pm.V[s.idx] + s.verify)
        pm.R.append(r)


def add_line_intervals(pm: PackingModel, d: ModelData) -> None:
    """Each job runs on exactly one compatible line (or is left out), inside that line's first
    opening and last closing, and its session is verified after it ends."""
    m = pm.m
    pm.line_intervals = {i: [] for i in range(len(d.lines))}
    for j in d.jobs:
        lits = []
        for li in j.lines:
            p = m.new_bool_var(f"p{j.idx}_{li}")
            pm.pres[j.idx, li] = p
            lits.append(p)
            size = j.pre[li] + j.proc[li]
            pm.line_intervals[li].append(
                m.new_optional_fixed_size_interval_var(pm.S[j.idx], size, p, f"i{j.idx}_{li}")
            )
            m.add(pm.S[j.idx] >= max(d.segs[li][0][0], d.line_ready[li])).only_enforce_if(p)
            m.add(pm.S[j.idx] + size <= d.segs[li][-1][1]).only_enforce_if(p)
        m.add_exactly_one([*lits, pm.U[j.idx]])
        end = pm.S[j.idx] + sum((j.pre[li] + j.proc[li]) * pm.pres[j.idx, li] for li in j.lines)
        m.add(pm.V[j.session] >= end).only_enforce_if(pm.U[j.idx].Not())


def add_line_hours(pm: PackingModel, d: ModelData) -> None:
    """No two jobs overlap on a line, and none runs outside its availability or in its downtime."""
    m = pm.m
    for li in range(len(d.lines)):
        if not pm.line_intervals[li]:
            continue
        segs = d.segs[li]
        prev = min(0, segs[0][0])
        for a, b in segs:
            if a > prev:
                pm.line_intervals[li].append(m.new_fixed_size_interval_var(prev, a - prev, f"blk{li}_{prev}"))
            prev = b
        m.add_no_overlap(pm.line_intervals[li])


def add_verification(pm: PackingModel, d: ModelData) -> None:
    """At no minute more sessions are checked than pharmacists are on shift and free; two checks
    of one facility never share the exact same interval (the plan tells sessions apart by it)."""
    m, big_h, horizon = pm.m, pm.big_h, d.horizon
    cmax = int(d.cap.max())
    v_iv = [
        m.new_optional_fixed_size_interval_var(pm.V[s.idx], s.verify, pm.PS[s.idx], f"vi{s.idx}")
        for s in d.sessions
    ]
    demands = [1] * len(d.sessions)
    missing = cmax - d.cap + d.usage  # pharmacists not on shift or busy with frozen work, per minute
    t = 0
    while t < horizon:
        k = int(missing[t])
        u = t
        while u < horizon and missing[u] == k:
            u += 1
        if k > 0:
            v_iv.append(m.new_fixed_size_interval_var(t, u - t, f"cap{t}"))
            demands.append(min(k, cmax))
        t = u
    v_iv.append(m.new_fixed_size_interval_var(horizon, big_h - horizon + 1, "cap_end"))
    demands.append(cmax)
    m.add_cumulative(v_iv, demands, cmax)
    same: dict[tuple[int, int], list[int]] = {}
    for s in d.sessions:
        same.setdefault((s.facility_id, s.verify), []).append(s.idx)
    for ids in same.values():
        for x, a in enumerate(ids):
            for b in ids[x + 1 :]:
                m.add(pm.V[a] != pm.V[b]).only_enforce_if([pm.PS[a], pm.PS[b]])


def add_campaigns(pm: PackingModel, d: ModelData) -> None:
    """Busy shared lines: the jobs of one kind run in campaigns padded by the kind changeover
    (each job of the facility already reserves the facility changeover in front of it)."""
    m, big_h = pm.m, pm.big_h
    for li in sorted(d.campaign_lines):
        co = d.lines[li].changeover_kind_min
        runs_iv = []
        for kind in sorted({x.kind for x in d.cand[li]}, key=str):
            js = [x for x in d.cand[li] if x.kind == kind]
            used = [d.greedy.campaign[x.idx] for x in js if d.greedy.line.get(x.idx) == li]
            # at least as many runs as the greedy start used (urgent jobs may split a kind's runs)
            k_runs = max(min(max(max(used, default=-1) + 2, 2), d.params.max_runs), max(used, default=-1) + 1)
            prev_q = prev_e = None
            for c in range(k_runs):
                q = m.new_bool_var(f"q{li}_{kind}_{c}")
                cs = m.new_int_var(0, big_h, f"cs{li}_{kind}_{c}")
                ce = m.new_int_var(0, big_h, f"ce{li}_{kind}_{c}")
                m.add(ce >= cs)
                padded = m.new_int_var(0, big_h + co, f"cp{li}_{kind}_{c}")
                m.add(padded == ce + co)
                size = m.new_int_var(0, big_h + co, f"cz{li}_{kind}_{c}")
                runs_iv.append(m.new_optional_interval_var(cs, size, padded, q, f"run{li}_{kind}_{c}"))
                if prev_q is not None:
                    m.add_implication(q, prev_q)
                    m.add(cs >= prev_e).only_enforce_if(q)
                prev_q, prev_e = q, ce
                pm.camp_runs[li, kind, c] = (q, cs, ce, padded, size, co)
                pm.changeover_lits.append(q)
                xs = []
                for x in js:
                    lit = m.new_bool_var(f"x{x.idx}_{li}_{c}")
                    xs.append(lit)
                    pm.camp_vars[li, x.idx, c] = lit
                    m.add_implication(lit, q)
                    m.add(pm.S[x.idx] >= cs).only_enforce_if(lit)
                    m.add(pm.S[x.idx] + x.pre[li] + x.proc[li] <= ce).only_enforce_if(lit)
                m.add(sum(xs) >= 1).only_enforce_if(q)
            for x in js:
                m.add(sum(pm.camp_vars[li, x.idx, c] for c in range(k_runs)) == pm.pres[x.idx, li])
        m.add_no_overlap(runs_iv)


def add_circuits(pm: PackingModel, d: ModelData) -> None:
    """Lines with few candidate jobs: the job order is a circuit and the real sequence-dependent
    changeover separates consecutive jobs (none before the first job of a line)."""
    m = pm.m
    for li in sorted(d.circuit_lines):
        ln = d.lines[li]
        js = d.cand[li]
        empty = m.new_bool_var(f"empty{li}")
        pm.ends_lits[li] = (empty, {}, {})
        arcs = [(0, 0, empty)]
        for a_i, a in enumerate(js, start=1):
            first_lit, last_lit = m.new_bool_var(f"f{li}_{a.idx}"), m.new_bool_var(f"l{li}_{a.idx}")
            pm.ends_lits[li][1][a.idx], pm.ends_lits[li][2][a.idx] = first_lit, last_lit
            arcs.append((0, a_i, first_lit))
            arcs.append((a_i, 0, last_lit))
            arcs.append((a_i, a_i, pm.pres[a.idx, li].Not()))
            for b_i, b in enumerate(js, start=1):
                if a_i == b_i:
                    continue
                lit = m.new_bool_var(f"a{li}_{a.idx}_{b.idx}")
                arcs.append((a_i, b_i, lit))
                pm.arc_lits[li, a.idx, b.idx] = lit
                setup = job_setup(ln, a, b)
                m.add(pm.S[b.idx] >= pm.S[a.idx] + a.pre[li] + a.proc[li] + setup).only_enforce_if(lit)
                if setup > 0:
                    pm.changeover_lits.append(lit)
        m.add_circuit(arcs)


def add_lateness(pm: PackingModel, d: ModelData) -> None:
    """Minutes each verified session is ready after its ready-by deadline, times its weight; an
    urgent session also counts its minutes past its target (received + its own packing and check +
    ``URGENT_SLACK_MIN``), so urgent work goes first on the lines and with the pharmacists."""
    m = pm.m
    for s in d.sessions:
        ub = max(0, pm.big_h - s.deadline)
        ls = m.new_int_var(0, ub, f"late{s.idx}")
        pm.late_vars.append(ls)
        m.add(ls >= pm.R[s.idx] - s.deadline).only_enforce_if(pm.PS[s.idx])
        pm.lat_terms.append(s.weight * ls)
        pm.lat_ub += s.weight * ub
        if s.target is not None:  # urgent first: minutes past its target weigh like lateness
            wub = max(0, pm.big_h - s.target)
            w = m.new_int_var(0, wub, f"wait{s.idx}")
            pm.wait_vars[s.idx] = w
            m.add(w >= pm.R[s.idx] - s.target).only_enforce_if(pm.PS[s.idx])
            pm.lat_terms.append(s.weight * w)
            pm.lat_ub += s.weight * wub


def set_objective(pm: PackingModel, d: ModelData) -> None:
    """Left out (urgent jobs weigh ``stat_weight``) >> weighted lateness (and urgent minutes past
    target) >> makespan >> changeovers >> sum of ready times."""
    m, big_h = pm.m, pm.big_h
    pm.mk = m.new_int_var(0, big_h, "makespan")
    for s in d.sessions:
        m.add(pm.mk >= pm.R[s.idx]).only_enforce_if(pm.PS[s.idx])
    n_co = len(pm.changeover_lits)
    d_coef, c_coef = 1, len(d.sessions) * (big_h + 1) + 1
    if (sum(j.weight for j in d.jobs) + 1) * (pm.lat_ub + 1) * c_coef * (n_co + 1) * (big_h + 1) >= 2**61:
        d_coef, c_coef = 0, 1
    b_coef = c_coef * (n_co + 1)
    a_coef = b_coef * (big_h + 1)
    z_coef = a_coef * (pm.lat_ub + 1)
    objective = (
        z_coef * sum(j.weight * pm.U[j.idx] for j in d.jobs) + a_coef * sum(pm.lat_terms) + b_coef * pm.mk
    )
    objective += c_coef * sum(pm.changeover_lits)
    if d_coef:
        objective += sum(pm.R)
    m.minimize(objective)
    pm.coefs = (z_coef, a_coef, b_coef, c_coef, d_coef)


def add_hints(pm: PackingModel, d: ModelData) -> None:
    """The greedy schedule as a complete hint (CP-SAT takes a complete, feasible hint as its first
    solution at once)."""
    m, greedy = pm.m, d.greedy
    for j in d.jobs:
        m.add_hint(pm.U[j.idx], j.idx in greedy.failed)
    for s in d.sessions:
        m.add_hint(pm.PS[s.idx], s.idx in greedy.verify)
        if s.idx in greedy.verify:
            m.add_hint(pm.V[s.idx], greedy.verify[s.idx])
    for j in d.jobs:
        if j.idx not in greedy.line:
            continue
        m.add_hint(pm.S[j.idx], greedy.start[j.idx])
        for li in j.lines:
            m.add_hint(pm.pres[j.idx, li], greedy.line[j.idx] == li)
    for li in d.circuit_lines:
        seq = sorted(
            (j for j in d.cand[li] if greedy.line.get(j.idx) == li), key=lambda j: greedy.start[j.idx]
        )
        nxt = {a.idx: b.idx for a, b in zip(seq, seq[1:], strict=False)}
        for (l2, a, b), lit in pm.arc_lits.items():
            if l2 == li:
                m.add_hint(lit, nxt.get(a) == b)
    for (li, jidx, c), lit in pm.camp_vars.items():
        m.add_hint(lit, greedy.line.get(jidx) == li and greedy.campaign.get(jidx) == c)
    for (li, kind, c), (q, cs, ce, padded, size, co) in pm.camp_runs.items():
        members = [
            x
            for x in d.cand[li]
            if x.kind == kind and greedy.line.get(x.idx) == li and greedy.campaign[x.idx] == c
        ]
        a = min((greedy.start[x.idx] for x in members), default=0)
        b = max((greedy.start[x.idx] + x.pre[li] + x.proc[li] for x in members), default=0)
        m.add_hint(q, bool(members))
        m.add_hint(cs, a)
        m.add_hint(ce, b)
        m.add_hint(padded, b + co)
        m.add_hint(size, b + co - a)
    for j in d.jobs:
        if j.idx not in greedy.line:
            m.add_hint(pm.S[j.idx], max(j.earliest, min(d.line_ready[li] for li in j.lines)))
            for li in j.lines:
                m.add_hint(pm.pres[j.idx, li], False)
    for li, (empty, firsts, lasts) in pm.ends_lits.items():
        seq = sorted(
            (j for j in d.cand[li] if greedy.line.get(j.idx) == li), key=lambda j: greedy.start[j.idx]
        )
        m.add_hint(empty, not seq)
        for jid, lit in firsts.items():
            m.add_hint(lit, bool(seq) and seq[0].idx == jid)
        for jid, lit in lasts.items():
            m.add_hint(lit, bool(seq) and seq[-1].idx == jid)
    ready_h = {}
    for s in d.sessions:
        v = greedy.verify.get(s.idx, 0)
        if s.idx not in greedy.verify:
            m.add_hint(pm.V[s.idx], 0)
        ready_h[s.idx] = v + s.verify
        m.add_hint(pm.R[s.idx], v + s.verify)
        m.add_hint(pm.late_vars[s.idx], max(0, v + s.verify - s.deadline) if s.idx in greedy.verify else 0)
    m.add_hint(pm.mk, max((ready_h[sid] for sid in greedy.verify), default=0))


def build_model(d: ModelData) -> PackingModel:
    """The whole model: variables, every constraint family, the objective and the greedy hint."""
    big_h = d.horizon + max(s.verify for s in d.sessions) + max(max(j.proc.values()) for j in d.jobs) + 60
    pm = PackingModel(cp_model.CpModel(), big_h)
    _add_jobs_and_sessions(pm, d)
    add_line_intervals(pm, d)
    add_line_hours(pm, d)
    add_verification(pm, d)
    add_campaigns(pm, d)
    add_circuits(pm, d)
    add_lateness(pm, d)
    set_objective(pm, d)
    add_hints(pm, d)
    return pm


def relaxation_bound(d: ModelData, coefs: tuple[int, int, int, int, int]) -> float:
    """A lower bound of the objective from a relaxation: every job alone on the lines and every
    session alone with the pharmacists (no other work competes). A session is then ready at the
    earliest at ``r`` = its jobs' earliest end on any compatible line (inside a free segment) then
    the first minute a pharmacist is free for its whole check; lateness, urgent minutes past target,
    makespan and the sum of ready times are at least what these ``r`` give; changeovers at least 0.
    A job that fits on no line must be left out. Sessions that cannot be verified at all do not
    count (leaving a job out costs more than all the lower tiers together)."""
    z, a, b, _c, dd = coefs
    left_out = 0
    end_lb: dict[int, int] = {}
    for j in d.jobs:
        best = None
        for li in j.lines:
            dur = j.pre[li] + j.proc[li]
            st = fit(d.segs[li], max(j.earliest, d.line_ready[li]), dur)
            if st is not None and (best is None or st + dur < best):
                best = st + dur
        if best is None:
            left_out += j.weight
        else:
            end_lb[j.idx] = best
    lat = mk = total = 0
    for s in d.sessions:
        ends = [end_lb[jid] for jid in s.jobs if jid in end_lb]
        if not ends:
            continue
        v = first_free(d.cap, d.usage, max(ends), s.verify)
        if v is None:
            continue
        r = v + s.verify
        lat += s.weight * max(0, r - s.deadline)
        if s.target is not None:
            lat += s.weight * max(0, r - s.target)
        mk = max(mk, r)
        total += r
    return float(z * left_out + a * lat + b * mk + (dd * total if dd else 0))


def run_solver(pm: PackingModel, d: ModelData, time_left_s: float) -> tuple[int, cp_model.CpSolver]:
    """Solve with the params' workers and seed; the big model runs without presolve."""
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, time_left_s)
    solver.parameters.num_workers = d.params.workers
    solver.parameters.random_seed = d.params.seed
    solver.parameters.log_search_progress = d.params.log
    if len(d.jobs) > BIG_MODEL_JOBS:  # presolve alone would eat the budget on the large day
        solver.parameters.cp_model_presolve = PRESOLVE_BIG
    return solver.solve(pm.m), solver


def status_name(code: int) -> str:
    return {
        cp_model.OPTIMAL: "OPTIMAL",
        cp_model.FEASIBLE: "FEASIBLE",
        cp_model.INFEASIBLE: "INFEASIBLE",
        cp_model.MODEL_INVALID: "MODEL_INVALID",
        cp_model.UNKNOWN: "UNKNOWN",
    }.get(code, str(code))
