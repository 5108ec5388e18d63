"""The dependency graph of a plan: levels for parallel execution, and cycles.

Iterative throughout (no recursion), so a chain of thousands of resources
costs linear time and no stack.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Set


def levels(dependencies: Mapping[str, Set[str]]) -> tuple[dict[str, int], list[list[str]]]:
    """Each node's level (Kahn's algorithm), and the cycles that prevent one.

    Level 0 has no dependencies; a node's level is one more than its deepest
    dependency. Nodes on or behind a cycle get no level; each cycle is
    returned once, as a path that starts and ends at its smallest node.
    """
    dependents: dict[str, list[str]] = {name: [] for name in dependencies}
    waiting = {name: len(deps) for name, deps in dependencies.items()}
    for name, deps in dependencies.items():
        for dep in deps:
            dependents[dep].append(name)
    level: dict[str, int] = {}
    ready = deque(sorted(name for name, n in waiting.items() if n == 0))
    for name in ready:
        level[name] = 0
    while ready:
        name = ready.popleft()
        for dependent in dependents[name]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:  # every dependency has its level now
                level[dependent] = 1 + max(level[d] for d in dependencies[dependent])
                ready.append(dependent)
    if len(level) == len(dependencies):
        return level, []
    stuck = {name for name in dependencies if waiting[name] > 0}
    return level, _cycles({n: dependencies[n] & stuck for n in stuck})


def _cycles(graph: Mapping[str, Set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component (Tarjan's, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    components.append(component)
    return sorted((_cycle_in(graph, set(c)) for c in components), key=lambda c: c[0])


def _cycle_in(graph: Mapping[str, Set[str]], component: set[str]) -> list[str]:
    """The shortest cycle through the component's smallest node (breadth first)."""
    start = min(component)
    parent: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(graph[node] & component):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                path.reverse()
                return [*path, start]
            if child not in parent:
                parent[child] = node
                queue.append(child)
    raise AssertionError("a strongly connected component always has a cycle")
