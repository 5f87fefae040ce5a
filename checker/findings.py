"""Findings in source terms, for scenarios that carry a [positions] table.

A scenario extracted from Go (checker/extract) records where each goroutine
kind is created, its function and its loop without end.  These helpers turn a
missing yield point or a starvation victim into compiler-style lines
``FILE:LINE:COL: message``.
"""

from __future__ import annotations


def kind_of(g_name: str) -> str:
    """Return the goroutine kind of a model G name (``worker#2`` -> ``worker``)."""
    return g_name.split("#", 1)[0]


def created_at(scenario, kind: str) -> str | None:
    table = scenario.positions.get(kind, {})
    return table.get("created") or table.get("function")


def missing_yield_point_line(scenario, m) -> str | None:
    """Return ``FILE:LINE:COL: loop has no preemption point ...`` or None without positions."""
    table = scenario.positions.get(m.goroutine)
    if not table or "loop" not in table:
        return None
    origin = f"started at {table['created']}" if "created" in table else "the entry goroutine"
    return (f"{table['loop']}: loop has no preemption point under {m.profile} "
            f"(goroutine {m.goroutine}, {origin}; loop [{' -> '.join(m.ops)}])")


def victim_lines(scenario, prop: str, victim: str, static) -> list[str]:
    """Return source lines for a violated property's victim, and for each loop that holds a P.

    The loops named are the missing yield points found statically: under the
    profile they are the loops that nothing can preempt.
    """
    kind = kind_of(victim)
    where = created_at(scenario, kind)
    if where is None:
        return []
    how = "created here" if "created" in scenario.positions.get(kind, {}) else f"func {kind}"
    if prop == "starvation":
        what = "starves: it is ready in every state of a repeating schedule and never runs"
    else:
        what = f"waits longer than {scenario.sizes.bound} ticks while ready"
    lines = [f"{where}: goroutine {victim} ({how}) {what}"]
    for m in static:
        table = scenario.positions.get(m.goroutine, {})
        if "loop" in table:
            started = f" (started at {table['created']})" if "created" in table else ""
            lines.append(f"{table['loop']}: note: goroutine {m.goroutine}{started} runs this loop, which "
                         f"has no preemption point under {m.profile}")
    return lines
