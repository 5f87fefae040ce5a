"""Map properties: the runtime structure against the ghost (abstract) map.

Invariants over one state.  ``lookup`` and ``no-duplicate`` walk or sum per
key; they are built only when ``MapConfig.lookup_invariant`` is set (small
sizes), and real-size runs check lookups through the mapaccess rule instead.
"""

from __future__ import annotations

from spec.lang import And, If, Neg, Or, Property, Sum, lift
from spec.maps.state import IT_DONE, MIN_TOP_HASH, MapState


def live_slots(H: MapState):
    """(record, slot, live) for every slot: a full slot of the current or the old table.

    An evacuated old slot holds evacuatedX/Y/Empty, so it is never counted twice.
    """
    out = []
    for r in range(1, H.N):
        in_table = Or(H.home[r].eq(1), H.home[r].eq(2))
        for i in range(H.S):
            out.append((r, i, And(in_table, H.top[r, i] >= MIN_TOP_HASH)))
    return out


def chunked_count(conds, fan=32):
    """Count true conditions as a tree of sums, so no sum is longer than ``fan`` terms.

    Python's compiler recurses once per term of a sum, so one sum of the
    real-size table's slots would exceed its recursion limit.
    """
    return tree_sum([If(c, 1, 0) for c in conds], fan)


def tree_sum(terms, fan=32):
    """Sum ``terms`` as a tree of sums of at most ``fan`` terms each."""
    terms = list(terms)
    while len(terms) > fan:
        terms = [Sum(terms[j:j + fan]) for j in range(0, len(terms), fan)]
    return Sum(terms)


def count_matches(H: MapState):
    """h.count equals the full slots of the table, and the ghost map's size."""
    live = chunked_count(c for _, _, c in live_slots(H))
    return And(H.count().eq(live), H.count().eq(tree_sum(H.g_cnt[k] for k in range(H.K))))


def no_duplicate(H: MapState):
    """No key equal to itself is in two full slots."""
    slots = live_slots(H)
    conds = []
    for k in range(H.K):
        if H.nan[k]:
            continue
        conds.append(chunked_count(And(live, H.key[r, i].eq(k + 1)) for r, i, live in slots) <= 1)
    return And(*conds)


def lookup_agrees(H: MapState, builder):
    """mapaccess finds every key of the ghost map with its value, and no other key."""
    conds = [H.g_accbad().eq(0)]
    for k in range(H.K):
        if H.nan[k]:
            continue
        found, value = builder.lookup([], lift(k + 1), expr_mode=True)
        present = H.g_cnt[k] > 0
        conds.append(If(present, And(found, value.eq(H.g_val[k])), Neg(found)))
    return And(*conds)


def evacuation(H: MapState):
    """Old buckets below nevacuate are evacuated, and oldbuckets is released once all are."""
    growing = H.oldbuckets().ne(0)
    nold = H.pow2(H.old_b())
    conds = [If(growing, H.nevacuate() < nold, H.f_samesize().eq(0))]
    for j in range(H.nbmax):
        below = And(growing, lift(j) < H.nevacuate(), lift(j) < nold)
        conds.append(If(below, H.evacuated(H.oldbuckets() + j), 1))
    return And(*conds)


def iteration(H: MapState):
    """The range guarantee, per iterator and key.

    An entry returned is in the map and carries its newest value; a key is
    returned at most as often as it had entries at the start plus entries
    inserted since; when the iteration is done, a key equal to itself that was
    present the whole time was returned exactly once (a NaN key: each of its
    entries present the whole time at least once).
    """
    conds = []
    for it in range(H.NI):
        conds.append(H.g_itbad[it].eq(0))
        done = H.it_state[it].eq(IT_DONE)
        for k in range(H.K):
            seen, stay = H.g_seen[it, k], H.g_stay[it, k]
            conds.append(seen <= H.g_start[it, k] + H.g_ins[it, k])
            if H.nan[k]:
                conds.append(If(done, seen >= stay, 1))
            else:
                conds.append(If(And(done, stay.eq(1)), seen.eq(1), 1))
    return And(*conds)


def properties(H: MapState, builder) -> list[Property]:
    props = [
        Property("count", "invariant", "h.count equals the full slots of the table and the size of the map",
                 count_matches(H)),
        Property("evacuation", "invariant",
                 "old buckets below nevacuate are evacuated; oldbuckets is released when all are",
                 evacuation(H)),
        Property("iteration", "invariant",
                 "range returns each key present throughout exactly once, never a deleted key, "
                 "the newest value, and an inserted key at most once",
                 iteration(H)),
        Property("no-fatal", "invariant", "no fatal map error (concurrent map writes, ...)", H.fatal().eq(0)),
        Property("bounds", "invariant", "the run stays within the model's pool, chain and B bounds",
                 H.bounds().eq(0)),
    ]
    if H.cfg.lookup_invariant:
        props.insert(1, Property("lookup", "invariant",
                                 "every key of the map is found by lookup with its value, during and after growth",
                                 lookup_agrees(H, builder)))
        props.insert(2, Property("no-duplicate", "invariant", "no key is stored in two full slots",
                                 no_duplicate(H)))
    else:
        props.insert(1, Property("lookup", "invariant", "every lookup so far agreed with the map",
                                 H.g_accbad().eq(0)))
    return props
