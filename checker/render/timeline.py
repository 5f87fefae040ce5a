"""The timeline view: one lane per P, a bar per tick for the G that ran, and markers for scheduler events.

Column c is the interval from tick c to tick c + 1.  A P's bar in column c is
the G that executed an operation on it in that interval.  Without one, the bar
shows the P's state just before the tick: a G in a system call, a G that has
the P but cannot step (the owner of a pending stop-the-world), or nothing for an
idle or stopped P.  A P that spent the tick switching Gs (a preemption, a G
back from a system call) shows "schedule".  Below the P lanes, the global-queue lane shows the queue's
length at each tick and the victim lane shows when the victim ran and when it
was ready without running (the ticks bounded-wait counts).
"""

from __future__ import annotations

from checker.render import svg
from checker.render.view import TraceView
from spec.sched.state import P_RUNNING, P_SYSCALL

LEFT, TOP, COL, LANE, GAP = 150, 56, 46, 30, 10
LEGEND_COL = 250

CSS = """
.axis text { fill: #555; font-size: 10px; }
.grid { stroke: #e4e4e4; }
.lane-bg { fill: #f7f7f7; }
.lane-label { font-weight: bold; }
.bar { stroke: #333; stroke-width: 0.5; }
.bar.syscall { fill-opacity: 0.45; stroke-dasharray: 3 2; }
.bar.blocked { fill-opacity: 0.2; stroke-dasharray: 2 2; }
.bar-label { font-size: 10px; fill: #fff; pointer-events: none; }
.bar-label.pale { fill: #000; }
.status { font-size: 9px; fill: #888; }
.stw { fill: #9467bd; fill-opacity: 0.12; }
.loop-region { fill: #d62728; fill-opacity: 0.06; stroke: #d62728; stroke-dasharray: 4 3; }
.loop-label { fill: #d62728; font-size: 10px; }
.victim-wait { fill: #d62728; fill-opacity: 0.25; stroke: #d62728; }
.victim-run { stroke: #333; stroke-width: 0.5; }
.gq-len { font-size: 10px; fill: #333; }
.marker text { font-size: 9px; font-weight: bold; }
.legend text { font-size: 10px; }
"""

MARKER_LEGEND = [
    ("preempt-request", "preemption requested (g.preempt set)"),
    ("preempt-blocked", "request cannot land: no preemption point"),
    ("preempt", "preempted"),
    ("steal", "steal (arrow from victim P)"),
    ("gq", "to / from the global queue"),
    ("syscall", "system call, handoff (H)"),
]


def lane_y(lane: int) -> float:
    return TOP + 20 + lane * (LANE + GAP)


def step_x(view: TraceView, i: int) -> float:
    """Return the x position of step i: tick steps on the column boundary, others spread inside their column."""
    if i == 0:
        return LEFT
    c = view.ticks_before(i)
    if view.is_tick(i):
        return LEFT + (c + 1) * COL
    inner = [k for k in view.column_steps(c) if not view.is_tick(k)]
    return LEFT + c * COL + COL * (inner.index(i) + 1) / (len(inner) + 1)


def column_end_state(view: TraceView, c: int) -> int:
    """Return the state just before column c's tick, or the last state for a partial column."""
    ticks = view.tick_steps
    return ticks[c] - 1 if c < len(ticks) else len(view.states) - 1


def cell(view: TraceView, p: int, c: int) -> tuple[str, int | None]:
    """Return what P p shows in column c: (kind, G index), kind one of ran, syscall, blocked, schedule, a P status."""
    ran = [i for i in view.column_steps(c)
           if view.rules[i].params.get("p") == p and "op" in view.rules[i].params
           and "preempt" not in view.rules[i].tags]
    if ran:
        return "ran", view.rules[ran[-1]].params["g"]
    s = column_end_state(view, c)
    cur = view.get(s, "curg", p)
    status = view.get(s, "pstatus", p)
    if status == P_SYSCALL and cur:
        return "syscall", cur - 1
    if status == P_RUNNING and cur:
        if view.get(s, "gcwaiting") and view.get(s, "stwowner") == p + 1:
            return "blocked", cur - 1
        # The P stepped without running an operation: its G was preempted, or a G back
        # from a system call took it, and the next G runs from the next tick on.
        return "schedule", None
    return view.p_status(s, p), None


def victim_columns(view: TraceView, g: int) -> tuple[list[int], list[int]]:
    """Columns in which G g executed an operation, and columns at whose tick it was ready to run.

    A G that executes an operation and is then ready again before the tick (the
    owner of a stop-the-world, say) is in both lists, as bounded-wait counts it.
    """
    ran, waiting = [], []
    for c in range(view.columns):
        if any(view.rules[i].params.get("g") == g and "op" in view.rules[i].params
               and "preempt" not in view.rules[i].tags for i in view.column_steps(c)):
            ran.append(c)
        if view.ready(column_end_state(view, c), g):
            waiting.append(c)
    return ran, waiting


def runs(columns: list[int]) -> list[tuple[int, int]]:
    """Maximal runs of consecutive columns as (first, last + 1)."""
    out: list[tuple[int, int]] = []
    for c in columns:
        if out and out[-1][1] == c:
            out[-1] = (out[-1][0], c + 1)
        else:
            out.append((c, c + 1))
    return out


def render(view: TraceView, cursor: bool = False) -> str:
    """Return the timeline as an SVG document; ``cursor`` adds the step cursor the HTML page moves."""
    cols = max(view.columns, 1)
    n_lanes = view.nP + 1 + (1 if view.victim is not None else 0)
    width = max(LEFT + cols * COL + 60, 2 * LEGEND_COL + 20, 8 * len(view.title()) + 20)
    per_row = legend_columns(width)
    legend_y = lane_y(n_lanes) + 10
    height = legend_y + 20 + 18 * (1 + (len(view.g_names) + len(MARKER_LEGEND) + 1) // per_row)
    body: list[str] = []
    m = view.meta
    body.append(svg.element("text", svg.text(view.title()), x=10, y=20, font_size=14, font_weight="bold"))
    sub = f"{m.get('verdict', '')} in {len(view.states) - 1} steps, {len(view.tick_steps)} ticks"
    if view.loop is not None:
        sub += f"; lasso back to state {view.loop}"
    if view.victim is not None:
        sub += f"; victim {view.g_names[view.victim]}"
    body.append(svg.element("text", svg.text(sub), x=10, y=38, fill="#444"))
    body += axis(view, cols, n_lanes)
    for p in range(view.nP):
        body += p_lane(view, p, cols)
    body += gq_lane(view, view.nP, cols)
    if view.victim is not None:
        body += victim_lane(view, view.nP + 1, cols)
    body += shading(view, n_lanes)
    body += markers(view)
    body += legend(view, legend_y, per_row)
    if cursor:
        body.append(svg.element("line", id="cursor", x1=LEFT, x2=LEFT, y1=TOP + 10, y2=lane_y(n_lanes),
                                stroke="#000", stroke_width=2))
    return svg.document(width, height, body, f"timeline: {view.title()}", CSS)


def axis(view: TraceView, cols: int, n_lanes: int) -> list[str]:
    out = ['<g class="axis">']
    for c in range(cols + 1):
        x = LEFT + c * COL
        out.append(svg.element("line", class_="grid", x1=x, x2=x, y1=TOP + 12, y2=lane_y(n_lanes) - GAP))
        out.append(svg.element("text", str(c), x=x, y=TOP + 8, text_anchor="middle"))
    out.append(svg.element("text", "tick", x=LEFT - 8, y=TOP + 8, text_anchor="end"))
    out.append("</g>")
    return out


def shading(view: TraceView, n_lanes: int) -> list[str]:
    """Shade the lasso's repeating part and the ticks during which a stop-the-world is pending."""
    out = []
    top, bottom = lane_y(0) - 4, lane_y(n_lanes) - GAP + 4
    if view.loop is not None:
        x0, x1 = step_x(view, view.loop), step_x(view, len(view.states) - 1)
        out.append(svg.element("rect", id="loop-region", class_="loop-region", x=x0, y=top, width=max(x1 - x0, 2),
                               height=bottom - top, data_loop_state=view.loop))
        out.append(svg.element("text", svg.text(f"repeats forever (back to state {view.loop})"), class_="loop-label",
                               x=x0 + 3, y=bottom + 10))
    for c in range(view.columns):
        if view.get(column_end_state(view, c), "gcwaiting"):
            out.append(svg.element("rect", class_="stw", x=LEFT + c * COL, y=top, width=COL,
                                   height=lane_y(view.nP) - GAP + 4 - top))
    return out


def lane_frame(lane: int, label: str, lane_id: str, cols: int, **data) -> list[str]:
    y = lane_y(lane)
    return [svg.element("rect", id=lane_id, class_="lane-bg", x=LEFT, y=y, width=cols * COL, height=LANE, **data),
            svg.element("text", svg.text(label), class_="lane-label", x=LEFT - 8, y=y + LANE / 2 + 4,
                        text_anchor="end")]


def p_lane(view: TraceView, p: int, cols: int) -> list[str]:
    y = lane_y(p)
    out = lane_frame(p, f"P{p}", f"lane-P{p}", cols, data_p=p)
    cells = [cell(view, p, c) for c in range(view.columns)]
    for c, (kind, g) in enumerate(cells):
        x = LEFT + c * COL
        if g is None:
            out.append(svg.element("text", svg.text(kind), class_="status", x=x + COL / 2, y=y + LANE / 2 + 3,
                                   text_anchor="middle"))
            continue
        name = view.g_names[g]
        tip = {"ran": f"{name} runs on P{p} in tick {c}", "syscall": f"{name} is in a system call holding P{p}",
               "blocked": f"{name} holds P{p} and waits for the stop-the-world"}[kind]
        out.append(svg.element("rect", svg.element("title", svg.text(tip)), id=f"bar-P{p}-t{c}",
                               class_=f"bar {kind} g-{svg.ident(name)}", x=x + 1, y=y + 3, width=COL - 2,
                               height=LANE - 6, fill=svg.g_colour(g), data_g=name, data_tick=c))
    # One label per run of columns showing the same G the same way.
    c = 0
    while c < len(cells):
        kind, g = cells[c]
        end = c + 1
        while end < len(cells) and cells[end] == cells[c]:
            end += 1
        if g is not None:
            label = view.g_names[g] + {"ran": "", "syscall": " (syscall)", "blocked": " (waits)"}[kind]
            out.append(svg.element("text", svg.text(fit(label, (end - c) * COL - 4)),
                                   class_="bar-label" if kind == "ran" else "bar-label pale",
                                   x=LEFT + (c + end) * COL / 2, y=y + LANE / 2 + 4, text_anchor="middle"))
        c = end
    return out


def fit(label: str, width: float) -> str:
    """Cut a label to about ``width`` px of 10 px text."""
    room = max(int(width / 6), 1)
    return label if len(label) <= room else label[:max(room - 1, 1)] + "…"


def gq_lane(view: TraceView, lane: int, cols: int) -> list[str]:
    y = lane_y(lane)
    out = lane_frame(lane, "global queue", "lane-gq", cols)
    for c in range(view.columns):
        s = column_end_state(view, c)
        gq = view.global_queue(s)
        tip = ", ".join(view.g_names[g] for g in gq) or "empty"
        out.append(svg.element("text", svg.element("title", svg.text(tip)) + str(len(gq)), class_="gq-len",
                               id=f"gq-t{c}", x=LEFT + c * COL + COL / 2, y=y + LANE / 2 + 4,
                               text_anchor="middle", data_len=len(gq)))
    return out


def victim_lane(view: TraceView, lane: int, cols: int) -> list[str]:
    g = view.victim
    name = view.g_names[g]
    y = lane_y(lane)
    out = lane_frame(lane, f"victim {name}", "lane-victim", cols, data_g=name)
    ran, waiting = victim_columns(view, g)
    for c in ran:
        out.append(svg.element("rect", id=f"victim-run-t{c}", class_="victim-run", x=LEFT + c * COL + 1, y=y + 3,
                               width=COL - 2, height=LANE - 6, fill=svg.g_colour(g), data_tick=c))
    spans = runs(waiting)
    for k, (a, b) in enumerate(spans):
        last = k == len(spans) - 1
        end = column_end_state(view, b - 1)
        where = view.place(end, g).short()
        owner = view.get(end, "stwowner")
        if view.get(end, "gcwaiting") and owner and view.get(end, "curg", owner - 1) == g + 1:
            # The G that requested a stop-the-world stays on its P while it
            # waits for the others to stop; bounded-wait counts it as ready.
            where += ", waiting for the stop-the-world it requested"
        tip = f"{name} is ready to run, not running, at ticks {a + 1} to {b}; at tick {b}: {where}"
        out.append(svg.element("rect", svg.element("title", svg.text(tip)),
                               id="victim-wait" if last else f"victim-wait-{k}", class_="victim-wait",
                               x=LEFT + a * COL + 1, y=y + 6, width=(b - a) * COL - 2, height=LANE - 12,
                               data_from_tick=a, data_to_tick=b))
        out.append(svg.element("text", svg.text(fit(f"ready, not running: {b - a} ticks", (b - a) * COL)),
                               class_="status", x=LEFT + (a + b) * COL / 2, y=y + LANE / 2 + 3,
                               text_anchor="middle", fill="#000"))
    if view.loop is not None and spans and spans[-1][1] == view.columns:
        out.append(svg.element("text", "→ ∞", x=LEFT + view.columns * COL + 6, y=y + LANE / 2 + 4,
                               fill="#d62728", font_weight="bold"))
    return out


def markers(view: TraceView) -> list[str]:
    out = []
    for i in range(1, len(view.states)):
        for k, ev in enumerate(view.events(i)):
            shape = marker_shape(view, ev, step_x(view, i))
            if shape:
                out.append(f'<g class="marker {ev.kind}" id="ev-{i}-{k}" data-step="{i}">'
                           f"<title>{svg.text(f'step {i}: {ev.text}')}</title>{shape}</g>")
    return out


def marker_shape(view: TraceView, ev, x: float) -> str:
    lane = ev.p if ev.p is not None else 0
    y = lane_y(lane)
    if ev.kind == "preempt-request":
        return svg.element("path", d=f"M{x - 5},{y - 4} L{x + 5},{y - 4} L{x},{y + 4} Z", fill="#ff7f0e",
                           stroke="#000", stroke_width=0.5)
    if ev.kind == "preempt-blocked":
        yb = y + LANE - 6
        return (svg.element("path", d=f"M{x - 4},{yb - 4} L{x + 4},{yb + 4} M{x - 4},{yb + 4} L{x + 4},{yb - 4}",
                            stroke="#d62728", stroke_width=2.5))
    if ev.kind == "preempt":
        return svg.element("path", d=f"M{x - 5},{y + 4} L{x + 5},{y + 4} L{x},{y - 4} Z", fill="#2ca02c",
                           stroke="#000", stroke_width=0.5)
    if ev.kind == "steal":
        return arrow(x, lane_y(ev.victim_p) + LANE / 2, y + LANE / 2, "#9467bd")
    if ev.kind in ("to-gq", "from-gq") and ev.p is not None:
        gq_mid, p_mid = lane_y(view.nP) + LANE / 2, y + LANE / 2
        return arrow(x, p_mid, gq_mid, "#17becf") if ev.kind == "to-gq" else arrow(x, gq_mid, p_mid, "#17becf")
    if ev.kind in ("syscall", "syscall-exit", "handoff"):
        letter = {"syscall": "S", "syscall-exit": "S", "handoff": "H"}[ev.kind]
        return (svg.element("circle", cx=x, cy=y + LANE - 3, r=6, fill="#fff", stroke="#8c564b", stroke_width=1.5)
                + svg.element("text", letter, x=x, y=y + LANE, text_anchor="middle", fill="#8c564b"))
    return ""


def arrow(x: float, y0: float, y1: float, colour: str) -> str:
    head = 5 if y1 > y0 else -5
    return (svg.element("line", x1=x, x2=x, y1=y0, y2=y1 - head, stroke=colour, stroke_width=2)
            + svg.element("path", d=f"M{x - 4},{y1 - head} L{x + 4},{y1 - head} L{x},{y1} Z", fill=colour))


def legend_columns(width: float) -> int:
    return max(1, min(4, int((width - 20) // LEGEND_COL)))


def legend(view: TraceView, y: float, per_row: int) -> list[str]:
    out = ['<g class="legend">']
    items = [(svg.element("rect", x=0, y=-9, width=12, height=10, fill=svg.g_colour(g)), name)
             for g, name in enumerate(view.g_names)]
    samples = {
        "preempt-request": svg.element("path", d="M1,-8 L11,-8 L6,0 Z", fill="#ff7f0e"),
        "preempt-blocked": svg.element("path", d="M2,-8 L10,0 M2,0 L10,-8", stroke="#d62728", stroke_width=2.5),
        "preempt": svg.element("path", d="M1,0 L11,0 L6,-8 Z", fill="#2ca02c"),
        "steal": svg.element("path", d="M6,-10 L6,0 M2,-4 L6,0 L10,-4", stroke="#9467bd", stroke_width=2, fill="none"),
        "gq": svg.element("path", d="M6,-10 L6,0 M2,-4 L6,0 L10,-4", stroke="#17becf", stroke_width=2, fill="none"),
        "syscall": svg.element("circle", cx=6, cy=-4, r=5, fill="#fff", stroke="#8c564b", stroke_width=1.5),
    }
    items += [(samples[k], label) for k, label in MARKER_LEGEND]
    items.append((svg.element("rect", x=0, y=-9, width=12, height=10, class_="victim-wait"), "victim ready, not running"))
    for k, (shape, label) in enumerate(items):
        col, row = k % per_row, k // per_row
        x, yy = 10 + col * LEGEND_COL, y + 14 + row * 18
        out.append(f'<g transform="translate({x},{yy})">{shape}'
                   + svg.element("text", svg.text(label), x=18, y=0) + "</g>")
    out.append("</g>")
    return out
