"""The hashWriting protocol of map writes: the runtime's best-effort check for concurrent writers.

Every map write (mapassign, mapdelete, mapclear; Go 1.24+: the Swiss map's
assign, delete and clear) brackets its mutation with four steps on one flag:

1. entry check: the flag is set, so another goroutine is writing: fatal
   "concurrent map writes";
2. acquire: the flag is toggled (``h.flags ^= hashWriting``; Go 1.24+:
   ``m.writing ^= 1``), after the key is hashed, so a panicking hash function
   leaves the flag as it was;
3. exit check: the flag is clear, so another writer toggled it meanwhile:
   fatal "concurrent map writes";
4. release: Go 1.19 clears the flag (``h.flags &^= hashWriting``); Go 1.24+
   toggles it again (``m.writing ^= 1``).

The flag is a plain field written without atomics or fences, so the check is
best-effort: it catches writers that overlap in a sequentially consistent
memory and can miss them when a core reads a stale value.

Sources: runtime/map.go (Go 1.19): mapassign, mapdelete, mapclear;
internal/runtime/maps/runtime_fast64.go and map.go (Go 1.27):
runtime_mapassign_fast64, Map.PutSlot, Map.Delete, Map.Clear.

The functions below take and return expressions of the modelling language, so
the classic map rules and the two-writer model state the protocol once.
"""

from __future__ import annotations

from spec.lang import Expr, lift

# How each runtime releases the flag at the end of a write.
RELEASE = {"go1.13": "clear", "go1.19": "clear", "go1.27": "toggle"}


def entry_fatal(flag: Expr) -> Expr:
    """Step 1: the write starts while the flag is set."""
    return lift(flag).eq(1)


def acquire(flag: Expr) -> Expr:
    """Step 2: the flag's new value, toggled."""
    return 1 - lift(flag)


def exit_fatal(flag: Expr) -> Expr:
    """Step 3: the write ends while the flag is clear."""
    return lift(flag).eq(0)


def release(flag: Expr, profile: str) -> Expr:
    """Step 4: the flag's new value: cleared (Go 1.19) or toggled (Go 1.24+)."""
    if RELEASE[profile] == "clear":
        return lift(0)
    return 1 - lift(flag)
