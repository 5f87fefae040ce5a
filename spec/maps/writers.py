"""Goroutines on different Ps writing one map: how far the runtime detects it.

Each writer is one goroutine running on its own P and doing one map write:
the four flag steps of spec.maps.writeflag around one mutation step.  The
steps of the writers interleave arbitrarily, as threads on two cores do.  The
buckets are left out: the question is only whether the flag protocol raises
"concurrent map writes", and nothing in the protocol reads them.

Memory.  ``sc`` reads and writes the flag in one shared memory, in program
order (sequential consistency).  ``tso`` gives each writer's core a FIFO
store buffer, as x86-TSO does: a write goes to the buffer, a read returns the
core's newest buffered write or else memory, and a ``flush`` step moves the
oldest buffered write to memory at any time.  Every store on amd64 and arm64
may sit in a store buffer, and the runtime writes the flag with plain stores,
so a writer can read a stale flag.

Ghost fields record how the two writes overlapped, in three nested senses:

* ``g_mutating``: one writer acquired the flag while the other was between its
  own acquire and its exit check, the span that encloses the mutation;
* ``g_holding``: one writer acquired the flag while the other held it (between
  acquire and release, or with the release not yet in memory);
* ``g_overlap``: one writer started (its entry check) while the other was
  anywhere in its write, its release not yet in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spec.lang import And, If, Layout, Neg, Or, Property, Rule, set_, when
from spec.maps import writeflag

MAP_SOURCES = {"clear": "runtime/map.go (Go 1.19): mapassign",
               "toggle": "internal/runtime/maps/runtime_fast64.go (Go 1.27): runtime_mapassign_fast64"}

# Phases of one writer, in program order.
START, CHECKED, ACQUIRED, MUTATED, RECHECKED, DONE = range(6)
PHASE_NAMES = ("start", "checked", "acquired", "mutated", "rechecked", "done")
MEMORY = ("sc", "tso")


@dataclass(frozen=True)
class WritersConfig:
    """Size and semantics of the two-writer model."""

    goroutines: int = 2
    memory: str = "sc"
    profile: str = "go1.19"

    @property
    def buffer(self) -> int:
        """Store-buffer entries per core: every flag write of one map write fits."""
        return 2 if self.memory == "tso" else 0


@dataclass
class WritersModel:
    """What the engines see, in the shape of spec.maps.model.MapModel."""

    name: str
    config: WritersConfig
    rules: list[Rule]
    init: list[int]
    properties: list[Property]
    layout: Layout
    fields: dict = field(default_factory=dict)
    free_init: set = field(default_factory=set)
    inputs: set = field(default_factory=set)
    patches: list = field(default_factory=list)
    kind: str = "map-writers"

    def property(self, name: str) -> Property:
        for p in self.properties:
            if p.name == name:
                return p
        raise KeyError(name)


def build_model(cfg: WritersConfig, name: str = "map-writers") -> WritersModel:
    if cfg.memory not in MEMORY:
        raise ValueError(f"memory must be one of {MEMORY}, got {cfg.memory!r}")
    if cfg.profile not in writeflag.RELEASE:
        raise ValueError(f"profile must be one of {sorted(writeflag.RELEASE)}, got {cfg.profile!r}")
    if cfg.goroutines != 2:
        raise ValueError(f"goroutines must be 2, got {cfg.goroutines}")
    W, D = cfg.goroutines, cfg.buffer
    L = Layout()
    flag = L.add("flag_hashWriting", [], 0, 1, "the map's write flag in memory")
    phase = L.add("phase", [W], START, DONE, "writer's step: " + ", ".join(
        f"{i} {n}" for i, n in enumerate(PHASE_NAMES)))
    fatal = L.add("fatal", [], 0, W, "1 + the writer that raised \"concurrent map writes\"; 0: none")
    f = {"flag": flag, "phase": phase, "fatal": fatal}
    if D:
        f["sbn"] = L.add("sb_len", [W], 0, D, "writes waiting in the core's store buffer")
        f["sb"] = L.add("sb", [W, D], 0, 1, "the store buffer's flag values, oldest first")
    f["g_mutating"] = L.add("g_mutating", [], 0, 1, "ghost: the writers' acquire-to-exit-check spans overlapped")
    f["g_holding"] = L.add("g_holding", [], 0, 1, "ghost: one writer acquired the flag while the other held it")
    f["g_overlap"] = L.add("g_overlap", [], 0, 1, "ghost: the two writes overlapped at all")

    def read(w):
        """Return the flag as writer w's core reads it: its newest buffered write, else memory."""
        if not D:
            return flag()
        n = f["sbn"][w]
        return If(n.eq(0), flag(), If(n.eq(1), f["sb"][w, 0], f["sb"][w, 1]))

    def write(w, value):
        if not D:
            return [set_(flag(), value)]
        n = f["sbn"][w]
        return [when(n.eq(0), [set_(f["sb"][w, 0], value)], [set_(f["sb"][w, 1], value)]),
                set_(n, n + 1)]

    def visible(w):
        """Writer w's release has reached memory (trivially so under sc)."""
        done = phase[w].eq(DONE)
        return done if not D else And(done, f["sbn"][w].eq(0))

    def started(w):
        return phase[w] >= CHECKED

    def between(w, lo, hi):
        return And(phase[w] >= lo, phase[w] <= hi)

    release_kind = writeflag.RELEASE[cfg.profile]
    cite = MAP_SOURCES[release_kind]
    rules: list[Rule] = []
    for w in range(W):
        o = 1 - w
        running = fatal().eq(0)
        rules.append(Rule("entry-check", {"w": w}, And(running, phase[w].eq(START)), [
            when(And(started(o), Neg(visible(o))), [set_(f["g_overlap"](), 1)]),
            when(writeflag.entry_fatal(read(w)), [set_(fatal(), w + 1)], [set_(phase[w], CHECKED)])],
            doc=("entry check: the writer reads the flag; set means another writer is active: "
                 "fatal \"concurrent map writes\""),
            cite=f"{cite} (entry check)"))
        rules.append(Rule("acquire", {"w": w}, And(running, phase[w].eq(CHECKED)), [
            when(between(o, ACQUIRED, MUTATED), [set_(f["g_mutating"](), 1)]),
            when(And(phase[o] >= ACQUIRED, Neg(visible(o))), [set_(f["g_holding"](), 1)]),
            *write(w, writeflag.acquire(read(w))),
            set_(phase[w], ACQUIRED)],
            doc="acquire: after hashing the key, the writer toggles the flag it reads and stores the result",
            cite=f"{cite} (acquire)"))
        rules.append(Rule("mutate", {"w": w}, And(running, phase[w].eq(ACQUIRED)), [
            set_(phase[w], MUTATED)],
            doc="mutation: the writer changes the buckets (not modelled, because nothing in the protocol reads them)",
            cite=cite))
        rules.append(Rule("exit-check", {"w": w}, And(running, phase[w].eq(MUTATED)), [
            when(writeflag.exit_fatal(read(w)), [set_(fatal(), w + 1)], [set_(phase[w], RECHECKED)])],
            doc=("exit check: the writer reads the flag again; clear means another writer toggled it: "
                 "fatal \"concurrent map writes\""),
            cite=f"{cite} (exit check)"))
        rules.append(Rule("release", {"w": w}, And(running, phase[w].eq(RECHECKED)), [
            *write(w, writeflag.release(read(w), cfg.profile)),
            set_(phase[w], DONE)],
            doc=("release: the writer clears the flag (h.flags &^= hashWriting)" if release_kind == "clear"
                 else "release: the writer toggles the flag it reads again (m.writing ^= 1)"),
            cite=f"{cite} (release)"))
        if D:
            n, sb = f["sbn"][w], f["sb"]
            rules.append(Rule("flush", {"w": w}, And(running, n > 0), [
                set_(flag(), sb[w, 0]), set_(sb[w, 0], sb[w, 1]), set_(n, n - 1)],
                urgent=False,
                doc="flush: the core's oldest buffered store reaches memory",
                cite="x86-TSO store buffer; the runtime stores the flag without a fence"))
    init = [0] * L.size
    both_done = And(*[phase[w].eq(DONE) for w in range(W)])
    clean = fatal().eq(0)
    props = [
        Property("detected", "invariant",
                 "two writes whose acquire-to-exit-check spans overlap end in \"concurrent map writes\"",
                 Neg(And(both_done, clean, f["g_mutating"]().eq(1)))),
        Property("detected-while-held", "invariant",
                 "a writer that acquires the flag while the other holds it leads to \"concurrent map writes\"",
                 Neg(And(both_done, clean, f["g_holding"]().eq(1)))),
        Property("no-false-alarm", "invariant",
                 "\"concurrent map writes\" is raised only when the two writes overlap",
                 Or(clean, f["g_overlap"]().eq(1))),
    ]
    return WritersModel(name, cfg, rules, init, props, L, f)


def diameter(cfg: WritersConfig) -> int:
    """Steps of the longest run: five per writer, plus one flush per buffered write.

    BMC to this depth covers every run, so ``holds`` at this depth is a proof.
    """
    return cfg.goroutines * (5 + cfg.buffer)
