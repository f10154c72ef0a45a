"""Where each process's share of a history starts.

A share costs its own migrations' judging plus the catching up on every migration before it,
which costs CATCH_UP of judging them. Sized so that all shares cost the same, later shares are
shorter. The cost of a migration is taken as its statements (plus one for the file itself):
what the analysis spends time on.
"""
from __future__ import annotations

# Applying a statement's DDL to the catalog, tree included, against judging it: bench/run.py's
# 2,000 files 0.46 s against 1.63 s, its 20,000-statement file 0.49 s against 1.52 s (data
# changes are passed over without a tree). A later share also starts in a forked process (its
# first touch of each page copies it) and pickles what it sends: given a little less, it ends
# with the first (best of six runs alike from 0.3 to 0.4 on the 20,000-statement file).
CATCH_UP = 0.4
# Below this many statements a share is not worth a process (fork, and sending its results).
MIN_SHARE = 400


def share_starts(weights: list[int], processes: int, catch_up: float = CATCH_UP,
                 min_share: int = MIN_SHARE) -> list[int]:
    """The index of the first migration of each share: [0, ...], at most `processes` of them."""
    total = sum(weights)
    processes = max(1, min(processes, total // max(min_share, 1)))
    while processes > 1:
        bounds = _balanced(total, processes, catch_up)
        starts = _indices(weights, bounds)
        sizes = [b - a for a, b in zip(starts, starts[1:] + [len(weights)])]
        if all(sum(weights[a:a + size]) >= min_share for a, size in zip(starts, sizes)) and len(set(starts)) == len(starts):
            return starts
        processes -= 1
    return [0]


def _balanced(total: float, processes: int, catch_up: float) -> list[float]:
    """Cumulative weights where shares 1.. start, so that catch_up * start + own weight is the
    same for every share: b(k+1) = T + (1 - catch_up) * b(k), with T found by bisection."""
    def ends(target: float) -> list[float]:
        bounds, start = [], 0.0
        for _ in range(processes):
            start = target + (1 - catch_up) * start
            bounds.append(start)
        return bounds

    low, high = 0.0, float(total)
    for _ in range(60):
        middle = (low + high) / 2
        if ends(middle)[-1] < total:
            low = middle
        else:
            high = middle
    return ends(high)[:-1]


def _indices(weights: list[int], bounds: list[float]) -> list[int]:
    starts, cumulative, at = [0], 0, 0
    for bound in bounds:
        while at < len(weights) and cumulative + weights[at] / 2 < bound:
            cumulative += weights[at]
            at += 1
        starts.append(at)
    return starts
