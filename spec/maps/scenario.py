"""Map scenarios: a TOML file that sizes a map model and says what to check.

```toml
kind = "map"                      # marks a map scenario
name = "map-iter-grow"
description = "..."
max_depth = 4                     # BMC depth in steps
properties = ["iteration"]        # optional; default: every property

[map]
slots = 2                         # bucketCnt
max_b = 2
chain = 2                         # records per chain the scans unroll
pool = 10                         # bucket records, record 0 being nil
hint = 0                          # make(map[k]v, hint)
load_factor = [1, 1]              # overLoadFactor's loadFactorNum, loadFactorDen
max_value = 2
iterators = 1
max_entries = 1                   # entries a NaN key may have
bucket_pointers = false           # evacuate clears old buckets when no old iterator
key_pointers = false              # mapdelete clears the key
iter_units = 2                    # bucket records one mapiternext step examines
ops = ["assign", "delete", "lookup", "iterate", "clear"]

[[key]]
name = "a"                        # hash left to the solver
[[key]]
name = "b"
tophash = 7                       # fixed hash: tophash and low bits
low = 1
[[key]]
name = "nan"
nan = true

[expect]                          # verdicts the model is expected to give
iteration = "holds"
```
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from spec.maps.state import OPS, KeySpec, MapConfig
from spec.maps.writeflag import RELEASE
from spec.maps.writers import MEMORY, WritersConfig, diameter

BUILTIN_DIR = Path(__file__).resolve().parent / "scenarios"

MAP_FIELDS = {"slots": int, "max_b": int, "chain": int, "pool": int, "hint": int, "max_value": int,
              "iterators": int, "max_entries": int, "bucket_pointers": bool, "key_pointers": bool,
              "iter_units": int}


class MapScenarioError(ValueError):
    """An invalid map scenario: the message names the file, the field and the fix."""


@dataclass
class MapScenario:
    name: str
    path: str
    description: str
    config: MapConfig | None                 # None for a [writers] scenario
    max_depth: int
    properties: list[str] = field(default_factory=list)
    expect: dict[str, str] = field(default_factory=dict)
    writers: WritersConfig | None = None     # set: the two-writer model of spec.maps.writers


def is_map_scenario(path: str) -> bool:
    """Tell whether the TOML file at ``path`` (or a built-in name) is a map scenario."""
    p = Path(path)
    if not p.suffix and (BUILTIN_DIR / f"{path}.toml").is_file():
        return True
    try:
        return tomllib.loads(p.read_text()).get("kind") == "map"
    except (OSError, tomllib.TOMLDecodeError):
        return False


def load(ref: str) -> MapScenario:
    """Load the built-in map scenario ``ref`` or the map scenario file at path ``ref``."""
    p = BUILTIN_DIR / f"{ref}.toml"
    path = p if p.is_file() else Path(ref)
    try:
        text = path.read_text()
    except OSError as e:
        raise MapScenarioError(f"{ref}: cannot read the file: {e}") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise MapScenarioError(f"{path}: invalid TOML: {e}") from None
    return parse(doc, str(path))


TOP_FIELDS = {"kind", "name", "description", "max_depth", "properties", "expect", "map", "key", "writers"}
KEY_FIELDS = {"name", "nan", "tophash", "low"}


def parse(doc: dict, path: str) -> MapScenario:
    def err(name, msg):
        return MapScenarioError(f"{path}: {name}: {msg}")

    if doc.get("kind") != "map":
        raise err("kind", 'missing; a map scenario sets kind = "map"')
    unknown = sorted(set(doc) - TOP_FIELDS)
    if unknown:
        raise err(unknown[0], f"unknown field; allowed fields are {', '.join(sorted(TOP_FIELDS))}")
    if "writers" in doc:
        return parse_writers(doc, path, err)
    m = doc.get("map", {})
    kw = {}
    for name, typ in MAP_FIELDS.items():
        if name in m:
            if not isinstance(m[name], typ) or (typ is int and isinstance(m[name], bool)):
                raise err(f"map.{name}", f"expected {typ.__name__}, got {m[name]!r}")
            kw[name] = m[name]
    unknown = sorted(set(m) - set(MAP_FIELDS) - {"load_factor", "ops"})
    if unknown:
        known = sorted([*MAP_FIELDS, "load_factor", "ops"])
        raise err(f"map.{unknown[0]}", f"unknown field; allowed fields are {', '.join(known)}")
    if "load_factor" in m:
        lf = m["load_factor"]
        if not (isinstance(lf, list) and len(lf) == 2 and all(isinstance(x, int) and x > 0 for x in lf)):
            raise err("map.load_factor", f"expected [numerator, denominator] of positive ints, got {lf!r}")
        kw["load_num"], kw["load_den"] = lf
    ops = tuple(m.get("ops", OPS))
    bad = [o for o in ops if o not in OPS]
    if bad:
        raise err("map.ops", f"unknown operations {bad}; known: {list(OPS)}")
    keys = []
    for j, k in enumerate(doc.get("key", [])):
        if not isinstance(k, dict) or not isinstance(k.get("name"), str):
            raise err(f"key[{j}].name", "missing; each [[key]] needs a name")
        unknown = sorted(set(k) - KEY_FIELDS)
        if unknown:
            raise err(f"key[{j}].{unknown[0]}", f"unknown field; allowed fields are {', '.join(sorted(KEY_FIELDS))}")
        top, low = k.get("tophash"), k.get("low")
        if top is not None and not (isinstance(top, int) and 5 <= top <= 255):
            raise err(f"key[{j}].tophash", f"expected an int 5..255, got {top!r}")
        if low is not None and not (isinstance(low, int) and low >= 0):
            raise err(f"key[{j}].low", f"expected a non-negative int, got {low!r}")
        keys.append(KeySpec(k["name"], bool(k.get("nan", False)), top, low))
    if not keys:
        raise err("key", "missing; add at least one [[key]]")
    depth = doc.get("max_depth", 4)
    if not isinstance(depth, int) or depth < 0:
        raise err("max_depth", f"expected a non-negative int, got {depth!r}")
    cfg = MapConfig(keys=keys, ops=ops, tophash_values=len(keys) + 2, lookup_invariant=True, **kw)
    return MapScenario(doc.get("name", Path(path).stem), path, doc.get("description", ""), cfg, depth,
                       list(doc.get("properties", [])), dict(doc.get("expect", {})))


WRITERS_FIELDS = {"goroutines", "memory", "profile"}


def parse_writers(doc: dict, path: str, err) -> MapScenario:
    """A scenario of goroutines writing one map at once (spec.maps.writers)."""
    w = doc["writers"]
    if not isinstance(w, dict):
        raise err("writers", "expected a table [writers]")
    extra = sorted(set(doc) & {"map", "key"})
    if extra:
        raise err(extra[0], "not used with [writers]; the two-writer model has no buckets or keys")
    unknown = sorted(set(w) - WRITERS_FIELDS)
    if unknown:
        raise err(f"writers.{unknown[0]}", f"unknown field; allowed fields are {', '.join(sorted(WRITERS_FIELDS))}")
    if w.get("goroutines", 2) != 2:
        raise err("writers.goroutines", f"expected 2 (the model has two writers), got {w['goroutines']!r}")
    memory = w.get("memory", "sc")
    if memory not in MEMORY:
        raise err("writers.memory", f"expected one of {list(MEMORY)}, got {memory!r}")
    profile = w.get("profile", "go1.19")
    if profile not in RELEASE:
        raise err("writers.profile", f"expected one of {sorted(RELEASE)}, got {profile!r}")
    cfg = WritersConfig(2, memory, profile)
    depth = doc.get("max_depth", diameter(cfg))
    if not isinstance(depth, int) or depth < 0:
        raise err("max_depth", f"expected a non-negative int, got {depth!r}")
    return MapScenario(doc.get("name", Path(path).stem), path, doc.get("description", ""), None, depth,
                       list(doc.get("properties", [])), dict(doc.get("expect", {})), cfg)


def builtin_names() -> list[str]:
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.toml"))
