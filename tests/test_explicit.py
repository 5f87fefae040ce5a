"""The explicit-state engine against BMC, and its own guarantees.

Both engines run on the same model, the first through the compiled concrete
semantics and the second through z3, so agreeing verdicts and counterexample
lengths are a check on each.
"""

import json
from pathlib import Path

import pytest

from checker import bmc, explicit
from checker.bench import scenario as bench_scenario
from checker.cli import main
from checker.trace import load_itf, model_of_trace, replay
from spec.maps.model import build_for
from spec.maps.scenario import load as load_map
from spec.patch import load_patch
from spec.scenario import builtin_names, load_builtin
from spec.sched.model import build_model

ROOT = Path(__file__).resolve().parent.parent
DEPTH = 12

# Every built-in scheduler scenario, and configurations whose bounded-wait fails
# within the depth.
CASES = [(name, "go1.19", (), DEPTH) for name in builtin_names()] + [
    ("tight-loop-p1", "go1.13", (), 16),
    ("s02-stw-blocked", "go1.13", (), DEPTH),
    ("wakeup-race-p2", "go1.19", ("no-spinning-recheck",), DEPTH),
    ("pingpong-hog-p1", "go1.19", ("no-inherit-time",), DEPTH),
]


@pytest.mark.parametrize("name,profile,patches,depth", CASES,
                         ids=[f"{n}-{p}-{'+'.join(x) or 'plain'}" for n, p, x, _ in CASES])
def test_explicit_and_bmc_agree_on_invariants(name, profile, patches, depth):
    sc = load_builtin(name)
    model = build_model(sc, profile, False, [load_patch(p) for p in patches])
    props = [p for p in model.properties if p.kind == "invariant"]
    depth = min(depth, sc.sizes.max_depth)
    by_bmc = {r.property: r for r in bmc.check(model, props, depth, 300)}
    for res in explicit.check(model, props, depth, 300):
        want = by_bmc[res.property]
        assert want.verdict != "unknown"
        if res.verdict == "proved":
            assert want.verdict == "holds", res.property
        else:
            assert (res.verdict, res.depth) == (want.verdict, want.depth), res.property


def test_agreement_cases_include_violations():
    """The comparison above is not only between two "holds"."""
    sc = load_builtin("tight-loop-p1")
    model = build_model(sc, "go1.13")
    (res,) = explicit.check(model, [model.property("bounded-wait")], 16, 60)
    assert res.verdict == "violated"
    assert res.depth == 15
    assert model.g_names[res.victim] == "sleeper#0"


def test_explicit_proves_when_states_run_out():
    model = build_model(load_builtin("tight-loop-p1"), "go1.13")
    (res,) = explicit.check(model, [model.property("runq-bounds")], 40, 60)
    assert res.verdict == "proved"
    assert res.depth == 16
    assert res.reason == "every reachable state checked: 17 states, none more than 16 steps from the start"


LASSO_CASES = [(name, profile) for name in builtin_names() for profile in ("go1.13", "go1.19")]
FAST_LASSO = {("tight-loop-p1", "go1.13"), ("tight-loop-p1", "go1.19"), ("s01-call-free-loop", "go1.13"),
              ("s02-stw-blocked", "go1.13")}


@pytest.mark.parametrize("name,profile", [
    pytest.param(n, p, id=f"{n}-{p}", marks=[] if (n, p) in FAST_LASSO else [pytest.mark.slow])
    for n, p in LASSO_CASES])
def test_explicit_and_bmc_agree_on_starvation(name, profile):
    sc = load_builtin(name)
    model = build_model(sc, profile)
    prop = model.property("starvation")
    depth = min(14, sc.sizes.max_depth)
    (want,) = bmc.check(model, [prop], depth, 300)
    (res,) = explicit.check(model, [prop], depth, 300)
    assert want.verdict != "unknown"
    assert res.verdict == want.verdict
    assert res.depth == want.depth
    assert res.loop == want.loop


CURATED = sorted((ROOT / "counterexamples").glob("*.itf.json"))


@pytest.mark.parametrize("path", [p for p in CURATED if not p.name.startswith("map-")], ids=lambda p: p.name)
def test_explicit_finds_each_curated_length(path):
    """Explicit search finds a counterexample as short as each curated scheduler trace, and none shorter."""
    doc = load_itf(path)
    model = model_of_trace(doc, str(path))
    meta = doc["#meta"]
    (res,) = explicit.check(model, [model.property(meta["property"])], meta["length"], 120)
    assert res.verdict == "violated"
    assert res.depth == meta["length"]


def test_starvation_lasso_from_the_cli_replays(tmp_path, capsys):
    code = main(["check", "tight-loop-p1", "--profile", "go1.13", "--engine", "explicit",
                 "--property", "starvation", "--out", str(tmp_path), "--json", "--quiet"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    (prop,) = doc["properties"]
    assert prop["counterexample_length"] == 7
    assert prop["loop"] == 5
    assert prop["victim"] == "sleeper#0"
    assert prop["engine"] == "explicit-bfs"
    rep = replay(tmp_path / "tight-loop-p1.go1.13.starvation.itf.json")
    assert rep.valid
    assert rep.violated


def test_ghost_counters_found():
    """The wait counters are read only by their own updates, which lets lassos ignore them."""
    model = build_model(load_builtin("tight-loop-p2"), "go1.19")
    wait = model.state.wait
    assert explicit.ghost_slots(model) == set(range(wait.base, wait.base + wait.size))


def test_time_limit_gives_unknown():
    # Two Ps and four goroutines: the clock keeps making new states.
    model = build_model(bench_scenario("bench-p2-g4"), "go1.19")
    (res,) = explicit.check(model, [model.property("no-lost-goroutine")], 10_000, 0.5)
    assert res.verdict == "unknown"
    assert res.reason.startswith("time limit of 0.5 s reached; no counterexample up to depth ")


def test_no_checkbucket_minimal_counterexample_in_seven_steps(tmp_path):
    sc = load_map("map-iter-checkbucket")
    model = build_for(sc, [load_patch("no-checkbucket")])
    (res,) = explicit.check(model, [model.property("iteration")], 10, 120)
    assert res.verdict == "violated"
    assert res.depth == 7
    assert [model.rules[r].name for r, _ in res.trace[1:]] == [
        "mapassign", "mapassign", "mapassign", "mapassign", "mapiterinit", "mapiternext", "mapiternext"]


def test_checkbucket_scenario_proved():
    """Unpatched, the checkBucket scenario has few enough states to check them all."""
    sc = load_map("map-iter-checkbucket")
    model = build_for(sc)
    (res,) = explicit.check(model, [model.property("iteration")], 40, 300)
    assert res.verdict == "proved"
    assert res.reason == "every reachable state checked: 9800 states, none more than 12 steps from the start"


def test_inputs_enumerated_only_where_read():
    """mapdelete draws a new hash seed only when it empties the map (runtime/map.go: mapdelete).

    The explorer forks on the seed's input slots only on that path: deleting
    the map's only key gives one successor per new hash of the three keys,
    and deleting an absent key gives one.
    """
    model = build_for(load_map("map-iter-old-buckets"))
    ex = explicit.Explorer(model)
    (s0,) = ex.initial_states()
    label = {r.label(): i for i, r in enumerate(model.rules)}
    [after_assign] = [t for r, _, t in ex.successors(s0) if r == label["mapassign(k=a)"]]
    emptied = [t for r, _, t in ex.successors(after_assign) if r == label["mapdelete(k=a)"]]
    absent = [t for r, _, t in ex.successors(after_assign) if r == label["mapdelete(k=b)"]]
    ranges = model.layout.slot_ranges()
    top = model.state.in_ktop
    per_key = (ranges[top.base][1] - ranges[top.base][0] + 1) * 2 ** model.state.nbits
    assert len({bytes(t) for t in emptied}) == per_key ** 3
    assert len(absent) == 1


@pytest.mark.parametrize("name,profile,expected", [
    ("map-concurrent-writes", "go1.19", {"detected": "proved", "detected-while-held": "proved",
                                         "no-false-alarm": "proved"}),
    ("map-concurrent-writes", "go1.27", {"detected": "proved", "detected-while-held": "violated",
                                         "no-false-alarm": "proved"}),
    ("map-concurrent-writes-tso", "go1.19", {"detected": "violated", "detected-while-held": "violated",
                                             "no-false-alarm": "proved"}),
])
def test_two_writer_verdicts(name, profile, expected):
    model = build_for(load_map(name), profile=profile)
    results = explicit.check(model, model.properties, 30, 120)
    assert {r.property: r.verdict for r in results} == expected
    assert all(r.depth == 10 for r in results if r.verdict == "violated")


def test_cli_explicit_engine_writes_a_replayable_trace(tmp_path, capsys):
    code = main(["check", "map-iter-checkbucket", "--patch", "no-checkbucket", "--engine", "explicit",
                 "--out", str(tmp_path), "--json", "--quiet"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    (prop,) = doc["properties"]
    assert (prop["verdict"], prop["depth"]) == ("violated", 7)
    rep = replay(tmp_path / "map-iter-checkbucket.patch-no-checkbucket.iteration.itf.json")
    assert rep.valid
    assert rep.violated
    assert rep.steps == 7


def test_cli_explicit_engine_on_the_scheduler(tmp_path, capsys):
    code = main(["check", "tight-loop-p1", "--profile", "go1.13", "--engine", "explicit",
                 "--out", str(tmp_path), "--quiet"])
    out = capsys.readouterr().out
    assert code == 1
    assert "bounded-wait       violated (minimal counterexample of 15 steps) [D=6 ticks]" in out
    assert "starvation         violated (lasso of 7 steps, loop back to state 5)" in out
    assert replay(tmp_path / "tight-loop-p1.go1.13.bounded-wait.itf.json").violated


def test_cli_rejects_too_many_initial_states(tmp_path, capsys):
    scenario = tmp_path / "wide.toml"
    scenario.write_text('kind = "map"\nname = "wide"\n[map]\nslots = 2\nmax_b = 3\n'
                        'ops = ["assign"]\n'
                        '[[key]]\nname = "a"\n[[key]]\nname = "b"\n[[key]]\nname = "c"\n[[key]]\nname = "d"\n')
    code = main(["check", str(scenario), "--engine", "explicit", "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "--engine explicit: the free initial slots allow" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("patch,states,diameter", [
    # evacuate clears an old bucket only for bucket types with pointers
    # (runtime/map.go: evacuate tests t.bucket.ptrdata), and this scenario's
    # buckets hold none: without the oldIterator test the states are the same.
    ("no-olditerator", 9800, 12),
    # Evacuating every old bucket in hashGrow leaves no grow in progress for
    # a range loop to start in, so the iteration guarantee survives.
    ("evacuate-all-at-once", 4688, 11),
])
def test_mutation_harmless_on_checkbucket_scenario(patch, states, diameter):
    model = build_for(load_map("map-iter-checkbucket"), [load_patch(patch)])
    (res,) = explicit.check(model, [model.property("iteration")], 40, 300)
    assert res.verdict == "proved"
    assert res.reason == (f"every reachable state checked: {states} states, "
                          f"none more than {diameter} steps from the start")


def test_time_limit_kept_while_judging_a_level(capsys):
    """map-iter-grow has 64,000 initial states (its keys' hashes are free); the limit still holds."""
    import time
    start = time.monotonic()
    code = main(["check", "map-iter-grow", "--engine", "explicit", "--timeout", "3", "--quiet"])
    spent = time.monotonic() - start
    out = capsys.readouterr().out
    assert code == 3
    assert "unknown (time limit of 3 s reached; no counterexample up to depth " in out
    assert spent < 30


def test_bad_option_is_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["check", "--engine", "smt"])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert err == ("gmpcheck check: error: argument --engine: invalid choice: 'smt' (choose from 'bmc', "
                   "'explicit'); see gmpcheck check --help\n")


def test_holds_says_search_was_cut(capsys, tmp_path):
    """Explicit search marks a bounded verdict whose last level still added states."""
    code = main(["check", "tight-loop-p1", "--engine", "explicit", "--max-depth", "40", "--property", "starvation",
                 "--quiet", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert ("starvation  holds up to depth 40 (bounded; no counterexample of 40 steps or fewer; 41 states within "
            "depth 40 checked, and the last level still added states, so a larger --max-depth may find a lasso "
            "or prove there is none)") in out
