"""The gmpcheck command line: check, list, replay, render, explain.

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

from spec.scenario import (DEFAULT_SCENARIO, PROFILES, ScenarioError, builtin_names, load_builtin,
                           resolve)

EXIT_HOLDS, EXIT_VIOLATED, EXIT_ERROR, EXIT_UNKNOWN = 0, 1, 2, 3
DEFAULT_OUT = "gmpcheck-out"


class UsageError(Exception):
    """An invalid option value: the message names the option and the fix."""


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="gmpcheck", description=(
        "Check a formal model of the Go scheduler by bounded model checking in z3."))
    sub = ap.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", help="check a scenario's properties")
    c.add_argument("scenario", nargs="?", help=f"built-in name or TOML file (default: {DEFAULT_SCENARIO})")
    c.add_argument("--property", action="append", dest="properties", metavar="NAME",
                   help="property to check (repeatable; default: all)")
    c.add_argument("--profile", choices=PROFILES, help="runtime profile (default: the scenario's)")
    c.add_argument("--asyncpreemptoff", action="store_true", help="GODEBUG=asyncpreemptoff=1")
    c.add_argument("--max-depth", type=int, metavar="N", help="BMC depth in steps (default: the scenario's)")
    c.add_argument("--bound", type=int, metavar="D", help="D of bounded-wait, in ticks (default: the scenario's)")
    c.add_argument("--timeout", type=float, default=600.0, metavar="S", help="time limit in seconds (default 600)")
    c.add_argument("--out", metavar="DIR", default=DEFAULT_OUT,
                   help=f"directory for counterexamples (default: {DEFAULT_OUT})")
    c.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    c.add_argument("--quiet", action="store_true", help="no progress on stderr")

    sub.add_parser("list", help="list the built-in scenarios")

    r = sub.add_parser("replay", help="re-execute a stored ITF trace on the current model")
    r.add_argument("trace", help="an ITF JSON file written by gmpcheck check")

    from checker.render import FORMATS
    v = sub.add_parser("render", help="draw a stored ITF trace: narrative, schedtrace, timeline, graphs, HTML")
    v.add_argument("trace", help="an ITF JSON file written by gmpcheck check")
    v.add_argument("--format", default="text", metavar="FORMAT",
                   help=f"one of {', '.join(FORMATS)} (default: text)")
    v.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")

    e = sub.add_parser("explain", help="explain each step of a stored ITF trace and why its rule was enabled")
    e.add_argument("trace", help="an ITF JSON file written by gmpcheck check")
    e.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    return ap


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
        return cmd_check(args)
    except (ScenarioError, UsageError) as e:
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
    return EXIT_HOLDS


def cmd_check(args) -> int:
    from checker import bmc
    from checker.cfg import missing_yield_points
    from checker.trace import narrative, to_itf, write_atomic
    from spec.sched.model import build_model

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
    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out: {out_dir} exists and is not a directory; give a directory path")

    apo = args.asyncpreemptoff or sc.asyncpreemptoff
    model = build_model(sc, args.profile, apo)
    names = args.properties or [p.name for p in model.properties]
    known = [p.name for p in model.properties]
    for n in names:
        if n not in known:
            raise UsageError(f"--property: unknown property {n!r}; known properties are {', '.join(known)}")
    props = [model.property(n) for n in names]

    static = missing_yield_points(sc, model.profile)
    header = (f"scenario {sc.name} ({sc.path})\nprofile {model.profile.label()}, GOMAXPROCS={sc.gomaxprocs}, "
              f"{len(model.g_names)} goroutines ({', '.join(model.g_names)}), "
              f"{len(model.rules)} rule instances, {model.layout.size} state slots")
    if not args.json:
        print(header)
        for m in static:
            print(f"missing yield point: {m.message()}")
        if not static:
            print(f"missing yield points: none under {model.profile.label()}")

    def progress(depth, max_depth, pending, seconds):
        if not args.quiet:
            print(f"bmc: depth {depth}/{max_depth} checked, {seconds:.1f} s"
                  + (f", open: {', '.join(pending)}" if pending else ""), file=sys.stderr, flush=True)

    t0 = time.monotonic()
    results = bmc.check(model, props, sc.sizes.max_depth, args.timeout, progress)
    sizes = {"max_depth": sc.sizes.max_depth, "bound": sc.sizes.bound}
    text = sc.text
    report = []
    for res in results:
        entry = {"name": res.property, "verdict": res.verdict, "bound": res.depth, "engine": res.engine,
                 "seconds": round(res.seconds, 3), "counterexample_length": None, "trace": None,
                 "narrative": None, "loop": res.loop,
                 "victim": None if res.victim is None else model.g_names[res.victim]}
        if res.verdict == "unknown":
            entry["reason"] = res.reason
        if res.verdict == "violated":
            stem = f"{sc.name}.{model.profile.name}{'-asyncpreemptoff' if model.profile.asyncpreemptoff else ''}.{res.property}"
            itf_path, txt_path = out_dir / f"{stem}.itf.json", out_dir / f"{stem}.txt"
            itf = to_itf(model, res, text, sizes)
            prop = model.property(res.property)
            head = f"# {sc.name}, profile {model.profile.label()}: {res.property} {res.summary()}\n# {prop.doc}"
            if res.victim is not None:
                head += f"\n# victim: {model.g_names[res.victim]}"
            write_atomic(itf_path, json.dumps(itf, indent=1) + "\n")
            write_atomic(txt_path, narrative(model, res.trace, res.loop, head))
            from checker.render import check_views
            for suffix, view_text in check_views(model, itf, str(itf_path)).items():
                write_atomic(out_dir / f"{stem}{suffix}", view_text)
            entry.update(counterexample_length=res.depth, trace=str(itf_path), narrative=str(txt_path))
        report.append(entry)

    code = exit_code(results)
    if args.json:
        doc = {"scenario": sc.name, "path": sc.path, "profile": model.profile.name,
               "options": {"asyncpreemptoff": model.profile.asyncpreemptoff}, "gomaxprocs": sc.gomaxprocs,
               "max_depth": sc.sizes.max_depth, "bound": sc.sizes.bound,
               "missing_yield_points": [m.message() for m in static],
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
            if entry["trace"]:
                print(f"{'':{width}}  trace: {entry['trace']}  narrative: {entry['narrative']}")
        print(f"verdict: {verdict_word(code)}")
    return code


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
