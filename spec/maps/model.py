"""Assemble a map model: state layout, rules, initial state, properties.

The initial state is ``make(map[k]v, hint)`` (runtime/map.go: makemap): B is
the smallest with !overLoadFactor(hint, B), and a map with B > 0 gets its
bucket array at once.  ``free_init`` names the initial slots BMC leaves free
(the hashes of keys without a fixed hash) and ``inputs`` the slots that are
free in every state (the environment's choices, see spec.maps.state).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spec.lang import Layout, Property, Rule
from spec.maps.properties import properties
from spec.maps.rules import Builder
from spec.maps.state import MapConfig, MapState
from spec.patch import PatchError, check_patched_rules


@dataclass
class MapModel:
    """What the engines see: layout, rules, initial state, properties and the free slots."""

    name: str
    config: MapConfig
    state: MapState
    rules: list[Rule]
    init: list[int]
    properties: list[Property]
    free_init: set[int]
    inputs: set[int]
    builder: Builder
    patches: list = field(default_factory=list)
    kind: str = "map"

    @property
    def layout(self) -> Layout:
        return self.state.layout

    def property(self, name: str) -> Property:
        for p in self.properties:
            if p.name == name:
                return p
        raise KeyError(name)


def over_load_factor(cfg: MapConfig, count: int, b: int) -> bool:
    return count > cfg.slots and count > cfg.load_num * ((1 << b) // cfg.load_den)


def initial_b(cfg: MapConfig) -> int:
    """makemap: the smallest B that holds ``hint`` entries."""
    b = 0
    while over_load_factor(cfg, cfg.hint, b):
        b += 1
    return b


def initial_state(H: MapState) -> list[int]:
    cfg = H.cfg
    s = [lo for lo, _ in H.layout.slot_ranges()]
    for f in H.layout.fields.values():
        if f.lo <= 0 <= f.hi:
            s[f.base:f.base + f.size] = [0] * f.size
    b = initial_b(cfg)
    if b > cfg.max_b:
        raise ValueError(f"hint {cfg.hint} needs B = {b}, more than max_b = {cfg.max_b}")
    s[H.B.base] = b
    s[H.alloc.base] = 1
    if b > 0:
        n = 1 << b
        if 1 + n > H.N:
            raise ValueError(f"pool of {H.N} records cannot hold the initial {n} buckets")
        s[H.buckets.base] = 1
        s[H.alloc.base] = 1 + n
        for r in range(1, 1 + n):
            s[H.home.base + r] = 1
    for i in range(H.NI):
        s[H.it_check.base + i] = H.no_check
    for k, spec in enumerate(cfg.keys):
        if spec.tophash is not None:
            s[H.ktop.base + k] = spec.tophash
        if spec.low is not None:
            for j in range(H.nbits):
                s[H.kbit.base + k * H.nbits + j] = (spec.low >> j) & 1
    return s


def free_hash_slots(H: MapState) -> set[int]:
    out = set()
    for k, spec in enumerate(H.cfg.keys):
        if spec.nan:
            continue
        if spec.tophash is None:
            out.add(H.ktop.base + k)
        if spec.low is None:
            out.update(H.kbit.base + k * H.nbits + j for j in range(H.nbits))
    return out


def build_model(cfg: MapConfig, name: str = "map", patches=()) -> MapModel:
    """Build the map model for ``cfg`` with ``patches`` (spec.patch.Patch) applied in order."""
    from spec.sched.model import apply_patch  # the patch protocol is shared with the scheduler
    H = MapState(cfg)
    b = Builder(H)
    targets = [apply_patch(b, patch, "maps") for patch in patches]
    try:
        rules = b.build()
    except Exception as e:  # noqa: BLE001 - a wrapped helper is user code; with patches, any failure is theirs
        if not patches:
            raise
        names = ", ".join(f"{p.name} ({p.source})" for p in patches)
        raise PatchError(f"{patches[-1].source}: building the map rules failed with patches {names}: "
                         f"{type(e).__name__}: {e}") from e
    for target in targets:
        rules = target.edit_rules(rules)
    check_patched_rules(rules, patches)
    b.rules = rules
    inputs = set()
    for f in H.input_fields():
        inputs.update(range(f.base, f.base + f.size))
    return MapModel(name, cfg, H, rules, initial_state(H), properties(H, b), free_hash_slots(H), inputs, b,
                    list(patches))


def build_for(sc, patches=(), profile: str | None = None):
    """The model a map scenario (spec.maps.scenario.MapScenario) describes.

    ``profile`` overrides the runtime a [writers] scenario follows.  The classic
    map model follows Go 1.19's runtime/map.go and accepts only go1.19.
    """
    if sc.writers is not None:
        from dataclasses import replace

        from spec.maps.writers import build_model as build_writers
        if patches:
            raise PatchError(f"{patches[0].source}: patches apply to the scheduler and the classic map "
                             f"model; {sc.name} is a two-writer scenario")
        cfg = sc.writers if profile is None else replace(sc.writers, profile=profile)
        return build_writers(cfg, sc.name)
    if profile not in (None, "go1.19"):
        from spec.maps.scenario import MapScenarioError
        raise MapScenarioError(f"--profile {profile}: the classic map model follows Go 1.19's runtime/map.go "
                               f"only (Go 1.24 and newer use Swiss tables); drop --profile or use go1.19")
    return build_model(sc.config, sc.name, patches)
