#!/usr/bin/env bash
# Regenerate the curated counterexamples from the built-in scenarios and patches.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f counterexamples/*.itf.json counterexamples/*.txt counterexamples/*.svg counterexamples/*.html
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
