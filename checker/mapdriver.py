"""A concrete driver for map models: run operations by name and read layouts back.

The driver owns the environment's choices that the model takes from its input
fields (spec.maps.state): it writes them before each step, from a random
generator or from the caller (the values of an assignment, the fastrand draws
of mapiterinit, NaN hashes, the key hashes under a new seed).
"""

from __future__ import annotations

import random

from checker.concrete import ConcreteModel
from spec.maps.state import IT_BETWEEN, IT_DONE, IT_IN_NEXT, MIN_TOP_HASH


def tophash(h: int) -> int:
    """runtime/map.go tophash: the top byte of a 64-bit hash, raised by minTopHash when below it."""
    top = (h >> 56) & 0xFF
    return top + MIN_TOP_HASH if top < MIN_TOP_HASH else top


class MapError(AssertionError):
    """An operation could not run: its rule is not enabled in the current state."""


class MapDriver:
    """Runs map operations on a ConcreteModel of a map model.

    ``hashes(k) -> int`` gives key k's 64-bit hash under the current seed; it is
    called again for every key after a reseed (``reseeds`` counts them).
    """

    def __init__(self, model, concrete: ConcreteModel | None = None, seed: int = 0, hashes=None):
        self.model = model
        self.H = model.state
        self.cm = concrete or ConcreteModel(model)
        self.rng = random.Random(seed)
        self.reseeds = 0
        self.hashes = hashes or (lambda k: self.rng.getrandbits(64))
        self.state = list(self.cm.init)
        self.labels = self.cm.by_label
        self.steps = 0
        for k in range(self.H.K):
            if not self.H.nan[k]:
                self.set_hash(self.state, k, self.hashes(k))

    # -- inputs ------------------------------------------------------------------

    def set_hash(self, s, k: int, h: int, top_field=None, bit_field=None) -> None:
        H = self.H
        top_field = top_field or H.ktop
        bit_field = bit_field or H.kbit
        s[top_field.base + k] = tophash(h)
        for j in range(H.nbits):
            s[bit_field.base + k * H.nbits + j] = (h >> j) & 1

    def draw_inputs(self, s, key=None, value=None, start=None, offset=None) -> None:
        H, rng = self.H, self.rng
        if key is not None:
            s[H.in_key.base] = key + 1
        s[H.in_val.base] = value if value is not None else rng.randint(1, H.in_val.hi)
        s[H.in_start.base] = rng.randrange(H.nbmax) if start is None else start
        s[H.in_offset.base] = rng.randrange(H.S) if offset is None else offset
        nan_hash = rng.getrandbits(64)
        s[H.in_top.base] = tophash(nan_hash)
        for j in range(H.nbits):
            s[H.in_bit.base + j] = (nan_hash >> j) & 1
        for j in range(H.in_etop.size):
            s[H.in_etop.base + j] = tophash(rng.getrandbits(64))
            s[H.in_ebit.base + j] = rng.getrandbits(1)

    def draw_reseed(self, s) -> None:
        """Fill in_ktop/in_kbit with the hashes under the next seed."""
        H = self.H
        for k in range(H.K):
            if not H.nan[k]:
                self.set_hash(s, k, self.hashes(k), H.in_ktop, H.in_kbit)

    # -- steps -------------------------------------------------------------------

    def label(self, rule: str, key: int | None = None, it: int | None = None) -> str:
        if it is not None:
            return f"{rule}(it={it})"
        if key is not None and not self.model.config.key_from_input:
            return f"{rule}(k={self.model.config.keys[key].name})"
        return rule

    def fire(self, rule: str, key: int | None = None, it: int | None = None, reseed=None, **inputs) -> None:
        lab = self.label(rule, key, it)
        i = self.labels.get(lab)
        if i is None:
            raise MapError(f"no rule {lab!r} in this model")
        s = list(self.state)
        self.draw_inputs(s, key=key, **inputs)
        if rule in ("mapdelete", "mapclear"):
            if reseed is not None:
                reseed(s)
            else:
                self.draw_reseed(s)
        if not self.cm.compiled[i][0](s):
            raise MapError(f"{lab} is not enabled")
        self.state = self.cm.step(s, i)
        self.steps += 1
        H = self.H
        if rule in ("mapdelete", "mapclear") and self.state[H.count.base] == 0 and s[H.count.base] != 0:
            self.reseeds += 1

    def assign(self, k: int, v: int, **kw) -> None:
        self.fire("mapassign", key=k, value=v, **kw)

    def delete(self, k: int, **kw) -> None:
        self.fire("mapdelete", key=k, **kw)

    def clear(self, **kw) -> None:
        self.fire("mapclear", **kw)

    def lookup(self, k: int):
        """Run mapaccess for key k; return its value or None."""
        self.fire("mapaccess", key=k)
        H, s = self.H, self.state
        return s[H.acc_val.base] if s[H.acc_found.base] else None

    def iter_start(self, it: int = 0, start=None, offset=None):
        """Start a range loop; return the first (key, value) or None when the map is empty."""
        self.fire("mapiterinit", it=it, start=start, offset=offset)
        return self.iter_finish_call(it)

    def iter_next(self, it: int = 0):
        """The next (key, value) of the range loop, or None at its end."""
        self.fire("mapiternext", it=it)
        return self.iter_finish_call(it)

    def iter_finish_call(self, it: int):
        H = self.H
        while self.state[H.it_state.base + it] == IT_IN_NEXT:
            self.fire("mapiternext", it=it)
        st = self.state[H.it_state.base + it]
        if st == IT_DONE:
            return None
        assert st == IT_BETWEEN, st
        return self.state[H.it_key.base + it] - 1, self.state[H.it_val.base + it]

    def range_all(self, it: int = 0, **kw):
        out = []
        kv = self.iter_start(it, **kw)
        while kv is not None:
            out.append(kv)
            kv = self.iter_next(it)
        return out

    # -- reading ------------------------------------------------------------------

    def violated(self):
        return self.cm.violated_invariants(self.state)

    def chain(self, rec: int):
        """The bucket chain from record ``rec``: a list of (tophash, keys, values) per bucket."""
        H, s = self.H, self.state
        out = []
        while rec:
            base = rec * H.S
            out.append({"tophash": s[H.top.base + base:H.top.base + base + H.S],
                        "keys": s[H.key.base + base:H.key.base + base + H.S],
                        "values": s[H.val.base + base:H.val.base + base + H.S]})
            rec = s[H.ovf.base + rec]
        return out

    def layout(self) -> dict:
        """The map's layout: hmap fields and every chain of buckets and oldbuckets.

        Keys are key indices + 1 (0: the zero key), as the model stores them.
        """
        H, s = self.H, self.state
        b = s[H.B.base]
        flags = (s[H.f_iterator.base] + 2 * s[H.f_olditerator.base] + 4 * s[H.f_writing.base]
                 + 8 * s[H.f_samesize.base])
        out = {"B": b, "count": s[H.count.base], "flags": flags, "noverflow": s[H.noverflow.base],
               "nevacuate": s[H.nevacuate.base]}
        base = s[H.buckets.base]
        out["buckets"] = None if base == 0 else [self.chain(base + j) for j in range(1 << b)]
        old = s[H.oldbuckets.base]
        if old == 0:
            out["oldbuckets"] = None
        else:
            nold = 1 << (b - 1 + s[H.f_samesize.base])
            out["oldbuckets"] = [self.chain(old + j) for j in range(nold)]
        return out
