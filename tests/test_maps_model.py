"""The map model's behaviour on the built-in map scenarios, concretely and by BMC."""

from __future__ import annotations

import time

import pytest

from checker import bmc
from checker.concrete import ConcreteModel
from checker.mapdriver import MapDriver
from spec.maps.model import build_model
from spec.maps.scenario import builtin_names, load
from spec.maps.state import IT_BETWEEN, IT_IN_NEXT, MapConfig

ZERO, NAN = 0, 1  # key indices of map-nan-keys


@pytest.fixture(scope="module")
def nan_model():
    sc = load("map-nan-keys")
    cfg = sc.config
    # Larger than the BMC sizes, so a run of operations fits.
    big = MapConfig(**{**cfg.__dict__, "max_b": 3, "chain": 4, "pool": 40, "max_entries": 4})
    model = build_model(big, sc.name)
    return model, ConcreteModel(model)


def test_builtin_map_scenarios_load() -> None:
    assert builtin_names() == ["map-concurrent-writes", "map-concurrent-writes-tso", "map-iter-checkbucket",
                              "map-iter-grow", "map-iter-old-buckets", "map-nan-keys"]
    sc = load("map-iter-grow")
    assert sc.config.slots == 2
    assert [k.name for k in sc.config.keys] == ["a", "b", "c"]
    assert sc.expect["iteration"] == "holds"


@pytest.mark.parametrize("seed", range(20))
def test_nan_entries_add_up(nan_model, seed: int) -> None:
    d = MapDriver(*nan_model, seed=seed)
    for v in (1, 2, 3):
        d.assign(NAN, v)
    assert d.layout()["count"] == 3
    assert d.lookup(NAN) is None
    d.delete(NAN)
    assert d.layout()["count"] == 3
    assert sorted(d.range_all()) == [(NAN, 1), (NAN, 2), (NAN, 3)]
    assert d.violated() == []


@pytest.mark.parametrize("seed", range(20))
def test_nan_range_across_grow_and_deletes(nan_model, seed: int) -> None:
    d = MapDriver(*nan_model, seed=seed)
    for v in (1, 2, 3):
        d.assign(NAN, v)
    b_before = d.layout()["B"]
    got = [d.iter_start()]
    d.assign(ZERO, 3)  # count 4 exceeds the load factor: hashGrow
    assert d.layout()["B"] == b_before + 1
    while got[-1] is not None:
        d.delete(got[-1][0])  # deleting NaN finds nothing
        got.append(d.iter_next())
    returned = got[:-1]
    nans = sorted(kv for kv in returned if kv[0] == NAN)
    assert nans == [(NAN, 1), (NAN, 2), (NAN, 3)]
    assert len([kv for kv in returned if kv[0] == ZERO]) <= 1
    assert d.layout()["count"] in (3, 4)
    assert d.violated() == []
    d.clear()
    assert d.layout()["count"] == 0
    assert d.range_all() == []
    assert d.violated() == []


def test_map_iter_grow_holds_at_depth_2() -> None:
    sc = load("map-iter-grow")
    model = build_model(sc.config, sc.name)
    start = time.monotonic()
    results = bmc.check(model, model.properties, 2, 120)
    seconds = time.monotonic() - start
    assert {r.property: r.verdict for r in results} == {p.name: "holds" for p in model.properties}
    assert all(r.depth == 2 for r in results)
    assert seconds < 60


@pytest.mark.slow
def test_map_iter_grow_holds_at_depth_3() -> None:
    sc = load("map-iter-grow")
    model = build_model(sc.config, sc.name)
    start = time.monotonic()
    results = bmc.check(model, model.properties, 3, 900)
    seconds = time.monotonic() - start
    assert {r.property: r.verdict for r in results} == {p.name: "holds" for p in model.properties}
    assert all(r.depth == 3 for r in results)
    assert seconds < 600


def test_no_checkbucket_breaks_iteration_concretely() -> None:
    # A random walk (seed 254) over a model with bucketCnt 2 and up to 16
    # buckets: a range loop that starts during a doubling reads an
    # unevacuated old bucket for two new buckets and, without the
    # checkBucket filter, returns its keys twice.  BMC does not reach this
    # depth in the default time; the walk shows that the patch takes effect.
    import random

    from spec.patch import load_patch
    from spec.maps.state import KeySpec

    cfg = MapConfig(slots=2, max_b=4, chain=4, pool=80, max_value=5, keys=[KeySpec(f"k{i}") for i in range(10)],
                    load_num=1, load_den=1, ops=("assign", "delete", "iterate"), lookup_invariant=False)
    model = build_model(cfg, patches=[load_patch("no-checkbucket")])
    concrete = ConcreteModel(model)
    rng = random.Random(254)
    driver = MapDriver(model, concrete, seed=254)
    violated = []
    steps = 0
    while not violated and steps < 40:
        i = rng.choice(concrete.enabled(driver.state))
        driver.draw_inputs(driver.state)
        driver.draw_reseed(driver.state)
        driver.state = concrete.step(driver.state, i)
        steps += 1
        violated = concrete.violated_invariants(driver.state)
    assert violated == ["iteration"]
    seen = driver.state[model.state.g_seen.base:model.state.g_seen.base + model.state.K]
    assert max(seen) == 2


def test_evacuate_all_at_once_keeps_iteration_guarantee() -> None:
    # The patch evacuates every old bucket inside hashGrow.  A range loop that
    # started before the grow walks its own snapshot of the old array and looks
    # moved keys up in the new one, and no loop can start while a grow is in
    # progress, so the iteration guarantee still holds: random walks with the
    # patch find no violation, while they do cross grows with a loop open.
    import random

    from spec.maps.state import KeySpec
    from spec.patch import load_patch

    cfg = MapConfig(slots=2, max_b=4, chain=4, pool=80, max_value=5, keys=[KeySpec(f"k{i}") for i in range(10)],
                    load_num=1, load_den=1, ops=("assign", "delete", "iterate"), lookup_invariant=False)
    model = build_model(cfg, patches=[load_patch("evacuate-all-at-once")])
    concrete = ConcreteModel(model)
    H = model.state
    loops_across_grow = 0
    for seed in range(300):
        rng = random.Random(seed)
        driver = MapDriver(model, concrete, seed=seed)
        for _ in range(40):
            enabled = concrete.enabled(driver.state)
            if not enabled:
                break
            driver.draw_inputs(driver.state)
            driver.draw_reseed(driver.state)
            before_b = driver.state[H.B.base]
            driver.state = concrete.step(driver.state, rng.choice(enabled))
            assert concrete.violated_invariants(driver.state) == [], f"seed {seed}"
            assert driver.state[H.oldbuckets.base] == 0, f"seed {seed}: a grow left old buckets to evacuate"
            open_loop = driver.state[H.it_state.base] in (IT_BETWEEN, IT_IN_NEXT)
            if open_loop and driver.state[H.B.base] > before_b:
                loops_across_grow += 1
    assert loops_across_grow >= 100
