"""Ruin-and-recreate warm start for the routing engine (SISR), on plain arrays: no OR-Tools.

OR-Tools' guided local search stalls in deep local optima on tightly windowed days (Solomon R1/RC1:
3-7 % above the best-known distance after 10 s, see ``benchmarks/README.md``). A ruin-and-recreate
search escapes them: remove a few strings of neighbouring stops from neighbouring routes, put the
stops back one by one at their cheapest feasible place, accept the result by simulated annealing.
This is *Slack Induction by String Removals* (Christiaens & Vanden Berghe, Transportation Science
54(2), 2020). Its routes seed the OR-Tools model (:func:`ltc_scheduler.routing.model.solve_routing`),
which checks every rule of the real problem and polishes them with its own local search.

What it models (``routing._core_problem`` builds it from the OR-Tools model): windows (several
per stop, hard; a soft window is hard here, and a stop that could only be served late is put in
late at the end, see ``late_end``), totes and cold totes per trip, stops allowed on some vehicles
only (controlled substances), shifts, releases (a trip leaves when its last stop is packed),
several trips per vehicle through *trip markers* (nodes at the pharmacy pinned on their vehicle's
route: reload time, and the break, as their service), driving + service per trip and time from
departure to return capped, a fixed cost per used vehicle and a penalty per unserved stop.
Insertion is checked in O(1) per place from cached earliest starts and latest arrivals, except
when a stop's release would delay its trip (then the route is recomputed).

On more than :data:`GRANULAR_FROM` stops the search is granular: a removed stop is tried only
next to its :data:`GRANULAR` nearest stops (by :func:`proximity`, which prices the wait and the
lateness between two windows), and everywhere only when none of those places beats opening a
vehicle; the ruin's strings are taken near the seed stop by the same measure. Smaller problems
keep the every-place insertion the constants were tuned with (``benchmarks/README.md``,
Gehring-Homberger).

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
#: granular insertion: a removed stop is only tried next to its GRANULAR nearest stops (then, if
#: none of those places fits, everywhere); problems of at most GRANULAR_FROM stops try every place
GRANULAR = 40
GRANULAR_FROM = 200
#: weights of the wait and of the lateness in :func:`proximity` (per unit of time, in cost units)
PROX_WAIT = 0.2
PROX_LATE = 1.0
#: the ruin removes strings near a seed stop by :func:`proximity` (else by distance), above
#: GRANULAR_FROM stops
RUIN_BY_PROXIMITY = True
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
    release: np.ndarray  # int64 [n+1] the trip carrying the stop leaves no earlier
    maxspan: np.ndarray  # int64 [K] return - departure at most (waiting included)
    maxdrive: np.ndarray  # int64 [K] driving + service time of one trip at most
    markers: np.ndarray  # int64 [K, max trips - 1] each vehicle's trip markers (nodes > n), -1 = none
    late_end: np.ndarray | None = None  # int64 [N] latest start when served late (soft window), or 0

    @property
    def n(self) -> int:
        """Number of stops (nodes ``1..n``; the trip markers come after them)."""
        return int(self.cost.shape[0]) - 1 - int(np.sum(self.markers >= 0))

    @property
    def k(self) -> int:
        return int(self.cap.shape[0])


@dataclass(frozen=True, slots=True)
class CoreSolution:
    trips: list[list[list[int]]]  # per vehicle, its trips (stop nodes), in order
    sequences: list[list[int]]  # per vehicle, its nodes in order, trip markers included
    unassigned: list[int]
    cost: int  # arc cost + fixed costs + penalties of unassigned stops (lateness not priced)
    iterations: int
    late_inserted: int = 0  # stops put in late at the end (soft windows)

    @property
    def routes(self) -> list[list[int]]:
        """Per vehicle, its stop nodes in visiting order (all its trips)."""
        return [[c for t in vt for c in t] for vt in self.trips]


# --------------------------------------------------------------------------- compiled kernels
#
# Route state (all int64):
#   routes[k, :rlen[k]]  nodes of vehicle k in order (stops and its trip markers)
#   posd[k, p]           (service start, time leaving, latest arrival, trip a stop put at p joins,
#                        cost and travel time of the arc into p); posd[k, rlen[k], 3:] = the trip of
#                        the last place (before the return) and the arc back to the pharmacy
#   seg[k, t]            trip t: (totes, cold totes, driving + service, departure, latest release)
#   rmeta[k]             (latest return, stops on the route, cost incl. the fixed cost)


@njit(cache=True, inline="always")
def _earliest(win_a, win_b, nwin, c, t):
    """Earliest service start >= ``t`` inside a window of ``c`` (_INF if none)."""
    for w in range(nwin[c]):
        if t <= win_b[c, w]:
            return max(t, win_a[c, w])
    return _INF


@njit(cache=True, inline="always")
def _latest(win_a, win_b, nwin, c, t):
    """Latest service start <= ``t`` inside a window of ``c`` (-_INF if none)."""
    for w in range(nwin[c] - 1, -1, -1):
        if t >= win_a[c, w]:
            return min(t, win_b[c, w])
    return -_INF


@njit(cache=True)
def _update(k, routes, rlen, posd, seg, rmeta, route_of, pos_of, P, n):
    """Recompute the cached times, loads and cost of route ``k`` (after a change)."""
    cost, travel, service, win_a, win_b, nwin = P[0], P[1], P[2], P[3], P[4], P[5]
    demand, demand2, vstart, vend, fixed = P[6], P[7], P[8], P[9], P[10]
    release, maxspan = P[11], P[12]
    n_k = rlen[k]
    seg[k, :, :] = 0
    t_i = 0
    for p in range(n_k):
        c = routes[k, p]
        if c > n:
            t_i += 1
        else:
            seg[k, t_i, 4] = max(seg[k, t_i, 4], release[c])
    t_i = 0
    t = max(vstart[k], seg[k, 0, 4])
    seg[k, 0, 3] = t
    prev = 0
    c_sum = 0
    stops = 0
    posd[k, 0, 3] = 0
    for p in range(n_k):
        c = routes[k, p]
        st = _earliest(win_a, win_b, nwin, c, t + travel[prev, c])
        posd[k, p, 0] = st
        posd[k, p, 4] = cost[prev, c]
        posd[k, p, 5] = travel[prev, c]
        c_sum += cost[prev, c]
        seg[k, t_i, 2] += travel[prev, c]
        if c > n:  # back at the pharmacy: reload (and the break), the next trip leaves
            t = max(st + service[c], seg[k, t_i + 1, 4])
            t_i += 1
            seg[k, t_i, 3] = t
        else:
            t = st + service[c]
            seg[k, t_i, 0] += demand[c]
            seg[k, t_i, 1] += demand2[c]
            seg[k, t_i, 2] += service[c]
            stops += 1
        posd[k, p, 1] = t
        posd[k, p + 1, 3] = t_i
        route_of[c] = k
        pos_of[c] = p
        prev = c
    c_sum += cost[prev, 0]
    posd[k, n_k, 4] = cost[prev, 0]
    posd[k, n_k, 5] = travel[prev, 0]
    seg[k, t_i, 2] += travel[prev, 0]
    if stops > 0:
        c_sum += fixed[k]
    rend = min(vend[k], seg[k, 0, 3] + maxspan[k])
    rmeta[k, 0] = rend
    rmeta[k, 1] = stops
    rmeta[k, 2] = c_sum
    # latest arrival at each place that keeps the rest of the route feasible (a release only
    # delays a departure, so it never lowers these)
    la = rend
    nxt = 0
    for p in range(n_k - 1, -1, -1):
        c = routes[k, p]
        la = _latest(win_a, win_b, nwin, c, la - travel[c, nxt] - service[c])
        posd[k, p, 2] = la
        nxt = c


@njit(cache=True)
def _fits_shifted(c, k, p, routes, rlen, seg, P, n):
    """Route ``k`` with ``c`` at place ``p`` when ``c``'s release delays its trip: full recompute."""
    travel, service, win_a, win_b, nwin = P[1], P[2], P[3], P[4], P[5]
    vstart, vend, release, maxspan = P[8], P[9], P[11], P[12]
    n_k = rlen[k]
    rel = seg[k, :, 4].copy()
    t_i = 0
    for q in range(n_k + 1):
        if q == p:
            rel[t_i] = max(rel[t_i], release[c])
        if q < n_k and routes[k, q] > n:
            t_i += 1
    t_i = 0
    t = max(vstart[k], rel[0])
    dep0 = t
    prev = 0
    for q in range(n_k + 1):
        if q == p:
            node = c
        elif q < p:
            node = routes[k, q]
        else:
            node = routes[k, q - 1]
        st = _earliest(win_a, win_b, nwin, node, t + travel[prev, node])
        if st >= _INF:
            return False
        if node > n:
            t_i += 1
            t = max(st + service[node], rel[t_i])
        else:
            t = st + service[node]
        prev = node
    return t + travel[prev, 0] <= min(vend[k], dep0 + maxspan[k])


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
def _best_insert_all(c, routes, rlen, posd, seg, rmeta, allowed, cap, cap2, vclass, seen, P, blink, n):
    """Cheapest feasible (vehicle, place, added cost) for stop ``c`` over every place of every
    route; vehicle -1 if none (the search on problems of at most :data:`GRANULAR_FROM` stops)."""
    cost, travel, service, win_a, win_b, nwin = P[0], P[1], P[2], P[3], P[4], P[5]
    demand, demand2, vstart, vend, fixed = P[6], P[7], P[8], P[9], P[10]
    release, maxspan, maxdrive = P[11], P[12], P[13]
    best = _INF
    bk = -1
    bp = -1
    seen[:] = False
    last_b = win_b[c, nwin[c] - 1]
    for k in range(routes.shape[0]):
        if not allowed[c, k] or demand[c] > cap[k] or demand2[c] > cap2[k]:
            continue
        n_k = rlen[k]
        if n_k == 0:
            if seen[vclass[k]]:
                continue  # one empty vehicle of each kind is enough
            seen[vclass[k]] = True
            delta = cost[0, c] + cost[c, 0] + fixed[k]
            if delta >= best or travel[0, c] + service[c] + travel[c, 0] > maxdrive[k]:
                continue
            dep = max(vstart[k], release[c])
            s = _earliest(win_a, win_b, nwin, c, dep + travel[0, c])
            if s < _INF and s + service[c] + travel[c, 0] <= min(vend[k], dep + maxspan[k]):
                best = delta
                bk = k
                bp = 0
            continue
        fix = fixed[k] if rmeta[k, 1] == 0 else 0
        prev = 0
        dep = seg[k, 0, 3]
        for p in range(n_k + 1):
            nxt = routes[k, p] if p < n_k else 0
            if np.random.random() >= blink:
                delta = cost[prev, c] + cost[c, nxt] - cost[prev, nxt] + fix
                t_i = posd[k, p, 3]
                if (
                    delta < best
                    and seg[k, t_i, 0] + demand[c] <= cap[k]
                    and seg[k, t_i, 1] + demand2[c] <= cap2[k]
                    and seg[k, t_i, 2] + travel[prev, c] + service[c] + travel[c, nxt] - travel[prev, nxt]
                    <= maxdrive[k]
                ):
                    if release[c] > seg[k, t_i, 3]:  # the trip would leave later: check it whole
                        if _fits_shifted(c, k, p, routes, rlen, seg, P, n):
                            best = delta
                            bk = k
                            bp = p
                    else:
                        arr = dep + travel[prev, c]
                        if arr <= last_b:
                            s = _earliest(win_a, win_b, nwin, c, arr)
                            la = posd[k, p, 2] if p < n_k else rmeta[k, 0]
                            if s + service[c] + travel[c, nxt] <= la:
                                best = delta
                                bk = k
                                bp = p
            if p < n_k:
                dep = posd[k, p, 1]
                prev = nxt
                if dep > last_b:
                    break  # every later place arrives after the stop's last window
    return bk, bp, best


@njit(cache=True, inline="always")
def _route_places(k, last_b, routes, rlen, posd, cand_k, cand_p, nc):
    """Append every place of route ``k`` up to the first one reached after ``last_b``."""
    n_k = rlen[k]
    for p in range(n_k + 1):
        cand_k[nc] = k
        cand_p[nc] = p
        nc += 1
        if p < n_k and posd[k, p, 1] > last_b:
            break  # every later place arrives after the stop's last window
    return nc


@njit(cache=True, inline="always")
def _cheapest_of(c, nc, best, bk, bp, cand_k, cand_p, routes, rlen, posd, seg, rmeta, cap, cap2, P, blink, n):
    """The cheapest feasible of the ``nc`` candidate places (route ``cand_k[i]``, place
    ``cand_p[i]``) if below ``best``. O(1) per place from the cached times, except when the stop's
    release would delay its trip (then that trip is recomputed)."""
    cost, travel, service, win_a, win_b, nwin = P[0], P[1], P[2], P[3], P[4], P[5]
    demand, demand2, fixed = P[6], P[7], P[10]
    release, maxdrive, cost_t, travel_t = P[11], P[13], P[14], P[15]
    last_b = win_b[c, nwin[c] - 1]
    for i in range(nc):
        if blink > 0.0 and np.random.random() < blink:
            continue  # SISR's blink: skip this place
        k = cand_k[i]
        p = cand_p[i]
        n_k = rlen[k]
        prev = routes[k, p - 1] if p > 0 else 0
        nxt = routes[k, p] if p < n_k else 0
        # the transposed matrices and the cached arc keep the lookups in row c (cache friendly)
        delta = cost_t[c, prev] + cost[c, nxt] - posd[k, p, 4]
        if rmeta[k, 1] == 0:
            delta += fixed[k]
        if delta >= best:
            continue
        t_i = posd[k, p, 3]
        if (
            seg[k, t_i, 0] + demand[c] > cap[k]
            or seg[k, t_i, 1] + demand2[c] > cap2[k]
            or seg[k, t_i, 2] + travel_t[c, prev] + service[c] + travel[c, nxt] - posd[k, p, 5] > maxdrive[k]
        ):
            continue
        if release[c] > seg[k, t_i, 3]:  # the trip would leave later: check it whole
            if not _fits_shifted(c, k, p, routes, rlen, seg, P, n):
                continue
        else:
            dep = posd[k, p - 1, 1] if p > 0 else seg[k, 0, 3]
            arr = dep + travel_t[c, prev]
            if arr > last_b:
                continue
            st = _earliest(win_a, win_b, nwin, c, arr)
            la = posd[k, p, 2] if p < n_k else rmeta[k, 0]
            if st + service[c] + travel[c, nxt] > la:
                continue
        best = delta
        bk = k
        bp = p
    return bk, bp, best


@njit(cache=True, inline="always")
def _best_insert(
    c, routes, rlen, posd, seg, rmeta, route_of, pos_of, allowed, cap, cap2, vclass, seen, near, n_near,
    cand_k, cand_p, P, blink, n,
):  # fmt: skip
    """Cheapest feasible (vehicle, place, added cost) for stop ``c``; vehicle -1 if none.

    Granular: on routes with stops, only the places next to one of ``c``'s ``n_near`` nearest
    stops are tried (before or after it); routes without stops are tried whole (one per kind of
    vehicle). When no place next to a neighbour beats opening a vehicle, all places of all routes
    are tried (cheaper than opening vehicles the search must close again: measured on 1,000 stops).
    """
    if n_near == 0:
        return _best_insert_all(
            c, routes, rlen, posd, seg, rmeta, allowed, cap, cap2, vclass, seen, P, blink, n
        )
    demand, demand2, win_b, nwin = P[6], P[7], P[4], P[5]
    last_b = win_b[c, nwin[c] - 1]
    seen[:] = False
    K = routes.shape[0]
    nc = 0
    for k in range(K):
        if rmeta[k, 1] > 0 or not allowed[c, k] or demand[c] > cap[k] or demand2[c] > cap2[k]:
            continue
        if seen[vclass[k]]:
            continue  # one empty vehicle of each kind is enough
        seen[vclass[k]] = True
        nc = _route_places(k, last_b, routes, rlen, posd, cand_k, cand_p, nc)
    bk, bp, best = _cheapest_of(
        c, nc, _INF, -1, -1, cand_k, cand_p, routes, rlen, posd, seg, rmeta, cap, cap2, P, blink, n
    )
    if n_near > 0:
        nc = 0
        for j in range(n_near):
            m = near[c, j]
            k = route_of[m]
            if k < 0 or not allowed[c, k]:
                continue
            q = pos_of[m]
            cand_k[nc] = k  # before m
            cand_p[nc] = q
            cand_k[nc + 1] = k  # after m
            cand_p[nc + 1] = q + 1
            nc += 2
        b0 = best
        bk, bp, best = _cheapest_of(
            c, nc, best, bk, bp, cand_k, cand_p, routes, rlen, posd, seg, rmeta, cap, cap2, P, blink, n
        )
        if best < b0:
            return bk, bp, best  # a place next to a neighbour beats opening a vehicle
    nc = 0
    for k in range(K):
        if rmeta[k, 1] > 0 and allowed[c, k] and demand[c] <= cap[k] and demand2[c] <= cap2[k]:
            nc = _route_places(k, last_b, routes, rlen, posd, cand_k, cand_p, nc)
    return _cheapest_of(
        c, nc, best, bk, bp, cand_k, cand_p, routes, rlen, posd, seg, rmeta, cap, cap2, P, blink, n
    )


@njit(cache=True)
def _insert_at(c, k, p, routes, rlen):
    for q in range(rlen[k], p, -1):
        routes[k, q] = routes[k, q - 1]
    routes[k, p] = c
    rlen[k] += 1


@njit(cache=True)
def _total(rmeta, route_of, penalty, n):
    t = 0
    for k in range(rmeta.shape[0]):
        t += rmeta[k, 2]
    for c in range(1, n + 1):
        if route_of[c] < 0:
            t += penalty[c]
    return t


@njit(cache=True)
def _save(k, routes, rlen, posd, seg, rmeta, bk_routes, bk_rlen, bk_posd, bk_seg, bk_rmeta):
    m = rlen[k]
    bk_routes[k, :m] = routes[k, :m]
    bk_rlen[k] = m
    bk_posd[k, : m + 1] = posd[k, : m + 1]
    bk_seg[k] = seg[k]
    bk_rmeta[k] = rmeta[k]


@njit(cache=True)
def _search(
    routes, rlen, posd, seg, rmeta, route_of, pos_of,
    best_routes, best_rlen, best_cost_arr,
    P, penalty, allowed, cap, cap2, vclass, n_classes, adj, near, n_near, n, backup,
    iters, t_from, t_to, seed, avg_removed, max_string, blink, beta,
):  # fmt: skip
    """``iters`` SISR iterations from the current solution; the best one is kept in ``best_*``.
    ``backup``: arrays shaped like the route state where touched routes are saved (scratch)."""
    if seed >= 0:
        np.random.seed(seed)
    cost = P[0]
    demand = P[6]
    K = routes.shape[0]
    bk_routes, bk_rlen, bk_posd, bk_seg, bk_rmeta = backup
    touched = np.zeros(K, dtype=np.bool_)
    touched_list = np.empty(K, dtype=np.int64)
    gone = np.zeros(route_of.shape[0], dtype=np.bool_)
    removed = np.empty(n, dtype=np.int64)
    keys = np.empty(n, dtype=np.float64)
    seen = np.zeros(n_classes, dtype=np.bool_)
    cand_k = np.empty(2 * route_of.shape[0] + 2 * K, dtype=np.int64)
    cand_p = np.empty(2 * route_of.shape[0] + 2 * K, dtype=np.int64)
    cur = _total(rmeta, route_of, penalty, n)
    ratio = t_to / t_from if t_from > 0 else 1.0
    for it in range(iters):
        temp = t_from * ratio ** (it / max(1, iters))
        n_touched = 0
        n_rem = 0
        # ---- ruin: strings of stops near a random seed stop, from different routes
        n_used = 0
        n_in = 0
        for k in range(K):
            if rmeta[k, 1] > 0:
                n_used += 1
                n_in += rmeta[k, 1]
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
                _save(k, routes, rlen, posd, seg, rmeta, bk_routes, bk_rlen, bk_posd, bk_seg, bk_rmeta)
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
                        if routes[k, q] <= n:  # trip markers stay
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
                        if keep0 <= q < keep0 + m or routes[k, q] > n:
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
            _update(touched_list[i], routes, rlen, posd, seg, rmeta, route_of, pos_of, P, n)
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
                c, routes, rlen, posd, seg, rmeta, route_of, pos_of, allowed, cap, cap2, vclass, seen,
                near, n_near, cand_k, cand_p, P, blink, n,
            )  # fmt: skip
            if k < 0 or delta >= penalty[c]:
                continue  # nowhere to go, or cheaper left out
            if not touched[k]:
                touched[k] = True
                touched_list[n_touched] = k
                n_touched += 1
                _save(k, routes, rlen, posd, seg, rmeta, bk_routes, bk_rlen, bk_posd, bk_seg, bk_rmeta)
            _insert_at(c, k, p, routes, rlen)
            _update(k, routes, rlen, posd, seg, rmeta, route_of, pos_of, P, n)
        new = _total(rmeta, route_of, penalty, n)
        # ---- accept (simulated annealing), keep the best
        if new < cur - temp * np.log(np.random.random()):
            cur = new
            if new < best_cost_arr[0]:
                best_cost_arr[0] = new
                for k in range(K):
                    best_routes[k, : rlen[k]] = routes[k, : rlen[k]]
                best_rlen[:] = rlen
        else:
            for i in range(n_rem):
                route_of[removed[i]] = -1
            for i in range(n_touched):
                k = touched_list[i]
                m = bk_rlen[k]
                rlen[k] = m
                routes[k, :m] = bk_routes[k, :m]
                posd[k, : m + 1] = bk_posd[k, : m + 1]
                seg[k] = bk_seg[k]
                rmeta[k] = bk_rmeta[k]
                for p in range(m):
                    route_of[routes[k, p]] = k
                    pos_of[routes[k, p]] = p
        for i in range(n_touched):
            touched[touched_list[i]] = False
    return cur


@njit(cache=True)
def _insert_all(
    todo, routes, rlen, posd, seg, rmeta, route_of, pos_of, P,
    penalty, allowed, cap, cap2, vclass, n_classes, near, n,
):  # fmt: skip
    """Put each stop of ``todo`` at its cheapest feasible place, if cheaper than leaving it out."""
    seen = np.zeros(n_classes, dtype=np.bool_)
    cand_k = np.empty(2 * route_of.shape[0] + 2 * routes.shape[0], dtype=np.int64)
    cand_p = np.empty(2 * route_of.shape[0] + 2 * routes.shape[0], dtype=np.int64)
    for c in todo:
        k, p, delta = _best_insert(
            c, routes, rlen, posd, seg, rmeta, route_of, pos_of, allowed, cap, cap2, vclass, seen,
            near, 0, cand_k, cand_p, P, 0.0, n,
        )  # fmt: skip
        if k >= 0 and delta < penalty[c]:
            _insert_at(c, k, p, routes, rlen)
            _update(k, routes, rlen, posd, seg, rmeta, route_of, pos_of, P, n)


# --------------------------------------------------------------------------- driver


def _pack(p: CoreProblem) -> tuple:
    return (
        p.cost, p.travel, p.service, p.win_a, p.win_b, p.nwin,
        p.demand, p.demand2, p.vstart, p.vend, p.fixed, p.release, p.maxspan, p.maxdrive,
        np.ascontiguousarray(p.cost.T), np.ascontiguousarray(p.travel.T),
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
            int(p.maxspan[k]),
            int(p.maxdrive[k]),
            p.markers[k].tobytes(),
            p.allowed[:, k].tobytes(),
        )
        out[k] = keys.setdefault(key, len(keys))
    return out, max(1, len(keys))


def proximity(p: CoreProblem) -> np.ndarray:
    """How well two stops go one after the other, the smaller the better (float [N, N], symmetric):
    for the better of the two orders ``i -> j``, the cost plus :data:`PROX_WAIT` x the wait at ``j``
    when ``i`` is served as late as possible, plus :data:`PROX_LATE` x how late ``j`` would be
    when ``i`` is served as early as possible (windows: first opening, last closing)."""
    N = int(p.cost.shape[0])
    a = p.win_a[:, 0].astype(np.float64)
    b = p.win_b[np.arange(N), np.maximum(p.nwin, 1) - 1].astype(np.float64)
    s = p.service.astype(np.float64)
    t = p.travel.astype(np.float64)
    c = p.cost.astype(np.float64)
    wait = np.maximum(0.0, a[None, :] - (b + s)[:, None] - t)
    late = np.maximum(0.0, (a + s)[:, None] + t - b[None, :])
    one = c + PROX_WAIT * wait + PROX_LATE * late
    return np.minimum(one, one.T)


def _granular(p: CoreProblem, n_near: int | None) -> tuple[np.ndarray, int]:
    """Each stop's ``n_near`` nearest other stops by :func:`proximity`, nearest first, and how many
    there are (0: every place is tried). ``None``: :data:`GRANULAR` above :data:`GRANULAR_FROM` stops."""
    n = p.n
    g = (GRANULAR if n > GRANULAR_FROM else 0) if n_near is None else n_near
    g = min(g, n - 1)
    if g <= 0:
        return np.zeros((p.cost.shape[0], 1), dtype=np.int64), 0
    d = proximity(p)[:, 1 : n + 1]
    d[np.arange(1, n + 1), np.arange(n)] = np.inf  # not itself
    near = np.zeros((p.cost.shape[0], g), dtype=np.int64)
    part = np.argpartition(d[1 : n + 1], g - 1, axis=1)[:, :g]
    rows = np.take_along_axis(d[1 : n + 1], part, axis=1)
    near[1 : n + 1] = np.take_along_axis(part, np.argsort(rows, axis=1, kind="stable"), axis=1) + 1
    return near, g


def default_temperatures(p: CoreProblem) -> tuple[float, float]:
    """Annealing temperatures from the instance's scale: start at :data:`TEMP_START` times the mean
    cost from a stop to its nearest neighbour, end :data:`TEMP_DROP` times lower."""
    n = p.n
    if n < 2:
        return 1.0, 0.01
    c = p.cost[1 : n + 1, 1 : n + 1].astype(np.float64) + np.diag(np.full(n, np.inf))
    t0 = max(1.0, TEMP_START * float(np.mean(np.min(c, axis=1))))
    return t0, t0 / TEMP_DROP


def solve(
    p: CoreProblem,
    time_limit_s: float,
    seed: int = 0,
    max_iterations: int | None = None,
    temperatures: tuple[float, float] | None = None,
    n_near: int | None = None,
) -> CoreSolution:
    """Ruin-and-recreate from an empty solution for ``time_limit_s`` seconds (or a fixed number of
    iterations when ``max_iterations`` is given: then the result depends on ``seed`` only).

    ``n_near``: granular insertion, a removed stop is tried next to its ``n_near`` nearest stops
    only (0 = everywhere; default :data:`GRANULAR` on problems of more than :data:`GRANULAR_FROM`
    stops)."""
    t_end = time.perf_counter() + max(0.0, time_limit_s)
    n, K = p.n, p.k
    N = int(p.cost.shape[0])
    S = int(p.markers.shape[1]) + 1
    P = _pack(p)
    vclass, n_classes = _classes(p)
    # the stops near each node, nearest first (a stop itself first)
    if RUIN_BY_PROXIMITY and n > GRANULAR_FROM:
        sym = proximity(p)[:, 1 : n + 1]
        sym[np.arange(1, n + 1), np.arange(n)] = -1.0  # a stop itself first
    else:
        sym = (p.cost + p.cost.T)[:, 1 : n + 1]
    adj = np.ascontiguousarray(np.argsort(sym, axis=1, kind="stable").astype(np.int64) + 1)
    near, n_near = _granular(p, n_near)
    routes = np.zeros((K, N), dtype=np.int64)
    rlen = np.zeros(K, dtype=np.int64)
    posd = np.zeros((K, N + 1, 6), dtype=np.int64)
    seg = np.zeros((K, S, 5), dtype=np.int64)
    rmeta = np.zeros((K, 3), dtype=np.int64)
    route_of = np.full(N, -1, dtype=np.int64)
    pos_of = np.zeros(N, dtype=np.int64)
    for k in range(K):
        marks = [int(m) for m in p.markers[k] if m > n]
        routes[k, : len(marks)] = marks
        rlen[k] = len(marks)
        _update(k, routes, rlen, posd, seg, rmeta, route_of, pos_of, P, n)
    best_routes = routes.copy()
    best_rlen = rlen.copy()
    best_cost = np.array([int(np.sum(p.penalty[1 : n + 1]))], dtype=np.int64)
    t0, t1 = temperatures or default_temperatures(p)
    args = (
        routes, rlen, posd, seg, rmeta, route_of, pos_of,
        best_routes, best_rlen, best_cost,
        P, p.penalty, p.allowed, p.cap, p.cap2, vclass, n_classes, adj, near, n_near, n,
        tuple(np.empty_like(a) for a in (routes, rlen, posd, seg, rmeta)),
    )  # fmt: skip
    done = 0
    if n and K:
        if max_iterations is not None:
            _search(*args, max_iterations, t0, t1, seed, AVG_REMOVED, MAX_STRING, BLINK, SPLIT_BETA)
            done = max_iterations
        else:
            # chunks of ~0.05 s; the temperature follows the elapsed share of the time budget
            total = max(1e-3, t_end - time.perf_counter())
            chunk = 20
            first = True
            while True:
                left = t_end - time.perf_counter()
                if left <= 0:
                    break
                frac_a = 1.0 - left / total
                c0 = time.perf_counter()
                ta = t0 * (t1 / t0) ** frac_a
                tb = t0 * (t1 / t0) ** min(1.0, frac_a + 0.05 / total)
                seed_now = seed if first else -1
                _search(*args, chunk, ta, tb, seed_now, AVG_REMOVED, MAX_STRING, BLINK, SPLIT_BETA)
                first = False
                done += chunk
                spent = time.perf_counter() - c0
                rate = chunk / max(spent, 1e-6)
                chunk = int(max(5, min(rate * min(0.05, max(left - spent, 0.0)), 10**6)))
    late_ins = 0
    if p.late_end is not None and n and K:
        # stops left out although a soft window would take them late: widen just their windows
        # and put them in (the others keep their windows, so only these can be late)
        served = {int(c) for k in range(K) for c in best_routes[k, : best_rlen[k]]}
        soft = [c for c in range(1, n + 1) if c not in served and p.late_end[c] > p.win_b[c, p.nwin[c] - 1]]
        if soft:
            win_b = p.win_b.copy()
            for c in soft:
                win_b[c, p.nwin[c] - 1] = p.late_end[c]
            P2 = P[:4] + (win_b,) + P[5:]
            routes[:, :] = best_routes
            rlen[:] = best_rlen
            route_of[:] = -1
            for k in range(K):
                _update(k, routes, rlen, posd, seg, rmeta, route_of, pos_of, P2, n)
            todo = np.array(sorted(soft, key=lambda c: -int(p.penalty[c])), dtype=np.int64)
            _insert_all(
                todo, routes, rlen, posd, seg, rmeta, route_of, pos_of, P2,
                p.penalty, p.allowed, p.cap, p.cap2, vclass, n_classes, near, n,
            )  # fmt: skip
            late_ins = int(np.sum(route_of[todo] >= 0))
            best_routes[:, :] = routes
            best_rlen[:] = rlen
            best_cost[0] = _total(rmeta, route_of, p.penalty, n)
    trips: list[list[list[int]]] = []
    for k in range(K):
        vt: list[list[int]] = [[]]
        for c in best_routes[k, : best_rlen[k]]:
            if c > n:
                vt.append([])
            else:
                vt[-1].append(int(c))
        trips.append([t for t in vt if t])
    served = {c for vt in trips for t in vt for c in t}
    return CoreSolution(
        trips=trips,
        sequences=[[int(c) for c in best_routes[k, : best_rlen[k]]] for k in range(K)],
        unassigned=[c for c in range(1, n + 1) if c not in served],
        cost=int(best_cost[0]),
        iterations=done,
        late_inserted=late_ins,
    )


def route_cost(p: CoreProblem, trips: list[list[list[int]]]) -> int:
    """Arc cost + fixed costs + penalties of unassigned stops, from each vehicle's trips."""
    total = 0
    served: set[int] = set()
    for k, vt in enumerate(trips):
        if not any(vt):
            continue
        total += int(p.fixed[k])
        for r in vt:
            nodes = [0, *r, 0]
            total += int(sum(int(p.cost[a, b]) for a, b in zip(nodes, nodes[1:], strict=False)))
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
        release=np.array([0, 0, 5, 0], dtype=np.int64),
        maxspan=np.full(2, 100, dtype=np.int64),
        maxdrive=np.full(2, 100, dtype=np.int64),
        markers=np.array([[3], [-1]], dtype=np.int64),  # node 3: vehicle 0 may make a second trip
    )
    solve(p, 1.0, max_iterations=5)
