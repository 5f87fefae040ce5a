"""The render and explain subcommands of gmpcheck.

The whole output is built in memory before anything is written, and a file is
written through a temporary file and a rename, so a failure leaves no
half-written output.  Errors are printed here as one line, exit code 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

from checker.render import FORMATS, NotApplicable, render
from checker.render.view import TraceView
from checker.trace import TraceError, write_atomic

EXIT_OK, EXIT_ERROR = 0, 2
TRACE_FIX = "give an .itf.json trace written by gmpcheck check"


class RenderError(Exception):
    """An invalid option of render or explain: the message names the option, the value and the fix."""


def load(path: str) -> TraceView:
    try:
        return TraceView.load(path)
    except TraceError as e:
        message = str(e)
        if "#meta.patches" in message and "patch file not found" in message:
            message += "; give the patch file's path in #meta.patches, or restore the file"
        elif "gmpcheck check" not in message:
            message += f"; {TRACE_FIX}"
        raise TraceError(message) from None


def check_output(out: Path) -> None:
    """Reject an output path that names a directory or lies under a file."""
    if out.is_dir():
        raise RenderError(f"-o {out}: is a directory; give a file path")
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise RenderError(f"-o {out}: {parent} is not a directory; choose a writable path")
            break


def cmd_render(args) -> int:
    """Run ``render`` or ``explain``; return the exit code."""
    try:
        text = build(args)
        if args.output is None:
            sys.stdout.write(text)
            return EXIT_OK
        try:
            write_atomic(Path(args.output), text)
        except OSError as e:
            raise RenderError(f"-o {args.output}: cannot write the file ({e.strerror or e}); "
                              f"choose a writable path") from None
    except (RenderError, TraceError, NotApplicable) as e:
        print(f"gmpcheck: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def build(args) -> str:
    fmt = getattr(args, "format", None)
    if args.command == "render" and fmt not in FORMATS:
        raise RenderError(f"--format: unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if args.output is not None:
        check_output(Path(args.output))
    step = getattr(args, "step", None)
    if step is not None and fmt != "layout":
        raise RenderError(f"--step: applies to --format layout only, not {fmt!r}; leave it out")
    view = load(args.trace)
    if args.command == "explain":
        if getattr(view, "kind", "sched") == "map-writers":
            from checker.render import writers
            return writers.explain(view)
        if getattr(view, "kind", "sched") == "map":
            from checker.render import mapexplain
            return mapexplain.render(view)
        from checker.render import explain
        return explain.render(view)
    if step is not None:
        if getattr(view, "kind", "sched") != "map":
            raise RenderError("--format layout: draws the buckets of a classic map trace; this trace has none, "
                              "use --format text")
        if not 0 <= step < len(view.states):
            raise RenderError(f"--step: {step} is not a state of {args.trace}; use 0..{len(view.states) - 1}")
    return render(view, fmt, step)
