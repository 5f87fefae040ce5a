"""Scenarios: the goroutine programs a model is built from, read from TOML.

A scenario is data and never runs code.  It sets GOMAXPROCS, the runtime
profile and its options, model sizes, and the goroutines with their counts and
bodies.  A body is a list of operations (see spec/sched/ops.py); an operation is
a string such as ``"compute"``, ``"sleep 3"``, ``"send done"`` or ``"go worker"``,
or a loop table ``{ loop = [...], times = N }`` (``times`` omitted: forever).

Example::

    name = "tight-loop-p1"
    gomaxprocs = 1

    [[goroutine]]
    name = "sleeper"
    count = 2
    body = [{ loop = ["sleep 2"] }]

    [[goroutine]]
    name = "spinner"
    body = [{ loop = ["compute"] }]
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from spec.sched.ops import OPS, OpKind

PROFILES = ("go1.13", "go1.19", "go1.27")

TOP_FIELDS = {"name", "description", "gomaxprocs", "profile", "asyncpreemptoff", "model",
              "goroutine", "expect", "source", "positions"}
MODEL_FIELDS = {"timeslice_ticks", "runq_size", "fairness_period", "bound", "max_depth"}
G_FIELDS = {"name", "count", "start", "body"}
LOOP_FIELDS = {"loop", "times"}
POSITION_FIELDS = {"created", "function", "loop"}
MAX_UNROLL = 64


class ScenarioError(Exception):
    """An invalid scenario: the message names the file, the field and the fix."""


@dataclass(frozen=True)
class Node:
    """One operation of a goroutine body, with the node that follows it (-1: end)."""

    op: OpKind
    arg: object
    text: str
    next: int


@dataclass
class GoroutineSpec:
    name: str
    count: int
    start: bool
    body: list[Node]
    source: list  # the body as written, for display


@dataclass
class ModelSizes:
    """Sizes and time parameters of the model, each with its real value.

    timeslice_ticks: forcePreemptNS (10 ms real), in ticks; runq_size: the local
    run queue ring (256 real); fairness_period: the schedtick period of the
    global-queue check (61 real); bound: D of bounded-wait, in ticks;
    max_depth: BMC depth, in steps.
    """

    timeslice_ticks: int = 2
    runq_size: int = 4
    fairness_period: int = 61
    bound: int = 8
    max_depth: int = 30


@dataclass
class Scenario:
    name: str
    description: str
    path: str
    gomaxprocs: int
    profile: str
    asyncpreemptoff: bool
    sizes: ModelSizes
    goroutines: list[GoroutineSpec]
    expect: dict = field(default_factory=dict)
    source: str = ""
    text: str = ""
    # Source positions ("FILE:LINE:COL") of each goroutine kind: where it is
    # created, its function and its loop without end; written by gmpcheck extract.
    positions: dict[str, dict[str, str]] = field(default_factory=dict)  # the TOML text as read, stored in traces so they replay without the file

    def channels(self) -> list[str]:
        names: list[str] = []
        for g in self.goroutines:
            for n in g.body:
                if n.op.arg == "channel" and n.arg not in names:
                    names.append(n.arg)
        return names

    def goroutine(self, name: str) -> GoroutineSpec:
        for g in self.goroutines:
            if g.name == name:
                return g
        raise KeyError(name)


def _err(path, fieldname, msg) -> ScenarioError:
    return ScenarioError(f"{path}: {fieldname}: {msg}")


def _int(path, fieldname, value, lo, hi=None, what="an integer"):
    if isinstance(value, bool) or not isinstance(value, int):
        raise _err(path, fieldname, f"expected {what}, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        rng = f"at least {lo}" if hi is None else f"between {lo} and {hi}"
        raise _err(path, fieldname, f"must be {rng}, got {value}")
    return value


def _unknown(path, where, table, allowed):
    for k in table:
        if k not in allowed:
            raise _err(path, f"{where}{k}",
                       f"unknown field; allowed fields are {', '.join(sorted(allowed))}")


def parse_op(path, fieldname, text) -> tuple[OpKind, object]:
    if not isinstance(text, str):
        raise _err(path, fieldname, f"expected an operation string or a loop table, got {text!r}")
    parts = text.split()
    if not parts:
        raise _err(path, fieldname, "empty operation")
    kind = OPS.get(parts[0])
    if kind is None:
        raise _err(path, fieldname,
                   f"unknown operation {parts[0]!r}; known operations are {', '.join(OPS)}")
    if kind.arg is None:
        if len(parts) != 1:
            raise _err(path, fieldname, f"operation {kind.name!r} takes no argument, got {text!r}")
        return kind, None
    if len(parts) != 2:
        raise _err(path, fieldname, f"operation {kind.name!r} takes one {kind.arg} argument, e.g. "
                   f"\"{kind.name} {'2' if kind.arg == 'ticks' else 'c'}\"")
    if kind.arg == "ticks":
        try:
            n = int(parts[1])
        except ValueError:
            raise _err(path, fieldname, f"{kind.name}: ticks must be an integer, got {parts[1]!r}") from None
        _int(path, fieldname, n, 1, 16, what="a tick count")
        return kind, n
    return kind, parts[1]


def compile_body(path, where, items) -> list[Node]:
    """Turn a body as written into CFG nodes; forever-loops become back edges."""
    nodes: list[dict] = []

    def emit(seq, fieldname) -> tuple[int, list[int] | None]:
        """Emit ``seq``; return its first node and the nodes whose ``next`` is still open.

        ``None`` in place of the open list means control never leaves ``seq``
        (it ends in a loop without ``times``, or in ``exit``).
        """
        if not isinstance(seq, list) or not seq:
            raise _err(path, fieldname, "expected a non-empty list of operations")
        first = None
        open_ends: list[int] | None = []
        for i, item in enumerate(seq):
            f = f"{fieldname}[{i}]"
            if open_ends is None:
                raise _err(path, f, "unreachable: it follows 'exit' or a loop without 'times'")
            if isinstance(item, dict):
                _unknown(path, f + ".", item, LOOP_FIELDS)
                if "loop" not in item:
                    raise _err(path, f, "a table in a body must be a loop: { loop = [...], times = N }")
                times = item.get("times")
                if times is None:
                    head, ends = emit(item["loop"], f + ".loop")
                    for e in ends or []:
                        nodes[e]["next"] = head
                    new_open = None
                else:
                    _int(path, f + ".times", times, 1, MAX_UNROLL)
                    head, new_open = None, []
                    for _ in range(times):
                        start, ends = emit(item["loop"], f + ".loop")
                        if head is None:
                            head = start
                        else:
                            for e in new_open:
                                nodes[e]["next"] = start
                        new_open = ends
                        if ends is None:
                            break
            else:
                kind, arg = parse_op(path, f, item)
                nodes.append({"op": kind, "arg": arg, "text": item, "next": -1})
                head = len(nodes) - 1
                new_open = None if kind.name == "exit" else [head]
            for e in open_ends:
                nodes[e]["next"] = head
            if first is None:
                first = head
            open_ends = new_open
        return first, open_ends

    emit(items, where)
    return [Node(n["op"], n["arg"], n["text"], n["next"]) for n in nodes]


def load(path) -> Scenario:
    """Read and validate a scenario file; raise ScenarioError on any problem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: file not found; give a scenario file or a built-in name "
                            f"(see `gmpcheck list`)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError(f"{path}: cannot read the file: {e}") from None
    return parse(text, str(path))


def parse(text: str, path: str = "<scenario>") -> Scenario:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{path}: invalid TOML: {e}") from None
    _unknown(path, "", doc, TOP_FIELDS)

    name = doc.get("name", Path(path).stem)
    if not isinstance(name, str) or not name:
        raise _err(path, "name", "expected a non-empty string")
    gomaxprocs = _int(path, "gomaxprocs", doc.get("gomaxprocs", 1), 1, 8)
    profile = doc.get("profile", "go1.19")
    if profile not in PROFILES:
        raise _err(path, "profile", f"unknown profile {profile!r}; use one of {', '.join(PROFILES)}")
    apo = doc.get("asyncpreemptoff", False)
    if not isinstance(apo, bool):
        raise _err(path, "asyncpreemptoff", f"expected true or false, got {apo!r}")

    model = doc.get("model", {})
    if not isinstance(model, dict):
        raise _err(path, "model", "expected a table")
    _unknown(path, "model.", model, MODEL_FIELDS)
    sizes = ModelSizes()
    sizes.timeslice_ticks = _int(path, "model.timeslice_ticks", model.get("timeslice_ticks", sizes.timeslice_ticks), 1, 64)
    sizes.runq_size = _int(path, "model.runq_size", model.get("runq_size", sizes.runq_size), 2, 256)
    if sizes.runq_size % 2:
        raise _err(path, "model.runq_size", f"must be even (runqputslow moves half), got {sizes.runq_size}")
    sizes.fairness_period = _int(path, "model.fairness_period", model.get("fairness_period", sizes.fairness_period), 1, 1000)
    sizes.bound = _int(path, "model.bound", model.get("bound", sizes.bound), 1, 1000)
    sizes.max_depth = _int(path, "model.max_depth", model.get("max_depth", sizes.max_depth), 1, 10000)

    gs = doc.get("goroutine")
    if not isinstance(gs, list) or not gs:
        raise _err(path, "goroutine", "at least one [[goroutine]] table is required")
    goroutines: list[GoroutineSpec] = []
    for i, g in enumerate(gs):
        where = f"goroutine[{i}]"
        if not isinstance(g, dict):
            raise _err(path, where, "expected a table")
        _unknown(path, where + ".", g, G_FIELDS)
        gname = g.get("name")
        if not isinstance(gname, str) or not gname or " " in gname:
            raise _err(path, where + ".name", "expected a name without spaces")
        if any(o.name == gname for o in goroutines):
            raise _err(path, where + ".name", f"duplicate goroutine name {gname!r}")
        count = _int(path, where + ".count", g.get("count", 1), 1, 64, what="a goroutine count")
        start = g.get("start", True)
        if not isinstance(start, bool):
            raise _err(path, where + ".start", f"expected true or false, got {start!r}")
        if "body" not in g:
            raise _err(path, where + ".body", "missing; give a list of operations")
        body = compile_body(path, where + ".body", g["body"])
        goroutines.append(GoroutineSpec(gname, count, start, body, g["body"]))

    names = {g.name for g in goroutines}
    for i, g in enumerate(goroutines):
        for n in g.body:
            if n.op.name == "go" and n.arg not in names:
                raise _err(path, f"goroutine[{i}].body",
                           f"'go {n.arg}': no goroutine named {n.arg!r}; define it with [[goroutine]]")
    if not any(g.start for g in goroutines):
        raise _err(path, "goroutine", "no goroutine has start = true, so nothing ever runs")

    expect = doc.get("expect", {})
    if not isinstance(expect, dict):
        raise _err(path, "expect", "expected a table of profile = \"starves\" | \"bounded\"")
    for k, v in expect.items():
        if v not in ("starves", "bounded"):
            raise _err(path, f"expect.{k}", f"expected \"starves\" or \"bounded\", got {v!r}")

    positions = doc.get("positions", {})
    if not isinstance(positions, dict):
        raise _err(path, "positions", "expected a table of goroutine name = { created, function, loop }")
    for gname, table in positions.items():
        if gname not in names:
            raise _err(path, f"positions.{gname}", f"no goroutine named {gname!r}; remove the table or "
                       f"rename it after a [[goroutine]]")
        if not isinstance(table, dict):
            raise _err(path, f"positions.{gname}", "expected a table with created, function or loop")
        _unknown(path, f"positions.{gname}.", table, POSITION_FIELDS)
        for k, v in table.items():
            if not isinstance(v, str):
                raise _err(path, f"positions.{gname}.{k}", f"expected a \"FILE:LINE:COL\" string, got {v!r}")

    return Scenario(name, str(doc.get("description", "")), path, gomaxprocs, profile, apo,
                    sizes, goroutines, expect, str(doc.get("source", "")), text, positions)


BUILTIN_DIR = Path(__file__).parent / "scenarios"
DEFAULT_SCENARIO = "s01-call-free-loop"


def builtin_names() -> list[str]:
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.toml"))


def load_builtin(name: str) -> Scenario:
    path = BUILTIN_DIR / f"{name}.toml"
    if not path.is_file():
        raise ScenarioError(f"{name}: no such built-in scenario; `gmpcheck list` shows them")
    sc = parse(path.read_text(encoding="utf-8"), f"builtin:{name}")
    return sc


def resolve(name_or_path: str | None) -> Scenario:
    """Load a built-in scenario by name, or a scenario file by path."""
    if name_or_path is None:
        return load_builtin(DEFAULT_SCENARIO)
    if name_or_path in builtin_names() and not Path(name_or_path).exists():
        return load_builtin(name_or_path)
    if not name_or_path.endswith(".toml") and not Path(name_or_path).exists():
        raise ScenarioError(f"{name_or_path}: neither a built-in scenario nor a file; "
                            f"`gmpcheck list` shows the built-in names")
    return load(name_or_path)
