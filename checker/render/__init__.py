"""Pictures and teaching views of counterexample traces.

Each module renders a ``view.TraceView`` to text: the narrative, schedtrace
lines, a timeline SVG, the state graph (DOT or SVG), the control-flow graph of
the starving goroutine (SVG), a Mermaid sequence diagram, a step-by-step
explanation and a self-contained HTML page.
"""

from __future__ import annotations

from checker.render.view import TraceView


def _text(view):
    from checker.render import text
    return text.render(view)


def _schedtrace(view):
    from checker.render import schedtrace
    return schedtrace.render(view)


def _timeline(view):
    from checker.render import timeline
    return timeline.render(view)


def _graph(view):
    from checker.render import graph
    return graph.to_svg(view)


def _dot(view):
    from checker.render import graph
    return graph.to_dot(view)


def _cfg(view):
    from checker.render import cfgview
    return cfgview.render(view)


def _mermaid(view):
    from checker.render import mermaid
    return mermaid.render(view)


def _html(view):
    from checker.render import html
    return html.render(view)


# Format name -> renderer; every renderer returns text (SVG and HTML included).
FORMATS = {
    "text": _text,
    "schedtrace": _schedtrace,
    "timeline": _timeline,
    "graph": _graph,
    "cfg": _cfg,
    "mermaid": _mermaid,
    "html": _html,
    "dot": _dot,
}


def render(view: TraceView, fmt: str) -> str:
    return FORMATS[fmt](view)


def check_views(model, itf: dict, path: str) -> dict[str, str]:
    """Render the files ``gmpcheck check --out`` writes next to a counterexample, keyed by file suffix."""
    view = TraceView.from_doc(itf, model, path)
    return {".timeline.svg": _timeline(view), ".html": _html(view)}
