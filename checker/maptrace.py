"""Map traces: the map model rebuilt from a trace, its states decoded, named and narrated.

A map trace is an ITF document whose ``#meta.kind`` is ``"map"`` (written by
checker/mapcheck.py).  Its ``#meta.scenario_toml`` contains the map scenario's
TOML text and ``#meta.patches`` the patches, so the model is rebuilt without
the scenario file.  This module decodes a flat state list into the runtime's
terms: the hmap fields, the bucket arrays with their overflow chains, the
iterators, and the keys by name.  The renderers in checker/render and the
narrative that ``gmpcheck check`` writes read states through it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field

from spec.maps.state import (BOUND_TEXT, EMPTY_ONE, EMPTY_REST, EVACUATED_EMPTY, EVACUATED_X, EVACUATED_Y,
                             FATAL_TEXT, IT_BETWEEN, IT_DONE, IT_IDLE, IT_IN_NEXT, MIN_TOP_HASH)

TOPHASH_NAMES = {EMPTY_REST: "emptyRest", EMPTY_ONE: "emptyOne", EVACUATED_X: "evacuatedX",
                 EVACUATED_Y: "evacuatedY", EVACUATED_EMPTY: "evacuatedEmpty"}
IT_STATE_NAMES = {IT_IDLE: "idle", IT_BETWEEN: "between calls", IT_IN_NEXT: "inside mapiternext",
                  IT_DONE: "done"}
# Fields whose first index is a key, and fields indexed [iterator, key].
PER_KEY = {"ktop", "kbit", "g_count", "g_value", "in_ktop", "in_kbit"}
PER_IT_KEY = {"g_start", "g_stay", "g_seen", "g_inserted"}
KEY_VALUED = {"key", "it_key", "in_key"}
RECORD_VALUED = {"buckets", "oldbuckets", "it_buckets", "it_bptr", "overflow"}
FLAG_NAMES = [("flag_iterator", "iterator"), ("flag_oldIterator", "oldIterator"),
              ("flag_hashWriting", "hashWriting"), ("flag_sameSizeGrow", "sameSizeGrow")]


def tophash_name(v: int) -> str:
    """Name a tophash byte as the runtime does: the special values by name, others as a number."""
    return TOPHASH_NAMES.get(v, str(v))


def key_name(model, ref: int) -> str:
    """Return the name of a key reference (key index + 1). Reference 0 is the zero key a delete leaves."""
    return "zero key" if ref == 0 else model.config.keys[ref - 1].name


# -- building the model ------------------------------------------------------------

def model_of_map_trace(doc: dict, path: str):
    """Rebuild the map model of a map trace from its scenario text and patches."""
    from checker.trace import TraceError
    from spec.maps.model import build_for
    from spec.maps.scenario import MapScenarioError, parse
    from spec.patch import PatchError, load_patch
    meta = doc["#meta"]
    where = f"{path}#meta.scenario_toml"
    try:
        sc = parse(tomllib.loads(meta["scenario_toml"]), where)
    except tomllib.TOMLDecodeError as e:
        raise TraceError(f"{where}: invalid TOML: {e}") from None
    except (MapScenarioError, TypeError) as e:
        raise TraceError(str(e)) from None
    refs = meta.get("patches") or []
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        raise TraceError(f"{path}: #meta.patches: expected a list of patch names or paths")
    try:
        patches = [load_patch(r) for r in refs]
        profile = meta.get("profile") if sc.writers is not None else None
        model = build_for(sc, patches, profile)
    except PatchError as e:
        raise TraceError(f"{path}: #meta.patches: {e}") from None
    except ValueError as e:
        raise TraceError(f"{where}: {e}") from None
    model.scenario = sc
    return model


# -- names of slots and values ------------------------------------------------------

def slot_label(model, slot: int) -> str:
    f = model.layout.field_of_slot(slot)
    off = slot - f.base
    if not f.shape:
        return f.name
    idx = [off // stride % dim for stride, dim in zip(f.strides(), f.shape)]
    keys = model.config.keys
    if f.name in PER_KEY:
        return f"{f.name}[{keys[idx[0]].name}]" + "".join(f"[{i}]" for i in idx[1:])
    if f.name in PER_IT_KEY:
        return f"{f.name}[it={idx[0]}][{keys[idx[1]].name}]"
    return f.slot_name(off)


def value_label(model, slot: int, v: int) -> str:
    f = model.layout.field_of_slot(slot)
    H = model.state
    if f.name == "tophash":
        return tophash_name(v)
    if f.name in KEY_VALUED:
        return key_name(model, v) if f.name != "it_key" or v else "nil"
    if f.name in RECORD_VALUED:
        return "nil" if v == 0 else f"#{v}"
    if f.name == "it_checkBucket":
        return "noCheck" if v == H.no_check else str(v)
    if f.name == "it_state":
        return IT_STATE_NAMES.get(v, str(v))
    if f.name == "fatal" and v:
        return FATAL_TEXT.get(v, str(v))
    if f.name == "bounds" and v:
        return BOUND_TEXT.get(v, str(v))
    return str(v)


def changes(model, before, after, with_inputs: bool = False) -> list[str]:
    """List the slots that differ as "name: old->new", leaving out input slots unless ``with_inputs``."""
    skip = set() if with_inputs else model.inputs
    return [f"{slot_label(model, v)}: {value_label(model, v, a)}->{value_label(model, v, b)}"
            for v, (a, b) in enumerate(zip(before, after)) if a != b and v not in skip]


# -- decoding a state ------------------------------------------------------------------

@dataclass
class Bucket:
    """One bucket record: its record number, tophash bytes, keys (names, None for the zero key) and values."""

    rec: int
    tophash: list[int]
    keys: list[str | None]
    values: list[int]
    overflow: int

    @property
    def evacuated(self) -> bool:
        return EMPTY_ONE < self.tophash[0] < MIN_TOP_HASH


@dataclass
class Iterator:
    """One hiter and its range loop's state."""

    index: int
    state: str
    B: int
    buckets: int
    start: int
    offset: int
    bucket: int
    bptr: int
    i: int
    wrapped: int
    check: int | None  # None: noCheck
    key: str | None
    value: int


@dataclass
class MapLayout:
    """A map state in the runtime's terms."""

    B: int
    count: int
    flags: list[str]
    noverflow: int
    nevacuate: int
    buckets: int
    oldbuckets: int
    table: list[list[Bucket]]       # bucket j's chain, head first
    old: list[list[Bucket]]         # old bucket j's chain (empty list: no grow in progress)
    iterators: list[Iterator]
    contents: dict[str, int] = field(default_factory=dict)  # ghost map: key name -> value (NaN: entries)
    fatal: str = ""
    bounds: str = ""

    @property
    def growing(self) -> bool:
        return self.oldbuckets != 0

    def summary_lines(self) -> list[str]:
        """Summarise the layout in a few lines: hmap fields, each bucket's keys, the iterators."""
        head = (f"B={self.B} count={self.count} noverflow={self.noverflow} flags={'|'.join(self.flags) or '0'}")
        if self.growing:
            head += f" nevacuate={self.nevacuate}"
        lines = [head]
        lines.append("buckets: " + chains_text(self.table))
        if self.growing:
            lines.append("oldbuckets: " + chains_text(self.old))
        for it in self.iterators:
            if it.state == "idle":
                continue
            text = f"it{it.index}: {it.state}"
            if it.state != "done":
                text += f", bucket {it.bucket} i {it.i} start {it.start}" + (" wrapped" if it.wrapped else "")
                text += "" if it.check is None else f" checkBucket {it.check}"
                if it.buckets not in (self.buckets, self.oldbuckets):
                    text += f", walks array #{it.buckets}, no longer the map's"
            lines.append(text)
        return lines


def chains_text(chains: list[list[Bucket]]) -> str:
    parts = []
    for j, chain in enumerate(chains):
        if chain and chain[0].evacuated:
            marks = {tophash_name(t) for b in chain for t in b.tophash if EMPTY_ONE < t < MIN_TOP_HASH}
            parts.append(f"{j}: {'/'.join(sorted(marks))}")
            continue
        keys = [k for b in chain for k, t in zip(b.keys, b.tophash) if t >= MIN_TOP_HASH]
        parts.append(f"{j}: {' '.join(str(k) for k in keys) or '-'}")
    return " | ".join(parts) if parts else "nil"


def decode(model, s) -> MapLayout:
    """Decode state ``s`` of a map model."""
    H = model.state

    def get(f, *idx):
        off = sum(i * stride for i, stride in zip(idx, f.strides()))
        return s[f.base + off]

    def chain(rec):
        out, seen = [], set()
        while rec and rec not in seen and len(out) < H.N:
            seen.add(rec)
            out.append(Bucket(rec, [get(H.top, rec, i) for i in range(H.S)],
                              [None if get(H.key, rec, i) == 0 else key_name(model, get(H.key, rec, i))
                               for i in range(H.S)],
                              [get(H.val, rec, i) for i in range(H.S)], get(H.ovf, rec)))
            rec = get(H.ovf, rec)
        return out

    b = get(H.B)
    base, old = get(H.buckets), get(H.oldbuckets)
    samesize = get(H.f_samesize)
    table = [] if base == 0 else [chain(base + j) for j in range(1 << b)]
    olds = [] if old == 0 else [chain(old + j) for j in range(1 << max(0, b - 1 + samesize))]
    its = []
    for n in range(H.NI):
        check = get(H.it_check, n)
        key = get(H.it_key, n)
        its.append(Iterator(n, IT_STATE_NAMES[get(H.it_state, n)], get(H.it_B, n), get(H.it_buckets, n),
                            get(H.it_start, n), get(H.it_offset, n), get(H.it_bucket, n), get(H.it_bptr, n),
                            get(H.it_i, n), get(H.it_wrapped, n), None if check == H.no_check else check,
                            None if key == 0 else key_name(model, key), get(H.it_val, n)))
    contents = {}
    for k, spec in enumerate(model.config.keys):
        n = get(H.g_cnt, k)
        if n:
            contents[spec.name] = n if spec.nan else get(H.g_val, k)
    flags = [name for fname, name in FLAG_NAMES if s[model.layout.fields[fname].base]]
    fatal, bounds = get(H.fatal), get(H.bounds)
    return MapLayout(b, get(H.count), flags, get(H.noverflow), get(H.nevacuate), base, old, table, olds, its,
                     contents, FATAL_TEXT.get(fatal, "") if fatal else "", BOUND_TEXT.get(bounds, "") if bounds else "")


# -- what a step did and what a state violates -----------------------------------------

def step_events(model, before, after, rule) -> list[str]:
    """Describe what a step did in the runtime's terms: grows, evacuated buckets, returned keys."""
    a, b = decode(model, before), decode(model, after)
    H = model.state
    out = []
    if rule.name == "mapclear":
        out.append(f"mapclear: every bucket emptied, count 0" + (", oldbuckets released" if a.growing else ""))
    grew = rule.name == "mapassign" and a.buckets != 0 and b.buckets != a.buckets
    if grew:
        kind = "same-size grow" if "sameSizeGrow" in b.flags else f"grow from B={a.B} to B={b.B}"
        out.append(f"hashGrow: {kind}, new bucket array #{b.buckets}, old array #{a.buckets}")
    elif a.buckets == 0 and b.buckets != 0:
        out.append(f"first bucket array #{b.buckets}")
    # The old array is a's oldbuckets, or a's buckets when the grow started in this step.
    old_base, nold = (a.oldbuckets, len(a.old)) if a.growing else (a.buckets, len(a.table)) if grew else (0, 0)
    for j in range(nold):
        rec = old_base + j
        was = EMPTY_ONE < before[H.top.base + rec * H.S] < MIN_TOP_HASH
        now = EMPTY_ONE < after[H.top.base + rec * H.S] < MIN_TOP_HASH
        if now and not was:
            marks = sorted({tophash_name(after[H.top.base + rec * H.S + i]) for i in range(H.S)} - {"emptyRest"})
            dest = [j, j + nold] if len(b.table) == 2 * nold else [j]
            out.append(f"evacuate: old bucket {j} (#{rec}) to new bucket(s) {' and '.join(map(str, dest))}, "
                       f"marked {'/'.join(marks)}")
    if (a.growing or grew) and not b.growing and rule.name != "mapclear":
        out.append("every old bucket is evacuated: oldbuckets released")
    for it_a, it_b in zip(a.iterators, b.iterators):
        if it_b.state == "between calls" and (it_a.state != "between calls" or rule.name == "mapiternext"):
            out.append(f"it{it_b.index} returns {it_b.key}={it_b.value}")
        if it_b.state == "done" and it_a.state != "done":
            out.append(f"it{it_b.index} finished")
    return out


def iteration_keys(model, s) -> tuple[list[str], list[str]]:
    """Return the keys whose iteration breaks the range guarantee in state ``s``.

    The first list contains the keys a finished iteration missed. The second
    contains those an iteration, finished or not, returned more often than the
    property allows.
    """
    H = model.state
    missed, twice = [], []
    for it in range(H.NI):
        done = s[H.it_state.base + it] == IT_DONE
        for k, spec in enumerate(model.config.keys):
            off = it * H.K + k
            seen, stay = s[H.g_seen.base + off], s[H.g_stay.base + off]
            start, ins = s[H.g_start.base + off], s[H.g_ins.base + off]
            if done and not spec.nan and stay == 1 and seen == 0 and spec.name not in missed:
                missed.append(spec.name)
            too_often = seen > start + ins or (done and not spec.nan and stay == 1 and seen > 1)
            if too_often and spec.name not in twice:
                twice.append(spec.name)
    return missed, twice


def violation_lines(model, s, prop: str) -> list[str]:
    """Explain why state ``s`` violates ``prop``, in terms of keys, buckets and fields."""
    H = model.state
    d = decode(model, s)
    keys = model.config.keys
    out = []

    def get(f, *idx):
        return s[f.base + sum(i * stride for i, stride in zip(idx, f.strides()))]

    if prop == "iteration":
        for it in range(H.NI):
            if get(H.g_itbad, it):
                out.append(f"it{it} returned a key that is not in the map, or a value that is not the newest")
            done = get(H.it_state, it) == IT_DONE
            for k, spec in enumerate(keys):
                seen, stay = get(H.g_seen, it, k), get(H.g_stay, it, k)
                start, ins = get(H.g_start, it, k), get(H.g_ins, it, k)
                if seen > start + ins:
                    out.append(f"it{it} returned key {spec.name} {seen} times, more than the key's entries at "
                               f"the start ({start}) plus those inserted since ({ins})")
                if done and not spec.nan and stay == 1 and seen == 0:
                    out.append(f"it{it} finished without returning key {spec.name}, which was in the map for "
                               f"the whole iteration: the key is missed")
                if done and not spec.nan and stay == 1 and seen > 1:
                    out.append(f"it{it} finished and returned key {spec.name} more than once, which was in the map "
                               f"for the whole iteration")
                if done and spec.nan and seen < stay:
                    out.append(f"it{it} returned NaN key {spec.name} {seen} times, fewer than its {stay} entries")
    elif prop == "count":
        live = sum(1 for chain in d.table + d.old for bk in chain for t in bk.tophash if t >= MIN_TOP_HASH)
        out.append(f"h.count is {d.count}, the table has {live} full slots and the map {sum(1 for _ in d.contents)} "
                   f"key(s)")
    elif prop == "evacuation":
        out.append(f"oldbuckets #{d.oldbuckets}, nevacuate {d.nevacuate}: an old bucket below nevacuate is not "
                   f"evacuated, or oldbuckets was not released")
    elif prop == "no-fatal":
        out.append(f"fatal error: {d.fatal}")
    elif prop == "bounds":
        out.append(f"model bound exceeded: {d.bounds}")
    elif prop == "no-duplicate":
        where: dict[str, list[str]] = {}
        for name, chains in (("bucket", d.table), ("old bucket", d.old)):
            for j, chain in enumerate(chains):
                for bk in chain:
                    for i, (k, t) in enumerate(zip(bk.keys, bk.tophash)):
                        if t >= MIN_TOP_HASH and k is not None:
                            where.setdefault(k, []).append(f"{name} {j} (#{bk.rec}) slot {i}")
        out += [f"key {k} is stored twice: {', '.join(w)}" for k, w in where.items() if len(w) > 1]
    elif prop == "lookup":
        out.append("a lookup disagrees with the map's contents "
                   f"({', '.join(f'{k}={v}' for k, v in d.contents.items()) or 'empty'})")
    return out


# -- narrative -------------------------------------------------------------------------

def header(model, prop: str, summary: str) -> str:
    """Return the comment lines above a map narrative: scenario, property, verdict, patches."""
    head = (f"# map scenario {model.name}: {prop} {summary}\n"
            f"# {model.property(prop).doc}")
    for patch in model.patches:
        head += f"\n# patch {patch.name}: {patch.description}"
    return head


def narrative(model, trace, prop: str | None = None, head: str = "") -> str:
    """Narrate a trace: per step the rule, the runtime function it cites, what it did and the fields it changed.

    With ``prop``, the last lines state why the last state violates it (for the
    iteration property: which key was missed or returned twice).
    """
    if model.kind == "map-writers":
        from checker.render import writers
        return writers.narrative(model, trace, prop, head)
    lines = [head] if head else []
    for i, (rule_index, st) in enumerate(trace):
        if rule_index is None:
            lines.append(f"{i:4}  initial state: {'; '.join(decode(model, st).summary_lines())}")
            continue
        rule = model.rules[rule_index]
        prev = trace[i - 1][1]
        lines.append(f"{i:4}  {rule.label()}  [{rule.cite}]")
        events = step_events(model, prev, st, rule)
        if events:
            lines.append("        " + "; ".join(events))
        diff = changes(model, prev, st)
        if diff:
            lines.append("        " + ", ".join(diff))
    if prop is not None:
        last = len(trace) - 1
        for why in violation_lines(model, trace[-1][1], prop):
            lines.append(f"      state {last} violates {prop}: {why}")
    return "\n".join(lines) + "\n"
