"""One self-contained HTML page that steps through a map trace.

The page shows the map timeline, the bucket layout of the current state, the
hmap line, the explanation of the step and the narrative.  It uses the
scheduler page's style (page.css) and map-page.js, which follows page.js's
controls: the arrow keys, Home and End, the slider, clicks on narrative lines,
and the ``#step=N`` and ``#keys=K1,K2`` URL fragments.  Every state's layout
is inlined as its own SVG and shown when the state is current, so the page
needs no network and no other file.
"""

from __future__ import annotations

from checker.render import layout, maptext, maptimeline, svg
from checker.render.html import asset, script_json
from checker.render.mapexplain import MapExplainer, patched_rules, step_lines
from checker.render.mapview import MapTraceView

MAP_CSS = """
.layout { border: 1px solid #ddd; margin-top: 12px; overflow-x: auto; }
.layout-step[hidden] { display: none; }
#hmap { font-family: monospace; font-size: 12px; }
.violation { color: #d62728; font-weight: bold; }
#narrative li.violating { border-left: 3px solid #d62728; }
"""


def page_data(view: MapTraceView) -> dict:
    """Per state: the step that led to it, its explanation, its hmap line and its x on the timeline."""
    ex = MapExplainer(view.model)
    patched = patched_rules(view.model)
    steps = []
    for i in range(len(view.states)):
        if i == 0:
            text = "state 0: initial state: " + " / ".join(view.layout(0).summary_lines())
        else:
            text = "\n".join(step_lines(view, ex, i, patched))
        steps.append({"label": view.step_label(i), "explain": text, "hmap": maptext.hmap_line(view, i),
                      "x": maptimeline.step_x(i)})
    return {"title": view.title(), "steps": steps}


def narrative_items(view: MapTraceView) -> str:
    items = []
    for i in range(len(view.states)):
        text = f"{i}  {view.step_label(i)}"
        events = view.events(i)
        if events:
            text += f"  [{'; '.join(events)}]"
        cls = ' class="violating"' if i == view.violating_state() else ""
        items.append(f'<li data-step="{i}"{cls}>{svg.text(text)}</li>')
    return "\n".join(items)


def render(view: MapTraceView) -> str:
    """Return the HTML page."""
    panels = "\n".join(f'<div class="layout-step" data-step="{i}"{" hidden" if i else ""}>'
                       f'{svg.strip_prolog(layout.panel_svg(view, i))}</div>' for i in range(len(view.states)))
    violation = "".join(f"<p class=\"violation\">state {view.last} violates {svg.text(view.prop)}: "
                        f"{svg.text(why)}</p>" for why in view.violation())
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{svg.text(view.title())}</title>
<style>
{asset("page.css")}{MAP_CSS}</style>
</head>
<body>
<h1>{svg.text(view.title())}</h1>
<div class="summary">{svg.text(view.summary())}</div>
{violation}
<div class="controls">
<button id="prev" type="button">&#9664; previous</button>
<button id="next" type="button">next &#9654;</button>
<input id="slider" type="range" min="0" max="{len(view.states) - 1}" value="0" aria-label="step">
<span>step <b id="step-index">0</b> of {len(view.states) - 1}: <span id="step-label"></span></span>
</div>
<p class="hint">Left and right arrow keys step through the trace; Home and End jump to the first and last state.</p>
<div class="timeline">{svg.strip_prolog(maptimeline.render(view, cursor=True))}</div>
<p id="hmap"></p>
<div class="layout">
{panels}
</div>
<h2>This step</h2>
<pre id="explain"></pre>
<h2>Narrative</h2>
<ol id="narrative">
{narrative_items(view)}
</ol>
<script type="application/json" id="trace-data">{script_json(page_data(view))}</script>
<script>
{asset("map-page.js")}</script>
</body>
</html>
"""
