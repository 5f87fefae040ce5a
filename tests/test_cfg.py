"""The missing-yield-point query on goroutine control-flow graphs."""

from __future__ import annotations

from checker.cfg import body_graph, missing_yield_points
from spec.profiles import get_profile
from spec.scenario import load_builtin, parse


def names(scenario, profile, asyncpreemptoff=False):
    return [m.message() for m in missing_yield_points(scenario, get_profile(profile, asyncpreemptoff))]


def test_tight_loop_lacks_yield_point_without_async():
    sc = load_builtin("tight-loop-p1")
    assert names(sc, "go1.13") == ["goroutine spinner: loop [compute] has no preemption point under go1.13"]
    assert names(sc, "go1.19", True) == [
        "goroutine spinner: loop [compute] has no preemption point under go1.19 asyncpreemptoff=1"]
    assert names(sc, "go1.19") == []
    assert names(sc, "go1.27") == []


def test_range_over_map_has_a_preemption_point():
    """A common claim is that `for range m {}` has no preemption point.  The source
    disagrees: every iteration calls mapiternext (Go 1.19) or mapIterNext (Go
    1.24+), whose prologue is a cooperative preemption point."""
    for profile in ("go1.13", "go1.19", "go1.27"):
        assert names(load_builtin("range-map-p1"), profile) == []
        assert names(load_builtin("range-map-p1"), profile, True) == []


def test_inlined_call_is_no_yield_point():
    sc = parse('[[goroutine]]\nname = "a"\nbody = [{ loop = ["compute", "inline-call"] }]\n', "t.toml")
    assert names(sc, "go1.13") == ["goroutine a: loop [compute -> inline-call] has no preemption point under go1.13"]
    sc = parse('[[goroutine]]\nname = "a"\nbody = [{ loop = ["compute", "call"] }]\n', "t.toml")
    assert names(sc, "go1.13") == []


def test_only_the_inner_loop_is_reported():
    sc = parse('[[goroutine]]\nname = "a"\nbody = ["call", { loop = ["compute", { loop = ["compute"], times = 2 }] }]\n',
               "t.toml")
    g = body_graph(sc.goroutines[0].body)
    assert sorted(g.edges()) == [(0, 1), (1, 2), (2, 3), (3, 1)]
    assert names(sc, "go1.13") == [
        "goroutine a: loop [compute -> compute -> compute] has no preemption point under go1.13"]
    assert g.nodes[0]["prologue"] is True
    assert g.nodes[1]["prologue"] is False
