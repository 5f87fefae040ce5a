"""Fixtures for the corpus of Go programs: the real-Go runner from tests/go/measure.py."""

from __future__ import annotations

import os

import pytest

import corpus  # noqa: F401  (puts tests/go on sys.path for measure)
import measure


@pytest.fixture(scope="session", params=sorted(measure.INSTALL_HINTS))
def toolchain(request: pytest.FixtureRequest) -> str:
    """Name of an installed Go toolchain; missing ones fail under CI and skip otherwise."""
    try:
        measure.go_command(request.param)
    except measure.ToolchainNotFoundError as error:
        if os.environ.get("CI"):
            pytest.fail(str(error))
        pytest.skip(str(error))
    return request.param
