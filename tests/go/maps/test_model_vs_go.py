"""The concrete map model reproduces real Go 1.19 map layouts bit for bit.

Each case applies a random operation sequence to a real map (main.go, through
layout.py) with a dump after every operation, and the same operations to the
model at real size (bucketCnt 8).  The model takes each key's hash from the
dumps: the first dump's hashes before any reseed, and after a delete that
empties the map or a clear (both draw a new hash0) the hashes that dump
reports under the new seed.  After every operation the test compares B, count,
flags, noverflow, nevacuate and every chain of buckets and oldbuckets slot by
slot: tophash, key and value, stale keys of deleted and evacuated slots
included.

NaN keys are left out: their hashes are random per call and main.go does not
report them.  So is -0.0, which equals 0.0 with other bits.
"""

from __future__ import annotations

import importlib.util
import os
import random
import struct
import sys
from pathlib import Path

import pytest

from checker.concrete import ConcreteModel
from checker.mapdriver import MapDriver
from spec.maps.model import build_model
from spec.maps.state import KeySpec, MapConfig

pytestmark = pytest.mark.realgo

SEQUENCES_PER_KIND = 34  # 3 kinds x 2 key types x 34 = 204 sequences under -m slow
KEY_TABLE = 400
MAX_VALUE = 1000


def _load_layout_module():
    name = "gmpcheck_maps_layout"
    if name in sys.modules:
        return sys.modules[name]
    path = Path(__file__).resolve().parent / "layout.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


layout = _load_layout_module()


@pytest.fixture(scope="module", autouse=True)
def go_binary():
    try:
        return layout.build()
    except layout.GoNotFoundError as error:
        if os.environ.get("CI"):
            pytest.fail(str(error))
        pytest.skip(str(error))


@pytest.fixture(scope="module")
def real_size():
    cfg = MapConfig(slots=8, max_b=9, chain=8, pool=3000, max_value=MAX_VALUE,
                    keys=[KeySpec(f"k{i}") for i in range(KEY_TABLE)], key_from_input=True,
                    ops=("assign", "delete", "clear"), lookup_invariant=False)
    model = build_model(cfg, "real-size")
    return model, ConcreteModel(model)


# Operation sequences ------------------------------------------------------------


def _key_values(rng: random.Random, key_type: str, n: int) -> list:
    out: list = []
    seen = set()
    while len(out) < n:
        if key_type == "u64":
            k = rng.choice([rng.randrange(1, 1000), rng.getrandbits(64)])
        else:
            k = rng.choice([float(rng.randrange(1, 1000)), rng.uniform(-1e6, 1e6), float("inf"), float("-inf")])
        if k not in seen:
            seen.add(k)
            out.append(k)
    return out


def grow_ops(rng, keys):
    """Mostly fresh keys: doublings with evacuation interleaved with writes, some updates and deletes."""
    ops, live = [], []
    for k in keys[:rng.randrange(60, 300)]:
        ops.append({"op": "assign", "k": k, "v": rng.randint(1, MAX_VALUE)})
        live.append(k)
        r = rng.random()
        if r < 0.15:
            ops.append({"op": "assign", "k": rng.choice(live), "v": rng.randint(1, MAX_VALUE)})
        elif r < 0.25:
            ops.append({"op": "delete", "k": rng.choice(keys)})
    return ops


def churn_ops(rng, keys):
    """A size just under the load factor, with the oldest key replaced by a fresh one
    again and again: deletes leave holes in full buckets, new keys go to overflow
    buckets, and noverflow reaches 2^B, which starts a same-size grow."""
    target = rng.choice([25, 26, 51])
    ops = [{"op": "assign", "k": k, "v": rng.randint(1, MAX_VALUE)} for k in keys[:target]]
    live = list(keys[:target])
    for k in keys[target:target + 330]:
        ops.append({"op": "delete", "k": live.pop(0)})
        ops.append({"op": "assign", "k": k, "v": rng.randint(1, MAX_VALUE)})
        live.append(k)
    # Deletes of an absent key run growWork, which finishes a grow in progress.
    ops += [{"op": "delete", "k": keys[-1]}] * 2
    return ops


def drain_ops(rng, keys):
    """Fill, delete everything (the last delete reseeds), refill, clear, refill."""
    ops = []
    first, second = keys[:rng.randrange(10, 80)], keys[-rng.randrange(10, 80):]
    ops += [{"op": "assign", "k": k, "v": rng.randint(1, MAX_VALUE)} for k in first]
    order = list(first)
    rng.shuffle(order)
    ops += [{"op": "delete", "k": k} for k in order]
    ops += [{"op": "assign", "k": k, "v": rng.randint(1, MAX_VALUE)} for k in second]
    ops.append({"op": "clear"})
    ops += [{"op": "assign", "k": k, "v": rng.randint(1, MAX_VALUE)} for k in first[:20]]
    ops.append({"op": "delete", "k": first[0]})
    return ops


KINDS = {"grow": grow_ops, "churn": churn_ops, "drain": drain_ops}


# Comparison ------------------------------------------------------------------------


def _bits(k, key_type: str) -> int:
    return k if key_type == "u64" else struct.unpack("<Q", struct.pack("<d", k))[0]


def model_layout(driver: MapDriver, key_bits: list[int]) -> dict:
    """The driver's layout with key indices turned into the key bits main.go prints."""
    lay = driver.layout()
    for table in ("buckets", "oldbuckets"):
        for chain in lay[table] or ():
            for bucket in chain:
                bucket["keys"] = [key_bits[k - 1] if k else 0 for k in bucket["keys"]]
    return lay


def differences(model: dict, real: dict) -> list[str]:
    out = [f"{f}: model {model[f]}, Go {real[f]}"
           for f in ("B", "count", "flags", "noverflow", "nevacuate") if model[f] != real[f]]
    for table in ("buckets", "oldbuckets"):
        m, r = model[table], real[table]
        if (m is None) != (r is None) or (m is not None and len(m) != len(r)):
            out.append(f"{table}: model {'nil' if m is None else len(m)}, Go {'nil' if r is None else len(r)}")
            continue
        for j, (mc, rc) in enumerate(zip(m or (), r or ())):
            if len(mc) != len(rc):
                out.append(f"{table}[{j}]: chain of {len(mc)} buckets in the model, {len(rc)} in Go")
                continue
            for depth, (mb, rb) in enumerate(zip(mc, rc)):
                for part in ("tophash", "keys", "values"):
                    if mb[part] != rb[part]:
                        out.append(f"{table}[{j}] bucket {depth} {part}: model {mb[part]}, Go {rb[part]}")
    return out


def run_case(real_size, ops: list, key_type: str) -> dict:
    """Run ``ops`` on real Go and on the model; fail at the first operation whose layout differs."""
    model, concrete = real_size
    program = []
    for op in ops:
        program += [op, {"op": "dump"}]
    dumps = layout.run(program, key=key_type)
    assert len(dumps) == len(ops)
    keys = []
    for op in ops:
        if "k" in op and op["k"] not in keys:
            keys.append(op["k"])
    assert len(keys) <= KEY_TABLE
    key_bits = [_bits(k, key_type) for k in keys] + [0] * (KEY_TABLE - len(keys))
    index = {k: i for i, k in enumerate(keys)}
    first = dumps[0]["hashes"]
    rng = random.Random(len(ops))
    driver = MapDriver(model, concrete, hashes=lambda k: first.get(key_bits[k], rng.getrandbits(64))
                       if k < len(keys) else rng.getrandbits(64))
    stats = {"max_B": 0, "same_size_grows": 0, "reseeds": 0, "ops": len(ops)}
    for n, (op, dump) in enumerate(zip(ops, dumps)):
        def reseed(s, hashes=dump["hashes"]):
            for k, bits in enumerate(key_bits[:len(keys)]):
                driver.set_hash(s, k, hashes[bits], driver.H.in_ktop, driver.H.in_kbit)
        before = driver.state[driver.H.f_samesize.base]
        if op["op"] == "assign":
            driver.assign(index[op["k"]], op["v"])
        elif op["op"] == "delete":
            driver.delete(index[op["k"]], reseed=reseed)
        else:
            driver.clear(reseed=reseed)
        diff = differences(model_layout(driver, key_bits), dump)
        assert not diff, f"{key_type} operation {n} ({op}) of {len(ops)}:\n" + "\n".join(diff[:10])
        assert driver.violated() == [], f"operation {n}: invariants violated: {driver.violated()}"
        stats["max_B"] = max(stats["max_B"], dump["B"])
        stats["same_size_grows"] += dump["flags"] & 8 and not before
    stats["reseeds"] = driver.reseeds
    return stats


def check_kind(real_size, kind: str, key_type: str, sequences: int) -> dict:
    totals = {"max_B": 0, "same_size_grows": 0, "reseeds": 0, "ops": 0}
    for seed in range(sequences):
        rng = random.Random(f"{kind}-{key_type}-{seed}")
        ops = KINDS[kind](rng, _key_values(rng, key_type, KEY_TABLE))
        stats = run_case(real_size, ops, key_type)
        totals["max_B"] = max(totals["max_B"], stats["max_B"])
        for f in ("same_size_grows", "reseeds", "ops"):
            totals[f] += stats[f]
    return totals


@pytest.mark.parametrize("key_type", ["u64", "f64"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_model_matches_go_layouts(real_size, kind: str, key_type: str) -> None:
    totals = check_kind(real_size, kind, key_type, 2)
    assert totals["ops"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("key_type", ["u64", "f64"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_model_matches_go_layouts_many(real_size, kind: str, key_type: str) -> None:
    totals = check_kind(real_size, kind, key_type, SEQUENCES_PER_KIND)
    # The sequences reach what they were made for.  The Go side hashes with
    # a random seed, so these are counts over all sequences of a kind.
    if kind == "grow":
        assert totals["max_B"] >= 5
    if kind == "churn":
        assert totals["same_size_grows"] >= 3
    if kind == "drain":
        assert totals["reseeds"] >= 2 * SEQUENCES_PER_KIND
