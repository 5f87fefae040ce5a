"""A real-size map model (bucketCnt 8, B past 10) against a Python dict.

Hypothesis drives the concrete model through thousands of operations: bulk
inserts of fresh keys, updates, deletes, lookups, NaN assignments and range
loops whose steps interleave with the other operations, across doublings and
same-size grows.  Every lookup must agree with the dict; every range loop
must return each key present throughout exactly once, never a key deleted
before it was reached, each key with its newest value, and every NaN entry
present throughout.  Each example ends by running its open range loop to the
end, or one whole loop if it completed none.  The model's invariants are evaluated every few hundred
operations and at the end.
"""

from __future__ import annotations

import functools
import time

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, initialize, invariant, precondition, rule,
                                 run_state_machine_as_test)

from checker.concrete import ConcreteModel
from checker.mapdriver import MapDriver
from spec.maps.model import build_model
from spec.maps.state import KeySpec, MapConfig

pytestmark = pytest.mark.slow

KEYS = 8000
NAN_KEYS = 2
MAX_NAN = 4
CHECK_EVERY = 500


@functools.lru_cache(maxsize=None)
def real_size():
    keys = [KeySpec(f"k{i}") for i in range(KEYS)] + [KeySpec(f"nan{i}", nan=True) for i in range(NAN_KEYS)]
    cfg = MapConfig(slots=8, max_b=11, chain=6, pool=12000, max_value=1000, keys=keys, key_from_input=True,
                    lookup_invariant=False, max_entries=MAX_NAN, ops=("assign", "delete", "lookup", "iterate"))
    model = build_model(cfg, "real-size")
    return model, ConcreteModel(model)


STATS = {"ops": 0, "seconds": 0.0, "max_B": 0, "iterations": 0, "same_size": 0}


class MapMachine(RuleBasedStateMachine):
    @initialize(seed=st.integers(0, 2**32 - 1), prefill=st.integers(6600, 6656))
    def start(self, seed, prefill):
        """Start from a map of B 10 close to its load factor, so the next inserts
        double it to B 11 with 1024 old buckets to evacuate."""
        self.driver = MapDriver(*real_size(), seed=seed)
        self.ref: dict[int, int] = {}
        self.nans: dict[int, list[int]] = {KEYS + j: [] for j in range(NAN_KEYS)}
        self.fresh = 0
        self.iter = None
        self.completed = 0
        self.t0 = time.monotonic()
        self.last_check = 0
        for _ in range(prefill):
            self._assign(self.fresh, self.fresh % 1000 + 1)
            self.fresh += 1

    # -- writes ---------------------------------------------------------------

    def _assign(self, k, v):
        self.driver.assign(k, v)
        if self.iter is not None and k not in self.ref:
            self.iter["inserted"].add(k)
        self.ref[k] = v

    @rule(n=st.integers(1, 600), v=st.integers(1, 1000))
    def bulk_insert(self, n, v):
        for _ in range(min(n, KEYS - self.fresh)):
            self._assign(self.fresh, (v + self.fresh) % 1000 + 1)
            self.fresh += 1

    @precondition(lambda self: self.ref)
    @rule(data=st.data(), v=st.integers(1, 1000))
    def update(self, data, v):
        self._assign(data.draw(st.sampled_from(sorted(self.ref))), v)

    @precondition(lambda self: self.ref)
    @rule(data=st.data(), n=st.integers(1, 200))
    def delete_some(self, data, n):
        live = sorted(self.ref)
        start = data.draw(st.integers(0, len(live) - 1))
        for k in live[start:start + n]:
            self.driver.delete(k)
            del self.ref[k]
            if self.iter is not None:
                self.iter["deleted"].add(k)

    @precondition(lambda self: self.fresh > 0)
    @rule(data=st.data(), n=st.integers(1, 300), v=st.integers(1, 1000))
    def churn(self, data, n, v):
        """Replace keys one by one: deletes then fresh inserts, which grows overflow chains."""
        for _ in range(n):
            if not self.ref or self.fresh >= KEYS:
                break
            k = min(self.ref)
            self.driver.delete(k)
            del self.ref[k]
            if self.iter is not None:
                self.iter["deleted"].add(k)
            self._assign(self.fresh, v)
            self.fresh += 1

    @rule(j=st.integers(0, NAN_KEYS - 1), v=st.integers(1, 1000))
    def assign_nan(self, j, v):
        k = KEYS + j
        if len(self.nans[k]) < MAX_NAN:
            self.driver.assign(k, v)
            self.nans[k].append(v)

    @rule(j=st.integers(0, NAN_KEYS - 1))
    def delete_nan(self, j):
        self.driver.delete(KEYS + j)

    # -- reads -----------------------------------------------------------------

    @rule(data=st.data())
    def lookups(self, data):
        keys = data.draw(st.lists(st.integers(0, max(self.fresh, 1)), max_size=50))
        for k in keys + [KEYS + j for j in range(NAN_KEYS)]:
            k = min(k, KEYS + NAN_KEYS - 1)
            assert self.driver.lookup(k) == (None if k >= KEYS else self.ref.get(k))

    @rule(n=st.integers(1, KEYS))
    def range_steps(self, n):
        d = self.driver
        for _ in range(n):
            if self.iter is None:
                self.iter = {"start": dict(self.ref), "nans": {k: list(v) for k, v in self.nans.items()},
                             "deleted": set(), "inserted": set(), "seen": {}, "nan_seen": []}
                kv = d.iter_start()
            else:
                kv = d.iter_next()
            if kv is None:
                self._finish_iteration()
                return
            k, v = kv
            it = self.iter
            if k >= KEYS:
                it["nan_seen"].append((k, v))
                continue
            assert k in self.ref, f"range returned key {k}, which is not in the map"
            assert v == self.ref[k], f"range returned key {k} with value {v}, newest is {self.ref[k]}"
            it["seen"][k] = it["seen"].get(k, 0) + 1
            assert it["seen"][k] <= 1 + (k in it["inserted"]), f"range returned key {k} twice"

    def _finish_iteration(self):
        it = self.iter
        for k in it["start"]:
            if k not in it["deleted"]:
                assert it["seen"].get(k) == 1, f"key {k}, present throughout, returned {it['seen'].get(k, 0)} times"
        for k, values in it["nans"].items():
            got = sorted(v for kk, v in it["nan_seen"] if kk == k)
            for v in values:
                assert v in got, f"NaN entry {k} = {v}, present throughout, not returned"
        self.iter = None
        self.completed += 1
        STATS["iterations"] += 1

    # -- invariants ---------------------------------------------------------------

    @invariant()
    def model_invariants(self):
        d = self.driver
        if d.steps - self.last_check >= CHECK_EVERY:
            self.last_check = d.steps
            assert d.violated() == []
        lay_b = d.state[d.H.B.base]
        STATS["max_B"] = max(STATS["max_B"], lay_b)

    def teardown(self):
        if hasattr(self, "driver"):
            # Every example checks at least one whole range loop: the one in
            # progress runs to its end, or a fresh one walks the final map.
            if self.iter is not None or not self.completed:
                while True:
                    done = STATS["iterations"]
                    self.range_steps(KEYS + 1)
                    if STATS["iterations"] > done:
                        break
            assert self.driver.violated() == []
            STATS["ops"] += self.driver.steps
            STATS["seconds"] += time.monotonic() - self.t0


def test_state_machine_reaches_real_size():
    """Runs the machine and checks what it covered, in one test so parallel runs keep them together."""
    for key in STATS:
        STATS[key] = 0
    run_state_machine_as_test(MapMachine, settings=settings(
        max_examples=3, stateful_step_count=60, deadline=None, suppress_health_check=list(HealthCheck)))
    print(f"state machine: {STATS['ops']} model steps in {STATS['seconds']:.1f} s "
          f"({STATS['ops'] / STATS['seconds']:.0f} steps/s), max B {STATS['max_B']}, "
          f"{STATS['iterations']} completed range loops")
    assert STATS["max_B"] >= 11
    assert STATS["iterations"] >= 1
