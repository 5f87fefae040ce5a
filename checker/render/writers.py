"""Views of a two-writer map trace (spec.maps.writers): narrative, explanation and sequence diagram.

A two-writer trace has no buckets, so the bucket layout and the views built
on it do not apply.  Each state is summarised by the flag in memory, each
writer's step and store buffer, and the fatal error if one was raised.
"""

from __future__ import annotations

from checker.render.maptext import escape
from spec.maps.writers import PHASE_NAMES

# Formats a two-writer trace supports; the others exit 2 and name these.
SUPPORTED = ("text", "mermaid")


def summary(model, s) -> str:
    """Return one line for state ``s``: the flag in memory, each writer's step and buffer, the fatal error."""
    f = model.fields
    parts = [f"flag in memory {s[f['flag'].base]}"]
    for w in range(model.config.goroutines):
        part = f"writer {w} {PHASE_NAMES[s[f['phase'].base + w]]}"
        if "sbn" in f:
            n = s[f["sbn"].base + w]
            pending = s[f["sb"].base + w * model.config.buffer:f["sb"].base + w * model.config.buffer + n]
            part += f", buffer {list(pending)}"
        parts.append(part)
    fatal = s[f["fatal"].base]
    parts.append(f"fatal \"concurrent map writes\" in writer {fatal - 1}" if fatal else "no fatal error")
    return "; ".join(parts)


def violation(model, s, prop: str) -> list[str]:
    """Return why state ``s`` violates ``prop``, in words."""
    f = model.fields
    if prop == "no-false-alarm":
        return ["the fatal error was raised although the two writes did not overlap"]
    overlap = {"detected": "overlapped around their mutations", "detected-while-held": "held the flag at once"}
    return [f"both writes ended without the fatal error although they {overlap.get(prop, 'overlapped')}"
            + (" (no writer read the other's flag write)" if "sbn" in f and s[f["flag"].base] == 0 else "")]


def narrative(model, trace, prop: str | None = None, head: str = "") -> str:
    """Narrate a trace: per step the rule, its runtime source, what it does and the state after it."""
    lines = [head] if head else []
    for i, (rule_index, s) in enumerate(trace):
        if rule_index is None:
            lines.append(f"{i:4}  initial state: {summary(model, s)}")
            continue
        rule = model.rules[rule_index]
        lines.append(f"{i:4}  {rule.label()}  [{rule.cite}]")
        lines.append(f"        {rule.doc}")
        lines.append(f"        -> {summary(model, s)}")
    if prop is not None:
        for why in violation(model, trace[-1][1], prop):
            lines.append(f"      state {len(trace) - 1} violates {prop}: {why}")
    return "\n".join(lines) + "\n"


def text(view) -> str:
    return narrative(view.model, list(zip([None] + [view.model.rules.index(r) for r in view.rules[1:]],
                                          view.states)), view.prop if view.violated else None)


def mermaid(view) -> str:
    """Return a Mermaid sequence diagram: each writer's steps against the flag in memory."""
    model = view.model
    lines = ["sequenceDiagram", f"    title {escape(view.title())}",
             "    participant w0 as writer 0", "    participant mem as h.flags (memory)",
             "    participant w1 as writer 1",
             f"    Note over w0,w1: state 0: {escape(summary(model, view.states[0]))}"]
    for i in range(1, len(view.states)):
        rule = view.rules[i]
        w = rule.params["w"]
        arrow = "->>" if rule.name in ("acquire", "release", "flush") else "-->>"
        lines.append(f"    w{w}{arrow}mem: {escape(f'{i}: {rule.name}')}")
        lines.append(f"    Note over w{w}: {escape(summary(model, view.states[i]))}")
    if view.violated:
        for why in violation(model, view.states[-1], view.prop):
            lines.append(f"    Note over w0,w1: state {view.last} violates {escape(view.prop)}: {escape(why)}")
    return "\n".join(lines) + "\n"


def explain(view) -> str:
    """Narrate each step in plain words: the rule's documentation, its runtime source and the state after it."""
    model = view.model
    lines = [view.summary(), f"{model.property(view.prop).doc}.", "",
             f"state 0: {summary(model, view.states[0])}"]
    for i in range(1, len(view.states)):
        rule = view.rules[i]
        lines += ["", f"step {i}: writer {rule.params['w']}: {rule.doc}",
                  f"  models: {rule.cite}",
                  f"  now: {summary(model, view.states[i])}"]
    if view.violated:
        lines.append("")
        lines += [f"state {view.last} violates {view.prop}: {why}"
                  for why in violation(model, view.states[-1], view.prop)]
    return "\n".join(lines) + "\n"
