"""The corpus table: expected.toml, read once, and the directory of the programs."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
# measure.py (the real-Go runner) lives in tests/go.
sys.path.insert(0, str(HERE.parent / "go"))

EXPECTED = tomllib.loads((HERE / "expected.toml").read_text(encoding="utf-8"))
