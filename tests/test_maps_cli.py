"""gmpcheck check on map scenarios: verdicts, exit codes and ITF traces, with and without mutations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checker.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_map_scenario_holds_exit_0(tmp_path, capsys) -> None:
    code = main(["check", "map-iter-grow", "--max-depth", "1", "--out", str(tmp_path), "--json",
                 "--quiet"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert doc["kind"] == "map"
    assert {p["property"]: p["verdict"] for p in doc["properties"]}["iteration"] == "holds"
    assert all(p["depth"] == 1 for p in doc["properties"])
    assert list(tmp_path.iterdir()) == []


def test_map_scenario_bad_file_exit_2(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('kind = "map"\n[map]\nslots = "eight"\n')
    code = main(["check", str(bad), "--quiet"])
    assert code == 2
    assert "map.slots" in capsys.readouterr().err


def test_list_shows_map_scenarios(capsys) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "map-nan-keys" in out
    assert "map-iter-old-buckets" in out


def test_no_olditerator_breaks_iteration() -> None:
    # evacuate clears the old bucket although the range loop, started before
    # the grow, still walks it: the key in its second slot is never returned.
    # BMC finds this trace in minutes; the slow minimality test in
    # test_counterexamples.py searches for it again.
    itf = json.loads((ROOT / "counterexamples" /
                      "map-iter-old-buckets.patch-no-olditerator.iteration.itf.json").read_text())
    assert itf["#meta"]["length"] == 6
    labels = [s["#meta"].get("rule") for s in itf["states"][1:]]
    assert labels.count("mapassign") == 3
    assert labels[2] == "mapiterinit"
    last = itf["states"][-1]
    assert last["it_state"] == [3]
    assert last["flag_oldIterator"] == 1


@pytest.mark.parametrize("text,field", [
    ('colour = "blue"\n', "colour"),
    ('[map]\nitre_units = 2\n', "map.itre_units"),
    ('[[key]]\nname = "a"\ntophsh = 5\n', "key[0].tophsh"),
])
def test_unknown_map_field_rejected(tmp_path, capsys, text, field) -> None:
    bad = tmp_path / "typo.toml"
    base = 'kind = "map"\n'
    if not text.startswith("[[key]]"):
        text += '[[key]]\nname = "a"\n'
    bad.write_text(base + text)
    code = main(["check", str(bad), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert f"{bad}: {field}: unknown field; allowed fields are " in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("scenario,patch,have,want", [
    ("map-iter-checkbucket", "no-sysmon-preempt", "scheduler", "map"),
    ("tight-loop-p1", "no-checkbucket", "map", "scheduler"),
])
def test_patch_of_other_model_rejected(capsys, scenario, patch, have, want) -> None:
    code = main(["check", scenario, "--patch", patch, "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (f"gmpcheck: error: built-in patch '{patch}' changes the {have} model; apply it to a {have} "
                   f"scenario, not a {want} scenario (gmpcheck patches lists them)\n")


@pytest.mark.parametrize("command", ["check", "compare"])
@pytest.mark.parametrize("option,flag", [
    (["--bound", "4"], "--bound"),
    (["--asyncpreemptoff"], "--asyncpreemptoff"),
])
def test_scheduler_option_on_map_rejected(tmp_path, capsys, command, option, flag) -> None:
    patch = ["--patch", "no-checkbucket"] if command == "compare" else []
    code = main([command, "map-iter-checkbucket", *patch, *option, "--quiet", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (f"gmpcheck: error: {flag}: applies to scheduler scenarios only; map-iter-checkbucket "
                   f"is a map scenario, so drop {flag}\n")
    assert not (tmp_path / "out").exists()


def test_classic_map_rejects_go113_profile(capsys) -> None:
    code = main(["check", "map-iter-checkbucket", "--profile", "go1.13", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--profile go1.13: the classic map model follows Go 1.19's runtime/map.go only" in err


def test_compare_map_patch(tmp_path, capsys) -> None:
    code = main(["compare", "map-iter-checkbucket", "--patch", "no-checkbucket", "--engine", "explicit",
                 "--json", "--quiet", "--out", str(tmp_path)])
    doc = json.loads(capsys.readouterr().out)
    rows = {r["property"]: r for r in doc["properties"]}
    assert code == 1
    assert doc["kind"] == "map"
    assert rows["iteration"]["before"] == "holds"
    assert rows["iteration"]["after"] == "violated"
    assert rows["iteration"]["breaks"] is True
    assert rows["iteration"]["counterexample_length"] == 7
    assert list(rows) == ["iteration"]  # the scenario's properties, as check uses
    trace = tmp_path / "map-iter-checkbucket.patch-no-checkbucket.iteration.itf.json"
    assert rows["iteration"]["trace"] == str(trace)
    assert json.loads(trace.read_text())["#meta"]["length"] == 7


def test_compare_map_text_table(tmp_path, capsys) -> None:
    code = main(["compare", "map-iter-checkbucket", "--patch", "evacuate-all-at-once", "--engine", "explicit",
                 "--property", "iteration", "--quiet", "--out", str(tmp_path)])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[2].split() == ["property", "before", "after", "counterexample", "(after)"]
    assert out[3].split() == ["iteration", "holds", "to", "7", "holds", "to", "7", "-"]
    assert out[2].index("after") == out[3].index("holds to 7", out[3].index("holds to 7") + 1)
    assert out[-1] == "verdict: the patch breaks no property that held, to the depth checked"
