"""Map traces: replay, and every render format, checked against the ITF states they come from."""

from __future__ import annotations

import json
import re
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
def test_replay_bad_map_trace_exit_2(capsys, missed, change, message):
    code, out, err = run(capsys, "replay", str(edit(missed, change)))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert message in err
