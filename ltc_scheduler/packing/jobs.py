"""Jobs and verification sessions from batches: what a line packs in one go, what a pharmacist
checks in one go.

* **jobs** — ``exact`` mode (at most ``PackingParams.exact_max_batches`` batches): one job per
  batch. ``aggregated`` mode (busier days): the batches of one facility, packaging kind and
  arrival wave (urgent ones apart or first, see :data:`~ltc_scheduler.packing.params.STRUCTURES`),
  packed back to back, up to ``max_job_cards`` cards. Between batches of one job no changeover is
  needed (same facility, same kind); minutes are rounded up on the job's card count, not per batch.
* **verification sessions** — one per job in ``exact`` mode, one per facility and arrival wave in
  ``aggregated`` mode (the delivery takes the facility's batches together anyway). A batch is
  ready when its session is verified.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ltc_scheduler.errors import PlanningError
from ltc_scheduler.packing.params import URGENT_JOIN_MIN, URGENT_SLACK_MIN, PackingParams
from ltc_scheduler.plan.model import Batch
from ltc_scheduler.problem.model import PackagingLine, PlanningProblem, Verification, split_by_cards

__all__ = ["Job", "Session", "job_setup", "line_free_segments", "make_jobs", "pharmacist_capacity"]


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


@dataclass(slots=True)
class Job:
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
    #: STAT / first dose / new admission (and ``stat_weight`` > 1): goes first on the floor
    urgent: bool = False

    @property
    def key(self) -> str:
        return self.batches[0].key


@dataclass(slots=True)
class Session:
    idx: int
    jobs: list[int]
    verify: int
    deadline: int
    weight: int
    facility_id: int = 0
    urgent: bool = False
    #: urgent sessions: ready by then (received + own packing + verification + URGENT_SLACK_MIN)
    target: int | None = None
    batches: int = 1  # how many batches the session checks


def _urgent_groups(batches: list[Batch], release, cap: int) -> list[list[Batch]]:
    """Urgent batches of one facility and kind share a job only when received within
    ``URGENT_JOIN_MIN`` of each other (a STAT never waits for a later one)."""
    out: list[list[Batch]] = []
    run: list[Batch] = []
    for b in sorted(batches, key=lambda b: (release(b), b.deadline_min, b.key)):
        if run and (
            release(b) - release(run[0]) > URGENT_JOIN_MIN or sum(x.cards for x in run) + b.cards > cap
        ):
            out.append(run)
            run = []
        run.append(b)
    if run:
        out.append(run)
    return out


def make_jobs(
    problem: PlanningProblem,
    batches: Sequence[Batch],
    params: PackingParams,
    earliest: int,
    routine_wave: int | None = None,
    session_per_kind: bool = False,
) -> tuple[list[Job], list[Session], str]:
    """Jobs and sessions. Urgent batches never share a job or a verification session with routine
    ones; on aggregated days routine batches of one facility and kind form one job per
    ``routine_wave`` minutes of arrival (``None``: the whole day), split at ``max_job_cards``."""
    s = problem.settings
    received = {o.id: o.received_min for o in problem.orders}
    priority = s.stat_weight > 1

    def release(b: Batch) -> int:
        return max([earliest] + [received.get(i, earliest) for i in b.order_line_ids])

    aggregate = len(batches) > params.exact_max_batches
    groups: list[list[Batch]]
    if not aggregate:
        groups = [[b] for b in batches]
    else:
        cap = params.max_job_cards or 4 * s.max_batch_cards
        by_key: dict[tuple, list[Batch]] = {}
        for b in batches:
            if b.stat:
                by_key.setdefault((b.facility_id, str(b.kind), True, 0), []).append(b)
                continue
            # routine batches of a facility travel together (one stop): by default one job a day
            wave_no = (release(b) - earliest) // routine_wave if routine_wave else 0
            by_key.setdefault((b.facility_id, str(b.kind), False, wave_no), []).append(b)
        groups = []
        for key in sorted(by_key):
            if key[2]:
                groups.extend(_urgent_groups(by_key[key], release, cap))
            else:
                groups.extend(split_by_cards(sorted(by_key[key], key=lambda b: (b.deadline_min, b.key)), cap))
    jobs: list[Job] = []
    for g in groups:
        b0 = g[0]
        lines = [i for i, ln in enumerate(problem.lines) if b0.kind in ln.kinds and line_free_segments(ln)]
        if not lines:
            raise PlanningError(
                f"batch {b0.key} ({b0.cards} cards of {b0.kind}) cannot be packed: "
                f"no packaging line makes {b0.kind} (or none is available today)"
            )
        cards = sum(b.cards for b in g)
        stat = any(b.stat for b in g)
        jobs.append(
            Job(
                idx=len(jobs),
                batches=list(g),
                kind=b0.kind,
                facility_id=b0.facility_id,
                lines=lines,
                proc={i: problem.lines[i].process_minutes(cards) for i in lines},
                deadline=min(b.deadline_min for b in g),
                weight=(s.stat_weight if stat else 1),
                earliest=max(release(b) for b in g),
                urgent=stat and priority,
            )
        )
    # verification sessions
    by_session: dict[tuple, list[Job]] = {}
    for j in jobs:
        key: tuple
        if not aggregate or j.urgent or j.weight > 1:
            key = (0, j.idx)
        else:
            wave_no = (j.earliest - earliest) // routine_wave if routine_wave else 0
            key = (1, j.facility_id, str(j.kind) if session_per_kind else "", wave_no)
        by_session.setdefault(key, []).append(j)
    sessions: list[Session] = []
    for key in sorted(by_session):
        js = by_session[key]
        for j in js:
            j.session = len(sessions)
        verify = problem.verification.verify_minutes(sum(b.cards for j in js for b in j.batches))
        urgent = any(j.urgent for j in js)
        sessions.append(
            Session(
                idx=len(sessions),
                jobs=[j.idx for j in js],
                verify=verify,
                deadline=min(j.deadline for j in js),
                weight=max(j.weight for j in js),
                facility_id=js[0].facility_id,
                urgent=urgent,
                batches=sum(len(j.batches) for j in js),
                target=(
                    max(j.earliest + min(j.proc.values()) for j in js) + verify + URGENT_SLACK_MIN
                    if urgent
                    else None
                ),
            )
        )
    return jobs, sessions, ("aggregated" if aggregate else "exact")


def job_setup(line: PackagingLine, a: Job, b: Job) -> int:
    return line.changeover(a.kind, a.facility_id, b.kind, b.facility_id)
