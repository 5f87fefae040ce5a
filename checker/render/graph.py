"""The trace as a state graph: networkx DiGraph, DOT text and SVG.

Nodes are the trace's states, each summarised by where every G is.  Edges are
the steps, labelled with the rule and its parameters.  A lasso's last state
equals its loop state (wait counters aside, and the summary leaves them out).
So the last step becomes an edge back to the loop state, and the graph has the
cycle the schedule repeats, with its edges highlighted.  For an
invariant violation the last state is highlighted.

SVG comes from Graphviz ``dot`` when it is on PATH.  Otherwise the nodes are
placed with a networkx layout (one layer per topological generation of the
graph without its back edge) and the SVG is written here, so only the Python
dependencies are needed.
"""

from __future__ import annotations

import logging
import shutil
import subprocess

import networkx as nx

from checker.render import svg
from checker.render.view import TraceView
from checker.trace import describe_rule

HIGHLIGHT = "#d62728"
log = logging.getLogger(__name__)


def build_map(view) -> nx.DiGraph:
    """Return the DiGraph of a map trace: nodes summarised by the map's layout, edges by rule; no lasso."""
    g = nx.DiGraph(title=view.title(), property=view.prop)
    for i in range(len(view.states)):
        lines = view.node_lines(i)
        marked = view.marked_keys(i)
        if marked:
            lines.append(f"keys the iteration got wrong: {', '.join(sorted(marked))}")
        g.add_node(i, label=view.node_label(i), places=lines, loop_start=False,
                   violating=i == view.violating_state())
    for i in range(1, len(view.states)):
        g.add_edge(i - 1, i, step=i, rule=view.rules[i].name, params=dict(view.rules[i].params),
                   label=view.edge_label(i), loop=False, closes_loop=False)
    return g


def build(view: TraceView) -> nx.DiGraph:
    """Return the DiGraph of the trace; node keys are state indices."""
    if getattr(view, "kind", "sched") == "map":
        return build_map(view)
    g = nx.DiGraph(title=view.title(), property=view.meta["property"])
    last = len(view.states) - 1
    shown = range(last) if view.loop is not None else range(last + 1)
    loop_steps = set(view.loop_steps())
    for i in shown:
        places = [f"{name}: {view.place(i, k).short()}" for k, name in enumerate(view.g_names)]
        if view.get(i, "gcwaiting"):
            places.append("stop-the-world pending")
        g.add_node(i, label=f"state {i} (tick {view.ticks_before(i + 1)})", places=places,
                   loop_start=view.loop == i, violating=view.loop is None and view.violated and i == last)
    for i in range(1, last + 1):
        src, dst = i - 1, i
        if view.loop is not None and i == last:
            dst = view.loop
        g.add_edge(src, dst, step=i, rule=view.rules[i].name, params=dict(view.rules[i].params),
                   label=describe_rule(view.model, view.rules[i]), loop=i in loop_steps,
                   closes_loop=view.loop is not None and i == last)
    return g


def dot_quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(view: TraceView, graph: nx.DiGraph | None = None) -> str:
    """Return Graphviz DOT text of the state graph."""
    g = graph if graph is not None else build(view)
    lines = [
        "digraph trace {",
        f"  graph [label={dot_quote(view.title())}, labelloc=t, fontname=\"Helvetica\", rankdir=TB];",
        '  node [shape=box, style=rounded, fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    for n, d in g.nodes(data=True):
        label = d["label"] + "\\n" + "".join(dot_escape_line(p) + "\\l" for p in d["places"])
        attrs = [f"label={dot_quote_raw(label)}", f'id="s{n}"']
        if d["violating"]:
            attrs += ['class="violating"', "style=\"rounded,filled,bold\"", 'fillcolor="#fde0e0"',
                      f'color="{HIGHLIGHT}"', "penwidth=2.5",
                      f"xlabel={dot_quote('violates ' + view.meta['property'])}", f'fontcolor="{HIGHLIGHT}"']
        elif d["loop_start"]:
            attrs += ['class="loop-start"', f'color="{HIGHLIGHT}"', "penwidth=2", "peripheries=2"]
        lines.append(f"  s{n} [{', '.join(attrs)}];")
    for u, v, d in g.edges(data=True):
        edge_id = f"e{d['step']}"
        attrs = [f"label={dot_quote(d['label'])}", f"id={dot_quote(edge_id)}"]
        if d["loop"]:
            attrs += ['class="loop"', f'color="{HIGHLIGHT}"', f'fontcolor="{HIGHLIGHT}"', "penwidth=2.5"]
        if d["closes_loop"]:
            attrs += ["constraint=false", "style=bold"]
        lines.append(f"  s{u} -> s{v} [{', '.join(attrs)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def dot_escape_line(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"')


def dot_quote_raw(s: str) -> str:
    """Quote a label whose escapes (\\n, \\l) are already in place."""
    return '"' + s + '"'


def to_svg(view: TraceView, use_dot: bool | None = None) -> str:
    """Return the state graph as SVG: from Graphviz ``dot`` when on PATH (or ``use_dot``), else laid out here."""
    dot = shutil.which("dot")
    if use_dot is None:
        use_dot = dot is not None
    if use_dot and dot is not None:
        try:
            run = subprocess.run([dot, "-Tsvg"], input=to_dot(view), capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as e:
            log.warning("dot -Tsvg failed (%s); laying the graph out without Graphviz", e)
        else:
            if run.returncode == 0:
                return run.stdout
            log.warning("dot -Tsvg failed (exit %d: %s); laying the graph out without Graphviz",
                        run.returncode, run.stderr.strip())
    return layout_svg(view)


NODE_W, LINE_H, V_GAP, H_PAD = 300, 14, 44, 40


def layout_svg(view: TraceView) -> str:
    """Lay the graph out with networkx and write the SVG by hand."""
    g = build(view)
    forward = nx.DiGraph((u, v) for u, v, d in g.edges(data=True) if not d["closes_loop"])
    forward.add_nodes_from(g.nodes)
    for layer, nodes in enumerate(nx.topological_generations(forward)):
        for n in nodes:
            g.nodes[n]["layer"] = layer
    pos = nx.multipartite_layout(g, subset_key="layer", align="horizontal", scale=1)

    heights = {n: LINE_H * (len(d["places"]) + 1) + 10 for n, d in g.nodes(data=True)}
    # Boxes are NODE_W wide, or wider for long lines (map layouts), at about 6 px per character.
    node_w = max([NODE_W] + [6 * len(line) + 16 for _, d in g.nodes(data=True) for line in d["places"]])
    # multipartite_layout spaces layers evenly; each layer takes its tallest node's height here.
    layers = sorted({d["layer"] for _, d in g.nodes(data=True)})
    layer_h = {k: max(heights[n] for n, d in g.nodes(data=True) if d["layer"] == k) for k in layers}
    tops, y = {}, 70
    for k in layers:
        tops[k] = y
        y += layer_h[k] + V_GAP
    xs = [pos[n][0] for n in g.nodes]
    spread = (max(xs) - min(xs)) or 1
    width_nodes = max(len([n for n, d in g.nodes(data=True) if d["layer"] == k]) for k in layers)
    span = (width_nodes - 1) * (node_w + H_PAD)
    left = 60 + node_w / 2 + 160

    box = {}
    for n, d in g.nodes(data=True):
        cx = left + (pos[n][0] - min(xs)) / spread * span if span else left
        box[n] = (cx - node_w / 2, tops[d["layer"]], node_w, heights[n])

    width = left + span + node_w / 2 + 260
    height = y + 20
    body = [svg.element("text", svg.text(view.title()), x=10, y=24, font_size=14, font_weight="bold"),
            '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
            'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 Z" fill="context-stroke"/></marker></defs>']
    for u, v, d in g.edges(data=True):
        body.append(edge_svg(u, v, d, box))
    for n, d in g.nodes(data=True):
        body.append(node_svg(n, d, box[n], view.meta["property"]))
    return svg.document(width, height, body, f"state graph: {view.title()}")


def node_svg(n: int, d: dict, box: tuple, prop: str) -> str:
    x, y, w, h = box
    cls = "node"
    if d["violating"]:
        cls += " violating"
    if d["loop_start"]:
        cls += " loop-start"
    stroke = HIGHLIGHT if d["violating"] or d["loop_start"] else "#333"
    fill = "#fde0e0" if d["violating"] else "#fff"
    parts = [svg.element("rect", x=x, y=y, width=w, height=h, rx=6, fill=fill, stroke=stroke,
                         stroke_width=2.5 if stroke == HIGHLIGHT else 1)]
    parts.append(svg.element("text", svg.text(d["label"]), x=x + 8, y=y + LINE_H, font_weight="bold", font_size=11))
    for k, line in enumerate(d["places"]):
        parts.append(svg.element("text", svg.text(line), x=x + 8, y=y + LINE_H * (k + 2), font_size=10))
    if d["violating"]:
        parts.append(svg.element("text", svg.text(f"violates {prop}"), x=x + w + 8, y=y + LINE_H, fill=HIGHLIGHT,
                                 font_weight="bold"))
    return f'<g id="s{n}" class="{cls}">{"".join(parts)}</g>'


def edge_svg(u: int, v: int, d: dict, box: dict) -> str:
    ux, uy, uw, uh = box[u]
    vx, vy, vw, vh = box[v]
    colour = HIGHLIGHT if d["loop"] else "#555"
    width = 2.5 if d["loop"] else 1.2
    if d["closes_loop"]:
        # Back edge: out of the left side of u, around, into the left side of v.
        x0, y0, x1, y1 = ux, uy + uh / 2, vx, vy + vh / 2
        bend = x0 - 60
        path = f"M{x0},{y0} C{bend},{y0} {bend},{y1} {x1},{y1}"
        lx, ly, anchor = bend - 4, (y0 + y1) / 2, "end"
    else:
        x0, y0, x1, y1 = ux + uw / 2, uy + uh, vx + vw / 2, vy
        path = f"M{x0},{y0} L{x1},{y1}"
        lx, ly, anchor = (x0 + x1) / 2 + 8, (y0 + y1) / 2 + 4, "start"
    cls = "edge"
    if d["loop"]:
        cls += " loop"
    if d["closes_loop"]:
        cls += " closes-loop"
    return (f'<g id="e{d["step"]}" class="{cls}">'
            + svg.element("path", d=path, fill="none", stroke=colour, stroke_width=width, marker_end="url(#arrow)")
            + svg.element("text", svg.text(f"{d['step']}: {d['label']}"), x=lx, y=ly, font_size=10, fill=colour,
                          text_anchor=anchor)
            + "</g>")
