"""Explicit-state search: breadth first over the concrete semantics.

The engine enumerates every state reachable within a depth, level by level,
and checks the invariants on each, as TLC does for a TLA+ specification.  The
first level at which an invariant fails gives a counterexample that is minimal
in steps, the same guarantee BMC gives, and a search that runs out of new
states before its depth limit has checked every reachable state.

It needs a finite choice at each step.  The environment's inputs of a map model
(``model.inputs``: the key of the next operation, the iterator's random start)
are enumerated per step, over the input slots that step reads.  Inputs are not
part of the stored state, so two states that differ only in their inputs are
one state.
Slots left free in the initial state (``model.free_init``: hashes of keys
without a fixed hash) are enumerated too, up to ``MAX_INITIAL`` initial states.

When no new state turns up before the depth limit, every reachable state has
been checked and an invariant that held is ``proved``, not only bounded.

Only invariants are checked.  Other property kinds (the starvation lasso) come
back ``unknown`` with the reason, never ``holds``.
"""

from __future__ import annotations

import itertools
import time

from checker.bmc import Result, late_g
from checker.concrete import Compiler, ConcreteModel
from spec.lang import slots_read

ENGINE = "explicit-bfs"
MAX_INITIAL = 100_000


class EngineError(Exception):
    """The model is outside what the explicit engine can search."""


class _Fork(Exception):
    """Raised when a rule reads an input slot whose value is not chosen yet."""

    def __init__(self, slot: int) -> None:
        super().__init__(slot)
        self.slot = slot


class _Watched(list):
    """A state whose unchosen input slots raise ``_Fork`` when read."""

    __slots__ = ("open",)

    def __getitem__(self, i):
        if i in self.open:
            raise _Fork(i)
        return list.__getitem__(self, i)


def _copy_watched(s: _Watched) -> _Watched:
    t = _Watched(s)
    t.open = s.open
    return t


class Explorer:
    """Successor function of a model for explicit search, with its inputs enumerated."""

    def __init__(self, model) -> None:
        self.model = model
        self.cm = ConcreteModel(model)
        ranges = model.layout.slot_ranges()
        self.ranges = ranges
        inputs = set(getattr(model, "inputs", ()))
        names = model.layout.slot_names()
        for prop in model.properties:
            if prop.kind == "invariant" and slots_read(prop.expr) & inputs:
                raise EngineError(f"property {prop.name} reads an input slot, which explicit search does "
                                  f"not store; use --engine bmc")
        # The value of every input slot in a stored state.
        self.input_slots = sorted(inputs)
        self.canonical = [ranges[v][0] for v in self.input_slots]
        # Rules that may read inputs run on a watched state, so only the input
        # slots a run actually reads are enumerated (mapdelete reads the new
        # hash seed only when it empties the map).
        compiler = Compiler()
        compiler.env["_copy_watched"] = _copy_watched
        self.with_inputs: dict[int, tuple[frozenset, object, object]] = {}
        for i, rule in enumerate(model.rules):
            if rule.writes() & inputs:
                slot = names[min(rule.writes() & inputs)]
                raise EngineError(f"rule {rule.label()} writes the input slot {slot}")
            read = rule.reads() & inputs
            if read:
                guard, step = compiler.rule(rule, copy="_copy_watched")
                self.with_inputs[i] = (frozenset(read), guard, step)
        self.compact = all(0 <= lo and hi <= 255 for lo, hi in ranges)

    def key(self, s):
        """Return a hashable, compact form of a state."""
        return bytes(s) if self.compact else tuple(s)

    def initial_states(self) -> list[list[int]]:
        free = sorted(set(getattr(self.model, "free_init", ())) - set(self.input_slots))
        count = 1
        for v in free:
            count *= self.ranges[v][1] - self.ranges[v][0] + 1
        if count > MAX_INITIAL:
            raise EngineError(f"the free initial slots allow {count} initial states, more than {MAX_INITIAL}; "
                              f"fix the key hashes in the scenario or use --engine bmc")
        base = self.canonicalize(list(self.cm.init))
        out = []
        for values in itertools.product(*[range(self.ranges[v][0], self.ranges[v][1] + 1) for v in free]):
            s = list(base)
            for v, x in zip(free, values):
                s[v] = x
            out.append(s)
        return out

    def canonicalize(self, s: list[int]) -> list[int]:
        for v, x in zip(self.input_slots, self.canonical):
            s[v] = x
        return s

    def successors(self, s: list[int]):
        """Yield ``(rule index, chosen inputs, next state)`` for every step from ``s``.

        The chosen inputs are ``(slot, value)`` pairs, only for the input slots
        the step read.
        """
        cm = self.cm
        special = self.with_inputs
        for i in cm.enabled(s):
            if i not in special:
                yield i, (), self.canonicalize(cm.step(s, i))
        for i, (read, guard, step) in special.items():
            todo = [()]
            while todo:
                chosen = todo.pop()
                u = _Watched(s)
                for v, x in chosen:
                    list.__setitem__(u, v, x)
                u.open = read.difference(v for v, _ in chosen)
                try:
                    if not guard(u):
                        continue
                    t = step(u)
                except _Fork as fork:
                    lo, hi = self.ranges[fork.slot]
                    todo.extend(chosen + ((fork.slot, x),) for x in range(hi, lo - 1, -1))
                    continue
                yield i, chosen, self.canonicalize(list(t))


def check(model, props, max_depth: int, timeout_s: float, progress=None) -> list[Result]:
    """Check ``props`` by breadth-first search of every state within ``max_depth`` steps.

    ``progress(depth, max_depth, pending names, seconds, states)`` is called
    after each completed level.

    >>> from spec.scenario import load
    >>> from spec.sched.model import build_model
    >>> m = build_model(load("spec/scenarios/tight-loop-p1.toml"), "go1.13")
    >>> [(r.verdict, r.depth) for r in check(m, [m.property("bounded-wait")], 20, 60)]
    [('violated', 15)]
    """
    start = time.monotonic()
    deadline = start + timeout_s
    ex = Explorer(model)
    cm = ex.cm
    results: dict[str, Result] = {}
    for prop in props:
        if prop.kind != "invariant":
            results[prop.name] = Result(prop.name, "unknown", 0, 0.0, engine=ENGINE,
                                        reason=f"the explicit engine checks invariants only; "
                                               f"{prop.name} is a {prop.kind} property: use --engine bmc")
    pending = [p for p in props if p.name not in results]
    checks = {p.name: cm.invariants[p.name] for p in pending}
    # parent[key] = (parent key, rule index, input values); None for an initial state.
    parent: dict = {}
    frontier = []
    for s in ex.initial_states():
        k = ex.key(s)
        if k not in parent:
            parent[k] = None
            frontier.append(k)
    depth = 0
    complete = False

    def judge(states_keys, level):
        for k in states_keys:
            if not pending:
                return
            s = list(k)
            for p in [p for p in pending if not checks[p.name](s)]:
                res = Result(p.name, "violated", level, time.monotonic() - start, engine=ENGINE,
                             trace=_trace(ex, parent, k))
                if p.name == "bounded-wait":
                    res.victim = late_g(model, s)
                results[p.name] = res
                pending.remove(p)

    judge(frontier, 0)
    timed_out = False
    while pending and depth < max_depth:
        nxt = []
        for n, k in enumerate(frontier):
            if n % 512 == 0 and time.monotonic() > deadline:
                timed_out = True
                break
            s = list(k)
            for rule, combo, t in ex.successors(s):
                tk = ex.key(t)
                if tk not in parent:
                    parent[tk] = (k, rule, combo)
                    nxt.append(tk)
        if timed_out:
            break
        depth += 1
        judge(nxt, depth)
        frontier = nxt
        if progress:
            progress(depth, max_depth, [p.name for p in pending], time.monotonic() - start, len(parent))
        if not frontier:
            complete = True
            break
    for prop in pending:
        seconds = time.monotonic() - start
        if timed_out:
            results[prop.name] = Result(prop.name, "unknown", depth, seconds, engine=ENGINE,
                                        reason=f"time limit of {timeout_s:g} s reached; no counterexample "
                                               f"up to depth {depth} ({len(parent)} states)")
        elif complete:
            # No new state at this level: the reachable states are all known and all satisfy it.
            results[prop.name] = Result(prop.name, "proved", depth - 1, seconds, engine=ENGINE,
                                        reason=f"every reachable state checked: {len(parent)} states, "
                                               f"none more than {depth - 1} steps from the start")
        else:
            results[prop.name] = Result(prop.name, "holds", max_depth, seconds, engine=ENGINE,
                                        reason=f"{len(parent)} states within depth {max_depth} checked")
    return [results[p.name] for p in props]


def _trace(ex: Explorer, parent: dict, k) -> list:
    """Rebuild the path to ``k`` as ``[(rule index or None, state)]``.

    Each state carries the inputs that its next step read.
    """
    steps = []
    while parent[k] is not None:
        pk, rule, combo = parent[k]
        steps.append((pk, rule, combo, k))
        k = pk
    out = [(None, list(k))]
    for pk, rule, combo, ck in reversed(steps):
        prev = out[-1][1]
        for v, x in combo:
            prev[v] = x
        out.append((rule, list(ck)))
    return out
