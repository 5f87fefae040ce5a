"""Stateful hypothesis tests generated from a model.

``machine_for(model)`` returns a hypothesis ``RuleBasedStateMachine`` with one
rule, "take an enabled rule instance", and one invariant per safety property
of the model.  The model's rules stay the single source: the machine only
chooses among the instances the concrete semantics reports as enabled, so
hypothesis explores (and shrinks) schedules, not hand-written copies of the
runtime.
"""

from __future__ import annotations

from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from checker.concrete import ConcreteModel

# Liveness in bounded form is not a safety property: random schedules are free
# to starve a goroutine, and the BMC engine is where bounded-wait is decided.
NOT_SAFETY = ("bounded-wait",)


class Deadlock(AssertionError):
    """No rule instance is enabled: the model has a state with no successor."""


def machine_for(model, concrete: ConcreteModel | None = None, on_rule=None):
    """Return a RuleBasedStateMachine class that walks ``model`` and checks its invariants.

    After every step the machine asserts the safety invariants, that every slot
    lies in its declared range, and that some rule instance is enabled.
    ``on_rule``, if given, is called with each Rule the machine takes.

    >>> from spec.scenario import load_builtin
    >>> from spec.sched.model import build_model
    >>> Machine = machine_for(build_model(load_builtin("tight-loop-p1")))
    >>> Machine.__name__
    'SchedulerMachine'
    """
    cm = concrete or ConcreteModel(model)
    safety = [name for name in cm.invariants if name not in NOT_SAFETY]
    ranges = model.layout.slot_ranges()
    slot_names = model.layout.slot_names()
    # A step changes only the slots its rule writes, so only those are range-checked.
    written = [sorted(r.writes()) for r in model.rules]
    every_slot = list(range(len(ranges)))

    class SchedulerMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.state = list(cm.init)
            self.enabled = cm.enabled(self.state)
            self.changed = every_slot

        @rule(data=st.data())
        def take_enabled_rule(self, data):
            enabled = self.enabled
            if not enabled:
                raise Deadlock("no rule instance is enabled")
            i = data.draw(st.sampled_from(enabled), label="rule index")
            note(model.rules[i].label())
            if on_rule is not None:
                on_rule(model.rules[i])
            self.state = cm.step(self.state, i)
            self.changed = written[i]

        @invariant()
        def safety_invariants(self):
            for name in safety:
                assert cm.invariants[name](self.state), f"{name} violated"
            state = self.state
            for slot in self.changed:
                lo, hi = ranges[slot]
                assert lo <= state[slot] <= hi, \
                    f"{slot_names[slot]} = {state[slot]} outside its declared range {lo}..{hi}"
            # The next step draws from this list, so it is computed once per state.
            self.enabled = cm.enabled(self.state)
            if not self.enabled:
                raise Deadlock("no rule instance is enabled")

    SchedulerMachine.model = model
    SchedulerMachine.concrete = cm
    return SchedulerMachine
