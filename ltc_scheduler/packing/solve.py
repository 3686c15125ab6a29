"""Packaging-line and pharmacist-verification schedule with CP-SAT.

Model (times in integer minutes from local midnight):

* **jobs** — what a line packs in one go. ``exact`` mode (at most
  ``PackingParams.exact_max_batches`` batches): one job per batch. ``aggregated`` mode (busier
  days): the batches of one facility, packaging kind and arrival wave (urgent ones apart or
  first, see :data:`STRUCTURES`), packed back to back, up to ``max_job_cards`` cards. Between
  batches of one job no changeover is needed (same facility, same kind); minutes are rounded up
  on the job's card count, not per batch.
* **verification sessions** — what one pharmacist checks in one go, after every job of the
  session is packed: one per job in ``exact`` mode, one per facility and arrival wave in
  ``aggregated`` mode (the delivery takes the facility's batches together anyway). A session is a
  fixed-size interval of ``verify_minutes(cards)`` in a ``cumulative`` whose capacity is the most
  pharmacists ever on shift; fixed intervals eat the capacity of pharmacists not on shift
  (capacity steps over the day). A batch is ready when its session is verified.
* **lines** — each job runs on exactly one compatible line: one optional fixed-size interval per
  compatible line (``processing = line.process_minutes(cards)``); per line a ``no_overlap`` with
  fixed intervals blocking the time outside its availability and inside its downtime. Nothing
  starts before all of its order lines were received (or before ``now`` when re-planning).
* **changeovers** — sequence dependent: ``changeover_kind_min`` when the kind changes,
  ``changeover_facility_min`` when only the facility changes, none between batches of one
  facility and kind, none before the first job of a line. Exact with ``add_circuit`` on lines
  with at most ``circuit_max_jobs`` candidate jobs. On busier lines each job reserves the facility
  changeover in front of it, and on busy lines that make several kinds the jobs of one kind run
  in "campaigns" (up to ``max_runs`` per kind and line, each an optional interval padded by the
  kind changeover, no two overlapping): never less than the real changeover, so always valid.
* **objective** — lexicographic by weights: batches left out (only if they cannot fit at all)
  >> weighted lateness of ready vs deadline (``settings.stat_weight`` for STAT / new admission,
  1 otherwise) >> makespan (last ready time) >> changeovers >> sum of ready times (as early as
  possible helps the routes; dropped if the weights would overflow 62 bits).

The solve is warm-started with the best of a few greedy list schedules (``add_hint``); the greedy
schedule is also the answer when CP-SAT finds nothing better in the time limit (status
``GREEDY`` or ``FEASIBLE/GREEDY``). Batches that cannot be packed and verified today at all (an
order received after the last pharmacist leaves) are returned in ``PackingResult.unpacked`` with
the reason. Impossible inputs raise :class:`PlanningError` naming the cause.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from ortools.sat.python import cp_model

from ltc_scheduler.errors import PlanningError
from ltc_scheduler.plan.model import Batch, SolveStats
from ltc_scheduler.problem.clock import clock
from ltc_scheduler.problem.model import PackagingLine, PlanningProblem, Verification, split_by_cards

__all__ = ["PackingParams", "PackingResult", "solve_packing", "changeover_minutes", "line_free_segments"]


#: aggregated mode, the job structures tried: (arrival wave in minutes, urgent batches apart,
#: verification session per kind). Urgent apart: the routine batches of one facility and kind
#: form one job (they travel together anyway) and urgent ones one job per arrival wave (counted
#: from the first line opening); otherwise every batch of one facility, kind and wave shares a job.
#: Verification sessions follow the same split per facility, across kinds or per kind.
STRUCTURES: tuple[tuple[int, bool, bool], ...] = (
    (120, True, False),
    (120, True, True),
    (240, True, True),
    (360, True, True),
    (180, False, False),
)


#: above this many jobs CP-SAT runs without presolve (measured: presolve alone took 5 s on the
#: large demo day's 1,300 jobs)
BIG_MODEL_JOBS = 400
PRESOLVE_BIG = False


@dataclass(frozen=True, slots=True)
class PackingParams:
    time_limit_s: float = 10.0
    workers: int = 2
    seed: int = 0
    #: up to this many (movable) batches, one job per batch; above, batches are aggregated into jobs
    exact_max_batches: int = 120
    #: exact changeovers (add_circuit) on a line with at most this many candidate jobs
    circuit_max_jobs: int = 40
    #: aggregated mode: most cards in one job (default: 4 x settings.max_batch_cards)
    max_job_cards: int | None = None
    #: most runs ("campaigns") of one packaging kind on one busy shared line
    max_runs: int = 12
    #: skip CP-SAT and return the greedy schedule
    greedy_only: bool = False
    log: bool = False


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


def changeover_minutes(line: PackagingLine, prev: Batch, nxt: Batch) -> int:
    """Minutes the line needs between ``prev`` and ``nxt`` (the validator uses the same rule)."""
    return line.changeover(prev.kind, prev.facility_id, nxt.kind, nxt.facility_id)


def line_free_segments(line: PackagingLine) -> list[tuple[int, int]]:
    """Availability windows minus downtime, as sorted ``[start, end)`` segments."""
    segs: list[tuple[int, int]] = []
    for w in sorted(line.available, key=lambda w: w.start):
        pieces = [(w.start, w.end)]
        for d in line.downtime:
            nxt = []
            for a, b in pieces:
                if d.end <= a or d.start >= b:
                    nxt.append((a, b))
                    continue
                if d.start > a:
                    nxt.append((a, d.start))
                if d.end < b:
                    nxt.append((d.end, b))
            pieces = nxt
        segs.extend(p for p in pieces if p[1] > p[0])
    return sorted(segs)


def pharmacist_capacity(verification: Verification, horizon: int) -> np.ndarray:
    """Pharmacists on shift in each minute ``[0, horizon)``."""
    cap = np.zeros(horizon, dtype=np.int32)
    for s in verification.shifts:
        a, b = max(0, s.start), min(horizon, s.end)
        if b > a:
            cap[a:b] += 1
    return cap


# --------------------------------------------------------------------------- jobs and sessions


@dataclass(slots=True)
class _Job:
    idx: int
    batches: list[Batch]
    kind: object
    facility_id: int
    lines: list[int]  # indexes into problem.lines
    proc: dict[int, int]  # line idx -> packing minutes of all its batches
    deadline: int
    weight: int
    earliest: int
    session: int = -1
    pre: dict[int, int] = field(default_factory=dict)  # reserved changeover inside the interval

    @property
    def key(self) -> str:
        return self.batches[0].key


@dataclass(slots=True)
class _Session:
    idx: int
    jobs: list[int]
    verify: int
    deadline: int
    weight: int
    facility_id: int = 0


def _make_jobs(
    problem: PlanningProblem,
    batches: Sequence[Batch],
    params: PackingParams,
    earliest: int,
    wave: int = 180,
    urgent_apart: bool = True,
    session_per_kind: bool = False,
) -> tuple[list[_Job], list[_Session], str]:
    s = problem.settings
    received = {o.id: o.received_min for o in problem.orders}

    def release(b: Batch) -> int:
        return max([earliest] + [received.get(i, earliest) for i in b.order_line_ids])

    aggregate = len(batches) > params.exact_max_batches
    groups: list[list[Batch]]
    if not aggregate:
        groups = [[b] for b in batches]
    else:
        cap = params.max_job_cards or 4 * s.max_batch_cards
        by_key: dict[tuple, list[Batch]] = {}
        for b in batches:  # batches received hours apart (a STAT at 14:00) never share a job
            # routine batches of a facility travel together (one stop), so they gain nothing from
            # arrival waves; urgent ones go in waves
            urgent = b.stat and urgent_apart
            wave_no = (release(b) - earliest) // wave if urgent or not urgent_apart else 0
            by_key.setdefault((b.facility_id, str(b.kind), urgent, wave_no), []).append(b)
        groups = [
            run
            for key in sorted(by_key)
            for run in split_by_cards(sorted(by_key[key], key=lambda b: (b.deadline_min, b.key)), cap)
        ]
    jobs: list[_Job] = []
    for g in groups:
        b0 = g[0]
        lines = [i for i, ln in enumerate(problem.lines) if b0.kind in ln.kinds and line_free_segments(ln)]
        if not lines:
            raise PlanningError(
                f"batch {b0.key} ({b0.cards} cards of {b0.kind}) cannot be packed: "
                f"no packaging line makes {b0.kind} (or none is available today)"
            )
        cards = sum(b.cards for b in g)
        jobs.append(
            _Job(
                idx=len(jobs),
                batches=list(g),
                kind=b0.kind,
                facility_id=b0.facility_id,
                lines=lines,
                proc={i: problem.lines[i].process_minutes(cards) for i in lines},
                deadline=min(b.deadline_min for b in g),
                weight=(s.stat_weight if any(b.stat for b in g) else 1),
                earliest=max(release(b) for b in g),
            )
        )
    # verification sessions
    by_session: dict[tuple, list[_Job]] = {}
    for j in jobs:
        key: tuple = (
            (j.idx,)
            if not aggregate
            else (
                j.facility_id,
                str(j.kind) if session_per_kind else "",
                urgent_apart and j.weight > 1,
                (j.earliest - earliest) // wave if j.weight > 1 or not urgent_apart else 0,
            )
        )
        by_session.setdefault(key, []).append(j)
    sessions: list[_Session] = []
    for key in sorted(by_session):
        js = by_session[key]
        for j in js:
            j.session = len(sessions)
        sessions.append(
            _Session(
                idx=len(sessions),
                jobs=[j.idx for j in js],
                verify=problem.verification.verify_minutes(sum(b.cards for j in js for b in j.batches)),
                deadline=min(j.deadline for j in js),
                weight=max(j.weight for j in js),
                facility_id=js[0].facility_id,
            )
        )
    return jobs, sessions, ("aggregated" if aggregate else "exact")


def _job_setup(line: PackagingLine, a: _Job, b: _Job) -> int:
    return line.changeover(a.kind, a.facility_id, b.kind, b.facility_id)


# --------------------------------------------------------------------------- greedy


@dataclass(slots=True)
class _Sched:
    line: dict[int, int]  # job idx -> line idx
    start: dict[int, int]  # job interval start (incl. reserved changeover)
    verify: dict[int, int]  # session idx -> verification start
    failure: str | None = None
    campaign: dict[int, int] = field(default_factory=dict)  # job idx -> run of its kind on its line
    failed: dict[int, str] = field(default_factory=dict)  # job idx -> why it is left out

    def fail(self, job: int, reason: str) -> None:
        self.failed.setdefault(job, reason)
        if self.failure is None:
            self.failure = reason


def _fit(segs: list[tuple[int, int]], t: int, dur: int) -> int | None:
    """Earliest start >= t such that [start, start+dur) lies inside one segment."""
    for a, b in segs:
        st = max(a, t)
        if st + dur <= b:
            return st
    return None


def _first_free(cap: np.ndarray, usage: np.ndarray, t: int, dur: int) -> int | None:
    """Earliest v >= t with a free pharmacist for ``dur`` consecutive minutes."""
    horizon = len(cap)
    v = max(0, t)
    while v + dur <= horizon:
        ok = usage[v : v + dur] < cap[v : v + dur]
        if ok.all():
            return v
        v += int(np.argmin(ok)) + 1
    return None


def _greedy(
    problem: PlanningProblem,
    jobs: list[_Job],
    sessions: list[_Session],
    circuit_lines: set[int],
    line_ready: dict[int, int],
    line_last: dict[int, Batch | None],
    cap: np.ndarray,
    usage: np.ndarray,
    preferred: Mapping[int, int] | None = None,
    wave_min: int = 60,
    affinity: Mapping[int, object] | None = None,
) -> _Sched:
    """List schedule: the line that frees up first takes the most urgent job already received.

    With ``affinity`` (line -> packaging kind), a line that makes several kinds takes jobs of its
    kind first (few kind changeovers) and helps with the others when none of its kind is ready.

    "Most urgent" = earliest deadline wave (``wave_min`` minutes), then STAT, then the same kind as
    the line's last job (fewer kind changeovers), then the previous plan's line, then the fewest
    compatible lines, then the earliest deadline. A session is verified as soon as its last job is
    packed and a pharmacist is free.
    """
    sched = _Sched({}, {}, {})
    usage = usage.copy()
    free = {li: max(line_ready[li], 0) for li in range(len(problem.lines))}
    last: dict[int, _Job | None] = dict.fromkeys(range(len(problem.lines)))
    runs: dict[tuple[int, object], int] = {}
    segs = {i: line_free_segments(ln) for i, ln in enumerate(problem.lines)}
    todo = {j.idx: j for j in jobs}
    left = {s.idx: len(s.jobs) for s in sessions}
    ends: dict[int, int] = {}
    closed: set[tuple[int, int]] = set()  # (job, line): the job no longer fits on that line
    on_line: dict[int, dict[int, _Job]] = {li: {} for li in free}  # open candidates per line
    for j in jobs:
        for li in j.lines:
            on_line[li][j.idx] = j

    taken: set[tuple[int, int, int]] = set()

    def verify_session(sid: int) -> None:
        if sid not in ends:  # every job of the session was left out
            return
        ses = sessions[sid]
        v = _first_free(cap, usage, ends[sid], ses.verify)
        # two checks of one facility never share the exact same interval (the plan tells sessions
        # apart by facility and interval)
        while v is not None and (ses.facility_id, v, ses.verify) in taken:
            v = _first_free(cap, usage, v + 1, ses.verify)
        if v is None:
            for jid in sessions[sid].jobs:
                if jid in sched.line:
                    sched.fail(
                        jid,
                        "cannot be verified before the last pharmacist shift ends: "
                        "verification capacity is exhausted today",
                    )
            return
        usage[v : v + ses.verify] += 1
        sched.verify[sid] = v
        taken.add((ses.facility_id, v, ses.verify))

    def drop_job(j: _Job, reason: str) -> None:
        sched.fail(j.idx, reason)
        todo.pop(j.idx, None)
        for x in j.lines:
            on_line[x].pop(j.idx, None)
        left[j.session] -= 1
        if left[j.session] == 0:
            verify_session(j.session)

    while todo:
        open_lines = [li for li in free if on_line[li]]
        if not open_lines:
            for j in list(todo.values()):
                drop_job(j, "packaging capacity is exhausted today (the lines close)")
            break
        li = min(open_lines, key=lambda x: (free[x], x))
        line = problem.lines[li]
        t = free[li]
        cands = list(on_line[li].values())
        ready = [j for j in cands if j.earliest <= t]
        if not ready:
            free[li] = min(j.earliest for j in cands)
            continue
        prev = last[li]

        def rank(j: _Job, prev=prev, li=li):
            same = prev is not None and prev.kind == j.kind
            pref = 0 if preferred and preferred.get(j.idx) == li else 1
            return (
                0 if affinity is None or affinity.get(li, j.kind) == j.kind else 1,
                j.deadline // wave_min,
                -j.weight,
                0 if same else 1,
                pref,
                len(j.lines),
                j.deadline,
                j.key,
            )

        j = min(ready, key=rank)
        st0 = t
        if prev is not None:
            if li in circuit_lines:
                st0 += _job_setup(line, prev, j)
            elif prev.kind != j.kind:
                st0 += line.changeover_kind_min
        elif line_last.get(li) is not None and li in circuit_lines:
            st0 += line.changeover_kind_min
        st = _fit(segs[li], st0, j.pre[li] + j.proc[li])
        if st is None:
            closed.add((j.idx, li))
            on_line[li].pop(j.idx, None)
            if all((j.idx, x) in closed for x in j.lines):
                names = ", ".join(problem.lines[i].name for i in j.lines)
                drop_job(
                    j,
                    f"does not fit on {names} before the line(s) close: packaging "
                    "capacity is exhausted today",
                )
            continue
        end = st + j.pre[li] + j.proc[li]
        del todo[j.idx]
        for x in j.lines:
            on_line[x].pop(j.idx, None)
        if prev is None or prev.kind != j.kind:
            runs[li, j.kind] = runs.get((li, j.kind), -1) + 1
        sched.campaign[j.idx] = runs[li, j.kind]
        sched.line[j.idx], sched.start[j.idx] = li, st
        free[li] = end
        last[li] = j
        sid = j.session
        ends[sid] = max(ends.get(sid, end), end)
        left[sid] -= 1
        if left[sid] == 0:
            verify_session(sid)
    # jobs left out do not count as placed
    for jid in sched.failed:
        sched.line.pop(jid, None)
        sched.start.pop(jid, None)
    return sched


def _weighted_lateness(sessions: list[_Session], sched: _Sched) -> int:
    return sum(
        s.weight * max(0, sched.verify[s.idx] + s.verify - s.deadline)
        for s in sessions
        if s.idx in sched.verify
    )


def _kind_affinity(problem: PlanningProblem, jobs: list[_Job], hours: float = 10.0) -> dict[int, object]:
    """A preferred kind for each line that makes several: dedicated lines first cover their kind's
    work (``hours`` of it at their rate), then each shared line, fastest first, takes the kind
    with the most work left."""
    lines = problem.lines
    left: dict[object, float] = {}
    for j in jobs:
        left[j.kind] = left.get(j.kind, 0.0) + sum(b.cards for b in j.batches)
    shared = []
    for li, ln in enumerate(lines):
        kinds = [k for k in ln.kinds if k in left]
        if len(kinds) == 1:
            left[kinds[0]] -= ln.cards_per_hour * hours
        elif len(kinds) > 1:
            shared.append(li)
    out: dict[int, object] = {}
    for li in sorted(shared, key=lambda i: (-lines[i].cards_per_hour, i)):
        kinds = sorted((k for k in lines[li].kinds if k in left), key=str)
        k = max(kinds, key=lambda k: left[k])
        out[li] = k
        left[k] -= lines[li].cards_per_hour * hours
    return out


def _best_greedy(
    problem, jobs, sessions, circuit_lines, line_ready, line_last, cap, usage, preferred
) -> _Sched:
    """The best of a few greedy variants (deadline waves of 30 min to the whole day)."""
    best: _Sched | None = None
    best_key: tuple[int, int] | None = None
    affinity = _kind_affinity(problem, jobs)
    waves = (30, 60, 120, 240, 100_000) if len(jobs) <= 500 else (30, 120, 100_000)
    for wave, aff in [(w, a) for a in (None, affinity) for w in waves]:
        if aff is not None and not aff:
            continue
        s = _greedy(
            problem, jobs, sessions, circuit_lines, line_ready, line_last, cap, usage, preferred, wave, aff
        )
        key = (len(s.failed), _weighted_lateness(sessions, s))
        if best_key is None or key < best_key:
            best, best_key = s, key
    assert best is not None
    return best


# --------------------------------------------------------------------------- solve


def _status_name(code: int) -> str:
    return {
        cp_model.OPTIMAL: "OPTIMAL",
        cp_model.FEASIBLE: "FEASIBLE",
        cp_model.INFEASIBLE: "INFEASIBLE",
        cp_model.MODEL_INVALID: "MODEL_INVALID",
        cp_model.UNKNOWN: "UNKNOWN",
    }.get(code, str(code))


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
    choice as a tie-breaker and a hint.
    """
    params = params or PackingParams()
    t0 = time.perf_counter()
    lines = problem.lines
    if not batches:
        return PackingResult(
            tuple(frozen), SolveStats("packing", "EMPTY", 0.0, 0.0, 0.0), "exact", 0, 0, 0, 0, 0
        )
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

    batches, unpacked = _packable(problem, batches, cap, usage, line_ready, earliest)
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
    # aggregated days: try a few job structures (urgent batches apart or not, arrival waves of 2-4 h)
    # and keep the one whose greedy schedule is best; CP-SAT then improves that one
    variants = STRUCTURES if len(batches) > params.exact_max_batches else STRUCTURES[:1]
    best_key = None
    errors: list[PlanningError] = []
    for wave, urgent_apart, per_kind in variants:
        v_jobs, v_sessions, v_mode = _make_jobs(
            problem, batches, params, earliest, wave, urgent_apart, per_kind
        )
        v_cand: dict[int, list[_Job]] = {i: [] for i in range(len(lines))}
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
        try:
            _precheck(problem, v_sessions, v_jobs, cap, usage, line_ready, earliest)
        except PlanningError as exc:
            errors.append(exc)
            continue
        preferred = None
        if hint_lines:
            preferred = {
                j.idx: line_index[hint_lines[j.key]]
                for j in v_jobs
                if hint_lines.get(j.key) in line_index and line_index[hint_lines[j.key]] in j.lines
            }
        v_greedy = _best_greedy(
            problem, v_jobs, v_sessions, v_circuit, line_ready, line_last, cap, usage, preferred
        )
        left_out = sum(len(v_jobs[jid].batches) for jid in v_greedy.failed)
        key = (left_out, _weighted_lateness(v_sessions, v_greedy))
        if best_key is None or key < best_key:
            best_key = key
            jobs, sessions, mode, cand = v_jobs, v_sessions, v_mode, v_cand
            circuit_lines, campaign_lines, greedy = v_circuit, v_campaign, v_greedy
    if best_key is None:
        raise errors[0]
    greedy_lat = _weighted_lateness(sessions, greedy) if not greedy.failed else -1
    ctx = _Ctx(problem, jobs, sessions, frozen, mode, greedy_lat, circuit_lines, unpacked)
    if params.greedy_only and greedy.line:
        return ctx.result(greedy, "GREEDY", time.perf_counter() - t0, None, None)

    # ------------------------------------------------------------------ CP-SAT model
    m = cp_model.CpModel()
    big_h = horizon + max(s.verify for s in sessions) + max(max(j.proc.values()) for j in jobs) + 60
    S = [
        m.new_int_var(max(j.earliest, min(line_ready[li] for li in j.lines)), big_h, f"s{j.idx}")
        for j in jobs
    ]
    U = [m.new_bool_var(f"u{j.idx}") for j in jobs]  # job left out today (only if it cannot fit)
    PS = [m.new_bool_var(f"ps{s.idx}") for s in sessions]  # session verified (some job of it packed)
    for s in sessions:
        for jid in s.jobs:
            m.add_implication(U[jid].Not(), PS[s.idx])
        m.add_bool_or([U[jid].Not() for jid in s.jobs]).only_enforce_if(PS[s.idx])
    V = [m.new_int_var(0, big_h, f"v{s.idx}") for s in sessions]
    R = []
    for s in sessions:
        r = m.new_int_var(0, big_h, f"r{s.idx}")
        m.add(r == V[s.idx] + s.verify)
        R.append(r)
    pres: dict[tuple[int, int], cp_model.IntVar] = {}
    line_intervals: dict[int, list] = {i: [] for i in range(len(lines))}
    for j in jobs:
        lits = []
        for li in j.lines:
            p = m.new_bool_var(f"p{j.idx}_{li}")
            pres[j.idx, li] = p
            lits.append(p)
            size = j.pre[li] + j.proc[li]
            line_intervals[li].append(
                m.new_optional_fixed_size_interval_var(S[j.idx], size, p, f"i{j.idx}_{li}")
            )
            m.add(S[j.idx] >= max(segs[li][0][0], line_ready[li])).only_enforce_if(p)
            m.add(S[j.idx] + size <= segs[li][-1][1]).only_enforce_if(p)
        m.add_exactly_one([*lits, U[j.idx]])
        end = S[j.idx] + sum((j.pre[li] + j.proc[li]) * pres[j.idx, li] for li in j.lines)
        m.add(V[j.session] >= end).only_enforce_if(U[j.idx].Not())
    for li in range(len(lines)):  # line blocks: outside availability / inside downtime
        if not line_intervals[li]:
            continue
        prev = min(0, segs[li][0][0])
        for a, b in segs[li]:
            if a > prev:
                line_intervals[li].append(m.new_fixed_size_interval_var(prev, a - prev, f"blk{li}_{prev}"))
            prev = b
        m.add_no_overlap(line_intervals[li])
    # verification capacity over the day
    cmax = int(cap.max())
    v_iv = [
        m.new_optional_fixed_size_interval_var(V[s.idx], s.verify, PS[s.idx], f"vi{s.idx}") for s in sessions
    ]
    demands = [1] * len(sessions)
    missing = cmax - cap + usage  # pharmacists not on shift or busy with frozen work, per minute
    t = 0
    while t < horizon:
        d = int(missing[t])
        u = t
        while u < horizon and missing[u] == d:
            u += 1
        if d > 0:
            v_iv.append(m.new_fixed_size_interval_var(t, u - t, f"cap{t}"))
            demands.append(min(d, cmax))
        t = u
    v_iv.append(m.new_fixed_size_interval_var(horizon, big_h - horizon + 1, "cap_end"))
    demands.append(cmax)
    m.add_cumulative(v_iv, demands, cmax)
    same: dict[tuple[int, int], list[int]] = {}
    for s in sessions:  # checks of one facility never share the exact same interval
        same.setdefault((s.facility_id, s.verify), []).append(s.idx)
    for ids in same.values():
        for x, a in enumerate(ids):
            for b in ids[x + 1 :]:
                m.add(V[a] != V[b]).only_enforce_if([PS[a], PS[b]])

    changeover_lits: list = []
    camp_vars: dict[tuple[int, int, int], cp_model.IntVar] = {}
    camp_runs: dict[tuple[int, object, int], tuple] = {}
    for li in sorted(campaign_lines):
        co = lines[li].changeover_kind_min
        runs_iv = []
        for kind in sorted({x.kind for x in cand[li]}, key=str):
            js = [x for x in cand[li] if x.kind == kind]
            used = [greedy.campaign[x.idx] for x in js if greedy.line.get(x.idx) == li]
            k_runs = min(max(max(used, default=-1) + 2, 2), params.max_runs)
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
                camp_runs[li, kind, c] = (q, cs, ce, padded, size, co)
                changeover_lits.append(q)
                xs = []
                for x in js:
                    lit = m.new_bool_var(f"x{x.idx}_{li}_{c}")
                    xs.append(lit)
                    camp_vars[li, x.idx, c] = lit
                    m.add_implication(lit, q)
                    m.add(S[x.idx] >= cs).only_enforce_if(lit)
                    m.add(S[x.idx] + x.pre[li] + x.proc[li] <= ce).only_enforce_if(lit)
                m.add(sum(xs) >= 1).only_enforce_if(q)
            for x in js:
                m.add(sum(camp_vars[li, x.idx, c] for c in range(k_runs)) == pres[x.idx, li])
        m.add_no_overlap(runs_iv)
    arc_lits: dict[tuple[int, int, int], cp_model.IntVar] = {}
    ends_lits: dict[int, tuple] = {}  # line -> (empty, first lits by job, last lits by job)
    for li in sorted(circuit_lines):
        ln = lines[li]
        js = cand[li]
        empty = m.new_bool_var(f"empty{li}")
        ends_lits[li] = (empty, {}, {})
        arcs = [(0, 0, empty)]
        for a_i, a in enumerate(js, start=1):
            first_lit, last_lit = m.new_bool_var(f"f{li}_{a.idx}"), m.new_bool_var(f"l{li}_{a.idx}")
            ends_lits[li][1][a.idx], ends_lits[li][2][a.idx] = first_lit, last_lit
            arcs.append((0, a_i, first_lit))
            arcs.append((a_i, 0, last_lit))
            arcs.append((a_i, a_i, pres[a.idx, li].Not()))
            for b_i, b in enumerate(js, start=1):
                if a_i == b_i:
                    continue
                lit = m.new_bool_var(f"a{li}_{a.idx}_{b.idx}")
                arcs.append((a_i, b_i, lit))
                arc_lits[li, a.idx, b.idx] = lit
                setup = _job_setup(ln, a, b)
                m.add(S[b.idx] >= S[a.idx] + a.pre[li] + a.proc[li] + setup).only_enforce_if(lit)
                if setup > 0:
                    changeover_lits.append(lit)
        m.add_circuit(arcs)

    # objective: left out >> weighted lateness >> makespan >> changeovers >> sum of ready times
    lat = []
    late_vars: list = []
    lat_ub = 0
    for s in sessions:
        ub = max(0, big_h - s.deadline)
        ls = m.new_int_var(0, ub, f"late{s.idx}")
        late_vars.append(ls)
        m.add(ls >= R[s.idx] - s.deadline).only_enforce_if(PS[s.idx])
        lat.append(s.weight * ls)
        lat_ub += s.weight * ub
    mk = m.new_int_var(0, big_h, "makespan")
    for s in sessions:
        m.add(mk >= R[s.idx]).only_enforce_if(PS[s.idx])
    n_co = len(changeover_lits)
    d_coef, c_coef = 1, len(sessions) * (big_h + 1) + 1
    if (len(jobs) + 1) * (lat_ub + 1) * c_coef * (n_co + 1) * (big_h + 1) >= 2**61:
        d_coef, c_coef = 0, 1
    b_coef = c_coef * (n_co + 1)
    a_coef = b_coef * (big_h + 1)
    z_coef = a_coef * (lat_ub + 1)
    objective = z_coef * sum(U) + a_coef * sum(lat) + b_coef * mk + c_coef * sum(changeover_lits)
    if d_coef:
        objective += sum(R)
    m.minimize(objective)
    coefs = (z_coef, a_coef, b_coef, c_coef, d_coef)

    # hints: the greedy schedule
    for j in jobs:
        m.add_hint(U[j.idx], j.idx in greedy.failed)
    for s in sessions:
        m.add_hint(PS[s.idx], s.idx in greedy.verify)
        if s.idx in greedy.verify:
            m.add_hint(V[s.idx], greedy.verify[s.idx])
    for j in jobs:
        if j.idx not in greedy.line:
            continue
        m.add_hint(S[j.idx], greedy.start[j.idx])
        for li in j.lines:
            m.add_hint(pres[j.idx, li], greedy.line[j.idx] == li)
    for li in circuit_lines:
        seq = sorted((j for j in cand[li] if greedy.line.get(j.idx) == li), key=lambda j: greedy.start[j.idx])
        nxt = {a.idx: b.idx for a, b in zip(seq, seq[1:], strict=False)}
        for (l2, a, b), lit in arc_lits.items():
            if l2 == li:
                m.add_hint(lit, nxt.get(a) == b)
    for (li, jidx, c), lit in camp_vars.items():
        m.add_hint(lit, greedy.line.get(jidx) == li and greedy.campaign.get(jidx) == c)
    for (li, kind, c), (q, cs, ce, padded, size, co) in camp_runs.items():
        members = [
            x
            for x in cand[li]
            if x.kind == kind and greedy.line.get(x.idx) == li and greedy.campaign[x.idx] == c
        ]
        a = min((greedy.start[x.idx] for x in members), default=0)
        b = max((greedy.start[x.idx] + x.pre[li] + x.proc[li] for x in members), default=0)
        m.add_hint(q, bool(members))
        m.add_hint(cs, a)
        m.add_hint(ce, b)
        m.add_hint(padded, b + co)
        m.add_hint(size, b + co - a)
    # complete the hint (CP-SAT takes a complete, feasible hint as its first solution at once)
    for j in jobs:
        if j.idx not in greedy.line:
            m.add_hint(S[j.idx], max(j.earliest, min(line_ready[li] for li in j.lines)))
            for li in j.lines:
                m.add_hint(pres[j.idx, li], False)
    for li, (empty, firsts, lasts) in ends_lits.items():
        seq = sorted((j for j in cand[li] if greedy.line.get(j.idx) == li), key=lambda j: greedy.start[j.idx])
        m.add_hint(empty, not seq)
        for jid, lit in firsts.items():
            m.add_hint(lit, bool(seq) and seq[0].idx == jid)
        for jid, lit in lasts.items():
            m.add_hint(lit, bool(seq) and seq[-1].idx == jid)
    ready_h = {}
    for s in sessions:
        v = greedy.verify.get(s.idx, 0)
        if s.idx not in greedy.verify:
            m.add_hint(V[s.idx], 0)
        ready_h[s.idx] = v + s.verify
        m.add_hint(R[s.idx], v + s.verify)
        m.add_hint(late_vars[s.idx], max(0, v + s.verify - s.deadline) if s.idx in greedy.verify else 0)
    m.add_hint(mk, max((ready_h[sid] for sid in greedy.verify), default=0))

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, params.time_limit_s - (time.perf_counter() - t0))
    solver.parameters.num_workers = params.workers
    solver.parameters.random_seed = params.seed
    solver.parameters.log_search_progress = params.log
    if len(jobs) > BIG_MODEL_JOBS:  # presolve alone would eat the budget on the large day
        solver.parameters.cp_model_presolve = PRESOLVE_BIG
    code = solver.solve(m)
    status = _status_name(code)
    wall = time.perf_counter() - t0
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        placed = [j for j in jobs if not solver.boolean_value(U[j.idx])]
        sched = _Sched(
            line={j.idx: next(li for li in j.lines if solver.boolean_value(pres[j.idx, li])) for j in placed},
            start={j.idx: solver.value(S[j.idx]) for j in placed},
            verify={s.idx: solver.value(V[s.idx]) for s in sessions if solver.boolean_value(PS[s.idx])},
            failed={
                j.idx: greedy.failed.get(j.idx, "no room left on the lines or for verification today")
                for j in jobs
                if solver.boolean_value(U[j.idx])
            },
        )
        objective = solver.objective_value
        if greedy.line:
            g_obj = _objective_of(jobs, sessions, greedy, lines, circuit_lines, campaign_lines, coefs)
            if g_obj < objective:  # CP-SAT did not get past its warm start in time: keep the greedy
                sched, objective, status = greedy, g_obj, status + "/GREEDY"
        return ctx.result(sched, status, wall, objective, min(solver.best_objective_bound, objective))
    if code == cp_model.INFEASIBLE:
        raise PlanningError(
            "the packaging schedule is infeasible: "
            + (greedy.failure or "the lines' hours and the pharmacists' shifts cannot hold every batch")
        )
    if code == cp_model.MODEL_INVALID:  # pragma: no cover - a bug, not an input problem
        raise PlanningError(f"internal error: invalid packaging model ({m.validate()})")
    # UNKNOWN: time ran out before CP-SAT found a schedule: the greedy one (what it could not place
    # is reported, not silently dropped)
    if greedy.line:
        g_obj = _objective_of(jobs, sessions, greedy, lines, circuit_lines, campaign_lines, coefs)
        bound = solver.best_objective_bound
        return ctx.result(greedy, "GREEDY", wall, g_obj, bound if bound <= g_obj else None)
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
            st = _fit(line_free_segments(ln), max(rel, line_ready[li]), ln.process_minutes(b.cards))
            if st is not None:
                e = st + ln.process_minutes(b.cards)
                best_end = e if best_end is None else min(best_end, e)
        if best_end is None:
            if any(b.kind in ln.kinds for ln in problem.lines):
                bad.append((b, f"received {clock(rel)}, after the {b.kind} lines close: packed tomorrow"))
            else:
                ok.append(b)  # no line makes this kind at all: _make_jobs names the cause
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


def _precheck(problem, sessions, jobs, cap, usage, line_ready, earliest) -> None:
    """Capacity causes that make the schedule impossible, named in plain words."""
    need = sum(s.verify for s in sessions)
    have = int((cap[max(0, earliest) :] - usage[max(0, earliest) :]).clip(min=0).sum())
    if need > have:
        raise PlanningError(
            f"verification needs {need} pharmacist-minutes but the shifts offer only {have}: "
            "add a pharmacist shift or move orders to another day"
        )
    by_kind: dict[object, int] = {}
    for j in jobs:
        by_kind[j.kind] = by_kind.get(j.kind, 0) + min(j.proc.values())
    for kind, minutes in by_kind.items():
        avail = 0
        for li, ln in enumerate(problem.lines):
            if kind in ln.kinds:
                for a, b in line_free_segments(ln):
                    avail += max(0, b - max(a, line_ready[li], earliest))
        if minutes > avail:
            raise PlanningError(
                f"{kind} packaging needs at least {minutes} line-minutes but the lines that make it "
                f"are open only {avail} minutes: add line hours or move orders"
            )


def _objective_of(jobs, sessions, sched: _Sched, lines, circuit_lines, campaign_lines, coefs) -> float:
    """The CP-SAT objective of a schedule found elsewhere (the greedy), with the model's weights."""
    z, a, b, c, d = coefs
    placed = [j for j in jobs if j.idx in sched.line]
    ready = {s.idx: sched.verify[s.idx] + s.verify for s in sessions if s.idx in sched.verify}
    changeovers = 0
    for li in circuit_lines | campaign_lines:
        seq = sorted((j for j in placed if sched.line[j.idx] == li), key=lambda j: sched.start[j.idx])
        if li in circuit_lines:
            changeovers += sum(
                1 for x, y in zip(seq, seq[1:], strict=False) if _job_setup(lines[li], x, y) > 0
            )
        else:
            changeovers += len({(j.kind, sched.campaign[j.idx]) for j in seq})
    return float(
        z * len(sched.failed)
        + a * _weighted_lateness(sessions, sched)
        + b * max(ready.values(), default=0)
        + c * changeovers
        + (d * sum(ready.values()) if d else 0)
    )


@dataclass
class _Ctx:
    problem: PlanningProblem
    jobs: list[_Job]
    sessions: list[_Session]
    frozen: Sequence[Batch]
    mode: str
    greedy_lat: int
    circuit_lines: set[int]
    unpacked: list[tuple[Batch, str]]

    def result(self, sched: _Sched, status: str, wall: float, objective, bound) -> PackingResult:
        """Batches with their times: packed back to back inside a job (minutes rounded up on the
        running card count: a tiny batch inside a run may take 0 whole minutes, the run takes what
        its cards need); the batches of one session share one verification interval."""
        lines = self.problem.lines
        out: list[Batch] = list(self.frozen)
        unpacked = list(self.unpacked)
        packed: dict[str, tuple[int, int, int]] = {}  # key -> (line id, start, end)
        by_line: dict[int, list[tuple[int, _Job]]] = {}
        for j in self.jobs:
            if j.idx in sched.failed or j.idx not in sched.line or j.session not in sched.verify:
                reason = sched.failed.get(j.idx, "not scheduled")
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
                1 for (_, a), (_, b) in zip(seq, seq[1:], strict=False) if _job_setup(lines[li], a, b) > 0
            )
        ready = [sched.verify[s.idx] + s.verify for s in self.sessions if s.idx in sched.verify]
        out.sort(key=lambda b: b.key)
        return PackingResult(
            tuple(out),
            SolveStats("packing", status, wall, objective, bound),
            self.mode,
            len(self.jobs),
            _weighted_lateness(self.sessions, sched),
            max(ready, default=0),
            changeovers,
            self.greedy_lat,
            {"circuit_lines": float(len(self.circuit_lines)), "sessions": float(len(self.sessions))},
            tuple(unpacked),
        )
