"""The greedy start: list schedules of the jobs on the lines and the pharmacists.

CP-SAT is warm-started with the best of a few of them (``add_hint``), and the best one is also
the answer when CP-SAT finds nothing better in its time limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ltc_scheduler.packing.jobs import Job, Session, job_setup, line_free_segments
from ltc_scheduler.packing.params import URGENT_SWITCH_MIN
from ltc_scheduler.plan.model import Batch
from ltc_scheduler.problem.model import PlanningProblem

__all__ = [
    "Schedule",
    "best_greedy",
    "fit",
    "greedy",
    "lateness_cost",
    "objective_of",
    "urgent_wait",
    "weighted_lateness",
]


@dataclass(slots=True)
class Schedule:
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


def fit(segs: list[tuple[int, int]], t: int, dur: int) -> int | None:
    """Earliest start >= t such that [start, start+dur) lies inside one segment."""
    for a, b in segs:
        st = max(a, t)
        if st + dur <= b:
            return st
    return None


def first_free(cap: np.ndarray, usage: np.ndarray, t: int, dur: int) -> int | None:
    """Earliest v >= t with a free pharmacist for ``dur`` consecutive minutes."""
    horizon = len(cap)
    v = max(0, t)
    while v + dur <= horizon:
        ok = usage[v : v + dur] < cap[v : v + dur]
        if ok.all():
            return v
        v += int(np.argmin(ok)) + 1
    return None


def greedy(
    problem: PlanningProblem,
    jobs: list[Job],
    sessions: list[Session],
    circuit_lines: set[int],
    line_ready: dict[int, int],
    line_last: dict[int, Batch | None],
    cap: np.ndarray,
    usage: np.ndarray,
    preferred: Mapping[int, int] | None = None,
    wave_min: int = 60,
    affinity: Mapping[int, object] | None = None,
) -> Schedule:
    """List schedule: the line that frees up first takes the most urgent job already received.

    With ``affinity`` (line -> packaging kind), a line that makes several kinds takes jobs of its
    kind first (few kind changeovers) and helps with the others when none of its kind is ready.

    "Most urgent" = urgent (STAT, first dose, new admission) first on a line that makes its kind
    now (or has not started), and on any line once it has waited ``URGENT_SWITCH_MIN`` minutes
    (a kind changeover costs more line time than most urgent jobs take); then the earliest deadline
    wave (``wave_min`` minutes), then STAT, then the same kind as the line's last job (fewer kind
    changeovers), then the previous plan's line, then the fewest compatible lines, then the
    earliest deadline. Verification: see :func:`_verify`.
    """
    sched = Schedule({}, {}, {})
    usage = usage.copy()
    free = {li: max(line_ready[li], 0) for li in range(len(problem.lines))}
    last: dict[int, Job | None] = dict.fromkeys(range(len(problem.lines)))
    runs: dict[tuple[int, object], int] = {}
    segs = {i: line_free_segments(ln) for i, ln in enumerate(problem.lines)}
    todo = {j.idx: j for j in jobs}
    left = {s.idx: len(s.jobs) for s in sessions}
    ends: dict[int, int] = {}
    closed: set[tuple[int, int]] = set()  # (job, line): the job no longer fits on that line
    on_line: dict[int, dict[int, Job]] = {li: {} for li in free}  # open candidates per line
    for j in jobs:
        for li in j.lines:
            on_line[li][j.idx] = j

    complete: list[int] = []  # sessions whose jobs are all packed (or left out)

    def verify_session(sid: int) -> None:
        if sid in ends:  # else every job of the session was left out
            complete.append(sid)

    def drop_job(j: Job, reason: str) -> None:
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

        def rank(j: Job, prev=prev, li=li, t=t):
            same = prev is not None and prev.kind == j.kind
            pref = 0 if preferred and preferred.get(j.idx) == li else 1
            return (
                0
                if j.urgent and (prev is None or prev.kind == j.kind or t - j.earliest >= URGENT_SWITCH_MIN)
                else 1,
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
                st0 += job_setup(line, prev, j)
            elif prev.kind != j.kind:
                st0 += line.changeover_kind_min
        elif line_last.get(li) is not None and li in circuit_lines:
            st0 += line.changeover_kind_min
        st = fit(segs[li], st0, j.pre[li] + j.proc[li])
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
    _verify(sessions, complete, ends, cap, usage, sched)
    # jobs left out do not count as placed
    for jid in sched.failed:
        sched.line.pop(jid, None)
        sched.start.pop(jid, None)
    return sched


def _verify(
    sessions: list[Session],
    complete: list[int],
    ends: Mapping[int, int],
    cap: np.ndarray,
    usage: np.ndarray,
    sched: Schedule,
) -> None:
    """Pharmacists: urgent sessions first, each at the first free pharmacist after its packing
    ends; then the routine ones in the order their packing ends, around them. Two checks of one
    facility never share the exact same interval (the plan tells sessions apart by it)."""
    taken: set[tuple[int, int, int]] = set()
    order = sorted(
        complete, key=lambda sid: (not sessions[sid].urgent, ends[sid], sessions[sid].deadline, sid)
    )
    for sid in order:
        ses = sessions[sid]
        v = first_free(cap, usage, ends[sid], ses.verify)
        while v is not None and (ses.facility_id, v, ses.verify) in taken:
            v = first_free(cap, usage, v + 1, ses.verify)
        if v is None:
            for jid in ses.jobs:
                if jid in sched.line:
                    sched.fail(
                        jid,
                        "cannot be verified before the last pharmacist shift ends: "
                        "verification capacity is exhausted today",
                    )
            continue
        usage[v : v + ses.verify] += 1
        sched.verify[sid] = v
        taken.add((ses.facility_id, v, ses.verify))


def urgent_wait(sessions: list[Session], sched: Schedule) -> int:
    """Minutes urgent sessions are ready after their target (received + own packing and check +
    ``URGENT_SLACK_MIN``), summed."""
    return sum(
        max(0, sched.verify[s.idx] + s.verify - s.target)
        for s in sessions
        if s.target is not None and s.idx in sched.verify
    )


def lateness_cost(sessions: list[Session], sched: Schedule) -> int:
    """The objective's lateness tier: weighted lateness against the ready-by deadlines plus the
    urgent sessions' minutes past their target, weighted alike."""
    return weighted_lateness(sessions, sched) + sum(
        s.weight * max(0, sched.verify[s.idx] + s.verify - s.target)
        for s in sessions
        if s.target is not None and s.idx in sched.verify
    )


def choice_cost(sessions: list[Session], sched: Schedule) -> int:
    """How the greedy variants and job structures are compared: like :func:`lateness_cost`, but a
    late session counts once per batch it holds (each late batch is a late delivery part)."""
    return sum(
        s.batches * s.weight * max(0, sched.verify[s.idx] + s.verify - s.deadline)
        + (s.weight * max(0, sched.verify[s.idx] + s.verify - s.target) if s.target is not None else 0)
        for s in sessions
        if s.idx in sched.verify
    )


def weighted_lateness(sessions: list[Session], sched: Schedule) -> int:
    return sum(
        s.weight * max(0, sched.verify[s.idx] + s.verify - s.deadline)
        for s in sessions
        if s.idx in sched.verify
    )


def kind_affinity(problem: PlanningProblem, jobs: list[Job], hours: float = 10.0) -> dict[int, object]:
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


def best_greedy(
    problem, jobs, sessions, circuit_lines, line_ready, line_last, cap, usage, preferred
) -> Schedule:
    """The best of a few greedy variants (deadline waves of 30 min to the whole day)."""
    best: Schedule | None = None
    best_key: tuple[int, int] | None = None
    affinity = kind_affinity(problem, jobs)
    waves = (30, 60, 120, 240, 100_000) if len(jobs) <= 500 else (30, 120, 100_000)
    for wave, aff in [(w, a) for a in (None, affinity) for w in waves]:
        if aff is not None and not aff:
            continue
        s = greedy(
            problem, jobs, sessions, circuit_lines, line_ready, line_last, cap, usage, preferred, wave, aff
        )
        key = (len(s.failed), choice_cost(sessions, s))
        if best_key is None or key < best_key:
            best, best_key = s, key
    assert best is not None
    return best


def objective_of(jobs, sessions, sched: Schedule, lines, circuit_lines, campaign_lines, coefs) -> float:
    """The CP-SAT objective of a schedule found elsewhere (the greedy), with the model's weights."""
    z, a, b, c, d = coefs
    placed = [j for j in jobs if j.idx in sched.line]
    ready = {s.idx: sched.verify[s.idx] + s.verify for s in sessions if s.idx in sched.verify}
    changeovers = 0
    for li in circuit_lines | campaign_lines:
        seq = sorted((j for j in placed if sched.line[j.idx] == li), key=lambda j: sched.start[j.idx])
        if li in circuit_lines:
            changeovers += sum(
                1 for x, y in zip(seq, seq[1:], strict=False) if job_setup(lines[li], x, y) > 0
            )
        else:
            changeovers += len({(j.kind, sched.campaign[j.idx]) for j in seq})
    return float(
        z * sum(jobs[jid].weight for jid in sched.failed)
        + a * lateness_cost(sessions, sched)
        + b * max(ready.values(), default=0)
        + c * changeovers
        + (d * sum(ready.values()) if d else 0)
    )
