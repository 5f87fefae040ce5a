"""Benchmark: verdicts, counterexample lengths, time, memory and search depth per scenario.

Run ``python -m checker.bench`` (add ``--quick`` to skip the 60-second depth
runs, ``--only NAME`` to measure one scenario).  The depth runs check the
invariants for 60 seconds with each engine, BMC and explicit search, and
report the deepest depth completed.  Each measurement runs in a child process so its peak memory (max RSS)
is its own.  Figures depend on the machine; docs/benchmarks.md records one run.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import sys
import time

from spec.scenario import builtin_names, load_builtin, parse

# Two Ps and four goroutines: the size the BMC depth target is stated for.
P2_G4 = """
name = "bench-p2-g4"
gomaxprocs = 2
[model]
timeslice_ticks = 2
bound = 6
[[goroutine]]
name = "sleeper"
count = 3
body = [{ loop = ["sleep 2"] }]
[[goroutine]]
name = "spinner"
body = [{ loop = ["compute"] }]
"""

REAL_SIZE = """
name = "bench-real-size"
gomaxprocs = 4
[model]
runq_size = 256
timeslice_ticks = 10
bound = 100
[[goroutine]]
name = "hog"
count = 4
body = [{ loop = ["compute", "call", "range-map"] }]
[[goroutine]]
name = "yielder"
count = 6
body = [{ loop = ["compute", "gosched"] }]
[[goroutine]]
name = "sleeper"
count = 10
body = [{ loop = ["call", "sleep 3"] }]
[[goroutine]]
name = "ping"
body = [{ loop = ["send a", "recv b"] }]
[[goroutine]]
name = "pong"
body = [{ loop = ["recv a", "send b"] }]
[[goroutine]]
name = "sys"
count = 4
body = [{ loop = ["call", "syscall 2"] }]
[[goroutine]]
name = "spawner"
body = [{ loop = ["go worker", "compute"], times = 10 }]
[[goroutine]]
name = "worker"
count = 10
start = false
body = ["compute", "call"]
[[goroutine]]
name = "gcer"
body = [{ loop = ["compute", "gc", "sleep 5"] }]
"""


def scenario(name):
    """Return a built-in scenario, or one of the benchmark's own sizes."""
    if name == "bench-p2-g4":
        return parse(P2_G4, "bench-p2-g4")
    return load_builtin(name)


def _verdict_job(name, profile, out):
    from checker import bmc
    from checker.cli import exit_code, verdict_word
    from spec.sched.model import build_model
    sc = scenario(name)
    t = time.monotonic()
    model = build_model(sc, profile)
    res = bmc.check(model, model.properties, sc.sizes.max_depth, 600)
    lengths = [r.depth for r in res if r.verdict == "violated"]
    out.put({"verdict": verdict_word(exit_code(res)), "depth": sc.sizes.max_depth,
             "cex": min(lengths) if lengths else None, "seconds": time.monotonic() - t,
             "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def _depth_job(name, profile, seconds, engine, out):
    from checker.cli import engine_check
    from spec.sched.model import build_model
    model = build_model(scenario(name), profile)
    reached = {"depth": 0, "states": None}

    def progress(depth, _max, _pending, _s, states=None):
        reached["depth"] = depth
        reached["states"] = states

    props = [p for p in model.properties if p.kind == "invariant"]
    results = engine_check(engine)(model, props, 10_000, seconds, progress)
    # A search that proves every invariant stops early: its depth is the diameter.
    proved = all(r.verdict == "proved" for r in results)
    out.put({"depth": reached["depth"], "states": reached["states"], "proved": proved,
             "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def _first_cex_job(out):
    from checker import bmc
    from spec.sched.model import build_model
    t = time.monotonic()
    model = build_model(load_builtin("tight-loop-p1"), "go1.13")
    res = bmc.check(model, [model.property("starvation"), model.property("bounded-wait")], 30, 60)
    out.put({"seconds": time.monotonic() - t, "lengths": [r.depth for r in res]})


def _machine_job(steps, out):
    from hypothesis import HealthCheck, settings
    from hypothesis.stateful import run_state_machine_as_test
    from checker.statemachine import machine_for
    from spec.sched.model import build_model
    t = time.monotonic()
    taken = [0]

    def count(_rule):
        taken[0] += 1

    Machine = machine_for(build_model(parse(REAL_SIZE, "bench-real-size"), "go1.27"), on_rule=count)
    setup = time.monotonic() - t
    t = time.monotonic()
    # Hypothesis may end a run before stateful_step_count, so the steps taken are counted.
    for _ in range(3):
        run_state_machine_as_test(Machine, settings=settings(
            max_examples=1, stateful_step_count=steps, deadline=None, database=None,
            suppress_health_check=list(HealthCheck)))
    spent = time.monotonic() - t
    out.put({"steps": taken[0], "seconds": spent, "steps_per_s": taken[0] / spent, "setup_s": setup,
             "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def run(job, *args):
    out = mp.Queue()
    p = mp.Process(target=job, args=(*args, out))
    p.start()
    p.join()
    return out.get() if not out.empty() else {"error": f"exit code {p.exitcode}"}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m checker.bench")
    ap.add_argument("--quick", action="store_true", help="skip the 60 s depth runs")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--only", action="append", metavar="NAME",
                    help="measure only this scenario (repeatable; bench-p2-g4 is the depth target's size)")
    args = ap.parse_args(argv)
    names = builtin_names() + ["bench-p2-g4"]
    for name in args.only or ():
        if name not in names:
            ap.error(f"--only: no scenario {name!r}; choose from {', '.join(names)}")
    figures = {}

    r = run(_first_cex_job)
    figures["first_cex"] = r
    print(f"tight-loop-p1 go1.13: minimal counterexamples {r.get('lengths')} in {r.get('seconds', 0):.2f} s "
          f"(target: 2 s)", file=sys.stderr)

    rows = []
    for name in args.only or names:
        sc = scenario(name)
        row = {"scenario": name, "profile": sc.profile, "gomaxprocs": sc.gomaxprocs}
        row.update(run(_verdict_job, name, sc.profile))
        depths = ""
        if not args.quick:
            for engine in ("bmc", "explicit"):
                d = run(_depth_job, name, sc.profile, 60.0, engine)
                row[f"{engine}_60s"] = d
                depths += (f"  {engine} in 60 s: depth {d.get('depth')}" + (" (proved)" if d.get("proved") else "")
                           + (f", {d['states']} states" if d.get("states") else "") + f", {d.get('rss_mib', 0):.0f} MiB")
        rows.append(row)
        print(f"{name:24} {sc.profile:7} P={sc.gomaxprocs} {row.get('verdict', row.get('error'))!s:16} "
              f"cex={row.get('cex')!s:5} {row.get('seconds', 0):6.1f} s {row.get('rss_mib', 0):6.0f} MiB"
              + depths, file=sys.stderr)
    figures["scenarios"] = rows

    m = run(_machine_job, 2000)
    figures["state_machine"] = m
    print(f"state machine at real size (4 Ps, 48 Gs, runq 256): {m.get('steps_per_s', 0):.0f} steps/s, "
          f"{m.get('rss_mib', 0):.0f} MiB (target: 2,000 steps/s)", file=sys.stderr)
    if args.json:
        print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
