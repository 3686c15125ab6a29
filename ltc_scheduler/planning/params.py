"""How the planning pipeline spends its time budget: :class:`PlanningParams`.

The budget itself is the constraint set's ``time_limit_s`` (``PlanSettings``, edited on the
Constraints page, or ``plan --time-limit``); ``packing_time_limit_s`` / ``routing_time_limit_s``
there override the shares below when set.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PlanningParams"]


@dataclass(frozen=True, slots=True)
class PlanningParams:
    """Shares of the time budget and the thresholds of the coupling loop.

    Attributes:
        pack_share: share of the budget for one packaging solve. The first pass and each coupling
            round get the same, so a round is compared with the first pass fairly.
        route_share: share of the budget for one routing solve.
        route_share_big: the routing share on days with more than ``big_day_facilities``
            facilities (a second round is then rarely affordable). Large demo day (200
            facilities, 420 stops, 62 vans x 2 trips, 50 s budget): 27.5 s of routing serve
            418-420 of ~420 stops (7-8 late) with the ruin-and-recreate warm start; OR-Tools alone
            left 22-52 unserved with 25 s.
        big_day_facilities: facilities (with something to deliver) above which a day is "big".
        round_share: a coupling round runs only if at least this share of a full round's time
            (one packaging plus one routing solve) is left.
        round_pack_share: a coupling round's packaging solve gets at most this share of the time
            left (and at most a first-pass packaging solve).
        react_min_s: when a stop was left unserved because its batches were ready too late (a
            STAT promise no direct drive could keep), a round runs with whatever time is left if
            it is at least this many seconds, even below ``round_share``.
        promise_deadlines: with coupling on, give urgent batches the deadline of the STAT stop
            they will ride in before the first pass (``planning/coupling.py``,
            :func:`~ltc_scheduler.planning.coupling.promise_deadlines`); ``False`` leaves it to the
            coupling rounds (the tests of the rounds switch it off).
        min_solve_s: the shortest time limit any one solve gets, seconds.
        min_budget_s: the shortest whole budget, seconds.
    """

    pack_share: float = 0.15
    route_share: float = 0.50
    route_share_big: float = 0.55
    big_day_facilities: int = 120
    round_share: float = 0.5
    round_pack_share: float = 0.3
    react_min_s: float = 1.0
    promise_deadlines: bool = True
    min_solve_s: float = 0.5
    min_budget_s: float = 1.0

    def __post_init__(self) -> None:
        for name in ("pack_share", "route_share", "route_share_big", "round_share", "round_pack_share"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise ValueError(f"PlanningParams.{name} must be more than 0 and at most 1, got {value}")
        if self.big_day_facilities < 0:
            raise ValueError(
                f"PlanningParams.big_day_facilities must be 0 or more, got {self.big_day_facilities}"
            )
        if self.min_solve_s <= 0 or self.min_budget_s <= 0 or self.react_min_s <= 0:
            raise ValueError("PlanningParams.min_solve_s, min_budget_s and react_min_s must be positive")

    def routing_share(self, facilities: int) -> float:
        """The routing share for a day delivering to ``facilities`` facilities."""
        return self.route_share_big if facilities > self.big_day_facilities else self.route_share
