"""Every built-in scenario gives, under every configuration, the outcome real Go shows.

The expected outcomes live in each scenario's [expect] table; they were
measured on Go 1.19.8 and Go 1.27.3 (tests/go/ measures them again).  go1.13
rows follow the cooperative-only rules of Go 1.13.
"""

import pytest

from checker.outcome import config_key, model_outcome
from spec.scenario import builtin_names, load_builtin

CASES = [(name, key, expected)
         for name in builtin_names()
         for key, expected in load_builtin(name).expect.items()]


@pytest.mark.slow
@pytest.mark.parametrize("name,key,expected", CASES, ids=[f"{n}-{k}" for n, k, _ in CASES])
def test_builtin_outcome(name, key, expected):
    profile, _, option = key.partition("+")
    assert model_outcome(name, profile, option == "asyncpreemptoff") == expected


def test_every_builtin_has_expectations():
    for name in builtin_names():
        keys = set(load_builtin(name).expect)
        assert keys == {config_key(p, a) for p in ("go1.13", "go1.19", "go1.27") for a in (False, True)
                        if not (p == "go1.13" and a)}, name


@pytest.mark.parametrize("name,key", [("tight-loop-p1", "go1.13"), ("tight-loop-p1", "go1.19+asyncpreemptoff"),
                                      ("range-map-p1", "go1.13"), ("gosched-loop-p1", "go1.19")])
def test_one_p_outcomes(name, key):
    """A fast subset of the table above, kept in the default run."""
    profile, _, option = key.partition("+")
    assert model_outcome(name, profile, option == "asyncpreemptoff") == load_builtin(name).expect[key]
