"""Decide whether a call keeps its stack-check prologue: ask the Go compiler, or guess.

With a Go toolchain, ``go build -gcflags=-m`` prints ``FILE:LINE:COL: inlining
call to NAME`` for every call site it inlines, with COL at the call's opening
parenthesis, and ``can inline NAME`` for every function it could inline
(cmd/compile/internal/inline).  A call site the compiler inlines has no call
instruction and so no prologue.  Without a toolchain the rule of thumb in
``guess_inlined`` decides, and the result says so.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

GO119 = "/usr/lib/go-1.19/bin/go"
BUILD_TIMEOUT_S = 120

_INLINING_CALL = re.compile(r"^\./[^:]+\.go:(\d+):(\d+): inlining call to (\S+)")
_CAN_INLINE = re.compile(r"^\./[^:]+\.go:(\d+):(\d+): can inline (\S+)")


@dataclass
class InlineInfo:
    """The compiler's inlining decisions for one file, or None in ``source`` for a guess.

    ``sites`` maps (line, column) of a call's opening parenthesis to the name
    the compiler printed; ``can_inline`` holds the names of inlinable functions.
    """

    source: str | None  # the `go version` that answered, None when guessed
    sites: dict[tuple[int, int], str] = field(default_factory=dict)
    can_inline: set[str] = field(default_factory=set)
    note: str = ""

    @property
    def guessed(self) -> bool:
        return self.source is None


def find_go() -> str | None:
    """Return the path of a ``go`` command: the one on PATH, else Debian's Go 1.19."""
    on_path = shutil.which("go")
    if on_path:
        return on_path
    if os.access(GO119, os.X_OK):
        return GO119
    return None


def _go_env(work: Path) -> dict[str, str]:
    """Build an environment that keeps ``go`` offline and on its own installation."""
    env = dict(os.environ)
    for name in ("GOROOT", "GOFLAGS", "GOOS", "GOARCH"):
        env.pop(name, None)
    env.update(GOTOOLCHAIN="local", GOPROXY="off", GO111MODULE="on", GOWORK="off", CGO_ENABLED="0")
    home = env.get("HOME")
    if not (home and os.path.isdir(home) and os.access(home, os.W_OK)):
        env["GOCACHE"] = str(work / "gocache")
        env["GOPATH"] = str(work / "gopath")
    return env


def ask_compiler(go_file: Path, go: str | None = None) -> InlineInfo:
    """Build a copy of ``go_file`` with -gcflags=-m and return the inlining decisions.

    Returns a guessed InlineInfo, with the reason in ``note``, when no toolchain
    is found or the build fails (for example on a type error).
    """
    go = go or find_go()
    if go is None:
        return InlineInfo(None, note="no Go toolchain found (neither `go` on PATH nor " + GO119 + ")")
    with tempfile.TemporaryDirectory(prefix="gmpcheck-extract-") as tmp:
        work = Path(tmp)
        shutil.copyfile(go_file, work / "prog.go")
        env = _go_env(work)
        try:
            version = subprocess.run([go, "version"], capture_output=True, text=True, env=env,
                                     timeout=60, check=False).stdout.strip()
            # The module's language version is the toolchain's own, so newer syntax builds.
            release = re.search(r"go(1\.\d+)", version)
            (work / "go.mod").write_text(f"module prog\n\ngo {release.group(1) if release else '1.19'}\n",
                                         encoding="utf-8")
            res = subprocess.run([go, "build", "-gcflags=-m", "-o", os.devnull, "."], cwd=work,
                                 capture_output=True, text=True, env=env, timeout=BUILD_TIMEOUT_S,
                                 check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            return InlineInfo(None, note=f"`go build -gcflags=-m` failed: {e}")
    if res.returncode != 0:
        first = next((ln for ln in res.stderr.splitlines() if ln and not ln.startswith("#")), "")
        return InlineInfo(None, note=f"`go build -gcflags=-m` failed: {first.replace('./prog.go', go_file.name)}")
    info = InlineInfo(version.removeprefix("go version ") or go)
    for line in res.stderr.splitlines():
        m = _INLINING_CALL.match(line)
        if m:
            info.sites[(int(m.group(1)), int(m.group(2)))] = m.group(3)
            continue
        m = _CAN_INLINE.match(line)
        if m:
            info.can_inline.add(m.group(3))
    return info


# A leaf function of at most this many statements counts as inlinable when guessing.
# cmd/compile's real budget is 80 nodes of its IR (inlineMaxBudget), which a few
# simple statements stay under.
GUESS_MAX_STATEMENTS = 4


def guess_inlined(statements: int, has_call: bool, has_loop: bool, pragmas: set[str]) -> bool:
    """Rule of thumb for a function declared in the file: small leaf functions are inlined.

    ``//go:noinline`` forbids inlining; a function with a loop, a call or more
    than GUESS_MAX_STATEMENTS statements is taken as not inlined.
    """
    if "go:noinline" in pragmas:
        return False
    return not has_call and not has_loop and statements <= GUESS_MAX_STATEMENTS
