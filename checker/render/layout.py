"""The bucket layout of a map state as SVG, and one panel per step of a map trace.

A panel draws the map as the runtime lays it out:

* the hmap line: B, count, noverflow, nevacuate, flags, buckets and oldbuckets
  (bucket records are written ``#N``, the record's number in the model's pool);
* the current bucket array on the right, one row per bucket, the overflow chain
  to the right of each bucket;
* while growing, the old array on the left, with the evacuated old buckets'
  arrows to their X (same index) and Y (index + old size) destinations and a
  mark at ``nevacuate``;
* an array that an iterator still walks but that is no longer the map's (after
  a grow finished) on the left, labelled with the iterator;
* every slot's tophash (emptyRest, emptyOne, evacuatedX, evacuatedY and
  evacuatedEmpty by name) above its key and value;
* each active iterator: its start bucket, the record it reads (``it.bptr``)
  outlined, the next slot it examines marked, and a line with startBucket,
  offset, bucket, i, wrapped and checkBucket.

Elements carry ids and classes (``slot``, the tophash name, ``evac-x``,
``evac-y``, ``it-bptr``) so tests and the HTML page can find them.
"""

from __future__ import annotations

from checker.maptrace import Bucket, MapLayout, tophash_name
from checker.render import svg
from spec.maps.state import EMPTY_ONE, EMPTY_REST, EVACUATED_EMPTY, EVACUATED_X, EVACUATED_Y, MIN_TOP_HASH

SLOT_W, SLOT_H, ROW_GAP, CHAIN_GAP, LABEL_W, EVAC_GAP, LINE = 92, 36, 12, 22, 100, 120, 16

FILL = {EMPTY_REST: "#ffffff", EMPTY_ONE: "#f2f2f2", EVACUATED_X: "#dbe8f6", EVACUATED_Y: "#fde3cc",
        EVACUATED_EMPTY: "#e6e6e6"}
X_COLOUR, Y_COLOUR, IT_COLOUR, RED = "#4e79a7", "#f28e2b", "#59a14f", "#d62728"

CSS = """
.slot rect { stroke: #555; stroke-width: 0.8; }
.slot rect.mark { stroke: #d62728; stroke-width: 2.5; }
.slot .th { font-size: 10px; fill: #333; }
.slot .kv { font-size: 11px; font-weight: bold; }
.bucket-label { font-size: 10px; fill: #333; }
.array-title { font-weight: bold; font-size: 12px; }
.hmap { font-family: monospace; font-size: 11px; }
.it-line { font-family: monospace; font-size: 11px; fill: #2f6b2a; }
.event { font-size: 11px; fill: #444; }
.violation { font-size: 12px; fill: #d62728; font-weight: bold; }
.step-title { font-size: 13px; font-weight: bold; }
"""


def chain_width(chains: list[list[Bucket]], slots: int) -> float:
    longest = max([len(c) for c in chains] + [1])
    return longest * slots * SLOT_W + (longest - 1) * CHAIN_GAP


class Panel:
    """Draws one state's layout into SVG elements, keeping the y position as it goes."""

    def __init__(self, view, i: int, prefix: str):
        self.view, self.i, self.prefix = view, i, prefix
        self.d: MapLayout = view.layout(i)
        self.S = view.model.state.S
        self.parts: list[str] = []
        self.slot_boxes: dict[tuple[int, int], tuple[float, float]] = {}  # (record, slot) -> (x, y)
        self.rows: dict[tuple[str, int], tuple[float, float, float]] = {}  # (array, j) -> (x0, x1, y)
        self.marked = view.marked_keys(i)
        self.longest = 0  # characters in the longest line of text, for the panel's width

    # -- arrays -----------------------------------------------------------------

    def arrays(self) -> tuple[list[tuple], list[tuple]]:
        """Arrays in the left and right columns: (kind, title, base, chains)."""
        d, left, right = self.d, [], []
        if d.growing:
            left.append(("old", f"oldbuckets #{d.oldbuckets} ({len(d.old)} buckets)", d.oldbuckets, d.old))
        shown = {d.buckets, d.oldbuckets}
        for it in d.iterators:
            if it.state in ("between calls", "inside mapiternext") and it.buckets not in shown and it.buckets:
                chains = [self.chain(it.buckets + j) for j in range(1 << it.B)]
                left.append((f"it{it.index}", f"it{it.index}'s array #{it.buckets}, no longer the map's",
                             it.buckets, chains))
                shown.add(it.buckets)
        if d.buckets:
            right.append(("new", f"buckets #{d.buckets} (B={d.B}, {len(d.table)} buckets)", d.buckets, d.table))
        return left, right

    def chain(self, rec: int) -> list[Bucket]:
        """Read the chain from record ``rec``, for an array that is neither the map's buckets nor oldbuckets."""
        H = self.view.model.state
        s = self.view.states[self.i]
        out, seen = [], set()
        while rec and rec not in seen:
            seen.add(rec)
            top = [s[H.top.base + rec * H.S + k] for k in range(H.S)]
            keys = [s[H.key.base + rec * H.S + k] for k in range(H.S)]
            out.append(Bucket(rec, top, [None if k == 0 else self.view.model.config.keys[k - 1].name for k in keys],
                              [s[H.val.base + rec * H.S + k] for k in range(H.S)], s[H.ovf.base + rec]))
            rec = s[H.ovf.base + rec]
        return out

    def slot(self, x: float, y: float, b: Bucket, k: int) -> str:
        t = b.tophash[k]
        full = t >= MIN_TOP_HASH
        name = tophash_name(t)
        cls = "slot " + ("full" if full else name)
        label = f"{b.keys[k] if b.keys[k] is not None else '0'}={b.values[k]}" if full else (
            "" if b.keys[k] is None else f"({b.keys[k]})")
        self.slot_boxes[(b.rec, k)] = (x, y)
        mark = ""
        if full and b.keys[k] in self.marked:
            cls += " marked"
            mark = svg.element("rect", x=x + 2, y=y + 2, width=SLOT_W - 4, height=SLOT_H - 4, fill="none",
                               class_="mark")
        return (f'<g class="{cls}" id="{self.prefix}r{b.rec}-s{k}" data-tophash="{t}" '
                f'data-key={svg.attr(b.keys[k] or "")}>'
                + svg.element("rect", x=x, y=y, width=SLOT_W, height=SLOT_H, fill=FILL.get(t, "#fffbe6"))
                + svg.element("text", svg.text(name), class_="th", x=x + 4, y=y + 13)
                + svg.element("text", svg.text(label), class_="kv", x=x + 4, y=y + 29)
                + mark + "</g>")

    def array(self, kind: str, title: str, chains: list[list[Bucket]], x: float, y: float) -> float:
        """Draw one array from (x, y); return the y below it."""
        self.parts.append(svg.element("text", svg.text(title), class_="array-title", x=x, y=y + 12))
        y += 28
        for j, chain in enumerate(chains):
            cx = x + LABEL_W
            label = f"old bucket {j}" if kind == "old" else f"bucket {j}"
            self.parts.append(f'<g class="bucket" id="{self.prefix}{kind}-b{j}" data-array="{kind}" '
                              f'data-bucket="{j}">')
            self.parts.append(svg.element("text", svg.text(label), class_="bucket-label", x=x, y=y + 15))
            if chain:
                self.parts.append(svg.element("text", svg.text(f"#{chain[0].rec}"), class_="bucket-label",
                                              x=x, y=y + 29))
            for n, b in enumerate(chain):
                if n:
                    self.parts.append(svg.element("path", d=f"M{cx - CHAIN_GAP},{y + SLOT_H / 2} H{cx - 2}",
                                                  stroke="#333", fill="none", marker_end="url(#lay-arrow)",
                                                  class_="overflow"))
                for k in range(self.S):
                    self.parts.append(self.slot(cx + k * SLOT_W, y, b, k))
                self.parts.append(svg.element("rect", x=cx, y=y, width=self.S * SLOT_W, height=SLOT_H,
                                              fill="none", stroke="#222", stroke_width=1.6,
                                              id=f"{self.prefix}rec{b.rec}", class_="record"))
                cx += self.S * SLOT_W + CHAIN_GAP
            self.parts.append("</g>")
            self.rows[(kind, j)] = (x, x + LABEL_W + (cx - x - LABEL_W - CHAIN_GAP if chain else 0), y)
            y += SLOT_H + ROW_GAP
        return y

    # -- overlays -----------------------------------------------------------------

    def evacuation_arrows(self) -> None:
        """Arrows from each evacuated old bucket to its X and Y destinations, and the nevacuate mark.

        A destination that received entries (its mark, evacuatedX or evacuatedY, is
        in the old bucket) gets a solid arrow; the other half of a doubling, which
        received none, a dashed one.
        """
        d = self.d
        if not d.growing:
            return
        doubling = len(d.table) == 2 * len(d.old)
        for j, chain in enumerate(d.old):
            if not chain or not chain[0].evacuated or ("old", j) not in self.rows:
                continue
            marks = {t for b in chain for t in b.tophash}
            _, x1, y = self.rows[("old", j)]
            halves = [(j, "evac-x", X_COLOUR, EVACUATED_X)]
            if doubling:
                halves.append((j + len(d.old), "evac-y", Y_COLOUR, EVACUATED_Y))
            for dest, cls, colour, mark in halves:
                if ("new", dest) not in self.rows:
                    continue
                used = mark in marks
                nx, _, ny = self.rows[("new", dest)]
                y0, y1 = y + SLOT_H / 2, ny + SLOT_H / 2 + (4 if cls == "evac-y" else -4)
                self.parts.append(
                    f'<g class="{cls}{"" if used else " unused"}" data-from="{j}" data-to="{dest}">'
                    + svg.element("path", d=f"M{x1 + 4},{y0} C{x1 + 50},{y0} {nx - 50},{y1} {nx - 4},{y1}",
                                  fill="none", stroke=colour, stroke_width=1.8 if used else 1,
                                  stroke_dasharray=None if used else "4 3", marker_end="url(#lay-arrow)")
                    + svg.element("text", "X" if cls == "evac-x" else "Y", x=nx - 16, y=y1 - 4,
                                  fill=colour, font_weight="bold", font_size=11)
                    + "</g>")
        n = len(d.old)
        if d.nevacuate < n:
            x0, _, y = self.rows[("old", d.nevacuate)]
            self.parts.append(svg.element("text", "nevacuate", x=x0 + 30, y=y + 29, fill=RED, font_size=9,
                                          id=f"{self.prefix}nevacuate", class_="nevacuate",
                                          data_value=d.nevacuate))
        else:
            x0, _, y = self.rows[("old", n - 1)]
            self.parts.append(svg.element("text", f"nevacuate={d.nevacuate}: all evacuated", x=x0,
                                          y=y + SLOT_H + 10, fill=RED, font_size=9, id=f"{self.prefix}nevacuate",
                                          class_="nevacuate", data_value=d.nevacuate))

    def iterator_marks(self, arrays: list[tuple]) -> None:
        for it in self.d.iterators:
            if it.state not in ("between calls", "inside mapiternext"):
                continue
            kind = next((k for k, _, base, _ in arrays if base == it.buckets), None)
            if kind is not None and (kind, it.start) in self.rows:
                x, _, y = self.rows[(kind, it.start)]
                self.parts.append(svg.element("text", svg.text(f"it{it.index} start"), x=x, y=y + SLOT_H + 8,
                                              fill=IT_COLOUR, font_size=9, class_="it-start",
                                              id=f"{self.prefix}it{it.index}-start"))
            if it.bptr and (it.bptr, 0) in self.slot_boxes:
                x, y = self.slot_boxes[(it.bptr, 0)]
                self.parts.append(svg.element("rect", x=x - 3, y=y - 3, width=self.S * SLOT_W + 6, height=SLOT_H + 6,
                                              fill="none", stroke=IT_COLOUR, stroke_width=3, class_="it-bptr",
                                              id=f"{self.prefix}it{it.index}-bptr", data_record=it.bptr))
                if it.i < self.S:
                    nxt = (it.offset + it.i) % self.S
                    sx = x + nxt * SLOT_W + SLOT_W / 2
                    self.parts.append(svg.element("path", d=f"M{sx - 5},{y - 11} L{sx + 5},{y - 11} L{sx},{y - 4} Z",
                                                  fill=IT_COLOUR, class_="it-next", data_slot=nxt,
                                                  id=f"{self.prefix}it{it.index}-next"))

    # -- the whole panel ---------------------------------------------------------------

    def line(self, text: str, x: float, y: float, cls: str, **attrs) -> None:
        self.longest = max(self.longest, len(text) + int((x - 10) / 7))
        self.parts.append(svg.element("text", svg.text(text), class_=cls, x=x, y=y, **attrs))

    def draw(self, x0: float, y0: float) -> tuple[float, float]:
        """Draw the panel at (x0, y0); return its width and height."""
        view, d, i = self.view, self.d, self.i
        y = y0 + 16
        title = f"step {i}: {view.step_label(i)}" if i else "state 0: initial state"
        self.line(title, x0, y, "step-title")
        for line in view.events(i):
            y += LINE
            self.line(line, x0 + 12, y, "event")
        y += LINE + 4
        hmap = (f"hmap: B={d.B} count={d.count} noverflow={d.noverflow} nevacuate={d.nevacuate} "
                f"flags={'|'.join(d.flags) or '0'} buckets={'#' + str(d.buckets) if d.buckets else 'nil'} "
                f"oldbuckets={'#' + str(d.oldbuckets) if d.oldbuckets else 'nil'}")
        self.line(hmap, x0, y, "hmap", id=f"{self.prefix}hmap")
        contents = ", ".join(f"{k}={v}" for k, v in d.contents.items()) or "empty"
        y += LINE
        self.line(f"map contents (ghost): {contents}", x0, y, "hmap")
        y += 16
        left, right = self.arrays()
        left_w = max([LABEL_W + chain_width(c, self.S) for _, _, _, c in left] + [0])
        ly = y
        for kind, title, _, chains in left:
            ly = self.array(kind, title, chains, x0, ly) + 8
        rx = x0 + (left_w + EVAC_GAP if left else 0)
        ry = y
        for kind, title, _, chains in right:
            ry = self.array(kind, title, chains, rx, ry) + 8
        if not left and not right:
            self.parts.append(svg.element("text", "no bucket array (buckets = nil)", x=x0, y=y + 12, fill="#777"))
            ry = y + 20
        right_w = max([LABEL_W + chain_width(c, self.S) for _, _, _, c in right] + [0])
        self.evacuation_arrows()
        self.iterator_marks(left + right)
        y = max(ly, ry) + 6
        for it in d.iterators:
            if it.state == "idle":
                continue
            check = "noCheck" if it.check is None else str(it.check)
            text = (f"it{it.index}: {it.state}; B={it.B} buckets=#{it.buckets} startBucket={it.start} "
                    f"offset={it.offset} bucket={it.bucket} bptr={'#' + str(it.bptr) if it.bptr else 'nil'} "
                    f"i={it.i} wrapped={'true' if it.wrapped else 'false'} checkBucket={check}")
            if it.key is not None:
                text += f"; returned {it.key}={it.value}"
            y += LINE
            self.line(text, x0, y, "it-line", id=f"{self.prefix}it{it.index}")
        if i == view.violating_state():
            for why in view.violation():
                y += LINE + 2
                self.line(f"violates {view.prop}: {why}", x0, y, "violation")
        y += 10
        width = max(rx - x0 + right_w, 7 * self.longest, 620)
        return width, y - y0


DEFS = ('<defs><marker id="lay-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 Z" fill="context-stroke"/></marker></defs>')


def panel_svg(view, i: int) -> str:
    """Draw one state's layout as a standalone SVG document."""
    p = Panel(view, i, f"s{i}-")
    w, h = p.draw(10, 4)
    body = [DEFS, f'<g id="step-{i}" class="panel" data-step="{i}">'] + p.parts + ["</g>"]
    return svg.document(w + 30, h + 10, body, f"{view.title()}: state {i}", CSS)


def render(view, step: int | None = None) -> str:
    """Draw every state's layout, one panel below the other, or only state ``step``."""
    if step is not None:
        return panel_svg(view, step)
    body = [DEFS, svg.element("text", svg.text(view.summary()), x=10, y=20, font_size=14, font_weight="bold")]
    y, width = 34, 0.0
    for i in range(len(view.states)):
        p = Panel(view, i, f"s{i}-")
        w, h = p.draw(10, y)
        body += [f'<g id="step-{i}" class="panel" data-step="{i}">'] + p.parts + ["</g>"]
        body.append(svg.element("line", x1=0, x2=max(w + 30, 640), y1=y + h + 4, y2=y + h + 4, stroke="#ccc"))
        y += h + 12
        width = max(width, w)
    return svg.document(width + 30, y + 10, body, f"bucket layout: {view.title()}", CSS)
