"""The layout that main.go dumps matches Go 1.19's runtime/map.go.

Each expectation names the runtime function it comes from, in
/usr/lib/go-1.19/src/runtime/map.go or map_fast64.go. The hash seed is
random in every run, so expectations that depend on bucket placement are
computed from the hashes that the dump reports.
"""

from __future__ import annotations

import importlib.util
import math
import os
import random
import struct
import sys
from pathlib import Path
from typing import Any

import pytest


def _load_layout_module():
    """Import layout.py by path, under a name that no other test module uses."""
    path = Path(__file__).resolve().parent / "layout.py"
    spec = importlib.util.spec_from_file_location("gmpcheck_maps_layout", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


layout = _load_layout_module()

pytestmark = pytest.mark.realgo

# Constants of runtime/map.go.
SLOTS = 8  # bucketCnt
EMPTY_REST = 0
EMPTY_ONE = 1
EVACUATED_X = 2
EVACUATED_Y = 3
EVACUATED_EMPTY = 4
MIN_TOP_HASH = 5
SAME_SIZE_GROW = 8

# Bits that math.NaN() returns in Go, which main.go stores for the key "NaN".
GO_NAN_BITS = 0x7FF8000000000001


@pytest.fixture(scope="module", autouse=True)
def go_binary() -> Path:
    """Build main.go once. Skip the tests without Go 1.19, or fail them when CI is set."""
    try:
        return layout.build()
    except layout.GoNotFoundError as error:
        if os.environ.get("CI"):
            pytest.fail(str(error))
        pytest.skip(str(error))


# Helpers ---------------------------------------------------------------


def tophash(hash_value: int) -> int:
    """tophash(): the top byte of the hash, raised by minTopHash when below it."""
    top = hash_value >> 56
    return top + MIN_TOP_HASH if top < MIN_TOP_HASH else top


def float_bits(value: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", value))[0]


def assign(k: Any, v: int) -> dict[str, Any]:
    return {"op": "assign", "k": k, "v": v}


def delete(k: Any) -> dict[str, Any]:
    return {"op": "delete", "k": k}


DUMP = {"op": "dump"}
CLEAR = {"op": "clear"}


def empty_bucket() -> dict[str, list[int]]:
    return {"tophash": [0] * SLOTS, "keys": [0] * SLOTS, "values": [0] * SLOTS}


def pack(entries: list[tuple[int, int, int]]) -> list[dict[str, list[int]]]:
    """Return the chain that contains (tophash, key, value) entries in slot order.

    This is how evacuate and mapassign fill fresh, zeroed buckets: slot after
    slot, with a new overflow bucket (newoverflow) when a bucket is full.
    """
    chain = [empty_bucket()]
    for index, (top, key, value) in enumerate(entries):
        if index > 0 and index % SLOTS == 0:
            chain.append(empty_bucket())
        slot = index % SLOTS
        chain[-1]["tophash"][slot] = top
        chain[-1]["keys"][slot] = key
        chain[-1]["values"][slot] = value
    return chain


def slots(chain: list[dict[str, list[int]]]):
    """Yield (tophash, key, value) for every slot of a chain, in order."""
    for bucket in chain:
        yield from zip(bucket["tophash"], bucket["keys"], bucket["values"])


def live(chain: list[dict[str, list[int]]]) -> list[tuple[int, int, int]]:
    """Return the slots whose tophash marks a filled cell (at least minTopHash)."""
    return [slot for slot in slots(chain) if slot[0] >= MIN_TOP_HASH]


def is_evacuated(chain: list[dict[str, list[int]]]) -> bool:
    """evacuated(): tophash[0] of the first bucket is an evacuation state."""
    return EMPTY_ONE < chain[0]["tophash"][0] < MIN_TOP_HASH


def overflow_count(table: list[list[dict[str, list[int]]]] | None) -> int:
    return 0 if table is None else sum(len(chain) - 1 for chain in table)


def entry(dump: dict[str, Any], key: int, value: int) -> tuple[int, int, int]:
    return (tophash(dump["hashes"][key]), key, value)


# Old buckets that the first growWork after hashGrow evacuates when the old
# table has 4 buckets, and the resulting nevacuate, by the old bucket index
# (hash & 3) of the key being written. growWork evacuates that bucket, then
# bucket h.nevacuate if the map is still growing; evacuate calls
# advanceEvacuationMark only for oldbucket == h.nevacuate, which skips over
# buckets that are already evacuated.
FIRST_GROW_WORK_OF_4 = {
    0: ({0, 1}, 2),
    1: ({0, 1}, 2),
    2: ({0, 2}, 1),
    3: ({0, 3}, 1),
}


# Empty maps and make() hints ------------------------------------------


def test_empty_map_without_hint() -> None:
    # makemap: hint 0 gives B 0, and B 0 leaves h.buckets nil.
    (dump,) = layout.run([DUMP])
    assert dump["B"] == 0
    assert dump["count"] == 0
    assert dump["flags"] == 0
    assert dump["noverflow"] == 0
    assert dump["nevacuate"] == 0
    assert dump["buckets"] is None
    assert dump["oldbuckets"] is None
    assert dump["extra"] is None
    assert dump["hashes"] == {}


@pytest.mark.parametrize(
    ("hint", "expected_b"),
    [(0, 0), (8, 0), (9, 1), (13, 1), (14, 2), (26, 2), (27, 3), (52, 3), (53, 4),
     (100, 4), (104, 4), (105, 5), (208, 5), (209, 6)],
)
def test_hint_sets_b(hint: int, expected_b: int) -> None:
    # makemap: B is the smallest value for which overLoadFactor(hint, B) is
    # false, that is hint <= 8 or hint <= 13 * 2^B / 2.
    (dump,) = layout.run([DUMP], hint=hint)
    assert dump["B"] == expected_b
    if expected_b == 0:
        assert dump["buckets"] is None
    else:
        assert len(dump["buckets"]) == 2**expected_b
        for chain in dump["buckets"]:
            assert chain == [empty_bucket()]


@pytest.mark.parametrize(
    ("hint", "expected_free"),
    [(53, 2), (105, 5), (209, 7), (417, 14)],
)
def test_hint_preallocates_overflow_buckets(hint: int, expected_free: int) -> None:
    # makeBucketArray: for B >= 4 it adds 2^(B-4) buckets and rounds the
    # array up to a malloc size class (roundupsize). With 144-byte buckets:
    # B 4: 17 -> 2688 bytes = 18 buckets; B 5: 34 -> 5376 = 37;
    # B 6: 68 -> 10240 = 71; B 7: 136 -> 20480 = 142. makemap stores the
    # first spare bucket in h.extra.nextOverflow.
    (dump,) = layout.run([DUMP], hint=hint)
    assert dump["extra"] == {"overflow": None, "oldoverflow": None, "nextOverflow": expected_free}


def test_hint_below_16_buckets_preallocates_nothing() -> None:
    # makeBucketArray: no overflow buckets are added for B < 4, so makemap
    # never allocates h.extra.
    (dump,) = layout.run([DUMP], hint=52)
    assert dump["B"] == 3
    assert dump["extra"] is None


def test_preallocated_overflow_used_first() -> None:
    # newoverflow takes h.extra.nextOverflow while it is set, and appends
    # every overflow bucket to h.extra.overflow because the bucket type has
    # no pointers. 104 keys fit in B 4 without growing (overLoadFactor).
    ops = [assign(k, k) for k in range(104)] + [DUMP]
    (dump,) = layout.run(ops, hint=100)
    assert dump["B"] == 4
    assert dump["oldbuckets"] is None
    noverflow = dump["noverflow"]
    assert noverflow == overflow_count(dump["buckets"])
    assert dump["extra"]["nextOverflow"] == max(0, 2 - noverflow)
    assert dump["extra"]["overflow"] == (noverflow or None)


# Assignments and growth ------------------------------------------------


def test_first_assign_allocates_one_bucket() -> None:
    # mapassign_fast64: h.buckets == nil gets one new bucket (newobject).
    dumps = layout.run([DUMP, assign(7, 70), DUMP])
    assert dumps[0]["buckets"] is None
    after = dumps[1]
    assert after["B"] == 0
    assert after["count"] == 1
    assert after["buckets"] == [pack([entry(after, 7, 70)])]


def test_eight_assigns_fill_one_bucket() -> None:
    # mapassign_fast64: each new key takes the first empty slot of bucket
    # hash & 0, and overLoadFactor(count+1, 0) is false up to 8 entries.
    keys = [3, 1, 4, 15, 9, 2, 6, 5]
    (dump,) = layout.run([assign(k, 100 + k) for k in keys] + [DUMP])
    assert dump["B"] == 0
    assert dump["count"] == 8
    assert dump["noverflow"] == 0
    assert dump["oldbuckets"] is None
    (chain,) = dump["buckets"]
    assert len(chain) == 1
    assert chain[0]["keys"] == keys
    assert chain[0]["values"] == [100 + k for k in keys]
    for slot, key in enumerate(keys):
        assert chain[0]["tophash"][slot] == tophash(dump["hashes"][key])
        assert chain[0]["tophash"][slot] >= MIN_TOP_HASH


def test_assign_existing_key_updates_value_in_place() -> None:
    # mapassign_fast64: a key that is already present keeps its slot, only
    # the value changes, and count stays the same.
    dumps = layout.run([assign(1, 10), assign(2, 20), DUMP, assign(1, 11), DUMP])
    before, after = dumps
    assert after["count"] == 2
    assert after["buckets"][0][0]["keys"] == before["buckets"][0][0]["keys"]
    assert after["buckets"][0][0]["values"][:2] == [11, 20]


def test_ninth_assign_doubles_and_evacuates() -> None:
    # mapassign_fast64: the 9th new key finds bucket 0 full, and
    # overLoadFactor(9, 0) is true, so hashGrow sets B 1. growWork_fast64
    # then evacuates old bucket 0, the only one: evacuate_fast64 sends each
    # entry to new bucket hash & 1 in slot order, and advanceEvacuationMark
    # reaches newbit 1, so the grow ends at once (oldbuckets nil, nevacuate 1).
    keys = list(range(1, 10))
    dumps = layout.run([assign(k, 10 * k) for k in keys[:8]] + [DUMP, assign(9, 90), DUMP])
    before, after = dumps
    assert before["B"] == 0

    assert after["B"] == 1
    assert after["count"] == 9
    assert after["oldbuckets"] is None
    assert after["nevacuate"] == 1
    assert after["flags"] == 0
    for bucket_index in (0, 1):
        expected = [
            entry(after, k, 10 * k) for k in keys if after["hashes"][k] & 1 == bucket_index
        ]
        assert after["buckets"][bucket_index] == pack(expected)
    noverflow = overflow_count(after["buckets"])
    assert after["noverflow"] == noverflow
    if noverflow == 0:
        assert after["extra"] is None
    else:
        assert after["extra"] == {"overflow": noverflow, "oldoverflow": None, "nextOverflow": 0}


def test_27th_assign_leaves_grow_in_progress() -> None:
    # With only new keys, grows happen at the 9th (B 1), 14th (B 2) and 27th
    # (B 3) key: overLoadFactor(count+1, B) is count+1 > 13 * 2^B / 2. The
    # grows to B 1 and B 2 finish inside one growWork (2 or fewer old
    # buckets). The grow to B 3 has 4 old buckets, and the first growWork
    # evacuates the ones in FIRST_GROW_WORK_OF_4.
    ops = [assign(k, k + 1000) for k in range(26)] + [DUMP, assign(26, 1026), DUMP]
    before, after = layout.run(ops)
    assert before["B"] == 2
    assert before["oldbuckets"] is None
    assert before["nevacuate"] == 2

    assert after["B"] == 3
    assert after["count"] == 27
    assert after["flags"] == 0
    old = after["oldbuckets"]
    assert old is not None
    assert len(old) == 4
    new_hash = after["hashes"][26]
    evacuated, nevacuate = FIRST_GROW_WORK_OF_4[new_hash & 3]
    assert after["nevacuate"] == nevacuate

    for old_index in range(4):
        before_chain = before["buckets"][old_index]
        old_chain = old[old_index]
        # evacuate never clears keys or values of a bucket type without pointers.
        assert [b["keys"] for b in old_chain] == [b["keys"] for b in before_chain]
        assert [b["values"] for b in old_chain] == [b["values"] for b in before_chain]
        x_chain = after["buckets"][old_index]
        y_chain = after["buckets"][old_index + 4]
        if old_index not in evacuated:
            assert not is_evacuated(old_chain)
            assert old_chain == before_chain
            assert x_chain == [empty_bucket()]
            assert y_chain == [empty_bucket()]
            continue

        # evacuate_fast64: live cells become evacuatedX or evacuatedY by
        # hash & newbit (4), empty cells become evacuatedEmpty.
        expected_marks = [
            (EVACUATED_Y if after["hashes"][key] & 4 else EVACUATED_X)
            if top >= MIN_TOP_HASH else EVACUATED_EMPTY
            for top, key, _ in slots(before_chain)
        ]
        assert [top for top, _, _ in slots(old_chain)] == expected_marks
        moved = live(before_chain)
        x_entries = [e for e in moved if not after["hashes"][e[1]] & 4]
        y_entries = [e for e in moved if after["hashes"][e[1]] & 4]
        # mapassign_fast64 puts the new key after the evacuated entries.
        if new_hash & 7 == old_index:
            x_entries.append(entry(after, 26, 1026))
        elif new_hash & 7 == old_index + 4:
            y_entries.append(entry(after, 26, 1026))
        assert x_chain == pack(x_entries)
        assert y_chain == pack(y_entries)

    # hashGrow resets noverflow and moves h.extra.overflow to oldoverflow.
    assert after["noverflow"] == overflow_count(after["buckets"])
    old_overflow = overflow_count(before["buckets"])
    if after["extra"] is not None:
        assert after["extra"]["oldoverflow"] == (old_overflow or None)
    else:
        assert old_overflow == 0


def test_absent_key_delete_advances_evacuation() -> None:
    # mapdelete_fast64 calls growWork_fast64 before it searches, so deleting
    # a key that is not in the map still evacuates at least bucket
    # h.nevacuate. Two such deletes finish the 4-bucket grow of the test
    # above, whatever the hashes are.
    absent = 10**6
    ops = [assign(k, k) for k in range(27)] + [DUMP, delete(absent), DUMP, delete(absent), DUMP]
    grown, first, second = layout.run(ops)
    assert grown["oldbuckets"] is not None
    evacuated_before = sum(is_evacuated(chain) for chain in grown["oldbuckets"])
    assert evacuated_before == 2
    assert first["count"] == 27
    if first["oldbuckets"] is not None:
        assert sum(is_evacuated(chain) for chain in first["oldbuckets"]) > evacuated_before
    assert second["count"] == 27
    assert second["oldbuckets"] is None
    assert second["nevacuate"] == 4


def test_same_size_grow_after_overflow_churn() -> None:
    # Keeping 25 or 26 keys in B 2 (overLoadFactor stays false) while keys
    # are replaced leaves overflow buckets behind. When noverflow reaches
    # 2^B = 4 (tooManyOverflowBuckets), the next new key makes hashGrow keep
    # B and set sameSizeGrow, and evacuate sends every entry to bucket x,
    # the same index. Churn got there after 31 to 332 replacements in 60
    # runs of this program, so each attempt runs 300 and a few are allowed.
    absent = 10**9
    for _attempt in range(6):
        ops = [assign(k, k) for k in range(26)] + [DUMP]
        assigned_before_dump = [None]
        live_keys = list(range(26))
        for new_key in range(26, 326):
            ops += [delete(live_keys.pop(0)), DUMP, assign(new_key, new_key), DUMP]
            assigned_before_dump += [None, new_key]
            live_keys.append(new_key)
        # Two deletes of an absent key finish any grow that is still running
        # (each growWork evacuates bucket h.nevacuate).
        ops += [delete(absent), DUMP, delete(absent), DUMP]
        assigned_before_dump += [None, None]
        dumps = layout.run(ops)
        grown = [i for i, dump in enumerate(dumps) if dump["flags"] & SAME_SIZE_GROW]
        if grown:
            break
    else:
        pytest.fail("no same-size grow in 6 runs of 300 replacements")

    index = grown[0]
    new_key = assigned_before_dump[index]
    assert new_key is not None  # only mapassign calls hashGrow
    before, after = dumps[index - 1], dumps[index]
    assert before["oldbuckets"] is None
    assert before["B"] == 2
    assert before["count"] == 25
    # noverflow is checked before newoverflow can add to it, so the grow
    # starts at the first new key after it reached 4.
    assert before["noverflow"] == 4

    assert after["B"] == 2
    assert after["count"] == 26
    assert after["flags"] == SAME_SIZE_GROW
    assert len(after["oldbuckets"]) == 4
    assert after["extra"]["oldoverflow"] == 4
    new_hash = after["hashes"][new_key]
    evacuated, nevacuate = FIRST_GROW_WORK_OF_4[new_hash & 3]
    assert after["nevacuate"] == nevacuate
    for old_index in range(4):
        before_chain = before["buckets"][old_index]
        old_chain = after["oldbuckets"][old_index]
        if old_index not in evacuated:
            assert old_chain == before_chain
            assert after["buckets"][old_index] == [empty_bucket()]
            continue
        # evacuate: with sameSizeGrow useY stays 0, so no evacuatedY marks.
        expected_marks = [
            EVACUATED_X if top >= MIN_TOP_HASH else EVACUATED_EMPTY
            for top, _, _ in slots(before_chain)
        ]
        assert [top for top, _, _ in slots(old_chain)] == expected_marks
        expected = live(before_chain)
        if new_hash & 3 == old_index:
            expected.append(entry(after, new_key, new_key))
        assert after["buckets"][old_index] == pack(expected)

    # advanceEvacuationMark clears sameSizeGrow when the grow ends.
    finished = next(dump for dump in dumps[index:] if dump["oldbuckets"] is None)
    assert finished["flags"] == 0
    assert finished["B"] == 2
    assert finished["nevacuate"] == 4


def test_dump_leaves_map_unchanged() -> None:
    # A dump only reads memory. Any map call during a grow would run
    # growWork and evacuate more old buckets, so two dumps in a row in the
    # middle of a grow would differ.
    ops = [assign(k, k) for k in range(27)] + [DUMP, DUMP]
    first, second = layout.run(ops)
    assert first["oldbuckets"] is not None
    del first["op_index"], second["op_index"]
    assert second == first


# Deletions -------------------------------------------------------------


def test_delete_marks_empty_one_and_empty_rest() -> None:
    # mapdelete_fast64 zeroes the value, keeps the key's bits (uint64 keys
    # have no pointers), and sets tophash to emptyOne. When the next slot is
    # emptyRest (or the slot is the last one and no overflow follows), it
    # turns that slot and the emptyOne slots before it into emptyRest.
    keys = [11, 12, 13, 14, 15, 16, 17, 18]
    deleted_slots = [3, 7, 5, 6, 4]
    ops = [assign(k, k * 10) for k in keys] + [DUMP]
    for slot in deleted_slots:
        ops += [delete(keys[slot]), DUMP]
    dumps = layout.run(ops)
    full = dumps[0]["buckets"][0][0]["tophash"]

    def marks(*pairs: tuple[int, int]) -> list[int]:
        expected = list(full)
        for slot, mark in pairs:
            expected[slot] = mark
        return expected

    expected_tophash = [
        marks((3, EMPTY_ONE)),
        marks((3, EMPTY_ONE), (7, EMPTY_REST)),
        marks((3, EMPTY_ONE), (5, EMPTY_ONE), (7, EMPTY_REST)),
        marks((3, EMPTY_ONE), (5, EMPTY_REST), (6, EMPTY_REST), (7, EMPTY_REST)),
        marks((3, EMPTY_REST), (4, EMPTY_REST), (5, EMPTY_REST), (6, EMPTY_REST),
              (7, EMPTY_REST)),
    ]
    hash0 = dumps[0]["hash0"]
    for step, (slot, dump) in enumerate(zip(deleted_slots, dumps[1:])):
        bucket = dump["buckets"][0][0]
        assert dump["count"] == 8 - step - 1
        assert bucket["tophash"] == expected_tophash[step]
        assert bucket["keys"] == keys
        assert bucket["values"][slot] == 0
        assert dump["hash0"] == hash0
    final = dumps[-1]["buckets"][0][0]
    assert final["values"] == [110, 120, 130, 0, 0, 0, 0, 0]


def test_delete_last_entry_reseeds_hash0() -> None:
    # mapdelete_fast64: when count drops to 0, hash0 gets a new fastrand()
    # value. The new value equals the old one with probability 2^-32.
    dumps = layout.run([assign(1, 1), DUMP, delete(1), DUMP])
    before, after = dumps
    assert after["count"] == 0
    assert after["buckets"][0][0]["tophash"] == [EMPTY_REST] * SLOTS
    assert after["buckets"][0][0]["keys"][0] == 1
    assert after["hash0"] != before["hash0"]


def test_delete_from_empty_map_changes_nothing() -> None:
    # mapdelete_fast64 returns before hashing when count is 0.
    before, after = layout.run([DUMP, delete(5), DUMP])
    del before["op_index"], after["op_index"]
    assert after == before


# Clearing --------------------------------------------------------------


@pytest.mark.parametrize("key_type", ["u64", "f64"])
def test_clear_zeroes_buckets_and_keeps_b(key_type: str) -> None:
    # mapclear: keeps B and the bucket array, zeroes it with makeBucketArray,
    # drops oldbuckets, resets nevacuate, noverflow, count and sameSizeGrow,
    # and draws a new hash0 (equal to the old one with probability 2^-32).
    ops = [assign(k, k + 1) for k in range(27)] + [DUMP, CLEAR, DUMP]
    grown, cleared = layout.run(ops, key=key_type)
    assert grown["oldbuckets"] is not None
    assert cleared["B"] == 3
    assert cleared["count"] == 0
    assert cleared["flags"] == 0
    assert cleared["noverflow"] == 0
    assert cleared["nevacuate"] == 0
    assert cleared["oldbuckets"] is None
    assert cleared["buckets"] == [[empty_bucket()] for _ in range(8)]
    assert cleared["hash0"] != grown["hash0"]


def test_clear_restores_preallocated_overflow() -> None:
    # mapclear: *h.extra becomes mapextra{}, and makeBucketArray on the old
    # array hands back the same spare overflow buckets as nextOverflow.
    ops = [assign(k, k) for k in range(104)] + [CLEAR, DUMP]
    (dump,) = layout.run(ops, hint=100)
    assert dump["extra"] == {"overflow": None, "oldoverflow": None, "nextOverflow": 2}


def test_clear_of_empty_map_changes_nothing() -> None:
    # mapclear returns at once when count is 0, so hash0 stays.
    dumps = layout.run([assign(1, 1), delete(1), DUMP, CLEAR, DUMP])
    assert dumps[0]["hash0"] == dumps[1]["hash0"]
    assert dumps[0]["buckets"] == dumps[1]["buckets"]


# float64 keys (generic mapassign and mapdelete) -------------------------


def test_f64_negative_zero_overwrites_key_bits() -> None:
    # mapassign: float64 keys have needkeyupdate set, so assigning -0.0 to
    # the entry of +0.0 (equal keys) copies the new key's bits into the slot.
    # f64hash gives +0 and -0 the same hash.
    dumps = layout.run([assign(0.0, 1), DUMP, assign(-0.0, 2), DUMP], key="f64")
    before, after = dumps
    negative_zero = float_bits(-0.0)
    assert before["buckets"][0][0]["keys"][0] == 0
    assert after["count"] == 1
    assert after["buckets"][0][0]["keys"][0] == negative_zero
    assert after["buckets"][0][0]["values"][0] == 2
    assert after["hashes"][0] == after["hashes"][negative_zero]


def test_f64_nan_keys_never_match() -> None:
    # mapassign: NaN != NaN, so every NaN assignment adds an entry, and
    # mapdelete never finds one. f64hash mixes fastrand() into a NaN's hash,
    # so the dump lists no hash for NaN.
    nan = math.nan
    dumps = layout.run([assign(nan, 1), assign(nan, 2), delete(nan), DUMP], key="f64")
    (dump,) = dumps
    assert dump["count"] == 2
    assert dump["hashes"] == {}
    bucket = dump["buckets"][0][0]
    assert bucket["keys"][:2] == [GO_NAN_BITS, GO_NAN_BITS]
    assert bucket["values"][:2] == [1, 2]
    assert min(bucket["tophash"][:2]) >= MIN_TOP_HASH


def test_f64_keys_stored_as_bits() -> None:
    # mapassign copies the float64 key into the slot as is, and f64hash
    # hashes infinities like any other non-zero number (memhash).
    keys = [1.5, -2.25, math.inf, -math.inf]
    (dump,) = layout.run([assign(k, i) for i, k in enumerate(keys)] + [DUMP], key="f64")
    bucket = dump["buckets"][0][0]
    assert bucket["keys"][:4] == [float_bits(k) for k in keys]
    for slot, key in enumerate(keys):
        assert bucket["tophash"][slot] == tophash(dump["hashes"][float_bits(key)])


def test_compiled_map_calls() -> None:
    # The compiler lowers map[uint64]uint64 operations to the fast64
    # variants (mapfast in cmd/compile/internal/walk/walk.go) and
    # map[float64]uint64 ones to the generic functions.
    u64_calls = layout.called_functions("runU64")
    assert "runtime.mapassign_fast64" in u64_calls
    assert "runtime.mapdelete_fast64" in u64_calls
    assert "runtime.mapclear" in u64_calls
    assert "runtime.mapassign" not in u64_calls

    f64_calls = layout.called_functions("runF64")
    assert "runtime.mapassign" in f64_calls
    assert "runtime.mapdelete" in f64_calls
    assert "main.clearMap" in f64_calls
    assert "runtime.mapassign_fast64" not in f64_calls

    assert "runtime.mapclear" in layout.called_functions("clearMap")


# Random operations -----------------------------------------------------


def canonical_f64(bits: int) -> Any:
    """Return the equality class of a float64 key: +0 and -0 are one class."""
    value = struct.unpack("<d", struct.pack("<Q", bits))[0]
    return 0.0 if value == 0 else value


def check_layout(dump: dict[str, Any], key_type: str, expected: dict[Any, tuple[int, int]],
                 expected_nans: list[int]) -> None:
    """Check the invariants of map.go on one dump, and its contents against a dict."""
    b = dump["B"]
    hashes = dump["hashes"]
    assert dump["flags"] & ~SAME_SIZE_GROW == 0  # no iterator, no hashWriting
    if dump["buckets"] is None:
        assert b == 0
        assert dump["count"] == 0
        return
    assert len(dump["buckets"]) == 2**b

    old = dump["oldbuckets"]
    same_size = bool(dump["flags"] & SAME_SIZE_GROW)
    if old is None:
        assert not same_size
    else:
        old_b = b if same_size else b - 1
        assert len(old) == 2**old_b
        assert dump["nevacuate"] < len(old)

    def is_nan(bits: int) -> bool:
        return key_type == "f64" and math.isnan(struct.unpack("<d", struct.pack("<Q", bits))[0])

    def check_chain(chain: list[dict[str, list[int]]], index: int, mask: int) -> list[tuple]:
        # emptyRest: no filled cell follows at a higher index or in overflow.
        marks = [top for top, _, _ in slots(chain)]
        if EMPTY_REST in marks:
            assert set(marks[marks.index(EMPTY_REST):]) == {EMPTY_REST}
        found = []
        for top, key, value in slots(chain):
            if top < MIN_TOP_HASH:
                assert top in (EMPTY_REST, EMPTY_ONE)
                continue
            found.append((key, value))
            if not is_nan(key):
                assert top == tophash(hashes[key])
                assert hashes[key] & mask == index
        return found

    entries = []
    for index, chain in enumerate(dump["buckets"]):
        entries += check_chain(chain, index, 2**b - 1)
        for top, _, value in slots(chain):
            if top < MIN_TOP_HASH:
                assert value == 0  # mapdelete clears the value, and new buckets are zeroed
    if old is not None:
        for index, chain in enumerate(old):
            if index < dump["nevacuate"]:
                assert is_evacuated(chain)
            if is_evacuated(chain):
                # evacuate marks every cell of the whole chain.
                allowed = {EVACUATED_X, EVACUATED_EMPTY} if same_size else {
                    EVACUATED_X, EVACUATED_Y, EVACUATED_EMPTY}
                assert {top for top, _, _ in slots(chain)} <= allowed
                continue
            entries += check_chain(chain, index, len(old) - 1)
            for new_index in {index, index + (0 if same_size else len(old))}:
                assert dump["buckets"][new_index] == [empty_bucket()]

    assert dump["count"] == len(entries)
    assert dump["noverflow"] == overflow_count(dump["buckets"])
    # newoverflow appends to h.extra.overflow. hashGrow moves that slice to
    # oldoverflow, and advanceEvacuationMark and mapclear drop it.
    extra = dump["extra"] or {}
    assert extra.get("overflow") == (dump["noverflow"] or None)
    assert extra.get("oldoverflow") == (overflow_count(old) or None)

    if key_type == "u64":
        assert sorted(entries) == sorted((k, v) for k, (_, v) in expected.items())
    else:
        nan_entries = sorted(v for k, v in entries if is_nan(k))
        assert nan_entries == sorted(expected_nans)
        assert sorted(e for e in entries if not is_nan(e[0])) == sorted(expected.values())


F64_KEYS = [0.0, -0.0, math.inf, -math.inf, 1e300, -1e-300] + [i * 0.25 for i in range(1, 154)]


@pytest.mark.parametrize("key_type", ["u64", "f64"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_ops_keep_invariants(key_type: str, seed: int) -> None:
    # After every one of 400 random operations, count equals the number of
    # filled cells in buckets and unevacuated old buckets, and those cells
    # contain exactly the entries of a dict given the same operations.
    rng = random.Random(seed)
    ops: list[dict[str, Any]] = []
    for _ in range(400):
        if key_type == "u64":
            key: Any = rng.randrange(160) if rng.random() < 0.95 else 2**64 - 1 - rng.randrange(4)
        else:
            key = math.nan if rng.random() < 0.01 else rng.choice(F64_KEYS)
        roll = rng.random()
        if roll < 0.6:
            ops.append(assign(key, rng.randrange(1, 2**64)))
        elif roll < 0.99:
            ops.append(delete(key))
        else:
            ops.append(CLEAR)
        ops.append(DUMP)

    dumps = iter(layout.run(ops, key=key_type))
    expected: dict[Any, tuple[int, int]] = {}
    expected_nans: list[int] = []
    for op in ops:
        kind = op["op"]
        if kind == "dump":
            check_layout(next(dumps), key_type, expected, expected_nans)
        elif kind == "clear":
            expected.clear()
            expected_nans.clear()
        elif key_type == "f64" and math.isnan(op["k"]):
            if kind == "assign":
                expected_nans.append(op["v"])
        else:
            bits = op["k"] if key_type == "u64" else float_bits(op["k"])
            identity = op["k"] if key_type == "u64" else canonical_f64(bits)
            if kind == "assign":
                expected[identity] = (bits, op["v"])
            else:
                expected.pop(identity, None)
