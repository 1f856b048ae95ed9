"""Puts the plugin SDK (the `sdk` folder named in sluice-plugin.toml) and this project on the
path, so `pytest` runs the unit tests under plain CPython too (`sluice plugin test` runs them
with `python3 -m unittest`, which needs no pytest)."""

import sys
import tomllib
from pathlib import Path

_here = Path(__file__).resolve().parent
_manifest = tomllib.loads((_here / "sluice-plugin.toml").read_text())
sys.path.insert(0, str((_here / _manifest["sdk"]).resolve()))
sys.path.insert(0, str(_here))
