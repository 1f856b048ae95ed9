"""Budgets and tiers through the official `openai` and `anthropic` SDKs.

A gateway of its own serves the offline `echo` model, priced in `[pricing]`, with the `budget`
plugin: each key has a budget a few requests wide. Clients see the remaining budget in headers,
then a 429 `insufficient_quota` their SDK raises as a rate-limit error without retrying it (the
budget resets at the end of the month: `x-should-retry: false`). A `free` tier limits its keys'
models (and `/models`).
"""

from __future__ import annotations

import hashlib
import json
import urllib.request
from pathlib import Path
from typing import Iterator

import anthropic
import openai
import pytest
from conftest import _serve

ADMIN_KEY = "sk-budget-admin"
SPENDER = "sk-budget-spender"
CLAUDE = "sk-budget-claude"
FREE = "sk-budget-free"
# USD per million tokens of echo: large, so a few requests use the budget up.
PRICE = 10_000.0
BUDGET_USD = 0.5


def _key(id: str, secret: str, attributes: str = "") -> str:
    return f"""
[[plugins.config.keys]]
id = "{id}"
sha256 = "{hashlib.sha256(secret.encode()).hexdigest()}"
attributes = {{ {attributes} }}
"""


def _config(data_dir: Path) -> str:
    keys = _key("spender", SPENDER) + _key("claude", CLAUDE) + _key("free", FREE, 'tier = "free"')
    return f"""
[storage]
data_dir = {json.dumps(str(data_dir))}

[[plugins]]
name = "auth"
stage = "auth"
source = "builtin:key-auth"
{keys}
[[plugins]]
name = "budget"
stage = "policy"
source = "builtin:budget"
[plugins.config]
key = {{ month = {BUDGET_USD} }}
default_max_tokens = 4

[[plugins]]
name = "cost"
stage = "enrich"
source = "builtin:cost"

[pricing.models."echo"]
input = {PRICE}
output = {PRICE}

[tiers.free]
models = ["echo"]

[[providers]]
name = "echo"
adapter = "echo"

[[models]]
name = "echo"
provider = "echo"

[[models]]
name = "echo-large"
provider = "echo"
"""


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = tmp_path_factory.mktemp("budgets")
    config = base / "gateway.toml"
    config.write_text(_config(base / "data"))
    with _serve(config, base, {"SLUICE_ADMIN_KEY": ADMIN_KEY}) as url:
        yield url


def _requests_recorded(root: str, key_id: str) -> int:
    req = urllib.request.Request(
        f"{root}/admin/usage?group_by=key&since=1h",
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        data = json.load(resp)["data"]
    return sum(r["requests"] for r in data if r["group"] == key_id)


def test_openai_sdk_sees_the_budget_then_insufficient_quota_without_retrying(root: str) -> None:
    client = openai.OpenAI(base_url=f"{root}/v1", api_key=SPENDER)  # default: 2 retries
    remaining = []
    with pytest.raises(openai.RateLimitError) as refused:
        for _ in range(100):
            raw = client.chat.completions.with_raw_response.create(
                model="echo",
                messages=[{"role": "user", "content": "spend a little"}],
                max_tokens=4,
            )
            raw.parse()
            assert raw.headers["x-sluice-budget-scope"] == "key:spender"
            assert raw.headers["x-sluice-budget-limit-usd"] == "0.50"
            remaining.append(float(raw.headers["x-sluice-budget-remaining-usd"]))
    assert 1 <= len(remaining) < 100
    assert remaining == sorted(remaining, reverse=True), "each request leaves less"
    e = refused.value
    assert e.status_code == 429
    assert e.code == "insufficient_quota"
    assert e.type == "insufficient_quota"
    assert "monthly budget" in e.message
    assert e.response.headers["x-should-retry"] == "false"
    assert int(e.response.headers["retry-after"]) > 60
    # The SDK did not retry: one usage row per call it made.
    assert _requests_recorded(root, "spender") == len(remaining) + 1


def test_anthropic_sdk_gets_a_rate_limit_error_in_anthropics_shape(root: str) -> None:
    client = anthropic.Anthropic(base_url=root, api_key=CLAUDE)
    answered = 0
    with pytest.raises(anthropic.RateLimitError) as refused:
        for _ in range(100):
            client.messages.create(
                model="echo",
                max_tokens=4,
                messages=[{"role": "user", "content": "spend a little"}],
            )
            answered += 1
    assert answered >= 1
    e = refused.value
    assert e.status_code == 429
    assert e.body["type"] == "error"
    assert "budget" in e.body["error"]["message"]
    assert _requests_recorded(root, "claude") == answered + 1


def test_a_tier_limits_models_and_what_models_lists(root: str) -> None:
    client = openai.OpenAI(base_url=f"{root}/v1", api_key=FREE, max_retries=0)
    assert [m.id for m in client.models.list()] == ["echo"]
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(
            model="echo-large", messages=[{"role": "user", "content": "hi"}]
        )
