"""Map traces: replay, and every render format, checked against the ITF states they come from."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from checker import mapcheck
from checker.bmc import Result
from checker.cli import main
from checker.concrete import ConcreteModel
from checker.mapdriver import MapDriver
from spec.maps.model import build_model
from spec.maps.scenario import load
from spec.patch import load_patch

ROOT = Path(__file__).resolve().parents[1]


def build_trace(scenario: str, patches: list[str], ops: list[tuple], prop: str, out: Path) -> Path:
    """Run ``ops`` on the concrete map model and store the run as a map trace at ``out``.

    Each op is (rule, {"key": index, "it": n, "value": v, "start": b, "offset": o}).  The
    inputs a step reads are written into the state before it, as BMC's traces have them;
    inputs the ops leave open take their field's smallest value.  Keys take the scenario's
    fixed hashes.
    """
    sc = load(scenario)
    model = build_model(sc.config, sc.name, [load_patch(p) for p in patches])
    H = model.state
    cm = ConcreteModel(model)
    keys = sc.config.keys
    driver = MapDriver(model, cm, hashes=lambda k: (keys[k].tophash << 56) | keys[k].low)
    trace = [(None, list(driver.state))]
    for rule, args in ops:
        state = list(trace[-1][1])
        for f in model.state.input_fields():
            state[f.base:f.base + f.size] = [f.lo] * f.size
        if "value" in args:
            state[H.in_val.base] = args["value"]
        if "start" in args:
            state[H.in_start.base] = args["start"]
        if "offset" in args:
            state[H.in_offset.base] = args["offset"]
        trace[-1] = (trace[-1][0], state)
        index = cm.by_label[driver.label(rule, args.get("key"), args.get("it"))]
        assert cm.compiled[index][0](state), rule
        trace.append((index, cm.step(state, index)))
    res = Result(prop, "violated", len(trace) - 1, 0.0, trace=trace)
    out.write_text(json.dumps(mapcheck.to_itf(model, sc, res, Path(sc.path).read_text()), indent=1))
    return out


# a, c share bucket 0 of B 0; the range loop returns a; inserting b doubles the
# table and (without the old-iterator check) clears the old bucket: c is missed.
MISSED_C = [("mapassign", {"key": 0, "value": 1}), ("mapassign", {"key": 2, "value": 1}),
            ("mapiterinit", {"it": 0, "start": 0, "offset": 0}), ("mapiternext", {"it": 0}),
            ("mapassign", {"key": 1, "value": 1}), ("mapiternext", {"it": 0})]


@pytest.fixture
def missed(tmp_path) -> Path:
    return build_trace("map-iter-old-buckets", ["no-olditerator"], MISSED_C, "iteration",
                       tmp_path / "missed.itf.json")


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def edit(path: Path, change) -> Path:
    doc = json.loads(path.read_text())
    change(doc)
    out = path.with_name("edited.itf.json")
    out.write_text(json.dumps(doc))
    return out


# -- replay -----------------------------------------------------------------------

def test_replay_map_trace_still_violates(capsys, missed):
    code, out, _ = run(capsys, "replay", str(missed))
    assert code == 0
    assert out.startswith(f"{missed}: valid path of 6 steps; still a violation: the last state violates iteration")
    assert "without returning key c" in out


def test_replay_needs_the_patch(capsys, missed):
    # Without no-olditerator, evacuate keeps the old bucket: step 5 leads elsewhere.
    bad = edit(missed, lambda d: d["#meta"].update(patches=[]))
    code, out, _ = run(capsys, "replay", str(bad))
    assert code == 1
    assert "invalid path of 5 steps" in out
    assert "step 5: mapassign(k=b) leads to a different state" in out


def test_replay_checks_recorded_inputs(capsys, missed):
    # The value the assignment at step 1 stores is the input in state 0.
    def change(d):
        d["states"][0]["in_val"] = 0
    code, out, _ = run(capsys, "replay", str(edit(missed, change)))
    assert code == 1
    assert "state 0: in_val is 0, outside its range 1..1" in out

    def change_value(d):
        d["states"][1]["value"][1][0] = 0
    code, out, _ = run(capsys, "replay", str(edit(missed, change_value)))
    assert code == 1
    assert "step 1: mapassign(k=a) leads to a different state (value[1][0]: 0->1)" in out


def test_replay_rejects_disabled_step(capsys, missed):
    def change(d):
        d["states"][4]["#meta"]["label"] = "mapiterinit(it=0)"
    code, out, _ = run(capsys, "replay", str(edit(missed, change)))
    assert code == 1
    assert "step 4: rule mapiterinit(it=0) is not enabled in state 3" in out


def test_replay_fixed_hash_is_checked(capsys, missed):
    def change(d):
        d["states"][0]["ktop"][0] = 8
    code, out, _ = run(capsys, "replay", str(edit(missed, change)))
    assert code == 1
    assert "state 0 is not the model's initial state (ktop[0] is 8, expected 7)" in out


@pytest.mark.parametrize("change, message", [
    (lambda d: d["#meta"].pop("scenario_toml"), "#meta.scenario_toml: missing"),
    (lambda d: d["#meta"].update(scenario_toml="kind = [\n"), "#meta.scenario_toml: invalid TOML"),
    (lambda d: d["#meta"].update(scenario_toml='kind = "map"\n'), "key: missing; add at least one [[key]]"),
    (lambda d: d["#meta"].update(patches=["no-such-patch"]), "#meta.patches: "),
    (lambda d: d["#meta"].update(property="nope"), "#meta.property: unknown property 'nope'"),
    (lambda d: d["states"][2].update(count=[1, 2]), "states[2]: variable 'count' does not match"),
])
@pytest.mark.parametrize("command", [["replay"], ["render", "--format", "layout"], ["explain"]])
def test_bad_map_trace_exit_2(capsys, missed, change, message, command):
    code, out, err = run(capsys, command[0], str(edit(missed, change)), *command[1:])
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert message in err


# -- views ---------------------------------------------------------------------------

# Five keys with fixed hashes; inserting them in the order k0 k1 k3 k2 k4 grows the
# table to B=3 with old buckets 0 and 2 evacuated and 1 and 3 not (nevacuate 1).
PARTIAL = """
kind = "map"
name = "grow-partial"
description = "a grow from B=2 to B=3 that leaves old buckets 1 and 3 unevacuated"
max_depth = 6
[map]
slots = 2
max_b = 3
chain = 2
pool = 24
load_factor = [1, 1]
max_value = 1
iter_units = 2
ops = ["assign", "delete", "iterate"]
""" + "".join(f'[[key]]\nname = "k{k}"\ntophash = {5 + k}\nlow = {low}\n' for k, low in enumerate([0, 1, 2, 3, 6]))

PARTIAL_OPS = ([("mapassign", {"key": k, "value": 1}) for k in (0, 1, 3, 2, 4)]
               + [("mapiterinit", {"it": 0, "start": 1, "offset": 0}), ("mapiternext", {"it": 0})])

# One bucket record in the pool: the grow at the third assignment exceeds it.
TINY = """
kind = "map"
name = "tiny-pool"
description = "a pool of one bucket record, so the first grow exceeds it"
max_depth = 4
properties = ["bounds"]
[map]
slots = 2
max_b = 1
chain = 1
pool = 2
load_factor = [1, 1]
max_value = 1
ops = ["assign"]
[[key]]
name = "a"
tophash = 7
low = 0
[[key]]
name = "b"
tophash = 8
low = 1
[[key]]
name = "c"
tophash = 9
low = 0
"""


@pytest.fixture
def partial(tmp_path) -> Path:
    scenario = tmp_path / "grow-partial.toml"
    scenario.write_text(PARTIAL)
    return build_trace(str(scenario), [], PARTIAL_OPS, "iteration", tmp_path / "partial.itf.json")


def svg_root(text: str) -> ET.Element:
    return ET.fromstring(text.split("?>", 1)[1])


def by_id(root: ET.Element) -> dict[str, ET.Element]:
    return {e.get("id"): e for e in root.iter() if e.get("id")}


def texts(e: ET.Element) -> list[str]:
    return [t.text for t in e.iter(f"{SVG}text") if t.text]


def with_class(root: ET.Element, cls: str) -> list[ET.Element]:
    return [e for e in root.iter() if cls in (e.get("class") or "").split()]


SVG = "{http://www.w3.org/2000/svg}"


def test_layout_marks_evacuated_old_buckets(capsys, partial):
    code, out, _ = run(capsys, "render", str(partial), "--format", "layout", "--step", "5")
    assert code == 0
    doc = json.loads(partial.read_text())
    state = doc["states"][5]
    old, new = state["oldbuckets"], state["buckets"]
    assert (state["B"], state["nevacuate"]) == (3, 1)
    root = svg_root(out)
    ids = by_id(root)
    # Old bucket 0 held k0 (X) and nothing else; old bucket 1 is not evacuated yet.
    assert texts(ids[f"s5-r{old}-s0"]) == ["evacuatedX", "(k0)"]
    assert ids[f"s5-r{old}-s0"].get("data-tophash") == "2"
    assert texts(ids[f"s5-r{old}-s1"]) == ["evacuatedEmpty"]
    assert texts(ids[f"s5-r{old + 1}-s0"]) == ["6", "k1=1"]
    assert texts(ids[f"s5-r{new + 6}-s0"]) == ["9", "k4=1"]
    used = {(e.get("data-from"), e.get("data-to")) for e in with_class(root, "evac-x") + with_class(root, "evac-y")
            if "unused" not in e.get("class")}
    assert used == {("0", "0"), ("2", "2")}
    unused = {(e.get("data-from"), e.get("data-to")) for e in with_class(root, "unused")}
    assert unused == {("0", "4"), ("2", "6")}
    assert ids["s5-nevacuate"].get("data-value") == "1"
    assert ids["s5-hmap"].text.startswith("hmap: B=3 count=5 noverflow=0 nevacuate=1 flags=0 ")


def test_layout_shows_iterator_position(capsys, partial):
    _, out, _ = run(capsys, "render", str(partial), "--format", "layout", "--step", "7")
    state = json.loads(partial.read_text())["states"][7]
    ids = by_id(svg_root(out))
    # Started at bucket 1 while growing: it reads old bucket 1 and keeps k1 (checkBucket 1).
    assert ids["s7-it0-bptr"].get("data-record") == str(state["oldbuckets"] + 1)
    assert ids["s7-it0-next"].get("data-slot") == "1"
    assert texts(ids["s7-it0-start"]) == ["it0 start"]
    assert ids["s7-it0"].text == ("it0: between calls; B=3 buckets=#8 startBucket=1 offset=0 bucket=2 bptr=#5 i=1 "
                                  "wrapped=false checkBucket=1; returned k1=1")


def test_layout_of_stale_iterator_array(capsys, missed):
    _, out, _ = run(capsys, "render", str(missed), "--format", "layout")
    root = svg_root(out)
    ids = by_id(root)
    panels = [e for e in root.iter(f"{SVG}g") if e.get("class") == "panel"]
    assert [p.get("data-step") for p in panels] == [str(i) for i in range(7)]
    assert "step 5: mapassign(k=b)" in texts(ids["step-5"])
    assert "it0's array #1, no longer the map's" in texts(ids["step-5"])
    # The patch cleared the old bucket the loop still walks: marks without keys.
    assert texts(ids["s5-r1-s0"]) == ["evacuatedX"]
    assert texts(ids["s5-r1-s1"]) == ["evacuatedX"]
    marked = [e for e in with_class(ids["step-6"], "marked")]
    assert [e.get("data-key") for e in marked] == ["c"]
    assert any("without returning key c" in t for t in texts(ids["step-6"]))


def test_text_is_check_narrative(capsys, missed):
    code, out, _ = run(capsys, "render", str(missed))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "# map scenario map-iter-old-buckets: iteration violated (minimal counterexample of 6 steps)"
    assert "# patch no-olditerator: " in lines[2]
    assert "hashGrow: grow from B=0 to B=1" in out
    assert "it0 returns a=1" in out
    assert lines[-1] == ("      state 6 violates iteration: it0 finished without returning key c, which was in the "
                         "map for the whole iteration: the key is missed")


def test_explain_map_steps(capsys, missed):
    from checker.render.explain import citations
    from checker.render.view import TraceView
    code, out, _ = run(capsys, "explain", str(missed))
    view = TraceView.load(missed)
    paragraphs = out.split("\n\n")[2:]
    assert code == 0
    assert len(paragraphs) == 6
    for i, para in enumerate(paragraphs, start=1):
        rule = view.rules[i]
        assert para.startswith(f"step {i}: {rule.label()}\n")
        runtime = para.splitlines()[1]
        for _, funcs in citations(rule.cite):
            for fn in funcs:
                assert fn in runtime, (i, fn)
        assert "runtime/map.go" in runtime
        assert f"  models: {rule.doc}" in para
    assert "enabled because: fatal == 0; bounds == 0; it_state[0] != inside mapiternext; it_state[0] == idle" \
        in paragraphs[2]
    assert "inputs: in_start=0, in_offset=0, so startBucket = 0" in paragraphs[2]
    assert "effect: inserts a=1; first bucket array #1\n" in paragraphs[0]
    assert "effect: inserts b=1; hashGrow: grow from B=0 to B=1" in paragraphs[4]
    assert "effect: no change to the keys, no grow or iterator event\n" in paragraphs[2]
    assert "state 6 violates iteration: it0 finished without returning key c" in paragraphs[5]


def test_dot_highlights_violating_map_state(capsys, missed):
    code, out, _ = run(capsys, "render", str(missed), "--format", "dot")
    assert code == 0
    violating = [ln for ln in out.splitlines() if 'class="violating"' in ln]
    assert len(violating) == 1
    assert violating[0].startswith("  s6 [")
    assert "keys the iteration got wrong: c" in violating[0]
    assert 's4 -> s5 [label="mapassign(k=b)", id="e5"]' in out
    assert "buckets: 0: a c | 1: b" in out


def test_graph_map_without_graphviz(capsys, missed, monkeypatch):
    from checker.render import graph
    monkeypatch.setattr(graph.shutil, "which", lambda name: None)
    _, out, _ = run(capsys, "render", str(missed), "--format", "graph")
    root = svg_root(out)
    ids = by_id(root)
    assert "violating" in ids["s6"].get("class")
    assert [n for n, e in ids.items() if "violating" in (e.get("class") or "")] == ["s6"]
    assert "5: mapassign(k=b)" in texts(ids["e5"])


def test_graph_nodes_are_layouts(missed):
    from checker.render import graph
    from checker.render.view import TraceView
    g = graph.build(TraceView.load(missed))
    assert list(g.nodes) == list(range(7))
    assert g.nodes[5]["places"][0] == "B=1 count=3 noverflow=0 flags=oldIterator"
    assert g.nodes[5]["places"][-1].endswith("walks array #1, no longer the map's")
    assert [d["rule"] for _, _, d in g.edges(data=True)] == [
        "mapassign", "mapassign", "mapiterinit", "mapiternext", "mapassign", "mapiternext"]


def test_mermaid_map(capsys, missed):
    _, out, _ = run(capsys, "render", str(missed), "--format", "mermaid")
    lines = out.splitlines()
    assert lines[0] == "sequenceDiagram"
    assert "    prog->>it0: 4: mapiternext(it=0)" in lines
    assert lines[lines.index("    prog->>it0: 4: mapiternext(it=0)") + 1] == "    it0-->>prog: a=1"
    assert lines[-1].startswith("    Note over prog,hmap: state 6 violates iteration: it0 finished without "
                                "returning key c")
    assert not re.search(r"#(?!35;|59;)", out)


def test_schedtrace_map_lines(capsys, missed, partial):
    _, out, _ = run(capsys, "render", str(missed), "--format", "schedtrace")
    lines = out.splitlines()
    assert len(lines) == 7
    assert lines[5] == ("HMAP step 5 mapassign(k=b): B=1 count=3 noverflow=0 nevacuate=1 flags=oldIterator "
                        "buckets=[ 2 1 ] oldbuckets=nil it0=[ between-calls bucket=0 i=1 start=0 wrapped=1 ]")
    _, out, _ = run(capsys, "render", str(partial), "--format", "schedtrace")
    assert "B=3 count=5 noverflow=0 nevacuate=1 flags=0 buckets=[ 1 0 1 0 0 0 1 0 ] oldbuckets=[ e 1 e 1 ]" \
        in out.splitlines()[5]


def test_timeline_map_lanes(capsys, missed):
    _, out, _ = run(capsys, "render", str(missed), "--format", "timeline")
    ids = by_id(svg_root(out))
    returned = [e for e in ids["lane-key-a"].iter() if e.get("class") == "returned"]
    assert [e.get("data-step") for e in returned] == ["4"]
    assert "missed-c" in ids
    assert "missed-a" not in ids
    assert "missed-b" not in ids
    stale = [e.get("data-step") for e in ids["lane-it0"].iter() if e.get("class") == "stale-array"]
    assert stale == ["5"]
    grow = [(e.get("data-step"), e.get("data-kind")) for e in ids["lane-growth"].iter()
            if e.get("class") == "grow-event"]
    assert grow == [("5", "grow"), ("5", "done")]
    present = [e.get("data-step") for e in ids["lane-key-b"].iter() if e.get("class") == "present"]
    assert present == ["5", "6"]


def test_html_map_page(tmp_path, capsys, missed):
    page = tmp_path / "m.html"
    code, _, _ = run(capsys, "render", str(missed), "--format", "html", "-o", str(page))
    text = page.read_text()
    assert code == 0
    assert re.findall(r"https?://[^\s\"'<>]+", text) == ["http://www.w3.org/2000/svg"] * text.count(
        "http://www.w3.org/2000/svg")
    assert "<link" not in text
    data = json.loads(re.search(r'<script type="application/json" id="trace-data">(.*?)</script>', text, re.S)[1])
    assert [s["label"] for s in data["steps"]][4:] == ["mapiternext(it=0)", "mapassign(k=b)", "mapiternext(it=0)"]
    assert data["steps"][5]["hmap"].startswith("HMAP step 5 mapassign(k=b): B=1 count=3")
    assert len(re.findall(r'<div class="layout-step" data-step="\d+"', text)) == 7
    assert "without returning key c" in text


@pytest.mark.browser
def test_html_map_steps_with_arrow_keys(tmp_path, capsys, missed):
    import os

    from test_render import CHROMIUM, chromium_dom, shown
    if not os.access(CHROMIUM, os.X_OK):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; install it with apt-get install chromium")
        pytest.skip(f"{CHROMIUM} is missing")
    page = tmp_path / "m.html"
    run(capsys, "render", str(missed), "--format", "html", "-o", str(page))
    start = chromium_dom(page.as_uri(), tmp_path / "profile0")
    keys = ",".join(["ArrowRight"] * 6 + ["ArrowLeft"])
    stepped = chromium_dom(page.as_uri() + f"#keys={keys}", tmp_path / "profile1")
    assert shown(start, "step-index") == "0"
    assert shown(stepped, "step-index") == "5"
    assert shown(stepped, "step-label") == "mapassign(k=b)"
    assert shown(stepped, "hmap").startswith("HMAP step 5 mapassign(k=b): B=1 count=3")
    visible = re.findall(r'<div class="layout-step" data-step="(\d+)">', stepped)
    assert visible == ["5"]
    assert re.findall(r'<div class="layout-step" data-step="(\d+)">', start) == ["0"]


@pytest.mark.parametrize("argv, message", [
    (["--format", "cfg"], "--format cfg: draws a goroutine's control-flow graph and applies to scheduler traces"),
    (["--format", "timeline", "--step", "2"], "--step: applies to --format layout only"),
    (["--format", "layout", "--step", "9"], "--step: 9 is not a state of"),
])
def test_map_render_errors(tmp_path, capsys, missed, argv, message):
    target = tmp_path / "out.svg"
    code, out, err = run(capsys, "render", str(missed), *argv, "-o", str(target))
    assert code == 2
    assert err.count("\n") == 1
    assert message in err
    assert not target.exists()


def test_layout_of_scheduler_trace_is_an_error(capsys):
    path = ROOT / "counterexamples" / "tight-loop-p1.go1.13.starvation.itf.json"
    code, _, err = run(capsys, "render", str(path), "--format", "layout")
    assert code == 2
    assert "--format layout: draws the buckets of a map trace; this is a scheduler trace" in err


def test_check_out_writes_map_views(tmp_path, capsys):
    scenario = tmp_path / "tiny-pool.toml"
    scenario.write_text(TINY)
    out = tmp_path / "out"
    code, _, _ = run(capsys, "check", str(scenario), "--out", str(out), "--quiet")
    assert code == 1
    stem = out / "tiny-pool.bounds"
    assert sorted(p.name for p in out.iterdir()) == [f"tiny-pool.bounds{s}" for s in
                                                     (".graph.svg", ".html", ".itf.json", ".layout.svg", ".timeline.svg", ".txt")]
    assert Path(f"{stem}.txt").read_text().splitlines()[-1] == (
        "      state 3 violates bounds: model bound exceeded: bucket pool exhausted")
    code, replayed, _ = run(capsys, "replay", f"{stem}.itf.json")
    assert code == 0
    assert "valid path of 3 steps; still a violation" in replayed
    code, text, _ = run(capsys, "render", f"{stem}.itf.json")
    assert text == Path(f"{stem}.txt").read_text()


# Four assignments double the table from 4 to 8 buckets and leave old bucket 2
# (holding k, bound for new bucket 6) unevacuated; a range loop starts at new bucket 2.
CHECKBUCKET_OPS = ([("mapassign", {"key": k, "value": 1}) for k in range(4)]
                   + [("mapiterinit", {"it": 0, "start": 2, "offset": 0})] + [("mapiternext", {"it": 0})] * 2)


@pytest.mark.parametrize("patches, violated", [([], False), (["no-checkbucket"], True)])
def test_checkbucket_scenario_path(tmp_path, capsys, patches, violated):
    path = build_trace("map-iter-checkbucket", patches, CHECKBUCKET_OPS, "iteration", tmp_path / "cb.itf.json")
    code, out, _ = run(capsys, "replay", str(path))
    states = json.loads(path.read_text())["states"]
    grown = states[4]
    assert (grown["B"], grown["nevacuate"]) == (3, 1)
    assert [grown["tophash"][grown["oldbuckets"] + j][0] for j in range(4)] == [2, 0, 5, 4]
    assert code == (0 if violated else 1)
    if violated:
        # Without the filter the loop returns k at new bucket 2 and again at new bucket 6.
        assert [s["it_key"][0] for s in states[6:]] == [1, 1]
        assert "it0 returned key k 2 times" in out
    else:
        assert [s["it_key"][0] for s in states[6:]] == [1, 4]
        assert "no longer a violation: the last state satisfies iteration" in out


def test_key_returned_twice_is_marked(capsys):
    """The curated no-checkbucket trace returns key k twice before its iteration ends."""
    trace = ROOT / "counterexamples" / "map-iter-checkbucket.patch-no-checkbucket.iteration.itf.json"
    _, out, _ = run(capsys, "render", str(trace), "--format", "timeline")
    ids = by_id(svg_root(out))
    assert "twice-k" in ids
    assert [i for i in ids if i.startswith(("twice-", "missed-"))] == ["twice-k"]
    returned = [e.get("data-step") for e in ids["lane-key-k"].iter() if e.get("class") == "returned"]
    assert returned == ["6", "7"]

    _, out, _ = run(capsys, "render", str(trace), "--format", "layout")
    marked = [e.get("data-key") for e in svg_root(out).iter() if "marked" in (e.get("class") or "").split()]
    assert marked == ["k"]

    from checker.render import graph
    from checker.render.view import TraceView
    g = graph.build(TraceView.load(trace))
    assert g.nodes[7]["violating"]
    assert g.nodes[7]["places"][-1] == "keys the iteration got wrong: k"
