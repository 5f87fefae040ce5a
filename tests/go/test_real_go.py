"""The model's outcome (starves / bounded) equals what real Go does, case by case.

Each case of tests/go/cases/main.go runs on Go 1.19 and Go 1.27 (the
``toolchain`` fixture), with and without GODEBUG=asyncpreemptoff=1, and is
compared with the model under the profile of the same Go version.
"""

from __future__ import annotations

import pytest

from checker.outcome import model_outcome
from measure import CASES, measure


@pytest.mark.realgo
@pytest.mark.slow
@pytest.mark.parametrize("asyncpreemptoff", [False, True], ids=["async", "asyncpreemptoff"])
@pytest.mark.parametrize("case_id", sorted(CASES))
def test_model_matches_real_go(toolchain: str, case_id: str, asyncpreemptoff: bool) -> None:
    measured = measure(case_id, toolchain, asyncpreemptoff)
    predicted = model_outcome(case_id, toolchain, asyncpreemptoff)
    real = "starves" if measured.starved else "bounded"
    assert predicted == real, (
        f"{case_id} on {measured.go_version} asyncpreemptoff={int(asyncpreemptoff)}: "
        f"model says {predicted}, real Go {real} (worst lateness {measured.worst_lateness_ms} ms)")
