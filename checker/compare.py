"""``gmpcheck compare``: check a scenario with and without a patch and tabulate what changed.

Exit codes: 1 when the patch breaks a property that held before, 3 when a run
ended with ``unknown`` and none broke, 0 otherwise, 2 for invalid input.
"""

from __future__ import annotations

import copy
import json
import sys
import time
from pathlib import Path

from checker.cli import (EXIT_HOLDS, EXIT_UNKNOWN, EXIT_VIOLATED, UsageError, check_map_options,
                         out_dir_from_args, progress_printer, properties_from_args, result_entry, run_engine,
                         scenario_from_args)
from checker.patchcheck import explore_patched
from spec.patch import load_patch


def cmd_compare(args) -> int:
    """Check the scenario with and without the patch; exit 1 when the patch breaks a property that held."""
    from spec.maps import scenario as map_scenario
    if args.scenario and map_scenario.is_map_scenario(args.scenario):
        try:
            return compare_map(args)
        except map_scenario.MapScenarioError as e:
            raise UsageError(str(e)) from None
    return compare_sched(args)


def compare_sched(args) -> int:
    from checker import bmc
    from spec.sched.model import build_model

    sc = scenario_from_args(args)
    out_dir = out_dir_from_args(args)
    patch = load_patch(args.patch)
    apo = args.asyncpreemptoff or sc.asyncpreemptoff
    before_model = build_model(sc, args.profile, apo)
    after_model = build_model(sc, args.profile, apo, [patch])
    props = properties_from_args(args, before_model)
    explore_patched(after_model)
    depth = sc.sizes.max_depth
    label = before_model.profile.label()
    if not args.json:
        print(f"scenario {sc.name} ({sc.path}), profile {label}, GOMAXPROCS={sc.gomaxprocs}, depth {depth}")
        print(f"patch {patch.name}: {patch.description}")

    t0 = time.monotonic()
    before = run_engine(args.engine, before_model, props, depth, args.timeout, progress_printer(args, "before"))
    after = run_engine(args.engine, after_model, [after_model.property(p.name) for p in props], depth,
                       args.timeout, progress_printer(args, "after"))
    waits = {}
    if any(p.name == "bounded-wait" for p in props):
        # The worst-case wait needs wait counters that cannot saturate within the depth.
        wide = copy.deepcopy(sc)
        wide.sizes.bound = max(depth, wide.sizes.bound)
        for key, patches in (("before", []), ("after", [patch])):
            if not args.quiet:
                print(f"{key}: searching for the worst-case wait", file=sys.stderr, flush=True)
            waits[key] = bmc.worst_wait(build_model(wide, args.profile, apo, patches), depth, args.timeout)

    rows = [row(b, a, result_entry(after_model, a, out_dir) if a.verdict == "violated" else None)
            for b, a in zip(before, after)]
    starves = {key: any(r.property == "starvation" and r.verdict == "violated" for r in results)
               for key, results in (("before", before), ("after", after))}
    code = exit_code(rows)
    if args.json:
        doc = {"scenario": sc.name, "path": sc.path, "kind": "scheduler", "profile": before_model.profile.name,
               "options": {"asyncpreemptoff": before_model.profile.asyncpreemptoff},
               "patch": patch_doc(patch), "engine": args.engine,
               "max_depth": depth, "bound": sc.sizes.bound, "properties": rows,
               "worst_case_wait": {k: {"ticks": w.ticks, "verdict": w.verdict, "depth": w.depth,
                                       "unbounded": starves[k],
                                       "victim": None if w.victim is None else before_model.g_names[w.victim]}
                                   for k, w in waits.items()},
               "seconds": round(time.monotonic() - t0, 3), "exit_code": code}
        print(json.dumps(doc, indent=2))
        return code
    wait_cells = {}
    for key, w in waits.items():
        # A starvation lasso repeats forever, so the wait it shows has no bound;
        # the figure found within the depth would understate it.
        wait_cells[key] = "unbounded (starvation)" if starves[key] else w.summary()
    print_table(rows, depth, wait_cells)
    return code


def compare_map(args) -> int:
    from checker import mapcheck
    from spec.maps.model import build_for
    from spec.maps.scenario import load

    check_map_options(args)
    sc = load(args.scenario)
    out_dir = out_dir_from_args(args)
    patch = load_patch(args.patch)
    before_model = build_for(sc, [], args.profile)
    after_model = build_for(sc, [patch], args.profile)
    if not args.properties and sc.properties:
        args.properties = list(sc.properties)  # the scenario's own list, as check uses
    props = properties_from_args(args, before_model)
    explore_patched(after_model)
    depth = sc.max_depth if args.max_depth is None else args.max_depth
    if not args.json:
        print(f"map scenario {sc.name} ({sc.path}), depth {depth}")
        print(f"patch {patch.name}: {patch.description}")

    t0 = time.monotonic()
    before = mapcheck.run(args.engine, before_model, props, depth, args.timeout,
                          progress_printer(args, "before"))
    after = mapcheck.run(args.engine, after_model, [after_model.property(p.name) for p in props], depth,
                         args.timeout, progress_printer(args, "after"))
    text = Path(sc.path).read_text()
    rows = []
    for b, a in zip(before, after):
        entry = None
        if a.verdict == "violated":
            itf_path, text_path, _ = mapcheck.write_counterexample(after_model, sc, a, text, out_dir)
            entry = {"victim": None, "trace": str(itf_path), "narrative": str(text_path)}
        rows.append(row(b, a, entry))
    code = exit_code(rows)
    if args.json:
        doc = {"scenario": sc.name, "path": sc.path, "kind": "map", "patch": patch_doc(patch),
               "engine": args.engine, "max_depth": depth, "properties": rows, "worst_case_wait": {},
               "seconds": round(time.monotonic() - t0, 3), "exit_code": code}
        print(json.dumps(doc, indent=2))
        return code
    print_table(rows, depth, {})
    return code


def patch_doc(patch) -> dict:
    return {"name": patch.name, "description": patch.description, "source": patch.source}


def row(before, after, entry) -> dict:
    """Build one property's row of the comparison; ``entry`` describes the counterexample written, if any."""
    # "proved" is "holds" for every depth, so a proof before also counts as holding.
    breaks = before.verdict in ("holds", "proved") and after.verdict == "violated"
    return {"property": before.property, "before": before.verdict, "after": after.verdict,
            "before_summary": before.summary(), "after_summary": after.summary(),
            "breaks": breaks, "counterexample_length": after.depth if after.verdict == "violated" else None,
            "victim": entry["victim"] if entry else None,
            "trace": entry["trace"] if entry else None,
            "narrative": entry["narrative"] if entry else None}


def exit_code(rows) -> int:
    if any(r["breaks"] for r in rows):
        return EXIT_VIOLATED
    if any("unknown" in (r["before"], r["after"]) for r in rows):
        return EXIT_UNKNOWN
    return EXIT_HOLDS


def print_table(rows, depth: int, wait_cells: dict) -> None:
    """Print the comparison as aligned columns, then one line per broken property and the verdict."""
    short = {"holds": f"holds to {depth}", "proved": "proved", "violated": "violated", "unknown": "unknown"}
    table = [["property", "before", "after", "counterexample (after)"]]
    for r in rows:
        cex = f"{r['trace']} ({r['counterexample_length']} steps)" if r["trace"] else "-"
        table.append([r["property"], short[r["before"]], short[r["after"]], cex])
    if wait_cells:
        table.append(["worst-case wait", wait_cells["before"], wait_cells["after"], ""])
    widths = [max(len(line[i]) for line in table) for i in range(3)]
    for line in table:
        cells = [f"{cell:{w}}" for cell, w in zip(line, widths)] + [line[3]]
        print("  ".join(cells).rstrip())
    for r in rows:
        if r["breaks"]:
            print(f"the patch breaks {r['property']}" + (f" (victim: {r['victim']})" if r["victim"] else ""))
    broken = any(r["breaks"] for r in rows)
    undecided = any("unknown" in (r["before"], r["after"]) for r in rows)
    print("verdict: " + ("the patch breaks a property that held" if broken else
                         "undecided: a run ended with unknown" if undecided else
                         "the patch breaks no property that held, to the depth checked"))
