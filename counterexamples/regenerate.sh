#!/usr/bin/env bash
# Regenerate the curated counterexamples from the built-in scenarios and patches.
# The map-iter-old-buckets counterexample takes BMC many minutes (see
# docs/maps.md); --skip-maps keeps the stored map traces and regenerates only
# the scheduler ones.  --pictures keeps every stored trace and draws its
# pictures again, as after a change to the views.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--pictures" ]; then
  python - <<'PY'
from pathlib import Path

from checker.render import check_views
from checker.trace import load_itf, model_of_trace, write_atomic

for path in sorted(Path("counterexamples").glob("*.itf.json")):
    doc = load_itf(path)
    stem = path.name.removesuffix(".itf.json")
    for suffix, text in check_views(model_of_trace(doc, str(path)), doc, str(path)).items():
        write_atomic(path.parent / f"{stem}{suffix}", text)
PY
  exit 0
fi
skip_maps=0
[ "${1:-}" = "--skip-maps" ] && skip_maps=1
keep=()
[ $skip_maps -eq 1 ] && keep=(! -name 'map-*')
find counterexamples -maxdepth 1 -type f \( -name '*.itf.json' -o -name '*.txt' -o -name '*.svg' -o -name '*.html' \) \
  "${keep[@]}" -delete
for args in "tight-loop-p1 --profile go1.13 --property starvation --property bounded-wait" \
            "tight-loop-p1 --profile go1.19 --asyncpreemptoff --property starvation --property bounded-wait" \
            "s01-call-free-loop --profile go1.13 --property starvation --property bounded-wait" \
            "s02-stw-blocked --profile go1.13 --property starvation --property bounded-wait" \
            "pingpong-hog-p1 --profile go1.19 --patch no-inherit-time --property bounded-wait" \
            "noinline-call-loop-p1 --profile go1.19 --patch no-sysmon-preempt --property starvation --property bounded-wait" \
            "runnext-handoff-p2 --profile go1.19 --patch no-runnext-steal --property bounded-wait" \
            "wakeup-race-p2 --profile go1.19 --patch no-spinning-recheck --property bounded-wait"; do
  # Exit code 1 is the expected "violated" verdict.
  python -m checker.cli check $args --out counterexamples --quiet > /dev/null || [ $? -eq 1 ]
done
if [ $skip_maps -eq 0 ]; then
  for args in "map-iter-old-buckets --patch no-olditerator" \
              "map-iter-checkbucket --patch no-checkbucket --engine explicit"; do
    python -m checker.cli check $args --timeout 3600 --out counterexamples --quiet > /dev/null || [ $? -eq 1 ]
  done
fi
