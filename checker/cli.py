"""The gmpcheck command line: check, compare, list, patches, replay, render, explain.

Results go to stdout (text, or one JSON document with --json); progress during
deepening goes to stderr.  Exit codes: 0 holds, 1 violated, 2 invalid input,
3 unknown (solver unknown or time limit).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from checker.extract import ExtractError
from spec.patch import PatchError, builtin_patches, load_patch
from spec.scenario import (DEFAULT_SCENARIO, PROFILES, ScenarioError, builtin_names, load_builtin,
                           resolve)

EXIT_HOLDS, EXIT_VIOLATED, EXIT_ERROR, EXIT_UNKNOWN = 0, 1, 2, 3
DEFAULT_OUT = "gmpcheck-out"
ENGINES = ("bmc", "explicit")


class UsageError(Exception):
    """An invalid option value: the message names the option and the fix."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, as every other error of gmpcheck is."""

    def error(self, message: str):
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}; see {self.prog} --help\n")


def build_parser() -> argparse.ArgumentParser:
    ap = Parser(prog="gmpcheck", description=(
        "Check a formal model of the Go scheduler by bounded model checking in z3."))
    sub = ap.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", help="check a scenario's properties")
    c.add_argument("scenario", nargs="?", help=f"built-in name or TOML file (default: {DEFAULT_SCENARIO})")
    c.add_argument("--property", action="append", dest="properties", metavar="NAME",
                   help="property to check (repeatable; default: all)")
    c.add_argument("--profile", choices=PROFILES, help="runtime profile (default: the scenario's)")
    c.add_argument("--asyncpreemptoff", action="store_true", help="GODEBUG=asyncpreemptoff=1")
    c.add_argument("--max-depth", type=int, metavar="N", help="search depth in steps (default: the scenario's)")
    c.add_argument("--bound", type=int, metavar="D", help="D of bounded-wait, in ticks (default: the scenario's)")
    c.add_argument("--timeout", type=float, default=600.0, metavar="S", help="time limit in seconds (default 600)")
    c.add_argument("--engine", choices=ENGINES, default="bmc",
                   help="bmc: bounded model checking in z3; explicit: breadth-first search of the concrete "
                        "states, which proves a property when the reachable states run out")
    c.add_argument("--out", metavar="DIR", default=DEFAULT_OUT,
                   help=f"directory for counterexamples (default: {DEFAULT_OUT})")
    c.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    c.add_argument("--quiet", action="store_true", help="no progress on stderr")

    c.add_argument("--patch", action="append", dest="patches", metavar="NAME|FILE", default=[],
                   help="apply a built-in patch or a patch file (repeatable; see gmpcheck patches)")
    add_go_options(c)

    x = sub.add_parser("extract", help="translate a Go program into a scenario and print its TOML")
    x.add_argument("program", help="a Go source file")
    x.add_argument("--profile", choices=PROFILES, help="profile written into the scenario (default: go1.19)")
    x.add_argument("-o", "--output", metavar="FILE", help="write the TOML to FILE instead of stdout")
    x.add_argument("--quiet", action="store_true", help="no warnings or notes on stderr")
    add_go_options(x)

    k = sub.add_parser("compare", help="check a scenario with and without a patch and compare the verdicts")
    k.add_argument("scenario", nargs="?", help=f"built-in name or TOML file (default: {DEFAULT_SCENARIO})")
    k.add_argument("--patch", required=True, metavar="NAME|FILE", help="built-in patch name or patch file")
    k.add_argument("--property", action="append", dest="properties", metavar="NAME",
                   help="property to compare (repeatable; default: all)")
    k.add_argument("--profile", choices=PROFILES, help="runtime profile (default: the scenario's)")
    k.add_argument("--asyncpreemptoff", action="store_true", help="GODEBUG=asyncpreemptoff=1")
    k.add_argument("--max-depth", type=int, metavar="N", help="search depth in steps (default: the scenario's)")
    k.add_argument("--bound", type=int, metavar="D", help="D of bounded-wait, in ticks (default: the scenario's)")
    k.add_argument("--timeout", type=float, default=600.0, metavar="S",
                   help="time limit in seconds for each of the four runs (default 600)")
    k.add_argument("--engine", choices=ENGINES, default="bmc",
                   help="engine for the verdicts (the worst-case wait is always found by bmc)")
    k.add_argument("--out", metavar="DIR", default=DEFAULT_OUT,
                   help=f"directory for counterexamples (default: {DEFAULT_OUT})")
    k.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    k.add_argument("--quiet", action="store_true", help="no progress on stderr")

    sub.add_parser("patches", help="list the built-in patches")
    sub.add_parser("list", help="list the built-in scenarios")

    r = sub.add_parser("replay", help="re-execute a stored ITF trace on the current model")
    r.add_argument("trace", help="an ITF JSON file written by gmpcheck check")

    from checker.render import FORMATS
    v = sub.add_parser("render", help="draw a stored ITF trace: narrative, schedtrace, timeline, graphs, HTML")
    v.add_argument("trace", help="an ITF JSON file written by gmpcheck check")
    v.add_argument("--format", default="text", metavar="FORMAT",
                   help=f"one of {', '.join(FORMATS)} (default: text)")
    v.add_argument("--step", type=int, metavar="N",
                   help="with --format layout: draw only state N of a map trace (default: every state)")
    v.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")

    e = sub.add_parser("explain", help="explain each step of a stored ITF trace and why its rule was enabled")
    e.add_argument("trace", help="an ITF JSON file written by gmpcheck check")
    e.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    return ap


def add_go_options(sub) -> None:
    """Add the options that control extraction from a Go file."""
    sub.add_argument("--entry", metavar="NAME", help="Go function to start from (default: main)")
    sub.add_argument("--gomaxprocs", type=int, metavar="N",
                     help="GOMAXPROCS of the model (default: the program's constant runtime.GOMAXPROCS call, else 2)")
    sub.add_argument("--no-go", action="store_true",
                     help="do not run the Go compiler; guess inlining by rule of thumb")


def main(argv=None) -> int:
    logging.basicConfig(level=logging.WARNING, format="gmpcheck: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        if args.command == "list":
            return cmd_list()
        if args.command == "replay":
            return cmd_replay(args)
        if args.command in ("render", "explain"):
            from checker.render.cli import cmd_render
            return cmd_render(args)
        if args.command == "patches":
            return cmd_patches()
        if args.command == "compare":
            from checker.compare import cmd_compare
            return cmd_compare(args)
        if args.command == "extract":
            return cmd_extract(args)
        return cmd_check(args)
    except ExtractError as e:
        print(e, file=sys.stderr)
        return EXIT_ERROR
    except (ScenarioError, UsageError, PatchError) as e:
        print(f"gmpcheck: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as e:  # noqa: BLE001 - trace errors are reported the same way
        from checker.trace import TraceError
        if isinstance(e, TraceError):
            print(f"gmpcheck: error: {e}", file=sys.stderr)
            return EXIT_ERROR
        raise


def cmd_list() -> int:
    for name in builtin_names():
        sc = load_builtin(name)
        exp = ", ".join(f"{k}: {v}" for k, v in sc.expect.items())
        print(f"{name:24} GOMAXPROCS={sc.gomaxprocs} profile={sc.profile}  {sc.description}")
        if exp:
            print(f"{'':24} expected (real Go): {exp}")
    from spec.maps import scenario as map_scenario
    for name in map_scenario.builtin_names():
        sc = map_scenario.load(name)
        shape = (f"map, {sc.writers.memory} memory, two writers" if sc.writers is not None
                 else f"map, bucketCnt={sc.config.slots}")
        print(f"{name:24} {shape}  {sc.description}")
    return EXIT_HOLDS


def cmd_check(args) -> int:
    from checker import bmc
    from checker.cfg import missing_yield_points
    from checker.patchcheck import explore_patched
    from spec.sched.model import build_model

    from spec.maps import scenario as map_scenario
    if args.scenario and map_scenario.is_map_scenario(args.scenario):
        from checker import mapcheck
        check_map_options(args)
        try:
            return mapcheck.check(args.scenario, [load_patch(ref) for ref in args.patches], args.properties,
                                  args.max_depth, args.timeout, out_dir_from_args(args), args.json, args.quiet,
                                  args.profile, args.engine)
        except map_scenario.MapScenarioError as e:
            raise UsageError(str(e)) from None

    sc = scenario_from_args(args)
    out_dir = out_dir_from_args(args)
    patches = [load_patch(ref) for ref in args.patches]
    apo = args.asyncpreemptoff or sc.asyncpreemptoff
    model = build_model(sc, args.profile, apo, patches)
    props = properties_from_args(args, model)
    explore_patched(model)

    static = missing_yield_points(sc, model.profile)
    from checker.findings import missing_yield_point_line, victim_lines
    findings = [missing_yield_point_line(sc, m) or f"missing yield point: {m.message()}" for m in static]
    header = (f"scenario {sc.name} ({sc.path})\nprofile {model.profile.label()}, GOMAXPROCS={sc.gomaxprocs}, "
              f"{len(model.g_names)} goroutines ({', '.join(model.g_names)}), "
              f"{len(model.rules)} rule instances, {model.layout.size} state slots")
    for patch in patches:
        header += f"\npatch {patch.name}: {patch.description}"
    if not args.json:
        print(header)
        for line in findings:
            print(line)
        if not static:
            print(f"missing yield points: none under {model.profile.label()}")

    t0 = time.monotonic()
    results = run_engine(args.engine, model, props, sc.sizes.max_depth, args.timeout, progress_printer(args))
    report = [result_entry(model, res, out_dir) for res in results]

    code = exit_code(results)
    for entry in report:
        if entry["victim"]:
            entry["source"] = victim_lines(sc, entry["name"], entry["victim"], static)
    if args.json:
        doc = {"scenario": sc.name, "path": sc.path, "profile": model.profile.name,
               "options": {"asyncpreemptoff": model.profile.asyncpreemptoff}, "gomaxprocs": sc.gomaxprocs,
               "patches": [p.name for p in patches],
               "max_depth": sc.sizes.max_depth, "bound": sc.sizes.bound,
               "missing_yield_points": [m.message() for m in static], "findings": findings,
               "properties": report, "seconds": round(time.monotonic() - t0, 3), "exit_code": code}
        print(json.dumps(doc, indent=2))
    else:
        width = max(len(r.property) for r in results)
        for res, entry in zip(results, report):
            extra = ""
            if res.property == "bounded-wait":
                extra = f" [D={sc.sizes.bound} ticks]"
            print(f"{res.property:{width}}  {res.summary()}{extra}")
            if entry["victim"]:
                print(f"{'':{width}}  victim: {entry['victim']}")
                for line in entry.get("source", []):
                    print(f"{'':{width}}  {line}")
            if entry["trace"]:
                print(f"{'':{width}}  trace: {entry['trace']}  narrative: {entry['narrative']}")
                print(f"{'':{width}}  pictures: {', '.join(Path(p).name for p in entry['pictures'])}")
        word = "proved" if results and all(r.verdict == "proved" for r in results) else verdict_word(code)
        print(f"verdict: {word}")
    return code


def scenario_from_args(args):
    """Load the scenario (or extract it from a Go file) and apply --max-depth, --bound and --timeout."""
    if args.scenario and args.scenario.endswith(".go"):
        from spec.scenario import parse
        ex = extract_from_args(args, args.scenario, getattr(args, "profile", None))
        sc = parse(ex.toml, f"{args.scenario} (extracted)")
    else:
        for opt in ("entry", "gomaxprocs"):
            if getattr(args, opt, None) is not None:
                raise UsageError(f"--{opt}: applies to a Go file only; give a .go file or drop the option")
        sc = resolve(args.scenario)
    if args.max_depth is not None:
        if args.max_depth < 1:
            raise UsageError(f"--max-depth: must be at least 1, got {args.max_depth}")
        sc.sizes.max_depth = args.max_depth
    if args.bound is not None:
        if args.bound < 1:
            raise UsageError(f"--bound: must be at least 1 tick, got {args.bound}")
        sc.sizes.bound = args.bound
    if args.timeout <= 0:
        raise UsageError(f"--timeout: must be positive, got {args.timeout}")
    return sc


def check_map_options(args) -> None:
    """Reject the options that a map scenario has no use for, and invalid search limits."""
    for flag, is_set in (("--bound", args.bound is not None), ("--asyncpreemptoff", args.asyncpreemptoff),
                        ("--entry", getattr(args, "entry", None) is not None),
                        ("--gomaxprocs", getattr(args, "gomaxprocs", None) is not None)):
        if is_set:
            raise UsageError(f"{flag}: applies to scheduler scenarios only; {args.scenario} is a map "
                             f"scenario, so drop {flag}")
    if args.max_depth is not None and args.max_depth < 1:
        raise UsageError(f"--max-depth: must be at least 1, got {args.max_depth}")
    if args.timeout <= 0:
        raise UsageError(f"--timeout: must be positive, got {args.timeout}")


def extract_from_args(args, program: str, profile):
    """Extract a scenario from a Go file; warnings and notes go to stderr unless --quiet."""
    from checker.extract import extract
    ex = extract(program, getattr(args, "entry", None) or "main", profile, getattr(args, "gomaxprocs", None),
                 not getattr(args, "no_go", False))
    if not getattr(args, "quiet", False):
        for w in ex.warnings:
            print(w, file=sys.stderr)
        for n in ex.notes:
            print(f"gmpcheck: note: {n}", file=sys.stderr)
    return ex


def cmd_extract(args) -> int:
    """Print (or write with -o) the scenario TOML extracted from a Go file."""
    ex = extract_from_args(args, args.program, args.profile)
    if args.output:
        from checker.trace import write_atomic
        out = Path(args.output)
        if out.is_dir():
            raise UsageError(f"-o: {out} is a directory; give a file path")
        write_atomic(out, ex.toml)
    else:
        sys.stdout.write(ex.toml)
    return EXIT_HOLDS


def out_dir_from_args(args) -> Path:
    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out: {out_dir} exists and is not a directory; give a directory path")
    return out_dir


def properties_from_args(args, model):
    names = args.properties or [p.name for p in model.properties]
    known = [p.name for p in model.properties]
    for n in names:
        if n not in known:
            raise UsageError(f"--property: unknown property {n!r}; known properties are {', '.join(known)}")
    return [model.property(n) for n in names]


def progress_printer(args, prefix=None):
    """Return a progress callback that prints at most one line a second, and the last depth."""
    prefix = prefix or getattr(args, "engine", "bmc")
    last = [-1.0]

    def progress(depth, max_depth, pending, seconds, states=None):
        if seconds - last[0] < 1.0 and depth < max_depth and pending:
            return
        last[0] = seconds
        if not args.quiet:
            print(f"{prefix}: depth {depth}/{max_depth} checked, {seconds:.1f} s"
                  + (f", {states} states" if states is not None else "")
                  + (f", open: {', '.join(pending)}" if pending else ""), file=sys.stderr, flush=True)
    return progress


def run_engine(name: str, model, props, max_depth: int, timeout: float, progress):
    """Check ``props`` with engine ``name``; a model the engine cannot search is a usage error."""
    from checker import explicit
    try:
        return engine_check(name)(model, props, max_depth, timeout, progress)
    except explicit.EngineError as e:
        raise UsageError(f"--engine {name}: {e}") from None


def engine_check(name: str):
    """Return the check function of engine ``name``: ``f(model, props, max_depth, timeout_s, progress)``."""
    if name == "explicit":
        from checker import explicit
        return explicit.check
    from checker import bmc
    return bmc.check


def trace_stem(model, prop: str) -> str:
    """File name stem of a counterexample: scenario, profile, options, patches, property."""
    stem = f"{model.scenario.name}.{model.profile.name}"
    if model.profile.asyncpreemptoff:
        stem += "-asyncpreemptoff"
    for patch in model.patches:
        stem += f".patch-{patch.name}"
    return f"{stem}.{prop}"


def result_entry(model, res, out_dir: Path) -> dict:
    """Report one property's result; a counterexample is written to ``out_dir`` as ITF and text."""
    from checker.trace import narrative, to_itf, trace_header, write_atomic
    sc = model.scenario
    entry = {"name": res.property, "verdict": res.verdict, "bound": res.depth, "engine": res.engine,
             "seconds": round(res.seconds, 3), "counterexample_length": None, "trace": None,
             "narrative": None, "pictures": [], "loop": res.loop,
             "victim": None if res.victim is None else model.g_names[res.victim]}
    if res.verdict == "unknown":
        entry["reason"] = res.reason
    if res.verdict == "violated":
        stem = trace_stem(model, res.property)
        itf_path, txt_path = out_dir / f"{stem}.itf.json", out_dir / f"{stem}.txt"
        sizes = {"max_depth": sc.sizes.max_depth, "bound": sc.sizes.bound}
        itf = to_itf(model, res, sc.text, sizes)
        write_atomic(itf_path, json.dumps(itf, indent=1) + "\n")
        write_atomic(txt_path, narrative(model, res.trace, res.loop, trace_header(model, res)))
        from checker.render import check_views
        views = check_views(model, itf, str(itf_path))
        for suffix, view_text in views.items():
            write_atomic(out_dir / f"{stem}{suffix}", view_text)
        entry.update(counterexample_length=res.depth, trace=str(itf_path), narrative=str(txt_path),
                     pictures=[str(out_dir / f"{stem}{suffix}") for suffix in views])
    return entry


def cmd_patches() -> int:
    for name, patch in sorted(builtin_patches().items(), key=lambda kv: (kv[1].model, kv[0])):
        print(f"{name:22} {patch.model:6} {patch.description}")
    return EXIT_HOLDS


def exit_code(results) -> int:
    if any(r.verdict == "violated" for r in results):
        return EXIT_VIOLATED
    if any(r.verdict == "unknown" for r in results):
        return EXIT_UNKNOWN
    return EXIT_HOLDS


def verdict_word(code: int) -> str:
    return {EXIT_HOLDS: "holds (bounded)", EXIT_VIOLATED: "violated", EXIT_UNKNOWN: "unknown"}[code]


def cmd_replay(args) -> int:
    from checker.trace import replay
    rep = replay(args.trace)
    status = "valid path" if rep.valid else "invalid path"
    verdict = "still a violation" if rep.violated else "no longer a violation"
    print(f"{args.trace}: {status} of {rep.steps} steps; {verdict}: {rep.message}")
    return 0 if (rep.valid and rep.violated) else 1


if __name__ == "__main__":
    sys.exit(main())
