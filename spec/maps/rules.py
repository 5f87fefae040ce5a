"""Map rules: one per runtime operation of the classic map (Go 1.19's runtime/map.go).

Each rule mirrors its runtime function's control flow.  Loops are unrolled
when the rules are built: over the bucketCnt slots of a bucket, over the
``chain`` records of a bucket chain, and over the buckets that
advanceEvacuationMark may pass.  A scan that reaches the end of the unrolled
chain while the chain goes on sets ``bounds`` instead of reading further, so a
too-small bound shows up as a violated property, never as a silent cut.

mapiternext is the one loop that is not unrolled: a call may pass over many
empty buckets before it returns an entry, so one ``mapiternext`` step examines
``iter_units`` bucket records and the call goes on in the next step.  While a
call is in progress (it_state 2) no other map operation runs: the goroutine is
inside the call.

Every map operation is atomic with respect to the others, as it is for one
goroutine.  NOTE: the hashWriting checks ("concurrent map writes", "concurrent
map iteration and map write", "concurrent map read and map write") are in the
rules as the runtime makes them (spec.maps.writeflag), but with one goroutine
and atomic operations the flag is never set when another operation starts,
so they never fire.  spec.maps.writers checks the protocol with two writers.
"""

from __future__ import annotations

from spec.lang import (FALSE, TRUE, And, Const, If, Local, Min, Neg, Or, Proc, Rule, call, lift,
                       set_, when, Bind)
from spec.maps import writeflag
from spec.maps.state import (BOUND_B, BOUND_CHAIN, BOUND_POOL, EMPTY_ONE, EMPTY_REST, EVACUATED_EMPTY,
                             EVACUATED_X, EVACUATED_Y, FATAL_ITER_WRITE, FATAL_READ_WRITE, FATAL_WRITES,
                             IT_BETWEEN, IT_DONE, IT_IDLE, IT_IN_NEXT, MapState)

MAP = "runtime/map.go"


class Builder:
    """Instantiates the map rules for one configuration.

    The methods without a ``_rule`` suffix are the shared pieces of the
    runtime (growWork, evacuate, the checkBucket test, ...).  A patch
    (spec.patch) may wrap them; every rule built afterwards uses the wrapped one.
    """

    def __init__(self, H: MapState):
        self.H = H
        self.S = H  # the name spec.patch.PatchTarget reads the state by
        self.cfg = H.cfg
        self.rules: list[Rule] = []
        self._n = 0
        self._procs: dict[str, Proc] = {}

    # -- locals ------------------------------------------------------------------

    def let(self, out: list, prefix: str, value):
        """Bind ``value`` to a fresh local, append the binding to ``out`` and return the local."""
        value = lift(value)
        if isinstance(value, (Const, Local)):
            return value
        self._n += 1
        name = f"{prefix}_{self._n}"
        out.append(Bind(name, value))
        return Local(name)

    def proc(self, name: str, params: tuple, build) -> Proc:
        """Return the shared Proc ``name``, building its body with ``build(out)`` on first use."""
        p = self._procs.get(name)
        if p is None:
            body: list = []
            build(body)
            p = self._procs[name] = Proc(name, params, body)
        return p

    # -- shared conditions -------------------------------------------------------

    def quiet(self):
        """No fatal error, no model bound exceeded, no mapiternext call in progress."""
        H = self.H
        return And(H.fatal().eq(0), H.bounds().eq(0), *[H.it_state[i].ne(IT_IN_NEXT) for i in range(H.NI)])

    def growing(self):
        """h.growing(): oldbuckets != nil."""
        return self.H.oldbuckets().ne(0)

    def over_load_factor(self, count, b):
        """overLoadFactor(count, B): count > bucketCnt && count > loadFactorNum*(2^B/loadFactorDen)."""
        H, cfg = self.H, self.cfg
        limit = lift(cfg.load_num * ((1 << cfg.max_b) // cfg.load_den))
        for v in reversed(range(cfg.max_b)):
            limit = If(lift(b).eq(v), cfg.load_num * ((1 << v) // cfg.load_den), limit)
        return (lift(count) > H.S) & (lift(count) > limit)

    def too_many_overflow_buckets(self, noverflow, b):
        """tooManyOverflowBuckets(noverflow, B): noverflow >= 2^min(B, 15)."""
        return lift(noverflow) >= self.H.pow2(b)

    def clears_old_bucket(self):
        """evacuate clears an evacuated old bucket's keys, values and overflow link
        when no iterator may use the old buckets and the bucket holds pointers."""
        return And(self.H.f_olditerator().eq(0), lift(self.cfg.bucket_pointers))

    def check_bucket_keeps(self, it, k, top, check, nan):
        """mapiternext's checkBucket test: the old-bucket entry goes to new bucket ``check``.

        For a key equal to itself, hash & bucketMask(it.B) == checkBucket; for a
        NaN, the low bit of its tophash against checkBucket >> (it.B - 1).
        """
        H = self.H
        _, bits = H.key_hash(k)
        ordinary = H.low_bits(bits, H.it_B[it]).eq(check)
        parity = top - (top // 2) * 2
        odd = H.div_pow2(check, H.it_B[it] - 1).eq(parity)
        if isinstance(nan, Const):
            return odd if nan.value else ordinary
        return If(nan, odd, ordinary)

    # -- hashing -----------------------------------------------------------------

    def op_hash(self, kv):
        """(tophash, bits) of the key an operation hashes: t.hasher(key, h.hash0).

        A NaN's hash is random on every call (f64hash mixes in fastrand), so it
        comes from the inputs.
        """
        H = self.H
        nan = H.is_nan(kv)
        rtop, rbits = H.in_top(), [H.in_bit[j] for j in range(H.nbits)]
        if isinstance(nan, Const) and nan.value:
            return rtop, rbits
        ktop, kbits = H.key_hash(kv)
        if isinstance(nan, Const):
            return ktop, kbits
        return If(nan, rtop, ktop), [If(nan, r, k) for r, k in zip(rbits, kbits)]

    def key_equal(self, stored, kv):
        """t.key.equal(key, k): same key and not NaN."""
        return And(lift(stored).eq(kv), Neg(self.H.is_nan(kv)))

    # -- chain scans ---------------------------------------------------------------

    def chain_records(self, out, first):
        """The records of the chain starting at ``first``, as locals, up to the unrolled length."""
        recs = [self.let(out, "rec", first)]
        for _ in range(1, self.H.L):
            recs.append(self.let(out, "rec", self.H.ovf[recs[-1]]))
        return recs

    def chain_too_long(self, out, recs, going_on):
        """Set ``bounds`` when a scan still running past the last unrolled record finds more chain."""
        H = self.H
        out.append(when(And(going_on, H.ovf[recs[-1]].ne(0)), [set_(H.bounds(), BOUND_CHAIN)]))

    def find(self, out, recs, top, kv, expr_mode=False):
        """The search loop of mapaccess and mapdelete: stop at emptyRest, match tophash then key.

        Returns (found, index of the record in ``recs``, slot, still scanning at
        the end).  Intermediate results are locals bound in ``out`` (a rule
        body), or plain expressions with ``expr_mode`` (an invariant).
        """
        H = self.H
        let = (lambda p, v: lift(v)) if expr_mode else (lambda p, v: self.let(out, p, v))
        going = TRUE
        found, where_p, where_i = FALSE, lift(0), lift(0)
        hits = []
        for p, rec in enumerate(recs):
            for i in range(H.S):
                t = H.top[rec, i]
                alive = And(going, rec.ne(0) if p else TRUE)
                hit = let("hit", And(alive, t.eq(top), self.key_equal(H.key[rec, i], kv)))
                hits.append((hit, p, i))
                going = let("going", And(alive, t.ne(EMPTY_REST), Neg(hit)))
        found = Or(*[h for h, _, _ in hits])
        for hit, p, i in reversed(hits):
            where_p = If(hit, p, where_p)
            where_i = If(hit, i, where_i)
        return found, where_p, where_i, going

    def lookup(self, out, kv, expr_mode=False):
        """mapaccessK: find ``kv`` in the current table, or in its old bucket if not evacuated.

        Returns (found, value) as locals bound in ``out``, or as expressions
        with ``expr_mode`` (for invariants).
        """
        H = self.H
        let = (lambda p, v: lift(v)) if expr_mode else (lambda p, v: self.let(out, p, v))
        top, bits = self.op_hash(kv)
        top = let("top", top)
        bits = [let("bit", b) for b in bits]
        first = H.buckets() + H.low_bits(bits, H.B())
        oldfirst = H.oldbuckets() + H.low_bits(bits, H.old_b())
        use_old = And(self.growing(), Neg(H.evacuated(oldfirst)))
        first = let("b", If(use_old, oldfirst, first))
        recs = [first]
        for _ in range(1, H.L):
            recs.append(let("rec", H.ovf[recs[-1]]))
        found, p, i, going = self.find(out, recs, top, kv, expr_mode)
        if not expr_mode:
            self.chain_too_long(out, recs, going)
        value = lift(0)
        for q, rec in reversed(list(enumerate(recs))):
            value = If(lift(p).eq(q), H.val[rec, i], value)
        found = And(H.count() > 0, found)
        return let("found", found), let("value", If(found, value, 0))

    # -- allocation ----------------------------------------------------------------

    def newoverflow(self, out, b, cond):
        """h.newoverflow(t, b): link a fresh overflow bucket after ``b`` and count it.

        Returns (record, allocated).  The runtime may take the record from the
        array's preallocated overflow buckets; the chain is the same.
        """
        H = self.H
        nr = self.let(out, "ovf", H.alloc())
        ok = self.let(out, "ovfok", And(cond, nr < H.N))
        out.append(when(And(cond, Neg(nr < H.N)), [set_(H.bounds(), BOUND_POOL)]))
        out.append(when(ok, [set_(H.alloc(), nr + 1), set_(H.home[nr], 1),
                             set_(H.noverflow(), H.noverflow() + 1), set_(H.ovf[b], nr)]))
        return nr, ok

    def mark_array(self):
        """Ghost: records [base, base + n) are the current table's array."""
        H = self.H

        def build(body):
            base, n = Local("base"), Local("n")
            for r in range(1, H.N):
                body.append(set_(H.home[r], If(And(base <= r, lift(r) < base + n), 1, H.home[r])))
        return self.proc("mark_array", ("base", "n"), build)

    def set_homes(self, name, mapping):
        """Ghost: relabel every record's home by ``mapping`` (old label -> new label)."""
        H = self.H

        def build(body):
            for r in range(1, H.N):
                v = H.home[r]
                for old, new in mapping.items():
                    v = If(H.home[r].eq(old), new, v)
                body.append(set_(H.home[r], v))
        return self.proc(name, (), build)

    def make_bucket_array(self, out, nb, cond):
        """makeBucketArray(t, b, nil): 2^b fresh zero buckets.  Returns (first record, allocated).

        NOTE: for b >= 4 the runtime also preallocates overflow buckets in the
        same allocation; the model allocates each overflow bucket when needed,
        which gives the same chains.
        """
        H = self.H
        base = self.let(out, "arr", H.alloc())
        ok = self.let(out, "arrok", And(cond, base + nb <= H.N))
        out.append(when(And(cond, Neg(base + nb <= H.N)), [set_(H.bounds(), BOUND_POOL)]))
        out.append(when(ok, [set_(H.alloc(), base + nb)]))
        return base, ok

    # -- growth ----------------------------------------------------------------------

    def hash_grow(self, out, cond):
        """hashGrow: start growing to twice the buckets, or to the same number
        when the trigger was too many overflow buckets."""
        H = self.H
        bigger = self.let(out, "bigger", If(self.over_load_factor(H.count() + 1, H.B()), 1, 0))
        newb = self.let(out, "newB", H.B() + bigger)
        fits = self.let(out, "fits", And(cond, newb <= self.cfg.max_b))
        out.append(when(And(cond, newb > self.cfg.max_b), [set_(H.bounds(), BOUND_B)]))
        nb = H.pow2(Min(newb, self.cfg.max_b))
        base, ok = self.make_bucket_array(out, nb, fits)
        out.append(when(ok, [
            when(bigger.eq(0), [set_(H.f_samesize(), 1)]),
            set_(H.f_olditerator(), H.f_iterator()),
            set_(H.f_iterator(), 0),
            set_(H.B(), newb),
            set_(H.oldbuckets(), H.buckets()),
            set_(H.buckets(), base),
            set_(H.nevacuate(), 0),
            set_(H.noverflow(), 0),
            call(self.set_homes("promote_homes", {1: 2})),
            call(self.mark_array(), base, nb)]))
        self.after_hash_grow(out, ok)
        return ok

    def after_hash_grow(self, out, grew):
        """Work done right after hashGrow commits: none in the runtime (evacuation is
        incremental).  A patch may add some."""
        return None

    def grow_work(self, out, bits, cond):
        """growWork(bucket): evacuate the old bucket ``bucket`` maps to, then one more
        (the oldest not yet evacuated) if still growing."""
        H = self.H
        ob = self.let(out, "ob", H.low_bits(bits, Min(H.old_b(), self.cfg.max_b)))
        out.append(when(cond, [
            call(self.evacuate_proc(0), ob),
            when(self.growing(), [call(self.evacuate_proc(1), H.nevacuate())])]))

    def evacuate_proc(self, draw: int) -> Proc:
        """evacuate(t, h, oldbucket) as a shared procedure; ``draw`` picks its NaN random inputs."""
        return self.proc(f"evacuate{draw}", ("oldbucket",), lambda body: self.evacuate(body, Local("oldbucket"), draw))

    def evacuate(self, out, ob, draw):
        """evacuate: move old bucket ``ob``'s chain to X (same index) and, when
        doubling, Y (index + newbit), marking each old slot evacuatedX/Y/Empty."""
        H, S = self.H, self.H.S
        same = H.f_samesize()
        b0 = self.let(out, "b0", H.oldbuckets() + ob)
        newbit = self.let(out, "newbit", H.pow2(Min(H.old_b(), self.cfg.max_b)))
        todo = self.let(out, "todo", Neg(H.evacuated(b0)))
        xb = self.let(out, "xb", H.buckets() + ob)
        yb = self.let(out, "yb", If(same.eq(1), 0, H.buckets() + ob + newbit))
        dst = [[xb, lift(0)], [yb, lift(0)]]
        bitix = Min(H.old_b(), H.nbits - 1)
        recs = [b0]
        for p in range(H.L):
            if p:
                recs.append(self.let(out, "rec", H.ovf[recs[-1]]))
            rec = recs[-1]
            for i in range(S):
                pos = p * S + i
                act = self.let(out, "act", And(todo, rec.ne(0)))
                t = self.let(out, "t", H.top[rec, i])
                empty = t <= EMPTY_ONE
                out.append(when(And(act, empty), [set_(H.top[rec, i], EVACUATED_EMPTY)]))
                live = self.let(out, "live", And(act, Neg(empty)))
                k = self.let(out, "k", H.key[rec, i])
                v = self.let(out, "v", H.val[rec, i])
                nan = H.is_nan(k)
                with_iter = And(H.f_iterator().eq(1), nan)
                parity = t - (t // 2) * 2
                ybit = If(with_iter, parity, If(nan, H.in_ebit[draw, pos], H.kbit[H.kix(k), bitix]))
                use_y = self.let(out, "useY", If(same.eq(1), 0, ybit))
                newtop = self.let(out, "top", If(And(same.eq(0), with_iter), H.in_etop[draw, pos], t))
                out.append(when(live, [set_(H.top[rec, i], EVACUATED_X + use_y)]))
                for side in (0, 1):
                    db, di = dst[side]
                    go = self.let(out, "go", And(live, use_y.eq(side)))
                    full = self.let(out, "full", And(go, di.eq(S)))
                    nr, ok = self.newoverflow(out, db, full)
                    db = self.let(out, "db", If(full, nr, db))
                    di = self.let(out, "di", If(full, 0, di))
                    can = self.let(out, "can", And(go, Or(Neg(full), ok)))
                    out.append(when(can, [set_(H.top[db, di], newtop), set_(H.key[db, di], k),
                                          set_(H.val[db, di], v)]))
                    dst[side] = [db, self.let(out, "di", If(can, di + 1, di))]
        self.chain_too_long(out, recs, todo)
        clear = [set_(H.key[b0, i], 0) for i in range(S)] + [set_(H.val[b0, i], 0) for i in range(S)]
        out.append(when(And(todo, self.clears_old_bucket()), clear + [set_(H.ovf[b0], 0)]))
        out.append(when(ob.eq(H.nevacuate()), [call(self.advance_proc(), newbit)]))

    def advance_proc(self) -> Proc:
        """advanceEvacuationMark(h, t, newbit)."""
        H = self.H

        def build(body):
            newbit = Local("newbit")
            nv = self.let(body, "nv", H.nevacuate() + 1)
            stop = self.let(body, "stop", Min(nv + 1024, newbit))
            for _ in range(H.nbmax):
                more = And(nv.ne(stop), H.evacuated(H.oldbuckets() + nv))
                nv = self.let(body, "nv", nv + If(more, 1, 0))
            body.append(set_(H.nevacuate(), nv))
            body.append(when(nv.eq(newbit), [set_(H.oldbuckets(), 0), set_(H.f_samesize(), 0),
                                              call(self.set_homes("release_old_homes", {2: 0}))]))
        return self.proc("advanceEvacuationMark", ("newbit",), build)

    def reseed(self):
        """h.hash0 = fastrand(): every key's hash is drawn anew (from the inputs)."""
        H = self.H
        if not self.cfg.reseed:
            return []

        def build(body):
            for k in range(H.K):
                body.append(set_(H.ktop[k], H.in_ktop[k]))
                body += [set_(H.kbit[k, j], H.in_kbit[k, j]) for j in range(H.nbits)]
        return [call(self.proc("reseed", (), build))]

    # -- ghost bookkeeping -----------------------------------------------------------------

    def iterating(self, it):
        return Or(self.H.it_state[it].eq(IT_BETWEEN), self.H.it_state[it].eq(IT_IN_NEXT))

    def ghost_assign(self, kv, v):
        H = self.H
        ix, nan = H.kix(kv), H.is_nan(kv)
        inserted = Or(nan, H.g_cnt[ix].eq(0))
        out = [when(And(self.iterating(it), inserted),
                    [set_(H.g_ins[it, ix], Min(H.g_ins[it, ix] + 1, self.cfg.max_entries + 1))])
               for it in range(H.NI)]
        return out + [set_(H.g_cnt[ix], If(nan, Min(H.g_cnt[ix] + 1, self.cfg.max_entries), 1)),
                      set_(H.g_val[ix], v)]

    def ghost_delete(self, kv):
        H = self.H
        ix = H.kix(kv)
        out = [set_(H.g_stay[it, ix], 0) for it in range(H.NI)]
        return [when(Neg(H.is_nan(kv)), out + [set_(H.g_cnt[ix], 0)])]

    # -- rules -------------------------------------------------------------------------------

    def op_keys(self):
        """(params, key value) per rule instance: one per key, or one reading in_key."""
        H = self.H
        if self.cfg.key_from_input:
            return [({}, H.in_key())]
        return [({"k": spec.name}, Const(i + 1)) for i, spec in enumerate(self.cfg.keys)]

    def assign_scan(self, out, first, top, kv):
        """mapassign's bucketloop: find the key, and the first empty slot on the way."""
        H = self.H
        recs = self.chain_records(out, first)
        going, have_ins = TRUE, FALSE
        found, f_rec, f_i = FALSE, lift(0), lift(0)
        ins_rec, ins_i = lift(0), lift(0)
        last = recs[0]
        for p, rec in enumerate(recs):
            alive_rec = rec.ne(0) if p else TRUE
            if p:
                last = self.let(out, "last", If(And(going, alive_rec), rec, last))
            for i in range(H.S):
                t = self.let(out, "t", H.top[rec, i])
                alive = self.let(out, "alive", And(going, alive_rec))
                differs = t.ne(top)
                take = self.let(out, "take", And(alive, differs, t <= EMPTY_ONE, Neg(have_ins)))
                ins_rec = self.let(out, "insb", If(take, rec, ins_rec))
                ins_i = self.let(out, "insi", If(take, i, ins_i))
                have_ins = self.let(out, "hasins", Or(have_ins, take))
                hit = self.let(out, "hit", And(alive, Neg(differs), self.key_equal(H.key[rec, i], kv)))
                found = self.let(out, "found", Or(found, hit))
                f_rec = self.let(out, "frec", If(hit, rec, f_rec))
                f_i = self.let(out, "fi", If(hit, i, f_i))
                going = self.let(out, "going", And(alive, Neg(And(differs, t.eq(EMPTY_REST))), Neg(hit)))
        self.chain_too_long(out, recs, going)
        return found, f_rec, f_i, have_ins, ins_rec, ins_i, last

    def mapassign_rules(self):
        H = self.H
        for params, kv in self.op_keys():
            out: list = []
            v = self.let(out, "v", H.in_val())
            top, bits = self.op_hash(kv)
            top = self.let(out, "top", top)
            bits = [self.let(out, "bit", b) for b in bits]
            body: list = []
            base, ok = self.make_bucket_array(body, 1, H.buckets().eq(0))
            body.append(when(ok, [set_(H.buckets(), base), call(self.mark_array(), base, 1)]))
            # again: (first pass)
            self.grow_work(body, bits, self.growing())
            first = self.let(body, "b", H.buckets() + H.low_bits(bits, H.B()))
            found1 = self.assign_scan(body, first, top, kv)[0]
            grow = self.let(body, "grow", And(Neg(found1), Neg(self.growing()),
                                                  Or(self.over_load_factor(H.count() + 1, H.B()),
                                                     self.too_many_overflow_buckets(H.noverflow(), H.B()))))
            grew = self.hash_grow(body, grow)
            # goto again: the second pass sees the grown table.
            self.grow_work(body, bits, grew)
            first = self.let(body, "b", H.buckets() + H.low_bits(bits, H.B()))
            found, f_rec, f_i, have_ins, ins_rec, ins_i, last = self.assign_scan(body, first, top, kv)
            need = self.let(body, "need", And(Neg(found), Neg(have_ins)))
            nr, ok = self.newoverflow(body, last, need)
            ins_rec = self.let(body, "insb", If(need, nr, ins_rec))
            ins_i = self.let(body, "insi", If(need, 0, ins_i))
            store = self.let(body, "store", And(Neg(found), Or(have_ins, ok)))
            body.append(when(found, [set_(H.val[f_rec, f_i], v)]))
            body.append(when(store, [set_(H.top[ins_rec, ins_i], top), set_(H.key[ins_rec, ins_i], kv),
                                     set_(H.val[ins_rec, ins_i], v), set_(H.count(), H.count() + 1)]))
            body += self.ghost_assign(kv, v)
            out.append(when(writeflag.entry_fatal(H.f_writing()), [set_(H.fatal(), FATAL_WRITES)], body))
            # A NaN key is assigned at most max_entries times (the ghost count's range).
            guard = And(self.quiet(), Or(Neg(H.is_nan(kv)), H.g_cnt[H.kix(kv)] < self.cfg.max_entries))
            self.rules.append(Rule("mapassign", params, guard, out, doc=(
                "m[k] = v: mapassign (mapassign_fast64 for uint64 keys): growWork if growing; "
                "update the key's slot or take the first empty one; grow (hashGrow) when over the load "
                "factor or with too many overflow buckets, then start again; newoverflow when the chain is full"),
                cite=f"{MAP}: mapassign, hashGrow, overLoadFactor, tooManyOverflowBuckets, newoverflow"))

    def mapdelete_rules(self):
        H, S = self.H, self.H.S
        for params, kv in self.op_keys():
            out: list = []
            top, bits = self.op_hash(kv)
            top = self.let(out, "top", top)
            bits = [self.let(out, "bit", b) for b in bits]
            body: list = []
            self.grow_work(body, bits, self.growing())
            first = self.let(body, "b", H.buckets() + H.low_bits(bits, H.B()))
            recs = self.chain_records(body, first)
            found, fp, fi, going = self.find(body, recs, top, kv)
            self.chain_too_long(body, recs, going)
            fq = self.let(body, "fq", If(found, fp * S + fi, -1))
            hit_writes = []
            for p, rec in enumerate(recs):
                for i in range(S):
                    clear = [set_(H.val[rec, i], 0), set_(H.top[rec, i], EMPTY_ONE)]
                    if self.cfg.key_pointers:
                        clear.insert(0, set_(H.key[rec, i], 0))
                    hit_writes.append(when(fq.eq(p * S + i), clear))
            body += hit_writes
            # The bucket now ends in emptyOne slots: turn them into emptyRest, backwards.
            conv = FALSE
            for q in reversed(range(H.L * S)):
                p, i = divmod(q, S)
                rec = recs[p]
                if i == S - 1:
                    nxt = H.ovf[rec]
                    last = Neg(And(nxt.ne(0), H.top[nxt, 0].ne(EMPTY_REST)))
                else:
                    last = H.top[rec, i + 1].eq(EMPTY_REST)
                conv = self.let(body, "conv", And(If(fq.eq(q), last, conv), lift(q) <= fq,
                                                  H.top[rec, i].eq(EMPTY_ONE)))
                body.append(when(conv, [set_(H.top[rec, i], EMPTY_REST)]))
            body.append(when(found, [set_(H.count(), H.count() - 1),
                                     when(H.count().eq(0), self.reseed())]))
            out.append(when(H.count().ne(0), [
                when(writeflag.entry_fatal(H.f_writing()), [set_(H.fatal(), FATAL_WRITES)], body)]))
            out += self.ghost_delete(kv)
            self.rules.append(Rule("mapdelete", params, self.quiet(), out, doc=(
                "delete(m, k): mapdelete (mapdelete_fast64 for uint64 keys): growWork if growing; mark "
                "the key's slot emptyOne and turn a trailing run of emptyOne into emptyRest; a delete "
                "that empties the map draws a new hash seed"),
                cite=f"{MAP}: mapdelete"))

    def mapaccess_rules(self):
        H = self.H
        for params, kv in self.op_keys():
            out: list = []
            found, value = self.lookup(out, kv)
            ix = H.kix(kv)
            nan = H.is_nan(kv)
            expect = And(Neg(nan), H.g_cnt[ix] > 0)
            wrong = Or(Neg(found.eq(If(expect, 1, 0))), And(found, value.ne(H.g_val[ix])))
            body = [set_(H.acc_found(), found), set_(H.acc_val(), value),
                    when(wrong, [set_(H.g_accbad(), 1)])]
            out2 = [when(writeflag.entry_fatal(H.f_writing()), [set_(H.fatal(), FATAL_READ_WRITE)], out + body)]
            self.rules.append(Rule("mapaccess", params, self.quiet(), out2, doc=(
                "v, ok := m[k]: mapaccess2: look in the key's old bucket while it is not evacuated, "
                "else in the current bucket; stop at emptyRest"),
                cite=f"{MAP}: mapaccess2, mapaccessK"))

    def mapiterinit_rules(self):
        H = self.H
        for it in range(H.NI):
            ghost = []
            for k in range(H.K):
                ghost += [set_(H.g_start[it, k], H.g_cnt[k]), set_(H.g_stay[it, k], H.g_cnt[k]),
                          set_(H.g_seen[it, k], 0), set_(H.g_ins[it, k], 0)]
            ghost += [set_(H.g_itbad[it], 0), set_(H.it_key[it], 0), set_(H.it_val[it], 0)]
            start = H.mod_pow2(H.in_start(), H.B())
            run = [set_(H.it_B[it], H.B()), set_(H.it_buckets[it], H.buckets()),
                   set_(H.it_start[it], start), set_(H.it_offset[it], H.in_offset()),
                   set_(H.it_bucket[it], start), set_(H.it_wrapped[it], 0), set_(H.it_bptr[it], 0),
                   set_(H.it_i[it], 0), set_(H.it_check[it], H.no_check),
                   set_(H.f_iterator(), 1), set_(H.f_olditerator(), 1),
                   when(writeflag.entry_fatal(H.f_writing()), [set_(H.fatal(), FATAL_ITER_WRITE)]),
                   set_(H.it_state[it], IT_IN_NEXT)]
            body = ghost + [when(H.count().eq(0), [set_(H.it_state[it], IT_DONE)], run)]
            guard = And(self.quiet(), Or(H.it_state[it].eq(IT_IDLE), H.it_state[it].eq(IT_DONE)))
            self.rules.append(Rule("mapiterinit", {"it": it}, guard, body, doc=(
                "for k, v := range m: mapiterinit: snapshot B and buckets, pick a random start bucket "
                "and slot offset, set the iterator and oldIterator flags, then call mapiternext"),
                cite=f"{MAP}: mapiterinit"))

    def mapiternext_rules(self):
        H = self.H
        for it in range(H.NI):
            out: list = []
            start = H.it_state[it].eq(IT_BETWEEN)
            body = self.iter_step(it)
            out.append(when(And(start, writeflag.entry_fatal(H.f_writing())), [set_(H.fatal(), FATAL_ITER_WRITE)], body))
            others = [H.it_state[j].ne(IT_IN_NEXT) for j in range(H.NI) if j != it]
            guard = And(H.fatal().eq(0), H.bounds().eq(0), *others,
                        Or(H.it_state[it].eq(IT_BETWEEN), H.it_state[it].eq(IT_IN_NEXT)))
            self.rules.append(Rule("mapiternext", {"it": it}, guard, out, doc=(
                "the next range iteration: mapiternext walks the buckets from it.startBucket, each "
                "from slot it.offset.  While growing with it.B == h.B it reads an unevacuated old bucket "
                "instead and keeps only the entries bound for the current bucket (checkBucket); an "
                "entry that moved since the iterator started is looked up again in the current table"),
                cite=f"{MAP}: mapiternext"))

    def iter_step(self, it):
        """The body of one mapiternext step: ``iter_units`` bucket records of the walk."""
        H, S = self.H, self.H.S
        out: list = []
        let = lambda p, v: self.let(out, p, v)  # noqa: E731
        bucket, b = let("bucket", H.it_bucket[it]), let("bptr", H.it_bptr[it])
        i, check = let("i", H.it_i[it]), let("check", H.it_check[it])
        wrapped = let("wrapped", H.it_wrapped[it])
        done, ended, got_any = FALSE, FALSE, FALSE
        ret_key, ret_val, ret_i = lift(0), lift(0), lift(0)
        offset = H.it_offset[it]
        for _ in range(self.cfg.iter_units):
            atnil = let("atnil", And(Neg(done), b.eq(0)))
            end = let("end", And(atnil, bucket.eq(H.it_start[it]), wrapped.eq(1)))
            sel = let("sel", And(atnil, Neg(end)))
            same_b = And(self.growing(), H.it_B[it].eq(H.B()))
            oldrec = let("oldrec", H.oldbuckets() + H.mod_pow2(bucket, H.old_b()))
            use_old = let("useold", And(sel, same_b, Neg(H.evacuated(oldrec))))
            b = let("bptr", If(sel, If(use_old, oldrec, H.it_buckets[it] + bucket), b))
            check = let("check", If(sel, If(use_old, bucket, H.no_check), check))
            wrap = And(sel, (bucket + 1).eq(H.pow2(H.it_B[it])))
            bucket = let("bucket", If(sel, If(wrap, 0, bucket + 1), bucket))
            wrapped = let("wrapped", If(wrap, 1, wrapped))
            i = let("i", If(sel, 0, i))
            ended = let("ended", Or(ended, end))
            done = let("done", Or(done, end))
            for j in range(S):
                act = let("act", And(Neg(done), i <= j))
                offi = let("offi", If(offset + j >= S, offset + j - S, offset + j))
                t = let("t", H.top[b, offi])
                k = let("k", H.key[b, offi])
                v = let("v", H.val[b, offi])
                full = And(t > EMPTY_ONE, t.ne(EVACUATED_EMPTY))
                nan = H.is_nan(k)
                filtering = And(check.ne(H.no_check), H.f_samesize().eq(0))
                keeps = self.check_bucket_keeps(it, k, t, check, nan)
                passes = let("passes", And(act, full, Or(Neg(filtering), keeps)))
                golden = let("golden", Or(And(t.ne(EVACUATED_X), t.ne(EVACUATED_Y)), nan))
                fk, fv = self.lookup(out, k)
                got = let("got", And(passes, Or(golden, fk)))
                ret_key = let("rkey", If(got, k, ret_key))
                ret_val = let("rval", If(got, If(golden, v, fv), ret_val))
                ret_i = let("ri", If(got, j + 1, ret_i))
                got_any = let("gotany", Or(got_any, got))
                done = let("done", Or(done, got))
            b = let("bptr", If(done, b, H.ovf[b]))
            i = let("i", If(done, i, 0))
        ix = H.kix(ret_key)
        stale = Or(H.g_cnt[ix].eq(0), And(Neg(H.is_nan(ret_key)), ret_val.ne(H.g_val[ix])))
        returned = [set_(H.it_key[it], ret_key), set_(H.it_val[it], ret_val),
                    set_(H.it_bucket[it], bucket), set_(H.it_bptr[it], b), set_(H.it_i[it], ret_i),
                    set_(H.it_check[it], check), set_(H.it_state[it], IT_BETWEEN),
                    set_(H.g_seen[it, ix], Min(H.g_seen[it, ix] + 1, self.cfg.max_entries + 1)),
                    when(stale, [set_(H.g_itbad[it], 1)])]
        pending = [set_(H.it_bucket[it], bucket), set_(H.it_bptr[it], b), set_(H.it_i[it], i),
                   set_(H.it_check[it], check), set_(H.it_state[it], IT_IN_NEXT)]
        out.append(set_(H.it_wrapped[it], wrapped))
        out.append(when(ended, [set_(H.it_key[it], 0), set_(H.it_val[it], 0), set_(H.it_state[it], IT_DONE)],
                        [when(got_any, returned, pending)]))
        return out

    def mapclear_rule(self):
        H = self.H

        def build(body):
            base, n = Local("base"), Local("n")
            for j in range(H.nbmax):
                rec = base + j
                zero = [set_(H.top[rec, i], 0) for i in range(H.S)] + [set_(H.key[rec, i], 0) for i in range(H.S)]
                zero += [set_(H.val[rec, i], 0) for i in range(H.S)] + [set_(H.ovf[rec], 0)]
                body.append(when(lift(j) < n, zero))
        clear_array = self.proc("clear_array", ("base", "n"), build)
        nb = H.pow2(H.B())
        ghost = [set_(H.g_cnt[k], 0) for k in range(H.K)]
        ghost += [set_(H.g_stay[it, k], 0) for it in range(H.NI) for k in range(H.K)]
        body = [set_(H.f_samesize(), 0), set_(H.oldbuckets(), 0), set_(H.nevacuate(), 0), set_(H.noverflow(), 0),
                set_(H.count(), 0)] + self.reseed() + [
                call(clear_array, H.buckets(), nb),
                call(self.set_homes("release_homes", {1: 0, 2: 0})),
                call(self.mark_array(), H.buckets(), nb)]
        out = [when(H.count().ne(0), [when(writeflag.entry_fatal(H.f_writing()), [set_(H.fatal(), FATAL_WRITES)], body)])] + ghost
        self.rules.append(Rule("mapclear", {}, self.quiet(), out, doc=(
            "for k := range m { delete(m, k) }, which the compiler turns into mapclear: drop the old "
            "buckets and every overflow bucket, zero the bucket array in place, reset count, "
            "noverflow, nevacuate and sameSizeGrow, and draw a new hash seed"),
            cite=f"{MAP}: mapclear, makeBucketArray"))

    def build(self):
        ops = self.cfg.ops
        if "assign" in ops:
            self.mapassign_rules()
        if "delete" in ops:
            self.mapdelete_rules()
        if "lookup" in ops:
            self.mapaccess_rules()
        if "iterate" in ops:
            self.mapiterinit_rules()
            self.mapiternext_rules()
        if "clear" in ops:
            self.mapclear_rule()
        return self.rules
