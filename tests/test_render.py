"""Pictures and teaching views of traces: content checked against the ITF states they come from."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pytest

from checker.bmc import Result
from checker.cli import main
from checker.concrete import ConcreteModel
from checker.render import graph
from checker.render.explain import citations, cited_functions
from checker.render.view import TraceView
from checker.trace import to_itf
from spec.scenario import parse
from spec.sched.model import build_model

ROOT = Path(__file__).resolve().parents[1]
CX = ROOT / "counterexamples"
TRACES = sorted(CX.glob("*.itf.json"))
# Scheduler traces; map traces (#meta.kind "map") have their own views, tested in test_map_traces.py.
SCHED_TRACES = [p for p in TRACES if json.loads(p.read_text())["#meta"].get("kind") != "map"]
CHROMIUM = "/usr/bin/chromium"


def trace(name: str) -> Path:
    return CX / f"{name}.itf.json"


def itf(path: Path) -> dict:
    return json.loads(path.read_text())


def render(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def svg_ids(text: str) -> dict[str, ET.Element]:
    root = ET.fromstring(text.split("?>", 1)[1])
    return {e.get("id"): e for e in root.iter() if e.get("id")}


def tick_steps(doc: dict) -> list[int]:
    return [i for i, s in enumerate(doc["states"]) if s["#meta"].get("rule") == "tick"]


def wait_columns(doc: dict, g: int) -> list[int]:
    """Columns (tick k's column is k - 1) at whose tick the G's wait counter went up."""
    states = doc["states"]
    return [k for k, i in enumerate(tick_steps(doc)) if states[i]["wait"][g] > states[i - 1]["wait"][g]]


def ring_length(state: dict, p: int, cap: int) -> int:
    head, tail = state["runqhead"][p], state["runqtail"][p]
    return tail - head if head <= tail else tail - head + 2 * cap


MIXED = """
name = "mixed"
gomaxprocs = 2
profile = "go1.19"
[model]
timeslice_ticks = 2
bound = 6
[[goroutine]]
name = "yielder"
body = [{ loop = ["gosched"] }]
[[goroutine]]
name = "caller"
body = [{ loop = ["syscall 3", "call"] }]
[[goroutine]]
name = "worker"
count = 2
body = [{ loop = ["compute"] }]
"""

NESTED = """
name = "nested"
gomaxprocs = 1
profile = "go1.13"
[[goroutine]]
name = "spinner"
body = ["call", { loop = ["compute", "inline-call"] }]
"""


def walk(tmp_path: Path, text: str, steps: int) -> Path:
    """Write an ITF trace of ``steps`` steps that takes the (k mod n)-th enabled rule at step k."""
    model = build_model(parse(text, "walk.toml"))
    cm = ConcreteModel(model)
    s = cm.init
    path = [(None, s)]
    for k in range(steps):
        enabled = cm.enabled(s)
        r = enabled[k % len(enabled)]
        s = cm.step(s, r)
        path.append((r, s))
    res = Result("bounded-wait", "violated", steps, 0.0, trace=path)
    out = tmp_path / "walk.itf.json"
    out.write_text(json.dumps(to_itf(model, res, text, {"max_depth": steps, "bound": 6})))
    return out


# -- text ------------------------------------------------------------------------

@pytest.mark.parametrize("path", TRACES, ids=[p.name for p in TRACES])
def test_text_equals_curated_narrative(capsys, path):
    code, out, _ = render(capsys, "render", str(path))
    assert code == 0
    assert out == path.with_name(path.name.replace(".itf.json", ".txt")).read_text()


# -- timeline --------------------------------------------------------------------

@pytest.mark.parametrize("name", ["tight-loop-p1.go1.13.starvation", "s01-call-free-loop.go1.13.starvation",
                                  "s01-call-free-loop.go1.13.bounded-wait", "s02-stw-blocked.go1.13.bounded-wait"])
def test_timeline_marks_victim_wait(capsys, name):
    doc = itf(trace(name))
    victim = doc["#meta"]["g_names"].index(doc["#meta"]["victim"])
    code, out, _ = render(capsys, "render", str(trace(name)), "--format", "timeline")
    ids = svg_ids(out)
    assert code == 0
    assert ids["lane-victim"].get("data-g") == doc["#meta"]["victim"]
    waited = wait_columns(doc, victim)
    # The marked interval is the last run of ticks the victim waited, up to the trace's end.
    first = waited[-1]
    while first - 1 in waited:
        first -= 1
    assert ids["victim-wait"].get("data-from-tick") == str(first)
    assert ids["victim-wait"].get("data-to-tick") == str(waited[-1] + 1)
    assert waited[-1] + 1 == len(tick_steps(doc))


def test_timeline_bars_follow_running_g(capsys):
    path = trace("s01-call-free-loop.go1.13.starvation")
    _, out, _ = render(capsys, "render", str(path), "--format", "timeline")
    ids = svg_ids(out)
    assert [ids[f"bar-P0-t{c}"].get("data-g") for c in range(3)] == ["main", "main", "looper"]
    assert "victim-run-t2" not in ids
    assert ids["loop-region"].get("data-loop-state") == "6"


def test_timeline_marks_preemption_that_cannot_land(capsys):
    path = trace("tight-loop-p1.go1.13.starvation")
    _, out, _ = render(capsys, "render", str(path), "--format", "timeline")
    ids = svg_ids(out)
    kinds = {k: v.get("class") for k, v in ids.items() if k.startswith("ev-")}
    # Step 5 (a tick) sets g.preempt of the spinner; step 6 runs compute, which cannot act on it.
    assert kinds["ev-5-0"] == "marker preempt-request"
    assert kinds["ev-6-0"] == "marker preempt-blocked"


def test_timeline_marks_steal_gq_and_syscall(tmp_path, capsys):
    path = walk(tmp_path, MIXED, 40)
    _, out, _ = render(capsys, "render", str(path), "--format", "timeline")
    classes = [e.get("class") for e in svg_ids(out).values()]
    for kind in ("steal", "to-gq", "from-gq", "syscall", "handoff", "preempt"):
        assert f"marker {kind}" in classes, kind


# -- state graph -------------------------------------------------------------------

def test_dot_highlights_lasso(capsys):
    code, out, _ = render(capsys, "render", str(trace("s01-call-free-loop.go1.13.starvation")), "--format", "dot")
    edges = {m.group(1): m.group(0) for m in re.finditer(r'  s\d+ -> s\d+ \[.*id="(e\d+)".*\];', out)}
    assert code == 0
    assert edges["e8"].startswith("  s7 -> s6 ")
    assert 'class="loop"' in edges["e7"]
    assert 'class="loop"' in edges["e8"]
    assert all('class="loop"' not in edges[f"e{i}"] for i in range(1, 7))
    assert re.search(r'  s6 \[.*class="loop-start"', out)
    assert "violating" not in out


def test_dot_highlights_violating_state(capsys):
    _, out, _ = render(capsys, "render", str(trace("tight-loop-p1.go1.13.bounded-wait")), "--format", "dot")
    assert re.search(r'  s15 \[.*class="violating".*xlabel="violates bounded-wait"', out)
    assert out.count('class="violating"') == 1
    assert 'class="loop"' not in out


def test_graph_cycle_is_the_lasso():
    view = TraceView.load(trace("s02-stw-blocked.go1.13.starvation"))
    g = graph.build(view)
    assert sorted(u for u, _ in nx.find_cycle(g)) == [8, 9]
    assert g.nodes[8]["places"] == ["spinner: running on P1", "allocator: running on P0", "stop-the-world pending"]
    assert g.edges[9, 8]["label"] == "tick"


def test_graph_svg_without_graphviz(capsys, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    code, out, _ = render(capsys, "render", str(trace("s01-call-free-loop.go1.13.starvation")), "--format", "graph")
    ids = svg_ids(out)
    assert code == 0
    assert ids["e8"].get("class") == "edge loop closes-loop"
    assert ids["e7"].get("class") == "edge loop"
    assert ids["e6"].get("class") == "edge"
    assert "loop-start" in ids["s6"].get("class")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
def test_graph_svg_with_graphviz(capsys):
    _, out, _ = render(capsys, "render", str(trace("s01-call-free-loop.go1.13.starvation")), "--format", "graph")
    ids = svg_ids(out)
    # Graphviz writes class="edge loop" for an edge with class="loop".
    assert "loop" in ids["e8"].get("class").split()
    assert "loop" not in ids["e6"].get("class").split()
    assert "loop-start" in ids["s6"].get("class").split()


# -- control-flow graph ------------------------------------------------------------

def test_cfg_marks_starving_loop(capsys):
    code, out, _ = render(capsys, "render", str(trace("s02-stw-blocked.go1.13.starvation")), "--format", "cfg")
    ids = svg_ids(out)
    assert code == 0
    assert ids["cfg-spinner-n0"].get("class") == "cfg-node no-yield"
    assert ids["cfg-spinner-n0"].get("data-op") == "compute"
    assert "cfg-allocator" not in ids  # its loop has a prologue, so it is not drawn


def test_cfg_marks_only_loop_nodes(tmp_path, capsys):
    path = walk(tmp_path, NESTED, 4)
    _, out, _ = render(capsys, "render", str(path), "--format", "cfg")
    ids = svg_ids(out)
    assert ids["cfg-spinner-n0"].get("class") == "cfg-node"
    assert [ids[f"cfg-spinner-n{n}"].get("data-op") for n in (1, 2)] == ["compute", "inline-call"]
    assert all(ids[f"cfg-spinner-n{n}"].get("class") == "cfg-node no-yield" for n in (1, 2))
    root = ET.fromstring(out.split("?>", 1)[1])
    [label] = [e for e in root.iter() if e.get("class") == "no-yield-label"]
    assert label.get("data-nodes") == "1 2"
    assert label.text.startswith("loop [compute -> inline-call]")


# -- schedtrace ----------------------------------------------------------------------

SCHED = re.compile(r"SCHED (\d+)ms: gomaxprocs=(\d+) idleprocs=(\d+) threads=(\d+) spinningthreads=(\d+) "
                   r"needspinning=0 idlethreads=0 runqueue=(\d+) \[ ([\d ]+) \] schedticks=\[ ([\d ]+) \]")


def check_schedtrace(out: str, doc: dict) -> list[int]:
    ticks = tick_steps(doc)
    lines = out.splitlines()
    cap = len(doc["states"][0]["runq"][0])
    assert len(lines) == len(ticks)
    runqueues = []
    for line, i in zip(lines, ticks):
        m = SCHED.fullmatch(line)
        assert m, line
        state = doc["states"][i]
        assert int(m.group(6)) == state["gqlen"]
        assert [int(x) for x in m.group(7).split()] == [ring_length(state, p, cap) for p in range(len(state["pstatus"]))]
        assert [int(x) for x in m.group(8).split()] == state["schedtick"]
        runqueues.append(int(m.group(6)))
    return runqueues


@pytest.mark.parametrize("path", SCHED_TRACES, ids=[p.name for p in SCHED_TRACES])
def test_schedtrace_one_line_per_tick(capsys, path):
    code, out, _ = render(capsys, "render", str(path), "--format", "schedtrace")
    assert code == 0
    check_schedtrace(out, itf(path))


def test_schedtrace_global_queue(tmp_path, capsys):
    path = walk(tmp_path, MIXED, 40)
    _, out, _ = render(capsys, "render", str(path), "--format", "schedtrace")
    runqueues = check_schedtrace(out, itf(path))
    assert max(runqueues) > 0
    assert out.startswith("SCHED 5ms: gomaxprocs=2 ")  # 2 ticks per 10 ms


# -- explain ---------------------------------------------------------------------------

def test_citations_parse_rule_docs():
    assert citations("runtime/proc.go: exitsyscall (1.19: exitsyscallfast_pidle; 1.27: exitsyscallTryGetP): x") == [
        ("runtime/proc.go", ["exitsyscall", "exitsyscallfast_pidle", "exitsyscallTryGetP"])]
    assert citations("(runtime/stack.go: newstack; runtime/proc.go: gopreempt_m, goschedImpl; all versions)") == [
        ("runtime/stack.go", ["newstack"]), ("runtime/proc.go", ["gopreempt_m", "goschedImpl"])]
    assert citations("One step of user code") == []


@pytest.mark.parametrize("path", SCHED_TRACES, ids=[p.name for p in SCHED_TRACES])
def test_explain_names_cited_function_of_each_step(capsys, path):
    code, out, _ = render(capsys, "explain", str(path))
    view = TraceView.load(path)
    paragraphs = out.split("\n\n")[2:]
    assert code == 0
    assert len(paragraphs) == len(view.states) - 1
    for i, para in enumerate(paragraphs, start=1):
        rule = view.rules[i]
        assert para.startswith(f"step {i} ")
        assert "enabled because: " in para
        runtime = para.splitlines()[1]
        for fn in cited_functions(rule):
            assert fn in runtime, (i, fn)
        if rule.name == "tick":
            assert "retake" in runtime
            assert "runtime/proc.go" in runtime


def test_explain_guard_reasons(capsys):
    _, out, _ = render(capsys, "explain", str(trace("s02-stw-blocked.go1.13.starvation")))
    steps = out.split("\n\n")[2:]
    assert "runtime: findRunnable, runqget in runtime/proc.go" in steps[0]
    assert "curg[P0] == none" in steps[0]
    assert "len(runq[P0]) (= 1) > 0" in steps[1]  # the steal needs a non-empty victim ring
    assert "stopTheWorldWithSema" in steps[6]
    # In the loop, the spinner's request cannot land at compute under go1.13.
    assert "compute is no preemption point under go1.13" in steps[8]
    assert "the loop starts here" in steps[8]


# -- mermaid ---------------------------------------------------------------------------

def test_mermaid_sequence(capsys):
    path = trace("tight-loop-p1.go1.13.starvation")
    _, out, _ = render(capsys, "render", str(path), "--format", "mermaid")
    lines = out.splitlines()
    assert lines[0] == "sequenceDiagram"
    assert sum(1 for x in lines if re.fullmatch(r"\s+Note over P0: tick \d+", x)) == len(tick_steps(itf(path)))
    assert "    loop repeats forever (back to state 5)" in lines
    assert lines[-1] == "    end"
    assert "sleeper#35;0" in out
    assert not re.search(r"#(?!35;|59;)", out)


# -- HTML --------------------------------------------------------------------------------

def test_html_is_self_contained(tmp_path, capsys):
    out_file = tmp_path / "trace.html"
    code, _, _ = render(capsys, "render", str(trace("s02-stw-blocked.go1.13.starvation")), "--format", "html",
                        "-o", str(out_file))
    page = out_file.read_text()
    assert code == 0
    assert not re.search(r"""(src|href)\s*=\s*["']?\w+:""", page)
    assert "<link" not in page
    assert re.findall(r"https?://[^\s\"'<>]+", page) == ["http://www.w3.org/2000/svg"]
    data = json.loads(re.search(r'<script type="application/json" id="trace-data">(.*?)</script>', page, re.S)[1])
    assert len(data["steps"]) == 11
    assert data["steps"][2]["state"]["ps"][1]["curg"] == "spinner"


def chromium_dom(url: str, profile: Path) -> str:
    run = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                          "--disable-component-update", "--disable-sync", "--no-first-run",
                          f"--user-data-dir={profile}", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout


def shown(dom: str, element_id: str) -> str:
    m = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', dom)
    assert m, element_id
    return m.group(1)


@pytest.mark.browser
def test_html_steps_with_arrow_keys(tmp_path, capsys):
    if not os.access(CHROMIUM, os.X_OK):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; install it with apt-get install chromium")
        pytest.skip(f"{CHROMIUM} is missing")
    path = trace("s02-stw-blocked.go1.13.starvation")
    page = tmp_path / "trace.html"
    render(capsys, "render", str(path), "--format", "html", "-o", str(page))
    states = itf(path)["states"]
    start = chromium_dom(page.as_uri(), tmp_path / "profile0")
    stepped = chromium_dom(page.as_uri() + "#keys=ArrowRight,ArrowRight,ArrowRight,ArrowLeft", tmp_path / "profile1")
    assert shown(start, "step-index") == "0"
    assert shown(stepped, "step-index") == "2"
    # State 0: nothing runs.  State 2: allocator on P0, spinner stolen onto P1.
    names = itf(path)["#meta"]["g_names"]
    assert shown(start, "p1-curg") == "-"
    assert shown(stepped, "p0-curg") == names[states[2]["curg"][0] - 1]
    assert shown(stepped, "p1-curg") == names[states[2]["curg"][1] - 1]
    assert shown(stepped, "step-label") == "runqsteal(p=P1, victim=P0)"
    assert re.search(r'<line id="cursor" x1="(\d+\.?\d*)"', stepped)[1] != re.search(
        r'<line id="cursor" x1="(\d+\.?\d*)"', start)[1]


# -- command line -------------------------------------------------------------------------

def test_unknown_format_is_one_line_error(tmp_path, capsys):
    out_file = tmp_path / "x.png"
    code, out, err = render(capsys, "render", str(trace("s02-stw-blocked.go1.13.starvation")), "--format", "png",
                            "-o", str(out_file))
    assert code == 2
    assert err.count("\n") == 1
    assert "unknown format 'png'; use one of text, schedtrace" in err
    assert not out_file.exists()


def test_bad_trace_names_file_and_fix(tmp_path, capsys):
    bad = tmp_path / "bad.itf.json"
    bad.write_text("{not json")
    target = tmp_path / "keep.svg"
    target.write_text("old")
    code, _, err = render(capsys, "render", str(bad), "--format", "timeline", "-o", str(target))
    assert code == 2
    assert err.startswith(f"gmpcheck: error: {bad}: invalid JSON")
    assert "give an .itf.json trace written by gmpcheck check" in err
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.itf.json", "keep.svg"]


def test_unknown_rule_in_trace(tmp_path, capsys):
    doc = itf(trace("tight-loop-p1.go1.13.starvation"))
    doc["states"][2]["#meta"]["label"] = "nosuchrule(p=0)"
    bad = tmp_path / "t.itf.json"
    bad.write_text(json.dumps(doc))
    code, _, err = render(capsys, "explain", str(bad))
    assert code == 2
    assert "states[2]: rule 'nosuchrule(p=0)' does not exist in the current model" in err


def test_unwritable_output(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = render(capsys, "render", str(trace("s02-stw-blocked.go1.13.starvation")), "--format", "dot",
                          "-o", str(blocker / "x.dot"))
    assert code == 2
    assert f"{blocker} is not a directory" in err
    code, _, err = render(capsys, "render", str(trace("s02-stw-blocked.go1.13.starvation")), "-o", str(tmp_path))
    assert code == 2
    assert "is a directory" in err


def test_check_out_writes_timeline_and_html(tmp_path, capsys):
    code = main(["check", "tight-loop-p1", "--profile", "go1.13", "--property", "starvation", "--quiet",
                 "--out", str(tmp_path)])
    capsys.readouterr()
    stem = tmp_path / "tight-loop-p1.go1.13.starvation"
    assert code == 1
    ids = svg_ids(Path(f"{stem}.timeline.svg").read_text())
    assert ids["lane-victim"].get("data-g") == "sleeper#0"
    assert 'id="trace-data"' in Path(f"{stem}.html").read_text()


@pytest.mark.parametrize("path", TRACES, ids=[p.name for p in TRACES])
def test_curated_pictures_regenerate(path):
    """Each curated trace's stored timeline and HTML page are what the views draw from it now."""
    from checker.render import check_views
    from checker.trace import load_itf, model_of_trace
    doc = load_itf(path)
    views = check_views(model_of_trace(doc, str(path)), doc, str(path))
    stem = path.name.removesuffix(".itf.json")
    for suffix, text in views.items():
        assert (path.parent / f"{stem}{suffix}").read_text() == text, f"{stem}{suffix} is stale"


def test_gallery_index_shows_every_picture():
    """counterexamples/README.md has a section per curated trace and shows or links each of its pictures."""
    index = (CX / "README.md").read_text()
    for path in TRACES:
        stem = path.name.removesuffix(".itf.json")
        assert f"### {stem}\n" in index, f"no section for {stem}"
        assert f"]({stem}.html)" in index, f"{stem}.html is not linked"
    pictures = sorted(p.name for p in CX.glob("*.svg"))
    assert len(pictures) == 3 * len(TRACES)
    for name in pictures:
        assert f"]({name})" in index, f"{name} is not shown or linked"
    for name in re.findall(r"\]\(([^)/]+\.(?:svg|html|txt))\)", index):
        assert (CX / name).is_file(), f"the index names {name}, which does not exist"


def test_explain_names_a_patched_rule():
    """A step whose rule a patch changed or replaced is marked with the patch's name."""
    sysmon = CX / "noinline-call-loop-p1.go1.19.patch-no-sysmon-preempt.starvation.itf.json"
    text = explain_text(sysmon)
    tick = text.split("\nstep 3 (tick 0): tick\n")[1].split("\n\n")[0].splitlines()
    assert tick[2].startswith("  patched: this rule is changed by no-sysmon-preempt (")
    assert tick[2].endswith("the runtime and models lines describe the unpatched runtime")

    wakeup = CX / "wakeup-race-p2.go1.19.patch-no-spinning-recheck.bounded-wait.itf.json"
    step = explain_text(wakeup).split("\nstep 13 (tick 1): stopm(recheck)\n")[1].split("\n\n")[0].splitlines()
    assert step[0] == "  runtime: findRunnable, checkRunqsNoP in runtime/proc.go"
    assert step[1] == "  models: The M stops spinning and sleeps without re-checking the run queues."
    assert step[2].startswith("  patched: this rule is replaced by no-spinning-recheck (")

    unpatched = explain_text(CX / "tight-loop-p1.go1.13.starvation.itf.json")
    assert "patched:" not in unpatched


def explain_text(path: Path) -> str:
    from checker.render import explain
    from checker.render.view import TraceView
    return explain.render(TraceView.load(path))


def test_explain_names_a_function_for_every_rule():
    """Every rule of every built-in scheduler scenario maps to a runtime function, or to user code."""
    from checker.render.explain import runtime_line
    from spec.scenario import builtin_names, load_builtin
    from spec.sched.model import build_model
    lines = {}
    for name in builtin_names():
        for profile in ("go1.13", "go1.19", "go1.27"):
            for rule in build_model(load_builtin(name), profile, False, []).rules:
                lines[rule.name] = runtime_line(rule)
    assert not [r for r, line in lines.items() if "names no function" in line]
    assert lines["netpoll(block)"] == "findRunnable in runtime/proc.go"
    assert lines["runqsteal(runnext)"] == "stealWork, runqgrab in runtime/proc.go"
