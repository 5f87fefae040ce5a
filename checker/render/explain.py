"""Step-by-step explanation of a trace: what each step does, which runtime code it models, why it could happen.

The runtime functions come from the rule's documentation, which cites them as
``runtime/FILE.go: function, function``.  The reasons come from evaluating the
rule's guard on the state before the step (see guards.py).  Neither is written
per rule here.
"""

from __future__ import annotations

import re

from checker.bmc import Result
from checker.render.guards import Explainer
from checker.render.view import TraceView
from checker.trace import changes, describe_rule
from spec.sched.ops import is_preemption_point

CITATION = re.compile(r"(runtime/[\w/]+\.go)(?::\s*([^;()]*))?")
VERSIONED = re.compile(r"\b1\.\d+:\s*([A-Za-z_]\w{3,})")
LEADING = re.compile(r"^([A-Za-z_]\w*)(?:'s\b| (?:step|last round)\b)")
NOT_FUNCTIONS = {"Go", "all", "and", "in", "the", "if", "either", "then", "with"}
USER_CODE = {"compute", "call", "inline-call", "range-map"}


def citations(doc: str) -> list[tuple[str, list[str]]]:
    """Return the runtime files a rule's doc cites, each with the functions named after it, in order.

    >>> citations("findRunnable step 6 (runtime/proc.go: runqget, Go 1.19 and 1.27): runnext first")
    [('runtime/proc.go', ['findRunnable', 'runqget'])]
    >>> citations("runtime/proc.go: Gosched -> gosched_m -> goschedImpl (all versions)")
    [('runtime/proc.go', ['Gosched', 'gosched_m', 'goschedImpl'])]
    """
    out: list[tuple[str, list[str]]] = []
    for m in CITATION.finditer(doc):
        path, names = m.group(1), []
        for segment in re.split(r",|->|→|/", m.group(2) or ""):
            words = [w for w in segment.split() if w not in NOT_FUNCTIONS]
            if words and re.fullmatch(r"[A-Za-z_][\w.]*", words[0]):
                names.append(words[0])
        tail = doc[m.end():m.end() + 80].lstrip()
        if tail.startswith("("):
            names += [n for n in VERSIONED.findall(tail.split(")")[0]) if n not in names]
        found = dict(out)
        if path in found:
            found[path] += [n for n in names if n not in found[path]]
            out = list(found.items())
        else:
            out.append((path, names))
    lead = LEADING.match(doc)
    if lead and out and lead.group(1) not in out[0][1]:
        out[0] = (out[0][0], [lead.group(1)] + out[0][1])
    return out


def cited_functions(rule) -> list[str]:
    return [f for _, funcs in citations(rule.doc) for f in funcs]


def runtime_line(rule) -> str:
    cites = citations(rule.doc)
    if cites:
        return "; ".join(f"{', '.join(funcs)} in {path}" if funcs else path for path, funcs in cites)
    if rule.name in USER_CODE:
        return "no runtime function: user code"
    return f"{rule.cite} (the rule's doc names no function)"


def patched_rules(model) -> dict[str, tuple[str, object]]:
    """Map the label of each rule the model's patches touched to the kind of change and the unpatched rule.

    The kind is "added" (no unpatched rule), "replaced" (the patch also gave the rule
    its own documentation) or "changed".  The model is built again without its
    patches, and rules with the same label are compared by guard and body.
    """
    if not model.patches:
        return {}
    if getattr(model, "kind", "sched") == "map":
        from spec.maps.model import build_model as build_map
        base = build_map(model.config, model.name, [])
    else:
        from spec.sched.model import build_model
        base = build_model(model.scenario, model.profile.name, model.profile.asyncpreemptoff, [])
    before = {r.label(): r for r in base.rules}
    out = {}
    for rule in model.rules:
        old = before.get(rule.label())
        if old is None:
            out[rule.label()] = ("added", None)
        elif repr(old.guard) != repr(rule.guard) or repr(old.body) != repr(rule.body):
            out[rule.label()] = ("replaced" if old.doc != rule.doc else "changed", old)
    return out


def patch_note(model, rule, patched: dict) -> str | None:
    """Return the line that names the patch that added or changed ``rule``, or None when none did."""
    change, _ = patched.get(rule.label(), (None, None))
    if change is None:
        return None
    names = "; ".join(f"{p.name} ({p.description})" for p in model.patches)
    if change == "added":
        return f"  patched: this rule is added by {names}"
    if change == "replaced":
        return (f"  patched: this rule is replaced by {names}; the runtime line names the code it replaces, "
                f"the models line is the patch's")
    return (f"  patched: this rule is changed by {names}; the runtime and models lines describe the "
            f"unpatched runtime")


def unpatched(rule, patched: dict):
    """Return the rule as the unpatched model has it (``rule`` itself when no patch touched it or added it)."""
    _, old = patched.get(rule.label(), (None, None))
    return old or rule


def summary(view: TraceView) -> str:
    m = view.meta
    res = Result(m["property"], m.get("verdict", "violated"), m.get("length", len(view.states) - 1), 0.0,
                 loop=view.loop)
    head = f"{view.title()} {res.summary()}"
    if view.victim is not None:
        head += f"; victim {view.g_names[view.victim]}"
    return head


def moves(view: TraceView, i: int) -> list[str]:
    """Gs whose place changed at step i, as "name: before -> after"."""
    out = []
    for g, name in enumerate(view.g_names):
        a, b = view.place(i - 1, g).short(), view.place(i, g).short()
        if a != b:
            out.append(f"{name}: {a} -> {b}")
    for p in range(view.nP):
        a, b = view.p_status(i - 1, p), view.p_status(i, p)
        if a != b:
            out.append(f"P{p}: {a} -> {b}")
    return out


def notes(view: TraceView, i: int) -> list[str]:
    """Facts a reader needs at this step: an operation's yield-point attributes, the lasso."""
    out = []
    node = view.op_of(i)
    if node is not None:
        op = node.op
        point = is_preemption_point(op, view.model.profile.async_enabled)
        out.append(f"operation {node.text!r}: {op.doc}; stack-check prologue: {'yes' if op.prologue else 'no'}, "
                   f"async safe point: {'yes' if op.async_safe else 'no'}, so "
                   f"{'a' if point else 'no'} preemption point under {view.model.profile.label()}")
    for ev in view.events(i):
        if ev.kind in ("preempt-request", "preempt-blocked", "steal", "handoff", "to-gq", "from-gq"):
            out.append(ev.text)
    if view.loop is not None and i == view.loop + 1:
        out.append(f"the loop starts here: after step {len(view.states) - 1} the state equals state "
                   f"{view.loop} again (wait counters aside), so these steps repeat forever")
    return out


def initial_lines(view: TraceView) -> list[str]:
    lines = ["state 0: initial state: main created the start goroutines with newproc"]
    lines += [f"  {name}: {view.place(0, g).short()}" for g, name in enumerate(view.g_names)]
    return lines


def rule_lines(view, ex: Explainer, i: int, heading: str, runtime, patched: dict | None) -> list[str]:
    """Return a step's heading, runtime code, rule doc, patch note and the guard conditions that held.

    ``runtime(rule)`` names the runtime code a rule models; scheduler and map
    rules cite it differently.
    """
    rule = view.rules[i]
    lines = [heading, f"  runtime: {runtime(unpatched(rule, patched or {}))}", f"  models: {rule.doc}"]
    note = patch_note(view.model, rule, patched or {})
    if note:
        lines.append(note)
    lines.append(f"  enabled because: {'; '.join(ex.guard_reasons(rule.guard, view.states[i - 1]))}")
    return lines


def step_lines(view: TraceView, ex: Explainer, i: int, patched: dict | None = None) -> list[str]:
    """Explain step i: rule, runtime code, patch, guard conditions that held, effect, notes."""
    rule = view.rules[i]
    heading = f"step {i} (tick {view.ticks_before(i)}): {describe_rule(view.model, rule)}"
    lines = rule_lines(view, ex, i, heading, runtime_line, patched)
    moved = moves(view, i)
    lines.append(f"  effect: {'; '.join(moved) if moved else 'no G or P changes place'}")
    diff = changes(view.model, view.states[i - 1], view.states[i])
    if diff:
        lines.append(f"  fields: {', '.join(diff)}")
    lines += [f"  note: {n}" for n in notes(view, i)]
    last = len(view.states) - 1
    if i == last and view.loop is None and view.violated:
        lines.append(f"  state {last} violates {view.meta['property']}")
    return lines


def render(view: TraceView) -> str:
    """Return the plain-text explanation of every step."""
    ex = Explainer(view.model)
    patched = patched_rules(view.model)
    lines = [summary(view), f"property: {view.model.property(view.meta['property']).doc}", ""]
    lines += initial_lines(view)
    for i in range(1, len(view.states)):
        lines += [""] + step_lines(view, ex, i, patched)
    return "\n".join(lines) + "\n"
