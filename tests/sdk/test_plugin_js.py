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


# A TypeScript plugin: typed against the SDK's declarations, bundled by esbuild (which strips the
# types) and componentized like a JavaScript one.
TS_PLUGIN = """
import { allow, deny, exportPolicy, field, forbidden } from "./sluice-plugin.js";
import type { LlmMeta, Principal, RequestCtx } from "./sluice-plugin.js";

interface Config { blocked_model: string }

export class NoModel {
  static config = { blocked_model: field.string() };
  private readonly blocked: string;
  constructor(config: Config) { this.blocked = config.blocked_model; }
  onRequest(ctx: RequestCtx, _p: Principal, _m: LlmMeta, _b: Uint8Array) {
    if (ctx.model === this.blocked) return deny(forbidden(`the model ${this.blocked} is off`));
    return allow({ headers: [["x-ts-plugin", "1"]] });
  }
}

export const { lifecycle, policyStage } = exportPolicy(NoModel);
"""


def test_a_typescript_plugin_builds_and_runs(tmp_path):
    """`sluice plugin build` takes a TypeScript entry; the built plugin answers as written."""
    _node()
    project = tmp_path / "no-model"
    project.mkdir()
    (project / "plugin.ts").write_text(TS_PLUGIN)
    for name in ["sluice-plugin.js", "sluice-plugin.d.ts"]:
        shutil.copy(SDK / name, project / name)
    (project / "sluice-plugin.toml").write_text(
        f'name = "no-model"\nstage = "policy"\nlang = "js"\n'
        f'wit = "{REPO / "wit"}"\nsdk = "{SDK}"\n'
    )
    binary = os.environ.get("SLUICE_BIN", str(REPO / "target" / "release" / "sluice"))
    done = subprocess.run(
        [binary, "plugin", "build", str(project)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "stages: policy (sluice:plugin@0.2.0)" in done.stdout
    # The check's probe calls the plugin: its TypeScript ran, and keeps no state.
    done = subprocess.run(
        [binary, "plugin", "check", str(project / "no-model.wasm"),
         "--config", '{"blocked_model": "probe-model"}'],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "note:" not in done.stdout and "warning:" not in done.stdout, done.stdout
