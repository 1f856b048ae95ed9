"""Puts the SDK on the path: `pytest plugin-sdk/python/tests` under plain CPython."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
