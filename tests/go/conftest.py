"""Fixtures for the tests that build and run the case program with real Go toolchains."""

from __future__ import annotations

import os

import pytest

import measure


@pytest.fixture(scope="session", params=sorted(measure.INSTALL_HINTS))
def toolchain(request: pytest.FixtureRequest) -> str:
    """Name of a Go toolchain whose case-program binary is built, once per session.

    A missing toolchain fails the test when the CI environment variable is
    set and skips it otherwise.
    """
    name = request.param
    try:
        measure.build(name)
    except measure.ToolchainNotFoundError as error:
        if os.environ.get("CI"):
            pytest.fail(str(error))
        pytest.skip(str(error))
    return name
