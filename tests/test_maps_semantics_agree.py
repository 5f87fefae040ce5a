"""The concrete and symbolic semantics of the map model agree on reachable states.

Hypothesis draws a random walk of map operations (with random inputs: values,
fastrand draws, NaN hashes and new seeds) from the initial state of a small
model whose key hashes collide often.  In the state the walk reaches, every
rule must have the same enabledness under both semantics, every enabled rule
the same successor slot by slot, and every invariant the same truth value.
"""

from __future__ import annotations

import functools
import random

import pytest
import z3
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from checker.concrete import ConcreteModel
from checker.mapdriver import MapDriver
from checker.symbolic import bool_term, rule_terms
from spec.maps.model import build_model
from spec.maps.state import KeySpec, MapConfig

CONFIGS = {
    # Ordinary keys, buckets with pointers (evacuate clears old buckets), two iterators.
    "pointers": dict(keys=[KeySpec(f"k{i}") for i in range(4)], bucket_pointers=True, key_pointers=True,
                     iterators=2),
    # A NaN key among ordinary keys, buckets without pointers, clear allowed.
    "nan": dict(keys=[KeySpec("k0"), KeySpec("k1"), KeySpec("k2"), KeySpec("nan", nan=True)]),
}

MAX_STEPS = 60


@functools.lru_cache(maxsize=None)
def model(name: str) -> ConcreteModel:
    cfg = MapConfig(slots=2, max_b=2, chain=2, pool=12, max_value=3, load_num=1, load_den=1,
                    tophash_values=4, **CONFIGS[name])
    return ConcreteModel(build_model(cfg, name))


def check_state(cm: ConcreteModel, state: list[int]) -> None:
    names = cm.model.layout.slot_names()
    terms = [z3.IntVal(v) for v in state]
    memo: dict = {}
    for i, rule in enumerate(cm.rules):
        enabled = bool(cm.compiled[i][0](state))
        guard = z3.simplify(bool_term(rule.guard, terms, memo))
        assert z3.is_true(guard) == enabled, f"{rule.label()}: concrete enabled={enabled}, symbolic {guard}"
        if not enabled:
            continue
        _, post = rule_terms(rule, terms, memo)
        after = cm.step(state, i)
        for name, t, expected in zip(names, post, after):
            value = z3.simplify(t)
            assert z3.is_int_value(value), f"{rule.label()}: slot {name} did not simplify"
            assert value.as_long() == expected, f"{rule.label()}: {name}: concrete {expected}, symbolic {value}"
    for prop in cm.model.properties:
        truth = z3.simplify(bool_term(prop.expr, terms, {}))
        assert z3.is_true(truth) == bool(cm.invariants[prop.name](state)), prop.name


def walk(data, cm: ConcreteModel) -> list[int]:
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    rng = random.Random(seed)
    H = cm.model.state
    driver = MapDriver(cm.model, cm, seed=seed, hashes=lambda k: rng.choice([0, 1 << 56, 2 << 56])
                       | rng.getrandbits(8))
    state = driver.state
    for _ in range(data.draw(st.integers(0, MAX_STEPS), label="steps")):
        driver.draw_inputs(state)
        driver.draw_reseed(state)
        for j in range(H.in_top.size):
            state[H.in_top.base + j] = 5 + rng.randrange(4)
        enabled = cm.enabled(state)
        if not enabled:
            break
        i = enabled[data.draw(st.integers(0, len(enabled) - 1), label="choice")]
        note(cm.rules[i].label())
        state = cm.step(state, i)
    driver.draw_inputs(state)
    driver.draw_reseed(state)
    return state


@pytest.mark.parametrize("name", sorted(CONFIGS))
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_map_semantics_agree(name: str, data) -> None:
    cm = model(name)
    state = walk(data, cm)
    check_state(cm, state)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CONFIGS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_map_semantics_agree_many(name: str, data) -> None:
    cm = model(name)
    state = walk(data, cm)
    check_state(cm, state)
