"""The text narrative of a trace, as ``gmpcheck check`` writes it next to the ITF file."""

from __future__ import annotations

from checker.bmc import Result
from checker.render.view import TraceView
from checker.trace import narrative, trace_header


def render(view: TraceView) -> str:
    """Return the narrative with the same header lines ``gmpcheck check`` writes."""
    m = view.meta
    model = view.model
    res = Result(m["property"], m.get("verdict", "violated"), m.get("length", len(view.states) - 1), 0.0,
                 loop=view.loop, victim=view.victim)
    head = trace_header(model, res)
    index = {id(r): k for k, r in enumerate(model.rules)}
    trace = [(None if r is None else index[id(r)], s) for r, s in zip(view.rules, view.states)]
    return narrative(model, trace, view.loop, head)
