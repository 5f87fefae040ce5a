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

The starvation lasso is searched in the graph of states with the wait
counters left out, as BMC compares states for a loop-back.  The counters only
count, so two states that differ in them have the same futures.  A lasso is a
path to a state x and a cycle back to x that contains a tick and in which some
G is ready throughout.  The shortest is found per G, in the strongly connected
parts of the graph restricted to the states where that G is ready.
"""

from __future__ import annotations

import itertools
import time

from checker.bmc import Result, late_g
from checker.concrete import Compiler, ConcreteModel, compile_expr
from spec.lang import Assign, Call, When, slots_read

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
        if prop.kind == "starvation":
            results[prop.name] = _starvation(ex, prop, max_depth, timeout_s, start, progress)
        elif prop.kind != "invariant":
            results[prop.name] = Result(prop.name, "unknown", 0, 0.0, engine=ENGINE,
                                        reason=f"the explicit engine cannot check {prop.kind} properties; "
                                               f"use --engine bmc")
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

    def judge(states_keys, level) -> bool:
        """Check the pending invariants on a level; False when the time limit ran out first."""
        for n, k in enumerate(states_keys):
            if not pending:
                return True
            if n % 256 == 0 and time.monotonic() > deadline:
                return False
            s = list(k)
            for p in [p for p in pending if not checks[p.name](s)]:
                res = Result(p.name, "violated", level, time.monotonic() - start, engine=ENGINE,
                             trace=_trace(ex, parent, k))
                if p.name == "bounded-wait":
                    res.victim = late_g(model, s)
                results[p.name] = res
                pending.remove(p)
        return True

    timed_out = not judge(frontier, 0)
    while pending and depth < max_depth and not timed_out:
        nxt = []
        for n, k in enumerate(frontier):
            if n % 64 == 0 and time.monotonic() > deadline:
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
        if not judge(nxt, depth + 1):
            timed_out = True
            break
        depth += 1
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
                                        reason=f"{len(parent)} states within depth {max_depth} checked, and the "
                                               f"last level still added states, so a larger --max-depth may "
                                               f"prove it")
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


def ghost_slots(model) -> set[int] | None:
    """Return the wait-counter slots if nothing but their own updates reads them, else None.

    Then states that differ only in the counters have the same futures, and a
    lasso may return to a state with other counter values.
    """
    wait = getattr(getattr(model, "state", None), "wait", None)
    if wait is None or not hasattr(model, "ready"):
        return None
    counters = set(range(wait.base, wait.base + wait.size))

    def body_reads(stmts) -> set[int]:
        out: set[int] = set()
        for st in stmts:
            if isinstance(st, Assign) and st.target.field is wait:
                out |= slots_read(list(st.target.index))
            elif isinstance(st, When):
                out |= slots_read(st.cond) | body_reads(st.then) | body_reads(st.other)
            elif isinstance(st, Call):
                out |= slots_read(list(st.args)) | body_reads(st.proc.body)
            else:
                out |= slots_read(st)
        return out

    for rule in model.rules:
        if (slots_read(rule.guard) | body_reads(rule.body)) & counters:
            return None
    if any(slots_read(e) & counters for e in model.ready):
        return None
    return counters


def _starvation(ex: Explorer, prop, max_depth: int, timeout_s: float, start: float, progress) -> Result:
    """Find the shortest starvation lasso of at most ``max_depth`` steps."""
    model = ex.model
    counters = ghost_slots(model)
    if counters is None:
        return Result(prop.name, "unknown", 0, 0.0, engine=ENGINE,
                      reason="the wait counters are read by the model's steps, so states cannot be "
                             "compared without them; use --engine bmc")
    tick = next((i for i, r in enumerate(model.rules) if r.name == "tick"), None)
    lows = {v: ex.ranges[v][0] for v in counters}
    deadline = start + timeout_s

    def project(s):
        for v, x in lows.items():
            s[v] = x
        return s

    # The graph of projected states within max_depth steps; node ids are in BFS order.
    ids: dict = {}
    keys: list = []
    dist: list[int] = []
    parent: list = []
    succ: list[list[tuple[int, int]]] = []
    for s in ex.initial_states():
        k = ex.key(project(s))
        if k not in ids:
            ids[k] = len(keys)
            keys.append(k)
            dist.append(0)
            parent.append(None)
            succ.append([])
    level = list(range(len(keys)))
    depth = 0
    while level and depth < max_depth:
        nxt = []
        for n, x in enumerate(level):
            if n % 64 == 0 and time.monotonic() > deadline:
                return Result(prop.name, "unknown", depth, time.monotonic() - start, engine=ENGINE,
                              reason=f"time limit of {timeout_s:g} s reached; no lasso up to depth {depth}")
            for rule, _, t in ex.successors(list(keys[x])):
                k = ex.key(project(t))
                y = ids.get(k)
                if y is None:
                    y = ids[k] = len(keys)
                    keys.append(k)
                    dist.append(depth + 1)
                    parent.append((x, rule))
                    succ.append([])
                    nxt.append(y)
                succ[x].append((y, rule))
        depth += 1
        level = nxt
        if progress:
            progress(depth, max_depth, [prop.name], time.monotonic() - start, len(keys))
    complete = not level

    best = None  # (length, loop state, G, cycle rules)
    any_cycle = False
    for g, ready_expr in enumerate(model.ready):
        ready = compile_expr(ready_expr)
        inside = [ready(list(k)) for k in keys]
        comp = _components(succ, inside)
        good = {comp[x] for x in range(len(keys)) if inside[x]
                for y, r in succ[x] if r == tick and inside[y] and comp[y] == comp[x]}
        any_cycle = any_cycle or bool(good)
        for x in range(len(keys)):
            if not inside[x] or comp[x] not in good:
                continue
            limit = (best[0] - 1 if best else max_depth) - dist[x]
            if limit < 1:
                break
            cycle = _tick_cycle(x, succ, comp, tick, limit)
            if cycle is not None:
                best = (dist[x] + len(cycle), x, g, cycle)
        if time.monotonic() > deadline:
            return Result(prop.name, "unknown", max_depth, time.monotonic() - start, engine=ENGINE,
                          reason=f"time limit of {timeout_s:g} s reached while searching the graph for lassos")
    seconds = time.monotonic() - start
    if best is None:
        if complete and not any_cycle:
            return Result(prop.name, "proved", depth, seconds, engine=ENGINE,
                          reason=f"every reachable state checked: {len(keys)} states without the wait "
                                 f"counters, and no cycle keeps a G ready across a tick")
        if complete:
            reason = (f"all {len(keys)} reachable states checked: a cycle keeps a G ready across a tick, but "
                      f"its lasso is longer than {max_depth} steps, so a larger --max-depth finds it")
        else:
            reason = (f"{len(keys)} states within depth {max_depth} checked, and the last level still added "
                      f"states, so a larger --max-depth may find a lasso or prove there is none")
        return Result(prop.name, "holds", max_depth, seconds, engine=ENGINE, reason=reason)
    length, x, g, cycle = best
    rules = []
    y = x
    while parent[y] is not None:
        y, rule = parent[y]
        rules.append(rule)
    rules.reverse()
    trace = _run(ex, rules + cycle)
    return Result(prop.name, "violated", length, seconds, engine=ENGINE, trace=trace, loop=dist[x], victim=g)


def _components(succ, inside) -> list[int]:
    """Number the strongly connected components of the graph restricted to ``inside`` (Tarjan, iterative)."""
    n = len(succ)
    comp = [-1] * n
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    stack: list[int] = []
    counter = 0
    ncomp = 0
    for root in range(n):
        if not inside[root] or index[root] >= 0:
            continue
        work = [(root, 0)]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = True
        while work:
            v, i = work[-1]
            edges = succ[v]
            while i < len(edges) and not inside[edges[i][0]]:
                i += 1
            if i < len(edges):
                work[-1] = (v, i + 1)
                w = edges[i][0]
                if index[w] < 0:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack[w] = True
                    work.append((w, 0))
                elif on_stack[w]:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
            if low[v] == index[v]:
                while True:
                    w = stack.pop()
                    on_stack[w] = False
                    comp[w] = ncomp
                    if w == v:
                        break
                ncomp += 1
    return comp


def _tick_cycle(x: int, succ, comp, tick, limit: int):
    """Return the rules of a shortest cycle from ``x`` back to ``x`` within its component that takes a tick.

    None when no such cycle has at most ``limit`` steps.
    """
    c = comp[x]
    start = (x, False)
    back = {start: None}
    level = [start]
    for _ in range(limit):
        nxt = []
        for node in level:
            v, ticked = node
            for w, rule in succ[v]:
                if comp[w] != c:
                    continue
                state = (w, ticked or rule == tick)
                if state in back:
                    continue
                back[state] = (node, rule)
                if state == (x, True):
                    rules = []
                    while back[state] is not None:
                        state, rule = back[state]
                        rules.append(rule)
                    return rules[::-1]
                nxt.append(state)
        level = nxt
    return None


def _run(ex: Explorer, rules: list[int]) -> list:
    """Execute ``rules`` from the initial state and return the trace, wait counters included."""
    cm = ex.cm
    s = list(cm.init)
    out = [(None, s)]
    for rule in rules:
        if not cm.compiled[rule][0](s):
            raise AssertionError(f"rule {cm.rules[rule].label()} of a lasso is not enabled on replay")
        s = cm.step(s, rule)
        out.append((rule, s))
    return out
