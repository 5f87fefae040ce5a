#!/usr/bin/env bash
# Regenerate the curated counterexamples from the built-in scenarios.
set -euo pipefail
cd "$(dirname "$0")/.."
for args in "tight-loop-p1 --profile go1.13" \
            "tight-loop-p1 --profile go1.19 --asyncpreemptoff" \
            "s01-call-free-loop --profile go1.13" \
            "s02-stw-blocked --profile go1.13"; do
  # Exit code 1 is the expected "violated" verdict.
  python -m checker.cli check $args --property starvation --property bounded-wait \
    --out counterexamples --quiet || [ $? -eq 1 ]
done
