import time, sys
from spec.maps.state import MapConfig, KeySpec
from spec.maps.model import build_model
from spec.patch import load_patch
from checker import bmc
patch = sys.argv[1]; D=int(sys.argv[2]); free = sys.argv[3] == "free"
keys = [KeySpec("a", tophash=None if free else 7, low=None if free else 0), KeySpec("b", tophash=None if free else 8, low=None if free else 1), KeySpec("c", tophash=None if free else 9, low=None if free else 0)]
cfg = MapConfig(slots=2, max_b=int(sys.argv[4]), chain=2, pool=10, max_value=1, keys=keys, bucket_pointers=True,
                load_num=1, load_den=1, hint=0, max_entries=1, ops=("assign","delete","iterate"), tophash_values=5, iter_units=2)
m = build_model(cfg, "mut", patches=[load_patch(patch)] if patch != "none" else [])
res = bmc.check(m, [m.property("iteration")], D, 900, chunk=1, progress=lambda d, md, p, s: print("depth", d, round(s,1), flush=True))
for r in res:
    print(r.property, r.summary(), round(r.seconds,1))
    if r.trace:
        for rule, st in r.trace[1:]: print("  ", m.rules[rule].label())
