"""Patches: the patch-file interface, its errors, the built-in mutations and `gmpcheck compare`."""

from __future__ import annotations

import json
import textwrap

import pytest

from checker import bmc
from checker.cli import main
from checker.concrete import ConcreteModel
from spec.patch import PatchError, builtin_patches, load_patch
from spec.scenario import load_builtin
from spec.sched.model import build_model


def write_patch(tmp_path, body: str, name: str = "mypatch.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- the interface ---------------------------------------------------------------

def test_builtin_patch_names():
    by_model = {}
    for name, patch in builtin_patches().items():
        by_model.setdefault(patch.model, []).append(name)
    assert sorted(by_model["sched"]) == ["gosched-in-pollwait", "no-fairness-61", "no-inherit-time",
                                         "no-runnext-steal", "no-runqputslow", "no-spinning-recheck",
                                         "no-sysmon-preempt"]
    assert sorted(by_model["maps"]) == ["evacuate-all-at-once", "no-checkbucket", "no-olditerator"]


def test_patch_file_removes_and_wraps(tmp_path):
    path = write_patch(tmp_path, '''
        from spec.lang import FALSE
        NAME = "no-fairness-file"
        DESCRIPTION = "the 1-in-61 check, removed from a file"

        def apply(model):
            model.wrap("fairness_due", lambda original, p: FALSE)
            model.remove("globrunqget(fairness)")
    ''')
    patch = load_patch(str(path))
    assert patch.name == "no-fairness-file"
    assert patch.source == str(path)
    sc = load_builtin("tight-loop-p2")
    plain = build_model(sc, "go1.19")
    patched = build_model(sc, "go1.19", patches=[patch])
    assert sum(r.name == "globrunqget(fairness)" for r in plain.rules) == 2
    assert sum(r.name == "globrunqget(fairness)" for r in patched.rules) == 0
    assert len(patched.rules) == len(plain.rules) - 2


def test_patch_file_adds_rule(tmp_path):
    path = write_patch(tmp_path, '''
        from spec.lang import Rule, set_
        NAME = "extra-rule"
        DESCRIPTION = "a rule that clears P0's spinning flag"

        def apply(model):
            S = model.S
            model.add(Rule("clear-spinning", {}, S.spinning[0].eq(1), [set_(S.spinning[0], 0)]))
    ''')
    model = build_model(load_builtin("tight-loop-p2"), "go1.19", patches=[load_patch(str(path))])
    assert [r.name for r in model.rules].count("clear-spinning") == 1
    ConcreteModel(model)


def test_replace_by_none_drops_instance():
    sc = load_builtin("tight-loop-p2")
    patch = builtin_patches()["no-runnext-steal"]
    model = build_model(sc, "go1.19", patches=[patch])
    assert not any(r.name == "runqsteal(runnext)" for r in model.rules)


@pytest.mark.parametrize("body, message", [
    ('NAME = "x"\nDESCRIPTION = "y"\ndef apply(model):\n    model.remove("no-such-rule")\n',
     "rule 'no-such-rule': no such rule in this model"),
    ('NAME = "x"\nDESCRIPTION = "y"\ndef apply(model):\n    model.wrap("no_such_helper", lambda o: o)\n',
     "helper 'no_such_helper': unknown helper"),
    ('DESCRIPTION = "y"\ndef apply(model):\n    pass\n', "NAME: missing"),
    ('NAME = "x"\nDESCRIPTION = "y"\n', "apply: missing"),
    ('NAME = "x"\nDESCRIPTION = "y"\ndef apply(model):\n    raise RuntimeError("boom")\n',
     "apply() failed: RuntimeError: boom"),
    ('NAME = "x"\nDESCRIPTION = "y"\ndef apply(model):\n    model.replace("tick", lambda r: "not a rule")\n',
     "expected a spec.lang.Rule"),
    ('import nosuchmodule\n', "loading the patch failed: ModuleNotFoundError"),
    ('NAME = "x"\nDESCRIPTION = "y"\ndef apply(model)\n    pass\n', "loading the patch failed: SyntaxError"),
    ('NAME = "x"\nDESCRIPTION = "y"\ndef apply(model):\n    model.wrap("fairness_due", lambda o, p: 42)\n',
     "rule 'globrunqget(fairness)(p=0)': the constant 42 is used as a condition but is not 0 or 1"),
    ('from spec.lang import set_\nNAME = "x"\nDESCRIPTION = "y"\ndef apply(model):\n'
     '    model.wrap("gopreempt", lambda o, *a: o(*a) + [set_(model.S.mspin(), 99)])\n',
     "writes 99 to mspin, whose range is 0..1"),
    ('from spec.lang import TRUE\nNAME = "x"\nDESCRIPTION = "y"\ndef apply(model):\n'
     '    model.wrap("fairness_due", lambda o, p: TRUE)\n',
     "rule 'globrunqget(fairness)(p=0)' at step 1 of a run from the initial state: gstatus: index -1"),
    ('MODEL = "map"\nNAME = "x"\nDESCRIPTION = "y"\ndef apply(model):\n    pass\n',
     "MODEL: invalid value 'map'; use \"sched\""),
    ('MODEL = "maps"\nNAME = "x"\nDESCRIPTION = "y"\ndef apply(model):\n    pass\n',
     "patch 'x' changes the map model; apply it to a map scenario, not a scheduler scenario"),
], ids=["unknown-rule", "unknown-helper", "no-name", "no-apply", "apply-raises", "not-a-rule", "import-error",
        "syntax-error", "number-as-condition", "constant-out-of-range", "index-out-of-range", "bad-model",
        "other-model"])
def test_bad_patch_file_is_one_line_exit_2(tmp_path, capsys, body, message):
    path = write_patch(tmp_path, body)
    out_dir = tmp_path / "out"
    code, out, err = run_cli(capsys, "check", "tight-loop-p1", "--patch", str(path), "--out", str(out_dir))
    assert code == 2
    assert err.count("\n") == 1
    assert message in err
    assert str(path) in err
    assert not out_dir.exists()


def test_patch_reading_foreign_field_is_rejected(tmp_path):
    path = write_patch(tmp_path, '''
        from spec.lang import Layout, Rule, set_
        NAME = "foreign"
        DESCRIPTION = "writes a field of another layout"
        OTHER = Layout()
        F = OTHER.add("elsewhere", [], 0, 1, "not part of the model")

        def apply(model):
            model.add(Rule("foreign", {}, F().eq(0), []))
    ''')
    with pytest.raises(PatchError, match="field 'elsewhere' is not part of this model's state"):
        build_model(load_builtin("tight-loop-p1"), "go1.19", patches=[load_patch(str(path))])


def test_unknown_builtin_patch(capsys):
    code, _, err = run_cli(capsys, "check", "tight-loop-p1", "--patch", "no-such-patch")
    assert code == 2
    assert "no-such-patch: unknown patch" in err
    assert "no-inherit-time" in err


def test_missing_patch_file(capsys, tmp_path):
    code, _, err = run_cli(capsys, "check", "tight-loop-p1", "--patch", str(tmp_path / "gone.py"))
    assert code == 2
    assert "patch file not found" in err


def test_patches_command_lists_builtins(capsys):
    code, out, _ = run_cli(capsys, "patches")
    assert code == 0
    assert len(out.splitlines()) == len(builtin_patches())
    assert out.startswith("evacuate-all-at-once")


# -- the mutations ------------------------------------------------------------

def test_no_sysmon_preempt_starves_prologue_loop():
    sc = load_builtin("noinline-call-loop-p1")
    base = build_model(sc, "go1.19")
    mutated = build_model(sc, "go1.19", patches=[load_patch("no-sysmon-preempt")])
    [before] = bmc.check(base, [base.property("starvation")], 12, 120)
    [after] = bmc.check(mutated, [mutated.property("starvation")], 12, 120)
    assert before.verdict == "holds"
    assert after.verdict == "violated"
    assert after.depth == 9
    assert mutated.g_names[after.victim] == "sleeper#0"


def test_compare_pingpong_without_inheritance(capsys, tmp_path):
    code, out, _ = run_cli(capsys, "compare", "pingpong-hog-p1", "--patch", "no-inherit-time",
                           "--property", "bounded-wait", "--max-depth", "26", "--json", "--quiet",
                           "--out", str(tmp_path))
    doc = json.loads(out)
    assert code == 1
    [row] = doc["properties"]
    assert row["before"] == "holds"
    assert row["after"] == "violated"
    assert row["breaks"] is True
    assert row["counterexample_length"] == 24
    assert row["victim"] == "hog"
    assert doc["worst_case_wait"]["before"]["ticks"] == 5
    assert doc["worst_case_wait"]["after"]["ticks"] == 10
    assert (tmp_path / "pingpong-hog-p1.go1.19.patch-no-inherit-time.bounded-wait.itf.json").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("scenario, patch, code, before, after", [
    ("runnext-handoff-p2", "no-runnext-steal", 1, 0, 3),
    ("noinline-call-loop-p1", "no-sysmon-preempt", 1, 5, 14),
    ("wakeup-race-p2", "no-spinning-recheck", 1, 0, 5),
    ("spawn-burst-p1", "no-runqputslow", 0, 10, 9),
    ("netpoll-hog-p1", "gosched-in-pollwait", 0, 3, 4),
    ("netpoll-hog-p2", "gosched-in-pollwait", 0, 0, 1),
])
def test_compare_worst_case_wait(capsys, tmp_path, scenario, patch, code, before, after):
    got, out, _ = run_cli(capsys, "compare", scenario, "--patch", patch, "--property", "bounded-wait",
                          "--json", "--quiet", "--out", str(tmp_path))
    doc = json.loads(out)
    assert got == code
    assert doc["worst_case_wait"]["before"]["ticks"] == before
    assert doc["worst_case_wait"]["after"]["ticks"] == after
    assert doc["worst_case_wait"]["after"]["verdict"] == "exact"


def test_map_patch_file_breaks_iteration(tmp_path, capsys):
    path = write_patch(tmp_path, '''
        from spec.lang import TRUE
        MODEL = "maps"
        NAME = "keep-all"
        DESCRIPTION = "mapiternext keeps every entry of an unevacuated old bucket"

        def apply(model):
            model.wrap("check_bucket_keeps", lambda original, *args: TRUE)
    ''')
    code, out, _ = run_cli(capsys, "compare", "map-iter-checkbucket", "--patch", str(path), "--engine", "explicit",
                           "--property", "iteration", "--json", "--quiet", "--out", str(tmp_path / "out"))
    doc = json.loads(out)
    [row] = doc["properties"]
    assert code == 1
    assert doc["patch"] == {"name": "keep-all", "description": "mapiternext keeps every entry of an unevacuated "
                            "old bucket", "source": str(path)}
    assert (row["before"], row["after"], row["counterexample_length"]) == ("holds", "violated", 7)
    code, out, _ = run_cli(capsys, "replay", row["trace"])
    assert code == 0
    assert "valid path of 7 steps; still a violation" in out


def test_map_patch_unknown_helper_lists_map_helpers(tmp_path, capsys):
    path = write_patch(tmp_path, '''
        MODEL = "maps"
        NAME = "x"
        DESCRIPTION = "y"

        def apply(model):
            model.wrap("fairness_due", lambda original, p: original(p))
    ''')
    code, _, err = run_cli(capsys, "check", "map-iter-checkbucket", "--patch", str(path))
    assert code == 2
    assert "helper 'fairness_due': unknown helper; known helpers: advance_proc, after_hash_grow," in err
    assert "check_bucket_keeps" in err


def test_builtin_patches_stay_in_state_space():
    """Every built-in patch passes the exploration that rejects patches leaving the state space."""
    from checker.patchcheck import explore_patched
    from spec.maps import scenario as map_scenario
    from spec.maps.model import build_for
    explored = 0
    for patch in builtin_patches().values():
        if patch.model == "maps":
            explored += explore_patched(build_for(map_scenario.load("map-iter-checkbucket"), [patch]))
            continue
        for name in ("tight-loop-p2", "wakeup-race-p2", "netpoll-hog-p2", "runnext-handoff-p2"):
            explored += explore_patched(build_model(load_builtin(name), "go1.19", patches=[patch]),
                                        max_states=500)
    assert explored > 10_000


def test_compare_marks_unbounded_wait(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "compare", "noinline-call-loop-p1", "--patch", "no-sysmon-preempt",
                           "--property", "starvation", "--property", "bounded-wait", "--max-depth", "16",
                           "--quiet", "--out", str(tmp_path))
    lines = out.splitlines()
    assert code == 1
    wait = next(line for line in lines if line.startswith("worst-case wait"))
    assert wait.split("  ")[-1].strip() == "unbounded (starvation)"
    header = lines[2]
    assert header.index("after") == lines[3].index("violated")


def test_pingpong_hog_starves_without_inheritance(tmp_path, capsys):
    """Without inheritance the hog starves: the shortest lasso runs once through schedtick's 61 values."""
    code, out, _ = run_cli(capsys, "check", "pingpong-hog-p1", "--patch", "no-inherit-time", "--property",
                           "starvation", "--engine", "explicit", "--max-depth", "700", "--json", "--quiet",
                           "--out", str(tmp_path))
    [prop] = json.loads(out)["properties"]
    assert code == 1
    assert (prop["verdict"], prop["counterexample_length"], prop["loop"], prop["victim"]) == (
        "violated", 613, 3, "hog")
    code, out, _ = run_cli(capsys, "check", "pingpong-hog-p1", "--property", "starvation", "--engine", "explicit",
                           "--max-depth", "700", "--json", "--quiet", "--out", str(tmp_path / "unpatched"))
    [prop] = json.loads(out)["properties"]
    assert code == 0
    assert prop["verdict"] == "holds"


def test_map_helper_raising_is_one_line(tmp_path, capsys):
    path = write_patch(tmp_path, '''
        MODEL = "maps"
        NAME = "raises"
        DESCRIPTION = "a wrapped helper that raises"

        def apply(model):
            model.wrap("check_bucket_keeps", lambda original, *args: 1 // 0)
    ''')
    code, _, err = run_cli(capsys, "check", "map-iter-checkbucket", "--patch", str(path), "--out",
                           str(tmp_path / "out"))
    assert code == 2
    assert err.count("\n") == 1
    assert "building the map rules failed with patches raises" in err
    assert "ZeroDivisionError" in err
    assert not (tmp_path / "out").exists()


def test_trace_replays_patch_file_elsewhere(tmp_path, capsys, monkeypatch):
    """A trace records a patch file by its absolute path, so it replays from another directory."""
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "steal.py").write_text(
        'NAME = "my-no-runnext-steal"\nDESCRIPTION = "no runnext steal"\n\n'
        'def apply(model):\n    model.remove("runqsteal(runnext)")\n')
    monkeypatch.chdir(tmp_path / "work")
    code, _, _ = run_cli(capsys, "check", "runnext-handoff-p2", "--patch", "steal.py", "--property",
                         "bounded-wait", "--max-depth", "12", "--quiet", "--out", "out")
    assert code == 1
    [trace] = (tmp_path / "work" / "out").glob("*.itf.json")
    assert json.loads(trace.read_text())["#meta"]["patches"] == [str(tmp_path / "work" / "steal.py")]
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli(capsys, "replay", str(trace))
    assert code == 0
    assert "valid path of 10 steps; still a violation" in out
