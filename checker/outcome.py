"""Starves or bounded: the model's result in the terms real Go is measured in.

``starves`` means the starvation property is violated: a lasso in which some G
is ready in every state and never runs.  ``bounded`` means bounded-wait holds
up to the scenario's depth and no lasso exists up to that depth.  Anything else
(bounded-wait violated without a lasso, or a solver ``unknown``) is reported as
it is, never rounded to one of the two.
"""

from __future__ import annotations

from functools import lru_cache

from checker import bmc
from spec.scenario import resolve
from spec.sched.model import build_model


def config_key(profile: str, asyncpreemptoff: bool) -> str:
    """Return the key of a configuration in a scenario's ``[expect]`` table."""
    return profile + ("+asyncpreemptoff" if asyncpreemptoff else "")


@lru_cache(maxsize=None)
def model_outcome(scenario: str, profile: str, asyncpreemptoff: bool, timeout_s: float = 900.0) -> str:
    """Return ``starves``, ``bounded``, ``delayed`` (bounded-wait violated, no lasso) or ``unknown``.

    >>> model_outcome("tight-loop-p1", "go1.13", False)
    'starves'
    """
    return scenario_outcome(resolve(scenario), profile, asyncpreemptoff, timeout_s)


def scenario_outcome(sc, profile: str, asyncpreemptoff: bool, timeout_s: float = 900.0) -> str:
    """Return the outcome, as model_outcome does, of a loaded Scenario."""
    model = build_model(sc, profile, asyncpreemptoff)
    starv, wait = bmc.check(model, [model.property("starvation"), model.property("bounded-wait")],
                            sc.sizes.max_depth, timeout_s)
    if starv.verdict == "violated":
        return "starves"
    if "unknown" in (starv.verdict, wait.verdict):
        return "unknown"
    return "bounded" if wait.verdict == "holds" else "delayed"
