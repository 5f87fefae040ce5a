"""The trace as a Mermaid sequence diagram.

Participants are the Ps, the global run queue and sysmon (which runs at each
tick).  Each step is a message from the P that acts: to itself, to the victim P
of a steal, or to the global queue when Gs move there.  Ticks are notes across
all Ps; a lasso's repeating steps sit in a ``loop`` block.
"""

from __future__ import annotations

import re

from checker.render.explain import moves
from checker.render.view import TraceView
from checker.trace import describe_rule


def escape(text: str) -> str:
    """Mermaid message text: # and ; written as entity codes, arrows as a single character."""
    return re.sub(r"[#;]", lambda m: f"#{ord(m.group(0))};", text).replace("->", "→")


def actor(view: TraceView, i: int) -> str:
    params = view.rules[i].params
    if "p" in params:
        return f"P{params['p']}"
    if "owner" in params:
        return f"P{params['owner']}"
    return "M"


def target(view: TraceView, i: int, sender: str) -> str:
    kinds = {ev.kind: ev for ev in view.events(i)}
    if "steal" in kinds:
        return f"P{kinds['steal'].victim_p}"
    if "to-gq" in kinds or "from-gq" in kinds:
        return "GQ"
    return sender


def render(view: TraceView) -> str:
    """Return Mermaid sequence-diagram text of the trace."""
    ps = [f"P{p}" for p in range(view.nP)]
    across = f"{ps[0]},{ps[-1]}" if len(ps) > 1 else ps[0]
    uses_m = any(not view.is_tick(i) and actor(view, i) == "M" for i in range(1, len(view.states)))
    lines = ["sequenceDiagram", f"    title {escape(view.title())}"]
    lines += [f"    participant {p}" for p in ps]
    lines += ["    participant GQ as global queue", "    participant sysmon"]
    if uses_m:
        lines.append("    participant M as M without a P")
    start = ", ".join(f"{name} {view.place(0, g).short()}" for g, name in enumerate(view.g_names))
    lines.append(f"    Note over {across}: state 0: {escape(start)}")

    indent = "    "
    ticks = 0
    for i in range(1, len(view.states)):
        if view.loop is not None and i == view.loop + 1:
            lines.append(f"    loop repeats forever (back to state {view.loop})")
            indent = "        "
        rule = view.rules[i]
        moved = "; ".join(moves(view, i))
        if view.is_tick(i):
            ticks += 1
            lines.append(f"{indent}Note over {across}: tick {ticks}")
            for ev in view.events(i):
                if ev.p is not None and ev.kind in ("preempt-request", "handoff"):
                    lines.append(f"{indent}sysmon->>P{ev.p}: {escape(ev.text)}")
            continue
        sender = actor(view, i)
        text = f"{i}: {describe_rule(view.model, rule)}" + (f": {moved}" if moved else "")
        lines.append(f"{indent}{sender}->>{target(view, i, sender)}: {escape(text)}")
        for ev in view.events(i):
            if ev.kind == "preempt-request" and ev.p is not None:
                lines.append(f"{indent}{sender}->>P{ev.p}: {escape(ev.text)}")
            elif ev.kind == "preempt-blocked":
                lines.append(f"{indent}Note right of {sender}: {escape(ev.text)}")

    if view.loop is not None:
        lines.append("    end")
    elif view.violated:
        lines.append(f"    Note over {across}: state {len(view.states) - 1} violates {escape(view.meta['property'])}")
    return "\n".join(lines) + "\n"
