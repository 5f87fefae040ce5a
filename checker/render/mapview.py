"""A map trace decoded for display: the layout of every state and what every step did.

The views of a map trace read a ``MapTraceView``, as the scheduler views read
``view.TraceView``.  It contains the ITF document, the map model rebuilt from
the scenario text in the trace, the states as flat slot lists and the rule
behind each state.  A map trace has no ticks, so pictures put one step per
column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from checker import maptrace
from checker.trace import TraceError, state_from_itf

REGENERATE = "regenerate the trace with gmpcheck check"


@dataclass
class MapTraceView:
    """A loaded map trace: its ITF document, model, states and the rule behind each state."""

    path: str
    doc: dict
    model: object
    states: list[list[int]]
    rules: list  # rules[i] led to states[i]; rules[0] is None
    loop: int | None = None
    kind: str = "map"
    _layouts: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_doc(cls, doc: dict, model, path: str = "<trace>") -> "MapTraceView":
        prop = doc["#meta"].get("property")
        if prop not in [p.name for p in model.properties]:
            raise TraceError(f"{path}: #meta.property: unknown property {prop!r}; {REGENERATE}")
        by_label = {r.label(): r for r in model.rules}
        states, rules = [], []
        for i, obj in enumerate(doc["states"]):
            if not isinstance(obj, dict):
                raise TraceError(f"{path}: states[{i}]: expected an object of variables")
            states.append(state_from_itf(model, obj, f"{path}: states[{i}]"))
            label = (obj.get("#meta") or {}).get("label")
            if i == 0:
                rules.append(None)
            elif label not in by_label:
                raise TraceError(f"{path}: states[{i}]: rule {label!r} does not exist in the current model; "
                                 f"{REGENERATE}")
            else:
                rules.append(by_label[label])
        return cls(path, doc, model, states, rules)

    # -- metadata ---------------------------------------------------------------

    @property
    def meta(self) -> dict:
        return self.doc["#meta"]

    @property
    def prop(self) -> str:
        return self.meta["property"]

    @property
    def violated(self) -> bool:
        return self.meta.get("verdict") == "violated"

    @property
    def last(self) -> int:
        return len(self.states) - 1

    def title(self) -> str:
        patches = "".join(f", patch {p.name}" for p in self.model.patches)
        return f"map scenario {self.meta.get('scenario', self.model.name)}{patches}: {self.prop}"

    def summary(self) -> str:
        from checker.bmc import Result
        res = Result(self.prop, self.meta.get("verdict", "violated"), self.meta.get("length", self.last), 0.0)
        return f"{self.title()} {res.summary()}"

    # -- states -------------------------------------------------------------------

    def layout(self, i: int) -> maptrace.MapLayout:
        if i not in self._layouts:
            self._layouts[i] = maptrace.decode(self.model, self.states[i])
        return self._layouts[i]

    def get(self, i: int, name: str, *idx: int) -> int:
        f = self.model.layout.fields[name]
        off = sum(ix * stride for ix, stride in zip(idx, f.strides()))
        return self.states[i][f.base + off]

    def step_label(self, i: int) -> str:
        return "initial state" if i == 0 else self.rules[i].label()

    def events(self, i: int) -> list[str]:
        """Describe what step i did in the runtime's terms (checker.maptrace.step_events)."""
        if i == 0:
            return []
        return maptrace.step_events(self.model, self.states[i - 1], self.states[i], self.rules[i])

    def changes(self, i: int) -> list[str]:
        return [] if i == 0 else maptrace.changes(self.model, self.states[i - 1], self.states[i])

    def violation(self) -> list[str]:
        """Explain why the last state violates the trace's property."""
        if not self.violated:
            return []
        return maptrace.violation_lines(self.model, self.states[-1], self.prop)

    def marked_keys(self, i: int) -> set[str]:
        """Return the keys to mark in state i: in the violating state, those the iteration missed or returned twice."""
        if i != self.violating_state() or self.prop != "iteration":
            return set()
        missed, twice = maptrace.iteration_keys(self.model, self.states[i])
        return set(missed) | set(twice)

    def violating_state(self) -> int | None:
        """Return the state that violates the property: the last one of an invariant counterexample."""
        return self.last if self.violated else None

    def key_names(self) -> list[str]:
        return [k.name for k in self.model.config.keys]

    # -- the state graph's view of a state ---------------------------------------------

    def node_label(self, i: int) -> str:
        return f"state {i}"

    def node_lines(self, i: int) -> list[str]:
        return self.layout(i).summary_lines()

    def edge_label(self, i: int) -> str:
        return self.rules[i].label()
