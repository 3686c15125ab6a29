"""Packing solve settings (:class:`PackingParams`) and the constants the model is tuned with."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BIG_MODEL_JOBS",
    "PRESOLVE_BIG",
    "STRUCTURES",
    "URGENT_JOIN_MIN",
    "URGENT_SLACK_MIN",
    "URGENT_SWITCH_MIN",
    "PackingParams",
]

#: aggregated mode, the job structures tried: (routine arrival wave in minutes, verification
#: session per kind). Routine batches of one facility and kind form one job per arrival wave
#: (``None``: one for the whole day: they travel together anyway); verification sessions follow the
#: same split per facility, across kinds or per kind. Urgent batches are always jobs and sessions
#: of their own.
STRUCTURES: tuple[tuple[int | None, bool], ...] = (
    (None, False),
    (None, True),
    (180, False),
)

#: urgent batches (STAT, first dose, new admission) of one facility and kind share a job only when
#: received within this many minutes of each other
URGENT_JOIN_MIN = 10
#: an urgent batch should be ready this many minutes after its own packing and verification could
#: end if it went first (minutes past that weigh ``stat_weight`` in the objective)
URGENT_SLACK_MIN = 15
#: the greedy start: a line set up for another packaging kind takes an urgent job ahead of its
#: routine work once the urgent job has waited this many minutes
URGENT_SWITCH_MIN = 30

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
