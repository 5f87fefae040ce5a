"""The timeline of a map trace: one column per step, lanes for operations, iterators, growth and keys.

Column i is step i.  Lanes, top to bottom:

* ``writes``: mapassign, mapdelete and mapclear steps, named with their key;
* ``lookups``: mapaccess steps (only when the trace has any);
* one lane per iterator: mapiterinit and mapiternext steps, the key each
  return hands back, where the iteration finished, and (hatched) the steps in
  which the iterator walks an array that is no longer the map's;
* ``growth``: the steps after which a grow is in progress (oldbuckets is set),
  with nevacuate, and markers where hashGrow starts a grow and where the last
  old bucket is evacuated;
* one lane per key: a bar where the key is in the map after the step, a dot
  where an iterator returned it, and, in the violating state, a red cross on a
  key the iteration missed or returned twice.
"""

from __future__ import annotations

from checker.render import svg
from checker.render.mapview import MapTraceView

LEFT, TOP, COL, LANE, GAP = 120, 60, 92, 26, 8
RED, GROW, IT_COLOUR, STALE = "#d62728", "#9467bd", "#59a14f", "#f28e2b"
WRITES = ("mapassign", "mapdelete", "mapclear")

CSS = """
.lane-bg { fill: #f7f7f7; }
.lane-label { font-weight: bold; font-size: 11px; }
.op text, .ret text { font-size: 10px; }
.axis text { fill: #555; font-size: 10px; }
.grid { stroke: #e4e4e4; }
.growth { fill: #9467bd; fill-opacity: 0.25; stroke: #9467bd; }
.stale-array { fill: url(#stale-hatch); stroke: #f28e2b; }
.present { fill: #4e79a7; fill-opacity: 0.35; }
.missed text, .twice text { fill: #d62728; font-weight: bold; font-size: 11px; }
"""


def col_x(i: int) -> float:
    """Left edge of step i's column."""
    return LEFT + (i - 1) * COL


def short(rule) -> str:
    key = rule.params.get("k")
    name = rule.name.removeprefix("map")
    return f"{name} {key}" if key is not None else name


class Lanes:
    """Collects lanes top to bottom; each lane is a group of SVG elements."""

    def __init__(self, view: MapTraceView):
        self.view = view
        self.parts: list[str] = []
        self.y = TOP + 20
        self.steps = len(view.states) - 1

    def lane(self, ident: str, label: str, body: list[str], **data) -> None:
        y = self.y
        attrs = "".join(f' data-{k.replace("_", "-")}={svg.attr(v)}' for k, v in data.items())
        self.parts.append(f'<g id="lane-{svg.ident(ident)}" class="lane"{attrs}>'
                          + svg.element("rect", class_="lane-bg", x=LEFT, y=y, width=self.steps * COL, height=LANE)
                          + svg.element("text", svg.text(label), class_="lane-label", x=8, y=y + 17)
                          + "".join(b.replace("{Y}", str(y)) for b in body) + "</g>")
        self.y += LANE + GAP


def op_box(i: int, text: str, colour: str, cls: str, tip: str, **attrs) -> str:
    x = col_x(i)
    return (f'<g class="{cls}" data-step="{i}"' + "".join(f' data-{k}={svg.attr(v)}' for k, v in attrs.items())
            + ">" + svg.element("title", svg.text(tip))
            + f'<rect x="{x + 3}" y="{{Y}}" width="{COL - 6}" height="{LANE}" rx="4" fill="{colour}" '
              f'fill-opacity="0.8" stroke="#333" stroke-width="0.5" transform="translate(0,0)"/>'
            + f'<text x="{x + 8}" y="{{Y}}" dy="16" fill="#fff">{svg.text(text)}</text></g>')


def render(view: MapTraceView, cursor: bool = False) -> str:
    """Return the SVG timeline of a map trace; ``cursor`` adds the line the HTML page moves to the current state."""
    n = len(view.states) - 1
    lanes = Lanes(view)
    rules = view.rules

    writes = [op_box(i, short(rules[i]), "#4e79a7", "op", f"step {i}: {rules[i].label()}")
              for i in range(1, n + 1) if rules[i].name in WRITES]
    lanes.lane("writes", "writes", writes)
    lookups = [op_box(i, short(rules[i]), "#76b7b2", "op", f"step {i}: {rules[i].label()}")
               for i in range(1, n + 1) if rules[i].name == "mapaccess"]
    if lookups:
        lanes.lane("lookups", "lookups", lookups)

    returned: dict[str, list[tuple[int, int]]] = {}  # key -> [(step, iterator)]
    for it in range(view.model.state.NI):
        body = []
        for i in range(1, n + 1):
            d = view.layout(i).iterators[it]
            if d.state in ("between calls", "inside mapiternext") and d.buckets not in (
                    view.layout(i).buckets, view.layout(i).oldbuckets):
                tip = svg.text(f"after step {i}: it{it} walks array #{d.buckets}, no longer the map's")
                body.append(f'<rect class="stale-array" data-step="{i}" x="{col_x(i)}" y="{{Y}}" width="{COL}" '
                            f'height="{LANE}"><title>{tip}</title></rect>')
        for i in range(1, n + 1):
            rule = rules[i]
            if rule.name not in ("mapiterinit", "mapiternext") or rule.params.get("it") != it:
                continue
            d = view.layout(i).iterators[it]
            if d.state == "between calls":
                text, cls = f"-> {d.key}", "ret"
                returned.setdefault(d.key, []).append((i, it))
            elif d.state == "done":
                text, cls = "done", "op"
            else:
                text, cls = "init" if rule.name == "mapiterinit" else "next", "op"
            body.append(op_box(i, text, IT_COLOUR, cls, f"step {i}: {rule.label()}: {text}",
                               key=d.key if cls == "ret" else ""))
        lanes.lane(f"it{it}", f"iterator {it}", body, it=it)

    # The nevacuate label takes the left of a column, so grow events sit at its right end.
    growth = []
    for i in range(1, n + 1):
        b = view.layout(i)
        x = col_x(i)
        if b.growing:
            growth.append(f'<rect class="growth" data-step="{i}" x="{x}" y="{{Y}}" width="{COL}" height="{LANE}">'
                          f'<title>after step {i}: growing, nevacuate={b.nevacuate} of {len(b.old)}</title></rect>'
                          f'<text x="{x + 4}" y="{{Y}}" dy="16" font-size="10">nevacuate={b.nevacuate}</text>')
        events = [e for e in view.events(i) if e.startswith(("hashGrow", "every old bucket"))]
        for k, ev in enumerate(events):
            label = "grow" if ev.startswith("hashGrow") else "done"
            growth.append(f'<g class="grow-event" data-step="{i}" data-kind="{label}">'
                          f'<title>{svg.text(f"step {i}: {ev}")}</title>'
                          f'<circle cx="{x + COL - 9 - 12 * (len(events) - 1 - k)}" cy="{{Y}}" r="5" '
                          f'fill="{GROW}" transform="translate(0,{LANE / 2})"/></g>')
    lanes.lane("growth", "growth", growth)

    marked = view.marked_keys(view.last) if view.violated else set()
    for name in view.key_names():
        body = []
        k = view.key_names().index(name)
        for i in range(1, n + 1):
            if view.get(i, "g_count", k):
                body.append(f'<rect class="present" data-step="{i}" x="{col_x(i)}" y="{{Y}}" width="{COL}" '
                            f'height="{LANE}"/>')
        for i, it in returned.get(name, []):
            x = col_x(i) + COL / 2
            body.append(f'<g class="returned" data-step="{i}" data-it="{it}"><title>'
                        f'{svg.text(f"step {i}: iterator {it} returns {name}")}</title>'
                        f'<circle cx="{x}" cy="{{Y}}" r="6" fill="{IT_COLOUR}" stroke="#333" '
                        f'transform="translate(0,{LANE / 2})"/></g>')
        if name in marked:
            missed = not returned.get(name)
            cls = "missed" if missed else "twice"
            x = col_x(n) + COL - 16
            body.append(f'<g class="{cls}" id="{cls}-{svg.ident(name)}"><title>'
                        f'{svg.text(f"{name}: " + ("never returned" if missed else "returned more than once"))}'
                        f'</title><text x="{x}" y="{{Y}}" dy="18">X</text></g>')
        lanes.lane(f"key-{name}", f"key {name}", body, key=name)

    axis = ['<g class="axis">']
    for i in range(1, n + 1):
        x = col_x(i)
        axis.append(svg.element("line", class_="grid", x1=x, x2=x, y1=TOP + 14, y2=lanes.y))
        axis.append(svg.element("text", svg.text(f"{i}"), x=x + COL / 2, y=TOP + 10, text_anchor="middle"))
    axis.append(svg.element("line", class_="grid", x1=col_x(n + 1), x2=col_x(n + 1), y1=TOP + 14, y2=lanes.y))
    axis.append("</g>")
    defs = ('<defs><pattern id="stale-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff3e6"/>'
            f'<line x1="0" y1="0" x2="0" y2="6" stroke="{STALE}" stroke-width="2"/></pattern></defs>')
    head = [defs, svg.element("text", svg.text(view.summary()), x=8, y=20, font_size=13, font_weight="bold"),
            svg.element("text", "step", x=8, y=TOP + 10, font_size=10, fill="#555")]
    legend_y = lanes.y + 16
    legend = [svg.element("text", svg.text(
        "purple: grow in progress (dots: hashGrow, last old bucket evacuated); hatched: the iterator walks "
        "an array that is no longer the map's"), x=8, y=legend_y, font_size=10, fill="#444"),
        svg.element("text", svg.text("blue bar: key in the map after the step; green dot: an iterator returned "
                                     "the key; red X: missed or returned more than once"),
                    x=8, y=legend_y + 14, font_size=10, fill="#444")]
    if cursor:
        legend.append(svg.element("line", id="cursor", x1=step_x(0), x2=step_x(0), y1=TOP + 14, y2=lanes.y,
                                  stroke=RED, stroke_width=2))
    width = max(LEFT + n * COL + 20, 900)
    return svg.document(width, legend_y + 28, head + axis + lanes.parts + legend, f"map timeline: {view.title()}",
                        CSS)


def step_x(i: int) -> float:
    """Return the x of state i: the right edge of step i's column (the left edge of the lanes for state 0)."""
    return LEFT + i * COL
