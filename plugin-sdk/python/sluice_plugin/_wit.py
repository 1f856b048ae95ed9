"""Finds the WIT bindings: componentize-py's generated modules inside a component, the pure-Python
stand-ins in `_standins` everywhere else.

componentize-py generates one top-level package, `wit_world`, for the world a component targets:
`wit_world.imports.<interface>` for what the world imports and `wit_world.exports.<interface>` for
what it exports (snake-case interface names; `componentize_py_types` holds `Err`). Each world has
only its own interfaces, so every module is looked up on its own: a policy component has no
`guard_stage`, and the SDK then uses the stand-in for it (never sent to the host).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING


def _find(generated: str, standin: str) -> ModuleType:
    """The generated module `generated` if this world has it, else the stand-in."""
    try:
        return importlib.import_module(generated)
    except ImportError:
        return importlib.import_module(f"{__package__}._standins.{standin}")


def _in_component() -> bool:
    """Whether this code runs inside a component built by componentize-py (its runtime module
    is built into the interpreter there and exists nowhere else)."""
    try:
        importlib.import_module("componentize_py_runtime")
    except ImportError:
        return False
    return True


IN_COMPONENT: bool = _in_component()
"""True inside a component; False under plain CPython (tests), where host imports are fakes."""

if TYPE_CHECKING:
    from ._standins import componentize_py_types as result
    from ._standins import (adapter, guard_stage, host, keys, kv, lifecycle, mcp_types, prices,
                            types)
else:
    types = _find("wit_world.imports.types", "types")
    mcp_types = _find("wit_world.imports.mcp_types", "mcp_types")
    lifecycle = _find("wit_world.exports.lifecycle", "lifecycle")
    guard_stage = _find("wit_world.exports.guard_stage", "guard_stage")
    adapter = _find("wit_world.exports.adapter", "adapter")
    result = _find("componentize_py_types", "componentize_py_types")
    if IN_COMPONENT:
        host = _find("wit_world.imports.host", "host")
        kv = _find("wit_world.imports.kv", "kv")
        try:
            keys = importlib.import_module("wit_world.imports.keys")
        except ImportError:
            keys = None  # only the auth world imports `keys`
        try:
            prices = importlib.import_module("wit_world.imports.prices")
        except ImportError:
            prices = None  # only the policy and enrich worlds import `prices`
    else:
        # Generated bindings on the path of a plain interpreter (an editor's, say) have host
        # functions that raise NotImplementedError: the fakes serve instead.
        from ._standins import host, keys, kv, prices
