"""Each corpus program marked realgo starves or stays bounded on real Go as the model says.

The program counts as starved when it has not exited 3 seconds after it
started (measure.program_starves); each one exits within milliseconds when
nothing starves.
"""

from __future__ import annotations

import pytest

from corpus import EXPECTED, HERE
import measure
from checker.outcome import config_key

RUNNABLE = sorted(name for name, row in EXPECTED.items() if row.get("realgo"))


@pytest.mark.realgo
@pytest.mark.slow
@pytest.mark.parametrize("asyncpreemptoff", [False, True], ids=["async", "asyncpreemptoff"])
@pytest.mark.parametrize("name", RUNNABLE)
def test_program_matches_real_go(toolchain, name, asyncpreemptoff):
    expected = EXPECTED[name][config_key(toolchain, asyncpreemptoff)]
    starved = measure.program_starves(HERE / f"{name}.go", toolchain, asyncpreemptoff)
    assert ("starves" if starved else "bounded") == expected, (
        f"{name} on {toolchain} asyncpreemptoff={int(asyncpreemptoff)}")
