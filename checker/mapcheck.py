"""``gmpcheck check`` for map scenarios: BMC of a map model, verdicts and ITF traces.

The verdicts and exit codes are those of the scheduler scenarios: 0 every
property holds to the depth, 1 one is violated, 2 invalid input, 3 unknown.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from checker import bmc
from checker.maptrace import header, narrative
from checker.patchcheck import explore_patched
from checker.trace import ITF_DESCRIPTION, patch_refs, state_to_itf, write_atomic
from spec.maps.model import build_for
from spec.maps.scenario import load
from spec.maps.writers import diameter

EXIT_HOLDS, EXIT_VIOLATED, EXIT_ERROR, EXIT_UNKNOWN = 0, 1, 2, 3


def trace_stem(model, prop: str) -> str:
    """File name stem of a map counterexample: scenario, runtime (two-writer models), patches, property."""
    runtime = [model.config.profile] if model.kind == "map-writers" else []
    return ".".join([model.name] + runtime + [f"patch-{p.name}" for p in model.patches] + [prop])


def to_itf(model, sc, result, scenario_text: str) -> dict:
    states = []
    for i, (rule_index, st) in enumerate(result.trace):
        meta = {"index": i}
        if rule_index is not None:
            rule = model.rules[rule_index]
            meta.update({"rule": rule.name, "params": rule.params, "label": rule.label()})
        states.append({"#meta": meta, **state_to_itf(model, st)})
    return {
        "#meta": {"format": "ITF", "format-description": ITF_DESCRIPTION, "source": sc.path,
                  "description": f"counterexample to {result.property} in map scenario {sc.name}",
                  "tool": "gmpcheck", "kind": "map", "scenario": sc.name, "scenario_toml": scenario_text,
                  "property": result.property, "verdict": result.verdict, "length": result.depth,
                  "profile": getattr(model.config, "profile", "go1.19"),
                  "patches": patch_refs(model.patches)},
        "vars": list(model.layout.fields),
        "states": states,
    }


def run(engine: str, model, props, depth: int, timeout: float, progress) -> list:
    """Check ``props`` of a map model with ``engine`` (bmc or explicit)."""
    if engine == "explicit":
        from checker.cli import run_engine
        return run_engine(engine, model, props, depth, timeout, progress)
    # One depth per solver call: on map models, whose steps are large, this
    # finds counterexamples 2-3 times faster than checking four depths at once.
    return bmc.check(model, props, depth, timeout, progress, chunk=1)


def write_counterexample(model, sc, res, scenario_text: str, out_dir: Path) -> tuple[Path, Path, list[Path]]:
    """Write a violated result's ITF trace, narrative and pictures; return the paths of all three."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = trace_stem(model, res.property)
    itf_path = out_dir / f"{stem}.itf.json"
    text_path = out_dir / f"{stem}.txt"
    itf = to_itf(model, sc, res, scenario_text)
    write_atomic(itf_path, json.dumps(itf, indent=1) + "\n")
    write_atomic(text_path, narrative(model, res.trace, res.property, header(model, res.property, res.summary())))
    from checker.render import check_views
    pictures = []
    for suffix, view_text in check_views(model, itf, str(itf_path)).items():
        pictures.append(out_dir / f"{stem}{suffix}")
        write_atomic(pictures[-1], view_text)
    return itf_path, text_path, pictures


def check(ref: str, patches, properties, max_depth, timeout: float, out_dir: Path, as_json: bool,
          quiet: bool, profile: str | None = None, engine: str = "bmc") -> int:
    sc = load(ref)
    model = build_for(sc, patches, profile)
    names = properties or sc.properties or [p.name for p in model.properties]
    unknown = [n for n in names if n not in {p.name for p in model.properties}]
    if unknown:
        print(f"gmpcheck: error: --property: unknown property {unknown[0]!r}; this scenario has "
              f"{', '.join(p.name for p in model.properties)}", file=sys.stderr)
        return EXIT_ERROR
    props = [model.property(n) for n in names]
    depth = sc.max_depth if max_depth is None else max_depth
    explore_patched(model)

    last = [-1.0]

    def progress(d, md, pending, seconds, states=None):
        # At most one line a second, and always the last depth.
        if seconds - last[0] < 1.0 and d < md and pending:
            return
        last[0] = seconds
        if not quiet:
            print(f"{engine}: depth {d}/{md}, {len(pending)} pending, {seconds:.1f} s"
                  + (f", {states} states" if states is not None else ""), file=sys.stderr)

    t0 = time.monotonic()
    results = run(engine, model, props, depth, timeout, progress)
    report = []
    text = Path(sc.path).read_text()
    for res in results:
        entry = {"property": res.property, "verdict": res.verdict, "depth": res.depth,
                 "seconds": round(res.seconds, 3), "summary": res.summary(), "trace": None, "narrative": None,
                 "pictures": []}
        if res.verdict == "violated":
            itf_path, text_path, pictures = write_counterexample(model, sc, res, text, out_dir)
            entry["trace"], entry["narrative"] = str(itf_path), str(text_path)
            entry["pictures"] = [str(p) for p in pictures]
        report.append(entry)
    verdicts = {r.verdict for r in results}
    code = EXIT_HOLDS
    if "unknown" in verdicts:
        code = EXIT_UNKNOWN
    if "violated" in verdicts:
        code = EXIT_VIOLATED
    if as_json:
        print(json.dumps({"scenario": sc.name, "path": sc.path, "kind": "map",
                          "patches": [p.name for p in patches], "max_depth": depth, "properties": report,
                          "seconds": round(time.monotonic() - t0, 3), "exit_code": code}, indent=2))
        return code
    print(f"map scenario {sc.name} ({sc.path})\n{len(model.rules)} rule instances, "
          f"{model.layout.size} state slots")
    if sc.writers is not None:
        cfg = model.config
        print(f"two writers, {cfg.memory} memory, flag released as in {cfg.profile}; every run has at most "
              f"{diameter(cfg)} steps, so holds at depth {diameter(cfg)} covers them all")
    for patch in patches:
        print(f"patch {patch.name}: {patch.description}")
    width = max(len(r.property) for r in results)
    for res, entry in zip(results, report):
        print(f"{res.property:{width}}  {res.summary()}")
        if entry["trace"]:
            print(f"{'':{width}}  trace: {entry['trace']}  narrative: {entry['narrative']}")
            if entry["pictures"]:
                print(f"{'':{width}}  pictures: {', '.join(Path(p).name for p in entry['pictures'])}")
    word = ['holds (bounded)', 'violated', 'error', 'unknown'][code]
    if all(r.verdict == "proved" for r in results):
        word = "proved"
    print(f"verdict: {word}")
    return code
