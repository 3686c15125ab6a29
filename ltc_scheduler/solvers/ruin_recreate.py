"""Ruin-and-recreate warm start for the routing engine (SISR), on plain arrays: no OR-Tools.

OR-Tools' guided local search stalls in deep local optima on tightly windowed days (Solomon R1/RC1:
3-7 % above the best-known distance after 10 s, see ``benchmarks/README.md``). A ruin-and-recreate
search escapes them: remove a few strings of neighbouring stops from neighbouring routes, put the
stops back one by one at their cheapest feasible place, accept the result by simulated annealing.
This is *Slack Induction by String Removals* (Christiaens & Vanden Berghe, Transportation Science
54(2), 2020). Its routes seed the OR-Tools model (:func:`ltc_scheduler.solvers.routing.solve_routing`),
which checks every rule of the real problem and polishes them with its own local search.

Scope (the routing engine calls it only when the problem fits, see ``routing._core_problem``): one
trip per vehicle, no breaks, hard windows (several per stop allowed; a soft window counts as hard
here, so a stop that can only be served late is left for OR-Tools to insert), capacities on two
loads, per-vehicle shift and a conservative max duration (back by shift start + max duration),
stops allowed on some vehicles only, a fixed cost per used vehicle and a penalty per unserved stop.

The inner loops are compiled by numba (``cache=True``: compiled once per machine, then loaded from
``__pycache__`` in about a second). The search is seeded and repeatable for a given number of
iterations; a time-limited run stops between chunks of iterations.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numba import njit

#: "No time": later than any shift (int64 arithmetic stays far from overflow).
_INF = np.int64(1) << np.int64(50)

#: average number of stops removed per ruin and the longest string removed (SISR's c-bar, L-max)
AVG_REMOVED = 10
MAX_STRING = 10
#: probability of skipping a position during insertion (SISR's "blinks")
BLINK = 0.01
#: simulated annealing: start temperature in mean nearest-neighbour costs, and how much it drops
#: (tuned on Solomon R2/RC1/RC2 instances, 2 seeds: 0.5x -> 1.3 % mean gap, 1x 0.7 %, 2-3x 0.33-0.41 %,
#: 4x 0.42 %; a 300x drop 0.58 % vs 100x 0.41 %; see benchmarks/README.md)
TEMP_START = 2.5
TEMP_DROP = 100.0
#: split-string: probability of stopping to grow the preserved part (SISR's beta)
SPLIT_BETA = 0.01


@dataclass(frozen=True, slots=True)
class CoreProblem:
    """The problem as the search sees it. Node 0 is the depot, nodes ``1..n`` the stops.

    Windows are start-of-service windows, sorted, ``nwin[i]`` of them in ``win_a/win_b[i]``.
    ``allowed[i, k]``: stop ``i`` may ride on vehicle ``k``. ``vend`` is the latest return.
    """

    cost: np.ndarray  # int64 [n+1, n+1]
    travel: np.ndarray  # int64 [n+1, n+1]
    service: np.ndarray  # int64 [n+1]
    win_a: np.ndarray  # int64 [n+1, W]
    win_b: np.ndarray  # int64 [n+1, W]
    nwin: np.ndarray  # int64 [n+1]
    demand: np.ndarray  # int64 [n+1]
    demand2: np.ndarray  # int64 [n+1]
    penalty: np.ndarray  # int64 [n+1]
    allowed: np.ndarray  # bool [n+1, K]
    cap: np.ndarray  # int64 [K]
    cap2: np.ndarray  # int64 [K]
    vstart: np.ndarray  # int64 [K]
    vend: np.ndarray  # int64 [K]
    fixed: np.ndarray  # int64 [K]

    @property
    def n(self) -> int:
        return int(self.cost.shape[0]) - 1

    @property
    def k(self) -> int:
        return int(self.cap.shape[0])


@dataclass(frozen=True, slots=True)
class CoreSolution:
    routes: list[list[int]]  # per vehicle, stop nodes in visiting order
    unassigned: list[int]
    cost: int  # arc cost + fixed costs + penalties of unassigned stops
    iterations: int


# --------------------------------------------------------------------------- compiled kernels


@njit(cache=True)
def _earliest(win_a, win_b, nwin, c, t):
    """Earliest service start >= ``t`` inside a window of ``c`` (_INF if none)."""
    for w in range(nwin[c]):
        if t <= win_b[c, w]:
            return max(t, win_a[c, w])
    return _INF


@njit(cache=True)
def _latest(win_a, win_b, nwin, c, t):
    """Latest service start <= ``t`` inside a window of ``c`` (-_INF if none)."""
    for w in range(nwin[c] - 1, -1, -1):
        if t >= win_a[c, w]:
            return min(t, win_b[c, w])
    return -_INF


@njit(cache=True)
def _update(k, routes, rlen, start, latest, load, load2, rcost, route_of, pos_of, P):
    """Recompute the cached times, loads and cost of route ``k`` (after a change)."""
    cost, travel, service, win_a, win_b, nwin = P[0], P[1], P[2], P[3], P[4], P[5]
    demand, demand2, vstart, vend, fixed = P[6], P[7], P[8], P[9], P[10]
    n_k = rlen[k]
    t = vstart[k]
    prev = 0
    c_sum = 0
    l1 = 0
    l2 = 0
    for p in range(n_k):
        c = routes[k, p]
        t = _earliest(win_a, win_b, nwin, c, t + travel[prev, c])
        start[k, p] = t
        t += service[c]
        c_sum += cost[prev, c]
        l1 += demand[c]
        l2 += demand2[c]
        route_of[c] = k
        pos_of[c] = p
        prev = c
    if n_k > 0:
        c_sum += cost[prev, 0] + fixed[k]
    rcost[k] = c_sum
    load[k] = l1
    load2[k] = l2
    # latest arrival at each position that keeps the rest of the route feasible
    la = vend[k]
    nxt = 0
    for p in range(n_k - 1, -1, -1):
        c = routes[k, p]
        la = _latest(win_a, win_b, nwin, c, la - travel[c, nxt] - service[c])
        latest[k, p] = la
        nxt = c


@njit(cache=True)
def _remove_marked(k, routes, rlen, gone):
    """Drop the stops marked in ``gone`` from route ``k``."""
    j = 0
    for p in range(rlen[k]):
        c = routes[k, p]
        if not gone[c]:
            routes[k, j] = c
            j += 1
    rlen[k] = j


@njit(cache=True)
def _best_insert(c, routes, rlen, start, latest, load, load2, allowed, cap, cap2, vclass, seen, P, blink):
    """Cheapest feasible (vehicle, position, added cost) for stop ``c``; vehicle -1 if none."""
    cost, travel, service, win_a, win_b, nwin = P[0], P[1], P[2], P[3], P[4], P[5]
    demand, demand2, vstart, vend, fixed = P[6], P[7], P[8], P[9], P[10]
    best = _INF
    bk = -1
    bp = -1
    seen[:] = False
    last_b = win_b[c, nwin[c] - 1]
    for k in range(routes.shape[0]):
        if not allowed[c, k]:
            continue
        if load[k] + demand[c] > cap[k] or load2[k] + demand2[c] > cap2[k]:
            continue
        n_k = rlen[k]
        if n_k == 0:
            if seen[vclass[k]]:
                continue  # one empty vehicle of each kind is enough
            seen[vclass[k]] = True
            delta = cost[0, c] + cost[c, 0] + fixed[k]
            if delta >= best:
                continue
            s = _earliest(win_a, win_b, nwin, c, vstart[k] + travel[0, c])
            if s < _INF and s + service[c] + travel[c, 0] <= vend[k]:
                best = delta
                bk = k
                bp = 0
            continue
        prev = 0
        dep = vstart[k]
        for p in range(n_k + 1):
            nxt = routes[k, p] if p < n_k else 0
            if np.random.random() >= blink:
                delta = cost[prev, c] + cost[c, nxt] - cost[prev, nxt]
                if delta < best:
                    arr = dep + travel[prev, c]
                    if arr <= last_b:
                        s = _earliest(win_a, win_b, nwin, c, arr)
                        la = latest[k, p] if p < n_k else vend[k]
                        if s + service[c] + travel[c, nxt] <= la:
                            best = delta
                            bk = k
                            bp = p
            if p < n_k:
                dep = start[k, p] + service[nxt]
                prev = nxt
                if dep > last_b:
                    break  # every later place arrives after the stop's last window
    return bk, bp, best


@njit(cache=True)
def _insert_at(c, k, p, routes, rlen):
    for q in range(rlen[k], p, -1):
        routes[k, q] = routes[k, q - 1]
    routes[k, p] = c
    rlen[k] += 1


@njit(cache=True)
def _total(rcost, route_of, penalty):
    t = 0
    for k in range(rcost.shape[0]):
        t += rcost[k]
    for c in range(1, route_of.shape[0]):
        if route_of[c] < 0:
            t += penalty[c]
    return t


@njit(cache=True)
def _search(
    routes, rlen, start, latest, load, load2, rcost, route_of, pos_of,
    best_routes, best_rlen, best_cost_arr,
    P, penalty, allowed, cap, cap2, vclass, n_classes, adj,
    iters, t_from, t_to, seed, avg_removed, max_string, blink, beta,
):  # fmt: skip
    """``iters`` SISR iterations from the current solution; the best one is kept in ``best_*``."""
    if seed >= 0:
        np.random.seed(seed)
    cost = P[0]
    demand = P[6]
    K = routes.shape[0]
    n = route_of.shape[0] - 1
    bk_routes = routes.copy()
    bk_rlen = rlen.copy()
    bk_start = start.copy()
    bk_latest = latest.copy()
    bk_load = load.copy()
    bk_load2 = load2.copy()
    bk_rcost = rcost.copy()
    touched = np.zeros(K, dtype=np.bool_)
    touched_list = np.empty(K, dtype=np.int64)
    gone = np.zeros(n + 1, dtype=np.bool_)
    removed = np.empty(n, dtype=np.int64)
    keys = np.empty(n, dtype=np.float64)
    seen = np.zeros(n_classes, dtype=np.bool_)
    cur = _total(rcost, route_of, penalty)
    ratio = t_to / t_from if t_from > 0 else 1.0
    for it in range(iters):
        temp = t_from * ratio ** (it / max(1, iters))
        n_touched = 0
        n_rem = 0
        # ---- ruin: strings of stops near a random seed stop, from different routes
        n_used = 0
        n_in = 0
        for k in range(K):
            if rlen[k] > 0:
                n_used += 1
                n_in += rlen[k]
        if n_used > 0:
            avg_card = n_in / n_used
            ls_max = min(float(max_string), avg_card)
            ks_max = 4.0 * avg_removed / (1.0 + ls_max) - 1.0
            ks = int(np.random.random() * ks_max) + 1
            seed_c = np.random.randint(1, n + 1)
            ruined = 0
            for j in range(n):
                if ruined >= ks:
                    break
                c = adj[seed_c, j]
                k = route_of[c]
                if k < 0 or touched[k]:
                    continue
                touched[k] = True
                touched_list[n_touched] = k
                n_touched += 1
                bk_routes[k, : rlen[k]] = routes[k, : rlen[k]]
                bk_rlen[k] = rlen[k]
                bk_start[k, : rlen[k]] = start[k, : rlen[k]]
                bk_latest[k, : rlen[k]] = latest[k, : rlen[k]]
                bk_load[k] = load[k]
                bk_load2[k] = load2[k]
                bk_rcost[k] = rcost[k]
                ruined += 1
                size = rlen[k]
                lmax = min(float(size), ls_max)
                ln = int(np.random.random() * lmax) + 1
                pos = pos_of[c]
                if ln == size or np.random.random() < 0.5:
                    lo = max(0, pos - ln + 1)
                    hi = min(pos, size - ln)
                    st = lo + int(np.random.random() * (hi - lo + 1))
                    for q in range(st, st + ln):
                        gone[routes[k, q]] = True
                        removed[n_rem] = routes[k, q]
                        n_rem += 1
                else:  # split string: remove ln stops of a string of ln + m, keep m in the middle
                    m = 1
                    while ln + m < size and np.random.random() > beta:
                        m += 1
                    tot = ln + m
                    lo = max(0, pos - tot + 1)
                    hi = min(pos, size - tot)
                    st = lo + int(np.random.random() * (hi - lo + 1))
                    keep0 = st + int(np.random.random() * (ln + 1))
                    for q in range(st, st + tot):
                        if keep0 <= q < keep0 + m:
                            continue
                        gone[routes[k, q]] = True
                        removed[n_rem] = routes[k, q]
                        n_rem += 1
                _remove_marked(k, routes, rlen, gone)
        for c in range(1, n + 1):
            if route_of[c] < 0 and not gone[c]:
                removed[n_rem] = c  # stops left out so far get another chance
                n_rem += 1
        for i in range(n_rem):
            route_of[removed[i]] = -1
            gone[removed[i]] = False
        for i in range(n_touched):
            k = touched_list[i]
            _update(k, routes, rlen, start, latest, load, load2, rcost, route_of, pos_of, P)
        # ---- recreate: order the removed stops, insert each at its cheapest feasible place
        r = np.random.random() * 11.0
        for i in range(n_rem):
            c = removed[i]
            if r < 4.0:
                keys[i] = np.random.random()
            elif r < 8.0:
                keys[i] = -demand[c]
            elif r < 10.0:
                keys[i] = -cost[0, c]
            else:
                keys[i] = cost[0, c]
        order = np.argsort(keys[:n_rem])
        for i in range(n_rem):
            c = removed[order[i]]
            k, p, delta = _best_insert(
                c, routes, rlen, start, latest, load, load2, allowed, cap, cap2, vclass, seen, P, blink
            )
            if k < 0 or delta >= penalty[c]:
                continue  # nowhere to go, or cheaper left out
            if not touched[k]:
                touched[k] = True
                touched_list[n_touched] = k
                n_touched += 1
                bk_routes[k, : rlen[k]] = routes[k, : rlen[k]]
                bk_rlen[k] = rlen[k]
                bk_start[k, : rlen[k]] = start[k, : rlen[k]]
                bk_latest[k, : rlen[k]] = latest[k, : rlen[k]]
                bk_load[k] = load[k]
                bk_load2[k] = load2[k]
                bk_rcost[k] = rcost[k]
            _insert_at(c, k, p, routes, rlen)
            _update(k, routes, rlen, start, latest, load, load2, rcost, route_of, pos_of, P)
        new = _total(rcost, route_of, penalty)
        # ---- accept (simulated annealing), keep the best
        if new < cur - temp * np.log(np.random.random()):
            cur = new
            if new < best_cost_arr[0]:
                best_cost_arr[0] = new
                best_routes[:, :] = routes
                best_rlen[:] = rlen
        else:
            for i in range(n_rem):
                route_of[removed[i]] = -1
            for i in range(n_touched):
                k = touched_list[i]
                rlen[k] = bk_rlen[k]
                routes[k, : rlen[k]] = bk_routes[k, : rlen[k]]
                start[k, : rlen[k]] = bk_start[k, : rlen[k]]
                latest[k, : rlen[k]] = bk_latest[k, : rlen[k]]
                load[k] = bk_load[k]
                load2[k] = bk_load2[k]
                rcost[k] = bk_rcost[k]
                for p in range(rlen[k]):
                    route_of[routes[k, p]] = k
                    pos_of[routes[k, p]] = p
        for i in range(n_touched):
            touched[touched_list[i]] = False
    return cur


# --------------------------------------------------------------------------- driver


def _pack(p: CoreProblem) -> tuple:
    return (
        p.cost, p.travel, p.service, p.win_a, p.win_b, p.nwin,
        p.demand, p.demand2, p.vstart, p.vend, p.fixed,
    )  # fmt: skip


def _classes(p: CoreProblem) -> tuple[np.ndarray, int]:
    keys: dict[tuple, int] = {}
    out = np.empty(p.k, dtype=np.int64)
    for k in range(p.k):
        key = (
            int(p.cap[k]),
            int(p.cap2[k]),
            int(p.vstart[k]),
            int(p.vend[k]),
            int(p.fixed[k]),
            p.allowed[:, k].tobytes(),
        )
        out[k] = keys.setdefault(key, len(keys))
    return out, max(1, len(keys))


def default_temperatures(p: CoreProblem) -> tuple[float, float]:
    """Annealing temperatures from the instance's scale: start at :data:`TEMP_START` times the mean
    cost from a stop to its nearest neighbour, end :data:`TEMP_DROP` times lower."""
    n = p.n
    if n < 2:
        return 1.0, 0.01
    c = p.cost[1:, 1:].astype(np.float64) + np.diag(np.full(n, np.inf))
    t0 = max(1.0, TEMP_START * float(np.mean(np.min(c, axis=1))))
    return t0, t0 / TEMP_DROP


def solve(
    p: CoreProblem,
    time_limit_s: float,
    seed: int = 0,
    max_iterations: int | None = None,
    temperatures: tuple[float, float] | None = None,
) -> CoreSolution:
    """Ruin-and-recreate from an empty solution for ``time_limit_s`` seconds (or a fixed number of
    iterations when ``max_iterations`` is given: then the result depends on ``seed`` only)."""
    t_end = time.perf_counter() + max(0.0, time_limit_s)
    n, K = p.n, p.k
    P = _pack(p)
    vclass, n_classes = _classes(p)
    # neighbours of each stop, nearest first (the stop itself first), the depot left out
    order = np.argsort(p.cost + p.cost.T, axis=1, kind="stable")
    adj = np.ascontiguousarray(order[order != 0].reshape(n + 1, n).astype(np.int64))
    routes = np.zeros((K, n + 1), dtype=np.int64)
    rlen = np.zeros(K, dtype=np.int64)
    start = np.zeros((K, n + 1), dtype=np.int64)
    latest = np.zeros((K, n + 1), dtype=np.int64)
    load = np.zeros(K, dtype=np.int64)
    load2 = np.zeros(K, dtype=np.int64)
    rcost = np.zeros(K, dtype=np.int64)
    route_of = np.full(n + 1, -1, dtype=np.int64)
    pos_of = np.zeros(n + 1, dtype=np.int64)
    best_routes = routes.copy()
    best_rlen = rlen.copy()
    best_cost = np.array([int(np.sum(p.penalty[1:]))], dtype=np.int64)
    t0, t1 = temperatures or default_temperatures(p)
    args = (
        routes, rlen, start, latest, load, load2, rcost, route_of, pos_of,
        best_routes, best_rlen, best_cost,
        P, p.penalty, p.allowed, p.cap, p.cap2, vclass, n_classes, adj,
    )  # fmt: skip
    done = 0
    if n and K:
        if max_iterations is not None:
            _search(*args, max_iterations, t0, t1, seed, AVG_REMOVED, MAX_STRING, BLINK, SPLIT_BETA)
            done = max_iterations
        else:
            # chunks of ~0.05 s; the temperature follows the elapsed share of the time budget
            total = max(1e-3, t_end - time.perf_counter())
            chunk = 50
            first = True
            while True:
                now = time.perf_counter()
                left = t_end - now
                if left <= 0:
                    break
                frac_a = 1.0 - left / total
                c0 = time.perf_counter()
                ta = t0 * (t1 / t0) ** frac_a
                est_frac = min(1.0, frac_a + 0.05 / total)
                tb = t0 * (t1 / t0) ** est_frac
                seed_now = seed if first else -1
                _search(*args, chunk, ta, tb, seed_now, AVG_REMOVED, MAX_STRING, BLINK, SPLIT_BETA)
                first = False
                done += chunk
                spent = time.perf_counter() - c0
                rate = chunk / max(spent, 1e-6)
                chunk = int(max(10, min(rate * min(0.05, max(left - spent, 0.0)), 10**6)))
                if time.perf_counter() >= t_end:
                    break
    out_routes = [[int(c) for c in best_routes[k, : best_rlen[k]]] for k in range(K)]
    served = {c for r in out_routes for c in r}
    return CoreSolution(
        routes=out_routes,
        unassigned=[c for c in range(1, n + 1) if c not in served],
        cost=int(best_cost[0]),
        iterations=done,
    )


def route_cost(p: CoreProblem, routes: list[list[int]]) -> int:
    """Arc cost + fixed costs + penalties of unassigned stops of given routes (for tests)."""
    total = 0
    served: set[int] = set()
    for k, r in enumerate(routes):
        if not r:
            continue
        nodes = [0, *r, 0]
        total += int(sum(int(p.cost[a, b]) for a, b in zip(nodes, nodes[1:], strict=False))) + int(p.fixed[k])
        served.update(r)
    total += int(sum(int(p.penalty[c]) for c in range(1, p.n + 1) if c not in served))
    return total


def warm_up() -> None:
    """Compile the kernels (or load them from numba's cache) on a three-stop problem, so the
    first real search does not spend its time budget compiling (``make install`` calls this)."""
    d = np.array([[0, 1, 2, 3], [1, 0, 1, 2], [2, 1, 0, 1], [3, 2, 1, 0]], dtype=np.int64)
    one = np.ones(4, dtype=np.int64)
    p = CoreProblem(
        cost=d,
        travel=d,
        service=one,
        win_a=np.zeros((4, 1), dtype=np.int64),
        win_b=np.full((4, 1), 100, dtype=np.int64),
        nwin=one,
        demand=one,
        demand2=0 * one,
        penalty=100 * one,
        allowed=np.ones((4, 2), dtype=np.bool_),
        cap=np.array([2, 2], dtype=np.int64),
        cap2=np.zeros(2, dtype=np.int64),
        vstart=np.zeros(2, dtype=np.int64),
        vend=np.full(2, 100, dtype=np.int64),
        fixed=np.zeros(2, dtype=np.int64),
    )
    solve(p, 1.0, max_iterations=5)
