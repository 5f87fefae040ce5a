"""Assemble the scheduler model of a scenario under a runtime profile.

``build_model`` instantiates every rule template for the scenario's Ps, Gs and
body nodes, and computes the initial state by running the ``main`` rule (the
program's main goroutine creating the start goroutines with newproc, in the
order the scenario lists them) on the all-zero state with the concrete
semantics, so the initial placement follows the same runqput rule as the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spec.lang import TRUE, And, Layout, Named, Neg, Or, Property, Rule, set_
from spec.patch import Patch, PatchError, PatchTarget, check_patched_rules, patch_where
from spec.profiles import Profile, get_profile
from spec.scenario import Node, Scenario
from spec.sched.ops import OPS
from spec.sched.properties import properties
from spec.sched.queues import runqput
from spec.sched.rules import Builder
from spec.sched.state import G_RUNNABLE, P_RUNNING, SchedState

EXIT_TEXT = "exit (end of body)"


@dataclass
class Model:
    """A model instance: layout, rules, initial state and properties.

    This is the whole interface the engines in checker/ see.
    """

    scenario: Scenario
    profile: Profile
    state: SchedState
    rules: list[Rule]
    init: list[int]
    properties: list[Property]
    g_names: list[str]
    bodies: list[list[Node]]
    ready: list = field(default_factory=list)  # per G: expression "ready to run"
    init_rule: Rule | None = None
    patches: list = field(default_factory=list)  # spec.patch.Patch objects applied

    @property
    def layout(self) -> Layout:
        return self.state.layout

    def property(self, name: str) -> Property:
        for p in self.properties:
            if p.name == name:
                return p
        raise KeyError(name)


def _with_exit(body: list[Node]) -> list[Node]:
    """Append an explicit exit node where a body falls off its end."""
    if all(n.next != -1 for n in body):
        return list(body)
    end = len(body)
    out = [Node(n.op, n.arg, n.text, end if n.next == -1 else n.next) for n in body]
    out.append(Node(OPS["exit"], None, EXIT_TEXT, -1))
    return out


def build_model(scenario: Scenario, profile: str | None = None, asyncpreemptoff: bool | None = None,
                patches=()) -> Model:
    """Build the model of ``scenario`` under a runtime profile, with ``patches``
    (spec.patch.Patch objects) applied in order."""
    prof = get_profile(profile or scenario.profile,
                       scenario.asyncpreemptoff if asyncpreemptoff is None else asyncpreemptoff)
    bodies, kinds, names = [], [], []
    for gs in scenario.goroutines:
        body = _with_exit(gs.body)
        for i in range(gs.count):
            bodies.append(body)
            kinds.append(gs.name)
            names.append(gs.name if gs.count == 1 else f"{gs.name}#{i}")
    nG = len(bodies)
    chans = scenario.channels()
    max_ticks = max([n.arg for b in bodies for n in b if n.op.arg == "ticks"] + [1])
    sz = scenario.sizes
    network = any(n.op.name == "netread" for b in bodies for n in b)
    S = SchedState(scenario.gomaxprocs, nG, len(chans), sz.runq_size,
                   max(len(b) for b in bodies) - 1, sz.timeslice_ticks, sz.fairness_period, sz.bound, max_ticks,
                   network)

    b = Builder(S, prof, bodies, kinds, len(chans))
    b.chan_index = {c: i for i, c in enumerate(chans)}
    targets = [apply_patch(b, patch) for patch in patches]
    try:
        b.schedule_rules()
        b.op_rules()
        b.syscall_rules()
        b.stw_rules()
        b.tick_rule()
    except Exception as e:  # noqa: BLE001 - a wrapped helper is user code; with patches, any failure is theirs
        if not patches:
            raise
        names = ", ".join(f"{p.name} ({p.source})" for p in patches)
        raise PatchError(f"{patches[-1].source}: building the rules failed with patches {names}: "
                         f"{type(e).__name__}: {e}; check the wrapped helpers' arguments") from e
    for target in targets:
        b.rules = target.edit_rules(b.rules)
    check_patched_rules(b.rules, patches)
    # Urgent rules (the runtime's own work: schedule, ready, handoff, syscall exit)
    # take no time and run before any goroutine executes its next operation and
    # before the clock moves.
    calm = Named("calm", Neg(Or(*[r.guard for r in b.rules if r.urgent])))
    for r in b.rules:
        if not r.urgent:
            r.guard = And(r.guard, calm)

    init_rule = main_rule(S, scenario, kinds, b)
    from checker.concrete import compile_rule  # the init state is computed, not written by hand
    _, step = compile_rule(init_rule)
    init = step([0] * S.layout.size)
    return Model(scenario, prof, S, b.rules, init, properties(S), names, bodies,
                 [b.ready_to_run(g) for g in range(nG)], init_rule, list(patches))


MODEL_NAMES = {"sched": "scheduler", "maps": "map"}


def apply_patch(b: Builder, patch: Patch, model: str = "sched") -> PatchTarget:
    """Run ``patch.apply`` on the builder ``b`` of a ``model`` ("sched" or "maps") model.

    Its rule edits are applied once the rules exist.
    """
    if patch.model != model:
        have, want = MODEL_NAMES.get(patch.model, patch.model), MODEL_NAMES[model]
        raise PatchError(f"{patch_where(patch)} changes the {have} model; "
                         f"apply it to a {have} scenario, not a {want} scenario (gmpcheck patches lists them)")
    target = PatchTarget(b, patch)
    try:
        patch.apply(target)
    except PatchError:
        raise
    except Exception as e:  # noqa: BLE001 - a patch is user code; its failure is reported as one line
        raise PatchError(f"{patch.source}: patch {patch.name!r}: apply() failed: {type(e).__name__}: {e}") from e
    return target


def main_rule(S: SchedState, scenario: Scenario, kinds: list[str], b: Builder) -> Rule:
    """The program's start: P0 runs schedule after main created the start goroutines.

    runtime/proc.go: newproc puts each new G in runnext of the creating P; the
    previous runnext moves to the ring's tail.  Main itself is not modelled: it
    is taken to be blocked once it has started the goroutines.
    """
    body = [set_(S.pstatus[0], P_RUNNING), set_(S.curg[0], 0)]
    for g, kind in enumerate(kinds):
        if scenario.goroutine(kind).start:
            body += [set_(S.gstatus[g], G_RUNNABLE), runqput(S, 0, g + 1, next=True)]
    body += b.wakep()
    return Rule("main", {}, TRUE, body,
                doc="main created the start goroutines with newproc and blocked")
