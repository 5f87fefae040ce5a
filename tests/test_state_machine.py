"""Stateful tests of the scheduler model at real sizes, with the concrete semantics.

A hypothesis RuleBasedStateMachine takes one enabled rule instance per step,
chosen by hypothesis, and checks after every step that the safety invariants
hold, that every slot stays in its declared range and that some rule is
enabled.  bounded-wait is left out because a schedule chosen at random may
starve a goroutine; the BMC engine decides that property.

Seeded walks then check runqputslow: the ring overflows, and exactly
size/2 + 1 Gs, in order, move to the global run queue.
"""

from __future__ import annotations

import functools
import random

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from checker.statemachine import machine_for

from checker.concrete import ConcreteModel
from spec.patch import builtin_patches, load_patch
from spec.scenario import parse
from spec.sched.model import build_model
from spec.sched.state import G_RUNNABLE, G_RUNNING

NOT_SAFETY = {"bounded-wait"}

# 44 goroutines of every kind on 4 Ps with the real ring size (256) and the
# real fairness period (61).  The spawner's 8 children do not exist at the
# start; the go statements create them.
REAL_SIZE = """
name = "real-size-p4"
gomaxprocs = 4

[model]
timeslice_ticks = 2
runq_size = 256
fairness_period = 61
bound = 20

[[goroutine]]
name = "looper"
count = 6
body = [{ loop = ["compute"] }]

[[goroutine]]
name = "caller"
count = 4
body = [{ loop = ["call", "compute"] }]

[[goroutine]]
name = "ranger"
count = 3
body = [{ loop = ["range-map", "inline-call"] }]

[[goroutine]]
name = "yielder"
count = 4
body = [{ loop = ["compute", "gosched"] }]

[[goroutine]]
name = "sleeper"
count = 6
body = [{ loop = ["sleep 3", "call"] }]

[[goroutine]]
name = "pinger"
count = 2
body = [{ loop = ["send ping", "recv pong"] }]

[[goroutine]]
name = "ponger"
count = 2
body = [{ loop = ["recv ping", "send pong"] }]

[[goroutine]]
name = "syscaller"
count = 4
body = [{ loop = ["syscall 2", "compute"] }]

[[goroutine]]
name = "spawner"
body = [{ loop = ["go child", "call"], times = 8 }]

[[goroutine]]
name = "child"
count = 8
start = false
body = ["call", "compute"]

[[goroutine]]
name = "allocator"
body = [{ loop = ["call", "gc"] }]

[[goroutine]]
name = "reader"
count = 3
body = [{ loop = ["netread 2", "call"] }]
"""


@functools.lru_cache(maxsize=None)
def concrete_model(text: str, path: str, profile: str) -> ConcreteModel:
    return ConcreteModel(build_model(parse(text, path), profile))


def field_values(cm: ConcreteModel, state, name: str) -> list[int]:
    f = cm.model.layout.fields[name]
    return list(state[f.base:f.base + f.size])


def field_value(cm: ConcreteModel, state, name: str) -> int:
    [value] = field_values(cm, state, name)
    return value


def ring_contents(cm: ConcreteModel, state, p: int) -> list[int]:
    """The G references in P ``p``'s local ring, from head to tail."""
    size = cm.model.state.cap
    head = field_values(cm, state, "runqhead")[p]
    tail = field_values(cm, state, "runqtail")[p]
    ring = field_values(cm, state, "runq")[p * size:(p + 1) * size]
    length = (tail - head) % (2 * size)
    return [ring[(head + k) % size] for k in range(length)]


def global_queue(cm: ConcreteModel, state) -> list[int]:
    """The G references in the global run queue, from head to tail."""
    gq = field_values(cm, state, "gq")
    head = field_value(cm, state, "gqhead")
    return [gq[(head + k) % len(gq)] for k in range(field_value(cm, state, "gqlen"))]


@functools.lru_cache(maxsize=None)
def slot_ranges(cm: ConcreteModel) -> list[tuple[int, int]]:
    return cm.model.layout.slot_ranges()


def check_state(cm: ConcreteModel, state) -> None:
    """Assert the safety invariants, the declared slot ranges, and that some rule is enabled."""
    violated = set(cm.violated_invariants(state)) - NOT_SAFETY
    assert not violated, f"invariants violated: {sorted(violated)}"
    for slot, ((lo, hi), v) in enumerate(zip(slot_ranges(cm), state)):
        if not lo <= v <= hi:
            name = cm.model.layout.slot_names()[slot]
            pytest.fail(f"slot {name} = {v} outside its declared range {lo}..{hi}")
    assert cm.enabled(state), "deadlock: no rule instance is enabled"


@pytest.mark.parametrize("profile", ["go1.19", "go1.27"])
def test_real_size_state_machine(profile):
    cm = concrete_model(REAL_SIZE, "real-size-p4.toml", profile)
    assert cm.model.state.nP == 4
    assert cm.model.state.nG == 44
    assert cm.model.state.cap == 256

    rules_taken: set[str] = set()
    run_state_machine_as_test(
        machine_for(cm.model, cm, on_rule=lambda r: rules_taken.add(r.name)),
        settings=settings(max_examples=15, stateful_step_count=600, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow]))

    expected = {"newproc", "runqsteal", "globrunqget", "stopTheWorld", "startTheWorld", "entersyscall",
                "chansend", "chanrecv", "checkTimers", "Gosched"}
    assert expected <= rules_taken, f"the machine never took {sorted(expected - rules_taken)}"


@pytest.mark.parametrize("profile", ["go1.19", "go1.27"])
def test_real_size_seeded_walk(profile):
    """A seeded walk of 4000 steps at real size stays safe and takes the main scheduler rules."""
    cm = concrete_model(REAL_SIZE, "real-size-p4.toml", profile)
    rng = random.Random(20240)
    state = list(cm.init)
    rules_taken: set[str] = set()
    for _ in range(4000):
        check_state(cm, state)
        index = rng.choice(cm.enabled(state))
        rules_taken.add(cm.rules[index].name)
        state = cm.step(state, index)
    check_state(cm, state)

    expected = {"newproc", "runqsteal", "stopTheWorld", "startTheWorld", "entersyscall",
                "chansend", "chanrecv", "time.Sleep", "checkTimers", "Gosched", "goexit", "pollWait"}
    assert expected <= rules_taken, f"the walk never took {sorted(expected - rules_taken)}"


# One P, the real ring of 256 slots, and 260 goroutines created at the start:
# main's newproc puts each in runnext and moves the previous one to the ring's
# tail, so the ring overflows while main creates them.
OVERFLOW_AT_START = "gomaxprocs = 1\n\n[model]\nrunq_size = 256\n" + "".join(f"""
[[goroutine]]
name = "kind{k}"
count = 52
body = [{{ loop = ["compute"] }}]
""" for k in range(5))


def test_runqputslow_real_size_at_start():
    cm = concrete_model(OVERFLOW_AT_START, "overflow-at-start.toml", "go1.19")
    assert cm.model.state.cap == 256
    assert cm.model.state.nG == 260
    state = cm.init

    # G1..G257 fill runnext and then the ring.  Creating G258 kicks G257 into a
    # full ring, so runqputslow moves the oldest 128 (G1..G128) and G257 to the
    # global queue.  G258 and G259 then go to the ring's tail in turn.
    assert global_queue(cm, state) == list(range(1, 129)) + [257]
    assert ring_contents(cm, state, 0) == list(range(129, 257)) + [258, 259]
    assert field_values(cm, state, "runnext") == [260]
    assert field_values(cm, state, "runqhead") == [128]
    assert field_values(cm, state, "runqtail") == [258]
    check_state(cm, state)

    rng = random.Random(7)
    for _ in range(1500):
        state = cm.step(state, rng.choice(cm.enabled(state)))
        check_state(cm, state)


# Two Ps and a ring of 8.  The hog keeps P1 busy, so no M spins and nothing is
# stolen from P0, where the spawner's go statements fill runnext and the ring.
# The 64-tick time slice keeps the spawner on P0 for all its go statements.
OVERFLOW_IN_WALK = """
name = "overflow-in-walk"
gomaxprocs = 2

[model]
timeslice_ticks = 64
runq_size = 8

[[goroutine]]
name = "hog"
body = [{ loop = ["compute"] }]

[[goroutine]]
name = "spawner"
body = [{ loop = ["go child"], times = 12 }, { loop = ["compute"] }]

[[goroutine]]
name = "child"
count = 12
start = false
body = [{ loop = ["compute"] }]
"""


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_runqputslow_moves_half_plus_one(seed):
    cm = concrete_model(OVERFLOW_IN_WALK, "overflow-in-walk.toml", "go1.19")
    size = cm.model.state.cap
    assert size == 8
    spawner = cm.model.g_names.index("spawner") + 1
    children = [g + 1 for g, name in enumerate(cm.model.g_names) if name.startswith("child")]

    rng = random.Random(seed)
    state = list(cm.init)
    for _ in range(200):
        check_state(cm, state)
        index = rng.choice(cm.enabled(state))
        after = cm.step(state, index)
        if field_value(cm, after, "gqlen") > field_value(cm, state, "gqlen"):
            break
        state = after
    else:
        pytest.fail("the ring never overflowed in 200 steps")
    before = state

    # The overflow happens at the spawner's go statement on P0.
    rule = cm.rules[index]
    assert rule.name == "newproc"
    assert rule.params["p"] == 0
    assert rule.params["g"] == spawner - 1

    # Before: a full ring and a G in runnext.
    ring_before = ring_contents(cm, before, 0)
    kicked = field_values(cm, before, "runnext")[0]
    assert len(ring_before) == size
    assert kicked != 0
    assert global_queue(cm, before) == []

    # After: the oldest size/2 Gs of the ring, then the kicked runnext, are at the
    # global queue's tail.  The rest of the ring stays in order, and the new
    # child is in runnext.
    new_child = field_values(cm, after, "runnext")[0]
    assert new_child in children
    assert new_child not in ring_before + [kicked]
    assert global_queue(cm, after) == ring_before[:size // 2] + [kicked]
    assert len(global_queue(cm, after)) == size // 2 + 1
    assert ring_contents(cm, after, 0) == ring_before[size // 2:]
    assert field_values(cm, after, "runqhead")[0] == (field_values(cm, before, "runqhead")[0] + size // 2) % (2 * size)

    gstatus = field_values(cm, after, "gstatus")
    for g in global_queue(cm, after) + ring_contents(cm, after, 0) + [new_child]:
        assert gstatus[g - 1] == G_RUNNABLE
    assert gstatus[spawner - 1] == G_RUNNING
    check_state(cm, after)


# Every built-in patch keeps the model safe: a mutation may make goroutines
# wait longer, never lose one or break a queue.
PATCHED = """
name = "patched-p2"
gomaxprocs = 2

[model]
timeslice_ticks = 2
runq_size = 4
fairness_period = 4

[[goroutine]]
name = "spawner"
body = [{ loop = ["go worker", "call"], times = 3 }, { loop = ["compute", "gosched"] }]

[[goroutine]]
name = "worker"
count = 3
start = false
body = ["compute", "syscall 1", "call"]

[[goroutine]]
name = "pinger"
body = [{ loop = ["send ping", "netread 1"] }]

[[goroutine]]
name = "ponger"
body = [{ loop = ["recv ping", "sleep 1"] }]
"""


@pytest.mark.parametrize("patch", sorted(n for n, p in builtin_patches().items() if p.model == "sched"))
def test_patched_models_stay_safe(patch):
    model = build_model(parse(PATCHED, "patched-p2.toml"), "go1.19", patches=[load_patch(patch)])
    cm = ConcreteModel(model)
    for seed in range(8):
        rng = random.Random(seed)
        state = list(cm.init)
        for _ in range(150):
            check_state(cm, state)
            state = cm.step(state, rng.choice(cm.enabled(state)))
        check_state(cm, state)
