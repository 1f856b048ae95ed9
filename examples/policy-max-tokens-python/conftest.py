"""Puts the plugin SDK (the `sdk` directory named in sluice-plugin.toml) on the path, so the unit
tests run under plain CPython with `pytest`, without building the component."""

import sys
import tomllib
from pathlib import Path

_here = Path(__file__).resolve().parent
_manifest = tomllib.loads((_here / "sluice-plugin.toml").read_text())
sys.path.insert(0, str((_here / _manifest["sdk"]).resolve()))
sys.path.insert(0, str(_here))
