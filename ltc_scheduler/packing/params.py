"""Packing solve settings (:class:`PackingParams`) and the constants the model is tuned with."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BIG_MODEL_JOBS", "PRESOLVE_BIG", "STRUCTURES", "PackingParams"]

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
