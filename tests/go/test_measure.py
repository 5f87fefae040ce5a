"""Conformance measurements of the real Go scheduler, and tests of the harness itself.

The realgo tests run each case of cases/main.go once per toolchain and
GODEBUG=asyncpreemptoff setting and compare the outcome with what real Go
does. The other tests run small shell scripts in place of the Go program to
check how measure.py detects starvation and failures.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

import measure

# Maximum worst lateness of a run that did not starve. Runs of measure.py on a
# 2-core machine measured at most 51 ms, so this bound only separates
# "bounded" from "stuck for a while".
MAX_BOUNDED_LATENESS_MS = 1000.0

CASE_IDS = list(measure.CASES)


@pytest.mark.realgo
@pytest.mark.parametrize("asyncpreemptoff", [False, True], ids=["async", "asyncpreemptoff"])
@pytest.mark.parametrize("case_id", CASE_IDS)
def test_case_outcome(toolchain: str, case_id: str, asyncpreemptoff: bool) -> None:
    case = measure.CASES[case_id]
    expected_starved = case.expected_starved(asyncpreemptoff)

    result = measure.measure(case_id, toolchain, asyncpreemptoff)

    assert result.go_version.startswith(toolchain), result
    assert result.starved == expected_starved, (
        f"{case_id} on {result.go_version} with asyncpreemptoff={int(asyncpreemptoff)}: "
        f"expected {'starved' if expected_starved else 'bounded'}, measured {result}"
    )
    if not result.starved:
        assert result.worst_lateness_ms is not None, result
        assert result.worst_lateness_ms < MAX_BOUNDED_LATENESS_MS, result


@pytest.mark.realgo
def test_program_case_ids_match(toolchain: str) -> None:
    binary = measure.build(toolchain)

    listed = subprocess.run(
        [str(binary), "-list"], capture_output=True, text=True, timeout=30, check=True
    ).stdout.split()

    assert sorted(listed) == sorted(measure.CASES)


@pytest.mark.realgo
def test_program_rejects_unknown_case(toolchain: str) -> None:
    binary = measure.build(toolchain)

    result = subprocess.run(
        [str(binary), "-case", "no-such-case"], capture_output=True, text=True, timeout=30
    )

    assert result.returncode == 2
    assert "invalid -case" in result.stderr


def disassemble(toolchain: str, function: str) -> str:
    """Return the objdump listing of one function in the case program."""
    go = measure.go_command(toolchain)
    binary = measure.build(toolchain)
    listing = subprocess.run(
        [go, "tool", "objdump", "-s", f"^main\\.{function}$", str(binary)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert f"TEXT main.{function}(SB)" in listing, listing
    return listing


@pytest.mark.realgo
def test_tight_loop_has_no_calls(toolchain: str) -> None:
    # Without a call, the loop has no cooperative preemption point, which is
    # what makes it starve under asyncpreemptoff=1.
    listing = disassemble(toolchain, "spinTightLoop")

    assert "CALL" not in listing, listing
    assert "main.spinCounter(SB)" in listing, listing


@pytest.mark.realgo
def test_inline_call_loop_inlines_function(toolchain: str) -> None:
    listing = disassemble(toolchain, "spinInlineCallLoop")

    assert "addOneInlined" not in listing, listing


@pytest.mark.realgo
def test_noinline_call_loop_calls_function(toolchain: str) -> None:
    listing = disassemble(toolchain, "spinNoinlineCallLoop")

    assert "CALL main.addOneNotInlined(SB)" in listing, listing


def write_script(tmp_path: Path, body: str) -> Path:
    """Write an executable shell script that replaces the case program in harness tests."""
    script = tmp_path / "fake-case-program"
    script.write_text("#!/bin/sh\n" + textwrap.dedent(body))
    script.chmod(0o755)
    return script


# Environment for the scripts, which need PATH to find sleep.
SCRIPT_ENV = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}

SPINNER_LINE = "echo 'spinner started: case=tight-loop-p1 go=go1.0 gomaxprocs=1' >&2\n"

REPORT = {
    "case": "tight-loop-p1",
    "go": "go1.0",
    "gomaxprocs": 1,
    "sleepers": 100,
    "worst_lateness_ms": 12.5,
    "mean_lateness_ms": 3.0,
}


def test_run_reads_report(tmp_path: Path) -> None:
    script = write_script(tmp_path, SPINNER_LINE + f"echo '{json.dumps(REPORT)}'\n")

    output = measure._run_case_program(script, "tight-loop-p1", SCRIPT_ENV, timeout_s=3.0)

    assert output.spinner_fields == {"case": "tight-loop-p1", "go": "go1.0", "gomaxprocs": "1"}
    assert output.report_line is not None
    assert json.loads(output.report_line) == REPORT


def test_run_kills_program_after_timeout(tmp_path: Path) -> None:
    # exec makes sleep take over the shell's PID, which is the PID that gets killed.
    script = write_script(tmp_path, SPINNER_LINE + "exec sleep 30\n")

    started = time.monotonic()
    output = measure._run_case_program(script, "tight-loop-p1", SCRIPT_ENV, timeout_s=0.5)
    elapsed = time.monotonic() - started

    assert output.report_line is None
    assert output.spinner_fields is not None
    assert elapsed < 5.0


def test_timeout_starts_at_spinner_line(tmp_path: Path) -> None:
    # The program takes 1.5 s in all, more than timeout_s, but prints its
    # report 0.5 s after the spinner line, so the run is not starved.
    script = write_script(
        tmp_path,
        "sleep 1\n" + SPINNER_LINE + "sleep 0.5\n" + f"echo '{json.dumps(REPORT)}'\n",
    )

    output = measure._run_case_program(script, "tight-loop-p1", SCRIPT_ENV, timeout_s=1.0)

    assert output.report_line is not None


def test_run_rejects_exit_without_report(tmp_path: Path) -> None:
    script = write_script(tmp_path, SPINNER_LINE + "echo 'fatal error: boom' >&2\nexit 3\n")

    with pytest.raises(measure.MeasurementError, match="exited with status 3"):
        measure._run_case_program(script, "tight-loop-p1", SCRIPT_ENV, timeout_s=3.0)


def test_run_rejects_failed_exit_after_report(tmp_path: Path) -> None:
    script = write_script(tmp_path, SPINNER_LINE + f"echo '{json.dumps(REPORT)}'\nexit 1\n")

    with pytest.raises(measure.MeasurementError, match="exited with status 1"):
        measure._run_case_program(script, "tight-loop-p1", SCRIPT_ENV, timeout_s=3.0)


def test_run_rejects_missing_spinner_line(tmp_path: Path) -> None:
    script = write_script(tmp_path, "exit 0\n")

    with pytest.raises(measure.MeasurementError, match="did not print a 'spinner started' line"):
        measure._run_case_program(script, "tight-loop-p1", SCRIPT_ENV, timeout_s=3.0)


def test_measure_rejects_unknown_case() -> None:
    with pytest.raises(ValueError, match="unknown case id 'no-such-case'"):
        measure.measure("no-such-case", "go1.27", asyncpreemptoff=False)


def test_go_command_rejects_unknown_toolchain() -> None:
    with pytest.raises(measure.ToolchainNotFoundError, match="unknown Go toolchain 'go1.0'"):
        measure.go_command("go1.0")


def test_case_env_sets_godebug_and_gogc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GODEBUG", "gctrace=1")
    monkeypatch.setenv("GOMAXPROCS", "8")

    default_env = measure._case_program_env("range-map-p1", asyncpreemptoff=False)
    gc_off_env = measure._case_program_env("tight-loop-p2", asyncpreemptoff=True)

    assert default_env["GODEBUG"] == "asyncpreemptoff=0"
    assert "GOMAXPROCS" not in default_env
    assert "GOGC" not in default_env
    assert gc_off_env["GODEBUG"] == "asyncpreemptoff=1"
    assert gc_off_env["GOGC"] == "off"
