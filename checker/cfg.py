"""Goroutine control-flow graphs and the missing-yield-point query.

Each goroutine kind's body becomes a networkx DiGraph whose nodes are body
nodes (with the operation as attributes) and whose edges follow control flow.
A cycle none of whose operations is a preemption point under the profile (see
spec/sched/ops.py) is a missing yield point: once sysmon asks the goroutine to
preempt, nothing in that loop can act on the request.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from spec.sched.ops import is_preemption_point


def body_graph(body) -> nx.DiGraph:
    """Return the control-flow graph of a body (a list of spec.scenario.Node).

    >>> from spec.scenario import parse
    >>> sc = parse('[[goroutine]]\\nname = "a"\\nbody = [{ loop = ["compute"] }]\\n')
    >>> sorted(body_graph(sc.goroutines[0].body).edges())
    [(0, 0)]
    """
    g = nx.DiGraph()
    for i, n in enumerate(body):
        g.add_node(i, op=n.op.name, text=n.text, prologue=n.op.prologue, async_safe=n.op.async_safe)
    for i, n in enumerate(body):
        if n.next >= 0:
            g.add_edge(i, n.next)
    return g


@dataclass
class MissingYieldPoint:
    goroutine: str
    nodes: list[int]
    ops: list[str]
    profile: str

    def message(self) -> str:
        return (f"goroutine {self.goroutine}: loop [{' -> '.join(self.ops)}] has no preemption point "
                f"under {self.profile}")


def missing_yield_points(scenario, profile) -> list[MissingYieldPoint]:
    """Loops, per goroutine kind, that contain no preemption point under ``profile``."""
    found = []
    for gs in scenario.goroutines:
        g = body_graph(gs.body)
        for cycle in nx.simple_cycles(g):
            ops = [gs.body[i] for i in cycle]
            if not any(is_preemption_point(n.op, profile.async_enabled) for n in ops):
                start = min(range(len(cycle)), key=lambda k: cycle[k])
                cycle = cycle[start:] + cycle[:start]
                found.append(MissingYieldPoint(gs.name, cycle, [gs.body[i].text for i in cycle], profile.label()))
    return found
