"""Reader of Solomon VRPTW instances (and their best-known solutions) into a :class:`RoutingProblem`.

Convention (DIMACS 2021 / CVRPLIB / PyVRP ``round_func="dimacs"``): every distance is
``floor(10 * euclid)`` in integer units, travel time = distance, ready/due/service times x10, the
instance's own fleet size and capacity, no cost per vehicle, hard windows, objective = total
distance. Divide a distance by :data:`SCALE` to get the published figure.

The depot's due date is the latest return; a customer's due date is its latest start of service.
Stop keys are the customer numbers of the file (``"1"`` .. ``"100"``), so routes can be written
back as customer numbers.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ltc_scheduler.routing.problem import RoutingProblem, RoutingStop, RoutingVehicle

__all__ = ["SCALE", "Bks", "read_solomon", "parse_solomon", "read_bks", "dimacs_matrix"]

SCALE = 10


@dataclass(frozen=True, slots=True)
class Bks:
    """One row of ``bks.csv``: best-known solution of an instance in one convention."""

    instance: str
    vehicles: int
    distance: float
    convention: str
    source: str = ""


def dimacs_matrix(xy: np.ndarray) -> np.ndarray:
    """``floor(10 * euclidean distance)`` between all points, int64 (vectorised)."""
    diff = xy[:, None, :] - xy[None, :, :]
    d = np.sqrt((diff.astype(np.float64) ** 2).sum(axis=2))
    # + tiny epsilon so that exact integers (e.g. 10*5.0) are not floored to 49 by rounding noise
    return np.floor(d * SCALE + 1e-9).astype(np.int64)


def read_solomon(path: str | Path) -> RoutingProblem:
    """Read one Solomon ``.txt`` file (CRLF or LF)."""
    path = Path(path)
    return parse_solomon(path.read_text(encoding="utf-8", errors="replace"), name=path.stem)


def parse_solomon(text: str, name: str = "") -> RoutingProblem:
    """Parse the text of a Solomon instance (see the module docstring for the convention)."""
    lines = [ln.strip() for ln in text.splitlines()]
    name = name or next((ln for ln in lines if ln), "")
    n_vehicles = capacity = None
    rows: list[list[float]] = []
    for i, ln in enumerate(lines):
        up = ln.upper()
        if up.startswith("NUMBER") and "CAPACITY" in up:
            nums = next(x for x in lines[i + 1 :] if x).split()
            n_vehicles, capacity = int(nums[0]), int(nums[1])
        parts = ln.split()
        if len(parts) == 7 and all(_is_number(p) for p in parts):
            rows.append([float(p) for p in parts])
    if n_vehicles is None or capacity is None:
        raise ValueError(f"{name}: no 'NUMBER CAPACITY' section (not a Solomon file?)")
    if not rows or int(rows[0][0]) != 0:
        raise ValueError(f"{name}: customer table missing or does not start with the depot (customer 0)")
    data = np.array(rows)
    xy = data[:, 1:3]
    mat = dimacs_matrix(xy)
    depot = data[0]
    stops = []
    for node, row in enumerate(data[1:], start=1):
        cust, _x, _y, demand, ready, due, service = row
        stops.append(
            RoutingStop(
                key=str(int(cust)),
                node=node,
                totes=int(demand),
                service=int(round(service * SCALE)),
                windows=((int(round(ready * SCALE)), int(round(due * SCALE))),),
                label=f"customer {int(cust)}",
            )
        )
    horizon = (int(round(depot[4] * SCALE)), int(round(depot[5] * SCALE)))
    vehicles = tuple(
        RoutingVehicle(key=f"v{k + 1}", capacity=capacity, start=horizon[0], end=horizon[1])
        for k in range(n_vehicles)
    )
    return RoutingProblem(
        stops=tuple(stops),
        vehicles=vehicles,
        duration=mat,
        distance=mat.copy(),
        depot_window=horizon,
        arc_cost="distance",
        time_unit="solomon/10",
        labels={"instance": name},
    )


def read_bks(path: str | Path, convention: str = "distance_dimacs_trunc1") -> dict[str, Bks]:
    """Best-known solutions from a ``bks.csv`` (instance -> :class:`Bks`) for one convention."""
    out: dict[str, Bks] = {}
    with Path(path).open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row.get("convention") != convention:
                continue
            out[row["instance"]] = Bks(
                instance=row["instance"],
                vehicles=int(row["bks_vehicles"]),
                distance=float(row["bks_distance"]),
                convention=row["convention"],
                source=row.get("source", ""),
            )
    return out


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True
