"""Two goroutines writing one map: the hashWriting check under two memory models.

The model is small enough to explore every reachable state with the concrete
semantics.  That exploration decides each property exactly and gives the
length of the shortest violating run, which BMC must match.  In every
reachable state both semantics must agree rule by rule.
"""

from __future__ import annotations

import json
from collections import deque

import pytest

from checker import bmc
from checker.cli import main
from checker.concrete import ConcreteModel
from spec.maps.model import build_for
from spec.maps.scenario import MapScenarioError, load
from spec.maps.writers import DONE, WritersConfig, build_model, diameter
from tests.test_maps_semantics_agree import check_state

CASES = [(m, p) for m in ("sc", "tso") for p in ("go1.19", "go1.27")]

# property -> verdict, for each (memory, profile).
EXPECTED = {
    ("sc", "go1.19"): {"detected": "holds", "detected-while-held": "holds", "no-false-alarm": "holds"},
    ("sc", "go1.27"): {"detected": "holds", "detected-while-held": "violated", "no-false-alarm": "holds"},
    ("tso", "go1.19"): {"detected": "violated", "detected-while-held": "violated", "no-false-alarm": "holds"},
    ("tso", "go1.27"): {"detected": "violated", "detected-while-held": "violated", "no-false-alarm": "holds"},
}


def explore(cm: ConcreteModel):
    """Every reachable state with its distance from the initial state, breadth first."""
    init = tuple(cm.model.init)
    dist = {init: 0}
    queue = deque([init])
    while queue:
        s = queue.popleft()
        for i in cm.enabled(list(s)):
            t = tuple(cm.step(list(s), i))
            if t not in dist:
                dist[t] = dist[s] + 1
                queue.append(t)
    return dist


@pytest.mark.parametrize("memory,profile", CASES)
def test_exhaustive_search_and_bmc_agree(memory: str, profile: str) -> None:
    cfg = WritersConfig(memory=memory, profile=profile)
    model = build_model(cfg)
    cm = ConcreteModel(model)
    dist = explore(cm)
    assert max(dist.values()) == diameter(cfg)
    shortest = {}
    for prop in model.properties:
        bad = [d for s, d in dist.items() if not cm.invariants[prop.name](list(s))]
        shortest[prop.name] = min(bad) if bad else None
    verdicts = {p: ("violated" if d is not None else "holds") for p, d in shortest.items()}
    assert verdicts == EXPECTED[(memory, profile)]
    for res in bmc.check(model, model.properties, diameter(cfg), 120, None):
        assert res.verdict == verdicts[res.property]
        if res.verdict == "violated":
            assert res.depth == shortest[res.property] == 10
        else:
            assert res.depth == diameter(cfg)


@pytest.mark.parametrize("memory,profile", CASES)
def test_semantics_agree_on_every_reachable_state(memory: str, profile: str) -> None:
    cm = ConcreteModel(build_model(WritersConfig(memory=memory, profile=profile)))
    states = explore(cm)
    assert len(states) > 20
    for s in states:
        check_state(cm, list(s))


def test_sc_overlap_always_ends_fatal() -> None:
    """Under sc, every run in which both writers acquired the flag while the other mutated ends fatal."""
    model = build_model(WritersConfig())
    cm = ConcreteModel(model)
    f = model.fields
    ends = [s for s in explore(cm) if not cm.enabled(list(s))]
    overlapping = [s for s in ends if s[f["g_mutating"].base]]
    assert overlapping and all(s[f["fatal"].base] for s in overlapping)
    separate = [s for s in ends if not s[f["g_overlap"].base]]
    assert separate and not any(s[f["fatal"].base] for s in separate)


def test_go127_toggle_misses_a_release_overlap(tmp_path) -> None:
    """Go 1.27 releases the flag with a toggle: a writer that acquires between the other's
    exit check and release reads the flag set again at its own exit check."""
    code = main(["check", "map-concurrent-writes", "--profile", "go1.27", "--property", "detected-while-held",
                 "--out", str(tmp_path), "--json"])
    assert code == 1
    itf = json.loads((tmp_path / "map-concurrent-writes.go1.27.detected-while-held.itf.json").read_text())
    labels = [s["#meta"].get("label") for s in itf["states"][1:]]
    assert len(labels) == 10
    # One writer acquires after the other's exit check and before the other's release.
    at = {label: i for i, label in enumerate(labels)}
    late = [w for w in (0, 1)
            if at[f"exit-check(w={1 - w})"] < at[f"acquire(w={w})"] < at[f"release(w={1 - w})"]]
    assert len(late) == 1
    last = itf["states"][-1]
    assert last["fatal"] == 0
    assert last["phase"] == [DONE, DONE]
    assert itf["#meta"]["profile"] == "go1.27"


def test_tso_undetected_overlap_reads_own_buffer(tmp_path) -> None:
    code = main(["check", "map-concurrent-writes-tso", "--property", "detected", "--out", str(tmp_path), "--json"])
    assert code == 1
    itf = json.loads((tmp_path / "map-concurrent-writes-tso.go1.19.detected.itf.json").read_text())
    last = itf["states"][-1]
    assert last["fatal"] == 0
    assert last["g_mutating"] == 1
    # Neither core's flag writes reached memory: each exit check read the core's own buffer.
    assert last["flag_hashWriting"] == 0
    assert last["sb_len"] == [2, 2]


def test_builtin_verdicts_match_expect() -> None:
    for name in ("map-concurrent-writes", "map-concurrent-writes-tso"):
        sc = load(name)
        model = build_for(sc)
        got = {r.property: r.verdict for r in bmc.check(model, model.properties, sc.max_depth, 120, None)}
        assert got == sc.expect


@pytest.mark.parametrize("body,field", [
    ('[writers]\nmemory = "weak"\n', "writers.memory"),
    ('[writers]\ngoroutines = 3\n', "writers.goroutines"),
    ('[writers]\nprofile = "go1.22"\n', "writers.profile"),
    ('[writers]\nspeed = 1\n', "writers.speed"),
    ('[writers]\n[map]\nslots = 2\n', "map"),
])
def test_bad_writers_scenario(tmp_path, capsys, body: str, field: str) -> None:
    p = tmp_path / "w.toml"
    p.write_text('kind = "map"\n' + body)
    with pytest.raises(MapScenarioError, match=f"{p}: {field}:"):
        load(str(p))
    out = tmp_path / "out"
    assert main(["check", str(p), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert field in err
    assert not out.exists()


def test_classic_map_rejects_swiss_profile(capsys) -> None:
    assert main(["check", "map-iter-grow", "--profile", "go1.27", "--max-depth", "1"]) == 2
    assert "Swiss tables" in capsys.readouterr().err


def test_writers_trace_replays_and_renders(tmp_path, capsys) -> None:
    assert main(["check", "map-concurrent-writes-tso", "--property", "detected", "--out", str(tmp_path)]) == 1
    trace = tmp_path / "map-concurrent-writes-tso.go1.19.detected.itf.json"
    assert sorted(p.name for p in tmp_path.iterdir()) == [trace.name, trace.name.replace(".itf.json", ".txt")]
    capsys.readouterr()
    assert main(["replay", str(trace)]) == 0
    assert "valid path of 10 steps; still a violation" in capsys.readouterr().out
    assert main(["render", str(trace), "--format", "mermaid"]) == 0
    diagram = capsys.readouterr().out
    assert diagram.count(">>mem:") == 10
    assert "violates detected: both writes ended without the fatal error" in diagram
    assert main(["explain", str(trace)]) == 0
    text = capsys.readouterr().out
    assert text.count("models: runtime/map.go (Go 1.19): mapassign") == 10
    assert "writer 0 done, buffer [1, 0]" in text
    out = tmp_path / "page.html"
    assert main(["render", str(trace), "--format", "html", "-o", str(out)]) == 2
    assert "use --format text or mermaid" in capsys.readouterr().err
    assert not out.exists()
