"""The independent checker of a whole day's plan: packaging + routing + how they fit together.

``validate_plan`` never calls a solver. It combines

* :func:`~ltc_scheduler.packing.validate.validate_packing` (batches, lines, changeovers,
  downtime, verification capacity, segregation, coverage of every order line);
* :func:`~ltc_scheduler.routing.validate.validate_routing` on the routing problem and solution
  the pipeline used (windows, capacities, releases, shifts, authorisations, ...), when given;
* :func:`~ltc_scheduler.plan.validate.validate_coupling`: ready before departure, the totes of a
  stop are the totes of its batches, every batch delivered or reported once.
"""

from __future__ import annotations

from ltc_scheduler.packing.validate import validate_packing
from ltc_scheduler.plan.model import Plan, Violation
from ltc_scheduler.plan.validate import validate_coupling
from ltc_scheduler.problem.model import PlanningProblem
from ltc_scheduler.routing.problem import RoutingProblem, RoutingSolution
from ltc_scheduler.routing.validate import validate_routing

__all__ = ["validate_plan"]


def validate_plan(
    problem: PlanningProblem,
    plan: Plan,
    *,
    routing_problem: RoutingProblem | None = None,
    routing_solution: RoutingSolution | None = None,
) -> list[Violation]:
    """Every broken rule of ``plan`` (hard and soft); an empty list of hard ones = a valid plan."""
    unpacked = {k for u in plan.unserved for k in u.batch_keys}
    out = validate_packing(problem, plan.batches, unpacked=unpacked)
    if routing_problem is not None and routing_solution is not None:
        out.extend(validate_routing(routing_problem, routing_solution))
    out.extend(validate_coupling(plan))
    return out
