"""The prerequisite graph: cycles and a stable topological order.

Both functions take skills in file order and break ties by that order, so the same pack always
gives the same learning sequence (projections must be deterministic).
"""
from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence


class CycleError(ValueError):
    """The prerequisites loop back on themselves; `cycles` lists each loop found."""

    def __init__(self, cycles: list[list[str]]) -> None:
        super().__init__("prerequisite cycle: " + "; ".join(" -> ".join(c) for c in cycles))
        self.cycles = cycles


def _kahn(prereqs: Mapping[str, Sequence[str]]) -> tuple[list[str], set[str]]:
    order = {skill: i for i, skill in enumerate(prereqs)}
    waiting = {s: len({p for p in ps if p in order}) for s, ps in prereqs.items()}
    dependents: dict[str, list[str]] = {s: [] for s in prereqs}
    for skill, ps in prereqs.items():
        for p in set(ps):
            if p in order:
                dependents[p].append(skill)
    ready = [(order[s], s) for s, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    result: list[str] = []
    while ready:
        _, skill = heapq.heappop(ready)
        result.append(skill)
        for d in dependents[skill]:
            waiting[d] -= 1
            if waiting[d] == 0:
                heapq.heappush(ready, (order[d], d))
    return result, set(prereqs) - set(result)


def find_cycles(prereqs: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Each cycle once, as a path that ends where it starts: ["a", "b", "a"].

    Prerequisites naming unknown skills are ignored here (they are reported as dangling).
    Skills left over by Kahn's algorithm each wait on another left-over skill, so following
    those waits from any of them must come back round: that is a cycle.
    """
    _, stuck = _kahn(prereqs)
    cycles: list[list[str]] = []
    seen: set[str] = set()
    for start in prereqs:
        if start not in stuck or start in seen:
            continue
        path: list[str] = []
        index: dict[str, int] = {}
        node = start
        while node not in seen and node not in index:
            index[node] = len(path)
            path.append(node)
            node = next(p for p in prereqs[node] if p in stuck)
        if node in index:  # a new cycle, not one reached through an old one
            loop = path[index[node]:]
            cycles.append(loop + [loop[0]])
        seen.update(path)
    return cycles


def topological_order(prereqs: Mapping[str, Sequence[str]]) -> list[str]:
    """Skills with every prerequisite before the skill; ties keep file order. Raises CycleError."""
    result, stuck = _kahn(prereqs)
    if stuck:
        raise CycleError(find_cycles(prereqs))
    return result
