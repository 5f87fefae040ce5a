"""One self-contained HTML page that steps through a trace.

The page contains the timeline SVG, a table of the Ps, the global queue, a table
of the Gs, the explanation of the current step and the narrative.  The script
and style are inlined and the trace is embedded as JSON, so the file needs no
network and no other file.
"""

from __future__ import annotations

import json
from importlib import resources

from checker.render import explain, svg, timeline
from checker.render.guards import Explainer
from checker.render.view import TraceView
from checker.trace import changes, describe_rule


def asset(name: str) -> str:
    return resources.files("checker.render").joinpath(name).read_text(encoding="utf-8")


def page_data(view: TraceView) -> dict:
    """Per state: its snapshot, the step that led to it, its explanation and its x on the timeline."""
    ex = Explainer(view.model)
    patched = explain.patched_rules(view.model)
    steps = []
    for i in range(len(view.states)):
        if i == 0:
            label, text = "initial state", "\n".join(explain.initial_lines(view))
        else:
            label, text = describe_rule(view.model, view.rules[i]), "\n".join(explain.step_lines(view, ex, i, patched))
        steps.append({"label": label, "explain": text, "tick": view.ticks_before(i + 1),
                      "x": round(timeline.step_x(view, i), 1), "state": view.snapshot(i)})
    return {"title": view.title(), "loop": view.loop, "steps": steps}


def script_json(data: dict) -> str:
    """JSON safe inside a <script> element: no "<" survives, so no "</script>" can end it early."""
    return json.dumps(data).replace("<", "\\u003c")


def narrative_items(view: TraceView) -> str:
    items = []
    loop = set(view.loop_steps())
    for i in range(len(view.states)):
        if i == 0:
            text = "0  initial state"
        else:
            diff = ", ".join(changes(view.model, view.states[i - 1], view.states[i]))
            text = f"{i}  {describe_rule(view.model, view.rules[i])}" + (f"  [{diff}]" if diff else "")
        cls = ' class="loop"' if i in loop else ""
        items.append(f'<li data-step="{i}"{cls}>{svg.text(text)}</li>')
    return "\n".join(items)


def render(view: TraceView) -> str:
    """Return the HTML page."""
    summary = explain.summary(view)
    loop_note = ""
    if view.loop is not None:
        loop_note = (f"<p class=\"hint\">Steps marked red repeat forever: after step {len(view.states) - 1} the "
                     f"state equals state {view.loop} again (wait counters aside).</p>")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{svg.text(view.title())}</title>
<style>
{asset("page.css")}</style>
</head>
<body>
<h1>{svg.text(view.title())}</h1>
<div class="summary">{svg.text(summary)}</div>
<div class="controls">
<button id="prev" type="button">&#9664; previous</button>
<button id="next" type="button">next &#9654;</button>
<input id="slider" type="range" min="0" max="{len(view.states) - 1}" value="0" aria-label="step">
<span>step <b id="step-index">0</b> of {len(view.states) - 1}, tick <b id="step-tick">0</b>:
<span id="step-label"></span></span>
</div>
<p class="hint">Left and right arrow keys step through the trace; Home and End jump to the first and last state.</p>
<div class="timeline">{svg.strip_prolog(timeline.render(view, cursor=True))}</div>
<div class="panels">
<div class="panel"><b>Ps</b> <span id="stw"></span>
<table><thead><tr><th>P</th><th>status</th><th>running G</th><th>runnext</th><th>local run queue</th>
<th>M, signal</th><th>schedtick</th></tr></thead><tbody id="p-rows"></tbody></table>
<p>global run queue: <span id="gq"></span></p></div>
<div class="panel"><b>Gs</b> (red: ready to run and not running)
<table><thead><tr><th>G</th><th>status</th><th>where</th><th>next operation</th><th>preempt</th>
<th>wait</th></tr></thead><tbody id="g-rows"></tbody></table></div>
</div>
<h2>This step</h2>
<pre id="explain"></pre>
<h2>Narrative</h2>
{loop_note}
<ol id="narrative">
{narrative_items(view)}
</ol>
<script type="application/json" id="trace-data">{script_json(page_data(view))}</script>
<script>
{asset("page.js")}</script>
</body>
</html>
"""
