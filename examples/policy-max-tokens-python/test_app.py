"""Unit tests of the plugin's logic, under plain CPython: `pytest` in this directory."""

import pytest
from sluice_plugin import ConfigError, Continue, Deny
from sluice_plugin.testing import build, llm_meta, principal, request_ctx

from app import MaxTokens


def decide(plugin: MaxTokens, user_id=None, max_tokens=None):
    return plugin.on_request(
        request_ctx(user_id=user_id), principal(), llm_meta(max_tokens=max_tokens), b""
    )


def test_allows_within_the_cap_and_denies_above_it():
    plugin = build(MaxTokens, {"max_tokens": 100})
    assert decide(plugin, max_tokens=100) == Continue(
        headers={"x-max-tokens-limit": "100"}, metadata={"max_tokens_limit": 100}
    )
    assert isinstance(decide(plugin), Continue)
    denied = decide(plugin, max_tokens=101)
    assert isinstance(denied, Deny)
    assert denied.error.status == 400
    assert denied.error.param == "max_tokens"
    assert denied.error.message == "max_tokens may be at most 100 on this gateway"


def test_requires_a_user_id_when_configured():
    plugin = build(MaxTokens, {"max_tokens": 100, "require_user_id": True})
    denied = decide(plugin)
    assert isinstance(denied, Deny) and denied.error.param == "user_id"
    assert isinstance(decide(plugin, user_id="u"), Continue)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "invalid config: missing field `max_tokens`"),
        ({"max_tokens": "10"}, "invalid config: `max_tokens`: expected an integer, got a string"),
        ({"max_tokens": 10, "max_token": 5}, "invalid config: unknown field `max_token`"),
        ({"max_tokens": -1}, "invalid config: `max_tokens` must be 0 to 4294967295"),
    ],
)
def test_a_bad_config_rejects_the_load(config, message):
    with pytest.raises(ConfigError) as e:
        build(MaxTokens, config)
    assert str(e.value).startswith(message)
