"""Built-in map mutations: each removes one mechanism of runtime/map.go.

They show why the mechanism is there: checked with ``gmpcheck check
SCENARIO --patch NAME`` on a map scenario, each breaks the iteration
guarantee with a minimal counterexample.  They use the same patch interface
as a user's patch file (spec.patch); the helpers they wrap are methods of
spec.maps.rules.Builder.
"""

from __future__ import annotations

from spec.lang import TRUE, And, call, lift, when
from spec.patch import Patch


def _no_checkbucket(model):
    # mapiternext, reading an unevacuated old bucket for new bucket
    # checkBucket, keeps every entry instead of only those bound for it.
    model.wrap("check_bucket_keeps", lambda original, *args: TRUE)


def _no_olditerator(model):
    # evacuate clears an evacuated old bucket (keys, values, overflow link)
    # even while an iterator may still be walking the old buckets.
    b = model.builder
    model.wrap("clears_old_bucket", lambda original: lift(b.cfg.bucket_pointers))


def _evacuate_all_at_once(model):
    # hashGrow evacuates every old bucket at once instead of leaving the
    # work to growWork.
    b = model.builder
    H = b.H

    def after(original, out, grew):
        nold = H.pow2(H.old_b())
        for j in range(H.nbmax):
            out.append(when(And(grew, lift(j) < nold, H.oldbuckets().ne(0)),
                            [call(b.evacuate_proc(j % 2), j)]))
    model.wrap("after_hash_grow", after)


PATCHES = [
    Patch("no-checkbucket",
          "mapiternext does not skip old-bucket entries bound for the other new bucket while growing",
          _no_checkbucket, "built-in", "maps"),
    Patch("no-olditerator",
          "evacuate clears evacuated old buckets even when an iterator may still use them",
          _no_olditerator, "built-in", "maps"),
    Patch("evacuate-all-at-once",
          "hashGrow evacuates every old bucket at once instead of incrementally in growWork",
          _evacuate_all_at_once, "built-in", "maps"),
]
