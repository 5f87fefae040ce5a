"""`gmpcheck check PROGRAM.go` gives, for every corpus program, the outcome in expected.toml."""

from __future__ import annotations

import pytest

from checker.extract import extract
from checker.outcome import config_key, scenario_outcome
from spec.scenario import parse

from corpus import EXPECTED, HERE

CONFIGS = [("go1.13", False), ("go1.19", False), ("go1.27", False), ("go1.19", True), ("go1.27", True)]
KNOWN_MISMATCHES: set = set()
CASES = [pytest.param(name, profile, apo, marks=[pytest.mark.xfail(strict=True, reason="known mismatch")]
                      if (name, profile, apo) in KNOWN_MISMATCHES else [])
         for name in sorted(EXPECTED) for profile, apo in CONFIGS]

# Quick configurations kept in the default run: each finds its lasso in a few seconds.
FAST = {("leaf_call_loop", "go1.19", True), ("mutex_handoff", "go1.27", True)}


def outcome(name: str, profile: str, apo: bool, use_go: bool = True) -> str:
    ex = extract(str(HERE / f"{name}.go"), use_go=use_go)
    return scenario_outcome(parse(ex.toml, f"{name}.go"), profile, apo)


def test_corpus_size():
    assert len(EXPECTED) >= 12
    for name in EXPECTED:
        assert (HERE / f"{name}.go").is_file(), name


@pytest.mark.slow
@pytest.mark.parametrize("name,profile,apo", CASES,
                         ids=[f"{c.values[0]}-{config_key(c.values[1], c.values[2])}" for c in CASES])
def test_corpus_outcome(name, profile, apo):
    assert outcome(name, profile, apo) == EXPECTED[name][config_key(profile, apo)]


@pytest.mark.parametrize("name,profile,apo", sorted(FAST),
                         ids=[f"{n}-{config_key(p, a)}" for n, p, a in sorted(FAST)])
def test_corpus_outcome_fast(name, profile, apo):
    assert outcome(name, profile, apo, use_go=False) == EXPECTED[name][config_key(profile, apo)]
