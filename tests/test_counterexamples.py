"""Every curated counterexample still replays, still violates, and is still minimal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checker import bmc, explicit
from checker.trace import load_itf, model_of_trace, replay

TRACES = sorted((Path(__file__).resolve().parents[1] / "counterexamples").glob("*.itf.json"))
MAP_TRACES = [p for p in TRACES if load_itf(p)["#meta"].get("kind") == "map"]
MAP_NAMES = ["map-iter-checkbucket.patch-no-checkbucket.iteration.itf.json",
             "map-iter-old-buckets.patch-no-olditerator.iteration.itf.json"]


def test_curated_set_present():
    assert len(TRACES) == 13 + len(MAP_TRACES)
    assert [p.name for p in MAP_TRACES] == MAP_NAMES


def test_each_breaking_mutation_has_a_trace():
    patched = {tuple(load_itf(p)["#meta"]["patches"]) for p in TRACES}
    for name in ("no-inherit-time", "no-sysmon-preempt", "no-runnext-steal", "no-spinning-recheck",
                 "no-olditerator"):
        assert (name,) in patched


@pytest.mark.parametrize("path", TRACES, ids=[p.name for p in TRACES])
def test_replays_as_violation(path):
    rep = replay(path)
    assert rep.valid, rep.message
    assert rep.violated, rep.message
    assert rep.steps == len(json.loads(path.read_text())["states"]) - 1


# Map traces searched again by breadth-first search of the concrete states: the
# no-checkbucket scenario has a few thousand states within 7 steps, while BMC
# takes most of an hour on it.  The no-olditerator scenario empties its map,
# and every emptying delete draws new hashes for all keys, so BFS is the slower
# engine there and BMC searches again (minutes: a slow test).
EXPLICIT = {"map-iter-checkbucket.patch-no-checkbucket.iteration.itf.json"}


def minimal_params():
    return [pytest.param(p, id=p.name, marks=[pytest.mark.slow] if p in MAP_TRACES and p.name not in EXPLICIT
                         else []) for p in TRACES]


@pytest.mark.parametrize("path", minimal_params())
def test_still_minimal(path):
    doc = load_itf(path)
    model = model_of_trace(doc, str(path))
    meta = doc["#meta"]
    engine = explicit.check if path.name in EXPLICIT else bmc.check
    [res] = engine(model, [model.property(meta["property"])], meta["length"], 3600 if path in MAP_TRACES else 120)
    assert res.verdict == "violated"
    assert res.depth == meta["length"]


# The last narrative line of each map counterexample: the key the range loop got wrong.
MAP_VIOLATIONS = {
    "map-iter-old-buckets.patch-no-olditerator.iteration.itf.json":
        "      state 6 violates iteration: it0 finished without returning key b, which was in the map for the "
        "whole iteration: the key is missed",
    "map-iter-checkbucket.patch-no-checkbucket.iteration.itf.json":
        "      state 7 violates iteration: it0 returned key k 2 times, more than the key's entries at the start (1) "
        "plus those inserted since (0)",
}


@pytest.mark.parametrize("path", MAP_TRACES, ids=[p.name for p in MAP_TRACES])
def test_map_narrative_names_the_key(path):
    text = path.with_name(path.name.replace(".itf.json", ".txt")).read_text()
    assert text.splitlines()[-1] == MAP_VIOLATIONS[path.name]
    assert replay(path).message.endswith(MAP_VIOLATIONS[path.name].split(": ", 1)[1])
