"""The concrete (Python) and symbolic (z3) semantics agree on reachable states.

Hypothesis draws a random walk from a scenario's initial state under one
profile, with or without asyncpreemptoff.  In the state the walk reaches, every
rule instance must have the same enabledness under both semantics, every
enabled rule the same successor slot by slot, and every invariant the same
truth value.  Along the walk, the first rule taken of each name must also have
the same successor.  The symbolic side is evaluated over z3 integer constants
and simplified, so each guard must reduce to true or false and each slot to a
number.
"""

from __future__ import annotations

import functools

import pytest
import z3
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from checker.concrete import ConcreteModel
from checker.symbolic import bool_term, exec_body, rule_terms
from spec.scenario import parse, resolve
from spec.sched.model import build_model
from spec.sched.state import P_SYSCALL

PROFILES = ("go1.13", "go1.19", "go1.27")

BUILTINS = ("tight-loop-p2", "s02-stw-blocked", "s01-call-free-loop", "gosched-loop-p1", "range-map-p2",
            "netpoll-hog-p2", "wakeup-race-p2")

# Two Ps kept busy by every kind of operation: go statements (newproc), an
# unbuffered channel ping-pong, sleeps (timers), system calls and a GC
# allocator (a stop-the-world).  A 1-tick system call takes the fast exit path.
# A 3-tick one outlasts the 2-tick time slice, so sysmon retakes its P.  The
# spawner fills P0's ring, so the other P steals, and the short fairness period
# makes the schedtick check of the global queue fire within a walk.
MIXED_P2 = """
name = "mixed-p2"
gomaxprocs = 2

[model]
timeslice_ticks = 2
runq_size = 4
fairness_period = 4
bound = 6

[[goroutine]]
name = "spawner"
body = ["go worker", "go worker", { loop = ["call", "gc"] }]

[[goroutine]]
name = "worker"
count = 2
start = false
body = [{ loop = ["compute", "syscall 1", "syscall 3"] }]

[[goroutine]]
name = "pinger"
body = [{ loop = ["send ping", "recv pong"] }]

[[goroutine]]
name = "ponger"
body = [{ loop = ["recv ping", "send pong"] }]

[[goroutine]]
name = "sleeper"
body = [{ loop = ["sleep 2", "gosched"] }]

[[goroutine]]
name = "reader"
body = [{ loop = ["netread 2", "compute"] }]
"""

# Two Ps with little work, so Ps go idle.  The walks reach stopm, netpoll
# waking for a timer, stealing a due timer or another P's runnext, and a
# stop-the-world that stops an idle P.  A system call also ends after sysmon
# retook its P, and the G takes an idle P.
SPARSE_P2 = """
name = "sparse-p2"
gomaxprocs = 2

[model]
timeslice_ticks = 2
runq_size = 4
bound = 6

[[goroutine]]
name = "caller"
body = [{ loop = ["syscall 3", "gc", "sleep 1"] }]

[[goroutine]]
name = "pinger"
body = [{ loop = ["send ping", "sleep 2"] }]

[[goroutine]]
name = "ponger"
body = [{ loop = ["recv ping"] }]
"""

# Network readers and a sleeper on two Ps: a P's own non-blocking poll finds
# the readers when both Ps are busy, and the M blocked in netpoll wakes for
# them when a P is idle.
NET_P2 = """
name = "net-p2"
gomaxprocs = 2

[model]
timeslice_ticks = 2
runq_size = 4
bound = 6

[[goroutine]]
name = "worker"
body = [{ loop = ["compute", "sleep 1"] }]

[[goroutine]]
name = "reader"
count = 2
body = [{ loop = ["netread 2", "compute"] }]
"""

CUSTOM = {"mixed-p2": MIXED_P2, "sparse-p2": SPARSE_P2, "net-p2": NET_P2}

# A tick in which sysmon takes a P out of _Psyscall (retake, then handoffp or
# pidleput).  It is a case of the tick rule, not a rule of its own.
HANDOFF = "retake(handoffp)"

MAX_STEPS = 120


@functools.lru_cache(maxsize=None)
def concrete_model(scenario: str, profile: str, asyncpreemptoff: bool) -> ConcreteModel:
    if scenario in CUSTOM:
        sc = parse(CUSTOM[scenario], f"{scenario}.toml")
    else:
        sc = resolve(scenario)
    return ConcreteModel(build_model(sc, profile, asyncpreemptoff))


@functools.lru_cache(maxsize=None)
def slot_names(cm: ConcreteModel) -> list[str]:
    return cm.model.layout.slot_names()


def field_values(model, state, name: str) -> list[int]:
    f = model.layout.fields[name]
    return list(state[f.base:f.base + f.size])


def check_successor(cm: ConcreteModel, state: list[int], i: int, successor: list) -> None:
    """Assert that the symbolic ``successor`` terms of enabled rule ``i`` in ``state``
    simplify to the concrete successor, slot by slot."""
    rule = cm.rules[i]
    concrete_successor = cm.step(state, i)
    for name, t, expected in zip(slot_names(cm), successor, concrete_successor):
        value = z3.simplify(t)
        assert z3.is_int_value(value), f"{rule.label()}: slot {name} did not simplify: {value}"
        assert value.as_long() == expected, (
            f"{rule.label()}: slot {name}: concrete {expected}, symbolic {value.as_long()}")


def check_rule(cm: ConcreteModel, state: list[int], i: int, terms: list, memo: dict) -> bool:
    """Assert that both semantics give rule ``i`` the same enabledness in ``state``, and
    when it is enabled, the same successor.  Returns the enabledness.

    ``terms`` is ``state`` as z3 constants, and ``memo`` caches guard terms for it.
    """
    rule = cm.rules[i]
    concrete_enabled = bool(cm.compiled[i][0](state))
    guard = z3.simplify(bool_term(rule.guard, terms, memo))
    assert z3.is_true(guard) or z3.is_false(guard), f"{rule.label()}: guard did not simplify: {guard}"
    assert z3.is_true(guard) == concrete_enabled, (
        f"{rule.label()}: concrete enabled={concrete_enabled}, symbolic {guard}")
    if concrete_enabled:
        symbolic_guard, successor = rule_terms(rule, terms, memo)
        assert z3.is_true(z3.simplify(symbolic_guard))
        check_successor(cm, state, i, successor)
    return concrete_enabled


def retakes_syscall_p(model, before: list[int], after: list[int]) -> bool:
    """Whether some P leaves _Psyscall from ``before`` to ``after``."""
    statuses = zip(field_values(model, before, "pstatus"), field_values(model, after, "pstatus"))
    return any(old == P_SYSCALL != new for old, new in statuses)


def walk(data, cm: ConcreteModel, checked: set[str]) -> list[int]:
    """Walk from the initial state, taking a drawn enabled rule at each of a drawn number of steps.

    The first time the walk takes a rule of each name, both semantics must give
    it the same successor.  Later steps with that name are not compared, which
    keeps a walk fast.  A tick that retakes a P in a system call counts as the
    name HANDOFF.  Adds the names compared to ``checked`` and returns the last
    state.
    """
    model = cm.model
    state = list(cm.init)
    compared: set[str] = set()
    steps = data.draw(st.integers(0, MAX_STEPS), label="steps")
    for _ in range(steps):
        enabled = cm.enabled(state)
        assert enabled, f"deadlock: no rule enabled in {state}"
        i = enabled[data.draw(st.integers(0, len(enabled) - 1), label="choice")]
        rule = model.rules[i]
        note(rule.label())
        after = cm.step(state, i)
        name = rule.name
        if name == "tick" and retakes_syscall_p(model, state, after):
            name = HANDOFF
        if name not in compared:
            check_successor(cm, state, i, exec_body(rule.body, [z3.IntVal(v) for v in state]))
            compared.add(name)
        state = after
    checked |= compared
    return state


def check_agreement(cm: ConcreteModel, state: list[int]) -> None:
    """Assert that both semantics agree on every rule and invariant in ``state``."""
    for name, (lo, hi), v in zip(slot_names(cm), cm.model.layout.slot_ranges(), state):
        assert lo <= v <= hi, f"slot {name} = {v} outside its declared range {lo}..{hi}"

    terms = [z3.IntVal(v) for v in state]
    memo: dict = {}
    enabled = [i for i in range(len(cm.rules)) if check_rule(cm, state, i, terms, memo)]
    assert cm.enabled(state) == enabled, "enabled() disagrees with the compiled guards"

    for prop in cm.model.properties:
        if prop.kind != "invariant":
            continue
        concrete_holds = bool(cm.invariants[prop.name](state))
        symbolic = z3.simplify(bool_term(prop.expr, terms))
        assert z3.is_true(symbolic) or z3.is_false(symbolic), f"{prop.name}: did not simplify: {symbolic}"
        assert z3.is_true(symbolic) == concrete_holds, (
            f"{prop.name}: concrete holds={concrete_holds}, symbolic {symbolic}")


def test_custom_semantics_agree():
    """Check agreement on walks of the two custom scenarios, and that the walks
    took every rule of their models at least once, so no rule is left unchecked."""
    checked: set[str] = set()

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(scenario=st.sampled_from(sorted(CUSTOM)), profile=st.sampled_from(PROFILES),
           asyncpreemptoff=st.booleans(), data=st.data())
    def check(scenario, profile, asyncpreemptoff, data):
        cm = concrete_model(scenario, profile, asyncpreemptoff)
        check_agreement(cm, walk(data, cm, checked))

    check()

    required = {HANDOFF}
    for scenario in CUSTOM:
        for profile in PROFILES:
            for asyncpreemptoff in (False, True):
                required |= {r.name for r in concrete_model(scenario, profile, asyncpreemptoff).model.rules}
    missing = required - checked
    assert not missing, f"walks never took {sorted(missing)}, so agreement on them went unchecked"


def test_builtin_semantics_agree():
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(scenario=st.sampled_from(BUILTINS), profile=st.sampled_from(PROFILES),
           asyncpreemptoff=st.booleans(), data=st.data())
    def check(scenario, profile, asyncpreemptoff, data):
        cm = concrete_model(scenario, profile, asyncpreemptoff)
        check_agreement(cm, walk(data, cm, set()))

    check()


@pytest.mark.parametrize("profile", PROFILES)
def test_initial_state_semantics_agree(profile):
    for scenario in BUILTINS + tuple(CUSTOM):
        for asyncpreemptoff in (False, True):
            cm = concrete_model(scenario, profile, asyncpreemptoff)
            check_agreement(cm, list(cm.init))
