"""The classic Go map's state (Go 1.0 to 1.23 design, read from Go 1.19's runtime/map.go).

Memory.  Buckets live in one pool of ``pool`` bucket records.  Record 0 is the
nil bucket: it is never written, so reading through a nil pointer sees an empty
bucket (tophash emptyRest, no overflow).  A bucket array of 2^B buckets is
``2^B`` consecutive records starting at ``buckets`` (or ``oldbuckets``); an
overflow bucket is one record linked from the ``ovf`` slot of the bucket before
it, so every chain is explicit and in the runtime's order.  Records are handed
out by a bump pointer (``alloc``) and never reused: the runtime's garbage
collector frees an old array only when nothing refers to it, and an iterator
may refer to it for as long as it runs.  Fresh records are zero, as newarray's
memory is.

Keys.  A slot's key is a key index + 1 (0 is the zero key left by a delete that
clears keys with pointers).  Each key's hash under the current seed is state:
its tophash (``ktop``, minTopHash already applied) and its low bits
(``kbit``), which give the bucket (hash & bucketMask(B)) and the X/Y split of
evacuation (hash & newbit).  BMC leaves them free (every collision pattern);
concrete runs set them from real hashes.  A NaN key is not equal to itself:
each hash of it is random, so its hashes come from the input fields.

Inputs.  The ``in_*`` fields are the environment's choices for the next step:
the key and value of an operation (when rules take the key from the state),
the fastrand draws of mapiterinit, the random hashes of NaN keys, and the new
key hashes after a reseed (hash0 = fastrand()).  BMC leaves them free in every
state; concrete drivers write them before each step.

Ghost fields (``g_*`` and ``home``) are not runtime state.  They record the
map's abstract contents (a dict) and what each iteration returned, so the
properties can compare the runtime structure against them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spec.lang import Const, If, Layout, lift

# tophash values, runtime/map.go constants.
EMPTY_REST, EMPTY_ONE, EVACUATED_X, EVACUATED_Y, EVACUATED_EMPTY, MIN_TOP_HASH = 0, 1, 2, 3, 4, 5

# hmap.flags bits, runtime/map.go constants.
ITERATOR, OLD_ITERATOR, HASH_WRITING, SAME_SIZE_GROW = 1, 2, 4, 8

# fatal errors the runtime raises on misuse, by code.
FATAL_NONE, FATAL_WRITES, FATAL_ITER_WRITE, FATAL_READ_WRITE = 0, 1, 2, 3
FATAL_TEXT = {1: "concurrent map writes", 2: "concurrent map iteration and map write",
              3: "concurrent map read and map write"}

# Model bounds exceeded, by code.  These are limits of the model, not runtime states.
BOUND_POOL, BOUND_CHAIN, BOUND_B = 1, 2, 3
BOUND_TEXT = {1: "bucket pool exhausted", 2: "a bucket chain is longer than the unrolled chain length",
              3: "B would exceed max_b"}

# Iterator states: a range loop that has not started or has finished, one
# between mapiternext calls (the loop body runs), and one inside a mapiternext
# call that has not returned yet.
IT_IDLE, IT_BETWEEN, IT_IN_NEXT, IT_DONE = 0, 1, 2, 3

OPS = ("assign", "delete", "lookup", "iterate", "clear")


@dataclass
class KeySpec:
    """One key of the key table: a name, NaN or not, and an optional fixed hash.

    ``tophash`` is the top byte of the hash after minTopHash adjustment and
    ``low`` the hash's low bits (hash & (2^max_b - 1)).  None leaves them to the
    solver (BMC) or to the concrete driver.
    """

    name: str
    nan: bool = False
    tophash: int | None = None
    low: int | None = None


@dataclass
class MapConfig:
    """Sizes and type properties of one map model instance."""

    slots: int = 8                  # bucketCnt
    max_b: int = 2                  # largest B the model allocates
    chain: int = 3                  # bucket records per chain the scans unroll (bucket + overflows)
    pool: int = 24                  # bucket records, record 0 being nil
    max_value: int = 3              # values are 0..max_value (0: cleared)
    iterators: int = 1
    max_entries: int = 3            # entries per key: 1 for ordinary keys, up to this for NaN
    load_num: int = 13              # overLoadFactor: count > loadFactorNum * (2^B / loadFactorDen)
    load_den: int = 2
    hint: int = 0                   # make(map[k]v, hint)
    key_pointers: bool = False      # t.key.ptrdata != 0: mapdelete clears the key
    bucket_pointers: bool = False   # t.bucket.ptrdata != 0: evacuate may clear old buckets
    keys: list[KeySpec] = field(default_factory=list)
    key_from_input: bool = False    # one rule per operation, key in in_key (real-size runs)
    ops: tuple[str, ...] = OPS
    reseed: bool = True             # hash0 = fastrand() on clear and on a delete that empties the map
    lookup_invariant: bool = True   # include the per-key lookup walk as an invariant (small sizes)
    iter_units: int = 1             # bucket records one mapiternext step examines
    # Distinct tophash values a key's hash may have (from minTopHash up).  Rules
    # only compare tophashes for equality, test them against the empty and
    # evacuated marks (all below minTopHash) and take the low bit of a NaN's,
    # so keys + 2 values give every collision and parity pattern.  251: all.
    tophash_values: int = 251

    @property
    def nkeys(self) -> int:
        return len(self.keys)

    @property
    def nbits(self) -> int:
        return max(1, self.max_b)


class MapState:
    """The field layout of one map model instance."""

    def __init__(self, cfg: MapConfig):
        self.cfg = cfg
        S, N, K, NI = cfg.slots, cfg.pool, cfg.nkeys, cfg.iterators
        if S < 2 or S & (S - 1):
            raise ValueError(f"slots must be a power of two >= 2, got {S}")
        if K < 1:
            raise ValueError("the key table is empty")
        self.S, self.N, self.K, self.NI, self.L = S, N, K, NI, cfg.chain
        self.nbits = cfg.nbits
        self.nbmax = 1 << cfg.max_b
        self.no_check = self.nbmax  # noCheck: a bucket index no bucket has
        self.nan = [k.nan for k in cfg.keys]
        T = MIN_TOP_HASH + cfg.tophash_values - 1  # largest tophash a hash may give
        if not 2 <= cfg.tophash_values <= 251:
            raise ValueError(f"tophash_values must be 2..251, got {cfg.tophash_values}")
        C = cfg.max_entries
        V = cfg.max_value
        L = self.layout = Layout()
        add = L.add
        # hmap.
        self.count = add("count", [], 0, N * S, "h.count: live entries")
        self.B = add("B", [], 0, cfg.max_b, "h.B: log2 of the number of buckets")
        self.f_iterator = add("flag_iterator", [], 0, 1, "h.flags & iterator")
        self.f_olditerator = add("flag_oldIterator", [], 0, 1, "h.flags & oldIterator")
        self.f_writing = add("flag_hashWriting", [], 0, 1, "h.flags & hashWriting")
        self.f_samesize = add("flag_sameSizeGrow", [], 0, 1, "h.flags & sameSizeGrow")
        self.noverflow = add("noverflow", [], 0, N, "h.noverflow (exact: B < 16)")
        self.nevacuate = add("nevacuate", [], 0, self.nbmax, "h.nevacuate: old buckets below it are evacuated")
        self.buckets = add("buckets", [], 0, N - 1, "h.buckets: first record of the array; 0: nil")
        self.oldbuckets = add("oldbuckets", [], 0, N - 1, "h.oldbuckets: first record of the old array; 0: nil")
        self.fatal = add("fatal", [], 0, 3, "fatal error raised (1 writes, 2 iteration and write, 3 read and write)")
        self.bounds = add("bounds", [], 0, 3, "model bound exceeded (1 pool, 2 chain length, 3 max_b)")
        # Bucket memory.
        self.alloc = add("alloc", [], 1, N, "next unused record")
        self.top = add("tophash", [N, S], 0, 255, "b.tophash[i]")
        self.key = add("key", [N, S], 0, K, "key index + 1 in slot i; 0: zero key")
        self.val = add("value", [N, S], 0, V, "value in slot i; 0: zero value")
        self.ovf = add("overflow", [N], 0, N - 1, "b.overflow: next record of the chain; 0: nil")
        self.home = add("home", [N], 0, 2, "ghost: record is in the current table (1), the old one (2), neither (0)")
        # Hashes under the current seed.
        self.ktop = add("ktop", [K], MIN_TOP_HASH, T, "tophash(hash(key))")
        self.kbit = add("kbit", [K, self.nbits], 0, 1, "bit j of hash(key)")
        # Inputs.
        self.in_key = add("in_key", [], 1, K, "input: key index + 1 of the next operation")
        self.in_val = add("in_val", [], 1, max(1, V), "input: value the next assignment stores")
        self.in_start = add("in_start", [], 0, self.nbmax - 1, "input: fastrand bits that pick it.startBucket")
        self.in_offset = add("in_offset", [], 0, S - 1, "input: fastrand bits that pick it.offset")
        self.in_top = add("in_top", [], MIN_TOP_HASH, T, "input: tophash of a NaN key's random hash")
        self.in_bit = add("in_bit", [self.nbits], 0, 1, "input: low bits of a NaN key's random hash")
        self.in_etop = add("in_etop", [2, self.L * S], MIN_TOP_HASH, T,
                           "input: tophash of the random hash evacuate draws for a NaN entry")
        self.in_ebit = add("in_ebit", [2, self.L * S], 0, 1,
                           "input: hash & newbit of the random hash evacuate draws for a NaN entry")
        self.in_ktop = add("in_ktop", [K], MIN_TOP_HASH, T, "input: tophash of each key under a new seed")
        self.in_kbit = add("in_kbit", [K, self.nbits], 0, 1, "input: hash bits of each key under a new seed")
        # Iterators (hiter, plus mapiternext's locals while a call is in progress).
        self.it_state = add("it_state", [NI], 0, 3, "0 idle, 1 between mapiternext calls, 2 inside one, 3 done")
        self.it_B = add("it_B", [NI], 0, cfg.max_b, "it.B")
        self.it_buckets = add("it_buckets", [NI], 0, N - 1, "it.buckets")
        self.it_start = add("it_startBucket", [NI], 0, self.nbmax - 1, "it.startBucket")
        self.it_offset = add("it_offset", [NI], 0, S - 1, "it.offset")
        self.it_wrapped = add("it_wrapped", [NI], 0, 1, "it.wrapped")
        self.it_bucket = add("it_bucket", [NI], 0, self.nbmax - 1, "it.bucket")
        self.it_bptr = add("it_bptr", [NI], 0, N - 1, "it.bptr; 0: nil")
        self.it_i = add("it_i", [NI], 0, S, "it.i")
        self.it_check = add("it_checkBucket", [NI], 0, self.no_check, "it.checkBucket (noCheck = 2^max_b)")
        self.it_key = add("it_key", [NI], 0, K, "it.key: key index + 1 returned last; 0: nil")
        self.it_val = add("it_elem", [NI], 0, V, "value returned last")
        # Ghost: the abstract map and each iteration's record.
        self.g_cnt = add("g_count", [K], 0, C, "ghost: entries of the key in the abstract map")
        self.g_val = add("g_value", [K], 0, V, "ghost: the key's value in the abstract map")
        self.g_start = add("g_start", [NI, K], 0, C, "ghost: entries of the key when the iteration started")
        self.g_stay = add("g_stay", [NI, K], 0, C, "ghost: fewest entries of the key since the iteration started")
        self.g_seen = add("g_seen", [NI, K], 0, C + 1, "ghost: times the iteration returned the key (saturates)")
        self.g_ins = add("g_inserted", [NI, K], 0, C + 1, "ghost: entries of the key inserted during the iteration")
        self.g_itbad = add("g_iter_bad", [NI], 0, 1, "ghost: the iteration returned an absent key or an old value")
        self.acc_found = add("acc_found", [], 0, 1, "result of the last lookup: found")
        self.acc_val = add("acc_value", [], 0, V, "result of the last lookup: value")
        self.g_accbad = add("g_lookup_bad", [], 0, 1, "ghost: a lookup disagreed with the abstract map")

    # -- helpers -----------------------------------------------------------------

    def input_fields(self):
        return [f for f in self.layout.fields.values() if f.name.startswith("in_")]

    def pow2(self, b, hi: int | None = None):
        """2^b for an expression b in 0..hi (max_b by default)."""
        b = lift(b)
        if isinstance(b, Const):
            return Const(1 << b.value)
        hi = self.cfg.max_b if hi is None else hi
        out = lift(1 << hi)
        for v in reversed(range(hi)):
            out = If(b.eq(v), 1 << v, out)
        return out

    def low_bits(self, bits, b):
        """hash & bucketMask(b): the value of the first b of ``bits`` (b an expression 0..max_b)."""
        b = lift(b)
        sums = [Const(0)]
        acc = None
        for j in range(len(bits)):
            term = bits[j] * (1 << j) if j else lift(bits[j])
            acc = term if acc is None else acc + term
            sums.append(acc)
        if isinstance(b, Const):
            return sums[b.value]
        out = sums[len(bits)]
        for v in reversed(range(len(bits))):
            out = If(b.eq(v), sums[v], out)
        return out

    def mod_pow2(self, x, b):
        """x mod 2^b for 0 <= x < 2^max_b (the low b bits of x)."""
        x, b = lift(x), lift(b)
        out = x
        for v in reversed(range(self.cfg.max_b)):
            out = If(b.eq(v), x - (x // (1 << v)) * (1 << v) if v else Const(0), out)
        return out

    def div_pow2(self, x, b):
        """x >> b for 0 <= x <= 2^max_b and b in 0..max_b."""
        x, b = lift(x), lift(b)
        out = x // (1 << self.cfg.max_b)
        for v in reversed(range(self.cfg.max_b)):
            out = If(b.eq(v), x // (1 << v) if v else x, out)
        return out

    def is_nan(self, kv):
        """The key in a slot or operation (index + 1) is NaN: not equal to itself."""
        kv = lift(kv)
        nans = [i + 1 for i, n in enumerate(self.nan) if n]
        if isinstance(kv, Const):
            return lift(kv.value in nans)
        if not nans:
            return Const(0)
        return kv.eq(nans[0]) if len(nans) == 1 else _in(kv, nans)

    def kix(self, kv):
        """Key table index of a key value (index + 1); a zero key reads entry 0."""
        kv = lift(kv)
        if isinstance(kv, Const):
            return Const(max(kv.value - 1, 0))
        return If(kv > 0, kv - 1, 0)

    def key_hash(self, kv):
        """(tophash, bits) of a non-NaN key under the current seed."""
        ix = self.kix(kv)
        return self.ktop[ix], [self.kbit[ix, j] for j in range(self.nbits)]

    def evacuated(self, rec):
        """evacuated(b): b.tophash[0] is evacuatedX, evacuatedY or evacuatedEmpty."""
        t = self.top[rec, 0]
        return (t > EMPTY_ONE) & (t < MIN_TOP_HASH)

    def old_b(self):
        """log2 of noldbuckets(): B - 1, or B in a same-size grow."""
        return self.B() - 1 + self.f_samesize()

    def flags(self):
        return (self.f_iterator() * ITERATOR + self.f_olditerator() * OLD_ITERATOR
                + self.f_writing() * HASH_WRITING + self.f_samesize() * SAME_SIZE_GROW)


def _in(e, values):
    from spec.lang import In
    return In(e, values)
