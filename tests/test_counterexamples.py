"""Every curated counterexample still replays, still violates, and is still minimal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checker import bmc
from checker.trace import load_itf, model_of_trace, replay

TRACES = sorted((Path(__file__).resolve().parents[1] / "counterexamples").glob("*.itf.json"))


def test_curated_set_present():
    assert len(TRACES) == 13


def test_each_breaking_mutation_has_a_trace():
    patched = {tuple(load_itf(p)["#meta"]["patches"]) for p in TRACES}
    for name in ("no-inherit-time", "no-sysmon-preempt", "no-runnext-steal", "no-spinning-recheck"):
        assert (name,) in patched


@pytest.mark.parametrize("path", TRACES, ids=[p.name for p in TRACES])
def test_replays_as_violation(path):
    rep = replay(path)
    assert rep.valid, rep.message
    assert rep.violated, rep.message
    assert rep.steps == len(json.loads(path.read_text())["states"]) - 1


@pytest.mark.parametrize("path", TRACES, ids=[p.name for p in TRACES])
def test_still_minimal(path):
    doc = load_itf(path)
    model = model_of_trace(doc, str(path))
    meta = doc["#meta"]
    [res] = bmc.check(model, [model.property(meta["property"])], meta["length"], 120)
    assert res.verdict == "violated"
    assert res.depth == meta["length"]
