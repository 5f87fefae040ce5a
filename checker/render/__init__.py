"""Pictures and teaching views of counterexample traces.

Each module renders a ``view.TraceView`` (a scheduler trace) to text: the
narrative, schedtrace lines, a timeline SVG, the state graph (DOT or SVG), the
control-flow graph of the starving goroutine (SVG), a Mermaid sequence
diagram, a step-by-step explanation and a self-contained HTML page.  A map
trace loads as a ``mapview.MapTraceView`` and has its own renderer for each
format (``MAP_FORMATS``), plus the bucket layout (``layout``).
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


def _layout(view):
    raise NotApplicable("--format layout: draws the buckets of a map trace; this is a scheduler trace, "
                        "use --format timeline or graph")


class NotApplicable(Exception):
    """A format that does not apply to the trace's kind: the message names the format and an alternative."""


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
    "layout": _layout,
}


def _map(module: str, function: str = "render"):
    def run(view, **options):
        from importlib import import_module
        return getattr(import_module(f"checker.render.{module}"), function)(view, **options)
    return run


def _map_cfg(view):
    raise NotApplicable("--format cfg: draws a goroutine's control-flow graph and applies to scheduler traces; "
                        f"{view.path} is a map trace, use --format layout")


# The same formats for a map trace (checker.render.mapview.MapTraceView).
MAP_FORMATS = {
    "text": _map("maptext"),
    "schedtrace": _map("maptext", "hmap_lines"),
    "timeline": _map("maptimeline"),
    "graph": _map("graph", "to_svg"),
    "cfg": _map_cfg,
    "mermaid": _map("maptext", "mermaid"),
    "html": _map("maphtml"),
    "dot": _map("graph", "to_dot"),
    "layout": _map("layout"),
}


def render(view, fmt: str, step: int | None = None) -> str:
    """Render ``view`` in format ``fmt``; ``step`` selects one state of a map trace's layout."""
    if getattr(view, "kind", "sched") == "map-writers":
        from checker.render import writers
        if fmt not in writers.SUPPORTED:
            raise NotApplicable(f"--format {fmt}: a two-writer map trace has no buckets, Ps or goroutine "
                                f"bodies; use --format text or mermaid, or gmpcheck explain")
        return getattr(writers, fmt)(view)
    if getattr(view, "kind", "sched") == "map":
        if step is not None:
            return MAP_FORMATS[fmt](view, step=step)
        return MAP_FORMATS[fmt](view)
    return FORMATS[fmt](view)


def check_views(model, itf: dict, path: str) -> dict[str, str]:
    """Render the files ``gmpcheck check --out`` writes next to a counterexample, keyed by file suffix."""
    if getattr(model, "kind", "sched") == "map-writers":
        return {}  # the narrative is the whole story: no buckets, Ps or ticks to draw
    from checker.render import graph

    # The state graph is laid out here, not by Graphviz, so the files are the
    # same on every machine whether or not ``dot`` is installed.
    if getattr(model, "kind", "sched") == "map":
        from checker.render.mapview import MapTraceView
        view = MapTraceView.from_doc(itf, model, path)
        return {".layout.svg": MAP_FORMATS["layout"](view), ".timeline.svg": MAP_FORMATS["timeline"](view),
                ".graph.svg": graph.layout_svg(view), ".html": MAP_FORMATS["html"](view)}
    view = TraceView.from_doc(itf, model, path)
    return {".timeline.svg": _timeline(view), ".graph.svg": graph.layout_svg(view), ".cfg.svg": _cfg(view),
            ".html": _html(view)}
