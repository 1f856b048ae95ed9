"""JavaScript plugins (plugin-sdk/js): the example's unit tests and the SDK's run under plain
`node --test`, without building anything (the SDK fakes the host outside a component). The
example built with `sluice plugin build` and served, like its Rust and Python twins, is in
test_plugin_examples.py. Without node (and outside CI, where the scripts install it) the module
is skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from conftest import REPO

EXAMPLE = REPO / "examples" / "policy-max-tokens-js"
SDK = REPO / "plugin-sdk" / "js"


def _node() -> str:
    """The node binary; skips the module when there is none and this is not CI."""
    node = shutil.which("node")
    if node is None and os.environ.get("CI") != "true":
        pytest.skip("node is not installed (JavaScript plugins need Node.js 18 or newer)")
    return node or "node"


@pytest.mark.parametrize("folder", [EXAMPLE, SDK], ids=["example", "sdk"])
def test_unit_tests_pass_under_plain_node(folder):
    """The plugin's logic and the SDK's are tested without building: the SDK fakes the host."""
    done = subprocess.run(
        [_node(), "--test"], cwd=folder, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "# fail 0" in done.stdout
