"""Bounded model checking in z3 with iterative deepening.

The transition relation is encoded per step.  One Boolean per rule instance
selects the rule step k takes, and exactly one is true.  That rule's guard must
be true in state k, and every slot of state k+1 equals the rule's update of it,
or keeps its value when the rule does not write it.  One incremental solver holds the unrolling; each
depth asks, under an assumption literal, whether a property fails at that
depth.  The first depth at which it does gives a counterexample that is minimal
in steps for this configuration.

Verdicts: ``violated`` (with trace), ``holds`` up to the depth reached, or
``unknown`` when z3 returned unknown or the time limit ran out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import z3

from checker.symbolic import bool_term, rule_terms



@dataclass
class Result:
    """The verdict of one property."""

    property: str
    verdict: str  # violated | holds | proved | unknown
    depth: int    # violated: counterexample length in steps; holds: depth checked; proved: diameter
    seconds: float
    engine: str = "bmc-z3"
    trace: list | None = None  # [(rule index or None, state list)]
    loop: int | None = None    # lasso: index of the state the last one returns to
    victim: int | None = None  # starvation / bounded-wait: the G concerned
    reason: str = ""

    def summary(self) -> str:
        if self.verdict == "violated":
            what = f"lasso of {self.depth} steps, loop back to state {self.loop}" if self.loop is not None \
                else f"minimal counterexample of {self.depth} steps"
            return f"violated ({what})"
        if self.verdict == "holds":
            more = f"; {self.reason}" if self.engine == "explicit-bfs" and self.reason else ""
            return f"holds up to depth {self.depth} (bounded; no counterexample of {self.depth} steps or fewer{more})"
        if self.verdict == "proved":
            return f"proved ({self.reason})"
        return f"unknown ({self.reason})"


class Unrolling:
    """The incremental unrolling of a model's transition relation."""

    def __init__(self, model):
        self.model = model
        # The simplex-based arithmetic solver (arith.solver=2) proves the unsat
        # depths of these models 2-3x faster than z3's default; it is a global
        # z3 parameter, so it applies to every solver in the process.
        z3.set_param("smt.arith.solver", 2)
        self.solver = z3.Solver()
        self.names = model.layout.slot_names()
        self.states: list[list] = []
        self.sels: list = []
        self.writes = [r.writes() for r in model.rules]
        self.tick_index = next((i for i, r in enumerate(model.rules) if r.name == "tick"), None)
        # Slots free in the initial state (within their range) and slots free in
        # every state (the environment's inputs); every other slot starts at model.init.
        self.free_init = set(getattr(model, "free_init", ()))
        self.inputs = set(getattr(model, "inputs", ()))
        self.ranges = model.layout.slot_ranges()
        s0 = self._fresh(0)
        for v, (x, init) in enumerate(zip(s0, model.init)):
            if v in self.free_init or v in self.inputs:
                self._in_range(x, v)
            else:
                self.solver.add(x == init)
        self.states.append(s0)
        self.memos: list[dict] = [{}]

    def _in_range(self, x, v):
        lo, hi = self.ranges[v]
        self.solver.add(x >= lo, x <= hi)

    def _fresh(self, k):
        return [z3.Int(f"{n}@{k}") for n in self.names]

    def extend(self):
        """Add the transition from the last state to a new one."""
        k = len(self.states) - 1
        s = self.states[k]
        nxt = self._fresh(k + 1)
        R = len(self.model.rules)
        picks = [z3.Bool(f"rule{i}@{k}") for i in range(R)]
        cons = [z3.PbEq([(b, 1) for b in picks], 1)]
        per_slot: list[list] = [[] for _ in s]
        memo: dict = {}
        for i, rule in enumerate(self.model.rules):
            guard, post = rule_terms(rule, s, memo)
            guard = z3.simplify(guard)
            post = [t if t is s[v] else z3.simplify(t) for v, t in enumerate(post)]
            cons.append(z3.Implies(picks[i], guard))
            for v in self.writes[i]:
                per_slot[v].append((i, post[v]))
        for v, updates in enumerate(per_slot):
            if v in self.inputs:
                self._in_range(nxt[v], v)
                continue
            term = s[v]
            for i, t in updates:
                term = z3.If(picks[i], t, term)
            cons.append(nxt[v] == term)
        self.solver.add(*cons)
        self.states.append(nxt)
        self.memos.append({})
        self.sels.append(picks)

    def trace(self, m, k):
        out = []
        for j in range(k + 1):
            st = [m.eval(x, model_completion=True).as_long() for x in self.states[j]]
            rule = None if j == 0 else next(i for i, b in enumerate(self.sels[j - 1]) if z3.is_true(m.eval(b, model_completion=True)))
            out.append((rule, st))
        return out


def _check(solver, assumption, deadline, timeout_s):
    limit = f"time limit of {timeout_s:g} s reached"
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return z3.unknown, limit
    solver.set("timeout", max(1, int(remaining * 1000)))
    r = solver.check(assumption)
    reason = solver.reason_unknown() if r == z3.unknown else ""
    if r == z3.unknown and ("timeout" in reason or "canceled" in reason):
        reason = limit
    return r, reason


def check(model, props, max_depth: int, timeout_s: float, progress=None, chunk: int = 4) -> list[Result]:
    """Check ``props`` (Property objects) by iterative deepening up to ``max_depth`` steps.

    Depths are added ``chunk`` at a time, and one solver call checks whether a
    property fails anywhere in the new depths.  When it does, the depths of the
    chunk are tried in order, so the counterexample returned is the shortest.

    >>> from spec.scenario import load
    >>> from spec.sched.model import build_model
    >>> m = build_model(load("spec/scenarios/tight-loop-p1.toml"), "go1.13")
    >>> [r.verdict for r in check(m, [m.property("bounded-wait")], 20, 60)]
    ['violated']
    """
    start = time.monotonic()
    deadline = start + timeout_s
    u = Unrolling(model)
    results: dict[str, Result] = {}
    pending = list(props)
    done_depth = -1  # every depth up to this one is checked for every pending property
    bad: dict[tuple[str, int], object] = {}

    def failure_at(prop, depth):
        key = (prop.name, depth)
        if key not in bad:
            if prop.kind == "invariant":
                bad[key] = z3.Not(bool_term(prop.expr, u.states[depth], u.memos[depth]))
            elif prop.kind == "starvation":
                bad[key] = _lasso_term(model, u, depth) if depth > 0 else z3.BoolVal(False)
            else:
                raise ValueError(f"unknown property kind {prop.kind}")
        return bad[key]

    def ask(formula, tag):
        lit = z3.Bool(tag)
        u.solver.add(z3.Implies(lit, formula))
        r, reason = _check(u.solver, lit, deadline, timeout_s)
        return lit, r, reason

    while pending and done_depth < max_depth:
        lo = done_depth + 1
        hi = min(max_depth, done_depth + chunk)
        while len(u.states) <= hi:
            u.extend()
        # Invariants are checked together first, so one unsat result clears them all.
        invariants = [p for p in pending if p.kind == "invariant"]
        groups = [[p] for p in pending if p.kind != "invariant"]
        if len(invariants) > 1:
            lit, r, reason = ask(z3.Or(*[failure_at(p, d) for p in invariants for d in range(lo, hi + 1)]),
                                 f"fail_invariants@{lo}-{hi}")
            u.solver.add(z3.Not(lit))
            if r != z3.unsat:
                groups = [[p] for p in invariants] + groups
        elif invariants:
            groups.insert(0, invariants)
        for [prop] in groups:
            lit, r, reason = ask(z3.Or(*[failure_at(prop, d) for d in range(lo, hi + 1)]),
                                 f"fail_{prop.name}@{lo}-{hi}")
            if r == z3.unsat:
                u.solver.add(z3.Not(lit))
                continue
            if r == z3.unknown:
                results[prop.name] = _unknown(prop, start, reason, done_depth)
                pending.remove(prop)
                continue
            u.solver.add(z3.Not(lit))
            for d in range(lo, hi + 1):
                dlit, r, reason = ask(failure_at(prop, d), f"fail_{prop.name}@{d}")
                if r == z3.sat:
                    results[prop.name] = _violation(model, u, prop, d, start)
                    break
                u.solver.add(z3.Not(dlit))
                if r == z3.unknown:
                    results[prop.name] = _unknown(prop, start, reason, d - 1)
                    break
            pending.remove(prop)
        done_depth = hi
        if progress:
            progress(done_depth, max_depth, [p.name for p in pending], time.monotonic() - start)
    for prop in pending:
        results[prop.name] = Result(prop.name, "holds", max_depth, time.monotonic() - start)
    return [results[p.name] for p in props]


def _unknown(prop, start, reason, checked):
    note = f"{reason}; no counterexample up to depth {checked}" if checked >= 0 else reason
    return Result(prop.name, "unknown", max(checked, 0), time.monotonic() - start, reason=note)


def _violation(model, u, prop, depth, start):
    m = u.solver.model()
    res = Result(prop.name, "violated", depth, time.monotonic() - start, trace=u.trace(m, depth))
    if prop.kind == "starvation":
        res.loop, res.victim = _lasso_witness(m, u, depth)
    elif prop.name == "bounded-wait":
        res.victim = late_g(model, res.trace[-1][1])
    return res


def late_g(model, state):
    S = model.state
    for g in range(S.nG):
        if state[S.wait.base + g] > S.bound:
            return g
    return None


def _lasso_vars(model):
    """Slots compared for a loop-back: everything but the wait counters."""
    skip = set(range(model.state.wait.base, model.state.wait.base + model.state.wait.size))
    return [v for v in range(model.layout.size) if v not in skip]


def _lasso_term(model, u: Unrolling, k: int):
    """Some j < k with state k == state j, a tick between them, and a G ready in all of j..k."""
    keep = _lasso_vars(model)
    sk = u.states[k]
    ready = [[bool_term(model.ready[g], u.states[i]) for g in range(model.state.nG)] for i in range(k + 1)]
    options = []
    for j in range(k):
        sj = u.states[j]
        same = z3.And(*[sk[v] == sj[v] for v in keep])
        ticks = z3.Or(*[u.sels[i][u.tick_index] for i in range(j, k)])
        starving = z3.Or(*[z3.And(*[ready[i][g] for i in range(j, k + 1)]) for g in range(model.state.nG)])
        options.append(z3.And(same, ticks, starving))
    return z3.Or(*options)


def _lasso_witness(m, u: Unrolling, k: int):
    model = u.model
    keep = _lasso_vars(model)
    vals = [[m.eval(x, model_completion=True).as_long() for x in st] for st in u.states[:k + 1]]
    for j in range(k):
        if all(vals[j][v] == vals[k][v] for v in keep):
            from checker.concrete import compile_expr
            for g in range(model.state.nG):
                f = compile_expr(model.ready[g])
                if all(f(vals[i]) for i in range(j, k + 1)):
                    return j, g
    return None, None


@dataclass
class WorstWait:
    """The longest wait, in ticks, of any ready G over every path of up to ``depth`` steps."""

    ticks: int | None  # None when not even a lower bound was found
    verdict: str       # exact | unknown (then ticks is a lower bound)
    depth: int
    seconds: float
    victim: int | None = None
    reason: str = ""

    def summary(self) -> str:
        if self.verdict == "exact":
            return f"{self.ticks} ticks (to depth {self.depth})"
        low = f"at least {self.ticks} ticks" if self.ticks is not None else "not known"
        return f"{low} ({self.reason})"


def worst_wait(model, max_depth: int, timeout_s: float) -> WorstWait:
    """Find the smallest D for which bounded-wait D holds up to ``max_depth`` steps.

    ``model`` must be built with a bound of at least ``max_depth`` ticks, so no
    wait counter saturates within the depth.  One unrolling to ``max_depth``
    is queried repeatedly for a G that waits longer than the longest wait found
    so far.  Each sat result raises the bar to the wait in its witness, and the
    first unsat result makes the figure exact.
    """
    S = model.state
    if S.bound < max_depth:
        raise ValueError(f"worst_wait needs a model with bound >= {max_depth}, got {S.bound}")
    start = time.monotonic()
    deadline = start + timeout_s
    u = Unrolling(model)
    while len(u.states) <= max_depth:
        u.extend()
    waits = [st[S.wait.base + g] for st in u.states for g in range(S.nG)]
    best, victim = 0, None
    while True:
        lit = z3.Bool(f"longer_than_{best}")
        u.solver.add(z3.Implies(lit, z3.Or(*[w > best for w in waits])))
        r, reason = _check(u.solver, lit, deadline, timeout_s)
        if r == z3.unsat:
            return WorstWait(best, "exact", max_depth, time.monotonic() - start, victim)
        if r == z3.unknown:
            return WorstWait(best, "unknown", max_depth, time.monotonic() - start, victim, reason)
        m = u.solver.model()
        for st in u.states:
            for g in range(S.nG):
                w = m.eval(st[S.wait.base + g], model_completion=True).as_long()
                if w > best:
                    best, victim = w, g
