"""Settings of the routing package: plain data, no OR-Tools import, passed in explicitly.

:class:`RoutingParams` drives :func:`ltc_scheduler.routing.search.solve_routing`. The defaults are
the settings tuned on the Solomon VRPTW instances (see ``benchmarks/README.md``); the product uses
them as they are and only changes the time limit.

:class:`DayRoutingParams` drives :func:`ltc_scheduler.routing.from_day.build_routing_problem`: how
the pharmacy's day becomes stops and vehicles (reload time, when STAT batches travel apart).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

#: First-solution strategies tried, in this order, by the parallel workers of a multi-start run
#: (worker ``i`` uses entry ``i % len``). Names are OR-Tools ``FirstSolutionStrategy`` values.
MULTI_START_STRATEGIES: tuple[str, ...] = (
    "PARALLEL_CHEAPEST_INSERTION",
    "LOCAL_CHEAPEST_INSERTION",
    "SEQUENTIAL_CHEAPEST_INSERTION",
    "PATH_CHEAPEST_ARC",
)


@dataclass(frozen=True, slots=True)
class RoutingParams:
    """How hard and how the routing engine searches.

    Attributes:
        time_limit_s: wall-clock budget of the whole call (model build included). The search uses
            all of it (guided local search has no natural end), except on problems with nothing
            to decide.
        seed: rotates which first-solution strategy the extra workers of a multi-start run use.
            OR-Tools' search itself has no seed; a time-limited search is not repeatable run to
            run (it depends on how many moves fit in the time).
        first_solution: OR-Tools ``FirstSolutionStrategy`` name used to build the start solution
            (e.g. ``"PARALLEL_CHEAPEST_INSERTION"``, ``"SAVINGS"``, ``"PATH_CHEAPEST_ARC"``).
        metaheuristic: OR-Tools ``LocalSearchMetaheuristic`` name (``"GUIDED_LOCAL_SEARCH"``,
            ``"SIMULATED_ANNEALING"``, ``"TABU_SEARCH"``, ``"GREEDY_DESCENT"``).
        gls_lambda: guided local search penalty weight (``guided_local_search_lambda_coefficient``);
            smaller = closer to plain descent, larger = more diversification.
        operators: overrides of ``local_search_operators`` flags, e.g.
            ``{"use_relocate_expensive_chain": True, "use_cross_exchange": True}`` (the ``use_``
            prefix may be left out). Applied on top of :data:`DEFAULT_OPERATORS`.
        use_full_propagation: propagate every constraint at each local-search move (slower, only
            useful when many side constraints are rejected late).
        iterated_local_search: wrap the metaheuristic in OR-Tools' ruin-and-recreate iterated
            local search.
        lns_time_limit_s: time limit of one large-neighbourhood sub-search.
        workers: number of independent searches run in parallel processes (multi-start); the best
            answer wins. ``1`` = in-process. Workers are forked processes: keep ``1`` inside a
            multi-threaded server; use it for batch runs with free CPU cores.
        insertion_neighbors: cheapest-insertion start heuristics only look at this many nearest
            neighbours of each stop (``neighbors_ratio`` = this / number of nodes, at most 1); keeps
            the start fast on 200+ stops. ``None`` = all.
        ruin_recreate_share: share of the time budget given to the ruin-and-recreate warm start
            (:mod:`ltc_scheduler.routing.warm_start`, seeded with ``seed``); guided local search
            polishes its routes for the rest. ``0`` = OR-Tools only (its first-solution strategy
            and guided local search for the whole budget).
        warm_start_s: seconds of a quick first search (cheapest insertion + greedy descent) whose
            routes seed the main search; ``0`` disables it.
        tweaks: expert overrides of other ``RoutingSearchParameters`` fields by dotted name, e.g.
            ``{"ls_operator_neighbors_ratio": 0.3}``; applied last.
        log: print OR-Tools' search log to stderr.
    """

    time_limit_s: float = 10.0
    seed: int = 0
    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    gls_lambda: float = 0.1
    operators: dict[str, bool] = field(default_factory=dict)
    use_full_propagation: bool = False
    iterated_local_search: bool = False
    lns_time_limit_s: float = 0.1
    workers: int = 1
    insertion_neighbors: int | None = 40
    ruin_recreate_share: float = 0.85
    warm_start_s: float = 0.0
    tweaks: dict[str, float | int | bool | str] = field(default_factory=dict)
    log: bool = False

    def with_(self, **changes: object) -> RoutingParams:
        """A copy with some fields changed (``params.with_(time_limit_s=2)``)."""
        return replace(self, **changes)  # type: ignore[arg-type]


#: Operator flags set on top of OR-Tools' defaults (tuned on Solomon, see benchmarks/README.md).
DEFAULT_OPERATORS: dict[str, bool] = {
    # relocate a stop next to one of its nearest neighbours, and exchange route segments:
    # clearly better on Solomon R1/RC1 at 10 s (see benchmarks/README.md)
    "relocate_neighbors": True,
    "cross_exchange": True,
    # insertion-based LNS moves: each one re-inserts whole routes, slow for what they bring
    "global_cheapest_insertion_path_lns": False,
    "local_cheapest_insertion_path_lns": False,
    "global_cheapest_insertion_visit_types_lns": False,
    "local_cheapest_insertion_visit_types_lns": False,
}

#: Other ``RoutingSearchParameters`` set by default (before ``RoutingParams.tweaks``).
DEFAULT_TWEAKS: dict[str, float | int | bool | str] = {
    "guided_local_search_reset_penalties_on_new_best_solution": True,
}


@dataclass(frozen=True, slots=True)
class DayRoutingParams:
    """How the pharmacy's day becomes a routing problem (:mod:`ltc_scheduler.routing.from_day`).

    Attributes:
        reload_min: minutes at the pharmacy between two trips of a vehicle (unload the returns,
            load the next totes).
        split_gap_min: the urgent and routine batches of one facility travel separately when
            they are ready more than this many minutes apart.
        stat_wave_min: urgent batches of one facility whose ready-by deadlines lie within this
            many minutes of the wave's first one travel together; later ones make another STAT
            stop (a STAT received at 07:00 and one received at 13:00 are two runs).
    """

    reload_min: int = 10
    split_gap_min: int = 60
    stat_wave_min: int = 90

    def with_(self, **changes: object) -> DayRoutingParams:
        """A copy with some fields changed (``params.with_(reload_min=15)``)."""
        return replace(self, **changes)  # type: ignore[arg-type]
