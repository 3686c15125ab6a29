"""The publishing rule: is a new plan at least as good as the published one, for the pharmacy?

A new plan replaces the published plan of its date only when it is **not worse** on what matters
to the pharmacy. It is worse when any of these holds (each checked by one function below):

* more stops left undelivered (the plan's unserved entries);
* more STAT / new-admission order lines missed: in a batch that is not delivered, not packed
  today, or on a STAT stop that arrives after its promise;
* fewer stops delivered, unless the day has fewer stops to deliver (orders were cancelled);
* a weaker solver result: a stage that found nothing ("failed") where the published plan's did
  not, or a stage that kept its greedy fallback ("partial") where the published plan's stages all
  completed *and* the run had a shorter time budget than the published one (``--time-limit 1``
  against a plan made with 20 s; with the same budget, a partial result on a busy machine is
  judged by its figures alone);
* hard rules broken (the independent validator) where the published plan broke none.

Pure functions on :class:`Plan`; ``service.py`` applies them at save time.
"""

from __future__ import annotations

from dataclasses import dataclass

from ltc_scheduler.plan.model import Plan

__all__ = ["PublishFigures", "figures_of", "solver_grade", "why_worse"]

#: solver statuses that mean "the stage ran out of time and kept its fallback" (packing: CP-SAT
#: found no schedule, the greedy one is used)
PARTIAL_STATUSES = frozenset({"GREEDY"})
#: statuses that mean the stage found no proper answer at all
FAILED_STATUSES = frozenset(
    {
        "INFEASIBLE",
        "MODEL_INVALID",
        "UNKNOWN",
        "ROUTING_FAIL",
        "ROUTING_FAIL_TIMEOUT",
        "ROUTING_NOT_SOLVED",
        "ROUTING_INFEASIBLE",
        "ROUTING_INVALID",
    }
)
_GRADE_WORDS = {2: "complete", 1: "partial", 0: "failed"}


@dataclass(frozen=True, slots=True)
class PublishFigures:
    """What the publishing rule compares, for one plan."""

    #: stops not delivered (unserved entries)
    unserved: int
    #: STAT / new-admission order lines not delivered, or delivered after their promise
    stat_missed: int
    #: route stops (deliveries made)
    served: int
    #: stops to deliver: served + unserved
    to_deliver: int
    #: 2 every solver stage completed, 1 a stage kept its fallback (partial), 0 a stage failed
    solver: int
    #: hard rules the validator found broken
    broken_rules: int
    #: the run's overall solver time budget, seconds (None: unknown)
    time_limit_s: float | None = None

    @property
    def solver_word(self) -> str:
        return _GRADE_WORDS[self.solver]


def solver_grade(plan: Plan) -> int:
    """2 complete, 1 partial (a stage kept its greedy fallback), 0 failed; the weakest stage counts."""
    grade = 2
    for s in plan.stats:
        status = s.status.upper()
        if status in FAILED_STATUSES:
            grade = min(grade, 0)
        elif status in PARTIAL_STATUSES:
            grade = min(grade, 1)
    return grade


def _stat_missed(plan: Plan) -> int:
    undelivered = {k for u in plan.unserved for k in u.batch_keys}
    late_stat = {k for r in plan.routes for s in r.stops if s.stat and s.late_min > 0 for k in s.batch_keys}
    delivered = {k for r in plan.routes for s in r.stops for k in s.batch_keys}
    missed = 0
    for b in plan.batches:
        if not b.stat:
            continue
        if b.key in undelivered or b.key in late_stat or b.key not in delivered or b.line_id is None:
            missed += len(b.order_line_ids)
    return missed


def figures_of(plan: Plan, *, broken_rules: int, time_limit_s: float | None = None) -> PublishFigures:
    """The figures the rule compares; ``broken_rules``: the validator's hard violations;
    ``time_limit_s``: the run's solver time budget."""
    served = sum(len(r.stops) for r in plan.routes)
    return PublishFigures(
        unserved=len(plan.unserved),
        stat_missed=_stat_missed(plan),
        served=served,
        to_deliver=served + len(plan.unserved),
        solver=solver_grade(plan),
        broken_rules=broken_rules,
        time_limit_s=time_limit_s,
    )


def _more_unserved(new: PublishFigures, old: PublishFigures) -> str | None:
    if new.unserved > old.unserved:
        return f"{new.unserved} stops unserved vs {old.unserved}"
    return None


def _more_stat_missed(new: PublishFigures, old: PublishFigures) -> str | None:
    if new.stat_missed > old.stat_missed:
        return f"{new.stat_missed} STAT orders missed vs {old.stat_missed}"
    return None


def _fewer_served(new: PublishFigures, old: PublishFigures) -> str | None:
    if new.served < old.served and new.to_deliver >= old.to_deliver:
        return f"{new.served} stops served vs {old.served}"
    return None


def _weaker_solver(new: PublishFigures, old: PublishFigures) -> str | None:
    if new.solver >= old.solver:
        return None
    shorter = (
        new.time_limit_s is not None and old.time_limit_s is not None and new.time_limit_s < old.time_limit_s
    )
    if new.solver == 0 or shorter:
        return f"solver result {new.solver_word} vs {old.solver_word}"
    return None


def _rules_broken(new: PublishFigures, old: PublishFigures) -> str | None:
    if new.broken_rules > 0 and old.broken_rules == 0:
        return f"{new.broken_rules} rules broken vs none"
    return None


RULES = (_more_unserved, _more_stat_missed, _fewer_served, _weaker_solver, _rules_broken)


def why_worse(new: PublishFigures, published: PublishFigures) -> list[str]:
    """The ways ``new`` is worse than ``published`` (each "<new> vs <published>"); empty: not worse."""
    return [r for r in (rule(new, published) for rule in RULES) if r is not None]
