"""gmpcheck extract and gmpcheck check PROGRAM.go: translation, errors and source positions."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from checker.cli import main
from checker.extract import ExtractError, extract
from checker.extract.inlining import find_go
from spec.scenario import ScenarioError, parse

CORPUS = Path(__file__).resolve().parent / "go_programs"


def doc(name: str, use_go: bool = False) -> dict:
    return tomllib.loads(extract(str(CORPUS / name), use_go=use_go).toml)


def goroutine(d: dict, name: str) -> dict:
    return next(g for g in d["goroutine"] if g["name"] == name)


def line_of(name: str, position: str) -> str:
    """Return the source line that a FILE:LINE:COL position points at."""
    line = int(position.split(":")[-2])
    return (CORPUS / name).read_text(encoding="utf-8").splitlines()[line - 1]


def test_tight_loop_bodies():
    d = doc("tight_loop.go")
    assert d["gomaxprocs"] == 1
    assert goroutine(d, "main")["body"] == ["compute", "go main.func1", "sleep 2", "call"]
    looper = goroutine(d, "main.func1")
    assert looper["start"] is False
    assert looper["body"] == [{"loop": ["compute"]}]


def test_positions_point_at_source():
    d = doc("tight_loop.go")
    pos = d["positions"]["main.func1"]
    assert pos["created"].endswith("tight_loop.go:15:2")
    assert line_of("tight_loop.go", pos["created"]).strip().startswith("go func()")
    assert pos["loop"].endswith("tight_loop.go:16:3")
    assert line_of("tight_loop.go", pos["loop"]).strip() == "for {"
    assert d["positions"]["main"]["function"].endswith("tight_loop.go:13:1")


def test_go_loop_reduced_to_two():
    ex = extract(str(CORPUS / "spawn_100.go"), use_go=False)
    d = tomllib.loads(ex.toml)
    assert goroutine(d, "sleeper")["count"] == 2
    assert d["model"]["max_depth"] == 38
    assert goroutine(d, "main")["body"][1] == {"loop": ["go sleeper"], "times": 2}
    assert any("starts goroutines 100 times: reduced to 2" in w for w in ex.warnings)
    assert "(100 iterations reduced to 2)" in ex.toml


def test_unknown_bound_warns():
    ex = extract(str(CORPUS / "spawn_100.go"), use_go=False)
    unbounded = [w for w in ex.warnings if w.endswith("is not a constant: modelled as a loop without end")]
    assert any(":35:2:" in w for w in unbounded)


def test_durations_in_ticks():
    d = doc("timer_sleepers.go")
    assert goroutine(d, "main.func1")["body"][0] == {"loop": ["sleep 1"], "times": 5}  # 2 ms
    assert goroutine(doc("stw_gc.go"), "main")["body"][2] == "sleep 1"                # 5 ms
    assert goroutine(doc("gosched_loop.go"), "main")["body"][2] == "sleep 2"          # 10 ms


def test_operations_of_each_construct():
    assert goroutine(doc("range_map.go"), "main.func1")["body"] == [{"loop": [{"loop": ["range-map", "compute"]}]}]
    assert goroutine(doc("gosched_loop.go"), "main.func1")["body"] == [{"loop": ["compute", "gosched"]}]
    assert goroutine(doc("pingpong_hog.go"), "main.func1")["body"] == [{"loop": ["send a", "recv b"]}]
    assert goroutine(doc("netpoll_hog.go"), "main")["body"][-2:] == ["netread 2", "call"]
    assert goroutine(doc("netpoll_hog.go"), "main.func1")["body"][0] == "netread 2"
    assert goroutine(doc("syscall_tight.go"), "main")["body"][3] == {"loop": ["syscall 2"], "times": 3}
    assert "gc" in goroutine(doc("stw_gc.go"), "main")["body"]
    assert goroutine(doc("select_loop.go"), "main")["body"][-2] == {"loop": ["recv a", "compute"], "times": 5}
    assert doc("stw_gc.go")["gomaxprocs"] == 2


def test_guessed_calls():
    ex = extract(str(CORPUS / "noinline_call_loop.go"), use_go=False)
    d = tomllib.loads(ex.toml)
    # step keeps its prologue; the leaf mix it calls has none.
    assert goroutine(d, "main.func1")["body"] == [{"loop": ["call", "inline-call"]}]
    assert goroutine(doc("leaf_call_loop.go"), "main.func1")["body"] == [{"loop": ["inline-call"]}]
    assert goroutine(doc("inline_call_loop.go"), "main.func1")["body"] == [{"loop": ["inline-call"]}]
    assert goroutine(doc("mutex_handoff.go"), "worker")["body"] == [{"loop": ["inline-call", "compute", "inline-call"]}]
    assert "inlining guessed by rule of thumb (--no-go given)" in ex.toml
    assert any(n.endswith("step: call (guessed)") for n in ex.notes)


@pytest.mark.skipif(find_go() is None, reason="no Go toolchain")
def test_compiler_decides_calls():
    ex = extract(str(CORPUS / "inline_call_loop.go"), use_go=True)
    assert "inlining decided by the compiler: go1." in ex.toml
    d = tomllib.loads(ex.toml)
    assert goroutine(d, "main.func1")["body"] == [{"loop": ["inline-call"]}]
    assert goroutine(doc("noinline_call_loop.go", True), "main.func1")["body"] == [{"loop": ["call", "inline-call"]}]
    assert goroutine(doc("leaf_call_loop.go", True), "main.func1")["body"] == [{"loop": ["inline-call"]}]


def test_nosplit_has_no_prologue(tmp_path):
    src = tmp_path / "ns.go"
    src.write_text("package main\n\nimport \"fmt\"\n\n//go:nosplit\nfunc f() { fmt.Println() }\n\n"
                   "func main() {\n\tgo func() {\n\t\tfor {\n\t\t\tf()\n\t\t}\n\t}()\n}\n")
    d = tomllib.loads(extract(str(src), use_go=False).toml)
    assert goroutine(d, "main.func1")["body"] == [{"loop": ["inline-call", "call"]}]


def test_cli_extract_writes_file(tmp_path, capsys):
    out = tmp_path / "s.toml"
    assert main(["extract", str(CORPUS / "tight_loop.go"), "--no-go", "--profile", "go1.13", "-o", str(out)]) == 0
    sc = parse(out.read_text(encoding="utf-8"), str(out))
    assert sc.profile == "go1.13"
    assert sc.positions["main.func1"]["loop"].endswith("tight_loop.go:16:3")
    assert "loop has no preemption point" not in capsys.readouterr().out


def test_edited_scenario_rejects_unknown_position():
    text = extract(str(CORPUS / "tight_loop.go"), use_go=False).toml
    with pytest.raises(ScenarioError, match=r"positions\.main\.func1: no goroutine named"):
        parse(text.replace('name = "main.func1"', 'name = "looper"').replace("go main.func1", "go looper"),
              "edited.toml")


@pytest.mark.parametrize("source,message", [
    ("package main\n\nfunc main() {\n\tx := \n}\n", ":4:6: syntax error: expected identifier here"),
    ("package main\n\nfunc main() {\n\tfor {\n}\n", ":6:1: syntax error: expected } here"),
    ("package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(1)\n}\n",
     ":5:1: func main starts no goroutine (no go statement is reached), so there is nothing to schedule"),
    ("func main() {\n\tgo f()\n}\n\nfunc f() {}\n", ":1:1: syntax error: expected 'package', found 'func'"),
    ("", ":1:1: syntax error: expected 'package', found EOF (the file holds no Go code)"),
])
def test_bad_programs_exit_2(tmp_path, capsys, source, message):
    src = tmp_path / "p.go"
    src.write_text(source)
    out = tmp_path / "out.toml"
    assert main(["extract", str(src), "--no-go", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"{src}{message}"]
    assert not out.exists()


def test_missing_file_and_entry(tmp_path, capsys):
    assert main(["check", str(tmp_path / "none.go"), "--no-go"]) == 2
    assert capsys.readouterr().err.strip() == f"{tmp_path / 'none.go'}: file not found; give the path of a Go source file"
    assert main(["check", str(CORPUS / "tight_loop.go"), "--no-go", "--entry", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "entry function 'nope' not found; give --entry with one of: main" in err[0]
    with pytest.raises(ExtractError):
        extract(str(CORPUS / "tight_loop.go"), entry="nope", use_go=False)


def test_entry_option_on_toml_rejected(capsys):
    assert main(["check", "tight-loop-p1", "--entry", "main"]) == 2
    assert "--entry: applies to a Go file only" in capsys.readouterr().err


def test_check_reports_source_positions(tmp_path, capsys):
    code = main(["check", str(CORPUS / "tight_loop.go"), "--no-go", "--profile", "go1.13", "--property",
                 "starvation", "--max-depth", "16", "--out", str(tmp_path), "--quiet"])
    out = capsys.readouterr().out.splitlines()
    prog = str(CORPUS / "tight_loop.go")
    assert code == 1
    assert f"{prog}:16:3: loop has no preemption point under go1.13 (goroutine main.func1, started at " \
           f"{prog}:15:2; loop [compute])" in out
    victim = [ln.strip() for ln in out if "starves:" in ln]
    assert victim == [f"{prog}:13:1: goroutine main (func main) starves: it is ready in every state of a "
                      f"repeating schedule and never runs"]
    note = [ln.strip() for ln in out if ": note: " in ln]
    assert note == [f"{prog}:16:3: note: goroutine main.func1 (started at {prog}:15:2) runs this loop, which "
                    f"has no preemption point under go1.13"]


def test_check_json_findings(tmp_path, capsys):
    code = main(["check", str(CORPUS / "leaf_call_loop.go"), "--no-go", "--profile", "go1.19",
                 "--asyncpreemptoff", "--property", "starvation", "--max-depth", "16", "--out", str(tmp_path),
                 "--quiet", "--json"])
    d = json.loads(capsys.readouterr().out)
    prog = str(CORPUS / "leaf_call_loop.go")
    assert code == 1
    assert d["findings"] == [f"{prog}:22:3: loop has no preemption point under go1.19 asyncpreemptoff=1 "
                             f"(goroutine main.func1, started at {prog}:21:2; loop [inline-call])"]
    assert d["properties"][0]["victim"] == "main"
    assert d["properties"][0]["source"][0].startswith(f"{prog}:19:1: goroutine main (func main) starves")
    assert line_of("leaf_call_loop.go", f"{prog}:22:3").strip() == "for {"
    assert line_of("leaf_call_loop.go", f"{prog}:19:1") == "func main() {"


def test_select_send_case_keeps_send(tmp_path):
    src = tmp_path / "sel.go"
    src.write_text("package main\n\nfunc main() {\n\tch := make(chan int)\n\tgo func() {\n"
                   "\t\tfor i := 0; i < 3; i++ {\n\t\t\tselect {\n\t\t\tcase ch <- i:\n\t\t\t}\n\t\t}\n"
                   "\t}()\n\tfor {\n\t\tselect {\n\t\tcase v := <-ch:\n\t\t\t_ = v\n\t\t}\n\t}\n}\n")
    d = tomllib.loads(extract(str(src), use_go=False).toml)
    assert goroutine(d, "main.func1")["body"] == [{"loop": ["send ch"], "times": 3}]
    assert goroutine(d, "main")["body"][-1] == {"loop": ["recv ch", "compute"]}


def test_range_over_channel_warns(tmp_path):
    src = tmp_path / "rc.go"
    src.write_text("package main\n\nfunc main() {\n\tch := make(chan int)\n\tgo func() {\n\t\tch <- 1\n"
                   "\t}()\n\tfor v := range ch {\n\t\t_ = v\n\t}\n}\n")
    ex = extract(str(src), use_go=False)
    assert f"{src}:8:2: range over channel ch: the model has no close, so the loop is modelled without end, " \
           f"one receive per iteration" in ex.warnings
    assert goroutine(tomllib.loads(ex.toml), "main")["body"][-1] == {"loop": ["recv ch", "compute"]}


def test_guess_notes_not_repeated():
    ex = extract(str(CORPUS / "mutex_handoff.go"), use_go=False)
    assert len(ex.notes) == len(set(ex.notes))
    assert sum(":17:3: mu.Lock:" in n for n in ex.notes) == 1


@pytest.mark.parametrize("call", ["work(10)", "_ = work(10)", "done <- work(10)", "return"])
def test_callee_loop_without_end(tmp_path, call):
    """A call whose inlined body loops without end ends the caller's body there, wherever the call sits."""
    src = tmp_path / "callee.go"
    call_line = call if call != "return" else "work(10)\n\t\treturn"
    src.write_text("package main\n\nfunc work(n int) int {\n\ts := 0\n\tfor i := 0; i < n; i++ {\n\t\ts += i\n"
                   "\t}\n\treturn s\n}\n\nfunc main() {\n\tdone := make(chan int)\n\tgo func() {\n\t\t<-done\n"
                   f"\t}}()\n\tfor {{\n\t\t{call_line}\n\t}}\n}}\n")
    ex = extract(str(src), use_go=False)
    body = goroutine(tomllib.loads(ex.toml), "main")["body"]
    assert body[-1]["loop"][-1] == {"loop": ["compute"]}
    assert f"{src}:5:2: loop bound of `for i := 0; i < n; i++` is not a constant: modelled as a loop " \
           f"without end" in ex.warnings
