import time, sys
from spec.maps.scenario import load
from spec.maps.model import build_model
from checker import bmc
sc = load(sys.argv[1])
m = build_model(sc.config, sc.name)
t = time.time()
res = bmc.check(m, m.properties, int(sys.argv[2]), 1200, progress=lambda d, md, p, s: print("depth", d, round(s,1), flush=True))
for r in res: print(r.property, r.summary(), round(r.seconds,1))
