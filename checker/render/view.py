"""A counterexample trace decoded for display: where each G is, what each P holds, per-step events.

Every view in this package reads a ``TraceView``.  It contains the ITF document,
the model rebuilt from the scenario text stored in the trace, the states as
flat slot lists, and the rule that led to each state.  Column ``c`` of a
picture is the interval between tick ``c`` and tick ``c + 1``: a step belongs
to the column of the number of ``tick`` steps before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from checker.concrete import compile_expr
from checker.trace import TraceError, load_itf, model_of_trace, state_from_itf
from spec.sched.ops import is_preemption_point
from spec.sched.state import (G_DEAD, G_IDLE, G_RUNNABLE, G_RUNNING, G_STATUS_NAMES, G_SYSCALL, G_WAITING,
                              P_GCSTOP, P_IDLE, P_RUNNING, P_STATUS_NAMES, P_SYSCALL)

REGENERATE = "regenerate the trace with gmpcheck check"


@dataclass
class Place:
    """The place of one G in one state."""

    kind: str  # running, runnext, runq, gq, sleeping, chan, syscall, waiting, dead, not-created, runnable
    p: int | None = None
    detail: str = ""

    def short(self) -> str:
        """Describe the place in a few words, for a graph node or a table cell."""
        if self.kind == "running":
            return f"running on P{self.p}"
        if self.kind == "runnext":
            return f"runnext of P{self.p}"
        if self.kind == "runq":
            return f"runq of P{self.p} [{self.detail}]"
        if self.kind == "gq":
            return f"global queue [{self.detail}]"
        if self.kind == "sleeping":
            return f"sleeping ({self.detail})"
        if self.kind in ("chan", "syscall"):
            return f"{self.kind} ({self.detail})"
        return self.kind.replace("-", " ")


@dataclass
class Event:
    """Something a picture marks at one step: a preemption request, a steal, a move to the global queue."""

    kind: str
    step: int
    p: int | None
    g: int | None = None
    text: str = ""
    victim_p: int | None = None


@dataclass
class TraceView:
    """A loaded trace: its ITF document, model, states and the rule behind each state."""

    path: str
    doc: dict
    model: object
    states: list[list[int]]
    rules: list  # rules[i] led to states[i]; rules[0] is None
    loop: int | None
    _ready: list = field(default_factory=list, repr=False)
    _ticks: list = field(default_factory=list, repr=False)

    @classmethod
    def load(cls, path):
        """Load a trace: a TraceView, or a mapview.MapTraceView for a map trace."""
        doc = load_itf(path)
        model = model_of_trace(doc, str(path))
        if getattr(model, "kind", "sched") in ("map", "map-writers"):
            from checker.render.mapview import MapTraceView
            view = MapTraceView.from_doc(doc, model, str(path))
            view.kind = model.kind
            return view
        return cls.from_doc(doc, model, str(path))

    @classmethod
    def from_doc(cls, doc: dict, model, path: str = "<trace>") -> "TraceView":
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
        loop = doc.get("loop")
        if loop is not None and (not isinstance(loop, int) or not 0 <= loop < len(states) - 1):
            raise TraceError(f"{path}: loop: {loop!r} is not the index of a state before the last; {REGENERATE}")
        view = cls(path, doc, model, states, rules, loop)
        view._ready = [compile_expr(e) for e in model.ready]
        return view

    # -- metadata ---------------------------------------------------------------

    @property
    def meta(self) -> dict:
        return self.doc["#meta"]

    @property
    def g_names(self) -> list[str]:
        return self.model.g_names

    @property
    def nP(self) -> int:
        return self.model.state.nP

    @property
    def nG(self) -> int:
        return self.model.state.nG

    @property
    def victim(self) -> int | None:
        name = self.meta.get("victim")
        return self.g_names.index(name) if name in self.g_names else None

    @property
    def violated(self) -> bool:
        return self.meta.get("verdict") == "violated"

    def title(self) -> str:
        m = self.meta
        patches = "".join(f", patch {p.name}" for p in self.model.patches)
        return f"{m.get('scenario', '?')}, profile {self.model.profile.label()}{patches}: {m['property']}"

    # -- reading states -----------------------------------------------------------

    def get(self, i: int, name: str, *idx: int) -> int:
        f = self.model.layout.fields[name]
        off = sum(ix * stride for ix, stride in zip(idx, f.strides()))
        return self.states[i][f.base + off]

    def gname(self, ref: int) -> str:
        """Return the name of a G reference (index + 1), or "-" for 0."""
        return "-" if ref == 0 else self.g_names[ref - 1]

    def ring(self, i: int, p: int) -> list[int]:
        """Return the G indices in P p's local ring, head first."""
        cap = self.model.state.cap
        head, tail = self.get(i, "runqhead", p), self.get(i, "runqtail", p)
        n = tail - head if head <= tail else tail - head + 2 * cap
        return [self.get(i, "runq", p, (head + k) % cap) - 1 for k in range(n)]

    def global_queue(self, i: int) -> list[int]:
        """Return the G indices in the global run queue, head first."""
        head, n = self.get(i, "gqhead"), self.get(i, "gqlen")
        return [self.get(i, "gq", (head + k) % self.nG) - 1 for k in range(n)]

    def ready(self, i: int, g: int) -> bool:
        """Check whether G g is ready to run in state i (the condition bounded-wait counts)."""
        return bool(self._ready[g](self.states[i]))

    def channel_name(self, parked: int) -> str:
        chans = self.model.scenario.channels()
        c, send = divmod(parked - 1, 2)
        return f"{'send' if send else 'recv'} {chans[c] if c < len(chans) else c}"

    def place(self, i: int, g: int) -> Place:
        status = self.get(i, "gstatus", g)
        ref = g + 1
        if status == G_RUNNING:
            for p in range(self.nP):
                if self.get(i, "curg", p) == ref:
                    return Place("running", p)
            return Place("running")
        if status == G_RUNNABLE:
            for p in range(self.nP):
                if self.get(i, "runnext", p) == ref:
                    return Place("runnext", p)
                ring = self.ring(i, p)
                if g in ring:
                    return Place("runq", p, str(ring.index(g)))
            gq = self.global_queue(i)
            if g in gq:
                return Place("gq", None, str(gq.index(g)))
            return Place("runnable")
        if status == G_WAITING:
            if self.get(i, "tarmed", g):
                left = self.get(i, "tleft", g)
                when = "timer due" if left == 0 else f"due in {left}"
                return Place("sleeping", self.get(i, "tpp", g), f"{when}, timer on P{self.get(i, 'tpp', g)}")
            if self.get(i, "parked", g):
                return Place("chan", None, self.channel_name(self.get(i, "parked", g)))
            return Place("waiting")
        if status == G_SYSCALL:
            sysp = self.get(i, "sysp", g)
            held = f", M holds P{sysp - 1}" if sysp else ", P retaken"
            return Place("syscall", sysp - 1 if sysp else None, f"{self.get(i, 'sysleft', g)} left{held}")
        if status == G_DEAD:
            return Place("dead")
        if status == G_IDLE:
            return Place("not-created")
        return Place(G_STATUS_NAMES.get(status, str(status)))

    def p_status(self, i: int, p: int) -> str:
        return P_STATUS_NAMES.get(self.get(i, "pstatus", p), "?")

    def snapshot(self, i: int) -> dict:
        """State i as plain data: every P, the global queue, every G."""
        ps = []
        for p in range(self.nP):
            ps.append({
                "name": f"P{p}",
                "status": self.p_status(i, p),
                "curg": self.gname(self.get(i, "curg", p)),
                "runnext": self.gname(self.get(i, "runnext", p)),
                "runq": [self.g_names[g] for g in self.ring(i, p)],
                "spinning": self.get(i, "spinning", p),
                "schedtick": self.get(i, "schedtick", p),
                "preempt": self.get(i, "ppreempt", p),
            })
        gs = []
        for g, name in enumerate(self.g_names):
            pc = self.get(i, "pc", g)
            body = self.model.bodies[g]
            gs.append({
                "name": name,
                "status": G_STATUS_NAMES.get(self.get(i, "gstatus", g), "?"),
                "place": self.place(i, g).short(),
                "next_op": body[pc].text if 0 <= pc < len(body) else "-",
                "preempt": self.get(i, "gpreempt", g),
                "wait": self.get(i, "wait", g),
                "ready": self.ready(i, g),
            })
        return {"ps": ps, "gq": [self.g_names[g] for g in self.global_queue(i)], "gs": gs,
                "gcwaiting": self.get(i, "gcwaiting"), "tick": self.ticks_before(i + 1)}

    # -- time ---------------------------------------------------------------------

    def is_tick(self, i: int) -> bool:
        return self.rules[i] is not None and self.rules[i].name == "tick"

    def ticks_before(self, i: int) -> int:
        """Count the tick steps among steps 1 .. i-1, which is the column of step i."""
        if not self._ticks:
            count = 0
            for k in range(len(self.states) + 1):
                self._ticks.append(count)
                if 1 <= k < len(self.states) and self.is_tick(k):
                    count += 1
        return self._ticks[max(0, min(i, len(self.states)))]

    @property
    def tick_steps(self) -> list[int]:
        return [i for i in range(1, len(self.states)) if self.is_tick(i)]

    @property
    def columns(self) -> int:
        """Tick intervals the trace covers, counting a last partial one."""
        n = len(self.tick_steps)
        last = len(self.states) - 1
        return n + (1 if last >= 1 and not self.is_tick(last) else 0)

    def column_steps(self, c: int) -> list[int]:
        """Steps in column c, tick step included (it ends the column)."""
        return [i for i in range(1, len(self.states)) if self.ticks_before(i) == c]

    def loop_steps(self) -> list[int]:
        """Steps that repeat forever in a lasso (loop + 1 .. last), or []."""
        return [] if self.loop is None else list(range(self.loop + 1, len(self.states)))

    # -- events ---------------------------------------------------------------------

    def op_of(self, i: int):
        """Return the body node a G executes at step i (an op rule), or None."""
        rule = self.rules[i]
        if rule is None or "op" not in rule.params:
            return None
        g = rule.params["g"]
        pc = self.get(i - 1, "pc", g)
        body = self.model.bodies[g]
        return body[pc] if 0 <= pc < len(body) else None

    def preempt_blocked(self, i: int) -> bool:
        """Step i runs an operation of a G whose preemption request cannot land at that operation."""
        rule = self.rules[i]
        node = self.op_of(i)
        if node is None or "preempt" in rule.tags:
            return False
        g = rule.params["g"]
        pending = self.get(i - 1, "gpreempt", g) == 1
        return pending and not is_preemption_point(node.op, self.model.profile.async_enabled)

    def running_p(self, i: int, g: int) -> int | None:
        for p in range(self.nP):
            if self.get(i, "curg", p) == g + 1 and self.get(i, "pstatus", p) in (P_RUNNING, P_SYSCALL):
                return p
        return None

    def events(self, i: int) -> list[Event]:
        """Derive the events of step i from its rule and the fields it changed."""
        rule = self.rules[i]
        if rule is None:
            return []
        before, after = i - 1, i
        params = rule.params
        p = params.get("p")
        out: list[Event] = []

        for g in range(self.nG):
            if self.get(before, "gpreempt", g) == 0 and self.get(after, "gpreempt", g) == 1:
                out.append(Event("preempt-request", i, self.running_p(after, g), g,
                                 f"{rule.name} asks {self.g_names[g]} to preempt"))
        if "preempt" in rule.tags:
            out.append(Event("preempt", i, p, params["g"], f"{self.g_names[params['g']]} preempted ({rule.name})"))
        if self.preempt_blocked(i):
            node = self.op_of(i)
            out.append(Event("preempt-blocked", i, p, params["g"],
                             f"{self.g_names[params['g']]} has a preemption request, but {node.text} is no "
                             f"preemption point under {self.model.profile.label()}"))
        if rule.name in ("runqsteal", "runqsteal(runnext)", "stealWork(timers)"):
            out.append(Event("steal", i, p, None, f"P{p} {rule.name} from P{params['victim']}",
                             victim_p=params["victim"]))

        qb, qa = self.get(before, "gqlen"), self.get(after, "gqlen")
        if qa > qb:
            moved = self.global_queue(after)[-(qa - qb):]
            out.append(Event("to-gq", i, p, moved[-1], f"{', '.join(self.g_names[g] for g in moved)} "
                             f"to the global queue ({rule.name})"))
        elif qa < qb:
            taken = self.global_queue(before)[:qb - qa]
            out.append(Event("from-gq", i, p, taken[0], f"{', '.join(self.g_names[g] for g in taken)} "
                             f"from the global queue ({rule.name})"))

        if rule.name == "entersyscall":
            out.append(Event("syscall", i, p, params["g"], f"{self.g_names[params['g']]} enters a system call"))
        if rule.name.startswith("exitsyscall"):
            out.append(Event("syscall-exit", i, params.get("p"), params["g"],
                             f"{self.g_names[params['g']]} returns from its system call ({rule.name})"))
        for q in range(self.nP):
            was, now = self.get(before, "pstatus", q), self.get(after, "pstatus", q)
            if was == P_SYSCALL and now != P_SYSCALL and not rule.name.startswith("exitsyscall"):
                out.append(Event("handoff", i, q, None,
                                 f"P{q} retaken from a system call, now {P_STATUS_NAMES[now]} ({rule.name})"))
            elif was != P_IDLE and now == P_IDLE:
                out.append(Event("idle", i, q, None, f"P{q} goes idle ({rule.name})"))
            elif was == P_IDLE and now == P_RUNNING:
                out.append(Event("wake", i, q, None, f"P{q} gets an M ({rule.name})"))
            elif was != P_GCSTOP and now == P_GCSTOP:
                out.append(Event("gcstop", i, q, None, f"P{q} stops for the stop-the-world ({rule.name})"))

        for g in range(self.nG):
            was, now = self.get(before, "gstatus", g), self.get(after, "gstatus", g)
            if was == G_WAITING and now == G_RUNNABLE:
                out.append(Event("ready", i, p, g, f"{self.g_names[g]} made runnable ({rule.name})"))
        gb, ga = self.get(before, "gcwaiting"), self.get(after, "gcwaiting")
        if gb != ga:
            out.append(Event("stw-start" if ga else "stw-end", i, p, None,
                             "stop-the-world requested" if ga else "the world starts again"))
        return out
