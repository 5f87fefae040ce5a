"""The control-flow graph of the goroutine whose loop lacks a preemption point, as SVG.

The goroutine kinds drawn are those checker/cfg.py reports under the trace's
profile (a loop none of whose operations is a preemption point): that loop is
the one that starves the others.  When no kind has such a loop, every kind is
drawn and the heading states that.  Body nodes sit left to right in body order;
the edge to the next node is a straight arrow and every other edge (a loop's
back edge, a jump past a finite loop) is an arc.  The loop's nodes and edges
are drawn in red and carry the class ``no-yield``.
"""

from __future__ import annotations

from checker.cfg import body_graph, missing_yield_points
from checker.render import svg
from checker.render.view import TraceView
from spec.sched.ops import is_preemption_point

BOX_W, BOX_H, GAP, PANEL_H, RED = 130, 54, 40, 190, "#d62728"


def render(view: TraceView) -> str:
    """Return the SVG of the starving goroutine's control-flow graph."""
    scenario, profile = view.model.scenario, view.model.profile
    found = missing_yield_points(scenario, profile)
    by_kind: dict[str, list] = {}
    for m in found:
        by_kind.setdefault(m.goroutine, []).append(m)
    kinds = [gs for gs in scenario.goroutines if gs.name in by_kind] or list(scenario.goroutines)
    if found:
        heading = (f"no preemption point under {profile.label()} in: "
                   + "; ".join(f"goroutine {m.goroutine}, loop [{' -> '.join(m.ops)}]" for m in found))
    else:
        heading = f"no loop without a preemption point under {profile.label()}; every goroutine is drawn"
    width = max(40 + max(len(gs.body) + 1 for gs in kinds) * (BOX_W + GAP), 7 * len(heading) + 20, 400)
    title = f"control flow: {scenario.name}" + "".join(f", patch {p.name}" for p in view.model.patches)
    body = [svg.element("text", svg.text(title), x=10, y=22, font_size=14,
                        font_weight="bold"),
            svg.element("text", svg.text(heading), x=10, y=40, fill=RED if found else "#444"),
            '<defs><marker id="cfg-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
            'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 Z" fill="context-stroke"/>'
            "</marker></defs>"]
    for k, gs in enumerate(kinds):
        loops = by_kind.get(gs.name, [])
        body.append(panel(gs, loops, profile, 60 + k * PANEL_H))
    return svg.document(width, 60 + len(kinds) * PANEL_H, body, title)


def panel(gs, loops: list, profile, top: float) -> str:
    """Draw one goroutine kind: its name, its body nodes and edges."""
    graph = body_graph(gs.body)
    marked = {n for m in loops for n in m.nodes}
    marked_edges = set()
    for m in loops:
        cycle = m.nodes
        marked_edges |= {(cycle[i], cycle[(i + 1) % len(cycle)]) for i in range(len(cycle))}
    y = top + 70
    gid = svg.ident(gs.name)
    parts = [f'<g id="cfg-{gid}" class="goroutine" data-goroutine={svg.attr(gs.name)}>',
             svg.element("text", svg.text(f"goroutine {gs.name}" + (f" (x{gs.count})" if gs.count > 1 else "")),
                         x=10, y=top + 14, font_weight="bold")]

    def box_x(n: int) -> float:
        return 20 + n * (BOX_W + GAP)

    end = len(gs.body)
    edges = list(graph.edges()) + [(i, end) for i, n in enumerate(gs.body) if n.next == -1]
    for u, v in edges:
        parts.append(edge(u, v, box_x, y, (u, v) in marked_edges))
    for n, node in enumerate(gs.body):
        point = is_preemption_point(node.op, profile.async_enabled)
        cls = "cfg-node" + (" no-yield" if n in marked else "")
        attrs = (f"prologue {'yes' if node.op.prologue else 'no'}, "
                 f"async safe {'yes' if node.op.async_safe else 'no'}")
        tip = f"{node.text}: {node.op.doc}; {attrs}; {'a' if point else 'no'} preemption point under {profile.label()}"
        x = box_x(n)
        parts.append(f'<g id="cfg-{gid}-n{n}" class="{cls}" data-op={svg.attr(node.text)}>'
                     + svg.element("title", svg.text(tip))
                     + svg.element("rect", x=x, y=y, width=BOX_W, height=BOX_H, rx=6,
                                   fill="#fde0e0" if n in marked else "#fff",
                                   stroke=RED if n in marked else "#333", stroke_width=2.5 if n in marked else 1)
                     + svg.element("text", svg.text(f"{n}: {node.text}"), x=x + BOX_W / 2, y=y + 20,
                                   text_anchor="middle", font_weight="bold")
                     + svg.element("text", svg.text("preemption point" if point else "no preemption point"),
                                   x=x + BOX_W / 2, y=y + 36, text_anchor="middle", font_size=10,
                                   fill="#2ca02c" if point else RED)
                     + "</g>")
    if any(n.next == -1 for n in gs.body):
        x = box_x(end)
        parts.append(f'<g id="cfg-{gid}-end" class="cfg-end">'
                     + svg.element("rect", x=x, y=y + 12, width=BOX_W * 0.6, height=BOX_H - 24, rx=14, fill="#eee",
                                   stroke="#333")
                     + svg.element("text", "end", x=x + BOX_W * 0.3, y=y + BOX_H / 2 + 4, text_anchor="middle")
                     + "</g>")
    for m in loops:
        label = "loop [" + " -> ".join(m.ops) + "]: sysmon's preemption request cannot land here"
        parts.append(svg.element("text", svg.text(label), class_="no-yield-label", x=10, y=y + BOX_H + 50,
                                 fill=RED, data_nodes=" ".join(map(str, m.nodes))))
    parts.append("</g>")
    return "".join(parts)


def edge(u: int, v: int, box_x, y: float, marked: bool) -> str:
    colour = RED if marked else "#555"
    cls = "cfg-edge" + (" no-yield" if marked else "")
    if v == u + 1:
        path = f"M{box_x(u) + BOX_W},{y + BOX_H / 2} L{box_x(v)},{y + BOX_H / 2}"
    elif v == u:
        x = box_x(u) + BOX_W / 2
        path = f"M{x + 20},{y} C{x + 40},{y - 45} {x - 40},{y - 45} {x - 20},{y}"
    else:
        # Back edges arc above the boxes, forward jumps below.
        x0, x1 = box_x(u) + BOX_W / 2, box_x(v) + BOX_W / 2
        lift = 30 + 6 * abs(v - u)
        if v < u:
            path = f"M{x0},{y} C{x0},{y - lift} {x1},{y - lift} {x1},{y}"
        else:
            yb = y + BOX_H
            path = f"M{x0},{yb} C{x0},{yb + lift} {x1},{yb + lift} {x1},{yb}"
    return svg.element("path", class_=cls, d=path, fill="none", stroke=colour, stroke_width=2.5 if marked else 1.2,
                       marker_end="url(#cfg-arrow)", data_from=u, data_to=v)
