"""Extract a scenario from a Go program: `gmpcheck extract prog.go` and `gmpcheck check prog.go`.

The Go file is parsed with tree-sitter-go, translated from its entry function
(checker/extract/translate.py) and written as scenario TOML that
spec/scenario.py loads like any other scenario.  Comments in the TOML give the
Go position of every goroutine and loop, and the ``[positions]`` table carries
the positions that findings are reported at.  docs/extract.md lists the
abstractions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import tree_sitter
import tree_sitter_go

from checker.extract.inlining import InlineInfo, ask_compiler
from checker.extract.translate import (MAX_TICKS, REAL_TIMESLICE_NS, ExtractError, Loop, Op,
                                       Translator, flatten)
from spec.scenario import PROFILES, ScenarioError, parse

__all__ = ["Extraction", "ExtractError", "extract"]

TIMESLICE_TICKS = 2
DEFAULT_GOMAXPROCS = 2
MAX_GOMAXPROCS = 8


@dataclass
class Extraction:
    toml: str
    name: str
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(tree_sitter.Language(tree_sitter_go.language()))


def _first_error(node):
    """Return the first ERROR or MISSING node in source order, or None."""
    if node.type == "ERROR" or node.is_missing:
        return node
    if not node.has_error:
        return None
    for c in node.children:
        found = _first_error(c)
        if found is not None:
            return found
    return node


def syntax_error(display: str, root) -> str | None:
    """Return a compiler-style one-line message for the first syntax error, or None."""
    bad = _first_error(root)
    if bad is None:
        return None
    line, col = bad.start_point[0] + 1, bad.start_point[1] + 1
    if bad.is_missing:
        return f"{display}:{line}:{col}: syntax error: expected {bad.type} here"
    snippet = " ".join(bad.text.decode("utf-8", errors="replace").split())[:30]
    return f"{display}:{line}:{col}: syntax error: unexpected {snippet!r}"


def package_error(display: str, root) -> str | None:
    """Return the compiler's complaint about a file that does not start with a package clause, or None."""
    first = next((c for c in root.named_children if c.type != "comment"), None)
    if first is not None and first.type == "package_clause":
        return None
    if first is None:
        return f"{display}:1:1: syntax error: expected 'package', found EOF (the file holds no Go code)"
    line, col = first.start_point[0] + 1, first.start_point[1] + 1
    word = first.text.decode("utf-8", errors="replace").split()[0] if first.text.strip() else first.type
    return f"{display}:{line}:{col}: syntax error: expected 'package', found {word!r}"


def extract(go_path: str, entry: str = "main", profile: str | None = None, gomaxprocs: int | None = None,
            use_go: bool = True) -> Extraction:
    """Translate ``go_path`` from function ``entry`` into scenario TOML.

    Raises ExtractError with one diagnostic line for a missing or unreadable
    file, a syntax error, a missing entry function or a program that starts
    no goroutine.
    """
    path = Path(go_path)
    display = go_path
    try:
        src = path.read_bytes()
    except FileNotFoundError:
        raise ExtractError(f"{display}: file not found; give the path of a Go source file") from None
    except OSError as e:
        raise ExtractError(f"{display}: cannot read the file: {e.strerror}") from None
    if profile is not None and profile not in PROFILES:
        raise ExtractError(f"--profile: unknown profile {profile!r}; use one of {', '.join(PROFILES)}")
    if gomaxprocs is not None and not 1 <= gomaxprocs <= MAX_GOMAXPROCS:
        raise ExtractError(f"--gomaxprocs: must be between 1 and {MAX_GOMAXPROCS}, got {gomaxprocs}")

    root = _parser().parse(src).root_node
    err = syntax_error(display, root) or package_error(display, root)
    if err is not None:
        raise ExtractError(err)

    if use_go:
        inline = ask_compiler(path)
    else:
        inline = InlineInfo(None, note="--no-go given")
    tr = Translator(display, root, inline, TIMESLICE_TICKS)
    main = tr.entry(entry)
    if len(tr.specs) == 1:
        raise ExtractError(f"{display}:{main.function[0]}:{main.function[1]}: func {entry} starts no "
                           f"goroutine (no go statement is reached), so there is nothing to schedule")

    notes = []
    if inline.guessed:
        notes.append(f"inlining guessed by rule of thumb ({inline.note}): small leaf functions declared in "
                     f"the file are inlined, other calls keep their prologue")
    else:
        notes.append(f"inlining decided by the compiler: {inline.source}, go build -gcflags=-m")
    procs = gomaxprocs
    if procs is None and tr.gomaxprocs is not None:
        procs = min(tr.gomaxprocs, MAX_GOMAXPROCS)
        if tr.gomaxprocs > MAX_GOMAXPROCS:
            tr.warn(tr.gomaxprocs_pos, f"GOMAXPROCS {tr.gomaxprocs} reduced to {MAX_GOMAXPROCS}")
    if procs is None:
        procs = DEFAULT_GOMAXPROCS
        notes.append(f"GOMAXPROCS is not set in the program: the model uses {DEFAULT_GOMAXPROCS} (the real "
                     f"default is the number of CPUs; set --gomaxprocs)")
    name = "".join(c if c.isalnum() or c in "-_." else "-" for c in path.stem) or "program"
    text = render(name, display, entry, profile or "go1.19", procs, tr, notes)
    try:
        parse(text, f"{display} (extracted)")
    except ScenarioError as e:
        raise ExtractError(f"{display}: the extracted scenario is invalid: {e}") from None
    # A function started by two go statements is translated twice; its guesses are noted once.
    return Extraction(text, name, tr.warnings, notes + list(dict.fromkeys(tr.guesses)))


def fmt_pos(display: str, p) -> str:
    return f"{display}:{p[0]}:{p[1]}"


def cycle_loop(body: list) -> Loop | None:
    """Return the loop that never ends at the end of a body: the only cycle of its graph."""
    if not body or not isinstance(body[-1], Loop):
        return None
    last = body[-1]
    inner = cycle_loop(last.body)
    if inner is not None:
        return inner
    return last if last.times is None else None


def _item(it) -> str:
    if isinstance(it, Op):
        return json.dumps(it.text)
    inner = ", ".join(_item(x) for x in it.body)
    times = f", times = {it.times}" if it.times is not None else ""
    return f"{{ loop = [{inner}]{times} }}"


def _comment(display: str, it) -> str:
    if isinstance(it, Op):
        return f"{it.pos[0]}:{it.pos[1]} {it.origin}"
    parts = [f"{it.pos[0]}:{it.pos[1]} {it.origin}" + ("" if it.times is not None else " (no end)")]
    for op in flatten(it.body):
        parts.append(f"{op.pos[0]}:{op.pos[1]} {op.origin} -> {op.text}")
    return "; ".join(parts)


def max_depth(procs: int, tr: Translator) -> int:
    """Return the BMC depth for an extracted scenario: the built-in scenarios' depth for its
    GOMAXPROCS, plus 4 steps for each instance of a goroutine started in a loop, whose
    start, first run and park lengthen the path to the steady state."""
    return (30 if procs == 1 else 24) + 4 * sum(spec.count for spec in tr.specs if spec.count > 1)


def render(name: str, display: str, entry: str, profile: str, procs: int, tr: Translator,
           notes: list[str]) -> str:
    tick_ms = REAL_TIMESLICE_NS / TIMESLICE_TICKS / 1e6
    lines = [f"# Scenario extracted by gmpcheck extract from {display} (entry func {entry}).",
             f"# Comments give LINE:COL in {display} of each goroutine, loop and operation.",
             f"# Durations: 1 tick = 10 ms / timeslice_ticks = {tick_ms:g} ms; a duration d becomes",
             f"# ceil(d / {tick_ms:g} ms) ticks, at least 1 and at most {MAX_TICKS}."]
    lines += [f"# note: {n}" for n in notes]
    lines += [f"# warning: {w}" for w in tr.warnings]
    lines += ["", f"name = {json.dumps(name)}",
              f"description = {json.dumps(f'Extracted from {display}, entry func {entry}.')}",
              f"source = {json.dumps(display)}"]
    gm = f"gomaxprocs = {procs}"
    if tr.gomaxprocs_pos is not None:
        gm += f"  # {fmt_pos(display, tr.gomaxprocs_pos)}: runtime.GOMAXPROCS({tr.gomaxprocs})"
    lines += [gm, f"profile = {json.dumps(profile)}", "", "[model]",
              f"timeslice_ticks = {TIMESLICE_TICKS}", "runq_size = 4", "bound = 6",
              f"max_depth = {max_depth(procs, tr)}"]
    for spec in tr.specs:
        lines += ["", "[[goroutine]]", f"name = {json.dumps(spec.name)}  # "
                  + (f"{fmt_pos(display, spec.created)}: {spec.origin}" if spec.created
                     else f"{fmt_pos(display, spec.function)}: {spec.origin}")]
        if spec.created is not None:
            lines.append("start = false")
        if spec.count != 1:
            lines.append(f"count = {spec.count}")
        lines.append("body = [")
        for it in spec.body:
            lines.append(f"  {_item(it)},  # {_comment(display, it)}")
        lines.append("]")
    lines += ["", "# Go positions of each goroutine kind, used to report findings in source terms."]
    for spec in tr.specs:
        lines.append(f"[positions.{json.dumps(spec.name)}]")
        if spec.created is not None:
            lines.append(f"created = {json.dumps(fmt_pos(display, spec.created))}")
        lines.append(f"function = {json.dumps(fmt_pos(display, spec.function))}")
        loop = cycle_loop(spec.body)
        if loop is not None:
            lines.append(f"loop = {json.dumps(fmt_pos(display, loop.pos))}")
    return "\n".join(lines) + "\n"
