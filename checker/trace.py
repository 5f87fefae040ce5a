"""Counterexample traces: ITF JSON, text narratives and replay.

A trace is stored in the Informal Trace Format (ITF) that Apalache and Quint
use: ``#meta`` at the top (scenario, profile, property, verdict, and the
scenario's TOML text so the trace replays without the original file), ``vars``,
``states`` (one object per state, each with its own ``#meta`` naming the rule
that led to it), and ``loop`` for a lasso.  Model values are small integers, so
no ``#bigint`` encoding is needed; fields with a shape are nested JSON arrays.
G and P references in the state are index + 1, with 0 for "none"; the G names
are listed in ``#meta.g_names``.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from spec.sched.state import G_STATUS_NAMES, P_STATUS_NAMES

ITF_DESCRIPTION = "Informal Trace Format (Apalache ADR-015)"
GREF_FIELDS = {"curg", "runnext", "runq", "gq"}
PREF_FIELDS = {"sysp", "stwowner"}
PER_G = {"gstatus", "pc", "gpreempt", "wait", "tarmed", "tleft", "tpp", "parked", "sysleft", "sysp",
         "npoll", "nleft", "pollyield"}


class TraceError(Exception):
    """An invalid trace file: the message names the file and what is wrong."""


# -- encoding -----------------------------------------------------------------

def state_to_itf(model, state: list[int]) -> dict:
    out = {}
    for f in model.layout.fields.values():
        vals = state[f.base:f.base + f.size]
        if not f.shape:
            out[f.name] = vals[0]
        elif len(f.shape) == 1:
            out[f.name] = list(vals)
        else:
            inner = f.shape[1]
            out[f.name] = [list(vals[i * inner:(i + 1) * inner]) for i in range(f.shape[0])]
    return out


def state_from_itf(model, obj: dict, where: str) -> list[int]:
    out = [0] * model.layout.size
    for f in model.layout.fields.values():
        if f.name not in obj:
            raise TraceError(f"{where}: missing variable {f.name!r}")
        v = obj[f.name]
        flat = v if isinstance(v, list) else [v]
        if flat and isinstance(flat[0], list):
            flat = [x for row in flat for x in row]
        if len(flat) != f.size or not all(isinstance(x, int) and not isinstance(x, bool) for x in flat):
            raise TraceError(f"{where}: variable {f.name!r} does not match the model's shape {f.shape}")
        out[f.base:f.base + f.size] = flat
    return out


def to_itf(model, result, scenario_text: str, sizes: dict) -> dict:
    sc = model.scenario
    states = []
    for i, (rule_index, st) in enumerate(result.trace):
        meta = {"index": i}
        if rule_index is not None:
            rule = model.rules[rule_index]
            meta.update({"rule": rule.name, "params": rule.params, "label": rule.label()})
        states.append({"#meta": meta, **state_to_itf(model, st)})
    doc = {
        "#meta": {
            "format": "ITF",
            "format-description": ITF_DESCRIPTION,
            "source": sc.path,
            "description": f"counterexample to {result.property} in scenario {sc.name}",
            "tool": "gmpcheck",
            "scenario": sc.name,
            "scenario_toml": scenario_text,
            "profile": model.profile.name,
            "asyncpreemptoff": model.profile.asyncpreemptoff,
            "sizes": sizes,
            "property": result.property,
            "verdict": result.verdict,
            "length": result.depth,
            "g_names": model.g_names,
            # Built-in patches by name, patch files by path: replay applies them again.
            "patches": patch_refs(model.patches),
            "victim": None if result.victim is None else model.g_names[result.victim],
        },
        "vars": list(model.layout.fields),
        "states": states,
    }
    if result.loop is not None:
        doc["loop"] = result.loop
    return doc


def patch_refs(patches) -> list[str]:
    """Return how a trace names its patches: a built-in's name, or a patch file's absolute path.

    The path is absolute so that replay, render and explain find the file from
    any working directory.
    """
    return [p.name if p.source == "built-in" else str(Path(p.source).resolve()) for p in patches]


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, so no half-written file is left."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        # mkstemp creates the file with mode 0600; give it the mode a plain
        # open() would, so the output is as readable as any other file.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- narrative ----------------------------------------------------------------

def slot_label(model, slot: int) -> str:
    f = model.layout.field_of_slot(slot)
    off = slot - f.base
    if not f.shape:
        return f.name
    idx = []
    for stride, dim in zip(f.strides(), f.shape):
        idx.append(off // stride % dim)
    if f.name in PER_G:
        return f"{f.name}[{model.g_names[idx[0]]}]"
    parts = [f"P{idx[0]}"] + [str(i) for i in idx[1:]]
    if f.name == "gq":
        parts = [str(idx[0])]
    return f"{f.name}[{']['.join(parts)}]"


def value_label(model, slot: int, v: int) -> str:
    f = model.layout.field_of_slot(slot)
    if f.name == "gstatus":
        return G_STATUS_NAMES.get(v, str(v))
    if f.name == "pstatus":
        return P_STATUS_NAMES.get(v, str(v))
    if f.name in GREF_FIELDS:
        return "-" if v == 0 else model.g_names[v - 1]
    if f.name in PREF_FIELDS:
        return "-" if v == 0 else f"P{v - 1}"
    if f.name == "pc":
        g = (slot - f.base)
        body = model.bodies[g]
        return f"{v}:{body[v].text}" if 0 <= v < len(body) else str(v)
    return str(v)


def changes(model, before, after) -> list[str]:
    """The slots that differ between two states, as "name: old→new"."""
    if getattr(model, "kind", "sched") == "map":
        from checker import maptrace
        return maptrace.changes(model, before, after)
    return [f"{slot_label(model, i)}: {value_label(model, i, a)}→{value_label(model, i, b)}"
            for i, (a, b) in enumerate(zip(before, after)) if a != b]


def describe_rule(model, rule) -> str:
    parts = []
    for k, v in rule.params.items():
        if k in ("g", "peer"):
            parts.append(f"{k}={model.g_names[v]}")
        elif k in ("p", "victim", "owner"):
            parts.append(f"{k}=P{v}")
        else:
            parts.append(f"{k}={v}")
    return rule.name + (f"({', '.join(parts)})" if parts else "")


def trace_header(model, result) -> str:
    """Return the comment lines above a narrative: scenario, profile, verdict, property, patches, victim."""
    sc = model.scenario
    head = (f"# {sc.name}, profile {model.profile.label()}: {result.property} {result.summary()}\n"
            f"# {model.property(result.property).doc}")
    for patch in model.patches:
        head += f"\n# patch {patch.name}: {patch.description}"
    if result.victim is not None:
        head += f"\n# victim: {model.g_names[result.victim]}"
    return head


def narrative(model, trace, loop=None, header: str = "") -> str:
    """Render a trace as one line per step: the rule with its parameters and only the fields that changed."""
    lines = [header] if header else []
    ticks = 0
    for i, (rule_index, st) in enumerate(trace):
        if rule_index is None:
            lines.append(f"{i:4}  initial state (tick 0)")
            continue
        rule = model.rules[rule_index]
        if rule.name == "tick":
            ticks += 1
        mark = "  <- loop starts here" if loop is not None and i == loop + 1 else ""
        diff = changes(model, trace[i - 1][1], st)
        lines.append(f"{i:4}  {describe_rule(model, rule)}{mark}")
        if diff:
            lines.append("        " + ", ".join(diff))
    if loop is not None:
        lines.append(f"      the last state equals state {loop} (wait counters aside): "
                     f"the steps after it repeat forever")
    return "\n".join(lines) + "\n"


# -- replay -------------------------------------------------------------------

@dataclass
class ReplayReport:
    valid: bool
    violated: bool
    steps: int
    message: str


def load_itf(path) -> dict:
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TraceError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise TraceError(f"{path}: cannot read the file: {e}") from None
    except json.JSONDecodeError as e:
        raise TraceError(f"{path}: invalid JSON: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("states"), list) or not doc["states"]:
        raise TraceError(f"{path}: states: missing or empty; an ITF trace needs a list of states")
    meta = doc.get("#meta")
    if not isinstance(meta, dict):
        raise TraceError(f"{path}: #meta: missing; this is not a gmpcheck trace")
    # A map trace (#meta.kind "map") has no scheduler profile.
    required = ("scenario_toml", "property") if meta.get("kind") == "map" else ("scenario_toml", "profile", "property")
    for key in required:
        if key not in meta:
            raise TraceError(f"{path}: #meta.{key}: missing; this trace was not written by gmpcheck check")
    return doc


def model_of_trace(doc: dict, path: str):
    """Rebuild the model a trace was found on: the scheduler model, or the map model for a map trace."""
    if doc["#meta"].get("kind") == "map":
        from checker.maptrace import model_of_map_trace
        return model_of_map_trace(doc, path)
    from spec.scenario import ScenarioError, parse
    from spec.sched.model import build_model
    meta = doc["#meta"]
    try:
        sc = parse(meta["scenario_toml"], f"{path}#meta.scenario_toml")
    except ScenarioError as e:
        raise TraceError(str(e)) from None
    for k, v in (meta.get("sizes") or {}).items():
        if hasattr(sc.sizes, k):
            setattr(sc.sizes, k, v)
    if meta["profile"] not in ("go1.13", "go1.19", "go1.27"):
        raise TraceError(f"{path}: #meta.profile: unknown profile {meta['profile']!r}")
    from spec.patch import PatchError, load_patch
    refs = meta.get("patches") or []
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        raise TraceError(f"{path}: #meta.patches: expected a list of patch names or paths")
    try:
        patches = [load_patch(r) for r in refs]
        return build_model(sc, meta["profile"], bool(meta.get("asyncpreemptoff", False)), patches)
    except PatchError as e:
        raise TraceError(f"{path}: #meta.patches: {e}") from None


def check_initial(model, cm, state) -> str | None:
    """Return why ``state`` is not an initial state of the model, or None.

    The slots a model leaves free at the start (``free_init``: the hashes of
    map keys without a fixed hash) and in every state (``inputs``) may hold any
    value in their field's range; every other slot must equal the model's
    initial state.  The scheduler model has neither.
    """
    free = set(getattr(model, "free_init", ())) | set(getattr(model, "inputs", ()))
    ranges = model.layout.slot_ranges()
    names = model.layout.slot_names()
    for v, (have, want) in enumerate(zip(state, cm.init)):
        if v in free:
            lo, hi = ranges[v]
            if not lo <= have <= hi:
                return f"state 0: {names[v]} is {have}, outside its range {lo}..{hi}"
        elif have != want:
            return "state 0 is not the model's initial state" + (
                f" ({names[v]} is {have}, expected {want})" if free else "")
    return None


def replay_step(model, cm, label, before, after, i: int) -> str | None:
    """Re-execute step ``i``: return why the rule ``label`` does not lead from ``before`` to ``after``, or None.

    The inputs of a map model (the environment's choices for the next step)
    are free in every state, so ``after``'s inputs are taken as recorded once
    they are checked against their fields' ranges.
    """
    if label not in cm.by_label:
        return f"step {i}: rule {label!r} does not exist in the current model"
    r = cm.by_label[label]
    if not cm.compiled[r][0](before):
        return f"step {i}: rule {label} is not enabled in state {i - 1}"
    nxt = cm.step(before, r)
    ranges = model.layout.slot_ranges()
    for v in getattr(model, "inputs", ()):
        lo, hi = ranges[v]
        if not lo <= after[v] <= hi:
            return f"step {i}: input {model.layout.slot_names()[v]} is {after[v]}, outside its range {lo}..{hi}"
        nxt[v] = after[v]
    if nxt != after:
        diff = ", ".join(changes(model, after, nxt)[:4])
        return f"step {i}: {label} leads to a different state ({diff})"
    return None


def replay(path) -> ReplayReport:
    """Re-execute a stored trace on the current model: is it still a path, still a violation?"""
    from checker.concrete import ConcreteModel, compile_expr
    doc = load_itf(path)
    model = model_of_trace(doc, str(path))
    cm = ConcreteModel(model)
    states = [state_from_itf(model, s, f"{path}: states[{i}]") for i, s in enumerate(doc["states"])]
    why = check_initial(model, cm, states[0])
    if why:
        return ReplayReport(False, False, 0, why)
    tick_seen = []
    for i in range(1, len(states)):
        label = (doc["states"][i].get("#meta") or {}).get("label")
        why = replay_step(model, cm, label, states[i - 1], states[i], i)
        if why:
            return ReplayReport(False, False, i, why)
        tick_seen.append(model.rules[cm.by_label[label]].name == "tick")
    n = len(states) - 1
    try:
        prop = model.property(doc["#meta"]["property"])
    except KeyError:
        raise TraceError(f"{path}: #meta.property: unknown property {doc['#meta']['property']!r}; "
                         f"regenerate the trace with gmpcheck check") from None
    if prop.kind == "invariant":
        ok = bool(compile_expr(prop.expr)(states[-1]))
        message = "the last state violates " + prop.name if not ok else "the last state satisfies " + prop.name
        if not ok and getattr(model, "kind", "sched") == "map":
            from checker.maptrace import violation_lines
            message += "".join(f"; {why}" for why in violation_lines(model, states[-1], prop.name))
        return ReplayReport(True, not ok, n, message)
    loop = doc.get("loop")
    if not isinstance(loop, int) or not 0 <= loop < n:
        return ReplayReport(True, False, n, "loop: missing or out of range for a starvation lasso")
    from checker.bmc import _lasso_vars
    keep = _lasso_vars(model)
    if any(states[loop][v] != states[-1][v] for v in keep):
        return ReplayReport(True, False, n, f"the last state does not equal state {loop}")
    if not any(tick_seen[loop:]):
        return ReplayReport(True, False, n, "no time passes in the loop")
    for g, expr in enumerate(model.ready):
        f = compile_expr(expr)
        if all(f(states[i]) for i in range(loop, n + 1)):
            return ReplayReport(True, True, n, f"{model.g_names[g]} is ready in every state of the loop "
                                f"from state {loop} and never runs")
    return ReplayReport(True, False, n, "no goroutine is ready throughout the loop")
