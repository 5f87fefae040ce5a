"""The gmpcheck command line: verdicts, exit codes, files written, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from checker.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *argv):
    """Run the CLI in-process; return the exit code, stdout with runs of spaces folded, and stderr."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    folded = "\n".join(" ".join(line.split()) for line in out.splitlines())
    return code, folded, err


def test_tight_loop_go113_starves(capsys, tmp_path):
    code, out, err = run(capsys, "check", "tight-loop-p1", "--profile", "go1.13", "--out", str(tmp_path),
                         "--property", "starvation", "--property", "bounded-wait")
    assert code == 1
    assert "starvation violated (lasso of 7 steps, loop back to state 5)" in out
    assert "bounded-wait violated (minimal counterexample of 15 steps) [D=6 ticks]" in out
    assert "victim: sleeper#0" in out
    assert "bmc: depth" in err
    itf = json.loads((tmp_path / "tight-loop-p1.go1.13.starvation.itf.json").read_text())
    assert itf["loop"] == 5
    assert len(itf["states"]) == 8
    assert itf["#meta"]["victim"] == "sleeper#0"
    # The victim never runs anywhere in the trace.
    victim = itf["#meta"]["g_names"].index("sleeper#0")
    assert all(s["gstatus"][victim] != 2 for s in itf["states"])


def test_tight_loop_go119_holds(capsys, tmp_path):
    code, out, _ = run(capsys, "check", "tight-loop-p1", "--profile", "go1.19", "--out", str(tmp_path),
                       "--property", "bounded-wait", "--property", "starvation", "--quiet")
    assert code == 0
    assert "bounded-wait holds up to depth 30" in out
    assert "verdict: holds (bounded)" in out
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_tight_loop_asyncpreemptoff_violated(capsys, tmp_path):
    code, out, _ = run(capsys, "check", "tight-loop-p1", "--profile", "go1.19", "--asyncpreemptoff",
                       "--out", str(tmp_path), "--property", "starvation", "--quiet")
    assert code == 1
    assert "profile go1.19 asyncpreemptoff=1" in out
    assert (tmp_path / "tight-loop-p1.go1.19-asyncpreemptoff.starvation.itf.json").is_file()


def test_json_output(capsys, tmp_path):
    code, out, _ = run(capsys, "check", "tight-loop-p1", "--profile", "go1.13", "--json", "--quiet",
                       "--out", str(tmp_path), "--property", "bounded-wait", "--max-depth", "16")
    doc = json.loads(out)
    assert code == 1
    assert doc["exit_code"] == 1
    assert doc["profile"] == "go1.13"
    assert doc["gomaxprocs"] == 1
    [p] = doc["properties"]
    assert (p["name"], p["verdict"], p["counterexample_length"], p["engine"]) == ("bounded-wait", "violated", 15, "bmc-z3")
    assert doc["missing_yield_points"] == ["goroutine spinner: loop [compute] has no preemption point under go1.13"]


def test_short_depth_says_holds_to_that_depth(capsys, tmp_path):
    code, out, _ = run(capsys, "check", "tight-loop-p1", "--profile", "go1.13", "--quiet",
                       "--out", str(tmp_path), "--property", "bounded-wait", "--max-depth", "10")
    assert code == 0
    assert "bounded-wait holds up to depth 10 (bounded; no counterexample of 10 steps or fewer)" in out


def test_timeout_is_unknown_not_holds(capsys, tmp_path):
    code, out, _ = run(capsys, "check", "tight-loop-p2", "--quiet", "--out", str(tmp_path),
                       "--property", "no-lost-goroutine", "--timeout", "0.2")
    assert code == 3
    assert "no-lost-goroutine unknown (time limit of 0.2 s reached" in out
    assert "verdict: unknown" in out


def test_replay_curated_roundtrip(capsys, tmp_path):
    run(capsys, "check", "s01-call-free-loop", "--out", str(tmp_path), "--property", "starvation", "--quiet")
    trace = tmp_path / "s01-call-free-loop.go1.13.starvation.itf.json"
    code, out, _ = run(capsys, "replay", str(trace))
    assert code == 0
    assert "valid path of 8 steps; still a violation: main is ready in every state" in out


def test_replay_detects_tampered_step(capsys, tmp_path):
    run(capsys, "check", "s01-call-free-loop", "--out", str(tmp_path), "--property", "starvation", "--quiet")
    trace = tmp_path / "s01-call-free-loop.go1.13.starvation.itf.json"
    doc = json.loads(trace.read_text())
    doc["states"][3]["slice"] = [0]
    bad = tmp_path / "bad.itf.json"
    bad.write_text(json.dumps(doc))
    code, out, _ = run(capsys, "replay", str(bad))
    assert code == 1
    assert "invalid path" in out
    assert "step 3" in out


BAD_SCENARIOS = {
    "unknown field": ('gomaxprocs = 1\ncolour = "red"\n[[goroutine]]\nname = "a"\nbody = ["compute"]\n', "colour"),
    "unknown op": ('[[goroutine]]\nname = "a"\nbody = ["spin"]\n', "goroutine[0].body[0]"),
    "negative count": ('[[goroutine]]\nname = "a"\ncount = -1\nbody = ["compute"]\n', "goroutine[0].count"),
    "gomaxprocs 0": ('gomaxprocs = 0\n[[goroutine]]\nname = "a"\nbody = ["compute"]\n', "gomaxprocs"),
    "invalid toml": ('gomaxprocs = = 1\n', "invalid TOML"),
}


@pytest.mark.parametrize("case", sorted(BAD_SCENARIOS))
def test_bad_scenario_exit_2_one_line_nothing_written(capsys, tmp_path, case):
    text, fieldname = BAD_SCENARIOS[case]
    path = tmp_path / "bad.toml"
    path.write_text(text)
    out_dir = tmp_path / "out"
    code, out, err = run(capsys, "check", str(path), "--out", str(out_dir))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert str(path) in lines[0]
    assert fieldname in lines[0]
    assert out == ""
    assert not out_dir.exists()


def test_missing_scenario_file(capsys, tmp_path):
    code, _, err = run(capsys, "check", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "out"))
    assert code == 2
    assert "nope.toml: file not found" in err
    assert not (tmp_path / "out").exists()


def test_bad_options(capsys, tmp_path):
    code, _, err = run(capsys, "check", "tight-loop-p1", "--property", "liveness", "--out", str(tmp_path / "o"))
    assert code == 2
    assert "--property: unknown property 'liveness'" in err
    code, _, err = run(capsys, "check", "tight-loop-p1", "--max-depth", "0", "--out", str(tmp_path / "o"))
    assert code == 2
    assert "--max-depth" in err
    assert not (tmp_path / "o").exists()


def test_bad_trace_file(capsys, tmp_path):
    bad = tmp_path / "t.itf.json"
    bad.write_text("{not json")
    code, _, err = run(capsys, "replay", str(bad))
    assert code == 2
    assert "invalid JSON" in err
    bad.write_text(json.dumps({"states": [{}]}))
    code, _, err = run(capsys, "replay", str(bad))
    assert code == 2
    assert "#meta" in err


def test_list_names_every_builtin(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0
    for name in ("tight-loop-p1", "tight-loop-p2", "range-map-p1", "range-map-p2", "inline-call-loop-p1",
                 "noinline-call-loop-p1", "gosched-loop-p1", "s01-call-free-loop", "s02-stw-blocked"):
        assert name in out


def test_console_script_default_scenario(tmp_path):
    """The README's first command: no scenario runs the built-in default and writes a counterexample."""
    proc = subprocess.run([sys.executable, "-m", "checker.cli", "check", "--quiet"], cwd=tmp_path,
                          capture_output=True, text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 1, proc.stderr
    assert "scenario s01-call-free-loop" in proc.stdout
    assert "starvation" in proc.stdout
    assert "violated" in proc.stdout
    assert (tmp_path / "gmpcheck-out" / "s01-call-free-loop.go1.13.starvation.itf.json").is_file()
