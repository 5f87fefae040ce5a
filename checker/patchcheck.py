"""A short concrete exploration of a patched model, run before its properties are checked.

A patch is Python code, and the static checks of spec.patch cannot see every
mistake: a wrapped helper may make a rule pop an empty queue (an index outside
a field's shape) or write a value outside a field's range.  BMC would not
notice, because z3 constrains only the initial state to the declared ranges,
and its verdicts on such a model mean nothing.  So the first states of every
patched model are explored with the concrete semantics, which reject both, and
a failure is reported as invalid input that names the patch and the rule.
"""

from __future__ import annotations

import time
from collections import deque

from checker.concrete import ConcreteModel, IndexOutOfRange
from spec.patch import PatchError, patch_where

MAX_STATES = 5000
MAX_SECONDS = 2.0


def explore_patched(model, max_states: int = MAX_STATES, max_seconds: float = MAX_SECONDS) -> int:
    """Explore up to ``max_states`` states of a patched model breadth first; return how many were seen.

    Input slots (a map model's hashes and values) keep their initial values, so
    this samples the state space rather than covering it.  Raise PatchError on
    the first step that leaves the model's state space.
    """
    if not model.patches:
        return 0
    cm = ConcreteModel(model)
    ranges = model.layout.slot_ranges()
    names = model.layout.slot_names()
    deadline = time.monotonic() + max_seconds
    init = list(cm.init)
    seen = {tuple(init)}
    queue = deque([(init, 0)])
    while queue and len(seen) < max_states and time.monotonic() < deadline:
        s, depth = queue.popleft()
        for i, (guard, step) in enumerate(cm.compiled):
            rule = cm.rules[i]
            try:
                if not guard(s):
                    continue
                t = step(s)
            except IndexOutOfRange as e:
                raise _error(model, rule, f"{e}", depth) from None
            for v, x in enumerate(t):
                lo, hi = ranges[v]
                if not lo <= x <= hi:
                    raise _error(model, rule, f"writes {x} to {names[v]}, whose range is {lo}..{hi}", depth)
            key = tuple(t)
            if key not in seen:
                seen.add(key)
                queue.append((list(t), depth + 1))
    return len(seen)


def _error(model, rule, problem: str, depth: int) -> PatchError:
    names = " and ".join(patch_where(p) for p in model.patches)
    return PatchError(f"{names}: rule {rule.label()!r} at step {depth + 1} of a run from the initial state: {problem}; "
                      f"the patched model leaves its state space, so no verdict would mean anything")
