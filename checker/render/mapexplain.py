"""Step-by-step explanation of a map trace: the runtime function each step models and why it could happen.

The runtime functions come from the rule's ``cite`` (``runtime/map.go:
mapassign, hashGrow, ...``), the description from its ``doc``, and the reasons
from evaluating its guard on the state before the step, with the same
guards.Explainer the scheduler explanation uses.  Map fields are indexed by
record, slot, iterator and key, so the explainer prints those indices as such.
"""

from __future__ import annotations

from checker import maptrace
from checker.render.explain import citations, patched_rules, rule_lines
from checker.render.guards import Explainer
from checker.render.mapview import MapTraceView
from spec.lang import Const

# The inputs each rule reads from the state before it (spec/maps/state.py: in_*).
RULE_INPUTS = {"mapassign": ("in_val", "in_key", "in_top"), "mapdelete": ("in_key", "in_top"),
               "mapaccess": ("in_key", "in_top"), "mapiterinit": ("in_start", "in_offset")}


class MapExplainer(Explainer):
    """Prints map guard expressions: iterator and key indices by name, tophash and iterator states by name."""

    def index_label(self, field, k: int, ix) -> str:
        if not isinstance(ix, Const):
            return self.fmt(ix)
        keys = self.model.config.keys
        if (field.name in maptrace.PER_KEY and k == 0) or (field.name in maptrace.PER_IT_KEY and k == 1):
            return keys[ix.value].name if ix.value < len(keys) else str(ix.value)
        return str(ix.value)

    def const_for(self, other, value: int) -> str:
        name = getattr(getattr(other, "field", None), "name", None)
        if name == "tophash":
            return maptrace.tophash_name(value)
        if name == "it_state":
            return maptrace.IT_STATE_NAMES.get(value, str(value))
        if name in maptrace.KEY_VALUED and value:
            return maptrace.key_name(self.model, value)
        if name == "it_checkBucket" and value == self.model.state.no_check:
            return "noCheck"
        return str(value)


def runtime_line(rule) -> str:
    cites = citations(rule.cite)
    return "; ".join(f"{', '.join(funcs)} in {path}" if funcs else path for path, funcs in cites) or rule.cite


def inputs_line(view: MapTraceView, i: int) -> str:
    """List the inputs step i reads, with their values in the state before it."""
    rule = view.rules[i]
    names = [n for n in RULE_INPUTS.get(rule.name, ())
             if (n != "in_key" or view.model.config.key_from_input) and (n != "in_top" or any(view.model.state.nan))]
    out = []
    for name in names:
        value = view.get(i - 1, name)
        out.append(f"{name}={maptrace.key_name(view.model, value) if name == 'in_key' else value}")
    if rule.name == "mapiterinit":
        start = view.get(i - 1, "in_start") & ((1 << view.layout(i - 1).B) - 1)
        out.append(f"so startBucket = {start} (in_start & bucketMask(B))")
    return ", ".join(out)


def key_changes(view: MapTraceView, i: int) -> list[str]:
    """Describe how step i changed the map's contents: keys inserted, updated or deleted."""
    out = []
    for k, name in enumerate(view.key_names()):
        count_a, count_b = view.get(i - 1, "g_count", k), view.get(i, "g_count", k)
        value_a, value_b = view.get(i - 1, "g_value", k), view.get(i, "g_value", k)
        if count_b > count_a:
            out.append(f"inserts {name}={value_b}" + (f" ({count_b} entries)" if count_b > 1 else ""))
        elif count_b < count_a:
            out.append(f"deletes {name}" if count_b == 0 else f"deletes an entry of {name} ({count_b} left)")
        elif count_b and value_b != value_a:
            out.append(f"updates {name} from {value_a} to {value_b}")
    return out


def step_lines(view: MapTraceView, ex: MapExplainer, i: int, patched: dict | None = None) -> list[str]:
    """Explain step i: rule, runtime code, patch, guard conditions that held, what it did, fields it changed."""
    lines = rule_lines(view, ex, i, f"step {i}: {view.rules[i].label()}", runtime_line, patched)
    read = inputs_line(view, i)
    if read:
        lines.append(f"  inputs: {read}")
    events = key_changes(view, i) + view.events(i)
    lines.append(f"  effect: {'; '.join(events) if events else 'no change to the keys, no grow or iterator event'}")
    diff = view.changes(i)
    if diff:
        lines.append(f"  fields: {', '.join(diff)}")
    lines.append("  layout after: " + " / ".join(view.layout(i).summary_lines()))
    if i == view.violating_state():
        lines += [f"  state {i} violates {view.prop}: {why}" for why in view.violation()]
    return lines


def render(view: MapTraceView) -> str:
    """Return the plain-text explanation of every step of a map trace."""
    ex = MapExplainer(view.model)
    patched = patched_rules(view.model)
    lines = [view.summary(), f"property: {view.model.property(view.prop).doc}", ""]
    lines.append("state 0: initial state (make(map[k]v, hint), runtime/map.go: makemap): "
                 + " / ".join(view.layout(0).summary_lines()))
    for i in range(1, len(view.states)):
        lines += [""] + step_lines(view, ex, i, patched)
    return "\n".join(lines) + "\n"
