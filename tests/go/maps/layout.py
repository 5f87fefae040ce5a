"""Build and run ``main.go``, which dumps the internal layout of a real Go 1.19 map.

``run(ops)`` applies the operations to a fresh ``map[uint64]uint64`` or
``map[float64]uint64`` and returns one dict per ``{"op": "dump"}``, with the
fields that README.md in this directory describes. ``hash0`` and the
``hashes`` values are ints here (the program prints them as decimal strings),
and the ``hashes`` keys are ints too: the uint64 key, or the bits of the
float64 key.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

PROGRAM_DIR = Path(__file__).resolve().parent

GO119_PATH = "/usr/lib/go-1.19/bin/go"

INSTALL_HINT = "apt-get install golang-1.19-go"

# Seconds allowed for one build and for one run of the program.
BUILD_TIMEOUT_S = 600
RUN_TIMEOUT_S = 60

KEY_TYPES = ("u64", "f64")


class GoNotFoundError(LookupError):
    """Go 1.19 is not installed at the requested path."""


class LayoutError(RuntimeError):
    """Building or running the layout program failed."""


_work_dir: Path | None = None
_binaries: dict[str, Path] = {}


def _get_work_dir() -> Path:
    """Return a temporary directory for the binary, removed when the process exits."""
    global _work_dir
    if _work_dir is None:
        _work_dir = Path(tempfile.mkdtemp(prefix="gmpcheck-maps-"))
        atexit.register(shutil.rmtree, _work_dir, True)
    return _work_dir


def _go_command_env() -> dict[str, str]:
    """Build the environment for ``go`` commands.

    GOTOOLCHAIN=local and GOPROXY=off keep the go command from downloading a
    toolchain or module, because the program needs neither. The caller's GOROOT,
    GOFLAGS, GOOS and GOARCH are dropped so that the build uses Go 1.19's own
    installation for the host platform.
    """
    env = dict(os.environ)
    for name in ("GOROOT", "GOFLAGS", "GOOS", "GOARCH"):
        env.pop(name, None)
    env["GOTOOLCHAIN"] = "local"
    env["GOPROXY"] = "off"
    env["GO111MODULE"] = "on"
    env["GOWORK"] = "off"
    env["CGO_ENABLED"] = "0"
    home = env.get("HOME")
    if not (home and os.path.isdir(home) and os.access(home, os.W_OK)):
        env["GOCACHE"] = str(_get_work_dir() / "gocache")
        env["GOPATH"] = str(_get_work_dir() / "gopath")
    return env


def _check_go119(go_path: str) -> None:
    """Raise GoNotFoundError unless ``go_path`` runs and reports a Go 1.19 release."""
    missing = f"Go 1.19 not found at {go_path}: install it with `{INSTALL_HINT}`"
    if not os.access(go_path, os.X_OK):
        raise GoNotFoundError(missing)
    try:
        result = subprocess.run(
            [go_path, "version"],
            capture_output=True,
            text=True,
            timeout=60,
            env=_go_command_env(),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise GoNotFoundError(f"{missing} (`go version` failed: {error})") from None
    match = re.search(r"\bgo version (go\S+)", result.stdout)
    version = match.group(1) if match else None
    if version is None or not (version == "go1.19" or version.startswith("go1.19.")):
        raise GoNotFoundError(
            f"{go_path} reports {version or result.stdout.strip() or 'no version'}, "
            f"expected go1.19: install Go 1.19 with `{INSTALL_HINT}`"
        )


def build(go_path: str = GO119_PATH) -> Path:
    """Build the layout program with Go 1.19 and return the binary's path.

    The binary is built once per ``go_path`` and process, into a temporary
    directory removed at exit. Raises GoNotFoundError when ``go_path`` is
    not a Go 1.19 command and LayoutError when the build fails.
    """
    binary = _binaries.get(go_path)
    if binary is not None and binary.exists():
        return binary

    _check_go119(go_path)
    binary = _get_work_dir() / f"maps-{len(_binaries)}"
    result = subprocess.run(
        [go_path, "build", "-trimpath", "-o", str(binary), "."],
        cwd=PROGRAM_DIR,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        env=_go_command_env(),
        check=False,
    )
    if result.returncode != 0:
        raise LayoutError(
            f"go build ({go_path}) in {PROGRAM_DIR} failed with exit status "
            f"{result.returncode}:\n{result.stderr}"
        )
    _binaries[go_path] = binary
    return binary


def _encode_key(key: Any, key_type: str) -> Any:
    """Return ``key`` as the program expects it: NaN and infinities as strings."""
    if key_type == "f64" and isinstance(key, float):
        if math.isnan(key):
            return "NaN"
        if math.isinf(key):
            return "+Inf" if key > 0 else "-Inf"
    return key


def _decode_dump(line: str) -> dict[str, Any]:
    dump = json.loads(line)
    dump["hash0"] = int(dump["hash0"])
    dump["hashes"] = {int(key): int(value) for key, value in dump["hashes"].items()}
    return dump


def run(
    ops: list[dict[str, Any]],
    key: str = "u64",
    hint: int = 0,
    go_path: str = GO119_PATH,
) -> list[dict[str, Any]]:
    """Apply ``ops`` to a new map and return the layout recorded at each dump op.

    ``key`` is ``"u64"`` (map[uint64]uint64) or ``"f64"`` (map[float64]uint64),
    and ``hint`` is the size hint passed to make. For ``"f64"``, float NaN and
    infinity keys may be given as Python floats. Raises ValueError for an
    invalid ``key`` or ``hint``, GoNotFoundError when Go 1.19 is missing, and
    LayoutError when the program rejects the input or fails.
    """
    if key not in KEY_TYPES:
        raise ValueError(f"invalid key type {key!r}: expected one of {KEY_TYPES}")
    if isinstance(hint, bool) or not isinstance(hint, int) or hint < 0:
        raise ValueError(f"invalid hint {hint!r}: expected a non-negative int")

    encoded_ops = []
    for op in ops:
        encoded = dict(op)
        if "k" in encoded:
            encoded["k"] = _encode_key(encoded["k"], key)
        encoded_ops.append(encoded)
    request = json.dumps({"key": key, "hint": hint, "ops": encoded_ops}, allow_nan=False)

    binary = build(go_path)
    try:
        result = subprocess.run(
            [str(binary)],
            input=request,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise LayoutError(f"{binary} timed out after {RUN_TIMEOUT_S} s") from None
    if result.returncode != 0:
        raise LayoutError(
            f"{binary} failed with exit status {result.returncode}: {result.stderr.strip()}"
        )
    return [_decode_dump(line) for line in result.stdout.splitlines()]


def called_functions(function: str, go_path: str = GO119_PATH) -> set[str]:
    """Return the functions that ``main.<function>`` of the built program calls.

    The names come from ``go tool objdump`` (e.g. ``runtime.mapassign_fast64``).
    Raises LayoutError when objdump fails or finds no such function.
    """
    binary = build(go_path)
    result = subprocess.run(
        [go_path, "tool", "objdump", "-s", rf"^main\.{re.escape(function)}$", str(binary)],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        env=_go_command_env(),
        check=False,
    )
    if result.returncode != 0 or "TEXT" not in result.stdout:
        raise LayoutError(
            f"go tool objdump found no function main.{function} in {binary}: "
            f"{result.stderr.strip() or 'empty output'}"
        )
    return set(re.findall(r"\bCALL ([\w.]+)\(SB\)", result.stdout))
