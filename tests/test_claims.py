"""The verdicts of the claims page: each claim's deciding command still gives the same result."""

from __future__ import annotations

import json
import random

import pytest

from checker import bmc, explicit
from checker.cli import main
from checker.concrete import ConcreteModel
from spec.scenario import load_builtin
from spec.sched.model import build_model


def test_range_map_loop_preemptible_under_go113():
    model = build_model(load_builtin("range-map-p1"), "go1.13")
    [res] = explicit.check(model, [model.property("starvation")], 200, 300)
    assert res.verdict == "holds"
    assert res.depth == 200


@pytest.mark.slow
def test_range_map_loop_preemptible_under_go113_bmc():
    model = build_model(load_builtin("range-map-p1"), "go1.13")
    [res] = bmc.check(model, [model.property("starvation")], 30, 600)
    assert res.verdict == "holds"
    assert res.depth == 30


def test_full_ring_overflows_without_stealing():
    model = build_model(load_builtin("spawn-burst-p1"), "go1.19")
    assert not any(r.name.startswith("runqsteal") for r in model.rules)
    results = bmc.check(model, [model.property("no-lost-goroutine"), model.property("runq-bounds")], 24, 300)
    assert [r.verdict for r in results] == ["holds", "holds"]
    # runqputslow moves half the ring (1 G) and the new G: the global queue grows by 2 in one step.
    cm = ConcreteModel(model)
    gqlen = model.state.gqlen.base
    jumps = 0
    for seed in range(20):
        rnd = random.Random(seed)
        state = cm.init
        for _ in range(40):
            nxt = cm.step(state, rnd.choice(cm.enabled(state)))
            jumps += nxt[gqlen] - state[gqlen] == 2
            state = nxt
    assert jumps > 0



@pytest.mark.parametrize("scenario", ["netpoll-hog-p1", "netpoll-hog-p2"])
@pytest.mark.parametrize("profile", ["go1.13", "go1.19", "go1.27"])
def test_netpoll_rules_never_write_runnext(scenario, profile):
    """A G leaves netpoll only in a step that writes its npoll slot, and no such rule writes runnext."""
    model = build_model(load_builtin(scenario), profile)
    S = model.state
    npoll = set(range(S.npoll.base, S.npoll.base + S.npoll.size))
    runnext = set(range(S.runnext.base, S.runnext.base + S.runnext.size))
    readying = [r for r in model.rules if r.writes() & npoll]
    assert {r.name for r in readying} == {"netpoll(0)", "netpoll(block)", "pollWait", "tick"}
    assert [r.label() for r in readying if r.writes() & runnext] == []


@pytest.mark.parametrize("profile", ["go1.19", "go1.27"])
def test_netpoll_never_fills_runnext(profile):
    model = build_model(load_builtin("netpoll-hog-p2"), profile)
    cm = ConcreteModel(model)
    S = model.state
    polled_steps = 0
    for seed in range(40):
        rnd = random.Random(seed)
        state = cm.init
        for _ in range(60):
            i = rnd.choice(cm.enabled(state))
            nxt = cm.step(state, i)
            found = [g for g in range(S.nG) if state[S.npoll.base + g] == 1 and nxt[S.npoll.base + g] == 0]
            if found:
                polled_steps += 1
                assert model.rules[i].name in ("netpoll(0)", "netpoll(block)", "tick")
                for g in found:
                    assert g + 1 not in nxt[S.runnext.base:S.runnext.base + S.nP]
            state = nxt
    assert polled_steps > 10


@pytest.mark.slow
def test_runnext_is_stolen(capsys, tmp_path):
    code = main(["compare", "runnext-handoff-p2", "--patch", "no-runnext-steal", "--property", "bounded-wait",
                 "--json", "--quiet", "--out", str(tmp_path)])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    assert doc["properties"][0]["before"] == "holds"
    assert doc["properties"][0]["after"] == "violated"


@pytest.mark.slow
def test_range_map_loop_preemptible_with_two_ps():
    model = build_model(load_builtin("range-map-p2"), "go1.13")
    [res] = bmc.check(model, [model.property("starvation")], 24, 600)
    assert res.verdict == "holds"


def test_concurrent_map_writes_can_go_undetected(capsys, tmp_path):
    code = main(["check", "map-concurrent-writes-tso", "--property", "detected", "--out", str(tmp_path), "--json"])
    assert code == 1
    report = json.loads(capsys.readouterr().out)
    assert report["properties"][0]["verdict"] == "violated"
    assert report["properties"][0]["depth"] == 10
    code = main(["check", "map-concurrent-writes", "--property", "detected", "--json"])
    assert code == 0
